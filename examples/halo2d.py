"""A 2-D Jacobi-like stencil on a Cartesian grid of ranks, with halo exchange.

    mpiexec -n 4 /usr/bin/python3 -m fastmpi examples/halo2d.py [NY NX STEPS]

The global NY x NX grid is split into blocks over a 2-D grid of ranks
(MPI.Compute_dims, Intracomm.Create_cart).  Rows are periodic (the grid
wraps top to bottom); columns are not (the left and right edges hold 0).
Each rank keeps its block in a numpy array with a one-cell halo.  Every
step it exchanges halos with its four neighbours (Cartcomm.Shift gives
them, MPI.PROC_NULL past the non-periodic edges, where the halo keeps its
0) using Sendrecv on numpy arrays, and then replaces every cell by the mean
of its four neighbours.  Rows are contiguous.  Columns are strided views
(u[1:-1, 1]): fastmpi sends and receives them in place, described to MPI
by a derived datatype; with views=False (what mpi4py needs) they travel
through contiguous copies instead.

At the end rank 0 gathers the blocks and compares them with the same
computation done serially on the whole grid: it prints "halo2d: OK" or
raises.  Runs on any number of ranks, 1 included; the blocks need not be
the same size.
"""

import sys

import numpy as np


def split(n, parts, index):
    """Start and length of part `index` of n cells split in `parts`."""
    base, extra = divmod(n, parts)
    start = index * base + min(index, extra)
    return start, base + (index < extra)


def initial(ny, nx):
    """The starting global grid (any deterministic values do)."""
    i, j = np.indices((ny, nx))
    return ((7 * i + 13 * j) % 17) / 17.0


def step(padded):
    """One step on an array with a one-cell halo: the interior's new
    values.  Serial and parallel runs add in the same order, so they agree
    to the last bit."""
    return 0.25 * (padded[:-2, 1:-1] + padded[2:, 1:-1] +
                   padded[1:-1, :-2] + padded[1:-1, 2:])


def serial(ny, nx, steps):
    """The whole computation on one process."""
    grid = initial(ny, nx)
    for _ in range(steps):
        padded = np.zeros((ny + 2, nx + 2))
        padded[1:-1, 1:-1] = grid
        padded[0, 1:-1] = grid[-1]          # rows wrap round
        padded[-1, 1:-1] = grid[0]
        grid = step(padded)
    return grid


def exchange(MPI, cart, u, views=True):
    """Fill u's halo from the four neighbours (u has a one-cell halo).
    views: send and receive the columns as strided views, without copies
    (fastmpi); False copies them through contiguous buffers (mpi4py)."""
    # dimension 0: whole rows, contiguous in a C-ordered array
    up, down = cart.Shift(0, 1)
    cart.Sendrecv(u[-2, 1:-1], dest=down, sendtag=0,
                  recvbuf=u[0, 1:-1], source=up, recvtag=0)
    cart.Sendrecv(u[1, 1:-1], dest=up, sendtag=1,
                  recvbuf=u[-1, 1:-1], source=down, recvtag=1)
    # dimension 1: columns are strided views
    left, right = cart.Shift(1, 1)
    if views:
        cart.Sendrecv(u[1:-1, -2], dest=right, sendtag=2,
                      recvbuf=u[1:-1, 0], source=left, recvtag=2)
        cart.Sendrecv(u[1:-1, 1], dest=left, sendtag=3,
                      recvbuf=u[1:-1, -1], source=right, recvtag=3)
        return
    send = np.ascontiguousarray(u[1:-1, -2])
    recv = np.empty_like(send)
    cart.Sendrecv(send, dest=right, sendtag=2,
                  recvbuf=recv, source=left, recvtag=2)
    if left != MPI.PROC_NULL:
        u[1:-1, 0] = recv
    send = np.ascontiguousarray(u[1:-1, 1])
    cart.Sendrecv(send, dest=left, sendtag=3,
                  recvbuf=recv, source=right, recvtag=3)
    if right != MPI.PROC_NULL:
        u[1:-1, -1] = recv


def run(MPI, comm, ny, nx, steps, views=True):
    """The parallel computation on `comm`.  Returns the global grid at rank
    0 of comm (None elsewhere)."""
    dims = MPI.Compute_dims(comm.Get_size(), 2)
    cart = comm.Create_cart(dims, periods=[True, False])
    try:
        row, col = cart.Get_coords(cart.Get_rank())
        y0, my = split(ny, dims[0], row)
        x0, mx = split(nx, dims[1], col)
        u = np.zeros((my + 2, mx + 2))
        u[1:-1, 1:-1] = initial(ny, nx)[y0:y0 + my, x0:x0 + mx]
        for _ in range(steps):
            exchange(MPI, cart, u, views)
            u[1:-1, 1:-1] = step(u)
        blocks = cart.gather((y0, x0, u[1:-1, 1:-1].copy()), root=0)
    finally:
        cart.Free()
    if blocks is None:
        return None
    grid = np.full((ny, nx), np.nan)
    for y, x, block in blocks:
        grid[y:y + block.shape[0], x:x + block.shape[1]] = block
    return grid


def main(argv):
    from fastmpi import MPI
    ny, nx, steps = (int(a) for a in argv[1:4]) if len(argv) > 3 else \
        (37, 29, 25)
    comm = MPI.COMM_WORLD
    t0 = MPI.Wtime()
    grid = run(MPI, comm, ny, nx, steps)
    elapsed = MPI.Wtime() - t0
    if comm.Get_rank() == 0:
        want = serial(ny, nx, steps)
        if not np.array_equal(grid, want):
            bad = np.argwhere(grid != want)
            raise AssertionError(f"halo2d: {len(bad)} cells differ from the "
                                 f"serial result, first at {bad[0]}")
        dims = MPI.Compute_dims(comm.Get_size(), 2)
        print(f"halo2d: {ny}x{nx} grid on {dims[0]}x{dims[1]} ranks, "
              f"{steps} steps in {elapsed * 1e3:.1f} ms: matches the serial "
              f"computation")
        print("halo2d: OK")


if __name__ == "__main__":
    main(sys.argv)
