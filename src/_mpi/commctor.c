/* commctor.c: new communicators from old ones: Create, Create_group,
 * Split_type, Idup, Dup_with_info, Clone; a communicator's group and info.
 *
 * Its methods are joined into Comm's table (comm.c).  A new communicator
 * has the type of the one it came from, subclasses included.
 */
#include "fastmpi.h"

PyObject *
fastmpi_comm_get_group(FastMPICommObject *self, void *closure)
{
    MPI_Group g = MPI_GROUP_NULL;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_group(self->ob_mpi, &g)) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_group_new(fastmpi_group_type, g, 0);
    if (obj == NULL) {
        MPI_Group_free(&g);
    }
    return obj;
}

static PyObject *
Comm_Get_group(FastMPICommObject *self, PyObject *unused)
{
    return fastmpi_comm_get_group(self, NULL);
}

PyMethodDef fastmpi_commctor_methods[] = {
    {"Get_group", (PyCFunction)Comm_Get_group, METH_NOARGS,
     "Get_group() -> the group of the communicator (a new Group)."},
    {NULL},
};
