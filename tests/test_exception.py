"""MPI.Exception semantics (mpi4py 3.1)."""
import pytest

from _impl import MPI


def test_is_runtime_error():
    assert issubclass(MPI.Exception, RuntimeError)
    assert issubclass(MPI.Exception, Exception)


def test_construct_and_compare():
    e = MPI.Exception(MPI.ERR_RANK)
    assert e.Get_error_code() == MPI.ERR_RANK
    assert e.Get_error_class() == MPI.ERR_RANK
    assert e == MPI.ERR_RANK
    assert e != MPI.ERR_TAG
    assert int(e) == MPI.ERR_RANK


def test_error_string_in_str():
    e = MPI.Exception(MPI.ERR_TRUNCATE)
    s = e.Get_error_string()
    assert isinstance(s, str) and s
    assert s in str(e)


def test_error_string_matches_module_function():
    e = MPI.Exception(MPI.ERR_TRUNCATE)
    assert e.Get_error_string() == MPI.Get_error_string(MPI.ERR_TRUNCATE)


def test_raise_and_catch():
    with pytest.raises(MPI.Exception) as info:
        raise MPI.Exception(MPI.ERR_COMM)
    assert info.value.Get_error_class() == MPI.ERR_COMM
    with pytest.raises(RuntimeError):
        raise MPI.Exception(MPI.ERR_OTHER)


def test_raised_by_call_has_class():
    with pytest.raises(MPI.Exception) as info:
        MPI.COMM_WORLD.send(None, dest=MPI.COMM_WORLD.Get_size(), tag=0)
    e = info.value
    assert e.Get_error_class() == MPI.ERR_RANK
    # mpi4py compares (and int()s) the error *code*; with MPICH a raised
    # error's code is a rich code that differs from its class
    assert e == e.Get_error_code()
    assert int(e) == e.Get_error_code()
    assert e.Get_error_string() in str(e)
    assert str(e)


def test_hashable_like_int():
    e = MPI.Exception(MPI.ERR_TAG)
    assert hash(e) == hash(MPI.ERR_TAG)


def test_success_exception():
    e = MPI.Exception(MPI.SUCCESS)
    assert e.Get_error_class() == MPI.SUCCESS
    assert e == MPI.SUCCESS


# ---- error classes and codes of the program's own ------------------------

def test_add_error_class_code_string():
    eclass = MPI.Add_error_class()
    code = MPI.Add_error_code(eclass)
    assert eclass > MPI.ERR_LASTCODE or eclass <= MPI.COMM_WORLD.Get_attr(
        MPI.LASTUSEDCODE)
    MPI.Add_error_string(code, "the solver diverged")
    assert MPI.Get_error_class(code) == eclass
    assert MPI.Get_error_string(code) == "the solver diverged"
    e = MPI.Exception(code)
    assert e.Get_error_class() == eclass
    assert "the solver diverged" in str(e)


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("bad", ["x", 1.0, None])
def test_add_error_code_bad_class(bad):
    with pytest.raises(TypeError, match="errorclass"):
        MPI.Add_error_code(bad)


@pytest.mark.beyond_mpi4py
def test_add_error_string_bad_arguments():
    code = MPI.Add_error_code(MPI.Add_error_class())
    with pytest.raises(TypeError, match="string"):
        MPI.Add_error_string(code, 5)
    with pytest.raises(TypeError, match="errorcode"):
        MPI.Add_error_string("code", "text")
    with pytest.raises(ValueError, match="string"):
        MPI.Add_error_string(code, "x" * (MPI.MAX_ERROR_STRING + 10))
    with pytest.raises(MPI.Exception):
        MPI.Add_error_string(-5, "a code nobody added")


@pytest.mark.beyond_mpi4py
def test_remove_error_needs_mpi41():
    eclass = MPI.Add_error_class()
    code = MPI.Add_error_code(eclass)
    if MPI.Get_version() >= (4, 1):
        MPI.Remove_error_string(code)
        MPI.Remove_error_code(code)
        MPI.Remove_error_class(eclass)
    else:
        for fn, arg in ((MPI.Remove_error_string, code),
                        (MPI.Remove_error_code, code),
                        (MPI.Remove_error_class, eclass)):
            with pytest.raises(NotImplementedError, match="MPI-4.1"):
                fn(arg)
    with pytest.raises(TypeError, match="errorclass"):
        MPI.Remove_error_class("x")
