/* spawn.c: starting processes: Intracomm.Spawn and Spawn_multiple
 * (MPI_Comm_spawn, MPI_Comm_spawn_multiple).  The parent side; the child
 * finds its parent with Comm.Get_parent (commctor.c).
 *
 * The command, its arguments, maxprocs and info count at root only (the
 * other ranks may pass None, None, -1); errcodes, when a list is given,
 * is filled on every rank with one code per process this rank asked for.
 * The strings live in a Python list of bytes (`keep`) for the length of
 * the call; the GIL is released while MPI starts the processes. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "comm.h"

#include <string.h>

/* A command or an argument as bytes appended to keep: str (UTF-8),
 * bytes, or a path-like object (os.fspath).  Its text, borrowed from
 * keep, or NULL with an exception. */
static const char *
keep_text(PyObject *keep, PyObject *obj, const char *fname,
          const char *argname)
{
    PyObject *b = NULL;
    if (PyUnicode_Check(obj)) {
        b = PyUnicode_AsUTF8String(obj);
    }
    else if (PyBytes_Check(obj)) {
        b = Py_NewRef(obj);
    }
    else {
        PyObject *path = PyOS_FSPath(obj);
        if (path == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be str, "
                         "bytes or a path, not %.100s", fname, argname,
                         Py_TYPE(obj)->tp_name);
            return NULL;
        }
        b = PyUnicode_Check(path) ? PyUnicode_EncodeFSDefault(path)
                                  : Py_NewRef(path);
        Py_DECREF(path);
    }
    if (b == NULL) {
        return NULL;
    }
    if ((Py_ssize_t)strlen(PyBytes_AS_STRING(b)) != PyBytes_GET_SIZE(b)) {
        Py_DECREF(b);
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' contains a NUL "
                     "character", fname, argname);
        return NULL;
    }
    int r = PyList_Append(keep, b);
    Py_DECREF(b);
    return r < 0 ? NULL : PyBytes_AS_STRING(b);
}

/* argv for one command: NULL (MPI_ARGV_NULL) for None, else a
 * NULL-terminated PyMem array of texts kept in keep; *out.  0 or -1. */
