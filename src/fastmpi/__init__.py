"""fastmpi: MPI for Python, written in C.

``from fastmpi import MPI`` gives the mpi4py API.  Importing ``fastmpi.MPI``
initialises MPI (thread level MULTIPLE) unless :data:`rc` says otherwise;
set ``rc`` options *before* that first import (``fastmpi.rc.threads =
False``, ``fastmpi.rc(initialize=False)``), or in the environment
(``FASTMPI_RC_THREADS=0``: see :mod:`fastmpi._rc` and docs/mpi4py-alias.md).
Importing ``fastmpi`` itself does not import ``fastmpi.MPI``.

The package, as mpi4py's:

rc                 run-time options (also ``import fastmpi.rc``)
MPI                the MPI module (imported on first use)
run                the runner: ``python3 -m fastmpi script.py``
typing             type aliases (BufSpec, TypeSpec, ...)
util               helpers (util.dtlib)
get_include()      directory of fastmpi's C headers (a placeholder so far)
get_config()       how fastmpi was built ('mpi', 'mpicc')
profile(name)      load an MPI profiling (PMPI) library

The mpi4py alias, opt-in (``python3 -m fastmpi --mpi4py script.py`` or
:func:`install_mpi4py_alias`), makes ``import mpi4py`` and every
``mpi4py.X`` give fastmpi's ``fastmpi.X``; it never replaces a real mpi4py
that is already imported unless forced.  ``mpi4py.__name__`` then reads
``'fastmpi'`` and ``mpi4py.__version__`` is fastmpi's version.
"""
import sys as _sys

from ._rc import Rc, mpi_import_hook as _mpi_import_hook, rc

__version__ = "0.1.0"

__all__ = ["MPI", "rc", "Rc", "get_include", "get_config", "profile",
           "install_mpi4py_alias"]

# ``import fastmpi.rc`` gives the Rc object itself (the C module reads the
# same object as the package attribute ``rc``).
_sys.modules[__name__ + ".rc"] = rc
# FASTMPI_RC_* (and MPI4PY_RC_* under the alias) apply when fastmpi.MPI is
# imported, whatever the import statement.
_mpi_import_hook.install()


def get_include():
    """The directory of fastmpi's C headers (``fastmpi/fastmpi.h``).

    fastmpi has no C API for other extensions yet: the header there is a
    placeholder that says so.
    """
    import os

    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


def get_config():
    """How fastmpi was built: a dict with 'mpi' (``'mpich'`` or
    ``'openmpi'``) and 'mpicc' (the compiler wrapper ``make build`` uses
    for it), read from the ``.mpi`` file the build writes.  Empty when this
    copy of fastmpi was never built."""
    import os
    import shutil

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(here, ".mpi")) as f:
            mpi = f.read().strip()
    except OSError:
        return {}
    if not mpi:
        return {}
    mpicc = "mpicc." + mpi
    return {"mpi": mpi, "mpicc": shutil.which(mpicc) or mpicc}


def profile(name="mpe", *, path=None, logfile=None):
    """Use an MPI profiling library (one built on the PMPI interface).

    Finds the shared library ``name`` (a file name or path, or a short name
    such as ``'mpe'`` for ``libmpe.so``) in the directories of ``path`` (a
    directory or a list of them), then where the system's dynamic loader
    looks, and loads it with RTLD_GLOBAL, so that its MPI_* functions stand
    in front of the MPI library's.  Call it before importing ``fastmpi.MPI``.
    Raises ValueError when the library is not found.

    ``logfile`` (mpi4py 3's keyword) sets the log file prefix of MPE
    (MPE_LOGFILE_PREFIX) or VampirTrace (VT_FILE_PREFIX, names 'vt*').
    """
    import ctypes
    import ctypes.util
    import os
    import warnings

    if not isinstance(name, str) or not name:
        raise ValueError(f"profile(): name must be a non-empty str, not {name!r}")
    if path is None:
        dirs = []
    elif isinstance(path, (str, bytes, os.PathLike)):
        dirs = [os.fsdecode(path)]
    else:
        dirs = [os.fsdecode(p) for p in path]
    if os.path.basename(name) != name:
        files = [name]                      # a path: that file only
    else:
        stems = [name] if ".so" in name else [f"lib{name}.so", f"{name}.so"]
        files = [os.path.join(d, s) for d in dirs for s in stems]
    found = next((f for f in files if os.path.isfile(f)), None)
    if found is None and os.path.basename(name) == name:
        found = ctypes.util.find_library(name)
    if found is None:
        where = ", ".join(dirs + ["the system's library path"])
        raise ValueError(f"profile(): no profiling library {name!r} "
                         f"(looked in {where})")
    if logfile is not None:
        if name == "mpe":
            os.environ["MPE_LOGFILE_PREFIX"] = logfile
        elif name.startswith("vt"):
            os.environ["VT_FILE_PREFIX"] = logfile
    if __name__ + ".MPI" in _sys.modules:
        warnings.warn("fastmpi.profile() after fastmpi.MPI was imported: "
                      "the profiler may miss calls", RuntimeWarning,
                      stacklevel=2)
    ctypes.CDLL(found, mode=ctypes.RTLD_GLOBAL)


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
