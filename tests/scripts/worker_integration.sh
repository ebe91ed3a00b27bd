#!/usr/bin/env bash
# Worker integration tests: the `run` worker against a real PostgreSQL 15 + Kafka 3.9 broker.
# Usage: worker_integration.sh BUILD_DIR SOURCE_DIR [test_worker.py options, e.g. -k sigterm]
#
# Starts ONE throwaway stack (ops/stack.sh, AMTAGVI_PG_FAST=1) in BUILD_DIR/worker-it/stack on
# free ports below the ephemeral range, reserved machine-wide (tests/scripts/lib/ports.sh), so
# the normal and the ASan build can run this at the same time; runs tests/worker/test_worker.py
# with the system python (it has `avro`), and always stops the workers it started and cleans
# the stack on exit (tests/scripts/lib/stack_runner.sh). Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
suite_init worker_integration worker-it "$@"
shift 2
suite_run 480 10 "$src/tests/worker/test_worker.py" "$@"
