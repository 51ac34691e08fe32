/* fastmpi's C API for other extension modules: not there yet.
 *
 * fastmpi.get_include() returns the directory holding this file, as
 * mpi4py.get_include() does for mpi4py's headers; fastmpi does not export
 * a C API (mpi4py's PyMPIComm_Get and friends) so far. */
#ifndef FASTMPI_FASTMPI_H
#define FASTMPI_FASTMPI_H
#error "fastmpi has no C API yet (fastmpi/fastmpi.h is a placeholder)"
#endif
