/* ports.c: connecting separate groups of processes through ports
 * (MPI_Open_port, MPI_Comm_accept, MPI_Comm_connect), the name service
 * (Publish_name, Unpublish_name, Lookup_name) and Comm.Join over a
 * socket.
 *
 * Accept, Connect and Join block until the other side arrives: the GIL is
 * released around them.  What the library cannot do in a setting (Open
 * MPI's name service needs an ompi-server; a library may refuse ports
 * to singletons) comes back as MPI.Exception with the library's error
 * class and text, never a hang of fastmpi's own making. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "comm.h"

#include <string.h>

/* Port names are shorter than MPI_MAX_PORT_NAME (room for the NUL). */
#define PORT_MAX (MPI_MAX_PORT_NAME - 1)

/* ---- ports and names (module functions) -------------------------------- */

static PyObject *
Open_port(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"info", NULL};
    static fastmpi_argspec spec = {"Open_port", names, 0};
    PyObject *argv[1];
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    MPI_Info info = fastmpi_info_arg(argv[0], "Open_port", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    char port[MPI_MAX_PORT_NAME + 1];
    memset(port, 0, sizeof(port));
    int ierr;
    FASTMPI_CALL("MPI_Open_port", MPI_COMM_NULL, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Open_port(info, port));
    fastmpi_info_arg_release(argv[0], info);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    port[MPI_MAX_PORT_NAME] = '\0';
    return PyUnicode_FromString(port);
}

static PyObject *
Close_port(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    static const char *const names[] = {"port_name", NULL};
    static fastmpi_argspec spec = {"Close_port", names, 1};
    PyObject *argv[1];
    const char *port;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        (port = fastmpi_str_arg(argv[0], PORT_MAX, "Close_port",
                                "port_name")) == NULL ||
        fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Close_port(port)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Publish_name and Unpublish_name: (service_name, port_name, info). */
static PyObject *
publish(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
        fastmpi_argspec *spec, int publish_it)
{
    PyObject *argv[3];
    const char *service, *port;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        (service = fastmpi_str_arg(argv[0], INT_MAX - 1, spec->fname,
                                   "service_name")) == NULL ||
        (port = fastmpi_str_arg(argv[1], PORT_MAX, spec->fname,
                                "port_name")) == NULL ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    MPI_Info info = fastmpi_info_arg(argv[2], spec->fname, "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    int ierr;
    FASTMPI_NOGIL_BEGIN
    if (publish_it) {
        ierr = MPI_Publish_name(service, info, port);
    }
    else {
        ierr = MPI_Unpublish_name(service, info, port);
    }
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[2], info);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static const char *const publish_names[] = {"service_name", "port_name",
                                             "info", NULL};

static PyObject *
Publish_name(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
             PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Publish_name", publish_names, 2};
    return publish(args, nargs, kwnames, &spec, 1);
}

static PyObject *
Unpublish_name(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Unpublish_name", publish_names, 2};
    return publish(args, nargs, kwnames, &spec, 0);
}

static PyObject *
Lookup_name(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    static const char *const names[] = {"service_name", "info", NULL};
    static fastmpi_argspec spec = {"Lookup_name", names, 1};
    PyObject *argv[2];
    const char *service;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        (service = fastmpi_str_arg(argv[0], INT_MAX - 1, "Lookup_name",
                                   "service_name")) == NULL ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    MPI_Info info = fastmpi_info_arg(argv[1], "Lookup_name", "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    char port[MPI_MAX_PORT_NAME + 1];
    memset(port, 0, sizeof(port));
    int ierr;
    FASTMPI_NOGIL_BEGIN
    ierr = MPI_Lookup_name(service, info, port);
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[1], info);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    port[MPI_MAX_PORT_NAME] = '\0';
    return PyUnicode_FromString(port);
}

PyMethodDef fastmpi_ports_functions[] = {
    {"Open_port", FASTMPI_FASTCALL(Open_port), METH_FASTCALL | METH_KEYWORDS,
     "Open_port($module, info=INFO_NULL)\n--\n\n"
     "Open_port(info=INFO_NULL) -> str: a new port name, for Accept."},
    {"Close_port", FASTMPI_FASTCALL(Close_port),
     METH_FASTCALL | METH_KEYWORDS,
     "Close_port($module, port_name)\n--\n\n"
     "Close_port(port_name): release a port Open_port gave."},
    {"Publish_name", FASTMPI_FASTCALL(Publish_name),
     METH_FASTCALL | METH_KEYWORDS,
     "Publish_name($module, service_name, port_name, info=INFO_NULL)"
     "\n--\n\n"
     "Publish_name(service_name, port_name, info=INFO_NULL): make the "
     "port findable under service_name (the library's name service)."},
    {"Unpublish_name", FASTMPI_FASTCALL(Unpublish_name),
     METH_FASTCALL | METH_KEYWORDS,
     "Unpublish_name($module, service_name, port_name, info=INFO_NULL)"
     "\n--\n\n"
     "Unpublish_name(service_name, port_name, info=INFO_NULL): undo "
     "Publish_name."},
    {"Lookup_name", FASTMPI_FASTCALL(Lookup_name),
     METH_FASTCALL | METH_KEYWORDS,
     "Lookup_name($module, service_name, info=INFO_NULL)\n--\n\n"
     "Lookup_name(service_name, info=INFO_NULL) -> str: the port "
     "published under service_name."},
    {NULL},
};

/* ---- Accept and Connect (Intracomm), Join (Comm) ----------------------- */

/* Accept or Connect(port_name, info=INFO_NULL, root=0): collective over
 * self; port_name and info count at root only. */
static PyObject *
accept_connect(FastMPICommObject *self, PyObject *const *args,
               Py_ssize_t nargs, PyObject *kwnames, fastmpi_argspec *spec,
               int accept)
{
    PyObject *argv[3];
    int root;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(spec, 2, argv[2], 0, &root) < 0 ||
        fastmpi_comm_check(self) < 0) {
        return NULL;
    }
    int rank = 0;
    if (fastmpi_check(MPI_Comm_rank(self->ob_mpi, &rank)) < 0) {
        return NULL;
    }
    /* the port matters at root only: elsewhere None is fine */
    const char *port = NULL;
    if (rank == root || argv[0] != Py_None) {
        port = fastmpi_str_arg(argv[0], PORT_MAX, spec->fname,
                               "port_name");
        if (port == NULL) {
            return NULL;
        }
    }
    MPI_Info info = fastmpi_info_arg(argv[1], spec->fname, "info");
    if (info == MPI_INFO_NULL && PyErr_Occurred()) {
        return NULL;
    }
    MPI_Comm comm = self->ob_mpi, newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    if (accept) {
        FASTMPI_CALL("MPI_Comm_accept", comm, MPI_PROC_NULL, root, 0,
                     ierr = MPI_Comm_accept(port, info, root, comm,
                                            &newcomm));
    }
    else {
        FASTMPI_CALL("MPI_Comm_connect", comm, MPI_PROC_NULL, root, 0,
                     ierr = MPI_Comm_connect(port, info, root, comm,
                                             &newcomm));
    }
    FASTMPI_NOGIL_END
    fastmpi_info_arg_release(argv[1], info);
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Intercomm, newcomm, 0);
}

