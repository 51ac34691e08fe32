"""Persistent requests: Send_init/Bsend_init/Ssend_init/Rsend_init,
Recv_init, Start, Prequest.Startall, reuse with changing buffer contents,
Free, and the errors of starting, waiting and freeing at the wrong time.

Each rank receives from and sends to peer(comm), receive started first, so
a rank paired with itself needs no helper thread."""
import gc
import time
import weakref

import numpy as np
import pytest

from _impl import MPI, Drain, check_proc_null_status, peer

ROUNDS = 4


def pair_init(comm, rank, tag, mode="Send_init", n=8):
    """(recv prequest, send prequest, recv buffer, send buffer, peer)."""
    p = peer(comm)
    recv = np.full(n, -1, "i8")
    send = np.zeros(n, "i8")
    rp = comm.Recv_init(recv, source=p, tag=tag)
    sp = getattr(comm, mode)(send, dest=p, tag=tag)
    return rp, sp, recv, send, p


def run_rounds(comm, rank, rp, sp, recv, send, p, tag, ready=False):
    for it in range(ROUNDS):
        send[:] = rank * 100 + it  # new contents, same buffer
        rp.Start()
        if ready:
            comm.Barrier()  # every receive is started before a ready send
        sp.Start()
        sts = []
        assert MPI.Request.Waitall([rp, sp], sts) is True
        assert (recv == p * 100 + it).all()
        assert sts[0].Get_source() == p and sts[0].Get_tag() == tag
        assert sts[0].Get_count(MPI.INT64_T) == len(recv)
        # inactive, not null: ready to start again
        assert bool(rp) and bool(sp)
        assert rp != MPI.REQUEST_NULL and sp != MPI.REQUEST_NULL


@pytest.mark.mpich_big
def test_send_recv_init_reuse(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 401)
    assert isinstance(rp, MPI.Prequest) and isinstance(sp, MPI.Prequest)
    assert isinstance(rp, MPI.Request)
    run_rounds(comm, rank, rp, sp, recv, send, p, 401)
    rp.Free()
    sp.Free()
    assert not bool(rp) and not bool(sp)
    assert rp == MPI.REQUEST_NULL and sp == MPI.REQUEST_NULL


def test_ssend_init(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 402, "Ssend_init")
    run_rounds(comm, rank, rp, sp, recv, send, p, 402)
    rp.Free()
    sp.Free()


def test_rsend_init(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 403, "Rsend_init")
    run_rounds(comm, rank, rp, sp, recv, send, p, 403, ready=True)
    rp.Free()
    sp.Free()


def test_bsend_init(comm, rank):
    buf = bytearray(1 << 16)
    MPI.Attach_buffer(buf)
    try:
        rp, sp, recv, send, p = pair_init(comm, rank, 404, "Bsend_init")
        run_rounds(comm, rank, rp, sp, recv, send, p, 404)
        rp.Free()
        sp.Free()
    finally:
        assert MPI.Detach_buffer() is buf


@pytest.mark.mpich_big
def test_startall(comm, rank):
    p = peer(comm)
    recvs = [np.zeros(3), np.zeros(5)]
    sends = [np.zeros(3), np.zeros(5)]
    reqs = [comm.Recv_init(recvs[0], source=p, tag=405),
            comm.Recv_init([recvs[1], MPI.DOUBLE], source=p, tag=406),
            comm.Send_init(sends[0], dest=p, tag=405),
            comm.Send_init([sends[1], 5, MPI.DOUBLE], dest=p, tag=406)]
    for it in range(ROUNDS):
        sends[0][:] = rank + it
        sends[1][:] = -rank - it
        assert MPI.Prequest.Startall(reqs if it % 2 else tuple(reqs)) is None
        sts = []
        MPI.Request.Waitall(reqs, sts)
        assert (recvs[0] == p + it).all() and (recvs[1] == -p - it).all()
        assert [s.Get_tag() for s in sts[:2]] == [405, 406]
        assert [s.Get_count(MPI.DOUBLE) for s in sts[:2]] == [3, 5]
    MPI.Prequest.Startall([])
    for r in reqs:
        r.Free()