static int
argv_of(PyObject *keep, PyObject *args, const char *fname, char ***out)
{
    *out = MPI_ARGV_NULL;
    if (args == NULL || args == Py_None) {
        return 0;
    }
    if (PyUnicode_Check(args) || PyBytes_Check(args)) {
        PyErr_Format(PyExc_TypeError, "%s() argument 'args' must be a "
                     "sequence of str, not one %.100s", fname,
                     Py_TYPE(args)->tp_name);
        return -1;
    }
    PyObject *seq = PySequence_Fast(args, "");
    if (seq == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s() argument 'args' must be a "
                     "sequence of str or None, not %.100s", fname,
                     Py_TYPE(args)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    char **argv = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    if (argv == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *t = keep_text(keep, PySequence_Fast_GET_ITEM(seq, i),
                                  fname, "args");
        if (t == NULL) {
            PyMem_Free(argv);
            Py_DECREF(seq);
            return -1;
        }
        argv[i] = (char *)t;
    }
    Py_DECREF(seq);
    *out = argv;
    return 0;
}

/* errcodes[:] = codes[0..n) (a list given by the caller). */
static int
fill_errcodes(PyObject *list, const int *codes, int n)
{
    PyObject *items = fastmpi_int_list(codes, n);
    if (items == NULL) {
        return -1;
    }
    int r = PyList_SetSlice(list, 0, PyList_GET_SIZE(list), items);
    Py_DECREF(items);
    return r;
}

static int
errcodes_arg(PyObject *obj, const char *fname)
{
    if (obj != NULL && obj != Py_None && !PyList_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s() argument 'errcodes' must be a "
                     "list (filled with one code per process) or None, "
                     "not %.100s", fname, Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

/* MPI.Exception for a failed spawn: the library's code and text, and
 * what to do where the library cannot spawn at all. */
static void
raise_spawn_error(const char *fname, int ierr)
{
    char text[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(ierr, text, &len) != MPI_SUCCESS || len < 0) {
        len = 0;
    }
    text[len] = '\0';
    fastmpi_error_raise_detail(
        ierr, "%s(): the MPI library could not start the processes: %s.  "
        "Where it cannot spawn (Debian's MPICH 4.0.2, built over UCX, or "
        "a process started without mpiexec), start all the processes at "
        "once instead: mpiexec -n N python3 program.py", fname, text);
}

static int
self_rank(FastMPICommObject *self, int *rank)
{
    return fastmpi_comm_check(self) < 0 ||
           fastmpi_check(MPI_Comm_rank(self->ob_mpi, rank)) < 0 ? -1 : 0;
}

/* Spawn(command, args=None, maxprocs=1, info=INFO_NULL, root=0,
 *       errcodes=None) */
static PyObject *
Intracomm_Spawn(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"command", "args", "maxprocs",
                                        "info", "root", "errcodes", NULL};
    static fastmpi_argspec spec = {"Spawn", names, 1};
    PyObject *argv[6];
    int maxprocs, root, rank;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 1, &maxprocs) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], 0, &root) < 0 ||
        errcodes_arg(argv[5], "Spawn") < 0 || self_rank(self, &rank) < 0) {
        return NULL;
    }
    int at_root = rank == root;
    if (at_root && maxprocs < 1) {
        return PyErr_Format(PyExc_ValueError, "Spawn() argument 'maxprocs' "
                            "is %d; at root it must be at least 1",
                            maxprocs);
    }
    PyObject *keep = PyList_New(0);
    if (keep == NULL) {
        return NULL;
    }
    const char *command = NULL;
    char **cargv = MPI_ARGV_NULL;
    int *codes = NULL;
    MPI_Info info = MPI_INFO_NULL;
    int have_info = 0;
    PyObject *result = NULL;
    if (at_root || argv[0] != Py_None) {
        command = keep_text(keep, argv[0], "Spawn", "command");
        if (command == NULL) {
            goto done;
        }
    }
    if (at_root && argv_of(keep, argv[1], "Spawn", &cargv) < 0) {
        goto done;
    }
    info = fastmpi_info_arg(argv[3], "Spawn", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        goto done;
    }
    have_info = 1;
    int ncodes = argv[5] != NULL && argv[5] != Py_None && maxprocs > 0
                     ? maxprocs : 0;
    if (ncodes > 0) {
        codes = PyMem_Calloc((size_t)ncodes, sizeof(int));
        if (codes == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    MPI_Comm comm = self->ob_mpi, child = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_spawn", comm, MPI_PROC_NULL, root, 0,
                 ierr = MPI_Comm_spawn(command, cargv, maxprocs, info, root,
                                       comm, &child,
                                       codes != NULL ? codes
                                                     : MPI_ERRCODES_IGNORE));
    FASTMPI_NOGIL_END
    if (ierr != MPI_SUCCESS) {
        raise_spawn_error("Spawn", ierr);
        goto done;
    }
    if (codes != NULL && fill_errcodes(argv[5], codes, ncodes) < 0) {
        goto done;
    }
    result = fastmpi_comm_new(fastmpi_st->Intercomm, child, 0);
done:
    if (have_info) {
        fastmpi_info_arg_release(argv[3], info);
    }
    if (cargv != MPI_ARGV_NULL) {
        PyMem_Free(cargv);
    }
    PyMem_Free(codes);
    Py_DECREF(keep);
    return result;
}

/* ---- Spawn_multiple ----------------------------------------------------- */

typedef struct {
    int count;
    char **commands;
    char ***argvs;
    int *maxprocs;
    MPI_Info *infos;
    PyObject **info_objs;       /* borrowed: for fastmpi_info_arg_release */
    int ninfos;                 /* infos made so far */
} multi_spec;

static void
multi_free(multi_spec *m)
{
    for (int i = 0; i < m->ninfos; i++) {
        fastmpi_info_arg_release(m->info_objs[i], m->infos[i]);
    }
    for (int i = 0; m->argvs != NULL && i < m->count; i++) {
        if (m->argvs[i] != MPI_ARGV_NULL) {
            PyMem_Free(m->argvs[i]);
        }
    }
    PyMem_Free(m->commands);
    PyMem_Free(m->argvs);
    PyMem_Free(m->maxprocs);
    PyMem_Free(m->infos);
    PyMem_Free(m->info_objs);
}

/* A sequence argument of count items (not str), or NULL with TypeError. */
static PyObject *
seq_arg(PyObject *obj, const char *argname, const char *what)
{
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        !PySequence_Check(obj)) {
        return PyErr_Format(PyExc_TypeError, "Spawn_multiple() argument "
                            "'%s' must be a sequence of %s, not %.100s",
                            argname, what, Py_TYPE(obj)->tp_name);
    }
    return PySequence_Fast(obj, "");
}

static int
check_len(PyObject *seq, int count, const char *argname)
{
    if (PySequence_Fast_GET_SIZE(seq) != count) {
        PyErr_Format(PyExc_ValueError, "Spawn_multiple() argument '%s' has "
                     "%zd items; command has %d", argname,
                     PySequence_Fast_GET_SIZE(seq), count);
        return -1;
    }
    return 0;
}

