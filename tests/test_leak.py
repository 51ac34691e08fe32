"""Repeated small transfers must not leak Python objects or memory."""
import gc
import os
import sys

import numpy as np
import pytest

from _impl import MPI, FLAVOR, Drain
from _impl import UNDER_ASAN, rss_kb as _rss_kb


ITERATIONS = 20_000 if FLAVOR == "mpich" else 100_000
WARMUP = 2_000



def _loop(comm, rank, n):
    if comm.Get_size() == 1 or rank > 1:
        # talk to ourselves through a private communicator
        c = MPI.COMM_SELF
        obj = {"i": 1, "l": [1, 2, 3]}
        a = np.arange(8, dtype="f8")
        b = np.empty(8, dtype="f8")
        for _ in range(n):
            c.sendrecv(obj, dest=0, sendtag=1, source=0, recvtag=1)
            c.Sendrecv(a, 0, 2, b, 0, 2)
        return
    other = 1 - rank
    obj = {"i": 1, "l": [1, 2, 3]}
    a = np.arange(8, dtype="f8")
    b = np.empty(8, dtype="f8")
    if rank == 0:
        for _ in range(n):
            comm.send(obj, dest=other, tag=1)
            comm.recv(source=other, tag=1)
            comm.Send(a, dest=other, tag=2)
            comm.Recv(b, source=other, tag=2)
    else:
        for _ in range(n):
            comm.recv(source=other, tag=1)
            comm.send(obj, dest=other, tag=1)
            comm.Recv(b, source=other, tag=2)
            comm.Send(a, dest=other, tag=2)


@pytest.mark.parametrize("dummy", [0])
def test_no_leak_small_messages(comm, rank, size, dummy):
    # Ranks 0 and 1 ping-pong; other ranks (and size 1) loop on COMM_SELF.
    # Keep the self-loop short on ranks > 1 so they do not slow the pair.
    n = ITERATIONS if (size == 1 or rank <= 1) else ITERATIONS // 10
    _loop(comm, rank, WARMUP)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _loop(comm, rank, n)
    gc.collect()
    blocks1 = sys.getallocatedblocks()
    rss1 = _rss_kb()
    grew = blocks1 - blocks0
    assert grew < 200, f"{grew} Python blocks leaked over {n} iterations"
    # 4 objects/messages per iteration: a 40-byte leak each would be 16 MB
    if not UNDER_ASAN:  # ASAN quarantines freed memory: RSS says nothing
        assert rss1 - rss0 < 8 * 1024, f"RSS grew by {rss1 - rss0} KiB over {n} iterations"


def test_no_leak_errors(comm, rank, size):
    # failing calls must not leak their exception state or arguments
    def burn(n):
        for _ in range(n):
            try:
                comm.send(None, dest=size, tag=0)
            except MPI.Exception:
                pass
            try:
                comm.Send(np.zeros(2), dest=rank, tag=-1)
            except MPI.Exception:
                pass
            try:
                comm.Recv(b"abc", source=MPI.PROC_NULL)
            except (BufferError, TypeError):
                pass
    with Drain(comm, rank):
        burn(500)
        gc.collect()
        b0 = sys.getallocatedblocks()
        burn(5000)
        gc.collect()
    assert sys.getallocatedblocks() - b0 < 200


NB_ITERATIONS = 100_000


def _nb_loop(c, n):
    """n rounds of irecv/isend/wait (objects) and Irecv/Isend/Waitall
    (buffers) with oneself on communicator c."""
    obj = {"i": 1, "l": [1, 2, 3]}
    a = np.arange(8, dtype="f8")
    b = np.empty(8, dtype="f8")
    waitall = MPI.Request.Waitall
    for _ in range(n):
        r = c.irecv(source=0, tag=1)
        s = c.isend(obj, dest=0, tag=1)
        r.wait()
        s.wait()
        r = c.Irecv(b, source=0, tag=2)
        s = c.Isend(a, dest=0, tag=2)
        waitall([r, s])


def test_no_leak_nonblocking(selfcomm):
    # every rank on its own: no synchronisation with oversubscribed peers
    _nb_loop(selfcomm, WARMUP)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _nb_loop(selfcomm, NB_ITERATIONS)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked over {NB_ITERATIONS} rounds"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 8 * 1024, \
            f"RSS grew by {rss1 - rss0} KiB over {NB_ITERATIONS} rounds"


def _big_irecv_loop(c, n, nbytes):
    payload = b"x" * nbytes
    for _ in range(n):
        r = c.irecv(source=0, tag=3)  # no buffer: any size
        s = c.isend(payload, dest=0, tag=3)
        got = r.wait()
        s.wait()
        assert len(got) == nbytes
        del got


@pytest.mark.fastmpi_only  # mpi4py 3.1's irecv() stops at 32 KiB
@pytest.mark.parametrize("nbytes,n", [(100_000, 2_000), (5_000_000, 40)])
def test_no_leak_irecv_any_size(selfcomm, nbytes, n):
    _big_irecv_loop(selfcomm, 5, nbytes)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _big_irecv_loop(selfcomm, n, nbytes)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 16 * 1024, f"RSS grew by {rss1 - rss0} KiB"


def _request_misc_loop(c, n):
    buf = np.zeros(4)
    rp = c.Recv_init(buf, source=0, tag=4)
    sp = c.Send_init(np.ones(4), dest=0, tag=4)
    for _ in range(n):
        MPI.Prequest.Startall([rp, sp])
        MPI.Request.Waitall([rp, sp])
        s = c.Isend(np.ones(4), dest=0, tag=5)
        msg = c.Mprobe(source=0, tag=5)
        msg.Recv(buf)
        s.Wait()
        s = c.isend("m", dest=0, tag=6)
        assert c.mprobe(source=0, tag=6).recv() == "m"
        s.wait()
        assert c.Improbe(source=0, tag=7) is None
        g = MPI.Grequest.Start(lambda st: None, lambda: None,
                               lambda done: None)
        g.Complete()
        g.Wait()
        r = c.Irecv(buf, source=0, tag=8)
        try:
            MPI.Request.Waitall([r, 3])
        except TypeError:
            pass
        r.Cancel()
        r.Wait()
    rp.Free()
    sp.Free()


def test_no_leak_persistent_mprobe_grequest_errors(selfcomm):
    _request_misc_loop(selfcomm, 200)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _request_misc_loop(selfcomm, 5_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 8 * 1024, f"RSS grew by {rss1 - rss0} KiB"


@pytest.mark.fastmpi_only
def test_no_leak_wrong_state_errors(selfcomm):
    def burn(n):
        for _ in range(n):
            r = selfcomm.Irecv(bytearray(1), source=0, tag=9)
            s = selfcomm.Isend(b"x", dest=0, tag=9)
            MPI.Request.Waitall([r, s])
            for req in (r, s):
                try:
                    req.Wait()
                except MPI.Exception:
                    pass
            p = selfcomm.Send_init(b"y", dest=0, tag=10)
            p.Free()
            try:
                p.Start()
            except MPI.Exception:
                pass
    burn(200)
    gc.collect()
    b0 = sys.getallocatedblocks()
    burn(5_000)
    gc.collect()
    assert sys.getallocatedblocks() - b0 < 200
