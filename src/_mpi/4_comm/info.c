/* info.c: MPI.Info, INFO_NULL and INFO_ENV, and `info` arguments.
 *
 * An Info is also a mapping of str to str.  INFO_NULL (and a freed Info)
 * reads as an empty mapping, as in mpi4py; the MPI-level calls (Get, Set,
 * Delete, Get_nkeys, ...) on it raise MPI.Exception(ERR_INFO), checked
 * here rather than left to the library.  Keys and values are checked
 * against MPI_MAX_INFO_KEY / MPI_MAX_INFO_VAL before MPI sees them.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "comm.h"

#include <string.h>


PyObject *
fastmpi_info_new(PyTypeObject *type, MPI_Info info, int flags)
{
    FastMPIInfoObject *self = (FastMPIInfoObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ob_mpi = info;
    self->flags = flags;
    return (PyObject *)self;
}

/* 0, or -1 with MPI.Exception(ERR_INFO) if the info is INFO_NULL. */
static int
info_check(FastMPIInfoObject *self, const char *fname)
{
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (Py_UNLIKELY(self->ob_mpi == MPI_INFO_NULL)) {
        fastmpi_error_raise_detail(MPI_ERR_INFO,
                                   "%s(): the info is INFO_NULL (freed, or "
                                   "never created)", fname);
        return -1;
    }
    return 0;
}

/* The mapping protocol on INFO_NULL, as mpi4py (and a dict without the
 * key): KeyError.  0, or -1 with it set.  The MPI-named methods (Set,
 * Get, ...) raise MPI.Exception(ERR_INFO) instead (info_check). */
static int
mapping_check(FastMPIInfoObject *self, const char *fname)
{
    if (Py_UNLIKELY(self->ob_mpi == MPI_INFO_NULL)) {
        PyErr_Format(PyExc_KeyError, "%s(): the info is INFO_NULL (it has "
                     "no keys and takes none)", fname);
        return -1;
    }
    return info_check(self, fname);
}

const char *
fastmpi_str_arg(PyObject *obj, int max, const char *fname,
                const char *argname)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s() argument '%s' must be str, "
                     "not %.100s", fname, argname, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (s == NULL) {
        return NULL;
    }
    if ((Py_ssize_t)strlen(s) != len) {
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' contains a NUL "
                     "character", fname, argname);
        return NULL;
    }
    if (len > max) {
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' is %zd bytes "
                     "long; MPI allows at most %d", fname, argname, len,
                     max);
        return NULL;
    }
    return s;
}

/* Keys and values are shorter than MPI_MAX_INFO_KEY/VAL bytes: Open MPI
 * 4.1.4 rejects that length itself, and MPICH 4.0.2 accepts a key of
 * MPI_MAX_INFO_KEY bytes but MPI_Info_get_nthkey then returns it cut by
 * one byte. */
static const char *
key_arg(PyObject *obj, const char *fname)
{
    return fastmpi_str_arg(obj, MPI_MAX_INFO_KEY - 1, fname, "key");
}

static const char *
value_arg(PyObject *obj, const char *fname)
{
    return fastmpi_str_arg(obj, MPI_MAX_INFO_VAL - 1, fname, "value");
}

/* The value of key (checked) in info (not INFO_NULL): a new str, or NULL
 * with *found = 0 and no exception when the key is absent, or NULL with
 * an exception. */
static PyObject *
info_lookup(MPI_Info info, const char *key, int *found)
{
    int len = 0, flag = 0;
    *found = 0;
    if (fastmpi_check(MPI_Info_get_valuelen(info, key, &len, &flag)) < 0) {
        return NULL;
    }
    if (!flag) {
        return NULL;
    }
    char *buf = PyMem_Malloc((size_t)len + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    int ierr = MPI_Info_get(info, key, len, buf, &flag);
    if (fastmpi_check(ierr) < 0) {
        PyMem_Free(buf);
        return NULL;
    }
    buf[len] = '\0';
    PyObject *value = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)strlen(buf),
                                           "surrogateescape");
    PyMem_Free(buf);
    if (value != NULL) {
        *found = flag;
    }
    return value;
}

static int
info_nkeys(MPI_Info info, int *n)
{
    *n = 0;
    if (info == MPI_INFO_NULL) {
        return 0;
    }
    return fastmpi_check(MPI_Info_get_nkeys(info, n));
}

