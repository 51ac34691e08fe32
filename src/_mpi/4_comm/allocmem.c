/* allocmem.c: Alloc_mem and Free_mem, memory from MPI_Alloc_mem as an
 * MPI.buffer (2_buffer/membuffer.c).  Here, and not beside the buffer,
 * because Alloc_mem takes an Info. */
#include "../0_core/fastmpi.h"
#include "../2_buffer/membuffer.h"
#include "comm.h"

static PyObject *
Alloc_mem(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"size", "info", NULL};
    static fastmpi_argspec spec = {"Alloc_mem", names, 1};
    PyObject *argv[2];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (!PyIndex_Check(argv[0])) {
        return PyErr_Format(PyExc_TypeError,
                            "Alloc_mem() argument 'size' must be an int, "
                            "not %.100s", Py_TYPE(argv[0])->tp_name);
    }
    Py_ssize_t size = PyNumber_AsSsize_t(argv[0], PyExc_OverflowError);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (size < 0) {
        return PyErr_Format(PyExc_ValueError,
                            "Alloc_mem() argument 'size' must not be "
                            "negative (got %zd)", size);
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    MPI_Info info = fastmpi_info_arg(argv[1], "Alloc_mem", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *mem = fastmpi_membuffer_alloc_mpi((MPI_Aint)size, info);
    fastmpi_info_arg_release(argv[1], info);
    return mem;
}

static PyObject *
Free_mem(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"mem", NULL};
    static fastmpi_argspec spec = {"Free_mem", names, 1};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_membuffer_free_mpi(argv[0], "Free_mem") < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyMethodDef fastmpi_allocmem_functions[] = {
    {"Alloc_mem", FASTMPI_FASTCALL(Alloc_mem), METH_FASTCALL | METH_KEYWORDS,
     "Alloc_mem($module, size, info=INFO_NULL)\n--\n\n"
     "Alloc_mem(size, info=INFO_NULL) -> buffer: memory from "
     "MPI_Alloc_mem (for RMA windows and messages), until Free_mem."},
    {"Free_mem", FASTMPI_FASTCALL(Free_mem), METH_FASTCALL | METH_KEYWORDS,
     "Free_mem($module, mem)\n--\n\n"
     "Free_mem(mem): give memory from Alloc_mem back to MPI."},
    {NULL},
};
