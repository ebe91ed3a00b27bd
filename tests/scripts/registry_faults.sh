#!/usr/bin/env bash
# The worker with a Schema Registry (rivven-schema) that is down at start-up, restarted
# mid-stream and stopped while events flow: it waits (log, /readyz 503), never dead-letters,
# keeps judging ids it has met, stops promptly on SIGTERM while waiting, and judges every event
# like `evaluate` once the registry is back (tests/faults/test_registry_faults.py).
# Usage: registry_faults.sh BUILD_DIR SOURCE_DIR [test_registry_faults.py options, e.g. -k sigterm]
#
# Needs kafka-python (SOURCE_DIR/.local/pylib) and rivven-schema (both from ops/install-deps):
# without them it fails, it does not skip. ONE throwaway stack with the registry on reserved ports
# (tests/scripts/lib/stack_runner.sh), cleaned on exit; the whole run is bounded
# (REGISTRY_FAULTS_BUDGET_S, default 360 s). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${REGISTRY_FAULTS_BUDGET_S:-360}
pylib=$(cd "${2:-.}" 2>/dev/null && pwd -P)/.local/pylib
export PYTHONPATH=$pylib${PYTHONPATH:+:$PYTHONPATH}
if ! /usr/bin/python3 -c 'import kafka' 2>/dev/null; then
	echo "registry_faults: kafka-python (in $pylib) is missing: run ops/install-deps"
	echo "0 passed, 1 failed"
	exit 1
fi
suite_init registry_faults registry-faults "$@"
shift 2
[[ -n $registry_url ]] ||
	{ sr_say "the stack runs no Schema Registry (rivven-schema: ops/install-deps)"; exit 1; }
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) ||
	{ sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/faults/test_registry_faults.py" "$@"
