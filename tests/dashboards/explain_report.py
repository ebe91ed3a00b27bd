"""Runs every panel query of the Grafana dashboard under EXPLAIN (ANALYZE, BUFFERS) and prints a
table: execution time (median of --runs), buffers, rows, and the plan's scan nodes.
Used by ops/bench-dashboards.

    explain_report.py --psql PSQL --port P --db DB --user U --dashboard JSON [--runs 3] [--plans FILE]
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grafana_queries  # noqa: E402


def psql(a, sql):
    env = dict(os.environ, PGTZ="UTC")
    cmd = [a.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(a.port),
           "-U", a.user, "-d", a.db, "-c", sql]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def walk(node, out, depth=0):
    out.append((depth, node))
    for child in node.get("Plans", []):
        walk(child, out, depth + 1)


def key_lines(plan):
    nodes = []
    walk(plan, nodes)
    lines = []
    for depth, n in nodes:
        t = n["Node Type"]
        if "Scan" not in t and t not in ("Hash Join", "Nested Loop", "Merge Join"):
            continue
        what = t
        if n.get("Join Type") and "Join" in t or t == "Nested Loop":
            what += f" ({n.get('Join Type')})"
        if n.get("Index Name"):
            what += f" using {n['Index Name']}"
        elif n.get("Relation Name"):
            what += f" on {n['Relation Name']}"
        extra = f" rows={n.get('Actual Rows')} loops={n.get('Actual Loops')}"
        if "Heap Fetches" in n:
            extra += f" heap_fetches={n['Heap Fetches']}"
        lines.append("  " * depth + what + extra)
    return lines


def main():
    ap = argparse.ArgumentParser()
    for k in ("psql", "port", "db", "user", "dashboard"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--plans", help="append the key plan lines here")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    qs = grafana_queries.queries(a.dashboard, now - dt.timedelta(days=30), now)
    print(f"{'panel (view)':64} {'ms':>9} {'buffers':>9} {'rows':>6}")
    plans = [f"## {a.label}"]
    for p, sql in qs:
        times, last = [], None
        for _ in range(a.runs):
            out = psql(a, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            last = json.loads(out)[0]
            times.append(last["Execution Time"])
        plan = last["Plan"]
        bufs = plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
        view = next((w for w in sql.split() if w.startswith("dashboards.")), "?")
        title = f"{p['title'][:44]} ({view.split('.', 1)[1]})"
        print(f"{title:64} {statistics.median(times):9.1f} {bufs:9d} {plan.get('Actual Rows', 0):6d}")
        plans.append(f"### {p['title']}  [{statistics.median(times):.1f} ms]")
        plans.extend(key_lines(plan))
    if a.plans:
        with open(a.plans, "a", encoding="utf-8") as fh:
            fh.write("\n".join(plans) + "\n\n")


if __name__ == "__main__":
    sys.exit(main())
