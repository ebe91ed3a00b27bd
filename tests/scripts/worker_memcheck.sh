#!/usr/bin/env bash
# The worker on a short real stream (valid events, poison messages, a metrics endpoint) under a
# memory checker: valgrind in the normal build, AddressSanitizer + LeakSanitizer in the
# sanitizer build (valgrind cannot run an ASan binary). Any error or definite leak fails.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
bin=$build/amtagvi-adjudicator
# A throwaway stack on reserved ports below the ephemeral range (tests/scripts/lib/).
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
stack_init "$build/memcheck-stack" "$build/memcheck-stack.log" "$build/kafka-libs-cache"
trap stack_clean EXIT
stack_start start
export AMTAGVI_STACK_DIR=$stack_dir AMTAGVI_PG_FAST=1 AMTAGVI_PG_PORT=$pg_port AMTAGVI_KAFKA_PORT=$kafka_port
for t in mc.events:2 mc.out:2 mc.dead:1; do stack create-topic "${t%%:*}" "${t##*:}" >/dev/null; done
conf=$build/memcheck.conf
cat > "$conf" <<CONF
brokers = 127.0.0.1:$AMTAGVI_KAFKA_PORT
database.url = postgresql://amtagvi@127.0.0.1:$AMTAGVI_PG_PORT/amtagvi
group.id = memcheck
topics = mc.events
outcomes.topic = mc.out
dead_letter.topic = mc.dead
exit.when.idle.ms = 3000
batch.max.messages = 100
metrics.address = 127.0.0.1:0
CONF
"$bin" migrate --config "$conf" >/dev/null
head -300 "$src/samples/events.jsonl" | "$bin" produce --config "$conf" 2>/dev/null
"$bin" produce --config "$conf" --raw < "$src/samples/poison.tsv" 2>/dev/null

# Not `nm | grep -q`: under pipefail grep's early exit kills nm with SIGPIPE and the test flips.
if ldd "$bin" | grep -c libasan >/dev/null; then
  checker="AddressSanitizer + LeakSanitizer"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin" run --config "$conf" 2> "$build/memcheck.log" || rc=$?
else
  checker=valgrind
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$bin" run --config "$conf" 2> "$build/memcheck.log" || rc=$?
fi
rc=${rc:-0}
stored=$(psql -qAtX "postgresql://amtagvi@127.0.0.1:$AMTAGVI_PG_PORT/amtagvi" -c "SELECT count(*) FROM determinations")
dead=$(psql -qAtX "postgresql://amtagvi@127.0.0.1:$AMTAGVI_PG_PORT/amtagvi" -c "SELECT count(*) FROM dead_letters")
passed=0 failed=0
if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: worker under $checker exited $rc"; grep -v '^{' "$build/memcheck.log" | tail -40; fi
# 300 sample lines hold 6 malformed ones that produce rejects and 0 replays of earlier lines.
expected=$(head -300 "$src/samples/events.jsonl" | "$bin" evaluate | python3 -c 'import json,sys; print(len({d["event_id"] for d in map(json.loads, sys.stdin) if "event_id" in d}))')
if [ "$stored" -eq "$expected" ] && [ "$dead" -eq 3 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: stored $stored (expected $expected), dead letters $dead (expected 3)"; fi
echo "worker under $checker: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