static const char *const accept_names[] = {"port_name", "info", "root",
                                           NULL};

static PyObject *
Intracomm_Accept(FastMPICommObject *self, PyObject *const *args,
                 Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Accept", accept_names, 1};
    return accept_connect(self, args, nargs, kwnames, &spec, 1);
}

static PyObject *
Intracomm_Connect(FastMPICommObject *self, PyObject *const *args,
                  Py_ssize_t nargs, PyObject *kwnames)
{
    static fastmpi_argspec spec = {"Connect", accept_names, 1};
    return accept_connect(self, args, nargs, kwnames, &spec, 0);
}

PyMethodDef fastmpi_ports_intracomm_methods[] = {
    {"Accept", FASTMPI_FASTCALL(Intracomm_Accept),
     METH_FASTCALL | METH_KEYWORDS,
     "Accept($self, port_name, info=INFO_NULL, root=0)\n--\n\n"
     "Accept(port_name, info=INFO_NULL, root=0) -> Intercomm: wait at "
     "the port for a Connect (collective; port_name read at root)."},
    {"Connect", FASTMPI_FASTCALL(Intracomm_Connect),
     METH_FASTCALL | METH_KEYWORDS,
     "Connect($self, port_name, info=INFO_NULL, root=0)\n--\n\n"
     "Connect(port_name, info=INFO_NULL, root=0) -> Intercomm: reach an "
     "Accept at the port (collective; port_name read at root)."},
    {NULL},
};

/* Join(fd): both ends of a connected socket make an intercommunicator. */
static PyObject *
Comm_Join(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"fd", NULL};
    static fastmpi_argspec spec = {"Join", names, 1};
    PyObject *argv[1];
    int fd;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_arg_int(&spec, 0, argv[0], -1, &fd) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    if (fd < 0) {
        return PyErr_Format(PyExc_ValueError, "Join() argument 'fd' is %d; "
                            "it must be the descriptor of a connected "
                            "socket", fd);
    }
    MPI_Comm newcomm = MPI_COMM_NULL;
    int ierr;
    FASTMPI_NOGIL_BEGIN
    FASTMPI_CALL("MPI_Comm_join", MPI_COMM_NULL, MPI_PROC_NULL, 0, 0,
                 ierr = MPI_Comm_join(fd, &newcomm));
    FASTMPI_NOGIL_END
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    return fastmpi_comm_new(fastmpi_st->Intercomm, newcomm, 0);
}

PyMethodDef fastmpi_ports_comm_methods[] = {
    {"Join", FASTMPI_FASTCALL(Comm_Join),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Join($cls, fd)\n--\n\n"
     "Join(fd) -> Intercomm: with the process at the other end of the "
     "connected socket fd."},
    {NULL},
};
