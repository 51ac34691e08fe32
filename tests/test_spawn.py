"""Starting processes: Intracomm.Spawn and Spawn_multiple from COMM_SELF
and COMM_WORLD, the child's Comm.Get_parent, errcodes, arguments given at
root only, and the bad inputs of each.  The children are Python started
with -c (no script file to share between hosts); each reports back over
the intercommunicator.  Where the library cannot spawn here (Debian's
MPICH 4.0.2 over UCX), every rank gets MPI.Exception at once."""
import os
import sys

import pytest

from _impl import MPI, IMPL

pytestmark = pytest.mark.skipif(IMPL != "fastmpi", reason="fastmpi's API")

# the package the parent runs, for the children's sys.path
PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(MPI.__file__)))

CHILD = f"""
import sys
sys.path.insert(0, {PKG_DIR!r})
from fastmpi import MPI
parent = MPI.Comm.Get_parent()
assert isinstance(parent, MPI.Intercomm) and parent != MPI.COMM_NULL
world = MPI.COMM_WORLD
parent.send((world.Get_rank(), world.Get_size(), sys.argv[1:]), dest=0,
            tag=77)
parent.Barrier()
parent.Disconnect()
assert parent == MPI.COMM_NULL
"""


def spawn_or_none(comm, call):
    """call(), or None on every rank when the library cannot spawn here
    (the same answer on all ranks, so none waits for the others)."""
    try:
        child, err = call(), None
    except MPI.Exception as e:
        child, err = None, e
    failed = comm.allreduce(child is None, op=MPI.LOR)
    if failed:
        assert err is not None, "spawn failed on another rank only"
        assert err.Get_error_class() != MPI.SUCCESS
        assert "spawn" in err.Get_error_string().lower()
        # fastmpi says what to do instead
        assert "could not start the processes" in str(err), err
        assert "mpiexec -n N" in str(err), err
        return None
    return child


def finish(comm, child):
    child.Barrier()
    child.Disconnect()
    assert child == MPI.COMM_NULL
    comm.Barrier()


@pytest.mark.parametrize("which", ["self", "world"])
def test_spawn(comm, rank, which):
    parent = MPI.COMM_SELF if which == "self" else comm
    codes = []
    child = spawn_or_none(comm, lambda: parent.Spawn(
        sys.executable, ["-c", CHILD, "a", "b"], maxprocs=2,
        errcodes=codes))
    if child is None:
        pytest.skip("the MPI library cannot spawn here")
    assert isinstance(child, MPI.Intercomm)
    assert child.Get_remote_size() == 2
    assert child.Get_size() == parent.Get_size()
    assert codes == [MPI.SUCCESS, MPI.SUCCESS]
    if child.Get_rank() == 0:
        got = sorted(child.recv(source=i, tag=77) for i in range(2))
        assert got == [(0, 2, ["a", "b"]), (1, 2, ["a", "b"])]
    finish(comm, child)


def test_spawn_arguments_at_root_only(comm, rank):
    if rank == 0:
        call = lambda: comm.Spawn(sys.executable, ["-c", CHILD],  # noqa
                                  maxprocs=1, root=0)
    else:
        call = lambda: comm.Spawn(None, None, -1, root=0)  # noqa
    child = spawn_or_none(comm, call)
    if child is None:
        pytest.skip("the MPI library cannot spawn here")
    assert child.Get_remote_size() == 1
    if rank == 0:
        assert child.recv(source=0, tag=77) == (0, 1, [])
    finish(comm, child)


def test_spawn_multiple_errcodes_where_asked(comm, rank):
    # the root's arguments start the processes; each rank's errcodes get
    # the codes of what it asked for, and stay as they are where it asked
    # for nothing (None, None, -1 on the other ranks)
    codes = ["untouched"]
    if rank == 0:
        call = lambda: comm.Spawn_multiple(  # noqa: E731
            [sys.executable] * 2, [["-c", CHILD]] * 2, [1, 2],
            errcodes=codes)
    else:
        call = lambda: comm.Spawn_multiple(None, None, -1,  # noqa: E731
                                           errcodes=codes)
    child = spawn_or_none(comm, call)
    if child is None:
        pytest.skip("the MPI library cannot spawn here")
    assert child.Get_remote_size() == 3
    if rank == 0:
        assert codes == [[MPI.SUCCESS], [MPI.SUCCESS, MPI.SUCCESS]]
        for i in range(3):
            child.recv(source=i, tag=77)
    else:
        assert codes == ["untouched"]
    finish(comm, child)


def test_spawn_multiple(comm, rank):
    codes = []
    cmds = [sys.executable] * 2
    args = [["-c", CHILD, "first"], ["-c", CHILD, "second"]]
    child = spawn_or_none(comm, lambda: comm.Spawn_multiple(
        cmds, args, [1, 2], info=[MPI.INFO_NULL] * 2, errcodes=codes))
    if child is None:
        pytest.skip("the MPI library cannot spawn here")
    assert child.Get_remote_size() == 3
    assert codes == [[MPI.SUCCESS], [MPI.SUCCESS, MPI.SUCCESS]]
    if child.Get_rank() == 0:
        got = sorted(child.recv(source=i, tag=77) for i in range(3))
        assert got == [(0, 3, ["first"]), (1, 3, ["second"]),
                       (2, 3, ["second"])]
    finish(comm, child)
    # maxprocs None: one each; one Info for all
    child = spawn_or_none(comm, lambda: comm.Spawn_multiple(
        cmds, args, None, MPI.INFO_NULL))
    assert child is not None
    assert child.Get_remote_size() == 2
    if child.Get_rank() == 0:
        for i in range(2):
            child.recv(source=i, tag=77)
    finish(comm, child)


def test_spawn_bad_inputs(comm):
    s = MPI.COMM_SELF
    with pytest.raises(TypeError, match="'command' must be str"):
        s.Spawn(3.5)
    with pytest.raises(TypeError, match="'args' must be a sequence"):
        s.Spawn(sys.executable, "-c")
    with pytest.raises(TypeError, match="'args'"):
        s.Spawn(sys.executable, [b"ok", 7])
    with pytest.raises(ValueError, match="NUL"):
        s.Spawn("py\0thon")
    with pytest.raises(ValueError, match="'maxprocs' is 0"):
        s.Spawn(sys.executable, maxprocs=0)
    with pytest.raises(TypeError, match="'errcodes' must be a list"):
        s.Spawn(sys.executable, errcodes=())
    with pytest.raises(TypeError, match="'command' must be a sequence"):
        s.Spawn_multiple(sys.executable)
    with pytest.raises(ValueError, match="at least one command"):
        s.Spawn_multiple([])
    with pytest.raises(ValueError, match="'args' has 1 items; command has 2"):
        s.Spawn_multiple([sys.executable] * 2, [["-c", "0"]])
    with pytest.raises(ValueError, match="'maxprocs' item 1 is 0"):
        s.Spawn_multiple([sys.executable] * 2, None, [1, 0])
    with pytest.raises(TypeError, match="'maxprocs' must hold ints"):
        s.Spawn_multiple([sys.executable], None, ["1"])
    with pytest.raises(ValueError, match="'info' has 1 items"):
        s.Spawn_multiple([sys.executable] * 2, None, 1, [MPI.INFO_NULL])
    with pytest.raises(MPI.Exception) as e:
        MPI.Intracomm().Spawn(sys.executable)
    assert e.value.Get_error_class() == MPI.ERR_COMM
    # a parent-less process has a null parent
    assert MPI.Comm.Get_parent() == MPI.COMM_NULL
