#!/usr/bin/env bash
# Avro interop: the C codec against the reference Python `avro` library (see
# tests/interop/avro_interop.py). Usage: avro_interop.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=${1:?usage: avro_interop.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: avro_interop.sh BUILD_DIR SOURCE_DIR}
# The system python has python3-avro; a pyenv python on PATH may not.
py=/usr/bin/python3
if ! "$py" -c 'import avro.io, avro.schema' 2>/dev/null; then
    echo "avro_interop: $py cannot import avro (apt-get install python3-avro)" >&2
    exit 1
fi
tool=$build/avro_interop_tool
[[ -x $tool ]] || { echo "avro_interop: $tool is not built" >&2; exit 1; }
exec "$py" "$src/tests/interop/avro_interop.py" --tool "$tool" --schemas "$src/schemas" \
    --policy "$src/policy/IP0625.json" "${@:3}"
