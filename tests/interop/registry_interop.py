#!/usr/bin/python3
"""Schema evolution through a real Schema Registry (rivven-schema), against the real worker.

tests/scripts/registry_interop.sh starts the stack (PostgreSQL, Kafka and the registry) and
runs this file. Writer schemas are registered over the registry's REST API by this file
(urllib, harness.Registry), events are encoded with the ids the registry returns by the
reference Apache Avro library for Python (python3-avro) and produced with kafka-python (pinned,
<repo>/.local/pylib): nothing on the way in goes through the binary's Avro, Kafka or registry
code. The worker runs with `schema.registry.url`: no pinned id is used to read.

evolved_writers_one_topic: ONE events topic carries, interleaved, events written with
  - prior auth version 1 (schemas/prior_auth.avsc) and a test-only version 3: the fields in
    reverse order, disease_status's symbols reordered (RESECTABLE is index 3, not 0);
  - claim versions 1 (schemas/claim.v1.avsc) and 2 (schemas/claim.avsc), and a test-only
    version 3: an extra field with a default (place_of_service, written with a value), the
    frequency_code symbols reordered (VOID, ORIGINAL, REPLACEMENT: a VOID is index 0, which
    is ORIGINAL's index in our reader) and billed_amount_cents an int (our reader: long);
  - a claim writer with a frequency_code symbol our reader lacks (CORRECTED, first), which
    reads as the reader enum's default ORIGINAL, and a prior-auth writer with a disease_status
    symbol our reader lacks (BORDERLINE; that enum has no default);
  a generated stream (ops/gen_events.py; each event written with a version that can carry it,
  voids and replacements only with versions 2 and 3) plus hand-written events whose outcome
  depends on enums being resolved by symbol. The bad writers' messages go on the same topic:
  a record that is not ours (com.example.Other), a claim schema without `units` (required, no
  default), a schema id the registry does not have, an id holding a JSON Schema (not Avro),
  and a BORDERLINE prior auth. Asserted:
  - every judged event has exactly one determinations row equal to what `evaluate` says about
    the same events as JSON (every column harness.compare_rows checks, and frequency_code and
    reversed_event_id), the CORRECTED claim judged as the same claim with ORIGINAL;
  - the dead letters are exactly the bad writers' messages: unknown_schema for the foreign
    record, the unknown id and the JSON Schema id, incompatible_schema naming `units` for the
    claim without it and naming `disease_status` for the BORDERLINE prior auth (a prior auth of
    the same writer with a symbol our reader has is judged);
  - by symbol: a VOID written as index 0 by claim version 3 voided its line, a REPLACEMENT
    (index 2) replaced its line, and a prior auth with disease_status RESECTABLE (index 3 of
    version 3) is DENIED with DISEASE_RESECTABLE;
  - every outcome carries the id the registry holds for the determination subject
    (com.amtagvi.ip0625.Determination), and Python, reading each with the schema it fetches
    from the registry by that id, gets what `evaluate` says on every contract §8 field.
produce_with_registry: `produce` with the registry (subject strategies topic_record and record)
  writes ids the registry returns: each id on the topic is registered under the subject of its
  record, the schema the registry holds for it is a record of the event's kind, and Python
  reads every message with that schema.

rivven-schema 0.0.22 refuses a new version of a schema with logical types under BACKWARD (409
"writer=TimestampMillis, reader=TimestampMillis"); the versions are registered under their
record-name subjects after `PUT /config/{subject}` {"compatibility": "NONE"}, which this file
checks rivven honours.

Usage: registry_interop.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                           --workdir W --pidfile F --registry-port R [-k NAME]...
"""
import copy
import io
import json
import os
import random
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "worker"))
sys.path.insert(0, HERE)

import avro.io  # noqa: E402
import avro.schema  # noqa: E402

