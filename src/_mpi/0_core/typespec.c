/* typespec.c: types made whole from their specs.
 *
 * A type's methods may come from several files of higher layers (the
 * operations on Comm come from p2p.c, coll.c, ...): the file that owns
 * the type writes its spec, and module.c (the top layer) hands it the
 * other files' tables as parts.  fastmpi_type_new joins them into the
 * spec before the type is made, so that no type is patched afterwards,
 * and every type is immutable, as the classes of mpi4py are.
 */
#include "fastmpi.h"

#include <string.h>

/* How many entries a table of `size`-byte entries has before its
 * terminator.  PyMethodDef and PyGetSetDef both begin with their name,
 * which is NULL in the terminator. */
static Py_ssize_t
table_len(const void *table, size_t size)
{
    Py_ssize_t n = 0;
    for (const char *e = table; e != NULL && *(const char *const *)e != NULL;
         e += size) {
        n++;
    }
    return n;
}

/* A new table of `size`-byte entries: `own` then every table of `more`
 * (NULL-terminated), in that order, so that a name given twice keeps its
 * first entry (types add their methods and getters with
 * PyDict_SetDefault).  The table lives as long as the process: the type's
 * descriptors point into it, and the module is made once per process
 * (module.c).  NULL with MemoryError. */
static void *
join_tables(const void *own, void *const *more, size_t size)
{
    Py_ssize_t n = table_len(own, size);
    for (void *const *t = more; t != NULL && *t != NULL; t++) {
        n += table_len(*t, size);
    }
    char *all = PyMem_RawCalloc((size_t)n + 1, size);
    if (all == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t k = table_len(own, size);
    if (k > 0) {
        memcpy(all, own, (size_t)k * size);
    }
    for (void *const *t = more; t != NULL && *t != NULL; t++) {
        Py_ssize_t m = table_len(*t, size);
        memcpy(all + (size_t)k * size, *t, (size_t)m * size);
        k += m;
    }
    return all;
}

PyTypeObject *
fastmpi_type_new(PyObject *module, const PyType_Spec *spec, PyObject *base,
                 const fastmpi_type_parts *parts)
{
    Py_ssize_t nslots = 0;
    while (spec->slots[nslots].slot != 0) {
        nslots++;
    }
    /* room for the spec's slots, a methods and a getset slot, the end */
    PyType_Slot *slots = PyMem_Calloc((size_t)nslots + 3, sizeof(*slots));
    if (slots == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    PyMethodDef *own_methods = NULL;
    PyGetSetDef *own_getset = NULL;
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < nslots; i++) {
        if (spec->slots[i].slot == Py_tp_methods) {
            own_methods = spec->slots[i].pfunc;
        }
        else if (spec->slots[i].slot == Py_tp_getset) {
            own_getset = spec->slots[i].pfunc;
        }
        else {
            slots[k++] = spec->slots[i];
        }
    }
    PyMethodDef *methods = own_methods;
    PyGetSetDef *getset = own_getset;
    PyTypeObject *type = NULL;
    if (parts != NULL && parts->methods != NULL &&
        (methods = join_tables(own_methods, (void *const *)parts->methods,
                               sizeof(PyMethodDef))) == NULL) {
        goto done;
    }
    if (parts != NULL && parts->getset != NULL &&
        (getset = join_tables(own_getset, (void *const *)parts->getset,
                              sizeof(PyGetSetDef))) == NULL) {
        goto done;
    }
    if (methods != NULL) {
        slots[k++] = (PyType_Slot){Py_tp_methods, methods};
    }
    if (getset != NULL) {
        slots[k++] = (PyType_Slot){Py_tp_getset, getset};
    }
    PyType_Spec whole = *spec;
    whole.flags |= Py_TPFLAGS_IMMUTABLETYPE;
    whole.slots = slots;
    type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &whole, base);
done:
    PyMem_Free(slots);
    return type;
}
