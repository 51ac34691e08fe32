/* op.c: MPI.Op: the predefined reduction operations, Op.Create, and ops
 * applied to Python objects.
 *
 * MPI calls a user-defined operation as f(invec, inoutvec, len, datatype)
 * with no context pointer, so each Op.Create takes one of FASTMPI_OP_SLOTS
 * static trampolines; trampoline i calls the Python function of the Op in
 * fastmpi_st->user_ops[i].  The slot is given back when the Op object dies
 * (not at Free(): a pending nonblocking reduction keeps the object, and
 * with it the slot, alive until it completes).
 *
 * The trampoline takes the GIL with PyGILState_Ensure (the caller of the
 * collective may have released it, or may hold it: both work), hands the
 * function two MPI.buffer objects of the vectors (in: read-only, inout:
 * writable; bytes, as mpi4py's, so numpy.frombuffer reads them and any
 * buffer of as many bytes can be assigned to a slice) and the Datatype,
 * and releases them afterwards so they stop pointing into MPI's memory.
 * An exception is stored in the Op and later calls of the function for
 * the same reduction are skipped; the collective raises it once MPI has
 * returned (fastmpi_op_raised).  Ranks whose part of the reduction did
 * not call the function see no error.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "datatype.h"
#include "membuffer.h"
#include "msgbuffer.h"
#include "op.h"

#include <string.h>

/* ---- the trampolines --------------------------------------------------- */

static int
call_function(FastMPIOpObject *op, void *in, void *inout, int len,
              MPI_Datatype datatype)
{
    MPI_Aint lb = 0, extent = 0;
    if (fastmpi_check(MPI_Type_get_extent(datatype, &lb, &extent)) < 0) {
        return -1;
    }
    Py_ssize_t nbytes = (Py_ssize_t)len * (Py_ssize_t)extent;
    PyObject *vin = NULL, *vinout = NULL, *dt = NULL, *r = NULL;
    vin = fastmpi_membuffer_of_memory(in, nbytes, 1);
    vinout = fastmpi_membuffer_of_memory(inout, nbytes, 0);
    dt = fastmpi_st->Datatype->tp_alloc(fastmpi_st->Datatype, 0);
    if (vin != NULL && vinout != NULL && dt != NULL) {
        ((FastMPIDatatypeObject *)dt)->ob_mpi = datatype;
        /* MPI's handle, not the user's: Free() must refuse it */
        ((FastMPIDatatypeObject *)dt)->flags = FASTMPI_PREDEFINED;
        PyObject *args[3] = {vin, vinout, dt};
        r = PyObject_Vectorcall(op->function, args, 3, NULL);
    }
    PyObject *views[2] = {vin, vinout};
    for (int i = 0; i < 2; i++) {
        if (views[i] != NULL) {
            /* an array the function kept still sees the memory (as it
             * would with a memoryview): that is the function's affair */
            fastmpi_membuffer_release(views[i]);
            Py_DECREF(views[i]);
        }
    }
    Py_XDECREF(dt);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Keep the current exception in op->error (the first one wins). */
static void
store_error(FastMPIOpObject *op)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    if (op->error == NULL) {
        op->error = value;      /* owned */
    }
    else {
        Py_XDECREF(value);
    }
}

static void
run_slot(int slot, void *in, void *inout, int *len, MPI_Datatype *datatype)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    FastMPIOpObject *op = (FastMPIOpObject *)fastmpi_st->user_ops[slot];
    if (op != NULL && op->function != NULL && op->error == NULL) {
        /* the collective's own exception state is not ours to touch */
        PyObject *exc_type, *exc_value, *exc_tb;
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        if (call_function(op, in, inout, *len, *datatype) < 0) {
            store_error(op);
        }
        PyErr_Restore(exc_type, exc_value, exc_tb);
    }
    PyGILState_Release(gil);
}

#define TRAMPOLINE(n)                                                      \
    static void trampoline_##n(void *in, void *inout, int *len,            \
                               MPI_Datatype *datatype)                     \
    {                                                                      \
        run_slot(n, in, inout, len, datatype);                             \
    }
FASTMPI_SLOTS_32(TRAMPOLINE)
#undef TRAMPOLINE

#define TRAMPOLINE(n) trampoline_##n,
static MPI_User_function *const trampolines[FASTMPI_OP_SLOTS] = {
    FASTMPI_SLOTS_32(TRAMPOLINE)
};
#undef TRAMPOLINE