import wire_compat as wc  # noqa: E402 - kafka-python producer, with_nulls, is_v1_writable
from harness import (DET_FIELDS, Case, Registry, avro_record,  # noqa: E402
                     check, check_eq, claim_event, compare_rows, first_diffs, frame, full_name,
                     pa_event, suite_main)

PA_NAME = "com.amtagvi.ip0625.PriorAuthRequest"
CLAIM_NAME = "com.amtagvi.ip0625.ClaimLine"
DET_NAME = "com.amtagvi.ip0625.Determination"
INT32 = (-2 ** 31, 2 ** 31 - 1)


def say(msg):
    print("     %s" % msg, flush=True)


# ====================================================================== writer schemas


def avsc(env, name):
    with open(os.path.join(env.src, "schemas", name + ".avsc")) as f:
        return json.load(f)


def edit_field(schema, name, fn):
    """A copy of a record schema dict with field `name` passed through fn (None: dropped)."""
    s = copy.deepcopy(schema)
    out = []
    for f in s["fields"]:
        if f["name"] == name:
            f = fn(f)
        if f is not None:
            out.append(f)
    s["fields"] = out
    return s


def with_symbols(symbols):
    def fn(f):
        f["type"]["symbols"] = symbols
        return f
    return fn


def writer_schemas(env):
    """{version name: schema dict}: ours as shipped, the test-only evolutions and bad writers."""
    pa1, claim1, claim2 = avsc(env, "prior_auth"), avsc(env, "claim.v1"), avsc(env, "claim")
    pa3 = edit_field(pa1, "disease_status",
                     with_symbols(["UNKNOWN", "METASTATIC", "UNRESECTABLE", "RESECTABLE"]))
    pa3["fields"].reverse()
    pa3["doc"] = "TEST ONLY: prior auth version 3 (fields reversed, disease_status reordered)"
    claim3 = edit_field(claim2, "frequency_code", with_symbols(["VOID", "ORIGINAL", "REPLACEMENT"]))
    claim3 = edit_field(claim3, "billed_amount_cents", lambda f: dict(f, type="int"))
    i = [f["name"] for f in claim3["fields"]].index("hcpcs_code")
    claim3["fields"].insert(i + 1, {"name": "place_of_service", "type": ["null", "string"],
                                    "default": None, "doc": "TEST ONLY: not in our reader"})
    claim3["doc"] = "TEST ONLY: claim version 3 (extra field, frequency reordered, int amount)"

    claim_x = edit_field(claim2, "frequency_code",
                         with_symbols(["CORRECTED", "ORIGINAL", "REPLACEMENT", "VOID"]))
    pa_x = edit_field(pa1, "disease_status",
                      with_symbols(["RESECTABLE", "UNRESECTABLE", "METASTATIC", "UNKNOWN",
                                    "BORDERLINE"]))
    no_units = edit_field(claim2, "units", lambda f: None)
    other = {"type": "record", "name": "Other", "namespace": "com.example",
             "fields": [{"name": "event_id", "type": "string"},
                        {"name": "member_id", "type": "string"}]}
    return {"pa1": pa1, "pa3": pa3, "pa_x": pa_x, "claim1": claim1, "claim2": claim2,
            "claim3": claim3, "claim_x": claim_x, "no_units": no_units, "other": other}


# Registration order: ids that the pinned ids would misread if the worker used them (the
# pinned ids are prior auth 1, claim v1 2, claim v2 4, determination 5).
REGISTER_ORDER = ["pa3", "claim3", "claim2", "pa1", "claim1", "claim_x", "pa_x", "no_units",
                  "other"]


