"""fastmpi against C and mpi4py on 2 ranks: absolute times, ratios, targets.

    make bench                                   # = /usr/bin/python3 bench/run.py
    /usr/bin/python3 bench/run.py --mpi openmpi  # only the Open MPI comparison
    /usr/bin/python3 bench/run.py --scale 0.2    # quick smoke run
    /usr/bin/python3 bench/run.py --help

Per MPI library (Open MPI: C, fastmpi, Debian's mpi4py 3.1.4, PyPI mpi4py;
MPICH: C, fastmpi, PyPI mpi4py - Debian's mpi4py is built on Open MPI) every
implementation runs in its own mpiexec launch of the family program
(bench/<family>.py --impl ..., or build/bench/<mpi>/<family> built from
bench/c/<family>.c with -O2), with the same cases (bench/cases.py), the same
thread level (MULTIPLE unless --thread-level) and the same core binding.
Launches print BENCH_* JSON lines from rank 0 (see bench/timing.py); a missing
or failing implementation shows as n/a.  Each number is the median over the
repetitions of one launch; with --rounds N the whole set of launches is
repeated N times and the lowest median is kept.  Raw results go to
build/bench/results.json.

fastmpi is staged with ``make stage MPI=<mpi>`` first (skip: --no-stage).
The PyPI mpi4py lives in build/bench/venv; see bench/pypi_mpi4py.py for how
it is made to load the system MPI libraries.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cases as casemod  # noqa: E402
import pypi_mpi4py  # noqa: E402

REPO = os.path.dirname(HERE)
BUILD = os.path.join(REPO, "build", "bench")
PY = "/usr/bin/python3"
DEBIAN_MPI4PY = "/usr/lib/python3/dist-packages/mpi4py"

MPIS = {
    "openmpi": {
        "title": "Open MPI",
        "mpicc": "mpicc.openmpi",
        "launch": ["mpirun.openmpi", "--allow-run-as-root", "--oversubscribe",
                   "-np", "2"],
        "bind": {"core": ["--bind-to", "core"], "none": ["--bind-to", "none"]},
    },
    "mpich": {
        "title": "MPICH",
        "mpicc": "mpicc.mpich",
        "launch": ["mpiexec.mpich", "-n", "2"],
        "bind": {"core": ["-bind-to", "core"], "none": []},
    },
}

IMPLS = ["C", "fastmpi", "mpi4py-debian", "mpi4py-pypi"]
STAT = "median_us"   # or "min_us" (--stat min)
BUSY_WARN = 0.15     # other processes using >15% of the CPUs: numbers suspect


class Unavailable(Exception):
    pass


def log_path(name):
    os.makedirs(BUILD, exist_ok=True)
    return os.path.join(BUILD, name)


def clean_env():
    env = dict(os.environ)
    for k in ("PYTHONPATH", "MPI4PY_LIBMPI", "MPI4PY_MPIABI", "PYTHONHOME"):
        env.pop(k, None)
    # Same memory on every side: numpy asks for transparent huge pages for
    # arrays of 4 MiB and more, C's calloc does not, and the page size
    # alone moved 16 MiB transfers by 8% (either way, depending on the
    # pattern).  Python's arrays get ordinary pages, like the C buffers.
    env["NUMPY_MADVISE_HUGEPAGE"] = "0"
    return env


# ---------------------------------------------------------------- preparing

def build_c(mpi, family):
    src = os.path.join(HERE, "c", f"{family}.c")
    header = os.path.join(HERE, "c", "bench.h")
    out_dir = os.path.join(BUILD, mpi)
    exe = os.path.join(out_dir, family)
    os.makedirs(out_dir, exist_ok=True)
    newest = max(os.path.getmtime(src), os.path.getmtime(header),
                 os.path.getmtime(__file__))
    if os.path.exists(exe) and os.path.getmtime(exe) >= newest:
        return exe
    cmd = [MPIS[mpi]["mpicc"], "-O2", "-std=c11", "-Wall", "-Wextra",
           "-o", exe, src]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"{' '.join(cmd)} failed:\n{r.stderr.strip()}")
    return exe


def stage_fastmpi(mpi, args):
    lib = os.path.join(REPO, "build", mpi, "lib")
    if args.fastmpi_lib:
        lib = os.path.abspath(args.fastmpi_lib.format(mpi=mpi))
    elif not args.no_stage:
        log = log_path(f"stage-{mpi}.log")
        print(f"bench: make stage MPI={mpi}  (log: {os.path.relpath(log, REPO)})",
              flush=True)
        with open(log, "w") as f:
            try:
                r = subprocess.run(["make", "-C", REPO, "stage", f"MPI={mpi}"],
                                   stdout=f, stderr=subprocess.STDOUT,
                                   timeout=900)
            except subprocess.TimeoutExpired:
                raise Unavailable(f"make stage MPI={mpi} timed out")
        if r.returncode != 0:
            raise Unavailable(f"make stage MPI={mpi} failed, see "
                              f"{os.path.relpath(log, REPO)}")
    pkg = os.path.join(lib, "fastmpi")
    if not os.path.isdir(pkg) or not any(
            n.startswith("MPI") and n.endswith(".so") for n in os.listdir(pkg)):
        raise Unavailable(f"no staged fastmpi in {os.path.relpath(lib, REPO)}")
    return lib


def prepare(impl, mpi, family, args, cache):
    """Return (argv prefix, env, expected module dir or None)."""
    tl = ["--thread-level", args.thread_level]
    script = os.path.join(HERE, f"{family}.py")
    if impl == "C":
        return [build_c(mpi, family)] + tl, clean_env(), None
    if impl == "fastmpi":
        key = ("stage", mpi)
        if key not in cache:
            try:
                cache[key] = stage_fastmpi(mpi, args)
            except Unavailable as exc:
                cache[key] = exc
        if isinstance(cache[key], Exception):
            raise cache[key]
        env = clean_env()
        env["PYTHONPATH"] = cache[key]
        return ([PY, script, "--impl", "fastmpi"] + tl, env,
                os.path.join(cache[key], "fastmpi"))
    if impl == "mpi4py-debian":
        if mpi != "openmpi":
            raise Unavailable("Debian's mpi4py is built on Open MPI")
        if not os.path.isdir(DEBIAN_MPI4PY):
            raise Unavailable("python3-mpi4py is not installed")
        return [PY, script, "--impl", "mpi4py"] + tl, clean_env(), DEBIAN_MPI4PY
    if impl == "mpi4py-pypi":
        if "pypi" not in cache:
            try:
                cache["pypi"] = pypi_mpi4py.ensure()
            except pypi_mpi4py.Unavailable as exc:
                cache["pypi"] = Unavailable(str(exc))
        if isinstance(cache["pypi"], Exception):
            raise cache["pypi"]
        vpy, _ = cache["pypi"]
        env = pypi_mpi4py.runtime_env(mpi, clean_env())
        return ([vpy, script, "--impl", "mpi4py"] + tl, env,
                pypi_mpi4py.VENV)
    raise ValueError(impl)


# ---------------------------------------------------------------- launching

def launch(mpi, argv, env, timeout, bind):
    cmd = MPIS[mpi]["launch"] + MPIS[mpi]["bind"][bind] + argv
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=BUILD,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # our own launcher's group
        out, err = proc.communicate()
        status = f"timeout after {timeout}s"
    meta, results, errors, skipped, done = None, {}, [], [], False
    for line in out.splitlines():
        tag, _, payload = line.partition(" ")
        if not tag.startswith("BENCH_"):
            continue
        try:
            obj = json.loads(payload)
        except ValueError:
            continue
        if tag == "BENCH_META":
            meta = obj
        elif tag == "BENCH_RESULT":
            results[obj["case"]] = obj
        elif tag == "BENCH_ERROR":
            errors.append(f"{obj['case']}: {obj['error']}")
        elif tag == "BENCH_SKIP":
            skipped.append(f"{obj['case']}: skipped, {obj['reason']}")
        elif tag == "BENCH_DONE":
            done = True
    if not done and status == "ok":
        status = "incomplete"
    tail = stderr_summary(err)
    return {"cmd": cmd, "status": status, "meta": meta, "results": results,
            "errors": errors, "skipped": skipped, "stderr_tail": tail}


def stderr_summary(err):
    """The interesting part of a failed launch's stderr: a Python exception
    line if there is one, else the last lines before mpiexec's epilogue."""
    lines = [l.rstrip() for l in err.splitlines() if l.strip()]
    exc = [l for l in lines
           if re.match(r"^[A-Za-z_.]*(Error|Exception|Warning)\b.*", l)]
    if exc:
        return "\n".join(dict.fromkeys(exc[-3:]))
    body = [l for l in lines if not l.startswith("---")]
    return "\n".join(body[-4:])


