/* comm.h: Comm, Intracomm, Intercomm, Group, Info and the construction of
 * communicators (layer 4). */
#ifndef FASTMPI_COMM_H
#define FASTMPI_COMM_H

#include "../0_core/fastmpi.h"

typedef struct {
    PyObject_HEAD
    MPI_Comm ob_mpi;
    int flags;
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPICommObject;

/* ---- comm.c ------------------------------------------------------------ */

/* Make Comm and Intracomm with the other files' tables (module.c). */
int fastmpi_comm_init(PyObject *module, const fastmpi_type_parts *comm_parts,
                      const fastmpi_type_parts *intra_parts);
/* New reference: a Comm object of `type` wrapping `comm`. */
PyObject *fastmpi_comm_new(PyTypeObject *type, MPI_Comm comm, int flags);
/* The class of a communicator made from self that drops its topology
 * (Split, Create, Create_group, Split_type): Intracomm for a Topocomm,
 * else self's own class.  Borrowed. */
PyTypeObject *fastmpi_comm_derived_type(FastMPICommObject *self);
/* Raise MPI.Exception(ERR_COMM) and return -1 if self is COMM_NULL. */
int fastmpi_comm_check(FastMPICommObject *self);
/* fastmpi_comm_check, then this process's rank and the size: 0 or -1. */
int fastmpi_comm_ranks(FastMPICommObject *self, int *rank, int *size);

/* ---- intercomm.c: MPI.Intercomm, Intracomm.Create_intercomm ---------- */

int fastmpi_intercomm_init(PyObject *module);
extern PyMethodDef fastmpi_intracomm_methods[];  /* on Intracomm */
/* The remote group's size of an intercommunicator: 0 or -1. */
int fastmpi_comm_remote_size(FastMPICommObject *self, int *rsize);
/* ValueError naming fname's 'root' unless root is MPI.ROOT, MPI.PROC_NULL
 * or a rank of the remote group (0 to rsize - 1). */
int fastmpi_inter_root_check(const char *fname, int root, int rsize);

/* ---- group.c: MPI.Group; info.c: MPI.Info; commctor.c: new comms ------- */
typedef struct {
    PyObject_HEAD
    MPI_Group ob_mpi;
    int flags;                  /* FASTMPI_PREDEFINED: GROUP_EMPTY/NULL */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIGroupObject;

extern int fastmpi_group_init(PyObject *module);
/* New reference: a Group object of `type` (fastmpi_st->Group, or a
 * subclass) that owns `g` (freed only by its Free()). */
PyObject *fastmpi_group_new(PyTypeObject *type, MPI_Group g, int flags);
/* Borrowed handle of a Group argument, or MPI_GROUP_NULL with TypeError
 * (not a Group) or MPI.Exception(ERR_GROUP) (GROUP_NULL, a freed group)
 * naming fname/argname. */
MPI_Group fastmpi_group_arg(PyObject *obj, const char *fname,
                            const char *argname);

typedef struct {
    PyObject_HEAD
    MPI_Info ob_mpi;
    int flags;                  /* FASTMPI_PREDEFINED: INFO_NULL/ENV */
    PyObject *weaklist;         /* weak references (fastmpi.h) */
} FastMPIInfoObject;

extern int fastmpi_info_init(PyObject *module);
/* New reference: an Info object of `type` owning `info`. */
PyObject *fastmpi_info_new(PyTypeObject *type, MPI_Info info, int flags);
/* The MPI_Info for an `info` argument: None or INFO_NULL -> MPI_INFO_NULL;
 * an Info -> its handle (borrowed); a mapping or an iterable of (key,
 * value) pairs of str -> a new MPI_Info holding them.  On error
 * MPI_INFO_NULL with an exception naming fname/argname (so check
 * PyErr_Occurred() when MPI_INFO_NULL comes back).  Every successful call
 * is paired with fastmpi_info_arg_release(obj, info), which frees the
 * MPI_Info made from a mapping. */
MPI_Info fastmpi_info_arg(PyObject *obj, const char *fname,
                          const char *argname);
void fastmpi_info_arg_release(PyObject *obj, MPI_Info info);
/* A str argument as UTF-8 of at most `max` bytes, without NUL (borrowed
 * from obj), or NULL with TypeError/ValueError naming fname/argname. */
const char *fastmpi_str_arg(PyObject *obj, int max, const char *fname,
                            const char *argname);
/* allocmem.c: Alloc_mem and Free_mem (module functions). */
extern PyMethodDef fastmpi_allocmem_functions[];

/* ports.c: Open_port, Close_port, Publish_name, Unpublish_name,
 * Lookup_name (module functions); Accept and Connect (on Intracomm);
 * Join (on Comm). */
extern PyMethodDef fastmpi_ports_functions[];
extern PyMethodDef fastmpi_ports_intracomm_methods[];
extern PyMethodDef fastmpi_ports_comm_methods[];
/* spawn.c: Spawn and Spawn_multiple (on Intracomm). */
extern PyMethodDef fastmpi_spawn_intracomm_methods[];

/* commctor.c: Create, Create_group, Split_type, Idup, ...; on Comm. */
extern PyMethodDef fastmpi_commctor_methods[];
/* winfile.c: Win and File, WIN_NULL and FILE_NULL, the WIN_* keys. */
int fastmpi_winfile_init(PyObject *module);

/* commctor.c: Comm.group and Comm.info. */
extern PyGetSetDef fastmpi_commctor_getset[];

#endif /* FASTMPI_COMM_H */
