/* dtnumpy.c: MPI datatypes and numpy-style type codes.
 *
 *  - typechar, typestr, Datatype.fromcode(code), Datatype.tocode(): the
 *    predefined types by numpy character code ('i', 'd', ...) or sized
 *    code ('i4', 'f8', ...); fastmpi_datatype_from_code(): the same codes
 *    (and mpi4py's others: 's', 'w', 'Zd', 'p', ...) as the datatype of a
 *    buffer spec, [buf, 'd'];
 *  - _dtlib_from_numpy(dtype) (module, hidden): the MPI datatype for a
 *    numpy dtype, for fastmpi.util.dtlib.from_numpy_dtype;
 *  - fastmpi_datatype_from_descr(): the committed datatype for a
 *    structured numpy array passed as a message, cached per dtype object.
 *
 * A numpy dtype is read only through its Python attributes (names, fields,
 * subdtype, char, itemsize, isnative), never its C layout.  Structs become
 * Create_struct resized to the dtype's itemsize (so padding and alignment
 * are kept), subarray fields Create_contiguous (1-d) or Create_subarray.
 * MPI datatypes describe data in the host's byte order only: a dtype with
 * a non-native byte order is refused with ValueError (Pack_external with
 * "external32" is MPI's way to a portable big-endian form).
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "datatype.h"

#include <string.h>

/* ---- the code table ---------------------------------------------------- */

/* fastmpi_st->codes, filled at init: MPI handles are not constant
 * expressions in Open MPI. */

static void
codes_fill(void)
{
    const fastmpi_code_entry table[] = {
        {"?", '?', 'b', MPI_C_BOOL}, {"c", 'c', 'S', MPI_CHAR},
        {"b", 'b', 'i', MPI_SIGNED_CHAR}, {"B", 'B', 'u', MPI_UNSIGNED_CHAR},
        {"h", 'h', 'i', MPI_SHORT}, {"H", 'H', 'u', MPI_UNSIGNED_SHORT},
        {"i", 'i', 'i', MPI_INT}, {"I", 'I', 'u', MPI_UNSIGNED},
        {"l", 'l', 'i', MPI_LONG}, {"L", 'L', 'u', MPI_UNSIGNED_LONG},
        {"q", 'q', 'i', MPI_LONG_LONG},
        {"Q", 'Q', 'u', MPI_UNSIGNED_LONG_LONG},
        {"f", 'f', 'f', MPI_FLOAT}, {"d", 'd', 'f', MPI_DOUBLE},
        {"g", 'g', 'f', MPI_LONG_DOUBLE},
        {"F", 'F', 'c', MPI_C_FLOAT_COMPLEX},
        {"D", 'D', 'c', MPI_C_DOUBLE_COMPLEX},
        {"G", 'G', 'c', MPI_C_LONG_DOUBLE_COMPLEX},
        {"b1", '?', 'b', MPI_C_BOOL},
        {"i1", 'b', 'i', MPI_INT8_T}, {"i2", 'h', 'i', MPI_INT16_T},
        {"i4", 'i', 'i', MPI_INT32_T}, {"i8", 'q', 'i', MPI_INT64_T},
        {"u1", 'B', 'u', MPI_UINT8_T}, {"u2", 'H', 'u', MPI_UINT16_T},
        {"u4", 'I', 'u', MPI_UINT32_T}, {"u8", 'Q', 'u', MPI_UINT64_T},
        {"f4", 'f', 'f', MPI_FLOAT}, {"f8", 'd', 'f', MPI_DOUBLE},
        {"c8", 'F', 'c', MPI_C_FLOAT_COMPLEX},
        {"c16", 'D', 'c', MPI_C_DOUBLE_COMPLEX},
        {"B", 'B', 'u', MPI_BYTE}, /* tocode only: fromcode finds 'B' first */
        {"S1", 'c', 'S', MPI_CHAR},
        /* numpy's intp ('p', MPI_AINT) and MPI_COUNT ('n'): their numpy
         * character is long's or long long's, whichever has their size */
        {"p", sizeof(MPI_Aint) == sizeof(long) ? 'l' : 'q', 'i', MPI_AINT},
        {"n", sizeof(MPI_Count) == sizeof(long) ? 'l' : 'q', 'i', MPI_COUNT},
        {NULL, 0, 0, MPI_DATATYPE_NULL},
    };
    memcpy(fastmpi_st->codes, table, sizeof(table));
}

