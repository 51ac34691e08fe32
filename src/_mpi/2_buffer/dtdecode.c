/* dtdecode.c: what a datatype was made of: Get_envelope, Get_contents,
 * decode(), and the combiner, is_named and is_predefined attributes.
 *
 * Get_contents hands back new MPI handles for the derived datatypes it
 * names (never for predefined ones).  Those objects own their handle
 * (FASTMPI_DT_OWNED): it is freed when the object goes away, or by Free()
 * before that, so decoding in a loop leaks nothing; predefined ones are
 * flagged predefined and never freed.
 */
#include "../0_core/fastmpi.h"
#include "datatype.h"

typedef struct {
    int ni, na, nd, combiner;
    int *ints;                  /* one PyMem block for all three arrays */
    MPI_Aint *addrs;
    MPI_Datatype *types;
} contents;

static int
get_handle(FastMPIDatatypeObject *self, const char *fname, MPI_Datatype *dt)
{
    return fastmpi_datatype_handle((PyObject *)self, fname, dt);
}

static int
envelope(FastMPIDatatypeObject *self, const char *fname, contents *c)
{
    MPI_Datatype dt;
    if (get_handle(self, fname, &dt) < 0) {
        return -1;
    }
    return fastmpi_check(MPI_Type_get_envelope(dt, &c->ni, &c->na, &c->nd,
                                               &c->combiner));
}

/* Fill c (envelope and arrays) for a derived type; 0 or -1.  The caller
 * frees c->ints, and the derived handles in c->types unless it hands them
 * to objects (contents_types). */
