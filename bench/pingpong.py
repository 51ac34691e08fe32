"""Ping-pong family: Send/Recv of numpy buffers, send/recv of objects,
Barrier.  Run on exactly 2 ranks, e.g.

    mpiexec -n 2 /usr/bin/python3 bench/pingpong.py --impl mpi4py
    PYTHONPATH=build/openmpi/lib mpirun -np 2 /usr/bin/python3 \
        bench/pingpong.py --impl fastmpi --case buf:8:10000:7:1000

Rank 0 prints BENCH_META / BENCH_RESULT lines (see timing.py); times are per
round trip (rank 0 -> 1 -> 0) or per Barrier call.  bench/c/pingpong.c is
the C counterpart.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import timing  # noqa: E402

FAMILY = "pingpong"

SMALL_OBJECTS = {
    "int": lambda: 42,
    "dict": lambda: {"step": 7, "name": "rank", "xs": [1.5, 2.5, 3.5]},
}


def pattern(n, seed):
    """Byte i = (7 i + seed) mod 251, as in bench/c (period 251: tiled)."""
    period = ((np.arange(251, dtype=np.uint32) * 7 + seed) % 251).astype(
        np.uint8)
    return np.resize(period, n)


def setup_buf(MPI, comm, case):
    n = int(case.param)
    rank = comm.Get_rank()
    buf = np.zeros(n, dtype=np.uint8)
    Send, Recv = comm.Send, comm.Recv
    # validation: one echo of a known pattern
    if rank == 0:
        ref = pattern(n, 3)
        Send(ref, 1, 1)
        Recv(buf, 1, 1)
        ok = bool(np.array_equal(buf, ref))
    else:
        Recv(buf, 0, 1)
        Send(buf, 0, 1)
        ok = True
    if rank == 0:
        def body(count):
            for _ in range(count):
                Send(buf, 1, 0)
                Recv(buf, 1, 0)
    else:
        def body(count):
            for _ in range(count):
                Recv(buf, 0, 0)
                Send(buf, 0, 0)
    return body, ok


def _setup_object(comm, obj, equal):
    rank = comm.Get_rank()
    send, recv = comm.send, comm.recv
    if rank == 0:
        send(obj, 1, 1)
        ok = bool(equal(recv(None, 1, 1), obj))
    else:
        send(recv(None, 0, 1), 0, 1)
        ok = True
    if rank == 0:
        def body(count):
            for _ in range(count):
                send(obj, 1, 0)
                recv(None, 1, 0)
    else:
        def body(count):
            for _ in range(count):
                send(recv(None, 0, 0), 0, 0)
    return body, ok


def setup_obj(MPI, comm, case):
    obj = SMALL_OBJECTS[case.param]()
    return _setup_object(comm, obj, lambda a, b: a == b)


def setup_objarr(MPI, comm, case):
    arr = pattern(int(case.param), 5)
    return _setup_object(
        comm, arr,
        lambda a, b: isinstance(a, np.ndarray) and np.array_equal(a, b))


def setup_barrier(MPI, comm, case):
    barrier = comm.Barrier

    def body(count):
        for _ in range(count):
            barrier()
    return body, True


SETUP = {
    "buf": setup_buf,
    "obj": setup_obj,
    "objarr": setup_objarr,
    "barrier": setup_barrier,
}


def main():
    timing.run_family(FAMILY, SETUP, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
