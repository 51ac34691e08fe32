/* cartcomm.c: MPI.Cartcomm's queries: dimensions, periods, coordinates,
 * ranks of coordinates, Shift and Sub (the type and Create_cart are in
 * topology.c).  Arguments are checked before MPI sees them: Open MPI
 * returns a wrong rank for a coordinate outside a non-periodic dimension
 * and accepts a Shift direction outside the grid. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../4_comm/comm.h"
#include "topology.h"

/* ---- Cartcomm ----------------------------------------------------------- */

static int
cart_ndims(FastMPICommObject *self, int *ndims)
{
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Cartdim_get(self->ob_mpi, ndims)) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
Cartcomm_Get_dim(FastMPICommObject *self, PyObject *unused)
{
    int ndims;
    if (cart_ndims(self, &ndims) < 0) {
        return NULL;
    }
    return PyLong_FromLong(ndims);
}

/* dims, periods, coords in one PyMem block of 3 * ndims ints. */
static int *
cart_get(FastMPICommObject *self, int *ndims)
{
    if (cart_ndims(self, ndims) < 0) {
        return NULL;
    }
    int n = *ndims;
    int *all = PyMem_Malloc(sizeof(int) * (size_t)(3 * n + 1));
    if (all == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (fastmpi_check(MPI_Cart_get(self->ob_mpi, n, all, all + n,
                                   all + 2 * n)) < 0) {
        PyMem_Free(all);
        return NULL;
    }
    return all;
}

/* which: 0 dims, 1 periods, 2 coords, 3 all three. */
static PyObject *
cart_topo(FastMPICommObject *self, int which)
{
    int n;
    int *all = cart_get(self, &n);
    if (all == NULL) {
        return NULL;
    }
    PyObject *result;
    if (which < 3) {
        result = fastmpi_int_list(all + which * n, n);
    }
    else {
        result = Py_BuildValue("(NNN)", fastmpi_int_list(all, n),
                               fastmpi_int_list(all + n, n),
                               fastmpi_int_list(all + 2 * n, n));
    }
    PyMem_Free(all);
    return result;
}

static PyObject *
Cartcomm_Get_topo(FastMPICommObject *self, PyObject *unused)
{
    return cart_topo(self, 3);
}

static PyObject *
Cartcomm_get_topo(FastMPICommObject *self, void *closure)
{
    return cart_topo(self, 3);
}

static PyObject *
Cartcomm_get_dims(FastMPICommObject *self, void *closure)
{
    return cart_topo(self, 0);
}

static PyObject *
Cartcomm_get_periods(FastMPICommObject *self, void *closure)
{
    return cart_topo(self, 1);
}

static PyObject *
Cartcomm_get_coords(FastMPICommObject *self, void *closure)
{
    return cart_topo(self, 2);
}

static PyObject *
Cartcomm_Get_cart_rank(FastMPICommObject *self, PyObject *arg)
{
    int n, ncoords, *coords = NULL, rank = MPI_PROC_NULL;
    int *all = cart_get(self, &n);
    PyObject *result = NULL;
    if (all == NULL ||
        fastmpi_topo_int_seq(arg, "Get_cart_rank", "coords", &coords,
                             &ncoords) < 0) {
        goto done;
    }
    if (ncoords != n) {
        PyErr_Format(PyExc_ValueError,
                     "Get_cart_rank() argument 'coords' has %d items; the "
                     "grid has %d dimensions", ncoords, n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!all[n + i] && (coords[i] < 0 || coords[i] >= all[i])) {
            PyErr_Format(PyExc_ValueError,
                         "Get_cart_rank() argument 'coords': item %d is %d; "
                         "dimension %d is not periodic and runs from 0 to "
                         "%d", i, coords[i], i, all[i] - 1);
            goto done;
        }
    }
    if (fastmpi_check(MPI_Cart_rank(self->ob_mpi, coords, &rank)) == 0) {
        result = PyLong_FromLong(rank);
    }
done:
    PyMem_Free(all);
    PyMem_Free(coords);
    return result;
}

static PyObject *
Cartcomm_Get_coords(FastMPICommObject *self, PyObject *arg)
{
    int n, rank, size, me;
    if (fastmpi_topo_int_arg("Get_coords", "rank", arg, &rank) < 0 ||
        cart_ndims(self, &n) < 0 ||
        fastmpi_comm_ranks(self, &me, &size) < 0) {
        return NULL;
    }
    if (rank < 0 || rank >= size) {
        return PyErr_Format(PyExc_ValueError,
                            "Get_coords() argument 'rank' is %d; the "
                            "communicator's ranks are 0 to %d", rank,
                            size - 1);
    }
    int *coords = PyMem_Malloc(sizeof(int) * (size_t)(n + 1));
    if (coords == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    if (fastmpi_check(MPI_Cart_coords(self->ob_mpi, rank, n, coords)) == 0) {
        result = fastmpi_int_list(coords, n);
    }
    PyMem_Free(coords);
    return result;
}

static PyObject *
Cartcomm_Shift(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"direction", "disp", NULL};
    static fastmpi_argspec spec = {"Shift", names, 2};
    PyObject *argv[2];
    int direction, disp, n, source = MPI_PROC_NULL, dest = MPI_PROC_NULL;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &direction) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &disp) < 0 ||
        cart_ndims(self, &n) < 0) {
        return NULL;
    }
    if (direction < 0 || direction >= n) {
        return PyErr_Format(PyExc_ValueError,
                            "Shift() argument 'direction' is %d; the grid's "
                            "dimensions are 0 to %d", direction, n - 1);
    }
    if (fastmpi_check(MPI_Cart_shift(self->ob_mpi, direction, disp, &source,
                                     &dest)) < 0) {
        return NULL;
    }
    return Py_BuildValue("(ii)", source, dest);
}

