/* requestlist.c: the calls on lists of requests: Waitany, Testany,
 * Waitall, Testall, Waitsome, Testsome, and their lowercase forms that
 * return received objects.
 *
 * A list is read into an array of handles: active requests give their
 * handle and are marked busy (which also catches a request listed twice);
 * null, inactive and completed ones go in as MPI_REQUEST_NULL, as MPI
 * takes them.  Freed requests and non-requests raise before MPI is called.
 * After the call every request listed gets its handle back, and those MPI
 * completed go through fastmpi_request_complete().
 */
#include "../0_core/fastmpi.h"
#include "../0_core/state.h"
#include "request.h"
#include "../5_ops/p2p.h"

enum { ANY, ALL, SOME };

typedef struct {
    const char *fname;
    PyObject *seq;                  /* owned: PySequence_Fast */
    Py_ssize_t n;
    FastMPIRequestObject **reqs;    /* borrowed: what seq's items stand
                                       for (fastmpi_request_target) */
    MPI_Request *handles;
    MPI_Status *statuses;
    int *indices;
    char *given;                    /* handed to MPI (was active) */
    void *block;
} reqlist;

static void
reqlist_free(reqlist *rl)
{
    PyMem_Free(rl->block);
    Py_XDECREF(rl->seq);
}

static int
reqlist_read(reqlist *rl, PyObject *requests, const char *fname)
{
    rl->fname = fname;
    rl->block = NULL;
    rl->seq = PySequence_Fast(requests, "argument 'requests' must be a "
                              "sequence of MPI.Request");
    if (rl->seq == NULL) {
        return -1;
    }
    Py_ssize_t n = rl->n = PySequence_Fast_GET_SIZE(rl->seq);
    if (n > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s(): too many requests", fname);
        goto fail;
    }
    size_t m = n ? (size_t)n : 1;
    size_t bytes = m * (sizeof(MPI_Status) + sizeof(MPI_Request) +
                        sizeof(void *) + sizeof(int) + 1);
    char *p = rl->block = PyMem_Malloc(bytes);
    if (p == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    rl->statuses = (MPI_Status *)p;
    p += m * sizeof(MPI_Status);
    rl->handles = (MPI_Request *)p;
    p += m * sizeof(MPI_Request);
    rl->reqs = (FastMPIRequestObject **)p;
    p += m * sizeof(void *);
    rl->indices = (int *)p;
    p += m * sizeof(int);
    rl->given = p;
    PyObject **items = PySequence_Fast_ITEMS(rl->seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        rl->given[i] = 0;
        rl->handles[i] = MPI_REQUEST_NULL;
        if (!PyObject_TypeCheck(item, fastmpi_st->Request)) {
            PyErr_Format(PyExc_TypeError, "%s() argument 'requests' item "
                         "%zd must be MPI.Request, not %.100s", fname, i,
                         Py_TYPE(item)->tp_name);
            goto unmark;
        }
        FastMPIRequestObject *req = rl->reqs[i] =
            fastmpi_request_target((FastMPIRequestObject *)item);
        if (req->state == FASTMPI_REQ_FREED) {
            fastmpi_error_raise_detail(MPI_ERR_REQUEST, "%s(): requests[%zd]"
                                       " was freed", fname, i);
            goto unmark;
        }
        if (req->state == FASTMPI_REQ_ACTIVE) {
            if (req->busy) {
                fastmpi_error_raise_detail(
                    MPI_ERR_REQUEST, "%s(): requests[%zd] appears twice in "
                    "the list, or another thread is waiting on it", fname,
                    i);
                goto unmark;
            }
            req->busy = 1;
            rl->given[i] = 1;
            rl->handles[i] = req->ob_mpi;
        }
        continue;
unmark:
        for (Py_ssize_t j = 0; j < i; j++) {
            if (rl->given[j]) {
                rl->reqs[j]->busy = 0;
            }
        }
        goto fail;
    }
    return 0;
fail:
    reqlist_free(rl);
    return -1;
}

/* statuses=: None, a list of Status objects (filled, and extended with
 * new ones if short), or any other sequence of Status objects (a tuple,
 * ...: filled in place as far as it goes).  A new reference to a list or
 * tuple of its items in *out (NULL for None), or -1 with TypeError. */
static int
statuses_arg(PyObject *statuses, const char *fname, PyObject **out)
{
    *out = NULL;
    if (statuses == NULL || statuses == Py_None) {
        return 0;
    }
    PyObject *seq = NULL;
    if (PyList_Check(statuses)) {
        seq = Py_NewRef(statuses);
    }
    else if (PyUnicode_Check(statuses) || PyBytes_Check(statuses) ||
             !PySequence_Check(statuses) ||
             (seq = PySequence_Fast(statuses, "")) == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s() argument 'statuses' must be a "
                     "list (or another sequence) of MPI.Status, not %.100s",
                     fname, Py_TYPE(statuses)->tp_name);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *st = PySequence_Fast_ITEMS(seq)[i];
        if (!PyObject_TypeCheck(st, fastmpi_st->Status)) {
            PyErr_Format(PyExc_TypeError, "%s() argument 'statuses' item "
                         "%zd must be MPI.Status, not %.100s", fname, i,
                         Py_TYPE(st)->tp_name);
            Py_DECREF(seq);
            return -1;
        }
    }
    *out = seq;
    return 0;
}