int
fastmpi_op_raised(FastMPIOpObject *op)
{
    if (Py_LIKELY(op->error == NULL)) {
        return 0;
    }
    PyObject *exc = op->error;      /* the reference passes to PyErr */
    op->error = NULL;
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc,
                  PyException_GetTraceback(exc));
    return -1;
}

/* ---- ops on Python objects --------------------------------------------- */

/* A (value, index) pair of MAXLOC/MINLOC: 0, or -1 with TypeError. */
static int
unpack_pair(PyObject *pair, PyObject **value, PyObject **index)
{
    if (!PyTuple_Check(pair) && !PyList_Check(pair)) {
        PyErr_Format(PyExc_TypeError,
                     "MAXLOC/MINLOC apply to (value, index) pairs, not "
                     "%.100s", Py_TYPE(pair)->tp_name);
        return -1;
    }
    if (PySequence_Fast_GET_SIZE(pair) != 2) {
        PyErr_Format(PyExc_TypeError,
                     "MAXLOC/MINLOC apply to (value, index) pairs, not "
                     "sequences of %zd items",
                     PySequence_Fast_GET_SIZE(pair));
        return -1;
    }
    *value = PySequence_Fast_ITEMS(pair)[0];
    *index = PySequence_Fast_ITEMS(pair)[1];
    return 0;
}

/* MAXLOC (cmp Py_GT) / MINLOC (Py_LT): the better value; on a tie the
 * lower index. */
static PyObject *
apply_loc(PyObject *x, PyObject *y, int cmp)
{
    PyObject *u, *i, *v, *j;
    if (unpack_pair(x, &u, &i) < 0 || unpack_pair(y, &v, &j) < 0) {
        return NULL;
    }
    int r = PyObject_RichCompareBool(u, v, cmp);
    if (r < 0) {
        return NULL;
    }
    if (r) {
        return PyTuple_Pack(2, u, i);
    }
    r = PyObject_RichCompareBool(v, u, cmp);
    if (r < 0) {
        return NULL;
    }
    if (!r) {
        r = PyObject_RichCompareBool(j, i, Py_LT);
        if (r < 0) {
            return NULL;
        }
    }
    return r ? PyTuple_Pack(2, v, j) : PyTuple_Pack(2, u, i);
}

static PyObject *
apply_logical(int kind, PyObject *x, PyObject *y)
{
    int a = PyObject_IsTrue(x);
    if (a < 0) {
        return NULL;
    }
    int b = PyObject_IsTrue(y);
    if (b < 0) {
        return NULL;
    }
    switch (kind) {
    case FASTMPI_OP_LAND:
        return PyBool_FromLong(a && b);
    case FASTMPI_OP_LOR:
        return PyBool_FromLong(a || b);
    default:
        return PyBool_FromLong(a != b);
    }
}

/* A user op on two buffers: function(x, y, None) reduces x into y in
 * place; y is the result. */
static PyObject *
apply_user(FastMPIOpObject *op, PyObject *x, PyObject *y)
{
    if (op->function == NULL) {
        return PyErr_Format(PyExc_TypeError,
                            "MPI.OP_NULL cannot be applied");
    }
    Py_buffer vx, vy;
    if (fastmpi_buffer_get(x, &vx, PyBUF_SIMPLE, 0, "Op.__call__", "x") <
        0) {
        if (fastmpi_foreign_check(x)) {
            return NULL;        /* DLPack, CAI (dlpack.c): it says why */
        }
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError,
                            "a user-defined Op applies to buffers "
                            "(first operand: %.100s)", Py_TYPE(x)->tp_name);
    }
    if (fastmpi_buffer_get(y, &vy, PyBUF_WRITABLE, 0, "Op.__call__", "y") <
        0) {
        PyBuffer_Release(&vx);
        if (fastmpi_foreign_check(y)) {
            return NULL;
        }
        PyErr_Clear();
        return PyErr_Format(PyExc_TypeError,
                            "a user-defined Op applies to buffers, the "
                            "second one writable (second operand: %.100s)",
                            Py_TYPE(y)->tp_name);
    }
    if (vx.len != vy.len) {
        PyBuffer_Release(&vx);
        PyBuffer_Release(&vy);
        return PyErr_Format(PyExc_ValueError,
                            "a user-defined Op applies to buffers of the "
                            "same size, not %zd and %zd bytes", vx.len,
                            vy.len);
    }
    PyObject *args[3] = {NULL, NULL, Py_None};
    args[0] = fastmpi_membuffer_of_memory(vx.buf, vx.len, 1);
    args[1] = fastmpi_membuffer_of_memory(vy.buf, vy.len, 0);
    PyObject *r = NULL;
    if (args[0] != NULL && args[1] != NULL) {
        r = PyObject_Vectorcall(op->function, args, 3, NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (args[i] != NULL) {
            fastmpi_membuffer_release(args[i]);
            Py_DECREF(args[i]);
        }
    }
    PyBuffer_Release(&vx);
    PyBuffer_Release(&vy);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    return Py_NewRef(y);
}

