/* errors.c: MPI.Exception and the one path every MPI error takes. */
#include "fastmpi.h"
#include "state.h"

#include <stdarg.h>

static int
Exception_init(FastMPIExceptionObject *self, PyObject *args, PyObject *kwds)
{
    int ierr = MPI_SUCCESS;
    static char *kwlist[] = {"ierr", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|i:Exception", kwlist,
                                     &ierr)) {
        return -1;
    }
    if (ierr < MPI_SUCCESS) {
        ierr = MPI_ERR_UNKNOWN;     /* as mpi4py: no negative codes */
    }
    self->error_code = ierr;
    /* args are (ierr,), as mpi4py has them */
    PyObject *own = Py_BuildValue("(i)", ierr);
    if (own == NULL) {
        return -1;
    }
    int r = ((PyTypeObject *)PyExc_RuntimeError)->tp_init((PyObject *)self,
                                                          own, NULL);
    Py_DECREF(own);
    return r;
}

static int
Exception_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((FastMPIExceptionObject *)self)->detail);
    return ((PyTypeObject *)PyExc_RuntimeError)->tp_traverse(self, visit,
                                                             arg);
}

static int
Exception_clear(PyObject *self)
{
    Py_CLEAR(((FastMPIExceptionObject *)self)->detail);
    return ((PyTypeObject *)PyExc_RuntimeError)->tp_clear(self);
}

static void
Exception_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Exception_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* Whether MPI may be asked about `code`.  MPICH 4.0.2 dereferences NULL
 * in MPI_Error_string and MPI_Error_class for a code in its range of
 * added codes that nobody added (ERR_LASTCODE + 1, once a class was
 * added; reproduced in plain C): above ERR_LASTCODE, only the classes and
 * codes added through fastmpi (Add_error_class, Add_error_code) are. */
static int
askable(int code)
{
    if (code <= MPI_ERR_LASTCODE) {
        return 1;
    }
    PyObject *added = fastmpi_st->added_errors;
    if (added == NULL) {
        return 0;
    }
    PyObject *key = PyLong_FromLong(code);
    int r = key != NULL ? PySet_Contains(added, key) : -1;
    Py_XDECREF(key);
    if (r < 0) {
        PyErr_Clear();
        return 0;
    }
    return r;
}

/* Remember a class or code fastmpi added: 0, or -1 with an exception. */
static int
remember_added(int code)
{
    if (fastmpi_st->added_errors == NULL &&
        (fastmpi_st->added_errors = PySet_New(NULL)) == NULL) {
        return -1;
    }
    PyObject *key = PyLong_FromLong(code);
    int r = key != NULL ? PySet_Add(fastmpi_st->added_errors, key) : -1;
    Py_XDECREF(key);
    return r;
}

static int
error_class_of(int code)
{
    int eclass = code;
    if (!fastmpi_mpi_active || !askable(code)) {
        return code;
    }
    if (MPI_Error_class(code, &eclass) != MPI_SUCCESS) {
        return code;
    }
    return eclass;
}

/* The library's text for code.  empty_ok: a code the program added
 * with no string yet gives '' (MPI.Get_error_string, as MPI says);
 * otherwise (an exception's text) a line that names the code. */
static PyObject *
error_text(int code, int empty_ok)
{
    char buf[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (!fastmpi_mpi_active) {
        return PyUnicode_FromFormat(
            "MPI error code %d (MPI is not initialized or already finalized, "
            "so the MPI library cannot be asked for its text)", code);
    }
    if (!askable(code) || MPI_Error_string(code, buf, &len) != MPI_SUCCESS) {
        return PyUnicode_FromFormat("unknown MPI error code %d", code);
    }
    if (len <= 0) {
        return empty_ok ? PyUnicode_FromString("")
                        : PyUnicode_FromFormat("MPI error code %d (it has "
                                               "no error string)", code);
    }
    buf[len] = '\0';
    /* MPI libraries pad or end with newlines: trim them */
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) {
        buf[--len] = '\0';
    }
    return PyUnicode_DecodeUTF8(buf, len, "replace");
}

