"""fastmpi.util: helpers built on fastmpi.MPI (as mpi4py.util)."""
