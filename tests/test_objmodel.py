"""The object model of handle classes: equality, hashing, handle, py2f and
f2py, subclassing, predefined objects, pickling."""
import pickle

import numpy as np
import pytest

from _impl import MPI, FLAVOR


def _handles():
    return [MPI.COMM_WORLD, MPI.COMM_SELF, MPI.COMM_NULL, MPI.INT, MPI.SUM,
            MPI.REQUEST_NULL, MPI.MESSAGE_NULL, MPI.ERRORS_RETURN,
            MPI.ERRHANDLER_NULL, MPI.GROUP_EMPTY, MPI.GROUP_NULL,
            MPI.INFO_NULL]


def test_equality_by_handle():
    assert MPI.Comm(MPI.COMM_WORLD) == MPI.COMM_WORLD
    assert not (MPI.Comm(MPI.COMM_WORLD) != MPI.COMM_WORLD)
    assert MPI.COMM_WORLD != MPI.COMM_SELF
    assert MPI.Comm() == MPI.COMM_NULL
    assert MPI.Op(MPI.SUM) == MPI.SUM and MPI.SUM != MPI.MAX
    assert MPI.Datatype(MPI.INT) == MPI.INT and MPI.INT != MPI.DOUBLE
    assert MPI.Request() == MPI.REQUEST_NULL
    assert MPI.Message() == MPI.MESSAGE_NULL
    assert MPI.Errhandler(MPI.ERRORS_RETURN) == MPI.ERRORS_RETURN
    # other types never compare equal
    assert MPI.COMM_WORLD != 5 and not (MPI.COMM_WORLD == 5)
    assert MPI.COMM_NULL != MPI.REQUEST_NULL


def test_ordering_refused():
    with pytest.raises(TypeError):
        MPI.COMM_WORLD < MPI.COMM_SELF
    with pytest.raises(TypeError):
        MPI.ERRORS_RETURN < MPI.ERRORS_ARE_FATAL


def test_unhashable_as_mpi4py():
    for obj in _handles() + [MPI.Status()]:
        with pytest.raises(TypeError):
            hash(obj)


def test_py2f_f2py_round_trip():
    for obj in _handles():
        cls = type(obj)
        back = cls.f2py(obj.py2f())
        assert type(back) is cls, obj
        assert back == obj, obj
    assert isinstance(MPI.Comm.f2py(MPI.COMM_WORLD.py2f()), MPI.Intracomm)


@pytest.mark.beyond_mpi4py
def test_f2py_keeps_what_objects_know(comm):
    assert MPI.Op.f2py(MPI.MAX.py2f())(3, 5) == 5   # still applies to ints
    assert type(MyComm.f2py(comm.py2f())) is MyComm


@pytest.mark.beyond_mpi4py
def test_handle_attribute():
    for obj in _handles():
        assert isinstance(obj.handle, int)
    assert MPI.Comm(MPI.COMM_WORLD).handle == MPI.COMM_WORLD.handle
    assert MPI.COMM_WORLD.handle != MPI.COMM_SELF.handle
    assert MPI.ERRORS_RETURN.handle != MPI.ERRORS_ARE_FATAL.handle


def test_f2py_bad_argument():
    for cls in (MPI.Comm, MPI.Datatype, MPI.Op, MPI.Request, MPI.Message,
                MPI.Errhandler):
        with pytest.raises(TypeError):
            cls.f2py("0")
        with pytest.raises((OverflowError, ValueError, MPI.Exception)):
            cls.f2py(2**70)


def test_group_equality_and_f2py(comm):
    g = comm.Get_group()
    try:
        assert MPI.Group(g) == g and g != MPI.GROUP_EMPTY
        assert MPI.Group.f2py(g.py2f()) == g
        assert MPI.Group.f2py(np.int32(g.py2f())) == g     # any index
    finally:
        g.Free()
    assert g == MPI.GROUP_NULL


