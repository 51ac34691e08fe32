/* attr.h: attributes and error handlers (layer 4). */
#ifndef FASTMPI_ATTR_H
#define FASTMPI_ATTR_H

#include "../0_core/fastmpi.h"

/* Method tables that module.c joins onto Comm and Datatype. */
extern PyMethodDef fastmpi_attr_comm_methods[];       /* attr.c */
extern PyMethodDef fastmpi_attr_datatype_methods[];   /* attr.c */
extern PyMethodDef fastmpi_errhandler_comm_methods[]; /* errhandler.c */
int fastmpi_errhandler_init(PyObject *module);

#endif /* FASTMPI_ATTR_H */
