#!/usr/bin/python3
"""Integration tests of the worker (`amtagvi-adjudicator run`) against a real Kafka broker and
PostgreSQL: tests/scripts/worker_integration.sh starts the stack and runs this file.

Every case builds its own topics, database and consumer group, produces events, runs one or
more workers with deadlines, and compares what landed in PostgreSQL and on the outcomes /
dead-letter topics with `evaluate`'s output for the same events.

Usage: test_worker.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                      --workdir W --pidfile F [--jobs N] [-k NAME]...
"""
import collections
import json
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (DET_FIELDS, Case, Env, TestFailure, avro_record,  # noqa: E402
                     check, check_eq, claim_event, compare_rows, dedup_valid, end_offsets,
                     first_diffs, group_of, pa_event, produce_all, run_suite, runner_args,
                     wait_all_share, wait_until, zigzag)

# ---------------------------------------------------------------------- shared checks


def event_index(env, cfg, topic):
    """Every message of the events topic: {(partition, offset): event_id or None} and the end
    offset of each partition."""
    msgs = env.dump(cfg, topic)
    index = {(m["partition"], m["offset"]): env.event_id_of(m["value_bytes"]) for m in msgs}
    return index, end_offsets(msgs), msgs


def check_row_sources(case, rows_by_id, index):
    """Each row's source coordinates are the first message of its event_id in the topic."""
    first = {}
    for (p, o), eid in sorted(index.items()):
        if eid is not None and eid not in first:
            first[eid] = (p, o)
    bad = []
    for eid, r in rows_by_id.items():
        if r["source_topic"] != case.events_topic:
            bad.append("%s source_topic %s" % (eid, r["source_topic"]))
        elif first.get(eid) != (r["source_partition"], r["source_offset"]):
            bad.append("%s stored at %s/%s, first message is %s" % (
                eid, r["source_partition"], r["source_offset"], first.get(eid)))
    check(not bad, "rows whose source is not their first message: %s" % first_diffs(bad))


def check_outcomes(case, cfg, expected, rows_by_id, index, count=None):
    """Decodes the whole outcomes topic. Every message equals evaluate on every §8 field, is
    keyed by member_id, carries the determination_id header, names as its source a message of
    the same event_id; every row's determination is there with the row's own coordinates.
    count(event_id) -> exact number of messages expected (None: at least one)."""
    env = case.env
    msgs = env.dump(cfg, case.outcomes_topic)
    per = collections.defaultdict(list)
    contents = collections.defaultdict(set)
    diffs = []
    for m in msgs:
        try:
            det, src = env.decode_outcome(m["value_bytes"])
        except TestFailure as e:
            diffs.append("p%s/o%s: %s" % (m["partition"], m["offset"], e))
            continue
        eid = det["event_id"]
        want = expected.by_event.get(eid)
        if want is None:
            diffs.append("outcome for unexpected event %s" % eid)
            continue
        for f in DET_FIELDS:
            if det[f] != want[f]:
                diffs.append("%s.%s: topic=%r evaluate=%r" % (eid, f, det[f], want[f]))
        if m["key_bytes"] != det["member_id"].encode():
            diffs.append("%s: key %r is not member_id %s" % (eid, m["key_bytes"], det["member_id"]))
        if m["hdr"].get("determination_id") != det["determination_id"]:
            diffs.append("%s: header determination_id %r, body %s" % (
                eid, m["hdr"].get("determination_id"), det["determination_id"]))
        if src["topic"] != case.events_topic:
            diffs.append("%s: topic %r" % (eid, src["topic"]))
        if index.get((src["partition"], src["offset"])) != eid:
            diffs.append("%s: source %s/%s holds %r" % (
                eid, src["partition"], src["offset"], index.get((src["partition"], src["offset"]))))
        per[eid].append((src["partition"], src["offset"]))
        contents[eid].add(json.dumps(det, sort_keys=True))
    check(not diffs, "%d outcome message problems: %s" % (len(diffs), first_diffs(diffs)))
    missing, wrong = [], []
    for eid, r in rows_by_id.items():
        coords = per.get(eid)
        if not coords:
            missing.append(eid)
            continue
        if (r["source_partition"], r["source_offset"]) not in coords:
            wrong.append("%s: no message with the row's source %s/%s (has %s)" % (
                eid, r["source_partition"], r["source_offset"], coords))
        if count is not None and len(coords) != count(eid):
            wrong.append("%s: %d messages, expected %d" % (eid, len(coords), count(eid)))
        if len(contents[eid]) != 1:
            wrong.append("%s: %d different contents" % (eid, len(contents[eid])))
    check(not missing, "%d determinations missing on the outcomes topic: %s" % (
        len(missing), first_diffs(missing)))
    check(not wrong, "outcomes topic: %s" % first_diffs(wrong))
    return per, msgs


