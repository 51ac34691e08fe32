/* module.c: fastmpi.MPI, the module: multi-phase init, one state. */
#include "fastmpi.h"

fastmpi_state fastmpi_st;

int
fastmpi_type_add(PyTypeObject *type, PyMethodDef *methods,
                 PyGetSetDef *getset, int keep_existing)
{
    for (PyMethodDef *m = methods; m != NULL && m->ml_name != NULL; m++) {
        if (keep_existing &&
            PyObject_HasAttrString((PyObject *)type, m->ml_name)) {
            continue;
        }
        PyObject *descr = (m->ml_flags & METH_CLASS)
                              ? PyDescr_NewClassMethod(type, m)
                              : PyDescr_NewMethod(type, m);
        int r = descr ? PyObject_SetAttrString((PyObject *)type, m->ml_name,
                                               descr)
                      : -1;
        Py_XDECREF(descr);
        if (r < 0) {
            return -1;
        }
    }
    for (PyGetSetDef *g = getset; g != NULL && g->name != NULL; g++) {
        if (keep_existing &&
            PyObject_HasAttrString((PyObject *)type, g->name)) {
            continue;
        }
        PyObject *descr = PyDescr_NewGetSet(type, g);
        int r = descr ? PyObject_SetAttrString((PyObject *)type, g->name,
                                               descr)
                      : -1;
        Py_XDECREF(descr);
        if (r < 0) {
            return -1;
        }
    }
    return 0;
}

static int
MPI_exec(PyObject *module)
{
    static int loaded = 0;
    if (loaded) {
        PyErr_SetString(PyExc_ImportError,
                        "fastmpi.MPI can be loaded only once per process");
        return -1;
    }
    loaded = 1;
    fastmpi_st.module = module;
    if (PyModule_AddStringConstant(module, "_mpi_vendor",
                                   FASTMPI_MPI_VENDOR) < 0 ||
        fastmpi_errors_init(module) < 0 ||
        fastmpi_errhandler_init(module) < 0 ||
        fastmpi_datatype_init(module) < 0 ||
        fastmpi_op_init(module) < 0 ||
        fastmpi_status_init(module) < 0 ||
        fastmpi_comm_init(module) < 0 ||
        fastmpi_intercomm_init(module) < 0 ||
        fastmpi_topology_init(module) < 0 ||
        fastmpi_group_init(module) < 0 || fastmpi_info_init(module) < 0 ||
        fastmpi_request_init(module) < 0 ||
        fastmpi_grequest_init(module) < 0 ||
        fastmpi_message_init(module) < 0 ||
        fastmpi_attr_init(module) < 0 || fastmpi_objmodel_init(module) < 0 ||
        fastmpi_area_init(module) < 0 ||
        fastmpi_pickle_init(module) < 0 ||
        fastmpi_constants_init(module) < 0 ||
        PyModule_AddFunctions(module, fastmpi_buffer_functions) < 0 ||
        fastmpi_trace_init(module) < 0 ||
        fastmpi_strided_init(module) < 0 ||
        fastmpi_environment_init(module) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot MPI_slots[] = {
    {Py_mod_exec, MPI_exec},
    {0, NULL},
};

static struct PyModuleDef MPI_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fastmpi.MPI",
    .m_doc = "MPI for Python, written in C: the mpi4py.MPI API.",
    .m_size = 0,
    .m_slots = MPI_slots,
};

PyMODINIT_FUNC PyInit_MPI(void);

PyMODINIT_FUNC
PyInit_MPI(void)
{
    return PyModuleDef_Init(&MPI_def);
}
