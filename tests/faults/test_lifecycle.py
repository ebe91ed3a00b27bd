#!/usr/bin/python3
"""The claim lifecycle end to end (contract §10, §11; docs/CLAIM_LIFECYCLE.md): the worker
(`amtagvi-adjudicator run`) against a real PostgreSQL 15 + Kafka 3.9 judges voids and
replacements exactly as `evaluate` does on the same events in the same per-member order, while

- each member's original lines, voids and replacements arrive in several batches (batches of 4
  messages, between a generated background stream that has its own voids and replacements), so
  every reversal of a line judged in an earlier batch depends on history reloaded from
  PostgreSQL (frequency_code and original_claim_id stored and read back);
- a second worker joins the group mid-stream and leaves it again (SIGTERM): partitions change
  hands with the lines of a member on one worker and their follow-ups on another;
- the worker is killed with SIGKILL once every original line is committed and before any of
  their voids is even produced; fresh workers judge the voids and replacements, and the first
  of them dies right after a commit, before publishing (`fault.exit.after.commit`), so the
  next one republishes determinations of voids from the database;
- claim lines are written with claim schema version 1 (schema id 2) and voided with version 2
  (schema id 4) on the same topic.

At the end every determinations row equals `evaluate` (outcome, criteria letters, reason codes,
frequency_code, original_claim_id as sent, reversed_event_id, matched_pa_id, policy_version,
determination_id), the hand-written events also equal the outcomes the contract gives them (so
a wrong `evaluate` cannot pass either), no event is lost or doubled (one row per distinct valid
event_id), every determination is on the outcomes topic with the same frequency_code and
reversed_event_id (decoded with the Apache Avro library, determination schema version 2), and
consumer_offsets is at the end of every partition.

A store that did not keep original_claim_id would fail here: B04, the replacement of a line
that B03 already replaced in an earlier batch, would find the line live (MET) instead of
ORIGINAL_NOT_FOUND; one that did not keep frequency_code would turn the stored void A04 into a
paid dose and deny A05 as PRIOR_DOSE_PAID. History reloaded out of stream order fails too:
the lines of M-R0..7 are stored while two workers share the partitions and their voids by the
one left, so a `seq` handed out from per-session sequence caches (CACHE 1000) can put a void
before its line; the line then comes back to life and R*W, a second void, is accepted.

Usage: test_lifecycle.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                         --workdir W --pidfile F [--jobs N] [-k NAME]...
"""
import collections
import io
import json
import os
import signal
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import avro.io  # noqa: E402
import avro.schema  # noqa: E402

import faultlib as fl  # noqa: E402
from faultlib import LETTER, check, check_eq, first_diffs  # noqa: E402
from harness import (Case, claim_event, group_of, pa_event, run_suite, runner_args,  # noqa: E402
                     wait_all_share, wait_until)

DET_V2_SCHEMA_ID = 5  # schema.id.determination (contract §11: determination schema version 2)
CLAIM_V1 = 1  # produce --schema-version


def say(msg):
    print("    lifecycle: %s" % msg, flush=True)


# ====================================================================== the hand-written events


def claim(eid, member, claim_id, auth, service="2026-07-01", frequency=None, ref=None, **over):
    """A claim line; frequency/ref: frequency_code and original_claim_id (left out if None)."""
    ev = claim_event(eid, member, claim_id, service, auth, **over)
    if frequency is not None:
        ev["frequency_code"] = frequency
        ev["original_claim_id"] = ref
    return ev


def void(eid, member, claim_id, ref, **over):
    return claim(eid, member, claim_id, None, frequency="VOID", ref=ref, **over)


def replacement(eid, member, claim_id, auth, ref, **over):
    return claim(eid, member, claim_id, auth, frequency="REPLACEMENT", ref=ref, **over)


