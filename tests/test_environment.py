"""Environment queries and constants (mpi4py 3.1 API)."""
import time

import pytest

from _impl import MPI, FLAVOR


def test_initialized_not_finalized():
    assert MPI.Is_initialized() is True
    assert MPI.Is_finalized() is False


def test_query_thread_default_multiple():
    assert MPI.Query_thread() == MPI.THREAD_MULTIPLE


def test_thread_levels_ordered():
    assert (MPI.THREAD_SINGLE < MPI.THREAD_FUNNELED
            < MPI.THREAD_SERIALIZED < MPI.THREAD_MULTIPLE)
    for lvl in (MPI.THREAD_SINGLE, MPI.THREAD_FUNNELED,
                MPI.THREAD_SERIALIZED, MPI.THREAD_MULTIPLE):
        assert isinstance(lvl, int)


def test_is_thread_main():
    assert MPI.Is_thread_main() is True


def test_is_thread_main_other_thread():
    import threading
    out = []
    t = threading.Thread(target=lambda: out.append(MPI.Is_thread_main()))
    t.start()
    t.join()
    assert out == [False]


def test_wtime_wtick():
    t0 = MPI.Wtime()
    assert isinstance(t0, float)
    time.sleep(0.02)
    t1 = MPI.Wtime()
    assert t1 - t0 >= 0.015
    assert t1 - t0 < 5.0
    tick = MPI.Wtick()
    assert isinstance(tick, float)
    assert 0.0 < tick < 1.0


def test_processor_name():
    name = MPI.Get_processor_name()
    assert isinstance(name, str)
    assert name
    assert "\0" not in name


def test_version():
    v = MPI.Get_version()
    assert isinstance(v, tuple)
    assert v == (MPI.VERSION, MPI.SUBVERSION)
    assert v >= (3, 0)
    if FLAVOR == "mpich":
        assert v == (4, 0)
    elif FLAVOR == "openmpi":
        assert v == (3, 1)


def test_library_version():
    s = MPI.Get_library_version()
    assert isinstance(s, str)
    assert s.strip()
    assert FLAVOR in ("mpich", "openmpi")


@pytest.mark.beyond_mpi4py
def test_library_version_no_nul():
    # mpi4py 3.1 leaks the C terminator into the string
    assert "\0" not in MPI.Get_library_version()


def test_special_ranks_and_tags():
    for name in ("ANY_SOURCE", "ANY_TAG", "PROC_NULL", "UNDEFINED", "TAG_UB",
                 "ROOT", "SUCCESS"):
        assert isinstance(getattr(MPI, name), int), name
    assert MPI.SUCCESS == 0
    assert MPI.ANY_SOURCE < 0
    assert MPI.ANY_TAG < 0
    assert MPI.PROC_NULL < 0
    assert len({MPI.ANY_SOURCE, MPI.PROC_NULL, MPI.ROOT}) == 3


def test_in_place_bottom():
    assert MPI.IN_PLACE is not None
    assert MPI.BOTTOM is not None
    assert MPI.IN_PLACE is not MPI.BOTTOM


def test_comparison_results():
    vals = [MPI.IDENT, MPI.CONGRUENT, MPI.SIMILAR, MPI.UNEQUAL]
    assert all(isinstance(v, int) for v in vals)
    assert len(set(vals)) == 4


ERR_NAMES = [
    "ERR_BUFFER", "ERR_COUNT", "ERR_TYPE", "ERR_TAG", "ERR_COMM", "ERR_RANK",
    "ERR_REQUEST", "ERR_ROOT", "ERR_GROUP", "ERR_OP", "ERR_TOPOLOGY",
    "ERR_DIMS", "ERR_ARG", "ERR_UNKNOWN", "ERR_TRUNCATE", "ERR_OTHER",
    "ERR_INTERN", "ERR_IN_STATUS", "ERR_PENDING",
]


def test_error_classes():
    values = []
    for name in ERR_NAMES:
        v = getattr(MPI, name)
        assert isinstance(v, int), name
        assert 0 < v <= MPI.ERR_LASTCODE, name
        values.append(v)
    assert len(set(values)) == len(values)


@pytest.mark.parametrize("name", ERR_NAMES)
def test_error_strings(name):
    code = getattr(MPI, name)
    s = MPI.Get_error_string(code)
    assert isinstance(s, str) and s
    assert MPI.Get_error_class(code) == code


def test_error_string_success():
    s = MPI.Get_error_string(MPI.SUCCESS)
    assert isinstance(s, str) and s
    assert MPI.Get_error_class(MPI.SUCCESS) == MPI.SUCCESS