def test_test_and_lowercase(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 407)
    for it in range(ROUNDS):
        send[:] = it - rank
        MPI.Prequest.Startall([rp, sp])
        deadline = time.monotonic() + 60
        while not rp.Test():
            assert time.monotonic() < deadline
        assert sp.wait() is None
        assert (recv == it - p).all()
    # list calls on inactive persistent requests: nothing to wait for
    assert MPI.Request.Waitany([rp, sp]) == MPI.UNDEFINED
    assert MPI.Request.Waitsome([rp, sp]) is None
    assert MPI.Request.Waitall([rp, sp]) is True
    assert MPI.Request.Testall([rp, sp]) is True
    assert bool(rp) and bool(sp)
    rp.Free()
    sp.Free()


def test_waitany_waitsome_persistent(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 408)
    for it in range(ROUNDS):
        send[:] = 7 * it + rank
        MPI.Prequest.Startall([rp, sp])
        done = []
        if it % 2:
            while len(done) < 2:
                done.append(MPI.Request.Waitany([rp, sp]))
        else:
            while len(done) < 2:
                idx = MPI.Request.Waitsome([rp, sp])
                assert idx
                done += idx
        assert sorted(done) == [0, 1]
        assert (recv == 7 * it + p).all()
    rp.Free()
    sp.Free()


@pytest.fixture
def private(comm):
    """A duplicate of COMM_WORLD: ANY_SOURCE/ANY_TAG receives there cannot
    match a message some other test left behind."""
    d = comm.Dup()
    yield d
    d.Free()


def test_recv_init_defaults_any_source(private, rank):
    comm = private
    p = peer(comm)
    recv = bytearray(4)
    rp = comm.Recv_init(recv)  # ANY_SOURCE, ANY_TAG
    sp = comm.Send_init(bytes([rank]) * 4, p, 409)
    st = MPI.Status()
    for _ in range(2):
        rp.Start()
        sp.Start()
        rp.Wait(st)
        sp.Wait()
        assert recv == bytes([p]) * 4
        assert st.Get_source() == p and st.Get_tag() == 409
    rp.Free()
    sp.Free()


def test_cancel_started_recv_init(comm):
    rp = comm.Recv_init(np.zeros(2), source=MPI.ANY_SOURCE, tag=410)
    for _ in range(2):  # cancelled, then inactive: can start again
        rp.Start()
        rp.Cancel()
        st = MPI.Status()
        rp.Wait(st)
        assert st.Is_cancelled()
        assert bool(rp)
    rp.Free()
    assert not bool(rp)


def test_proc_null(comm):
    sp = comm.Send_init(np.zeros(2), dest=MPI.PROC_NULL, tag=0)
    buf = np.full(2, 3.0)
    rp = comm.Recv_init(buf, source=MPI.PROC_NULL, tag=0)
    for _ in range(2):
        MPI.Prequest.Startall([rp, sp])
        st = MPI.Status()
        rp.Wait(st)
        sp.Wait()
        check_proc_null_status(st)
        assert list(buf) == [3.0, 3.0]
    rp.Free()
    sp.Free()


# --- bad inputs and wrong states --------------------------------------

def test_bad_inputs(comm, rank, size):
    with Drain(comm, rank):
        for bad in (None, 3, "s"):
            with pytest.raises(TypeError):
                comm.Send_init(bad, dest=rank, tag=411)
        with pytest.raises(TypeError):
            comm.Send_init(np.zeros(2), dest="x", tag=411)
    with pytest.raises((BufferError, TypeError)):
        comm.Recv_init(b"read-only", source=rank, tag=411)
    with pytest.raises(ValueError):
        comm.Send_init([np.zeros(3, "i4"), MPI.DOUBLE], dest=rank, tag=411)
    for mode in ("Send_init", "Ssend_init", "Bsend_init", "Rsend_init"):
        with pytest.raises(MPI.Exception) as info:
            getattr(comm, mode)(np.zeros(2), dest=size, tag=0).Start()
        assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.Recv_init(np.zeros(2), source=size + 1, tag=0).Start()
    assert info.value.Get_error_class() == MPI.ERR_RANK
    with pytest.raises(MPI.Exception) as info:
        comm.Recv_init(np.zeros(2), source=rank, tag=-3).Start()
    assert info.value.Get_error_class() == MPI.ERR_TAG


