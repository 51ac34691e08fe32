"""Rank-aware pytest for tests run under mpiexec.

* Only rank 0 prints pytest's normal output; other ranks write it to
  /dev/null and print only their failures (prefixed "[rank N]") to stderr.
* faulthandler is enabled, registered on SIGUSR1, and armed per test with
  dump_traceback_later(FASTMPI_TEST_TIMEOUT, exit=True): a hung test dumps
  every thread's stack and the process exits, which ends the MPI job.
* When a test fails on a rank of a job with more than one rank, that rank
  prints its traceback and calls MPI.COMM_WORLD.Abort(1), so its peers cannot
  hang waiting for it (FASTMPI_TEST_NOABORT=1 disables this, for triage).
  At size 1 there is no peer to hang, so failures are simply reported.
* After each test all ranks meet in a Barrier; at the end they check that
  every rank ran the same tests.
* FASTMPI_TEST_RESULTS=<dir>: each rank appends "<outcome> <nodeid>" lines to
  <dir>/rank<N>.txt as tests finish (read by tests/run.py, survives Abort).

Tests under tests/system/ are plain pytest (they launch mpiexec themselves);
for them this file does nothing MPI-related and never imports MPI.

Fixtures: comm (COMM_WORLD), rank, size, selfcomm (a private COMM_SELF dup,
freed after the test, for tests that may leave stray messages behind).
"""
import faulthandler
import os
import signal
import sys
import zlib

import pytest

_TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
_SYSTEM_DIR = os.path.join(_TESTS_DIR, "system")

MPI = None
_state = {
    "rank": 0,
    "size": 1,
    "abort": True,
    "results": None,
    "ran": [],
    "stdout": None,
    "check_comm": None,
    "timeout": 120.0,
    "stderr": sys.stderr,
    "failed": False,
}


def _is_system_run(config):
    if os.environ.get("FASTMPI_TEST_SYSTEM") == "1":
        return True
    args = [a.split("::")[0] for a in config.args]
    if not args:
        return False
    for a in args:
        p = os.path.abspath(a)
        if not (p == _SYSTEM_DIR or p.startswith(_SYSTEM_DIR + os.sep)):
            return False
    return True


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "mpich_big: also run under MPICH at 3 and 4 ranks "
        "(odd sizes, roots, comm split)")
    config.addinivalue_line(
        "markers", "beyond_mpi4py: checks behaviour the brief requires of "
        "fastmpi that mpi4py 3.1 lacks (xfail when testing mpi4py)")
    config.addinivalue_line(
        "markers", "fastmpi_only: meaningless for mpi4py (skipped there)")
    if _is_system_run(config):
        return
    global MPI
    sys.path.insert(0, _TESTS_DIR)
    from _impl import MPI as _MPI
    MPI = _MPI
    world = MPI.COMM_WORLD
    rank, size = world.Get_rank(), world.Get_size()
    _state.update(rank=rank, size=size)
    _state["abort"] = size > 1 and os.environ.get("FASTMPI_TEST_NOABORT") != "1"
    _state["timeout"] = float(os.environ.get("FASTMPI_TEST_TIMEOUT", "120"))

    # pytest captures fd 2 while a test runs: dump to a duplicate of the
    # real stderr so a hang's tracebacks reach the log.
    _state["stderr"] = os.fdopen(os.dup(sys.stderr.fileno()), "w")
    faulthandler.enable(file=_state["stderr"], all_threads=True)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=_state["stderr"],
                              all_threads=True)

    resdir = os.environ.get("FASTMPI_TEST_RESULTS")
    if resdir:
        os.makedirs(resdir, exist_ok=True)
        _state["results"] = open(os.path.join(resdir, f"rank{rank}.txt"),
                                 "w", buffering=1)
    try:
        _state["check_comm"] = world.Dup()
    except Exception:  # noqa: BLE001 - fall back to the world communicator
        _state["check_comm"] = world


def _silence_nonzero_ranks(config):
    # The terminal reporter is created in _pytest.terminal.pytest_configure
    # with sys.stdout; it has already run, so point its writer at /dev/null.
    if _state["rank"] == 0:
        return
    tr = config.pluginmanager.getplugin("terminalreporter")
    devnull = open(os.devnull, "w")
    _state["stdout"] = devnull
    if tr is not None:
        try:
            from _pytest._io import TerminalWriter
            tr._tw = TerminalWriter(devnull)
        except Exception:  # noqa: BLE001
            pass
        config.option.verbose = -1


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    if MPI is not None:
        _silence_nonzero_ranks(session.config)


