#!/usr/bin/python3
"""Wire compatibility (contract §11) against the real worker, from an independent client.

tests/scripts/avro_wire_compat.sh starts the stack and runs this file. Events are encoded with
the reference Apache Avro library for Python (python3-avro) and produced with kafka-python
(pinned, <repo>/.local/pylib, ops/install-deps): nothing on the way in goes through the
binary's own Avro or Kafka code.

mixed_versions_one_topic: one events topic carries prior auths (id 1), claims written with
  claim schema version 1 (schemas/claim.v1.avsc, id 2: no frequency fields) and version 2
  (schemas/claim.avsc, id 4), interleaved: a generated stream (ops/gen_events.py, whose voids
  and replacements go as version 2, and whose ORIGINAL claims go as either version at random)
  plus hand-written lines: a version-2 VOID and REPLACEMENT of lines billed by version-1
  claims, a REPLACEMENT then a VOID of the replacement, one naming no billed line. The worker
  runs until idle. Asserted:
  - every event has exactly one determinations row equal to what `evaluate` says about the same
    events as JSON Lines (a version-1 claim is the same claim with frequency ORIGINAL and no
    reference), and no dead letter;
  - every outcome message (id 5, determination schema version 2) read by Python with the v2
    schema equals evaluate on every §8 field, frequency_code and reversed_event_id included;
  - the same bytes read with determination schema version 1 (schemas/determination.v1.avsc,
    the old consumer) as the reader's schema by Apache Avro's schema resolution give every
    version-1 field the same value, with nothing left over;
  - the version-1 claims were judged as ORIGINAL (frequency_code ORIGINAL, ORIGINAL check
    NOT_APPLICABLE, no reversed_event_id), and the accepted VOID and REPLACEMENT of lines
    billed by version-1 claims reversed them;
  - when the determinations table has the frequency columns (migration 006), they hold the
    same values.
produce_schema_version_1: `produce --schema-version 1` writes ORIGINAL claims under id 2 in
  schema version 1 (read back by Python with claims.v1.avsc) and refuses a VOID with a clear
  error.

Usage: wire_compat.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                      --workdir W --pidfile F [-k NAME]...
"""
import io
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "worker"))

import avro.io  # noqa: E402
import avro.schema  # noqa: E402

from harness import (DET_FIELDS, Case, check, check_eq, claim_event,  # noqa: E402
                     compare_rows, encode, first_diffs, pa_event, suite_main)

kafka = None  # kafka-python, imported in main() from <src>/.local/pylib


def import_kafka(src):
    global kafka
    pylib = os.path.join(src, ".local", "pylib")
    if os.path.isdir(pylib) and pylib not in sys.path:
        sys.path.insert(0, pylib)
    try:
        import kafka as k  # noqa: F401
    except ImportError as e:
        raise SystemExit("kafka-python is missing: run ops/install-deps (it installs it into "
                         "<repo>/.local/pylib) (%s)" % e)
    kafka = k


def produce_python(env, topic, messages):
    """(key, value) pairs, in order, with kafka-python; every send must be acknowledged."""
    p = kafka.KafkaProducer(bootstrap_servers=env.brokers, acks="all", linger_ms=5, retries=5,
                            max_in_flight_requests_per_connection=1, request_timeout_ms=30000,
                            client_id="wire-compat-producer")
    try:
        futures = [p.send(topic, key=k, value=v) for k, v in messages]
        p.flush(60)
        for f in futures:
            f.get(timeout=60)
    finally:
        p.close(10)


def is_v1_writable(ev):
    return ev["kind"] == "claim" and ev.get("frequency_code", "ORIGINAL") == "ORIGINAL" and \
        ev.get("original_claim_id") is None


def with_nulls(ev):
    """The event with the nulls JSON may leave out written (harness.avro_record reads them)."""
    if ev["kind"] != "prior_auth":
        return ev
    return dict(ev, prior_therapies=[dict({"start_date": None, "end_date": None}, **t)
                                     for t in ev["prior_therapies"]])


