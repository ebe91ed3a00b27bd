#!/usr/bin/env python3
"""Retro-review and the metrics endpoint end to end.
usage: ops_e2e.py BINARY SOURCE_DIR (a stack running, env set: AMTAGVI_STACK_DIR, AMTAGVI_PG_PORT,
AMTAGVI_KAFKA_PORT, OPS_E2E_METRICS_PORT)."""
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contract"))
from checks import Checks  # noqa: E402

BIN, SRC = sys.argv[1], sys.argv[2]
env = dict(os.environ)
stack = ["bash", os.path.join(SRC, "ops/stack.sh")]
pg_base = "postgresql://amtagvi@127.0.0.1:%s" % env["AMTAGVI_PG_PORT"]
brokers = "127.0.0.1:%s" % env["AMTAGVI_KAFKA_PORT"]
check = Checks()
tmp = tempfile.mkdtemp()


def sh(args, stdin=None, **kw):
    return subprocess.run(args, input=stdin, capture_output=True, env=env, timeout=300, **kw)


def psql(db, sql):
    r = sh(["psql", "-qAtX", "-F", "\t", "%s/%s" % (pg_base, db), "-c", sql])
    assert r.returncode == 0, r.stderr.decode()
    return [l.split("\t") for l in r.stdout.decode().splitlines()]


# --- a judged stream in PostgreSQL
psql("postgres", "CREATE DATABASE retro")
for t, n in (("r.events", 4), ("r.outcomes", 4), ("r.dead", 1)):
    assert sh(stack + ["create-topic", t, str(n)]).returncode == 0
conf = os.path.join(tmp, "w.conf")
open(conf, "w").write(
    "brokers = %s\ndatabase.url = %s/retro\ngroup.id = retro\ntopics = r.events\n"
    "outcomes.topic = r.outcomes\ndead_letter.topic = r.dead\nexit.when.idle.ms = 2000\n"
    % (brokers, pg_base))
events = os.path.join(tmp, "events.jsonl")
with open(events, "w") as f:
    subprocess.run([sys.executable, os.path.join(SRC, "ops/gen_events.py"), "--events", "4000",
                    "--seed", "77", "--invalid-rate", "0"], stdout=f, check=True)
    # A member whose void changes target under the 3-month policy below: its PA approves
    # 2025-01-10; line 1 (2025-05-01) is paid under 6 months and expired under 3; the line sent
    # again is a duplicate either way; the VOID reverses the paid one now, the duplicate then.
    pa = {"kind": "prior_auth", "event_id": "rc-pa", "pa_id": "PA-RC", "received_at":
          "2025-01-10T10:00:00Z", "urgency": "STANDARD", "member_id": "MEM-RC", "birth_date":
          "1970-03-02", "diagnosis_codes": ["C43.9"], "disease_status": "METASTATIC",
          "braf_v600": "NEGATIVE", "prior_therapies": [{"drug": "Opdivo", "start_date":
          "2024-02-01", "end_date": None}], "lymphodepletion": "PLANNED",
          "prescriber_npi": "1234567893", "prescriber_taxonomy": "207RX0202X"}
    line = {"kind": "claim", "claim_id": "CLM-RC", "line_number": 1, "received_at":
            "2025-05-02T09:00:00Z", "member_id": "MEM-RC", "birth_date": "1970-03-02",
            "service_date": "2025-05-01", "hcpcs_code": "J3590", "units": 1,
            "dose_viable_cells": 33400000000, "diagnosis_codes": ["C43.9"],
            "rendering_npi": "1245319599", "authorization_id": "PA-RC",
            "billed_amount_cents": 51500000}
    for ev in (pa, dict(line, event_id="rc-1"), dict(line, event_id="rc-2"),
               dict(line, event_id="rc-void", claim_id="CLM-RC-V", frequency_code="VOID",
                    original_claim_id="CLM-RC")):
        f.write(json.dumps(ev) + "\n")
assert sh([BIN, "migrate", "--config", conf]).returncode == 0
assert sh([BIN, "produce", "--config", conf], stdin=open(events, "rb").read()).returncode == 0
# The worker runs with its metrics endpoint; a test scrapes it while the worker is up. Its port
# is reserved by tests/scripts/ops_e2e.sh (tests/scripts/lib/ports.sh).
mport = int(env["OPS_E2E_METRICS_PORT"])
wenv = dict(env, AMTAGVI_METRICS_ADDRESS="127.0.0.1:%d" % mport, AMTAGVI_EXIT_WHEN_IDLE_MS="6000")
worker = subprocess.Popen([BIN, "run", "--config", conf], env=wenv, stderr=subprocess.PIPE)


