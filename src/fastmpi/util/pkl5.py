"""fastmpi.util.pkl5: mpi4py.util.pkl5's API, so that programs importing it
keep working.

mpi4py's pkl5 wraps a communicator to send objects with pickle protocol 5:
large buffers (numpy arrays, ...) travel out-of-band, without a copy into
the pickle, in several MPI messages, and past 2 GiB.  fastmpi's own
lowercase methods already do all of that in a single message, so the
wrappers here call them; what this module adds is the types pkl5 programs
expect:

Comm, Intracomm, Intercomm   subclasses of MPI.Comm, MPI.Intracomm and
    MPI.Intercomm (``pkl5.Intracomm(MPI.COMM_WORLD)``) whose send, bsend,
    ssend, isend, ibsend, issend, recv, sendrecv, mprobe, improbe, bcast,
    gather, scatter, allgather and alltoall return pkl5's Request and
    Message; irecv raises RuntimeError, as in mpi4py (use
    ``comm.mprobe(...).irecv()``).
Request   wait, test, get_status, cancel, Free, free; the class methods
    waitall, testall and get_status_all.  Not a subclass of MPI.Request.
Message   recv, irecv; the class methods probe and iprobe.  Not a subclass
    of MPI.Message.
Pickle, pickle   the serializer pkl5 uses (mpi4py 3's: dumps(obj) returns
    (data, buffers), loads(data, buffers); dumps_oob and loads_oob are the
    same), with PROTOCOL and THRESHOLD.

While ``pkl5.pickle`` is as it starts, objects go through the
communicator's own path (MPI.pickle).  A program that changes it (other
dumps and loads, PROTOCOL, THRESHOLD) gets its serializer: each object is
sent as what ``pkl5.pickle.dumps_oob`` makes of it (the stream and its
buffers, the buffers out-of-band from 64 KiB), and the receiver rebuilds
it with its own ``pkl5.pickle.loads_oob``.
"""
import pickle as _pickle

from .. import MPI

__all__ = ["Pickle", "pickle", "Request", "Message", "Comm", "Intracomm",
           "Intercomm"]

_PROTOCOL = _pickle.HIGHEST_PROTOCOL
_THRESHOLD = MPI.Pickle().THRESHOLD


class Pickle:
    """Pickle(dumps=pickle.dumps, loads=pickle.loads, protocol=None,
    threshold=None): pickle with out-of-band buffers.

    PROTOCOL: passed to dumps (None or negative: the highest, which is
    the default); from 5 up,
    buffers of THRESHOLD bytes or more (any, if negative) are returned
    apart from the stream."""

    __slots__ = ("_dumps", "_loads", "PROTOCOL", "THRESHOLD")

    def __init__(self, dumps=_pickle.dumps, loads=_pickle.loads,
                 protocol=None, threshold=None):
        if not callable(dumps) or not callable(loads):
            raise TypeError("pkl5.Pickle(): dumps and loads must be "
                            "callable")
        self._dumps = dumps
        self._loads = loads
        self.PROTOCOL = _PROTOCOL if protocol is None else protocol
        self.THRESHOLD = _THRESHOLD if threshold is None else threshold

    def dumps(self, obj):
        """Serialize obj: (data, [buffer])."""
        protocol = self.PROTOCOL
        if protocol is None or protocol < 0:
            protocol = _PROTOCOL
        if protocol < 5:
            return self._dumps(obj, protocol), []
        buffers = []
        threshold = self.THRESHOLD

        def keep_inband(picklebuffer):
            try:
                view = picklebuffer.raw()
            except BufferError:         # not contiguous
                return True
            if view.nbytes < threshold:
                return True
            buffers.append(view)
            return False

        return self._dumps(obj, protocol, buffer_callback=keep_inband), \
            buffers

    def loads(self, data, buffers=None):
        """Deserialize what dumps() made."""
        if buffers:
            return self._loads(data, buffers=buffers)
        return self._loads(data)

    dumps_oob = dumps
    loads_oob = loads

    def _is_default(self):
        protocol = self.PROTOCOL
        return (self._dumps is _pickle.dumps
                and self._loads is _pickle.loads
                and (protocol is None or protocol < 0 or protocol == 5)
                and self.THRESHOLD == _THRESHOLD)


pickle = Pickle()
_DEFAULT = pickle


class _BigMPI:
    """mpi4py's pkl5 cuts large messages into blocks of ``blocksize``
    bytes; fastmpi sends any size in one message, so the attribute is only
    kept for programs (and tests) that set it."""

    def __init__(self):
        self.blocksize = 1 << 30


_bigmpi = _BigMPI()


