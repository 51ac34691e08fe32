/* trace.c: the hook every MPI call passes (FASTMPI_CALL in fastmpi.h).
 *
 * Off by default: the cost then is one predictable branch per call.  On,
 * each call is written to a fixed ring of records without touching Python,
 * so it is safe with the GIL released.  MPI._trace(True) switches it on;
 * MPI._trace_records() returns and clears what was recorded.  Later work
 * (hang reports, trace files) builds on these records.
 */
#include "fastmpi.h"
#include "state.h"

int fastmpi_trace_on = 0;

void
fastmpi_trace_record(const char *name, MPI_Comm comm, int peer, int tag,
                     Py_ssize_t bytes, double t0, int ierr)
{
    double t1 = MPI_Wtime();
    fastmpi_state *st = fastmpi_st;
    size_t slot = __atomic_fetch_add(&st->trace_next, 1, __ATOMIC_RELAXED);
    fastmpi_trace_entry *r = &st->trace_ring[slot % FASTMPI_TRACE_RING];
    r->name = name;
    r->comm = comm;
    r->peer = peer;
    r->tag = tag;
    r->bytes = bytes;
    r->seconds = t1 - t0;
    r->ierr = ierr;
}

static PyObject *
trace_switch(PyObject *module, PyObject *arg)
{
    int on = PyObject_IsTrue(arg);
    int was = fastmpi_trace_on;
    if (on < 0) {
        return NULL;
    }
    fastmpi_trace_on = on;
    return PyBool_FromLong(was);
}

static PyObject *
trace_records(PyObject *module, PyObject *unused)
{
    fastmpi_state *st = fastmpi_st;
    size_t end = __atomic_load_n(&st->trace_next, __ATOMIC_RELAXED);
    size_t start = end > FASTMPI_TRACE_RING ? end - FASTMPI_TRACE_RING : 0;
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = start; i < end; i++) {
        fastmpi_trace_entry *r = &st->trace_ring[i % FASTMPI_TRACE_RING];
        PyObject *item = Py_BuildValue(
            "(sLiindi)", r->name, (long long)FASTMPI_HANDLE_TO_INT(r->comm),
            r->peer, r->tag, r->bytes, r->seconds, r->ierr);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    __atomic_store_n(&st->trace_next, 0, __ATOMIC_RELAXED);
    return list;
}

static PyMethodDef trace_functions[] = {
    {"_trace", trace_switch, METH_O,
     "_trace(on) -> bool: record every MPI call; returns the old setting."},
    {"_trace_records", trace_records, METH_NOARGS,
     "_trace_records() -> list of (call, comm handle, peer, tag, bytes, "
     "seconds, error code); clears the record."},
    {NULL},
};

int
fastmpi_trace_init(PyObject *module)
{
    return PyModule_AddFunctions(module, trace_functions);
}