def test_startall_rejects_non_prequest(comm, rank):
    p = peer(comm)
    rp = comm.Recv_init(np.zeros(1), source=p, tag=412)
    sp = comm.Send_init(np.ones(1), dest=p, tag=412)
    for bad in ([rp, 3], [sp, None], 5):
        with pytest.raises(TypeError):
            MPI.Prequest.Startall(bad)
    # still usable
    MPI.Prequest.Startall([rp, sp])
    MPI.Request.Waitall([rp, sp])
    rp.Free()
    sp.Free()


@pytest.mark.fastmpi_only
def test_start_active_raises(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 413)
    rp.Start()
    with pytest.raises(MPI.Exception) as info:
        rp.Start()
    assert info.value.Get_error_class() == MPI.ERR_REQUEST
    with pytest.raises(MPI.Exception) as info:
        MPI.Prequest.Startall([rp])
    assert info.value.Get_error_class() == MPI.ERR_REQUEST
    send[:] = rank
    sp.Start()
    MPI.Request.Waitall([rp, sp])
    assert (recv == p).all()
    rp.Free()
    sp.Free()


@pytest.mark.fastmpi_only
def test_wait_or_start_after_free_raises(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 414)
    rp.Free()
    sp.Free()
    for req in (rp, sp):
        for call in (req.Wait, req.wait, req.Start):
            with pytest.raises(MPI.Exception) as info:
                call()
            assert info.value.Get_error_class() == MPI.ERR_REQUEST
        with pytest.raises(MPI.Exception) as info:
            req.Free()
        assert info.value.Get_error_class() == MPI.ERR_REQUEST


@pytest.mark.fastmpi_only
def test_free_active_persistent_completes(comm, rank):
    rp, sp, recv, send, p = pair_init(comm, rank, 415)
    send[:] = rank + 5
    sp.Start()
    sp.Free()  # MPI finishes the send in the background
    rp.Start()
    rp.Wait()
    assert (recv == p + 5).all()
    rp.Free()


@pytest.mark.fastmpi_only
def test_persistent_keeps_buffer_alive(comm, rank):
    p = peer(comm)
    arr = np.zeros(16)
    ref = weakref.ref(arr)
    rp = comm.Recv_init(arr, source=p, tag=416)
    sp = comm.Send_init(np.full(16, rank + 0.5), dest=p, tag=416)
    del arr
    gc.collect()
    for _ in range(2):
        assert ref() is not None  # held by the inactive request too
        MPI.Prequest.Startall([rp, sp])
        MPI.Request.Waitall([rp, sp])
        assert (ref() == p + 0.5).all()
    rp.Free()
    sp.Free()
    del rp
    gc.collect()
    assert ref() is None


@pytest.mark.fastmpi_only
def test_dropped_active_persistent(comm, rank):
    p = peer(comm)
    arr = np.zeros(1 << 17)
    ref = weakref.ref(arr)
    rp = comm.Recv_init(arr, source=p, tag=417)
    rp.Start()
    del rp, arr
    gc.collect()
    assert ref() is not None  # MPI may still write there
    s = comm.Issend(np.full(1 << 17, 2.0), dest=p, tag=417)
    s.Wait()
    comm.Barrier()
    assert comm.Iprobe(source=p, tag=417) is False
    got = ref()
    if got is not None:
        assert (got == 2.0).all()
