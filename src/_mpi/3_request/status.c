/* status.c: MPI.Status, the envelope of a received or probed message. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/datatype.h"
#include "request.h"

static PyObject *
Status_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"status", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Status", kwlist,
                                     &other)) {
        return NULL;
    }
    if (other != NULL && other != Py_None &&
        !PyObject_TypeCheck(other, fastmpi_st->Status)) {
        return PyErr_Format(PyExc_TypeError,
                            "Status() argument 'status' must be MPI.Status, "
                            "not %.100s", Py_TYPE(other)->tp_name);
    }
    FastMPIStatusObject *self = (FastMPIStatusObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (other != NULL && other != Py_None) {
        self->ob_mpi = ((FastMPIStatusObject *)other)->ob_mpi;
    }
    else {
        self->ob_mpi.MPI_SOURCE = MPI_ANY_SOURCE;
        self->ob_mpi.MPI_TAG = MPI_ANY_TAG;
        self->ob_mpi.MPI_ERROR = MPI_SUCCESS;
    }
    return (PyObject *)self;
}

static void
Status_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIStatusObject);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Status_Get_source(FastMPIStatusObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->ob_mpi.MPI_SOURCE);
}

static PyObject *
Status_Get_tag(FastMPIStatusObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->ob_mpi.MPI_TAG);
}

static PyObject *
Status_Get_error(FastMPIStatusObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->ob_mpi.MPI_ERROR);
}

static int
set_int_field(int *field, PyObject *value, const char *name)
{
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "cannot delete Status.%s", name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < INT_MIN || v > INT_MAX) {
        PyErr_Format(PyExc_OverflowError, "Status.%s out of int range",
                     name);
        return -1;
    }
    *field = (int)v;
    return 0;
}

static int
Status_set_source(FastMPIStatusObject *self, PyObject *v, void *c)
{
    return set_int_field(&self->ob_mpi.MPI_SOURCE, v, "source");
}

static int
Status_set_tag(FastMPIStatusObject *self, PyObject *v, void *c)
{
    return set_int_field(&self->ob_mpi.MPI_TAG, v, "tag");
}

static int
Status_set_error(FastMPIStatusObject *self, PyObject *v, void *c)
{
    return set_int_field(&self->ob_mpi.MPI_ERROR, v, "error");
}

static PyObject *
Status_Set_source(FastMPIStatusObject *self, PyObject *v)
{
    return Status_set_source(self, v, NULL) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
Status_Set_tag(FastMPIStatusObject *self, PyObject *v)
{
    return Status_set_tag(self, v, NULL) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
Status_Set_error(FastMPIStatusObject *self, PyObject *v)
{
    return Status_set_error(self, v, NULL) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
Status_Set_cancelled(FastMPIStatusObject *self, PyObject *flag)
{
    int v = PyObject_IsTrue(flag);
    if (v < 0 || fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Status_set_cancelled(&self->ob_mpi, v)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Status_Set_elements(FastMPIStatusObject *self, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"datatype", "count", NULL};
    static fastmpi_argspec spec = {"Set_elements", names, 2};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    MPI_Datatype dt = fastmpi_datatype_arg(argv[0], "Set_elements",
                                           "datatype");
    if (dt == MPI_DATATYPE_NULL) {
        return NULL;
    }
    int overflow = 0;
    long count = PyLong_AsLongAndOverflow(argv[1], &overflow);
    if (count == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow || count < 0 || count > INT_MAX) {
        return PyErr_Format(PyExc_ValueError, "Set_elements() argument "
                            "'count' must be between 0 and %d", INT_MAX);
    }
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Status_set_elements(&self->ob_mpi, dt,
                                              (int)count)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Get_count(datatype=BYTE)'s argument. */
static MPI_Datatype
datatype_or_byte(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"datatype", NULL};
    static fastmpi_argspec spec = {"Get_count", names, 0};
    PyObject *arg;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, &arg) < 0) {
        return MPI_DATATYPE_NULL;
    }
    return arg == NULL ? MPI_BYTE
                       : fastmpi_datatype_arg(arg, "Get_count", "datatype");
}

