"""Compute pi by numerical integration, in parallel, with fastmpi.

    mpiexec -n 4 /usr/bin/python3 -m fastmpi examples/pi.py [intervals]

pi is the integral of 4 / (1 + x*x) for x from 0 to 1.  The interval is
cut into N strips (midpoint rule); rank r sums strips r, r + size,
r + 2*size, ...  Every rank sends its partial sum to rank 0 with
point-to-point messages only; rank 0 takes them in whatever order they
arrive (MPI.ANY_SOURCE) and uses the Status to tell who sent what.
Works on any number of ranks, 1 included.
"""

import math
import sys

import numpy as np

from fastmpi import MPI

TAG_PARTIAL = 7

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000

if rank == 0:
    version = " ".join(MPI.Get_library_version().strip(" \0\n")
                       .splitlines()[0].split())
    print(f"MPI library: {version}")
    print(f"computing pi with {n:,} strips on {size} rank(s)")

comm.Barrier()
t0 = MPI.Wtime()

# This rank's strips, in blocks so that memory stays small for any n.
h = 1.0 / n
partial = 0.0
block = 1 << 20
for start in range(rank, n, block * size):
    i = np.arange(start, min(n, start + block * size), size, dtype=np.float64)
    x = (i + 0.5) * h
    partial += float(np.sum(4.0 / (1.0 + x * x)))
partial *= h
elapsed = MPI.Wtime() - t0

report = {
    "rank": rank,
    "host": MPI.Get_processor_name(),
    "strips": len(range(rank, n, size)),
    "partial": partial,
    "seconds": elapsed,
}

if rank != 0:
    comm.send(report, dest=0, tag=TAG_PARTIAL)
else:
    reports = [report]
    st = MPI.Status()
    for _ in range(size - 1):
        got = comm.recv(source=MPI.ANY_SOURCE, tag=TAG_PARTIAL, status=st)
        assert st.Get_source() == got["rank"], (st.Get_source(), got)
        assert st.Get_tag() == TAG_PARTIAL
        print(f"  message from rank {st.Get_source()} "
              f"(tag {st.Get_tag()}, {st.Get_count()} bytes): "
              f"partial sum {got['partial']:.15f} "
              f"over {got['strips']:,} strips on {got['host']} "
              f"in {got['seconds'] * 1e3:.1f} ms")
        reports.append(got)
    print(f"  rank 0's own partial sum {partial:.15f} "
          f"over {report['strips']:,} strips in {elapsed * 1e3:.1f} ms")

    pi = math.fsum(r["partial"] for r in sorted(reports, key=lambda r: r["rank"]))
    error = abs(pi - math.pi)
    total = MPI.Wtime() - t0
    print(f"pi ~= {pi:.15f}   error {error:.2e}   "
          f"wall time {total * 1e3:.1f} ms")
    if error > 1.0 / n**2 + 1e-12:  # midpoint rule: error ~ h*h/12
        print("pi.py: the result is wrong", file=sys.stderr)
        sys.exit(1)

comm.Barrier()
