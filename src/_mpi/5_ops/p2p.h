/* p2p.h: point-to-point operations (layer 5). */
#ifndef FASTMPI_P2P_H
#define FASTMPI_P2P_H

#include "../0_core/fastmpi.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/pickle.h"
#include "../4_comm/comm.h"

/* The four blocking send modes share one signature. */
typedef int (*fastmpi_send_fn)(const void *, int, MPI_Datatype, int, int,
                               MPI_Comm);

/* The nonblocking and persistent starts (Isend, Send_init, ...; objp2p.c's
 * isend family and nbp2p.c's) share one signature too. */
typedef int (*fastmpi_start_fn)(const void *, int, MPI_Datatype, int, int,
                                MPI_Comm, MPI_Request *);

/* The blocking sends, of buffers (p2p.c: Send, Ssend, Rsend, Bsend;
 * objects = 0) and of objects (objp2p.c: send, ssend, bsend; objects = 1):
 * the arguments (buf or obj, dest, tag=0) as spec names them, the message
 * (the buffer spec parsed, or the object pickled: not to MPI.PROC_NULL,
 * where nothing is sent), then fn.  The hottest path: static inline, so
 * each of the two files has its own copy with `objects` a constant, and
 * keeps only its own branch (a direct call, as before).  None, or NULL
 * with an exception. */
static inline PyObject *
fastmpi_send_common(FastMPICommObject *self, PyObject *const *args,
                    Py_ssize_t nargs, PyObject *kwnames,
                    fastmpi_argspec *spec, fastmpi_send_fn fn,
                    const char *mpiname, int objects)
{
    PyObject *argv[3];
    int dest, tag, ierr;
    fastmpi_msg msg;            /* objects = 0: the buffer */
    fastmpi_pickled p;          /* objects = 1: the pickle */
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 1, argv[1], 0, &dest) < 0 ||
        fastmpi_arg_int(spec, 2, argv[2], 0, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    if (objects) {
        if (dest == MPI_PROC_NULL) {
            Py_RETURN_NONE;     /* nothing is sent: do not pickle */
        }
        if (fastmpi_pickle_dump(argv[0], &p) < 0) {
            return NULL;
        }
    }
    else if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_SEND, dest, spec->fname,
                               "buf", &msg) < 0) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi;
    /* read where they are, not copied: a copy costs the buffer path
     * instructions (measured) */
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL(mpiname, comm, dest, tag, objects ? p.nbytes : msg.nbytes,
                 ierr = objects
                     ? fn(p.addr, p.count, p.datatype, dest, tag, comm)
                     : fn(msg.addr, msg.count, msg.datatype, dest, tag,
                          comm));
    FASTMPI_NOGIL_END
    if (objects) {
        fastmpi_pickled_release(&p);
    }
    else {
        fastmpi_msg_release(&msg);
    }
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Comm_NAME: the send mode FN (objects as above). */
#define FASTMPI_DEFINE_SEND(NAME, FN, NAMES, OBJECTS)                      \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NAMES, 2};                   \
        return fastmpi_send_common(self, args, nargs, kwnames, &spec, FN,  \
                                   #FN, OBJECTS);                          \
    }

extern PyMethodDef fastmpi_p2p_methods[];     /* p2p.c, on Comm */
extern PyMethodDef fastmpi_objp2p_methods[];  /* objp2p.c, on Comm */
extern PyMethodDef fastmpi_nbp2p_methods[];   /* nbp2p.c, on Comm */
extern PyMethodDef fastmpi_mprobe_comm_methods[];     /* mprobe.c */
extern PyMethodDef fastmpi_mprobe_message_methods[];  /* mprobe.c */
extern PyMethodDef fastmpi_buffer_functions[]; /* p2p.c, module */
extern PyMethodDef fastmpi_bsendbuf_functions[];     /* bsendbuf.c */
extern PyMethodDef fastmpi_bsendbuf_comm_methods[];  /* bsendbuf.c */
extern PyMethodDef fastmpi_faults_comm_methods[];    /* faults.c */

#endif /* FASTMPI_P2P_H */