static const fastmpi_code_entry *
code_by_handle(MPI_Datatype dt)
{
    for (const fastmpi_code_entry *e = fastmpi_st->codes; e->code != NULL;
         e++) {
        if (e->handle == dt) {
            return e;
        }
    }
    return NULL;
}

static const fastmpi_code_entry *
code_by_name(const char *code)
{
    for (const fastmpi_code_entry *e = fastmpi_st->codes; e->code != NULL;
         e++) {
        if (strcmp(e->code, code) == 0) {
            return e;
        }
    }
    return NULL;
}

/* The other type codes mpi4py takes in buffer specs and fromcode: names
 * only (tocode and typechar keep the table above).  Made on each call:
 * MPI handles are not constants on Open MPI, and this is not a hot path
 * (a buffer spec whose datatype is a type code string). */
typedef struct {
    const char *code;
    MPI_Datatype handle;
} code_alias;

static MPI_Datatype
alias_by_name(const char *code)
{
    MPI_Datatype size_t_type = sizeof(size_t) == sizeof(unsigned long)
                               ? MPI_UNSIGNED_LONG : MPI_UNSIGNED_LONG_LONG;
    const code_alias table[] = {
        {"s", MPI_CHAR}, {"S", MPI_CHAR}, {"1s", MPI_CHAR},
        {"w", MPI_WCHAR}, {"U", MPI_WCHAR}, {"U1", MPI_WCHAR},
        {"1w", MPI_WCHAR},
        {"Zf", MPI_C_FLOAT_COMPLEX}, {"Zd", MPI_C_DOUBLE_COMPLEX},
        {"Zg", MPI_C_LONG_DOUBLE_COMPLEX},
        {"P", size_t_type}, {"N", size_t_type},
        {sizeof(long double) == 16 ? "f16" : "", MPI_LONG_DOUBLE},
        {sizeof(long double) == 16 ? "c32" : "", MPI_C_LONG_DOUBLE_COMPLEX},
        {NULL, MPI_DATATYPE_NULL},
    };
    for (const code_alias *a = table; a->code != NULL; a++) {
        if (a->code[0] != '\0' && strcmp(a->code, code) == 0) {
            return a->handle;
        }
    }
    return MPI_DATATYPE_NULL;
}

/* The predefined datatype of a type code, or MPI_DATATYPE_NULL. */
static MPI_Datatype
handle_by_name(const char *code)
{
    const fastmpi_code_entry *e = code_by_name(code);
    return e != NULL ? e->handle : alias_by_name(code);
}

MPI_Datatype
fastmpi_datatype_from_code(PyObject *code, const char *fname,
                           const char *argname)
{
    const char *s = PyUnicode_AsUTF8(code);
    if (s == NULL) {
        return MPI_DATATYPE_NULL;
    }
    MPI_Datatype dt = handle_by_name(s);
    if (dt == MPI_DATATYPE_NULL) {
        PyErr_Format(PyExc_KeyError,
                     "%s() argument '%s': no predefined MPI datatype for "
                     "type code %R", fname, argname, code);
    }
    return dt;
}

static PyObject *
Datatype_fromcode(PyObject *cls, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        return PyErr_Format(PyExc_TypeError,
                            "fromcode() argument 'code' must be str, not "
                            "%.100s", Py_TYPE(arg)->tp_name);
    }
    const char *code = PyUnicode_AsUTF8(arg);
    if (code == NULL) {
        return NULL;
    }
    MPI_Datatype dt = handle_by_name(code);
    if (dt == MPI_DATATYPE_NULL) {
        return PyErr_Format(PyExc_ValueError,
                            "fromcode(): no predefined MPI datatype for "
                            "type code %R", arg);
    }
    return fastmpi_datatype_new(dt, FASTMPI_PREDEFINED |
                                        FASTMPI_DT_COMMITTED);
}

