/* mprobe.c: matched probes: Comm.Mprobe, Improbe, mprobe, improbe, and
 * the class methods Message.Probe, Iprobe, probe, iprobe.  Each gives a
 * Message (message.c) that receives exactly the message it matched. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../3_request/request.h"
#include "../4_comm/comm.h"
#include "p2p.h"

static const char *const probe_names[] = {"source", "tag", "status", NULL};

/* Mprobe (blocking) or Improbe on comm: a Message, or None for Improbe
 * when nothing matched. */
static PyObject *
probe(MPI_Comm comm, fastmpi_argspec *spec, PyObject **argv, int blocking)
{
    int source, tag, flag = 1, ierr;
    MPI_Status *status, st;
    MPI_Message handle = MPI_MESSAGE_NULL;
    if (fastmpi_arg_int(spec, 0, argv[0], MPI_ANY_SOURCE, &source) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], MPI_ANY_TAG, &tag) < 0 ||
        fastmpi_arg_status(spec, 2, argv[2], &status) < 0) {
        return NULL;
    }
    if (blocking) {
        FASTMPI_NOGIL_BEGIN
        FASTMPI_CALL("MPI_Mprobe", comm, source, tag, 0,
                     ierr = MPI_Mprobe(source, tag, comm, &handle, &st));
        FASTMPI_NOGIL_END
    }
    else {
        FASTMPI_CALL("MPI_Improbe", comm, source, tag, 0,
                     ierr = MPI_Improbe(source, tag, comm, &flag, &handle,
                                        &st));
    }
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    if (!flag) {
        Py_RETURN_NONE;
    }
    if (status != MPI_STATUS_IGNORE) {
        *status = st;
    }
    return fastmpi_message_new(fastmpi_st->Message, handle, &st);
}

#define DEFINE_COMM_PROBE(NAME, BLOCKING)                                  \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, probe_names, 0};             \
        PyObject *argv[3];                                                 \
        if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||   \
            fastmpi_comm_check(self) < 0) {                                \
            return NULL;                                                   \
        }                                                                  \
        return probe(self->ob_mpi, &spec, argv, BLOCKING);                 \
    }

DEFINE_COMM_PROBE(Mprobe, 1)
DEFINE_COMM_PROBE(Improbe, 0)
DEFINE_COMM_PROBE(mprobe, 1)
DEFINE_COMM_PROBE(improbe, 0)

static const char *const cls_probe_names[] = {"comm", "source", "tag",
                                              "status", NULL};

#define DEFINE_CLASS_PROBE(NAME, BLOCKING)                                 \
    static PyObject *Message_##NAME(PyObject *cls, PyObject *const *args,  \
                                    Py_ssize_t nargs, PyObject *kwnames)   \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, cls_probe_names, 1};         \
        PyObject *argv[4];                                                 \
        if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {   \
            return NULL;                                                   \
        }                                                                  \
        if (!PyObject_TypeCheck(argv[0], fastmpi_st->Comm)) {               \
            return PyErr_Format(PyExc_TypeError, "%s() argument 'comm' "   \
                                "must be MPI.Comm, not %.100s", #NAME,     \
                                Py_TYPE(argv[0])->tp_name);                \
        }                                                                  \
        FastMPICommObject *comm = (FastMPICommObject *)argv[0];            \
        if (fastmpi_comm_check(comm) < 0) {                                \
            return NULL;                                                   \
        }                                                                  \
        fastmpi_argspec sub = spec;                                        \
        sub.names = spec.names + 1;                                        \
        return probe(comm->ob_mpi, &sub, argv + 1, BLOCKING);              \
    }

DEFINE_CLASS_PROBE(Probe, 1)
DEFINE_CLASS_PROBE(Iprobe, 0)
DEFINE_CLASS_PROBE(probe, 1)
DEFINE_CLASS_PROBE(iprobe, 0)

#define FC(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS
#define FCC(f) FC(f) | METH_CLASS

PyMethodDef fastmpi_mprobe_comm_methods[] = {
    {"Mprobe", FC(Comm_Mprobe),
     "Mprobe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Mprobe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> Message"},
    {"Improbe", FC(Comm_Improbe),
     "Improbe($self, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Improbe(source=ANY_SOURCE, tag=ANY_TAG, status=None) -> Message or "
     "None"},
    {"mprobe", FC(Comm_mprobe), "mprobe($self, source=ANY_SOURCE, "
                                "tag=ANY_TAG, status=None)\n--\n\n"
                                "mprobe(...): as Mprobe."},
    {"improbe", FC(Comm_improbe), "improbe($self, source=ANY_SOURCE, "
                                  "tag=ANY_TAG, status=None)\n--\n\n"
                                  "improbe(...): as Improbe."},
    {NULL},
};

PyMethodDef fastmpi_mprobe_message_methods[] = {
    {"Probe", FCC(Message_Probe),
     "Probe($cls, comm, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Probe(comm, source=ANY_SOURCE, tag=ANY_TAG, status=None) -> Message"},
    {"Iprobe", FCC(Message_Iprobe),
     "Iprobe($cls, comm, source=ANY_SOURCE, tag=ANY_TAG, status=None)\n--\n\n"
     "Iprobe(comm, source=ANY_SOURCE, tag=ANY_TAG, status=None) -> "
     "Message or None"},
    {"probe", FCC(Message_probe), "probe($cls, comm, source=ANY_SOURCE, "
                                  "tag=ANY_TAG, status=None)\n--\n\n"
                                  "probe(comm, ...): as Probe."},
    {"iprobe", FCC(Message_iprobe), "iprobe($cls, comm, source=ANY_SOURCE, "
                                    "tag=ANY_TAG, status=None)\n--\n\n"
                                    "iprobe(comm, ...): as Iprobe."},
    {NULL},
};
