#!/usr/bin/env bash
# evaluate against the contract (docs/CONTRACT.md): the golden examples of
# tests/contract/golden/, determinism, rejections (see the .py).
set -euo pipefail
build=$1 src=$2
AMTAGVI_SOURCE_DIR=$src AMTAGVI_POLICY_FILE=$src/policy/IP0625.json \
  python3 "$src/tests/contract/evaluate_contract.py" "$build/amtagvi-adjudicator"
