/* group.c: MPI.Group, GROUP_EMPTY and GROUP_NULL.
 *
 * Group operations are local (no communication), so none releases the GIL.
 * Every rank argument is checked against the group's size here, before
 * MPI sees it: Open MPI 4.1.4 reads out of bounds (and crashes) on a rank
 * outside the group in MPI_Group_translate_ranks.
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "../1_handle/handle.h"
#include "comm.h"
#include "../5_ops/p2p.h"


PyObject *
fastmpi_group_new(PyTypeObject *type, MPI_Group g, int flags)
{
    FastMPIGroupObject *self = (FastMPIGroupObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ob_mpi = g;
    self->flags = flags;
    return (PyObject *)self;
}

/* 0, or -1 with MPI.Exception(ERR_GROUP) if g is GROUP_NULL. */
static int
group_check(MPI_Group g, const char *fname)
{
    if (fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (Py_UNLIKELY(g == MPI_GROUP_NULL)) {
        fastmpi_error_raise_detail(MPI_ERR_GROUP,
                                   "%s(): the group is GROUP_NULL (freed, "
                                   "or never created)", fname);
        return -1;
    }
    return 0;
}

MPI_Group
fastmpi_group_arg(PyObject *obj, const char *fname, const char *argname)
{
    if (!PyObject_TypeCheck(obj, fastmpi_st->Group)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be MPI.Group, not %.100s",
                     fname, argname, Py_TYPE(obj)->tp_name);
        return MPI_GROUP_NULL;
    }
    MPI_Group g = ((FastMPIGroupObject *)obj)->ob_mpi;
    if (g == MPI_GROUP_NULL) {
        if (fastmpi_require_mpi() == 0) {
            fastmpi_error_raise_detail(MPI_ERR_GROUP,
                                       "%s(): argument '%s' is GROUP_NULL "
                                       "(freed, or never created)", fname,
                                       argname);
        }
        return MPI_GROUP_NULL;
    }
    return g;
}

/* The size of a group already checked not to be GROUP_NULL. */
static int
group_size(MPI_Group g, int *size)
{
    return fastmpi_check(MPI_Group_size(g, size));
}

/* An int (or an object with __index__, not a bool) as a long: 0, or -1
 * with TypeError naming `what` and OverflowError left for the caller as
 * *overflow = 1. */
static int
item_long(PyObject *x, const char *fname, const char *argname,
          const char *what, long *v, int *overflow)
{
    if (PyBool_Check(x) || !PyIndex_Check(x)) {
        PyErr_Format(PyExc_TypeError, "%s() argument '%s': %s must be int, "
                     "not %.100s", fname, argname, what,
                     Py_TYPE(x)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(x);    /* new reference */
    if (i == NULL) {
        return -1;
    }
    *overflow = 0;
    *v = PyLong_AsLongAndOverflow(i, overflow);
    Py_DECREF(i);
    if (*v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (*v < INT_MIN || *v > INT_MAX) {
        *overflow = 1;
    }
    return 0;
}

/* A sequence of ranks as a PyMem int array of *n entries (n may be 0; the
 * array is then still allocated).  Each rank must be in [0, size), or
 * MPI.PROC_NULL where allow_proc_null; with distinct, no rank twice.
 * ValueError/TypeError name fname and argname. */
static int *
ranks_arg(PyObject *seq, int size, int allow_proc_null, int distinct,
          const char *fname, const char *argname, int *n)
{
    if (PyUnicode_Check(seq) || PyBytes_Check(seq) || !PySequence_Check(seq)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of int, "
                     "not %.100s", fname, argname, Py_TYPE(seq)->tp_name);
        return NULL;
    }
    PyObject *fast = PySequence_Fast(seq, "");    /* new reference */
    if (fast == NULL) {
        return NULL;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > INT_MAX) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' is too long",
                     fname, argname);
        return NULL;
    }
    int *ranks = PyMem_Malloc((size_t)(len ? len : 1) * sizeof(int));
    unsigned char *seen = NULL;
    if (ranks == NULL ||
        (distinct && (seen = PyMem_Calloc(size ? size : 1, 1)) == NULL)) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);   /* borrowed */
        int overflow = 0;
        long r = 0;
        if (item_long(item, fname, argname, "each rank", &r,
                      &overflow) < 0) {
            goto error;
        }
        if (allow_proc_null && !overflow && r == MPI_PROC_NULL) {
            ranks[i] = MPI_PROC_NULL;
            continue;
        }
        if (overflow || r < 0 || r >= size) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': rank %R (item %zd) is not in "
                         "the group, whose size is %d", fname, argname,
                         item, i, size);
            goto error;
        }
        if (distinct) {
            if (seen[r]) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': rank %ld appears more "
                             "than once", fname, argname, r);
                goto error;
            }
            seen[r] = 1;
        }
        ranks[i] = (int)r;
    }
    Py_DECREF(fast);
    PyMem_Free(seen);
    *n = (int)len;
    return ranks;

