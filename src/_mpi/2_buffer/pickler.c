/* pickler.c: MPI.Pickle, a serializer of Python objects, and MPI.pickle,
 * the one every lowercase call (send, recv, bcast, ...) uses.
 *
 * Pickle(dumps=None, loads=None, protocol=None, threshold=None), as in
 * mpi4py 4:
 *   dumps      dumps(obj) or dumps(obj, protocol) -> bytes; None: pickle's
 *   loads      loads(data) or loads(data, buffers=...) -> obj; None: pickle's
 *   protocol   passed to dumps; None: 5 with pickle's dumps, else dumps is
 *              called without one.  Negative: the highest (as pickle says).
 *              From 5 up (or negative), buffers may go out-of-band: dumps
 *              gets a buffer_callback, loads the buffers.
 *   threshold  buffers of this many bytes or more go out-of-band (64 KiB)
 * PROTOCOL and THRESHOLD read and set the last two; a program may re-run
 * MPI.pickle.__init__(...) (as mpi4py 3 programs do) or set
 * MPI.pickle.PROTOCOL.  pickle.c reads MPI.pickle's fields on every
 * message; `standard` tells it whether its fast path still applies.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "pickle.h"

#define DEFAULT_PROTOCOL 5
#define DEFAULT_THRESHOLD (64 * 1024)

/* pickle.HIGHEST_PROTOCOL, read once at init (constant after it). */
static int highest_protocol = DEFAULT_PROTOCOL;

static void
update_flags(FastMPIPickleObject *self)
{
    long proto = -1;
    int overflow = 0;
    self->oob = 0;
    self->standard = 0;
    if (self->protocol == Py_None) {
        return;
    }
    proto = PyLong_AsLongAndOverflow(self->protocol, &overflow);
    if (proto < 0 || overflow < 0) {
        proto = highest_protocol;   /* negative: the highest, as pickle */
    }
    self->oob = proto >= 5;
    self->standard = proto == DEFAULT_PROTOCOL &&
                     self->dumps == fastmpi_st->pickle_dumps &&
                     self->loads == fastmpi_st->pickle_loads;
}

/* *out = what `value` gives for dumps or loads (a new reference: value,
 * or pickle's own for None).  -1 with TypeError if it is not callable. */
static int
check_function(const char *what, PyObject *value, PyObject *dflt,
               PyObject **out)
{
    if (value == NULL || value == Py_None) {
        *out = Py_NewRef(dflt);
        return 0;
    }
    if (!PyCallable_Check(value)) {
        PyErr_Format(PyExc_TypeError, "Pickle() argument '%s' must be "
                     "callable or None, not %.100s", what,
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    *out = Py_NewRef(value);
    return 0;
}

/* *out = the protocol `value` gives with `dumps` (a new reference: an int,
 * or None).  -1 with TypeError or ValueError. */
static int
check_protocol(const char *fname, PyObject *value, PyObject *dumps,
               PyObject **out)
{
    if (value == NULL || value == Py_None) {
        *out = dumps == fastmpi_st->pickle_dumps
                   ? PyLong_FromLong(DEFAULT_PROTOCOL)
                   : Py_NewRef(Py_None);
        return *out == NULL ? -1 : 0;
    }
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s: protocol must be an int or None, "
                     "not %.100s", fname, Py_TYPE(value)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow > 0 || v > highest_protocol) {
        PyErr_Format(PyExc_ValueError, "%s: protocol must be at most %d "
                     "(pickle.HIGHEST_PROTOCOL), or negative for the "
                     "highest, not %R", fname, highest_protocol, value);
        return -1;
    }
    *out = overflow ? PyLong_FromLong(-1) : PyLong_FromLong(v);
    return *out == NULL ? -1 : 0;
}

/* *out = the threshold `value` gives (None: the default).  -1 with
 * TypeError or ValueError. */
static int
check_threshold(const char *fname, PyObject *value, Py_ssize_t *out)
{
    if (value == NULL || value == Py_None) {
        *out = DEFAULT_THRESHOLD;
        return 0;
    }
    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s: threshold must be an int, not "
                     "%.100s", fname, Py_TYPE(value)->tp_name);
        return -1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow < 0 || v < 0) {
        PyErr_Format(PyExc_ValueError, "%s: threshold must not be negative "
                     "(got %R)", fname, value);
        return -1;
    }
    *out = overflow > 0 || v > PY_SSIZE_T_MAX ? PY_SSIZE_T_MAX
                                              : (Py_ssize_t)v;
    return 0;
}

