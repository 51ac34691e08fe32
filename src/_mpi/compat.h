/* compat.h: every MPI-library, MPI-version and Python-version difference.
 *
 * MPICH handles are ints and Open MPI handles are pointers: code elsewhere
 * never looks inside a handle; it converts with FASTMPI_HANDLE_TO_INT.
 */
#ifndef FASTMPI_COMPAT_H
#define FASTMPI_COMPAT_H

#include <stdint.h>

/* An MPI handle as a Python-visible integer (both libraries). */
#define FASTMPI_HANDLE_TO_INT(h) ((intptr_t)(h))

#if defined(OPEN_MPI) && OPEN_MPI
#define FASTMPI_MPI_VENDOR "Open MPI"
#elif defined(MPICH_VERSION)
#define FASTMPI_MPI_VENDOR "MPICH"
#else
#define FASTMPI_MPI_VENDOR "unknown"
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

#ifndef Py_LIKELY
#define Py_LIKELY(x) __builtin_expect(!!(x), 1)
#define Py_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

#endif /* FASTMPI_COMPAT_H */
