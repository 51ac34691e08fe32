/* request.h: Status, Request, Prequest, Grequest, Message (layer 3). */
#ifndef FASTMPI_REQUEST_H
#define FASTMPI_REQUEST_H

#include "../0_core/fastmpi.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/pickle.h"

typedef struct {
    PyObject_HEAD
    MPI_Status ob_mpi;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIStatusObject;

/* ---- status.c ---------------------------------------------------------- */

int fastmpi_status_init(PyObject *module);

/* ---- request.c: Request, Prequest; requestlist.c: the list calls -------
 *
 * A request holds everything MPI reads or writes until it completes: the
 * parsed buffers (msg), a pickled object, a receive area, any other
 * objects (keep) and one PyMem block (mem, for count/displacement arrays).
 * Releasing happens in one place, fastmpi_request_complete().  A pending
 * request whose last reference goes away is kept in fastmpi_st->orphans
 * until MPI completes it, so memory MPI writes to is never freed early.
 *
 * To start one: req = fastmpi_request_new(type); fill msg/nmsg, keep, mem
 * (the request owns them from then on); make the MPI call on &req->ob_mpi;
 * on success fastmpi_request_started(req); on failure Py_DECREF(req)
 * releases everything. */
enum {
    FASTMPI_REQ_NULL = 0,       /* REQUEST_NULL, or not yet started */
    FASTMPI_REQ_ACTIVE,         /* MPI may still use the buffers */
    FASTMPI_REQ_INACTIVE,       /* persistent, not started */
    FASTMPI_REQ_DONE,           /* completed by a wait or test */
    FASTMPI_REQ_FREED,          /* freed by the user */
};

enum {
    FASTMPI_REQ_BUFFERS = 0,    /* completion produces nothing */
    FASTMPI_REQ_OBJSEND,        /* a pickled object in `pickled` */
    FASTMPI_REQ_OBJRECV,        /* an object: in `area`, or msg[0] */
    FASTMPI_REQ_GREQUEST,       /* a generalized request (grequest.c) */
    FASTMPI_REQ_ALIAS,          /* Request(other): stands for `keep` */
};

typedef struct {
    PyObject_HEAD
    MPI_Request ob_mpi;
    unsigned char state;
    unsigned char kind;
    unsigned char persistent;
    unsigned char busy;         /* waited on without the GIL right now */
    unsigned char recv;         /* a receive: cancelled at finalisation */
    unsigned char procnull;     /* a receive from MPI_PROC_NULL */
    int nmsg;
    fastmpi_msg msg[2];
    PyObject *keep;             /* owned or NULL */
    void *mem;                  /* PyMem_Free'd at release */
    fastmpi_pickled *pickled;   /* PyMem, OBJSEND */
    fastmpi_area area;          /* OBJRECV without a buffer */
    Py_ssize_t received;        /* OBJRECV: bytes, once complete; -1 */
    Py_ssize_t capacity;        /* OBJRECV into an area standing in for a
                                   caller's buffer of this size; else -1 */
    Py_ssize_t truncated;       /* > 0: the message that did not fit */
    PyObject *bytes;            /* OBJRECV: a bytearray received into */
    void *greq;                 /* GREQUEST: its context (grequest.c) */
    PyObject *value;            /* GREQUEST: owned or NULL, the object
                                   complete(obj) gave, for wait() */
    PyObject *op;               /* owned or NULL: an Op.Create op whose
                                   function's exception the wait raises */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIRequestObject;

/* The request an object stands for: itself, or for Request(other), the
 * other. */
static inline FastMPIRequestObject *
fastmpi_request_target(FastMPIRequestObject *req)
{
    return Py_UNLIKELY(req->kind == FASTMPI_REQ_ALIAS)
        ? (FastMPIRequestObject *)req->keep : req;
}

/* A new request of `type` (Request, Prequest, or a subclass), state NULL.
 * Never fails other than MemoryError. */
FastMPIRequestObject *fastmpi_request_new(PyTypeObject *type);
/* Keep `obj` alive as long as the request needs its buffers. */
int fastmpi_request_keep(FastMPIRequestObject *req, PyObject *obj);
/* The MPI call succeeded: the request is active (or inactive, for a
 * persistent one).  Returns req as a PyObject (the reference passes). */
PyObject *fastmpi_request_started(FastMPIRequestObject *req);
/* MPI completed the request (its status in *st, or NULL): release what it
 * held.  want_result keeps a received object for fastmpi_request_result. */
void fastmpi_request_complete(FastMPIRequestObject *req, MPI_Status *st,
                              int want_result);
/* New reference: what a completed request produced (an object for an
 * object receive, else None); consumes it. */
PyObject *fastmpi_request_result(FastMPIRequestObject *req);
/* After a wait or test completed req: -1 with the exception a Python
 * callback raised meanwhile (a generalized request's, a user op's), else
 * 0. */
int fastmpi_request_raise_pending(FastMPIRequestObject *req);
/* Raise (ERR_REQUEST, naming fname) and return -1 unless req can be waited
 * on or tested: 0 = go ahead, 1 = a null request (complete at once). */
int fastmpi_request_check(FastMPIRequestObject *req, const char *fname,
                          int wait);
/* Test the orphans, dropping the completed ones (GIL held). */
void fastmpi_request_sweep(void);
void fastmpi_request_before_finalize(void);
/* Make Request and Prequest with the other files' tables (module.c). */
int fastmpi_request_init(PyObject *module, const fastmpi_type_parts *parts);
/* requestlist.c: Waitall, Testany, ..., joined onto Request. */
extern PyMethodDef fastmpi_requestlist_methods[];
int fastmpi_grequest_init(PyObject *module);     /* grequest.c */
/* New reference: a Message of `type` for a matched handle; st is the
 * probe's status (NULL: none). */
PyObject *fastmpi_message_new(PyTypeObject *type, MPI_Message handle,
                              const MPI_Status *st);
/* message.c: Message, with the other files' tables (module.c). */
int fastmpi_message_init(PyObject *module, const fastmpi_type_parts *parts);

/* Borrowed: a Request argument, or NULL with TypeError naming it. */
FastMPIRequestObject *fastmpi_request_arg(PyObject *obj, const char *fname,
                                          const char *argname);

/* args.c's status converter, for the receives and waits. */
int fastmpi_arg_status(fastmpi_argspec *spec, int index, PyObject *obj,
                       MPI_Status **out);

#endif /* FASTMPI_REQUEST_H */