def register_writers(env, reg, probe=False):
    """Registers every writer schema under its record-name subject; {version: (id, parsed)}.
    probe: first show, on a scratch subject, what rivven's BACKWARD check says about claim v2
    after v1 (informational: the reason for the NONE below)."""
    if probe:
        scratch = env.unique("regtests-quirk")
        reg.register(scratch, json.dumps(avsc(env, "claim.v1")))
        st, out = reg.call("POST", "/subjects/%s/versions" % Registry.q(scratch),
                           {"schema": json.dumps(avsc(env, "claim"))})
        say("rivven, claim v2 after v1 under BACKWARD (scratch subject): HTTP %d %s" % (
            st, str(out)[:160]))
    for subject in (PA_NAME, CLAIM_NAME):
        check_eq(reg.set_compatibility(subject, "NONE"), "NONE",
                 "compatibility of %s after PUT /config/{subject} NONE" % subject)
    schemas = writer_schemas(env)
    got = {}
    for v in REGISTER_ORDER:
        sid = reg.register(full_name(schemas[v]), json.dumps(schemas[v]))
        got[v] = (sid, avro.schema.parse(json.dumps(schemas[v])))
    ids = [sid for sid, _ in got.values()]
    check_eq(len(set(ids)), len(ids), "distinct registry ids of the writer schemas %s" % got)
    say("registry ids: %s" % ", ".join("%s=%d" % (v, got[v][0]) for v in REGISTER_ORDER))
    return got


# ====================================================================== events


def record_for(ev, version):
    """The event (JSON form) as the record a writer of that version writes."""
    rec = avro_record(wc.with_nulls(ev))
    if ev["kind"] == "claim":
        if version == "claim1":
            rec.pop("frequency_code", None)
            rec.pop("original_claim_id", None)
        else:
            rec.setdefault("frequency_code", "ORIGINAL")
            rec.setdefault("original_claim_id", None)
        if version == "claim3":
            rec["place_of_service"] = "11"
    return rec


def versions_for(ev):
    """The writer versions that can carry the event."""
    if ev["kind"] == "prior_auth":
        return ["pa1", "pa3", "pa_x"]
    vs = ["claim2", "claim_x"]
    if wc.is_v1_writable(ev):
        vs.append("claim1")
    if INT32[0] <= ev["billed_amount_cents"] <= INT32[1]:
        vs.append("claim3")
    return vs


def hand_written():
    """(event as written, version, event as `evaluate` must see it or None: dead letter)."""
    out = []

    def add(ev, version, judged=True):
        out.append((ev, version, ev if judged is True else judged))

    # RI-1: a line (claim v1) voided by claim v3 (VOID = index 0 there, ORIGINAL's in ours).
    add(pa_event("ri-pa1", "RI-1", "PA-RI-1"), "pa3")
    add(claim_event("ri-c1", "RI-1", "CLM-RI-1", "2026-06-20", "PA-RI-1"), "claim1")
    add(claim_event("ri-c1-void", "RI-1", "CLM-RI-1-V", "2026-06-21", None,
                    frequency_code="VOID", original_claim_id="CLM-RI-1"), "claim3")
    # RI-2: RESECTABLE is index 3 in prior auth v3 (METASTATIC in ours by position).
    add(pa_event("ri-pa2", "RI-2", "PA-RI-2", disease_status="RESECTABLE"), "pa3")
    # RI-3: a line (claim v2) replaced by claim v3 (REPLACEMENT = index 2, VOID's in ours), and
    # an explicit ORIGINAL of v3 (index 1, REPLACEMENT's in ours).
    add(pa_event("ri-pa3", "RI-3", "PA-RI-3"), "pa1")
    add(claim_event("ri-c3", "RI-3", "CLM-RI-3", "2026-06-20", "PA-RI-3"), "claim2")
    add(claim_event("ri-c3-repl", "RI-3", "CLM-RI-3", "2026-06-21", "PA-RI-3",
                    frequency_code="REPLACEMENT", original_claim_id="CLM-RI-3"), "claim3")
    add(claim_event("ri-c3b", "RI-3", "CLM-RI-3B", "2026-06-22", "PA-RI-3",
                    frequency_code="ORIGINAL", original_claim_id=None), "claim3")
    # RI-4: CORRECTED is not ours: the reader's default, ORIGINAL.
    add(pa_event("ri-pa4", "RI-4", "PA-RI-4"), "pa_x")
    corrected = claim_event("ri-c4", "RI-4", "CLM-RI-4", "2026-06-20", "PA-RI-4",
                            frequency_code="CORRECTED", original_claim_id=None)
    add(corrected, "claim_x", dict(corrected, frequency_code="ORIGINAL"))
    # RI-5: the extra-symbol prior auth writer with a symbol we have, then one we lack.
    add(pa_event("ri-pa5", "RI-5", "PA-RI-5", disease_status="UNRESECTABLE"), "pa_x")
    add(pa_event("ri-pa6", "RI-6", "PA-RI-6", disease_status="BORDERLINE"), "pa_x", None)
    return out