static PyObject *
error_string_of(int code)
{
    return error_text(code, 0);
}

static PyObject *
Exception_Get_error_code(FastMPIExceptionObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->error_code);
}

static PyObject *
Exception_Get_error_class(FastMPIExceptionObject *self, PyObject *unused)
{
    return PyLong_FromLong(error_class_of(self->error_code));
}

static PyObject *
Exception_Get_error_string(FastMPIExceptionObject *self, PyObject *unused)
{
    return error_string_of(self->error_code);
}

/* New reference: "ERR_REQUEST", the module's name for an error class, or
 * NULL (no exception) if it has none. */
static PyObject *
error_class_name(int eclass)
{
    PyObject *dict = PyModule_GetDict(fastmpi_st->module);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (PyLong_CheckExact(value) && PyUnicode_Check(key) &&
            PyUnicode_GET_LENGTH(key) > 4 &&
            PyUnicode_READ_CHAR(key, 0) == 'E' &&
            PyUnicode_READ_CHAR(key, 3) == '_' &&
            PyLong_AsLong(value) == eclass &&
            PyUnicode_CompareWithASCIIString(key, "ERR_LASTCODE") != 0) {
            return Py_NewRef(key);
        }
    }
    PyErr_Clear();
    return NULL;
}

/* An error fastmpi found itself reads "<detail> (MPI.ERR_x)": the
 * library's text for the class would be generic, and MPICH 4.0.2's for
 * ERR_REQUEST is plainly wrong ("Request pending due to failure"). */
static PyObject *
Exception_str(FastMPIExceptionObject *self)
{
    if (self->detail == NULL) {
        return error_string_of(self->error_code);
    }
    PyObject *name = error_class_name(self->error_code);
    if (name == NULL) {
        return PyUnicode_FromFormat("%U (MPI error class %d)", self->detail,
                                    self->error_code);
    }
    Py_SETREF(name, PyUnicode_FromFormat("%U (MPI.%U)", self->detail,
                                         name));
    return name;
}

static PyObject *
Exception_repr(FastMPIExceptionObject *self)
{
    return PyUnicode_FromFormat("MPI.Exception(%d)", self->error_code);
}

static PyObject *
Exception_int(FastMPIExceptionObject *self)
{
    return PyLong_FromLong(self->error_code);
}

static int
Exception_bool(FastMPIExceptionObject *self)
{
    return self->error_code != MPI_SUCCESS;
}

static Py_hash_t
Exception_hash(FastMPIExceptionObject *self)
{
    Py_hash_t h = self->error_code;
    return h == -1 ? -2 : h;
}

/* As mpi4py: an Exception compares (==, !=, <, <=, >, >=) as its error
 * code, an int, with ints, with other Exceptions (their codes) and with
 * whatever an int compares with. */
static PyObject *
Exception_richcompare(FastMPIExceptionObject *self, PyObject *other, int op)
{
    PyObject *code = PyLong_FromLong(self->error_code);
    if (code == NULL) {
        return NULL;
    }
    PyObject *result;
    if (PyObject_TypeCheck(other, (PyTypeObject *)fastmpi_st->Exception)) {
        PyObject *theirs = PyLong_FromLong(
            ((FastMPIExceptionObject *)other)->error_code);
        result = theirs ? PyObject_RichCompare(code, theirs, op) : NULL;
        Py_XDECREF(theirs);
    }
    else {
        result = PyObject_RichCompare(code, other, op);
    }
    Py_DECREF(code);
    return result;
}

