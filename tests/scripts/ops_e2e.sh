#!/usr/bin/env bash
# Retro-review and the worker's metrics endpoint end to end on a real stack: the worker judges a stream, then `retro` re-judges
# windows with the shipped policy (nothing changes) and with a deliberately changed policy file
# (outcomes flip); findings are checked against `evaluate` run with both policy files.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export AMTAGVI_STACK_DIR=$build/retro-stack AMTAGVI_PG_FAST=1
export AMTAGVI_PG_PORT=$(free_port) AMTAGVI_KAFKA_PORT=$(free_port)
# The controller listens on the next port up; make sure it is free too.
while ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $AMTAGVI_KAFKA_PORT + 1))" 2>/dev/null; do
  export AMTAGVI_KAFKA_PORT=$(free_port)
done
trap 'bash "$src/ops/stack.sh" clean >/dev/null 2>&1 || true' EXIT
bash "$src/ops/stack.sh" start >/dev/null
python3 "$src/tests/ops/ops_e2e.py" "$build/amtagvi-adjudicator" "$src"