static PyObject *
Pickle_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    FastMPIPickleObject *self = (FastMPIPickleObject *)type->tp_alloc(type,
                                                                      0);
    if (self == NULL) {
        return NULL;
    }
    self->dumps = Py_NewRef(fastmpi_st->pickle_dumps);
    self->loads = Py_NewRef(fastmpi_st->pickle_loads);
    self->protocol = Py_NewRef(fastmpi_st->protocol);
    self->threshold = DEFAULT_THRESHOLD;
    update_flags(self);
    return (PyObject *)self;
}

/* All four are checked before any is set: a bad argument changes nothing.
 * MPI.pickle.__init__() puts the defaults back. */
static int
Pickle_init(FastMPIPickleObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"dumps", "loads", "protocol", "threshold",
                             NULL};
    PyObject *dumps_arg = NULL, *loads_arg = NULL, *protocol_arg = NULL;
    PyObject *threshold_arg = NULL;
    PyObject *dumps = NULL, *loads = NULL, *protocol = NULL;
    Py_ssize_t threshold;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOO:Pickle", kwlist,
                                     &dumps_arg, &loads_arg, &protocol_arg,
                                     &threshold_arg)) {
        return -1;
    }
    if (check_function("dumps", dumps_arg, fastmpi_st->pickle_dumps,
                       &dumps) < 0 ||
        check_function("loads", loads_arg, fastmpi_st->pickle_loads,
                       &loads) < 0 ||
        check_protocol("Pickle()", protocol_arg, dumps, &protocol) < 0 ||
        check_threshold("Pickle()", threshold_arg, &threshold) < 0) {
        Py_XDECREF(dumps);
        Py_XDECREF(loads);
        Py_XDECREF(protocol);
        return -1;
    }
    Py_SETREF(self->dumps, dumps);      /* steal the new references */
    Py_SETREF(self->loads, loads);
    Py_SETREF(self->protocol, protocol);
    self->threshold = threshold;
    update_flags(self);
    return 0;
}

static int
Pickle_traverse(FastMPIPickleObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dumps);
    Py_VISIT(self->loads);
    Py_VISIT(self->protocol);
    return 0;
}

static int
Pickle_clear(FastMPIPickleObject *self)
{
    Py_CLEAR(self->dumps);
    Py_CLEAR(self->loads);
    Py_CLEAR(self->protocol);
    return 0;
}

static void
Pickle_dealloc(FastMPIPickleObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIPickleObject);
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Pickle_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ---- the methods ------------------------------------------------------- */

/* New reference: dumps(obj[, protocol][, buffer_callback=cb]). */
static PyObject *
call_dumps(FastMPIPickleObject *self, PyObject *obj, PyObject *cb)
{
    PyObject *dumps = Py_NewRef(self->dumps);   /* dumps may replace them */
    PyObject *protocol = Py_NewRef(self->protocol);
    PyObject *args[3] = {obj, protocol, cb};
    Py_ssize_t nargs = protocol == Py_None ? 1 : 2;
    if (nargs == 1) {
        args[1] = cb;
    }
    PyObject *data = PyObject_Vectorcall(
        dumps, args, nargs, cb != NULL ? fastmpi_st->kw_buffer_callback
                                       : NULL);
    Py_DECREF(dumps);
    Py_DECREF(protocol);
    return data;
}

