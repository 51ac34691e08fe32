/* commctor.c: new communicators from old ones: Create, Create_group,
 * Split_type, Dup_with_info, Idup, Clone; a communicator's group and info.
 *
 * Its methods are joined into Comm's table (comm.c).  A new communicator
 * has the type of the one it came from, subclasses included.  Every call
 * that may synchronise releases the GIL.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../3_request/request.h"
#include "comm.h"

static PyObject *
Comm_get_group(FastMPICommObject *self, void *closure)
{
    MPI_Group g = MPI_GROUP_NULL;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_group(self->ob_mpi, &g)) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_group_new(fastmpi_st->Group, g, 0);
    if (obj == NULL) {
        MPI_Group_free(&g);
    }
    return obj;
}

static PyObject *
Comm_Get_group(FastMPICommObject *self, PyObject *unused)
{
    return Comm_get_group(self, NULL);
}

/* New reference: a communicator of self's type (without a topology's:
 * Intracomm for a Topocomm) wrapping newcomm (which is freed again if the
 * object cannot be made). */
static PyObject *
new_like(FastMPICommObject *self, MPI_Comm newcomm)
{
    PyObject *obj = fastmpi_comm_new(fastmpi_comm_derived_type(self),
                                     newcomm, 0);
    if (obj == NULL && newcomm != MPI_COMM_NULL) {
        MPI_Comm_free(&newcomm);
    }
    return obj;
}

/* Create(group): collective over self; COMM_NULL where this process is
 * not in group. */
static PyObject *
Comm_Create(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"group", NULL};
    static fastmpi_argspec spec = {"Create", names, 1};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Group group = fastmpi_group_arg(argv[0], "Create", "group");
    if (group == MPI_GROUP_NULL) {
        return NULL;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_create", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Comm_create(self->ob_mpi, group, &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_like(self, newcomm);
}

/* Create_group(group, tag=0): collective over group's members only; a
 * process outside group gets COMM_NULL without calling MPI (the standard
 * leaves that call erroneous). */
static PyObject *
Comm_Create_group(FastMPICommObject *self, PyObject *const *args,
                  Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"group", "tag", NULL};
    static fastmpi_argspec spec = {"Create_group", names, 1};
    PyObject *argv[2];
    int tag, member = MPI_UNDEFINED;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &tag) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Group group = fastmpi_group_arg(argv[0], "Create_group", "group");
    if (group == MPI_GROUP_NULL ||
        fastmpi_check(MPI_Group_rank(group, &member)) < 0) {
        return NULL;
    }
    if (member == MPI_UNDEFINED) {
        return fastmpi_comm_new(fastmpi_comm_derived_type(self),
                                MPI_COMM_NULL, 0);
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_create_group", self->ob_mpi, MPI_PROC_NULL, tag,
                 0, ierr = MPI_Comm_create_group(self->ob_mpi, group, tag,
                                                 &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_like(self, newcomm);
}

/* Split_type(split_type, key=0, info=INFO_NULL) */
static PyObject *
Comm_Split_type(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"split_type", "key", "info", NULL};
    static fastmpi_argspec spec = {"Split_type", names, 1};
    PyObject *argv[3];
    int split_type, key;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &split_type) < 0 ||
        fastmpi_arg_int(&spec, 1, argv[1], 0, &key) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Info info = fastmpi_info_arg(argv[2], "Split_type", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_split_type", self->ob_mpi, MPI_PROC_NULL,
                 split_type, 0,
                 ierr = MPI_Comm_split_type(self->ob_mpi, split_type, key,
                                            info, &newcomm));
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[2], info);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return new_like(self, newcomm);
}

/* Duplicate self: MPI_Comm_dup (the hints copied) unless with_info or an
 * info argument is given, else MPI_Comm_dup_with_info (the hints of
 * infoarg; none for NULL or None). */