def norm_library(s):
    return (s or "").replace("\x00", "").strip()


def run_mpi(mpi, args, cache):
    """All launches for one MPI library; returns the collected record."""
    record = {"mpi": mpi, "impls": {}, "library": None}
    todo = [i for i in IMPLS if i in args.impls]
    for family in args.families:
        fcases = casemod.family_cases(family, args.scale)
        c_cases = {}
        for c in fcases:
            if c.c_kind and c.c_id not in c_cases:
                c_cases[c.c_id] = casemod.Case(family, c.c_kind, c.param, *[
                    max(getattr(x, a) for x in fcases if x.c_id == c.c_id)
                    for a in ("iters", "reps", "warmup")], label=c.label)
        for rnd in range(args.rounds):
            for impl in todo:
                rec = record["impls"].setdefault(impl, {
                    "status": None, "meta": None, "runs": {}, "errors": []})
                if isinstance(rec["status"], str) and rec["status"].startswith("n/a"):
                    continue
                try:
                    argv, env, moddir = prepare(impl, mpi, family, args, cache)
                except Unavailable as exc:
                    rec["status"] = f"n/a: {exc}"
                    print(f"bench: {mpi} {impl}: n/a ({exc})", flush=True)
                    continue
                sel = c_cases.values() if impl == "C" else fcases
                argv = argv + [c.argv() if impl == "C" else f"--case={c.argv()}"
                               for c in sel]
                busy = busy_fraction()
                if busy is not None:
                    record.setdefault("busy", []).append(busy)
                t0 = time.time()
                out = launch(mpi, argv, env, args.timeout, args.bind)
                dt = time.time() - t0
                warn = ("  <- machine was busy before this launch"
                        if busy is not None and busy > BUSY_WARN else "")
                busy_txt = "?" if busy is None else f"{100 * busy:.0f}%"
                print(f"bench: {mpi:7s} {family} {impl:13s} round {rnd + 1}: "
                      f"{out['status']} ({dt:.1f}s; CPU busy before: "
                      f"{busy_txt}){warn}", flush=True)
                if out["status"] != "ok":
                    rec["errors"].append(out["status"])
                    rec["errors"] += out["errors"]
                    if out["stderr_tail"]:
                        rec["errors"].append(out["stderr_tail"])
                rec["errors"] += [s for s in out["skipped"]
                                  if s not in rec["errors"]]
                meta = out["meta"]
                if meta:
                    meta["library"] = norm_library(meta.get("library"))
                    problem = check_meta(impl, meta, moddir, record, args)
                    if problem:
                        rec["status"] = f"n/a: {problem}"
                        print(f"bench: {mpi} {impl}: REJECTED ({problem})",
                              flush=True)
                        continue
                    rec["meta"] = meta
                for cid, res in out["results"].items():
                    if not res.get("valid", True):
                        rec["errors"].append(f"{cid}: echoed data was wrong")
                        continue
                    rec["runs"].setdefault(cid, []).append(res)
                if rec["status"] is None and out["results"]:
                    rec["status"] = "ok"
                elif rec["status"] is None:
                    rec["status"] = ("n/a: no case ran" if out["status"] == "ok"
                                     else f"n/a: {out['status']}")
    return record


