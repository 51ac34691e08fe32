# fastmpi: MPI for Python, in C.
#   make demo          install what is missing, build, run the showcase on 4 ranks
#   make test          the whole suite, MPICH and Open MPI, 1 to 4 ranks
#   make build         build fastmpi.MPI in place (MPI=mpich|openmpi, MPICH by default)
#   make bench         fastmpi against C and mpi4py, printed as ratios
#   make conformance   mpi4py's own test suite through the alias (../shared)
#   make icount        instructions per call, against C (../shared)
PYTHON ?= /usr/bin/python3
MPI ?= mpich
WERROR ?= 0

ifeq ($(MPI),mpich)
MPICC ?= mpicc.mpich
else ifeq ($(MPI),openmpi)
MPICC ?= mpicc.openmpi
else
$(error MPI must be mpich or openmpi, not '$(MPI)')
endif

EXT_SUFFIX := $(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
PY_INCLUDE := $(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_paths()['include'])")

CSTD = -std=c11
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wno-unused-parameter -Wno-cast-function-type \
       -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden \
             -I$(PY_INCLUDE)

# VARIANT names the build directory: the MPI library, or asan-<mpi>.
VARIANT ?= $(MPI)
SOURCES := $(wildcard src/_mpi/*/*.c)
OBJDIR := build/$(VARIANT)/obj
OBJECTS := $(patsubst src/_mpi/%.c,$(OBJDIR)/%.o,$(SOURCES))
EXT := build/$(VARIANT)/MPI$(EXT_SUFFIX)
STAGE := build/$(VARIANT)/lib/fastmpi
PYFILES := $(shell find src/fastmpi -name '*.py' -o -name '*.pyi')

.PHONY: build stage deps demo test bench clean asan conformance icount

build: $(EXT)
	cp $(EXT) src/fastmpi/MPI$(EXT_SUFFIX)
	echo $(MPI) > src/fastmpi/.mpi

# An importable copy per MPI library (PYTHONPATH=build/$(MPI)/lib), so the
# suite can run both libraries without rebuilding in place.
stage: $(EXT)
	rm -rf $(STAGE) && mkdir -p $(STAGE)
	cd src/fastmpi && find . \( -name '*.py' -o -name '*.pyi' -o -name '*.h' \) -exec cp --parents {} ../../$(STAGE)/ \;
	cp $(EXT) $(STAGE)/MPI$(EXT_SUFFIX)
	echo $(MPI) > $(STAGE)/.mpi

# Each object depends on the headers it includes (-MMD writes the list
# beside it), so a change rebuilds only the files that use it.
$(OBJDIR)/%.o: src/_mpi/%.c Makefile
	@mkdir -p $(dir $@)
	$(MPICC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJECTS:.o=.d)

$(EXT): $(OBJECTS)
	$(MPICC) -shared $(OBJECTS) $(LDFLAGS_EXTRA) -o $@

deps:
	@$(PYTHON) tools/deps.py

demo: deps
	$(MAKE) build MPI=$(MPI)
	bash examples/demo.sh

test: deps
	$(PYTHON) tests/run.py

bench:
	@$(PYTHON) tools/deps.py --optional
	$(PYTHON) bench/run.py

# mpi4py 3.1.4's own test suite through the mpi4py alias, where
# ../shared/conformance exists (CONFORMANCE_NP ranks, both libraries).
CONFORMANCE ?= ../shared/conformance/run.py
CONFORMANCE_NP ?= 2
conformance:
	@if [ -x "$(CONFORMANCE)" ]; then \
	    $(MAKE) stage MPI=mpich && $(MAKE) stage MPI=openmpi && \
	    $(PYTHON) $(CONFORMANCE) --mpi mpich --np $(CONFORMANCE_NP); \
	    m=$$?; $(PYTHON) $(CONFORMANCE) --mpi openmpi --np $(CONFORMANCE_NP); \
	    o=$$?; exit $$((m || o)); \
	else echo "conformance: $(CONFORMANCE) not found (../shared is not here)"; fi

# Instructions per call (callgrind), C against fastmpi (and mpi4py where
# MPI4PY_PYTHON names a venv with it), on MPICH: see docs/performance.md.
ICOUNT ?= ../shared/tools/icount/run.sh
icount:
	@if [ -f "$(ICOUNT)" ]; then \
	    $(MAKE) stage MPI=$(MPI) && bash $(ICOUNT) $(MPI); \
	else echo "icount: $(ICOUNT) not found (../shared is not here)"; fi

# The suite at 1 and 2 ranks under AddressSanitizer (PYTHONMALLOC=malloc so
# Python's own allocations are checked too).
ASAN_CFLAGS = -O1 -g -fsanitize=address -fno-omit-frame-pointer
asan: deps
	$(MAKE) stage VARIANT=asan-$(MPI) CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS_EXTRA="-fsanitize=address"
	$(PYTHON) tests/run.py --asan --mpi $(MPI)

clean:
	rm -rf build src/fastmpi/MPI*.so src/fastmpi/.mpi
