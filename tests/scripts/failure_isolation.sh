#!/usr/bin/env bash
# Failure-isolation tests: one per failure class (oversized dead letter and outcome, a row
# PostgreSQL refuses, an outcome the encoder refuses, SIGTERM while the database or the broker
# is down, dead-letter replay and its loop guard), against a real PostgreSQL 15 + Kafka 3.9
# (tests/faults/test_isolation.py). A poison pill must cost one dead letter, never a partition.
# Usage: failure_isolation.sh BUILD_DIR SOURCE_DIR [test_isolation.py options, e.g. -k replay]
#
# One throwaway stack on reserved ports (tests/scripts/lib/stack_runner.sh), cleaned on exit;
# the whole run is bounded (ISOLATION_BUDGET_S, default 400 s). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${ISOLATION_BUDGET_S:-400}
suite_init failure_isolation isolation "$@"
shift 2
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) || { sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/faults/test_isolation.py" "$@"
