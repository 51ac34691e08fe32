"""MPI.Info: the MPI calls, the mapping protocol, INFO_NULL / INFO_ENV,
bad arguments, and no leaks.  Info objects are local: every rank runs
these on its own."""
import gc
import os
import pickle
import sys

import pytest

from _impl import MPI
from _impl import UNDER_ASAN, rss_kb as _rss_kb




@pytest.fixture
def info():
    i = MPI.Info.Create()
    yield i
    if i:
        i.Free()


def test_set_get_delete(info):
    assert info.Get_nkeys() == 0
    assert info.Get("a") is None
    info.Set("a", "1")
    info.Set("b", "two")
    assert info.Get("a") == "1"
    assert info.Get("b") == "two"
    assert info.Get("b", 2) == "tw"         # maxlen
    assert info.Get_nkeys() == 2
    assert sorted(info.Get_nthkey(i) for i in range(2)) == ["a", "b"]
    info.Set("a", "replaced")
    assert info.Get("a") == "replaced"
    assert info.Get_nkeys() == 2
    info.Delete("a")
    assert info.Get("a") is None
    assert info.Get_nkeys() == 1


def test_delete_missing_raises(info):
    with pytest.raises(MPI.Exception) as e:
        info.Delete("missing")
    assert e.value.Get_error_class() == MPI.ERR_INFO_NOKEY


def test_mapping(info):
    info["x"] = "1"
    info["y"] = "2"
    assert info["x"] == "1"
    assert len(info) == 2
    assert "x" in info and "z" not in info
    assert sorted(info) == ["x", "y"]
    assert sorted(info.keys()) == ["x", "y"]
    assert sorted(info.values()) == ["1", "2"]
    assert sorted(info.items()) == [("x", "1"), ("y", "2")]
    assert info.get("x") == "1"
    assert info.get("z") is None
    assert info.get("z", "d") == "d"
    with pytest.raises(KeyError):
        info["z"]
    del info["x"]
    assert "x" not in info
    with pytest.raises(KeyError):
        del info["x"]
    info.update({"a": "A"}, b="B")
    info.update([("c", "C")])
    assert dict(info.items()) == {"y": "2", "a": "A", "b": "B", "c": "C"}
    assert info.pop("a") == "A"
    assert info.pop("a", "gone") == "gone"
    with pytest.raises(KeyError):
        info.pop("a")
    k, v = info.popitem()
    assert info.get(k) is None and v in ("2", "B", "C")
    c = info.copy()
    try:
        assert isinstance(c, MPI.Info) and c != info
        assert sorted(c.items()) == sorted(info.items())
    finally:
        c.Free()
    info.clear()
    assert len(info) == 0
    with pytest.raises(KeyError):
        info.popitem()


def test_dup(info):
    info.Set("k", "v")
    d = info.Dup()
    try:
        assert d != info
        assert d.Get("k") == "v"
        d.Set("k", "w")
        assert info.Get("k") == "v"
    finally:
        d.Free()


@pytest.mark.beyond_mpi4py
def test_create_with_items():
    # mpi4py 4: Info.Create(items) takes a mapping or (key, value) pairs
    a = MPI.Info.Create({"a": "1", "b": "2"})
    b = MPI.Info.Create([("a", "1")])
    c = MPI.Info.Create(items=None)
    try:
        assert sorted(a.items()) == [("a", "1"), ("b", "2")]
        assert b.items() == [("a", "1")]
        assert len(c) == 0
    finally:
        for x in (a, b, c):
            x.Free()
    with pytest.raises(TypeError):
        MPI.Info.Create(5)
    with pytest.raises(TypeError):
        MPI.Info.Create([("a", 1)])
    with pytest.raises(TypeError):
        MPI.Info.Create([("a", "1", "2")])


def test_info_null():
    n = MPI.INFO_NULL
    assert isinstance(n, MPI.Info)
    assert not n
    assert len(n) == 0
    assert "a" not in n
    assert list(n) == []
    assert n.keys() == [] and n.values() == [] and n.items() == []
    assert n.get("a") is None
    with pytest.raises(KeyError):
        n["a"]
    # the mapping protocol raises KeyError on INFO_NULL, as mpi4py's does
    def setitem():
        n["k"] = "v"

    def delitem():
        del n["k"]
    for call in (setitem, delitem, lambda: n.update([]),
                 lambda: n.update({"k": "v"}), lambda: n.pop("k"),
                 n.popitem):
        with pytest.raises(KeyError):
            call()
    assert n.pop("k", None) is None and n.copy() == n
    n.clear()
    for call in (lambda: n.Get("a"), lambda: n.Set("a", "b"),
                 lambda: n.Delete("a"), n.Get_nkeys, n.Free, n.Dup):
        with pytest.raises(MPI.Exception) as e:
            call()
        assert e.value.Get_error_class() == MPI.ERR_INFO


