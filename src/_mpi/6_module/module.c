/* module.c: fastmpi.MPI, the module (layer 6): multi-phase init, one
 * state, and the types assembled from the tables of every layer. */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "../2_buffer/datatype.h"
#include "../2_buffer/membuffer.h"
#include "../2_buffer/msgbuffer.h"
#include "../2_buffer/op.h"
#include "../2_buffer/pickle.h"
#include "../3_request/request.h"
#include "../4_comm/attr.h"
#include "../4_comm/comm.h"
#include "../5_ops/coll.h"
#include "../5_ops/p2p.h"
#include "../5_ops/pack.h"
#include "../5_ops/topology.h"
#include "module.h"

/* ---- the types, assembled ---------------------------------------------
 *
 * A type is made by the file that owns it (layers 0-4); the methods that
 * other files add to it (the operations of layer 5 on Comm, ...) are
 * handed over here, the one place that knows every file.  Each list of
 * tables is NULL-terminated; a type's own table comes first. */

static PyMethodDef *const comm_methods[] = {
    fastmpi_p2p_methods, fastmpi_objp2p_methods, fastmpi_nbp2p_methods,
    fastmpi_mprobe_comm_methods, fastmpi_coll_methods,
    fastmpi_objcoll_methods, fastmpi_icoll_methods,
    fastmpi_attr_comm_methods, fastmpi_errhandler_comm_methods,
    fastmpi_commctor_methods, fastmpi_topology_comm_methods,
    fastmpi_bsendbuf_comm_methods, fastmpi_faults_comm_methods,
    fastmpi_ports_comm_methods, NULL,
};
static PyGetSetDef *const comm_getset[] = {
    fastmpi_commctor_getset, fastmpi_topology_comm_getset, NULL,
};
static PyMethodDef *const intracomm_methods[] = {
    fastmpi_intracomm_methods, fastmpi_topology_intracomm_methods,
    fastmpi_coll_intracomm_methods, fastmpi_objcoll_intracomm_methods,
    fastmpi_icoll_intracomm_methods, fastmpi_ports_intracomm_methods,
    fastmpi_spawn_intracomm_methods, NULL,
};
static PyMethodDef *const datatype_methods[] = {
    fastmpi_dtcreate_methods, fastmpi_dtdecode_methods, fastmpi_pack_methods,
    fastmpi_dtnumpy_methods, fastmpi_attr_datatype_methods, NULL,
};
static PyGetSetDef *const datatype_getset[] = {
    fastmpi_dtdecode_getset, fastmpi_dtnumpy_getset, NULL,
};
static PyMethodDef *const request_methods[] = {
    fastmpi_requestlist_methods, NULL,
};
static PyMethodDef *const message_methods[] = {
    fastmpi_mprobe_message_methods, NULL,
};
static PyMethodDef *const topocomm_methods[] = {
    fastmpi_neighbor_methods, NULL,
};
static PyMethodDef *const cartcomm_methods[] = {
    fastmpi_cartcomm_methods, NULL,
};
static PyGetSetDef *const cartcomm_getset[] = {
    fastmpi_cartcomm_getset, NULL,
};
static PyMethodDef *const graphcomm_methods[] = {
    fastmpi_graphcomm_methods, NULL,
};
static PyGetSetDef *const graphcomm_getset[] = {
    fastmpi_graphcomm_getset, NULL,
};
static PyMethodDef *const distgraphcomm_methods[] = {
    fastmpi_distgraphcomm_methods, NULL,
};

static const fastmpi_type_parts comm_parts = {comm_methods, comm_getset};
static const fastmpi_type_parts intracomm_parts = {intracomm_methods, NULL};
static const fastmpi_type_parts datatype_parts = {datatype_methods,
                                                  datatype_getset};
static const fastmpi_type_parts request_parts = {request_methods, NULL};
static const fastmpi_type_parts message_parts = {message_methods, NULL};
static const fastmpi_type_parts topology_parts[4] = {
    {topocomm_methods, NULL},
    {cartcomm_methods, cartcomm_getset},
    {graphcomm_methods, graphcomm_getset},
    {distgraphcomm_methods, NULL},
};

