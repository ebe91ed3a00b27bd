"""The SQL of every panel of a Grafana dashboard JSON, with Grafana's PostgreSQL macros expanded
for a fixed time range, so the queries can be run outside Grafana (tests/dashboards,
ops/bench-dashboards).

    python3 grafana_queries.py DASHBOARD.json [--from ISO] [--to ISO]   # prints JSON lines

Expanded as Grafana does (grafana.com/docs/grafana/latest/datasources/postgres/query-editor):
$__timeFilter(col) -> col BETWEEN 'from' AND 'to'; $__timeFrom() / $__timeTo() -> 'from' /
'to'; $__time(col) -> col AS "time"; $__timeEpoch(col) -> extract(epoch from col) AS "time".
A panel's relative time ("timeFrom": "6h", "7d") replaces the start of the range as in Grafana.
Any other macro or template variable left in a query is an error: add it here first.
"""

import argparse
import datetime as dt
import json
import re
import sys

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def relative(spec):
    m = re.fullmatch(r"(?:now-)?(\d+)([smhdw])", spec.strip())
    if not m:
        raise ValueError(f"unsupported relative time {spec!r}")
    return dt.timedelta(seconds=int(m.group(1)) * UNITS[m.group(2)])


def _args(inner):
    return [a.strip() for a in inner.split(",")] if inner.strip() else []


def expand(sql, t_from, t_to):
    f, t = f"'{iso(t_from)}'", f"'{iso(t_to)}'"
    rules = {
        "__timeFilter": lambda a: f"{a[0]} BETWEEN {f} AND {t}",
        "__timeFrom": lambda a: f,
        "__timeTo": lambda a: t,
        "__time": lambda a: f'{a[0]} AS "time"',
        "__timeEpoch": lambda a: f'extract(epoch from {a[0]}) AS "time"',
    }

    def sub(m):
        name = m.group(1)
        if name not in rules:
            raise ValueError(f"unsupported Grafana macro ${name}")
        return rules[name](_args(m.group(2)))

    out = re.sub(r"\$(__\w+)\(([^()]*)\)", sub, sql)
    left = re.findall(r"\$\{?\w+", out)
    if left:
        raise ValueError(f"unexpanded Grafana macro or variable {left[0]} in: {sql}")
    return out


def panels(path):
    """Every panel with SQL targets, rows included: dicts title, type, sql (raw), time_from."""
    with open(path, encoding="utf-8") as fh:
        dash = json.load(fh)
    out = []

    def walk(items):
        for p in items:
            walk(p.get("panels", []))
            for target in p.get("targets", []):
                if "rawSql" in target:
                    out.append({"title": p.get("title", ""), "type": p.get("type", ""),
                                "refId": target.get("refId", ""), "sql": target["rawSql"],
                                "time_from": p.get("timeFrom")})

    walk(dash.get("panels", []))
    return out


def queries(path, t_from, t_to):
    """(panel dict, runnable SQL) for every target, the panel's own relative time applied."""
    res = []
    for p in panels(path):
        start = t_to - relative(p["time_from"]) if p["time_from"] else t_from
        res.append((p, expand(p["sql"], start, t_to)))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dashboard")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    ap.add_argument("--from", dest="t_from", default=iso(now - dt.timedelta(days=30)))
    ap.add_argument("--to", dest="t_to", default=iso(now))
    a = ap.parse_args()
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    for p, sql in queries(a.dashboard, parse(a.t_from), parse(a.t_to)):
        print(json.dumps({"title": p["title"], "sql": sql}))


if __name__ == "__main__":
    sys.exit(main())