error:
    Py_DECREF(fast);
    PyMem_Free(ranks);
    PyMem_Free(seen);
    return NULL;
}

/* A list of (first, last, stride) triples as a PyMem int[n][3]; every
 * computed rank in [0, size), stride not 0 and leading from first to
 * last, no rank twice.  Errors name fname/argname. */
static int (*ranges_arg(PyObject *seq, int size, const char *fname,
                        const char *argname, int *n))[3]
{
    if (PyUnicode_Check(seq) || PyBytes_Check(seq) || !PySequence_Check(seq)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be a sequence of (first, "
                     "last, stride) triples, not %.100s", fname, argname,
                     Py_TYPE(seq)->tp_name);
        return NULL;
    }
    PyObject *fast = PySequence_Fast(seq, "");    /* new reference */
    if (fast == NULL) {
        return NULL;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    int (*ranges)[3] = NULL;
    unsigned char *seen = NULL;
    if (len > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s() argument '%s' is too long",
                     fname, argname);
        goto error;
    }
    ranges = PyMem_Malloc((size_t)(len ? len : 1) * sizeof(*ranges));
    seen = PyMem_Calloc(size ? size : 1, 1);
    if (ranges == NULL || seen == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);   /* borrowed */
        if (!PyTuple_Check(item) && !PyList_Check(item)) {
            PyErr_Format(PyExc_TypeError,
                         "%s() argument '%s': item %zd must be a (first, "
                         "last, stride) tuple, not %.100s", fname, argname,
                         i, Py_TYPE(item)->tp_name);
            goto error;
        }
        if (PySequence_Fast_GET_SIZE(item) != 3) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': item %zd must have 3 entries "
                         "(first, last, stride), not %zd", fname, argname,
                         i, PySequence_Fast_GET_SIZE(item));
            goto error;
        }
        long v[3];
        for (int k = 0; k < 3; k++) {
            PyObject *x = PySequence_Fast_GET_ITEM(item, k);  /* borrowed */
            int overflow = 0;
            if (item_long(x, fname, argname, "each of first, last, stride",
                          &v[k], &overflow) < 0) {
                goto error;
            }
            if (overflow) {
                v[k] = k == 2 ? 0 : -1;     /* reported below */
            }
        }
        if (v[0] < 0 || v[0] >= size || v[1] < 0 || v[1] >= size) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': range %zd (%ld, %ld, %ld) "
                         "names a rank outside the group, whose size is "
                         "%d", fname, argname, i, v[0], v[1], v[2], size);
            goto error;
        }
        if (v[2] == 0 || (v[1] - v[0]) / v[2] < 0) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': range %zd (%ld, %ld, %ld) "
                         "needs a stride that is not 0 and leads from "
                         "first to last", fname, argname, i, v[0], v[1],
                         v[2]);
            goto error;
        }
        for (long r = v[0]; v[2] > 0 ? r <= v[1] : r >= v[1]; r += v[2]) {
            if (seen[r]) {
                PyErr_Format(PyExc_ValueError,
                             "%s() argument '%s': rank %ld appears in "
                             "more than one range", fname, argname, r);
                goto error;
            }
            seen[r] = 1;
        }
        ranges[i][0] = (int)v[0];
        ranges[i][1] = (int)v[1];
        ranges[i][2] = (int)v[2];
    }
    Py_DECREF(fast);
    PyMem_Free(seen);
    *n = (int)len;
    return ranges;

error:
    Py_DECREF(fast);
    PyMem_Free(ranges);
    PyMem_Free(seen);
    return NULL;
}

/* ---- the type ---------------------------------------------------------- */