def check_offsets(case, db, cfg, ends, partitions=4):
    offs = case.offsets(db, group_of(cfg))
    bad = []
    for p in range(partitions):
        end = ends.get(p, 0)
        o = offs.get(p)
        if o is None:
            if end:
                bad.append("p%d: no consumer_offsets row (end %d)" % (p, end))
            continue
        if o["next_offset"] != end or o["published_offset"] != end:
            bad.append("p%d: next_offset %d published_offset %d, topic end %d" % (
                p, o["next_offset"], o["published_offset"], end))
    check(not bad, "consumer_offsets: %s" % "; ".join(bad))


def check_no_dead_letters(env, db):
    check_eq(env.scalar(db, "select count(*) from dead_letters"), "0", "dead_letters rows")


def full_check(case, db, cfg, expected, count=None):
    """Rows == evaluate, sources, outcomes topic, offsets at the end of every partition."""
    env = case.env
    rows_by_id = compare_rows(case.rows(db), expected)
    index, ends, _ = event_index(env, cfg, case.events_topic)
    check_row_sources(case, rows_by_id, index)
    per, _ = check_outcomes(case, cfg, expected, rows_by_id, index, count)
    check_offsets(case, db, cfg, ends)
    return rows_by_id, index, ends, per


# ---------------------------------------------------------------------- the tests


def test_end_to_end(env):
    """3000 generated events, one worker: rows, outcomes topic and offsets equal evaluate."""
    case = Case(env, "e2e")
    lines = env.generate(3000, 11)
    expected = env.evaluate(lines)
    check(expected.rejected > 0 and len(expected.by_event) < expected.n_valid,
          "the generated stream should hold rejected lines and replays")
    db, cfg = case.new_db_config()
    produce_all(case, cfg, lines, expected.n_valid)
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=120)
    st = w.stopped()
    check_eq((st["judged"], st["replayed"], st["dead_letters"]),
             (len(expected.by_event), expected.n_valid - len(expected.by_event), 0),
             "worker stopped judged/replayed/dead_letters")
    check_no_dead_letters(env, db)
    for m in env.dump(cfg, case.events_topic):  # the fast event_id reader vs Apache Avro
        kind, rec = env.decode_event(m["value_bytes"])
        check_eq(env.event_id_of(m["value_bytes"]), rec["event_id"], "event_id reader")
    # a clean run publishes each consumed message once: one outcome per valid line
    full_check(case, db, cfg, expected, count=lambda eid: expected.occurrences[eid])
    check(not w.bad_lines(), "log lines that are not JSON: %s" % first_diffs(w.bad_lines(), 2))