static PyObject *
Datatype_tocode(FastMPIDatatypeObject *self, PyObject *unused)
{
    const fastmpi_code_entry *e = code_by_handle(self->ob_mpi);
    if (e == NULL) {
        return PyErr_Format(PyExc_ValueError,
                            "tocode(): this datatype has no type code (only "
                            "predefined numeric types have one)");
    }
    return PyUnicode_FromString(e->code);
}

static PyObject *
Datatype_get_typechar(FastMPIDatatypeObject *self, void *closure)
{
    const fastmpi_code_entry *e = code_by_handle(self->ob_mpi);
    char c = e != NULL ? e->typechar : 'V';
    return PyUnicode_FromStringAndSize(&c, 1);
}

static int
little_endian(void)
{
    const unsigned int one = 1;
    return *(const unsigned char *)&one == 1;
}

/* numpy's array-interface string: '<i4', '|b1', ...; 'V<extent>' for
 * others. */
static PyObject *
Datatype_get_typestr(FastMPIDatatypeObject *self, void *closure)
{
    MPI_Datatype dt;
    if (self->ob_mpi == MPI_DATATYPE_NULL) {
        return PyUnicode_FromString("|V0");
    }
    if (fastmpi_datatype_handle((PyObject *)self, "typestr", &dt) < 0) {
        return NULL;
    }
    const fastmpi_code_entry *e = code_by_handle(dt);
    if (e == NULL) {
        MPI_Aint lb, extent;
        if (fastmpi_check(MPI_Type_get_extent(dt, &lb, &extent)) < 0) {
            return NULL;
        }
        return PyUnicode_FromFormat("|V%zd", (Py_ssize_t)extent);
    }
    int size = 0;
    if (fastmpi_check(MPI_Type_size(dt, &size)) < 0) {
        return NULL;
    }
    char order = size == 1 || e->kind == 'S' ? '|'
                 : little_endian() ? '<' : '>';
    return PyUnicode_FromFormat("%c%c%d", order, e->kind, size);
}

/* ---- numpy dtype -> MPI datatype --------------------------------------- */

static int build(PyObject *dtype, MPI_Datatype *out, int *derived,
                 const char *fname);