static PyObject *
Group_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *other = NULL;
    static char *kwlist[] = {"group", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:Group", kwlist,
                                     &other)) {
        return NULL;
    }
    MPI_Group handle = MPI_GROUP_NULL;
    int flags = 0;
    if (other != NULL && other != Py_None) {
        if (!PyObject_TypeCheck(other, fastmpi_st->Group)) {
            return PyErr_Format(PyExc_TypeError,
                                "Group() argument 'group' must be "
                                "MPI.Group, not %.100s",
                                Py_TYPE(other)->tp_name);
        }
        handle = ((FastMPIGroupObject *)other)->ob_mpi;
        /* a copy of a predefined group cannot be freed either */
        flags = ((FastMPIGroupObject *)other)->flags & FASTMPI_PREDEFINED;
    }
    return fastmpi_group_new(type, handle, flags);
}

static void
Group_dealloc(PyObject *self)
{
    FASTMPI_WEAKLIST_CLEAR(self, FastMPIGroupObject);
    /* As in mpi4py, only Free() frees the MPI group. */
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
Group_Get_size(FastMPIGroupObject *self, PyObject *unused)
{
    int size = 0;
    if (group_check(self->ob_mpi, "Get_size") < 0 ||
        group_size(self->ob_mpi, &size) < 0) {
        return NULL;
    }
    return PyLong_FromLong(size);
}

static PyObject *
Group_Get_rank(FastMPIGroupObject *self, PyObject *unused)
{
    int rank = MPI_UNDEFINED;
    if (group_check(self->ob_mpi, "Get_rank") < 0 ||
        fastmpi_check(MPI_Group_rank(self->ob_mpi, &rank)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(rank);
}


/* Translate_ranks(ranks=None, group=None): the ranks (all of self's when
 * None) of self as ranks of `group` (COMM_WORLD's group when None), with
 * UNDEFINED where a process is not in `group`.  An instance method as in
 * mpi4py 4; MPI.Group.Translate_ranks(g1, ranks, g2), mpi4py 3's
 * spelling, is the same call. */
static PyObject *
Group_Translate_ranks(FastMPIGroupObject *self, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"ranks", "group", NULL};
    static fastmpi_argspec spec = {"Translate_ranks", names, 0};
    PyObject *argv[2];
    MPI_Group other = MPI_GROUP_NULL, world = MPI_GROUP_NULL;
    int *ranks1 = NULL, *ranks2 = NULL;
    int n = 0, size = 0;
    PyObject *result = NULL;
    if (nargs >= 1 && PyObject_TypeCheck(args[0], fastmpi_st->Group)) {
        /* mpi4py 3's classmethod called through an instance:
         * g.Translate_ranks(group1, ranks1, group2) (keyword values stay
         * at args[nargs + k]) */
        self = (FastMPIGroupObject *)args[0];
        args++;
        nargs--;
    }
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        group_check(self->ob_mpi, "Translate_ranks") < 0 ||
        group_size(self->ob_mpi, &size) < 0) {
        return NULL;
    }
    if (argv[1] != NULL && argv[1] != Py_None) {
        other = fastmpi_group_arg(argv[1], "Translate_ranks", "group");
        if (other == MPI_GROUP_NULL) {
            return NULL;
        }
    }
    if (argv[0] == NULL || argv[0] == Py_None) {
        ranks1 = PyMem_Malloc((size_t)(size ? size : 1) * sizeof(int));
        if (ranks1 == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (int i = 0; i < size; i++) {
            ranks1[i] = i;
        }
        n = size;
    }
    else {
        ranks1 = ranks_arg(argv[0], size, 1, 0, "Translate_ranks", "ranks",
                           &n);
        if (ranks1 == NULL) {
            goto done;
        }
    }
    if (other == MPI_GROUP_NULL) {
        if (fastmpi_check(MPI_Comm_group(MPI_COMM_WORLD, &world)) < 0) {
            goto done;
        }
        other = world;
    }
    ranks2 = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(int));
    if (ranks2 == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (n > 0 &&
        fastmpi_check(MPI_Group_translate_ranks(self->ob_mpi, n, ranks1,
                                                other, ranks2)) < 0) {
        goto done;
    }
    /* PROC_NULL translates to PROC_NULL (MPI-2 errata); both libraries
     * answer UNDEFINED when the other group is empty */
    for (int i = 0; i < n; i++) {
        if (ranks1[i] == MPI_PROC_NULL) {
            ranks2[i] = MPI_PROC_NULL;
        }
    }
    result = fastmpi_int_list(ranks2, n);

done:
    if (world != MPI_GROUP_NULL) {
        MPI_Group_free(&world);
    }
    PyMem_Free(ranks1);
    PyMem_Free(ranks2);
    return result;
}

/* Compare(group) -> IDENT, SIMILAR or UNEQUAL: an instance method as in
 * mpi4py 4, so MPI.Group.Compare(g1, g2) works too; g.Compare(g1, g2),
 * mpi4py 3's classmethod through an instance, compares g1 and g2. */
static PyObject *
Group_Compare(FastMPIGroupObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"group", NULL};
    static fastmpi_argspec spec = {"Compare", names, 1};
    PyObject *argv[1];
    int result = MPI_UNEQUAL;
    if (nargs == 2 && kwnames == NULL) {
        self = (FastMPIGroupObject *)args[0];
        if (!PyObject_TypeCheck(args[0], fastmpi_st->Group)) {
            return PyErr_Format(PyExc_TypeError,
                                "Compare() argument 'group1' must be "
                                "MPI.Group, not %.100s",
                                Py_TYPE(args[0])->tp_name);
        }
        args++;
        nargs--;
    }
    if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0 ||
        group_check(self->ob_mpi, "Compare") < 0) {
        return NULL;
    }
    MPI_Group other = fastmpi_group_arg(argv[0], "Compare", "group");
    if (other == MPI_GROUP_NULL ||
        fastmpi_check(MPI_Group_compare(self->ob_mpi, other, &result)) < 0) {
        return NULL;
    }
    return PyLong_FromLong(result);
}