def check_meta(impl, meta, moddir, record, args):
    if impl == "C":
        record["library"] = meta["library"]
    elif record["library"] and meta["library"] != record["library"]:
        return (f"loaded '{meta['library'][:40]}', "
                f"not the C program's '{record['library'][:40]}'")
    if moddir and not meta.get("module", "").startswith(moddir):
        return f"imported {meta.get('module')} instead of {moddir}"
    if meta.get("thread_level") != args.thread_level:
        return f"thread level {meta.get('thread_level')} != {args.thread_level}"
    return None


# ---------------------------------------------------------------- reporting

def best(rec, cid):
    """Lowest median (or min, --stat min) over rounds (µs), or None."""
    if not rec or cid not in rec["runs"]:
        return None
    return min(r[STAT] for r in rec["runs"][cid])


def spread(rec, cid):
    """Run-to-run noise in %: with several rounds, (max-min)/min of the round
    medians; with one round, the spread of the inner reps (2nd lowest to 2nd
    highest) over their median."""
    runs = rec["runs"].get(cid) if rec else None
    if not runs:
        return None
    if len(runs) > 1:
        meds = [r[STAT] for r in runs]
        return 100.0 * (max(meds) - min(meds)) / min(meds)
    reps = sorted(runs[0]["reps_us"])
    inner = reps[1:-1] if len(reps) > 3 else reps
    return 100.0 * (inner[-1] - inner[0]) / runs[0]["median_us"]