PyObject *
fastmpi_op_apply(FastMPIOpObject *op, PyObject *x, PyObject *y)
{
    int r;
    switch (op->kind) {
    case FASTMPI_OP_SUM:
        return PyNumber_Add(x, y);
    case FASTMPI_OP_PROD:
        return PyNumber_Multiply(x, y);
    case FASTMPI_OP_MAX:
        r = PyObject_RichCompareBool(y, x, Py_GT);
        return r < 0 ? NULL : Py_NewRef(r ? y : x);
    case FASTMPI_OP_MIN:
        r = PyObject_RichCompareBool(y, x, Py_LT);
        return r < 0 ? NULL : Py_NewRef(r ? y : x);
    case FASTMPI_OP_LAND:
    case FASTMPI_OP_LOR:
    case FASTMPI_OP_LXOR:
        return apply_logical(op->kind, x, y);
    case FASTMPI_OP_BAND:
        return PyNumber_And(x, y);
    case FASTMPI_OP_BOR:
        return PyNumber_Or(x, y);
    case FASTMPI_OP_BXOR:
        return PyNumber_Xor(x, y);
    case FASTMPI_OP_MAXLOC:
        return apply_loc(x, y, Py_GT);
    case FASTMPI_OP_MINLOC:
        return apply_loc(x, y, Py_LT);
    case FASTMPI_OP_REPLACE:
        return Py_NewRef(y);
    case FASTMPI_OP_NO_OP:
        return Py_NewRef(x);
    }
    return apply_user(op, x, y);
}

/* ---- the type ---------------------------------------------------------- */

FastMPIOpObject *
fastmpi_op_arg(PyObject *obj, const char *fname, const char *argname)
{
    if (obj == NULL) {
        return (FastMPIOpObject *)fastmpi_st->op_sum;   /* borrowed */
    }
    if (Py_UNLIKELY(!PyObject_TypeCheck(obj, fastmpi_st->Op))) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be MPI.Op, not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    FastMPIOpObject *op = (FastMPIOpObject *)obj;
    if (op->base != NULL) {
        op = (FastMPIOpObject *)op->base;
    }
    if (Py_UNLIKELY(op->ob_mpi == MPI_OP_NULL)) {
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' is MPI.OP_NULL",
                     fname, argname);
        return NULL;
    }
    return op;
}

static FastMPIOpObject *
op_alloc(PyTypeObject *type, MPI_Op handle, int kind, int flags)
{
    FastMPIOpObject *self = (FastMPIOpObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ob_mpi = handle;
    self->kind = kind;
    self->flags = flags;
    self->slot = -1;
    self->commute = 1;
    return self;
}

static PyObject *
Op_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"op", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Op", kwlist, &other)) {
        return NULL;
    }
    if (other == NULL || other == Py_None) {
        return (PyObject *)op_alloc(type, MPI_OP_NULL, FASTMPI_OP_USER, 0);
    }
    if (!PyObject_TypeCheck(other, fastmpi_st->Op)) {
        return PyErr_Format(PyExc_TypeError,
                            "Op() argument 'op' must be MPI.Op, not %.100s",
                            Py_TYPE(other)->tp_name);
    }
    FastMPIOpObject *o = (FastMPIOpObject *)other;
    if (o->base != NULL) {
        o = (FastMPIOpObject *)o->base;
    }
    FastMPIOpObject *self = op_alloc(type, o->ob_mpi, o->kind, 0);
    if (self == NULL) {
        return NULL;
    }
    self->commute = o->commute;
    if (o->function != NULL) {
        /* a user op's function and slot stay with the original */
        self->base = Py_NewRef((PyObject *)o);
    }
    return (PyObject *)self;
}

static int
Op_traverse(FastMPIOpObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->function);
    Py_VISIT(self->error);
    Py_VISIT(self->base);
    return 0;
}

static int
Op_clear(FastMPIOpObject *self)
{
    Py_CLEAR(self->function);
    Py_CLEAR(self->error);
    Py_CLEAR(self->base);
    return 0;
}