static PyMethodDef Exception_methods[] = {
    {"Get_error_code", (PyCFunction)Exception_Get_error_code, METH_NOARGS,
     "Get_error_code($self)\n--\n\n"
     "The MPI error code."},
    {"Get_error_class", (PyCFunction)Exception_Get_error_class, METH_NOARGS,
     "Get_error_class($self)\n--\n\n"
     "The MPI error class of the error code."},
    {"Get_error_string", (PyCFunction)Exception_Get_error_string,
     METH_NOARGS, "Get_error_string($self)\n--\n\n"
                  "The MPI library's text for the error code."},
    {NULL},
};

static PyGetSetDef Exception_getset[] = {
    {"error_code", (getter)Exception_Get_error_code, NULL, "error code"},
    {"error_class", (getter)Exception_Get_error_class, NULL, "error class"},
    {"error_string", (getter)Exception_Get_error_string, NULL,
     "error string"},
    {NULL},
};

static PyType_Slot Exception_slots[] = {
    {Py_tp_doc, "Exception(ierr=SUCCESS, /)\n--\n\n"
                "Exception(ierr=SUCCESS): an MPI error: the code, its "
                "class and the library's text.  It compares, hashes and "
                "converts (int()) as its error code."},
    {Py_tp_init, Exception_init},
    {Py_tp_traverse, Exception_traverse},
    {Py_tp_clear, Exception_clear},
    {Py_tp_dealloc, Exception_dealloc},
    {Py_tp_str, Exception_str},
    {Py_tp_repr, Exception_repr},
    {Py_tp_hash, Exception_hash},
    {Py_tp_richcompare, Exception_richcompare},
    {Py_nb_int, Exception_int},
    {Py_nb_index, Exception_int},
    {Py_nb_bool, Exception_bool},
    {Py_tp_methods, Exception_methods},
    {Py_tp_getset, Exception_getset},
    {0, NULL},
};

static PyType_Spec Exception_spec = {
    .name = "fastmpi.MPI.Exception",
    .basicsize = sizeof(FastMPIExceptionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Exception_slots,
};

void
fastmpi_set_error_hook(fastmpi_error_hook_fn hook)
{
    fastmpi_st->error_hook = hook;
}

PyObject *
fastmpi_error_raise(int ierr)
{
    PyObject *exc = PyObject_CallFunction(fastmpi_st->Exception, "i", ierr);
    if (exc != NULL) {
        if (fastmpi_st->error_hook != NULL) {
            fastmpi_st->error_hook(exc, ierr);
        }
        PyErr_SetObject(fastmpi_st->Exception, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *
fastmpi_error_raise_detail(int errclass, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *detail = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (detail == NULL) {
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(fastmpi_st->Exception, "i",
                                          errclass);
    if (exc != NULL) {
        Py_XSETREF(((FastMPIExceptionObject *)exc)->detail, detail);
        if (fastmpi_st->error_hook != NULL) {
            fastmpi_st->error_hook(exc, errclass);
        }
        PyErr_SetObject(fastmpi_st->Exception, exc);
        Py_DECREF(exc);
    }
    else {
        Py_DECREF(detail);
    }
    return NULL;
}

/* An MPI error code argument, checked by the library itself: 0 with *code
 * and *eclass set, or -1 with an exception naming fname's argument. */
static int
error_code_arg(PyObject *arg, const char *fname, int *code, int *eclass)
{
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument 'errorcode' must be int, not %.100s",
                     fname, Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < 0 || v > INT_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'errorcode' must be a non-negative MPI "
                     "error code, not %R", fname, arg);
        return -1;
    }
    *code = (int)v;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Error_class(*code, eclass)) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
Get_error_class(PyObject *module, PyObject *arg)
{
    int code, eclass;
    if (error_code_arg(arg, "Get_error_class", &code, &eclass) < 0) {
        return NULL;
    }
    return PyLong_FromLong(eclass);
}

static PyObject *
Get_error_string(PyObject *module, PyObject *arg)
{
    int code, eclass;
    if (error_code_arg(arg, "Get_error_string", &code, &eclass) < 0) {
        return NULL;
    }
    return error_text(code, 1);
}

PyObject *
fastmpi_not_available(const char *fname, int version, int subversion)
{
    return PyErr_Format(PyExc_NotImplementedError,
                        "%s() needs an MPI-%d.%d library; this one (%s) "
                        "implements MPI-%d.%d", fname, version, subversion,
                        FASTMPI_MPI_VENDOR, MPI_VERSION, MPI_SUBVERSION);
}

/* An int argument of a one-argument error function: 0 or -1. */
static int
int_arg(PyObject *arg, const char *fname, const char *argname, int *out)
{
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be int, not "
                     "%.100s", fname, argname, Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < INT_MIN || v > INT_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s() argument '%s' out of the "
                     "range of a C int: %R", fname, argname, arg);
        return -1;
    }
    *out = (int)v;
    return fastmpi_require_mpi();
}

static PyObject *
Add_error_class(PyObject *module, PyObject *unused)
{
    int eclass;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Add_error_class(&eclass)) < 0 ||
        remember_added(eclass) < 0) {
        return NULL;
    }
    return PyLong_FromLong(eclass);
}

