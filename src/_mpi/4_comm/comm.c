/* comm.c: MPI.Comm and MPI.Intracomm, and the predefined communicators.
 *
 * Point-to-point methods live in p2p.c (buffers) and objp2p.c (objects);
 * their tables are joined with this file's into Comm's one method table.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "attr.h"
#include "comm.h"
#include "../5_ops/coll.h"
#include "../5_ops/p2p.h"

#include <string.h>

PyObject *
fastmpi_comm_new(PyTypeObject *type, MPI_Comm comm, int flags)
{
    FastMPICommObject *self = (FastMPICommObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ob_mpi = comm;
    /* FASTMPI_INTER: an Intercomm is one; a plain Comm asks MPI (the
     * collectives read the flag instead of asking each time) */
    if (fastmpi_st->Intercomm != NULL &&
        PyType_IsSubtype(type, fastmpi_st->Intercomm)) {
        flags |= FASTMPI_INTER;
    }
    else if (comm != MPI_COMM_NULL && fastmpi_mpi_active &&
             !PyType_IsSubtype(type, fastmpi_st->Intracomm)) {
        int inter = 0;
        if (MPI_Comm_test_inter(comm, &inter) == MPI_SUCCESS && inter) {
            flags |= FASTMPI_INTER;
        }
    }
    self->flags = flags;
    return (PyObject *)self;
}

PyTypeObject *
fastmpi_comm_derived_type(FastMPICommObject *self)
{
    /* Split, Create, ... drop the topology (Dup and Idup keep it) */
    return PyObject_TypeCheck(self, fastmpi_st->Topocomm)
               ? fastmpi_st->Intracomm : Py_TYPE(self);
}

int
fastmpi_comm_check(FastMPICommObject *self)
{
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (Py_UNLIKELY(self->ob_mpi == MPI_COMM_NULL)) {
        fastmpi_error_raise(MPI_ERR_COMM);
        return -1;
    }
    return 0;
}

int
fastmpi_comm_ranks(FastMPICommObject *self, int *rank, int *size)
{
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_rank(self->ob_mpi, rank)) < 0 ||
        fastmpi_check(MPI_Comm_size(self->ob_mpi, size)) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
Comm_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"comm", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Comm", kwlist,
                                     &other)) {
        return NULL;
    }
    MPI_Comm handle = MPI_COMM_NULL;
    int inter = 0;
    if (other != NULL && other != Py_None) {
        if (!PyObject_TypeCheck(other, fastmpi_st->Comm)) {
            return PyErr_Format(PyExc_TypeError,
                                "%s() argument 'comm' must be MPI.Comm, "
                                "not %.100s", type->tp_name,
                                Py_TYPE(other)->tp_name);
        }
        handle = ((FastMPICommObject *)other)->ob_mpi;
        inter = ((FastMPICommObject *)other)->flags & FASTMPI_INTER;
    }
    /* an Intracomm or Intercomm object wraps only its own kind */
    if (handle != MPI_COMM_NULL &&
        ((inter && PyType_IsSubtype(type, fastmpi_st->Intracomm)) ||
         (!inter && PyType_IsSubtype(type, fastmpi_st->Intercomm)))) {
        return PyErr_Format(PyExc_TypeError,
                            "%s() argument 'comm' is an %s", type->tp_name,
                            inter ? "intercommunicator"
                                  : "intracommunicator");
    }
    return fastmpi_comm_new(type, handle, inter);
}

static void
Comm_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPICommObject);
    /* As in mpi4py, dropping the object does not free the communicator:
     * MPI_Comm_free is collective, so only an explicit Free() may call it. */
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Comm_Get_rank(FastMPICommObject *self, PyObject *unused)
{
    int rank = 0;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_rank(self->ob_mpi, &rank)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(rank);
}

static PyObject *
Comm_Get_size(FastMPICommObject *self, PyObject *unused)
{
    int size = 0;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_size(self->ob_mpi, &size)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(size);
}

static PyObject *
Comm_Get_name(FastMPICommObject *self, PyObject *unused)
{
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_get_name(self->ob_mpi, name, &len)) < 0) {
        return NULL;
    }
    return PyUnicode_FromStringAndSize(name, len);
}

static PyObject *
Comm_Set_name(FastMPICommObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "Set_name() argument 'name' must be str, "
                            "not %.100s", Py_TYPE(arg)->tp_name);
    }
    Py_ssize_t len = 0;
    const char *name = PyUnicode_AsUTF8AndSize(arg, &len);
    if (name == NULL) {
        return NULL;
    }
    if (len >= MPI_MAX_OBJECT_NAME) {
        return PyErr_Format(PyExc_ValueError,
                            "Set_name() argument 'name' is %zd bytes long; "
                            "MPI allows at most %d", len,
                            MPI_MAX_OBJECT_NAME - 1);
    }
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_set_name(self->ob_mpi, (char *)name)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
Comm_set_name(FastMPICommObject *self, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete Comm.name");
        return -1;
    }
    PyObject *r = Comm_Set_name(self, value);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static PyObject *
