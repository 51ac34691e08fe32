/* markers.c: the buffer markers MPI.BOTTOM, MPI.IN_PLACE and
 * MPI.BUFFER_AUTOMATIC, one instance each of BottomType, InPlaceType and
 * BufferAutomaticType.
 *
 * Each stands for an address of the MPI library (MPI_BOTTOM, MPI_IN_PLACE,
 * MPI_BUFFER_AUTOMATIC or, without MPI-4.1, the MPI-5 ABI's value; see
 * compat.h) and behaves as the int it was in mpi4py 3 and 4.0: int() and
 * bool() give the address (BOTTOM is also an index), it equals that int
 * and hashes as it does.  Calling the type gives the one instance back, a
 * pickle names it, and its buffer is 0 bytes at its address.  Buffer
 * arguments recognise a marker by pointer (fastmpi_st->BOTTOM, ...).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "membuffer.h"

typedef struct {
    PyObject_HEAD
    const char *name;
    void *address;
} MarkerObject;

static Py_ssize_t
marker_value(PyObject *self)
{
    return (Py_ssize_t)(intptr_t)((MarkerObject *)self)->address;
}

/* The one instance of type (borrowed), or NULL. */
static PyObject *
marker_of(PyTypeObject *type)
{
    PyObject *all[] = {fastmpi_st->BOTTOM, fastmpi_st->IN_PLACE,
                       fastmpi_st->BUFFER_AUTOMATIC};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (all[i] != NULL && Py_TYPE(all[i]) == type) {
            return all[i];
        }
    }
    return NULL;
}

static PyObject *
Marker_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) != 0 ||
        (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        return PyErr_Format(PyExc_TypeError, "%s() takes no arguments",
                            type->tp_name);
    }
    PyObject *one = marker_of(type);
    if (one == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%s: the module is gone",
                     type->tp_name);
        return NULL;
    }
    return Py_NewRef(one);
}

static void
Marker_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Marker_repr(MarkerObject *self)
{
    return PyUnicode_FromString(self->name);
}

/* Pickled by name: unpickling finds the module's own instance. */
static PyObject *
Marker_reduce(MarkerObject *self, PyObject *unused)
{
    return PyUnicode_FromString(self->name);
}

static Py_hash_t
Marker_hash(PyObject *self)
{
    PyObject *v = PyLong_FromSsize_t(marker_value(self));
    if (v == NULL) {
        return -1;
    }
    Py_hash_t h = PyObject_Hash(v);
    Py_DECREF(v);
    return h;
}

/* Equal to itself and to the int of its address; other markers and other
 * objects are left to their own comparison (identity). */
static PyObject *
Marker_richcompare(PyObject *self, PyObject *other, int op)
{
    if ((op != Py_EQ && op != Py_NE) ||
        (other != self && !PyLong_Check(other))) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (other == self) {
        return PyBool_FromLong(op == Py_EQ);
    }
    PyObject *v = PyLong_FromSsize_t(marker_value(self));
    if (v == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_RichCompare(v, other, op);
    Py_DECREF(v);
    return result;
}

static int
Marker_bool(PyObject *self)
{
    return marker_value(self) != 0;
}

static PyObject *
Marker_int(PyObject *self)
{
    return PyLong_FromSsize_t(marker_value(self));
}

/* 0 bytes at the marker's address. */
static int
Marker_getbuffer(MarkerObject *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, self->address, 0, 0,
                             flags);
}

static PyMethodDef Marker_methods[] = {
    {"__reduce__", (PyCFunction)Marker_reduce, METH_NOARGS,
     "__reduce__($self)\n--\n\n"},
    {NULL},
};

#define MARKER_SLOTS(doc)                                                  \
    {Py_tp_doc, doc},                                                      \
    {Py_tp_new, Marker_new},                                               \
    {Py_tp_dealloc, Marker_dealloc},                                       \
    {Py_tp_repr, Marker_repr},                                             \
    {Py_tp_hash, Marker_hash},                                             \
    {Py_tp_richcompare, Marker_richcompare},                               \
    {Py_nb_bool, Marker_bool},                                             \
    {Py_nb_int, Marker_int},                                               \
    {Py_bf_getbuffer, Marker_getbuffer},                                   \
    {Py_tp_methods, Marker_methods}

static PyType_Slot Bottom_slots[] = {
    MARKER_SLOTS("BottomType()\n--\n\n"
                 "Type of BOTTOM: the start of the address space, for "
                 "datatypes with absolute addresses."),
    {Py_nb_index, Marker_int},
    {0, NULL},
};

static PyType_Slot InPlace_slots[] = {
    MARKER_SLOTS("InPlaceType()\n--\n\n"
                 "Type of IN_PLACE: a collective's send buffer that is "
                 "its receive buffer."),
    {0, NULL},
};

static PyType_Slot BufferAutomatic_slots[] = {
    MARKER_SLOTS("BufferAutomaticType()\n--\n\n"
                 "Type of BUFFER_AUTOMATIC: Attach_buffer's automatic "
                 "buffering (MPI-4.1)."),
    {0, NULL},
};

#undef MARKER_SLOTS

#define MARKER_SPEC(cname, pyname)                                         \
    static PyType_Spec cname##_spec = {                                    \
        .name = "fastmpi.MPI." pyname,                                     \
        .basicsize = sizeof(MarkerObject),                                 \
        .flags = Py_TPFLAGS_DEFAULT,                                       \
        .slots = cname##_slots,                                            \
    };

MARKER_SPEC(Bottom, "BottomType")
MARKER_SPEC(InPlace, "InPlaceType")
MARKER_SPEC(BufferAutomatic, "BufferAutomaticType")

#undef MARKER_SPEC

/* New reference: the one instance of a new type from spec, added to the
 * module with the type.  NULL with an exception. */
static PyObject *
new_marker(PyObject *module, PyType_Spec *spec, const char *name,
           void *address)
{
    PyTypeObject *type = fastmpi_type_new(module, spec, NULL, NULL);
    if (type == NULL) {
        return NULL;
    }
    const char *tname = spec->name + sizeof("fastmpi.MPI.") - 1;
    MarkerObject *obj = PyObject_New(MarkerObject, type);
    int rc = obj == NULL ? -1
             : PyModule_AddObjectRef(module, tname, (PyObject *)type);
    Py_DECREF(type);    /* the instance and the module hold it */
    if (rc < 0) {
        Py_XDECREF(obj);
        return NULL;
    }
    obj->name = name;
    obj->address = address;
    if (PyModule_AddObjectRef(module, name, (PyObject *)obj) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    return (PyObject *)obj;
}

int
fastmpi_markers_init(PyObject *module)
{
    fastmpi_st->BOTTOM = new_marker(module, &Bottom_spec, "BOTTOM",
                                    MPI_BOTTOM);
    if (fastmpi_st->BOTTOM == NULL) {
        return -1;
    }
    fastmpi_st->IN_PLACE = new_marker(module, &InPlace_spec, "IN_PLACE",
                                      MPI_IN_PLACE);
    if (fastmpi_st->IN_PLACE == NULL) {
        return -1;
    }
    fastmpi_st->BUFFER_AUTOMATIC = new_marker(module, &BufferAutomatic_spec,
                                              "BUFFER_AUTOMATIC",
                                              FASTMPI_BUFFER_AUTOMATIC);
    return fastmpi_st->BUFFER_AUTOMATIC == NULL ? -1 : 0;
}