/* New reference: loads(data[, buffers=buffers]). */
static PyObject *
call_loads(FastMPIPickleObject *self, PyObject *data, PyObject *buffers)
{
    PyObject *loads = Py_NewRef(self->loads);
    PyObject *args[2] = {data, buffers};
    PyObject *obj = PyObject_Vectorcall(
        loads, args, 1, buffers != NULL ? fastmpi_st->kw_buffers : NULL);
    Py_DECREF(loads);
    return obj;
}

static PyObject *
Pickle_dumps(FastMPIPickleObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    /* buffer_callback: mpi4py 3's signature */
    static const char *const names[] = {"obj", "buffer_callback", NULL};
    static fastmpi_argspec spec = {"dumps", names, 1};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *cb = argv[1] == Py_None ? NULL : argv[1];
    return call_dumps(self, argv[0], cb);
}

static PyObject *
Pickle_loads(FastMPIPickleObject *self, PyObject *const *args,
             Py_ssize_t nargs, PyObject *kwnames)
{
    /* buffers: mpi4py 3's signature */
    static const char *const names[] = {"data", "buffers", NULL};
    static fastmpi_argspec spec = {"loads", names, 1};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *buffers = argv[1] == Py_None ? NULL : argv[1];
    return call_loads(self, argv[0], buffers);
}

/* dumps_oob's buffer_callback; self is (list, threshold). */
static PyObject *
gather_buffer(PyObject *ctx, PyObject *picklebuffer)
{
    PyObject *list = PyTuple_GET_ITEM(ctx, 0);
    Py_ssize_t threshold = PyLong_AsSsize_t(PyTuple_GET_ITEM(ctx, 1));
    if (fastmpi_pickle_keep_inband(picklebuffer, threshold)) {
        Py_RETURN_TRUE;
    }
    PyObject *view = PyMemoryView_FromObject(picklebuffer);
    if (view == NULL) {
        return NULL;
    }
    int r = PyList_Append(list, view);
    Py_DECREF(view);
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef gather_def = {"buffer_callback", gather_buffer, METH_O,
                                 NULL};

static PyObject *
Pickle_dumps_oob(FastMPIPickleObject *self, PyObject *obj)
{
    PyObject *buffers = PyList_New(0), *cb = NULL, *data = NULL;
    PyObject *result = NULL;
    if (buffers == NULL) {
        return NULL;
    }
    if (self->oob) {
        PyObject *ctx = Py_BuildValue("(On)", buffers, self->threshold);
        if (ctx == NULL) {
            goto done;
        }
        cb = PyCFunction_New(&gather_def, ctx);
        Py_DECREF(ctx);
        if (cb == NULL) {
            goto done;
        }
    }
    data = call_dumps(self, obj, cb);
    if (data != NULL) {
        result = PyTuple_Pack(2, data, buffers);
    }
done:
    Py_XDECREF(cb);
    Py_XDECREF(data);
    Py_DECREF(buffers);
    return result;
}

static PyObject *
Pickle_loads_oob(FastMPIPickleObject *self, PyObject *const *args,
                 Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"data", "buffers", NULL};
    static fastmpi_argspec spec = {"loads_oob", names, 2};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *buffers = PySequence_List(argv[1]);
    if (buffers == NULL) {
        return NULL;
    }
    /* no buffers: loads(data) alone, which any loads takes */
    PyObject *obj = call_loads(self, argv[0],
                               PyList_GET_SIZE(buffers) > 0 ? buffers
                                                            : NULL);
    Py_DECREF(buffers);
    return obj;
}

/* ---- PROTOCOL, THRESHOLD ----------------------------------------------- */

static PyObject *
Pickle_get_protocol(FastMPIPickleObject *self, void *unused)
{
    return Py_NewRef(self->protocol);
}

static int
Pickle_set_protocol(FastMPIPickleObject *self, PyObject *value,
                    void *unused)
{
    PyObject *protocol;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "cannot delete Pickle.PROTOCOL");
        return -1;
    }
    if (check_protocol("Pickle.PROTOCOL", value, self->dumps,
                       &protocol) < 0) {
        return -1;
    }
    Py_SETREF(self->protocol, protocol);
    update_flags(self);
    return 0;
}