static PyObject *
Cartcomm_Sub(FastMPICommObject *self, PyObject *arg)
{
    int n, *remain = NULL;
    if (cart_ndims(self, &n) < 0 ||
        fastmpi_topo_bool_seq(arg == Py_None ? NULL : arg, n, "Sub",
                              "remain_dims", &remain) < 0) {
        return NULL;
    }
    if (arg == Py_None) {
        PyMem_Free(remain);
        return PyErr_Format(PyExc_TypeError,
                            "Sub() argument 'remain_dims' must be a "
                            "sequence of bools, not None");
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr, kept = 0;
    for (int i = 0; i < n; i++) {
        kept += remain[i] != 0;
    }
    FASTMPI_NOGIL_BEGIN
    if (kept == 0) {
        /* MPI: every process gets a zero-dimensional grid of its own.
         * MPICH 4.0.2 gives it to rank 0 only (COMM_NULL elsewhere), so
         * it is made here the same way on every library. */
        FASTMPI_CALL("MPI_Cart_create", MPI_COMM_SELF, MPI_PROC_NULL, 0, 0,
                     ierr = MPI_Cart_create(MPI_COMM_SELF, 0, remain,
                                            remain, 0, &newcomm));
    }
    else {
        FASTMPI_CALL("MPI_Cart_sub", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                     ierr = MPI_Cart_sub(self->ob_mpi, remain, &newcomm));
    }
    FASTMPI_NOGIL_END
    PyMem_Free(remain);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Cartcomm, newcomm, 0);
}

/* ---- tables ------------------------------------------------------------- */

#define FASTCALL_KW METH_FASTCALL | METH_KEYWORDS

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Cartcomm_Get_cart_rank, "Get_cart_rank", "coords")
FASTMPI_ONE_ARG(Cartcomm_Get_coords, "Get_coords", "rank")
FASTMPI_ONE_ARG(Cartcomm_Sub, "Sub", "remain_dims")

PyMethodDef fastmpi_cartcomm_methods[] = {
    {"Get_dim", (PyCFunction)Cartcomm_Get_dim, METH_NOARGS,
     "Get_dim($self)\n--\n\n"
     "Number of dimensions."},
    {"Get_topo", (PyCFunction)Cartcomm_Get_topo, METH_NOARGS,
     "Get_topo($self)\n--\n\n"
     "Get_topo() -> (dims, periods, coords)."},
    {"Get_cart_rank", FASTMPI_FASTCALL(Cartcomm_Get_cart_rank_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_cart_rank($self, coords)\n--\n\n"
     "Get_cart_rank(coords) -> rank."},
    {"Get_coords", FASTMPI_FASTCALL(Cartcomm_Get_coords_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_coords($self, rank)\n--\n\n"
     "Get_coords(rank) -> coords."},
    {"Shift", FASTMPI_FASTCALL(Cartcomm_Shift), FASTCALL_KW,
     "Shift($self, direction, disp)\n--\n\n"
     "Shift(direction, disp) -> (source, dest); PROC_NULL past a "
     "non-periodic edge."},
    {"Sub", FASTMPI_FASTCALL(Cartcomm_Sub_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Sub($self, remain_dims)\n--\n\n"
     "Sub(remain_dims) -> Cartcomm of the kept dimensions (collective)."},
    {NULL},
};

PyGetSetDef fastmpi_cartcomm_getset[] = {
    {"dim", (getter)Cartcomm_Get_dim, NULL, "number of dimensions"},
    {"ndim", (getter)Cartcomm_Get_dim, NULL, "number of dimensions"},
    {"topo", (getter)Cartcomm_get_topo, NULL, "(dims, periods, coords)"},
    {"dims", (getter)Cartcomm_get_dims, NULL, "processes per dimension"},
    {"periods", (getter)Cartcomm_get_periods, NULL, "periodicity"},
    {"coords", (getter)Cartcomm_get_coords, NULL, "this process's coords"},
    {NULL},
};