static int
attr_long(PyObject *obj, const char *name, long *out)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (v == NULL) {
        return -1;
    }
    *out = PyLong_AsLong(v);
    Py_DECREF(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

static void
free_if_derived(MPI_Datatype *dt, int derived)
{
    if (derived && *dt != MPI_DATATYPE_NULL) {
        MPI_Type_free(dt);
    }
}

static int
build_struct(PyObject *dtype, PyObject *names, MPI_Datatype *out,
             const char *fname)
{
    PyObject *fields = PyObject_GetAttrString(dtype, "fields");
    if (fields == NULL) {
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    int rc = -1;
    int *blocks = PyMem_Calloc(n ? n : 1, sizeof(int));
    MPI_Aint *displs = PyMem_Calloc(n ? n : 1, sizeof(MPI_Aint));
    MPI_Datatype *types = PyMem_Calloc(n ? n : 1, sizeof(MPI_Datatype));
    int *derived = PyMem_Calloc(n ? n : 1, sizeof(int));
    Py_ssize_t built = 0;
    long itemsize;
    if (blocks == NULL || displs == NULL || types == NULL ||
        derived == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (; built < n; built++) {
        PyObject *f = PyObject_GetItem(fields, PyTuple_GET_ITEM(names,
                                                                built));
        if (f == NULL) {
            goto done;
        }
        if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) < 2) {
            Py_DECREF(f);
            PyErr_Format(PyExc_ValueError, "%s(): unexpected dtype fields",
                         fname);
            goto done;
        }
        Py_ssize_t off = PyLong_AsSsize_t(PyTuple_GET_ITEM(f, 1));
        int r = off == -1 && PyErr_Occurred()
            ? -1 : build(PyTuple_GET_ITEM(f, 0), &types[built],
                         &derived[built], fname);
        Py_DECREF(f);
        if (r < 0) {
            goto done;
        }
        blocks[built] = 1;
        displs[built] = (MPI_Aint)off;
    }
    if (attr_long(dtype, "itemsize", &itemsize) < 0) {
        goto done;
    }
    MPI_Datatype st = MPI_DATATYPE_NULL;
    if (fastmpi_check(MPI_Type_create_struct((int)n, blocks, displs, types,
                                             &st)) < 0) {
        goto done;
    }
    /* the dtype's itemsize (trailing padding) is the element's extent */
    int ierr = MPI_Type_create_resized(st, 0, (MPI_Aint)itemsize, out);
    MPI_Type_free(&st);
    rc = fastmpi_check(ierr);
done:
    for (Py_ssize_t i = 0; i < built; i++) {
        free_if_derived(&types[i], derived[i]);
    }
    PyMem_Free(blocks);
    PyMem_Free(displs);
    PyMem_Free(types);
    PyMem_Free(derived);
    Py_DECREF(fields);
    return rc;
}

static int
build_subarray(PyObject *sub, MPI_Datatype *out, const char *fname)
{
    PyObject *base, *shape;
    if (!PyArg_ParseTuple(sub, "OO!", &base, &PyTuple_Type, &shape)) {
        return -1;
    }
    Py_ssize_t nd = PyTuple_GET_SIZE(shape);
    int sizes[32], starts[32];
    if (nd < 1 || nd > 32) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): subarray field with %zd dimensions", fname, nd);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nd; i++) {
        long v = PyLong_AsLong(PyTuple_GET_ITEM(shape, i));
        if (v == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (v < 0 || v > INT_MAX) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): subarray dimension %ld", fname, v);
            return -1;
        }
        sizes[i] = (int)v;
        starts[i] = 0;
    }
    MPI_Datatype inner;
    int derived;
    if (build(base, &inner, &derived, fname) < 0) {
        return -1;
    }
    int ierr;
    int zero = 0;
    for (Py_ssize_t i = 0; i < nd; i++) {
        zero |= sizes[i] == 0;
    }
    if (nd == 1 || zero) {
        long total = 1;
        for (Py_ssize_t i = 0; i < nd; i++) {
            total *= sizes[i];
        }
        ierr = MPI_Type_contiguous((int)total, inner, out);
    }
    else {
        ierr = MPI_Type_create_subarray((int)nd, sizes, sizes, starts,
                                        MPI_ORDER_C, inner, out);
    }
    free_if_derived(&inner, derived);
    return fastmpi_check(ierr);
}

/* The MPI datatype for numpy dtype `dtype`: *derived = 1 when it is a new
 * handle the caller frees, 0 for a predefined one.  0 or -1. */
