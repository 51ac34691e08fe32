/* handle.c: what every MPI handle class has: f2py()'s argument and
 * result checks, and pickling of the predefined objects by name (mpi4py 4
 * pickles those).  Layer 1: it knows no handle class, only handles. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "handle.h"


int
fastmpi_fint_arg(PyObject *arg, MPI_Fint *out)
{
    if (!PyLong_Check(arg) && !PyIndex_Check(arg)) {   /* numpy ints too */
        PyErr_Format(PyExc_TypeError,
                     "f2py() argument 'arg' must be int, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    int overflow = 0;
    long v = PyLong_AsLongAndOverflow(arg, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v < INT_MIN || v > INT_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "f2py() argument 'arg' is not a Fortran handle: %R",
                     arg);
        return -1;
    }
    *out = (MPI_Fint)v;
    return fastmpi_require_mpi();
}

/* 0, or -1 with MPI.Exception if MPI_X_f2c gave the zero handle: Open
 * MPI's answer for an index it does not know (its null handles are real
 * objects), never a valid MPICH handle either.  Such a handle crashes
 * the library later (Message's Mrecv at deallocation, ...). */
int
fastmpi_f2c_check(intptr_t handle, MPI_Fint f)
{
    if (handle == 0) {
        fastmpi_error_raise_detail(MPI_ERR_ARG, "f2py(): %d is not a valid "
                                   "Fortran handle", (int)f);
        return -1;
    }
    return 0;
}

/* Borrowed: the module's predefined object of `type`'s kind wrapping the
 * same handle as `probe` (compared with ==), or NULL (no exception). */
PyObject *
fastmpi_find_predefined(PyTypeObject *base, PyObject *probe)
{
    PyObject *dict = PyModule_GetDict(fastmpi_st->module);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (Py_TYPE(value) != base || value == probe) {
            continue;
        }
        int eq = PyObject_RichCompareBool(value, probe, Py_EQ);
        if (eq < 0) {
            PyErr_Clear();
        }
        else if (eq) {
            return value;
        }
    }
    return NULL;
}

PyObject *
fastmpi_reduce_predefined(PyObject *self, const char *name)
{
    PyObject *obj = PyObject_GetAttrString(fastmpi_st->module, name);
    if (obj == NULL) {
        return NULL;
    }
    if (obj == self) {
        Py_DECREF(obj);
        return PyUnicode_FromString(name);      /* MPI.<name> by name */
    }
    /* a copy of a predefined handle: the class called on the original */
    PyObject *r = Py_BuildValue("(O(O))", (PyObject *)Py_TYPE(self), obj);
    Py_DECREF(obj);
    return r;
}
