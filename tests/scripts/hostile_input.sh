#!/usr/bin/env bash
# Hostile-input test: more than 50 kinds of hostile message, produced by an independent client
# (kafka-python, Apache Avro for Python) among valid events, must never stall the worker, and
# every valid event is judged once (tests/hostile/test_hostile.py says what is asserted).
# Usage: hostile_input.sh BUILD_DIR SOURCE_DIR [test_hostile.py options, e.g. -k kind:]
#
# kafka-python comes from ops/install-deps (pinned, in SOURCE_DIR/.local/pylib: Debian's pip is
# externally managed); without it this test fails at once, it does not skip. Starts ONE
# throwaway stack (ops/stack.sh, AMTAGVI_PG_FAST=1) in BUILD_DIR/hostile/stack on reserved
# ports (tests/scripts/lib/stack_runner.sh), always stops the workers it started and cleans the
# stack on exit. The whole run is bounded (HOSTILE_BUDGET_S, default 300 s). Prints
# "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${HOSTILE_BUDGET_S:-300}
pylib=$(cd "${2:-.}" 2>/dev/null && pwd -P)/.local/pylib
export PYTHONPATH=$pylib${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c 'import kafka, lz4.frame' 2>/dev/null; then
	echo "hostile_input: kafka-python (in $pylib) or python3-lz4 is missing: run"
	echo "hostile_input: ops/install-deps (it installs the pinned kafka-python there and"
	echo "hostile_input: python3-lz4 from Debian; pip cannot install into Debian's python)"
	echo "0 passed, 1 failed"
	exit 1
fi
suite_init hostile_input hostile "$@"
shift 2
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) || { sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/hostile/test_hostile.py" "$@"