@pytest.mark.fastmpi_only        # mpi4py 3.1 on Open MPI segfaults here
def test_f2py_unknown_index_never_crashes():
    # Open MPI's f2c answers an unknown index with a zero handle (raised
    # at once); MPICH's is a cast whose handle MPI checks when it is used
    for cls in (MPI.Comm, MPI.Datatype, MPI.Op, MPI.Request, MPI.Message,
                MPI.Errhandler, MPI.Group, MPI.Info):
        try:
            obj = cls.f2py(987654)
        except MPI.Exception:
            continue
        for name in ("Get_size", "Get_nkeys", "Is_commutative", "Test"):
            if hasattr(obj, name):
                try:
                    getattr(obj, name)()
                except MPI.Exception:
                    pass
        del obj


def test_f2py_of_dup(comm):
    c = comm.Dup()
    try:
        back = MPI.Comm.f2py(c.py2f())
        assert back == c and isinstance(back, MPI.Intracomm)
    finally:
        c.Free()


class MyComm(MPI.Intracomm):
    def hello(self):
        return "hello %d" % self.Get_rank()


@pytest.mark.mpich_big
def test_subclass(comm, rank):
    m = MyComm(comm)
    assert m == comm and isinstance(m, MyComm)
    assert m.hello() == "hello %d" % rank
    d = m.Dup()
    try:
        assert type(d) is MyComm
        assert d.allreduce(1) == comm.Get_size()
    finally:
        d.Free()
    s = m.Split(0, rank)
    try:
        # mpi4py 3.1 gives Intracomm, fastmpi keeps the subclass
        assert isinstance(s, MPI.Intracomm)
    finally:
        s.Free()


def test_subclass_errhandler():
    class MyErrh(MPI.Errhandler):
        pass
    e = MyErrh(MPI.ERRORS_RETURN)
    assert e == MPI.ERRORS_RETURN and type(e) is MyErrh


def test_predefined_cannot_be_freed():
    for obj in (MPI.COMM_WORLD, MPI.COMM_SELF, MPI.INT, MPI.SUM):
        with pytest.raises(MPI.Exception):
            obj.Free()
    assert MPI.COMM_WORLD != MPI.COMM_NULL


@pytest.mark.beyond_mpi4py
def test_predefined_free_messages():
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.COMM_WORLD.Free()
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.Comm(MPI.COMM_SELF).Free()
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.ERRORS_RETURN.Free()
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.SUM.Free()
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.GROUP_EMPTY.Free()      # mpi4py 3.1 + Open MPI abort here
    with pytest.raises(MPI.Exception, match="predefined"):
        MPI.Op(MPI.MAX).Free()
    with pytest.raises(MPI.Exception, match="COMM_NULL|ommunicator"):
        MPI.COMM_NULL.Free()


def test_pickle_user_handles_refused(comm):
    c = comm.Dup()
    try:
        with pytest.raises(TypeError):
            pickle.dumps(c)
    finally:
        c.Free()
    eh = MPI.Comm.Create_errhandler(lambda c, e: None) \
        if hasattr(MPI.Comm, "Create_errhandler") else None
    if eh is not None:
        with pytest.raises(TypeError):
            pickle.dumps(eh)
        eh.Free()
    req = comm.Isend([b"", 0, MPI.BYTE], dest=MPI.PROC_NULL)
    with pytest.raises(TypeError):
        pickle.dumps(req)
    req.Wait()


@pytest.mark.beyond_mpi4py
def test_pickle_predefined_by_name():
    for obj in (MPI.COMM_WORLD, MPI.COMM_SELF, MPI.COMM_NULL, MPI.SUM,
                MPI.ERRORS_RETURN, MPI.ERRORS_ARE_FATAL, MPI.ERRHANDLER_NULL):
        assert pickle.loads(pickle.dumps(obj)) is obj
    copy = MPI.Intracomm(MPI.COMM_WORLD)
    back = pickle.loads(pickle.dumps(copy))
    assert back == MPI.COMM_WORLD and type(back) is MPI.Intracomm
    e = MPI.Errhandler(MPI.ERRORS_RETURN)
    assert pickle.loads(pickle.dumps(e)) == MPI.ERRORS_RETURN


def test_repr_never_fails():
    for obj in _handles():
        assert isinstance(repr(obj), str)


