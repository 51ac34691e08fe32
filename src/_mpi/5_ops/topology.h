/* topology.h: process topologies and neighbourhood collectives (layer 5). */
#ifndef FASTMPI_TOPOLOGY_H
#define FASTMPI_TOPOLOGY_H

#include "../0_core/fastmpi.h"
#include "../4_comm/comm.h"

/* ---- topology.c, neighbor.c: process topologies ------------------------ */

/* Make Topocomm, Cartcomm, Graphcomm and Distgraphcomm, each with its
 * parts (parts[0..3], in that order) from module.c. */
int fastmpi_topology_init(PyObject *module, const fastmpi_type_parts *parts);
/* Create_cart, ... on Intracomm; Get_topology and topology on Comm. */
extern PyMethodDef fastmpi_topology_intracomm_methods[];
extern PyMethodDef fastmpi_topology_comm_methods[];
extern PyGetSetDef fastmpi_topology_comm_getset[];
/* The in- and out-degree of a communicator with a process topology (any
 * kind); with `in` non-NULL also its neighbour lists, in MPI's order, in
 * one new PyMem block at *in (*out points into it; PyMem_Free(*in)).
 * TypeError naming fname for a communicator without a topology. */
int fastmpi_topo_neighbors(FastMPICommObject *self, const char *fname,
                           int *indeg, int *outdeg, int **in, int **out);
extern PyMethodDef fastmpi_neighbor_methods[]; /* neighbor.c, on Topocomm */
/* topology.c's argument helpers, shared with cartcomm.c and graphcomm.c:
 * a sequence of ints (or of truth values, `want` of them; None: all
 * false; True or False: all that) into a new PyMem array; an int
 * argument; and MPI_UNWEIGHTED (through a function: Open MPI's is
 * ((int *)2), which GCC takes for an empty array when passed straight to
 * an int[] parameter).
 * Errors name fname/argname. */
int fastmpi_topo_int_seq(PyObject *obj, const char *fname,
                         const char *argname, int **out, int *n);
int fastmpi_topo_bool_seq(PyObject *obj, int want, const char *fname,
                          const char *argname, int **out);
int fastmpi_topo_int_arg(const char *fname, const char *argname,
                         PyObject *obj, int *out);
int *fastmpi_topo_unweighted(void);
/* The tables of cartcomm.c and graphcomm.c, for topology.c's types
 * (module.c hands them over). */
extern PyMethodDef fastmpi_cartcomm_methods[];
extern PyGetSetDef fastmpi_cartcomm_getset[];
extern PyMethodDef fastmpi_graphcomm_methods[];
extern PyGetSetDef fastmpi_graphcomm_getset[];
extern PyMethodDef fastmpi_distgraphcomm_methods[];

#endif /* FASTMPI_TOPOLOGY_H */
