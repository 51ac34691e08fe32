/* winfile.c: the handle classes MPI.Win (one-sided communication) and
 * MPI.File (MPI-IO) with WIN_NULL and FILE_NULL, the WIN_* attribute
 * keys, and Win.Free / File.Close.
 *
 * Their operations are not here yet: what is here is what every handle
 * class has (1_handle: handle, py2f/f2py, toint/fromint, fromhandle,
 * free, ==, bool, repr, pickling of the null objects by name), so that
 * programs and modules that name them (isinstance checks, WIN_NULL as a
 * default argument, the attribute keys) load and run.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "comm.h"

typedef struct {
    PyObject_HEAD
    MPI_Win ob_mpi;
    int flags;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIWinObject;

typedef struct {
    PyObject_HEAD
    MPI_File ob_mpi;
    int flags;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIFileObject;

/* The flags of a Win or File object (their structs differ: the handle
 * is an int or a pointer). */
static int *
flags_of(PyObject *self, const fastmpi_handle_kind *kind)
{
    return (int *)((char *)self + kind->flags_offset);
}

/* New reference: an object of `type` (Win or File, or a subclass), whose
 * handle is the handle of `other` (an object of `root`) or `null`. */
static PyObject *
handle_copy(PyTypeObject *type, PyTypeObject *root, PyObject *other,
            const char *cls, const char *argname,
            const fastmpi_handle_kind *kind, const void *null)
{
    if (other != NULL && other != Py_None &&
        !PyObject_TypeCheck(other, root)) {
        return PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be "
                            "MPI.%s, not %.100s", cls, argname, cls,
                            Py_TYPE(other)->tp_name);
    }
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    char *dst = (char *)self + kind->offset;
    if (other != NULL && other != Py_None) {
        memcpy(dst, (char *)other + kind->offset, (size_t)kind->size);
        /* a copy of a predefined (null) handle is predefined too */
        *flags_of(self, kind) = *flags_of(other, kind) & FASTMPI_PREDEFINED;
    }
    else {
        memcpy(dst, null, (size_t)kind->size);
    }
    return self;
}

/* ---- Win ---------------------------------------------------------------- */

static const fastmpi_handle_kind win_kind;

static PyObject *
Win_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"win", NULL};
    PyObject *other = NULL;
    MPI_Win null = MPI_WIN_NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Win", kwlist, &other)) {
        return NULL;
    }
    return handle_copy(type, fastmpi_st->Win, other, "Win", "win",
                       &win_kind, &null);
}

static PyObject *
Win_Free(FastMPIWinObject *self, PyObject *unused)
{
    if (self->flags & FASTMPI_PREDEFINED) {
        return fastmpi_error_raise_detail(MPI_ERR_WIN, "Free(): WIN_NULL "
                                          "cannot be freed");
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Win_free(&self->ob_mpi);
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static const fastmpi_handle_name win_names[] = {
    FASTMPI_HANDLE_NAME(WIN_NULL),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(win, Win, MPI_Win, 0)
FASTMPI_HANDLE_SLOTS(win_kind, fastmpi_st->Win)

static const fastmpi_handle_kind win_kind = {
    .name = "Win",
    .size = sizeof(MPI_Win),
    .offset = offsetof(FastMPIWinObject, ob_mpi),
    .flags_offset = offsetof(FastMPIWinObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_WIN_NULL),
    .names = win_names,
    .local = "an MPI window is local to its process",
    .c2f = win_c2f,
    .f2c = win_f2c,
    .toint = win_toint,
    .fromint = win_fromint,
    .free = (PyCFunction)Win_Free,
    .slots = win_kind_slots,
};

/* The constructors of the operations to come: NotImplementedError (not
 * a missing attribute), which programs and test suites that probe for
 * one-sided communication or MPI-IO catch. */
static PyObject *
not_yet(PyObject *cls, PyObject *args, PyObject *kwds)
{
    return PyErr_Format(PyExc_NotImplementedError, "%s: not implemented in "
                        "fastmpi yet", ((PyTypeObject *)cls)->tp_name);
}

#define NOT_YET(NAME, DOC)                                                 \
    {NAME, (PyCFunction)(void (*)(void))not_yet,                           \
     METH_VARARGS | METH_KEYWORDS | METH_CLASS, DOC " (not implemented "   \
     "yet: raises NotImplementedError)."}

static PyMethodDef Win_methods[] = {
    {"Free", (PyCFunction)Win_Free, METH_NOARGS,
     "Free(): free the window (collective)."},
    NOT_YET("Create", "Create(memory, disp_unit=1, info=INFO_NULL, "
                      "comm=COMM_SELF) -> Win"),
    NOT_YET("Allocate", "Allocate(size, disp_unit=1, info=INFO_NULL, "
                        "comm=COMM_SELF) -> Win"),
    NOT_YET("Allocate_shared", "Allocate_shared(size, disp_unit=1, "
                               "info=INFO_NULL, comm=COMM_SELF) -> Win"),
    NOT_YET("Create_dynamic", "Create_dynamic(info=INFO_NULL, "
                              "comm=COMM_SELF) -> Win"),
    NOT_YET("Create_keyval", "Create_keyval(copy_fn=None, delete_fn=None, "
                             "nopython=False) -> int"),
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Win_members, FastMPIWinObject);

/* As in mpi4py, dropping the object does not free the win: its Free()
 * is collective. */
static void
Win_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIWinObject);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot Win_slots[] = {
    {Py_tp_members, Win_members},
    {Py_tp_dealloc, Win_dealloc},
    {Py_tp_doc, "Win(win=None)\n--\n\n"
                "Win(win=None): a window of memory for one-sided "
                "communication."},
    {Py_tp_new, Win_tp_new},
    {Py_tp_methods, Win_methods},
    {0, NULL},
};

static PyType_Spec Win_spec = {
    .name = "fastmpi.MPI.Win",
    .basicsize = sizeof(FastMPIWinObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Win_slots,
};

/* ---- File --------------------------------------------------------------- */

static const fastmpi_handle_kind file_kind;

static PyObject *
File_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"file", NULL};
    PyObject *other = NULL;
    MPI_File null = MPI_FILE_NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:File", kwlist,
                                     &other)) {
        return NULL;
    }
    return handle_copy(type, fastmpi_st->File, other, "File", "file",
                       &file_kind, &null);
}