def test_batch_boundaries(env):
    """A PA and its claim in one batch vs one message per batch: identical determinations."""
    case = Case(env, "batching")
    evs = [
        pa_event("t2-01", "M-T2-A", "PA-A", "2026-06-01T10:00:00Z"),
        pa_event("t2-02", "M-T2-B", "PA-B", "2026-06-02T10:00:00Z", lymphodepletion="UNKNOWN"),
        claim_event("t2-03", "M-T2-A", "CLM-A1", "2026-07-01", "PA-A"),
        claim_event("t2-04", "M-T2-B", "CLM-B1", "2026-07-02", "PA-B"),
        claim_event("t2-05", "M-T2-A", "CLM-A2", "2026-08-10", "PA-A"),
        pa_event("t2-06", "M-T2-B", "PA-B", "2026-06-20T10:00:00Z"),
        claim_event("t2-07", "M-T2-B", "CLM-B1", "2026-07-02", "PA-B"),
        claim_event("t2-03", "M-T2-A", "CLM-A1", "2026-07-01", "PA-A"),  # replay
        claim_event("t2-08", "M-T2-A", "CLM-A1", "2026-07-01", "PA-A"),  # same line again
        pa_event("t2-09", "M-T2-A", "PA-A2", "2026-09-01T10:00:00Z"),  # after a paid dose
        claim_event("t2-10", "M-T2-C", "CLM-C1", "2026-07-01", None),  # no PA at all
    ]
    lines = [json.dumps(e) for e in evs]
    expected = env.evaluate(lines)
    want = {  # event_id -> (outcome, reason codes, matched_pa_id)
        "t2-01": ("APPROVED", [], None),
        "t2-02": ("PENDED", ["LYMPHODEPLETION_UNKNOWN"], None),
        "t2-03": ("APPROVED", [], "PA-A"),
        "t2-04": ("PENDED", ["AUTH_PENDING"], None),
        "t2-05": ("DENIED", ["PRIOR_DOSE_PAID"], "PA-A"),  # AUTHORIZATION is MET
        "t2-06": ("APPROVED", [], None),
        "t2-07": ("APPROVED", [], "PA-B"),
        "t2-08": ("DENIED", ["DUPLICATE_CLAIM_LINE"], None),
        "t2-09": ("DENIED", ["PRIOR_AMTAGVI"], None),
        "t2-10": ("DENIED", ["AUTH_MISSING"], None),
    }
    db_big, cfg_big = case.new_db_config(batch__max__messages=1000, batch__max__ms=2000)
    db_one, cfg_one = case.new_db_config(batch__max__messages=1)
    produce_all(case, cfg_big, lines, expected.n_valid)
    workers = [case.worker(cfg_big, "batch1000"), case.worker(cfg_one, "batch1")]
    for w in workers:
        w.expect_exit(0, timeout=90)
    check_eq(workers[0].stopped()["batches"], 1, "batches of the batch.max.messages=1000 run")
    check_eq(workers[1].stopped()["batches"], len(evs), "batches of the batch.max.messages=1 run")
    results = []
    for db, cfg in ((db_big, cfg_big), (db_one, cfg_one)):
        rows = compare_rows(case.rows(db), expected)
        got = {eid: (r["outcome"], r["reason_codes"], r["matched_pa_id"])
               for eid, r in rows.items()}
        check_eq(got, want, "determinations (%s)" % os.path.basename(cfg))
        results.append(rows)
    big, one = results
    # same batch: one decided_at; one message per batch: PA and claim of M-T2-A apart
    check_eq(big["t2-01"]["decided_at"], big["t2-03"]["decided_at"],
             "decided_at of the PA and its claim in one batch")
    check(one["t2-01"]["decided_at"] != one["t2-03"]["decided_at"],
          "batch.max.messages=1 judged the PA and its claim in one batch")
    skip = {"decided_at"}
    strip = {eid: {k: v for k, v in r.items() if k not in skip} for eid, r in big.items()}
    check_eq({eid: {k: v for k, v in r.items() if k not in skip} for eid, r in one.items()},
             strip, "rows of the two runs")
    index, ends, _ = event_index(env, cfg_big, case.events_topic)
    check_row_sources(case, big, index)
    check_offsets(case, db_big, cfg_big, ends)
    check_offsets(case, db_one, cfg_one, ends)
    # both runs published to the one outcomes topic: each valid line twice
    check_outcomes(case, cfg_big, expected, big, index,
                   count=lambda eid: 2 * expected.occurrences[eid])


