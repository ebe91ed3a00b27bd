#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan), replays
# every saved regression and the seed corpus, then fuzzes each target for a bounded time on a
# scratch copy of its corpus. Any crash, leak, timeout or out-of-memory fails the test; the
# input is kept under BUILD_DIR/fuzz/smoke/artifacts/ with how to reproduce it.
#   usage: fuzz_smoke.sh BUILD_DIR SOURCE_DIR
# Everything it writes is under BUILD_DIR/fuzz, so two builds can run it at once. Environment:
#   AMTAGVI_FUZZ_SECONDS   fuzzing time per target (default 20)
#   AMTAGVI_FUZZ_RSS_MB    -rss_limit_mb (default 1024)
# docs/FUZZING.md explains the targets and how to fuzz for longer.
set -uo pipefail
build=${1:?usage: fuzz_smoke.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: fuzz_smoke.sh BUILD_DIR SOURCE_DIR}
build=$(realpath -m "$build")
src=$(realpath "$src")
seconds=${AMTAGVI_FUZZ_SECONDS:-20}
rss_mb=${AMTAGVI_FUZZ_RSS_MB:-1024}
targets=(fuzz_avro_decode fuzz_json_event fuzz_policy_load)
fuzz=$build/fuzz
smoke=$fuzz/smoke
artifacts=$smoke/artifacts
start=$(date +%s)
passed=0
failed=0

# The sanitizers' own settings, whatever the calling environment (ctest under ops/test sets
# abort_on_error, which libFuzzer handles too; these are explicit so both builds behave alike).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
unset LSAN_OPTIONS # the fuzzers set use_unaligned=1 themselves (avro-c, see fuzz_common.c)

pass() {
    echo "PASS  $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL  $1"
    failed=$((failed + 1))
}
finish() {
    echo "fuzz_smoke: $(($(date +%s) - start)) s; artifacts and logs in $smoke"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

# Keeps a failing input and says how to reproduce, minimise and pin it as a regression.
report_input() { # target input-file log
    local target=$1 input=$2 log=$3 kept
    kept=$artifacts/$target-$(basename "$input")
    [ "$input" -ef "$kept" ] || cp "$input" "$kept"
    echo "----- $target: failing input kept as $kept ($(stat -c %s "$kept") bytes)"
    grep -E '^==fuzz==|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
        "$log" | head -8 | sed 's/^/      /'
    grep -E '^ +#[0-9]+ 0x' "$log" | grep -vE 'fuzzer::|__sanitizer_|libc\.so|pthread_kill|raise|abort' |
        head -10 | sed 's/^/      /'
    echo "      reproduce:  $fuzz/$target $kept"
    echo "      minimise:   $fuzz/$target -minimize_crash=1 -runs=20000 $kept"
    echo "      pin it:     cp <minimised input> $src/tests/fuzz/regressions/$target/<bug-name>"
    echo "      full log:   $log"
}

rm -rf "$smoke"
mkdir -p "$artifacts" "$smoke/logs" "$smoke/runs"

# ---------------------------------------------------------------- build
cc=$(command -v clang || command -v clang-14 || true)
log=$smoke/logs/build.log
if [ -z "$cc" ]; then
    echo "fuzz_smoke: clang is not installed (apt-get install clang libclang-rt-14-dev)" | tee "$log"
    fail "build"
    finish
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' |
    "$cc" -x c - -fsanitize=fuzzer,address,undefined -o "$smoke/probe" >"$log" 2>&1; then
    echo "fuzz_smoke: $cc cannot link libFuzzer (apt-get install libclang-rt-14-dev)" | tee -a "$log"
    fail "build"
    finish
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if cmake -S "$src/tests/fuzz" -B "$fuzz" "${gen[@]}" -DCMAKE_C_COMPILER="$cc" >>"$log" 2>&1 &&
    cmake --build "$fuzz" -j "$(nproc)" >>"$log" 2>&1; then
    pass "build ($cc, $(($(date +%s) - start)) s)"
else
    tail -40 "$log"
    fail "build (log: $log)"
    finish
fi

# ---------------------------------------------------------------- replay
for t in "${targets[@]}"; do
    inputs=()
    for d in "$src/tests/fuzz/regressions/$t" "$src/tests/fuzz/corpus/$t"; do
        [ -d "$d" ] || continue
        while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
    done
    log=$smoke/logs/$t-replay.log
    if [ ${#inputs[@]} -eq 0 ]; then
        fail "$t replay: no corpus in $src/tests/fuzz/corpus/$t"
        continue
    fi
    # All inputs in one process; if that fails, one process per input names every bad one
    # (and keeps a leak attributable to its input).
    bad=()
    if ! "$fuzz/$t" -timeout=5 -rss_limit_mb="$rss_mb" "${inputs[@]}" >"$log" 2>&1; then
        for f in "${inputs[@]}"; do
            one=$smoke/logs/$t-replay-$(basename "$f").log
            if "$fuzz/$t" -timeout=5 -rss_limit_mb="$rss_mb" "$f" >"$one" 2>&1; then
                rm -f "$one"
            else
                bad+=("$f")
                report_input "$t" "$f" "$one"
            fi
        done
        [ ${#bad[@]} -gt 0 ] || bad=("(the batch only: see $log)")
    fi
    if [ ${#bad[@]} -eq 0 ]; then
        pass "$t replay (${#inputs[@]} inputs)"
    else
        fail "$t replay: ${#bad[@]} of ${#inputs[@]} inputs fail (log: $log)"
    fi
done

# ---------------------------------------------------------------- bounded fuzzing
for t in "${targets[@]}"; do
    work=$smoke/runs/$t
    mkdir -p "$work"
    cp "$src/tests/fuzz/corpus/$t"/* "$work"/ 2>/dev/null
    log=$smoke/logs/$t-fuzz.log
    dict=()
    [ -f "$src/tests/fuzz/dict/$t.dict" ] && dict=(-dict="$src/tests/fuzz/dict/$t.dict")
    "$fuzz/$t" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=5 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$work" >"$log" 2>&1
    rc=$?
    stats=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | grep -oE '[0-9]+$' || true)
    rate=$(grep -E '^stat::average_exec_per_sec' "$log" | grep -oE '[0-9]+$' || true)
    if [ $rc -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then
        pass "$t fuzz ${seconds}s: ${execs:-?} execs, ${rate:-?}/s, ${stats:-no stats}"
    else
        found=$(find "$artifacts" -maxdepth 1 -type f \( -name "$t-crash-*" -o -name "$t-leak-*" \
            -o -name "$t-timeout-*" -o -name "$t-oom-*" \) | head -1)
        if [ -n "$found" ]; then
            report_input "$t" "$found" "$log"
        else
            tail -30 "$log"
        fi
        fail "$t fuzz: exit $rc (log: $log)"
    fi
done
finish
