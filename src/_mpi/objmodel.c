/* objmodel.c: what every MPI handle class has, for the classes whose own
 * files lack it: py2f(), the class method f2py(arg), and pickling of the
 * predefined objects by name (mpi4py 4 pickles those).
 *
 * The methods are added to the types at module start-up, only where the
 * type's own file defines none of that name (fastmpi_type_add):
 * a type's file can take any of them over later without touching this
 * one.
 */
#include "fastmpi.h"

/* Message's object head (message.c keeps the full struct to itself). */
typedef struct {
    PyObject_HEAD
    MPI_Message ob_mpi;
} message_head;

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
static PyObject *
find_predefined(PyTypeObject *base, PyObject *probe)
{
    PyObject *dict = PyModule_GetDict(fastmpi_st.module);
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
    PyObject *obj = PyObject_GetAttrString(fastmpi_st.module, name);
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

/* ---- Comm --------------------------------------------------------------- */

static PyObject *
Comm_f2py(PyObject *cls, PyObject *arg)
{
    MPI_Fint f;
    if (fastmpi_fint_arg(arg, &f) < 0) {
        return NULL;
    }
    MPI_Comm c = MPI_Comm_f2c(f);
    if (fastmpi_f2c_check(FASTMPI_HANDLE_TO_INT(c), f) < 0) {
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    if (c == MPI_COMM_NULL) {
        return fastmpi_comm_new(type, c, 0);
    }
    int inter = 0;
    if (MPI_Comm_test_inter(c, &inter) != MPI_SUCCESS) {
        return fastmpi_error_raise_detail(MPI_ERR_COMM,
                                          "f2py(): %d is not a "
                                          "communicator", (int)f);
    }
    /* as mpi4py: Comm, or a class of the other kind, gives the kind the
     * handle is; a class of the right kind (a subclass too) is kept */
    if (type == fastmpi_st.Comm ||
        (inter && PyType_IsSubtype(type, fastmpi_st.Intracomm)) ||
        (!inter && fastmpi_st.Intercomm != NULL &&
         PyType_IsSubtype(type, fastmpi_st.Intercomm))) {
        type = inter && fastmpi_st.Intercomm != NULL ? fastmpi_st.Intercomm
               : inter                               ? fastmpi_st.Comm
                                                     : fastmpi_st.Intracomm;
    }
    return fastmpi_comm_new(type, c, 0);
}

static PyMethodDef comm_methods[] = {
    {"f2py", (PyCFunction)Comm_f2py, METH_O | METH_CLASS,
     "f2py(arg): the communicator of a Fortran handle."},
    {NULL},
};

/* ---- Op ----------------------------------------------------------------- */

static PyObject *
Op_py2f(FastMPIOpObject *self, PyObject *unused)
{
    return PyLong_FromLong((long)MPI_Op_c2f(self->ob_mpi));
}

static PyObject *
Op_f2py(PyObject *cls, PyObject *arg)
{
    MPI_Fint f;
    if (fastmpi_fint_arg(arg, &f) < 0) {
        return NULL;
    }
    MPI_Op h = MPI_Op_f2c(f);
    if (fastmpi_f2c_check(FASTMPI_HANDLE_TO_INT(h), f) < 0) {
        return NULL;
    }
    PyObject *probe = PyObject_CallNoArgs(cls);     /* OP_NULL */
    if (probe == NULL) {
        return NULL;
    }
    ((FastMPIOpObject *)probe)->ob_mpi = h;
    /* a predefined op's copy knows which one it is (applies to objects) */
    PyObject *pre = find_predefined(fastmpi_st.Op, probe);
    if (pre != NULL) {
        Py_DECREF(probe);
        return PyObject_CallOneArg(cls, pre);
    }
    return probe;
}

static PyMethodDef op_methods[] = {
    {"py2f", (PyCFunction)Op_py2f, METH_NOARGS, "Fortran handle."},
    {"f2py", (PyCFunction)Op_f2py, METH_O | METH_CLASS,
     "f2py(arg): the Op of a Fortran handle."},
    {NULL},
};

/* ---- Request ------------------------------------------------------------ */

static PyObject *
Request_f2py(PyObject *cls, PyObject *arg)
{
    MPI_Fint f;
    if (fastmpi_fint_arg(arg, &f) < 0) {
        return NULL;
    }
    MPI_Request h = MPI_Request_f2c(f);
    if (fastmpi_f2c_check(FASTMPI_HANDLE_TO_INT(h), f) < 0) {
        return NULL;
    }
    FastMPIRequestObject *req = fastmpi_request_new((PyTypeObject *)cls);
    if (req == NULL) {
        return NULL;
    }
    req->ob_mpi = h;
    if (req->ob_mpi != MPI_REQUEST_NULL) {
        req->state = FASTMPI_REQ_ACTIVE;
    }
    return (PyObject *)req;
}

static PyMethodDef request_methods[] = {
    {"f2py", (PyCFunction)Request_f2py, METH_O | METH_CLASS,
     "f2py(arg): the Request of a Fortran handle."},
    {NULL},
};

/* ---- Message ------------------------------------------------------------ */

static PyObject *
Message_py2f(message_head *self, PyObject *unused)
{
    return PyLong_FromLong((long)MPI_Message_c2f(self->ob_mpi));
}

static PyObject *
Message_f2py(PyObject *cls, PyObject *arg)
{
    MPI_Fint f;
    if (fastmpi_fint_arg(arg, &f) < 0) {
        return NULL;
    }
    MPI_Message h = MPI_Message_f2c(f);
    if (fastmpi_f2c_check(FASTMPI_HANDLE_TO_INT(h), f) < 0) {
        return NULL;
    }
    PyObject *m = PyObject_CallNoArgs(cls);     /* MESSAGE_NULL */
    if (m != NULL) {
        ((message_head *)m)->ob_mpi = h;
    }
    return m;
}

static PyMethodDef message_methods[] = {
    {"py2f", (PyCFunction)Message_py2f, METH_NOARGS, "Fortran handle."},
    {"f2py", (PyCFunction)Message_f2py, METH_O | METH_CLASS,
     "f2py(arg): the Message of a Fortran handle."},
    {NULL},
};

int
fastmpi_objmodel_init(PyObject *module)
{
    if (fastmpi_type_add(fastmpi_st.Comm, comm_methods, NULL, 1) < 0 ||
        fastmpi_type_add(fastmpi_st.Op, op_methods, NULL, 1) < 0 ||
        fastmpi_type_add(fastmpi_st.Request, request_methods, NULL, 1) < 0 ||
        fastmpi_type_add(fastmpi_st.Message, message_methods, NULL, 1) < 0) {
        return -1;
    }
    return 0;
}