/* The first n statuses into `statuses` (statuses_arg's *out, or NULL): a
 * list the caller passed grows to n; another sequence takes what fits. */
static int
statuses_fill(PyObject *statuses, PyObject *given, const MPI_Status *src,
              Py_ssize_t n)
{
    if (statuses == NULL) {
        return 0;
    }
    int grows = PyList_Check(given);    /* then statuses is that list */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i < PySequence_Fast_GET_SIZE(statuses)) {
            PyObject *st = PySequence_Fast_ITEMS(statuses)[i];
            ((FastMPIStatusObject *)st)->ob_mpi = src[i];
            continue;
        }
        if (!grows) {
            break;
        }
        PyObject *st = PyObject_CallNoArgs((PyObject *)fastmpi_st->Status);
        if (st == NULL) {
            return -1;
        }
        ((FastMPIStatusObject *)st)->ob_mpi = src[i];
        int r = PyList_Append(statuses, st);
        Py_DECREF(st);
        if (r < 0) {
            return -1;
        }
    }
    return 0;
}

static void
complete_at(reqlist *rl, Py_ssize_t i, MPI_Status *st, int want_result,
            int *raised)
{
    FastMPIRequestObject *req = rl->reqs[i];
    if (req->state != FASTMPI_REQ_ACTIVE) {
        return;
    }
    fastmpi_request_complete(req, st, want_result);
    if (!*raised && fastmpi_request_raise_pending(req) < 0) {
        *raised = 1;
    }
}

/* Hand the handles back and complete what MPI completed.  Returns -1 if a
 * generalized request's callback raised (that exception is set). */
static int
reqlist_finish(reqlist *rl, int how, int ierr, int index, int flag,
               int count, int want_result)
{
    Py_ssize_t n = rl->n;
    MPI_Status *sts = rl->statuses;
    int raised = 0, in_status = 0, eclass = MPI_SUCCESS;
    if (ierr != MPI_SUCCESS && MPI_Error_class(ierr, &eclass) ==
        MPI_SUCCESS) {
        in_status = eclass == MPI_ERR_IN_STATUS;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rl->given[i]) {
            rl->reqs[i]->busy = 0;
            rl->reqs[i]->ob_mpi = rl->handles[i];
        }
    }
    if (how == ANY && index != MPI_UNDEFINED && index >= 0 && index < n) {
        complete_at(rl, index, &sts[0], want_result, &raised);
    }
    else if (how == ALL) {
        for (Py_ssize_t i = 0; i < n; i++) {
            int done = ierr == MPI_SUCCESS ? flag
                : in_status ? sts[i].MPI_ERROR != MPI_ERR_PENDING : 0;
            if (rl->given[i] && done) {
                complete_at(rl, i, &sts[i], want_result, &raised);
            }
        }
    }
    else if (how == SOME && count != MPI_UNDEFINED) {
        for (int k = 0; k < count; k++) {
            complete_at(rl, rl->indices[k], &sts[k], want_result, &raised);
        }
    }
    if (ierr != MPI_SUCCESS) {
        /* anything else MPI freed on the way completed with an error */
        for (Py_ssize_t i = 0; i < n; i++) {
            FastMPIRequestObject *req = rl->reqs[i];
            if (rl->given[i] && !req->persistent &&
                req->ob_mpi == MPI_REQUEST_NULL) {
                complete_at(rl, i, NULL, 0, &raised);
            }
        }
    }
    return raised ? -1 : 0;
}

