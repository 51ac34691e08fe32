#!/usr/bin/python3
"""The fastmpi test-suite driver (``make test`` runs this).

1. ``make stage MPI=mpich`` and ``make stage MPI=openmpi`` (WERROR passed on).
2. The MPI test files (tests/test_*.py) under real launchers:
     Open MPI: 1, 2, 3, 4 ranks, full suite;
     MPICH:    1, 2 ranks full suite, 3 and 4 ranks on the ``mpich_big``
               subset (MPICH busy-spins when oversubscribed, ~5 ms per
               synchronising call).
   Each launch runs in its own process group under a timeout; a hang is
   killed and reported as a failure.
3. tests/system/ with plain pytest (those tests start mpiexec themselves).

Prints one line per launch and ends with ``N passed, N failed`` alone on the
last line.  Exit status is non-zero if any launch failed, timed out, or ran no
tests.

Options (all optional):
  --impl fastmpi|mpi4py   module under test (mpi4py = Debian's, Open MPI only;
                          validates the suite itself).  Env FASTMPI_TEST_IMPL.
  --mpi mpich,openmpi     libraries to test (default both)
  --np 1,2                restrict the rank counts
  --no-build              skip ``make stage``
  --no-system / --only-system
  --keep-going            a failing test does not Abort the job (triage:
                          see every failure; hangs still end at the timeout)
  --timeout SECONDS       per launch (default 900: the 2.5 GiB tests at 2
                          ranks take minutes on a loaded machine)
  -k EXPR                 passed to pytest
  -v                      print the whole log of every launch
Logs: build/test-logs/<impl>-<mpi>-n<N>.log
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

PYTHON = "/usr/bin/python3"
TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
LOGDIR = os.path.join(ROOT, "build", "test-logs")

SCRUB_PREFIXES = ("OMPI_", "PMI_", "PMIX_", "HYDRA_", "HYDI_", "MPIR_",
                  "OPAL_", "ORTE_", "PRTE_", "MPIEXEC_", "I_MPI_")

LAUNCHERS = {
    "openmpi": ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe",
                "-n"],
    "mpich": ["mpiexec.mpich", "-n"],
}

# (mpi, nprocs, pytest marker expression or None for the full suite)
PLAN = [
    ("openmpi", 1, None), ("openmpi", 2, None), ("openmpi", 3, None),
    ("openmpi", 4, None),
    ("mpich", 1, None), ("mpich", 2, None),
    ("mpich", 3, "mpich_big"), ("mpich", 4, "mpich_big"),
]


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(SCRUB_PREFIXES)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTHONPATH", None)
    return env


def run_group(cmd, env, timeout, log_path, cwd=ROOT):
    """Run cmd in a new session; kill the whole group on timeout."""
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
        timed_out = False
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = proc.wait()
            log.write(f"\n*** TIMEOUT after {timeout} s: process group "
                      "killed\n")
        # stray ranks of a launcher that died first
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return rc, timed_out, time.monotonic() - t0


def tail(path, n=60):
    with open(path, errors="replace") as f:
        lines = f.readlines()
    return "".join(lines[-n:])


def read_results(resdir, nprocs):
    """Per-test outcome merged over ranks: failed if it failed anywhere."""
    outcome = {}
    order = []
    ends = 0
    aborted = False
    for r in range(nprocs):
        path = os.path.join(resdir, f"rank{r}.txt")
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                kind, _, rest = line.partition(" ")
                if kind == "END":
                    ends += 1
                    if "mismatch" in rest:
                        outcome.setdefault("<ranks ran different tests>",
                                           "failed")
                    continue
                if kind == "aborted":
                    aborted = True
                    continue
                nodeid = rest.split(" (")[0]
                if nodeid not in outcome:
                    order.append(nodeid)
                prev = outcome.get(nodeid)
                if kind == "failed" or prev == "failed":
                    outcome[nodeid] = "failed"
                elif prev is None or r == 0:
                    outcome[nodeid] = kind
    return outcome, ends, aborted


class Launch:
    def __init__(self, name):
        self.name = name
        self.passed = self.failed = self.skipped = 0
        self.seconds = 0.0
        self.problem = ""
        self.failures = []
        self.is_build = False

    def line(self):
        s = (f"{self.name:<28} passed {self.passed:4d}  failed "
             f"{self.failed:3d}  skipped {self.skipped:3d}  "
             f"{self.seconds:6.1f} s")
        if self.problem:
            s += "  " + self.problem
        return s


def stage(mpis, args):
    results = []
    env = clean_env()
    make = ["make", "-C", ROOT]
    if os.environ.get("WERROR"):
        make.append("WERROR=" + os.environ["WERROR"])
    for mpi in mpis:
        la = Launch(f"build {mpi}")
        la.is_build = True
        log = os.path.join(LOGDIR, f"build-{mpi}.log")
        rc, to, secs = run_group(make + ["stage", f"MPI={mpi}"], env, 900, log)
        la.seconds = secs
        if rc != 0 or to:
            la.failed = 1
            la.problem = "make stage failed" + (" (timeout)" if to else "")
            la.failures.append(f"make stage MPI={mpi}")
            print(tail(log, 40), end="")
        results.append(la)
        print(la.line(), flush=True)
    return results


def asan_prefix(args):
    """With --asan, each rank's Python runs with AddressSanitizer loaded
    (the extension is the asan-<mpi> build that `make asan` stages)."""
    if not args.asan:
        return []
    libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True,
                             check=True).stdout.strip()
    return ["env", f"LD_PRELOAD={libasan}", "PYTHONMALLOC=malloc",
            "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"]


def mpi_launch(impl, mpi, nprocs, marker, args):
    name = f"{impl} {mpi} -n {nprocs}" + (f" [{marker}]" if marker else "")
    la = Launch(name)
    tag = f"{impl}-{mpi}-n{nprocs}"
    log = os.path.join(LOGDIR, tag + ".log")
    resdir = os.path.join(LOGDIR, tag + ".results")
    shutil.rmtree(resdir, ignore_errors=True)
    os.makedirs(resdir)
    env = clean_env()
    env["FASTMPI_TEST_IMPL"] = impl
    env["FASTMPI_TEST_RESULTS"] = resdir
    if args.keep_going:
        env["FASTMPI_TEST_NOABORT"] = "1"
    variant = f"asan-{mpi}" if args.asan else mpi
    if impl == "fastmpi":
        env["PYTHONPATH"] = os.path.join(ROOT, "build", variant, "lib")
    files = sorted(os.path.join("tests", f) for f in os.listdir(TESTS)
                   if f.startswith("test_") and f.endswith(".py"))
    cmd = LAUNCHERS[mpi] + [str(nprocs)] + asan_prefix(args) + [
                            PYTHON, "-m", "pytest",
                            "-p", "no:cacheprovider", "--color=no", "-q",
                            "-rfE"]
    if marker:
        cmd += ["-m", marker]
    if args.k:
        cmd += ["-k", args.k]
    cmd += files
    rc, to, secs = run_group(cmd, env, args.timeout, log)
    la.seconds = secs
    outcome, ends, aborted = read_results(resdir, nprocs)
    for nodeid, kind in outcome.items():
        if kind in ("passed", "xpassed"):
            la.passed += 1
        elif kind == "failed":
            la.failed += 1
            la.failures.append(nodeid)
        else:
            la.skipped += 1
    problems = []
    if to:
        problems.append(f"TIMEOUT ({args.timeout} s)")
    if aborted:
        problems.append("aborted after a failure")
    elif ends < nprocs and not to:
        problems.append(f"only {ends}/{nprocs} ranks finished")
    if rc != 0 and not la.failed:
        problems.append(f"exit status {rc}")
    if la.passed + la.failed == 0:
        problems.append("no tests ran")
    if problems and not la.failed:
        la.failed = 1
        la.failures.append(f"<{name}: {'; '.join(problems)}>")
    elif rc != 0 and la.failed == 0:
        la.failed = 1
    la.problem = "; ".join(problems)
    print(la.line(), flush=True)
    if la.failed or args.verbose:
        print("---- " + log + (" (tail)" if not args.verbose else ""))
        print(tail(log, 10**6 if args.verbose else 60), end="")
        print("----", flush=True)
    return la


def system_launch(impl, mpis, args):
    la = Launch(f"{impl} system")
    tag = f"{impl}-system"
    log = os.path.join(LOGDIR, tag + ".log")
    xml = os.path.join(LOGDIR, tag + ".xml")
    if os.path.exists(xml):
        os.remove(xml)
    env = clean_env()
    env["FASTMPI_TEST_IMPL"] = impl
    env["FASTMPI_TEST_SYSTEM"] = "1"
    env["FASTMPI_TEST_MPIS"] = ",".join(mpis)
    cmd = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "--color=no",
           "-q", "-rfE", f"--junitxml={xml}"]
    if args.k:
        cmd += ["-k", args.k]
    cmd += [os.path.join("tests", "system")]
    rc, to, secs = run_group(cmd, env, max(args.timeout, 600), log)
    la.seconds = secs
    if os.path.exists(xml):
        root = ET.parse(xml).getroot()
        for case in root.iter("testcase"):
            cid = f"{case.get('classname')}::{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                la.failed += 1
                la.failures.append(cid)
            elif case.find("skipped") is not None:
                la.skipped += 1
            else:
                la.passed += 1
    problems = []
    if to:
        problems.append("TIMEOUT")
    if la.passed + la.failed == 0:
        problems.append("no tests ran")
    if rc != 0 and not la.failed:
        problems.append(f"exit status {rc}")
    if problems and not la.failed:
        la.failed = 1
        la.failures.append(f"<{la.name}: {'; '.join(problems)}>")
    la.problem = "; ".join(problems)
    print(la.line(), flush=True)
    if la.failed or args.verbose:
        print("---- " + log + " (tail)")
        print(tail(log, 10**6 if args.verbose else 80), end="")
        print("----", flush=True)
    return la


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--impl", default=os.environ.get("FASTMPI_TEST_IMPL",
                                                      "fastmpi"),
                    choices=["fastmpi", "mpi4py"])
    ap.add_argument("--mpi", default=None)
    ap.add_argument("--np", default=None)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-system", action="store_true")
    ap.add_argument("--only-system", action="store_true")
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("-k", default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--asan", action="store_true",
                    help="run 1 and 2 ranks against build/asan-<mpi> "
                         "(staged by make asan)")
    args = ap.parse_args(argv)

    mpis = ["mpich", "openmpi"]
    if args.impl == "mpi4py":
        mpis = ["openmpi"]  # Debian's mpi4py is built against Open MPI
    if args.mpi:
        mpis = [m for m in args.mpi.split(",") if m in mpis]
    nps = None if not args.np else {int(x) for x in args.np.split(",")}
    if args.asan:
        args.no_build = args.no_system = True
        nps = nps or {1, 2}

    os.makedirs(LOGDIR, exist_ok=True)
    t0 = time.monotonic()
    launches = []
    if args.impl == "fastmpi" and not args.no_build:
        built = stage(mpis, args)
        launches += built
        mpis = [m for m, b in zip(mpis, built) if not b.failed]

    if not args.only_system:
        for mpi, n, marker in PLAN:
            if mpi not in mpis or (nps and n not in nps):
                continue
            launches.append(mpi_launch(args.impl, mpi, n, marker, args))
    if not args.no_system:
        launches.append(system_launch(args.impl, mpis, args))

    passed = sum(la.passed for la in launches)
    failed = sum(la.failed for la in launches)
    print()
    print(f"{'launch':<28} {'passed':>11} {'failed':>9} {'skipped':>10}")
    for la in launches:
        print(la.line())
    fails = [(la.name, f) for la in launches for f in la.failures]
    if fails:
        print("\nfailures:")
        for name, f in fails:
            print(f"  [{name}] {f}")
    print(f"\ntotal {time.monotonic() - t0:.0f} s; logs in "
          f"{os.path.relpath(LOGDIR, ROOT)}/")
    print(f"{passed} passed, {failed} failed")
    tests = [la for la in launches if not la.is_build]
    bad = failed > 0 or not tests or any(
        la.passed + la.failed == 0 for la in tests)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