@pytest.mark.mpich_big
def test_f2py_of_intercomm(comm, rank, size):
    if size < 2:
        pytest.skip("an intercommunicator needs 2 ranks")
    color = rank % 2
    local = comm.Split(color, rank)
    inter = local.Create_intercomm(0, comm, 1 - color, tag=77)
    try:
        back = MPI.Comm.f2py(inter.py2f())
        assert back == inter and isinstance(back, MPI.Intercomm)
        # as mpi4py: the class of the handle's kind, whichever asked
        assert isinstance(MPI.Intracomm.f2py(inter.py2f()), MPI.Intercomm)
        assert isinstance(MPI.Intercomm.f2py(local.py2f()), MPI.Intracomm)
    finally:
        inter.Free()
        local.Free()


# ---- the handle base: every handle class has the same helpers (mpi4py 4)

def _nulls():
    return [MPI.COMM_NULL, MPI.DATATYPE_NULL, MPI.OP_NULL, MPI.REQUEST_NULL,
            MPI.MESSAGE_NULL, MPI.ERRHANDLER_NULL, MPI.GROUP_NULL,
            MPI.INFO_NULL]


def _user_handles(comm):
    """An object of every handle class that owns a user handle (a pending
    request is left out: a second object made from its handle would be
    completed in the background when dropped, under its owner's feet)."""
    c = comm.Dup()
    t = MPI.INT.Create_contiguous(2).Commit()
    o = MPI.Op.Create(lambda a, b, d: None, commute=True)
    g = comm.Get_group()
    i = MPI.Info.Create()
    e = MPI.Comm.Create_errhandler(lambda c, e: None)
    return [c, t, o, g, i, e]


@pytest.mark.beyond_mpi4py
def test_every_handle_class_has_the_helpers():
    classes = (MPI.Comm, MPI.Intracomm, MPI.Intercomm, MPI.Cartcomm,
               MPI.Graphcomm, MPI.Distgraphcomm, MPI.Topocomm, MPI.Datatype,
               MPI.Op, MPI.Request, MPI.Prequest, MPI.Grequest, MPI.Message,
               MPI.Errhandler, MPI.Group, MPI.Info)
    for cls in classes:
        for name in ("handle", "py2f", "f2py", "fromhandle", "toint",
                     "fromint", "free", "__reduce__", "__eq__", "__ne__",
                     "__bool__"):
            assert hasattr(cls, name), (cls, name)
        assert cls.__hash__ is None, cls        # unhashable, as mpi4py
    assert not hasattr(MPI.Status, "fromhandle")    # not a handle


@pytest.mark.beyond_mpi4py
def test_fromhandle_toint_fromint_round_trips(comm):
    objs = _handles() + [MPI.MESSAGE_NO_PROC, MPI.INFO_ENV, MPI.DATATYPE_NULL,
                         MPI.OP_NULL] + _user_handles(comm)
    try:
        for obj in objs:
            cls = type(obj)
            for back in (cls.fromhandle(obj.handle),
                         cls.fromhandle(handle=obj.handle),
                         cls.fromint(obj.toint()), cls.f2py(obj.py2f())):
                assert back == obj and not (back != obj), obj
                assert back.handle == obj.handle, obj
                assert bool(back) == bool(obj), obj
                if not isinstance(obj, MPI.Comm):
                    assert type(back) is cls, (obj, type(back))
            assert isinstance(obj.toint(), int)
            if MPI.Get_version() < (5, 0):
                assert obj.toint() == obj.py2f()    # the Fortran handle
    finally:
        for obj in objs[len(_handles()) + 4:]:
            obj.Free()


@pytest.mark.beyond_mpi4py
def test_fromhandle_keeps_what_objects_know(comm):
    w = MPI.Comm.fromhandle(comm.handle)
    assert type(w) is MPI.Intracomm and w == comm
    assert w.allreduce(1) == comm.Get_size()
    assert type(MyComm.fromhandle(comm.handle)) is MyComm
    assert type(MPI.Comm.fromint(comm.toint())) is MPI.Intracomm
    assert MPI.Op.fromhandle(MPI.MAX.handle)(3, 5) == 5
    assert MPI.Op.fromint(MPI.SUM.toint())(3, 5) == 8
    dt = MPI.Datatype.fromhandle(MPI.DOUBLE.handle)
    assert dt.Get_size() == MPI.DOUBLE.Get_size()
    dt.free()                       # predefined: nothing happens
    assert dt == MPI.DOUBLE


