#!/usr/bin/env bash
# Fault-tolerance tests: the `run` worker against a real PostgreSQL 15 + Kafka 3.9 broker while
# PostgreSQL restarts, the broker restarts, connections are terminated, workers get SIGTERM or
# kill -9, and bad input arrives (tests/faults/test_faults.py).
# Usage: fault_tolerance.sh BUILD_DIR SOURCE_DIR [test_faults.py options, e.g. -k kill9]
#
# Starts ONE throwaway stack (ops/stack.sh, AMTAGVI_PG_FAST=1) in BUILD_DIR/fault-tol/stack on
# free ports below the ephemeral range (PostgreSQL 28100.., Kafka 28400..), probed under
# /tmp/amtagvi-fault-tol.ports.lock so that the normal and the ASan build can run this at the
# same time; the tests take the same lock while one of our services is down, so a sibling run
# cannot grab its port. Always stops the workers it started and cleans the stack on exit; the
# whole run is bounded (FAULT_BUDGET_S, default 345 s). Prints "N passed, M failed" last.
set -uo pipefail
build=$(cd "${1:?usage: fault_tolerance.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
src=$(cd "${2:?usage: fault_tolerance.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
shift 2
budget=${FAULT_BUDGET_S:-345}
py=/usr/bin/python3
base=$build/fault-tol
stack_dir=$base/stack
work=$base/work
pidfile=$work/pids
libs_cache=$base/kafka-libs-cache # the Kafka jars survive `clean`: no Maven run next time
port_lock=/tmp/amtagvi-fault-tol.ports.lock
summary="0 passed, 1 failed"
stack_up=
runner=
pg_port=
kafka_port=
t_start=$SECONDS

say() { printf 'fault_tolerance: %s\n' "$*"; }

for v in $(compgen -e | grep -E '^(AMTAGVI_|PG)' || true); do unset "$v"; done

stack() { # the daemons it starts must not inherit our lock fds 7 and 8
	AMTAGVI_STACK_DIR=$stack_dir AMTAGVI_PG_PORT=$pg_port AMTAGVI_KAFKA_PORT=$kafka_port \
		AMTAGVI_PG_FAST=1 "$src/ops/stack.sh" "$@" 7>&- 8>&-
}

kill_workers() { # what a crashed or interrupted runner left behind: by recorded pid only
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
	if [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
		rm -rf "$work"
	fi
	say "total $((SECONDS - t_start))s"
	echo "$summary"
	[[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] && exit 0
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
flock -n 8 || { say "another fault_tolerance.sh is running with $build"; exit 1; }

# A previous run killed before its trap ran may have left workers and its stack: stop them.
kill_workers
if [[ -d $stack_dir ]]; then
	pg_port=$(cat "$stack_dir/pg.port" 2>/dev/null || echo 28100)
	kafka_port=$(cat "$stack_dir/kafka.port" 2>/dev/null || echo 28400)
	stack clean >"$base/stack.log" 2>&1 || true
fi
rm -rf "$work" "$stack_dir"
mkdir -p "$work"
: >"$pidfile"
: >"$base/stack.log"

# Free ports outside the ephemeral range (no client socket or port-0 probe of another test can
# hold them), probed by binding.
free_ports() { # prints "PG KAFKA": PG in 28100.., KAFKA and KAFKA+1 in 28400..
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
pg = next(28100 + (off + i) % 200 for i in range(200) if free(28100 + (off + i) % 200))
k = next(28400 + 2 * ((off + i) % 100) for i in range(100)
         if free(28400 + 2 * ((off + i) % 100)) and free(28401 + 2 * ((off + i) % 100)))
print(pg, k)
EOF
}

exec 7>>"$port_lock"
for attempt in 1 2 3; do
	flock -w 300 7 || { say "timed out waiting for the port lock"; exit 1; }
	read -r pg_port kafka_port < <(free_ports)
	if [[ ! -d $stack_dir/kafka-libs ]]; then
		for c in "$libs_cache" "$build/worker-it/kafka-libs-cache"; do
			if [[ -d $c ]]; then
				mkdir -p "$stack_dir" && cp -a "$c" "$stack_dir/kafka-libs"
				break
			fi
		done
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
say "stack up in $((SECONDS - t_start))s: PostgreSQL 127.0.0.1:$pg_port, Kafka 127.0.0.1:$kafka_port"

left=$((budget - (SECONDS - t_start)))
((left > 60)) || { say "only ${left}s of the ${budget}s budget left after the stack start"; exit 1; }
out=$work/results.txt
# In the background + wait, so that INT/TERM run the trap at once (it stops the runner).
timeout -k 5 "$left" "$py" -B "$src/tests/faults/test_faults.py" --build "$build" --src "$src" \
	--pg-port "$pg_port" --kafka-port "$kafka_port" --stack-dir "$stack_dir" \
	--workdir "$work" --pidfile "$pidfile" --port-lock "$port_lock" "$@" \
	> >(tee "$out") 2>&1 8>&- &
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
elif ((prc == 124 || prc == 137)); then
	say "the test runner ran out of the ${budget}s budget"
else
	say "the test runner exited $prc without a summary"
fi