BAD = {  # member_id (message key) of a bad message -> (dead-letter reason, text its error has)
    "RI-6": ("incompatible_schema", "disease_status"),
    "RI-7": ("unknown_schema", None),
    "RI-8": ("incompatible_schema", "units"),
    "RI-9": ("unknown_schema", None),
    "RI-10": ("unknown_schema", None),
}


def bad_messages(env, reg, writers):
    """(key, value) of the bad writers' messages that hand_written() does not make."""
    c8 = claim_event("ri-c8", "RI-8", "CLM-RI-8", "2026-06-20", None)
    rec8 = record_for(c8, "claim2")
    rec8.pop("units")
    sid, schema = writers["no_units"]
    msgs = [(b"RI-8", frame(schema, sid, rec8))]
    sid, schema = writers["other"]
    msgs.append((b"RI-7", frame(schema, sid, {"event_id": "ri-o7", "member_id": "RI-7"})))
    unknown = max(s for s, _ in writers.values()) + 7919
    st, out = reg.schema_by_id(unknown)
    check_eq(st, 404, "GET /schemas/ids/%d (an id the registry must not have): %r" % (
        unknown, out))
    sid, schema = writers["claim2"]
    body = frame(schema, sid, record_for(claim_event("ri-c9", "RI-9", "CLM-RI-9", "2026-06-20",
                                                     None), "claim2"))
    msgs.append((b"RI-9", b"\x00" + unknown.to_bytes(4, "big") + body[5:]))
    # An id holding a JSON Schema, not Avro (the body: the Avro of a valid claim).
    json_id = reg.ok("POST", "/subjects/%s/versions" % Registry.q(env.unique("regtests-json")), {
        "schemaType": "JSON", "schema": json.dumps({"type": "object"})})["id"]
    msgs.append((b"RI-10", b"\x00" + json_id.to_bytes(4, "big") + body[5:]))
    return msgs


# ====================================================================== the tests


def registry_config(case, **kv):
    db = case.database()
    cfg = case.config(db, schema__registry__url=case.env.registry_url, **kv)
    case.migrate(cfg)
    return db, cfg