def hand_written():
    """A lifecycle around lines billed by version-1 claims; (event, claim version)."""
    out = []
    for m in ("WC-1", "WC-2", "WC-3"):
        out.append((pa_event("wc-pa-" + m, m, "PA-" + m, received="2026-06-01T10:00:00Z"), 2))
    # WC-1: billed by version 1, voided by version 2.
    out.append((claim_event("wc-c1", "WC-1", "CLM-WC-1", "2026-06-20", "PA-WC-1"), 1))
    out.append((claim_event("wc-c1-void", "WC-1", "CLM-WC-1-V", "2026-06-20", None,
                            frequency_code="VOID", original_claim_id=" CLM-WC-1 "), 2))
    # WC-2: billed by version 1, replaced by version 2 (then the replacement voided); a
    # version-1 ORIGINAL of a second line stays live.
    out.append((claim_event("wc-c2", "WC-2", "CLM-WC-2", "2026-06-20", "PA-WC-2", units=2), 1))
    out.append((claim_event("wc-c2-repl", "WC-2", "CLM-WC-2", "2026-06-20", "PA-WC-2",
                            frequency_code="REPLACEMENT", original_claim_id="CLM-WC-2"), 2))
    out.append((claim_event("wc-c2-repl-void", "WC-2", "CLM-WC-2", "2026-06-21", None,
                            frequency_code="VOID", original_claim_id="CLM-WC-2"), 2))
    out.append((claim_event("wc-c2b", "WC-2", "CLM-WC-2B", "2026-06-22", "PA-WC-2"), 1))
    # WC-3: a version-2 ORIGINAL said so explicitly, and a REPLACEMENT that names no billed line.
    out.append((claim_event("wc-c3", "WC-3", "CLM-WC-3", "2026-06-20", "PA-WC-3",
                            frequency_code="ORIGINAL", original_claim_id=None), 2))
    out.append((claim_event("wc-c3-orphan", "WC-3", "CLM-WC-3X", "2026-06-20", "PA-WC-3",
                            frequency_code="REPLACEMENT", original_claim_id="CLM-NOWHERE"), 2))
    return out


def det_columns(env, db):
    cols = env.query(db, "select column_name from information_schema.columns where table_name = "
                         "'determinations' and column_name in ('frequency_code', "
                         "'reversed_event_id', 'original_claim_id')")
    return sorted(c["column_name"] for c in cols)


def test_mixed_versions_one_topic(env):
    case = Case(env, "mixed")
    db, cfg = case.new_db_config()
    rng = random.Random(1102)
    # The generated stream's valid lines (it has some a decoder must reject, by design).
    stream = [(ev, None) for _, ev, _ in env.evaluate(env.generate(600, 1102)).lines]
    stream += hand_written()
    # Which claims go as version 1: the ORIGINALs without a reference, half of them at random
    # (the hand-written ones as stated).
    plan = []
    for ev, version in stream:
        if version is None:
            version = 1 if is_v1_writable(ev) and rng.random() < 0.5 else 2
        check(version == 2 or is_v1_writable(ev), "version 1 for %s" % ev["event_id"])
        plan.append((ev, version))
    lines = [json.dumps(ev) for ev, _ in plan]
    expected = env.evaluate(lines)
    check_eq(expected.rejected, 0, "lines evaluate rejects")
    msgs = [(ev["member_id"].encode(), encode(env, with_nulls(ev), claim_version=v))
            for ev, v in plan]
    ids = {m[1][1:5] for m in msgs}
    check_eq(sorted(int.from_bytes(i, "big") for i in ids), [1, 2, 4], "schema ids on the topic")
    v1_ids = {ev["event_id"] for ev, v in plan if ev["kind"] == "claim" and v == 1}
    v2_freq = {ev.get("frequency_code") for ev, v in plan if ev["kind"] == "claim" and v == 2}
    check({"VOID", "REPLACEMENT"} <= v2_freq, "version-2 VOID and REPLACEMENT in the stream")
    check(len(v1_ids) >= 20, "only %d version-1 claims" % len(v1_ids))
    produce_python(env, case.events_topic, msgs)

    w = case.worker(cfg, "w")
    w.expect_exit(0, timeout=180)

    rows = compare_rows(case.rows(db), expected)
    dead = env.scalar(db, "select count(*) from dead_letters")
    check_eq(dead, "0", "dead letters")

    # The outcomes topic: v2 as evaluate says, v1 reader resolves the same values.
    det_v1_schema = avro.schema.parse(open(os.path.join(env.src, "schemas",
                                                        "determination.v1.avsc")).read())
    outs = env.dump(cfg, case.outcomes_topic)
    seen, diffs, v1_reads = {}, [], 0
    for m in outs:
        det, _ = env.decode_outcome(m["value_bytes"])  # id 5, schema v2, nothing left over
        want = expected.by_event[det["event_id"]]
        diffs += ["%s.%s: topic=%r evaluate=%r" % (det["event_id"], f, det[f], want[f])
                  for f in DET_FIELDS if det[f] != want[f]]
        buf = io.BytesIO(m["value_bytes"][5:])
        new = avro.io.DatumReader(env.det_schema).read(avro.io.BinaryDecoder(buf))
        buf = io.BytesIO(m["value_bytes"][5:])
        old = avro.io.DatumReader(env.det_schema, det_v1_schema).read(avro.io.BinaryDecoder(buf))
        if buf.read() != b"":
            diffs.append("%s: bytes left after the version-1 read" % det["event_id"])
        if set(old) != set(new) - {"frequency_code", "reversed_event_id"}:
            diffs.append("%s: version-1 fields %s" % (det["event_id"], sorted(old)))
        diffs += ["%s: version-1 reader %s=%r, version 2 %r" % (det["event_id"], k, old[k], new[k])
                  for k in old if old[k] != new[k]]
        v1_reads += 1
        seen[det["event_id"]] = det
    check(not diffs, "%d outcome problems: %s" % (len(diffs), first_diffs(diffs)))
    check_eq(sorted(seen), sorted(expected.by_event), "event_ids on the outcomes topic")
    check_eq(v1_reads, len(outs), "outcomes read with the version-1 schema")

    # Version-1 claims: judged as ORIGINAL.
    bad = [e for e in v1_ids if seen[e]["frequency_code"] != "ORIGINAL" or
           seen[e]["criteria"]["ORIGINAL"] != "NOT_APPLICABLE" or seen[e]["reversed_event_id"]]
    check(not bad, "version-1 claims not judged as ORIGINAL: %s" % first_diffs(sorted(bad)))
    # The lifecycle across versions: a version-2 VOID and REPLACEMENT reversed version-1 lines.
    for eid, freq, reversed_id, outcome in (
            ("wc-c1-void", "VOID", "wc-c1", "APPROVED"),
            ("wc-c2-repl", "REPLACEMENT", "wc-c2", None),
            ("wc-c2-repl-void", "VOID", "wc-c2-repl", "APPROVED"),
            ("wc-c3-orphan", "REPLACEMENT", None, "DENIED")):
        d = seen[eid]
        check_eq((d["frequency_code"], d["reversed_event_id"]), (freq, reversed_id), eid)
        if outcome:
            check_eq(d["outcome"], outcome, eid + " outcome")
    check_eq(seen["wc-c3-orphan"]["criteria"]["ORIGINAL"], "NOT_MET", "wc-c3-orphan ORIGINAL")
    check_eq(seen["wc-c2"]["outcome"], "DENIED", "wc-c2 (2 units) outcome")

    # PostgreSQL: the frequency columns, once the store writes them (migration 006).
    cols = det_columns(env, db)
    if cols:
        got = {r["event_id"]: r for r in env.query(
            db, "select event_id, %s from determinations" % ", ".join(cols))}
        want_cols = {"frequency_code": lambda d: d["frequency_code"],
                     "reversed_event_id": lambda d: d["reversed_event_id"],
                     "original_claim_id": lambda d: expected.first_event[d["event_id"]].get(
                         "original_claim_id") if d["frequency_code"] not in (None, "ORIGINAL")
                     else None}
        diffs = ["%s.%s: db=%r want=%r" % (e, c, got[e][c], want_cols[c](seen[e]))
                 for e in seen for c in cols if got[e][c] != want_cols[c](seen[e])]
        check(not diffs, "%d frequency columns differ: %s" % (len(diffs), first_diffs(diffs)))
    print("     mixed: %d events (%d claims of version 1), %d rows, %d outcomes read with both "
          "determination schemas; determination columns %s" % (
              len(plan), len(v1_ids), len(rows), v1_reads, cols or "(none yet: no migration 006)"),
          flush=True)


