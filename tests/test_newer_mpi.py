"""Calls of newer MPI versions than a library has: MPI-4 (Idup_with_info,
Info.Create_env), MPI-4.1 (per-communicator buffers, Flush_buffer,
Request.Get_status_*, Datatype.Get_value_index) and the fault-tolerance
calls (Revoke, Shrink, Agree, ...).  Where the library has the call it
works; where it does not, it raises NotImplementedError naming the call
and the version it needs, after checking its arguments: never a missing
attribute.  Fortran 90 kinds (Create_f90_*) too."""
import pytest

from _impl import MPI

pytestmark = pytest.mark.beyond_mpi4py

VERSION = MPI.Get_version()


def _needs(call, version, *args):
    """Call it; below `version` expect NotImplementedError naming it."""
    if VERSION >= version:
        return call(*args)
    with pytest.raises(NotImplementedError, match=r"MPI-%d\.%d" % version):
        call(*args)
    return None


def test_idup_with_info(comm):
    result = _needs(comm.Idup_with_info, (4, 0), MPI.Info.Create())
    if result is not None:
        dup, req = result
        req.Wait()
        assert dup.Get_size() == comm.Get_size() and dup != comm
        dup.Free()


def test_idup_with_info_bad_info(comm):
    with pytest.raises(TypeError, match="info"):
        comm.Idup_with_info(None)
    with pytest.raises(TypeError):
        comm.Idup_with_info(5)


def test_info_create_env():
    info = _needs(MPI.Info.Create_env, (4, 0), ["prog", "arg"])
    if info is not None:
        assert isinstance(info, MPI.Info)
        info.Free()
    with pytest.raises(TypeError, match="args"):
        MPI.Info.Create_env(["ok", 3])
    with pytest.raises(TypeError, match="args"):
        MPI.Info.Create_env(5)


def test_per_communicator_buffers(comm):
    for call, args in ((comm.Attach_buffer, (bytearray(1 << 16),)),
                       (comm.Detach_buffer, ()), (comm.Flush_buffer, ()),
                       (comm.Iflush_buffer, ()), (MPI.Flush_buffer, ()),
                       (MPI.Iflush_buffer, ())):
        if VERSION < (4, 1):
            _needs(call, (4, 1), *args)
    with pytest.raises(TypeError, match="buf"):
        comm.Attach_buffer(3.5)
    with pytest.raises(MPI.Exception):
        MPI.COMM_NULL.Flush_buffer()


def test_request_get_status(comm):
    req = comm.Isend(bytearray(4), MPI.PROC_NULL)
    for call in (MPI.Request.Get_status_any, MPI.Request.Get_status_all,
                 MPI.Request.Get_status_some, MPI.Request.get_status_any,
                 MPI.Request.get_status_all, MPI.Request.get_status_some):
        if VERSION < (4, 1):
            _needs(call, (4, 1), [req])
        with pytest.raises(TypeError, match="requests"):
            call(5)
    req.Wait()


def test_get_value_index():
    if VERSION < (4, 1):
        _needs(MPI.Datatype.Get_value_index, (4, 1), MPI.DOUBLE, MPI.INT)
    with pytest.raises(TypeError):
        MPI.Datatype.Get_value_index("d", MPI.INT)
    with pytest.raises(MPI.Exception, match="'value'.*DATATYPE_NULL") as e:
        MPI.Datatype.Get_value_index(MPI.DATATYPE_NULL, MPI.INT)
    assert e.value.Get_error_class() == MPI.ERR_TYPE


def test_fault_tolerance_calls(comm):
    for call, args in ((comm.Revoke, ()), (comm.Is_revoked, ()),
                       (comm.Get_failed, ()), (comm.Ack_failed, ()),
                       (comm.Agree, (1,)), (comm.Shrink, ()),
                       (comm.Ishrink, ())):
        with pytest.raises(NotImplementedError, match=call.__name__):
            call(*args)
    with pytest.raises(TypeError, match="flag"):
        comm.Agree("yes")
    with pytest.raises(TypeError, match="flag"):
        comm.Iagree(1)
    with pytest.raises(MPI.Exception):
        MPI.COMM_NULL.Revoke()


def test_f90_kinds():
    # MPICH and Open MPI both know these kinds; the type comes back
    # predefined but not named (its combiner is F90_*), cannot be freed,
    # pickles, and carries data
    import pickle
    import numpy as np
    cases = ((MPI.Datatype.Create_f90_integer(9), 4, "i4",
              MPI.COMBINER_F90_INTEGER),
             (MPI.Datatype.Create_f90_real(6, MPI.UNDEFINED), 4, "f4",
              MPI.COMBINER_F90_REAL),
             (MPI.Datatype.Create_f90_complex(15, MPI.UNDEFINED), 16, "c16",
              MPI.COMBINER_F90_COMPLEX))
    for dt, size, code, combiner in cases:
        assert dt != MPI.DATATYPE_NULL
        assert dt.Get_size() == size and dt.combiner == combiner
        assert dt.is_predefined and not dt.is_named
        assert dt.Get_envelope()[3] == combiner
        assert pickle.loads(pickle.dumps(dt)) == dt
        with pytest.raises(MPI.Exception):
            dt.Free()
        comm = MPI.COMM_SELF
        a = np.arange(3).astype(code)
        b = np.zeros_like(a)
        comm.Sendrecv([a, dt], 0, 7, [b, dt], 0, 7)
        assert (a == b).all()
    st = MPI.Datatype.Create_struct([1], [0], [cases[0][0]])
    base, name, params = st.decode()
    assert params["datatypes"][0] == cases[0][0]
    st.Free()       # decoding did not free the F90 type it holds
    assert cases[0][0].Get_size() == 4
    # keywords, as the parameter names
    assert MPI.Datatype.Create_f90_integer(r=9) == cases[0][0]
    assert MPI.Datatype.Create_f90_real(p=6, r=MPI.UNDEFINED) == cases[1][0]
    with pytest.raises(TypeError, match="'r'"):
        MPI.Datatype.Create_f90_integer("9")
    with pytest.raises(TypeError):
        MPI.Datatype.Create_f90_integer(range=9)
    with pytest.raises(TypeError):
        MPI.Datatype.Create_f90_integer()
    with pytest.raises(TypeError, match="'p'"):
        MPI.Datatype.Create_f90_real(None, 3)
    with pytest.raises(TypeError):
        MPI.Datatype.Create_f90_complex(1)