def test_evolved_writers(env):
    reg = Registry(env.registry_url)
    case = Case(env, "evolved")
    db, cfg = registry_config(case)
    writers = register_writers(env, reg, probe=True)
    rng = random.Random(1313)

    plan = [(ev, rng.choice(sorted(versions_for(ev))), ev)
            for _, ev, _ in env.evaluate(env.generate(600, 1313)).lines]
    # The hand-written events interleaved at random places, in their order (per member too).
    hand = hand_written()
    at = set(rng.sample(range(len(plan) + len(hand)), len(hand)))
    gen, hand_it = iter(plan), iter(hand)
    plan = [next(hand_it) if i in at else next(gen) for i in range(len(plan) + len(hand))]

    judged = [j for _, _, j in plan if j is not None]
    expected = env.evaluate([json.dumps(j) for j in judged])
    check_eq(expected.rejected, 0, "lines evaluate rejects")
    msgs = []
    for ev, v, _ in plan:
        sid, schema = writers[v]
        msgs.append((ev["member_id"].encode(), frame(schema, sid, record_for(ev, v))))
    for m in bad_messages(env, reg, writers):
        msgs.insert(rng.randrange(len(msgs) + 1), m)
    used = {v for _, v, _ in plan}
    check_eq(used, {"pa1", "pa3", "pa_x", "claim1", "claim2", "claim3", "claim_x"},
             "writer versions in the stream")
    v3_freq = {ev.get("frequency_code") for ev, v, _ in plan if v == "claim3"}
    check({"VOID", "REPLACEMENT", "ORIGINAL"} <= v3_freq, "claim v3 frequencies %s" % v3_freq)
    wc.produce_python(env, case.events_topic, msgs)

    w = case.worker(cfg, "w")
    w.expect_exit(0, timeout=240)

    # Rows: every judged event as evaluate says, the frequency columns included.
    compare_rows(case.rows(db), expected)
    got = {r["event_id"]: r for r in env.query(
        db, "select event_id, frequency_code, reversed_event_id from determinations")}
    diffs = ["%s: db=(%r, %r) evaluate=(%r, %r)" % (
        e, got[e]["frequency_code"], got[e]["reversed_event_id"], d["frequency_code"],
        d["reversed_event_id"]) for e, d in expected.by_event.items()
        if (got[e]["frequency_code"], got[e]["reversed_event_id"]) !=
        (d["frequency_code"], d["reversed_event_id"])]
    check(not diffs, "%d frequency columns differ: %s" % (len(diffs), first_diffs(diffs)))

    # Dead letters: exactly the bad writers' messages, for the reasons the spec gives.
    dead = env.query(db, "select convert_from(message_key, 'UTF8') as key, reason, error "
                         "from dead_letters")
    by_key = {d["key"]: d for d in dead}
    check_eq(len(by_key), len(dead), "dead letters per key")
    check_eq(sorted(by_key), sorted(BAD), "dead-lettered message keys (%s)" % dead)
    for key, (reason, field) in BAD.items():
        d = by_key[key]
        check_eq(d["reason"], reason, "dead letter %s reason (error %r)" % (key, d["error"]))
        if field:
            check(field in d["error"], "dead letter %s: error %r does not name %s" % (
                key, d["error"], field))
        say("dead letter %s: %s: %s" % (key, d["reason"], d["error"]))

    # By symbol, whatever evaluate says.
    det = expected.by_event
    for eid, want in (("ri-c1-void", ("VOID", "ri-c1", "APPROVED")),
                      ("ri-c3-repl", ("REPLACEMENT", "ri-c3", None)),
                      ("ri-c3b", ("ORIGINAL", None, None)),
                      ("ri-c4", ("ORIGINAL", None, None))):
        row = got[eid]
        check_eq((row["frequency_code"], row["reversed_event_id"]), want[:2], eid)
        if want[2]:
            check_eq(det[eid]["outcome"], want[2], eid + " outcome")
    pa2 = env.query(db, "select outcome, reason_codes from determinations where event_id = "
                        "'ri-pa2'")
    check(len(pa2) == 1 and pa2[0]["outcome"] == "DENIED" and
          "DISEASE_RESECTABLE" in pa2[0]["reason_codes"],
          "ri-pa2 (RESECTABLE, index 3 of prior auth v3): %r" % pa2)

    # Outcomes: the determination subject's id, read with the schema fetched by that id.
    det_id = reg.latest(DET_NAME)["id"]
    st, ans = reg.schema_by_id(det_id)
    check_eq(st, 200, "GET /schemas/ids/%d" % det_id)
    check_eq(full_name(ans["schema"]), DET_NAME, "record of the determination id")
    det_schema = avro.schema.parse(ans["schema"])
    logged = [r.get("schema_id") for r in w.records("determination schema registered")]
    check_eq(logged, [det_id], "worker's 'determination schema registered' schema_id")
    outs = env.dump(cfg, case.outcomes_topic)
    diffs, seen = [], set()
    for m in outs:
        d, _ = env.decode_outcome(m["value_bytes"], schema_id=det_id, schema=det_schema)
        want = det[d["event_id"]]
        diffs += ["%s.%s: topic=%r evaluate=%r" % (d["event_id"], f, d[f], want[f])
                  for f in DET_FIELDS if d[f] != want[f]]
        seen.add(d["event_id"])
    check(not diffs, "%d outcome fields differ: %s" % (len(diffs), first_diffs(diffs)))
    check_eq(sorted(seen), sorted(det), "event_ids on the outcomes topic")
    check_eq(len(outs), expected.n_valid, "outcome messages")
    say("evolved: %d messages (%d writer versions), %d rows equal evaluate, %d dead letters as "
        "expected, %d outcomes read with registry id %d" % (
            len(msgs), len(used), len(det), len(dead), len(outs), det_id))


