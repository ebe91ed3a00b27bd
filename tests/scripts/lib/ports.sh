# tests/scripts/lib/ports.sh - sourced by the test scripts (and ops/bench-dashboards): TCP ports
# for throwaway services, below Linux's ephemeral range and reserved machine-wide, so that
# concurrent runs (normal + ASan build, ctest -j) never pick the same ones. ports.py next to
# this file is the one implementation (and explains why); Python code imports it.
#
#   ports_reserve SIZE...      prints one line of ports, one per SIZE: the first of SIZE
#                              consecutive free ports (1 for PostgreSQL, 2 for Kafka: client and
#                              KRaft controller); they stay reserved for this shell ($$) until
#                              ports_release or its exit
#   ports_release [PORT...]    gives this shell's reservations (all, or those PORTs) back
_ports_py=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/ports.py
_ports_python=/usr/bin/python3
[[ -x $_ports_python ]] || _ports_python=python3

ports_reserve() { "$_ports_python" -B "$_ports_py" reserve "$$" "$@"; }
ports_release() { "$_ports_python" -B "$_ports_py" release "$$" "$@"; }
