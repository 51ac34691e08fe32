/* topology.c: process topologies: the types MPI.Topocomm, Cartcomm,
 * Graphcomm and Distgraphcomm (their queries are in cartcomm.c and
 * graphcomm.c), Topocomm's degrees and neighbour lists,
 * Intracomm.Create_cart, Create_graph, Create_dist_graph(_adjacent);
 * Comm.Get_topology; MPI.Compute_dims.
 *
 * Every argument is checked here before MPI sees it (MPI libraries crash,
 * abort or silently wrap on bad topology arguments): dims and periods of
 * the right length, a grid no larger than the communicator, coordinates
 * inside non-periodic dimensions, ranks inside the communicator, graph
 * index and edges that agree.  A rank that raises does so before any
 * collective call, so the others are not left half-way through a
 * creation unless they themselves passed different arguments.
 *
 * The neighbourhood collectives (neighbor.c) are Topocomm methods; their
 * table is installed on Topocomm here.  Intracomm's constructors and
 * Comm.Get_topology are added to those types from this file (as
 * requestlist.c adds to Request), so comm.c's tables stay as they are.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../4_comm/comm.h"
#include "p2p.h"
#include "topology.h"

#include <string.h>

/* MPI_UNWEIGHTED through a variable (fastmpi_st->unweighted): Open MPI's
 * is ((int *)2), which GCC takes for a zero-length array when passed
 * straight to a function whose parameter is declared int[]
 * (-Wstringop-overflow). */
int *
fastmpi_topo_unweighted(void)
{
    return fastmpi_st->unweighted;
}

/* ---- argument helpers --------------------------------------------------- */

/* The ints of a sequence `obj` into a new PyMem array (*out, at least one
 * element allocated), its length in *n.  0, or -1 with TypeError /
 * OverflowError naming fname/argname. */
int
fastmpi_topo_int_seq(PyObject *obj, const char *fname, const char *argname,
                     int **out, int *n)
{
    *out = NULL;
    if (obj == NULL || PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        !PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of ints, not "
                     "%.100s", fname, argname,
                     obj ? Py_TYPE(obj)->tp_name : "nothing");
        return -1;
    }
    PyObject *seq = PySequence_Fast(obj, "");
    if (seq == NULL) {
        return -1;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(seq);
    if (len > INT_MAX) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' is too long",
                     fname, argname);
        return -1;
    }
    int *arr = PyMem_Malloc(sizeof(int) * (size_t)(len ? len : 1));
    if (arr == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *item = PySequence_Fast_ITEMS(seq)[i];
        if (PyBool_Check(item) || !PyIndex_Check(item)) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': item %zd must be an int, not "
                         "%.100s", fname, argname, i,
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        int overflow = 0;
        PyObject *num = PyNumber_Index(item);
        long v = num ? PyLong_AsLongAndOverflow(num, &overflow) : -1;
        Py_XDECREF(num);
        if (num == NULL || (v == -1 && PyErr_Occurred())) {
            goto error;
        }
        if (overflow || v < INT_MIN || v > INT_MAX) {
            PyErr_Format(PyExc_OverflowError,
                         "%s() argument '%s': item %zd is out of the range "
                         "of a C int", fname, argname, i);
            goto error;
        }
        arr[i] = (int)v;
    }
    Py_DECREF(seq);
    *out = arr;
    *n = (int)len;
    return 0;
error:
    Py_DECREF(seq);
    PyMem_Free(arr);
    return -1;
}

/* Truth values of a sequence into a new PyMem int array of `want` items;
 * None gives all false, True or False that value for every item.  0, or
 * -1 naming fname/argname. */
int
fastmpi_topo_bool_seq(PyObject *obj, int want, const char *fname,
                      const char *argname, int **out)
{
    int *arr = PyMem_Calloc(want ? (size_t)want : 1, sizeof(int));
    if (arr == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *out = arr;
    if (obj == NULL || obj == Py_None) {
        return 0;
    }
    if (PyBool_Check(obj)) {            /* True or False: every item */
        for (int i = 0; i < want; i++) {
            arr[i] = obj == Py_True;
        }
        return 0;
    }
    PyObject *seq = NULL;
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        !PySequence_Check(obj) || (seq = PySequence_Fast(obj, "")) == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of bools, not "
                     "%.100s", fname, argname, Py_TYPE(obj)->tp_name);
        goto error;
    }
    if (PySequence_Fast_GET_SIZE(seq) != want) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' has %zd items; it needs %d (one per "
                     "dimension)", fname, argname,
                     PySequence_Fast_GET_SIZE(seq), want);
        goto error;
    }
    for (int i = 0; i < want; i++) {
        int t = PyObject_IsTrue(PySequence_Fast_ITEMS(seq)[i]);
        if (t < 0) {
            goto error;
        }
        arr[i] = t;
    }
    Py_DECREF(seq);
    return 0;
error:
    Py_XDECREF(seq);
    PyMem_Free(arr);
    *out = NULL;
    return -1;
}

