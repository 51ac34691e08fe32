"""python3 -m fastmpi [--mpi4py] script.py [args] | -m module [args] | -c cmd

The runner lives in :mod:`fastmpi.run` (so that, under the mpi4py alias,
``python3 -m mpi4py`` and ``python3 -m mpi4py.run`` are the same runner).
"""
import sys

from fastmpi.run import main

if __name__ == "__main__":
    sys.exit(main())