/* ---- counts past 2**31-1 ------------------------------------------------
 * MPI_Get_count and MPI_Get_elements answer MPI_UNDEFINED when the count
 * does not fit an int.  Then MPICH 4 has the _c calls; on an MPI-3 library
 * (Open MPI 4.1) MPI_Get_elements_x counts elements, and a whole count is
 * the message's bytes over the datatype's size. */
static int
large_count(const MPI_Status *st, MPI_Datatype dt, int elements,
            MPI_Count *out)
{
    int ierr;
#if FASTMPI_HAVE_LARGE_COUNT
    if (elements) {
        ierr = MPI_Get_elements_c(st, dt, out);
    }
    else {
        ierr = MPI_Get_count_c(st, dt, out);
    }
    return ierr;
#else
    MPI_Count bytes = 0, size = 0;
    if (elements) {
        ierr = MPI_Get_elements_x(st, dt, out);
        return ierr;
    }
    ierr = MPI_Get_elements_x(st, MPI_BYTE, &bytes);
    if (ierr != MPI_SUCCESS) {
        return ierr;
    }
    ierr = MPI_Type_size_x(dt, &size);
    if (ierr == MPI_SUCCESS) {
        *out = (size > 0 && bytes % size == 0) ? bytes / size
                                               : MPI_UNDEFINED;
    }
    return ierr;
#endif
}

static PyObject *
status_count(FastMPIStatusObject *self, MPI_Datatype dt, int elements)
{
    int count = 0, ierr;
    if (dt == MPI_DATATYPE_NULL || fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (elements) {
        ierr = MPI_Get_elements(&self->ob_mpi, dt, &count);
    }
    else {
        ierr = MPI_Get_count(&self->ob_mpi, dt, &count);
    }
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    if (Py_LIKELY(count != MPI_UNDEFINED)) {
        return PyLong_FromLong(count);
    }
    MPI_Count big = MPI_UNDEFINED;
    if (fastmpi_check(large_count(&self->ob_mpi, dt, elements, &big)) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong((long long)big);
}

static PyObject *
Status_Get_count(FastMPIStatusObject *self, PyObject *const *args,
                 Py_ssize_t nargs, PyObject *kwnames)
{
    return status_count(self, datatype_or_byte(args, nargs, kwnames), 0);
}

static PyObject *
Status_Get_elements(FastMPIStatusObject *self, PyObject *arg)
{
    return status_count(self, fastmpi_datatype_arg(arg, "Get_elements",
                                                   "datatype"), 1);
}

static PyObject *
Status_Is_cancelled(FastMPIStatusObject *self, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Test_cancelled(&self->ob_mpi, &flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Status_get_count(FastMPIStatusObject *self, void *closure)
{
    return Status_Get_count(self, NULL, 0, NULL);
}

static PyObject *
Status_get_cancelled(FastMPIStatusObject *self, void *closure)
{
    return Status_Is_cancelled(self, NULL);
}

static PyObject *
Status_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) ||
        !PyObject_TypeCheck(b, fastmpi_st->Status)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    MPI_Status *x = &((FastMPIStatusObject *)a)->ob_mpi;
    MPI_Status *y = &((FastMPIStatusObject *)b)->ob_mpi;
    int eq = x->MPI_SOURCE == y->MPI_SOURCE && x->MPI_TAG == y->MPI_TAG &&
             x->MPI_ERROR == y->MPI_ERROR;
    return PyBool_FromLong(eq == (op == Py_EQ));
}

static PyObject *
Status_repr(FastMPIStatusObject *self)
{
    return PyUnicode_FromFormat("<MPI.Status source=%d tag=%d error=%d>",
                                self->ob_mpi.MPI_SOURCE,
                                self->ob_mpi.MPI_TAG,
                                self->ob_mpi.MPI_ERROR);
}

/* ---- Fortran, memory, pickling ---------------------------------------- */

static PyObject *
Status_py2f(FastMPIStatusObject *self, PyObject *unused)
{
    MPI_Fint f[FASTMPI_F_STATUS_SIZE];
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Status_c2f(&self->ob_mpi, f)) < 0) {
        return NULL;
    }
    PyObject *list = PyList_New(FASTMPI_F_STATUS_SIZE);
    for (int i = 0; list != NULL && i < FASTMPI_F_STATUS_SIZE; i++) {
        PyObject *v = PyLong_FromLong((long)f[i]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

static PyObject *
Status_f2py(PyObject *cls, PyObject *arg)
{
    MPI_Fint f[FASTMPI_F_STATUS_SIZE];
    if (PyUnicode_Check(arg) || PyBytes_Check(arg) ||
        !PySequence_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "f2py() argument must be a sequence of %d ints "
                            "(a Fortran status), not %.100s",
                            FASTMPI_F_STATUS_SIZE, Py_TYPE(arg)->tp_name);
    }
    PyObject *seq = PySequence_Fast(arg, "");
    if (seq == NULL) {
        return NULL;
    }
    if (PySequence_Fast_GET_SIZE(seq) != FASTMPI_F_STATUS_SIZE) {
        PyErr_Format(PyExc_ValueError,
                     "f2py() argument has %zd items; a Fortran status has "
                     "%d", PySequence_Fast_GET_SIZE(seq),
                     FASTMPI_F_STATUS_SIZE);
        Py_DECREF(seq);
        return NULL;
    }
    for (int i = 0; i < FASTMPI_F_STATUS_SIZE; i++) {
        PyObject *item = PySequence_Fast_ITEMS(seq)[i];
        int overflow = 0;
        long v = PyLong_Check(item) ? PyLong_AsLongAndOverflow(item,
                                                               &overflow)
                                    : -1;
        if (!PyLong_Check(item) || (v == -1 && PyErr_Occurred()) ||
            overflow || v < INT_MIN || v > INT_MAX) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyLong_Check(item) ? PyExc_OverflowError
                                                : PyExc_TypeError,
                             "f2py() argument item %d must be a Fortran "
                             "int, not %R", i, item);
            }
            Py_DECREF(seq);
            return NULL;
        }
        f[i] = (MPI_Fint)v;
    }
    Py_DECREF(seq);
    PyObject *st = PyObject_CallNoArgs(cls);
    if (st == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(st, fastmpi_st->Status) ||
        fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Status_f2c(
            f, &((FastMPIStatusObject *)st)->ob_mpi)) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "f2py(): not a Status class");
        }
        Py_DECREF(st);
        return NULL;
    }
    return st;
}

