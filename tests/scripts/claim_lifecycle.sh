#!/usr/bin/env bash
# The claim lifecycle end to end (contract §10, §11; docs/CLAIM_LIFECYCLE.md): voids and
# replacements judged by the `run` worker equal `evaluate` on the same events while a member's
# lines and their follow-ups fall in different batches, a second worker joins the group and
# leaves it, the worker is killed with SIGKILL between the lines and their voids, and the next
# one dies between a commit and its publication (tests/faults/test_lifecycle.py).
# Usage: claim_lifecycle.sh BUILD_DIR SOURCE_DIR [test_lifecycle.py options]
#
# One throwaway stack on reserved ports (tests/scripts/lib/stack_runner.sh), cleaned on exit;
# the whole run is bounded (LIFECYCLE_BUDGET_S, default 300 s). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${LIFECYCLE_BUDGET_S:-300}
suite_init claim_lifecycle lifecycle "$@"
shift 2
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) || { sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/faults/test_lifecycle.py" "$@"