@pytest.mark.beyond_mpi4py
def test_fromhandle_of_intercomm(comm, rank, size):
    if size < 2:
        pytest.skip("an intercommunicator needs 2 ranks")
    color = rank % 2
    local = comm.Split(color, rank)
    inter = local.Create_intercomm(0, comm, 1 - color, tag=78)
    try:
        back = MPI.Comm.fromhandle(inter.handle)
        assert isinstance(back, MPI.Intercomm) and back == inter
        assert back.Get_remote_size() == inter.Get_remote_size()
        assert isinstance(MPI.Intracomm.fromint(inter.toint()),
                          MPI.Intercomm)
    finally:
        inter.Free()
        local.Free()


@pytest.mark.beyond_mpi4py
def test_free_leaves_null_and_predefined_alone():
    for obj in _nulls() + _handles() + [
            MPI.INFO_ENV, MPI.ERRORS_ARE_FATAL, MPI.MESSAGE_NO_PROC,
            MPI.Comm(MPI.COMM_WORLD), MPI.Intracomm(MPI.COMM_SELF),
            MPI.Op(MPI.MAX), MPI.Datatype(MPI.INT),
            MPI.Errhandler(MPI.ERRORS_RETURN), MPI.Group(MPI.GROUP_EMPTY),
            MPI.Info(MPI.INFO_ENV), MPI.Datatype.f2py(MPI.INT.py2f()),
            MPI.Errhandler.fromhandle(MPI.ERRORS_RETURN.handle)]:
        before = obj.handle
        assert obj.free() is None
        assert obj.handle == before, obj
    assert MPI.COMM_WORLD.Get_size() >= 1
    assert MPI.INT.Get_size() == 4 and MPI.SUM(1, 2) == 3


@pytest.mark.beyond_mpi4py
def test_free_frees_user_handles(comm):
    objs = _user_handles(comm) + [
        comm.Recv_init([bytearray(1), MPI.BYTE], source=MPI.PROC_NULL)]
    for obj in objs:
        assert obj
        assert obj.free() is None
        assert not obj, obj                 # now the null handle
        obj.free()                          # null: nothing again
    req = comm.Isend([b"", 0, MPI.BYTE], dest=MPI.PROC_NULL)
    req.free()                              # completes in the background
    assert not req and req == MPI.REQUEST_NULL


@pytest.mark.beyond_mpi4py
def test_message_free_does_nothing(comm):
    m = MPI.Message.fromhandle(MPI.MESSAGE_NO_PROC.handle)
    m.free()
    assert m == MPI.MESSAGE_NO_PROC and m.recv() is None


def test_comparison_with_other_types():
    others = [5, "x", None, 1.5, object(), MPI.Status()]
    for obj in _nulls() + _handles():
        for other in others:
            assert not (obj == other) and obj != other, (obj, other)
            assert obj.__eq__(other) is NotImplemented
        with pytest.raises(TypeError):
            obj < obj
    # handles of different kinds never compare equal, even the same int
    assert MPI.COMM_NULL != MPI.GROUP_NULL and MPI.INT != MPI.SUM
    assert MPI.REQUEST_NULL != MPI.MESSAGE_NULL


def test_bool_of_null_handles():
    for obj in _nulls():
        assert not obj and bool(obj) is False, obj
        assert not type(obj)(), obj         # Class() is the null handle
    for obj in (MPI.COMM_WORLD, MPI.INT, MPI.SUM, MPI.ERRORS_RETURN,
                MPI.GROUP_EMPTY, MPI.INFO_ENV, MPI.MESSAGE_NO_PROC):
        assert obj and bool(obj) is True, obj


@pytest.mark.beyond_mpi4py
def test_helpers_bad_arguments():
    classes = (MPI.Comm, MPI.Datatype, MPI.Op, MPI.Request, MPI.Message,
               MPI.Errhandler, MPI.Group, MPI.Info)
    for cls in classes:
        with pytest.raises(TypeError, match="fromhandle.*'handle'"):
            cls.fromhandle("x")
        with pytest.raises(TypeError, match="fromhandle.*'handle'"):
            cls.fromhandle(1.5)
        with pytest.raises(TypeError):
            cls.fromhandle()
        with pytest.raises((ValueError, OverflowError)):
            cls.fromhandle(2**70)
        with pytest.raises((ValueError, OverflowError)):
            cls.fromhandle(-2**70)
        with pytest.raises(TypeError, match="fromint.*'arg'"):
            cls.fromint("x")
        for big in (2**31, -2**31 - 1, 2**40, 2**70):
            with pytest.raises((ValueError, OverflowError)):
                cls.fromint(big)
            with pytest.raises((ValueError, OverflowError)):
                cls.f2py(big)
        with pytest.raises(TypeError):
            cls.fromint(arg=0)              # positional only
        with pytest.raises(TypeError):
            MPI.COMM_WORLD.toint(1)


