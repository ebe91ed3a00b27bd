#!/usr/bin/env bash
# Retro-review and the worker's metrics endpoint end to end on a real stack: the worker judges a stream, then `retro` re-judges
# windows with the shipped policy (nothing changes) and with a deliberately changed policy file
# (outcomes flip); findings are checked against `evaluate` run with both policy files.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
# A throwaway stack on reserved ports below the ephemeral range (tests/scripts/lib/), and one
# more such port for the worker's metrics endpoint, which the test scrapes.
. "$(dirname "${BASH_SOURCE[0]}")/lib/stack_runner.sh"
stack_init "$build/retro-stack" "$build/retro-stack.log" "$build/kafka-libs-cache"
trap stack_clean EXIT
stack_start start
export AMTAGVI_STACK_DIR=$stack_dir AMTAGVI_PG_FAST=1 AMTAGVI_PG_PORT=$pg_port AMTAGVI_KAFKA_PORT=$kafka_port
metrics_port=$(ports_reserve 1)
export OPS_E2E_METRICS_PORT=$metrics_port
python3 "$src/tests/ops/ops_e2e.py" "$build/amtagvi-adjudicator" "$src"