class _Pickled:
    """An object as ``pkl5.pickle.dumps_oob`` made it (sent when pkl5.pickle
    was changed); the receiver calls its own ``loads_oob``."""

    __slots__ = ("data", "buffers")

    def __init__(self, data, buffers):
        self.data = data
        self.buffers = buffers

    def __reduce_ex__(self, protocol):
        if protocol >= 5:
            bufs = [_pickle.PickleBuffer(b) for b in self.buffers]
        else:
            bufs = [bytes(b) for b in self.buffers]
        return _Pickled, (self.data, bufs)


def _dump(obj):
    p = pickle
    if p is _DEFAULT and p._is_default():
        return obj
    data, buffers = p.dumps_oob(obj)
    return _Pickled(data, list(buffers))


def _load(obj):
    if type(obj) is _Pickled:
        return pickle.loads_oob(obj.data, obj.buffers)
    return obj


def _load_all(objs):
    if objs is None or not any(type(o) is _Pickled for o in objs):
        return objs
    return [_load(o) for o in objs]


def _dump_all(objs):
    p = pickle
    if objs is None or (p is _DEFAULT and p._is_default()):
        return objs
    return [_dump(o) for o in objs]


def _raw_request(r):
    return r._request if isinstance(r, Request) else r


def _statuses(statuses):
    # any sequence of Status, filled in place (a list also grows)
    if statuses is None or isinstance(statuses, list):
        return statuses
    return list(statuses)


class Request:
    """Request(request=None): a nonblocking send or receive of pkl5.Comm.
    Not a subclass of MPI.Request."""

    __slots__ = ("_request",)
    __hash__ = None

    def __init__(self, request=None):
        if request is None:
            request = MPI.Request()
        elif isinstance(request, Request):
            request = request._request
        elif not isinstance(request, MPI.Request):
            raise TypeError(f"pkl5.Request() argument must be a Request, "
                            f"not {type(request).__name__}")
        self._request = request

    def __eq__(self, other):
        if isinstance(other, Request):
            other = other._request
        if isinstance(other, MPI.Request):
            return self._request == other
        return NotImplemented

    def __bool__(self):
        return bool(self._request)

    def Free(self):
        """Free the request (the operation goes on)."""
        self._request.Free()

    def free(self):
        """Free the request, if not null."""
        if self._request:
            self._request.Free()

    def cancel(self):
        """Cancel the operation."""
        self._request.Cancel()

    def get_status(self, status=None):
        """Whether it is complete (status filled), not completing it."""
        return self._request.Get_status(status)

    def test(self, status=None):
        """(True, obj) once complete (obj: what a receive got, else
        None); (False, None) before."""
        flag, obj = self._request.test(status)
        return flag, _load(obj)

    def wait(self, status=None):
        """Wait for completion; what a receive got (None for a send)."""
        return _load(self._request.wait(status))

    @classmethod
    def get_status_all(cls, requests, statuses=None):
        """Whether all are complete (statuses filled), completing none."""
        reqs = [_raw_request(r) for r in requests]
        if statuses is not None and isinstance(statuses, list):
            statuses.extend(MPI.Status()
                            for _ in range(len(reqs) - len(statuses)))
        done = True
        for i, r in enumerate(reqs):
            st = statuses[i] if statuses is not None and \
                i < len(statuses) else None
            done = r.Get_status(st) and done
        return done

    @classmethod
    def testall(cls, requests, statuses=None):
        """(True, [obj]) once all are complete, else (False, None)."""
        flag, objs = MPI.Request.testall(
            [_raw_request(r) for r in requests], _statuses(statuses))
        return flag, _load_all(objs)

    @classmethod
    def waitall(cls, requests, statuses=None):
        """Wait for all; [obj] (None for sends)."""
        return _load_all(MPI.Request.waitall(
            [_raw_request(r) for r in requests], _statuses(statuses)))


class Message:
    """Message(message=None): a message that pkl5.Comm.mprobe matched.  Not
    a subclass of MPI.Message."""

    __slots__ = ("_message",)
    __hash__ = None

    def __init__(self, message=None):
        if message is None:
            message = MPI.Message()
        elif isinstance(message, Message):
            message = message._message
        elif not isinstance(message, MPI.Message):
            raise TypeError(f"pkl5.Message() argument must be a Message, "
                            f"not {type(message).__name__}")
        self._message = message

    def __eq__(self, other):
        if isinstance(other, Message):
            other = other._message
        if isinstance(other, MPI.Message):
            return self._message == other
        return NotImplemented

    def __bool__(self):
        return bool(self._message)

    def free(self):
        """Forget the message (mpi4py's Message.free: nothing to release
        for a matched message)."""
        self._message = MPI.Message()

    def recv(self, status=None):
        """Receive the matched message: the object."""
        return _load(self._message.recv(status))

    def irecv(self):
        """Receive the matched message without blocking: a Request."""
        return Request(self._message.irecv())

    @classmethod
    def probe(cls, comm, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG,
              status=None):
        """Wait for a message and match it."""
        return cls(MPI.Message.probe(comm, source, tag, status))

    @classmethod
    def iprobe(cls, comm, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG,
               status=None):
        """Match a message if one is there, else None."""
        message = MPI.Message.iprobe(comm, source, tag, status)
        return None if message is None else cls(message)


