"""python3 -m fastmpi script.py: an uncaught exception on one rank ends the
whole job (instead of leaving the others waiting) and prints the traceback."""
import textwrap

from conftest import PYTHON, run

RAISE_ON_1 = """
from {pkg} import MPI
comm = MPI.COMM_WORLD
if comm.Get_rank() == 1:
    raise ValueError("boom on rank 1")
else:
    comm.recv(source=1, tag=77)   # never satisfied
    print("rank 0 must not get here")
"""

EXIT_ON_1 = """
import sys
from {pkg} import MPI
comm = MPI.COMM_WORLD
if comm.Get_rank() == 1:
    sys.exit(3)
comm.recv(source=1, tag=78)
"""

CLEAN = """
from {pkg} import MPI
comm = MPI.COMM_WORLD
x = comm.sendrecv(comm.Get_rank(), dest=(comm.Get_rank() + 1) % comm.Get_size(),
                  source=(comm.Get_rank() - 1) % comm.Get_size())
print("rank", comm.Get_rank(), "got", x)
"""


def write(tmp_path, name, src, target):
    p = tmp_path / name
    p.write_text(textwrap.dedent(src.format(pkg=target.pkg)))
    return str(p)


def test_exception_aborts_job(target, tmp_path):
    script = write(tmp_path, "raise1.py", RAISE_ON_1, target)
    res = run(target.mpiexec(2) + [PYTHON, "-m", target.pkg, script],
              target.env(), timeout=90)
    assert not res.timed_out, res
    assert res.returncode != 0, res
    assert "Traceback" in res.out, res
    assert "ValueError: boom on rank 1" in res.out, res
    assert "rank 0 must not get here" not in res.out


def test_sys_exit_nonzero_aborts_job(target, tmp_path):
    script = write(tmp_path, "exit1.py", EXIT_ON_1, target)
    res = run(target.mpiexec(2) + [PYTHON, "-m", target.pkg, script],
              target.env(), timeout=90)
    assert not res.timed_out, res
    assert res.returncode != 0, res


def test_clean_run_exits_zero(target, tmp_path):
    script = write(tmp_path, "clean.py", CLEAN, target)
    res = run(target.mpiexec(2) + [PYTHON, "-m", target.pkg, script],
              target.env(), timeout=90)
    assert not res.timed_out, res
    assert res.returncode == 0, res
    assert "rank 0 got 1" in res.out and "rank 1 got 0" in res.out, res


def test_runner_c_and_argv(target, tmp_path):
    res = run([PYTHON, "-m", target.pkg, "-c",
               "import sys; from %s import MPI; "
               "print('argv', sys.argv[1:], MPI.COMM_WORLD.Get_size())"
               % target.pkg, "a", "b"],
              target.env(), timeout=60)
    assert res.returncode == 0, res
    assert "argv ['a', 'b'] 1" in res.out, res


def test_runner_usage(target):
    res = run([PYTHON, "-m", target.pkg], target.env(), timeout=60)
    assert res.returncode != 0, res
    assert "usage" in res.out.lower(), res
