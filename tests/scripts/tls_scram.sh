#!/usr/bin/env bash
# Security in transit, against the real services: the worker end to end on PostgreSQL 15 with TLS
# (sslmode=verify-full against a CA the stack makes) + SCRAM passwords, and on a Kafka 3.9 broker
# whose client port is SASL_SSL with SCRAM-SHA-512; then a wrong CA, a wrong password and a
# plaintext attempt on each side are refused with a clear error in the worker's log and nothing
# written; no password reaches a log or `run --print-config`.
# Usage: tls_scram.sh BUILD_DIR SOURCE_DIR [test_tls_scram.py options, e.g. -k kafka]
#
# ONE throwaway stack in ops/stack.sh's secure modes (AMTAGVI_PG_TLS=1 AMTAGVI_KAFKA_SASL_SSL=1,
# via stack_secure=1 in tests/scripts/lib/stack_runner.sh) in BUILD_DIR/tls-scram/stack, on
# reserved ports below the ephemeral range; runs tests/security/test_tls_scram.py with the system
# python; always stops its workers and cleans the stack. Prints "N passed, M failed" last.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
command -v openssl >/dev/null || { echo "tls_scram: openssl is missing"; echo "0 passed, 1 failed"; exit 1; }
stack_secure=1
suite_init tls_scram tls-scram "$@"
shift 2
suite_run 240 10 "$src/tests/security/test_tls_scram.py" "$@"
