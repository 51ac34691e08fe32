"""fastmpi.run: the runner behind ``python3 -m fastmpi`` (as mpi4py.run).

    python3 -m fastmpi [--mpi4py] script.py [args]
    python3 -m fastmpi [--mpi4py] -m module [args]
    python3 -m fastmpi [--mpi4py] -c command [args]
    python3 -m fastmpi [--mpi4py] - [args]          (program on stdin)

Runs a program so that an uncaught exception on any rank prints its
traceback and then aborts the whole MPI job, instead of leaving the other
ranks waiting forever.  --mpi4py installs the mpi4py alias first
(:func:`fastmpi.install_mpi4py_alias`), so that the program's
``import mpi4py`` loads fastmpi.  ``python3 -m fastmpi.run`` is the same;
under the alias so are ``python3 -m mpi4py`` and ``python3 -m mpi4py.run``.
"""

import importlib.util
import os
import runpy
import sys
import time
import traceback

USAGE = ("usage: python3 -m fastmpi [--mpi4py] "
         "(script.py | -m module | -c command | -) [args ...]")


def _parse(argv):
    alias = False
    while argv and argv[0] == "--mpi4py":
        alias = True
        argv = argv[1:]
    if not argv or argv[0] in ("-h", "--help"):
        return None
    if argv[0] in ("-m", "-c"):
        if len(argv) < 2:
            return None
        return alias, argv[0], argv[1], argv[2:]
    if argv[0] == "-":
        return alias, "-", "<stdin>", argv[1:]
    return alias, "path", argv[0], argv[1:]


def _unalias(name):
    """Under the mpi4py alias, 'mpi4py.X' -> 'fastmpi.X': runpy needs the
    module's own name (its loader refuses another)."""
    pkg = sys.modules.get("fastmpi")
    if pkg is None or sys.modules.get("mpi4py") is not pkg or not (
            name == "mpi4py" or name.startswith("mpi4py.")):
        return name
    ours = "fastmpi" + name[len("mpi4py"):]
    try:
        found = importlib.util.find_spec(ours)
    except ImportError:
        found = None
    # one fastmpi lacks keeps its name: the alias then says it is missing
    return ours if found is not None else name


def _mpi():
    """fastmpi.MPI (imported now if need be, to abort the job), or None if
    it cannot be imported (e.g. a bad FASTMPI_RC_* value)."""
    try:
        from fastmpi import MPI
    except Exception:  # noqa: BLE001 - the error is being reported already
        return None
    return MPI


def _abort(code):
    MPI = _mpi()
    sys.stdout.flush()
    sys.stderr.flush()
    if MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized():
        time.sleep(0.1)     # let the launcher forward the report first
        MPI.COMM_WORLD.Abort(code)
    os._exit(code)


def main(argv=None):
    parsed = _parse(sys.argv[1:] if argv is None else argv)
    if parsed is None:
        print(USAGE, file=sys.stderr)
        return 2
    alias, kind, target, args = parsed
    if alias:
        import fastmpi

        fastmpi.install_mpi4py_alias()
    if kind == "-m":
        target = _unalias(target)
        if target in ("fastmpi", "fastmpi.__main__", "fastmpi.run"):
            return main(args)       # -m mpi4py / -m mpi4py.run: this runner
    try:
        if kind == "path":
            sys.argv[:] = [target, *args]
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
        elif kind == "-m":
            sys.argv[:] = [target, *args]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif kind == "-":
            sys.argv[:] = ["-", *args]
            exec(compile(sys.stdin.read(), "<stdin>", "exec"),
                 {"__name__": "__main__"})
        else:
            sys.argv[:] = ["-c", *args]
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        code = exc.code
        if code is None or code == 0:
            return 0
        if not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        _abort(code)
    except BaseException:  # noqa: BLE001 - any uncaught error ends the job
        MPI = _mpi()
        rank = (MPI.COMM_WORLD.Get_rank()
                if MPI is not None and MPI.Is_initialized() else 0)
        # one write: a launcher forwarding output while the abort kills
        # the job then gets the report whole, not cut between lines
        sys.stderr.write(f"fastmpi: uncaught exception on rank {rank}, "
                         "aborting the job\n" + traceback.format_exc())
        _abort(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