def scenario():
    """({chunk: [event]}, want): the members' events by the chunk they are produced in (p1a,
    p1v1, p1b, p1c before the kill, p2 after it) and, per event_id, what contract §10 says:
    (outcome, reason codes, frequency_code, reversed_event_id, matched_pa_id)."""
    c = collections.defaultdict(list)
    want = {}

    def add(chunk, ev, outcome=None, reasons=(), reversed_id=None, matched=None):
        c[chunk].append(ev)
        if outcome is not None:
            freq = ev.get("frequency_code") or "ORIGINAL" if ev["kind"] == "claim" else None
            want[ev["event_id"]] = (outcome, list(reasons), freq, reversed_id, matched)

    nf = ["ORIGINAL_NOT_FOUND"]
    # M-A: a paid dose voided after the kill (and the void redelivered), then billed again.
    add("p1a", pa_event("A01", "M-A", "PA-A"), "APPROVED")
    add("p1a", claim("A02", "M-A", "CLM-A1", "PA-A"), "APPROVED", matched="PA-A")
    add("p1b", claim("A03", "M-A", "CLM-A9", "PA-A", "2026-07-20"), "DENIED", ["PRIOR_DOSE_PAID"],
        matched="PA-A")
    add("p2", void("A04", "M-A", "CLM-A1", "CLM-A1"), "APPROVED", reversed_id="A02")
    add("p2", void("A04", "M-A", "CLM-A1", "CLM-A1"))  # redelivered: the stored determination
    add("p2", claim("A05", "M-A", "CLM-A2", "PA-A", "2026-07-25"), "APPROVED", matched="PA-A")
    add("p2", pa_event("A06", "M-A", "PA-A2", "2026-08-01T10:00:00Z"), "DENIED",
        ["PRIOR_AMTAGVI"])
    # M-B: a denied line replaced on a line of its own; after the kill the old line is replaced
    # again (already reversed) and the replacement is voided (a chain).
    add("p1a", pa_event("B01", "M-B", "PA-B"), "APPROVED")
    add("p1a", claim("B02", "M-B", "CLM-B1", "PA-B", dose_viable_cells=80000000000), "DENIED",
        ["DOSE_OUT_OF_RANGE"], matched="PA-B")
    add("p1b", replacement("B03", "M-B", "CLM-B1R", "PA-B", "CLM-B1"), "APPROVED",
        reversed_id="B02", matched="PA-B")
    add("p2", replacement("B04", "M-B", "CLM-B1S", "PA-B", "CLM-B1"), "DENIED", nf)
    add("p2", void("B05", "M-B", "CLM-B1R", "CLM-B1R"), "APPROVED", reversed_id="B03")
    add("p2", claim("B06", "M-B", "CLM-B2", "PA-B", "2026-07-30"), "APPROVED", matched="PA-B")
    # M-C: replaced on the same claim number and line (not its own duplicate); after the kill
    # the line billed again is a duplicate of the live replacement; voided; voided again.
    add("p1a", pa_event("C01", "M-C", "PA-C"), "APPROVED")
    add("p1a", claim("C02", "M-C", "CLM-C1", "PA-C"), "APPROVED", matched="PA-C")
    add("p1c", replacement("C03", "M-C", "CLM-C1", "PA-C", "CLM-C1",
                           dose_viable_cells=30000000000), "APPROVED", reversed_id="C02",
        matched="PA-C")
    add("p2", claim("C04", "M-C", "CLM-C1", "PA-C"), "DENIED", ["DUPLICATE_CLAIM_LINE"])
    add("p2", void("C05", "M-C", "CLM-C1", "CLM-C1"), "APPROVED", reversed_id="C03")
    add("p2", void("C06", "M-C", "CLM-C1", "CLM-C1"), "DENIED", nf)
    # M-D: references the contract refuses, and one padded with white space that matches.
    add("p1a", pa_event("D01", "M-D", "PA-D"), "APPROVED")
    add("p1a", void("D02", "M-D", "CLM-D1V", "CLM-D1"), "DENIED", nf)  # before its original
    add("p1a", claim("D03", "M-D", "CLM-D1", "PA-D"), "APPROVED", matched="PA-D")
    add("p1b", void("D04", "M-D", "CLM-D4", "CLM-NEVER"), "DENIED", nf)
    add("p1b", replacement("D05", "M-D", "CLM-D5", "PA-D", "CLM-A1"), "DENIED", nf)  # M-A's
    add("p1b", void("D06", "M-D", "CLM-D6", ""), "DENIED", nf)
    add("p1b", void("D07", "M-D", "CLM-D7", None), "DENIED", nf)
    add("p2", void("D08", "M-D", "CLM-D8", "CLM-D1V"), "DENIED", nf)  # only a void carries it
    add("p2", void("D09", "M-D", "CLM-D9", "CLM-D1", line_number=2), "DENIED", nf)
    add("p2", replacement("D10", "M-D", "CLM-D1R", "PA-D", " CLM-D1\t"), "APPROVED",
        reversed_id="D03", matched="PA-D")
    # M-E: a pended line voided after the kill, the PA approved, the line billed again.
    add("p1a", pa_event("E01", "M-E", "PA-E", lymphodepletion="UNKNOWN"), "PENDED",
        ["LYMPHODEPLETION_UNKNOWN"])
    add("p1a", claim("E02", "M-E", "CLM-E1", "PA-E"), "PENDED", ["AUTH_PENDING"])
    add("p2", void("E03", "M-E", "CLM-E1", "CLM-E1"), "APPROVED", reversed_id="E02")
    add("p2", pa_event("E04", "M-E", "PA-E", "2026-06-10T10:00:00Z"), "APPROVED")
    add("p2", claim("E05", "M-E", "CLM-E1", "PA-E"), "APPROVED", matched="PA-E")
    # M-F: a replacement denied (the reversal stands), resubmitted after the kill as a
    # replacement naming its own claim number.
    add("p1a", pa_event("F01", "M-F", "PA-F"), "APPROVED")
    add("p1a", claim("F02", "M-F", "CLM-F1", "PA-F"), "APPROVED", matched="PA-F")
    add("p1b", replacement("F03", "M-F", "CLM-F2", "PA-F", "CLM-F1", units=2), "DENIED",
        ["UNITS_EXCEED_SINGLE_DOSE"], reversed_id="F02", matched="PA-F")
    add("p1c", claim("F03b", "M-F", "CLM-F9", "PA-F", "2026-07-05"), "APPROVED",
        matched="PA-F")  # no paid dose left: F02 is reversed, F03 denied
    add("p1c", void("F03c", "M-F", "CLM-F9", "CLM-F9"), "APPROVED", reversed_id="F03b")
    add("p2", replacement("F04", "M-F", "CLM-F2", "PA-F", "CLM-F2"), "APPROVED",
        reversed_id="F03", matched="PA-F")
    add("p2", pa_event("F05", "M-F", "PA-F2", "2026-08-01T10:00:00Z"), "DENIED",
        ["PRIOR_AMTAGVI"])
    # M-G: lines written with claim schema version 1 (judged as ORIGINAL), voided in version 2.
    add("p1a", pa_event("G01", "M-G", "PA-G"), "APPROVED")
    add("p1v1", claim("G02", "M-G", "CLM-G1", "PA-G"), "APPROVED", matched="PA-G")
    add("p2", void("G03", "M-G", "CLM-G1", "CLM-G1"), "APPROVED", reversed_id="G02")
    add("p2", claim("G04", "M-G", "CLM-G2", "PA-G", "2026-07-10"), "APPROVED", matched="PA-G")
    # M-R0..7: billed while two workers share the partitions, voided after one of them left, so
    # a line and its void may be stored by two workers (two database sessions); after the kill
    # the line must stay reversed: a second void is refused and a new line is not a second dose.
    for i in range(8):
        m, pa, line = "M-R%d" % i, "PA-R%d" % i, "CLM-R%d" % i
        add("p1b", pa_event("R%dP" % i, m, pa), "APPROVED")
        add("p1b", claim("R%dL" % i, m, line, pa), "APPROVED", matched=pa)
        add("p1c", void("R%dV" % i, m, line, line), "APPROVED", reversed_id="R%dL" % i)
        add("p2", void("R%dW" % i, m, line, line), "DENIED", nf)
        add("p2", claim("R%dN" % i, m, line + "N", pa, "2026-07-09"), "APPROVED", matched=pa)
    return c, want