def test_tag_ub_attribute():
    if not hasattr(MPI.Comm, "Get_attr"):
        pytest.skip("Comm.Get_attr not provided yet (optional in this scope)")
    ub = MPI.COMM_WORLD.Get_attr(MPI.TAG_UB)
    assert isinstance(ub, int)
    assert ub >= 32767


def test_thread_level_constants_vs_query():
    lvl = MPI.Query_thread()
    assert lvl in (MPI.THREAD_SINGLE, MPI.THREAD_FUNNELED,
                   MPI.THREAD_SERIALIZED, MPI.THREAD_MULTIPLE)


# ---- get_vendor, Pcontrol and the MPI-4.1/5 queries ----------------------

def test_get_vendor_names_the_library():
    name, version = MPI.get_vendor()
    assert name == {"mpich": "MPICH", "openmpi": "Open MPI"}[FLAVOR]
    assert len(version) == 3 and all(isinstance(v, int) for v in version)
    assert ".".join(map(str, version)) in MPI.Get_library_version()


def test_pcontrol_levels():
    for level in (0, 1, 2, 1):
        assert MPI.Pcontrol(level) is None


@pytest.mark.beyond_mpi4py
@pytest.mark.parametrize("bad", ["1", 1.5, None, 2**40])
def test_pcontrol_bad_level(bad):
    with pytest.raises((TypeError, OverflowError), match="level"):
        MPI.Pcontrol(bad)


@pytest.mark.beyond_mpi4py
def test_newer_queries_say_what_they_need():
    # MPI-4.1 (hardware info) and MPI-5 (the standard ABI): neither Debian
    # library has them, and the error names the call and the version
    for fn, need in ((MPI.Get_hw_resource_info, "MPI-4.1"),
                     (MPI.Get_abi_version, "MPI-5.0"),
                     (MPI.Get_abi_info, "MPI-5.0"),
                     (MPI.Get_abi_fortran_info, "MPI-5.0")):
        with pytest.raises(NotImplementedError, match=need):
            fn()


def test_constants_of_all_areas_are_ints():
    names = ["LOCK_EXCLUSIVE", "LOCK_SHARED", "MODE_NOCHECK", "MODE_NOSTORE",
             "MODE_NOPUT", "MODE_NOPRECEDE", "MODE_NOSUCCEED", "MODE_RDONLY",
             "MODE_RDWR", "MODE_WRONLY", "MODE_CREATE", "MODE_EXCL",
             "MODE_DELETE_ON_CLOSE", "MODE_UNIQUE_OPEN", "MODE_SEQUENTIAL",
             "MODE_APPEND", "SEEK_SET", "SEEK_CUR", "SEEK_END",
             "DISPLACEMENT_CURRENT", "MAX_DATAREP_STRING"]
    values = [getattr(MPI, n) for n in names]
    assert all(isinstance(v, int) for v in values)
    assert len({MPI.SEEK_SET, MPI.SEEK_CUR, MPI.SEEK_END}) == 3
    assert len({MPI.MODE_RDONLY, MPI.MODE_RDWR, MPI.MODE_WRONLY}) == 3
    assert MPI.LOCK_EXCLUSIVE != MPI.LOCK_SHARED


@pytest.mark.beyond_mpi4py
def test_mpi4_constants_and_fortran_status_indexes():
    assert MPI.DISP_CUR == MPI.DISPLACEMENT_CURRENT
    assert MPI.MAX_PSET_NAME_LEN > 0 and MPI.MAX_STRINGTAG_LEN > 0
    # the Fortran status: size and the indexes of source, tag and error
    st = MPI.Status()
    st.Set_source(3)
    st.Set_tag(7)
    f = st.py2f() if hasattr(st, "py2f") else None
    assert MPI.F_STATUS_SIZE >= 3
    assert len({MPI.F_SOURCE, MPI.F_TAG, MPI.F_ERROR}) == 3
    if f is not None:
        assert f[MPI.F_SOURCE] == 3 and f[MPI.F_TAG] == 7
    for name in ("ERR_PROC_FAILED", "ERR_PROC_FAILED_PENDING", "ERR_REVOKED",
                 "ERR_ERRHANDLER", "ERR_ABI", "ERR_SESSION",
                 "ERR_VALUE_TOO_LARGE", "ERR_PROC_ABORTED"):
        assert MPI.SUCCESS < getattr(MPI, name) <= MPI.ERR_LASTCODE, name
