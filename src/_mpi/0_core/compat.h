/* compat.h: every MPI-library, MPI-version and Python-version difference.
 *
 * MPICH handles are ints and Open MPI handles are pointers: code elsewhere
 * never looks inside a handle; it converts with FASTMPI_HANDLE_TO_INT.
 */
#ifndef FASTMPI_COMPAT_H
#define FASTMPI_COMPAT_H

#include <stddef.h>
#include <stdint.h>

/* An MPI handle as a Python-visible integer (both libraries). */
#define FASTMPI_HANDLE_TO_INT(h) ((intptr_t)(h))

/* MPI-5's ABI has MPI_Comm_toint/MPI_Comm_fromint and the like: the
 * handle as a C int, the same on every library.  Without them (MPICH 4,
 * Open MPI 4 and 5), toint()/fromint() use the Fortran handle, as mpi4py
 * 4.1 does (handle.h). */
#if MPI_VERSION >= 5
#define FASTMPI_HAVE_TOINT 1
#else
#define FASTMPI_HAVE_TOINT 0
#endif

/* FASTMPI_MPI_VENDOR and its version (MPI.get_vendor()). */
#if defined(OPEN_MPI) && OPEN_MPI
#define FASTMPI_MPI_VENDOR "Open MPI"
#define FASTMPI_VENDOR_VERSION                                             \
    OMPI_MAJOR_VERSION, OMPI_MINOR_VERSION, OMPI_RELEASE_VERSION
/* ob1 writes a truncated rendezvous message past the receive buffer's end
 * (p2p.c): blocking receives probe the size first. */
#define FASTMPI_TRUNCATION_OVERFLOWS 1
#elif defined(MPICH_VERSION)
#define FASTMPI_MPI_VENDOR "MPICH"
/* MPICH_NUMVERSION: MAJOR MINOR(2 digits) REVISION(2) EXT(1) PATCH(2) */
#define FASTMPI_VENDOR_VERSION                                             \
    MPICH_NUMVERSION / 10000000, MPICH_NUMVERSION / 100000 % 100,          \
    MPICH_NUMVERSION / 1000 % 100
#else
#define FASTMPI_MPI_VENDOR "unknown"
#define FASTMPI_VENDOR_VERSION 0, 0, 0
#endif

/* MPI-4 large-count (_c) functions: MPICH 4, not Open MPI 4.1. */
#if MPI_VERSION >= 4
#define FASTMPI_HAVE_LARGE_COUNT 1
#else
#define FASTMPI_HAVE_LARGE_COUNT 0
#endif

/* MPICH 4.0's singleton (a process started without mpiexec) cannot start
 * its process manager: hydra rejects the -pmi_args it is given, and the
 * process then waits forever.  Anything that needs the process manager
 * (the UNIVERSE_SIZE attribute, spawning) must not be asked of MPICH in a
 * singleton. */
#if defined(MPICH_VERSION)
#include <stdlib.h>
static inline int
fastmpi_mpich_singleton(void)
{
    return getenv("PMI_FD") == NULL && getenv("PMI_PORT") == NULL &&
           getenv("PMI_RANK") == NULL && getenv("PMIX_RANK") == NULL;
}
#else
static inline int
fastmpi_mpich_singleton(void)
{
    return 0;
}
#endif

/* numpy's ndarray object head: the fields below have kept this layout in
 * every numpy since 1.7, 2.x included.  Only these are read (the dtype's
 * own layout changed in 2.0 and is never looked into). */
typedef struct {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
} fastmpi_ndarray;

#define FASTMPI_NPY_C_CONTIGUOUS 0x0001
#define FASTMPI_NPY_F_CONTIGUOUS 0x0002
#define FASTMPI_NPY_WRITEABLE 0x0400

/* MPICH 4.0's MPI_(I)neighbor_alltoallw on a distributed graph where some
 * process's in- and out-degrees differ delivers nothing (or corrupts the
 * heap); reproduced in plain C.  neighbor.c refuses such calls. */
#if defined(MPICH_NUMVERSION) && MPICH_NUMVERSION < 40100000
#define FASTMPI_NEIGHBOR_ALLTOALLW_UNEVEN_BROKEN 1
#else
#define FASTMPI_NEIGHBOR_ALLTOALLW_UNEVEN_BROKEN 0
#endif

#ifndef Py_LIKELY
#define Py_LIKELY(x) __builtin_expect(!!(x), 1)
#define Py_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

/* MPICH 4.0.2 dies of SIGILL in MPI_Pack_external, MPI_Unpack_external and
 * MPI_Pack_external_size for a datatype whose type map mixes basic types
 * (a struct of MPI_INT and MPI_DOUBLE; reproduced in plain C): pack.c
 * refuses such types there. */
#if defined(MPICH_VERSION)
#define FASTMPI_EXTERNAL32_MIXED_CRASH 1
#else
#define FASTMPI_EXTERNAL32_MIXED_CRASH 0
#endif

/* MPI-4.1's automatic buffering for buffered sends (MPI_BUFFER_AUTOMATIC
 * given to MPI_Buffer_attach): not in MPICH 4.0 nor Open MPI 4.1.  Then
 * MPI.BUFFER_AUTOMATIC stands for the address the MPI-5 ABI gives it, and
 * Attach_buffer refuses it. */
#ifdef MPI_BUFFER_AUTOMATIC
#define FASTMPI_HAVE_BUFFER_AUTOMATIC 1
#define FASTMPI_BUFFER_AUTOMATIC MPI_BUFFER_AUTOMATIC
#else
#define FASTMPI_HAVE_BUFFER_AUTOMATIC 0
#define FASTMPI_BUFFER_AUTOMATIC ((void *)2)
#endif

