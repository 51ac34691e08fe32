#!/usr/bin/env bash
# The fastmpi showcase, run by `make demo` after `make build`:
#   1. where ../shared/seed/examples exists (it is not part of this
#      repository), the seed tutorial's four mpi4py programs, unchanged, on
#      4 ranks, through fastmpi's opt-in mpi4py alias
#      (python3 -m fastmpi --mpi4py); skipped, with one line saying so,
#      where it does not;
#   2. always, our own programs (examples/pi.py, examples/ring.py,
#      examples/halo2d.py) on 4 ranks.
# It uses the MPI library of the in-place build (src/fastmpi/.mpi) and its
# launcher.  Exits non-zero if any run fails or prints the wrong thing.
#   NP=4 (ranks)  PYTHON=/usr/bin/python3  TIMEOUT=120 (seconds per run)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
seed="$(cd "$root/.." && pwd)/shared/seed/examples"
PYTHON="${PYTHON:-/usr/bin/python3}"
NP="${NP:-4}"
TIMEOUT="${TIMEOUT:-120}"
if ! [[ "$NP" =~ ^[0-9]+$ ]] || (( NP < 2 )); then
    echo "demo.sh: NP must be 2 or more (the tutorial's programs send to rank 1)" >&2
    exit 2
fi

if [[ ! -f "$root/src/fastmpi/.mpi" ]]; then
    echo "demo.sh: fastmpi is not built in place; run 'make build' first" >&2
    exit 1
fi
mpi="$(tr -d '[:space:]' < "$root/src/fastmpi/.mpi")"
case "$mpi" in
    mpich)
        launcher=(mpiexec.mpich -n "$NP") ;;
    openmpi)
        launcher=(mpirun.openmpi --oversubscribe -n "$NP")
        if [[ "$(id -u)" == 0 ]]; then
            launcher=(mpirun.openmpi --allow-run-as-root --oversubscribe -n "$NP")
        fi ;;
    *)
        echo "demo.sh: unknown MPI '$mpi' in src/fastmpi/.mpi" >&2
        exit 1 ;;
esac

export PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
cd "$root"

failures=()
ran=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

section() {
    printf '\n=== %s\n' "$*"
}

# run NAME EXPECT... -- COMMAND...: run it, show its output, and check that
# every EXPECT (a grep -E pattern) matches some line of that output; an
# EXPECT of the form N*PATTERN must match exactly N times instead.
run() {
    local name="$1"; shift
    local expect=()
    while [[ "$1" != "--" ]]; do expect+=("$1"); shift; done
    shift
    printf '$ %s\n' "$*"
    local start=$SECONDS status=0
    timeout "$TIMEOUT" "$@" 2>&1 | tee "$out" || status=$?
    if (( status == 124 )); then
        echo "--- $name: TIMED OUT after ${TIMEOUT}s"
        failures+=("$name (timed out)")
        return
    elif (( status != 0 )); then
        echo "--- $name: FAILED (exit status $status)"
        failures+=("$name (exit status $status)")
        return
    fi
    local pattern count
    for pattern in "${expect[@]}"; do
        if [[ "$pattern" =~ ^([0-9]+)\*(.*)$ ]]; then
            count="$(grep -aoE -- "${BASH_REMATCH[2]}" "$out" | wc -l)"
            if (( count != BASH_REMATCH[1] )); then
                echo "--- $name: FAILED ('${BASH_REMATCH[2]}' printed $count times, not ${BASH_REMATCH[1]})"
                failures+=("$name (wrong output)")
                return
            fi
        elif ! grep -aEq -- "$pattern" "$out"; then
            echo "--- $name: FAILED (no line matching '$pattern')"
            failures+=("$name (wrong output)")
            return
        fi
    done
    echo "--- $name: ok ($((SECONDS - start)) s)"
    ran=$((ran + 1))
}

case "$mpi" in
    mpich) version="MPICH $(mpiexec.mpich --version 2>/dev/null | sed -n 's/^ *Version: *//p' | head -n 1)" ;;
    openmpi) version="Open MPI $(mpirun.openmpi --version 2>/dev/null | head -n 1 | awk '{print $NF}')" ;;
esac
section "fastmpi demo: $NP ranks, $version, $(nproc) cores"
echo "launcher: ${launcher[*]}"
echo "python:   $PYTHON"

if [[ ! -d "$seed" ]]; then
    section "1. The seed tutorial's mpi4py programs: skipped ($seed does not exist; it is not part of this repository)"
else
    section "1. The seed tutorial's mpi4py programs, unchanged, through 'python3 -m fastmpi --mpi4py'"
    echo "(from $seed)"
    alias=("$PYTHON" -m fastmpi --mpi4py)
    section "comm.py"
    # Ranks print at once, so their lines may come out mixed: count them.
    run comm.py "$NP*My rank is " -- "${launcher[@]}" "${alias[@]}" "$seed/comm.py"
    section "send_int.py"
    run send_int.py '^On process 1, data is  1$' \
        -- "${launcher[@]}" "${alias[@]}" "$seed/send_int.py"
    section "send_dict.py"
    run send_dict.py "^On process 1, data is  \{'a': 7, 'b': 3.14\}$" \
        -- "${launcher[@]}" "${alias[@]}" "$seed/send_dict.py"
    section "send_numpy.py"
    run send_numpy.py '^Number of data to receive:  10$' '^data received:  \[0\. ' '3\.14 *\]$' \
        -- "${launcher[@]}" "${alias[@]}" "$seed/send_numpy.py"
fi

section "2. Our showcase programs, written for fastmpi ('from fastmpi import MPI')"
section "examples/pi.py: pi by numerical integration, partial sums sent to rank 0"
run pi.py '^pi ~= 3\.14159265' \
    -- "${launcher[@]}" "$PYTHON" -m fastmpi examples/pi.py
section "examples/ring.py: numpy arrays around a ring, timed with MPI.Wtime"
run ring.py 'all arrays arrived intact' \
    -- "${launcher[@]}" "$PYTHON" -m fastmpi examples/ring.py

section "examples/halo2d.py: 2-D Cartesian grid, halo exchange with Shift and Sendrecv"
run halo2d.py '^halo2d: OK$' \
    -- "${launcher[@]}" "$PYTHON" -m fastmpi examples/halo2d.py

section "summary"
if (( ${#failures[@]} )); then
    echo "demo FAILED: ${failures[*]}"
    exit 1
fi
echo "demo: all $ran programs ran correctly on $NP ranks with $mpi"
