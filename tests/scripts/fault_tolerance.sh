#!/usr/bin/env bash
# Fault-tolerance tests: the `run` worker against a real PostgreSQL 15 + Kafka 3.9 broker while
# PostgreSQL restarts, the broker restarts, connections are terminated, workers get SIGTERM or
# kill -9, and bad input arrives (tests/faults/test_faults.py).
# Usage: fault_tolerance.sh BUILD_DIR SOURCE_DIR [test_faults.py options, e.g. -k kill9]
#
# Starts ONE throwaway stack (ops/stack.sh, AMTAGVI_PG_FAST=1) in BUILD_DIR/fault-tol/stack on
# free ports below the ephemeral range, reserved machine-wide for as long as this script runs
# (tests/scripts/lib/ports.sh), so that the normal and the ASan build can run this at the same
# time and a sibling run cannot take a port while one of our services is down. Always stops
# the workers it started and cleans the stack on exit (tests/scripts/lib/stack_runner.sh); the
# whole run is bounded (FAULT_BUDGET_S, default 345 s). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${FAULT_BUDGET_S:-345}
suite_init fault_tolerance fault-tol "$@"
shift 2
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) || { sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/faults/test_faults.py" "$@"
