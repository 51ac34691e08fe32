/* intercomm.c: MPI.Intercomm (a Comm subclass, like Intracomm) and
 * Intracomm.Create_intercomm.
 *
 * An Intercomm object carries FASTMPI_INTER in its flags (comm.c sets it
 * for every object of this type), which is how the collectives (coll.c,
 * objcoll.c) pick their intercommunicator rules without asking MPI on the
 * intracommunicator paths.  Point-to-point needs nothing: MPI itself reads
 * a peer rank on an intercommunicator as a rank of the remote group.
 *
 * Scan and Exscan (and scan, exscan) are intracommunicator-only, as in
 * mpi4py where Intercomm simply lacks them: here Intercomm shadows the
 * methods it inherits from Comm with attributes that raise
 * AttributeError, so hasattr() says False.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "comm.h"

int
fastmpi_comm_remote_size(FastMPICommObject *self, int *rsize)
{
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_remote_size(self->ob_mpi, rsize)) < 0) {
        return -1;
    }
    return 0;
}

int
fastmpi_inter_root_check(const char *fname, int root, int rsize)
{
    if (Py_UNLIKELY(root != MPI_ROOT && root != MPI_PROC_NULL &&
                    (root < 0 || root >= rsize))) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument 'root' is %d; on an intercommunicator "
                     "it must be MPI.ROOT (the root), MPI.PROC_NULL (the "
                     "root's group, but not the root) or the root's rank "
                     "in the remote group, 0 to %d", fname, root,
                     rsize - 1);
        return -1;
    }
    return 0;
}

/* ---- Intracomm.Create_intercomm ---------------------------------------- */

static PyObject *
Intracomm_Create_intercomm(FastMPICommObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"local_leader", "peer_comm",
                                        "remote_leader", "tag", NULL};
    static fastmpi_argspec spec = {"Create_intercomm", names, 3};
    PyObject *argv[4];
    int local_leader, remote_leader, tag, rank, size;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], 0, &local_leader) < 0 ||
        fastmpi_arg_int(&spec, 2, argv[2], 0, &remote_leader) < 0 ||
        fastmpi_arg_int(&spec, 3, argv[3], 0, &tag) < 0) {
        return NULL;
    }
    if (!PyObject_TypeCheck(argv[1], fastmpi_st->Comm)) {
        return PyErr_Format(PyExc_TypeError,
                            "Create_intercomm() argument 'peer_comm' must "
                            "be MPI.Comm, not %.100s",
                            Py_TYPE(argv[1])->tp_name);
    }
    FastMPICommObject *peer = (FastMPICommObject *)argv[1];
    if (tag < 0) {
        return PyErr_Format(PyExc_ValueError,
                            "Create_intercomm() argument 'tag' must be >= "
                            "0, not %d", tag);
    }
    if (fastmpi_comm_ranks(self, &rank, &size) < 0) {
        return NULL;
    }
    if (local_leader < 0 || local_leader >= size) {
        return PyErr_Format(PyExc_ValueError,
                            "Create_intercomm() argument 'local_leader' is "
                            "%d; the communicator's ranks are 0 to %d",
                            local_leader, size - 1);
    }
    if (rank == local_leader) {
        /* peer_comm and remote_leader matter at the local leader only */
        int prank, psize;
        if (peer->ob_mpi == MPI_COMM_NULL) {
            return PyErr_Format(PyExc_ValueError,
                                "Create_intercomm() argument 'peer_comm' "
                                "is COMM_NULL at the local leader");
        }
        if (fastmpi_comm_ranks(peer, &prank, &psize) < 0) {
            return NULL;
        }
        if (remote_leader < 0 || remote_leader >= psize) {
            return PyErr_Format(PyExc_ValueError,
                                "Create_intercomm() argument "
                                "'remote_leader' is %d; peer_comm's ranks "
                                "are 0 to %d", remote_leader, psize - 1);
        }
        if (remote_leader == prank) {
            return PyErr_Format(PyExc_ValueError,
                                "Create_intercomm() argument "
                                "'remote_leader' is %d, this process's own "
                                "rank in peer_comm; the two groups must be "
                                "disjoint", remote_leader);
        }
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Intercomm_create", self->ob_mpi, remote_leader, tag, 0,
                 ierr = MPI_Intercomm_create(self->ob_mpi, local_leader,
                                             peer->ob_mpi, remote_leader,
                                             tag, &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Intercomm, newcomm, 0);
}