/* New reference: key number i. */
static PyObject *
info_nthkey(MPI_Info info, int i)
{
    char key[MPI_MAX_INFO_KEY + 1];
    if (fastmpi_check(MPI_Info_get_nthkey(info, i, key)) < 0) {
        return NULL;
    }
    key[MPI_MAX_INFO_KEY] = '\0';
    return PyUnicode_DecodeUTF8(key, (Py_ssize_t)strlen(key),
                                "surrogateescape");
}

/* Set every (key, value) of `items` on info: a mapping (anything with
 * items()) or an iterable of pairs.  0 or -1. */
static int
info_fill(MPI_Info info, PyObject *items, const char *fname)
{
    PyObject *pairs;    /* new reference: an iterable of pairs */
    if (PyDict_Check(items)) {
        pairs = PyDict_Items(items);
    }
    else if (PyObject_HasAttrString(items, "items") &&
             !PyUnicode_Check(items)) {
        pairs = PyObject_CallMethod(items, "items", NULL);
    }
    else {
        pairs = Py_NewRef(items);
    }
    if (pairs == NULL) {
        return -1;
    }
    PyObject *it = PyObject_GetIter(pairs);
    Py_DECREF(pairs);
    if (it == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s() argument must be a mapping or an iterable "
                         "of (key, value) pairs, not %.100s", fname,
                         Py_TYPE(items)->tp_name);
        }
        return -1;
    }
    PyObject *pair;
    while ((pair = PyIter_Next(it)) != NULL) {
        PyObject *kv = PySequence_Fast(pair, "");   /* new reference */
        Py_DECREF(pair);
        if (kv == NULL || PySequence_Fast_GET_SIZE(kv) != 2) {
            if (kv != NULL || PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError,
                             "%s() argument: each item must be a (key, "
                             "value) pair", fname);
            }
            Py_XDECREF(kv);
            Py_DECREF(it);
            return -1;
        }
        const char *key = key_arg(PySequence_Fast_GET_ITEM(kv, 0), fname);
        const char *value = key == NULL ? NULL
            : value_arg(PySequence_Fast_GET_ITEM(kv, 1), fname);
        if (value == NULL ||
            fastmpi_check(MPI_Info_set(info, key, value)) < 0) {
            Py_DECREF(kv);
            Py_DECREF(it);
            return -1;
        }
        Py_DECREF(kv);
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

MPI_Info
fastmpi_info_arg(PyObject *obj, const char *fname, const char *argname)
{
    if (obj == NULL || obj == Py_None) {
        return MPI_INFO_NULL;
    }
    if (PyObject_TypeCheck(obj, fastmpi_st->Info)) {
        return ((FastMPIInfoObject *)obj)->ob_mpi;  /* INFO_NULL if freed */
    }
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) ||
        (!PyObject_HasAttrString(obj, "items") && !PyIter_Check(obj) &&
         !PySequence_Check(obj))) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be MPI.Info, a mapping of str "
                     "to str, or None, not %.100s", fname, argname,
                     Py_TYPE(obj)->tp_name);
        return MPI_INFO_NULL;
    }
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Info_create(&info)) < 0) {
        return MPI_INFO_NULL;
    }
    if (info_fill(info, obj, fname) < 0) {
        MPI_Info_free(&info);
        return MPI_INFO_NULL;
    }
    return info;
}

void
fastmpi_info_arg_release(PyObject *obj, MPI_Info info)
{
    if (obj != NULL && obj != Py_None &&
        !PyObject_TypeCheck(obj, fastmpi_st->Info) &&
        info != MPI_INFO_NULL) {
        MPI_Info_free(&info);
    }
}

/* ---- the type ---------------------------------------------------------- */

static PyObject *
Info_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"info", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Info", kwlist,
                                     &other)) {
        return NULL;
    }
    MPI_Info handle = MPI_INFO_NULL;
    int flags = 0;
    if (other != NULL && other != Py_None) {
        if (!PyObject_TypeCheck(other, fastmpi_st->Info)) {
            return PyErr_Format(PyExc_TypeError,
                                "Info() argument 'info' must be MPI.Info, "
                                "not %.100s", Py_TYPE(other)->tp_name);
        }
        handle = ((FastMPIInfoObject *)other)->ob_mpi;
        flags = ((FastMPIInfoObject *)other)->flags & FASTMPI_PREDEFINED;
    }
    return fastmpi_info_new(type, handle, flags);
}