static void
Op_dealloc(FastMPIOpObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIOpObject);
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->slot >= 0) {
        fastmpi_st->user_ops[self->slot] = NULL;
        if (self->ob_mpi != MPI_OP_NULL && fastmpi_mpi_active &&
            fastmpi_check(MPI_Op_free(&self->ob_mpi)) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
    }
    Op_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Op_Create(PyObject *cls, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"function", "commute", NULL};
    static fastmpi_argspec spec = {"Create", names, 1};
    PyObject *argv[2];
    int commute = 0;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    if (!PyCallable_Check(argv[0])) {
        return PyErr_Format(PyExc_TypeError,
                            "Create() argument 'function' must be callable "
                            "as function(inbuf, inoutbuf, datatype), not "
                            "%.100s", Py_TYPE(argv[0])->tp_name);
    }
    if (argv[1] != NULL && (commute = PyObject_IsTrue(argv[1])) < 0) {
        return NULL;
    }
    if (fastmpi_require_mpi() < 0) {
        return NULL;
    }
    int slot = 0;
    while (slot < FASTMPI_OP_SLOTS && fastmpi_st->user_ops[slot] != NULL) {
        slot++;
    }
    if (slot == FASTMPI_OP_SLOTS) {
        return PyErr_Format(PyExc_RuntimeError,
                            "Create(): at most %d user-defined Ops can "
                            "exist at a time; drop unused ones first",
                            FASTMPI_OP_SLOTS);
    }
    PyTypeObject *type = PyType_Check(cls) ? (PyTypeObject *)cls
                                           : fastmpi_st->Op;
    FastMPIOpObject *self = op_alloc(type, MPI_OP_NULL, FASTMPI_OP_USER, 0);
    if (self == NULL) {
        return NULL;
    }
    if (fastmpi_check(MPI_Op_create(trampolines[slot], commute,
                                    &self->ob_mpi)) < 0) {
        self->ob_mpi = MPI_OP_NULL;
        Py_DECREF(self);
        return NULL;
    }
    self->function = Py_NewRef(argv[0]);
    self->commute = commute;
    self->slot = slot;
    fastmpi_st->user_ops[slot] = (PyObject *)self;   /* borrowed */
    return (PyObject *)self;
}

static PyObject *
Op_Free(FastMPIOpObject *self, PyObject *unused)
{
    if (self->flags & FASTMPI_PREDEFINED || self->base != NULL ||
        self->ob_mpi == MPI_OP_NULL || self->kind != FASTMPI_OP_USER) {
        /* predefined, a copy, or already freed */
        return fastmpi_error_raise_detail(
            MPI_ERR_OP, "Free(): %s",
            self->ob_mpi == MPI_OP_NULL ? "the op is OP_NULL"
            : self->kind != FASTMPI_OP_USER
                ? "a predefined op cannot be freed"
                : "a copy made by Op(op) cannot be freed; free the original");
    }
    if (fastmpi_require_mpi() < 0 ||
        fastmpi_check(MPI_Op_free(&self->ob_mpi)) < 0) {
        return NULL;
    }
    self->ob_mpi = MPI_OP_NULL;
    Py_RETURN_NONE;
}

static PyObject *
Op_Is_commutative(FastMPIOpObject *self, PyObject *unused)
{
    int commute = self->commute;
    if (self->ob_mpi == MPI_OP_NULL) {
        return fastmpi_error_raise(MPI_ERR_OP);
    }
    if (self->kind != FASTMPI_OP_USER &&
        (fastmpi_require_mpi() < 0 ||
         fastmpi_check(MPI_Op_commutative(self->ob_mpi, &commute)) < 0)) {
        return NULL;
    }
    return PyBool_FromLong(commute);
}

static PyObject *
Op_get_is_predefined(FastMPIOpObject *self, void *closure)
{
    return PyBool_FromLong(self->kind != FASTMPI_OP_USER ||
                           self->ob_mpi == MPI_OP_NULL);
}