def test_redelivery(env):
    """The same events again: no new rows, all replayed, the same determinations republished."""
    case = Case(env, "redelivery")
    lines = env.generate(1500, 23)
    expected = env.evaluate(lines)
    db, cfg = case.new_db_config()
    produce_all(case, cfg, lines, expected.n_valid)
    w1 = case.worker(cfg, "run1")
    w1.expect_exit(0, timeout=90)
    before = case.rows(db)
    check_eq(len(before), len(expected.by_event), "rows after the first run")
    produce_all(case, cfg, lines, expected.n_valid)
    w2 = case.worker(cfg, "run2")
    w2.expect_exit(0, timeout=90)
    st = w2.stopped()
    check_eq((st["judged"], st["replayed"], st["dead_letters"]), (0, expected.n_valid, 0),
             "second run judged/replayed/dead_letters")
    after = case.rows(db)
    check_eq(len(after), len(before), "rows after the second run")
    check(after == before, "rows changed by the redelivery")
    check_no_dead_letters(env, db)
    full_check(case, db, cfg, expected, count=lambda eid: 2 * expected.occurrences[eid])


def test_two_workers(env):
    """Two workers of one group split the partitions; one row per event, offsets at the end.
    Half the events are there before the workers start; the other half comes once both hold a
    share, so both judge some and partitions change hands with history in the database."""
    case = Case(env, "twoworkers")
    lines = env.generate(6000, 37)
    expected = env.evaluate(lines)
    valid = expected.valid_lines()
    half = len(valid) // 2
    db, cfg = case.new_db_config(exit__when__idle__ms=8000)
    err = env.produce(cfg, valid[:half])
    check("produce: %d sent" % half in err, "produce: " + err)
    wa = case.worker(cfg, "worker-a", {"AMTAGVI_WORKER_ID": "twoworkers-a"})
    wb = case.worker(cfg, "worker-b", {"AMTAGVI_WORKER_ID": "twoworkers-b"})

    wait_all_share((wa, wb), 4, 60, "both workers to hold a share of the partitions")
    err = env.produce(cfg, valid[half:])
    check("produce: %d sent" % (len(valid) - half) in err, "produce: " + err)
    wa.expect_exit(0, timeout=120)
    wb.expect_exit(0, timeout=120)
    ja, jb = wa.stopped()["judged"], wb.stopped()["judged"]
    check(ja > 0 and jb > 0, "one worker judged nothing: a=%d b=%d" % (ja, jb))
    check_eq(ja + jb, len(expected.by_event), "judged by both workers together")
    full_check(case, db, cfg, expected)
    print("    two workers: judged a=%d b=%d; assigned counts a=%s b=%s" % (
        ja, jb, wa.assignments(), wb.assignments()))


def rows_count(env, db):
    return int(env.scalar(db, "select count(*) from determinations"))


def test_kill9_restart(env):
    """kill -9 twice in the middle of 20000 events; the third worker finishes: exactly once."""
    t = [time.monotonic()]
    case = Case(env, "kill9")
    lines = env.generate(20000, 41)
    expected = env.evaluate(lines)
    total = len(expected.by_event)
    db, cfg = case.new_db_config(batch__max__messages=200, log__level="debug",
                                 kafka__session__timeout__ms=6000,
                                 kafka__heartbeat__interval__ms=1000)
    produce_all(case, cfg, lines, expected.n_valid)
    t.append(time.monotonic())
    seen = []
    for i, after in enumerate((5, 5)):
        w = case.worker(cfg, "killed%d" % (i + 1))
        w.wait_log("batch committed", after, timeout=90)
        rc = w.kill9()
        check_eq(rc, -signal.SIGKILL, "exit status of the killed worker")
        n = rows_count(env, db)
        seen.append(n)
        check(0 < n < total, "kill %d: %d of %d rows: not killed mid-stream" % (i + 1, n, total))
        t.append(time.monotonic())
    check(seen[1] > seen[0], "the second worker made no progress: rows %s" % seen)
    w = case.worker(cfg, "final")
    w.expect_exit(0, timeout=120)
    t.append(time.monotonic())
    republished = sum(len(x.records("republishing committed range")) for x in case.workers)
    full_check(case, db, cfg, expected)
    t.append(time.monotonic())
    print("    kill -9: rows after the kills %s of %d; %d republished ranges; phases %s s" % (
        seen, total, republished, " ".join("%.1f" % (b - a) for a, b in zip(t, t[1:]))))


