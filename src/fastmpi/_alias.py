"""The opt-in mpi4py alias: ``import mpi4py.X`` gives fastmpi's ``fastmpi.X``.

``install()`` puts the fastmpi package in ``sys.modules`` as ``mpi4py`` (and
``fastmpi.rc`` as ``mpi4py.rc``) and a meta-path finder in front of the
others.  The finder answers every name under ``mpi4py.``: for
``mpi4py.util.dtlib`` it imports ``fastmpi.util.dtlib`` and puts that very
module in ``sys.modules`` under the mpi4py name, so both names give one
module object; a name fastmpi has no module for raises ModuleNotFoundError
saying so (it never falls through to a real mpi4py on ``sys.path``).
Nothing is imported ahead of need: ``fastmpi.MPI`` (which initialises MPI)
only when the program imports ``mpi4py.MPI``.
"""
import importlib
import importlib.util
import sys

PREFIX = "mpi4py."


def _package():
    return sys.modules["fastmpi"]


def _ours(module):
    pkg = _package()
    if module is pkg or module is pkg.rc:
        return True
    name = getattr(module, "__name__", None)
    return isinstance(name, str) and name.startswith("fastmpi.")


def real_mpi4py_modules():
    """Names in sys.modules under mpi4py that are not fastmpi's."""
    return [name for name, mod in list(sys.modules.items())
            if (name == "mpi4py" or name.startswith(PREFIX))
            and mod is not None and not _ours(mod)]


class _AliasLoader:
    """Loads ``mpi4py.X`` by importing ``fastmpi.X`` and putting that
    module in sys.modules under the mpi4py name (the import system then
    returns it); the placeholder module it was handed is dropped."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        real = importlib.import_module(self.target)
        sys.modules[module.__spec__.name] = real

    # runpy (``-m mpi4py.run``, ``-m mpi4py``) runs the code of the target
    def get_code(self, fullname):
        spec = importlib.util.find_spec(self.target)
        return spec.loader.get_code(self.target)

    def is_package(self, fullname):
        spec = importlib.util.find_spec(self.target)
        return spec.submodule_search_locations is not None

    def get_filename(self, fullname):
        return importlib.util.find_spec(self.target).origin


class Mpi4pyFinder:
    """Meta-path finder for ``mpi4py.*`` while the alias is installed."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith(PREFIX) or sys.modules.get("mpi4py") is not _package():
            return None
        ours = "fastmpi." + name[len(PREFIX):]
        try:
            found = importlib.util.find_spec(ours)
        except ModuleNotFoundError:
            found = None
        if found is None:
            raise ModuleNotFoundError(
                f"No module named {name!r}: the mpi4py alias is installed, "
                f"so {name!r} would be fastmpi's {ours!r}, and fastmpi has "
                "no such module", name=name)
        return importlib.util.spec_from_loader(
            name, _AliasLoader(ours),
            is_package=found.submodule_search_locations is not None)


finder = Mpi4pyFinder()


def install(force=False):
    real = real_mpi4py_modules()
    if real and not force:
        raise RuntimeError(
            "a real mpi4py is already imported (" + ", ".join(sorted(real))
            + "); pass force=True to replace it with fastmpi")
    for name in real:
        del sys.modules[name]
    pkg = _package()
    sys.modules["mpi4py"] = pkg
    sys.modules["mpi4py.rc"] = pkg.rc
    # mpi4py's behaviour: non-contiguous buffers raise BufferError (read
    # when fastmpi.MPI is imported, so not changed once it is;
    # FASTMPI_RC_STRIDED=1 overrides)
    if "fastmpi.MPI" not in sys.modules:
        pkg.rc.strided = False
    # submodules fastmpi already imported: the same objects under both names
    for name, mod in list(sys.modules.items()):
        if name.startswith("fastmpi.") and mod is not None \
                and not name.startswith("fastmpi._"):
            sys.modules.setdefault(PREFIX + name[len("fastmpi."):], mod)
    if finder not in sys.meta_path:
        sys.meta_path.insert(0, finder)