static int
get_contents(FastMPIDatatypeObject *self, const char *fname, contents *c)
{
    c->ints = NULL;
    if (envelope(self, fname, c) < 0) {
        return -1;
    }
    if (c->combiner == MPI_COMBINER_NAMED) {
        fastmpi_error_raise_detail(MPI_ERR_TYPE,
                                   "%s(): a predefined datatype has no "
                                   "contents", fname);
        return -1;
    }
    size_t bytes = (size_t)c->ni * sizeof(int) +
                   (size_t)c->na * sizeof(MPI_Aint) +
                   (size_t)c->nd * sizeof(MPI_Datatype) + 1;
    /* one block: addresses first (the widest alignment), then datatypes,
     * then ints; contents_free frees it through c->addrs */
    char *mem = PyMem_Malloc(bytes + sizeof(MPI_Aint));
    if (mem == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->addrs = (MPI_Aint *)mem;
    c->types = (MPI_Datatype *)(mem + (size_t)c->na * sizeof(MPI_Aint));
    c->ints = (int *)((char *)c->types +
                      (size_t)c->nd * sizeof(MPI_Datatype));
    if (fastmpi_check(MPI_Type_get_contents(self->ob_mpi, c->ni, c->na,
                                            c->nd, c->ints, c->addrs,
                                            c->types)) < 0) {
        PyMem_Free(mem);
        c->ints = NULL;
        return -1;
    }
    return 0;
}

static void
contents_free(contents *c)
{
    if (c->ints != NULL) {
        PyMem_Free(c->addrs);   /* the start of the block */
        c->ints = NULL;
    }
}

/* Free the derived handles of c->types[from..nd). */
static void
free_types(contents *c, int from)
{
    for (int i = from; i < c->nd; i++) {
        if (fastmpi_datatype_is_predefined(c->types[i]) == 0) {
            MPI_Type_free(&c->types[i]);
        }
    }
    PyErr_Clear();
}

/* New reference: a list of Datatype objects owning c->types (all of them
 * handed over, even on failure). */
static PyObject *
types_list(contents *c)
{
    PyObject *list = PyList_New(c->nd);
    if (list == NULL) {
        free_types(c, 0);
        return NULL;
    }
    for (int i = 0; i < c->nd; i++) {
        PyObject *t = fastmpi_datatype_wrap(c->types[i], FASTMPI_DT_OWNED);
        if (t == NULL) {
            free_types(c, i);
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, t);
    }
    return list;
}

static PyObject *
aint_list(const MPI_Aint *v, int n)
{
    PyObject *list = PyList_New(n);
    for (int i = 0; list != NULL && i < n; i++) {
        PyObject *x = PyLong_FromSsize_t((Py_ssize_t)v[i]);
        if (x == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, x);
    }
    return list;
}

static PyObject *
Datatype_Get_envelope(FastMPIDatatypeObject *self, PyObject *unused)
{
    contents c;
    if (envelope(self, "Get_envelope", &c) < 0) {
        return NULL;
    }
    return Py_BuildValue("(iiii)", c.ni, c.na, c.nd, c.combiner);
}

static PyObject *
Datatype_Get_contents(FastMPIDatatypeObject *self, PyObject *unused)
{
    contents c;
    if (get_contents(self, "Get_contents", &c) < 0) {
        return NULL;
    }
    PyObject *types = types_list(&c);
    PyObject *ints = fastmpi_int_list(c.ints, c.ni);
    PyObject *addrs = aint_list(c.addrs, c.na);
    contents_free(&c);
    PyObject *result = NULL;
    if (types != NULL && ints != NULL && addrs != NULL) {
        result = PyTuple_Pack(3, ints, addrs, types);
    }
    Py_XDECREF(types);
    Py_XDECREF(ints);
    Py_XDECREF(addrs);
    return result;
}

static const char *
combiner_name(int combiner)
{
    switch (combiner) {
    case MPI_COMBINER_NAMED: return "NAMED";
    case MPI_COMBINER_DUP: return "DUP";
    case MPI_COMBINER_CONTIGUOUS: return "CONTIGUOUS";
    case MPI_COMBINER_VECTOR: return "VECTOR";
    case MPI_COMBINER_HVECTOR: return "HVECTOR";
    case MPI_COMBINER_INDEXED: return "INDEXED";
    case MPI_COMBINER_HINDEXED: return "HINDEXED";
    case MPI_COMBINER_INDEXED_BLOCK: return "INDEXED_BLOCK";
    case MPI_COMBINER_HINDEXED_BLOCK: return "HINDEXED_BLOCK";
    case MPI_COMBINER_STRUCT: return "STRUCT";
    case MPI_COMBINER_SUBARRAY: return "SUBARRAY";
    case MPI_COMBINER_DARRAY: return "DARRAY";
    case MPI_COMBINER_RESIZED: return "RESIZED";
    case MPI_COMBINER_F90_REAL: return "F90_REAL";
    case MPI_COMBINER_F90_COMPLEX: return "F90_COMPLEX";
    case MPI_COMBINER_F90_INTEGER: return "F90_INTEGER";
    }
    return "UNKNOWN";
}

/* New reference: decode()'s parameter dict for contents c; `types` is the
 * list of datatype objects (STRUCT's). */
static PyObject *
decode_params(const contents *c, PyObject *types)
{
    const int *I = c->ints;
    const MPI_Aint *A = c->addrs;
    int n = c->ni > 0 ? I[0] : 0;
    switch (c->combiner) {
    case MPI_COMBINER_DUP:
        return PyDict_New();
    case MPI_COMBINER_CONTIGUOUS:
        return Py_BuildValue("{si}", "count", I[0]);
    case MPI_COMBINER_VECTOR:
        return Py_BuildValue("{sisisi}", "count", I[0], "blocklength", I[1],
                             "stride", I[2]);
    case MPI_COMBINER_HVECTOR:
        return Py_BuildValue("{sisisn}", "count", I[0], "blocklength", I[1],
                             "stride", (Py_ssize_t)A[0]);
    case MPI_COMBINER_INDEXED:
        return Py_BuildValue("{sNsN}",
                             "blocklengths", fastmpi_int_list(I + 1, n),
                             "displacements", fastmpi_int_list(I + 1 + n, n));
    case MPI_COMBINER_HINDEXED:
        return Py_BuildValue("{sNsN}",
                             "blocklengths", fastmpi_int_list(I + 1, n),
                             "displacements", aint_list(A, n));
    case MPI_COMBINER_INDEXED_BLOCK:
        return Py_BuildValue("{sisN}", "blocklength", I[1], "displacements",
                             fastmpi_int_list(I + 2, n));
    case MPI_COMBINER_HINDEXED_BLOCK:
        return Py_BuildValue("{sisN}", "blocklength", I[1], "displacements",
                             aint_list(A, n));
    case MPI_COMBINER_STRUCT:
        return Py_BuildValue("{sNsNsO}",
                             "blocklengths", fastmpi_int_list(I + 1, n),
                             "displacements", aint_list(A, n),
                             "datatypes", types);
    case MPI_COMBINER_SUBARRAY:
        return Py_BuildValue("{sNsNsNsi}",
                             "sizes", fastmpi_int_list(I + 1, n),
                             "subsizes", fastmpi_int_list(I + 1 + n, n),
                             "starts", fastmpi_int_list(I + 1 + 2 * n, n),
                             "order", I[1 + 3 * n]);
    case MPI_COMBINER_DARRAY: {
        int nd = I[2];
        return Py_BuildValue("{sisisNsNsNsNsi}", "size", I[0], "rank", I[1],
                             "gsizes", fastmpi_int_list(I + 3, nd), "distribs",
                             fastmpi_int_list(I + 3 + nd, nd), "dargs",
                             fastmpi_int_list(I + 3 + 2 * nd, nd), "psizes",
                             fastmpi_int_list(I + 3 + 3 * nd, nd), "order",
                             I[3 + 4 * nd]);
    }
    case MPI_COMBINER_RESIZED:
        return Py_BuildValue("{snsn}", "lb", (Py_ssize_t)A[0], "extent",
                             (Py_ssize_t)A[1]);
    case MPI_COMBINER_F90_REAL:
    case MPI_COMBINER_F90_COMPLEX:
        return Py_BuildValue("{sisi}", "p", I[0], "r", I[1]);
    case MPI_COMBINER_F90_INTEGER:
        return Py_BuildValue("{si}", "r", I[0]);
    }
    return PyDict_New();
}

/* decode() -> (basetype, combiner name, params): the mpi4py convenience
 * form.  Named types decode to (self, 'NAMED', {}), and struct types to
 * (self, 'STRUCT', {..., 'datatypes': [...]}). */
static PyObject *
Datatype_decode(FastMPIDatatypeObject *self, PyObject *unused)
{
    contents c;
    if (envelope(self, "decode", &c) < 0) {
        return NULL;
    }
    if (c.combiner == MPI_COMBINER_NAMED) {
        return Py_BuildValue("(Os{})", (PyObject *)self, "NAMED");
    }
    if (get_contents(self, "decode", &c) < 0) {
        return NULL;
    }
    PyObject *types = types_list(&c);
    PyObject *params = NULL, *result = NULL;
    if (types != NULL) {
        params = decode_params(&c, types);
    }
    if (params != NULL) {
        PyObject *base = c.combiner == MPI_COMBINER_STRUCT || c.nd == 0
            ? (PyObject *)self : PyList_GET_ITEM(types, 0);
        result = Py_BuildValue("(OsO)", base, combiner_name(c.combiner),
                               params);
    }
    contents_free(&c);
    Py_XDECREF(types);
    Py_XDECREF(params);
    return result;
}

static PyObject *
Datatype_get_combiner(FastMPIDatatypeObject *self, void *closure)
{
    contents c;
    if (envelope(self, "combiner", &c) < 0) {
        return NULL;
    }
    return PyLong_FromLong(c.combiner);
}

/* Named: MPI's combiner NAMED (an F90 parameterised type is predefined
 * but not named). */
static PyObject *
Datatype_get_is_named(FastMPIDatatypeObject *self, void *closure)
{
    if (self->ob_mpi == MPI_DATATYPE_NULL) {
        Py_RETURN_FALSE;
    }
    contents c;
    if (envelope(self, "is_named", &c) < 0) {
        return NULL;
    }
    return PyBool_FromLong(c.combiner == MPI_COMBINER_NAMED);
}

/* Predefined: DATATYPE_NULL, a named type, or an F90 parameterised one. */
static PyObject *
Datatype_get_is_predefined(FastMPIDatatypeObject *self, void *closure)
{
    if (self->ob_mpi == MPI_DATATYPE_NULL ||
        (self->flags & FASTMPI_PREDEFINED)) {
        Py_RETURN_TRUE;
    }
    contents c;
    if (envelope(self, "is_predefined", &c) < 0) {
        return NULL;
    }
    return PyBool_FromLong(c.combiner == MPI_COMBINER_NAMED ||
                           c.combiner == MPI_COMBINER_F90_REAL ||
                           c.combiner == MPI_COMBINER_F90_COMPLEX ||
                           c.combiner == MPI_COMBINER_F90_INTEGER);
}

PyMethodDef fastmpi_dtdecode_methods[] = {
    {"Get_envelope", (PyCFunction)Datatype_Get_envelope, METH_NOARGS,
     "Get_envelope($self)\n--\n\n"
     "Get_envelope() -> (num_integers, num_addresses, num_datatypes, "
     "combiner)."},
    {"Get_contents", (PyCFunction)Datatype_Get_contents, METH_NOARGS,
     "Get_contents($self)\n--\n\n"
     "Get_contents() -> (integers, addresses, datatypes): the arguments "
     "the type was made with."},
    {"decode", (PyCFunction)Datatype_decode, METH_NOARGS,
     "decode($self)\n--\n\n"
     "decode() -> (basetype, combiner name, params dict)."},
    {NULL},
};

PyGetSetDef fastmpi_dtdecode_getset[] = {
    {"combiner", (getter)Datatype_get_combiner, NULL, "the combiner"},
    {"envelope", (getter)Datatype_Get_envelope, NULL, "Get_envelope()"},
    {"contents", (getter)Datatype_Get_contents, NULL, "Get_contents()"},
    {"is_named", (getter)Datatype_get_is_named, NULL, "a named type"},
    {"is_predefined", (getter)Datatype_get_is_predefined, NULL,
     "a predefined type"},
    {NULL},
};
