/* args.c: a small argument parser for METH_FASTCALL | METH_KEYWORDS.
 *
 * Keyword names are interned once; a call's kwnames are usually the same
 * interned objects, so matching is a pointer compare with a string compare
 * as the fallback.  No tuple or dict is built.
 */
#include "fastmpi.h"

static int
argspec_ready(fastmpi_argspec *spec)
{
    int n = 0;
    while (spec->names[n] != NULL) {
        n++;
    }
    PyObject **interned = PyMem_Calloc(n ? n : 1, sizeof(PyObject *));
    if (interned == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (int i = 0; i < n; i++) {
        interned[i] = PyUnicode_InternFromString(spec->names[i]);
        if (interned[i] == NULL) {
            while (--i >= 0) {
                Py_DECREF(interned[i]);
            }
            PyMem_Free(interned);
            return -1;
        }
    }
    spec->nnames = n;
    spec->interned = interned;  /* kept for the life of the process */
    return 0;
}

static int
keyword_index(fastmpi_argspec *spec, PyObject *key)
{
    for (int i = 0; i < spec->nnames; i++) {
        if (spec->interned[i] == key) {
            return i;
        }
    }
    for (int i = 0; i < spec->nnames; i++) {
        int eq = PyUnicode_Compare(spec->interned[i], key);
        if (eq == 0) {
            return i;
        }
        if (eq == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
    }
    return -1;
}

int
fastmpi_parse_args(fastmpi_argspec *spec, PyObject *const *args,
                   Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
    if (Py_UNLIKELY(spec->interned == NULL) && argspec_ready(spec) < 0) {
        return -1;
    }
    int n = spec->nnames;
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes at most %d arguments (%zd given)",
                     spec->fname, n, nargs);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        out[i] = i < nargs ? args[i] : NULL;
    }
    if (kwnames != NULL) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t k = 0; k < nkw; k++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, k);
            int i = keyword_index(spec, key);
            if (i < 0) {
                PyErr_Format(PyExc_TypeError,
                             "%s() got an unexpected keyword argument '%U'",
                             spec->fname, key);
                return -1;
            }
            if (out[i] != NULL) {
                PyErr_Format(PyExc_TypeError,
                             "%s() got multiple values for argument '%s'",
                             spec->fname, spec->names[i]);
                return -1;
            }
            out[i] = args[nargs + k];
        }
    }
    for (int i = 0; i < spec->nrequired; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%s() missing required argument '%s' (pos %d)",
                         spec->fname, spec->names[i], i + 1);
            return -1;
        }
    }
    return 0;
}

int
fastmpi_arg_int(fastmpi_argspec *spec, int index, PyObject *obj, int dflt,
                int *out)
{
    if (obj == NULL) {
        *out = dflt;
        return 0;
    }
    if (Py_UNLIKELY(!PyLong_Check(obj))) {
        if (!PyIndex_Check(obj) || PyBool_Check(obj)) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s' must be int, not %.100s",
                         spec->fname, spec->names[index],
                         Py_TYPE(obj)->tp_name);
            return -1;
        }
    }
    int overflow = 0;
    long value = PyLong_AsLongAndOverflow(obj, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s' must be int, not %.100s",
                         spec->fname, spec->names[index],
                         Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    if (overflow || value < INT_MIN || value > INT_MAX) {
        PyErr_Format(PyExc_OverflowError,
                     "%s() argument '%s' is out of the range of a C int",
                     spec->fname, spec->names[index]);
        return -1;
    }
    *out = (int)value;
    return 0;
}

PyObject *
fastmpi_int_list(const int *v, int n)
{
    PyObject *list = PyList_New(n);
    for (int i = 0; list != NULL && i < n; i++) {
        PyObject *x = PyLong_FromLong(v[i]);
        if (x == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, x);    /* steals */
    }
    return list;
}