/* ValueError unless lo <= a[i] < hi for every i. */
static int
check_ranks(const int *a, int n, int hi, const char *fname,
            const char *argname)
{
    for (int i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= hi) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': item %d is %d; the "
                         "communicator's ranks are 0 to %d", fname, argname,
                         i, a[i], hi - 1);
            return -1;
        }
    }
    return 0;
}

static int
check_nonnegative(const int *a, int n, const char *fname,
                  const char *argname)
{
    for (int i = 0; i < n; i++) {
        if (a[i] < 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': item %d is %d; it must be "
                         ">= 0", fname, argname, i, a[i]);
            return -1;
        }
    }
    return 0;
}

/* A one-int argument through the args.c converter. */
int
fastmpi_topo_int_arg(const char *fname, const char *argname, PyObject *obj,
                     int *out)
{
    const char *names[] = {argname, NULL};
    fastmpi_argspec spec = {fname, names, 1, 1, NULL};
    return fastmpi_arg_int(&spec, 0, obj, 0, out);
}

/* reorder=False: any object's truth value. */
static int
bool_arg(PyObject *obj, int *out)
{
    if (obj == NULL) {
        *out = 0;
        return 0;
    }
    *out = PyObject_IsTrue(obj);
    return *out < 0 ? -1 : 0;
}

/* An info argument (info.c): *info set, 0; or -1 with an exception.
 * Pair with fastmpi_info_arg_release(obj, *info) once MPI is done. */
static int
info_arg(PyObject *obj, const char *fname, MPI_Info *info)
{
    *info = MPI_INFO_NULL;
    if (obj == NULL) {
        return 0;
    }
    *info = fastmpi_info_arg(obj, fname, "info");
    return *info == MPI_INFO_NULL && PyErr_Occurred() ? -1 : 0;
}

/* ---- the types ---------------------------------------------------------- */

static PyObject *
new_comm(PyTypeObject *type, MPI_Comm comm)
{
    return fastmpi_comm_new(type, comm, 0);
}

/* The kind of topology each class wraps (Topocomm: any). */
static int
wanted_topology(PyTypeObject *type)
{
    if (PyType_IsSubtype(type, fastmpi_st->Cartcomm)) {
        return MPI_CART;
    }
    if (PyType_IsSubtype(type, fastmpi_st->Graphcomm)) {
        return MPI_GRAPH;
    }
    if (PyType_IsSubtype(type, fastmpi_st->Distgraphcomm)) {
        return MPI_DIST_GRAPH;
    }
    return MPI_UNDEFINED;
}

/* Topocomm(comm=None) and subclasses: comm must have that topology. */
static PyObject *
Topocomm_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"comm", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O", kwlist, &other)) {
        return NULL;
    }
    MPI_Comm handle = MPI_COMM_NULL;
    if (other != NULL && other != Py_None) {
        if (!PyObject_TypeCheck(other, fastmpi_st->Comm)) {
            return PyErr_Format(PyExc_TypeError,
                                "%s() argument 'comm' must be MPI.Comm, "
                                "not %.100s", type->tp_name,
                                Py_TYPE(other)->tp_name);
        }
        handle = ((FastMPICommObject *)other)->ob_mpi;
    }
    if (handle != MPI_COMM_NULL) {
        int topo = MPI_UNDEFINED, want = wanted_topology(type);
        if (fastmpi_require_mpi() < 0 ||
            fastmpi_check(MPI_Topo_test(handle, &topo)) < 0) {
            return NULL;
        }
        if (topo == MPI_UNDEFINED || (want != MPI_UNDEFINED &&
                                      topo != want)) {
            static const char *const what[] = {"", "Cartesian", "graph",
                                               "distributed graph"};
            int w = want == MPI_CART ? 1 : want == MPI_GRAPH ? 2
                    : want == MPI_DIST_GRAPH ? 3 : 0;
            return PyErr_Format(PyExc_TypeError,
                                "%s(): the communicator has no %s%s "
                                "topology", type->tp_name, what[w],
                                w ? "" : "process");
        }
    }
    return new_comm(type, handle);
}

/* ---- Comm.Get_topology, Compute_dims ------------------------------------ */

static PyObject *
Comm_Get_topology(FastMPICommObject *self, PyObject *unused)
{
    int topo = MPI_UNDEFINED;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Topo_test(self->ob_mpi, &topo)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(topo);
}

static PyObject *
Comm_get_is_topo(FastMPICommObject *self, void *closure)
{
    int topo = MPI_UNDEFINED;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Topo_test(self->ob_mpi, &topo)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(topo != MPI_UNDEFINED);
}

