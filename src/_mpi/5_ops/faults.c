/* faults.c: the fault-tolerance calls of mpi4py 4 (ULFM: Revoke,
 * Is_revoked, Get_failed, Ack_failed, Agree, Iagree, Shrink, Ishrink).
 *
 * They come with MPI-5; neither library fastmpi builds against here has
 * them in the standard's form, so each checks its arguments and then
 * raises NotImplementedError naming the call and what it needs, instead
 * of a missing attribute.
 */
#include "../0_core/fastmpi.h"
#include "../4_comm/comm.h"
#include "p2p.h"

/* The communicator, then NotImplementedError. */
static PyObject *
not_here(FastMPICommObject *self, const char *fname)
{
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    return fastmpi_not_available(fname, 5, 0);
}

#define DEFINE_NOARGS(NAME)                                                \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *unused)                         \
    {                                                                      \
        return not_here(self, #NAME);                                      \
    }

DEFINE_NOARGS(Revoke)
DEFINE_NOARGS(Is_revoked)
DEFINE_NOARGS(Get_failed)
DEFINE_NOARGS(Shrink)
DEFINE_NOARGS(Ishrink)

static PyObject *
Comm_Ack_failed(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"num_to_ack", NULL};
    static fastmpi_argspec spec = {"Ack_failed", names, 0};
    PyObject *argv[1];
    int num;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        (argv[0] != NULL && argv[0] != Py_None &&
         fastmpi_arg_int(&spec, 0, argv[0], 0, &num) < 0)) {
        return NULL;
    }
    return not_here(self, "Ack_failed");
}

static PyObject *
Comm_Agree(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"flag", NULL};
    static fastmpi_argspec spec = {"Agree", names, 1};
    PyObject *argv[1];
    int flag;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &flag) < 0) {
        return NULL;
    }
    return not_here(self, "Agree");
}

static PyObject *
Comm_Iagree(FastMPICommObject *self, PyObject *arg)
{
    if (!PyObject_CheckBuffer(arg)) {
        return PyErr_Format(PyExc_TypeError, "Iagree() argument 'flag' "
                            "must be a buffer (an int array of one item), "
                            "not %.100s", Py_TYPE(arg)->tp_name);
    }
    return not_here(self, "Iagree");
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Comm_Iagree, "Iagree", "flag")

PyMethodDef fastmpi_faults_comm_methods[] = {
    {"Revoke", (PyCFunction)Comm_Revoke, METH_NOARGS,
     "Revoke($self)\n--\n\n"
     "Revoke(): revoke the communicator (fault tolerance, MPI-5)."},
    {"Is_revoked", (PyCFunction)Comm_Is_revoked, METH_NOARGS,
     "Is_revoked($self)\n--\n\n"
     "Is_revoked() -> bool (fault tolerance, MPI-5)."},
    {"Get_failed", (PyCFunction)Comm_Get_failed, METH_NOARGS,
     "Get_failed($self)\n--\n\n"
     "Get_failed() -> Group of the failed processes (MPI-5)."},
    {"Ack_failed", FASTMPI_FASTCALL(Comm_Ack_failed),
     METH_FASTCALL | METH_KEYWORDS,
     "Ack_failed($self, num_to_ack=None)\n--\n\n"
     "Ack_failed(num_to_ack=None) -> int (fault tolerance, MPI-5)."},
    {"Agree", FASTMPI_FASTCALL(Comm_Agree), METH_FASTCALL | METH_KEYWORDS,
     "Agree($self, flag)\n--\n\n"
     "Agree(flag) -> int: the bitwise AND over the survivors (MPI-5)."},
    {"Iagree", FASTMPI_FASTCALL(Comm_Iagree_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Iagree($self, flag)\n--\n\n"
     "Iagree(flag) -> Request (fault tolerance, MPI-5)."},
    {"Shrink", (PyCFunction)Comm_Shrink, METH_NOARGS,
     "Shrink($self)\n--\n\n"
     "Shrink() -> Comm of the survivors (fault tolerance, MPI-5)."},
    {"Ishrink", (PyCFunction)Comm_Ishrink, METH_NOARGS,
     "Ishrink($self)\n--\n\n"
     "Ishrink() -> (Comm, Request) (fault tolerance, MPI-5)."},
    {NULL},
};
