# tests/scripts/lib/stack_runner.sh - sourced by the test scripts that need PostgreSQL 15 and/or
# Kafka 3.9 (not a test itself: cmake/tests.cmake registers tests/scripts/*.sh only).
#
# The stack (any script; works under `set -euo pipefail`): one throwaway ops/stack.sh stack on
# ports reserved with lib/ports.sh (below the ephemeral range, never two runs on one port).
#   stack_init STACK_DIR LOG [LIBS_CACHE]
#                  where the stack lives, where ops/stack.sh's output goes, and where the Kafka
#                  jars are kept across runs (`clean` deletes the stack dir with its jars; from
#                  the cache they are hard-linked back instead of fetched again with Maven)
#   stack_start [start|start-pg|start-registry]
#                  stops and deletes what an interrupted run left in STACK_DIR, reserves ports
#                  (PostgreSQL; for `start` also Kafka + its controller and the Schema Registry,
#                  which `start` runs when rivven-schema is installed; start-registry: the
#                  registry alone) and starts, fsync off; up to 3 attempts, each on new ports.
#                  Sets pg_port, kafka_port and registry_port (and registry_url when it runs).
#   stack CMD...   ops/stack.sh CMD on this stack (its dir and ports)
#   stack_secure=1 (set after sourcing this file, before stack_start or suite_init): the stack in
#                  ops/stack.sh's secure modes, PostgreSQL with TLS + SCRAM and Kafka's client
#                  port SASL_SSL + SCRAM-SHA-512 (AMTAGVI_PG_TLS=1 AMTAGVI_KAFKA_SASL_SSL=1); the
#                  CA and the passwords are then in STACK_DIR/tls and STACK_DIR/secrets
#   stack_clean    stops the stack and deletes its dir if stack_start started it; gives the
#                  ports back (they are also freed when the script exits)
#
# The suite (worker_integration.sh, fault_tolerance.sh: a Python runner against the stack):
#   suite_init NAME SUBDIR BUILD_DIR SOURCE_DIR
#                  checks the prerequisites, takes BUILD_DIR/SUBDIR/.lock (one run per build),
#                  kills the workers an interrupted run left (by recorded pid only) and starts
#                  the stack in BUILD_DIR/SUBDIR/stack. Sets build, src, base, work, pidfile,
#                  suite_t0; from then on the exit trap stops the runner and the workers, cleans
#                  the stack and prints "N passed, M failed" last (exit 0 only if N > 0, M = 0).
#   suite_run LIMIT_S KILL_AFTER_S RUNNER.py [RUNNER OPTIONS...]
#                  the runner with --build --src --pg-port --kafka-port --stack-dir --workdir
#                  --pidfile (and --registry-port when the stack runs the Schema Registry),
#                  under `timeout`; its last "summary: N passed, M failed" counts.
# shellcheck shell=bash

# shellcheck source=ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
_sr_stack_sh=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../ops" && pwd -P)/stack.sh
_sr_name=$(basename "$0" .sh)
stack_dir=
pg_port=
kafka_port=
registry_port=
registry_url=
_stack_log=/dev/null
_stack_libs=
_stack_up=
stack_secure=

sr_say() { printf '%s: %s\n' "$_sr_name" "$*"; }

# ---------------------------------------------------------------- the stack

stack_init() { # STACK_DIR LOG [LIBS_CACHE]
	stack_dir=$1
	_stack_log=$2
	_stack_libs=${3:-}
	mkdir -p "$(dirname "$_stack_log")"
	: >"$_stack_log"
}

stack() { # the daemons it starts must not inherit a caller's lock on fd 8
	local secure= # empty: ops/stack.sh's default (plaintext on a fresh stack dir)
	[[ ${stack_secure:-0} != 1 ]] || secure=1
	AMTAGVI_STACK_DIR=$stack_dir AMTAGVI_PG_PORT=$pg_port AMTAGVI_KAFKA_PORT=$kafka_port \
		AMTAGVI_REGISTRY_PORT=$registry_port AMTAGVI_PG_FAST=1 AMTAGVI_PG_TLS=$secure AMTAGVI_KAFKA_SASL_SSL=$secure \
		bash "$_sr_stack_sh" "$@" 8>&-
}

_stack_seed_libs() { # the Kafka jars from the cache (hard links: no copy, no Maven run)
	if [[ -n $_stack_libs && -s $_stack_libs/.version && ! -d $stack_dir/kafka-libs ]]; then
		mkdir -p "$stack_dir"
		if ! cp -al "$_stack_libs" "$stack_dir/kafka-libs" 2>/dev/null; then
			rm -rf "$stack_dir/kafka-libs"
			cp -a "$_stack_libs" "$stack_dir/kafka-libs"
		fi
	fi
}

_stack_keep_libs() { # fill the cache once; mv -T: a concurrent run that filled it first wins
	if [[ -n $_stack_libs && ! -d $_stack_libs && -s $stack_dir/kafka-libs/.version ]]; then
		local tmp=$_stack_libs.tmp.$$
		if cp -a "$stack_dir/kafka-libs" "$tmp" && mv -T "$tmp" "$_stack_libs" 2>/dev/null; then
			:
		else
			rm -rf "$tmp"
		fi
	fi
}

