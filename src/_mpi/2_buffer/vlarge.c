/* vlarge.c: the v collectives (Gatherv, Scatterv, Allgatherv, Alltoallv and
 * their nonblocking forms) past 2**31-1: a count or a displacement above
 * 2**31-1, or a buffer of more items.  vspec.c parses into int arrays and
 * comes here only when a value does not fit, so small calls never do.
 *
 * Every rank decides alone, from its own arguments, with no communication:
 * a rank's description of its own data only has to match its peers' in
 * type signature (so many base items), never in the form of the call.
 * A leaf's own buffer past 2**31-1 items is already one item of a large
 * type (msgbuffer.c), so only the vector side comes here.
 *
 *   1. Both libraries: the int call stays, with a unit datatype of k base
 *   items (a cached contiguous type) where k divides every nonzero count
 *   and every displacement difference; counts and displacements are then
 *   in units, the buffer address moves to the lowest displacement.  Same
 *   signature, so it matches any peer's description.  MPICH 4.0.2 also
 *   runs its collectives best this way: its MPI_Allgatherv_c with a count
 *   past 2**31-1 did not finish in 120 s (2 ranks, 2 GiB) and its
 *   MPI_Iallgatherv_c was killed by the OOM killer at 12 GiB per rank,
 *   while MPI_Allgatherv of the same bytes as 8-byte units took 1.5-2 s
 *   (plain C: agv.c in /tmp/lead/readme/large-repro/).
 *
 *   2. No such k (say counts 2**31+1 and 2, which share no factor):
 *   MPI-4 (MPICH 4) calls the _c function (MPI_Gatherv_c, ...: MPI_Count
 *   counts, MPI_Aint displacements) on this rank; its peers may call the
 *   int one: MPICH runs both through one implementation (MPI_Aint counts
 *   inside), so they match (checked in C, vmix.c there, for Gatherv,
 *   Allgatherv, Alltoallv and Igatherv at 2-4 ranks).  Allgatherv with a
 *   count past 2**31-1 is refused there instead (above); its counts are
 *   every rank's, so every rank refuses alike.  MPI-3.1 (Open MPI 4.1)
 *   has no _c functions and a single call cannot describe the layout:
 *   ValueError.
 *   For Allgatherv every rank raises alike; for Gatherv, Scatterv and
 *   Alltoallv only the rank whose arguments these are knows, so its peers
 *   wait in the collective, as they do for any argument error a root
 *   raises, until the exception ends the program.
 */
#include "../0_core/fastmpi.h"
#include "msgbuffer.h"

#include <string.h>