static int
build(PyObject *dtype, MPI_Datatype *out, int *derived, const char *fname)
{
    *derived = 1;
    PyObject *names = PyObject_GetAttrString(dtype, "names");
    if (names == NULL) {
        return -1;
    }
    if (names != Py_None) {
        int r = PyTuple_Check(names)
            ? build_struct(dtype, names, out, fname) : -1;
        if (r < 0 && !PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "%s(): unexpected dtype names",
                         fname);
        }
        Py_DECREF(names);
        return r;
    }
    Py_DECREF(names);
    PyObject *sub = PyObject_GetAttrString(dtype, "subdtype");
    if (sub == NULL) {
        return -1;
    }
    if (sub != Py_None) {
        int r = build_subarray(sub, out, fname);
        Py_DECREF(sub);
        return r;
    }
    Py_DECREF(sub);

    long native, itemsize;
    PyObject *ch = PyObject_GetAttrString(dtype, "char");
    if (ch == NULL) {
        return -1;
    }
    const char *c = PyUnicode_Check(ch) ? PyUnicode_AsUTF8(ch) : NULL;
    if (c == NULL || attr_long(dtype, "isnative", &native) < 0 ||
        attr_long(dtype, "itemsize", &itemsize) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "%s(): not a numpy dtype: %R",
                         fname, dtype);
        }
        Py_DECREF(ch);
        return -1;
    }
    int rc = 0;
    if (!native) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): numpy dtype %R has non-native byte order; MPI "
                     "datatypes describe data in the host's byte order "
                     "(convert with dtype.newbyteorder('='), or use "
                     "Pack_external for a portable form)", fname, dtype);
        rc = -1;
    }
    else if (c[0] == 'S' || c[0] == 'V') {
        /* byte strings and raw void: itemsize chars/bytes */
        MPI_Datatype unit = c[0] == 'S' ? MPI_CHAR : MPI_BYTE;
        rc = fastmpi_check(MPI_Type_contiguous((int)itemsize, unit, out));
    }
    else {
        const fastmpi_code_entry *e = strlen(c) == 1 ? code_by_name(c) : NULL;
        if (e == NULL) {
            PyErr_Format(PyExc_ValueError,
                         "%s(): no MPI datatype for numpy dtype %R", fname,
                         dtype);
            rc = -1;
        }
        else {
            *out = e->handle;
            *derived = 0;
        }
    }
    Py_DECREF(ch);
    return rc;
}

/* _dtlib_from_numpy(dtype) -> a new, uncommitted Datatype (a Dup of a
 * predefined one for scalars, as mpi4py's dtlib returns). */
static PyObject *
dtlib_from_numpy(PyObject *module, PyObject *dtype)
{
    MPI_Datatype dt;
    int derived;
    if (fastmpi_require_mpi() < 0 ||
        build(dtype, &dt, &derived, "from_numpy_dtype") < 0) {
        return NULL;
    }
    if (!derived) {
        MPI_Datatype dup;
        if (fastmpi_check(MPI_Type_dup(dt, &dup)) < 0) {
            return NULL;
        }
        dt = dup;
    }
    return fastmpi_datatype_adopt(dt, 0);
}

/* ---- the message cache ------------------------------------------------- */

/* fastmpi_st->descr_cache: a ring of (dtype, committed datatype). */

static void
descr_entry_clear(fastmpi_descr_entry *e)
{
    /* an entry never filled has datatype 0, which is not
     * MPI_DATATYPE_NULL on Open MPI: only a filled one (descr set) owns
     * its datatype */
    if (e->descr != NULL && e->datatype != MPI_DATATYPE_NULL &&
        fastmpi_mpi_active) {
        /* MPI keeps it alive for pending operations that use it */
        MPI_Type_free(&e->datatype);
    }
    e->datatype = MPI_DATATYPE_NULL;
    Py_CLEAR(e->descr);
}

MPI_Datatype
fastmpi_datatype_from_descr(PyObject *descr, const char *fname,
                            const char *argname)
{
    fastmpi_state *st = fastmpi_st;
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        if (st->descr_cache[i].descr == descr) {
            return st->descr_cache[i].datatype;
        }
    }
    if (fastmpi_require_mpi() < 0) {
        return MPI_DATATYPE_NULL;
    }
    long hasobject = 0;
    if (attr_long(descr, "hasobject", &hasobject) < 0) {
        return MPI_DATATYPE_NULL;
    }
    if (hasobject) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': numpy dtype %R holds Python "
                     "objects; send it with the lowercase methods (send, "
                     "bcast, ...)", fname, argname, descr);
        return MPI_DATATYPE_NULL;
    }
    MPI_Datatype dt;
    int derived;
    if (build(descr, &dt, &derived, fname) < 0) {
        /* name the argument too */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_Format(t ? t : PyExc_ValueError, "%s() argument '%s': %S",
                     fname, argname, v ? v : Py_None);
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
        return MPI_DATATYPE_NULL;
    }
    if (!derived) {
        return dt;
    }
    if (fastmpi_check(MPI_Type_commit(&dt)) < 0) {
        MPI_Type_free(&dt);
        return MPI_DATATYPE_NULL;
    }
    fastmpi_descr_entry *e = &st->descr_cache[st->descr_next];
    st->descr_next = (st->descr_next + 1) % FASTMPI_DESCR_CACHE;
    descr_entry_clear(e);
    e->descr = Py_NewRef(descr);
    e->datatype = dt;
    return dt;
}