static void
Info_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIInfoObject);
    /* As in mpi4py, only Free() frees the MPI info. */
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* Info.Create(items=None): a new info, holding items (a mapping or an
 * iterable of (key, value) pairs) if given. */
static PyObject *
Info_Create(PyTypeObject *cls, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"items", NULL};
    static fastmpi_argspec spec = {"Create", names, 0};
    PyObject *argv[1];
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Info_create(&info)) < 0) {
        return NULL;
    }
    if (argv[0] != NULL && argv[0] != Py_None &&
        info_fill(info, argv[0], "Create") < 0) {
        MPI_Info_free(&info);
        return NULL;
    }
    PyObject *obj = fastmpi_info_new(cls, info, 0);
    if (obj == NULL) {
        MPI_Info_free(&info);
    }
    return obj;
}

/* Info.Create_env(args=None): MPI-4's MPI_Info_create_env, the info of
 * how the process was started (command, argv, maxprocs, ...).  args is
 * the program's arguments (None: sys.argv is not passed, as MPI allows:
 * the library then knows what it knows). */
static PyObject *
Info_Create_env(PyTypeObject *cls, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    static const char *const names[] = {"args", NULL};
    static fastmpi_argspec spec = {"Create_env", names, 0};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *seq = NULL;
    if (argv[0] != NULL && argv[0] != Py_None) {
        seq = PySequence_Fast(argv[0], "Create_env() argument 'args' must "
                                       "be a sequence of str or None");
        if (seq == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *s = PySequence_Fast_GET_ITEM(seq, i);
            if (!PyUnicode_Check(s)) {
                Py_DECREF(seq);
                return PyErr_Format(PyExc_TypeError, "Create_env() argument "
                                    "'args'[%zd] must be str, not %.100s", i,
                                    Py_TYPE(s)->tp_name);
            }
        }
    }
#if MPI_VERSION >= 4
    int argc = 0;
    char **cargv = NULL;
    PyObject *result = NULL;
    if (seq != NULL) {
        argc = (int)PySequence_Fast_GET_SIZE(seq);
        cargv = PyMem_Calloc((size_t)argc + 1, sizeof(char *));
        if (cargv == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (int i = 0; i < argc; i++) {
            cargv[i] = (char *)PyUnicode_AsUTF8(
                PySequence_Fast_GET_ITEM(seq, i));
            if (cargv[i] == NULL) {
                goto done;
            }
        }
    }
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Info_create_env(argc, cargv, &info)) < 0) {
        goto done;
    }
    result = fastmpi_info_new(cls, info, 0);
    if (result == NULL) {
        MPI_Info_free(&info);
    }
done:
    PyMem_Free(cargv);
    Py_XDECREF(seq);
    return result;
#else
    Py_XDECREF(seq);
    return fastmpi_not_available("Create_env", 4, 0);
#endif
}

static PyObject *
Info_Dup(FastMPIInfoObject *self, PyObject *unused)
{
    MPI_Info info = MPI_INFO_NULL;
    if (info_check(self, "Dup") < 0 ||
        fastmpi_check(MPI_Info_dup(self->ob_mpi, &info)) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_info_new(Py_TYPE(self), info, 0);
    if (obj == NULL) {
        MPI_Info_free(&info);
    }
    return obj;
}

static PyObject *
Info_Free(FastMPIInfoObject *self, PyObject *unused)
{
    if (self->flags & FASTMPI_PREDEFINED) {
        return fastmpi_error_raise_detail(MPI_ERR_INFO,
                                          "Free(): a predefined info "
                                          "cannot be freed");
    }
    if (info_check(self, "Free") < 0 ||
        fastmpi_check(MPI_Info_free(&self->ob_mpi)) < 0) {
        return NULL;
    }
    self->ob_mpi = MPI_INFO_NULL;
    Py_RETURN_NONE;
}

/* Get(key, maxlen=-1) -> the value (at most maxlen characters when
 * maxlen >= 0), or None. */
static PyObject *
Info_Get(FastMPIInfoObject *self, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"key", "maxlen", NULL};
    static fastmpi_argspec spec = {"Get", names, 1};
    PyObject *argv[2];
    int maxlen, found = 0;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], -1, &maxlen) < 0) {
        return NULL;
    }
    const char *key = key_arg(argv[0], "Get");
    if (key == NULL || info_check(self, "Get") < 0) {
        return NULL;
    }
    PyObject *value = info_lookup(self->ob_mpi, key, &found);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    if (maxlen >= 0 && PyUnicode_GET_LENGTH(value) > maxlen) {
        Py_SETREF(value, PyUnicode_Substring(value, 0, maxlen));
    }
    return value;
}

