/* graphcomm.c: MPI.Graphcomm's and MPI.Distgraphcomm's queries: nodes,
 * edges, neighbours and weights (the types and their constructors are in
 * topology.c). */
#include "../0_core/fastmpi.h"
#include "../4_comm/comm.h"
#include "topology.h"

/* ---- Graphcomm ---------------------------------------------------------- */

static PyObject *
Graphcomm_Get_dims(FastMPICommObject *self, PyObject *unused)
{
    int nnodes, nedges;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Graphdims_get(self->ob_mpi, &nnodes,
                                        &nedges)) < 0) {
        return NULL;
    }
    return Py_BuildValue("(ii)", nnodes, nedges);
}

/* which: 0 nnodes, 1 nedges. */
static PyObject *
graph_dim(FastMPICommObject *self, int which)
{
    PyObject *dims = Graphcomm_Get_dims(self, NULL);
    if (dims == NULL) {
        return NULL;
    }
    PyObject *r = Py_NewRef(PyTuple_GET_ITEM(dims, which));
    Py_DECREF(dims);
    return r;
}

static PyObject *
Graphcomm_get_nnodes(FastMPICommObject *self, void *closure)
{
    return graph_dim(self, 0);
}

static PyObject *
Graphcomm_get_nedges(FastMPICommObject *self, void *closure)
{
    return graph_dim(self, 1);
}

/* which: 0 index, 1 edges, 2 both. */
static PyObject *
graph_topo(FastMPICommObject *self, int which)
{
    int nnodes, nedges;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Graphdims_get(self->ob_mpi, &nnodes,
                                        &nedges)) < 0) {
        return NULL;
    }
    int *all = PyMem_Malloc(sizeof(int) * (size_t)(nnodes + nedges + 1));
    if (all == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    if (fastmpi_check(MPI_Graph_get(self->ob_mpi, nnodes, nedges, all,
                                    all + nnodes)) == 0) {
        if (which == 0) {
            result = fastmpi_int_list(all, nnodes);
        }
        else if (which == 1) {
            result = fastmpi_int_list(all + nnodes, nedges);
        }
        else {
            result = Py_BuildValue("(NN)",
                                   fastmpi_int_list(all, nnodes),
                                   fastmpi_int_list(all + nnodes,
                                                         nedges));
        }
    }
    PyMem_Free(all);
    return result;
}

static PyObject *
Graphcomm_Get_topo(FastMPICommObject *self, PyObject *unused)
{
    return graph_topo(self, 2);
}

static PyObject *
Graphcomm_get_topo(FastMPICommObject *self, void *closure)
{
    return graph_topo(self, 2);
}

static PyObject *
Graphcomm_get_index(FastMPICommObject *self, void *closure)
{
    return graph_topo(self, 0);
}

static PyObject *
Graphcomm_get_edges(FastMPICommObject *self, void *closure)
{
    return graph_topo(self, 1);
}

/* A rank argument of the graph (or NULL: this process's rank). */
static int
graph_rank(FastMPICommObject *self, const char *fname, PyObject *arg,
           int *rank)
{
    int me, size;
    if (fastmpi_comm_ranks(self, &me, &size) < 0) {
        return -1;
    }
    if (arg == NULL) {
        *rank = me;
        return 0;
    }
    if (fastmpi_topo_int_arg(fname, "rank", arg, rank) < 0) {
        return -1;
    }
    if (*rank < 0 || *rank >= size) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'rank' is %d; the communicator's ranks "
                     "are 0 to %d", fname, *rank, size - 1);
        return -1;
    }
    return 0;
}

