"""The whole package behind the mpi4py alias (rc, MPI, run, typing, util,
get_include, get_config, profile), rc from the environment, and what stays
the real mpi4py without the alias.  Each case in a fresh interpreter."""
import os
import textwrap

import pytest

from conftest import IMPL, PYTHON, ROOT, run

pytestmark = pytest.mark.skipif(IMPL != "fastmpi",
                                reason="fastmpi's package and alias only")

REAL = "/usr/lib/python3/dist-packages/mpi4py"


def py(target, code, *pre, env=None, timeout=60):
    """python3 [pre...] -c code, with extra environment variables."""
    res = run([PYTHON, *pre, "-c", textwrap.dedent(code)],
              target.env(**(env or {})), timeout=timeout)
    assert not res.timed_out, res
    return res


def ok(res, marker="OK"):
    assert res.returncode == 0, res
    assert marker in res.out.split(), res


def test_alias_paths_are_fastmpis(target):
    ok(py(target, """
        import sys, fastmpi
        fastmpi.install_mpi4py_alias()
        assert "fastmpi.MPI" not in sys.modules, "install imported MPI"
        import mpi4py, mpi4py.rc, mpi4py.run, mpi4py.typing, mpi4py.util
        from mpi4py import rc
        import fastmpi.run, fastmpi.typing, fastmpi.util
        assert mpi4py is fastmpi and mpi4py.__name__ == "fastmpi"
        assert rc is fastmpi.rc and mpi4py.rc is fastmpi.rc
        assert sys.modules["mpi4py.rc"] is fastmpi.rc
        assert mpi4py.run is fastmpi.run and callable(mpi4py.run.main)
        assert mpi4py.typing is fastmpi.typing
        assert mpi4py.util is fastmpi.util
        assert mpi4py.__version__ == fastmpi.__version__
        assert mpi4py.__file__ == fastmpi.__file__
        assert mpi4py.__path__ == fastmpi.__path__
        for f in ("get_include", "get_config", "profile"):
            assert getattr(mpi4py, f) is getattr(fastmpi, f), f
        assert "fastmpi.MPI" not in sys.modules, "an import initialised MPI"
        import mpi4py.MPI
        import fastmpi.MPI as F
        from mpi4py import MPI
        assert MPI is F and mpi4py.MPI is F and sys.modules["mpi4py.MPI"] is F
        import mpi4py.util.dtlib
        from mpi4py.util import dtlib
        import fastmpi.util.dtlib as D
        assert dtlib is D and sys.modules["mpi4py.util.dtlib"] is D
        assert D.__name__ == "fastmpi.util.dtlib"
        assert D.__spec__.name == "fastmpi.util.dtlib"
        print("OK")
    """))


def test_alias_rc_before_mpi_import(target):
    # runtests.py's order: import mpi4py.rc, set options, import mpi4py.MPI
    ok(py(target, """
        import mpi4py.rc
        mpi4py.rc.thread_level = "funneled"
        mpi4py.rc(threads=True)
        import mpi4py.MPI
        from mpi4py import MPI
        assert MPI.Query_thread() == MPI.THREAD_FUNNELED, MPI.Query_thread()
        print("OK")
    """, "-m", "fastmpi", "--mpi4py"))


def test_alias_missing_module(target):
    ok(py(target, """
        import fastmpi
        fastmpi.install_mpi4py_alias()
        for name in ("mpi4py.nonexistent", "mpi4py.bench", "mpi4py.util.nope"):
            try:
                __import__(name)
            except ModuleNotFoundError as e:
                assert e.name == name, (e.name, name)
                assert "fastmpi" in str(e), e
            else:
                raise AssertionError(name + " imported")
        print("OK")
    """))


def test_alias_force_replaces_real(target):
    ok(py(target, """
        import sys, mpi4py, fastmpi
        real = mpi4py
        fastmpi.install_mpi4py_alias(force=True)
        import mpi4py
        assert mpi4py is fastmpi and real is not fastmpi
        import mpi4py.util
        assert mpi4py.util.__name__ == "fastmpi.util"
        assert "fastmpi.MPI" not in sys.modules
        print("OK")
    """))


def test_runner_m_mpi4py_run(target):
    # python3 -m mpi4py.run / -m mpi4py, under the alias: fastmpi's runner
    for mod in ("mpi4py.run", "mpi4py"):
        res = run([PYTHON, "-m", "fastmpi", "--mpi4py", "-m", mod, "-c",
                   "import sys, mpi4py; from mpi4py import MPI; "
                   "print('RAN', mpi4py.__name__, sys.argv[1:], "
                   "MPI.COMM_WORLD.Get_size())", "a"],
                  target.env(), timeout=60)
        assert res.returncode == 0, res
        assert "RAN fastmpi ['a'] 1" in res.out, res


