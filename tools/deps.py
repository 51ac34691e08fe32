#!/usr/bin/python3
"""Install the Debian packages fastmpi needs, if any are missing.

    /usr/bin/python3 tools/deps.py [--optional] [--check]

Run by ``make deps`` (and so before ``make demo``, ``make test`` and
``make bench``).  When everything is there it prints nothing and exits 0
at once.  Otherwise, as root, it runs ``apt-get update`` and then
``apt-get install -y`` for what is missing; not as root, it prints the
``sudo apt-get install`` line to run and exits 1.

--optional  also install the optional packages (python3-mpi4py, which the
            tests and benchmarks use as a reference when it is there, and
            python3-venv, for make bench's PyPI mpi4py)
--check     only report; install nothing (exit 1 if something is missing)

Standard library only, and idempotent.
"""

import os
import shutil
import subprocess
import sys

REQUIRED = [
    "gcc",
    "libc6-dev",
    "make",
    "mpich",
    "libmpich-dev",
    "openmpi-bin",
    "libopenmpi-dev",
    "python3-dev",
    "python3-numpy",
    "python3-pytest",
]
OPTIONAL = [
    "python3-mpi4py",   # reference for tests and benchmarks
    "python3-venv",     # make bench: a venv for the latest mpi4py from PyPI
]


def missing(packages):
    """The packages of ``packages`` that dpkg does not list as installed."""
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", *packages],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    installed = set()
    for line in proc.stdout.splitlines():
        name, _, status = line.partition(" ")
        if status.split()[-1:] == ["installed"]:
            installed.add(name.split(":")[0])
    return [p for p in packages if p not in installed]


def say(message):
    print(f"deps: {message}", file=sys.stderr, flush=True)


def run(cmd):
    say("running: " + " ".join(cmd))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL).returncode


def main(argv):
    want_optional = "--optional" in argv
    check_only = "--check" in argv
    unknown = [a for a in argv if a not in ("--optional", "--check")]
    if unknown:
        print(__doc__.strip(), file=sys.stderr)
        return 2

    if shutil.which("dpkg-query") is None:
        say("not a Debian-like system; cannot check packages. fastmpi needs "
            "a C compiler, make, MPICH and/or Open MPI (with headers and "
            "mpicc), Python headers, numpy and pytest.")
        return 0

    need = missing(REQUIRED)
    optional = missing(OPTIONAL)
    todo = need + (optional if want_optional or need else [])
    if not todo:
        return 0
    if not need and not want_optional:
        return 0  # only optional packages are missing: that is fine

    if check_only:
        say("missing: " + " ".join(todo))
        return 1 if need else 0
    if os.geteuid() != 0:
        say("missing Debian packages: " + " ".join(todo))
        say("install them with:")
        print("sudo apt-get install -y " + " ".join(todo))
        return 1

    say("installing missing Debian packages: " + " ".join(todo))
    apt_get = ["apt-get", "-q", "-o", "DPkg::Lock::Timeout=300"]
    if run([*apt_get, "update"]) != 0:
        say("apt-get update failed")
        return 1
    if run([*apt_get, "install", "-y", *todo]) != 0:
        say("apt-get install failed")
        return 1
    still = missing(todo)
    if still:
        say("still missing after apt-get install: " + " ".join(still))
        return 1
    say("all packages installed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