# ====================================================================== checks


# Differences in what was judged are reported before differences in what was stored beside it.
FIRST = ["outcome", "reason_codes", "reversed_event_id", "criteria", "matched_pa_id",
         "frequency_code"]


def compare_with_evaluate(env, db, expected):
    """Every row equals evaluate, one row per distinct valid event_id; returns rows by id."""
    rows = env.query(db, "select event_id, determination_id::text as determination_id, kind, "
                         "member_id, claim_id, line_number, policy_version::text as "
                         "policy_version, outcome, criteria, reason_codes, matched_pa_id, "
                         "frequency_code, original_claim_id, reversed_event_id, decided_at::text "
                         "as decided_at from determinations")
    seen = collections.Counter(r["event_id"] for r in rows)
    dup = sorted(e for e, n in seen.items() if n > 1)
    check(not dup, "%d event_ids have more than one row (doubled): %s" % (len(dup),
                                                                        first_diffs(dup)))
    missing = sorted(set(expected.by_event) - set(seen))
    check(not missing, "%d events have no row (lost): %s" % (len(missing), first_diffs(missing)))
    extra = sorted(set(seen) - set(expected.by_event))
    check(not extra, "%d rows evaluate does not know: %s" % (len(extra), first_diffs(extra)))
    diffs = []
    by_id = {}
    for r in rows:
        eid = r["event_id"]
        det, ev = expected.by_event[eid], expected.first_event[eid]
        is_claim = det["kind"] == "claim"
        freq = ev.get("frequency_code") or "ORIGINAL" if is_claim else None
        want = {
            "determination_id": det["determination_id"], "kind": det["kind"],
            "member_id": det["member_id"], "claim_id": det["claim_id"],
            "line_number": det["line_number"], "policy_version": det["policy_version"],
            "outcome": det["outcome"],
            # evaluate's criteria keys are in contract order (ORIGINAL first for a claim)
            "criteria": "".join(LETTER[s] for s in det["criteria"].values()),
            "reason_codes": [x["code"] for x in det["reasons"]],
            "matched_pa_id": det["matched_pa_id"],
            "frequency_code": det.get("frequency_code"),
            "original_claim_id": ev.get("original_claim_id") if freq not in (None,
                                                                           "ORIGINAL") else None,
            "reversed_event_id": det.get("reversed_event_id"),
        }
        check_eq(det.get("frequency_code"), freq, "evaluate's frequency_code of " + eid)
        for k, v in want.items():
            if r[k] != v:
                diffs.append((FIRST.index(k) if k in FIRST else len(FIRST), eid,
                              "%s.%s: db=%r evaluate=%r" % (eid, k, r[k], v)))
        by_id[eid] = r
    diffs = [d for _, _, d in sorted(diffs)]  # what was judged first, then what was stored
    check(not diffs, "%d fields differ from evaluate: %s" % (len(diffs), first_diffs(diffs, 8)))
    return by_id


