/* bsendbuf.c: MPI-4.1's buffers for buffered sends beyond the one of the
 * process (Attach_buffer and Detach_buffer live in p2p.c): a buffer per
 * communicator (Comm.Attach_buffer, Detach_buffer) and flushing
 * (Flush_buffer, Iflush_buffer, also per communicator).
 *
 * Neither library here implements MPI-4.1, so each checks its arguments
 * and raises NotImplementedError naming the call and the MPI version it
 * needs, instead of a missing attribute.
 */
#include "../0_core/fastmpi.h"
#include "../4_comm/comm.h"
#include "p2p.h"

static PyObject *
Flush_buffer(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Flush_buffer", 4, 1);
}

static PyObject *
Iflush_buffer(PyObject *module, PyObject *unused)
{
    return fastmpi_not_available("Iflush_buffer", 4, 1);
}

PyMethodDef fastmpi_bsendbuf_functions[] = {
    {"Flush_buffer", Flush_buffer, METH_NOARGS,
     "Flush_buffer($module)\n--\n\n"
     "Flush_buffer(): deliver what the process's buffer holds (MPI-4.1)."},
    {"Iflush_buffer", Iflush_buffer, METH_NOARGS,
     "Iflush_buffer($module)\n--\n\n"
     "Iflush_buffer() -> Request: Flush_buffer, nonblocking (MPI-4.1)."},
    {NULL},
};

static PyObject *
comm_not_here(FastMPICommObject *self, const char *fname)
{
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    return fastmpi_not_available(fname, 4, 1);
}

static PyObject *
Comm_Attach_buffer(FastMPICommObject *self, PyObject *buf)
{
    if (buf != Py_None && !PyObject_CheckBuffer(buf)) {
        return PyErr_Format(PyExc_TypeError, "Attach_buffer() argument "
                            "'buf' must be a buffer or None, not %.100s",
                            Py_TYPE(buf)->tp_name);
    }
    return comm_not_here(self, "Attach_buffer");
}

static PyObject *
Comm_Detach_buffer(FastMPICommObject *self, PyObject *unused)
{
    return comm_not_here(self, "Detach_buffer");
}

static PyObject *
Comm_Flush_buffer(FastMPICommObject *self, PyObject *unused)
{
    return comm_not_here(self, "Flush_buffer");
}

static PyObject *
Comm_Iflush_buffer(FastMPICommObject *self, PyObject *unused)
{
    return comm_not_here(self, "Iflush_buffer");
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Comm_Attach_buffer, "Attach_buffer", "buf")

PyMethodDef fastmpi_bsendbuf_comm_methods[] = {
    {"Attach_buffer", FASTMPI_FASTCALL(Comm_Attach_buffer_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Attach_buffer($self, buf)\n--\n\n"
     "Attach_buffer(buf): this communicator's buffer for buffered sends "
     "(MPI-4.1)."},
    {"Detach_buffer", (PyCFunction)Comm_Detach_buffer, METH_NOARGS,
     "Detach_buffer($self)\n--\n\n"
     "Detach_buffer() -> the buffer (MPI-4.1)."},
    {"Flush_buffer", (PyCFunction)Comm_Flush_buffer, METH_NOARGS,
     "Flush_buffer($self)\n--\n\n"
     "Flush_buffer(): deliver what the buffer holds (MPI-4.1)."},
    {"Iflush_buffer", (PyCFunction)Comm_Iflush_buffer, METH_NOARGS,
     "Iflush_buffer($self)\n--\n\n"
     "Iflush_buffer() -> Request (MPI-4.1)."},
    {NULL},
};
