/* environment.c: MPI start-up and shut-down (as fastmpi.rc says), and the
 * module functions about the MPI environment. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../2_buffer/datatype.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/pickle.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "module.h"

#include <string.h>

/* ---- start-up ---------------------------------------------------------- */

/* fastmpi.rc.errors, the error handler COMM_WORLD and COMM_SELF get once
 * MPI is initialised (communicators made from them inherit it), as mpi4py
 * does:
 *   'exception'  MPI_ERRORS_RETURN: every MPI error is an MPI.Exception
 *                (the default)
 *   'default'    the library's own (MPI_ERRORS_ARE_FATAL, unless the
 *                MPI library was told otherwise)
 *   'abort'      MPI_ERRORS_ABORT (MPI-4; MPI_ERRORS_ARE_FATAL on an
 *                MPI-3 library such as Open MPI 4.1, and on MPICH 4.0,
 *                which cannot set MPI_ERRORS_ABORT: compat.h)
 *   'fatal'      MPI_ERRORS_ARE_FATAL
 * Only MPI's own errors go through it: what fastmpi checks itself before
 * calling MPI (bad ranks, sizes, types) raises Python exceptions under
 * every policy. */
enum { ERRORS_EXCEPTION, ERRORS_DEFAULT, ERRORS_ABORT, ERRORS_FATAL };

static int
errors_policy_from_name(PyObject *value, int *policy)
{
    static const char *const names[] = {"exception", "default", "abort",
                                        "fatal"};
    const char *s = PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
    for (int i = 0; s != NULL && i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *policy = i;
            return 0;
        }
    }
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError,
                 "fastmpi.rc.errors must be 'exception', 'default', 'abort' "
                 "or 'fatal', not %R", value);
    return -1;
}

/* After MPI_Init*: the error handler of the predefined communicators, as
 * fastmpi.rc.errors says. */
static int
after_init(void)
{
    fastmpi_mpi_active = 1;
    MPI_Errhandler h = MPI_ERRORS_RETURN;
    switch (fastmpi_st->errors_policy) {
    case ERRORS_DEFAULT:
        return 0;
    case ERRORS_ABORT:
#if FASTMPI_HAVE_ERRORS_ABORT
        h = MPI_ERRORS_ABORT;
#else
        h = MPI_ERRORS_ARE_FATAL;   /* MPI-3, or MPICH 4.0 (compat.h) */
#endif
        break;
    case ERRORS_FATAL:
        h = MPI_ERRORS_ARE_FATAL;
        break;
    default:
        break;
    }
    if (fastmpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, h)) < 0 ||
        fastmpi_check(MPI_Comm_set_errhandler(MPI_COMM_SELF, h)) < 0) {
        return -1;
    }
    return 0;
}

static int
init_thread(int required, int *provided)
{
    int ierr, initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized) {
        return fastmpi_error_raise_state(
            finalized ? "MPI was finalized and cannot be initialized again"
                      : "MPI is already initialized; MPI can be "
                        "initialized once per process");
    }
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Init_thread(NULL, NULL, required, provided);
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return -1;
    }
    fastmpi_st->initialized_here = 1;
    return after_init();
}