def test_crash_between_commit_and_publish(env):
    """Exit right after the 2nd commit: the gap is visible, then republished by the next worker."""
    case = Case(env, "commitgap")
    lines = env.generate(3000, 43)
    expected = env.evaluate(lines)
    db, cfg = case.new_db_config(batch__max__messages=100, kafka__session__timeout__ms=6000,
                                 kafka__heartbeat__interval__ms=1000)
    produce_all(case, cfg, lines, expected.n_valid)
    w = case.worker(cfg, "faulty", {"AMTAGVI_FAULT_EXIT_AFTER_COMMIT": "2"})
    w.expect_exit(137, timeout=90)
    check(w.count("fault injection: exiting after commit, before publish") == 1,
          "no fault injection log line: " + w.tail())
    offs = case.offsets(db, group_of(cfg))
    gaps = {p: (o["published_offset"], o["next_offset"]) for p, o in offs.items()
            if o["published_offset"] < o["next_offset"]}
    check(gaps, "no partition with published_offset < next_offset: %s" % offs)
    rows = {r["event_id"]: r for r in case.rows(db)}
    check(0 < len(rows) < len(expected.by_event), "%d rows after the crash" % len(rows))
    index, _, _ = event_index(env, cfg, case.events_topic)
    on_topic = set()
    for m in env.dump(cfg, case.outcomes_topic):
        on_topic.add(env.decode_outcome(m["value_bytes"])[0]["determination_id"])
    committed = {r["determination_id"] for r in rows.values()}
    missing = committed - on_topic
    check(missing, "every committed determination is already on the topic")
    in_gap = {r["determination_id"] for r in rows.values()
              if r["source_partition"] in gaps
              and gaps[r["source_partition"]][0] <= r["source_offset"]
              < gaps[r["source_partition"]][1]}
    check(missing <= in_gap, "%d unpublished determinations outside the published gap" % len(
        missing - in_gap))
    check(committed - in_gap <= on_topic, "rows before the gap are not all on the topic")
    print("    commit gap: %s; %d of %d committed determinations unpublished" % (
        gaps, len(missing), len(committed)))
    w2 = case.worker(cfg, "restart")
    w2.expect_exit(0, timeout=120)
    rep = w2.records("republishing committed range")
    got = sorted((r["partition"], r["from"], r["to"]) for r in rep)
    check_eq(got, sorted((p, a, b) for p, (a, b) in gaps.items()), "republished ranges")
    full_check(case, db, cfg, expected)