/* The root's part: commands, argvs, maxprocs, infos from the arguments. */
static int
multi_parse(PyObject *keep, PyObject *const *argv, multi_spec *m)
{
    PyObject *cmds = seq_arg(argv[0], "command", "commands");
    if (cmds == NULL) {
        return -1;
    }
    int rc = -1;
    PyObject *args = NULL, *procs = NULL, *infos = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(cmds);
    if (n < 1 || n > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "Spawn_multiple() argument "
                        "'command' must name at least one command");
        goto done;
    }
    m->count = (int)n;
    m->commands = PyMem_Calloc((size_t)n, sizeof(char *));
    m->argvs = PyMem_Calloc((size_t)n, sizeof(char **));
    m->maxprocs = PyMem_Calloc((size_t)n, sizeof(int));
    m->infos = PyMem_Calloc((size_t)n, sizeof(MPI_Info));
    m->info_objs = PyMem_Calloc((size_t)n, sizeof(PyObject *));
    if (!m->commands || !m->argvs || !m->maxprocs || !m->infos ||
        !m->info_objs) {
        PyErr_NoMemory();
        goto done;
    }
    if (argv[1] != NULL && argv[1] != Py_None &&
        ((args = seq_arg(argv[1], "args", "argument lists")) == NULL ||
         check_len(args, m->count, "args") < 0)) {
        goto done;
    }
    PyObject *mp = argv[2];
    if (mp != NULL && mp != Py_None && !PyLong_Check(mp) &&
        ((procs = seq_arg(mp, "maxprocs", "ints")) == NULL ||
         check_len(procs, m->count, "maxprocs") < 0)) {
        goto done;
    }
    PyObject *inf = argv[3];
    if (inf != NULL && inf != Py_None &&
        !PyObject_TypeCheck(inf, fastmpi_st->Info) &&
        ((infos = seq_arg(inf, "info", "Info")) == NULL ||
         check_len(infos, m->count, "info") < 0)) {
        goto done;
    }
    for (int i = 0; i < m->count; i++) {
        m->commands[i] = (char *)keep_text(
            keep, PySequence_Fast_GET_ITEM(cmds, i), "Spawn_multiple",
            "command");
        if (m->commands[i] == NULL ||
            argv_of(keep, args ? PySequence_Fast_GET_ITEM(args, i) : NULL,
                    "Spawn_multiple", &m->argvs[i]) < 0) {
            goto done;
        }
        PyObject *p = procs ? PySequence_Fast_GET_ITEM(procs, i)
                            : (mp != NULL && mp != Py_None ? mp : NULL);
        long v = 1;
        if (p != NULL) {
            if (!PyLong_Check(p)) {
                PyErr_Format(PyExc_TypeError, "Spawn_multiple() argument "
                             "'maxprocs' must hold ints, not %.100s",
                             Py_TYPE(p)->tp_name);
                goto done;
            }
            v = PyLong_AsLong(p);
            if (v == -1 && PyErr_Occurred()) {
                goto done;
            }
        }
        if (v < 1 || v > INT_MAX) {
            PyErr_Format(PyExc_ValueError, "Spawn_multiple() argument "
                         "'maxprocs' item %d is %ld; each must be at least "
                         "1", i, v);
            goto done;
        }
        m->maxprocs[i] = (int)v;
        m->info_objs[i] = infos ? PySequence_Fast_GET_ITEM(infos, i) : inf;
        m->infos[i] = fastmpi_info_arg(m->info_objs[i], "Spawn_multiple",
                                       "info");
        if (m->infos[i] == MPI_INFO_NULL && PyErr_Occurred()) {
            goto done;
        }
        m->ninfos = i + 1;
    }
    rc = 0;
done:
    Py_DECREF(cmds);
    Py_XDECREF(args);
    Py_XDECREF(procs);
    Py_XDECREF(infos);
    return rc;
}

/* The codes this rank asked for, per command: its maxprocs argument (a
 * sequence of one int per command, one int for all, or None: 1 each) as
 * a PyMem array of *n = len(command) counts in *counts.  Where it gave no
 * usable ones (MPI reads them at root only) *counts stays NULL.  0, or -1
 * with MemoryError. */
static int
local_counts(PyObject *command, PyObject *maxprocs, int **counts,
             Py_ssize_t *n)
{
    *counts = NULL;
    *n = command != NULL && command != Py_None && PySequence_Check(command)
             ? PySequence_Size(command) : -1;
    if (*n < 0) {
        PyErr_Clear();
        return 0;
    }
    int one = maxprocs != NULL && PyLong_Check(maxprocs);
    int many = maxprocs != NULL && maxprocs != Py_None && !one;
    if (many && PySequence_Size(maxprocs) != *n) {
        PyErr_Clear();
        return 0;
    }
    int *c = PyMem_Calloc((size_t)*n + 1, sizeof(int));
    if (c == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        long v = 1;
        if (one || many) {
            PyObject *item = one ? Py_NewRef(maxprocs)
                                 : PySequence_GetItem(maxprocs, i);
            v = item != NULL ? PyLong_AsLong(item) : -1;
            Py_XDECREF(item);
        }
        if (v < 0 || v > INT_MAX || PyErr_Occurred()) {
            PyErr_Clear();
            PyMem_Free(c);
            return 0;
        }
        c[i] = (int)v;
    }
    *counts = c;
    return 0;
}