def pytest_collection_modifyitems(config, items):
    if MPI is None:
        return
    from _impl import IMPL
    for item in items:
        if IMPL == "mpi4py" and item.get_closest_marker("beyond_mpi4py"):
            item.add_marker(pytest.mark.xfail(
                reason="brief requires stricter checks than mpi4py 3.1",
                strict=False))
        if IMPL == "mpi4py" and item.get_closest_marker("fastmpi_only"):
            item.add_marker(pytest.mark.skip(reason="fastmpi-specific"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if MPI is None:
        yield
        return
    faulthandler.dump_traceback_later(_state["timeout"], exit=True,
                                      file=_state["stderr"])
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def pytest_runtest_logreport(report):
    if MPI is None:
        return
    rank = _state["rank"]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.failed:
            outcome = "failed"
        elif report.skipped:
            outcome = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        else:
            outcome = "xpassed" if hasattr(report, "wasxfail") else "passed"
        _state["ran"].append(report.nodeid)
        if _state["results"] is not None:
            _state["results"].write(f"{outcome} {report.nodeid}\n")
    elif report.failed and _state["results"] is not None:
        _state["results"].write(f"failed {report.nodeid} ({report.when})\n")
    if not report.failed:
        return
    _state["failed"] = True
    if rank != 0 or _state["abort"]:
        text = report.longreprtext or ""
        lines = [f"[rank {rank}] FAILED {report.nodeid} ({report.when})"]
        lines += [f"[rank {rank}] {line}" for line in text.splitlines()]
        _state["stderr"].write("\n".join(lines) + "\n")
        _state["stderr"].flush()
    if _state["abort"]:
        sys.stdout.flush()
        if _state["results"] is not None:
            _state["results"].write(f"aborted {report.nodeid}\n")
            _state["results"].flush()
        MPI.COMM_WORLD.Abort(1)


@pytest.fixture
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def rank():
    return MPI.COMM_WORLD.Get_rank()


@pytest.fixture
def size():
    return MPI.COMM_WORLD.Get_size()


@pytest.fixture
def selfcomm():
    c = MPI.COMM_SELF.Dup()
    yield c
    try:
        c.Free()
    except Exception:  # noqa: BLE001
        pass


@pytest.fixture(autouse=True)
def _mpi_sync():
    # Keep ranks in step between tests so a message left over by one test
    # is not consumed by the next (tests use distinct tags besides).
    yield
    if MPI is not None and _state["size"] > 1:
        MPI.COMM_WORLD.Barrier()


def _check_same_tests(session):
    c = _state["check_comm"]
    rank, size = _state["rank"], _state["size"]
    ran = _state["ran"]
    if size == 1 or c is None:
        return True
    tag = 31337
    mine = (len(ran), zlib.crc32("\n".join(ran).encode()))
    if rank == 0:
        ok = True
        for src in range(1, size):
            other = c.recv(source=src, tag=tag)
            if tuple(other) != mine:
                sys.stderr.write(
                    f"[rank 0] rank {src} ran {other[0]} tests, rank 0 ran "
                    f"{mine[0]} (or a different set)\n")
                ok = False
        for dst in range(1, size):
            c.send(ok, dest=dst, tag=tag)
        return ok
    c.send(list(mine), dest=0, tag=tag)
    return c.recv(source=0, tag=tag)


def pytest_sessionfinish(session, exitstatus):
    if MPI is None:
        return
    try:
        ok = _check_same_tests(session)
    except Exception as exc:  # noqa: BLE001
        sys.stderr.write(f"[rank {_state['rank']}] test-count check failed: "
                         f"{exc!r}\n")
        ok = False
    if not ok:
        session.exitstatus = 1
    if _state["results"] is not None:
        _state["results"].write(f"END {len(_state['ran'])} "
                                f"{'ok' if ok else 'mismatch'}\n")
        _state["results"].close()
        _state["results"] = None
    c = _state["check_comm"]
    if c is not None and c is not MPI.COMM_WORLD:
        try:
            c.Free()
        except Exception:  # noqa: BLE001
            pass


def pytest_unconfigure(config):
    # After a failure a helper thread may still be blocked in MPI, and
    # MPI_Finalize (or interpreter exit) would wait for it: end the job.
    if MPI is not None and _state["failed"]:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            _state["stderr"].flush()
        except Exception:  # noqa: BLE001
            pass
        MPI.COMM_WORLD.Abort(1)
