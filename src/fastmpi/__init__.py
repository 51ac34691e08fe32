"""fastmpi: MPI for Python, written in C.

``from fastmpi import MPI`` gives the mpi4py API.  Importing ``fastmpi.MPI``
initialises MPI (thread level MULTIPLE) unless :data:`rc` says otherwise;
set ``rc`` attributes *before* that first import.
"""

__version__ = "0.1.0"

__all__ = ["MPI", "rc", "install_mpi4py_alias"]


class Rc:
    """Run-time options read once, when ``fastmpi.MPI`` is first imported.

    initialize   -- call MPI_Init_thread on import (default True)
    threads      -- ask for thread support (default True)
    thread_level -- 'multiple', 'serialized', 'funneled' or 'single'
    finalize     -- call MPI_Finalize at exit (None: if we initialised)
    recv_guard   -- blocking receives into a buffer match the message
                    first and refuse one that does not fit (default True;
                    only Open MPI needs it, see the README)
    """

    __slots__ = ("initialize", "threads", "thread_level", "finalize",
                 "recv_guard")

    def __init__(self, **kwargs):
        self.initialize = True
        self.threads = True
        self.thread_level = "multiple"
        self.finalize = None
        self.recv_guard = True
        self(**kwargs)

    def __call__(self, **kwargs):
        for key, value in kwargs.items():
            if key not in self.__slots__:
                raise TypeError(f"unexpected rc option {key!r}")
            setattr(self, key, value)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"<fastmpi.rc: {items}>"


rc = Rc()


def install_mpi4py_alias(force=False):
    """Make ``import mpi4py`` / ``from mpi4py import MPI`` load fastmpi.

    Opt-in only.  A real mpi4py that is already imported is never replaced
    unless ``force`` is true.
    """
    import sys

    current = sys.modules.get("mpi4py")
    if current is not None and current is not sys.modules[__name__]:
        if not force:
            raise RuntimeError(
                "a real mpi4py is already imported; "
                "pass force=True to replace it with fastmpi")
    from . import MPI as _MPI  # noqa: F401  (initialises MPI)

    sys.modules["mpi4py"] = sys.modules[__name__]
    sys.modules["mpi4py.MPI"] = sys.modules[__name__ + ".MPI"]


def __getattr__(name):
    # ``fastmpi.MPI`` is imported lazily so that ``rc`` can be set first.
    if name == "MPI":
        import importlib

        return importlib.import_module(__name__ + ".MPI")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