static PyObject *
Compute_dims(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
             PyObject *kwnames)
{
    static const char *const names[] = {"nnodes", "dims", NULL};
    static fastmpi_argspec spec = {"Compute_dims", names, 2};
    PyObject *argv[2];
    int nnodes, ndims = 0, *dims = NULL;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &nnodes) < 0) {
        return NULL;
    }
    if (nnodes < 1) {
        return PyErr_Format(PyExc_ValueError,
                            "Compute_dims() argument 'nnodes' is %d; it "
                            "must be >= 1", nnodes);
    }
    if (PyLong_Check(argv[1]) ||
        (PyIndex_Check(argv[1]) && !PySequence_Check(argv[1]))) {
        if (fastmpi_arg_int(&spec, 1, argv[1], 0, &ndims) < 0) {
            return NULL;
        }
        if (ndims < 0) {
            return PyErr_Format(PyExc_ValueError,
                                "Compute_dims() argument 'dims' is %d; a "
                                "number of dimensions must be >= 0", ndims);
        }
        dims = PyMem_Calloc(ndims ? (size_t)ndims : 1, sizeof(int));
        if (dims == NULL) {
            return PyErr_NoMemory();
        }
    }
    else if (fastmpi_topo_int_seq(argv[1], "Compute_dims", "dims", &dims,
                                  &ndims) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    long long fixed = 1;
    int free_dims = 0;
    if (check_nonnegative(dims, ndims, "Compute_dims", "dims") < 0) {
        goto done;
    }
    for (int i = 0; i < ndims; i++) {
        if (dims[i] == 0) {
            free_dims++;
        }
        else if ((fixed *= dims[i]) > nnodes) {
            break;
        }
    }
    if (free_dims ? nnodes % fixed != 0 : fixed != nnodes) {
        PyErr_Format(PyExc_ValueError,
                     "Compute_dims(): %d nodes do not fit dims whose fixed "
                     "(non-zero) entries multiply to %lld%s", nnodes, fixed,
                     free_dims ? "" : " with no zero entry left to fill");
        goto done;
    }
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Dims_create(nnodes, ndims, dims)) < 0) {
        goto done;
    }
    result = fastmpi_int_list(dims, ndims);
done:
    PyMem_Free(dims);
    return result;
}

/* ---- Intracomm constructors --------------------------------------------- */

/* A grid's dims and periods (Create_cart, Cart_map) into new PyMem
 * arrays, checked: every dimension >= 1, no more cells than the
 * communicator has processes.  0, or -1 with an exception naming
 * fname. */
static int
cart_arrays(PyObject *dimsobj, PyObject *periodsobj, int size,
            const char *fname, int **dims, int *ndims, int **periods)
{
    *periods = NULL;
    if (fastmpi_topo_int_seq(dimsobj, fname, "dims", dims, ndims) < 0) {
        return -1;
    }
    if (fastmpi_topo_bool_seq(periodsobj, *ndims, fname, "periods",
                              periods) < 0) {
        goto error;
    }
    long long cells = 1;
    for (int i = 0; i < *ndims; i++) {
        if ((*dims)[i] < 1) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument 'dims': item %d is %d; every "
                         "dimension must be >= 1", fname, i, (*dims)[i]);
            goto error;
        }
        if (cells <= size) {
            cells *= (*dims)[i];
        }
    }
    if (cells > size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'dims': the grid needs %s%lld processes "
                     "but the communicator has only %d", fname,
                     cells > INT_MAX ? "more than " : "", cells, size);
        goto error;
    }
    return 0;
error:
    PyMem_Free(*dims);
    PyMem_Free(*periods);
    *dims = *periods = NULL;
    return -1;
}

static PyObject *
Intracomm_Create_cart(FastMPICommObject *self, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"dims", "periods", "reorder", NULL};
    static fastmpi_argspec spec = {"Create_cart", names, 1};
    PyObject *argv[3];
    int *dims, *periods, ndims, reorder, rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        bool_arg(argv[2], &reorder) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        cart_arrays(argv[0], argv[1], size, "Create_cart", &dims, &ndims,
                    &periods) < 0) {
        return NULL;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Cart_create", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Cart_create(self->ob_mpi, ndims, dims, periods,
                                        reorder, &newcomm));
    FASTMPI_NOGIL_END
    PyMem_Free(dims);
    PyMem_Free(periods);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_comm(fastmpi_st->Cartcomm, newcomm);
}

/* A rank from MPI_Cart_map / MPI_Graph_map: UNDEFINED unless it names
 * one of the topology's n nodes.  Open MPI 4.1.4 answers the process's
 * own rank even when the topology is smaller (rank 1 of 2 gets 1 for a
 * one-cell grid or a one-node graph, reproduced in plain C); MPICH
 * answers MPI_UNDEFINED, as the standard says. */
static int
outside_as_undefined(int newrank, int n)
{
    return newrank >= 0 && newrank < n ? newrank : MPI_UNDEFINED;
}

/* Cart_map(dims, periods=None): this process's rank in a grid laid over
 * the communicator (MPI_Cart_map), or UNDEFINED outside it.  Local. */
