"""Singleton start (no mpiexec) and the rc options, each in a fresh
interpreter with rc set before the first import of MPI."""
import pytest

from conftest import py


def test_singleton_size(target):
    res = py(target, """
        from PKG import MPI
        print(MPI.COMM_WORLD.Get_size())
    """)
    assert res.returncode == 0, res
    assert res.out.strip().splitlines()[-1] == "1", res


def test_default_thread_multiple(target):
    res = py(target, """
        from PKG import MPI
        assert MPI.Is_initialized()
        assert MPI.Query_thread() == MPI.THREAD_MULTIPLE, MPI.Query_thread()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_initialize_false(target):
    res = py(target, """
        import PKG
        PKG.rc.initialize = False
        from PKG import MPI
        assert MPI.Is_initialized() is False
        assert MPI.Is_finalized() is False
        MPI.Init()
        assert MPI.Is_initialized() is True
        assert MPI.COMM_WORLD.Get_size() == 1
        MPI.Finalize()
        assert MPI.Is_finalized() is True
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_initialize_false_init_thread(target):
    res = py(target, """
        import PKG
        PKG.rc(initialize=False)
        from PKG import MPI
        assert not MPI.Is_initialized()
        provided = MPI.Init_thread(MPI.THREAD_FUNNELED)
        assert provided == MPI.Query_thread()
        assert provided >= MPI.THREAD_FUNNELED, provided
        MPI.Finalize()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


@pytest.mark.parametrize("level,const", [
    ("serialized", "THREAD_SERIALIZED"),
    ("funneled", "THREAD_FUNNELED"),
    ("single", "THREAD_SINGLE"),
    ("multiple", "THREAD_MULTIPLE"),
])
def test_rc_thread_level(target, level, const):
    res = py(target, f"""
        import PKG
        PKG.rc.thread_level = {level!r}
        from PKG import MPI
        assert MPI.Query_thread() == MPI.{const}, MPI.Query_thread()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_threads_false(target):
    res = py(target, """
        import PKG
        PKG.rc.threads = False
        from PKG import MPI
        assert MPI.Is_initialized()
        assert MPI.Query_thread() == MPI.THREAD_SINGLE, MPI.Query_thread()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_finalize_false(target):
    res = py(target, """
        import PKG
        PKG.rc.finalize = False
        from PKG import MPI
        assert MPI.Is_initialized()
        MPI.Finalize()   # the user finalizes by hand; no double finalize
        assert MPI.Is_finalized()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_finalize_true_after_manual_init(target):
    res = py(target, """
        import PKG
        PKG.rc(initialize=False, finalize=True)
        from PKG import MPI
        MPI.Init()
        print("OK")
    """)
    assert res.returncode == 0 and "OK" in res.out, res


def test_rc_bad_option(target):
    res = py(target, """
        import PKG
        try:
            PKG.rc(bogus=1)
        except TypeError as e:
            print("TypeError", e)
    """)
    assert res.returncode == 0 and "TypeError" in res.out, res

