"""Dashboard views, Grafana queries and roles of sql/003_dashboards.sql, on a migrated throwaway
database (tests/scripts/dashboards.sh starts it):

  * seeds tests/dashboards/seed_test.sql, then recomputes every view here, in Python, from the
    base rows (and the policy file for CARC/RARC) and compares whole result sets; the seed's
    documented distributions are checked from its formulas too;
  * runs every rawSql of ops/grafana/amtagvi-dashboard.json as a dashboard user, Grafana macros
    expanded for a fixed range: each must succeed and return rows;
  * checks which indexes the views' usual queries can use;
  * checks what LOGIN members of amtagvi_dashboard, amtagvi_worker and amtagvi_retro may and
    may not do;
  * applies 003 a second time (idempotent).
Prints one line per check and `N passed, M failed`; exits 1 on any failure.
"""

import argparse
import collections
import csv
import datetime as dt
import decimal
import io
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grafana_queries  # noqa: E402

NULL = "\\N"
D = decimal.Decimal


class Failed(Exception):
    pass


class Psql:
    def __init__(self, a):
        self.a = a

    def run(self, sql, user="amtagvi", tz="UTC", stdin=None, verbose=False):
        """(ok, rows, stderr): rows as lists of strings, None for NULL; verbose errors carry the
        SQLSTATE."""
        cmd = [self.a.psql, "-X", "-q", "--csv", "-t", "-P", "null=" + NULL, "-v", "ON_ERROR_STOP=1",
               *(["-v", "VERBOSITY=verbose"] if verbose else []),
               "-h", "127.0.0.1", "-p", str(self.a.port), "-U", user, "-d", self.a.db, "-c", sql]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGTZ"] = tz
        env["PGOPTIONS"] = "-c client_min_messages=warning"
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin)
        rows = [[None if v == NULL else v for v in r] for r in csv.reader(io.StringIO(p.stdout)) if r]
        return p.returncode == 0, rows, p.stderr.strip()

    def rows(self, sql, **kw):
        ok, rows, err = self.run(sql, **kw)
        if not ok:
            raise Failed(f"query failed: {err}\n  {sql}")
        return rows

    def file(self, path, user="amtagvi"):
        cmd = [self.a.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
               str(self.a.port), "-U", user, "-d", self.a.db, "-f", path]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGOPTIONS"] = "-c client_min_messages=warning"
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if p.returncode != 0:
            raise Failed(f"psql -f {path} failed: {p.stderr.strip()}")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            res = fn()
            if res is False:
                raise Failed("false")
            self.passed += 1
            print(f"ok   {name}")
        except Failed as e:
            self.failed += 1
            print(f"FAIL {name}: {e}")
        except Exception as e:  # a bug in the test itself still counts as a failure
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")


def same(expected, got, what):
    """Compares two multisets of row tuples and explains the first differences."""
    e, g = collections.Counter(expected), collections.Counter(got)
    if e == g:
        if not e:
            raise Failed(f"{what}: no rows at all (the seed should produce some)")
        return True
    missing = list((e - g).elements())[:3]
    extra = list((g - e).elements())[:3]
    raise Failed(f"{what}: {sum(e.values())} rows expected, {sum(g.values())} got; "
                 f"missing e.g. {missing}; unexpected e.g. {extra}")


def day_of(epoch):
    return dt.datetime.fromtimestamp(float(epoch), dt.timezone.utc).date().isoformat()


