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
