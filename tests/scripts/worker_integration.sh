#!/usr/bin/env bash
# Worker integration tests: the `run` worker against a real PostgreSQL 15 + Kafka 3.9 broker.
# Usage: worker_integration.sh BUILD_DIR SOURCE_DIR [test_worker.py options, e.g. -k sigterm]
#
# Starts ONE throwaway stack (ops/stack.sh, AMTAGVI_PG_FAST=1) in BUILD_DIR/worker-it/stack on
# free ports found by probing (so the normal and the ASan build can run this at the same time),
# runs tests/worker/test_worker.py with the system python (it has `avro`), and always stops
# the workers it started and cleans the stack on exit. Prints "N passed, M failed" last.
set -uo pipefail
build=$(cd "${1:?usage: worker_integration.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
src=$(cd "${2:?usage: worker_integration.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
shift 2
py=/usr/bin/python3
base=$build/worker-it
stack_dir=$base/stack
work=$base/work
pidfile=$work/pids
libs_cache=$base/kafka-libs-cache # the Kafka jars survive `clean`: no Maven run next time
summary="0 passed, 1 failed"
stack_up=
runner=
pg_port=
kafka_port=

say() { printf 'worker_integration: %s\n' "$*"; }

for v in $(compgen -e | grep -E '^(AMTAGVI_|PG)' || true); do unset "$v"; done

stack() { # the daemons it starts must not inherit our lock fds 7 and 8
	AMTAGVI_STACK_DIR=$stack_dir AMTAGVI_PG_PORT=$pg_port AMTAGVI_KAFKA_PORT=$kafka_port \
		AMTAGVI_PG_FAST=1 "$src/ops/stack.sh" "$@" 7>&- 8>&-
}

kill_workers() { # workers a crashed or interrupted runner left behind: by recorded pid only
	local pid
	[[ -s $pidfile ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		if grep -qa amtagvi-adjudicator "/proc/$pid/cmdline" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$pidfile"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n ${runner:-} ]] && kill -0 "$runner" 2>/dev/null; then
		kill -TERM "$runner" 2>/dev/null
		wait "$runner" 2>/dev/null
	fi
	kill_workers
	if [[ -n $stack_up ]]; then # never touch a stack we did not start
		stack clean >>"$base/stack.log" 2>&1 || say "stack clean failed, see $base/stack.log"
	fi
	if [[ $summary == "0 passed, 0 failed" || $summary =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
		rm -rf "$work"
	fi
	echo "$summary"
	[[ $summary =~ ^[0-9]+\ passed,\ 0\ failed$ ]] && exit 0
	((rc != 0)) || rc=1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x $build/amtagvi-adjudicator ]] || { say "$build/amtagvi-adjudicator is not built"; exit 1; }
"$py" -c 'import avro.io, avro.schema' 2>/dev/null ||
	{ say "$py cannot import avro (apt-get install python3-avro)"; exit 1; }
command -v psql >/dev/null || { say "psql is missing (ops/stack.sh install)"; exit 1; }

mkdir -p "$base"
exec 8>"$base/.lock"
flock -n 8 || { say "another worker_integration.sh is running with $build"; exit 1; }

# A previous run killed before its trap ran may have left workers and its stack: stop them.
kill_workers
if [[ -d $stack_dir ]]; then
	pg_port=$(cat "$stack_dir/pg.port" 2>/dev/null || echo 55700)
	kafka_port=$(cat "$stack_dir/kafka.port" 2>/dev/null || echo 39400)
	stack clean >"$base/stack.log" 2>&1 || true
fi
rm -rf "$work" "$stack_dir"
mkdir -p "$work"
: >"$pidfile"
: >"$base/stack.log"

# Free ports: probe by binding, under a machine-wide lock so that two instances probing at
# the same time cannot pick the same ports; the lock is held until the stack listens on them.
free_ports() { # prints "PG KAFKA": PG in 55700.., KAFKA and KAFKA+1 in 39400..
	"$py" - "$$" <<'EOF'
import socket, sys
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
off = int(sys.argv[1]) % 40
pg = next(55700 + (off + i) % 200 for i in range(200) if free(55700 + (off + i) % 200))
k = next(39400 + 2 * ((off + i) % 100) for i in range(100)
         if free(39400 + 2 * ((off + i) % 100)) and free(39401 + 2 * ((off + i) % 100)))
print(pg, k)
EOF
}

t0=$SECONDS
exec 7>/tmp/amtagvi-worker-it.ports.lock
for attempt in 1 2 3; do
	flock -w 300 7 || { say "timed out waiting for the port lock"; exit 1; }
	read -r pg_port kafka_port < <(free_ports)
	if [[ -d $libs_cache && ! -d $stack_dir/kafka-libs ]]; then
		mkdir -p "$stack_dir" && cp -a "$libs_cache" "$stack_dir/kafka-libs"
	fi
	stack_up=1
	if stack start >>"$base/stack.log" 2>&1; then
		flock -u 7
		break
	fi
	flock -u 7
	say "stack start failed (attempt $attempt, pg $pg_port, kafka $kafka_port):"
	tail -n 20 "$base/stack.log" | sed 's/^/    /'
	stack clean >>"$base/stack.log" 2>&1 || true
	stack_up=
	((attempt < 3)) || exit 1
done
exec 7>&-
if [[ ! -d $libs_cache && -d $stack_dir/kafka-libs ]]; then
	cp -a "$stack_dir/kafka-libs" "$libs_cache.tmp.$$" && mv "$libs_cache.tmp.$$" "$libs_cache"
fi
say "stack up in $((SECONDS - t0))s: PostgreSQL 127.0.0.1:$pg_port, Kafka 127.0.0.1:$kafka_port"

out=$work/results.txt
# In the background + wait, so that INT/TERM run the trap at once (it stops the runner).
timeout -k 10 480 "$py" -B "$src/tests/worker/test_worker.py" --build "$build" --src "$src" \
	--pg-port "$pg_port" --kafka-port "$kafka_port" --stack-dir "$stack_dir" \
	--workdir "$work" --pidfile "$pidfile" "$@" > >(tee "$out") 2>&1 8>&- &
runner=$!
wait "$runner"
prc=$?
runner=
sleep 0.2 # let tee drain
line=$(sed -n 's/^summary: \([0-9]* passed, [0-9]* failed\)$/\1/p' "$out" | tail -n 1)
if [[ -n $line ]]; then
	summary=$line
	if ((prc != 0)) && [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
		summary="${summary%%,*}, 1 failed" # the runner failed after counting
	fi
else
	say "the test runner exited $prc without a summary"
fi
say "total $((SECONDS - t0))s"