Comm_Is_inter(FastMPICommObject *self, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_test_inter(self->ob_mpi, &flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Comm_Is_intra(FastMPICommObject *self, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_test_inter(self->ob_mpi, &flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(!flag);
}

static PyObject *
Comm_Compare(FastMPICommObject *self, PyObject *arg)
{
    if (!PyObject_TypeCheck(arg, fastmpi_st->Comm)) {
        return PyErr_Format(PyExc_TypeError,
                            "Compare() argument 'comm' must be MPI.Comm, "
                            "not %.100s", Py_TYPE(arg)->tp_name);
    }
    FastMPICommObject *other = (FastMPICommObject *)arg;
    int result = MPI_UNEQUAL;
    if (fastmpi_comm_check(self) < 0 || fastmpi_comm_check(other) < 0 ||
        fastmpi_check(MPI_Comm_compare(self->ob_mpi, other->ob_mpi,
                                       &result)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(result);
}

static PyObject *
Comm_Split(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"color", "key", NULL};
    static fastmpi_argspec spec = {"Split", names, 0};
    PyObject *argv[2];
    int color, key;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &color) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &key) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    if (color < 0 && color != MPI_UNDEFINED) {
        return PyErr_Format(PyExc_ValueError,
                            "Split() argument 'color' must be >= 0 or "
                            "MPI.UNDEFINED, not %d", color);
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_split", self->ob_mpi, MPI_PROC_NULL, color, 0,
                 ierr = MPI_Comm_split(self->ob_mpi, color, key, &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    /* a split is of the same kind: intra- or intercommunicator */
    PyTypeObject *type = fastmpi_comm_derived_type(self);
    if (!PyObject_TypeCheck(self, fastmpi_st->Intracomm) &&
        !PyObject_TypeCheck(self, fastmpi_st->Intercomm)) {
        type = (self->flags & FASTMPI_INTER) ? fastmpi_st->Intercomm
                                             : fastmpi_st->Intracomm;
    }
    return fastmpi_comm_new(type, newcomm, 0);
}

/* Free() and Disconnect(): MPI_Comm_free, or MPI_Comm_disconnect (a free
 * that first waits for the communicator's pending communication); both
 * collective, both leave COMM_NULL.  what: "freed" or "disconnected". */
static PyObject *
comm_release(FastMPICommObject *self, const char *fname, const char *what,
             int disconnect)
{
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    if (self->flags & FASTMPI_PREDEFINED || self->ob_mpi == MPI_COMM_WORLD ||
        self->ob_mpi == MPI_COMM_SELF) {
        return fastmpi_error_raise_detail(
            MPI_ERR_COMM, "%s(): %s is predefined and cannot be %s", fname,
            self->ob_mpi == MPI_COMM_WORLD ? "COMM_WORLD" : "COMM_SELF",
            what);
    }
    int ierr;
    fastmpi_callbacks_begin();       /* delete_fn may run (attr.c) */
    FASTMPI_NOGIL_BEGIN
    if (disconnect) {
        FASTMPI_CALL("MPI_Comm_disconnect", self->ob_mpi, MPI_PROC_NULL, 0,
                     0, ierr = MPI_Comm_disconnect(&self->ob_mpi));
    }
    else {
        FASTMPI_CALL("MPI_Comm_free", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                     ierr = MPI_Comm_free(&self->ob_mpi));
    }
    FASTMPI_NOGIL_END
    if (ierr == MPI_SUCCESS) {
        self->ob_mpi = MPI_COMM_NULL;
    }
    fastmpi_check(ierr);
    if (fastmpi_callbacks_end() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Free(FastMPICommObject *self, PyObject *unused)
{
    return comm_release(self, "Free", "freed", 0);
}

static PyObject *
Comm_Disconnect(FastMPICommObject *self, PyObject *unused)
{
    return comm_release(self, "Disconnect", "disconnected", 1);
}

static PyObject *
Comm_Abort(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"errorcode", NULL};
    static fastmpi_argspec spec = {"Abort", names, 0};
    PyObject *argv[1];
    int code;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &code) < 0) {
        return NULL;
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi == MPI_COMM_NULL ? MPI_COMM_WORLD
                                                  : self->ob_mpi;
    int ierr = MPI_Abort(comm, code);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Comm_Barrier(FastMPICommObject *self, PyObject *unused)
{
    int ierr;
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Barrier", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Barrier(self->ob_mpi));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- Comm --------------------------------------------------------------- */

/* The handle base's make hook (f2py, fromint, fromhandle). */
static PyObject *
comm_make(PyTypeObject *type, intptr_t h, const char *fname)
{
    MPI_Comm c = (MPI_Comm)h;
    if (c == MPI_COMM_NULL) {
        return fastmpi_comm_new(type, c, 0);
    }
    int inter = 0;
    if (MPI_Comm_test_inter(c, &inter) != MPI_SUCCESS) {
        return fastmpi_error_raise_detail(MPI_ERR_COMM,
                                          "%s(): the handle is not a "
                                          "communicator", fname);
    }
    /* as mpi4py: Comm, or a class of the other kind, gives the kind the
     * handle is; a class of the right kind (a subclass too) is kept */
    if (type == fastmpi_st->Comm ||
        (inter && PyType_IsSubtype(type, fastmpi_st->Intracomm)) ||
        (!inter && fastmpi_st->Intercomm != NULL &&
         PyType_IsSubtype(type, fastmpi_st->Intercomm))) {
        type = inter && fastmpi_st->Intercomm != NULL ? fastmpi_st->Intercomm
               : inter                               ? fastmpi_st->Comm
                                                     : fastmpi_st->Intracomm;
    }
    /* an intracommunicator asked of a generic class (Comm, Intracomm,
     * Topocomm) comes as its topology's class, as mpi4py */
    int topo = MPI_UNDEFINED;
    if (!inter && (type == fastmpi_st->Intracomm ||
                   type == fastmpi_st->Topocomm) &&
        MPI_Topo_test(c, &topo) == MPI_SUCCESS) {
        type = topo == MPI_CART         ? fastmpi_st->Cartcomm
               : topo == MPI_GRAPH      ? fastmpi_st->Graphcomm
               : topo == MPI_DIST_GRAPH ? fastmpi_st->Distgraphcomm
                                        : type;
        if (type == NULL || (type == fastmpi_st->Topocomm &&
                             topo == MPI_UNDEFINED)) {
            type = fastmpi_st->Intracomm;
        }
    }
    return fastmpi_comm_new(type, c, 0);
}

static const fastmpi_handle_name comm_names[] = {
    FASTMPI_HANDLE_NAME(COMM_NULL),
    FASTMPI_HANDLE_NAME(COMM_SELF),
    FASTMPI_HANDLE_NAME(COMM_WORLD),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(comm, Comm, MPI_Comm, 0)
FASTMPI_HANDLE_SLOTS(comm_kind, fastmpi_st->Comm)

static const fastmpi_handle_kind comm_kind = {
    .name = "communicator",
    .size = sizeof(MPI_Comm),
    .offset = offsetof(FastMPICommObject, ob_mpi),
    .flags_offset = offsetof(FastMPICommObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_COMM_NULL),
    .names = comm_names,
    .local = "an MPI communicator is local to its process (only "
             "COMM_WORLD, COMM_SELF and COMM_NULL pickle)",
    .c2f = comm_c2f,
    .f2c = comm_f2c,
    .toint = comm_toint,
    .fromint = comm_fromint,
    .make = comm_make,
    .free = (PyCFunction)Comm_Free,
    .slots = comm_kind_slots,
};

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Comm_Set_name, "Set_name", "name")
FASTMPI_ONE_ARG(Comm_Compare, "Compare", "comm")

static PyMethodDef Comm_own_methods[] = {
    {"Get_rank", (PyCFunction)Comm_Get_rank, METH_NOARGS,
     "Get_rank($self)\n--\n\n"
     "Rank of this process in the communicator."},
    {"Get_size", (PyCFunction)Comm_Get_size, METH_NOARGS,
     "Get_size($self)\n--\n\n"
     "Number of processes in the communicator."},
    {"Get_name", (PyCFunction)Comm_Get_name, METH_NOARGS,
     "Get_name($self)\n--\n\n"
                                                          "Name."},
    {"Set_name", FASTMPI_FASTCALL(Comm_Set_name_kw),
     METH_FASTCALL | METH_KEYWORDS, "Set_name($self, name)\n--\n\n"
                                                     "Set the name."},
    {"Is_inter", (PyCFunction)Comm_Is_inter, METH_NOARGS,
     "Is_inter($self)\n--\n\n"
     "Whether this is an intercommunicator."},
    {"Is_intra", (PyCFunction)Comm_Is_intra, METH_NOARGS,
     "Is_intra($self)\n--\n\n"
     "Whether this is an intracommunicator."},
    {"Compare", FASTMPI_FASTCALL(Comm_Compare_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Compare($self, comm)\n--\n\n"
     "Compare(comm) -> IDENT, CONGRUENT, SIMILAR or UNEQUAL."},
    {"Split", FASTMPI_FASTCALL(Comm_Split), METH_FASTCALL | METH_KEYWORDS,
     "Split($self, color=0, key=0)\n--\n\n"
     "Split(color=0, key=0) -> new communicator (collective)."},
    {"Free", (PyCFunction)Comm_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free the communicator (collective); it becomes COMM_NULL."},
    {"Disconnect", (PyCFunction)Comm_Disconnect, METH_NOARGS,
     "Disconnect($self)\n--\n\n"
     "Disconnect(): free the communicator once its pending communication "
     "is done (collective); it becomes COMM_NULL."},
    {"Abort", FASTMPI_FASTCALL(Comm_Abort), METH_FASTCALL | METH_KEYWORDS,
     "Abort($self, errorcode=0)\n--\n\n"
     "Abort(errorcode=0): end every process of the job."},
    {"Barrier", (PyCFunction)Comm_Barrier, METH_NOARGS,
     "Barrier($self)\n--\n\n"
     "Block until every process has called Barrier."},
    {"barrier", (PyCFunction)Comm_Barrier, METH_NOARGS,
     "barrier($self)\n--\n\n"
     "Block until every process has called barrier."},
    {NULL},
};

static PyGetSetDef Comm_getset[] = {
    {"rank", (getter)Comm_Get_rank, NULL, "rank of this process"},
    {"size", (getter)Comm_Get_size, NULL, "number of processes"},
    {"name", (getter)Comm_Get_name, (setter)Comm_set_name, "name"},
    {"is_inter", (getter)Comm_Is_inter, NULL, "is an intercommunicator"},
    {"is_intra", (getter)Comm_Is_intra, NULL, "is an intracommunicator"},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Comm_members, FastMPICommObject);

static PyType_Slot Comm_slots[] = {
    {Py_tp_members, Comm_members},
    {Py_tp_doc, "Comm(comm=None)\n--\n\n"
                "Comm(comm=None): a communicator."},
    {Py_tp_new, Comm_tp_new},
    {Py_tp_dealloc, Comm_dealloc},
    {Py_tp_methods, Comm_own_methods},
    {Py_tp_getset, Comm_getset},
    {0, NULL},
};

static PyType_Spec Comm_spec = {
    .name = "fastmpi.MPI.Comm",
    .basicsize = sizeof(FastMPICommObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Comm_slots,
};

static PyType_Slot Intracomm_slots[] = {
    {Py_tp_doc, "Intracomm(comm=None)\n--\n\n"
                "Intracomm(comm=None): an intracommunicator."},
    {0, NULL},
};

static PyType_Spec Intracomm_spec = {
    .name = "fastmpi.MPI.Intracomm",
    .basicsize = sizeof(FastMPICommObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Intracomm_slots,
};

static int
add_predefined(PyObject *module, const char *name, PyTypeObject *type,
               MPI_Comm handle)
{
    PyObject *obj = fastmpi_comm_new(type, handle, FASTMPI_PREDEFINED);
    if (obj == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(module, name, obj);
    Py_DECREF(obj);
    return r;
}

int
fastmpi_comm_init(PyObject *module, const fastmpi_type_parts *comm_parts,
                  const fastmpi_type_parts *intra_parts)
{
    PyObject *comm = (PyObject *)fastmpi_handle_type_new(module, &Comm_spec,
                                                         &comm_kind,
                                                         comm_parts);
    if (comm == NULL) {
        return -1;
    }
    fastmpi_st->Comm = (PyTypeObject *)comm;
    PyObject *intra = (PyObject *)fastmpi_type_new(module, &Intracomm_spec,
                                                   comm, intra_parts);
    if (intra == NULL) {
        return -1;
    }
    fastmpi_st->Intracomm = (PyTypeObject *)intra;
    if (PyModule_AddObjectRef(module, "Comm", comm) < 0 ||
        PyModule_AddObjectRef(module, "Intracomm", intra) < 0 ||
        add_predefined(module, "COMM_NULL", fastmpi_st->Comm,
                       MPI_COMM_NULL) < 0 ||
        add_predefined(module, "COMM_SELF", fastmpi_st->Intracomm,
                       MPI_COMM_SELF) < 0 ||
        add_predefined(module, "COMM_WORLD", fastmpi_st->Intracomm,
                       MPI_COMM_WORLD) < 0) {
        return -1;
    }
    return 0;
}