static PyObject *
Intracomm_Cart_map(FastMPICommObject *self, PyObject *const *args,
                   Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"dims", "periods", NULL};
    static fastmpi_argspec spec = {"Cart_map", names, 1};
    PyObject *argv[2];
    int *dims, *periods, ndims, rank, size, newrank = MPI_UNDEFINED;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        cart_arrays(argv[0], argv[1], size, "Cart_map", &dims, &ndims,
                    &periods) < 0) {
        return NULL;
    }
    int ierr = MPI_Cart_map(self->ob_mpi, ndims, dims, periods, &newrank);
    int cells = 1;              /* cart_arrays: at most size */
    for (int i = 0; i < ndims; i++) {
        cells *= dims[i];
    }
    PyMem_Free(dims);
    PyMem_Free(periods);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return PyLong_FromLong(outside_as_undefined(newrank, cells));
}

/* A graph's index and edges (Create_graph, Graph_map) into new PyMem
 * arrays, checked: index holds running totals of neighbour counts, one
 * per node (MPI's form), or the same with a leading 0 (the usual
 * adjacency-array form, nnodes + 1 items, as mpi4py takes it: a list that
 * starts at 0 and ends at len(edges) is read so); no more nodes than the
 * communicator has processes (fewer is fine: the extra ranks get
 * COMM_NULL); every edge a node of the graph.  0, or -1 with an
 * exception naming fname. */
static int
graph_arrays(PyObject *indexobj, PyObject *edgesobj, int size,
             const char *fname, int **index, int *nnodes, int **edges,
             int *nedges)
{
    *index = *edges = NULL;
    if (fastmpi_topo_int_seq(indexobj, fname, "index", index, nnodes) < 0 ||
        fastmpi_topo_int_seq(edgesobj, fname, "edges", edges, nedges) < 0) {
        goto error;
    }
    int n = *nnodes, *ix = *index;
    if (n > 0 && ix[0] == 0 && ix[n - 1] == *nedges) {
        memmove(ix, ix + 1, sizeof(int) * (size_t)(n - 1));
        *nnodes = --n;
    }
    if (n > size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'index': the graph has %d nodes but the "
                     "communicator only %d processes (a graph may have "
                     "fewer nodes, not more)", fname, n, size);
        goto error;
    }
    for (int i = 0; i < n; i++) {
        int prev = i ? ix[i - 1] : 0;
        if (ix[i] < prev) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument 'index': item %d is %d, less than "
                         "the one before (%d); index holds running totals "
                         "of neighbour counts", fname, i, ix[i], prev);
            goto error;
        }
    }
    if ((n ? ix[n - 1] : 0) != *nedges) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'index' ends at %d but 'edges' has %d items; "
                     "they must agree", fname, n ? ix[n - 1] : 0, *nedges);
        goto error;
    }
    for (int i = 0; i < *nedges; i++) {
        if ((*edges)[i] < 0 || (*edges)[i] >= n) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument 'edges': item %d is %d; the graph's "
                         "nodes are 0 to %d", fname, i, (*edges)[i], n - 1);
            goto error;
        }
    }
    return 0;
error:
    PyMem_Free(*index);
    PyMem_Free(*edges);
    *index = *edges = NULL;
    return -1;
}

static PyObject *
Intracomm_Create_graph(FastMPICommObject *self, PyObject *const *args,
                       Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"index", "edges", "reorder", NULL};
    static fastmpi_argspec spec = {"Create_graph", names, 2};
    PyObject *argv[3];
    int *index, *edges, nnodes, nedges, reorder, rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        bool_arg(argv[2], &reorder) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        graph_arrays(argv[0], argv[1], size, "Create_graph", &index,
                     &nnodes, &edges, &nedges) < 0) {
        return NULL;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Graph_create", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Graph_create(self->ob_mpi, nnodes, index, edges,
                                         reorder, &newcomm));
    FASTMPI_NOGIL_END
    PyMem_Free(index);
    PyMem_Free(edges);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_comm(fastmpi_st->Graphcomm, newcomm);
}

/* Graph_map(index, edges): this process's rank in a graph laid over the
 * communicator (MPI_Graph_map), or UNDEFINED outside it.  Local. */
static PyObject *
Intracomm_Graph_map(FastMPICommObject *self, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"index", "edges", NULL};
    static fastmpi_argspec spec = {"Graph_map", names, 2};
    PyObject *argv[2];
    int *index, *edges, nnodes, nedges, rank, size, newrank = MPI_UNDEFINED;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        graph_arrays(argv[0], argv[1], size, "Graph_map", &index, &nnodes,
                     &edges, &nedges) < 0) {
        return NULL;
    }
    int ierr = MPI_Graph_map(self->ob_mpi, nnodes, index, edges, &newrank);
    PyMem_Free(index);
    PyMem_Free(edges);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return PyLong_FromLong(outside_as_undefined(newrank, nnodes));
}

/* Edge weights: None or MPI.UNWEIGHTED -> MPI_UNWEIGHTED, MPI.WEIGHTS_EMPTY
 * or an empty sequence with no edges -> MPI_WEIGHTS_EMPTY, else one
 * non-negative int per edge in a new PyMem array (*owned). */
