/* callbacks.c: exceptions that Python callbacks raise inside MPI calls
 * (attribute copy and delete functions, error handlers, user ops), kept
 * until the MPI call returns and then raised by the call that ran them.
 */
#include "fastmpi.h"

/* Per thread: the callbacks run in the thread that made the MPI call. */
static _Thread_local int armed = 0;
static _Thread_local fastmpi_pending pending;

void
fastmpi_pending_keep(fastmpi_pending *p, int code)
{
    if (p->type != NULL) {
        /* one exception is raised; a second is printed, never lost */
        PyErr_WriteUnraisable(NULL);
        return;
    }
    PyErr_Fetch(&p->type, &p->value, &p->tb);
    PyErr_NormalizeException(&p->type, &p->value, &p->tb);
    if (p->tb != NULL) {
        PyException_SetTraceback(p->value, p->tb);
    }
    p->code = code;
}

int
fastmpi_pending_restore(fastmpi_pending *p)
{
    if (p->type == NULL) {
        return 0;
    }
    PyErr_Restore(p->type, p->value, p->tb);
    p->type = p->value = p->tb = NULL;
    return -1;
}

void
fastmpi_callbacks_begin(void)
{
    armed++;
}

int
fastmpi_callbacks_end(void)
{
    armed--;
    if (pending.type == NULL) {
        return 0;
    }
    if (PyErr_Occurred()) {
        /* the call failed for its own reasons too: report that, print
         * the callback's */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        fastmpi_pending_restore(&pending);
        PyErr_WriteUnraisable(NULL);
        PyErr_Restore(t, v, tb);
        return -1;
    }
    return fastmpi_pending_restore(&pending);
}

/* In a callback, with its exception set: keep it for the call that ran
 * the callback, or print it if that call is not ours (Datatype.Dup). */
void
fastmpi_callback_failed(void)
{
    if (armed > 0) {
        fastmpi_pending_keep(&pending, 0);
    }
    else {
        PyErr_WriteUnraisable(NULL);
    }
}