static int
MPI_exec(PyObject *module)
{
    static int loaded = 0;
    if (loaded) {
        PyErr_SetString(PyExc_ImportError,
                        "fastmpi.MPI can be loaded only once per process "
                        "(MPI is initialised once per process: no second "
                        "import, and none in a subinterpreter)");
        return -1;
    }
    loaded = 1;
    fastmpi_st = PyModule_GetState(module);     /* zeroed by Python */
    fastmpi_state_init(fastmpi_st, module);
    /* bottom layer first: each init may use the types made before it */
    if (PyModule_AddStringConstant(module, "_mpi_vendor",
                                   FASTMPI_MPI_VENDOR) < 0 ||
        fastmpi_errors_init(module) < 0 ||
        fastmpi_trace_init(module) < 0 ||
        fastmpi_datatype_init(module, &datatype_parts) < 0 ||
        fastmpi_dtcreate_init(module) < 0 ||
        fastmpi_dtnumpy_init(module) < 0 ||
        fastmpi_strided_init(module) < 0 ||
        fastmpi_foreign_init(module) < 0 ||
        fastmpi_pickle_init(module) < 0 ||
        fastmpi_markers_init(module) < 0 ||
        fastmpi_membuffer_init(module) < 0 ||
        fastmpi_area_init(module) < 0 ||
        fastmpi_op_init(module) < 0 ||
        fastmpi_status_init(module) < 0 ||
        fastmpi_request_init(module, &request_parts) < 0 ||
        fastmpi_grequest_init(module) < 0 ||
        fastmpi_message_init(module, &message_parts) < 0 ||
        fastmpi_errhandler_init(module) < 0 ||
        fastmpi_comm_init(module, &comm_parts, &intracomm_parts) < 0 ||
        fastmpi_intercomm_init(module) < 0 ||
        fastmpi_group_init(module) < 0 || fastmpi_info_init(module) < 0 ||
        fastmpi_winfile_init(module) < 0 ||
        fastmpi_topology_init(module, topology_parts) < 0 ||
        PyModule_AddFunctions(module, fastmpi_buffer_functions) < 0 ||
        PyModule_AddFunctions(module, fastmpi_bsendbuf_functions) < 0 ||
        PyModule_AddFunctions(module, fastmpi_handle_functions) < 0 ||
        PyModule_AddFunctions(module, fastmpi_allocmem_functions) < 0 ||
        PyModule_AddFunctions(module, fastmpi_ports_functions) < 0 ||
        fastmpi_constants_init(module) < 0 ||
        fastmpi_environment_init(module) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot MPI_slots[] = {
    {Py_mod_exec, MPI_exec},
#ifdef Py_mod_multiple_interpreters
    /* Python 3.12+: refuse subinterpreters at import, before exec */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static int
MPI_traverse(PyObject *module, visitproc visit, void *arg)
{
    fastmpi_state *st = PyModule_GetState(module);
    return st != NULL ? fastmpi_state_traverse(st, visit, arg) : 0;
}

static int
MPI_clear(PyObject *module)
{
    fastmpi_state *st = PyModule_GetState(module);
    if (st != NULL) {
        fastmpi_state_clear(st);
    }
    return 0;
}

static void
MPI_free(void *module)
{
    MPI_clear((PyObject *)module);
}

static struct PyModuleDef MPI_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fastmpi.MPI",
    .m_doc = "MPI for Python, written in C: the mpi4py.MPI API.",
    .m_size = sizeof(fastmpi_state),
    .m_slots = MPI_slots,
    .m_traverse = MPI_traverse,
    .m_clear = MPI_clear,
    .m_free = MPI_free,
};

PyMODINIT_FUNC PyInit_MPI(void);

PyMODINIT_FUNC
PyInit_MPI(void)
{
    return PyModuleDef_Init(&MPI_def);
}