static int
weights_arg(PyObject *obj, int nedges, const char *fname,
            const char *argname, int **weights, int **owned)
{
    *owned = NULL;
    if (obj == NULL || obj == Py_None) {
        *weights = MPI_UNWEIGHTED;
        return 0;
    }
    if (PyLong_Check(obj)) {
        long v = PyLong_AsLong(obj);
        if (v == (long)(intptr_t)MPI_UNWEIGHTED) {
            *weights = MPI_UNWEIGHTED;
            return 0;
        }
        if (v == (long)(intptr_t)MPI_WEIGHTS_EMPTY) {
            if (nedges != 0) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': WEIGHTS_EMPTY with %d "
                             "edges", fname, argname, nedges);
                return -1;
            }
            *weights = MPI_WEIGHTS_EMPTY;
            return 0;
        }
        PyErr_Clear();
    }
    int n;
    if (fastmpi_topo_int_seq(obj, fname, argname, owned, &n) < 0) {
        return -1;
    }
    if (n != nedges) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s' has %d items; it needs one per "
                     "edge (%d)", fname, argname, n, nedges);
        return -1;
    }
    if (check_nonnegative(*owned, n, fname, argname) < 0) {
        return -1;
    }
    *weights = n ? *owned : MPI_WEIGHTS_EMPTY;
    return 0;
}

static int
is_none(PyObject *obj)
{
    return obj == NULL || obj == Py_None;
}

/* Ranks of Create_dist_graph_adjacent: a sequence, or None for none. */
static int
ranks_or_none(PyObject *obj, const char *fname, const char *argname,
              int **out, int *n)
{
    if (obj == Py_None) {
        *n = 0;
        if ((*out = PyMem_Malloc(sizeof(int))) == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        return 0;
    }
    return fastmpi_topo_int_seq(obj, fname, argname, out, n);
}

static PyObject *
finish_distgraph(int ierr, MPI_Comm newcomm)
{
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_comm(fastmpi_st->Distgraphcomm, newcomm);
}

static PyObject *
Intracomm_Create_dist_graph_adjacent(FastMPICommObject *self,
                                     PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"sources", "destinations",
                                        "sourceweights", "destweights",
                                        "info", "reorder", NULL};
    static fastmpi_argspec spec = {"Create_dist_graph_adjacent", names, 2};
    const char *fname = spec.fname;
    PyObject *argv[6], *result = NULL;
    int *src = NULL, *dst = NULL, *sw = NULL, *dw = NULL, *swo = NULL;
    int *dwo = NULL, nsrc = 0, ndst = 0, reorder, rank, size;
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (bool_arg(argv[5], &reorder) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        ranks_or_none(argv[0], fname, "sources", &src, &nsrc) < 0 ||
        ranks_or_none(argv[1], fname, "destinations", &dst, &ndst) < 0 ||
        check_ranks(src, nsrc, size, fname, "sources") < 0 ||
        check_ranks(dst, ndst, size, fname, "destinations") < 0 ||
        weights_arg(argv[2], nsrc, fname, "sourceweights", &sw, &swo) < 0 ||
        weights_arg(argv[3], ndst, fname, "destweights", &dw, &dwo) < 0) {
        goto done;
    }
    /* weights left out (None) on a side without edges follow the other
     * side: Create_dist_graph_adjacent(sources, None, sourceweights) */
    if (sw == MPI_UNWEIGHTED && dw != MPI_UNWEIGHTED && nsrc == 0 &&
        is_none(argv[2])) {
        sw = MPI_WEIGHTS_EMPTY;
    }
    if (dw == MPI_UNWEIGHTED && sw != MPI_UNWEIGHTED && ndst == 0 &&
        is_none(argv[3])) {
        dw = MPI_WEIGHTS_EMPTY;
    }
    if ((sw == MPI_UNWEIGHTED) != (dw == MPI_UNWEIGHTED)) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): give both 'sourceweights' and 'destweights', or "
                     "neither (None may stand for the weights of a side "
                     "without edges)", fname);
        goto done;
    }
    if (info_arg(argv[4], fname, &info) < 0) {
        goto done;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Dist_graph_create_adjacent", self->ob_mpi,
                 MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Dist_graph_create_adjacent(
                     self->ob_mpi, nsrc, src, sw, ndst, dst, dw, info,
                     reorder, &newcomm));
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[4], info);
    result = finish_distgraph(ierr, newcomm);
done:
    PyMem_Free(src);
    PyMem_Free(dst);
    PyMem_Free(swo);
    PyMem_Free(dwo);
    return result;
}

