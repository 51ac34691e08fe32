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