static PyObject *
Op_Reduce_local(FastMPIOpObject *self, PyObject *const *args,
                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"inbuf", "inoutbuf", NULL};
    static fastmpi_argspec spec = {"Reduce_local", names, 2};
    PyObject *argv[2];
    fastmpi_msg in, inout;
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_require_mpi() < 0) {
        return NULL;
    }
    FastMPIOpObject *op = fastmpi_op_arg((PyObject *)self, "Reduce_local",
                                         "self");
    if (op == NULL) {
        return NULL;
    }
    /* strided buffers through contiguous temporaries (staged.c) */
    fastmpi_staged_begin();
    if (fastmpi_msg_parse(argv[0], FASTMPI_MSG_SEND, 0, "Reduce_local",
                          "inbuf", &in) < 0) {
        fastmpi_staged_end();
        return NULL;
    }
    if (fastmpi_msg_parse(argv[1], FASTMPI_MSG_RECV, 0, "Reduce_local",
                          "inoutbuf", &inout) < 0) {
        fastmpi_staged_end();
        fastmpi_msg_release(&in);
        return NULL;
    }
    fastmpi_staged_end();
    fastmpi_staged_fill(&inout);    /* read as well as written */
    PyObject *result = NULL;
    if (fastmpi_strided_is(&in) || fastmpi_strided_is(&inout)) {
        /* a large type (strided.c): MPI's ops do not take it */
        PyErr_SetString(PyExc_ValueError,
                        "Reduce_local(): reductions take buffers of at most "
                        "2**31-1 items; reduce in parts");
        goto done;
    }
    if (in.count != inout.count) {
        PyErr_Format(PyExc_ValueError,
                     "Reduce_local(): 'inbuf' has %d elements and "
                     "'inoutbuf' %d; they must be equal", in.count,
                     inout.count);
        goto done;
    }
    if (in.datatype != inout.datatype) {
        PyErr_SetString(PyExc_ValueError,
                        "Reduce_local(): 'inbuf' and 'inoutbuf' have "
                        "different MPI datatypes");
        goto done;
    }
    Py_INCREF(op);      /* the function may drop the last other reference */
    int ierr = MPI_Reduce_local(in.addr, inout.addr, in.count, in.datatype,
                                op->ob_mpi);
    if (fastmpi_op_raised(op) == 0 && fastmpi_check(ierr) == 0) {
        fastmpi_msg_unstage(&inout);
        result = Py_NewRef(Py_None);
    }
    Py_DECREF(op);
done:
    fastmpi_msg_release(&in);
    fastmpi_msg_release(&inout);
    return result;
}

static PyObject *
Op_call(FastMPIOpObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *x, *y;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        return PyErr_Format(PyExc_TypeError,
                            "an Op takes no keyword arguments");
    }
    if (!PyArg_UnpackTuple(args, "Op", 2, 2, &x, &y)) {
        return NULL;
    }
    FastMPIOpObject *op = self->base != NULL ? (FastMPIOpObject *)self->base
                                             : self;
    return fastmpi_op_apply(op, x, y);
}

/* The predefined ops, in the order of FASTMPI_OP_* (their kind), then
 * OP_NULL. */
static const fastmpi_handle_name op_names[] = {
    FASTMPI_HANDLE_NAME(MAX), FASTMPI_HANDLE_NAME(MIN),
    FASTMPI_HANDLE_NAME(SUM), FASTMPI_HANDLE_NAME(PROD),
    FASTMPI_HANDLE_NAME(LAND), FASTMPI_HANDLE_NAME(BAND),
    FASTMPI_HANDLE_NAME(LOR), FASTMPI_HANDLE_NAME(BOR),
    FASTMPI_HANDLE_NAME(LXOR), FASTMPI_HANDLE_NAME(BXOR),
    FASTMPI_HANDLE_NAME(MAXLOC), FASTMPI_HANDLE_NAME(MINLOC),
    FASTMPI_HANDLE_NAME(REPLACE), FASTMPI_HANDLE_NAME(NO_OP),
    FASTMPI_HANDLE_NAME(OP_NULL), {NULL},
};

static PyObject *
Op_repr(FastMPIOpObject *self)
{
    if (self->ob_mpi == MPI_OP_NULL) {
        return PyUnicode_FromString("<MPI.Op OP_NULL>");
    }
    if (self->kind != FASTMPI_OP_USER) {
        return PyUnicode_FromFormat("<MPI.Op %s>",
                                    op_names[self->kind].name);
    }
    return PyUnicode_FromFormat("<MPI.Op user-defined at %p>", self);
}

/* ---- Op ----------------------------------------------------------------- */

FASTMPI_HANDLE_SLOTS(op_kind, fastmpi_st->Op)

/* The handle base's make hook (f2py, fromint, fromhandle): a predefined
 * op's copy knows which one it is (so that it applies to objects). */
