"""Repeated small transfers must not leak Python objects or memory."""
import gc
import os
import sys

import numpy as np
import pytest

from _impl import MPI, FLAVOR, Drain

# AddressSanitizer (make asan) keeps freed memory in a quarantine.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

ITERATIONS = 20_000 if FLAVOR == "mpich" else 100_000
WARMUP = 2_000


def _rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4  # pages -> KiB (4 KiB pages)


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