void
fastmpi_dtnumpy_before_finalize(void)
{
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        descr_entry_clear(&fastmpi_st->descr_cache[i]);
    }
}

/* _dtlib_cache_size() -> how many structured dtypes are cached (tests). */
static PyObject *
dtlib_cache_size(PyObject *module, PyObject *unused)
{
    int n = 0;
    for (int i = 0; i < FASTMPI_DESCR_CACHE; i++) {
        n += fastmpi_st->descr_cache[i].descr != NULL;
    }
    return PyLong_FromLong(n);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Datatype_fromcode, "fromcode", "code")

PyMethodDef fastmpi_dtnumpy_methods[] = {
    {"fromcode", FASTMPI_FASTCALL(Datatype_fromcode_kw),
     METH_FASTCALL | METH_KEYWORDS | METH_CLASS,
     "fromcode($cls, code)\n--\n\n"
     "fromcode(code) -> the predefined Datatype for a type code ('i', "
     "'d', 'i4', 'f8', ...)."},
    {"tocode", (PyCFunction)Datatype_tocode, METH_NOARGS,
     "tocode($self)\n--\n\n"
     "tocode() -> the type code of a predefined datatype."},
    {NULL},
};

PyGetSetDef fastmpi_dtnumpy_getset[] = {
    {"typechar", (getter)Datatype_get_typechar, NULL,
     "numpy character code ('V' for a derived type)"},
    {"typestr", (getter)Datatype_get_typestr, NULL,
     "numpy array-interface type string"},
    {NULL},
};

