"""System tests: plain pytest (not under mpiexec) that start MPI jobs.

The module under test is FASTMPI_TEST_IMPL (fastmpi by default, or Debian's
mpi4py for validating the suite); FASTMPI_TEST_MPIS lists the MPI libraries
(default: mpich,openmpi; mpi4py only exists for Open MPI here).
Child processes never inherit OMPI_*/PMI_*/PMIX_*/HYDRA_* variables.
"""
import os
import signal
import subprocess
import textwrap
import time

import pytest

PYTHON = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMPL = os.environ.get("FASTMPI_TEST_IMPL", "fastmpi")
SCRUB_PREFIXES = ("OMPI_", "PMI_", "PMIX_", "HYDRA_", "HYDI_", "MPIR_",
                  "OPAL_", "ORTE_", "PRTE_", "MPIEXEC_", "I_MPI_")
LAUNCHERS = {
    "openmpi": ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-n"],
    "mpich": ["mpiexec.mpich", "-n"],
}


def _mpis():
    default = "openmpi" if IMPL == "mpi4py" else "mpich,openmpi"
    names = os.environ.get("FASTMPI_TEST_MPIS", default).split(",")
    return [n for n in names if n in LAUNCHERS]


def shared_dir():
    return os.path.normpath(os.path.join(ROOT, "..", "shared"))


class Target:
    """One MPI library + the module under test."""

    def __init__(self, mpi):
        self.mpi = mpi
        self.impl = IMPL
        self.pkg = "mpi4py" if IMPL == "mpi4py" else "fastmpi"
        self.stage = os.path.join(ROOT, "build", mpi, "lib")

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(SCRUB_PREFIXES)}
        env.pop("PYTHONPATH", None)
        env.pop("FASTMPI_TEST_RESULTS", None)
        # as a tutorial reader runs them: print() pieces of one line must not
        # be written separately (and interleave across ranks)
        env.pop("PYTHONUNBUFFERED", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self.impl == "fastmpi":
            env["PYTHONPATH"] = self.stage
        env.update(extra)
        return env

    def mpiexec(self, n):
        return LAUNCHERS[self.mpi] + [str(n)]

    def __repr__(self):
        return f"{self.impl}-{self.mpi}"


class Result:
    def __init__(self, returncode, out, seconds, timed_out):
        self.returncode = returncode
        self.out = out
        self.seconds = seconds
        self.timed_out = timed_out

    def __repr__(self):
        return (f"<rc={self.returncode} timed_out={self.timed_out} "
                f"{self.seconds:.1f}s>\n{self.out}")


def run(cmd, env, timeout=120, cwd=None):
    """Run in a new session; on timeout kill the whole process group."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd or ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return Result(proc.returncode, out.decode(errors="replace"),
                  time.monotonic() - t0, timed_out)



def py(target, src, timeout=60):
    """Run Python source (dedented; PKG names the package under test) in a
    fresh interpreter without mpiexec; fail on a timeout."""
    code = textwrap.dedent(src).replace("PKG", target.pkg)
    res = run([PYTHON, "-c", code], target.env(), timeout=timeout)
    assert not res.timed_out, res
    return res

@pytest.fixture(params=_mpis())
def target(request):
    t = Target(request.param)
    if t.impl == "fastmpi" and not os.path.isdir(os.path.join(t.stage, "fastmpi")):
        pytest.fail(f"no staged build at {t.stage} (run make stage MPI={t.mpi})")
    return t