static PyObject *
Add_error_code(PyObject *module, PyObject *arg)
{
    int eclass, code;
    if (int_arg(arg, "Add_error_code", "errorclass", &eclass) < 0) {
        return NULL;
    }
    if (!askable(eclass)) {
        return fastmpi_error_raise_detail(MPI_ERR_ARG, "Add_error_code(): "
                                          "%d is no error class", eclass);
    }
    if (fastmpi_check(MPI_Add_error_code(eclass, &code)) < 0 ||
        remember_added(code) < 0) {
        return NULL;
    }
    return PyLong_FromLong(code);
}

static PyObject *
Add_error_string(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                 PyObject *kwnames)
{
    static const char *const names[] = {"errorcode", "string", NULL};
    static fastmpi_argspec spec = {"Add_error_string", names, 2};
    PyObject *argv[2];
    int code;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        int_arg(argv[0], "Add_error_string", "errorcode", &code) < 0) {
        return NULL;
    }
    if (!PyUnicode_Check(argv[1])) {
        return PyErr_Format(PyExc_TypeError, "Add_error_string() argument "
                            "'string' must be str, not %.100s",
                            Py_TYPE(argv[1])->tp_name);
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(argv[1], &len);
    if (s == NULL) {
        return NULL;
    }
    if (len >= MPI_MAX_ERROR_STRING) {
        return PyErr_Format(PyExc_ValueError, "Add_error_string() argument "
                            "'string' is %zd bytes long; MPI takes at most "
                            "%d", len, MPI_MAX_ERROR_STRING - 1);
    }
    if (!askable(code)) {
        return fastmpi_error_raise_detail(MPI_ERR_ARG, "Add_error_string(): "
                                          "%d is no added error code", code);
    }
    if (fastmpi_check(MPI_Add_error_string(code, s)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
#define DEFINE_REMOVE(NAME, ARG, CALL)                                     \
    static PyObject *NAME(PyObject *module, PyObject *arg)                 \
    {                                                                      \
        int v;                                                             \
        if (int_arg(arg, #NAME, ARG, &v) < 0 ||                            \
            fastmpi_check(CALL(v)) < 0) {                                  \
            return NULL;                                                   \
        }                                                                  \
        Py_RETURN_NONE;                                                    \
    }
#else
#define DEFINE_REMOVE(NAME, ARG, CALL)                                     \
    static PyObject *NAME(PyObject *module, PyObject *arg)                 \
    {                                                                      \
        int v;                                                             \
        if (int_arg(arg, #NAME, ARG, &v) < 0) {                            \
            return NULL;                                                   \
        }                                                                  \
        return fastmpi_not_available(#NAME, 4, 1);                         \
    }
#endif

DEFINE_REMOVE(Remove_error_class, "errorclass", MPI_Remove_error_class)
DEFINE_REMOVE(Remove_error_code, "errorcode", MPI_Remove_error_code)
DEFINE_REMOVE(Remove_error_string, "errorcode", MPI_Remove_error_string)

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Add_error_code, "Add_error_code", "errorclass")
FASTMPI_ONE_ARG(Remove_error_class, "Remove_error_class", "errorclass")
FASTMPI_ONE_ARG(Remove_error_code, "Remove_error_code", "errorcode")
FASTMPI_ONE_ARG(Remove_error_string, "Remove_error_string", "errorcode")
FASTMPI_ONE_ARG(Get_error_class, "Get_error_class", "errorcode")
FASTMPI_ONE_ARG(Get_error_string, "Get_error_string", "errorcode")

static PyMethodDef error_functions[] = {
    {"Add_error_class", Add_error_class, METH_NOARGS,
     "Add_error_class($module)\n--\n\n"
     "Add_error_class() -> a new error class."},
    {"Add_error_code", FASTMPI_FASTCALL(Add_error_code_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Add_error_code($module, errorclass)\n--\n\n"
     "Add_error_code(errorclass) -> a new error code in that class."},
    {"Add_error_string", FASTMPI_FASTCALL(Add_error_string),
     METH_FASTCALL | METH_KEYWORDS,
     "Add_error_string($module, errorcode, string)\n--\n\n"
     "Add_error_string(errorcode, string): the text of an added code."},
    {"Remove_error_class", FASTMPI_FASTCALL(Remove_error_class_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Remove_error_class($module, errorclass)\n--\n\n"
     "Remove_error_class(errorclass): remove an added class (MPI-4.1)."},
    {"Remove_error_code", FASTMPI_FASTCALL(Remove_error_code_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Remove_error_code($module, errorcode)\n--\n\n"
     "Remove_error_code(errorcode): remove an added code (MPI-4.1)."},
    {"Remove_error_string", FASTMPI_FASTCALL(Remove_error_string_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Remove_error_string($module, errorcode)\n--\n\n"
     "Remove_error_string(errorcode): remove its text (MPI-4.1)."},
    {"Get_error_class", FASTMPI_FASTCALL(Get_error_class_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_error_class($module, errorcode)\n--\n\n"
     "Get_error_class(errorcode) -> the error class of an error code."},
    {"Get_error_string", FASTMPI_FASTCALL(Get_error_string_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_error_string($module, errorcode)\n--\n\n"
     "Get_error_string(errorcode) -> the MPI library's text for it."},
    {NULL},
};

int
fastmpi_errors_init(PyObject *module)
{
    if (PyModule_AddFunctions(module, error_functions) < 0) {
        return -1;
    }
    PyObject *type = (PyObject *)fastmpi_type_new(
        module, &Exception_spec, PyExc_RuntimeError, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Exception = type;    /* owned by the state */
    return PyModule_AddObjectRef(module, "Exception", type);
}

/* MPI.Exception(ERR_OTHER) with `why` as a note: its text must not come
 * from the MPI library, which cannot be asked now. */
int
fastmpi_error_raise_state(const char *why)
{
    PyObject *exc = PyObject_CallFunction(fastmpi_st->Exception, "i",
                                          MPI_ERR_OTHER);
    if (exc == NULL) {
        return -1;
    }
    PyObject *r = PyObject_CallMethod(exc, "add_note", "s", why);
    Py_XDECREF(r);
    if (r == NULL) {
        Py_DECREF(exc);
        return -1;
    }
    PyErr_SetObject(fastmpi_st->Exception, exc);
    Py_DECREF(exc);
    return -1;
}

int
fastmpi_require_mpi_slow(void)
{
    int finalized = 0;
    MPI_Finalized(&finalized);
    return fastmpi_error_raise_state(
        finalized ? "MPI is already finalized (MPI.Finalize() was called)"
                  : "MPI is not initialized: call MPI.Init() first, or "
                    "leave fastmpi.rc.initialize True");
}