/* An MPI error from a list call: the first failed status names it. */
static int
list_error(reqlist *rl, int ierr, Py_ssize_t nstatus)
{
    int eclass = MPI_ERR_OTHER;
    MPI_Error_class(ierr, &eclass);
    if (eclass == MPI_ERR_IN_STATUS) {
        for (Py_ssize_t i = 0; i < nstatus; i++) {
            int e = rl->statuses[i].MPI_ERROR;
            if (e != MPI_SUCCESS && e != MPI_ERR_PENDING) {
                fastmpi_error_raise_detail(e, "%s(): a request failed",
                                           rl->fname);
                return -1;
            }
        }
    }
    return fastmpi_check(ierr);
}

static const char *const one_names[] = {"requests", "status", NULL};
static const char *const many_names[] = {"requests", "statuses", NULL};

/* Run one list call.  out_index: ANY's index; out_flag: Test's flag;
 * out_count: SOME's outcount.  Returns 0 or -1. */
static int
run(fastmpi_argspec *spec, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, int how, int wait, int want_result, reqlist *rl,
    int *out_index, int *out_flag, int *out_count)
{
    PyObject *argv[2], *statuses = NULL;
    MPI_Status *status = MPI_STATUS_IGNORE;
    if (fastmpi_parse_args(spec, args, nargs, kwnames, argv) < 0 ||
        fastmpi_require_mpi() < 0) {
        return -1;
    }
    if (how == ANY) {
        if (fastmpi_arg_status(spec, 1, argv[1], &status) < 0) {
            return -1;
        }
    }
    else if (statuses_arg(argv[1], spec->fname, &statuses) < 0) {
        return -1;
    }
    if (reqlist_read(rl, argv[0], spec->fname) < 0) {
        Py_XDECREF(statuses);
        return -1;
    }
    int n = (int)rl->n, ierr, index = MPI_UNDEFINED, flag = 1, count = 0;
    MPI_Request *h = rl->handles;
    MPI_Status *sts = rl->statuses;
    FASTMPI_NOGIL_BEGIN
    switch (how * 2 + wait) {
    case ANY * 2:
        ierr = MPI_Testany(n, h, &index, &flag, sts);
        break;
    case ANY * 2 + 1:
        ierr = MPI_Waitany(n, h, &index, sts);
        break;
    case ALL * 2:
        ierr = MPI_Testall(n, h, &flag, sts);
        break;
    case ALL * 2 + 1:
        ierr = MPI_Waitall(n, h, sts);
        break;
    case SOME * 2:
        ierr = MPI_Testsome(n, h, &count, rl->indices, sts);
        break;
    default:
        ierr = MPI_Waitsome(n, h, &count, rl->indices, sts);
        break;
    }
    FASTMPI_NOGIL_END
    if (how == ANY && status != MPI_STATUS_IGNORE && flag) {
        *status = sts[0];   /* with no active request, MPI's empty one */
    }
    int outcount = (how == SOME && count != MPI_UNDEFINED) ? count : 0;
    int raised = reqlist_finish(rl, how, ierr, index, flag, count,
                                want_result) < 0;
    if (!raised && ierr != MPI_SUCCESS) {
        list_error(rl, ierr, how == ANY ? 1 : how == SOME ? outcount : n);
        raised = 1;
    }
    if (!raised && how != ANY) {
        Py_ssize_t nfill = how == ALL ? (flag ? n : 0) : outcount;
        if (statuses_fill(statuses, argv[1], sts, nfill) < 0) {
            raised = 1;
        }
    }
    Py_XDECREF(statuses);
    if (raised) {
        reqlist_free(rl);
        return -1;
    }
    *out_index = index;
    *out_flag = flag;
    *out_count = how == SOME ? count : 0;
    return 0;
}

/* A list of the objects the completed requests produced, in `order`
 * (indices into rl, or all of them when order is NULL). */
static PyObject *
results(reqlist *rl, const int *order, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        FastMPIRequestObject *req = rl->reqs[order ? order[k] : k];
        PyObject *obj = fastmpi_request_result(req);
        if (obj == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, obj);
    }
    return list;
}

static PyObject *
indices_list(const int *indices, int count)
{
    if (count == MPI_UNDEFINED) {
        Py_RETURN_NONE;
    }
    PyObject *list = PyList_New(count);
    for (int k = 0; list != NULL && k < count; k++) {
        PyObject *v = PyLong_FromLong(indices[k]);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, k, v);
    }
    return list;
}

