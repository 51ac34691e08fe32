"""The latest mpi4py from PyPI, in build/bench/venv, for the comparison.

    /usr/bin/python3 bench/pypi_mpi4py.py      # create/install, print status

Idempotent: the venv is created once with
``/usr/bin/python3 -m venv --system-site-packages build/bench/venv`` (so it
sees Debian's numpy) and mpi4py>=4 is installed into it only when missing.

How it runs against the *system* MPI libraries (checked on mpi4py 4.1.2):
the PyPI wheel ships two extension modules, MPI.openmpi.*.so (Open MPI ABI,
links libmpi.so.40) and MPI.mpich.*.so (MPICH ABI, links libmpi.so.12), and
picks one at import time by dlopen-ing an MPI library.  We pin the choice
with MPI4PY_LIBMPI / MPI4PY_MPIABI (see ``runtime_env``):

* Open MPI: MPI4PY_LIBMPI=/usr/lib/x86_64-linux-gnu/libmpi.so.40 - Debian's
  Open MPI 4.1.4, the very library the C benchmark and Debian's mpi4py use.
* MPICH: Debian ships MPICH as libmpich.so.12 only, no libmpi.so.12 soname,
  so we add build/bench/mpich-abi/libmpi.so.12 -> libmpich.so.12 and put
  that directory on LD_LIBRARY_PATH.

run.py checks MPI.Get_library_version() of every Python launch against the
C program's and refuses a mismatch.  If the wheel cannot be installed we
fall back to a source build against Open MPI
(``MPICC=mpicc.openmpi pip install --no-binary mpi4py mpi4py``), which then
only serves the Open MPI comparison.

Because the venv has --system-site-packages, Debian's mpi4py 3.1.4 is on
sys.path too (after the venv's site-packages); pip is run with
--ignore-installed so it does not try to uninstall Debian's copy, and run.py
verifies from each launch which mpi4py (version, path) was really imported.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, "build", "bench")
VENV = os.path.join(BUILD, "venv")
VPY = os.path.join(VENV, "bin", "python")
LOG = os.path.join(BUILD, "pip-mpi4py.log")
SYSTEM_PYTHON = "/usr/bin/python3"
LIBDIR = "/usr/lib/x86_64-linux-gnu"

LIBMPI = {"openmpi": f"{LIBDIR}/libmpi.so.40", "mpich": f"{LIBDIR}/libmpich.so.12"}


class Unavailable(Exception):
    pass


PROBE = ("import os, mpi4py; print(mpi4py.__version__); "
         "print(os.path.dirname(mpi4py.__file__))")


def probe():
    """(version, module dir) of the mpi4py the venv imports, or None."""
    if not os.path.exists(VPY):
        return None
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([VPY, "-c", PROBE], capture_output=True, text=True,
                       env=env, cwd=BUILD)
    if r.returncode != 0:
        return None
    version, path = r.stdout.split()
    if not path.startswith(VENV) or int(version.split(".")[0]) < 4:
        return None
    return version, path


def _run(cmd, log, env=None):
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    r = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                       cwd=BUILD)
    return r.returncode == 0


def ensure(quiet=False):
    """Make sure the venv and mpi4py>=4 exist; returns (python, version)."""
    os.makedirs(BUILD, exist_ok=True)
    found = probe()
    if found:
        return VPY, found[0]
    with open(LOG, "a") as log:
        if not os.path.exists(VPY):
            if not quiet:
                print("bench: creating build/bench/venv", flush=True)
            if not _run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages",
                         VENV], log):
                raise Unavailable(f"venv creation failed (see {LOG})")
        pip = [VPY, "-m", "pip", "install", "--disable-pip-version-check",
               "--ignore-installed", "--no-deps"]
        if not quiet:
            print("bench: pip install mpi4py (binary wheel) into the venv",
                  flush=True)
        _run(pip + ["--only-binary", "mpi4py", "mpi4py>=4"], log)
        found = probe()
        if not found:
            if not quiet:
                print("bench: no usable wheel, building mpi4py from source "
                      "against Open MPI", flush=True)
            env = dict(os.environ, MPICC="mpicc.openmpi")
            _run([VPY, "-m", "pip", "install", "--disable-pip-version-check",
                  "--ignore-installed", "--no-binary", "mpi4py", "mpi4py>=4"],
                 log, env=env)
            found = probe()
        if not found:
            raise Unavailable(f"pip could not install mpi4py>=4 (see {LOG})")
    return VPY, found[0]


def runtime_env(mpi, env):
    """Environment that makes the venv's mpi4py load the given system MPI."""
    env = dict(env)
    env.pop("PYTHONPATH", None)
    env["MPI4PY_LIBMPI"] = LIBMPI[mpi]
    env["MPI4PY_MPIABI"] = mpi
    if mpi == "mpich":
        abidir = os.path.join(BUILD, "mpich-abi")
        os.makedirs(abidir, exist_ok=True)
        link = os.path.join(abidir, "libmpi.so.12")
        if not os.path.islink(link):
            os.symlink(LIBMPI["mpich"], link)
        old = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = abidir + (":" + old if old else "")
    return env


if __name__ == "__main__":
    try:
        py, version = ensure()
    except Unavailable as exc:
        print(f"mpi4py from PyPI unavailable: {exc}")
        sys.exit(1)
    print(f"mpi4py {version} ready: {py}")
