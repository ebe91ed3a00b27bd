#!/usr/bin/env bash
# Schema evolution through a real Schema Registry (rivven-schema) against the real worker:
# writer schemas registered over REST and events encoded by an independent client (Apache Avro
# for Python, kafka-python), prior auth and claim versions 1, 2 and test-only evolutions (fields
# reordered, enums reordered, an extra field, int for long) interleaved on one topic and judged
# like `evaluate` judges them; bad writers dead-lettered as unknown_schema / incompatible_schema;
# outcomes under the registry's determination id; `produce` writing the registry's ids.
# tests/interop/registry_interop.py says what is asserted.
# Usage: registry_interop.sh BUILD_DIR SOURCE_DIR [registry_interop.py options, e.g. -k produce]
#
# Needs kafka-python (SOURCE_DIR/.local/pylib) and rivven-schema (both from ops/install-deps):
# without them it fails, it does not skip. ONE throwaway stack with the registry in
# BUILD_DIR/registry-interop/stack on reserved ports (tests/scripts/lib/stack_runner.sh), cleaned
# on exit. Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
pylib=$(cd "${2:-.}" 2>/dev/null && pwd -P)/.local/pylib
export PYTHONPATH=$pylib${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
	echo "registry_interop: kafka-python (in $pylib) is missing: run ops/install-deps"
	echo "0 passed, 1 failed"
	exit 1
fi
suite_init registry_interop registry-interop "$@"
shift 2
[[ -n $registry_url ]] ||
	{ sr_say "the stack runs no Schema Registry (rivven-schema: ops/install-deps)"; exit 1; }
suite_run 420 10 "$src/tests/interop/registry_interop.py" "$@"
