"""Concurrent point-to-point from several Python threads per rank."""
import threading

import numpy as np
import pytest

from _impl import (MPI, FLAVOR, MPICH_SELF_THREAD_BUG, SELF_RECV_BLOCKS_FOREVER,
                   peer)

N = 100 if FLAVOR == "mpich" else 300


def test_thread_multiple_in_force():
    assert MPI.Query_thread() == MPI.THREAD_MULTIPLE


@pytest.mark.mpich_big
def test_two_threads_send_recv(comm, rank):
    assert MPI.Query_thread() == MPI.THREAD_MULTIPLE
    p = peer(comm)
    if p == rank and SELF_RECV_BLOCKS_FOREVER:
        pytest.skip(MPICH_SELF_THREAD_BUG)  # runs paired on MPICH at 2+
    errors = []
    results = {}

    # Paired ranks: thread k talks to the peer's thread k on tag 500+k.
    # A self-paired rank: its two threads are the two ends of one pair
    # (thread 0 sends first, thread 1 receives first), each sending on
    # 500+k and receiving on 500+(1-k).
    def worker(k):
        stag = 500 + k
        rtag = 500 + k if p != rank else 500 + (1 - k)
        first = (rank < p) if p != rank else (k == 0)
        try:
            send = np.empty(64, "i8")
            recv = np.empty(64, "i8")
            ok = 0
            for i in range(N):
                send[:] = rank * 1_000_000 + k * 10_000 + i
                if first:
                    comm.Send(send, dest=p, tag=stag)
                    comm.Recv(recv, source=p, tag=rtag)
                else:
                    comm.Recv(recv, source=p, tag=rtag)
                    comm.Send(send, dest=p, tag=stag)
                kk = k if p != rank else 1 - k
                if (recv == p * 1_000_000 + kk * 10_000 + i).all():
                    ok += 1
            # object path too
            for i in range(N // 10):
                if first:
                    comm.send((k, i, rank), dest=p, tag=stag)
                    got = comm.recv(source=p, tag=rtag)
                else:
                    got = comm.recv(source=p, tag=rtag)
                    comm.send((k, i, rank), dest=p, tag=stag)
                if got == (k if p != rank else 1 - k, i, p):
                    ok += 1
            results[k] = ok
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True)
               for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert errors == []
    assert results == {0: N + N // 10, 1: N + N // 10}


def test_threads_release_gil(comm, rank):
    # A blocking Recv in one thread must not stop another Python thread.
    p = peer(comm)
    if p == rank and SELF_RECV_BLOCKS_FOREVER:
        pytest.skip(MPICH_SELF_THREAD_BUG)  # runs paired on MPICH at 2+
    tag = 600
    recv = np.zeros(4, "i4")
    done = threading.Event()
    ticks = []

    def receiver():
        comm.Recv(recv, source=p, tag=tag)
        done.set()

    t = threading.Thread(target=receiver, daemon=True)
    t.start()
    while len(ticks) < 50:
        ticks.append(1)  # runs only if the receiver released the GIL
        threading.Event().wait(0.001)
    comm.Send(np.full(4, rank, "i4"), dest=p, tag=tag)
    t.join(timeout=60)
    assert done.is_set()
    assert list(recv) == [p] * 4


NB_THREADS = 4
NB_ROUNDS = 40 if FLAVOR == "mpich" else 150


@pytest.mark.mpich_big
def test_threads_nonblocking(comm, rank):
    # Each of several threads exchanges with the same thread of the peer
    # on its own tag: irecv/isend/wait, then Irecv/Isend/Waitall.  Every
    # receive is posted before the thread's own send, so a rank paired with
    # itself needs no other thread to make progress.
    assert MPI.Query_thread() == MPI.THREAD_MULTIPLE
    p = peer(comm)
    errors = []
    ok = {}

    def worker(k):
        tag = 700 + k
        try:
            good = 0
            for i in range(NB_ROUNDS):
                r = comm.irecv(source=p, tag=tag)
                s = comm.isend((k, i, rank), dest=p, tag=tag)
                got = r.wait()
                s.wait()
                good += got == (k, i, p)
                recv = np.full(32, -1, "i8")
                reqs = [comm.Irecv(recv, source=p, tag=tag),
                        comm.Isend(np.full(32, rank * 1000 + i, "i8"),
                                   dest=p, tag=tag)]
                if i % 2:
                    MPI.Request.Waitall(reqs)
                else:
                    reqs[0].Wait()
                    reqs[1].Wait()
                good += bool((recv == p * 1000 + i).all())
            ok[k] = good
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True)
               for k in range(NB_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert errors == []
    assert ok == {k: 2 * NB_ROUNDS for k in range(NB_THREADS)}


def test_threads_mprobe(comm, rank):
    # matched probes are thread-safe: each thread probes its own tag and
    # receives exactly the message it matched
    p = peer(comm)
    errors = []
    got = {}

    def worker(k):
        tag = 720 + k
        try:
            out = []
            for i in range(NB_ROUNDS // 5):
                s = comm.isend([k, i, rank], dest=p, tag=tag)
                msg = comm.mprobe(source=p, tag=tag)
                out.append(msg.recv())
                s.wait()
            got[k] = out
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True)
               for k in range(NB_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert errors == []
    assert got == {k: [[k, i, p] for i in range(NB_ROUNDS // 5)]
                   for k in range(NB_THREADS)}
