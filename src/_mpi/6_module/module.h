/* module.h: the top layer's own init functions (layer 6). */
#ifndef FASTMPI_MODULE_H
#define FASTMPI_MODULE_H

#include "../0_core/fastmpi.h"

int fastmpi_environment_init(PyObject *module);
int fastmpi_constants_init(PyObject *module);

#endif /* FASTMPI_MODULE_H */