/* Whether the MPI library takes device memory: CUDA's, or ROCm's when
 * `rocm` (dlpack.c hands a device tensor's address to MPI only then).
 * Asked of the library at run time where its headers offer a query (Open
 * MPI's mpi-ext.h, MPICH 4's MPIX_GPU_query_support); 0 elsewhere. */
#if defined(OPEN_MPI) && OPEN_MPI && defined(__has_include)
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif
#endif
static inline int
fastmpi_device_aware(int rocm)
{
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
    if (!rocm) {
        return MPIX_Query_cuda_support();
    }
#endif
#if defined(MPIX_ROCM_AWARE_SUPPORT) && MPIX_ROCM_AWARE_SUPPORT
    if (rocm) {
        return MPIX_Query_rocm_support();
    }
#endif
#if defined(MPICH_VERSION) && defined(MPIX_GPU_SUPPORT_CUDA)
    int supported = 0;
    if (MPIX_GPU_query_support(rocm ? MPIX_GPU_SUPPORT_HIP
                                    : MPIX_GPU_SUPPORT_CUDA,
                               &supported) == MPI_SUCCESS) {
        return supported;
    }
#endif
    (void)rocm;
    return 0;
}

#ifndef FASTMPI_TRUNCATION_OVERFLOWS
#define FASTMPI_TRUNCATION_OVERFLOWS 0
#endif

/* Constants of newer MPI versions (or of the Fortran interface) that a
 * library may lack: mpi4py defines every name, so fastmpi does too, with
 * these values (error classes: ERR_UNKNOWN; sizes and kinds: UNDEFINED,
 * or what the MPI standard defines them to be). */
#ifndef MPI_COMM_TYPE_HW_GUIDED
#define MPI_COMM_TYPE_HW_GUIDED MPI_UNDEFINED
#endif
#ifndef MPI_COMM_TYPE_HW_UNGUIDED
#define MPI_COMM_TYPE_HW_UNGUIDED MPI_UNDEFINED
#endif
#ifndef MPI_COMM_TYPE_RESOURCE_GUIDED
#define MPI_COMM_TYPE_RESOURCE_GUIDED MPI_UNDEFINED
#endif
#ifndef MPI_MAX_PSET_NAME_LEN
#define MPI_MAX_PSET_NAME_LEN 256
#endif
#ifndef MPI_MAX_STRINGTAG_LEN
#define MPI_MAX_STRINGTAG_LEN 256
#endif
#ifndef MPI_F_STATUS_SIZE
#define MPI_F_STATUS_SIZE ((int)(sizeof(MPI_Status) / sizeof(int)))
#endif
#ifndef MPI_F_SOURCE
#define MPI_F_SOURCE ((int)(offsetof(MPI_Status, MPI_SOURCE) / sizeof(int)))
#endif
#ifndef MPI_F_TAG
#define MPI_F_TAG ((int)(offsetof(MPI_Status, MPI_TAG) / sizeof(int)))
#endif
#ifndef MPI_F_ERROR
#define MPI_F_ERROR ((int)(offsetof(MPI_Status, MPI_ERROR) / sizeof(int)))
#endif
#ifndef MPI_ERR_PROC_ABORTED
#define MPI_ERR_PROC_ABORTED MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_VALUE_TOO_LARGE
#define MPI_ERR_VALUE_TOO_LARGE MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_SESSION
#define MPI_ERR_SESSION MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_ERRHANDLER
#define MPI_ERR_ERRHANDLER MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_ABI
#define MPI_ERR_ABI MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_PROC_FAILED
#define MPI_ERR_PROC_FAILED MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_PROC_FAILED_PENDING
#define MPI_ERR_PROC_FAILED_PENDING MPI_ERR_UNKNOWN
#endif
#ifndef MPI_ERR_REVOKED
#define MPI_ERR_REVOKED MPI_ERR_UNKNOWN
#endif
#ifndef MPI_COMBINER_VALUE_INDEX
#define MPI_COMBINER_VALUE_INDEX MPI_UNDEFINED
#endif
#ifndef MPI_TYPECLASS_LOGICAL
#define MPI_TYPECLASS_LOGICAL MPI_UNDEFINED
#endif

/* MPICH 4.0's MPI_Comm_set_errhandler(comm, MPI_ERRORS_ABORT) fails an
 * internal assertion and aborts (reproduced in plain C): fastmpi.rc.errors
 * = 'abort' sets MPI_ERRORS_ARE_FATAL there. */
#if defined(MPI_ERRORS_ABORT) &&                                           \
    !(defined(MPICH_NUMVERSION) && MPICH_NUMVERSION < 40100000)
#define FASTMPI_HAVE_ERRORS_ABORT 1
#else
#define FASTMPI_HAVE_ERRORS_ABORT 0
#endif

/* The Fortran status's length (Status.py2f): MPI_F_STATUS_SIZE (MPI-3,
 * MPICH); Open MPI 4.1 does not define it, and its MPI_Status_c2f copies
 * the whole C struct, int by int (6). */
#ifdef MPI_F_STATUS_SIZE
#define FASTMPI_F_STATUS_SIZE MPI_F_STATUS_SIZE
#else
#define FASTMPI_F_STATUS_SIZE ((int)(sizeof(MPI_Status) / sizeof(MPI_Fint)))
#endif

#endif /* FASTMPI_COMPAT_H */