/* _typecode(datatype) -> its type code, or None (mpi4py's helper). */
static PyObject *
typecode_of(PyObject *module, PyObject *arg)
{
    if (!PyObject_TypeCheck(arg, fastmpi_st->Datatype)) {
        return PyErr_Format(PyExc_TypeError, "_typecode() argument "
                            "'datatype' must be MPI.Datatype, not %.100s",
                            Py_TYPE(arg)->tp_name);
    }
    MPI_Datatype dt = ((FastMPIDatatypeObject *)arg)->ob_mpi;
    const fastmpi_code_entry *e = code_by_handle(dt);
    if (e == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromString(e->code);
}

/* The C alignment of a numpy character code's type, or 0. */
static size_t
typechar_align(char c)
{
    switch (c) {
    case '?': return _Alignof(_Bool);
    case 'c': case 'b': case 'B': return 1;
    case 'h': case 'H': return _Alignof(short);
    case 'i': case 'I': return _Alignof(int);
    case 'l': case 'L': return _Alignof(long);
    case 'q': case 'Q': return _Alignof(long long);
    case 'f': case 'F': return _Alignof(float);
    case 'd': case 'D': return _Alignof(double);
    case 'g': case 'G': return _Alignof(long double);
    default: return 0;
    }
}

/* _typealign(datatype) -> the alignment of a predefined numeric type, or
 * None (mpi4py's helper; dtlib uses it for struct padding). */
static PyObject *
typealign_of(PyObject *module, PyObject *arg)
{
    if (!PyObject_TypeCheck(arg, fastmpi_st->Datatype)) {
        return PyErr_Format(PyExc_TypeError, "_typealign() argument "
                            "'datatype' must be MPI.Datatype, not %.100s",
                            Py_TYPE(arg)->tp_name);
    }
    MPI_Datatype dt = ((FastMPIDatatypeObject *)arg)->ob_mpi;
    const fastmpi_code_entry *e = code_by_handle(dt);
    size_t align = e != NULL ? typechar_align(e->typechar) : 0;
    if (align == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromSize_t(align);
}

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(typecode_of, "_typecode", "datatype")
FASTMPI_ONE_ARG(typealign_of, "_typealign", "datatype")

static PyMethodDef dtnumpy_functions[] = {
    {"_typecode", FASTMPI_FASTCALL(typecode_of_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "_typecode($module, datatype)\n--\n\n"
     "_typecode(datatype) -> its type code ('i', 'd', ...) or None."},
    {"_typealign", FASTMPI_FASTCALL(typealign_of_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "_typealign($module, datatype)\n--\n\n"
     "_typealign(datatype) -> the alignment of a predefined numeric type, "
     "or None."},
    {"_dtlib_from_numpy", dtlib_from_numpy, METH_O,
     "internal: fastmpi.util.dtlib.from_numpy_dtype"},
    {"_dtlib_cache_size", dtlib_cache_size, METH_NOARGS,
     "internal: structured dtypes cached for messages"},
    {NULL},
};

/* A new dict of type codes to predefined Datatypes: `n` pairs. */
static PyObject *
typedict(const char *const *names, const MPI_Datatype *handles, int n)
{
    PyObject *d = PyDict_New();
    for (int i = 0; d != NULL && i < n; i++) {
        if (handles[i] == MPI_DATATYPE_NULL) {
            continue;           /* the library lacks that type */
        }
        PyObject *dt = fastmpi_datatype_new(handles[i], FASTMPI_PREDEFINED |
                                                        FASTMPI_DT_COMMITTED);
        if (dt == NULL || PyDict_SetItemString(d, names[i], dt) < 0) {
            Py_XDECREF(dt);
            Py_CLEAR(d);
            break;
        }
        Py_DECREF(dt);
    }
    return d;
}

/* MPI._typedict (every type code fromcode() knows), _typedict_c (the C
 * types' single-character codes) and _typedict_f (the Fortran types, by
 * the codes of their C counterparts), as mpi4py has them for
 * mpi4py.util.dtlib and for numba-mpi and mpi4jax. */
static int
typedicts_add(PyObject *module)
{
    const char *all[40];
    MPI_Datatype all_handles[40];
    int n = 0, nc = 0;
    for (const fastmpi_code_entry *e = fastmpi_st->codes; e->code != NULL;
         e++) {
        int seen = 0;
        for (int i = 0; i < n; i++) {
            seen |= strcmp(all[i], e->code) == 0;   /* fromcode's first */
        }
        if (!seen) {
            all[n] = e->code;
            all_handles[n++] = e->handle;
        }
    }
    for (int i = 0; i < n && all[i][1] == '\0'; i++) {
        nc = i + 1;             /* the single-character codes come first */
    }
    const char *f_names[] = {"?", "i", "f", "d", "F", "D", "c"};
    const MPI_Datatype f_handles[] = {MPI_LOGICAL, MPI_INTEGER, MPI_REAL,
                                      MPI_DOUBLE_PRECISION, MPI_COMPLEX,
                                      MPI_DOUBLE_COMPLEX, MPI_CHARACTER};
    PyObject *d = typedict(all, all_handles, n);
    PyObject *c = typedict(all, all_handles, nc);
    PyObject *f = typedict(f_names, f_handles, 7);
    int r = (d == NULL || c == NULL || f == NULL ||
             PyModule_AddObjectRef(module, "_typedict", d) < 0 ||
             PyModule_AddObjectRef(module, "_typedict_c", c) < 0 ||
             PyModule_AddObjectRef(module, "_typedict_f", f) < 0) ? -1 : 0;
    Py_XDECREF(d);
    Py_XDECREF(c);
    Py_XDECREF(f);
    return r;
}

int
fastmpi_dtnumpy_init(PyObject *module)
{
    codes_fill();
    return PyModule_AddFunctions(module, dtnumpy_functions) < 0 ||
           typedicts_add(module) < 0 ? -1 : 0;
}