@pytest.mark.fastmpi_only       # mpi4py wraps whatever it is given
def test_fromhandle_zero_refused():
    # 0 is no MPICH handle, and Open MPI's NULL pointer: a handle that
    # would crash the library once used
    for cls in (MPI.Comm, MPI.Datatype, MPI.Op, MPI.Request, MPI.Message,
                MPI.Errhandler, MPI.Group, MPI.Info):
        with pytest.raises(MPI.Exception):
            cls.fromhandle(0)


@pytest.mark.beyond_mpi4py
def test_pickle_every_predefined_by_name():
    for obj in _nulls() + _handles() + [MPI.INFO_ENV, MPI.MESSAGE_NO_PROC]:
        if isinstance(obj, MPI.Datatype):
            continue                # by name too, through dtlib
        assert pickle.loads(pickle.dumps(obj)) is obj, obj
    g = MPI.Group(MPI.GROUP_EMPTY)
    back = pickle.loads(pickle.dumps(g))
    assert back == MPI.GROUP_EMPTY and back is not MPI.GROUP_EMPTY


@pytest.mark.beyond_mpi4py
def test_user_handles_refuse_pickling_with_a_reason(comm):
    objs = _user_handles(comm)
    try:
        for obj in objs:
            if isinstance(obj, MPI.Datatype):
                continue            # pickles by its construction
            with pytest.raises(TypeError, match="cannot pickle"):
                pickle.dumps(obj)
    finally:
        for obj in objs:
            obj.Free()


@pytest.mark.beyond_mpi4py
def test_repr_names_predefined_handles():
    for obj, name in ((MPI.COMM_WORLD, "COMM_WORLD"),
                      (MPI.Comm(MPI.COMM_SELF), "COMM_SELF"),
                      (MPI.GROUP_EMPTY, "GROUP_EMPTY"),
                      (MPI.INFO_NULL, "INFO_NULL"),
                      (MPI.REQUEST_NULL, "REQUEST_NULL"),
                      (MPI.MESSAGE_NO_PROC, "MESSAGE_NO_PROC"),
                      (MPI.ERRORS_RETURN, "ERRORS_RETURN"),
                      (MPI.SUM, "SUM"), (MPI.OP_NULL, "OP_NULL")):
        assert name in repr(obj), obj


# ---- _sizeof, _addressof, _handleof (for ctypes, cffi, numba-mpi) --------

def test_sizeof_addressof_handleof():
    import ctypes
    for obj in (MPI.COMM_WORLD, MPI.INT, MPI.SUM, MPI.GROUP_EMPTY,
                MPI.INFO_ENV, MPI.ERRORS_RETURN, MPI.REQUEST_NULL,
                MPI.MESSAGE_NULL):
        n = MPI._sizeof(obj)
        assert n == MPI._sizeof(type(obj)) and n in (4, 8)
        ctype = ctypes.c_int if n == 4 else ctypes.c_size_t
        value = ctype.from_address(MPI._addressof(obj)).value
        assert value == MPI._handleof(obj)
        if hasattr(obj, "handle"):          # mpi4py 4 and fastmpi
            assert value == obj.handle % (1 << (8 * n))
    st = MPI.Status()
    assert MPI._sizeof(st) == MPI._sizeof(MPI.Status) >= 3 * 4
    assert MPI._addressof(st) != 0
    with pytest.raises(NotImplementedError):
        MPI._handleof(st)


@pytest.mark.beyond_mpi4py
def test_sizeof_of_non_handles_refused():
    for fn in (MPI._sizeof, MPI._addressof, MPI._handleof):
        with pytest.raises(TypeError, match=fn.__name__):
            fn(5)
        with pytest.raises(TypeError):
            fn("COMM_WORLD")