static PyObject *
op_make(PyTypeObject *cls, intptr_t h, const char *fname)
{
    const char *name = fastmpi_handle_name_of(&op_kind, h);
    if (name != NULL) {
        PyObject *pre = PyObject_GetAttrString(fastmpi_st->module, name);
        PyObject *r = pre ? PyObject_CallOneArg((PyObject *)cls, pre) : NULL;
        Py_XDECREF(pre);
        return r;
    }
    PyObject *op = PyObject_CallNoArgs((PyObject *)cls);    /* OP_NULL */
    if (op != NULL) {
        ((FastMPIOpObject *)op)->ob_mpi = (MPI_Op)h;
    }
    return op;
}

FASTMPI_HANDLE_CONVERTERS(op, Op, MPI_Op, 0)

static const fastmpi_handle_kind op_kind = {
    .name = "Op",
    .size = sizeof(MPI_Op),
    .offset = offsetof(FastMPIOpObject, ob_mpi),
    .flags_offset = offsetof(FastMPIOpObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_OP_NULL),
    .names = op_names,
    .local = "a user-defined MPI.Op is local to its process",
    .c2f = op_c2f,
    .f2c = op_f2c,
    .toint = op_toint,
    .fromint = op_fromint,
    .make = op_make,
    .free = (PyCFunction)Op_Free,
    .slots = op_kind_slots,
};

static PyMethodDef Op_methods[] = {
    {"Create", FASTMPI_FASTCALL(Op_Create),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "Create($cls, function, commute=False)\n--\n\n"
     "Create(function, commute=False) -> Op: function(inbuf, inoutbuf, "
     "datatype) reduces inbuf into inoutbuf (buffers of raw bytes; "
     "numpy.frombuffer reads them)."},
    {"Free", (PyCFunction)Op_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free a user-defined Op."},
    {"Is_commutative", (PyCFunction)Op_Is_commutative, METH_NOARGS,
     "Is_commutative($self)\n--\n\n"
     "Whether the operation is commutative."},
    {"Reduce_local", FASTMPI_FASTCALL(Op_Reduce_local),
     METH_FASTCALL | METH_KEYWORDS,
     "Reduce_local($self, inbuf, inoutbuf)\n--\n\n"
     "Reduce_local(inbuf, inoutbuf): inoutbuf = inbuf op inoutbuf."},
    {NULL},
};

static PyGetSetDef Op_getset[] = {
    {"is_commutative", (getter)Op_Is_commutative, NULL,
     "is a commutative operation"},
    {"is_predefined", (getter)Op_get_is_predefined, NULL,
     "is a predefined operation"},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Op_members, FastMPIOpObject);

static PyType_Slot Op_slots[] = {
    {Py_tp_members, Op_members},
    {Py_tp_doc, "Op(op=None)\n--\n\n"
                "Op(op=None): a reduction operation.  op(x, y) applies it "
                "to Python objects."},
    {Py_tp_new, Op_new},
    {Py_tp_dealloc, Op_dealloc},
    {Py_tp_traverse, Op_traverse},
    {Py_tp_clear, Op_clear},
    {Py_tp_call, Op_call},
    {Py_tp_repr, Op_repr},
    {Py_tp_methods, Op_methods},
    {Py_tp_getset, Op_getset},
    {0, NULL},
};

static PyType_Spec Op_spec = {
    .name = "fastmpi.MPI.Op",
    .basicsize = sizeof(FastMPIOpObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Op_slots,
};

static int
add_predefined(PyObject *module, const char *name, MPI_Op handle, int kind)
{
    FastMPIOpObject *op = op_alloc(fastmpi_st->Op, handle, kind,
                                   FASTMPI_PREDEFINED);
    if (op == NULL) {
        return -1;
    }
    if (kind == FASTMPI_OP_SUM) {
        fastmpi_st->op_sum = Py_NewRef((PyObject *)op);
    }
    int r = PyModule_AddObjectRef(module, name, (PyObject *)op);
    Py_DECREF(op);
    return r;
}

int
fastmpi_op_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Op_spec, &op_kind, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Op = (PyTypeObject *)type;   /* owned by the state */
    if (PyModule_AddObjectRef(module, "Op", type) < 0) {
        return -1;
    }
    for (int k = 0; k <= FASTMPI_OP_NO_OP; k++) {
        if (add_predefined(module, op_names[k].name,
                           (MPI_Op)op_names[k].handle, k) < 0) {
            return -1;
        }
    }
    return add_predefined(module, "OP_NULL", MPI_OP_NULL, FASTMPI_OP_USER);
}
