"""Shared helpers for the Python benchmark family scripts.

* ``load_impl(name, thread_level)`` imports ``MPI`` from fastmpi or mpi4py
  (thread level set through the package's ``rc`` before MPI is initialised).
* ``time_reps(comm, body, case)`` runs ``body(n)`` (a closure that performs n
  iterations) for the warm-up, then ``case.reps`` timed repetitions, each
  started right after a Barrier.  Returns seconds per iteration per rep.
* ``emit(tag, obj)`` prints one ``BENCH_<TAG> {json}`` line; run.py greps for
  those lines, so MPI chatter on stdout cannot break parsing, and results of
  cases that finished survive a crash or a timeout later in the run.
* ``require(obj, *names)`` in a setup function raises ``Unsupported`` when
  the implementation lacks a method; the case is reported as skipped
  (``BENCH_SKIP``) and the run goes on.  Call it before any communication:
  both ranks then skip the same case.

The same methodology is implemented in C in bench/c/bench.h.
"""

import argparse
import json
import os
import statistics
import sys
import time

perf_counter = time.perf_counter


def emit(tag, obj):
    sys.stdout.write(f"BENCH_{tag} {json.dumps(obj, sort_keys=True)}\n")
    sys.stdout.flush()


class Unsupported(Exception):
    """The implementation lacks what a case needs (same on every rank)."""


def require(obj, *names):
    missing = [n for n in names if not hasattr(obj, n)]
    if missing:
        raise Unsupported(f"{getattr(obj, '__name__', type(obj).__name__)} "
                          f"has no {', '.join(missing)}")


def common_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--impl", choices=("fastmpi", "mpi4py"), required=True)
    p.add_argument("--thread-level", default="multiple",
                   choices=("single", "funneled", "serialized", "multiple"))
    p.add_argument("--scale", type=float, default=1.0,
                   help="iteration-count multiplier when --case is not given")
    p.add_argument("--case", action="append", default=[],
                   help="kind:param:iters:reps:warmup (repeatable); "
                        "default: the family's cases from bench/cases.py")
    return p


def load_impl(name, thread_level):
    """Import MPI from the named package; returns (MPI, meta dict)."""
    if name == "fastmpi":
        import fastmpi as pkg
    else:
        import mpi4py as pkg
    pkg.rc.thread_level = thread_level
    if name == "mpi4py":
        pkg.rc.threads = thread_level != "single"
    from importlib import import_module
    MPI = import_module(pkg.__name__ + ".MPI")
    levels = {getattr(MPI, "THREAD_" + k.upper()): k
              for k in ("single", "funneled", "serialized", "multiple")}
    provided = MPI.Query_thread()
    meta = {
        "impl": name,
        "version": getattr(pkg, "__version__", "?"),
        "module": os.path.dirname(pkg.__file__),
        "python": sys.executable,
        "library": MPI.Get_library_version().replace("\x00", "")
                      .strip().splitlines()[0].strip(),
        "thread_level": levels.get(provided, str(provided)),
    }
    return MPI, meta


def summarize(per_iter_seconds):
    us = [t * 1e6 for t in per_iter_seconds]
    return {
        "median_us": statistics.median(us),
        "min_us": min(us),
        "max_us": max(us),
        "reps_us": [round(x, 4) for x in us],
    }


def time_reps(comm, body, case):
    body(case.warmup)
    times = []
    barrier = comm.Barrier
    for _ in range(case.reps):
        barrier()
        t0 = perf_counter()
        body(case.iters)
        t1 = perf_counter()
        times.append((t1 - t0) / case.iters)
    return times


def result(case, times, **extra):
    out = {"case": case.id, "iters": case.iters, "reps": case.reps,
           "warmup": case.warmup}
    out.update(summarize(times))
    out.update(extra)
    return out


def run_family(family, setup, description):
    """main() of a family script: parse args, initialise MPI, run the cases.

    setup[kind](MPI, comm, case) -> (body, valid); body(n) runs n iterations
    on this rank (both ranks call it for every case, in the same order).
    """
    import cases as casemod
    args = common_args(description).parse_args()
    if args.case:
        todo = [casemod.parse_case(c, family) for c in args.case]
    else:
        todo = casemod.family_cases(family, args.scale)
    MPI, meta = load_impl(args.impl, args.thread_level)
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    if comm.Get_size() != 2:
        if rank == 0:
            sys.stderr.write(f"{family} needs exactly 2 ranks\n")
        comm.Abort(2)
    meta["family"] = family
    if rank == 0:
        emit("META", meta)
    for case in todo:
        try:
            body, ok = setup[case.kind](MPI, comm, case)
            times = time_reps(comm, body, case)
        except Unsupported as exc:
            if rank == 0:
                emit("SKIP", {"case": case.id, "reason": str(exc)})
            continue
        except Exception as exc:  # the peer would hang: report and abort
            emit("ERROR", {"case": case.id, "rank": rank,
                           "error": f"{type(exc).__name__}: {exc}"})
            comm.Abort(3)
        if rank == 0:
            emit("RESULT", result(case, times, valid=ok))
    comm.Barrier()
    if rank == 0:
        emit("DONE", {})