static PyObject *
Intracomm_Create_dist_graph(FastMPICommObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"sources", "degrees", "destinations",
                                        "weights", "info", "reorder", NULL};
    static fastmpi_argspec spec = {"Create_dist_graph", names, 3};
    const char *fname = spec.fname;
    PyObject *argv[6], *result = NULL;
    int *src = NULL, *deg = NULL, *dst = NULL, *w = NULL, *wo = NULL;
    int nsrc = 0, ndeg = 0, ndst = 0, reorder, rank, size;
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (bool_arg(argv[5], &reorder) < 0 ||
        fastmpi_comm_ranks(self, &rank, &size) < 0 ||
        fastmpi_topo_int_seq(argv[0], fname, "sources", &src, &nsrc) < 0 ||
        fastmpi_topo_int_seq(argv[1], fname, "degrees", &deg, &ndeg) < 0 ||
        fastmpi_topo_int_seq(argv[2], fname, "destinations", &dst,
                             &ndst) < 0 ||
        check_ranks(src, nsrc, size, fname, "sources") < 0 ||
        check_nonnegative(deg, ndeg, fname, "degrees") < 0 ||
        check_ranks(dst, ndst, size, fname, "destinations") < 0) {
        goto done;
    }
    if (nsrc != ndeg) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'sources' has %d items and 'degrees' %d; they "
                     "must have one per source", fname, nsrc, ndeg);
        goto done;
    }
    long long total = 0;
    for (int i = 0; i < ndeg; i++) {
        total += deg[i];
    }
    if (total != ndst) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): 'degrees' add up to %lld but 'destinations' has "
                     "%d items; they must agree", fname, total, ndst);
        goto done;
    }
    if (weights_arg(argv[3], ndst, fname, "weights", &w, &wo) < 0 ||
        info_arg(argv[4], fname, &info) < 0) {
        goto done;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Dist_graph_create", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Dist_graph_create(self->ob_mpi, nsrc, src, deg,
                                              dst, w, info, reorder,
                                              &newcomm));
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[4], info);
    result = finish_distgraph(ierr, newcomm);
done:
    PyMem_Free(src);
    PyMem_Free(deg);
    PyMem_Free(dst);
    PyMem_Free(wo);
    return result;
}

/* ---- Topocomm: degrees and neighbour lists ------------------------------ */

int
fastmpi_topo_neighbors(FastMPICommObject *self, const char *fname,
                       int *indeg, int *outdeg, int **in, int **out)
{
    int topo = MPI_UNDEFINED;
    MPI_Comm comm = self->ob_mpi;
    if (in != NULL) {
        *in = *out = NULL;
    }
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Topo_test(comm, &topo)) < 0) {
        return -1;
    }
    int rank = 0, n = 0, weighted = 0;
    switch (topo) {
    case MPI_CART:
        if (fastmpi_check(MPI_Cartdim_get(comm, &n)) < 0) {
            return -1;
        }
        *indeg = *outdeg = 2 * n;
        break;
    case MPI_GRAPH:
        if (fastmpi_check(MPI_Comm_rank(comm, &rank)) < 0 ||
            fastmpi_check(MPI_Graph_neighbors_count(comm, rank, &n)) < 0) {
            return -1;
        }
        *indeg = *outdeg = n;
        break;
    case MPI_DIST_GRAPH:
        if (fastmpi_check(MPI_Dist_graph_neighbors_count(
                comm, indeg, outdeg, &weighted)) < 0) {
            return -1;
        }
        break;
    default:
        PyErr_Format(PyExc_TypeError,
                     "%s(): the communicator has no process topology",
                     fname);
        return -1;
    }
    if (in == NULL) {
        return 0;
    }
    *in = PyMem_Malloc(sizeof(int) * (size_t)(*indeg + *outdeg + 1));
    if (*in == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *out = *in + *indeg;
    int ierr = MPI_SUCCESS;
    if (topo == MPI_CART) {
        for (int d = 0; d < n && ierr == MPI_SUCCESS; d++) {
            ierr = MPI_Cart_shift(comm, d, 1, &(*in)[2 * d],
                                  &(*in)[2 * d + 1]);
            (*out)[2 * d] = (*in)[2 * d];
            (*out)[2 * d + 1] = (*in)[2 * d + 1];
        }
    }
    else if (topo == MPI_GRAPH) {
        ierr = MPI_Graph_neighbors(comm, rank, n, *in);
        memcpy(*out, *in, sizeof(int) * (size_t)n);
    }
    else {
        int *unweighted = fastmpi_st->unweighted;
        ierr = MPI_Dist_graph_neighbors(comm, *indeg, *in, unweighted,
                                        *outdeg, *out, unweighted);
    }
    if (fastmpi_check(ierr) < 0) {
        PyMem_Free(*in);
        *in = *out = NULL;
        return -1;
    }
    return 0;
}

static PyObject *
Topocomm_get_degrees(FastMPICommObject *self, void *closure)
{
    int indeg, outdeg;
    if (fastmpi_topo_neighbors(self, "degrees", &indeg, &outdeg, NULL,
                               NULL) < 0) {
        return NULL;
    }
    return Py_BuildValue("(ii)", indeg, outdeg);
}

static PyObject *
Topocomm_get_indegree(FastMPICommObject *self, void *closure)
{
    int indeg, outdeg;
    if (fastmpi_topo_neighbors(self, "indegree", &indeg, &outdeg, NULL,
                               NULL) < 0) {
        return NULL;
    }
    return PyLong_FromLong(indeg);
}

