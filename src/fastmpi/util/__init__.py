"""fastmpi.util: helpers built on fastmpi.MPI (as mpi4py.util).

Modules (import each by name; importing this package imports none of them):

dtlib  -- numpy dtypes to MPI datatypes and back (from_numpy_dtype,
          to_numpy_dtype)
pkl5   -- mpi4py.util.pkl5's communicator wrappers (pkl5.Intracomm(comm))

mpi4py.util's pool and sync are not in fastmpi yet.
"""

__all__ = ["dtlib", "pkl5"]
