"""Benchmark cases, shared by run.py, the Python family scripts and (through
argv) the C programs, so every implementation runs exactly the same work.

A case travels on the command line as ``kind:param:iters:reps:warmup``:

  kind    what the family script does (``buf``, ``obj``, ``objarr``, ``barrier``)
  param   its size in bytes, or a name (``int``, ``dict``) for small objects
  iters   timed iterations per repetition
  reps    timed repetitions (the table reports the median of them)
  warmup  untimed iterations run first (page faults, registration, caches)

Iteration counts come from a rough cost model so that one repetition takes
about ``REP_SECONDS``
(estimates are for an idle machine); ``scale`` multiplies them (``run.py --scale 0.2`` for a
quick smoke run).  Adding a family = a function here + bench/<family>.py +
bench/c/<family>.c.
"""

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
REP_SECONDS = 0.05


def human_size(n):
    if n >= MiB and n % MiB == 0:
        return f"{n // MiB} MiB"
    if n >= KiB and n % KiB == 0:
        return f"{n // KiB} KiB"
    return f"{n} B"


@dataclass
class Case:
    family: str
    kind: str
    param: str          # bytes as a decimal string, or an object name
    iters: int
    reps: int
    warmup: int
    label: str
    c_kind: str = ""    # kind the C program runs for its reference ("" = none)
    unit: str = "round trip"

    @property
    def id(self):
        return f"{self.kind}:{self.param}"

    @property
    def c_id(self):
        return f"{self.c_kind}:{self.param}" if self.c_kind else ""

    @property
    def nbytes(self):
        return int(self.param) if self.param.isdigit() else None

    def argv(self):
        return f"{self.kind}:{self.param}:{self.iters}:{self.reps}:{self.warmup}"


def parse_case(text, family):
    kind, param, iters, reps, warmup = text.split(":")
    return Case(family, kind, param, int(iters), int(reps), int(warmup), text)


def _counts(est_seconds, scale, lo=10, hi=200000):
    iters = int(REP_SECONDS / est_seconds)
    iters = max(lo, min(hi, iters))
    iters = max(2, int(iters * scale))
    reps = 7 if est_seconds < 1e-3 else 5
    warmup = max(2, iters // 5)
    return iters, reps, warmup


def pingpong_cases(scale=1.0):
    cases = []
    # Send/Recv of numpy uint8 buffers; C does the same with MPI_BYTE.
    for n in (0, 8, KiB, 64 * KiB, MiB, 16 * MiB):
        est = 0.6e-6 + 2 * n / 10e9
        it, reps, wu = _counts(est, scale)
        cases.append(Case("pingpong", "buf", str(n), it, reps, wu,
                          f"Send/Recv {human_size(n)}", c_kind="buf"))
    # send/recv of small pickled objects (no C counterpart).
    for name, label in (("int", "send/recv int"), ("dict", "send/recv small dict")):
        it, reps, wu = _counts(2e-6, scale)
        cases.append(Case("pingpong", "obj", name, it, reps, wu, label))
    # send/recv of numpy arrays as objects; C reference = Send/Recv same bytes.
    for n in (8, MiB, 16 * MiB):
        est = 10e-6 + 2 * n / 2e9   # in-band pickling copies (mpi4py)
        it, reps, wu = _counts(est, scale)
        cases.append(Case("pingpong", "objarr", str(n), it, reps, wu,
                          f"send/recv ndarray {human_size(n)}", c_kind="buf"))
    it, reps, wu = _counts(0.4e-6, scale)
    cases.append(Case("pingpong", "barrier", "0", it, reps, wu, "Barrier",
                      c_kind="barrier", unit="call"))
    return cases


def coll_cases(scale=1.0):
    cases = []
    # Allreduce (SUM) of doubles and Bcast of bytes; C does the same.
    for n in (8, MiB):
        it, reps, wu = _counts(1.0e-6 + 3 * n / 4e9, scale)
        cases.append(Case("coll", "allreduce_buf", str(n), it, reps, wu,
                          f"Allreduce {human_size(n)}",
                          c_kind="allreduce_buf", unit="call"))
    for n in (8, MiB):
        it, reps, wu = _counts(0.8e-6 + n / 4e9, scale)
        cases.append(Case("coll", "bcast_buf", str(n), it, reps, wu,
                          f"Bcast {human_size(n)}", c_kind="bcast_buf",
                          unit="call"))
    # allreduce of a Python float: its C reference is Allreduce of 8 B.
    it, reps, wu = _counts(1.5e-6, scale)
    cases.append(Case("coll", "allreduce_obj", "8", it, reps, wu,
                      "allreduce float", c_kind="allreduce_buf",
                      unit="call"))
    it, reps, wu = _counts(3e-6, scale)
    cases.append(Case("coll", "bcast_obj", "dict", it, reps, wu,
                      "bcast small dict", unit="call"))
    return cases


FAMILIES = {
    "pingpong": pingpong_cases,
    "coll": coll_cases,
}


def family_cases(family, scale=1.0):
    return FAMILIES[family](scale)