static PyObject *
some_lower(reqlist *rl, int count)
{
    if (count == MPI_UNDEFINED) {
        return Py_BuildValue("(OO)", Py_None, Py_None);
    }
    PyObject *idx = indices_list(rl->indices, count);
    if (idx == NULL) {
        return NULL;
    }
    PyObject *objs = results(rl, rl->indices, count);
    if (objs == NULL) {
        Py_DECREF(idx);
        return NULL;
    }
    return Py_BuildValue("(NN)", idx, objs);
}

/* What a list call returns, from the outcome of run(). */
static PyObject *
build(reqlist *rl, int how, int wait, int lower, int index, int flag,
      int count)
{
    PyObject *obj;
    switch (how) {
    case ANY:
        if (!lower) {
            return wait ? PyLong_FromLong(index)
                        : Py_BuildValue("(iO)", index,
                                        flag ? Py_True : Py_False);
        }
        obj = index == MPI_UNDEFINED ? Py_NewRef(Py_None)
              : fastmpi_request_result(rl->reqs[index]);
        if (obj == NULL) {
            return NULL;
        }
        return wait ? Py_BuildValue("(iN)", index, obj)
                    : Py_BuildValue("(iON)", index,
                                    flag ? Py_True : Py_False, obj);
    case ALL:
        if (!lower) {
            return wait ? Py_NewRef(Py_True) : PyBool_FromLong(flag);
        }
        if (wait) {
            return results(rl, NULL, rl->n);
        }
        obj = flag ? results(rl, NULL, rl->n) : Py_NewRef(Py_None);
        if (obj == NULL) {
            return NULL;
        }
        return Py_BuildValue("(ON)", flag ? Py_True : Py_False, obj);
    default:
        return lower ? some_lower(rl, count)
                     : indices_list(rl->indices, count);
    }
}