static PyObject *
neighbors_count(FastMPICommObject *self, const char *fname, PyObject *arg)
{
    int rank, n;
    if (graph_rank(self, fname, arg, &rank) < 0 ||
        fastmpi_check(MPI_Graph_neighbors_count(self->ob_mpi, rank,
                                                &n)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(n);
}

static PyObject *
neighbors(FastMPICommObject *self, const char *fname, PyObject *arg)
{
    int rank, n;
    if (graph_rank(self, fname, arg, &rank) < 0 ||
        fastmpi_check(MPI_Graph_neighbors_count(self->ob_mpi, rank,
                                                &n)) < 0) {
        return NULL;
    }
    int *list = PyMem_Malloc(sizeof(int) * (size_t)(n + 1));
    if (list == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    if (fastmpi_check(MPI_Graph_neighbors(self->ob_mpi, rank, n, list)) ==
        0) {
        result = fastmpi_int_list(list, n);
    }
    PyMem_Free(list);
    return result;
}

static PyObject *
Graphcomm_Get_neighbors_count(FastMPICommObject *self, PyObject *arg)
{
    return neighbors_count(self, "Get_neighbors_count", arg);
}

static PyObject *
Graphcomm_Get_neighbors(FastMPICommObject *self, PyObject *arg)
{
    return neighbors(self, "Get_neighbors", arg);
}

static PyObject *
Graphcomm_get_nneighbors(FastMPICommObject *self, void *closure)
{
    return neighbors_count(self, "nneighbors", NULL);
}

static PyObject *
Graphcomm_get_neighbors(FastMPICommObject *self, void *closure)
{
    return neighbors(self, "neighbors", NULL);
}

/* ---- Distgraphcomm ------------------------------------------------------ */

static PyObject *
Distgraphcomm_Get_dist_neighbors_count(FastMPICommObject *self,
                                       PyObject *unused)
{
    int indeg, outdeg, weighted;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Dist_graph_neighbors_count(
            self->ob_mpi, &indeg, &outdeg, &weighted)) < 0) {
        return NULL;
    }
    return Py_BuildValue("(iiN)", indeg, outdeg, PyBool_FromLong(weighted));
}

static PyObject *
Distgraphcomm_Get_dist_neighbors(FastMPICommObject *self, PyObject *unused)
{
    int indeg, outdeg, weighted;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Dist_graph_neighbors_count(
            self->ob_mpi, &indeg, &outdeg, &weighted)) < 0) {
        return NULL;
    }
    int *all = PyMem_Malloc(sizeof(int) * (size_t)(2 * (indeg + outdeg) +
                                                   1));
    if (all == NULL) {
        return PyErr_NoMemory();
    }
    int *src = all, *dst = all + indeg;
    int *sw = dst + outdeg, *dw = sw + indeg;
    PyObject *result = NULL;
    int *none = fastmpi_topo_unweighted();
    if (fastmpi_check(MPI_Dist_graph_neighbors(
            self->ob_mpi, indeg, src, weighted ? sw : none, outdeg, dst,
            weighted ? dw : none)) == 0) {
        if (weighted) {
            result = Py_BuildValue("(NN(NN))",
                                   fastmpi_int_list(src, indeg),
                                   fastmpi_int_list(dst, outdeg),
                                   fastmpi_int_list(sw, indeg),
                                   fastmpi_int_list(dw, outdeg));
        }
        else {
            result = Py_BuildValue("(NNO)",
                                   fastmpi_int_list(src, indeg),
                                   fastmpi_int_list(dst, outdeg),
                                   Py_None);
        }
    }
    PyMem_Free(all);
    return result;
}

/* ---- tables ------------------------------------------------------------- */

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Graphcomm_Get_neighbors_count, "Get_neighbors_count", "rank")
FASTMPI_ONE_ARG(Graphcomm_Get_neighbors, "Get_neighbors", "rank")

PyMethodDef fastmpi_graphcomm_methods[] = {
    {"Get_dims", (PyCFunction)Graphcomm_Get_dims, METH_NOARGS,
     "Get_dims($self)\n--\n\n"
     "Get_dims() -> (nnodes, nedges)."},
    {"Get_topo", (PyCFunction)Graphcomm_Get_topo, METH_NOARGS,
     "Get_topo($self)\n--\n\n"
     "Get_topo() -> (index, edges)."},
    {"Get_neighbors_count", FASTMPI_FASTCALL(Graphcomm_Get_neighbors_count_kw),
     METH_FASTCALL | METH_KEYWORDS, "Get_neighbors_count($self, rank)\n--\n\n"
             "Get_neighbors_count(rank) -> int."},
    {"Get_neighbors", FASTMPI_FASTCALL(Graphcomm_Get_neighbors_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_neighbors($self, rank)\n--\n\n"
     "Get_neighbors(rank) -> list of ranks."},
    {NULL},
};

PyGetSetDef fastmpi_graphcomm_getset[] = {
    {"dims", (getter)Graphcomm_Get_dims, NULL, "(nnodes, nedges)"},
    {"nnodes", (getter)Graphcomm_get_nnodes, NULL, "number of nodes"},
    {"nedges", (getter)Graphcomm_get_nedges, NULL, "number of edges"},
    {"topo", (getter)Graphcomm_get_topo, NULL, "(index, edges)"},
    {"index", (getter)Graphcomm_get_index, NULL, "index"},
    {"edges", (getter)Graphcomm_get_edges, NULL, "edges"},
    {"nneighbors", (getter)Graphcomm_get_nneighbors, NULL,
     "number of this process's neighbours"},
    {"neighbors", (getter)Graphcomm_get_neighbors, NULL,
     "this process's neighbours"},
    {NULL},
};

PyMethodDef fastmpi_distgraphcomm_methods[] = {
    {"Get_dist_neighbors_count",
     (PyCFunction)Distgraphcomm_Get_dist_neighbors_count, METH_NOARGS,
     "Get_dist_neighbors_count($self)\n--\n\n"
     "Get_dist_neighbors_count() -> (indegree, outdegree, weighted)."},
    {"Get_dist_neighbors", (PyCFunction)Distgraphcomm_Get_dist_neighbors,
     METH_NOARGS,
     "Get_dist_neighbors($self)\n--\n\n"
     "Get_dist_neighbors() -> (sources, destinations, (sourceweights, "
     "destweights) or None)."},
    {NULL},
};