def test_poison_messages(env):
    """Undecodable / invalid messages go to dead_letters and the dead-letter topic; the valid
    events around them are judged."""
    case = Case(env, "poison")
    lines = env.generate(400, 47)
    py_ev = claim_event("t7-py-1", "M-T7-PY", "CLM-PY", "2026-07-01", None)
    lines.append(json.dumps(py_ev))  # judged by evaluate; produced as Python-encoded Avro
    expected = env.evaluate(lines)
    db, cfg = case.new_db_config()
    valid = expected.valid_lines()[:-1]
    err = env.produce(cfg, valid)
    check("produce: %d sent" % len(valid) in err, "produce: " + err)
    base_msgs = env.dump(cfg, case.events_topic)
    base = next(m for m in base_msgs if m["value_bytes"][1:5] == b"\x00\x00\x00\x04")
    bv = base["value_bytes"]
    long_ev = avro_record(claim_event("t7-long-" + "x" * 200, "M-T7-LONG", "CLM-L",
                                            "2026-07-01", None))
    poisons = [  # (reason, key, value)
        ("bad_magic", b"poison-01", b"\x01" + bv[1:]),
        ("unknown_schema", b"poison-02", b"\x00" + (99).to_bytes(4, "big") + bv[5:]),
        ("malformed", b"poison-03", bv[:len(bv) // 2]),
        ("trailing_bytes", b"poison-04", bv + b"\x00"),
        ("empty", b"poison-05", b""),
        ("empty", b"poison-06", None),  # tombstone
        ("invalid", None, bv),  # no key
        ("invalid", b"MEM-NOT-THE-MEMBER", bv),  # key is not the member_id
        # event_id length varint zigzag(1_000_000_000) with two bytes of body behind it
        ("malformed", b"poison-09", b"\x00\x00\x00\x00\x02" + zigzag(10**9) + b"ev"),
        ("bad_magic", b"poison-10", b"\x00\x00\x01"),  # shorter than the header
        ("invalid", b"M-T7-LONG", env.encode_event("claim", long_ev)),  # event_id > 128 bytes
    ]
    raw = []
    for _, key, value in poisons:
        raw.append("%s\t%s" % ("-" if key is None else key.decode(),
                               "-" if value is None else value.hex()))
    raw.insert(5, "%s\t%s" % ("M-T7-PY", env.encode_event("claim", avro_record(py_ev)).hex()))
    err = env.produce(cfg, raw, raw=True)
    check("produce: %d sent" % len(raw) in err, "produce --raw: " + err)
    index, ends, msgs = event_index(env, cfg, case.events_topic)
    # where each poison landed: every poison has a key of its own (or is the one without)
    coords = {}
    for i, (reason, key, value) in enumerate(poisons):
        hits = [m for m in msgs if m["key_bytes"] == key]
        check(len(hits) == 1, "poison %d (%s) found %d times on the events topic" % (
            i, reason, len(hits)))
        if value is None:
            check(hits[0]["value_bytes"] is None, "the tombstone arrived with a value")
        elif value:
            check_eq(hits[0]["value_bytes"], value, "value of poison %d on the topic" % i)
        coords[(hits[0]["partition"], hits[0]["offset"])] = (i, reason, key, value)
    for c in coords:  # the keyless / wrong-key poisons carry a real event: not its source
        index[c] = None
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=90)
    st = w.stopped()
    check_eq(st["dead_letters"], len(poisons), "dead_letters in the worker's log")
    dl = env.query(db, "select source_topic, source_partition, source_offset, reason, error, "
                       "encode(message_key, 'hex') as key, encode(payload, 'hex') as payload "
                       "from dead_letters")
    got = {(r["source_partition"], r["source_offset"]): r for r in dl}
    check_eq(sorted(got), sorted(coords), "dead_letters coordinates")
    bad = []
    for c, (i, reason, key, value) in coords.items():
        r = got[c]
        if r["reason"] != reason:
            bad.append("poison %d: reason %r, expected %r (error %r)" % (i, r["reason"], reason,
                                                                         r["error"]))
        if not r["error"]:
            bad.append("poison %d: empty error" % i)
        if r["source_topic"] != case.events_topic:
            bad.append("poison %d: source_topic %r" % (i, r["source_topic"]))
        if (r["key"] or None) != (key.hex() if key else None):
            bad.append("poison %d: message_key %r" % (i, r["key"]))
        if value and r["payload"] != value.hex():
            bad.append("poison %d: payload differs" % i)
    check(not bad, "dead_letters: %s" % "; ".join(bad))
    dmsgs = env.dump(cfg, case.dl_topic)
    check_eq(len(dmsgs), len(poisons), "messages on the dead-letter topic")
    bad = []
    seen = set()
    for m in dmsgs:
        # Kafka Connect's dead-letter context headers, under the names this test uses
        h = {k: m["hdr"].get("__connect.errors." + n) for k, n in (
            ("reason", "exception.class.name"), ("error", "exception.message"),
            ("source_topic", "topic"), ("source_partition", "partition"),
            ("source_offset", "offset"))}
        h = {k: v for k, v in h.items() if v is not None}
        missing = {"reason", "error", "source_topic", "source_partition",
                   "source_offset"} - set(h)
        if missing:
            bad.append("headers missing %s" % sorted(missing))
            continue
        c = (int(h["source_partition"]), int(h["source_offset"]))
        seen.add(c)
        if c not in coords:
            bad.append("dead letter for %s which is no poison" % (c,))
            continue
        i, reason, key, value = coords[c]
        if h["reason"] != reason or not h["error"] or h["source_topic"] != case.events_topic:
            bad.append("poison %d headers %s" % (i, h))
        if h["error"] != got[c]["error"]:
            bad.append("poison %d: header error %r, row error %r" % (i, h["error"], got[c]["error"]))
        if m["key_bytes"] != key:
            bad.append("poison %d: key %r" % (i, m["key_bytes"]))
        if value and m["value_bytes"] != value:
            bad.append("poison %d: value differs" % i)
    check(not bad, "dead-letter topic: %s" % first_diffs(bad))
    check_eq(seen, set(coords), "dead-letter topic coverage")
    rows_by_id = compare_rows(case.rows(db), expected)
    check_eq(rows_by_id["t7-py-1"]["outcome"], "DENIED", "outcome of the Python-encoded claim")
    check_row_sources(case, rows_by_id, index)
    check_outcomes(case, cfg, expected, rows_by_id, index,
                   count=lambda eid: expected.occurrences[eid])
    check_offsets(case, db, cfg, ends)
    print("    poison: reasons %s" % sorted(collections.Counter(r["reason"] for r in dl).items()))


def test_sigterm(env):
    """SIGTERM mid-stream: exit 0 after the batch in hand, offsets exact; restart finishes."""
    case = Case(env, "sigterm")
    full = env.evaluate(env.generate(20000, 53))
    lines = dedup_valid(full)  # no replays: every message makes one row
    expected = env.evaluate(lines)
    check_eq(expected.n_valid, len(expected.by_event), "distinct events of the deduplicated file")
    db, cfg = case.new_db_config(batch__max__messages=200, log__level="debug")
    produce_all(case, cfg, lines, expected.n_valid)
    w = case.worker(cfg, "terminated")
    w.wait_log("batch committed", 5, timeout=90)
    w.signal(signal.SIGTERM)
    w.expect_exit(0, timeout=60)
    st = w.stopped()
    rows = case.rows(db)
    check(0 < len(rows) < len(lines), "%d of %d rows: SIGTERM was not mid-stream" % (
        len(rows), len(lines)))
    check_eq(len(rows), st["judged"], "rows vs judged in the log")
    offs = case.offsets(db, group_of(cfg))
    last = collections.defaultdict(lambda: -1)
    count = collections.Counter()
    for r in rows:
        last[r["source_partition"]] = max(last[r["source_partition"]], r["source_offset"])
        count[r["source_partition"]] += 1
    for r in env.query(db, "select source_partition, max(source_offset) as m from dead_letters "
                           "group by 1"):
        last[r["source_partition"]] = max(last[r["source_partition"]], r["m"])
    bad = []
    for p, o in offs.items():
        if o["next_offset"] != last[p] + 1:
            bad.append("p%d next_offset %d, last stored offset %d" % (p, o["next_offset"], last[p]))
        if count[p] != o["next_offset"]:
            bad.append("p%d: %d rows below next_offset %d" % (p, count[p], o["next_offset"]))
        if o["published_offset"] != o["next_offset"]:
            bad.append("p%d published_offset %d next_offset %d" % (
                p, o["published_offset"], o["next_offset"]))
    check(not bad, "after SIGTERM: %s" % "; ".join(bad))
    first_part = len(rows)
    w2 = case.worker(cfg, "restart")
    w2.expect_exit(0, timeout=120)
    check_eq(w2.stopped()["replayed"], 0, "events replayed by the restart")
    print("    sigterm: %d of %d rows before the restart" % (first_part, len(lines)))
    full_check(case, db, cfg, expected, count=lambda eid: 1)


def test_print_config_masks_url_password(env):
    """--print-config never shows the password of a URL (file or environment)."""
    case = Case(env, "printconfig", topics=False)
    path = os.path.join(case.dir, "secret.conf")
    with open(path, "w") as f:
        f.write("database.url = postgresql://u:secret@h/db\n")
    out = env.run([env.binary, "run", "--print-config", "--config", path]).stdout.decode()
    check("database.url = " in out, "no database.url line: %r" % out)
    check("secret" not in out, "password shown: %r" % [l for l in out.splitlines()
                                                      if "secret" in l])
    check("postgresql://u:****@h/db" in out, "URL not shown masked: %r" % [
        l for l in out.splitlines() if l.startswith("database.url")])
    out = env.run([env.binary, "run", "--print-config", "--config", path],
                  env={"AMTAGVI_DATABASE_URL": "postgresql://u:envpass@h:5432/db?sslmode=require",
                       "AMTAGVI_KAFKA_SASL_PASSWORD": "saslpass"}).stdout.decode()
    for s in ("envpass", "saslpass"):
        check(s not in out, "%s shown: %r" % (s, [l for l in out.splitlines() if s in l]))


def test_print_config_masks_conninfo_password(env):
    """--print-config masks the password of a libpq key/value conninfo in each legal spelling."""
    case = Case(env, "printconninfo", topics=False)
    leaks = []
    for url, secret in (("host=h password=s3cr3t dbname=x", "s3cr3t"),
                        ("postgresql://u@h/db?password=qsecret", "qsecret"),
                        ("host=h password='two words' dbname=x", "words"),
                        ("host=h password = spaced dbname=x", "spaced")):
        out = env.run([env.binary, "run", "--print-config"],
                      env={"AMTAGVI_DATABASE_URL": url}).stdout.decode()
        line = [l for l in out.splitlines() if l.startswith("database.url")]
        if secret in out:
            leaks.append("%r -> %r" % (url, line))
    check(not leaks, "password shown: %s" % "; ".join(leaks))
    check(os.path.isdir(case.dir), "work dir")


def test_logs_are_json_on_db_error(env):
    """A PostgreSQL error (tables missing) still gives JSON log lines; SIGTERM stops it."""
    case = Case(env, "logjson")
    db = case.database()  # not migrated
    cfg = case.config(db)
    w = case.worker(cfg, "worker")
    wait_until(lambda: "consumer_offsets" in "\n".join(w.lines()) or w.proc.poll() is not None,
               60, "a database error in the log")
    w.signal(signal.SIGTERM)
    rc = w.wait(60)
    bad = w.bad_lines()
    check(not bad, "%d log lines are not JSON, e.g. %s" % (len(bad), first_diffs(bad, 3)))
    check_eq(rc, 0, "exit code after SIGTERM")


TESTS = [
    ("end_to_end", test_end_to_end),
    ("batch_boundaries", test_batch_boundaries),
    ("redelivery", test_redelivery),
    ("two_workers", test_two_workers),
    ("kill9_restart", test_kill9_restart),
    ("crash_between_commit_and_publish", test_crash_between_commit_and_publish),
    ("poison_messages", test_poison_messages),
    ("sigterm", test_sigterm),
    ("print_config_masks_url_password", test_print_config_masks_url_password),
    ("print_config_masks_conninfo_password", test_print_config_masks_conninfo_password),
    ("logs_are_json_on_db_error", test_logs_are_json_on_db_error),
]


def main():
    a = runner_args(jobs=2)
    env = Env(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir, a.pidfile)
    return run_suite(env, TESTS, a, 40, "worker")


if __name__ == "__main__":
    sys.exit(main())
