"""Pass numpy arrays around a ring of ranks and time it, with fastmpi.

    mpiexec -n 4 /usr/bin/python3 -m fastmpi examples/ring.py [max_bytes]

1. greeting: each rank sendrecv's a small Python object to its right
   neighbour while getting one from its left.
2. ring: rank 0 sends an array to rank 1, which passes it on to rank 2,
   and so on back to rank 0 (Send/Recv; on one rank, Sendrecv_replace to
   itself).  Every hop bumps element 0, so rank 0 can check that the array
   went all the way round.  Reported: time per hop and bandwidth.
3. shift: all ranks at once Sendrecv their array to the right and get the
   left one's; after `size` shifts each array is home again.

Only rank 0 prints.  Works on any number of ranks, 1 included.
"""

import os
import sys

import numpy as np

from fastmpi import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
right = (rank + 1) % size
left = (rank - 1) % size
max_bytes = int(sys.argv[1]) if len(sys.argv) > 1 else 8 << 20
CORES = len(os.sched_getaffinity(0))


def rate(bytes_per_second):
    """MB/s, with enough digits to be non-zero for small messages."""
    mb = bytes_per_second / 1e6
    return f"{mb:.1f}" if mb >= 1 else f"{mb:.4f}"


def fail(message):
    print(f"ring.py: rank {rank}: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# 1. greeting ---------------------------------------------------------------
hello = {"rank": rank, "host": MPI.Get_processor_name()}
got = comm.sendrecv(hello, dest=right, source=left)
if got["rank"] != left:
    fail(f"greeting from rank {got['rank']}, expected {left}")
if rank == 0:
    print(f"{size} rank(s) in a ring; rank 0 was greeted by rank "
          f"{got['rank']} on {got['host']}")
    if size > CORES:
        print(f"note: {size} ranks share {CORES} cores here: a hop may wait "
              "for the OS to switch ranks (MPICH busy-polls), so times are "
              "not those of one core per rank")


# 2. ring -------------------------------------------------------------------
def laps_for(nbytes):
    """Fewer laps for big messages, so each size takes a fraction of a second."""
    most = 200 if size <= CORES else 40  # sharing cores makes each hop slow
    return max(5, min(most, (32 << 20) // (nbytes * size)))


def ring(buf, laps, tag):
    """Send buf round the ring `laps` times; return seconds per hop."""
    comm.Barrier()
    t0 = MPI.Wtime()
    for _ in range(laps):
        if size == 1:
            buf[0] += 1
            comm.Sendrecv_replace(buf, dest=0, sendtag=tag, source=0, recvtag=tag)
        elif rank == 0:
            buf[0] += 1
            comm.Send([buf, MPI.DOUBLE], dest=right, tag=tag)
            comm.Recv([buf, MPI.DOUBLE], source=left, tag=tag)
        else:
            comm.Recv(buf, source=left, tag=tag)
            buf[0] += 1
            comm.Send(buf, dest=right, tag=tag)
    return (MPI.Wtime() - t0) / (laps * size)


sizes = []
nbytes = 8
while nbytes <= max_bytes:
    sizes.append(nbytes)
    nbytes *= 16 if nbytes < 1 << 20 else 8

if rank == 0:
    print()
    print("ring (Send/Recv, one message travelling rank 0 -> 1 -> ... -> 0)"
          if size > 1 else "ring (Sendrecv_replace, rank 0 to itself)")
    print(f"{'bytes':>10} {'laps':>5} {'us/hop':>10} {'MB/s':>10}")
for tag, nbytes in enumerate(sizes, start=1):
    n = nbytes // 8
    laps = laps_for(nbytes)
    buf = np.arange(n, dtype=np.float64)
    ring(buf, 1, tag)  # warm-up lap
    buf[0] = 0.0
    hop = ring(buf, laps, tag)
    if rank == 0:
        if buf[0] != laps * size or (n > 1 and buf[-1] != n - 1):
            fail(f"ring of {nbytes} bytes: got buf[0]={buf[0]}, "
                 f"expected {laps * size}")
        print(f"{nbytes:>10} {laps:>5} {hop * 1e6:>10.1f} "
              f"{rate(nbytes / hop):>10}")


# 3. shift ------------------------------------------------------------------
if rank == 0:
    print()
    print("shift (Sendrecv, every rank sends right and receives from the left)")
    print(f"{'bytes':>10} {'shifts':>6} {'us/shift':>10} {'MB/s/rank':>10}")
for tag, nbytes in enumerate(sizes, start=100):
    n = nbytes // 8
    mine = np.full(n, float(rank))
    shifts = size * max(2, laps_for(nbytes) // 4)
    a, b = mine.copy(), np.empty_like(mine)
    comm.Sendrecv(a, dest=right, sendtag=tag, recvbuf=b, source=left, recvtag=tag)
    a, b = b, a  # warm-up shift: size - 1 more below, then multiples of size
    comm.Barrier()
    t0 = MPI.Wtime()
    for _ in range(shifts - 1):
        comm.Sendrecv(a, dest=right, sendtag=tag, recvbuf=b, source=left, recvtag=tag)
        a, b = b, a
    step = (MPI.Wtime() - t0) / (shifts - 1)
    if not np.array_equal(a, mine):  # size shifts bring every array home
        fail(f"shift of {nbytes} bytes: array did not come home")
    if rank == 0:
        print(f"{nbytes:>10} {shifts:>6} {step * 1e6:>10.1f} "
              f"{rate(nbytes / step):>10}")

comm.Barrier()
if rank == 0:
    print()
    print("ring.py: all arrays arrived intact")