/* New reference: a new group of `type` from a successful MPI call. */
static PyObject *
group_result(PyTypeObject *type, int ierr, MPI_Group *made)
{
    if (fastmpi_check(ierr) < 0) {
        return NULL;
    }
    PyObject *obj = fastmpi_group_new(type, *made, 0);
    if (obj == NULL && *made != MPI_GROUP_NULL) {
        MPI_Group_free(made);
    }
    return obj;
}

static PyObject *
Group_Dup(FastMPIGroupObject *self, PyObject *unused)
{
    /* MPI has no MPI_Group_dup: the union with the empty group is a new
     * group of the same processes in the same order. */
    MPI_Group made = MPI_GROUP_NULL;
    if (group_check(self->ob_mpi, "Dup") < 0) {
        return NULL;
    }
    int ierr = MPI_Group_union(self->ob_mpi, MPI_GROUP_EMPTY, &made);
    return group_result(Py_TYPE(self), ierr, &made);
}

typedef int (*set_op_fn)(MPI_Group, MPI_Group, MPI_Group *);

/* Union, Intersection and Difference: classmethods of two groups. */
static PyObject *
set_op(PyTypeObject *cls, PyObject *const *args, Py_ssize_t nargs,
       PyObject *kwnames, fastmpi_argspec *spec, set_op_fn fn)
{
    PyObject *argv[2];
    MPI_Group made = MPI_GROUP_NULL;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0) {
        return NULL;
    }
    MPI_Group g1 = fastmpi_group_arg(argv[0], spec->fname, "group1");
    if (g1 == MPI_GROUP_NULL) {
        return NULL;
    }
    MPI_Group g2 = fastmpi_group_arg(argv[1], spec->fname, "group2");
    if (g2 == MPI_GROUP_NULL) {
        return NULL;
    }
    int ierr = fn(g1, g2, &made);
    return group_result(cls, ierr, &made);
}

static const char *const set_op_names[] = {"group1", "group2", NULL};

#define DEFINE_SET_OP(NAME, FN)                                            \
    static PyObject *Group_##NAME(PyTypeObject *cls,                       \
                                  PyObject *const *args, Py_ssize_t nargs, \
                                  PyObject *kwnames)                       \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, set_op_names, 2};            \
        return set_op(cls, args, nargs, kwnames, &spec, FN);               \
    }

DEFINE_SET_OP(Union, MPI_Group_union)
DEFINE_SET_OP(Intersection, MPI_Group_intersection)
DEFINE_SET_OP(Difference, MPI_Group_difference)

typedef int (*ranks_op_fn)(MPI_Group, int, const int[], MPI_Group *);

static PyObject *
ranks_op(FastMPIGroupObject *self, PyObject *arg, const char *fname,
         ranks_op_fn fn)
{
    int size = 0, n = 0;
    MPI_Group made = MPI_GROUP_NULL;
    if (group_check(self->ob_mpi, fname) < 0 ||
        group_size(self->ob_mpi, &size) < 0) {
        return NULL;
    }
    int *ranks = ranks_arg(arg, size, 0, 1, fname, "ranks", &n);
    if (ranks == NULL) {
        return NULL;
    }
    int ierr = fn(self->ob_mpi, n, ranks, &made);
    PyMem_Free(ranks);
    return group_result(Py_TYPE(self), ierr, &made);
}

