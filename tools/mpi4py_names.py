#!/usr/bin/python3
"""Make fastmpi's list of mpi4py 4's public names from its type stubs.

    /usr/bin/python3 tools/mpi4py_names.py STUB.pyi > tests/mpi4py_names.json

The stub is the reference for names, kinds and signatures (mpi4py 4.1.2's
MPI.pyi, in ../shared/conformance/).  The list records, for each public
name of mpi4py.MPI: its kind (class, method, classmethod, staticmethod,
property, attribute, function, constant, alias), a constant's annotated
type, and a callable's parameters (name, kind, default as written), with
the area it belongs to; tests/test_names.py checks fastmpi against it.
"""
import ast
import json
import re
import sys

# Areas that have issues of their own (one-sided, MPI-IO, dynamic
# processes, sessions, persistent collectives, partitioned calls): their
# names are listed with the area, and the test does not ask for them yet.
AREAS = [
    ("win", re.compile(r"^Win(\.|$)")),
    ("file", re.compile(r"^File(\.|$)|^Register_datarep$")),
    ("session", re.compile(r"^Session(\.|$)|\.Create_from_session_pset$"
                           r"|^(Intracomm\.Create_from_group|"
                           r"Intercomm\.Create_from_groups)$")),
    ("dynamic", re.compile(r"\.(Spawn|Spawn_multiple|Accept|Connect|Join|"
                           r"Get_parent|Disconnect)$|^(Open_port|Close_port|"
                           r"Publish_name|Unpublish_name|Lookup_name)$")),
    ("partitioned", re.compile(r"\.(Psend_init|Precv_init|Pready|"
                               r"Pready_range|Pready_list|Parrived)$")),
    ("persistent_coll", re.compile(
        r"\.(Barrier|Bcast|Gather|Gatherv|Scatter|Scatterv|Allgather|"
        r"Allgatherv|Alltoall|Alltoallv|Alltoallw|Reduce|Allreduce|"
        r"Reduce_scatter|Reduce_scatter_block|Scan|Exscan|"
        r"Neighbor_allgather|Neighbor_allgatherv|Neighbor_alltoall|"
        r"Neighbor_alltoallv|Neighbor_alltoallw)_init$")),
]


# mpi4py's private helpers that other packages call (numba-mpi, mpi4jax,
# mpi4py.util.dtlib): listed as "core"; the other private names of the
# stub are mpi4py's own internals ("private"), and __pyx_capi__ is its C
# API ("capi": fastmpi's C API is an issue of its own).
PRIVATE_USED = {"_typedict", "_typedict_c", "_typedict_f", "_typecode",
                "_typealign", "_sizeof", "_addressof", "_handleof"}


def area_of(name):
    if name == "__pyx_capi__":
        return "capi"
    if name.startswith("_") and not name.startswith("__") and \
            name not in PRIVATE_USED:
        return "private"
    for area, pattern in AREAS:
        if pattern.search(name):
            return area
    return "core"


def text(node):
    return None if node is None else ast.unparse(node)


def params(fn):
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + a.defaults
    for i, (arg, d) in enumerate(zip(positional, defaults)):
        kind = "positional_only" if i < len(a.posonlyargs) else "normal"
        out.append([arg.arg, kind, text(d)])
    if a.vararg:
        out.append([a.vararg.arg, "var_positional", None])
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append([arg.arg, "keyword_only", text(d)])
    if a.kwarg:
        out.append([a.kwarg.arg, "var_keyword", None])
    return out


def callable_kind(fn, in_class):
    decorators = [text(d) for d in fn.decorator_list]
    if "property" in decorators:
        return "property"
    if any(d.endswith(".setter") for d in decorators):
        return None                     # the property's setter: same name
    if "classmethod" in decorators:
        return "classmethod"
    if "staticmethod" in decorators:
        return "staticmethod"
    return "method" if in_class else "function"


def collect(tree):
    names = {}

    def add(name, entry):
        if name in names and names[name]["kind"] != entry["kind"]:
            return      # an overload or a setter of a name already listed
        entry["area"] = area_of(name)
        if entry["kind"] == "constant" and entry["area"] == "core":
            # WIN_NULL: Win, ...: a handle of an area that is not there yet
            entry["area"] = area_of(entry["type"])
        names[name] = entry

    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            add(node.name, {"kind": "class"})
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    kind = callable_kind(sub, True)
                    if kind is not None:
                        entry = {"kind": kind}
                        if kind != "property":
                            entry["params"] = params(sub)
                        add(node.name + "." + sub.name, entry)
                elif (isinstance(sub, ast.AnnAssign)
                      and isinstance(sub.target, ast.Name)):
                    add(node.name + "." + sub.target.id,
                        {"kind": "attribute", "type": text(sub.annotation)})
        elif isinstance(node, ast.FunctionDef):
            add(node.name, {"kind": "function", "params": params(node)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target,
                                                            ast.Name):
            kind = text(node.annotation)
            m = re.match(r"Final\[(.*)\]$", kind)
            add(node.target.id, {"kind": "constant",
                                 "type": m.group(1) if m else kind})
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    add(target.id, {"kind": "alias",
                                    "of": text(node.value)})
    return {k: v for k, v in names.items()
            if not k.split(".")[-1].startswith("_")
            or k.split(".")[-1].startswith("__")
            or k.startswith("_")}


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        tree = ast.parse(f.read())
    json.dump(collect(tree), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