def get(path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (mport, path), timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


deadline = time.time() + 60
stored = 0
while time.time() < deadline:
    stored = int(psql("retro", "SELECT count(*) FROM determinations")[0][0]) if psql("retro", "SELECT to_regclass('determinations') IS NOT NULL")[0][0] == "t" else 0
    if stored >= 3804:
        break
    time.sleep(0.3)
time.sleep(0.5)
status, metrics = get("/metrics")
check("/metrics answers 200", status == 200, str(status))
check("/healthz answers 200", get("/healthz")[0] == 200)
check("/readyz answers 200 with partitions assigned", get("/readyz")[0] == 200)
check("unknown path is 404", get("/nope")[0] == 404)
series = {}
for line in metrics.splitlines():
    if line and not line.startswith("#"):
        name, value = line.rsplit(" ", 1)
        series[name] = float(value)
judged = sum(v for k, v in series.items() if k.startswith("amtagvi_events_total{"))
stored = int(psql("retro", "SELECT count(*) FROM determinations")[0][0])
check("events_total equals stored determinations", judged == stored, "%s vs %s" % (judged, stored))
by_outcome = {o: int(c) for o, c in psql("retro", "SELECT kind || '/' || outcome, count(*) FROM determinations GROUP BY 1")}
for key, n in by_outcome.items():
    kind, outcome = key.split("/")
    check("events_total{%s,%s}" % (kind, outcome),
          series.get('amtagvi_events_total{kind="%s",outcome="%s"}' % (kind, outcome)) == n)
check("batch histograms present", series.get("amtagvi_batch_size_count", 0) >= 1
      and "amtagvi_batch_latency_seconds_bucket{le=\"+Inf\"}" in series)
check("assigned partitions gauge", series.get("amtagvi_assigned_partitions") == 4)
check("lag series per partition", sum(1 for k in series if k.startswith("amtagvi_consumer_lag{")) == 4)
_, err = worker.communicate(timeout=120)
check("worker ran", worker.returncode == 0, err.decode()[-500:])

# --- the changed policy: approvals last 3 months instead of 6
pol = json.load(open(os.path.join(SRC, "policy/IP0625.json")))
pol["limits"]["approval_months"] = 3
pol["file_version"] = "IP0625-test-3-months"
pol3 = os.path.join(tmp, "pol3.json")
json.dump(pol, open(pol3, "w"))


def evaluate(policy):
    out = sh([BIN, "evaluate", "--policy", policy], stdin=open(events, "rb").read())
    assert out.returncode == 0
    res = {}
    for line in out.stdout.decode().splitlines():
        d = json.loads(line)
        if "event_id" in d:
            res.setdefault(d["event_id"], d)
    return res


def reversed_lines(dets):
    """Event ids whose billed line a later accepted VOID or REPLACEMENT reversed (contract §10),
    computed here from evaluate's output and the events' references, independently of retro."""
    refs = {}
    for line in open(events):
        e = json.loads(line)
        if e.get("kind") == "claim" and "event_id" in e:
            refs.setdefault(e["event_id"], e.get("original_claim_id"))
    live, gone, seen = {}, set(), set()
    for line in open(events):
        eid = json.loads(line).get("event_id")
        d = dets.get(eid)
        if d is None or d["kind"] != "claim" or eid in seen:
            continue
        seen.add(eid)
        if d["reversed_event_id"] is not None:
            ref = (refs[eid] or "").strip(" \t\r\n")
            gone.update(live.pop((d["member_id"], ref, d["line_number"]), []))
        if d["frequency_code"] == "ORIGINAL" or (d["frequency_code"] == "REPLACEMENT"
                                                 and d["criteria"]["ORIGINAL"] == "MET"):
            live.setdefault((d["member_id"], d["claim_id"], d["line_number"]), []).append(eid)
    return gone


old, new = evaluate(os.path.join(SRC, "policy/IP0625.json")), evaluate(pol3)
decision = {e: d for e, d in psql("retro", "SELECT event_id, decision_date FROM determinations")}
FROM, TO = "2025-01-01", "2025-12-31"
expected = {}
for eid, o in old.items():
    n = new[eid]
    if not (FROM <= decision[eid] <= TO):
        continue
    if (o["outcome"], [x["code"] for x in o["reasons"]], o["criteria"], o["reversed_event_id"]) != (
            n["outcome"], [x["code"] for x in n["reasons"]], n["criteria"], n["reversed_event_id"]):
        expected[eid] = (o["outcome"], n["outcome"])
check("the policy change flips outcomes in the window", len(expected) > 10, str(len(expected)))


def retro(*extra):
    r = sh([BIN, "retro", "--config", conf, "--from", FROM, "--to", TO, *extra])
    check("retro %s exit 0" % " ".join(extra), r.returncode == 0, r.stderr.decode()[-800:])
    return r


# unchanged policy: nothing changes
r = retro()
runs = psql("retro", "SELECT run_id, status, changed, events_in_window FROM retro_runs ORDER BY run_id")
check("unchanged policy: run finished with 0 changes", runs[-1][1:3] == ["finished", "0"], str(runs))
in_window = sum(1 for e in old if FROM <= decision[e] <= TO)
check("events in window counted", runs[-1][3] == str(in_window), "%s != %d" % (runs[-1][3], in_window))

# changed policy: findings equal what evaluate says would change
r = retro("--policy", pol3)
run_id = psql("retro", "SELECT max(run_id) FROM retro_runs")[0][0]
rows = psql("retro", "SELECT event_id, old_outcome, new_outcome, finding FROM retro_findings WHERE run_id = %s" % run_id)
got = {e: (o, n) for e, o, n, _ in rows}
check("findings are exactly the changed events", got == expected,
      "missing %s extra %s" % (sorted(set(expected) - set(got))[:5], sorted(set(got) - set(expected))[:5]))
gone = reversed_lines(new)
check("the stream has reversed lines in the window", any(e in gone for e in expected), str(len(gone)))
over = sum(1 for e, (o, n) in expected.items() if old[e]["kind"] == "claim" and o == "APPROVED"
           and n == "DENIED" and e not in gone)
flags = collections.Counter(f for *_, f in rows)
check("possible overpayments flagged, never on a reversed line",
      flags["POSSIBLE_OVERPAYMENT"] == over and over > 0, str(flags))
spared = sum(1 for e, (o, n) in expected.items() if old[e]["kind"] == "claim" and o == "APPROVED"
             and n == "DENIED" and e in gone)
check("no reversed line flagged as an overpayment (%d paid then, denied now, but reversed)" % spared,
      not [e for e, *_, f in rows if f == "POSSIBLE_OVERPAYMENT" and e in gone])
check("the void that reverses another line now is REVERSAL_CHANGED, its paid line is not an "
      "overpayment", {e: f for e, *_, f in rows if e in ("rc-1", "rc-void")}
      == {"rc-1": "OUTCOME_CHANGED", "rc-void": "REVERSAL_CHANGED"},
      str([r for r in rows if r[0].startswith("rc-")]))
print("retro findings: %s; %d lines paid then and denied now were reversed, not overpayments"
      % (dict(flags), spared))
summary = psql("retro", "SELECT changed, paid_now_denied, policy_file_version, length(policy_file_sha256) FROM retro_runs WHERE run_id = %s" % run_id)[0]
check("run record counts and policy identity", summary == [str(len(expected)), str(over), "IP0625-test-3-months", "64"], str(summary))
check("summary printed", b"possible overpayment" in r.stdout and str(over).encode() in r.stdout, r.stdout.decode())

# re-running the same window is safe: a new run with the same findings
retro("--policy", pol3)
again = psql("retro", "SELECT run_id, changed FROM retro_runs ORDER BY run_id DESC LIMIT 1")[0]
check("re-run: new run, same count", again[0] != run_id and again[1] == str(len(expected)), str(again))

# dry run writes nothing
before = psql("retro", "SELECT count(*) FROM retro_runs")[0][0]
r = retro("--policy", pol3, "--dry-run")
check("dry run writes no run", psql("retro", "SELECT count(*) FROM retro_runs")[0][0] == before)
check("dry run reports the same change count", ("determinations changed   %d" % len(expected)).encode() in r.stdout, r.stdout.decode())

# progress: plain lines when stderr is not a terminal
check("progress lines without a terminal", b"events/s" in r.stderr and b"\r" not in r.stderr, r.stderr.decode()[-300:])

# bad arguments
r = sh([BIN, "retro", "--config", conf, "--from", "2025-02-30", "--to", TO])
check("invalid date refused", r.returncode == 2)

check.finish()