static PyObject *
Group_Incl(FastMPIGroupObject *self, PyObject *arg)
{
    return ranks_op(self, arg, "Incl", MPI_Group_incl);
}

static PyObject *
Group_Excl(FastMPIGroupObject *self, PyObject *arg)
{
    return ranks_op(self, arg, "Excl", MPI_Group_excl);
}

typedef int (*range_op_fn)(MPI_Group, int, int[][3], MPI_Group *);

static PyObject *
range_op(FastMPIGroupObject *self, PyObject *arg, const char *fname,
         range_op_fn fn)
{
    int size = 0, n = 0;
    MPI_Group made = MPI_GROUP_NULL;
    if (group_check(self->ob_mpi, fname) < 0 ||
        group_size(self->ob_mpi, &size) < 0) {
        return NULL;
    }
    int (*ranges)[3] = ranges_arg(arg, size, fname, "ranks", &n);
    if (ranges == NULL) {
        return NULL;
    }
    int ierr = fn(self->ob_mpi, n, ranges, &made);
    PyMem_Free(ranges);
    return group_result(Py_TYPE(self), ierr, &made);
}

static PyObject *
Group_Range_incl(FastMPIGroupObject *self, PyObject *arg)
{
    return range_op(self, arg, "Range_incl", MPI_Group_range_incl);
}

static PyObject *
Group_Range_excl(FastMPIGroupObject *self, PyObject *arg)
{
    return range_op(self, arg, "Range_excl", MPI_Group_range_excl);
}

static PyObject *
Group_Free(FastMPIGroupObject *self, PyObject *unused)
{
    if (self->flags & FASTMPI_PREDEFINED) {
        /* Open MPI 4.1.4 frees its static GROUP_EMPTY (and the process
         * aborts in free()) if asked to */
        return fastmpi_error_raise_detail(MPI_ERR_GROUP,
                                          "Free(): a predefined group "
                                          "cannot be freed");
    }
    if (group_check(self->ob_mpi, "Free") < 0 ||
        fastmpi_check(MPI_Group_free(&self->ob_mpi)) < 0) {
        return NULL;
    }
    self->ob_mpi = MPI_GROUP_NULL;
    Py_RETURN_NONE;
}

static const fastmpi_handle_name group_names[] = {
    FASTMPI_HANDLE_NAME(GROUP_NULL),
    FASTMPI_HANDLE_NAME(GROUP_EMPTY),
    {NULL},
};

FASTMPI_HANDLE_CONVERTERS(group, Group, MPI_Group, 0)
FASTMPI_HANDLE_SLOTS(group_kind, fastmpi_st->Group)

static const fastmpi_handle_kind group_kind = {
    .name = "Group",
    .size = sizeof(MPI_Group),
    .offset = offsetof(FastMPIGroupObject, ob_mpi),
    .flags_offset = offsetof(FastMPIGroupObject, flags),
    .null = FASTMPI_HANDLE_TO_INT(MPI_GROUP_NULL),
    .names = group_names,
    .local = "an MPI group is local to its process",
    .c2f = group_c2f,
    .f2c = group_f2c,
    .toint = group_toint,
    .fromint = group_fromint,
    .free = (PyCFunction)Group_Free,
    .slots = group_kind_slots,
};

#define KW (METH_FASTCALL | METH_KEYWORDS)

/* Their one argument by keyword too (fastmpi.h). */
FASTMPI_ONE_ARG(Group_Incl, "Incl", "ranks")
FASTMPI_ONE_ARG(Group_Excl, "Excl", "ranks")
FASTMPI_ONE_ARG(Group_Range_incl, "Range_incl", "ranks")
FASTMPI_ONE_ARG(Group_Range_excl, "Range_excl", "ranks")

