#!/usr/bin/env bash
# Retention end to end (issue 14; docs/DECISIONS.md "Retention", ops/RUNBOOK.md "Retention"):
# `amtagvi-adjudicator retention` archives beside a running worker, which keeps committing;
# paid doses and what the judge needs stay, so a member whose dose is older than the horizon
# is still refused; retro warns for a window before the horizon; delete mode stops cleanly on
# SIGTERM and resumes; a horizon under 400 days is refused (tests/retention/test_retention.py).
# Usage: retention.sh BUILD_DIR SOURCE_DIR [test_retention.py options]
#
# One throwaway stack on reserved ports (tests/scripts/lib/stack_runner.sh), cleaned on exit;
# the whole run is bounded (RETENTION_BUDGET_S, default 420 s). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
budget=${RETENTION_BUDGET_S:-420}
suite_init retention retention "$@"
shift 2
left=$((budget - (SECONDS - suite_t0)))
((left > 60)) || { sr_say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
suite_run "$left" 5 "$src/tests/retention/test_retention.py" "$@"
