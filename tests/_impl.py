"""Which MPI module the suite tests, and small helpers shared by test files.

FASTMPI_TEST_IMPL=fastmpi (default) tests ``fastmpi.MPI``;
FASTMPI_TEST_IMPL=mpi4py tests Debian's ``mpi4py.MPI`` instead (reference run,
Open MPI only), which is how the suite itself is validated.
"""
import os

IMPL = os.environ.get("FASTMPI_TEST_IMPL", "fastmpi")
if IMPL == "mpi4py":
    from mpi4py import MPI  # noqa: F401
elif IMPL == "fastmpi":
    from fastmpi import MPI  # noqa: F401
else:
    raise ImportError(f"FASTMPI_TEST_IMPL must be fastmpi or mpi4py, not {IMPL!r}")

_libver = MPI.Get_library_version()
if "MPICH" in _libver:
    FLAVOR = "mpich"
elif "Open MPI" in _libver:
    FLAVOR = "openmpi"
else:
    FLAVOR = "unknown"


def peer(comm):
    """Partner rank for pairwise tests: 0<->1, 2<->3, ...; an odd last rank
    (and the only rank at size 1) is its own partner."""
    rank, size = comm.Get_rank(), comm.Get_size()
    p = rank ^ 1
    return p if p < size else rank


def error_class(exc):
    """The MPI error class carried by an MPI.Exception."""
    return exc.Get_error_class()


# A blocking send to oneself may wait for the matching receive (MPICH 4.0
# does, even for tiny messages): never Send-then-Recv on one thread.

import threading as _threading
import time as _time


# MPICH 4.0.2 bug, reproduced in plain C: a receive from one's own rank
# that is already blocked in one thread never matches a message another
# thread of the same process then sends to itself (any job size).  Open MPI
# has no such problem.  Self-paired tests therefore wait, on MPICH, until
# the message has arrived (polling Iprobe) before they post the receive.
SELF_RECV_BLOCKS_FOREVER = FLAVOR == "mpich"
# Open MPI 4.1.4 bug, reproduced in plain C: a receive from one's own rank
# posted before the message arrives, into a buffer that is too small,
# returns MPI_SUCCESS with the data silently cut (status error 0).  Tests of
# truncation on a self-paired rank therefore wait for the message on every
# library (always=True), so they check the path where MPI reports it.
MPICH_SELF_THREAD_BUG = (
    "MPICH 4.0.2: a blocked receive from one's own rank never matches a "
    "send from another thread of the same process (reproduced in C)")


def wait_for_self_message(comm, source, tag, timeout=60.0, always=False):
    """On MPICH (or always), poll until a message from `source` is there
    (see above)."""
    if not (SELF_RECV_BLOCKS_FOREVER or always):
        return
    import time
    deadline = time.monotonic() + timeout
    while not comm.Iprobe(source=source, tag=tag):
        if time.monotonic() > deadline:
            raise AssertionError("send to self did not arrive")
        time.sleep(0.0005)


def self_transfer(send, recv, timeout=60.0, comm=None, source=None,
                  tag=None):
    """Call send() on a helper thread and recv() on this one; return recv()'s
    result.  Re-raises an exception from either side.  With comm, source
    and tag given, recv() waits on MPICH for the message first."""
    err = []

    def run():
        try:
            send()
        except BaseException as exc:  # noqa: BLE001
            err.append(exc)

    t = _threading.Thread(target=run, daemon=True)
    t.start()
    try:
        if comm is not None:
            wait_for_self_message(comm, source, tag, timeout)
        result = recv()
    finally:
        t.join(timeout)
    if t.is_alive():
        raise AssertionError("send to self did not complete")
    if err:
        raise err[0]
    return result


class Sender:
    """Context manager: send() runs on a helper thread; joined on exit."""

    def __init__(self, send, timeout=60.0, wait=None):
        """wait=(comm, source, tag): on entry, on MPICH, wait until the
        message is there (see SELF_RECV_BLOCKS_FOREVER)."""
        self.send = send
        self.timeout = timeout
        self.wait = wait
        self.err = []

    def __enter__(self):
        def run():
            try:
                self.send()
            except BaseException as exc:  # noqa: BLE001
                self.err.append(exc)
        self.thread = _threading.Thread(target=run, daemon=True)
        self.thread.start()
        if self.wait is not None:
            wait_for_self_message(*self.wait, timeout=self.timeout)
        return self

    def __exit__(self, *exc):
        self.thread.join(self.timeout)
        if self.thread.is_alive():
            raise AssertionError("send to self did not complete")
        if self.err and exc[0] is None:
            raise self.err[0]
        return False


class Drain:
    """Context manager for tests that expect a send to oneself to FAIL: a
    helper thread receives (as raw bytes) anything that does get sent, so a
    wrongly accepted send cannot block forever.  .received lists payloads."""

    def __init__(self, comm, source=None, tag=None):
        self.comm = comm
        self.source = MPI.ANY_SOURCE if source is None else source
        self.tag = MPI.ANY_TAG if tag is None else tag
        self.received = []
        self.stop = _threading.Event()

    def _poll(self):
        st = MPI.Status()
        while self.comm.Iprobe(source=self.source, tag=self.tag, status=st):
            buf = bytearray(st.Get_count(MPI.BYTE))
            self.comm.Recv([buf, MPI.BYTE], source=st.Get_source(),
                           tag=st.Get_tag())
            self.received.append(bytes(buf))

    def _run(self):
        while not self.stop.is_set():
            self._poll()
            _time.sleep(0.001)
        self._poll()

    def __enter__(self):
        self.thread = _threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        return False


# MPICH 4.0.2 bug, reproduced in plain C: MPI_Irecv from MPI_PROC_NULL
# completes with status source 0 and tag 0, a started MPI_Recv_init from it
# with source MPI_ANY_SOURCE (MPI_Recv gives MPI_PROC_NULL and MPI_ANY_TAG,
# as the standard says).  Count is 0 every time.
# fastmpi corrects the status itself (request.c).
MPICH_IRECV_PROC_NULL_STATUS = FLAVOR == "mpich" and IMPL != "fastmpi"
# MPICH 4.0.2 bug, reproduced in plain C: MPI_Isendrecv completes with a
# status that is not its own (source 0, tag 0, count 0 in a fresh process;
# later the source/tag/count of some earlier, unrelated operation), and
# reports no truncation when the message is longer than the receive buffer
# (nothing is written past the buffer).  Open
# MPI 4.1 has no MPI_Isendrecv at all (MPI 3.1).
MPICH_ISENDRECV_STATUS_WRONG = FLAVOR == "mpich"


def check_proc_null_status(st):
    """Assert `st` is the status of a receive from MPI.PROC_NULL (on MPICH a
    nonblocking or persistent one may carry the library's source 0 / tag 0
    or MPI.ANY_SOURCE / MPI.ANY_TAG, see above)."""
    assert st.Get_count() == 0
    expected = (MPI.PROC_NULL, MPI.ANY_TAG)
    got = (st.Get_source(), st.Get_tag())
    if MPICH_IRECV_PROC_NULL_STATUS:
        assert got in (expected, (0, 0), (MPI.ANY_SOURCE, MPI.ANY_TAG)), got
    else:
        assert got == expected


# AddressSanitizer (make asan) keeps freed memory in a quarantine, so RSS
# growth says nothing under it: leak tests check RSS only when this is
# False (Python's block count still applies).
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def rss_kb():
    """This process's resident memory, in KiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