static PyObject *
File_Close(FastMPIFileObject *self, PyObject *unused)
{
    if (self->flags & FASTMPI_PREDEFINED) {
        return fastmpi_error_raise_detail(MPI_ERR_FILE, "Close(): "
                                          "FILE_NULL cannot be closed");
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_File_close(&self->ob_mpi);
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static const fastmpi_handle_name file_names[] = {
    FASTMPI_HANDLE_NAME(FILE_NULL),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(file, File, MPI_File, 0)
FASTMPI_HANDLE_SLOTS(file_kind, fastmpi_st->File)

static const fastmpi_handle_kind file_kind = {
    .name = "File",
    .size = sizeof(MPI_File),
    .offset = offsetof(FastMPIFileObject, ob_mpi),
    .flags_offset = offsetof(FastMPIFileObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_FILE_NULL),
    .names = file_names,
    .local = "an MPI file is local to its process",
    .c2f = file_c2f,
    .f2c = file_f2c,
    .toint = file_toint,
    .fromint = file_fromint,
    .free = (PyCFunction)File_Close,
    .slots = file_kind_slots,
};

static PyMethodDef File_methods[] = {
    {"Close", (PyCFunction)File_Close, METH_NOARGS,
     "Close(): close the file (collective)."},
    NOT_YET("Open", "Open(comm, filename, amode=MODE_RDONLY, "
                    "info=INFO_NULL) -> File"),
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(File_members, FastMPIFileObject);

/* As in mpi4py, dropping the object does not close the file: Close() is
 * collective. */
static void
File_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIFileObject);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot File_slots[] = {
    {Py_tp_members, File_members},
    {Py_tp_dealloc, File_dealloc},
    {Py_tp_doc, "File(file=None)\n--\n\n"
                "File(file=None): a file opened for parallel I/O."},
    {Py_tp_new, File_tp_new},
    {Py_tp_methods, File_methods},
    {0, NULL},
};

static PyType_Spec File_spec = {
    .name = "fastmpi.MPI.File",
    .basicsize = sizeof(FastMPIFileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = File_slots,
};

/* ---- init --------------------------------------------------------------- */

typedef struct {
    const char *name;
    long value;
} winfile_constant;

/* The class, its null object (predefined) and its name in the module. */
static PyTypeObject *
make_class(PyObject *module, PyType_Spec *spec,
           const fastmpi_handle_kind *kind, const char *null_name)
{
    PyTypeObject *type = fastmpi_handle_type_new(module, spec, kind, NULL);
    if (type == NULL) {
        return NULL;
    }
    PyObject *null = PyObject_CallNoArgs((PyObject *)type);
    if (null == NULL) {
        Py_DECREF(type);
        return NULL;
    }
    *flags_of(null, kind) = FASTMPI_PREDEFINED;
    const char *cls = strrchr(spec->name, '.') + 1;
    int r = PyModule_AddObjectRef(module, cls, (PyObject *)type) < 0 ||
            PyModule_AddObjectRef(module, null_name, null) < 0;
    Py_DECREF(null);
    if (r) {
        Py_DECREF(type);
        return NULL;
    }
    return type;            /* new reference: the state's */
}

int
fastmpi_winfile_init(PyObject *module)
{
    const winfile_constant constants[] = {
        {"WIN_BASE", MPI_WIN_BASE}, {"WIN_SIZE", MPI_WIN_SIZE},
        {"WIN_DISP_UNIT", MPI_WIN_DISP_UNIT},
        {"WIN_CREATE_FLAVOR", MPI_WIN_CREATE_FLAVOR},
        {"WIN_FLAVOR", MPI_WIN_CREATE_FLAVOR}, /* mpi4py's short name */
        {"WIN_MODEL", MPI_WIN_MODEL},
        {"WIN_FLAVOR_CREATE", MPI_WIN_FLAVOR_CREATE},
        {"WIN_FLAVOR_ALLOCATE", MPI_WIN_FLAVOR_ALLOCATE},
        {"WIN_FLAVOR_DYNAMIC", MPI_WIN_FLAVOR_DYNAMIC},
        {"WIN_FLAVOR_SHARED", MPI_WIN_FLAVOR_SHARED},
        {"WIN_SEPARATE", MPI_WIN_SEPARATE},
        {"WIN_UNIFIED", MPI_WIN_UNIFIED},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        if (PyModule_AddIntConstant(module, constants[i].name,
                                    constants[i].value) < 0) {
            return -1;
        }
    }
    if ((fastmpi_st->Win = make_class(module, &Win_spec, &win_kind,
                                      "WIN_NULL")) == NULL ||
        (fastmpi_st->File = make_class(module, &File_spec, &file_kind,
                                       "FILE_NULL")) == NULL) {
        return -1;
    }
    return 0;
}
