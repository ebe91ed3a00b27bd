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

# Our own cluster: the normal and the sanitizer build run this test at the same time.
export AMTAGVI_STACK_DIR=$build/dashboards-test/stack AMTAGVI_PG_FAST=1
work=$build/dashboards-test
stop_pg() {
	AMTAGVI_STACK_CLEAN=1 bash "$src/ops/stack.sh" stop-pg >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap stop_pg EXIT
trap 'exit 130' INT TERM
stop_pg # what an interrupted run left
mkdir -p "$work"

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=
for attempt in 1 2 3 4 5; do
	p=$(free_port)
	if AMTAGVI_PG_PORT=$p bash "$src/ops/stack.sh" start-pg >"$work/start-pg.log" 2>&1; then
		port=$p
		break
	fi
	echo "dashboards: start-pg on port $p failed (attempt $attempt), retrying" >&2
	cat "$work/start-pg.log" >&2
done
[[ -n $port ]] || { echo "dashboards: could not start PostgreSQL" >&2; exit 1; }

printf 'database.url = postgresql://amtagvi@127.0.0.1:%s/amtagvi\n' "$port" >"$work/test.conf"
"$bin" migrate --config "$work/test.conf"

"$py" -B "$src/tests/dashboards/test_dashboards.py" --psql "$pgbin/psql" --port "$port" --db amtagvi \
	--source "$src"