static int
thread_level_from_name(PyObject *value, int *level)
{
    if (PyLong_Check(value)) {
        *level = (int)PyLong_AsLong(value);
        return PyErr_Occurred() ? -1 : 0;
    }
    const char *s = PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
    if (s != NULL) {
        if (strcmp(s, "multiple") == 0) {
            *level = MPI_THREAD_MULTIPLE;
            return 0;
        }
        if (strcmp(s, "serialized") == 0) {
            *level = MPI_THREAD_SERIALIZED;
            return 0;
        }
        if (strcmp(s, "funneled") == 0) {
            *level = MPI_THREAD_FUNNELED;
            return 0;
        }
        if (strcmp(s, "single") == 0) {
            *level = MPI_THREAD_SINGLE;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError,
                 "fastmpi.rc.thread_level must be 'multiple', 'serialized', "
                 "'funneled' or 'single', not %R", value);
    return -1;
}

/* What fastmpi.rc says.  Its other options are accepted for mpi4py
 * programs and need nothing here: fast_reduce (fastmpi's object
 * reductions are its own), recv_mprobe (recv() of objects always matches
 * the message with a matched probe first) and irecv_bufsz (irecv() of
 * objects takes a message of any size, so no default buffer is
 * needed). */
typedef struct {
    int initialize;
    int threads;
    int level;
    int finalize;   /* -1: None (if we initialised) */
    int recv_guard;
    int strided;
    int errors;     /* ERRORS_* */
} rc_options;

/* Read fastmpi.rc if the package is there; defaults otherwise. */
static int
read_rc(rc_options *rc)
{
    rc->initialize = 1;
    rc->threads = 1;
    rc->level = MPI_THREAD_MULTIPLE;
    rc->finalize = -1;
    rc->recv_guard = 1;
    rc->strided = 1;
    rc->errors = ERRORS_EXCEPTION;
    PyObject *pkg = PyImport_ImportModule("fastmpi");
    if (pkg == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *opts = PyObject_GetAttrString(pkg, "rc");
    Py_DECREF(pkg);
    if (opts == NULL) {
        PyErr_Clear();
        return 0;
    }
    int rc_ok = -1;
    PyObject *v;
    if ((v = PyObject_GetAttrString(opts, "initialize")) == NULL ||
        (rc->initialize = PyObject_IsTrue(v)) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "threads"));
    if (v == NULL || (rc->threads = PyObject_IsTrue(v)) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "thread_level"));
    if (v == NULL || thread_level_from_name(v, &rc->level) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "finalize"));
    if (v == NULL) {
        goto done;
    }
    if (v != Py_None && (rc->finalize = PyObject_IsTrue(v)) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "recv_guard"));
    if (v == NULL || (rc->recv_guard = PyObject_IsTrue(v)) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "strided"));
    if (v == NULL || (rc->strided = PyObject_IsTrue(v)) < 0) {
        goto done;
    }
    Py_SETREF(v, PyObject_GetAttrString(opts, "errors"));
    if (v == NULL || errors_policy_from_name(v, &rc->errors) < 0) {
        goto done;
    }
    rc_ok = 0;
done:
    Py_XDECREF(v);
    Py_DECREF(opts);
    return rc_ok;
}

static PyObject *
atexit_finalize(PyObject *module, PyObject *unused)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    int want = fastmpi_st->finalize_at_exit < 0
        ? fastmpi_st->initialized_here : fastmpi_st->finalize_at_exit;
    if (!initialized || finalized || !want) {
        Py_RETURN_NONE;
    }
    if (fastmpi_st->attached_buffer != NULL) {
        void *addr;
        int size;
        FASTMPI_NOGIL_BEGIN
        MPI_Buffer_detach(&addr, &size);
        FASTMPI_NOGIL_END
        PyBuffer_Release(&fastmpi_st->attached_view);
        Py_CLEAR(fastmpi_st->attached_buffer);
    }
    int ierr;
    fastmpi_request_before_finalize();
    fastmpi_area_before_finalize();
    fastmpi_dtnumpy_before_finalize();
    fastmpi_strided_before_finalize();
    fastmpi_mpi_active = 0;
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Finalize();
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef atexit_def = {"_atexit_finalize", atexit_finalize,
                                 METH_NOARGS, NULL};

static int
register_atexit(PyObject *module)
{
    PyObject *atexit = PyImport_ImportModule("atexit");
    if (atexit == NULL) {
        return -1;
    }
    PyObject *func = PyCFunction_NewEx(&atexit_def, NULL, NULL);
    PyObject *r = func ? PyObject_CallMethod(atexit, "register", "O", func)
                       : NULL;
    Py_XDECREF(func);
    Py_DECREF(atexit);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* ---- module functions -------------------------------------------------- */

static PyObject *
Init(PyObject *module, PyObject *unused)
{
    int provided;
    if (init_thread(MPI_THREAD_SINGLE, &provided) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Init_thread(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"required", NULL};
    static fastmpi_argspec spec = {"Init_thread", names, 0};
    PyObject *argv[1];
    int required, provided = MPI_THREAD_SINGLE;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], MPI_THREAD_MULTIPLE, &required) <
            0) {
        return NULL;
    }
    if (required < MPI_THREAD_SINGLE || required > MPI_THREAD_MULTIPLE) {
        return PyErr_Format(PyExc_ValueError,
                            "Init_thread() argument 'required' must be one "
                            "of the THREAD_* levels, not %d", required);
    }
    if (init_thread(required, &provided) < 0) {
        return NULL;
    }
    return PyLong_FromLong(provided);
}

