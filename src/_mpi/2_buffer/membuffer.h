/* membuffer.h: the buffer markers BOTTOM, IN_PLACE and BUFFER_AUTOMATIC
 * (layer 2). */
#ifndef FASTMPI_MEMBUFFER_H
#define FASTMPI_MEMBUFFER_H

#include "../0_core/fastmpi.h"

/* ---- markers.c: BOTTOM, IN_PLACE, BUFFER_AUTOMATIC --------------------
 *
 * The types BottomType, InPlaceType and BufferAutomaticType and their one
 * instance each, in fastmpi_st->BOTTOM, ->IN_PLACE and ->BUFFER_AUTOMATIC
 * (compared by pointer wherever a buffer argument may be one). */
int fastmpi_markers_init(PyObject *module);

#endif /* FASTMPI_MEMBUFFER_H */