def fmt_us(x):
    if x is None:
        return "n/a"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_ratio(x):
    return "n/a" if x is None else f"{x:.2f}"


def fmt_add(x):
    return "n/a" if x is None else f"{x:+.2f}" if abs(x) < 100 else f"{x:+,.0f}"


def sub(a, b):
    return None if a is None or b is None else a - b


def div(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def impl_label(impl, rec):
    meta = rec.get("meta") if rec else None
    if impl == "C":
        return "C"
    if impl == "fastmpi":
        return "fastmpi"
    if meta:
        return f"mpi4py-{meta['version']}"
    return "mpi4py-3.1.4" if impl == "mpi4py-debian" else "mpi4py-pypi"


def table(headers, rows, first_left=True):
    widths = [max(len(str(r[i])) for r in [headers] + rows)
              for i in range(len(headers))]
    lines = []
    for j, r in enumerate([headers] + rows):
        cells = [str(c).ljust(widths[i]) if i == 0 and first_left
                 else str(c).rjust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(record, args):
    mpi = record["mpi"]
    impls = record["impls"]
    C, FM = impls.get("C"), impls.get("fastmpi")
    D, P = impls.get("mpi4py-debian"), impls.get("mpi4py-pypi")
    labels = {k: impl_label(k, impls.get(k)) for k in IMPLS}
    out = []
    lib = record["library"] or "library unknown (C benchmark did not run)"
    out.append("")
    out.append(f"=== {MPIS[mpi]['title']}: {lib}")
    out.append(f"    2 ranks, thread level {args.thread_level}, bind-to "
               f"{args.bind}, {args.rounds} round(s), scale {args.scale}")
    for k in IMPLS:
        rec = impls.get(k)
        if not rec:
            continue
        meta = rec.get("meta") or {}
        where = meta.get("module") or ""
        st = rec["status"] or "n/a"
        note = "" if st == "ok" else f"  [{st}]"
        out.append(f"    {labels[k]:14s} {where}{note}")
        for e in rec["errors"][:4]:
            out.append("        ! " + e.replace("\n", "\n          "))
        if len(rec["errors"]) > 4:
            out.append(f"        ! ... {len(rec['errors']) - 4} more in "
                       f"{os.path.relpath(args.json, REPO)}")

    for family in args.families:
        fcases = casemod.family_cases(family, args.scale)
        out.append("")
        out.append(f"[{family}] time per {casemod.UNITS[family]}, µs; "
                   f"{STAT[:-3]} of reps, best round")
        rows = []
        for c in fcases:
            row = [c.label + (" *" if c.c_kind and c.c_kind != c.kind else "")]
            row.append(fmt_us(best(C, c.c_id)) if c.c_id else "-")
            for k in ("fastmpi", "mpi4py-debian", "mpi4py-pypi"):
                row.append(fmt_us(best(impls.get(k), c.id)))
            sp = [spread(impls.get(k), c.id if k != "C" else c.c_id)
                  for k in IMPLS]
            sp = [s for s in sp if s is not None]
            row.append(f"{max(sp):.0f}%" if sp else "")
            rows.append(row)
        out.append(table(["operation", "C", labels["fastmpi"],
                          labels["mpi4py-debian"], labels["mpi4py-pypi"],
                          "noise"], rows))
        out += ["  " + note for note in casemod.NOTES.get(family, [])]
        out.append("  noise = worst over the columns of (max-min)/min of the "
                   "round medians (1 round: inner spread of the reps)")

        out.append("")
        out.append(f"[{family}] ratios; '+X' = µs X adds over C; "
                   "'add fm/X' = fastmpi's added time / X's added time")
        rows = []
        dl, pl = labels["mpi4py-debian"], labels["mpi4py-pypi"]
        for c in fcases:
            tc = best(C, c.c_id) if c.c_id else None
            tf = best(FM, c.id)
            td = best(D, c.id)
            tp = best(P, c.id)
            af, ad, ap = sub(tf, tc), sub(td, tc), sub(tp, tc)
            rows.append([c.label + (" *" if c.c_kind and c.c_kind != c.kind
                                    else ""), fmt_ratio(div(tf, tc)),
                         fmt_ratio(div(tf, td)), fmt_ratio(div(tf, tp)),
                         fmt_add(af), fmt_add(ad), fmt_add(ap),
                         fmt_ratio(div(af, ad)), fmt_ratio(div(af, ap))])
        out.append(table(["operation", "fm/C", f"fm/{dl}", f"fm/{pl}",
                          "+fastmpi", f"+{dl}", f"+{pl}", f"add fm/{dl}",
                          f"add fm/{pl}"], rows))

        big = [c for c in fcases if c.moved and c.moved >= casemod.MiB]
        if big:
            out.append("")
            what = ("W x size per window, 2 x size per round trip"
                    if any(c.window for c in big) else
                    "bytes one way / transfer"
                    if all(c.unit == "transfer" for c in big)
                    else "2 x bytes / round trip")
            out.append(f"[{family}] bandwidth ({what}), MB/s, "
                       "and fraction of C")
            rows = []
            for c in big:
                tc = best(C, c.c_id)
                row = [c.label]
                for k in IMPLS:
                    cid = c.c_id if k == "C" else c.id
                    t = best(impls.get(k), cid)
                    bw = None if t is None else c.moved / t
                    frac = div(tc, t)
                    row.append("n/a" if bw is None else
                               f"{bw:,.0f}" + ("" if k == "C" else
                                               f" ({fmt_ratio(frac)})"))
                rows.append(row)
            out.append(table(["operation"] + [labels[k] for k in IMPLS], rows))
    out.append("")
    out.append(f"Targets ({MPIS[mpi]['title']}):")
    for family in args.families:
        out += TARGETS[family](record, labels)
    if mpi == "openmpi" and "pingpong" in args.families:
        out.append("  note: on Open MPI fastmpi's blocking Recv matches the "
                   "message first (fastmpi.rc.recv_guard),\n"
                   "        because ob1 writes a truncated large message past "
                   "the buffer; the check\n"
                   "        costs about 0.08 µs per receive (mpi4py and C "
                   "have no such check).")
    return "\n".join(out)


def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def fine(x):
    return "n/a" if x is None else f"{x:+.3f}"


def reference(record, labels):
    """The mpi4py a single-reference target compares with, and its label:
    Debian's 3.1.4, or on MPICH (where it can't run) PyPI's."""
    impls = record["impls"]
    D, P = impls.get("mpi4py-debian"), impls.get("mpi4py-pypi")
    if D and D["runs"]:
        return D, labels["mpi4py-debian"]
    if P and P["runs"] and record["mpi"] != "openmpi":
        return P, (labels["mpi4py-pypi"] +
                   " (Debian's 3.1.4 runs on Open MPI only)")
    return None, "mpi4py-3.1.4"


def pingpong_targets(record, labels):
    impls = record["impls"]
    C, FM = impls.get("C"), impls.get("fastmpi")
    D, P = impls.get("mpi4py-debian"), impls.get("mpi4py-pypi")
    MiB = casemod.MiB
    lines = []
    ref, ref_rec = reference(record, labels)
    tc, tf, tr = best(C, "buf:8"), best(FM, "buf:8"), best(ref, "buf:8")
    af, ar = sub(tf, tc), sub(tr, tc)
    ok = None if af is None or ar is None else af <= 0.5 * ar
    lines.append(f"  {verdict(ok)}  Send/Recv 8 B: fastmpi adds {fine(af)} µs "
                 f"over C, <= 0.5 x {ref_rec}'s {fine(ar)} µs"
                 + (f" (ratio {af / ar:.3f})" if ok is not None and ar else ""))
    to, tb = best(FM, f"objarr:{MiB}"), best(FM, f"buf:{MiB}")
    r = div(to, tb)
    ok = None if r is None else r <= 1.5
    lines.append(f"  {verdict(ok)}  send/recv ndarray 1 MiB <= 1.5 x Send/Recv "
                 f"1 MiB (fastmpi): {fmt_us(to)} vs {fmt_us(tb)} µs, "
                 f"ratio {'n/a' if r is None else f'{r:.3f}'}")
    for n, name in ((MiB, "1 MiB"), (16 * MiB, "16 MiB")):
        frac = div(best(C, f"buf:{n}"), best(FM, f"buf:{n}"))
        ok = None if frac is None else frac >= 0.97
        lines.append(f"  {verdict(ok)}  Send/Recv {name} bandwidth >= 0.97 x C: "
                     f"{'n/a' if frac is None else f'{frac:.3f}'}")
    return lines


def coll_targets(record, labels):
    impls = record["impls"]
    C, FM = impls.get("C"), impls.get("fastmpi")
    ref, ref_rec = reference(record, labels)
    lines = []
    tc, tf, tr = (best(C, "allreduce_buf:8"), best(FM, "allreduce_buf:8"),
                  best(ref, "allreduce_buf:8"))
    af, ar = sub(tf, tc), sub(tr, tc)
    ok = None if af is None or ar is None else af <= 0.5 * ar
    lines.append(f"  {verdict(ok)}  Allreduce 8 B: fastmpi adds {fine(af)} "
                 f"µs over C, <= 0.5 x {ref_rec}'s {fine(ar)} µs")
    to = best(FM, "allreduce_obj:8")
    r = div(to, tc)
    ok = None if r is None else r <= 2.0
    lines.append(f"  {verdict(ok)}  allreduce float <= 2 x C's Allreduce "
                 f"8 B: {fmt_us(to)} vs {fmt_us(tc)} µs, ratio "
                 f"{'n/a' if r is None else f'{r:.2f}'}")
    return lines


def nonblocking_targets(record, labels):
    impls = record["impls"]
    C, FM = impls.get("C"), impls.get("fastmpi")
    fcases = {c.id: c for c in casemod.nonblocking_cases()}
    lines = []
    for n, w in casemod.WINDOWS:
        c = fcases[f"win:{n}x{w}"]
        tc, tf = best(C, c.c_id), best(FM, c.id)
        frac = div(tc, tf)
        ok = None if frac is None else frac >= 0.97
        mbs = (lambda t: "n/a" if t is None else f"{c.moved / t:,.0f}")
        lines.append(f"  {verdict(ok)}  {c.label} bandwidth >= 0.97 x C: "
                     f"{'n/a' if frac is None else f'{frac:.3f}'} "
                     f"({mbs(tf)} vs {mbs(tc)} MB/s)")
    for cid in ("ipp:8", "inull:8"):
        c = fcases[cid]
        tc, tf = best(C, c.c_id), best(FM, c.id)
        af = sub(tf, tc)
        refs = [k for k in ("mpi4py-debian", "mpi4py-pypi")
                if impls.get(k) and impls[k]["runs"]]
        for k in refs or ["mpi4py-debian"]:
            ar = sub(best(impls.get(k), c.id), tc)
            ok = None if af is None or ar is None else af <= 0.5 * ar
            lines.append(f"  {verdict(ok)}  {c.label}: fastmpi adds "
                         f"{fine(af)} µs over C, <= 0.5 x {labels[k]}'s "
                         f"{fine(ar)} µs"
                         + (f" (ratio {af / ar:.3f})"
                            if ok is not None and ar else ""))
    return lines


def strided_targets(record, labels):
    """fastmpi sending / receiving a strided view at least 1.5x faster than
    each mpi4py's only route (a contiguous copy)."""
    impls = record["impls"]
    FM = impls.get("fastmpi")
    refs = [k for k in ("mpi4py-debian", "mpi4py-pypi")
            if impls.get(k) and impls[k]["runs"]] or ["mpi4py-debian"]
    lines = []
    for c in casemod.strided_cases():
        if c.kind not in ("sv_send", "sv_recv"):
            continue
        tf = best(FM, c.id)
        for k in refs:
            tm = best(impls.get(k), c.id)
            r = div(tm, tf)
            ok = None if r is None else r >= 1.5
            lines.append(f"  {verdict(ok)}  {c.label}: {labels[k]}'s copy "
                         f"route / fastmpi >= 1.5: "
                         f"{'n/a' if r is None else f'{r:.2f}'} "
                         f"({fmt_us(tm)} vs {fmt_us(tf)} µs)")
    return lines


TARGETS = {
    "strided": strided_targets,
    "pingpong": pingpong_targets,
    "nonblocking": nonblocking_targets,
    "coll": coll_targets,
}


def cpu_times():
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals[:8]), idle


def busy_fraction(seconds=0.3):
    """Fraction of all CPUs busy during a short sample (we are idle then)."""
    try:
        t0, i0 = cpu_times()
        time.sleep(seconds)
        t1, i1 = cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    return None if t1 == t0 else 1.0 - (i1 - i0) / (t1 - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--mpi", choices=("openmpi", "mpich", "both"), default="both",
                   help="MPI library/libraries to compare on (default both)")
    p.add_argument("--impls", default=",".join(IMPLS),
                   help=f"comma list from {','.join(IMPLS)}")
    p.add_argument("--families", default=",".join(casemod.FAMILIES),
                   help=f"comma list from {','.join(casemod.FAMILIES)}")
    p.add_argument("--scale", type=float, default=1.0,
                   help="iteration-count multiplier (default 1.0)")
    p.add_argument("--rounds", type=int, default=3,
                   help="repeat all launches N times, keep the best median (default 3)")
    p.add_argument("--stat", choices=("median", "min"), default="median",
                   help="statistic over the repetitions of a launch")
    p.add_argument("--thread-level", default="multiple",
                   choices=("single", "funneled", "serialized", "multiple"))
    p.add_argument("--bind", choices=("core", "none"), default="core",
                   help="process binding passed to mpiexec (default core)")
    p.add_argument("--timeout", type=float, default=240,
                   help="seconds per launch (default 240)")
    p.add_argument("--no-stage", action="store_true",
                   help="use build/<mpi>/lib as it is, no 'make stage'")
    p.add_argument("--fastmpi-lib", metavar="DIR",
                   help="use the fastmpi package under DIR ('{mpi}' is replaced "
                        "by openmpi/mpich) instead of staging build/<mpi>/lib")
    p.add_argument("--json", default=os.path.join(BUILD, "results.json"),
                   help="where to write raw results")
    args = p.parse_args()
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    args.families = [f.strip() for f in args.families.split(",") if f.strip()]
    for i in args.impls:
        if i not in IMPLS:
            p.error(f"unknown implementation {i!r}")
    for f in args.families:
        if f not in casemod.FAMILIES:
            p.error(f"unknown family {f!r}")
    global STAT
    STAT = args.stat + "_us"
    mpis = ["openmpi", "mpich"] if args.mpi == "both" else [args.mpi]

    t0 = time.time()
    busy0 = busy_fraction(1.0)
    if busy0 is not None and busy0 > BUSY_WARN:
        print(f"bench: warning: the CPUs are {100 * busy0:.0f}% busy with other "
              "work; on this 2-core machine that skews the numbers badly",
              flush=True)
    cache, records = {}, []
    for mpi in mpis:
        records.append(run_mpi(mpi, args, cache))
    text = "\n".join(report(r, args) for r in records)
    print(text)
    busy = [b for r in records for b in r.get("busy", [])]
    print(f"\ntotal {time.time() - t0:.0f}s; other CPU load sampled before each "
          f"launch: max {100 * max(busy, default=0):.0f}%"
          + ("  (SUSPECT: machine not idle)" if max(busy, default=0) > BUSY_WARN
             else "  (machine idle)"))
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"args": vars(args), "records": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
