#!/usr/bin/env bash
# Wire compatibility (contract §11) against the real worker: claims of claim schema versions 1
# (id 2) and 2 (id 4) on one topic, produced by an independent client (kafka-python, Apache Avro
# for Python), judged like `evaluate` judges them (version 1 as ORIGINAL), and the outcomes
# (determination schema version 2, id 5) read by Apache Avro with version 1 of the schema as the
# reader's schema too. tests/interop/wire_compat.py says what is asserted.
# Usage: avro_wire_compat.sh BUILD_DIR SOURCE_DIR [wire_compat.py options, e.g. -k mixed]
#
# kafka-python comes from ops/install-deps (pinned, in SOURCE_DIR/.local/pylib); without it this
# test fails at once, it does not skip. Starts ONE throwaway stack (ops/stack.sh,
# AMTAGVI_PG_FAST=1) in BUILD_DIR/wire-compat/stack on reserved ports
# (tests/scripts/lib/stack_runner.sh), always stops the workers it started and cleans the stack
# on exit. Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
pylib=$(cd "${2:-.}" 2>/dev/null && pwd -P)/.local/pylib
export PYTHONPATH=$pylib${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
	echo "avro_wire_compat: kafka-python (in $pylib) is missing: run ops/install-deps"
	echo "0 passed, 1 failed"
	exit 1
fi
suite_init avro_wire_compat wire-compat "$@"
shift 2
suite_run 420 10 "$src/tests/interop/wire_compat.py" "$@"
