"""fastmpi.util: helpers built on fastmpi.MPI (as mpi4py.util).

Modules (import each by name; importing this package imports none of them):

dtlib  -- numpy dtypes to MPI datatypes and back (from_numpy_dtype,
          to_numpy_dtype)

mpi4py.util's pkl5, pool and sync are not in fastmpi yet.
"""

__all__ = ["dtlib"]
