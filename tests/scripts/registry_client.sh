#!/usr/bin/env bash
# The Schema Registry client (src/io/registry.c) against a real rivven-schema that
# ops/stack.sh starts and stops (tests/registry/registry_client.py says what is checked).
# Usage: registry_client.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "${1:?usage: registry_client.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
src=$(cd "${2:?usage: registry_client.sh BUILD_DIR SOURCE_DIR}" && pwd -P)
# shellcheck source=lib/stack_runner.sh
. "$src/tests/scripts/lib/stack_runner.sh"
for v in $(compgen -e | grep -E '^AMTAGVI_' | grep -vxE 'AMTAGVI_(TEST_PORTS|PORTS_DIR|CACHE|RIVVEN_SCHEMA)' ||
	true); do unset "$v"; done

for f in registry_tool amtagvi-adjudicator; do
	[[ -x $build/$f ]] || { sr_say "$build/$f is not built"; exit 1; }
done
bin=${AMTAGVI_RIVVEN_SCHEMA:-${AMTAGVI_CACHE:-$HOME/.cache/amtagvi}/rivven-schema/bin/rivven-schema}
[[ -x $bin ]] || bin=$(command -v rivven-schema) ||
	{ sr_say "rivven-schema is not installed: run ops/install-deps"; exit 1; }

base=$build/registry_client
mkdir -p "$base"
exec 8>"$base/.lock"
flock -n 8 || { sr_say "another registry_client.sh is running with $build"; exit 1; }
trap 'stack_clean' EXIT
trap 'exit 130' INT TERM
stack_init "$base/stack" "$base/stack.log"
stack_start start-registry || exit 1
rc=0
AMTAGVI_RIVVEN_SCHEMA=$bin /usr/bin/python3 -B "$src/tests/registry/registry_client.py" \
	--tool "$build/registry_tool" --adjudicator "$build/amtagvi-adjudicator" \
	--stack-sh "$src/ops/stack.sh" --stack-dir "$stack_dir" --port "$registry_port" \
	--schemas "$src/schemas" 8>&- || rc=$?
exit "$rc"
