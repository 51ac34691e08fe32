"""pip install --no-build-isolation .   (MPI=mpich|openmpi picks the library)"""
import glob
import os

from setuptools import Extension, setup

mpi = os.environ.get("MPI", "mpich")
compiler = {"mpich": "mpicc.mpich", "openmpi": "mpicc.openmpi"}[mpi]
os.environ.setdefault("CC", os.environ.get("MPICC", compiler))
os.environ.setdefault("LDSHARED", os.environ["CC"] + " -shared")

setup(
    name="fastmpi",
    version="0.1.0",
    description="MPI for Python, written in C",
    package_dir={"": "src"},
    packages=["fastmpi", "fastmpi.util"],
    package_data={"fastmpi": ["*.pyi", "include/fastmpi/*.h"]},
    ext_modules=[
        Extension(
            "fastmpi.MPI",
            sources=sorted(glob.glob("src/_mpi/*/*.c")),
            extra_compile_args=["-std=c11", "-fvisibility=hidden"],
        )
    ],
)
