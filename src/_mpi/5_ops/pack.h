/* pack.h: Pack, Unpack and their external32 forms (layer 5). */
#ifndef FASTMPI_PACK_H
#define FASTMPI_PACK_H

#include "../0_core/fastmpi.h"

/* Methods that module.c joins onto Datatype (they take a communicator). */
extern PyMethodDef fastmpi_pack_methods[];

#endif /* FASTMPI_PACK_H */
