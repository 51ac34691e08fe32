"""Benchmark cases, shared by run.py, the Python family scripts and (through
argv) the C programs, so every implementation runs exactly the same work.

A case travels on the command line as ``kind:param:iters:reps:warmup``:

  kind    what the family script does (``buf``, ``obj``, ``objarr``, ``barrier``,
          ``win``, ``ipp``, ...)
  param   its size in bytes, a name (``int``, ``dict``) for small objects, or
          ``<bytes>x<W>`` for a window of W messages of that size
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
        """Bytes per message, or None for a named object."""
        size = self.param.partition("x")[0]
        return int(size) if size.isdigit() else None

    @property
    def window(self):
        """W of a ``<bytes>x<W>`` param (messages per window), else 0."""
        w = self.param.partition("x")[2]
        return int(w) if w.isdigit() else 0

    @property
    def moved(self):
        """Payload bytes one timed iteration moves (for MB/s): W x size one
        way for a window, 2 x size for a round trip, else None."""
        if self.nbytes is None:
            return None
        if self.unit == "window":
            return self.nbytes * self.window
        if self.unit == "round trip":
            return 2 * self.nbytes
        if self.unit == "transfer":
            return self.nbytes
        return None     # a call, or a PROC_NULL window: nothing moves

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


# Nonblocking family (bench/nonblocking.py, bench/c/nonblocking.c).  The
# window W shrinks with the size so that a window stays <= 64 MiB.  Cost
# estimates are those of the slowest column (mpi4py on Open MPI), so that a
# launch stays near 5 s.
WINDOWS = ((64 * KiB, 64), (MiB, 16), (16 * MiB, 4))


def nonblocking_cases(scale=1.0):
    cases = []
    # Windowed bandwidth: W Isend / W Irecv, Waitall, 1-byte ack back.
    for n, w in WINDOWS:
        est = 5e-6 + w * n / 3.5e9
        it, reps, wu = _counts(est, scale, lo=4)
        cases.append(Case("nonblocking", "win", f"{n}x{w}", it, reps, wu,
                          f"Isend/Irecv x{w} {human_size(n)}", c_kind="win",
                          unit="window"))
    # Isend+Wait / Irecv+Wait ping-pong; same calls in C.
    for n in (8, MiB):
        est = 3e-6 + 2 * n / 3.5e9
        it, reps, wu = _counts(est, scale)
        cases.append(Case("nonblocking", "ipp", str(n), it, reps, wu,
                          f"Isend+Wait/Irecv+Wait {human_size(n)}",
                          c_kind="ipp"))
    # Isend+Wait to PROC_NULL in a loop: the binding's own cost per call.
    it, reps, wu = _counts(0.5e-6, scale)
    cases.append(Case("nonblocking", "inull", "8", it, reps, wu,
                      "Isend+Wait PROC_NULL 8 B", c_kind="inull", unit="call"))
    # 64 Isends to PROC_NULL + one Waitall: the binding's cost of a window.
    it, reps, wu = _counts(40e-6, scale)
    cases.append(Case("nonblocking", "inullwin", "8x64", it, reps, wu,
                      "Isend x64 PROC_NULL + Waitall", c_kind="inullwin",
                      unit="PROC_NULL window"))
    # isend(obj).wait() / irecv().wait() of small objects (no C counterpart).
    for name, est in (("int", 5e-6), ("dict", 8e-6)):
        it, reps, wu = _counts(est, scale)
        cases.append(Case("nonblocking", "iobj", name, it, reps, wu,
                          f"isend/irecv {'small ' if name == 'dict' else ''}"
                          f"{name}"))
    # A 1 MiB ndarray as an object; C reference = Isend/Irecv of the bytes.
    # iobjarr: fastmpi's irecv() takes no buffer, mpi4py gets a 2 MiB
    # bytearray (without one it fails above 32 KiB); iobjbuf: every
    # implementation receives into a preallocated 2 MiB bytearray.
    for kind, how in (("iobjarr", ""), ("iobjbuf", " irecv(buf)")):
        mark = " \N{DAGGER}" if kind == "iobjarr" else ""
        est = 20e-6 + 2 * MiB / 1.6e9
        it, reps, wu = _counts(est, scale)
        cases.append(Case("nonblocking", kind, str(MiB), it, reps, wu,
                          f"isend/irecv{how} ndarray 1 MiB{mark}",
                          c_kind="ipp"))
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


# Strided family (bench/strided.py, bench/c/strided.c): a[::2] of 16 MiB
# of float64, 8 MiB of data, one way plus a 1-byte ack.
STRIDED_BYTES = 8 * MiB


def strided_cases(scale=1.0):
    cases = []
    for kind, label in (("sv_send", "Send a[::2] -> contiguous"),
                        ("sv_recv", "Send contiguous -> Recv b[::2]"),
                        ("sv_send_hv", "  same, fastmpi hvector layout"),
                        ("sv_send_rs", "  same, fastmpi resized layout"),
                        ("sv_recv_hv", "  Recv b[::2], hvector layout"),
                        ("sv_recv_rs", "  Recv b[::2], resized layout")):
        it, reps, wu = _counts(8e-3, scale, lo=4)
        cases.append(Case("strided", kind, str(STRIDED_BYTES), it, reps, wu,
                          f"{label} 8 MiB", c_kind=kind[:7],
                          unit="transfer"))
    return cases


FAMILIES = {
    "pingpong": pingpong_cases,
    "coll": coll_cases,
    "nonblocking": nonblocking_cases,
    "strided": strided_cases,
}

# What one timed iteration is, for the table headers.
UNITS = {
    "pingpong": "round trip (Barrier: per call)",
    "coll": "call",
    "nonblocking": ("window (xW rows and PROC_NULL + Waitall), round "
                    "trip, or call (Isend+Wait PROC_NULL)"),
    "strided": "transfer (8 MiB one way + 1-byte ack)",
}

# Footnotes under a family's time table.
NOTES = {
    "strided": [
        "fastmpi: Send(a[::2]) / Recv(b[::2]), a derived datatype, no "
        "copy; mpi4py refuses non-contiguous buffers, so its column is its "
        "only route: np.ascontiguousarray then Send / Recv then b[::2] = "
        "tmp.  C: MPI_Type_vector(n, 1, 2, MPI_DOUBLE).",
        "* C column = C's row above (the layout rows vary only fastmpi's "
        "type for the outer dimension; its default is hvector on Open MPI, "
        "a count of resized items on MPICH).",
    ],
    "pingpong": [
        "* C column = C Send/Recv of the same number of bytes.",
    ],
    "nonblocking": [
        "xW = a window of W Isends (rank 0) / W Irecvs (rank 1), Waitall, "
        "1-byte ack back.",
        "* C column = C Isend+Wait/Irecv+Wait ping-pong of the same number "
        "of bytes.",
        "\N{DAGGER} fastmpi: irecv() without a buffer; mpi4py: "
        "irecv(bytearray(2 MiB)) (without one it can't take > 32 KiB).",
    ],
}


def family_cases(family, scale=1.0):
    return FAMILIES[family](scale)