/* Each list call: parse, run, build the answer. */
#define DEFINE_LIST(NAME, NAMES, HOW, WAIT, LOWER)                         \
    static PyObject *NAME(PyObject *cls, PyObject *const *args,            \
                          Py_ssize_t nargs, PyObject *kwnames)             \
    {                                                                      \
        static fastmpi_argspec spec = {#NAME, NAMES, 1};                   \
        reqlist rl;                                                        \
        int index, flag, count;                                            \
        if (run(&spec, args, nargs, kwnames, HOW, WAIT, LOWER, &rl,        \
                &index, &flag, &count) < 0) {                              \
            return NULL;                                                   \
        }                                                                  \
        PyObject *res = build(&rl, HOW, WAIT, LOWER, index, flag, count);  \
        reqlist_free(&rl);                                                 \
        return res;                                                        \
    }

DEFINE_LIST(Waitany, one_names, ANY, 1, 0)
DEFINE_LIST(Testany, one_names, ANY, 0, 0)
DEFINE_LIST(Waitall, many_names, ALL, 1, 0)
DEFINE_LIST(Testall, many_names, ALL, 0, 0)
DEFINE_LIST(Waitsome, many_names, SOME, 1, 0)
DEFINE_LIST(Testsome, many_names, SOME, 0, 0)
DEFINE_LIST(waitany, one_names, ANY, 1, 1)
DEFINE_LIST(testany, one_names, ANY, 0, 1)
DEFINE_LIST(waitall, many_names, ALL, 1, 1)
DEFINE_LIST(testall, many_names, ALL, 0, 1)
DEFINE_LIST(waitsome, many_names, SOME, 1, 1)
DEFINE_LIST(testsome, many_names, SOME, 0, 1)

/* Get_status_any/all/some (and lowercase): MPI-4.1's MPI_Request_get_
 * status_any/all/some, which neither library here has: the arguments are
 * checked, then NotImplementedError says what is needed. */
#define DEFINE_GET_STATUS(NAME, SNAME)                                     \
    static PyObject *NAME(PyObject *cls, PyObject *const *args,            \
                          Py_ssize_t nargs, PyObject *kwnames)             \
    {                                                                      \
        static const char *const names[] = {"requests", SNAME, NULL};      \
        static fastmpi_argspec spec = {#NAME, names, 1};                   \
        PyObject *argv[2];                                                 \
        if (fastmpi_parse_args(&spec, args, nargs, kwnames, argv) < 0) {   \
            return NULL;                                                   \
        }                                                                  \
        if (!PySequence_Check(argv[0])) {                                  \
            return PyErr_Format(PyExc_TypeError, "%s() argument "          \
                                "'requests' must be a sequence of "        \
                                "Request, not %.100s", #NAME,              \
                                Py_TYPE(argv[0])->tp_name);                \
        }                                                                  \
        return fastmpi_not_available(#NAME, 4, 1);                         \
    }

DEFINE_GET_STATUS(Get_status_any, "status")
DEFINE_GET_STATUS(Get_status_all, "statuses")
DEFINE_GET_STATUS(Get_status_some, "statuses")
DEFINE_GET_STATUS(get_status_any, "status")
DEFINE_GET_STATUS(get_status_all, "statuses")
DEFINE_GET_STATUS(get_status_some, "statuses")

#define CM(f) FASTMPI_FASTCALL(f), METH_FASTCALL | METH_KEYWORDS | METH_CLASS

PyMethodDef fastmpi_requestlist_methods[] = {
    {"Get_status_any", CM(Get_status_any),
     "Get_status_any($cls, requests, status=None)\n--\n\n"
     "Get_status_any(requests, status=None) -> (index, flag) (MPI-4.1)"},
    {"Get_status_all", CM(Get_status_all),
     "Get_status_all($cls, requests, statuses=None)\n--\n\n"
     "Get_status_all(requests, statuses=None) -> bool (MPI-4.1)"},
    {"Get_status_some", CM(Get_status_some),
     "Get_status_some($cls, requests, statuses=None)\n--\n\n"
     "Get_status_some(requests, statuses=None) -> indices or None "
     "(MPI-4.1)"},
    {"get_status_any", CM(get_status_any),
     "get_status_any($cls, requests, status=None)\n--\n\n"
     "get_status_any(requests, status=None) -> (index, flag) (MPI-4.1)"},
    {"get_status_all", CM(get_status_all),
     "get_status_all($cls, requests, statuses=None)\n--\n\n"
     "get_status_all(requests, statuses=None) -> bool (MPI-4.1)"},
    {"get_status_some", CM(get_status_some),
     "get_status_some($cls, requests, statuses=None)\n--\n\n"
     "get_status_some(requests, statuses=None) -> indices or None "
     "(MPI-4.1)"},
    {"Waitany", CM(Waitany),
     "Waitany($cls, requests, status=None)\n--\n\n"
     "Waitany(requests, status=None) -> index (UNDEFINED if none active)"},
    {"Testany", CM(Testany),
     "Testany($cls, requests, status=None)\n--\n\n"
     "Testany(requests, status=None) -> (index, flag)"},
    {"Waitall", CM(Waitall),
     "Waitall($cls, requests, statuses=None)\n--\n\n"
     "Waitall(requests, statuses=None) -> True.  statuses: a list (grown "
     "to one Status per request) or another sequence of Status objects "
     "(filled as far as it goes)."},
    {"Testall", CM(Testall), "Testall($cls, requests, statuses=None)\n--\n\n"
                             "Testall(requests, statuses=None) -> bool"},
    {"Waitsome", CM(Waitsome),
     "Waitsome($cls, requests, statuses=None)\n--\n\n"
     "Waitsome(requests, statuses=None) -> indices, or None"},
    {"Testsome", CM(Testsome),
     "Testsome($cls, requests, statuses=None)\n--\n\n"
     "Testsome(requests, statuses=None) -> indices, or None"},
    {"waitany", CM(waitany), "waitany($cls, requests, status=None)\n--\n\n"
                             "waitany(requests, status=None) -> (index, obj)"},
    {"testany", CM(testany),
     "testany($cls, requests, status=None)\n--\n\n"
     "testany(requests, status=None) -> (index, flag, obj)"},
    {"waitall", CM(waitall), "waitall($cls, requests, statuses=None)\n--\n\n"
                             "waitall(requests, statuses=None) -> [obj]"},
    {"testall", CM(testall),
     "testall($cls, requests, statuses=None)\n--\n\n"
     "testall(requests, statuses=None) -> (flag, [obj] or None)"},
    {"waitsome", CM(waitsome),
     "waitsome($cls, requests, statuses=None)\n--\n\n"
     "waitsome(requests, statuses=None) -> (indices, [obj]) or "
     "(None, None)"},
    {"testsome", CM(testsome),
     "testsome($cls, requests, statuses=None)\n--\n\n"
     "testsome(requests, statuses=None) -> (indices, [obj]) or "
     "(None, None)"},
    {NULL},
};