static PyObject *
Info_Set(FastMPIInfoObject *self, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"key", "value", NULL};
    static fastmpi_argspec spec = {"Set", names, 2};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    const char *key = key_arg(argv[0], "Set");
    const char *value = key == NULL ? NULL : value_arg(argv[1], "Set");
    if (value == NULL || info_check(self, "Set") < 0 ||
        fastmpi_check(MPI_Info_set(self->ob_mpi, key, value)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Delete(key): MPI.Exception(ERR_INFO_NOKEY) if absent, as in mpi4py. */
static PyObject *
Info_Delete(FastMPIInfoObject *self, PyObject *arg)
{
    const char *key = key_arg(arg, "Delete");
    if (key == NULL || info_check(self, "Delete") < 0 ||
        fastmpi_check(MPI_Info_delete(self->ob_mpi, key)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Info_Get_nkeys(FastMPIInfoObject *self, PyObject *unused)
{
    int n = 0;
    if (info_check(self, "Get_nkeys") < 0 ||
        info_nkeys(self->ob_mpi, &n) < 0) {
        return NULL;
    }
    return PyLong_FromLong(n);
}

static PyObject *
Info_Get_nthkey(FastMPIInfoObject *self, PyObject *arg)
{
    static const char *const names[] = {"n", NULL};
    static fastmpi_argspec spec = {"Get_nthkey", names, 1};
    int i = 0, n = 0;
    if (fastmpi_arg_int(&spec, 0, arg, 0, &i) < 0 ||
        info_check(self, "Get_nthkey") < 0 ||
        info_nkeys(self->ob_mpi, &n) < 0) {
        return NULL;
    }
    if (i < 0 || i >= n) {
        /* MPI's error for it (the libraries differ: check it here) */
        return fastmpi_error_raise_detail(
            MPI_ERR_ARG, "Get_nthkey() argument 'n' is %d; the info has %d "
            "keys", i, n);
    }
    return info_nthkey(self->ob_mpi, i);
}

/* ---- the mapping ------------------------------------------------------- */

static Py_ssize_t
Info_length(FastMPIInfoObject *self)
{
    int n = 0;
    if (self->ob_mpi != MPI_INFO_NULL &&
        (fastmpi_require_mpi() < 0 || info_nkeys(self->ob_mpi, &n) < 0)) {
        return -1;
    }
    return n;
}

/* New reference: value of key, or NULL with *found = 0 and no exception
 * if absent (INFO_NULL: always absent). */
static PyObject *
mapping_lookup(FastMPIInfoObject *self, PyObject *keyobj, const char *fname,
               int *found)
{
    *found = 0;
    const char *key = key_arg(keyobj, fname);
    if (key == NULL) {
        return NULL;
    }
    if (self->ob_mpi == MPI_INFO_NULL) {
        return NULL;
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    return info_lookup(self->ob_mpi, key, found);
}

static PyObject *
Info_subscript(FastMPIInfoObject *self, PyObject *keyobj)
{
    int found = 0;
    PyObject *value = mapping_lookup(self, keyobj, "__getitem__", &found);
    if (value == NULL && !PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, keyobj);
    }
    return value;
}

static int
Info_ass_subscript(FastMPIInfoObject *self, PyObject *keyobj,
                   PyObject *valobj)
{
    if (valobj == NULL) {
        int found = 0;
        PyObject *old = mapping_lookup(self, keyobj, "__delitem__", &found);
        if (old == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetObject(PyExc_KeyError, keyobj);
            }
            return -1;
        }
        Py_DECREF(old);
        const char *key = PyUnicode_AsUTF8(keyobj);     /* checked */
        return fastmpi_check(MPI_Info_delete(self->ob_mpi, key));
    }
    const char *key = key_arg(keyobj, "__setitem__");
    const char *value = key == NULL ? NULL
                                    : value_arg(valobj, "__setitem__");
    if (value == NULL || mapping_check(self, "__setitem__") < 0) {
        return -1;
    }
    return fastmpi_check(MPI_Info_set(self->ob_mpi, key, value));
}

static int
Info_contains(FastMPIInfoObject *self, PyObject *keyobj)
{
    int found = 0;
    PyObject *value = mapping_lookup(self, keyobj, "__contains__", &found);
    if (value == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_DECREF(value);
    return 1;
}

enum { KEYS, VALUES, ITEMS };

/* New reference: a list of the keys, values or (key, value) pairs. */
static PyObject *
info_list(FastMPIInfoObject *self, int what)
{
    int n = 0;
    if (self->ob_mpi != MPI_INFO_NULL &&
        (fastmpi_require_mpi() < 0 || info_nkeys(self->ob_mpi, &n) < 0)) {
        return NULL;
    }
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char raw[MPI_MAX_INFO_KEY + 1];
        PyObject *key = NULL, *value = NULL, *entry = NULL;
        int found = 0;
        if (fastmpi_check(MPI_Info_get_nthkey(self->ob_mpi, i, raw)) < 0) {
            goto error;
        }
        raw[MPI_MAX_INFO_KEY] = '\0';
        if (what != VALUES) {
            key = PyUnicode_DecodeUTF8(raw, (Py_ssize_t)strlen(raw),
                                       "surrogateescape");
            if (key == NULL) {
                goto error;
            }
        }
        if (what != KEYS) {
            value = info_lookup(self->ob_mpi, raw, &found);
            if (value == NULL && !PyErr_Occurred()) {
                value = PyUnicode_FromString("");   /* listed: cannot be */
            }
            if (value == NULL) {
                Py_XDECREF(key);
                goto error;
            }
        }
        if (what == ITEMS) {
            entry = PyTuple_Pack(2, key, value);
            Py_DECREF(key);
            Py_DECREF(value);
            if (entry == NULL) {
                goto error;
            }
        }
        else {
            entry = what == KEYS ? key : value;
        }
        PyList_SET_ITEM(list, i, entry);    /* steals */
    }
    return list;

error:
    Py_DECREF(list);
    return NULL;
}

static PyObject *
Info_keys(FastMPIInfoObject *self, PyObject *unused)
{
    return info_list(self, KEYS);
}

static PyObject *
Info_values(FastMPIInfoObject *self, PyObject *unused)
{
    return info_list(self, VALUES);
}

static PyObject *
Info_items(FastMPIInfoObject *self, PyObject *unused)
{
    return info_list(self, ITEMS);
}

static PyObject *
Info_iter(FastMPIInfoObject *self)
{
    PyObject *keys = info_list(self, KEYS);
    if (keys == NULL) {
        return NULL;
    }
    PyObject *it = PyObject_GetIter(keys);
    Py_DECREF(keys);
    return it;
}

static PyObject *
Info_get(FastMPIInfoObject *self, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"key", "default", NULL};
    static fastmpi_argspec spec = {"get", names, 1};
    PyObject *argv[2];
    int found = 0;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    PyObject *value = mapping_lookup(self, argv[0], "get", &found);
    if (value == NULL && !PyErr_Occurred()) {
        return Py_NewRef(argv[1] != NULL ? argv[1] : Py_None);
    }
    return value;
}

/* pop(key, *default) */
static PyObject *
Info_pop(FastMPIInfoObject *self, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    int found = 0;
    PyObject *key = nargs >= 1 ? args[0] : NULL;
    if (kwnames != NULL) {
        /* only key by keyword: pop(key='k'), as its signature says */
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        if (nkw != 1 || nargs != 0 ||
            !PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0),
                                             "key") != 0) {
            return PyErr_Format(PyExc_TypeError,
                                "pop() takes key (positionally or by "
                                "keyword) and an optional positional "
                                "default");
        }
        key = args[0];
    }
    if (key == NULL || nargs > 2) {
        return PyErr_Format(PyExc_TypeError,
                            "pop() takes 1 or 2 arguments (%zd given)",
                            nargs);
    }
    PyObject *dflt = nargs == 2 ? args[1] : NULL;
    PyObject *value = mapping_lookup(self, key, "pop", &found);
    if (value == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        if (dflt != NULL) {
            return Py_NewRef(dflt);
        }
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    if (fastmpi_check(MPI_Info_delete(self->ob_mpi,
                                      PyUnicode_AsUTF8(key))) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* popitem() -> the last (key, value) pair, removed; KeyError if empty. */
static PyObject *
Info_popitem(FastMPIInfoObject *self, PyObject *unused)
{
    int n = 0, found = 0;
    if (self->ob_mpi != MPI_INFO_NULL &&
        (fastmpi_require_mpi() < 0 || info_nkeys(self->ob_mpi, &n) < 0)) {
        return NULL;
    }
    if (n == 0) {
        PyErr_SetString(PyExc_KeyError, "popitem(): info is empty");
        return NULL;
    }
    char k[MPI_MAX_INFO_KEY + 1];
    if (fastmpi_check(MPI_Info_get_nthkey(self->ob_mpi, n - 1, k)) < 0) {
        return NULL;
    }
    k[MPI_MAX_INFO_KEY] = '\0';
    PyObject *value = info_lookup(self->ob_mpi, k, &found);
    if (value == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_KeyError, k);
        }
        return NULL;
    }
    PyObject *key = PyUnicode_DecodeUTF8(k, (Py_ssize_t)strlen(k),
                                         "surrogateescape");
    PyObject *pair = NULL;
    if (key != NULL &&
        fastmpi_check(MPI_Info_delete(self->ob_mpi, k)) == 0) {
        pair = PyTuple_Pack(2, key, value);
    }
    Py_XDECREF(key);
    Py_DECREF(value);
    return pair;
}

/* update(other=(), **kwds) */
static PyObject *
Info_update(FastMPIInfoObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    if (!PyArg_UnpackTuple(args, "update", 0, 1, &other) ||
        mapping_check(self, "update") < 0) {
        return NULL;
    }
    if (other != NULL && info_fill(self->ob_mpi, other, "update") < 0) {
        return NULL;
    }
    if (kwds != NULL && info_fill(self->ob_mpi, kwds, "update") < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* copy(): a Dup, or INFO_NULL's copy: a null Info. */
static PyObject *
Info_copy(FastMPIInfoObject *self, PyObject *unused)
{
    if (self->ob_mpi == MPI_INFO_NULL) {
        return fastmpi_info_new(Py_TYPE(self), MPI_INFO_NULL, 0);
    }
    return Info_Dup(self, NULL);
}

static PyObject *
Info_clear(FastMPIInfoObject *self, PyObject *unused)
{
    int n = 0;
    if (self->ob_mpi == MPI_INFO_NULL) {
        Py_RETURN_NONE;
    }
    if (fastmpi_require_mpi() < 0 || info_nkeys(self->ob_mpi, &n) < 0) {
        return NULL;
    }
    while (n-- > 0) {
        char key[MPI_MAX_INFO_KEY + 1];
        if (fastmpi_check(MPI_Info_get_nthkey(self->ob_mpi, n, key)) < 0 ||
            fastmpi_check(MPI_Info_delete(self->ob_mpi, key)) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static const fastmpi_handle_name info_names[] = {
    FASTMPI_HANDLE_NAME(INFO_NULL),
    FASTMPI_HANDLE_NAME(INFO_ENV),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(info, Info, MPI_Info, 0)
FASTMPI_HANDLE_SLOTS(info_kind, fastmpi_st->Info)

static const fastmpi_handle_kind info_kind = {
    .name = "Info",
    .size = sizeof(MPI_Info),
    .offset = offsetof(FastMPIInfoObject, ob_mpi),
    .flags_offset = offsetof(FastMPIInfoObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_INFO_NULL),
    .names = info_names,
    .local = "an MPI info is local to its process (pickle dict(info) "
             "instead)",
    .c2f = info_c2f,
    .f2c = info_f2c,
    .toint = info_toint,
    .fromint = info_fromint,
    .free = (PyCFunction)Info_Free,
    .slots = info_kind_slots,
};

#define KW (METH_FASTCALL | METH_KEYWORDS)

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Info_Delete, "Delete", "key")
FASTMPI_ONE_ARG(Info_Get_nthkey, "Get_nthkey", "n")

static PyMethodDef Info_methods[] = {
    {"Create_env", FASTMPI_FASTCALL(Info_Create_env), KW | METH_CLASS,
     "Create_env($cls, args=None)\n--\n\n"
     "Create_env(args=None) -> Info: how the process was started "
     "(MPI-4)."},
    {"Create", FASTMPI_FASTCALL(Info_Create), KW | METH_CLASS,
     "Create($cls, items=None)\n--\n\n"
     "Create(items=None) -> a new Info (holding items: a mapping or "
     "(key, value) pairs)."},
    {"Dup", (PyCFunction)Info_Dup, METH_NOARGS, "Dup($self)\n--\n\n"
                                                "A copy."},
    {"Free", (PyCFunction)Info_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free the info; it becomes INFO_NULL."},
    {"Get", FASTMPI_FASTCALL(Info_Get), KW,
     "Get($self, key)\n--\n\n"
     "Get(key, maxlen=-1) -> the value, or None."},
    {"Set", FASTMPI_FASTCALL(Info_Set), KW, "Set($self, key, value)\n--\n\n"
                                            "Set(key, value)."},
    {"Delete", FASTMPI_FASTCALL(Info_Delete_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Delete($self, key)\n--\n\n"
     "Delete(key); MPI.Exception(ERR_INFO_NOKEY) if absent."},
    {"Get_nkeys", (PyCFunction)Info_Get_nkeys, METH_NOARGS,
     "Get_nkeys($self)\n--\n\n"
     "Number of keys."},
    {"Get_nthkey", FASTMPI_FASTCALL(Info_Get_nthkey_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Get_nthkey($self, n)\n--\n\n"
     "Get_nthkey(n) -> key number n, 0 <= n < Get_nkeys()."},
    {"keys", (PyCFunction)Info_keys, METH_NOARGS, "keys($self)\n--\n\n"
                                                  "List of the keys."},
    {"values", (PyCFunction)Info_values, METH_NOARGS,
     "values($self)\n--\n\n"
     "List of the values."},
    {"items", (PyCFunction)Info_items, METH_NOARGS,
     "items($self)\n--\n\n"
     "List of the (key, value) pairs."},
    {"get", FASTMPI_FASTCALL(Info_get), KW,
     "get($self, key, default=None)\n--\n\n"
     "get(key, default=None) -> the value, or default."},
    {"pop", FASTMPI_FASTCALL(Info_pop), METH_FASTCALL | METH_KEYWORDS,
     "pop($self, key, *default)\n--\n\n"
     "pop(key[, default]) -> the value, removed."},
    {"popitem", (PyCFunction)Info_popitem, METH_NOARGS,
     "popitem($self)\n--\n\n"
     "popitem() -> a (key, value) pair, removed."},
    {"update", (PyCFunction)(void (*)(void))Info_update,
     METH_VARARGS | METH_KEYWORDS,
     "update($self, items=(), **kwds)\n--\n\n"
     "update(other=(), **kwds): set the pairs of a mapping or iterable."},
    {"copy", (PyCFunction)Info_copy, METH_NOARGS, "copy($self)\n--\n\n"
                                                  "A copy (Dup)."},
    {"clear", (PyCFunction)Info_clear, METH_NOARGS, "clear($self)\n--\n\n"
                                                    "Delete every key."},
    {NULL},
};

#undef KW

FASTMPI_WEAKLIST_MEMBERS(Info_members, FastMPIInfoObject);

static PyType_Slot Info_slots[] = {
    {Py_tp_members, Info_members},
    {Py_tp_doc, "Info(info=None)\n--\n\n"
                "Info(info=None): MPI hints, a mapping of str to str."},
    {Py_tp_new, Info_tp_new},
    {Py_tp_dealloc, Info_dealloc},
    {Py_tp_iter, Info_iter},
    {Py_mp_length, Info_length},
    {Py_sq_length, Info_length},
    {Py_mp_subscript, Info_subscript},
    {Py_mp_ass_subscript, Info_ass_subscript},
    {Py_sq_contains, Info_contains},
    {Py_tp_methods, Info_methods},
    {0, NULL},
};

static PyType_Spec Info_spec = {
    .name = "fastmpi.MPI.Info",
    .basicsize = sizeof(FastMPIInfoObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Info_slots,
};

static int
add_predefined(PyObject *module, const char *name, MPI_Info handle)
{
    PyObject *obj = fastmpi_info_new(fastmpi_st->Info, handle,
                                     FASTMPI_PREDEFINED);
    if (obj == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(module, name, obj);
    Py_DECREF(obj);
    return r;
}

int
fastmpi_info_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Info_spec, &info_kind, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Info = (PyTypeObject *)type;   /* owned by the state */
    int r = PyModule_AddObjectRef(module, "Info", type);
    if (r < 0 || add_predefined(module, "INFO_NULL", MPI_INFO_NULL) < 0 ||
        add_predefined(module, "INFO_ENV", MPI_INFO_ENV) < 0) {
        return -1;
    }
    return 0;
}