stack_start() { # [start|start-pg]
	local cmd=${1:-start} attempt ports t0=$SECONDS secure_note=
	[[ ${stack_secure:-0} != 1 ]] || secure_note=" (TLS + SCRAM, SASL_SSL)"
	if [[ -d $stack_dir ]]; then # an interrupted run's (its services may still run)
		pg_port= kafka_port= registry_port=
		stack clean >>"$_stack_log" 2>&1 || true
	fi
	for attempt in 1 2 3; do
		registry_url=
		if [[ $cmd == start ]]; then
			ports=$(ports_reserve 1 2 1) || return 1
			read -r pg_port kafka_port registry_port <<<"$ports"
			_stack_seed_libs
		elif [[ $cmd == start-registry ]]; then
			registry_port=$(ports_reserve 1) || return 1
			pg_port= kafka_port=
		else
			pg_port=$(ports_reserve 1) || return 1
			kafka_port=
		fi
		_stack_up=1
		if stack "$cmd" >>"$_stack_log" 2>&1; then
			_stack_keep_libs
			[[ ! -s $stack_dir/registry.port ]] || registry_url=http://127.0.0.1:$registry_port
			local up=${pg_port:+, PostgreSQL 127.0.0.1:$pg_port}${kafka_port:+, Kafka 127.0.0.1:$kafka_port}
			up+=${registry_url:+, Schema Registry $registry_url}
			sr_say "stack up in $((SECONDS - t0))s: ${up#, }${secure_note}"
			return 0
		fi
		sr_say "stack $cmd failed (attempt $attempt, pg ${pg_port:-none}, kafka ${kafka_port:-none}, registry ${registry_port:-none}):"
		tail -n 20 "$_stack_log" | sed 's/^/    /'
		stack clean >>"$_stack_log" 2>&1 || true
		_stack_up=
	done
	return 1
}

stack_clean() {
	if [[ -n $_stack_up ]]; then # never touch a stack we did not start
		_stack_up=
		stack clean >>"$_stack_log" 2>&1 || sr_say "stack clean failed, see $_stack_log"
	fi
	ports_release 2>/dev/null || true
}

# ---------------------------------------------------------------- the suite

suite_init() { # NAME SUBDIR BUILD_DIR SOURCE_DIR
	_sr_name=$1
	build=$(cd "${3:?usage: $1.sh BUILD_DIR SOURCE_DIR}" && pwd -P) || exit 1
	src=$(cd "${4:?usage: $1.sh BUILD_DIR SOURCE_DIR}" && pwd -P) || exit 1
	py=/usr/bin/python3
	base=$build/$2
	work=$base/work
	pidfile=$work/pids
	summary="0 passed, 1 failed"
	runner=
	_suite_locked=
	suite_t0=$SECONDS
	local v
	for v in $(compgen -e | grep -E '^(AMTAGVI_|PG)' | grep -vxE 'AMTAGVI_(TEST_PORTS|PORTS_DIR|CACHE|RIVVEN_SCHEMA)' ||
		true); do unset "$v"; done
	trap _suite_exit EXIT
	trap 'exit 130' INT TERM

	[[ -x $build/amtagvi-adjudicator ]] || { sr_say "$build/amtagvi-adjudicator is not built"; exit 1; }
	"$py" -c 'import avro.io, avro.schema' 2>/dev/null ||
		{ sr_say "$py cannot import avro (apt-get install python3-avro)"; exit 1; }
	command -v psql >/dev/null || { sr_say "psql is missing (ops/stack.sh install)"; exit 1; }

	mkdir -p "$base"
	exec 8>"$base/.lock"
	flock -n 8 || { sr_say "another $1.sh is running with $build"; exit 1; }
	_suite_locked=1

	_suite_kill_workers # and stack_start stops the services an interrupted run left
	rm -rf "$work"
	mkdir -p "$work"
	: >"$pidfile"
	stack_init "$base/stack" "$base/stack.log" "$build/kafka-libs-cache"
	stack_start start || exit 1
}

_suite_kill_workers() { # what a crashed or interrupted runner left behind: by recorded pid only
	local pid
	[[ -s $pidfile ]] || return 0
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		if grep -qa amtagvi-adjudicator "/proc/$pid/cmdline" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$pidfile"
}

suite_run() { # LIMIT_S KILL_AFTER_S RUNNER.py [OPTIONS...]
	local limit=$1 kill_after=$2 prc line out=$work/results.txt reg=()
	shift 2
	[[ -z $registry_url ]] || reg=(--registry-port "$registry_port")
	# In the background + wait, so that INT/TERM run the trap at once (it stops the runner).
	timeout -k "$kill_after" "$limit" "$py" -B "$1" --build "$build" --src "$src" \
		--pg-port "$pg_port" --kafka-port "$kafka_port" --stack-dir "$stack_dir" \
		--workdir "$work" --pidfile "$pidfile" "${reg[@]}" "${@:2}" > >(tee "$out") 2>&1 8>&- &
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
		sr_say "the test runner ran out of its ${limit}s"
	else
		sr_say "the test runner exited $prc without a summary"
	fi
}

_suite_exit() {
	local rc=$?
	trap - EXIT
	trap '' INT TERM # a second signal must not cut the cleanup short (services left running)
	if [[ -n ${runner:-} ]] && kill -0 "$runner" 2>/dev/null; then
		kill -TERM "$runner" 2>/dev/null
		wait "$runner" 2>/dev/null
	fi
	if [[ -n $_suite_locked ]]; then # else the pidfile is another run's
		_suite_kill_workers
		stack_clean
	fi
	if [[ $summary =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
		rm -rf "$work"
	fi
	sr_say "total $((SECONDS - suite_t0))s"
	echo "$summary"
	[[ $summary =~ ^[1-9][0-9]*\ passed,\ 0\ failed$ ]] && exit 0
	((rc != 0)) || rc=1
	exit "$rc"
}