static PyObject *
dup_common(FastMPICommObject *self, PyObject *infoarg, int with_info,
           const char *fname)
{
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Info info = MPI_INFO_NULL;
    if (infoarg == Py_None) {
        infoarg = NULL;
    }
    if (infoarg != NULL) {
        with_info = 1;
        info = fastmpi_info_arg(infoarg, fname, "info");
        if (info == MPI_INFO_NULL && PyErr_Occurred()) {
            return NULL;
        }
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    fastmpi_callbacks_begin();       /* copy_fn may run (attr.c) */
    FASTMPI_NOGIL_BEGIN
    if (with_info) {
        FASTMPI_CALL("MPI_Comm_dup_with_info", self->ob_mpi, MPI_PROC_NULL,
                     0, 0, ierr = MPI_Comm_dup_with_info(self->ob_mpi, info,
                                                         &newcomm));
    }
    else {
        FASTMPI_CALL("MPI_Comm_dup", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                     ierr = MPI_Comm_dup(self->ob_mpi, &newcomm));
    }
    FASTMPI_NOGIL_END
    if (infoarg != NULL) {
        fastmpi_info_arg_release(infoarg, info);
    }
    fastmpi_check(ierr);
    if (fastmpi_callbacks_end() < 0) {
        if (ierr == MPI_SUCCESS) {
            /* a copy_fn raised: no half-copied communicator */
            fastmpi_callbacks_begin();
            ierr = MPI_Comm_free(&newcomm);    /* the raise is reported */
            fastmpi_callbacks_end();
        }
        return NULL;
    }
    if (ierr != MPI_SUCCESS) {
        return NULL;
    }
    /* a duplicate keeps the topology, so also the class */
    PyObject *obj = fastmpi_comm_new(Py_TYPE(self), newcomm, 0);
    if (obj == NULL) {
        MPI_Comm_free(&newcomm);
    }
    return obj;
}

static PyObject *
Comm_Dup(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
         PyObject *kwnames)
{
    static const char *const names[] = {"info", NULL};
    static fastmpi_argspec spec = {"Dup", names, 0};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    return dup_common(self, argv[0], 0, "Dup");
}


static PyObject *
Comm_Dup_with_info(FastMPICommObject *self, PyObject *arg)
{
    return dup_common(self, arg, 1, "Dup_with_info");
}

static PyObject *
Comm_Clone(FastMPICommObject *self, PyObject *unused)
{
    return dup_common(self, NULL, 0, "Clone");
}

/* Idup(info=None) -> (newcomm, request).  The request keeps newcomm alive
 * until MPI has written its handle; newcomm is usable once the request
 * completes. */
/* Idup and Idup_with_info: (the new communicator, its request). */
static PyObject *
idup_common(FastMPICommObject *self, PyObject *infoarg, const char *fname)
{
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    int with_info = infoarg != NULL && infoarg != Py_None;
    MPI_Info info = MPI_INFO_NULL;
    if (with_info) {
        info = fastmpi_info_arg(infoarg, fname, "info");
        if (info == MPI_INFO_NULL && PyErr_Occurred()) {
            return NULL;
        }
    }
#if MPI_VERSION < 4
    if (with_info) {
        fastmpi_info_arg_release(infoarg, info);
        return PyErr_Format(PyExc_NotImplementedError,
                            "%s() with an info argument needs "
                            "MPI_Comm_idup_with_info (MPI-4.0), which this "
                            "MPI library (MPI-%d.%d) lacks", fname,
                            MPI_VERSION, MPI_SUBVERSION);
    }
#endif
    PyObject *result = NULL;
    FastMPICommObject *newcomm = (FastMPICommObject *)fastmpi_comm_new(
        Py_TYPE(self), MPI_COMM_NULL, 0);
    FastMPIRequestObject *req = newcomm == NULL ? NULL
        : fastmpi_request_new(fastmpi_st->Request);
    if (req == NULL || fastmpi_request_keep(req, (PyObject *)newcomm) < 0) {
        goto done;
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
#if MPI_VERSION >= 4
    if (with_info) {
        FASTMPI_CALL("MPI_Comm_idup_with_info", self->ob_mpi, MPI_PROC_NULL,
                     0, 0, ierr = MPI_Comm_idup_with_info(
                               self->ob_mpi, info, &newcomm->ob_mpi,
                               &req->ob_mpi));
    }
    else
#endif
    {
        FASTMPI_CALL("MPI_Comm_idup", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                     ierr = MPI_Comm_idup(self->ob_mpi, &newcomm->ob_mpi,
                                          &req->ob_mpi));
    }
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        goto done;
    }
    PyObject *started = fastmpi_request_started(req);  /* takes req */
    req = NULL;
    result = PyTuple_Pack(2, (PyObject *)newcomm, started);
    Py_DECREF(started);

done:
    if (with_info) {
        fastmpi_info_arg_release(infoarg, info);
    }
    Py_XDECREF(req);
    Py_XDECREF(newcomm);
    return result;
}

static PyObject *
Comm_Idup(FastMPICommObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"info", NULL};
    static fastmpi_argspec spec = {"Idup", names, 0};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    return idup_common(self, argv[0], "Idup");
}

static PyObject *
Comm_Idup_with_info(FastMPICommObject *self, PyObject *arg)
{
    if (arg == Py_None) {
        return PyErr_Format(PyExc_TypeError, "Idup_with_info() argument "
                            "'info' must be an Info, not None");
    }
    return idup_common(self, arg, "Idup_with_info");
}

static PyObject *
Comm_get_info(FastMPICommObject *self, void *closure)
{
    MPI_Info info = MPI_INFO_NULL;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_get_info(self->ob_mpi, &info)) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_info_new(fastmpi_st->Info, info, 0);
    if (obj == NULL && info != MPI_INFO_NULL) {
        MPI_Info_free(&info);
    }
    return obj;
}

