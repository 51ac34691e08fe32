"""examples/halo2d.py under the suite: its 2-D halo exchange (Create_cart,
Shift, Sendrecv of rows, and of columns as strided views or through
copies) gives the serial result, on grids that split evenly and grids that
do not."""
import importlib.util
import os

import numpy as np
import pytest

from _impl import MPI, IMPL

_PATH = os.path.join(os.path.dirname(__file__), os.pardir, "examples",
                     "halo2d.py")
_spec = importlib.util.spec_from_file_location("halo2d", _PATH)
halo2d = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(halo2d)

# strided views as buffers are fastmpi's (mpi4py refuses them)
VIEWS = [pytest.param(True, id="views",
                      marks=pytest.mark.skipif(IMPL == "mpi4py",
                                               reason="mpi4py refuses "
                                               "strided buffers")),
         pytest.param(False, id="copies")]


@pytest.mark.mpich_big
@pytest.mark.parametrize("views", VIEWS)
@pytest.mark.parametrize("ny, nx, steps", [(12, 8, 5), (37, 29, 25),
                                           (5, 3, 7)])
def test_halo2d_matches_serial(comm, rank, ny, nx, steps, views):
    grid = halo2d.run(MPI, comm, ny, nx, steps, views)
    if rank == 0:
        assert np.array_equal(grid, halo2d.serial(ny, nx, steps))
    else:
        assert grid is None


@pytest.mark.parametrize("views", VIEWS)
def test_halo_exchange_fills_every_halo(comm, rank, size, views):
    """One exchange: each halo cell holds its neighbour's value, or 0 past
    the non-periodic column edges."""
    dims = MPI.Compute_dims(size, 2)
    cart = comm.Create_cart(dims, periods=[True, False])
    try:
        row, col = cart.coords
        u = np.full((4, 5), -1.0)
        u[1:-1, 1:-1] = 100 * rank + np.arange(6).reshape(2, 3)
        u[:, 0] = u[:, -1] = 0.0
        halo2d.exchange(MPI, cart, u, views)
        up, down = cart.Shift(0, 1)
        left, right = cart.Shift(1, 1)
        block = lambda r: 100 * r + np.arange(6).reshape(2, 3)  # noqa: E731
        assert u[0, 1:-1].tolist() == block(up)[-1].tolist()
        assert u[-1, 1:-1].tolist() == block(down)[0].tolist()
        want_l = [0.0, 0.0] if left == MPI.PROC_NULL else block(left)[:, -1]
        want_r = [0.0, 0.0] if right == MPI.PROC_NULL else block(right)[:, 0]
        assert u[1:-1, 0].tolist() == list(want_l)
        assert u[1:-1, -1].tolist() == list(want_r)
    finally:
        cart.Free()