def test_produce_schema_version_1(env):
    case = Case(env, "produce-v1")
    _, cfg = case.new_db_config()
    orig = claim_event("pv1-c1", "PV1-1", "CLM-PV1-1", "2026-06-20", "PA-PV1-1")
    void = claim_event("pv1-void", "PV1-1", "CLM-PV1-V", "2026-06-20", None,
                       frequency_code="VOID", original_claim_id="CLM-PV1-1")
    pa = pa_event("pv1-pa", "PV1-1", "PA-PV1-1")
    argv = [env.binary, "produce", "--config", cfg, "--schema-version", "1"]
    p = env.run(argv, input_data="".join(json.dumps(e) + "\n" for e in (pa, orig, void)).encode())
    err = p.stderr.decode()
    check("line 3: cannot encode: a VOID claim cannot be written with claim schema version 1"
          in err, "produce said %r" % err)
    check("produce: 2 sent to %s, 0 failed, 1 lines rejected" % case.events_topic in err,
          "produce said %r" % err)
    p = env.run([env.binary, "produce", "--config", cfg, "--schema-version", "3"],
                input_data=b"", check_rc=False)
    check_eq(p.returncode, 2, "produce --schema-version 3 exit status")
    msgs = env.dump(cfg, case.events_topic)
    check_eq(len(msgs), 2, "messages on the topic")
    v1 = avro.schema.parse(open(os.path.join(env.src, "schemas", "claim.v1.avsc")).read())
    by_id = {int.from_bytes(m["value_bytes"][1:5], "big"): m["value_bytes"] for m in msgs}
    check_eq(sorted(by_id), [1, 2], "schema ids written")
    buf = io.BytesIO(by_id[2][5:])
    rec = avro.io.DatumReader(v1).read(avro.io.BinaryDecoder(buf))
    check_eq(buf.read(), b"", "bytes after the version-1 claim")
    check_eq((rec["event_id"], rec["claim_id"], rec["authorization_id"]),
             ("pv1-c1", "CLM-PV1-1", "PA-PV1-1"), "version-1 claim read by Python")


TESTS = [("mixed_versions_one_topic", test_mixed_versions_one_topic),
         ("produce_schema_version_1", test_produce_schema_version_1)]



if __name__ == "__main__":
    sys.exit(suite_main(TESTS, "wire compatibility", setup=lambda a: import_kafka(a.src)))
