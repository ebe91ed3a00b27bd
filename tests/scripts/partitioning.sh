#!/usr/bin/env bash
# Java-compatible partitioning: `produce` and the worker's outcomes publisher put every key on
# the partition murmur2 picks, as kafka-python's murmur2 computes it independently.
# tests/interop/partitioning.py says what is asserted.
# Usage: partitioning.sh BUILD_DIR SOURCE_DIR [partitioning.py options]
#
# kafka-python comes from ops/install-deps (pinned, in SOURCE_DIR/.local/pylib); without it this
# test fails at once, it does not skip. Starts ONE throwaway stack (ops/stack.sh) on reserved
# ports (tests/scripts/lib/stack_runner.sh) and cleans it on exit.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
pylib=$(cd "${2:-.}" 2>/dev/null && pwd -P)/.local/pylib
export PYTHONPATH=$pylib${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
	echo "partitioning: kafka-python (in $pylib) is missing: run ops/install-deps"
	echo "0 passed, 1 failed"
	exit 1
fi
suite_init partitioning partitioning "$@"
shift 2
suite_run 300 10 "$src/tests/interop/partitioning.py" "$@"