static PyObject *
Comm_Get_info(FastMPICommObject *self, PyObject *unused)
{
    return Comm_get_info(self, NULL);
}

static int
Comm_set_info(FastMPICommObject *self, PyObject *value,
                      void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete Comm.info");
        return -1;
    }
    if (fastmpi_comm_check(self) < 0) {
        return -1;
    }
    MPI_Info info = fastmpi_info_arg(value, "Set_info", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return -1;
    }
    int ierr = MPI_Comm_set_info(self->ob_mpi, info);
    fastmpi_info_arg_release(value, info);
    return fastmpi_check(ierr);
}

static PyObject *
Comm_Set_info(FastMPICommObject *self, PyObject *arg)
{
    if (Comm_set_info(self, arg, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

#define KW (METH_FASTCALL | METH_KEYWORDS)

/* Comm.Get_parent() -> the intercommunicator to the processes that
 * spawned this one (MPI_Comm_get_parent), an Intercomm COMM_NULL when
 * none did.  Not freed when dropped, as every communicator. */
static PyObject *
Comm_Get_parent(PyObject *cls, PyObject *unused)
{
    MPI_Comm parent = MPI_COMM_NULL;
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Comm_get_parent(&parent)) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Intercomm, parent, 0);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Comm_Dup_with_info, "Dup_with_info", "info")
FASTMPI_ONE_ARG(Comm_Idup_with_info, "Idup_with_info", "info")
FASTMPI_ONE_ARG(Comm_Set_info, "Set_info", "info")

PyMethodDef fastmpi_commctor_methods[] = {
    {"Dup", FASTMPI_FASTCALL(Comm_Dup), METH_FASTCALL | METH_KEYWORDS,
     "Dup($self, info=None)\n--\n\n"
     "Dup(info=None) -> a duplicate of the same type (collective)."},
    {"Get_group", (PyCFunction)Comm_Get_group, METH_NOARGS,
     "Get_group($self)\n--\n\n"
     "Get_group() -> the group of the communicator (a new Group)."},
    {"Create", FASTMPI_FASTCALL(Comm_Create), KW,
     "Create($self, group)\n--\n\n"
     "Create(group) -> a communicator of group's processes (collective; "
     "COMM_NULL outside group)."},
    {"Create_group", FASTMPI_FASTCALL(Comm_Create_group), KW,
     "Create_group($self, group, tag=0)\n--\n\n"
     "Create_group(group, tag=0) -> a communicator of group's processes "
     "(collective over group only)."},
    {"Split_type", FASTMPI_FASTCALL(Comm_Split_type), KW,
     "Split_type($self, split_type, key=0, info=INFO_NULL)\n--\n\n"
     "Split_type(split_type, key=0, info=INFO_NULL) -> a communicator "
     "per shared-memory node (COMM_TYPE_SHARED), COMM_NULL for "
     "UNDEFINED."},
    {"Dup_with_info", FASTMPI_FASTCALL(Comm_Dup_with_info_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Dup_with_info($self, info)\n--\n\n"
     "Dup_with_info(info) -> a duplicate carrying info's hints."},
    {"Idup_with_info", FASTMPI_FASTCALL(Comm_Idup_with_info_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Idup_with_info($self, info)\n--\n\n"
     "Idup_with_info(info) -> (communicator, Request): a nonblocking "
     "duplicate with info's hints (collective; MPI-4)."},
    {"Idup", FASTMPI_FASTCALL(Comm_Idup), KW,
     "Idup($self, info=None)\n--\n\n"
     "Idup(info=None) -> (newcomm, request): a nonblocking Dup."},
    {"Clone", (PyCFunction)Comm_Clone, METH_NOARGS,
     "Clone($self)\n--\n\n"
     "Clone() -> a duplicate of the same type (Dup)."},
    {"Get_info", (PyCFunction)Comm_Get_info, METH_NOARGS,
     "Get_info($self)\n--\n\n"
     "Get_info() -> the hints in use (a new Info)."},
    {"Set_info", FASTMPI_FASTCALL(Comm_Set_info_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Set_info($self, info)\n--\n\n"
     "Set_info(info): give hints."},
    {"Get_parent", (PyCFunction)Comm_Get_parent, METH_NOARGS | METH_CLASS,
     "Get_parent($cls)\n--\n\n"
     "Get_parent() -> the parent Intercomm of a spawned process, or an "
     "Intercomm COMM_NULL."},
    {NULL},
};

#undef KW

PyGetSetDef fastmpi_commctor_getset[] = {
    {"group", (getter)Comm_get_group, NULL, "group (a new Group)"},
    {"info", (getter)Comm_get_info, (setter)Comm_set_info,
     "hints in use (a new Info)"},
    {NULL},
};