def test_no_alias_util_is_real(target):
    ok(py(target, """
        import sys, fastmpi, fastmpi.rc, fastmpi.util
        import mpi4py.util
        assert mpi4py.util.__file__.startswith(%r), mpi4py.util.__file__
        assert mpi4py.rc is not fastmpi.rc
        assert sys.modules["mpi4py"].__file__.startswith(%r)
        print("OK")
    """ % (REAL, REAL)))


def test_rc_object(target):
    ok(py(target, """
        import fastmpi, fastmpi.rc
        from fastmpi import rc
        assert fastmpi.rc is rc
        rc(**rc.__dict__)                       # every option round-trips
        assert set(rc.__dict__) >= {"initialize", "threads", "thread_level",
            "finalize", "fast_reduce", "recv_mprobe", "irecv_bufsz",
            "errors", "recv_guard"}
        rc(fast_reduce=False, recv_mprobe=False, irecv_bufsz=1 << 20,
           errors="abort")
        assert (rc.fast_reduce, rc.recv_mprobe, rc.irecv_bufsz, rc.errors) \\
            == (False, False, 1 << 20, "abort")
        for bad, exc in [(dict(bogus=1), TypeError),
                         (dict(thread_level="many"), ValueError),
                         (dict(errors="ignore"), ValueError),
                         (dict(irecv_bufsz=-1), ValueError),
                         (dict(irecv_bufsz="big"), TypeError)]:
            try:
                rc(**bad)
            except exc:
                pass
            else:
                raise AssertionError(bad)
        try:
            rc.bogus = 1
        except AttributeError:
            pass
        else:
            raise AssertionError("rc.bogus set")
        print("OK")
    """))


def test_rc_from_environment(target):
    ok(py(target, """
        import fastmpi
        fastmpi.rc.thread_level = "multiple"    # the environment wins
        from fastmpi import MPI, rc
        assert MPI.Query_thread() == MPI.THREAD_SERIALIZED, MPI.Query_thread()
        assert rc.thread_level == "serialized"
        assert (rc.finalize, rc.fast_reduce, rc.recv_mprobe) == \\
            (None, False, True), rc
        assert (rc.irecv_bufsz, rc.errors) == (1024, "fatal"), rc
        print("OK")
    """, env=dict(FASTMPI_RC_THREAD_LEVEL="Serialized",
                  FASTMPI_RC_FINALIZE="none", FASTMPI_RC_FAST_REDUCE="off",
                  FASTMPI_RC_RECV_MPROBE="yes", FASTMPI_RC_IRECV_BUFSZ="1024",
                  FASTMPI_RC_ERRORS="fatal")))


@pytest.mark.parametrize("var,value,check", [
    ("FASTMPI_RC_THREADS", "0",
     "MPI.Query_thread() == MPI.THREAD_SINGLE"),
    ("FASTMPI_RC_INITIALIZE", "false",
     "not MPI.Is_initialized()"),
])
def test_rc_environment_effect(target, var, value, check):
    ok(py(target, f"""
        from fastmpi import MPI
        assert {check}
        print("OK")
    """, env={var: value}))


@pytest.mark.parametrize("var,value", [
    ("FASTMPI_RC_THREADS", "maybe"),
    ("FASTMPI_RC_IRECV_BUFSZ", "-3"),
    ("FASTMPI_RC_ERRORS", "ignore"),
])
def test_rc_environment_bad_value(target, var, value):
    ok(py(target, """
        import fastmpi                  # the package imports: MPI raises
        try:
            from fastmpi import MPI
        except ValueError as e:
            print("ValueError", e)
    """, env={var: value}), "ValueError")
    res = py(target, "from fastmpi import MPI", env={var: value})
    assert res.returncode != 0 and var in res.out, res


def test_mpi4py_rc_environment_under_alias(target):
    ok(py(target, """
        from mpi4py import MPI, rc
        assert MPI.Query_thread() == MPI.THREAD_FUNNELED, MPI.Query_thread()
        assert rc.irecv_bufsz == 77 and rc.errors == "default", rc
        print("OK")
    """, "-m", "fastmpi", "--mpi4py",
        env=dict(MPI4PY_RC_THREAD_LEVEL="funneled", MPI4PY_RC_IRECV_BUFSZ="77",
                 MPI4PY_RC_ERRORS="exception", FASTMPI_RC_ERRORS="default")))
    res = py(target, "from mpi4py import MPI", "-m", "fastmpi", "--mpi4py",
             env=dict(MPI4PY_RC_THREADS="maybe"))
    assert res.returncode != 0, res
    assert "ValueError" in res.out and "MPI4PY_RC_THREADS" in res.out, res
    # the runner reports it once (its handler does not fail on MPI again)
    assert "During handling" not in res.out, res