static PyMethodDef Group_methods[] = {
    {"Get_size", (PyCFunction)Group_Get_size, METH_NOARGS,
     "Get_size($self)\n--\n\n"
     "Number of processes in the group."},
    {"Get_rank", (PyCFunction)Group_Get_rank, METH_NOARGS,
     "Get_rank($self)\n--\n\n"
     "Rank of this process in the group, or UNDEFINED."},
    {"Translate_ranks", FASTMPI_FASTCALL(Group_Translate_ranks), KW,
     "Translate_ranks($self, ranks=None, group=None)\n--\n\n"
     "Translate_ranks(ranks=None, group=None) -> list: the ranks of this "
     "group as ranks of group (COMM_WORLD's group when None), UNDEFINED "
     "where absent."},
    {"Compare", FASTMPI_FASTCALL(Group_Compare), KW,
     "Compare($self, group)\n--\n\n"
     "Compare(group) -> IDENT, SIMILAR or UNEQUAL."},
    {"Dup", (PyCFunction)Group_Dup, METH_NOARGS, "Dup($self)\n--\n\n"
                                                 "A new, equal group."},
    {"Union", FASTMPI_FASTCALL(Group_Union), KW | METH_CLASS,
     "Union($cls, group1, group2)\n--\n\n"
     "Union(group1, group2) -> the processes of either group."},
    {"Intersection", FASTMPI_FASTCALL(Group_Intersection), KW | METH_CLASS,
     "Intersection($cls, group1, group2)\n--\n\n"
     "Intersection(group1, group2) -> the processes of both groups."},
    {"Intersect", FASTMPI_FASTCALL(Group_Intersection), KW | METH_CLASS,
     "Intersect($cls, group1, group2)\n--\n\n"
     "Intersect(group1, group2): Intersection's old name."},
    {"Difference", FASTMPI_FASTCALL(Group_Difference), KW | METH_CLASS,
     "Difference($cls, group1, group2)\n--\n\n"
     "Difference(group1, group2) -> the processes of group1 not in "
     "group2."},
    {"Incl", FASTMPI_FASTCALL(Group_Incl_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Incl($self, ranks)\n--\n\n"
     "Incl(ranks) -> the group of these ranks, in this order."},
    {"Excl", FASTMPI_FASTCALL(Group_Excl_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Excl($self, ranks)\n--\n\n"
     "Excl(ranks) -> this group without these ranks."},
    {"Range_incl", FASTMPI_FASTCALL(Group_Range_incl_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Range_incl($self, ranks)\n--\n\n"
     "Range_incl([(first, last, stride), ...]) -> a new group."},
    {"Range_excl", FASTMPI_FASTCALL(Group_Range_excl_kw),
     METH_FASTCALL | METH_KEYWORDS,
     "Range_excl($self, ranks)\n--\n\n"
     "Range_excl([(first, last, stride), ...]) -> a new group."},
    {"Free", (PyCFunction)Group_Free, METH_NOARGS,
     "Free($self)\n--\n\n"
     "Free the group; it becomes GROUP_NULL."},
    {NULL},
};

#undef KW

static PyGetSetDef Group_getset[] = {
    {"size", (getter)Group_Get_size, NULL, "number of processes"},
    {"rank", (getter)Group_Get_rank, NULL, "rank of this process"},
    {NULL},
};

FASTMPI_WEAKLIST_MEMBERS(Group_members, FastMPIGroupObject);

static PyType_Slot Group_slots[] = {
    {Py_tp_members, Group_members},
    {Py_tp_doc, "Group(group=None)\n--\n\n"
                "Group(group=None): a group of processes."},
    {Py_tp_new, Group_tp_new},
    {Py_tp_dealloc, Group_dealloc},
    {Py_tp_methods, Group_methods},
    {Py_tp_getset, Group_getset},
    {0, NULL},
};

static PyType_Spec Group_spec = {
    .name = "fastmpi.MPI.Group",
    .basicsize = sizeof(FastMPIGroupObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = Group_slots,
};

static int
add_predefined(PyObject *module, const char *name, MPI_Group handle)
{
    PyObject *obj = fastmpi_group_new(fastmpi_st->Group, handle,
                                      FASTMPI_PREDEFINED);
    if (obj == NULL) {
        return -1;
    }
    int r = PyModule_AddObjectRef(module, name, obj);
    Py_DECREF(obj);
    return r;
}

int
fastmpi_group_init(PyObject *module)
{
    PyObject *type = (PyObject *)fastmpi_handle_type_new(
        module, &Group_spec, &group_kind, NULL);
    if (type == NULL) {
        return -1;
    }
    fastmpi_st->Group = (PyTypeObject *)type;  /* owned by the state */
    int r = PyModule_AddObjectRef(module, "Group", type);
    if (r < 0 || add_predefined(module, "GROUP_NULL", MPI_GROUP_NULL) < 0 ||
        add_predefined(module, "GROUP_EMPTY", MPI_GROUP_EMPTY) < 0) {
        return -1;
    }
    return 0;
}