# ---- docstrings --------------------------------------------------------------

_DESCRIPTORS = ("method_descriptor", "classmethod_descriptor",
                "getset_descriptor", "member_descriptor",
                "builtin_function_or_method", "function", "property",
                "staticmethod", "classmethod", "wrapper_descriptor")


def _undocumented(namespace, prefix, seen):
    """Every public class, function, method and attribute descriptor of
    namespace (a module or class, walked into its classes) without a
    docstring, as mpi4py's test_doc walks the module."""
    out = []
    for name, value in vars(namespace).items():
        if name.startswith("_"):
            continue
        where = f"{prefix}.{name}"
        if isinstance(value, type):
            if id(value) in seen or not value.__module__.startswith(
                    MPI.__name__.split(".")[0]):
                continue
            seen.add(id(value))
            if not (value.__doc__ or "").strip():
                out.append(where)
            out += _undocumented(value, where, seen)
        elif type(value).__name__ in _DESCRIPTORS:
            doc = getattr(value, "__doc__", None)
            if isinstance(value, (staticmethod, classmethod)):
                doc = value.__func__.__doc__
            if not (doc or "").strip():
                out.append(where)
    return out


def test_every_public_callable_has_a_docstring():
    assert (MPI.__doc__ or "").strip()
    missing = _undocumented(MPI, "MPI", set())
    assert missing == [], f"missing docstrings: {missing}"


def test_docstring_walk_finds_what_lacks_one():
    # the walk above reports undocumented methods and properties
    class Fake:
        def documented(self):
            "Has one."

        def bare(self):
            pass

        @property
        def prop(self):
            return 1

        def _private(self):
            pass
    assert _undocumented(Fake, "Fake", set()) == ["Fake.bare", "Fake.prop"]


def test_prefix_reductions_only_on_intracomm(comm):
    # as mpi4py: Scan and its kin are Intracomm methods, not Comm's, so an
    # Intercomm (or a plain Comm) has none of them
    for name in ("Scan", "Exscan", "scan", "exscan", "Iscan", "Iexscan"):
        assert hasattr(MPI.Intracomm, name), name
        assert name in vars(MPI.Intracomm), name
        assert not hasattr(MPI.Comm, name), name
        assert not hasattr(MPI.Intercomm, name), name
        assert not hasattr(MPI.Comm(comm), name), name
        assert getattr(MPI.Intracomm, name).__doc__
    assert hasattr(comm, "Scan") and hasattr(MPI.Cartcomm, "Scan")


def _weakref_targets(comm):
    return [MPI.COMM_NULL, MPI.GROUP_NULL, MPI.INFO_NULL, MPI.ERRHANDLER_NULL,
            MPI.OP_NULL, MPI.DATATYPE_NULL, MPI.REQUEST_NULL,
            MPI.MESSAGE_NULL, MPI.WIN_NULL, MPI.FILE_NULL, MPI.COMM_WORLD,
            MPI.INT, MPI.SUM, MPI.Status(), MPI.buffer(bytearray(4)),
            MPI.Pickle(), comm]


def test_every_object_takes_weak_references(comm):
    # as mpi4py: caches keyed weakly by a communicator or a datatype work
    import weakref
    for obj in _weakref_targets(comm):
        ref = weakref.ref(obj)
        assert ref() is obj, type(obj)
        proxy = weakref.proxy(obj)
        assert bool(proxy) == bool(obj) or isinstance(obj, MPI.Status)


def test_weak_reference_dies_with_its_object(comm):
    import gc
    import weakref
    dup = comm.Dup()
    ref = weakref.ref(dup)
    dup.Free()
    del dup
    gc.collect()
    assert ref() is None

    class Sub(MPI.Datatype):
        pass
    t = Sub(MPI.INT.Dup())
    calls = []
    ref = weakref.ref(t, calls.append)
    t.Free()
    del t
    gc.collect()
    assert ref() is None and len(calls) == 1
    table = weakref.WeakValueDictionary()
    table["status"] = MPI.Status()
    gc.collect()
    assert len(table) == 0


def test_weakref_of_non_referenceable_still_refused():
    import weakref
    with pytest.raises(TypeError):
        weakref.ref(1)