def check_want(rows, want):
    """The hand-written events come out as contract §10 says."""
    bad = []
    for eid, w in want.items():
        r = rows[eid]
        got = (r["outcome"], r["reason_codes"], r["frequency_code"], r["reversed_event_id"],
               r["matched_pa_id"])
        if got != w:
            bad.append("%s: got %r, contract %r" % (eid, got, w))
    check(not bad, "%d determinations differ from the contract: %s" % (len(bad),
                                                                     first_diffs(bad, 8)))


def check_outcomes_topic(env, case, cfg, rows, expected):
    """Every determination is on the outcomes topic (at least once: a crash republishes), each
    message in determination schema version 2 with evaluate's frequency_code and
    reversed_event_id. Returns (messages, republished-twice count)."""
    with open(os.path.join(env.src, "schemas", "determination.avsc")) as f:
        schema = avro.schema.parse(f.read())
    reader = avro.io.DatumReader(schema)
    msgs = fl.dump_lines(env, cfg, case.outcomes_topic)
    per_id = collections.Counter()
    bad = []
    for m in msgs:
        v = bytes.fromhex(m["value"])
        if v[0] != 0 or int.from_bytes(v[1:5], "big") != DET_V2_SCHEMA_ID:
            bad.append("p%d@%d: header %s, expected schema id %d" % (
                m["partition"], m["offset"], v[:5].hex(), DET_V2_SCHEMA_ID))
            continue
        buf = io.BytesIO(v[5:])
        d = reader.read(avro.io.BinaryDecoder(buf))
        if buf.read():
            bad.append("%s: bytes after the record" % d["event_id"])
        det = expected.by_event.get(d["event_id"])
        if det is None:
            bad.append("%s: an outcome for an unknown event" % d["event_id"])
            continue
        per_id[d["determination_id"]] += 1
        got = (str(d["determination_id"]), d["outcome"], d["frequency_code"],
               d["reversed_event_id"], [x["code"] for x in d["reasons"]])
        exp = (det["determination_id"], det["outcome"], det.get("frequency_code"),
               det.get("reversed_event_id"), [x["code"] for x in det["reasons"]])
        if got != exp:
            bad.append("%s: topic %r, evaluate %r" % (d["event_id"], got, exp))
    check(not bad, "outcomes topic: %d bad messages: %s" % (len(bad), first_diffs(bad)))
    missing = sorted(eid for eid, r in rows.items() if not per_id.get(r["determination_id"]))
    check(not missing, "%d determinations never published: %s" % (len(missing),
                                                                 first_diffs(missing)))
    return len(msgs), sum(1 for n in per_id.values() if n > 1)


