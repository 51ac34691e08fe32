"""fastmpi.typing: type aliases for annotating code that calls fastmpi.MPI
(as mpi4py.typing, mpi4py 4).

Importing this module does not import ``fastmpi.MPI`` (so it does not
initialise MPI): the MPI classes appear as forward references, resolved by
a type checker (``typing.TYPE_CHECKING``).

Protocols an object can follow to be a message buffer:

SupportsBuffer  the Python buffer protocol (``__buffer__``: bytes,
                bytearray, memoryview, array.array, numpy arrays)
SupportsDLPack  the DLPack protocol (``__dlpack__``, ``__dlpack_device__``)
SupportsCAI     the CUDA Array Interface (``__cuda_array_interface__``)

Aliases:

Buffer      any of the three
Bottom      MPI.BOTTOM (or None): addresses are absolute, as the datatype
            says
InPlace     MPI.IN_PLACE (or None): the receive buffer is the send buffer
Aint, Count, Displ, Offset
            integers: an address, a count of elements, a displacement, a
            file offset
TypeSpec    an MPI.Datatype, or a type character/format string ('i', 'd')
BufSpec     a message buffer: ``buf``, ``[buf, count]``,
            ``[buf, datatype]``, ``[buf, count, datatype]``, or
            ``[BOTTOM, count, datatype]``
BufSpecB    a block buffer of a collective (Gather, Scatter, Allgather):
            as BufSpec, the count is per process
BufSpecV    a vector buffer (Gatherv, Scatterv, Alltoallv): counts and
            displacements per process, e.g. ``[buf, counts, displs,
            datatype]`` or ``[buf, (counts, displs), datatype]``
BufSpecW    a generalised vector buffer (Alltoallw): a datatype per
            process, ``[buf, counts, displs, datatypes]``
TargetSpec  where a one-sided operation acts in the target window:
            ``disp``, ``[disp]``, ``[disp, count]``, ``[disp, count,
            datatype]``

S, T, U, V  type variables.
"""
from numbers import Integral
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    runtime_checkable,
)

if TYPE_CHECKING:
    from .MPI import BottomType, Datatype, InPlaceType  # noqa: F401

__all__ = [
    "SupportsBuffer", "SupportsDLPack", "SupportsCAI",
    "Buffer", "Bottom", "InPlace",
    "Aint", "Count", "Displ", "Offset",
    "TypeSpec", "BufSpec", "BufSpecB", "BufSpecV", "BufSpecW", "TargetSpec",
    "S", "T", "U", "V",
]


@runtime_checkable
class SupportsBuffer(Protocol):
    """An object exporting the Python buffer protocol."""

    def __buffer__(self, flags: int, /) -> memoryview:
        """Make a memoryview of the object's memory."""


@runtime_checkable
class SupportsDLPack(Protocol):
    """An object exporting the DLPack data interchange protocol."""

    def __dlpack__(self, *, stream: Optional[Any] = None) -> Any:
        """A DLPack capsule of the object's memory."""

    def __dlpack_device__(self) -> Tuple[int, int]:
        """(device type, device id) in DLPack's numbering."""


@runtime_checkable
class SupportsCAI(Protocol):
    """An object exporting the CUDA Array Interface."""

    @property
    def __cuda_array_interface__(self) -> Dict[str, Any]:
        """The CUDA Array Interface description of the object."""


Buffer = Union[SupportsBuffer, SupportsDLPack, SupportsCAI]
Bottom = Optional["BottomType"]
InPlace = Optional["InPlaceType"]

Aint = Integral
Count = Integral
Displ = Integral
Offset = Integral

TypeSpec = Union["Datatype", str]

_Counts = Sequence[Count]
_Displs = Sequence[Displ]
_Datatypes = Sequence["Datatype"]

BufSpec = Union[
    Buffer,
    Tuple[Buffer, Count],
    Tuple[Buffer, TypeSpec],
    Tuple[Buffer, Count, TypeSpec],
    Tuple[Bottom, Count, "Datatype"],
    List[Any],
]

BufSpecB = Union[
    Buffer,
    Tuple[Buffer, Count],
    Tuple[Buffer, TypeSpec],
    Tuple[Buffer, Count, TypeSpec],
    List[Any],
]

BufSpecV = Union[
    Buffer,
    Tuple[Buffer, _Counts],
    Tuple[Buffer, Tuple[_Counts, _Displs]],
    Tuple[Buffer, TypeSpec],
    Tuple[Buffer, _Counts, TypeSpec],
    Tuple[Buffer, Tuple[_Counts, _Displs], TypeSpec],
    Tuple[Buffer, _Counts, _Displs, TypeSpec],
    Tuple[Bottom, Tuple[_Counts, _Displs], "Datatype"],
    Tuple[Bottom, _Counts, _Displs, "Datatype"],
    List[Any],
]

BufSpecW = Union[
    Tuple[Buffer, _Datatypes],
    Tuple[Buffer, Tuple[_Counts, _Displs], _Datatypes],
    Tuple[Buffer, _Counts, _Displs, _Datatypes],
    Tuple[Bottom, Tuple[_Counts, _Displs], _Datatypes],
    Tuple[Bottom, _Counts, _Displs, _Datatypes],
    List[Any],
]

TargetSpec = Union[
    Displ,
    Tuple[()],
    Tuple[Displ],
    Tuple[Displ, Count],
    Tuple[Displ, Count, TypeSpec],
    List[Any],
]

S = TypeVar("S")
T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")
