"""Ports and names: Open_port/Close_port, Intracomm.Accept/Connect between
ranks of one job (the port name travels over COMM_WORLD), Comm.Join over a
socket pair, the name service, and the bad inputs of each."""
import socket

import pytest

from _impl import MPI, IMPL

pytestmark = pytest.mark.skipif(IMPL != "fastmpi", reason="fastmpi's API")


def open_port_or_reason():
    """A port, or None with the library's reason when it has no ports
    (MPICH 4.0.2 over UCX: "not supported with ucx netmod")."""
    try:
        return MPI.Open_port(), None
    except MPI.Exception as e:
        assert e.Get_error_class() != MPI.SUCCESS
        assert "not supported" in e.Get_error_string(), e
        return None, e.Get_error_string()


def test_open_close_port():
    port, reason = open_port_or_reason()
    if port is None:
        pytest.skip(f"the MPI library has no ports here: {reason}")
    assert isinstance(port, str) and port
    MPI.Close_port(port)
    port = MPI.Open_port(info=MPI.INFO_NULL)
    MPI.Close_port(port_name=port)


def test_port_bad_inputs():
    with pytest.raises(TypeError, match="'port_name' must be str"):
        MPI.Close_port(5)
    with pytest.raises(ValueError, match="NUL"):
        MPI.Close_port("a\0b")
    with pytest.raises(ValueError, match="at most"):
        MPI.Close_port("x" * (MPI.MAX_PORT_NAME + 1))
    with pytest.raises(TypeError):
        MPI.Open_port(info=3.5)
    with pytest.raises(TypeError, match="'service_name' must be str"):
        MPI.Lookup_name(None)
    with pytest.raises(TypeError, match="'port_name' must be str"):
        MPI.Publish_name("svc", 7)
    with pytest.raises(TypeError, match="'fd'"):
        MPI.Comm.Join("3")
    with pytest.raises(ValueError, match="'fd' is -1"):
        MPI.Comm.Join(-1)
    with pytest.raises(MPI.Exception) as e:
        MPI.Intracomm().Accept("port")
    assert e.value.Get_error_class() == MPI.ERR_COMM


def test_accept_connect(comm, rank, size):
    # rank 0 accepts on COMM_SELF; the others connect together, as the
    # two sides of a client and a server started apart
    if size < 2:
        pytest.skip("needs two processes")
    others = comm.Split(0 if rank == 0 else 1, rank)
    try:
        # rank 0 tells the others whether it has a port: none waits for
        # a Connect that cannot come
        port, reason = open_port_or_reason() if rank == 0 else (None, None)
        if comm.bcast(port is None, root=0):
            pytest.skip(f"the MPI library has no ports here: "
                        f"{comm.bcast(reason, root=0)}")
        comm.bcast(None, root=0)
        if rank == 0:
            comm.send(port, dest=1, tag=61)
            inter = MPI.COMM_SELF.Accept(port)
            MPI.Close_port(port)
            assert inter.Get_remote_size() == size - 1
            inter.send({"from": "server"}, dest=0, tag=62)
            got = inter.recv(source=0, tag=63)
            assert got == size - 1
        else:
            port = comm.recv(source=0, tag=61) if rank == 1 else None
            inter = others.Connect(port, root=0)
            assert isinstance(inter, MPI.Intercomm)
            assert inter.Get_remote_size() == 1
            if others.Get_rank() == 0:
                assert inter.recv(source=0, tag=62) == {"from": "server"}
                inter.send(others.Get_size(), dest=0, tag=63)
        inter.Disconnect()
        assert inter == MPI.COMM_NULL
    finally:
        others.Free()


def test_join_over_a_socket(comm, rank, size):
    # rank 0 listens on its host's name (as on separate machines), rank 1
    # connects; each joins with its end of the connection
    if size < 2:
        pytest.skip("needs two processes")
    # MPICH joins through a port: where it has none, one side would fail
    # and leave the other reading the socket, so all ranks ask first
    port, reason = open_port_or_reason()
    if port is not None:
        MPI.Close_port(port)
    if not comm.allreduce(port is not None, op=MPI.LAND):
        pytest.skip(f"the MPI library has no ports here: {reason}")
    sock = None
    if rank == 0:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind((socket.gethostname(), 0))
        server.listen(1)
        comm.send(server.getsockname(), dest=1, tag=64)
        sock = server.accept()[0]
        server.close()
    elif rank == 1:
        address = comm.recv(source=0, tag=64)
        sock = socket.create_connection(address)     # blocking, as MPI
                                                     # expects of the fd
    if sock is not None:
        try:
            inter = MPI.Comm.Join(sock.fileno())
        finally:
            sock.close()
        assert isinstance(inter, MPI.Intercomm)
        assert inter.Get_size() == 1 and inter.Get_remote_size() == 1
        mine = inter.sendrecv(rank, dest=0, source=0)
        assert mine == 1 - rank
        inter.Free()
    comm.Barrier()


def test_name_service_round_trip_or_clear_error(rank):
    # Open MPI needs an ompi-server for its name service, MPICH's hydra
    # has one: either the port comes back or MPI says why, never a hang
    port, reason = open_port_or_reason()
    if port is None:
        pytest.skip(f"the MPI library has no ports here: {reason}")
    service = f"fastmpi-test-{rank}"
    try:
        try:
            MPI.Publish_name(service, port)
        except MPI.Exception as e:
            assert e.Get_error_class() != MPI.SUCCESS
            assert e.Get_error_string()
            return
        try:
            assert MPI.Lookup_name(service) == port
        finally:
            MPI.Unpublish_name(service, port)
        with pytest.raises(MPI.Exception):
            MPI.Lookup_name(service)
    finally:
        MPI.Close_port(port)