# ====================================================================== the test


def test_lifecycle(env):
    case = Case(env, "lifecycle")
    chunks, want = scenario()
    # The background: a generated stream with its own voids, replacements and bad references.
    bg = env.evaluate(env.generate(800, 1013)).valid_lines()
    n = len(bg) // 4
    bgs = [bg[:n], bg[n:2 * n], bg[2 * n:3 * n], bg[3 * n:]]
    lc = {k: [json.dumps(e) for e in evs] for k, evs in chunks.items()}
    # produce order = evaluate order: (name, lines, claim schema version)
    order = [("p1a", bgs[0] + lc["p1a"], None), ("p1v1", lc["p1v1"], CLAIM_V1),
             ("p1b", lc["p1b"] + bgs[1], None), ("p1c", bgs[2] + lc["p1c"], None),
             ("p2", lc["p2"] + bgs[3], None)]
    expected = env.evaluate([l for _, lines, _ in order for l in lines])
    n_bg_lifecycle = sum(1 for l in bg if '"frequency_code"' in l)
    check(n_bg_lifecycle > 10, "the background has %d voids/replacements" % n_bg_lifecycle)
    phase1 = {json.loads(l)["event_id"] for name, lines, _ in order if name != "p2"
              for l in lines}

    def produce(name):
        _, lines, version = next(o for o in order if o[0] == name)
        argv = [env.binary, "produce", "--config", cfg]
        if version:
            argv += ["--schema-version", str(version)]
        p = env.run(argv, input_data="".join(l + "\n" for l in lines).encode())
        err = p.stderr.decode()
        exp = "produce: %d sent to %s, 0 failed" % (len(lines), case.events_topic)
        check(exp in err, "produce %s said %r, expected %r" % (name, err.strip()[-300:], exp))

    common = dict(batch__max__messages=4, batch__max__ms=50, log__level="debug",
                  kafka__session__timeout__ms=6000, kafka__heartbeat__interval__ms=1000,
                  retry__max__backoff__ms=1000)
    db, cfg = case.new_db_config(exit__when__idle__ms=60000, **common)
    group = group_of(cfg)
    cfg_end = case.config(db, group__id=group, exit__when__idle__ms=4000, **common)

    def rows_in():
        return fl.count_rows(env, db)

    # ---- phase 1: the original lines (and some follow-ups), a worker joining and leaving
    produce("p1a")
    produce("p1v1")
    wa = case.worker(cfg, "a", {"AMTAGVI_WORKER_ID": "lifecycle-a"})
    wa.wait_log("batch committed", 3, timeout=60)
    wb = case.worker(cfg, "b", {"AMTAGVI_WORKER_ID": "lifecycle-b"})

    wait_all_share((wa, wb), 4, 60, "the joining worker to get a share of the partitions")
    produce("p1b")
    wb.wait_log("batch committed", 2, timeout=60)
    upto_b = {json.loads(l)["event_id"] for name, lines, _ in order[:3] for l in lines}
    wait_until(lambda: rows_in() >= len(upto_b & set(expected.by_event)), 60,
               "the lines of p1b judged while both workers share", interval=0.2)
    wb.signal(signal.SIGTERM)  # leaves the group mid-stream: its partitions go back to a
    wb.expect_exit(0, timeout=60)
    judged_b = wb.stopped()["judged"]
    check(judged_b > 0, "the joining worker judged nothing")
    produce("p1c")
    # Wait until all of phase 1 is committed (rows, and consumer_offsets at the topic's end).
    total1 = len([e for e in expected.by_event if e in phase1])
    wait_until(lambda: rows_in() >= total1, 90, "%d phase-1 rows" % total1, interval=0.2)
    ends = fl.event_ends(env, cfg, case.events_topic)
    wait_until(lambda: all(fl.offsets(env, db, group, case.events_topic).get(p, (0,))[0] == e
                           for p, e in ends.items()), 30, "phase-1 offsets committed",
               interval=0.2)
    check(wa.proc.poll() is None, "worker a exited before the kill: " + wa.tail())
    check(any(k == 4 for k in wa.assignments()[1:]), "worker a never took all 4 partitions back "
          "after b left: assigned %s" % wa.assignments())
    # ---- kill -9: every original line committed, none of their voids produced yet
    check_eq(wa.kill9(), -signal.SIGKILL, "exit status of the killed worker a")
    at_kill = rows_in()
    check_eq(at_kill, total1, "rows when worker a was killed")
    # ---- phase 2: voids and replacements; the first fresh worker dies after its 3rd commit,
    # before publishing it; the next one republishes from the database and finishes.
    produce("p2")
    wc = case.worker(cfg_end, "c", {"AMTAGVI_WORKER_ID": "lifecycle-c",
                                    "AMTAGVI_FAULT_EXIT_AFTER_COMMIT": "3"})
    wc.expect_exit(137, timeout=90)
    check_eq(wc.count("fault injection: exiting after commit, before publish"), 1,
             "fault injection log lines of worker c")
    after_c = rows_in()
    check(at_kill < after_c < len(expected.by_event), "rows %d -> %d of %d: worker c did not "
          "stop mid-phase-2" % (at_kill, after_c, len(expected.by_event)))
    wd = case.worker(cfg_end, "d", {"AMTAGVI_WORKER_ID": "lifecycle-d"})
    wd.expect_exit(0, timeout=120)
    republished = wd.count("republishing committed range")
    check(republished > 0, "worker d republished nothing after worker c's crash")
    # ---- the invariants
    rows = compare_with_evaluate(env, db, expected)
    check_want(rows, want)
    msgs, twice = check_outcomes_topic(env, case, cfg_end, rows, expected)
    offs = fl.check_offsets_at_end(env, db, cfg_end, case.events_topic,
                                   fl.event_ends(env, cfg, case.events_topic))
    check_eq(fl.count_rows(env, db, "dead_letters"), 0, "dead_letters rows")
    # Follow-ups judged in a later batch than their lines (history from PostgreSQL), and on
    # another worker for the phase-2 ones.
    split = sum(1 for eid, w in want.items() if w[3] and rows[eid]["decided_at"] !=
                rows[w[3]]["decided_at"])
    check(split >= 7, "only %d reversals judged in another batch than their line" % split)
    freq = collections.Counter(r["frequency_code"] for r in rows.values())
    reversed_n = sum(1 for r in rows.values() if r["reversed_event_id"])
    nf = sum(1 for r in rows.values() if "ORIGINAL_NOT_FOUND" in r["reason_codes"])
    say("%d rows == %d distinct valid events (%s; %d reversals, %d ORIGINAL_NOT_FOUND); b "
        "judged %d before leaving; %d rows at kill -9; worker c died at %d rows; %d ranges "
        "republished; %d outcome messages (%d determinations twice); offsets %s" % (
            len(rows), len(expected.by_event), ", ".join("%s %d" % kv for kv in sorted(
                freq.items(), key=str)), reversed_n, nf, judged_b, at_kill, after_c,
            republished, msgs, twice, " ".join("p%d=%d" % (p, offs[p][0]) for p in sorted(offs))))


TESTS = [("lifecycle", test_lifecycle, False)]


def main():
    a = runner_args(jobs=1)
    env = fl.FaultEnv(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir,
                      a.pidfile)
    return run_suite(env, TESTS, a, 12, "lifecycle")


if __name__ == "__main__":
    sys.exit(main())
