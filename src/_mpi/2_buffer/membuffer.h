/* membuffer.h: MPI.buffer (MPI.memory), bytes of memory as a Python
 * buffer, and the buffer markers BOTTOM, IN_PLACE and BUFFER_AUTOMATIC
 * (layer 2). */
#ifndef FASTMPI_MEMBUFFER_H
#define FASTMPI_MEMBUFFER_H

#include "../0_core/fastmpi.h"

/* ---- membuffer.c: MPI.buffer ------------------------------------------ */

/* Makes MPI.buffer (fastmpi_st->Buffer) and its alias MPI.memory. */
int fastmpi_membuffer_init(PyObject *module);

/* New reference: an MPI.buffer owning `size` (>= 0) bytes from
 * MPI_Alloc_mem (Alloc_mem; MPI running).  It gives them back with
 * MPI_Free_mem: at Free_mem, or when it is deallocated while MPI runs.
 * NULL with an exception. */
PyObject *fastmpi_membuffer_alloc_mpi(MPI_Aint size, MPI_Info info);

/* New reference: an MPI.buffer showing len bytes at buf, memory someone
 * else owns (MPI.buffer.fromaddress); NULL with an exception. */
PyObject *fastmpi_membuffer_of_memory(void *buf, Py_ssize_t len,
                                      int readonly);

/* mem.release(): it shows nothing from now on (what a program kept of it
 * still sees the memory, as with a memoryview).  mem is an MPI.buffer. */
void fastmpi_membuffer_release(PyObject *mem);

/* Free_mem(mem): MPI_Free_mem on the memory of an MPI.buffer from
 * fastmpi_membuffer_alloc_mpi; the buffer then refuses any access.  While
 * a view of it is alive (a memoryview, a slice, a pending request), the
 * call is made when the last one goes.  0, or -1 with TypeError (not an
 * MPI.buffer), ValueError (not from Alloc_mem, or freed already) or
 * MPI.Exception (the buffer left as it was). */
int fastmpi_membuffer_free_mpi(PyObject *mem, const char *fname);

/* ---- markers.c: BOTTOM, IN_PLACE, BUFFER_AUTOMATIC --------------------
 *
 * The types BottomType, InPlaceType and BufferAutomaticType and their one
 * instance each, in fastmpi_st->BOTTOM, ->IN_PLACE and ->BUFFER_AUTOMATIC
 * (compared by pointer wherever a buffer argument may be one). */
int fastmpi_markers_init(PyObject *module);

#endif /* FASTMPI_MEMBUFFER_H */