static PyObject *
Topocomm_get_outdegree(FastMPICommObject *self, void *closure)
{
    int indeg, outdeg;
    if (fastmpi_topo_neighbors(self, "outdegree", &indeg, &outdeg, NULL,
                               NULL) < 0) {
        return NULL;
    }
    return PyLong_FromLong(outdeg);
}

/* which: 0 inedges, 1 outedges, 2 (inedges, outedges). */
static PyObject *
edges_common(FastMPICommObject *self, int which)
{
    static const char *const fnames[] = {"inedges", "outedges",
                                         "inoutedges"};
    int indeg, outdeg, *in, *out;
    if (fastmpi_topo_neighbors(self, fnames[which], &indeg, &outdeg, &in,
                               &out) < 0) {
        return NULL;
    }
    PyObject *result = NULL, *a = NULL, *b = NULL;
    if (which != 1) {
        a = fastmpi_int_list(in, indeg);
    }
    if (which != 0) {
        b = fastmpi_int_list(out, outdeg);
    }
    if (which == 0) {
        result = a;
    }
    else if (which == 1) {
        result = b;
    }
    else if (a != NULL && b != NULL) {
        result = PyTuple_Pack(2, a, b);
    }
    if (which == 2) {
        Py_XDECREF(a);
        Py_XDECREF(b);
    }
    PyMem_Free(in);
    return result;
}

static PyObject *
Topocomm_get_inedges(FastMPICommObject *self, void *closure)
{
    return edges_common(self, 0);
}

static PyObject *
Topocomm_get_outedges(FastMPICommObject *self, void *closure)
{
    return edges_common(self, 1);
}

static PyObject *
Topocomm_get_inoutedges(FastMPICommObject *self, void *closure)
{
    return edges_common(self, 2);
}

/* ---- tables ------------------------------------------------------------- */

#define FASTCALL_KW METH_FASTCALL | METH_KEYWORDS

PyMethodDef fastmpi_topology_intracomm_methods[] = {
    {"Create_cart", FASTMPI_FASTCALL(Intracomm_Create_cart), FASTCALL_KW,
     "Create_cart($self, dims, periods=None, reorder=False)\n--\n\n"
     "Create_cart(dims, periods=None, reorder=False) -> Cartcomm "
     "(collective; COMM_NULL where a rank is left out).  periods: one "
     "flag per dimension, or True/False for all."},
    {"Create_graph", FASTMPI_FASTCALL(Intracomm_Create_graph), FASTCALL_KW,
     "Create_graph($self, index, edges, reorder=False)\n--\n\n"
     "Create_graph(index, edges, reorder=False) -> Graphcomm (collective; "
     "COMM_NULL on the ranks past the graph's nodes).  index: running "
     "totals of neighbour counts, with or without a leading 0."},
    {"Cart_map", FASTMPI_FASTCALL(Intracomm_Cart_map), FASTCALL_KW,
     "Cart_map($self, dims, periods=None)\n--\n\n"
     "Cart_map(dims, periods=None) -> this process's rank in such a grid, "
     "or UNDEFINED (local)."},
    {"Graph_map", FASTMPI_FASTCALL(Intracomm_Graph_map), FASTCALL_KW,
     "Graph_map($self, index, edges)\n--\n\n"
     "Graph_map(index, edges) -> this process's rank in such a graph, or "
     "UNDEFINED (local)."},
    {"Create_dist_graph", FASTMPI_FASTCALL(Intracomm_Create_dist_graph),
     FASTCALL_KW,
     "Create_dist_graph($self, sources, degrees, destinations, weights=None, "
     "info=INFO_NULL, reorder=False)\n--\n\n"
     "Create_dist_graph(sources, degrees, destinations, weights=None, "
     "info=INFO_NULL, reorder=False) -> Distgraphcomm (collective)."},
    {"Create_dist_graph_adjacent",
     FASTMPI_FASTCALL(Intracomm_Create_dist_graph_adjacent), FASTCALL_KW,
     "Create_dist_graph_adjacent($self, sources, destinations, "
     "sourceweights=None, destweights=None, info=INFO_NULL, "
     "reorder=False)\n--\n\n"
     "Create_dist_graph_adjacent(sources, destinations, sourceweights=None, "
     "destweights=None, info=INFO_NULL, reorder=False) -> Distgraphcomm "
     "(collective).  sources or destinations None: no such edges; weights "
     "None or UNWEIGHTED: unweighted (None on a side without edges takes "
     "the other side's kind)."},
    {NULL},
};

PyMethodDef fastmpi_topology_comm_methods[] = {
    {"Get_topology", (PyCFunction)Comm_Get_topology, METH_NOARGS,
     "Get_topology($self)\n--\n\n"
     "Get_topology() -> CART, GRAPH, DIST_GRAPH or UNDEFINED."},
    {NULL},
};

PyGetSetDef fastmpi_topology_comm_getset[] = {
    {"topology", (getter)Comm_Get_topology, NULL, "kind of topology"},
    {"is_topo", (getter)Comm_get_is_topo, NULL,
     "whether the communicator has a process topology"},
    {NULL},
};