def test_mpi4py_rc_environment_ignored_without_alias(target):
    ok(py(target, """
        from fastmpi import MPI, rc
        assert MPI.Query_thread() == MPI.THREAD_MULTIPLE, MPI.Query_thread()
        assert rc.errors == "exception"
        print("OK")
    """, env=dict(MPI4PY_RC_THREADS="0", MPI4PY_RC_ERRORS="bogus")))


def test_typing_does_not_import_mpi(target):
    ok(py(target, """
        import sys, fastmpi.typing as t
        assert "fastmpi.MPI" not in sys.modules
        for name in ("SupportsBuffer", "SupportsDLPack", "SupportsCAI",
                     "Buffer", "Bottom", "InPlace", "Aint", "Count", "Displ",
                     "Offset", "TypeSpec", "BufSpec", "BufSpecB", "BufSpecV",
                     "BufSpecW", "TargetSpec", "S", "T", "U", "V"):
            assert hasattr(t, name), name
        print("OK")
    """))


def test_get_config(target):
    ok(py(target, """
        import os, fastmpi
        cfg = fastmpi.get_config()
        assert cfg["mpi"] == %r, cfg
        assert os.path.basename(cfg["mpicc"]) == "mpicc." + cfg["mpi"], cfg
        print("OK")
    """ % target.mpi))


def test_get_include_in_source_tree():
    # make stage copies only *.py: the source tree has the header
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.path.join(ROOT, "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    res = run([PYTHON, "-c", textwrap.dedent("""
        import os, sys, fastmpi
        inc = fastmpi.get_include()
        assert os.path.isfile(os.path.join(inc, "fastmpi", "fastmpi.h")), inc
        assert "fastmpi.MPI" not in sys.modules
        print("OK")
    """)], env, timeout=60)
    ok(res)


def test_get_include_path(target):
    ok(py(target, """
        import os, fastmpi
        inc = fastmpi.get_include()
        assert inc == os.path.join(os.path.dirname(fastmpi.__file__), "include")
        print("OK")
    """))


def test_profile(target):
    ok(py(target, """
        import fastmpi
        for name, kw in [("no_such_profiler_xyz", {}),
                         ("no_such_profiler_xyz", dict(path=["/nonexistent"])),
                         ("/nonexistent/libmpe.so", {})]:
            try:
                fastmpi.profile(name, **kw)
            except ValueError as e:
                assert "no_such" in str(e) or "nonexistent" in str(e), e
            else:
                raise AssertionError(name)
        fastmpi.profile("m")            # a library the system has: loads
        from fastmpi import MPI
        assert MPI.Is_initialized()
        print("OK")
    """))


STRIDED_SEND = """
    import numpy as np
    from {pkg} import MPI, rc
    col = np.arange(6.0).reshape(3, 2)[:, 0]
    out = np.zeros(3)
    try:
        MPI.COMM_SELF.Sendrecv(col, 0, 1, out, 0, 1)
        print("SENT", list(out) == [0.0, 2.0, 4.0], rc.strided)
    except BufferError as e:
        assert "sendbuf" in str(e) and "not contiguous" in str(e), e
        print("REFUSED", rc.strided)
"""


def test_rc_strided(target):
    # fastmpi sends a strided view in place; the mpi4py alias refuses it,
    # as mpi4py does, unless FASTMPI_RC_STRIDED says otherwise
    fast = STRIDED_SEND.format(pkg="fastmpi")
    alias = STRIDED_SEND.format(pkg="mpi4py")
    ok(py(target, fast), "SENT")
    assert "True True" in py(target, fast).out
    ok(py(target, fast, env=dict(FASTMPI_RC_STRIDED="0")), "REFUSED")
    ok(py(target, alias, "-m", "fastmpi", "--mpi4py"), "REFUSED")
    ok(py(target, alias, "-m", "fastmpi", "--mpi4py",
          env=dict(FASTMPI_RC_STRIDED="1")), "SENT")
    # MPI4PY_RC_ names only the options mpi4py has
    ok(py(target, alias, "-m", "fastmpi", "--mpi4py",
          env=dict(MPI4PY_RC_STRIDED="1")), "REFUSED")
    # set from Python before the import, under either name
    ok(py(target, "import fastmpi; fastmpi.rc.strided = False\n"
          + textwrap.dedent(fast)),
       "REFUSED")
    res = py(target, fast, env=dict(FASTMPI_RC_STRIDED="sometimes"))
    assert res.returncode != 0 and "FASTMPI_RC_STRIDED" in res.out, res
    # the alias installed after fastmpi.MPI was imported changes nothing,
    # and rc says so
    res = py(target, "from fastmpi import MPI\nimport fastmpi\n"
             "fastmpi.install_mpi4py_alias()\n" + textwrap.dedent(alias))
    ok(res, "SENT")
    assert "SENT True True" in res.out, res