def _is_root(comm, root):
    """Whether this rank is the root of a rooted collective.  A root that
    is no rank raises MPI.Exception(ERR_ROOT), as in mpi4py's pkl5 (where
    MPI finds it), not the ValueError of the communicator's own methods."""
    if comm.Is_inter():
        if root == MPI.ROOT:
            return True
        if root == MPI.PROC_NULL or 0 <= root < comm.Get_remote_size():
            return False
    elif 0 <= root < comm.Get_size():
        return root == comm.Get_rank()
    raise MPI.Exception(MPI.ERR_ROOT)


class Comm(MPI.Comm):
    """Base communicator wrapper: pkl5.Comm(comm)."""

    __slots__ = ()

    def send(self, obj, dest, tag=0):
        """Send obj (blocking, standard mode)."""
        MPI.Comm.send(self, _dump(obj), dest, tag)

    def bsend(self, obj, dest, tag=0):
        """Send obj in buffered mode."""
        MPI.Comm.bsend(self, _dump(obj), dest, tag)

    def ssend(self, obj, dest, tag=0):
        """Send obj in synchronous mode."""
        MPI.Comm.ssend(self, _dump(obj), dest, tag)

    def isend(self, obj, dest, tag=0):
        """Send obj without blocking: a Request."""
        return Request(MPI.Comm.isend(self, _dump(obj), dest, tag))

    def ibsend(self, obj, dest, tag=0):
        """Send obj in buffered mode without blocking: a Request."""
        return Request(MPI.Comm.ibsend(self, _dump(obj), dest, tag))

    def issend(self, obj, dest, tag=0):
        """Send obj in synchronous mode without blocking: a Request."""
        return Request(MPI.Comm.issend(self, _dump(obj), dest, tag))

    def recv(self, buf=None, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG,
             status=None):
        """Receive an object (of any size: buf is not needed)."""
        return _load(MPI.Comm.recv(self, buf, source, tag, status))

    def irecv(self, buf=None, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG):
        """Not supported, as in mpi4py's pkl5: raises RuntimeError."""
        raise RuntimeError("pkl5: irecv() is not supported (as in "
                           "mpi4py's pkl5); use mprobe(...).irecv(), or "
                           "the irecv() of an MPI.Comm, which takes "
                           "messages of any size")

    def sendrecv(self, sendobj, dest, sendtag=0, recvbuf=None,
                 source=MPI.ANY_SOURCE, recvtag=MPI.ANY_TAG, status=None):
        """Send sendobj and receive an object."""
        return _load(MPI.Comm.sendrecv(self, _dump(sendobj), dest, sendtag,
                                       recvbuf, source, recvtag, status))

    def mprobe(self, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=None):
        """Wait for a message and match it: a Message."""
        return Message(MPI.Comm.mprobe(self, source, tag, status))

    def improbe(self, source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=None):
        """Match a message if one is there: a Message, else None."""
        message = MPI.Comm.improbe(self, source, tag, status)
        return None if message is None else Message(message)

    def bcast(self, obj, root=0):
        """Broadcast root's obj."""
        if _is_root(self, root):
            obj = _dump(obj)
        return _load(MPI.Comm.bcast(self, obj, root))

    def gather(self, sendobj, root=0):
        """Gather every rank's object at root (a list; None elsewhere)."""
        _is_root(self, root)
        return _load_all(MPI.Comm.gather(self, _dump(sendobj), root))

    def scatter(self, sendobj, root=0):
        """Scatter root's sequence: each rank gets its item."""
        if _is_root(self, root):
            sendobj = _dump_all(sendobj)
        return _load(MPI.Comm.scatter(self, sendobj, root))

    def allgather(self, sendobj):
        """Every rank's object, at every rank."""
        return _load_all(MPI.Comm.allgather(self, _dump(sendobj)))

    def alltoall(self, sendobj):
        """Item i of each rank's sequence goes to rank i."""
        return _load_all(MPI.Comm.alltoall(self, _dump_all(sendobj)))


class Intracomm(Comm, MPI.Intracomm):
    """Intracommunicator wrapper: pkl5.Intracomm(MPI.COMM_WORLD)."""

    __slots__ = ()


class Intercomm(Comm, MPI.Intercomm):
    """Intercommunicator wrapper: pkl5.Intercomm(intercomm)."""

    __slots__ = ()