static PyObject *
Pickle_get_threshold(FastMPIPickleObject *self, void *unused)
{
    return PyLong_FromSsize_t(self->threshold);
}

static int
Pickle_set_threshold(FastMPIPickleObject *self, PyObject *value,
                     void *unused)
{
    if (value == NULL || value == Py_None) {
        PyErr_SetString(PyExc_TypeError, value == NULL
                        ? "cannot delete Pickle.THRESHOLD"
                        : "Pickle.THRESHOLD: threshold must be an int, not "
                          "NoneType");
        return -1;
    }
    return check_threshold("Pickle.THRESHOLD", value, &self->threshold);
}

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Pickle_dumps_oob, "dumps_oob", "obj")

static PyMethodDef Pickle_methods[] = {
    {"dumps", FC(Pickle_dumps),
     "dumps($self, obj)\n--\n\n"
     "dumps(obj) -> bytes: serialize obj, buffers in-band."},
    {"loads", FC(Pickle_loads),
     "loads($self, data)\n--\n\n"
     "loads(data) -> obj: deserialize a dumps() result."},
    {"dumps_oob", FASTMPI_FASTCALL(Pickle_dumps_oob_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "dumps_oob($self, obj)\n--\n\n"
     "dumps_oob(obj) -> (bytes, [buffer]): serialize obj; with protocol 5 "
     "or above, buffers of THRESHOLD bytes or more out-of-band."},
    {"loads_oob", FC(Pickle_loads_oob),
     "loads_oob($self, data, buffers)\n--\n\n"
     "loads_oob(data, buffers) -> obj: deserialize a dumps_oob() result."},
    {NULL},
};

static PyGetSetDef Pickle_getset[] = {
    {"PROTOCOL", (getter)Pickle_get_protocol, (setter)Pickle_set_protocol,
     "pickle protocol passed to dumps (None: dumps(obj) alone)", NULL},
    {"THRESHOLD", (getter)Pickle_get_threshold,
     (setter)Pickle_set_threshold,
     "buffers of this many bytes or more go out-of-band", NULL},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Pickle_members, FastMPIPickleObject);

static PyType_Slot Pickle_slots[] = {
    {Py_tp_members, Pickle_members},
    {Py_tp_doc, "Pickle(dumps=None, loads=None, protocol=None, "
                "threshold=None)\n--\n\n"
                "Pickle(dumps=None, loads=None, protocol=None, "
                "threshold=None): serialize Python objects.  MPI.pickle is "
                "the one every lowercase call uses: "
                "MPI.pickle.__init__(dill.dumps, dill.loads) changes it."},
    {Py_tp_new, Pickle_new},
    {Py_tp_init, Pickle_init},
    {Py_tp_dealloc, Pickle_dealloc},
    {Py_tp_traverse, Pickle_traverse},
    {Py_tp_clear, Pickle_clear},
    {Py_tp_methods, Pickle_methods},
    {Py_tp_getset, Pickle_getset},
    {0, NULL},
};

static PyType_Spec Pickle_spec = {
    .name = "fastmpi.MPI.Pickle",
    .basicsize = sizeof(FastMPIPickleObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Pickle_slots,
};

int
fastmpi_pickler_init(PyObject *module)
{
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return -1;
    }
    PyObject *highest = PyObject_GetAttrString(pickle, "HIGHEST_PROTOCOL");
    Py_DECREF(pickle);
    if (highest == NULL) {
        return -1;
    }
    highest_protocol = (int)PyLong_AsLong(highest);
    Py_DECREF(highest);
    if (highest_protocol == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *type = (PyObject *)fastmpi_type_new(module, &Pickle_spec,
                                                  NULL, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Pickle = (PyTypeObject *)type;  /* owned by the state */
    fastmpi_st->pickle = PyObject_CallNoArgs(type);
    if (fastmpi_st->pickle == NULL ||
        PyModule_AddObjectRef(module, "Pickle", type) < 0 ||
        PyModule_AddObjectRef(module, "pickle", fastmpi_st->pickle) < 0) {
        return -1;
    }
    return 0;
}
