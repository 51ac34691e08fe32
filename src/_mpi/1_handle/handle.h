/* handle.h: what every MPI handle class has (layer 1). */
#ifndef FASTMPI_HANDLE_H
#define FASTMPI_HANDLE_H

#include "../0_core/fastmpi.h"

/* Borrowed: the module's predefined object of type `base` wrapping the
 * same handle as `probe` (compared with ==), or NULL (no exception). */
PyObject *fastmpi_find_predefined(PyTypeObject *base, PyObject *probe);
/* __reduce__ of a predefined object: "name" for MPI.<name> itself, else
 * (type(self), (MPI.<name>,)). */
PyObject *fastmpi_reduce_predefined(PyObject *self, const char *name);
/* f2py()'s argument as an MPI_Fint (TypeError unless an int, ValueError
 * outside a Fortran int), once MPI is running: 0, or -1. */
int fastmpi_fint_arg(PyObject *arg, MPI_Fint *out);
/* f2py's check of what MPI_X_f2c returned: 0, or -1 with
 * MPI.Exception(ERR_ARG) for the zero handle (an unknown Fortran index). */
int fastmpi_f2c_check(intptr_t handle, MPI_Fint f);

#endif /* FASTMPI_HANDLE_H */
