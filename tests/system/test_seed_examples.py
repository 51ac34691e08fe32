"""The seed's four tutorial examples, run unchanged through the opt-in
mpi4py alias: mpiexec -n 4 python3 -m fastmpi --mpi4py <script>."""
import os

import numpy as np
import pytest

from conftest import PYTHON, run, shared_dir

EXAMPLES = os.path.join(shared_dir(), "seed", "examples")


def launch(target, script, n=4):
    path = os.path.join(EXAMPLES, script)
    assert os.path.exists(path), f"seed example missing: {path}"
    if target.impl == "fastmpi":
        cmd = target.mpiexec(n) + [PYTHON, "-m", "fastmpi", "--mpi4py", path]
    else:
        cmd = target.mpiexec(n) + [PYTHON, path]
    res = run(cmd, target.env(), timeout=120)
    assert not res.timed_out, res
    assert res.returncode == 0, res
    return res.out


def lines(out):
    return [l.rstrip() for l in out.splitlines()]


def test_comm(target):
    out = launch(target, "comm.py")
    got = sorted(l for l in lines(out) if l.startswith("My rank is"))
    assert got == [f"My rank is  {r}" for r in range(4)], out


def test_send_dict(target):
    out = launch(target, "send_dict.py")
    assert "On process 1, data is  {'a': 7, 'b': 3.14}" in lines(out), out


def test_send_int(target):
    out = launch(target, "send_int.py")
    assert "On process 1, data is  1" in lines(out), out


def test_send_numpy(target):
    out = launch(target, "send_numpy.py")
    ls = lines(out)
    assert "Number of data to receive:  10" in ls, out
    text = out[out.index("data received: "):]
    body = text[len("data received: "):]
    body = body[body.index("[") + 1: body.index("]")]
    values = [float(v) for v in body.split()]
    assert np.allclose(values, np.linspace(0.0, 3.14, 10)), out


def test_examples_present():
    for name in ("comm.py", "send_dict.py", "send_int.py", "send_numpy.py"):
        assert os.path.exists(os.path.join(EXAMPLES, name)), name
