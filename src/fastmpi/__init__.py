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
    """Make ``import mpi4py`` and ``import mpi4py.X`` give fastmpi's modules.

    ``mpi4py`` is this package, ``mpi4py.rc`` is :data:`rc`, and each
    ``mpi4py.X`` (MPI, run, typing, util, util.dtlib, ...) is ``fastmpi.X``;
    a name fastmpi has no module for raises ModuleNotFoundError.  Nothing is
    imported here: MPI is initialised when the program imports
    ``mpi4py.MPI``, so it can set ``mpi4py.rc`` first.  MPI4PY_RC_*
    environment variables count from now on (if ``fastmpi.MPI`` is not
    imported yet).

    Opt-in only.  Raises RuntimeError if a real mpi4py (or any module of
    it) is already imported, unless ``force`` is true: then those modules
    are dropped from ``sys.modules`` (objects the program already holds
    stay the real mpi4py's).
    """
    from . import _alias

    _alias.install(force=force)


def __getattr__(name):
    # ``fastmpi.MPI`` is imported lazily so that ``rc`` can be set first.
    if name == "MPI":
        import importlib

        return importlib.import_module(__name__ + ".MPI")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
