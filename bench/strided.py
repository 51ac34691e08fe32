"""Strided family: every other float64 of a 16 MiB array (a[::2], 8 MiB of
data) from rank 0 to rank 1.  Run on exactly 2 ranks, e.g.

    PYTHONPATH=build/mpich/lib mpiexec.mpich -n 2 /usr/bin/python3 \
        bench/strided.py --impl fastmpi --case sv_send:8388608:10:5:2

Kinds (param = bytes of data; the strided array is twice that; each timed
iteration is one transfer 0 -> 1 plus a 1-byte ack 1 -> 0):

  sv_send     rank 0 sends a[::2], rank 1 receives into a contiguous array.
              fastmpi: Send(a[::2]) (a derived datatype, no copy); mpi4py
              refuses non-contiguous buffers, so its only route is
              Send(np.ascontiguousarray(a[::2])).
  sv_recv     rank 0 sends a contiguous array, rank 1 receives into b[::2].
              fastmpi: Recv(b[::2]); mpi4py: Recv into a contiguous array,
              then b[::2] = it.
  sv_send_hv, sv_send_rs, sv_recv_hv, sv_recv_rs
              the same with fastmpi's layout of the outer dimension forced:
              one hvector (hv) or a count of resized items (rs); by default
              fastmpi takes hvector on Open MPI, resized on MPICH
              (fastmpi.MPI._strided_layout); mpi4py as sv_send / sv_recv.

bench/c/strided.c is the C counterpart (MPI_Type_vector).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import timing  # noqa: E402

FAMILY = "strided"
TAG, ACK_TAG, CHECK_TAG = 0, 1, 2


def is_mpi4py(MPI):
    return MPI.__name__.startswith("mpi4py")


def _pair(MPI, comm, case, send_strided):
    n = case.nbytes // 8
    rank = comm.Get_rank()
    ref = np.arange(n, dtype="f8") * 3.0 + 1.0
    ack = np.zeros(1, np.uint8)
    Send, Recv = comm.Send, comm.Recv
    copy_route = is_mpi4py(MPI)
    if send_strided:
        if rank == 0:
            a = np.zeros(2 * n)
            a[::2] = ref
            view = a[::2]
            if copy_route:
                def xfer():
                    Send(np.ascontiguousarray(view), 1, TAG)
            else:
                def xfer():
                    Send(view, 1, TAG)
        else:
            out = np.zeros(n)

            def xfer():
                Recv(out, 0, TAG)
    else:
        if rank == 0:
            src = ref.copy()

            def xfer():
                Send(src, 1, TAG)
        else:
            b = np.full(2 * n, -1.0)
            view = b[::2]
            if copy_route:
                tmp = np.empty(n)

                def xfer():
                    Recv(tmp, 0, TAG)
                    view[...] = tmp
            else:
                def xfer():
                    Recv(view, 0, TAG)
    xfer()   # validation transfer
    if rank == 1:
        got = out if send_strided else view
        ok = bool(np.array_equal(got, ref))
        if not send_strided:
            ok = ok and bool((b[1::2] == -1.0).all())
        comm.send(ok, 0, CHECK_TAG)
    else:
        ok = comm.recv(source=1, tag=CHECK_TAG)
    if rank == 0:
        def body(count):
            for _ in range(count):
                xfer()
                Recv(ack, 1, ACK_TAG)
    else:
        def body(count):
            for _ in range(count):
                xfer()
                Send(ack, 0, ACK_TAG)
    return body, ok


def setup_sv_send(MPI, comm, case):
    return _pair(MPI, comm, case, True)


def setup_sv_recv(MPI, comm, case):
    return _pair(MPI, comm, case, False)


def _with_layout(hvector, send_strided):
    """The same transfer with fastmpi's outer-dimension layout forced
    (fastmpi.MPI._strided_layout); mpi4py runs its copy route unchanged."""
    def setup(MPI, comm, case):
        layout = getattr(MPI, "_strided_layout", None)
        if layout is None:
            return _pair(MPI, comm, case, send_strided)
        layout(hvector)
        try:
            body, ok = _pair(MPI, comm, case, send_strided)
        finally:
            layout(None)

        def wrapped(count):
            layout(hvector)
            try:
                body(count)
            finally:
                layout(None)
        return wrapped, ok
    return setup


SETUP = {
    "sv_send": setup_sv_send,
    "sv_recv": setup_sv_recv,
    "sv_send_hv": _with_layout(True, True),
    "sv_send_rs": _with_layout(False, True),
    "sv_recv_hv": _with_layout(True, False),
    "sv_recv_rs": _with_layout(False, False),
}


def main():
    timing.run_family(FAMILY, SETUP, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
