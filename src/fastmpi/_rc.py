"""fastmpi.rc: the run-time options, and the environment variables that
override them when ``fastmpi.MPI`` is imported.

The one :class:`Rc` instance is ``fastmpi.rc``; the package registers it in
``sys.modules`` as ``fastmpi.rc`` too, so ``import fastmpi.rc`` gives the same
object (and, under the alias, ``import mpi4py.rc``).  The C module reads it
with getattr when ``fastmpi.MPI`` is first imported.

Environment variables (read when ``fastmpi.MPI`` is first imported, as
mpi4py 4 reads its MPI4PY_RC_* then; they override what the program set):

    FASTMPI_RC_<OPTION>   always, e.g. FASTMPI_RC_THREAD_LEVEL=funneled
    MPI4PY_RC_<OPTION>    only while the mpi4py alias is installed

Booleans take 0/1, true/false, yes/no, y/n, on/off (any case); finalize also
takes none/null; irecv_bufsz a non-negative integer; thread_level and errors
one of their choices.  An empty variable counts as unset.  When both names
are set for one option, FASTMPI_RC_* wins.  A bad value raises ValueError
naming the variable, from the import of ``fastmpi.MPI``.
"""
import operator
import os
import sys

THREAD_LEVELS = ("multiple", "serialized", "funneled", "single")
ERROR_POLICIES = ("exception", "default", "abort", "fatal")

_TRUE = ("1", "true", "yes", "y", "on")
_FALSE = ("0", "false", "no", "n", "off")

# option: (default, kind); kind picks the parser for environment values.
OPTIONS = {
    "initialize": (True, "bool"),
    "threads": (True, "bool"),
    "thread_level": ("multiple", THREAD_LEVELS),
    "finalize": (None, "bool-or-none"),
    "fast_reduce": (True, "bool"),
    "recv_mprobe": (True, "bool"),
    "irecv_bufsz": (32768, "size"),
    "errors": ("exception", ERROR_POLICIES),
    "recv_guard": (True, "bool"),
    "strided": (True, "bool"),
}
# fastmpi's own options: no MPI4PY_RC_ name for them
_FASTMPI_ONLY = ("recv_guard", "strided")


class Rc:
    """Run-time options, read once, when ``fastmpi.MPI`` is first imported.

    Set them before that import: ``fastmpi.rc.threads = False`` or
    ``fastmpi.rc(initialize=False, finalize=False)``.

    initialize   -- call MPI_Init_thread on import (default True)
    threads      -- ask for thread support (default True)
    thread_level -- 'multiple', 'serialized', 'funneled' or 'single'
                    (default 'multiple')
    finalize     -- call MPI_Finalize at exit (default None: if we
                    initialised)
    errors       -- the error handler COMM_WORLD and COMM_SELF get at
                    initialisation (communicators made from them inherit
                    it), as in mpi4py: 'exception' (MPI.ERRORS_RETURN,
                    every MPI error raises MPI.Exception; the default),
                    'default' (the library's own, normally
                    ERRORS_ARE_FATAL), 'abort' (MPI.ERRORS_ABORT where the
                    library has it, MPI-4; else ERRORS_ARE_FATAL) or
                    'fatal' (MPI.ERRORS_ARE_FATAL).  What fastmpi checks
                    before calling MPI raises Python exceptions whatever
                    this says.
    recv_guard   -- fastmpi only: blocking receives into a buffer match the
                    message first and refuse one that does not fit (default
                    True; only Open MPI needs it, see the README)
    strided      -- fastmpi only: send and receive non-contiguous buffers
                    (strided numpy views, DLPack, CUDA Array Interface) in
                    place, through derived datatypes (default True); False
                    refuses them with BufferError, as mpi4py does.  The
                    mpi4py alias sets it False, so that mpi4py programs
                    meet mpi4py's behaviour; FASTMPI_RC_STRIDED=1 overrides

    Accepted for mpi4py programs, with nothing for fastmpi to do:

    fast_reduce  -- tree-based reductions for objects (default True);
                    fastmpi's object reductions are its own either way
    recv_mprobe  -- matched probes to receive objects (default True);
                    fastmpi's recv() always matches the message first
    irecv_bufsz  -- default buffer size in bytes of Comm.irecv (32768);
                    fastmpi's irecv() without a buffer takes a message of
                    any size, so it needs none

    Environment variables FASTMPI_RC_<OPTION> (and MPI4PY_RC_<OPTION> under
    the mpi4py alias) override these at the import of ``fastmpi.MPI``.
    """

    def __init__(self, **kwargs):
        for name, (default, _) in OPTIONS.items():
            object.__setattr__(self, name, default)
        self(**kwargs)

    def __call__(self, **kwargs):
        for name, value in kwargs.items():
            if name not in OPTIONS:
                raise TypeError(f"unexpected rc option {name!r}")
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in OPTIONS:
            raise AttributeError(
                f"fastmpi.rc has no option {name!r} "
                f"(options: {', '.join(OPTIONS)})")
        object.__setattr__(self, name, _check(name, value))

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in OPTIONS)
        return f"<fastmpi.rc: {items}>"

    def _read_environment(self, mpi4py_names=False):
        """Apply MPI4PY_RC_* (if asked) then FASTMPI_RC_* to the options."""
        prefixes = ("MPI4PY_RC_", "FASTMPI_RC_") if mpi4py_names else (
            "FASTMPI_RC_",)
        for prefix in prefixes:
            for name, (_, kind) in OPTIONS.items():
                if prefix == "MPI4PY_RC_" and name in _FASTMPI_ONLY:
                    continue
                var = prefix + name.upper()
                text = os.environ.get(var, "").strip()
                if text:
                    object.__setattr__(self, name, _parse(var, text, kind))