static PyGetSetDef Topocomm_getset[] = {
    {"degrees", (getter)Topocomm_get_degrees, NULL,
     "(indegree, outdegree)"},
    {"indegree", (getter)Topocomm_get_indegree, NULL,
     "number of neighbours received from"},
    {"outdegree", (getter)Topocomm_get_outdegree, NULL,
     "number of neighbours sent to"},
    {"inoutedges", (getter)Topocomm_get_inoutedges, NULL,
     "(inedges, outedges)"},
    {"inedges", (getter)Topocomm_get_inedges, NULL,
     "ranks received from, in MPI's neighbour order"},
    {"outedges", (getter)Topocomm_get_outedges, NULL,
     "ranks sent to, in MPI's neighbour order"},
    {NULL},
};






static PyMethodDef module_functions[] = {
    {"Compute_dims", FASTMPI_FASTCALL(Compute_dims), FASTCALL_KW,
     "Compute_dims($module, nnodes, dims)\n--\n\n"
     "Compute_dims(nnodes, dims) -> a balanced grid: dims is a number of "
     "dimensions or a sequence whose zeros are filled in."},
    {NULL},
};

/* ---- init --------------------------------------------------------------- */

static PyType_Slot Topocomm_slots[] = {
    {Py_tp_doc, "Topocomm(comm=None)\n--\n\n"
                "Topocomm(comm=None): a communicator with a process "
                "topology."},
    {Py_tp_new, Topocomm_tp_new},
    {Py_tp_getset, Topocomm_getset},
    {0, NULL},
};

static PyType_Slot Cartcomm_slots[] = {
    {Py_tp_doc, "Cartcomm(comm=None)\n--\n\n"
                "Cartcomm(comm=None): a Cartesian topology."},
    {0, NULL},
};

static PyType_Slot Graphcomm_slots[] = {
    {Py_tp_doc, "Graphcomm(comm=None)\n--\n\n"
                "Graphcomm(comm=None): a general graph topology."},
    {0, NULL},
};

static PyType_Slot Distgraphcomm_slots[] = {
    {Py_tp_doc, "Distgraphcomm(comm=None)\n--\n\n"
                "Distgraphcomm(comm=None): a distributed graph topology."},
    {0, NULL},
};

#define TOPO_SPEC(NAME)                                                    \
    static PyType_Spec NAME##_spec = {                                     \
        .name = "fastmpi.MPI." #NAME,                                      \
        .basicsize = sizeof(FastMPICommObject),                            \
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,                 \
        .slots = NAME##_slots,                                             \
    };

TOPO_SPEC(Topocomm)
TOPO_SPEC(Cartcomm)
TOPO_SPEC(Graphcomm)
TOPO_SPEC(Distgraphcomm)

static PyTypeObject *
make_type(PyObject *module, PyType_Spec *spec, PyTypeObject *base,
          const char *name, const fastmpi_type_parts *parts)
{
    PyObject *type = (PyObject *)fastmpi_type_new(module, spec,
                                                  (PyObject *)base, parts);
    if (type == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, name, type) < 0) {
        Py_DECREF(type);
        return NULL;
    }
    return (PyTypeObject *)type;    /* new reference: the state's */
}

typedef struct {
    const char *name;
    long value;
} topo_constant;

int
fastmpi_topology_init(PyObject *module, const fastmpi_type_parts *parts)
{
    fastmpi_st->unweighted = MPI_UNWEIGHTED;
    const topo_constant constants[] = {
        {"CART", MPI_CART},
        {"GRAPH", MPI_GRAPH},
        {"DIST_GRAPH", MPI_DIST_GRAPH},
        /* as mpi4py: the library's marker pointers as ints */
        {"UNWEIGHTED", (long)(intptr_t)MPI_UNWEIGHTED},
        {"WEIGHTS_EMPTY", (long)(intptr_t)MPI_WEIGHTS_EMPTY},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        if (PyModule_AddIntConstant(module, constants[i].name,
                                    constants[i].value) < 0) {
            return -1;
        }
    }
    if ((fastmpi_st->Topocomm = make_type(module, &Topocomm_spec,
                                         fastmpi_st->Intracomm,
                                         "Topocomm", &parts[0])) == NULL ||
        (fastmpi_st->Cartcomm = make_type(module, &Cartcomm_spec,
                                         fastmpi_st->Topocomm,
                                         "Cartcomm", &parts[1])) == NULL ||
        (fastmpi_st->Graphcomm = make_type(module, &Graphcomm_spec,
                                          fastmpi_st->Topocomm,
                                          "Graphcomm", &parts[2])) == NULL ||
        (fastmpi_st->Distgraphcomm = make_type(
             module, &Distgraphcomm_spec, fastmpi_st->Topocomm,
             "Distgraphcomm", &parts[3])) == NULL ||
        PyModule_AddFunctions(module, module_functions) < 0) {
        return -1;
    }
    return 0;
}
