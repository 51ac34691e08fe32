"""MPI used before MPI.Init() or after MPI.Finalize(): both MPI libraries
kill the process for that, so fastmpi must raise MPI.Exception instead.
Each case in a fresh interpreter (a singleton, no mpiexec)."""
from conftest import py

CALLS = """
import numpy as np
calls = {
    "Get_rank": lambda: MPI.COMM_WORLD.Get_rank(),
    "Send": lambda: MPI.COMM_WORLD.Send(np.zeros(1), MPI.PROC_NULL),
    "send": lambda: MPI.COMM_WORLD.send(1, 0),
    "recv": lambda: MPI.COMM_WORLD.recv(source=MPI.PROC_NULL),
    "Barrier": lambda: MPI.COMM_WORLD.Barrier(),
    "Dup": lambda: MPI.COMM_SELF.Dup(),
    "Abort": lambda: MPI.COMM_WORLD.Abort(3),
    "Wtime": MPI.Wtime,
    "Query_thread": MPI.Query_thread,
    "Get_processor_name": MPI.Get_processor_name,
    "Get_size": lambda: MPI.DOUBLE.Get_size(),
    "Get_count": lambda: MPI.Status().Get_count(),
    "Get_error_string": lambda: MPI.Get_error_string(MPI.ERR_RANK),
    "Attach_buffer": lambda: MPI.Attach_buffer(bytearray(100)),
    "Finalize": MPI.Finalize,
}
def check_all(word):
    for name, call in calls.items():
        try:
            call()
        except MPI.Exception as exc:
            assert exc.Get_error_class() == MPI.ERR_OTHER, name
            notes = " ".join(getattr(exc, "__notes__", []))
            assert word in notes, (name, notes)
            assert str(exc)  # no MPI call behind the text
        else:
            raise AssertionError(name + " did not raise")
    repr(MPI.DOUBLE)
"""


def test_calls_before_init_raise(target):
    res = py(target, "import PKG\n"
                     "PKG.rc.initialize = False\n"
                     "from PKG import MPI\n" + CALLS + """
check_all("not initialized")
MPI.Init()
assert MPI.COMM_WORLD.Get_size() == 1
print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res


def test_calls_after_finalize_raise(target):
    res = py(target, "from PKG import MPI\n" + CALLS + """
MPI.Finalize()
assert MPI.Is_finalized()
check_all("finalized")
try:
    MPI.Init()
except MPI.Exception as exc:
    assert "cannot be initialized again" in " ".join(exc.__notes__)
else:
    raise AssertionError("Init after Finalize did not raise")
print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res


def test_init_twice_raises(target):
    res = py(target, """from PKG import MPI
try:
    MPI.Init_thread()
except MPI.Exception as exc:
    assert "already initialized" in " ".join(exc.__notes__)
    print("OK")
""")
    assert res.returncode == 0 and "OK" in res.out, res
