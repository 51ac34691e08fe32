"""Nonblocking family: Isend/Irecv windows, Isend+Wait ping-pong and
PROC_NULL loop, isend/irecv of objects.  Run on exactly 2 ranks, e.g.

    mpiexec -n 2 /usr/bin/python3 bench/nonblocking.py --impl mpi4py
    PYTHONPATH=build/openmpi/lib mpirun -np 2 /usr/bin/python3 \
        bench/nonblocking.py --impl fastmpi --case win:65536x64:100:5:20

Kinds (bench/cases.py builds the list; bench/c/nonblocking.c is the C
counterpart of win, ipp, inull and inullwin):

  win:<n>x<W>  rank 0 posts W Isends of n-byte slices of one numpy uint8
               buffer, rank 1 W Irecvs; both Waitall; then rank 1 sends a
               1-byte ack (Send/Recv).  Time per window.
  ipp:<n>      ping-pong, each side Isend(...).Wait() / Irecv(...).Wait().
  inull:<n>    Isend(buf, PROC_NULL).Wait() in a loop, on both ranks: only
               the binding's cost (nothing is sent).  Time per call.
  inullwin:<n>x<W>  W Isends of an n-byte buffer to PROC_NULL, one Waitall,
               on both ranks: the binding's cost of a window.
  iobj:<name>  ping-pong of a small object, isend(obj).wait() and
               irecv(source=...).wait().
  iobjarr:<n>  the same with an n-byte ndarray; fastmpi's irecv() takes no
               buffer, mpi4py's gets a preallocated 2n-byte bytearray (its
               irecv() without one can't take more than 32 KiB: Open MPI
               aborts with memory corruption).
  iobjbuf:<n>  the same, every implementation with the 2n-byte bytearray.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import timing  # noqa: E402
from timing import require  # noqa: E402
from pingpong import SMALL_OBJECTS, pattern  # noqa: E402

FAMILY = "nonblocking"
TAG, ACK_TAG, CHECK_TAG = 0, 1, 2


def is_mpi4py(MPI):
    return MPI.__name__.startswith("mpi4py")


def setup_win(MPI, comm, case):
    require(comm, "Isend", "Irecv")
    require(MPI.Request, "Waitall")
    n, w = case.nbytes, case.window
    rank = comm.Get_rank()
    buf = np.zeros(n * w, dtype=np.uint8)
    ack = np.zeros(1, dtype=np.uint8)
    slices = [buf[i * n:(i + 1) * n] for i in range(w)]
    Isend, Irecv = comm.Isend, comm.Irecv
    Send, Recv = comm.Send, comm.Recv
    Waitall = MPI.Request.Waitall
    # validation: one window 0 -> 1 of a known pattern, echoed back as a
    # window 1 -> 0 and compared on rank 0.
    if rank == 0:
        ref = pattern(n * w, 3)
        Waitall([Isend(ref[i * n:(i + 1) * n], 1, CHECK_TAG)
                 for i in range(w)])
        Waitall([Irecv(s, 1, CHECK_TAG) for s in slices])
        ok = bool(np.array_equal(buf, ref))
    else:
        Waitall([Irecv(s, 0, CHECK_TAG) for s in slices])
        Waitall([Isend(s, 0, CHECK_TAG) for s in slices])
        ok = True
    if rank == 0:
        def body(count):
            for _ in range(count):
                Waitall([Isend(s, 1, TAG) for s in slices])
                Recv(ack, 1, ACK_TAG)
    else:
        def body(count):
            for _ in range(count):
                Waitall([Irecv(s, 0, TAG) for s in slices])
                Send(ack, 0, ACK_TAG)
    return body, ok


def setup_ipp(MPI, comm, case):
    require(comm, "Isend", "Irecv")
    require(MPI.Request, "Wait")
    n = case.nbytes
    rank = comm.Get_rank()
    buf = np.zeros(n, dtype=np.uint8)
    Isend, Irecv = comm.Isend, comm.Irecv
    if rank == 0:
        ref = pattern(n, 3)
        Isend(ref, 1, CHECK_TAG).Wait()
        Irecv(buf, 1, CHECK_TAG).Wait()
        ok = bool(np.array_equal(buf, ref))
    else:
        Irecv(buf, 0, CHECK_TAG).Wait()
        Isend(buf, 0, CHECK_TAG).Wait()
        ok = True
    if rank == 0:
        def body(count):
            for _ in range(count):
                Isend(buf, 1, TAG).Wait()
                Irecv(buf, 1, TAG).Wait()
    else:
        def body(count):
            for _ in range(count):
                Irecv(buf, 0, TAG).Wait()
                Isend(buf, 0, TAG).Wait()
    return body, ok


def setup_inull(MPI, comm, case):
    require(comm, "Isend")
    require(MPI.Request, "Wait")
    buf = np.zeros(case.nbytes, dtype=np.uint8)
    Isend, null = comm.Isend, MPI.PROC_NULL
    Isend(buf, null, TAG).Wait()   # nothing moves: nothing to check

    def body(count):
        for _ in range(count):
            Isend(buf, null, TAG).Wait()
    return body, True


def setup_inullwin(MPI, comm, case):
    require(comm, "Isend")
    require(MPI.Request, "Waitall")
    buf = np.zeros(case.nbytes, dtype=np.uint8)
    Isend, null, Waitall = comm.Isend, MPI.PROC_NULL, MPI.Request.Waitall
    window = range(case.window)

    def body(count):
        for _ in range(count):
            Waitall([Isend(buf, null, TAG) for _ in window])
    return body, True


def _setup_iobject(MPI, comm, obj, equal, rbuf=None):
    """Object ping-pong with isend().wait() / irecv(...).wait(); rbuf is
    passed to irecv when given."""
    require(comm, "isend", "irecv")
    require(MPI.Request, "wait")
    rank = comm.Get_rank()
    isend, irecv = comm.isend, comm.irecv
    peer = 1 - rank
    if rbuf is None:
        def recv(tag):
            return irecv(source=peer, tag=tag).wait()
    else:
        def recv(tag):
            return irecv(rbuf, peer, tag).wait()
    if rank == 0:
        isend(obj, 1, CHECK_TAG).wait()
        ok = bool(equal(recv(CHECK_TAG), obj))
    else:
        isend(recv(CHECK_TAG), 0, CHECK_TAG).wait()
        ok = True
    if rank == 0:
        def body(count):
            for _ in range(count):
                isend(obj, 1, TAG).wait()
                recv(TAG)
    else:
        def body(count):
            for _ in range(count):
                isend(recv(TAG), 0, TAG).wait()
    return body, ok


def setup_iobj(MPI, comm, case):
    obj = SMALL_OBJECTS[case.param]()
    return _setup_iobject(MPI, comm, obj, lambda a, b: a == b)


def _array_equal(a, b):
    return isinstance(a, np.ndarray) and np.array_equal(a, b)


def setup_iobjarr(MPI, comm, case):
    n = case.nbytes
    rbuf = bytearray(2 * n) if is_mpi4py(MPI) else None
    return _setup_iobject(MPI, comm, pattern(n, 5), _array_equal, rbuf)


def setup_iobjbuf(MPI, comm, case):
    n = case.nbytes
    return _setup_iobject(MPI, comm, pattern(n, 5), _array_equal,
                          bytearray(2 * n))


SETUP = {
    "win": setup_win,
    "ipp": setup_ipp,
    "inull": setup_inull,
    "inullwin": setup_inullwin,
    "iobj": setup_iobj,
    "iobjarr": setup_iobjarr,
    "iobjbuf": setup_iobjbuf,
}


def main():
    timing.run_family(FAMILY, SETUP, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
