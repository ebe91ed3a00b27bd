#!/usr/bin/env bash
# Dashboards (sql/003_dashboards.sql, ops/grafana/amtagvi-dashboard.json): starts a throwaway
# PostgreSQL 15 of its own on a free port (stack dir under BUILD_DIR, fsync off), migrates it
# with the built amtagvi-adjudicator, then runs tests/dashboards/test_dashboards.py: every view
# against numbers recomputed in Python, every Grafana panel query, the indexes, and the rights
# of the worker, retro and dashboard roles. Stops and deletes the cluster on exit.
# Usage: dashboards.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "${1:?usage: dashboards.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
src=$(cd "${2:?usage: dashboards.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
bin=$build/amtagvi-adjudicator
pgbin=/usr/lib/postgresql/15/bin
py=/usr/bin/python3
[[ -x $py ]] || py=python3
[[ -x $bin ]] || { echo "dashboards: $bin is not built" >&2; exit 1; }
[[ -x $pgbin/initdb ]] || { echo "dashboards: PostgreSQL 15 is not installed (ops/stack.sh install)" >&2; exit 1; }

# Our own cluster on a reserved port below the ephemeral range (tests/scripts/lib/): the normal
# and the sanitizer build run this test at the same time.
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
work=$build/dashboards-test
stack_init "$work/stack" "$work/stack.log"
cleanup() {
	stack_clean
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stack_start start-pg || { echo "dashboards: could not start PostgreSQL" >&2; exit 1; }
port=$pg_port

printf 'database.url = postgresql://amtagvi@127.0.0.1:%s/amtagvi\n' "$port" >"$work/test.conf"
"$bin" migrate --config "$work/test.conf"

"$py" -B "$src/tests/dashboards/test_dashboards.py" --psql "$pgbin/psql" --port "$port" --db amtagvi \
	--source "$src"
