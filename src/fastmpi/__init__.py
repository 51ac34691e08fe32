"""fastmpi: MPI for Python, written in C.

``from fastmpi import MPI`` gives the mpi4py API.  Importing ``fastmpi.MPI``
initialises MPI (thread level MULTIPLE) unless :data:`rc` says otherwise;
set ``rc`` attributes *before* that first import (``fastmpi.rc.threads =
False``, ``fastmpi.rc(initialize=False)``), or in the environment
(``FASTMPI_RC_THREADS=0``: see :mod:`fastmpi._rc`).
"""
import sys as _sys

from ._rc import Rc, mpi_import_hook as _mpi_import_hook, rc

__version__ = "0.1.0"

__all__ = ["MPI", "rc", "Rc", "install_mpi4py_alias"]

# ``import fastmpi.rc`` gives the Rc object itself (the C module reads the
# same object as the package attribute ``rc``).
_sys.modules[__name__ + ".rc"] = rc
# FASTMPI_RC_* (and MPI4PY_RC_* under the alias) apply when fastmpi.MPI is
# imported, whatever the import statement.
_mpi_import_hook.install()


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