def check_produced(env, reg, cfg, topic, lines, subject_of):
    """The messages `produce` wrote: ids registered under their record's subject, the schema of
    each id a record of the event's kind, every message readable with it."""
    err = env.produce(cfg, lines)
    check("produce: %d sent to %s, 0 failed" % (len(lines), topic) in err, "produce: %r" % err)
    msgs = env.dump(cfg, topic)
    check_eq(len(msgs), len(lines), "messages produced")
    want = {json.loads(l)["event_id"]: json.loads(l)["kind"] for l in lines}
    names = {"prior_auth": PA_NAME, "claim": CLAIM_NAME}
    ids = {}
    for m in msgs:
        v = m["value_bytes"]
        check_eq(v[0], 0, "magic byte")
        sid = int.from_bytes(v[1:5], "big")
        if sid not in ids:
            st, ans = reg.schema_by_id(sid)
            check_eq(st, 200, "GET /schemas/ids/%d (an id produce wrote)" % sid)
            ids[sid] = (full_name(ans["schema"]), avro.schema.parse(ans["schema"]))
        name, schema = ids[sid]
        buf = io.BytesIO(v[5:])
        rec = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(buf))
        check_eq(buf.read(), b"", "bytes after the record")
        check_eq(name, names[want[rec["event_id"]]], "record name of id %d (%s)" % (
            sid, rec["event_id"]))
    for sid, (name, _) in ids.items():
        subject = subject_of(name)
        versions = reg.ok("GET", "/subjects/%s/versions" % Registry.q(subject))
        under = {reg.ok("GET", "/subjects/%s/versions/%s" % (Registry.q(subject), n))["id"]
                 for n in versions}
        check(sid in under, "id %d is not registered under subject %s (%s)" % (
            sid, subject, sorted(under)))
    check_eq(len(ids), 2, "schema ids written (prior auth, claim)")
    return sorted(ids)


def test_produce_with_registry(env):
    reg = Registry(env.registry_url)
    lines = [json.dumps(e) for e in (
        pa_event("pr-pa", "PR-1", "PA-PR-1"),
        claim_event("pr-c", "PR-1", "CLM-PR-1", "2026-06-20", "PA-PR-1"),
        claim_event("pr-void", "PR-1", "CLM-PR-1-V", "2026-06-21", None, frequency_code="VOID",
                    original_claim_id="CLM-PR-1"))]
    case = Case(env, "produce-tr")
    _, cfg = registry_config(case, schema__registry__subject__name__strategy="topic_record")
    got_tr = check_produced(env, reg, cfg, case.events_topic, lines,
                            lambda name: "%s-%s" % (case.events_topic, name))
    case = Case(env, "produce-rec")
    _, cfg = registry_config(case)
    got_rec = check_produced(env, reg, cfg, case.events_topic, lines, lambda name: name)
    say("produce: ids %s (topic_record), %s (record)" % (got_tr, got_rec))


TESTS = [("evolved_writers_one_topic", test_evolved_writers),
         ("produce_with_registry", test_produce_with_registry)]



if __name__ == "__main__":
    sys.exit(suite_main(TESTS, "registry interop", setup=lambda a: wc.import_kafka(a.src),
                        needs_registry=True))