/* errcodes[:] = one list per command, of its counts[i] codes. */
static int
fill_errcodes_multiple(PyObject *list, const int *counts, Py_ssize_t n,
                       const int *codes)
{
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *one = fastmpi_int_list(codes, counts[i]);
        if (one == NULL) {
            Py_DECREF(out);
            return -1;
        }
        codes += counts[i];
        PyList_SET_ITEM(out, i, one);
    }
    int r = PyList_SetSlice(list, 0, PyList_GET_SIZE(list), out);
    Py_DECREF(out);
    return r;
}

/* Spawn_multiple(command, args=None, maxprocs=None, info=INFO_NULL,
 *                root=0, errcodes=None) */
static PyObject *
Intracomm_Spawn_multiple(FastMPICommObject *self, PyObject *const *args,
                         Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"command", "args", "maxprocs",
                                        "info", "root", "errcodes", NULL};
    static fastmpi_argspec spec = {"Spawn_multiple", names, 1};
    PyObject *argv[6];
    int root, rank;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 4, argv[4], 0, &root) < 0 ||
        errcodes_arg(argv[5], "Spawn_multiple") < 0 ||
        self_rank(self, &rank) < 0) {
        return NULL;
    }
    PyObject *keep = PyList_New(0);
    if (keep == NULL) {
        return NULL;
    }
    multi_spec m;
    memset(&m, 0, sizeof(m));
    PyObject *result = NULL;
    int *codes = NULL, *counts = NULL;
    Py_ssize_t ncommands = 0;
    if (rank == root && multi_parse(keep, argv, &m) < 0) {
        goto done;
    }
    if (argv[5] != NULL && argv[5] != Py_None &&
        local_counts(argv[0], argv[2], &counts, &ncommands) < 0) {
        goto done;
    }
    long ncodes = 0;
    for (Py_ssize_t i = 0; counts != NULL && i < ncommands; i++) {
        ncodes += counts[i];
    }
    if (counts != NULL) {
        codes = PyMem_Calloc((size_t)ncodes + 1, sizeof(int));
        if (codes == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    MPI_Comm comm = self->ob_mpi, child = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_spawn_multiple", comm, MPI_PROC_NULL, root, 0,
                 ierr = MPI_Comm_spawn_multiple(
                     m.count, m.commands, m.argvs, m.maxprocs, m.infos, root,
                     comm, &child,
                     codes != NULL ? codes : MPI_ERRCODES_IGNORE));
    FASTMPI_NOGIL_END
    if (ierr != MPI_SUCCESS) {
        raise_spawn_error("Spawn_multiple", ierr);
        goto done;
    }
    if (codes != NULL &&
        fill_errcodes_multiple(argv[5], counts, ncommands, codes) < 0) {
        goto done;
    }
    result = fastmpi_comm_new(fastmpi_st->Intercomm, child, 0);
done:
    multi_free(&m);
    PyMem_Free(counts);
    PyMem_Free(codes);
    Py_DECREF(keep);
    return result;
}

PyMethodDef fastmpi_spawn_intracomm_methods[] = {
    {"Spawn", FASTMPI_FASTCALL(Intracomm_Spawn),
     METH_FASTCALL | METH_KEYWORDS,
     "Spawn($self, command, args=None, maxprocs=1, info=INFO_NULL, root=0, "
     "errcodes=None)\n--\n\n"
     "Spawn(command, args=None, maxprocs=1, info=INFO_NULL, root=0, "
     "errcodes=None) -> Intercomm to maxprocs new processes running "
     "command (collective; command, args, maxprocs and info read at "
     "root; errcodes, a list, gets one code per process)."},
    {"Spawn_multiple", FASTMPI_FASTCALL(Intracomm_Spawn_multiple),
     METH_FASTCALL | METH_KEYWORDS,
     "Spawn_multiple($self, command, args=None, maxprocs=None, "
     "info=INFO_NULL, root=0, errcodes=None)\n--\n\n"
     "Spawn_multiple(command, args=None, maxprocs=None, info=INFO_NULL, "
     "root=0, errcodes=None) -> Intercomm to the processes of several "
     "commands (sequences, one item per command; maxprocs an int or None "
     "for 1 each, info one Info for all; errcodes gets one list per "
     "command)."},
    {NULL},
};