def _check(name, value):
    """A value set from Python: refuse what the option can never take."""
    kind = OPTIONS[name][1]
    if isinstance(kind, tuple):
        if name == "thread_level" and isinstance(value, int) \
                and not isinstance(value, bool):
            return value        # an MPI.THREAD_* constant: the C side takes it
        if value not in kind:
            raise ValueError(f"fastmpi.rc.{name} must be one of "
                             f"{', '.join(map(repr, kind))}, not {value!r}")
    elif kind == "size":
        try:
            if isinstance(value, bool):
                raise TypeError
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"fastmpi.rc.{name} must be an int, "
                            f"not {type(value).__name__}") from None
        if value < 0:
            raise ValueError(f"fastmpi.rc.{name} must be >= 0, not {value}")
    return value


def _parse(var, text, kind):
    low = text.lower()
    if kind in ("bool", "bool-or-none"):
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        if kind == "bool-or-none" and low in ("none", "null"):
            return None
        what = "a boolean (0/1, true/false, yes/no, on/off)"
        if kind == "bool-or-none":
            what += " or none"
        raise ValueError(f"environment variable {var}={text!r}: expected {what}")
    if kind == "size":
        try:
            value = int(text, 10)
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(f"environment variable {var}={text!r}: "
                             "expected a non-negative integer (bytes)")
        return value
    if low not in kind:
        raise ValueError(f"environment variable {var}={text!r}: expected one "
                         f"of {', '.join(kind)}")
    return low


rc = Rc()


def _alias_installed():
    pkg = sys.modules.get("fastmpi")
    return pkg is not None and sys.modules.get("mpi4py") is pkg


class _EnvironmentLoader:
    """Wraps fastmpi.MPI's own loader: applies the environment to ``rc``
    just before the C module is created (and reads ``rc``)."""

    def __init__(self, loader, finder):
        self.loader = loader
        self.finder = finder

    def create_module(self, spec):
        rc._read_environment(mpi4py_names=_alias_installed())
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # from here on the module looks as if loaded by its own loader
        module.__spec__.loader = self.loader
        try:
            module.__loader__ = self.loader
        except AttributeError:
            pass
        self.loader.exec_module(module)
        self.finder.uninstall()
        if _alias_installed():
            sys.modules.setdefault("mpi4py.MPI", module)


class MPIImportHook:
    """A meta-path finder for the name ``fastmpi.MPI`` alone: finds it as
    the finders after it would, wrapping the loader.  Removes itself once
    the module is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "fastmpi.MPI":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _EnvironmentLoader(spec.loader, self)
                return spec
        return None

    def install(self):
        if "fastmpi.MPI" not in sys.modules and self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


mpi_import_hook = MPIImportHook()
