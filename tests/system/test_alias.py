"""The mpi4py alias is opt-in and never shadows a real mpi4py."""
import pytest

from conftest import IMPL, PYTHON, run

pytestmark = pytest.mark.skipif(IMPL != "fastmpi",
                                reason="fastmpi's alias only")


def py(target, code, *pre):
    return run([PYTHON, *pre, "-c", code], target.env(), timeout=60)


def test_no_shadow_without_flag(target):
    res = py(target, "import fastmpi, mpi4py, os; "
                     "print('MOD', mpi4py is fastmpi, mpi4py.__file__)")
    assert res.returncode == 0, res
    assert "MOD False " in res.out, res
    assert "/usr/lib/python3/dist-packages/mpi4py" in res.out, res


def test_install_after_real_import_raises(target):
    res = py(target, "import mpi4py, fastmpi\n"
                     "try:\n"
                     "    fastmpi.install_mpi4py_alias()\n"
                     "except RuntimeError as e:\n"
                     "    print('RuntimeError', e)\n"
                     "import sys; print('still real', sys.modules['mpi4py'] is mpi4py)")
    assert res.returncode == 0, res
    assert "RuntimeError" in res.out and "still real True" in res.out, res


def test_install_alias_explicit(target):
    res = py(target, "import fastmpi; fastmpi.install_mpi4py_alias()\n"
                     "import mpi4py; from mpi4py import MPI\n"
                     "import fastmpi.MPI as F\n"
                     "print('ALIAS', mpi4py is fastmpi, MPI is F, "
                     "MPI.COMM_WORLD.Get_size())")
    assert res.returncode == 0, res
    assert "ALIAS True True 1" in res.out, res


def test_runner_flag_aliases(target):
    res = run([PYTHON, "-m", "fastmpi", "--mpi4py", "-c",
               "from mpi4py import MPI; import fastmpi.MPI as F; "
               "print('FLAG', MPI is F)"], target.env(), timeout=60)
    assert res.returncode == 0, res
    assert "FLAG True" in res.out, res


def test_runner_without_flag_does_not_alias(target):
    res = run([PYTHON, "-m", "fastmpi", "-c",
               "import sys, fastmpi; import mpi4py; "
               "print('NOFLAG', mpi4py is fastmpi)"], target.env(), timeout=60)
    assert res.returncode == 0, res
    assert "NOFLAG False" in res.out, res