/* The buffer protocol: the MPI_Status itself, writable bytes (tomemory). */
static int
Status_getbuffer(FastMPIStatusObject *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, &self->ob_mpi,
                             sizeof(MPI_Status), 0, flags);
}

static PyObject *
Status_tomemory(FastMPIStatusObject *self, PyObject *unused)
{
    return PyMemoryView_FromObject((PyObject *)self);
}

/* {source, tag, error, count (bytes), cancelled}: what a Status carries,
 * as __getstate__ and pickling give it. */
static PyObject *
Status_getstate(FastMPIStatusObject *self, PyObject *unused)
{
    MPI_Count count = 0;
    int cancelled = 0;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Get_elements_x(&self->ob_mpi, MPI_BYTE,
                                         &count)) < 0 ||
        fastmpi_check(MPI_Test_cancelled(&self->ob_mpi, &cancelled)) < 0) {
        return NULL;
    }
    return Py_BuildValue("{sisisisLsO}", "source", self->ob_mpi.MPI_SOURCE,
                         "tag", self->ob_mpi.MPI_TAG, "error",
                         self->ob_mpi.MPI_ERROR, "count", (long long)count,
                         "cancelled", cancelled ? Py_True : Py_False);
}

/* One int of a state dict: 1 found (*out set), 0 absent, -1 error. */
static int
state_int(PyObject *state, const char *key, long long *out)
{
    PyObject *v = PyDict_GetItemString(state, key);    /* borrowed */
    if (v == NULL) {
        return 0;
    }
    if (!PyLong_Check(v)) {
        PyErr_Format(PyExc_TypeError, "__setstate__(): state['%s'] must "
                     "be an int, not %.100s", key, Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = PyLong_AsLongLong(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 1;
}

static PyObject *
Status_setstate(FastMPIStatusObject *self, PyObject *state)
{
    if (!PyDict_Check(state)) {
        return PyErr_Format(PyExc_TypeError, "__setstate__() argument must "
                            "be a dict, not %.100s", Py_TYPE(state)->tp_name);
    }
    static const char *const ints[] = {"source", "tag", "error"};
    int *fields[] = {&self->ob_mpi.MPI_SOURCE, &self->ob_mpi.MPI_TAG,
                     &self->ob_mpi.MPI_ERROR};
    MPI_Status st = self->ob_mpi;   /* changed only if all is well */
    int *into[] = {&st.MPI_SOURCE, &st.MPI_TAG, &st.MPI_ERROR};
    long long v;
    int r;
    for (int i = 0; i < 3; i++) {
        if ((r = state_int(state, ints[i], &v)) < 0) {
            return NULL;
        }
        if (r && (v < INT_MIN || v > INT_MAX)) {
            return PyErr_Format(PyExc_OverflowError, "__setstate__(): "
                                "state['%s'] out of int range", ints[i]);
        }
        *into[i] = r ? (int)v : *fields[i];
    }
    if ((r = state_int(state, "count", &v)) < 0) {
        return NULL;
    }
    if (r && (v < 0 || fastmpi_require_mpi() < 0 ||
              fastmpi_check(MPI_Status_set_elements_x(&st, MPI_BYTE,
                                                      (MPI_Count)v)) < 0)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "__setstate__(): "
                            "state['count'] must be >= 0");
        }
        return NULL;
    }
    PyObject *c = PyDict_GetItemString(state, "cancelled");    /* borrowed */
    int flag = c != NULL ? PyObject_IsTrue(c) : 0;
    if (flag < 0 || (c != NULL && (fastmpi_require_mpi() < 0 ||
                     fastmpi_check(MPI_Status_set_cancelled(&st, flag)) <
                         0))) {
        return NULL;
    }
    self->ob_mpi = st;
    Py_RETURN_NONE;
}

static PyObject *
Status_reduce(FastMPIStatusObject *self, PyObject *unused)
{
    PyObject *state = Status_getstate(self, NULL);
    if (state == NULL) {
        return NULL;
    }
    return Py_BuildValue("(O()N)", (PyObject *)Py_TYPE(self), state);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Status_Set_source, "Set_source", "source")
FASTMPI_ONE_ARG(Status_Set_tag, "Set_tag", "tag")
FASTMPI_ONE_ARG(Status_Set_error, "Set_error", "error")
FASTMPI_ONE_ARG(Status_Get_elements, "Get_elements", "datatype")
FASTMPI_ONE_ARG(Status_Set_cancelled, "Set_cancelled", "flag")
FASTMPI_ONE_ARG(Status_f2py, "f2py", "arg")

static PyMethodDef Status_methods[] = {
    {"Get_source", (PyCFunction)Status_Get_source, METH_NOARGS,
     "Get_source($self)\n--\n\n"
     "Source rank of the message."},
    {"Set_source", FASTMPI_FASTCALL(Status_Set_source_kw),
     METH_FASTCALL | METH_KEYWORDS, "Set_source($self, source)\n--\n\n"
                                                           "Set source."},
    {"Get_tag", (PyCFunction)Status_Get_tag, METH_NOARGS,
     "Get_tag($self)\n--\n\n"
                                                          "Message tag."},
    {"Set_tag", FASTMPI_FASTCALL(Status_Set_tag_kw),
     METH_FASTCALL | METH_KEYWORDS, "Set_tag($self, tag)\n--\n\n"
                                                     "Set tag."},
    {"Get_error", (PyCFunction)Status_Get_error, METH_NOARGS,
     "Get_error($self)\n--\n\n"
     "Error code of the operation."},
    {"Set_error", FASTMPI_FASTCALL(Status_Set_error_kw),
     METH_FASTCALL | METH_KEYWORDS, "Set_error($self, error)\n--\n\n"
                                                         "Set error."},
    {"Get_count", (PyCFunction)(void (*)(void))Status_Get_count,
     METH_FASTCALL | METH_KEYWORDS,
     "Get_count($self, datatype=BYTE)\n--\n\n"
     "Get_count(datatype=BYTE) -> number of whole datatype entries."},
    {"Get_elements", FASTMPI_FASTCALL(Status_Get_elements_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_elements($self, datatype)\n--\n\n"
     "Get_elements(datatype) -> number of basic elements."},
    {"Is_cancelled", (PyCFunction)Status_Is_cancelled, METH_NOARGS,
     "Is_cancelled($self)\n--\n\n"
     "Whether the request was cancelled."},
    {"Set_cancelled", FASTMPI_FASTCALL(Status_Set_cancelled_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Set_cancelled($self, flag)\n--\n\n"
     "Set_cancelled(flag): for a generalized request's query_fn."},
    {"Set_elements", (PyCFunction)(void (*)(void))Status_Set_elements,
     METH_FASTCALL | METH_KEYWORDS, "Set_elements($self, datatype, "
                                    "count)\n--\n\n"
                    "Set_elements(datatype, count): set the count."},
    {"py2f", (PyCFunction)Status_py2f, METH_NOARGS,
     "py2f($self)\n--\n\n"
     "py2f() -> the Fortran status, a list of ints (MPI_Status_c2f)."},
    {"f2py", FASTMPI_FASTCALL(Status_f2py_kw),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "f2py($cls, arg)\n--\n\n"
     "f2py(arg) -> the Status of a Fortran status (a list of ints)."},
    {"tomemory", (PyCFunction)Status_tomemory, METH_NOARGS,
     "tomemory($self)\n--\n\n"
     "tomemory() -> a writable memoryview of the MPI_Status."},
    {"__getstate__", (PyCFunction)Status_getstate, METH_NOARGS,
     "__getstate__($self)\n--\n\n"
     "{'source', 'tag', 'error', 'count' (bytes), 'cancelled'}."},
    {"__setstate__", (PyCFunction)Status_setstate, METH_O,
     "__setstate__($self, state, /)\n--\n\n"
     "__setstate__(state): set the fields a __getstate__ dict names."},
    {"__reduce__", (PyCFunction)Status_reduce, METH_NOARGS,
     "__reduce__($self)\n--\n\n"
     "Pickling: Status() and its __getstate__."},
    {NULL},
};

static PyGetSetDef Status_getset[] = {
    {"source", (getter)Status_Get_source, (setter)Status_set_source,
     "source rank"},
    {"tag", (getter)Status_Get_tag, (setter)Status_set_tag, "tag"},
    {"error", (getter)Status_Get_error, (setter)Status_set_error, "error"},
    {"count", (getter)Status_get_count, NULL, "byte count"},
    {"cancelled", (getter)Status_get_cancelled, NULL, "cancelled flag"},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Status_members, FastMPIStatusObject);

static PyType_Slot Status_slots[] = {
    {Py_tp_members, Status_members},
    {Py_tp_doc, "Status(status=None)\n--\n\n"
                "Status(status=None): the envelope of a message."},
    {Py_tp_new, Status_new},
    {Py_tp_dealloc, Status_dealloc},
    {Py_tp_repr, Status_repr},
    {Py_tp_richcompare, Status_richcompare},
    {Py_tp_methods, Status_methods},
    {Py_tp_getset, Status_getset},
    {Py_bf_getbuffer, Status_getbuffer},
    {0, NULL},
};

static PyType_Spec Status_spec = {
    .name = "fastmpi.MPI.Status",
    .basicsize = sizeof(FastMPIStatusObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Status_slots,
};

int
fastmpi_status_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_type_new(
        module, &Status_spec, NULL, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Status = (PyTypeObject *)type;
    return PyModule_AddObjectRef(module, "Status", type);
}

int
fastmpi_arg_status(fastmpi_argspec *spec, int index, PyObject *obj,
                   MPI_Status **out)
{
    if (obj == NULL || obj == Py_None) {
        *out = MPI_STATUS_IGNORE;
        return 0;
    }
    if (!PyObject_TypeCheck(obj, fastmpi_st->Status)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be MPI.Status or None, "
                     "not %.100s",
                     spec->fname, spec->names[index], Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = &((FastMPIStatusObject *)obj)->ob_mpi;
    return 0;
}