def test_info_env():
    env = MPI.INFO_ENV
    assert isinstance(env, MPI.Info)
    assert env
    assert env != MPI.INFO_NULL
    assert isinstance(env.items(), list)
    for k, v in env.items():
        assert isinstance(k, str) and isinstance(v, str)
    d = env.Dup()
    assert sorted(d.items()) == sorted(env.items())
    d.Free()


@pytest.mark.fastmpi_only  # mpi4py would hand it to MPI_Info_free
def test_info_env_cannot_be_freed():
    for i in (MPI.INFO_ENV, MPI.Info(MPI.INFO_ENV)):
        with pytest.raises(MPI.Exception) as e:
            i.Free()
        assert e.value.Get_error_class() == MPI.ERR_INFO
    assert MPI.INFO_ENV


def test_use_after_free():
    i = MPI.Info.Create()
    i.Set("a", "b")
    i.Free()
    assert i == MPI.INFO_NULL
    assert len(i) == 0
    for call in (lambda: i.Get("a"), i.Free, lambda: i.Set("a", "b")):
        with pytest.raises(MPI.Exception) as e:
            call()
        assert e.value.Get_error_class() == MPI.ERR_INFO


def test_type_errors(info):
    with pytest.raises(TypeError):
        info.Set(1, "b")
    with pytest.raises(TypeError):
        info.Set("a", 1)
    with pytest.raises(TypeError):
        info.Get(None)
    with pytest.raises(TypeError):
        info[1] = "x"


@pytest.mark.beyond_mpi4py  # mpi4py 3.1 takes bytes keys too
def test_bytes_key_type_error(info):
    with pytest.raises(TypeError) as e:
        info.Delete(b"a")
    assert "'key'" in str(e.value)


@pytest.mark.beyond_mpi4py
def test_length_limits(info):
    maxkey = MPI.MAX_INFO_KEY - 1
    maxval = MPI.MAX_INFO_VAL - 1
    info.Set("k" * maxkey, "v" * maxval)
    assert info.Get("k" * maxkey) == "v" * maxval
    assert info.Get_nthkey(0) == "k" * maxkey
    with pytest.raises(ValueError) as e:
        info.Set("k" * (maxkey + 1), "v")
    assert "'key'" in str(e.value)
    with pytest.raises(ValueError) as e:
        info.Set("k", "v" * (maxval + 1))
    assert "'value'" in str(e.value)
    with pytest.raises(ValueError):
        info.Get("k" * 5000)
    with pytest.raises(ValueError, match="NUL"):
        info.Set("a\0b", "v")
    # an index out of range is MPI's ERR_ARG, as mpi4py (which asks MPI)
    with pytest.raises(MPI.Exception) as e:
        info.Get_nthkey(1)
    assert "'n'" in str(e.value) and "1 keys" in str(e.value)
    assert e.value.Get_error_class() == MPI.ERR_ARG
    with pytest.raises(MPI.Exception, match="'n' is -1"):
        info.Get_nthkey(-1)
    with pytest.raises(TypeError):
        info.Get_nthkey("0")


def test_object_basics(info):
    assert MPI.Info(info) == info
    assert MPI.Info() == MPI.INFO_NULL
    with pytest.raises(TypeError):
        pickle.dumps(info)
    with pytest.raises(TypeError):
        hash(info)
    f = info.py2f()
    assert isinstance(f, int)
    assert MPI.Info.f2py(f) == info


@pytest.mark.beyond_mpi4py
def test_handle(info):
    assert isinstance(info.handle, int)
    assert MPI.Info(info).handle == info.handle
    assert "INFO_NULL" in repr(MPI.INFO_NULL)


def _info_loop(n):
    for _ in range(n):
        i = MPI.Info.Create()
        i.Set("alpha", "1")
        i["beta"] = "2"
        i.Get("alpha")
        i.items()
        "beta" in i
        d = i.Dup()
        d.pop("alpha")
        d.Free()
        i.Free()
        try:
            i.Free()
        except MPI.Exception:
            pass
        try:
            MPI.INFO_NULL["x"]
        except KeyError:
            pass


def test_no_leak_infos():
    _info_loop(500)
    gc.collect()
    blocks0 = sys.getallocatedblocks()
    rss0 = _rss_kb()
    _info_loop(10_000)
    gc.collect()
    grew = sys.getallocatedblocks() - blocks0
    rss1 = _rss_kb()
    assert grew < 200, f"{grew} Python blocks leaked over 10000 rounds"
    if not UNDER_ASAN:
        assert rss1 - rss0 < 8 * 1024, f"RSS grew by {rss1 - rss0} KiB"