/* One non-negative Py_ssize_t: 0 or -1 with an exception. */
static int
ssize_item(PyObject *obj, const char *fname, const char *argname,
           const char *what, Py_ssize_t i, Py_ssize_t *out)
{
    if (!PyLong_Check(obj) && (!PyIndex_Check(obj) || PyBool_Check(obj))) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': %s[%zd] must be an int, not "
                     "%.100s", fname, argname, what, i,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': %s %R cannot be represented "
                         "(more than 2**63-1)", fname, argname, what, obj);
        }
        return -1;
    }
    if (v < 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': %s[%zd] is %zd; it must not be "
                     "negative", fname, argname, what, i, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* obj: an int (the same for every block) or a sequence of `blocks`. */
static int
ssize_values(PyObject *obj, int blocks, const char *fname,
             const char *argname, const char *what, Py_ssize_t *out,
             int *scalar)
{
    *scalar = PyLong_Check(obj) ||
              (PyIndex_Check(obj) && !PySequence_Check(obj));
    if (*scalar) {
        return ssize_item(obj, fname, argname, what, 0, &out[0]);
    }
    PyObject *seq = PySequence_Check(obj) ? PySequence_Fast(obj, "")
                                          : NULL;
    if (seq == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s': %s must be an int or a sequence "
                     "of %d ints (one per rank), not %.100s", fname,
                     argname, what, blocks, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PySequence_Fast_GET_SIZE(seq) != blocks) {
        PyErr_Format(PyExc_ValueError,
                     "%s() argument '%s': %s has %zd items; the "
                     "communicator has %d ranks", fname, argname, what,
                     PySequence_Fast_GET_SIZE(seq), blocks);
        Py_DECREF(seq);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < blocks && rc == 0; i++) {
        rc = ssize_item(PySequence_Fast_ITEMS(seq)[i], fname, argname, what,
                        i, &out[i]);
    }
    Py_DECREF(seq);
    return rc;
}

static int
unrepresentable(const char *fname, const char *argname)
{
    PyErr_Format(PyExc_ValueError,
                 "%s() argument '%s': the displacements cannot be "
                 "represented (past 2**63-1 bytes)", fname, argname);
    return -1;
}

/* counts c[] and displacements d[] (items) from the spec's objects. */
static int
read_values(PyObject *counts, PyObject *displs, Py_ssize_t total,
            int blocks, const char *fname, const char *argname,
            Py_ssize_t *c, Py_ssize_t *d)
{
    int scalar;
    if (counts == NULL || counts == Py_None) {
        for (int i = 0; i < blocks; i++) {
            c[i] = total / blocks + (total % blocks > i);
        }
    }
    else {
        if (ssize_values(counts, blocks, fname, argname, "counts", c,
                         &scalar) < 0) {
            return -1;
        }
        for (int i = 1; scalar && i < blocks; i++) {
            c[i] = c[0];
        }
    }
    if (displs == NULL || displs == Py_None) {
        Py_ssize_t at = 0;
        for (int i = 0; i < blocks; i++) {
            d[i] = at;
            if (c[i] > PY_SSIZE_T_MAX - at) {
                return unrepresentable(fname, argname);
            }
            at += c[i];
        }
        return 0;
    }
    if (ssize_values(displs, blocks, fname, argname, "displs", d,
                     &scalar) < 0) {
        return -1;
    }
    for (int i = 1; scalar && i < blocks; i++) {
        if (d[0] > PY_SSIZE_T_MAX / i) {
            return unrepresentable(fname, argname);
        }
        d[i] = d[0] * i;
    }
    if (scalar) {
        d[0] = 0;
    }
    return 0;
}

/* Every nonzero block inside the buffer's len bytes. */
static int
check_bounds(const Py_ssize_t *c, const Py_ssize_t *d, int blocks,
             Py_ssize_t extent, Py_ssize_t len, const char *fname,
             const char *argname)
{
    for (int i = 0; i < blocks; i++) {
        if (c[i] == 0) {
            continue;
        }
        if (extent <= 0 || d[i] > len / extent || c[i] > len / extent ||
            (d[i] + c[i]) > len / extent) {
            PyErr_Format(PyExc_ValueError,
                         "%s() argument '%s': block %d (count %zd at "
                         "displacement %zd, %zd-byte items) does not fit "
                         "in a %zd-byte buffer", fname, argname, i, c[i],
                         d[i], extent, len);
            return -1;
        }
    }
    return 0;
}

static Py_ssize_t
gcd(Py_ssize_t a, Py_ssize_t b)
{
    while (b != 0) {
        Py_ssize_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Int counts and displacements in units of k items (see the top of the
 * file): 0; 1 when no k brings them below 2**31 (no exception); -1. */
static int
to_units(const Py_ssize_t *c, const Py_ssize_t *d, Py_ssize_t extent,
         fastmpi_vmsg *v, const char *fname, const char *argname)
{
    int blocks = v->blocks;
    Py_ssize_t k = 0, low = PY_SSIZE_T_MAX;
    for (int i = 0; i < blocks; i++) {
        if (c[i] > 0) {
            k = gcd(k, c[i]);
            low = d[i] < low ? d[i] : low;
        }
    }
    for (int i = 0; i < blocks; i++) {
        if (c[i] > 0) {
            k = gcd(k, d[i] - low);
        }
    }
    if (k == 0) {           /* nothing moves */
        memset(v->counts, 0, sizeof(int) * (size_t)blocks);
        memset(v->displs, 0, sizeof(int) * (size_t)blocks);
        return 0;
    }
    for (int i = 0; i < blocks; i++) {
        if (c[i] > 0 && (c[i] / k > INT_MAX || (d[i] - low) / k > INT_MAX)) {
            return 1;
        }
    }
    MPI_Datatype unit = v->msg.datatype;
    if (k > 1 && fastmpi_large_type(v->msg.datatype, k, fname, argname,
                                    &unit) < 0) {
        return -1;
    }
    for (int i = 0; i < blocks; i++) {
        v->counts[i] = c[i] > 0 ? (int)(c[i] / k) : 0;
        v->displs[i] = c[i] > 0 ? (int)((d[i] - low) / k) : 0;
    }
    v->msg.datatype = unit;
    if (low > 0) {
        v->msg.addr = (char *)v->msg.addr + low * extent;
    }
    return 0;
}

int
fastmpi_vlarge_fill(PyObject *counts, PyObject *displs, Py_ssize_t total,
                    int bottom, fastmpi_vmsg *v, const char *fname,
                    const char *argname)
{
    int blocks = v->blocks, rc = -1;
    MPI_Aint lb, extent;
    if (fastmpi_check(MPI_Type_get_extent(v->msg.datatype, &lb,
                                          &extent)) < 0) {
        return -1;
    }
    Py_ssize_t *c = PyMem_Malloc(2 * sizeof(Py_ssize_t) * (size_t)blocks +
                                 1);
    if (c == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t *d = c + blocks;
    if (read_values(counts, displs, total, blocks, fname, argname, c, d) <
            0 ||
        (!bottom && check_bounds(c, d, blocks, (Py_ssize_t)extent,
                                 v->msg.nbytes, fname, argname) < 0)) {
        goto done;
    }
    int fits = 1;
    for (int i = 0; i < blocks && fits; i++) {
        fits = c[i] <= INT_MAX && d[i] <= INT_MAX;
    }
    if (fits) {
        /* only the buffer is past 2**31-1 items */
        for (int i = 0; i < blocks; i++) {
            v->counts[i] = (int)c[i];
            v->displs[i] = (int)d[i];
        }
        rc = 0;
        goto done;
    }
    rc = to_units(c, d, (Py_ssize_t)extent, v, fname, argname);
    if (rc <= 0) {
        goto done;
    }
#if FASTMPI_HAVE_LARGE_COUNT
    v->lcounts = PyMem_Malloc((sizeof(MPI_Count) + sizeof(MPI_Aint)) *
                              (size_t)blocks);
    if (v->lcounts == NULL) {
        PyErr_NoMemory();
        rc = -1;
        goto done;
    }
    v->ldispls = (MPI_Aint *)(v->lcounts + blocks);
    for (int i = 0; i < blocks; i++) {
        v->lcounts[i] = (MPI_Count)c[i];
        v->ldispls[i] = (MPI_Aint)d[i];
    }
    rc = 0;
#else
    PyErr_Format(PyExc_ValueError,
                 "%s() argument '%s': counts or displacements past 2**31-1 "
                 "items that have no common factor bringing them below "
                 "it; " FASTMPI_MPI_VENDOR " (MPI-%d.%d, no large-count "
                 "functions) cannot describe this layout in one call: use "
                 "counts and displacements that are multiples of a common "
                 "block size", fname, argname, MPI_VERSION,
                 MPI_SUBVERSION);
    rc = -1;
#endif
done:
    PyMem_Free(c);
    return rc;
}
