/* constants.c: the module's integer constants (the buffer markers are
 * in 2_buffer/markers.c). */
#include "../0_core/fastmpi.h"
#include "module.h"

typedef struct {
    const char *name;
    long value;
} int_constant;

#define C(name) {#name, (long)MPI_##name}

static const int_constant int_constants[] = {
    C(ANY_SOURCE), C(ANY_TAG), C(PROC_NULL), C(ROOT), C(UNDEFINED),
    C(KEYVAL_INVALID), C(BSEND_OVERHEAD),
    C(TAG_UB), C(HOST), C(IO), C(WTIME_IS_GLOBAL), C(UNIVERSE_SIZE),
    C(APPNUM), C(LASTUSEDCODE),
    C(THREAD_SINGLE), C(THREAD_FUNNELED), C(THREAD_SERIALIZED),
    C(THREAD_MULTIPLE),
    C(VERSION), C(SUBVERSION),
    C(IDENT), C(CONGRUENT), C(SIMILAR), C(UNEQUAL),
    C(MAX_PROCESSOR_NAME), C(MAX_ERROR_STRING), C(MAX_OBJECT_NAME),
    C(MAX_LIBRARY_VERSION_STRING), C(MAX_PORT_NAME), C(MAX_INFO_KEY),
    C(MAX_INFO_VAL),
    C(COMM_TYPE_SHARED),
    C(COMM_TYPE_HW_GUIDED), C(COMM_TYPE_HW_UNGUIDED),
    C(COMM_TYPE_RESOURCE_GUIDED),
    /* one-sided and MPI-IO: locks, assertions, access modes, seeks */
    C(LOCK_EXCLUSIVE), C(LOCK_SHARED),
    C(MODE_NOCHECK), C(MODE_NOSTORE), C(MODE_NOPUT), C(MODE_NOPRECEDE),
    C(MODE_NOSUCCEED),
    C(MODE_RDONLY), C(MODE_RDWR), C(MODE_WRONLY), C(MODE_CREATE),
    C(MODE_EXCL), C(MODE_DELETE_ON_CLOSE), C(MODE_UNIQUE_OPEN),
    C(MODE_SEQUENTIAL), C(MODE_APPEND),
    C(SEEK_SET), C(SEEK_CUR), C(SEEK_END),
    C(DISPLACEMENT_CURRENT), {"DISP_CUR", (long)MPI_DISPLACEMENT_CURRENT},
    C(MAX_DATAREP_STRING), C(MAX_PSET_NAME_LEN), C(MAX_STRINGTAG_LEN),
    /* the Fortran status's indexes (MPI_Status_c2f copies the C struct
     * as ints in both libraries, so the offsets say it where the library
     * does not) */
    C(F_STATUS_SIZE), C(F_SOURCE), C(F_TAG), C(F_ERROR),
    /* error classes */
    C(SUCCESS), C(ERR_BUFFER), C(ERR_COUNT), C(ERR_TYPE), C(ERR_TAG),
    C(ERR_COMM), C(ERR_RANK), C(ERR_REQUEST), C(ERR_ROOT), C(ERR_GROUP),
    C(ERR_OP), C(ERR_TOPOLOGY), C(ERR_DIMS), C(ERR_ARG), C(ERR_UNKNOWN),
    C(ERR_TRUNCATE), C(ERR_OTHER), C(ERR_INTERN), C(ERR_IN_STATUS),
    C(ERR_PENDING), C(ERR_ACCESS), C(ERR_AMODE), C(ERR_ASSERT),
    C(ERR_BAD_FILE), C(ERR_BASE), C(ERR_CONVERSION), C(ERR_DISP),
    C(ERR_DUP_DATAREP), C(ERR_FILE_EXISTS), C(ERR_FILE_IN_USE),
    C(ERR_FILE), C(ERR_INFO_KEY), C(ERR_INFO_NOKEY), C(ERR_INFO_VALUE),
    C(ERR_INFO), C(ERR_IO), C(ERR_KEYVAL), C(ERR_LOCKTYPE), C(ERR_NAME),
    C(ERR_NO_MEM), C(ERR_NOT_SAME), C(ERR_NO_SPACE), C(ERR_NO_SUCH_FILE),
    C(ERR_PORT), C(ERR_QUOTA), C(ERR_READ_ONLY), C(ERR_RMA_CONFLICT),
    C(ERR_RMA_SYNC), C(ERR_SERVICE), C(ERR_SIZE), C(ERR_SPAWN),
    C(ERR_UNSUPPORTED_DATAREP), C(ERR_UNSUPPORTED_OPERATION), C(ERR_WIN),
    C(ERR_RMA_RANGE), C(ERR_RMA_ATTACH), C(ERR_RMA_SHARED), C(ERR_RMA_FLAVOR),
    C(ERR_LASTCODE),
    C(ERR_PROC_ABORTED), C(ERR_VALUE_TOO_LARGE), C(ERR_SESSION),
    C(ERR_ERRHANDLER), C(ERR_ABI),
    C(ERR_PROC_FAILED), C(ERR_PROC_FAILED_PENDING), C(ERR_REVOKED),
    {NULL, 0},
};

#undef C

int
fastmpi_constants_init(PyObject *module)
{
    for (const int_constant *c = int_constants; c->name != NULL; c++) {
        if (PyModule_AddIntConstant(module, c->name, c->value) < 0) {
            return -1;
        }
    }
    return 0;
}