PyMethodDef fastmpi_intracomm_methods[] = {
    {"Create_intercomm", FASTMPI_FASTCALL(Intracomm_Create_intercomm),
     METH_FASTCALL | METH_KEYWORDS,
     "Create_intercomm($self, local_leader, peer_comm, remote_leader, "
     "tag=0)\n--\n\n"
     "Create_intercomm(local_leader, peer_comm, remote_leader, tag=0) -> "
     "Intercomm joining this group and the one whose leader is "
     "remote_leader in peer_comm (collective)."},
    {NULL},
};

/* ---- Intercomm --------------------------------------------------------- */

static PyObject *
Intercomm_Get_remote_size(FastMPICommObject *self, PyObject *unused)
{
    int rsize = 0;
    if (fastmpi_comm_remote_size(self, &rsize) < 0) {
        return NULL;
    }
    return PyLong_FromLong(rsize);
}

static PyObject *
Intercomm_Get_remote_group(FastMPICommObject *self, PyObject *unused)
{
    MPI_Group g = MPI_GROUP_NULL;
    if (fastmpi_comm_check(self) < 0 ||
        fastmpi_check(MPI_Comm_remote_group(self->ob_mpi, &g)) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_group_new(fastmpi_st->Group, g, 0);
    if (obj == NULL) {
        MPI_Group_free(&g);
    }
    return obj;     /* new reference; the Group owns g */
}

static PyObject *
Intercomm_Merge(FastMPICommObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"high", NULL};
    static fastmpi_argspec spec = {"Merge", names, 0};
    PyObject *argv[1];
    int high = 0;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (argv[0] != NULL && (high = PyObject_IsTrue(argv[0])) < 0) {
        return NULL;
    }
    if (fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Intercomm_merge", self->ob_mpi, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Intercomm_merge(self->ob_mpi, high, &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Intracomm, newcomm, 0);
}

static PyMethodDef Intercomm_methods[] = {
    {"Get_remote_size", (PyCFunction)Intercomm_Get_remote_size, METH_NOARGS,
     "Get_remote_size($self)\n--\n\n"
     "Number of processes in the remote group."},
    {"Get_remote_group", (PyCFunction)Intercomm_Get_remote_group,
     METH_NOARGS, "Get_remote_group($self)\n--\n\n"
                  "Get_remote_group() -> the remote group (a new Group)."},
    {"Merge", FASTMPI_FASTCALL(Intercomm_Merge),
     METH_FASTCALL | METH_KEYWORDS,
     "Merge($self, high=False)\n--\n\n"
     "Merge(high=False) -> Intracomm of both groups; the group passing "
     "high=True is ordered after the other (collective)."},
    {NULL},
};

static PyGetSetDef Intercomm_getset[] = {
    {"remote_size", (getter)Intercomm_Get_remote_size, NULL,
     "number of processes in the remote group"},
    {"remote_group", (getter)Intercomm_Get_remote_group, NULL,
     "the remote group (a new Group)"},
    {NULL},
};

static PyType_Slot Intercomm_slots[] = {
    {Py_tp_doc, "Intercomm(comm=None)\n--\n\n"
                "Intercomm(comm=None): an intercommunicator, joining a "
                "local and a remote group."},
    {Py_tp_methods, Intercomm_methods},
    {Py_tp_getset, Intercomm_getset},
    {0, NULL},
};

static PyType_Spec Intercomm_spec = {
    .name = "fastmpi.MPI.Intercomm",
    .basicsize = sizeof(FastMPICommObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Intercomm_slots,
};

int
fastmpi_intercomm_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_type_new(
        module, &Intercomm_spec, (PyObject *)fastmpi_st->Comm, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Intercomm = (PyTypeObject *)type;
    return PyModule_AddObjectRef(module, "Intercomm", type);
}