static PyObject *
Finalize(PyObject *module, PyObject *unused)
{
    int ierr;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    fastmpi_request_before_finalize();
    fastmpi_area_before_finalize();
    fastmpi_dtnumpy_before_finalize();
    fastmpi_strided_before_finalize();
    fastmpi_mpi_active = 0;
    fastmpi_callbacks_begin();   /* COMM_SELF's attributes go first (attr.c) */
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Finalize();
    FASTMPI_NOGIL_END
    fastmpi_check(ierr);
    if (fastmpi_callbacks_end() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Is_initialized(PyObject *module, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_check(MPI_Initialized(&flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Is_finalized(PyObject *module, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_check(MPI_Finalized(&flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Query_thread(PyObject *module, PyObject *unused)
{
    int level = 0;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (fastmpi_check(MPI_Query_thread(&level)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(level);
}

static PyObject *
Is_thread_main(PyObject *module, PyObject *unused)
{
    int flag = 0;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (fastmpi_check(MPI_Is_thread_main(&flag)) < 0) {
        return NULL;
    }
    return PyBool_FromLong(flag);
}

static PyObject *
Wtime(PyObject *module, PyObject *unused)
{
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(MPI_Wtime());
}

static PyObject *
Wtick(PyObject *module, PyObject *unused)
{
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(MPI_Wtick());
}

static PyObject *
Get_processor_name(PyObject *module, PyObject *unused)
{
    char name[MPI_MAX_PROCESSOR_NAME + 1];
    int len = 0;
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (fastmpi_check(MPI_Get_processor_name(name, &len)) < 0) {
        return NULL;
    }
    return PyUnicode_FromStringAndSize(name, len);
}

static PyObject *
Get_version(PyObject *module, PyObject *unused)
{
    int version = 0, subversion = 0;
    if (fastmpi_check(MPI_Get_version(&version, &subversion)) < 0) {
        return NULL;
    }
    return Py_BuildValue("(ii)", version, subversion);
}

static PyObject *
Get_library_version(PyObject *module, PyObject *unused)
{
    char text[MPI_MAX_LIBRARY_VERSION_STRING + 1];
    int len = 0;
    if (fastmpi_check(MPI_Get_library_version(text, &len)) < 0) {
        return NULL;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\0')) {
        len--;
    }
    return PyUnicode_DecodeUTF8(text, len, "replace");
}


/* get_vendor() -> (name, (major, minor, micro)): the MPI library fastmpi
 * was built against (mpi4py's function of the same name). */
static PyObject *
get_vendor(PyObject *module, PyObject *unused)
{
    return Py_BuildValue("s(iii)", FASTMPI_MPI_VENDOR,
                         FASTMPI_VENDOR_VERSION);
}

/* Pcontrol(level): MPI_Pcontrol, for profiling libraries (level 0 off,
 * 1 on, 2 flush; others as the profiler says). */
static PyObject *
Pcontrol(PyObject *module, PyObject *arg)
{
    if (!PyLong_Check(arg)) {
        return PyErr_Format(PyExc_TypeError, "Pcontrol() argument 'level' "
                            "must be int, not %.100s",
                            Py_TYPE(arg)->tp_name);
    }
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (v < INT_MIN || v > INT_MAX) {
        return PyErr_Format(PyExc_OverflowError, "Pcontrol() argument "
                            "'level' out of range: %ld", v);
    }
    int level = (int)v;
    if (fastmpi_require_mpi() < 0 || fastmpi_check(MPI_Pcontrol(level)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- MPI-4.1 and MPI-5 queries ----------------------------------------- */

#if MPI_VERSION > 4 || (MPI_VERSION == 4 && MPI_SUBVERSION >= 1)
static PyObject *
Get_hw_resource_info(PyObject *module, PyObject *unused)
{
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Get_hw_resource_info(&info)) < 0) {
        return NULL;
    }
    return fastmpi_info_new(fastmpi_st->Info, info, 0);
}
#else
static PyObject *
Get_hw_resource_info(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Get_hw_resource_info", 4, 1);
}
#endif

/* The MPI-5 standard ABI's queries: no library here implements it (see
 * compat.h), so they say so. */
static PyObject *
Get_abi_version(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Get_abi_version", 5, 0);
}

static PyObject *
Get_abi_info(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Get_abi_info", 5, 0);
}

static PyObject *
Get_abi_fortran_info(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Get_abi_fortran_info", 5, 0);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Pcontrol, "Pcontrol", "level")

static PyMethodDef environment_functions[] = {
    {"Get_hw_resource_info", Get_hw_resource_info, METH_NOARGS,
     "Get_hw_resource_info($module)\n--\n\n"
     "Get_hw_resource_info() -> Info about the hardware (MPI-4.1)."},
    {"Get_abi_version", Get_abi_version, METH_NOARGS,
     "Get_abi_version($module)\n--\n\n"
     "Get_abi_version() -> (version, subversion) of the standard ABI "
     "(MPI-5)."},
    {"Get_abi_info", Get_abi_info, METH_NOARGS,
     "Get_abi_info($module)\n--\n\n"
     "Get_abi_info() -> Info about the standard ABI (MPI-5)."},
    {"Get_abi_fortran_info", Get_abi_fortran_info, METH_NOARGS,
     "Get_abi_fortran_info($module)\n--\n\n"
     "Get_abi_fortran_info() -> Info about the ABI's Fortran types "
     "(MPI-5)."},
    {"get_vendor", get_vendor, METH_NOARGS,
     "get_vendor($module)\n--\n\n"
     "get_vendor() -> (name, (major, minor, micro)) of the MPI library."},
    {"Pcontrol", FASTMPI_FASTCALL(Pcontrol_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Pcontrol($module, level)\n--\n\n"
     "Pcontrol(level): control profiling (MPI_Pcontrol)."},
    {"Init", Init, METH_NOARGS, "Init($module)\n--\n\n"
                                "Initialise MPI."},
    {"Init_thread", FASTMPI_FASTCALL(Init_thread),
     METH_FASTCALL | METH_KEYWORDS,
     "Init_thread($module, required=THREAD_MULTIPLE)\n--\n\n"
     "Init_thread(required=THREAD_MULTIPLE) -> provided level."},
    {"Finalize", Finalize, METH_NOARGS, "Finalize($module)\n--\n\n"
                                        "Finalise MPI."},
    {"Is_initialized", Is_initialized, METH_NOARGS,
     "Is_initialized($module)\n--\n\n"
     "Whether MPI is initialised."},
    {"Is_finalized", Is_finalized, METH_NOARGS,
     "Is_finalized($module)\n--\n\n"
     "Whether MPI is finalised."},
    {"Query_thread", Query_thread, METH_NOARGS,
     "Query_thread($module)\n--\n\n"
     "The thread support level provided."},
    {"Is_thread_main", Is_thread_main, METH_NOARGS,
     "Is_thread_main($module)\n--\n\n"
     "Whether this thread called MPI_Init."},
    {"Wtime", Wtime, METH_NOARGS, "Wtime($module)\n--\n\n"
                                  "Elapsed wall-clock time in seconds."},
    {"Wtick", Wtick, METH_NOARGS, "Wtick($module)\n--\n\n"
                                  "Resolution of Wtime in seconds."},
    {"Get_processor_name", Get_processor_name, METH_NOARGS,
     "Get_processor_name($module)\n--\n\n"
     "Name of this processor."},
    {"Get_version", Get_version, METH_NOARGS,
     "Get_version($module)\n--\n\n"
     "(version, subversion) of the MPI standard the library provides."},
    {"Get_library_version", Get_library_version, METH_NOARGS,
     "Get_library_version($module)\n--\n\n"
     "The MPI library's version text."},
    {NULL},
};

int
fastmpi_environment_init(PyObject *module)
{
    rc_options rc;
    if (PyModule_AddFunctions(module, environment_functions) < 0 ||
        read_rc(&rc) < 0) {
        return -1;
    }
    fastmpi_st->finalize_at_exit = rc.finalize;
    fastmpi_st->errors_policy = rc.errors;
    fastmpi_st->strided_buffers = rc.strided;
    fastmpi_recv_guard = FASTMPI_TRUNCATION_OVERFLOWS && rc.recv_guard;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (rc.initialize && !initialized) {
        int provided;
        int level = rc.threads ? rc.level : MPI_THREAD_SINGLE;
        if (init_thread(level, &provided) < 0) {
            return -1;
        }
    }
    else if (initialized && after_init() < 0) {
        return -1;
    }
    return register_atexit(module);
}
