"""Collectives family: Allreduce and Bcast of numpy buffers, allreduce of
a Python float, bcast of a small dict.  Run on exactly 2 ranks, e.g.

    PYTHONPATH=build/mpich/lib mpiexec.mpich -n 2 /usr/bin/python3 \
        bench/coll.py --impl fastmpi --case allreduce_buf:8:10000:7:1000

Rank 0 prints BENCH_META / BENCH_RESULT lines (see timing.py); times are
per call.  bench/c/coll.c is the C counterpart.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import timing  # noqa: E402

FAMILY = "coll"

SMALL_DICT = {"step": 7, "name": "rank", "xs": [1.5, 2.5, 3.5]}


def setup_allreduce_buf(MPI, comm, case):
    n = max(1, int(case.param) // 8)
    rank = comm.Get_rank()
    send = np.arange(n, dtype="f8") + rank
    recv = np.zeros(n)
    Allreduce, SUM = comm.Allreduce, MPI.SUM
    Allreduce(send, recv, SUM)
    ok = bool(np.array_equal(recv, 2 * np.arange(n, dtype="f8") + 1))

    def body(count):
        for _ in range(count):
            Allreduce(send, recv, SUM)
    return body, ok


def setup_bcast_buf(MPI, comm, case):
    n = int(case.param)
    rank = comm.Get_rank()
    ref = ((np.arange(n, dtype=np.uint32) * 7 + 3) % 251).astype(np.uint8)
    buf = ref.copy() if rank == 0 else np.zeros(n, np.uint8)
    Bcast = comm.Bcast
    Bcast(buf, 0)
    ok = bool(np.array_equal(buf, ref))

    def body(count):
        for _ in range(count):
            Bcast(buf, 0)
    return body, ok


def setup_allreduce_obj(MPI, comm, case):
    x = 1.5 + comm.Get_rank()
    allreduce, SUM = comm.allreduce, MPI.SUM
    ok = allreduce(x, SUM) == 4.0

    def body(count):
        for _ in range(count):
            allreduce(x, SUM)
    return body, ok


def setup_bcast_obj(MPI, comm, case):
    obj = SMALL_DICT if comm.Get_rank() == 0 else None
    bcast = comm.bcast
    ok = bcast(obj, 0) == SMALL_DICT

    def body(count):
        for _ in range(count):
            bcast(obj, 0)
    return body, ok


SETUP = {
    "allreduce_buf": setup_allreduce_buf,
    "bcast_buf": setup_bcast_buf,
    "allreduce_obj": setup_allreduce_obj,
    "bcast_obj": setup_bcast_obj,
}


def main():
    timing.run_family(FAMILY, SETUP, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
