/* p2p.h: point-to-point operations (layer 5). */
#ifndef FASTMPI_P2P_H
#define FASTMPI_P2P_H

#include "../0_core/fastmpi.h"
#include "../4_comm/comm.h"

/* The four blocking send modes share one signature.  p2p.c (buffers) and
 * objp2p.c (objects) each have a static send_common() taking one, and make
 * a Comm method per mode with FASTMPI_DEFINE_SEND. */
typedef int (*fastmpi_send_fn)(const void *, int, MPI_Datatype, int, int,
                               MPI_Comm);

/* The nonblocking and persistent starts (Isend, Send_init, ...; objp2p.c's
 * isend family and nbp2p.c's) share one signature too. */
typedef int (*fastmpi_start_fn)(const void *, int, MPI_Datatype, int, int,
                                MPI_Comm, MPI_Request *);

#define FASTMPI_DEFINE_SEND(NAME, FN, NAMES)                               \
    static PyObject *Comm_##NAME(FastMPICommObject *self,                  \
                                 PyObject *const *args, Py_ssize_t nargs,  \
                                 PyObject *kwnames)                        \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NAMES, 2};                   \
        return send_common(self, args, nargs, kwnames, &spec, FN, #FN);    \
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