def round_half_up(x, places):
    return x.quantize(D(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def denied(db, user, sql, stdin=None):
    ok, _, err = db.run(sql, user=user, stdin=stdin)
    if ok:
        raise Failed(f"{user} was allowed: {sql}")
    if "permission denied" not in err:
        raise Failed(f"{user}: refused, but not for permissions: {err}")
    return True


def refused_with(db, user, sql, sqlstate):
    """The statement fails with that SQLSTATE (psql's verbose error text carries it)."""
    ok, _, err = db.run(sql, user=user, verbose=True)
    if ok:
        raise Failed(f"{user} was allowed: {sql}")
    if f"ERROR:  {sqlstate}:" not in err:
        raise Failed(f"{user}: refused, but not with SQLSTATE {sqlstate}: {err}")
    return True


def allowed(db, user, sql, stdin=None):
    ok, rows, err = db.run(sql, user=user, stdin=stdin)
    if not ok:
        raise Failed(f"{user} was refused: {err}\n  {sql}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--psql", required=True)
    ap.add_argument("--port", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--source", required=True)
    a = ap.parse_args()
    db = Psql(a)
    src = a.source
    here = os.path.join(src, "tests", "dashboards")
    policy = json.load(open(os.path.join(src, "policy", "IP0625.json"), encoding="utf-8"))
    dashboard = os.path.join(src, "ops", "grafana", "amtagvi-dashboard.json")
    c = Checks()

    # ------------------------------------------------------------------ seed
    # No autovacuum: an ANALYZE it runs holds a snapshot that would keep the seed's VACUUM from
    # marking pages all-visible, and the index checks below want index-only scans.
    db.rows("ALTER SYSTEM SET autovacuum = off")
    db.rows("SELECT pg_reload_conf()")
    db.file(os.path.join(here, "seed_test.sql"))
    for _ in range(20):
        pages, visible = map(int, db.rows("SELECT relpages, relallvisible FROM pg_class "
                                          "WHERE oid = 'determinations'::regclass")[0])
        if visible >= pages:
            break
        time.sleep(0.5)
        db.rows("VACUUM ANALYZE determinations")
    today = dt.date.fromisoformat(db.rows("SELECT (now() AT TIME ZONE 'UTC')::date")[0][0])

    base = db.rows(
        "SELECT event_id, determination_id, kind, member_id, pa_id, decision_date, outcome, "
        "array_to_json(reason_codes), valid_from, valid_until, matched_pa_id, seq, "
        "extract(epoch FROM received_at), extract(epoch FROM decided_at), urgency, claim_id, line_number, "
        "frequency_code, original_claim_id, reversed_event_id FROM determinations")
    R = collections.namedtuple("R", "event_id det_id kind member pa_id day outcome codes valid_from "
                                    "valid_until matched seq received decided urgency claim_id line "
                                    "freq orig reversed_id")
    dets = [R(*r[:7], json.loads(r[7]), *r[8:11], int(r[11]), D(r[12]), D(r[13]), *r[14:]) for r in base]

    # ADJUDICATION.md §10, recomputed here: a billed determination is an ORIGINAL (frequency_code
    # ORIGINAL, or null on a row stored before migration 006) or an accepted REPLACEMENT; it is
    # reversed when a later accepted REPLACEMENT or VOID of the member names its line (reference
    # trimmed of space, tab, CR, LF).
    def billed(d):
        return d.kind == "claim" and (d.freq in (None, "ORIGINAL")
                                      or (d.freq == "REPLACEMENT" and d.reversed_id is not None))

    reversals = collections.defaultdict(list)
    for r in dets:
        if r.reversed_id is not None:
            reversals[(r.member, (r.orig or "").strip(" \t\r\n"), r.line)].append(r.seq)

    def reversed_line(d):
        return any(seq > d.seq for seq in reversals.get((d.member, d.claim_id, d.line), []))

    def paid_dose(d):
        return billed(d) and d.outcome == "APPROVED" and not reversed_line(d)

    # ------------------------------------------------------------------ the seed is what it says
    def seed_distribution():
        pa = collections.Counter()
        cl = collections.Counter()
        for b in range(1, 15001):
            x = 31 * b % 100
            pa["APPROVED" if x < 60 else "DENIED" if x < 85 else "PENDED"] += 1
            y = 17 * b % 100
            cl["APPROVED" if y < 65 else "DENIED" if y < 90 else "PENDED"] += 1
        pa["APPROVED"] += 14 + 1  # edge cases, lifecycle
        pa["DENIED"] += 1
        cl["APPROVED"] += 3 + 15
        cl["DENIED"] += 1 + 3
        got = {(k, o): int(n) for k, o, n in db.rows(
            "SELECT kind, outcome, sum(count) FROM dashboards.outcomes_daily GROUP BY 1, 2")}
        exp = {**{("prior_auth", o): n for o, n in pa.items()}, **{("claim", o): n for o, n in cl.items()}}
        if got != exp:
            raise Failed(f"outcome totals {got} != {exp} (from the seed's formulas)")
        if len(dets) != 30038:
            raise Failed(f"{len(dets)} determinations, 30038 expected")

    c.check("seed: 30,038 determinations, outcome totals as the seed's formulas say", seed_distribution)

    # ------------------------------------------------------------------ reason_codes
    def reason_codes_match_policy():
        exp = []
        for kind, codes in policy["reasons"].items():
            for code, r in codes.items():
                exp.append((kind, code, r.get("group"), r.get("carc"), r.get("rarc"), r["message"]))
        got = [tuple(r) for r in db.rows("SELECT kind, code, reason_group, carc, rarc, message FROM reason_codes")]
        return same(exp, got, "reason_codes vs policy/IP0625.json reasons (a policy change needs a "
                              "new migration, docs/DASHBOARDS.md)")

    c.check("reason_codes holds exactly policy/IP0625.json's reasons", reason_codes_match_policy)

    # ------------------------------------------------------------------ outcomes_daily
    def outcomes_daily():
        exp = collections.Counter((d.day, d.kind, d.outcome) for d in dets)
        got = [tuple(r) for r in db.rows("SELECT day, kind, outcome, count FROM dashboards.outcomes_daily")]
        return same([(*k, str(n)) for k, n in exp.items()], got, "outcomes_daily")

    c.check("outcomes_daily = determinations counted by day, kind, outcome", outcomes_daily)

    # ------------------------------------------------------------------ reasons_daily
    def reasons_daily():
        exp = collections.Counter()
        for d in dets:
            if d.outcome in ("DENIED", "PENDED"):
                for code in d.codes:
                    exp[(d.day, d.kind, d.outcome, code)] += 1
        rows = []
        for (day, kind, outcome, code), n in exp.items():
            r = policy["reasons"][kind].get(code, {})
            rows.append((day, kind, outcome, code, r.get("group"), r.get("carc"), r.get("rarc"), str(n),
                         r.get("message")))
        got = [tuple(r) for r in db.rows(
            "SELECT day, kind, outcome, code, reason_group, carc, rarc, count, message FROM dashboards.reasons_daily")]
        same(rows, got, "reasons_daily")
        # the seed has claim reasons with CARC and RARC, PA reasons without, and an unknown code
        if not any(r[5] == "197" and r[6] == "M62" for r in got):
            raise Failed("no AUTH_NOT_FOUND row with CARC 197 / RARC M62")
        if not any(r[3] == "LEGACY_CODE" and r[5] is None for r in got):
            raise Failed("the code missing from reason_codes is not kept with a null CARC")
        return True

    c.check("reasons_daily = unnested DENIED/PENDED codes with group/CARC/RARC from the policy file",
            reasons_daily)

    # ------------------------------------------------------------------ pa_decision_time
    def pa_decision_time():
        exp = []
        for d in dets:
            if d.kind != "prior_auth":
                continue
            secs = d.decided - d.received
            limit = 168 if d.urgency == "STANDARD" else 72
            exp.append((d.day, d.event_id, d.det_id, d.pa_id, d.outcome, d.urgency, d.received, d.decided,
                        round(float(secs) / 3600, 6), limit, secs <= limit * 3600))
        got = [(r[0], r[1], r[2], r[3], r[4], r[5], D(r[6]), D(r[7]), round(float(r[8]), 6), int(r[9]),
                r[10] == "t")
               for r in db.rows("SELECT day, event_id, determination_id, pa_id, outcome, urgency, "
                                "extract(epoch FROM received_at), extract(epoch FROM decided_at), "
                                "hours_taken, limit_hours, within_timeframe FROM dashboards.pa_decision_time")]
        same(exp, got, "pa_decision_time")
        kinds = {(g[5], g[10]) for g in got}
        for u in ("STANDARD", "EXPEDITED", None):
            for w in (True, False):
                if (u, w) not in kinds:
                    raise Failed(f"seed has no PA with urgency {u} and within_timeframe {w}")
        # between 72 h and 168 h: within for STANDARD only
        mid = {(g[5], g[10]) for g in got if 72 < g[8] <= 168}
        if ("STANDARD", True) not in mid or ("EXPEDITED", False) not in mid or (None, False) not in mid:
            raise Failed(f"72-168 h decisions: {mid}")
        return True

    c.check("pa_decision_time = hours received->decided, 168 h STANDARD / 72 h EXPEDITED or unknown",
            pa_decision_time)

    # ------------------------------------------------------------------ approvals_expiring
    def approvals_expiring():
        standing = {}
        for d in dets:
            if d.kind == "prior_auth" and d.outcome == "APPROVED":
                k = (d.member, d.pa_id)
                if k not in standing or standing[k].seq < d.seq:
                    standing[k] = d
        used = {(d.member, d.matched) for d in dets
                if d.kind == "claim" and d.outcome == "APPROVED" and d.matched and not reversed_line(d)}
        exp = []
        for (member, pa_id), d in standing.items():
            until = dt.date.fromisoformat(d.valid_until)
            if today < until <= today + dt.timedelta(days=30) and (member, pa_id) not in used:
                exp.append((d.pa_id, d.event_id, d.det_id, d.day, d.valid_from, d.valid_until,
                            (until - dt.timedelta(days=1)).isoformat(), str((until - today).days)))
        got = [tuple(r) for r in db.rows(
            "SELECT pa_id, event_id, determination_id, decision_date, valid_from, valid_until, "
            "last_valid_day, days_left FROM dashboards.approvals_expiring")]
        same(exp, got, "approvals_expiring")
        listed = {r[1] for r in got if r[1].startswith("edge-")}
        want = {"edge-2b", "edge-3a", "edge-5", "edge-7", "edge-8", "edge-11", "edge-12a"}
        if listed != want:
            raise Failed(f"edge cases listed: {sorted(listed)}, expected {sorted(want)}")
        if "lc-14" not in {r[1] for r in got}:
            raise Failed("PX14, whose only paid claim line was voided, is not listed as unused")
        if len(got) < 20:
            raise Failed(f"only {len(got)} rows: the generated part of the seed should add some")
        return True

    c.check("approvals_expiring = standing approvals ending in (today, today+30], no paid claim",
            approvals_expiring)

    # ------------------------------------------------------------------ paid_doses_daily
    def lifecycle_seed():
        # the recomputation above is itself checked against the seed's hand-made cases
        lc = {d.event_id: d for d in dets if d.event_id.startswith("lc-")}
        paid = {e for e, d in lc.items() if paid_dose(d)}
        rev = {e for e, d in lc.items() if billed(d) and reversed_line(d)}
        if paid != {"lc-2r", "lc-4a", "lc-5b"}:
            raise Failed(f"paid doses among the lifecycle rows: {sorted(paid)}")
        if rev != {"lc-1a", "lc-2a", "lc-5a", "lc-6a", "lc-9a", "lc-14c"}:
            raise Failed(f"reversed lines among the lifecycle rows: {sorted(rev)}")
        if any(billed(lc[e]) for e in ("lc-1v", "lc-3v", "lc-7r", "lc-4v", "lc-8v")):
            raise Failed("a void or a refused replacement counted as billed")
        return True

    c.check("seed: lifecycle cases are paid / reversed as ADJUDICATION.md §10 says", lifecycle_seed)

    def paid_doses_daily():
        acc = collections.defaultdict(lambda: [0, 0, 0])
        for d in dets:
            if billed(d) and d.outcome == "APPROVED":
                a = acc[d.day]
                a[0] += 1
                a[1] += reversed_line(d)
                a[2] += not reversed_line(d)
        exp = [(day, *map(str, a)) for day, a in acc.items()]
        got = [tuple(r) for r in db.rows(
            "SELECT day, approved_lines, reversed_lines, paid_doses FROM dashboards.paid_doses_daily")]
        same(exp, got, "paid_doses_daily")
        tot = db.rows("SELECT sum(approved_lines), sum(reversed_lines), sum(paid_doses) "
                      "FROM dashboards.paid_doses_daily")[0]
        # generated claims: all paid; lifecycle: 9 billed approved lines, 6 of them reversed
        gen = sum(1 for d in dets if d.kind == "claim" and d.outcome == "APPROVED"
                  and not d.event_id.startswith("lc-"))
        if tot != [str(gen + 9), "6", str(gen + 3)]:
            raise Failed(f"totals {tot}, expected [{gen + 9}, 6, {gen + 3}]")
        return True

    c.check("paid_doses_daily = billed APPROVED claim lines net of later voids and replacements",
            paid_doses_daily)

    # ------------------------------------------------------------------ claim_corrections_daily
    def claim_corrections_daily():
        acc = collections.defaultdict(lambda: [0, 0, 0])
        for d in dets:
            if d.freq in ("REPLACEMENT", "VOID"):
                a = acc[(day_of(d.received), d.freq)]
                a[0] += 1
                a[1] += d.reversed_id is not None
                a[2] += "ORIGINAL_NOT_FOUND" in d.codes
        exp = [(*k, *map(str, a)) for k, a in acc.items()]
        got = [tuple(r) for r in db.rows(
            "SELECT day, frequency_code, count, accepted, original_not_found "
            "FROM dashboards.claim_corrections_daily")]
        same(exp, got, "claim_corrections_daily")
        tot = {r[0]: r[1:] for r in db.rows(
            "SELECT frequency_code, sum(count), sum(accepted), sum(original_not_found) "
            "FROM dashboards.claim_corrections_daily GROUP BY 1")}
        if tot != {"VOID": ["7", "6", "1"], "REPLACEMENT": ["3", "2", "1"]}:
            raise Failed(f"totals by frequency {tot}")
        if len({r[0] for r in got}) < 2:
            raise Failed("the seed's corrections should fall on two days")
        return True

    c.check("claim_corrections_daily = replacements and voids per UTC day received, accepted vs "
            "ORIGINAL_NOT_FOUND", claim_corrections_daily)

    # ------------------------------------------------------------------ dead_letters_by_reason
    def dead_letters_by_reason():
        exp = collections.Counter()
        rep = collections.Counter()
        for reason, received, replayed in db.rows(
                "SELECT reason, extract(epoch FROM received_at), replayed_at IS NOT NULL FROM dead_letters"):
            k = (day_of(received), reason)
            exp[k] += 1
            rep[k] += replayed == "t"
        got = [tuple(r) for r in db.rows("SELECT day, reason, count, replayed FROM dashboards.dead_letters_by_reason")]
        return same([(*k, str(n), str(rep[k])) for k, n in exp.items()], got, "dead_letters_by_reason")

    c.check("dead_letters_by_reason = dead letters by UTC day and reason, replayed counted",
            dead_letters_by_reason)

    # ------------------------------------------------------------------ worker_throughput
    def worker_throughput():
        acc = collections.defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0])
        for w, t, m, j, r, dl, ms in db.rows(
                "SELECT worker_id, extract(epoch FROM committed_at), messages, judged, replayed, "
                "dead_letters, duration_ms FROM worker_batches"):
            k = (int(D(t)) // 60 * 60, w)
            s = acc[k]
            s[0] += int(m); s[1] += int(j); s[2] += int(r); s[3] += int(dl); s[4] += 1
            s[5] += int(ms); s[6] = max(s[6], int(ms))
        exp = [(D(k[0]), k[1], s[0], s[1], s[2], s[3], s[4], round_half_up(D(s[5]) / s[4], 1), s[6])
               for k, s in acc.items()]
        got = [(D(r[0]), r[1], *map(int, r[2:7]), D(r[7]), int(r[8])) for r in db.rows(
            "SELECT extract(epoch FROM minute), worker, messages, judged, replayed, dead_letters, "
            "batches, avg_duration_ms, max_duration_ms FROM dashboards.worker_throughput")]
        return same(exp, got, "worker_throughput")

    c.check("worker_throughput = batches summed per worker and UTC minute", worker_throughput)

    # ------------------------------------------------------------------ consumer_lag
    def consumer_lag():
        exp = []
        for g, t, p, n, pub, hw, by in db.rows(
                "SELECT consumer_group, topic, partition, next_offset, published_offset, high_watermark, "
                "updated_by FROM consumer_offsets"):
            lag = None if hw is None else str(max(int(hw) - int(n), 0))
            exp.append((g, t, p, n, hw, lag, str(int(n) - int(pub)), by))
        got = [tuple(r) for r in db.rows(
            "SELECT consumer_group, topic, partition, next_offset, high_watermark, lag, unpublished, "
            "worker FROM dashboards.consumer_lag")]
        same(exp, got, "consumer_lag")
        lags = {r[2]: r[5] for r in got}
        if lags != {"0": "0", "1": "10", "2": "20", "3": "30", "4": "0", "5": None}:
            raise Failed(f"lag by partition {lags}")
        return True

    c.check("consumer_lag = high_watermark - next_offset, never negative, null when unknown", consumer_lag)

    # ------------------------------------------------------------------ session time zone
    def tz_independent():
        qs = ["SELECT * FROM dashboards.outcomes_daily ORDER BY 1, 2, 3",
              "SELECT * FROM dashboards.reasons_daily ORDER BY 1, 2, 3, 4",
              "SELECT day, event_id, hours_taken, within_timeframe FROM dashboards.pa_decision_time ORDER BY 2",
              "SELECT * FROM dashboards.approvals_expiring ORDER BY 2",
              "SELECT * FROM dashboards.paid_doses_daily ORDER BY 1",
              "SELECT * FROM dashboards.claim_corrections_daily ORDER BY 1, 2",
              "SELECT * FROM dashboards.dead_letters_by_reason ORDER BY 1, 2",
              "SELECT extract(epoch FROM minute), worker, messages FROM dashboards.worker_throughput ORDER BY 1, 2"]
        for q in qs:
            utc = db.rows(q)
            for tz in ("Pacific/Kiritimati", "America/Los_Angeles"):
                if db.rows(q, tz=tz) != utc:
                    raise Failed(f"different under TimeZone={tz}: {q}")
        return True

    c.check("views give the same days and minutes whatever the session TimeZone", tz_independent)

    # ------------------------------------------------------------------ roles and users
    db.rows("CREATE ROLE t_dash LOGIN IN ROLE amtagvi_dashboard; "
            "CREATE ROLE t_worker LOGIN IN ROLE amtagvi_worker; "
            "CREATE ROLE t_retro LOGIN IN ROLE amtagvi_retro")

    def group_roles():
        rows = db.rows("SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                       "WHERE rolname IN ('amtagvi_worker', 'amtagvi_retro', 'amtagvi_dashboard') ORDER BY 1")
        exp = [[r, "f", "f", "f", "f"] for r in ("amtagvi_dashboard", "amtagvi_retro", "amtagvi_worker")]
        if rows != exp:
            raise Failed(f"{rows}")
        return True

    c.check("roles: amtagvi_worker, amtagvi_retro, amtagvi_dashboard exist, NOLOGIN, no attributes", group_roles)

    # ------------------------------------------------------------------ Grafana
    t_to = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    t_from = dt.datetime.combine(today - dt.timedelta(days=60), dt.time(), dt.timezone.utc)
    qs = grafana_queries.queries(dashboard, t_from, t_to)
    views = {r[0] for r in db.rows("SELECT table_name FROM information_schema.views WHERE table_schema = 'dashboards'")}

    def every_view_has_a_panel():
        used = {v.split(".", 1)[1].strip('"') for _, sql in qs for v in sql.replace("(", " ").split()
                if v.startswith("dashboards.")}
        if views - used:
            raise Failed(f"views without a panel: {sorted(views - used)}")
        if len(views) != 9:
            raise Failed(f"{len(views)} views in schema dashboards: {sorted(views)}")
        return True

    c.check(f"Grafana: {len(qs)} panel queries cover the {len(views)} views", every_view_has_a_panel)
    for p, sql in qs:
        def run_panel(sql=sql):
            rows = allowed(db, "t_dash", sql)
            if not rows:
                raise Failed("no rows")
            return True

        c.check(f"Grafana panel runs as amtagvi_dashboard and returns rows: {p['title']}", run_panel)

    # ------------------------------------------------------------------ indexes the views can use
    def uses(sql, index):
        def f():
            plan = "\n".join(r[0] for r in db.rows(
                "SET enable_seqscan = off; EXPLAIN (COSTS OFF) " + sql))
            lines = plan.splitlines()

            def range_scan(i):  # the index is used AND searched (Index Cond), not read whole
                return any(i in l and any("Index Cond" in m for m in lines[n + 1:n + 4])
                           for n, l in enumerate(lines))
            missing = [i for i in index.split(" + ") if not range_scan(i)]
            if missing:
                vm = db.rows("SELECT relname, relpages, relallvisible FROM pg_class WHERE relname IN "
                             "('determinations', 'dead_letters', 'worker_batches')")
                raise Failed(f"plan does not use {missing} (pages, all-visible: {vm}):\n{plan}")
            return True
        return f

    d30 = f"'{today - dt.timedelta(days=30)}'"
    for name, sql, index in [
        # 004 narrowed the day index to (decision_date, kind, outcome): counts per day stay
        # index-only; what needs other columns reads the window's heap rows through it.
        ("outcomes_daily", f"SELECT * FROM dashboards.outcomes_daily WHERE day >= {d30}", "Index Only Scan using determinations_dash_day"),
        ("reasons_daily", f"SELECT * FROM dashboards.reasons_daily WHERE day >= {d30}", "determinations_dash_day"),
        ("pa_decision_time", f"SELECT urgency, avg(hours_taken), avg(within_timeframe::int) FROM dashboards.pa_decision_time WHERE day >= {d30} GROUP BY 1", "determinations_dash_day"),
        ("pa_decision_time (over the timeframe)", f"SELECT * FROM dashboards.pa_decision_time WHERE day >= {d30} AND NOT within_timeframe", "determinations_dash_day"),
        ("approvals_expiring", "SELECT * FROM dashboards.approvals_expiring",
         "determinations_dash_pa_expiry + determinations_dash_paid_claims + determinations_member_seq"),
        ("paid_doses_daily", f"SELECT * FROM dashboards.paid_doses_daily WHERE day >= {d30}",
         "determinations_dash_day + determinations_reversals"),
        ("claim_corrections_daily", f"SELECT * FROM dashboards.claim_corrections_daily WHERE day >= {d30}",
         "Index Only Scan using determinations_dash_corrections"),
        ("dead_letters_by_reason", f"SELECT * FROM dashboards.dead_letters_by_reason WHERE day >= {d30}", "dead_letters_dash_day"),
        ("worker_throughput", "SELECT * FROM dashboards.worker_throughput WHERE minute >= now() - interval '1 hour'", "worker_batches_dash_minute"),
    ]:
        c.check(f"index: {name}'s usual query uses {index.split(' using ')[-1]}", uses(sql, index))

    # ------------------------------------------------------------------ dashboard user
    def no_sensitive_columns():
        cols = db.rows("SELECT table_name || '.' || column_name FROM information_schema.columns "
                       "WHERE table_schema = 'dashboards' AND (column_name ~ '(payload|birth|diagnos|member)')")
        if cols:
            raise Failed(f"sensitive columns in dashboards views: {cols}")
        return True

    c.check("dashboards views expose no payload, birth date, diagnosis or member column", no_sensitive_columns)
    for v in sorted(views):
        c.check(f"dashboard user: SELECT dashboards.{v} works",
                lambda v=v: allowed(db, "t_dash", f"SELECT * FROM dashboards.{v} LIMIT 5") is not None)
    for sql in ["SELECT payload FROM determinations LIMIT 1",
                "SELECT event_id FROM determinations LIMIT 1",
                "SELECT count(*) FROM determinations",
                "SELECT payload FROM dead_letters LIMIT 1",
                "SELECT * FROM retro_runs",
                "SELECT * FROM retro_findings",
                "SELECT * FROM reason_codes",
                "SELECT * FROM consumer_offsets",
                "SELECT * FROM worker_batches",
                "SELECT * FROM schema_migrations",
                "UPDATE dashboards.pa_decision_time SET pa_id = 'x'",
                "DELETE FROM dashboards.pa_decision_time",
                "CREATE TABLE public.t_dash_table (a int)",
                "CREATE VIEW dashboards.t_dash_view AS SELECT 1 AS a"]:
        c.check(f"dashboard user refused: {sql}", lambda sql=sql: denied(db, "t_dash", sql))

    # ------------------------------------------------------------------ worker user
    det_cols = ("event_id, determination_id, kind, member_id, decision_date, outcome, criteria, reason_codes, "
                "fingerprint, payload, received_at, source_topic, source_partition, source_offset, decided_at, urgency")
    worker_ok = [
        (f"INSERT INTO determinations ({det_cols}) VALUES ('w-1', md5('w-1')::uuid, 'prior_auth', 'W1', "
         "current_date, 'APPROVED', 'MMMMMMMMMM', '{}', 1, '\\x00', now(), 't', 0, 1, now(), 'STANDARD') "
         "RETURNING seq", None),
        (f"COPY determinations ({det_cols}) FROM STDIN",
         "w-2\t" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "\tclaim\tW1\t2026-01-01\tDENIED\tMMMMMMMM\t"
         "{AUTH_MISSING}\t2\t\\\\x00\t2026-01-01 00:00:00+00\tt\t0\t2\t2026-01-01 00:00:01+00\t\\N\n"),
        ("SELECT seq, payload FROM determinations WHERE member_id = 'W1'", None),
        ("INSERT INTO dead_letters (source_topic, source_partition, source_offset, reason, error) "
         "VALUES ('t', 0, 3, 'malformed', 'x')", None),
        ("UPDATE dead_letters SET replayed_at = now() WHERE source_offset = 3", None),
        ("BEGIN; SELECT next_offset FROM consumer_offsets WHERE partition = 0 FOR UPDATE; "
         "UPDATE consumer_offsets SET next_offset = next_offset, updated_by = 't' WHERE partition = 0; COMMIT", None),
        ("INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset, published_offset, "
         "updated_by) VALUES ('g', 't', 0, 0, 0, 'w') ON CONFLICT DO NOTHING", None),
        ("INSERT INTO worker_batches (worker_id, messages, judged, replayed, dead_letters, duration_ms) "
         "VALUES ('t', 1, 1, 0, 0, 1) ON CONFLICT DO NOTHING", None),
    ]
    for sql, stdin in worker_ok:
        c.check(f"worker user may: {sql.split(' (')[0][:70]}",
                lambda sql=sql, stdin=stdin: allowed(db, "t_worker", sql, stdin) is not None)
    # Determinations are an audit trail (migration 006): the worker inserts and reads them, and
    # its UPDATE is refused with insufficient_privilege, even on its own row.
    c.check("worker user may insert a determination with the lifecycle columns", lambda: allowed(
        db, "t_worker",
        f"INSERT INTO determinations ({det_cols}, claim_id, line_number, frequency_code, original_claim_id, "
        "reversed_event_id) VALUES ('w-3', md5('w-3')::uuid, 'claim', 'W1', current_date, 'APPROVED', "
        "'MAAAAAAAA', '{}', 3, '\\x00', now(), 't', 0, 4, now(), NULL, 'CW', 1, 'VOID', ' CW1 ', 'w-2')") is not None)
    c.check("worker user may read the lifecycle columns back", lambda: allowed(
        db, "t_worker", "SELECT frequency_code, original_claim_id, reversed_event_id FROM determinations "
        "WHERE event_id = 'w-3'") == [["VOID", " CW1 ", "w-2"]])
    for sql in ["UPDATE determinations SET outcome = outcome WHERE event_id = 'w-1'",
                "UPDATE determinations SET reversed_event_id = 'w-1' WHERE event_id = 'w-2'",
                "SELECT * FROM determinations WHERE event_id = 'w-1' FOR UPDATE"]:
        c.check(f"worker user refused with SQLSTATE 42501: {sql[:70]}",
                lambda sql=sql: refused_with(db, "t_worker", sql, "42501"))
    c.check("the frequency_code check refuses an unknown code", lambda: refused_with(
        db, "amtagvi", f"INSERT INTO determinations ({det_cols}, frequency_code) VALUES ('w-4', "
        "md5('w-4')::uuid, 'claim', 'W1', current_date, 'APPROVED', 'MAAAAAAAA', '{}', 3, '\\x00', now(), "
        "'t', 0, 5, now(), NULL, 'CORRECTED')", "23514"))
    for sql in ["SELECT * FROM retro_findings",
                "SELECT * FROM retro_runs",
                "INSERT INTO retro_runs (window_from, window_to, policy_file_version, policy_file_sha256) "
                "VALUES (current_date, current_date, 'v', 's')",
                "SELECT * FROM dashboards.outcomes_daily",
                "SELECT * FROM reason_codes",
                "SELECT * FROM schema_migrations",
                "DELETE FROM determinations WHERE member_id = 'W1'",
                "TRUNCATE dead_letters",
                "CREATE TABLE public.t_worker_table (a int)",
                "CREATE TEMP TABLE t_worker_temp (a int)"]:
        c.check(f"worker user refused: {sql[:70]}", lambda sql=sql: denied(db, "t_worker", sql))

    # ------------------------------------------------------------------ retro user
    for sql in ["SELECT event_id, payload, reason_codes FROM determinations LIMIT 3",
                "INSERT INTO retro_runs (window_from, window_to, policy_file_version, policy_file_sha256) "
                "VALUES (current_date, current_date, 'v', 's') RETURNING run_id",
                "INSERT INTO retro_findings (run_id, event_id, member_id, kind, decision_date, old_outcome, "
                "new_outcome, old_reasons, new_reasons, finding) SELECT max(run_id), 'e', 'm', 'claim', "
                "current_date, 'APPROVED', 'DENIED', '{}', '{X}', 'POSSIBLE_OVERPAYMENT' FROM retro_runs",
                "INSERT INTO retro_findings (run_id, event_id, member_id, kind, decision_date, old_outcome, "
                "new_outcome, old_reasons, new_reasons, finding, old_reversed_event_id, new_reversed_event_id) "
                "SELECT max(run_id), 'v', 'm', 'claim', current_date, 'APPROVED', 'DENIED', '{}', "
                "'{ORIGINAL_NOT_FOUND}', 'REVERSAL_CHANGED', 'e', NULL FROM retro_runs",
                "UPDATE retro_runs SET reversals_changed = 1",
                "UPDATE retro_runs SET status = 'finished', finished_at = now()",
                "SELECT count(*) FROM retro_findings",
                "BEGIN ISOLATION LEVEL REPEATABLE READ; CREATE TEMP TABLE retro_members ON COMMIT DROP AS "
                "SELECT DISTINCT member_id FROM determinations; COMMIT"]:
        c.check(f"retro user may: {sql[:70]}", lambda sql=sql: allowed(db, "t_retro", sql) is not None)
    for sql in ["INSERT INTO determinations (event_id) VALUES ('r')",
                "UPDATE determinations SET outcome = outcome",
                "SELECT * FROM dead_letters",
                "SELECT * FROM consumer_offsets",
                "DELETE FROM retro_runs",
                "SELECT * FROM dashboards.outcomes_daily",
                "CREATE TABLE public.t_retro_table (a int)"]:
        c.check(f"retro user refused: {sql[:70]}", lambda sql=sql: denied(db, "t_retro", sql))

    # ------------------------------------------------------------------ idempotent
    def apply_again():
        # 003 grants the worker UPDATE on determinations and 006 takes it back: applied again,
        # they are applied in order.
        before = db.rows("SELECT count(*) FROM reason_codes")
        db.file(os.path.join(src, "sql", "003_dashboards.sql"))
        db.file(os.path.join(src, "sql", "006_claim_lifecycle.sql"))
        if db.rows("SELECT count(*) FROM reason_codes") != before:
            raise Failed("reason_codes changed")
        for v in ("outcomes_daily", "paid_doses_daily", "claim_corrections_daily"):
            allowed(db, "t_dash", f"SELECT count(*) FROM dashboards.{v}")
        denied(db, "t_dash", "SELECT count(*) FROM determinations")
        refused_with(db, "t_worker", "UPDATE determinations SET outcome = outcome", "42501")
        allowed(db, "t_worker", "SELECT count(*) FROM determinations")
        return True

    c.check("003 then 006 apply a second time and leave the same rows and rights", apply_again)

    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
