#!/usr/bin/python3
"""Fault-tolerance tests of the worker (`amtagvi-adjudicator run`) against the real services:
PostgreSQL restarted mid-batch, the Kafka broker restarted, database connections terminated,
SIGTERM mid-batch, repeated kill -9 of two workers on 200,000 events, and the catalogue of bad
input. tests/scripts/fault_tolerance.sh starts the stack and runs this file.

Every scenario ends with the same invariants (faultlib.final_check): one determinations row per
distinct valid event_id, equal to `evaluate` on the same file; every determination_id on the
outcomes topic; consumer_offsets.next_offset == the topic's end offset and published_offset ==
next_offset on every partition.

Usage: test_faults.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                      --workdir W --pidfile F [--jobs N] [-k NAME]...
"""
import collections
import json
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


import faultlib as fl  # noqa: E402
from faultlib import check, check_eq, first_diffs  # noqa: E402
from harness import (Case, encode, pa_event, run_suite, runner_args,  # noqa: E402
                     zigzag)
from harness import claim_event as claim_on  # noqa: E402


def claim_event(eid, member, claim_id, auth, **over):
    """A claim line of 2026-07-01 (harness.claim_event with this file's service date)."""
    return claim_on(eid, member, claim_id, "2026-07-01", auth, **over)


def say(name, msg):
    print("    %s: %s" % (name, msg), flush=True)


def error_lines(workers):
    return sum(1 for w in workers for r in w.logs() if r.get("level") == "error")


# ====================================================================== 1. PostgreSQL restart


def test_pg_restart(env):
    """ops/stack.sh stop-pg (fast shutdown) while batches of 500 flow on 20,000 events, start-pg
    3 s later: the worker retries the batch in hand, logs "database unavailable; retrying
    batch", finishes and exits 0; every message published exactly once."""
    case = Case(env, "pgrestart")
    expected = env.evaluate(env.generate(20000, 101))
    valid = expected.valid_lines()
    db, cfg = case.new_db_config(batch__max__messages=500, log__level="debug",
                                 retry__max__backoff__ms=1000, exit__when__idle__ms=3000)
    prod = fl.BackgroundProducer(case, cfg, valid, rate=3000)
    w = case.worker(cfg, "worker")
    w.wait_log("batch committed", 3, timeout=60)
    before = fl.count_rows(env, db)
    t0 = time.monotonic()
    env.stack_fault("stop-pg")
    down = time.monotonic()
    time.sleep(3)
    env.stack_fault("start-pg")
    outage = time.monotonic() - t0
    check(0 < before < len(expected.by_event),
          "%d of %d rows when PostgreSQL stopped: not mid-stream" % (before,
                                                                     len(expected.by_event)))
    check(w.proc.poll() is None, "the worker exited during the outage: " + w.tail())
    prod.wait()
    w.expect_exit(0, timeout=120)
    retries = w.records("database unavailable; retrying batch")
    check(retries, "no 'database unavailable; retrying batch' in the log: " + w.tail())
    check_eq(fl.stopped_totals(w), (len(expected.by_event),
                                    expected.n_valid - len(expected.by_event), 0),
             "worker stopped judged/replayed/dead_letters")
    summary = fl.final_check(case, db, cfg, expected, exact_outcomes=True)
    say("pg restart", "%d rows at stop-pg; down %.1fs; %d retries (%s); %s" % (
        before, outage, len(retries), retries[0]["error"][:60], summary))
    del down


# ====================================================================== 2. Kafka restart


def test_kafka_restart(env):
    """ops/stack.sh stop-kafka while the worker is mid-stream (20,000 events, batches of 500),
    start-kafka 2 s later, then 5,000 more events: the worker resumes on its own and exits 0."""
    case = Case(env, "kafkarestart")
    expected = env.evaluate(env.generate(25000, 103))
    valid = expected.valid_lines()
    cut = 20000
    db, cfg = case.new_db_config(batch__max__messages=500, log__level="debug",
                                 retry__max__backoff__ms=2000, exit__when__idle__ms=6000,
                                 kafka__session__timeout__ms=6000,
                                 kafka__heartbeat__interval__ms=1000)
    fl.produce_all(case, cfg, valid[:cut])
    w = case.worker(cfg, "worker")
    w.wait_log("batch committed", 3, timeout=60)
    t0 = time.monotonic()
    how = env.stack_fault("stop-kafka")
    stopped = time.monotonic() - t0
    at_stop = fl.count_rows(env, db)
    time.sleep(2)
    t1 = time.monotonic()
    env.stack_fault("start-kafka")
    started = time.monotonic() - t1
    check(at_stop < len(expected.by_event), "all %d rows in before the broker stopped" % at_stop)
    check(w.proc.poll() is None, "the worker exited while the broker was down: " + w.tail())
    fl.produce_all(case, cfg, valid[cut:])
    w.expect_exit(0, timeout=150)
    errors = [r for r in w.logs() if r.get("level") in ("warn", "error")]
    check(errors, "the worker did not notice the broker going away")
    summary = fl.final_check(case, db, cfg, expected)
    say("kafka restart", "%s in %.1fs, start-kafka %.1fs; %d rows when it stopped; %d warn/error "
        "log lines (%s); %s" % (how.splitlines()[-1], stopped, started, at_stop, len(errors),
                                first_diffs(sorted({r["msg"] for r in errors}), 3), summary))


# ====================================================================== 3. connections dropped


def test_connection_dropped(env):
    """pg_terminate_backend() of the worker's connections 5 times, 0.5 s apart, while 20,000
    events flow (at 1,500/s: the worker keeps up with any feed, so the feed must outlast the
    terminations): it reconnects, redoes the batch, and every message is judged and published
    exactly once."""
    case = Case(env, "conndrop")
    expected = env.evaluate(env.generate(20000, 107))
    valid = expected.valid_lines()
    db, cfg = case.new_db_config(batch__max__messages=500, log__level="debug",
                                 exit__when__idle__ms=3000)
    prod = fl.BackgroundProducer(case, cfg, valid, rate=1500)
    w = case.worker(cfg, "worker")
    w.wait_log("batch committed", 3, timeout=60)
    before = fl.count_rows(env, db)
    hits = []
    for _ in range(5):
        out = env.scalar(db, "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM "
                             "pg_stat_activity WHERE application_name = 'amtagvi-adjudicator' "
                             "AND datname = current_database()")
        hits.append(int(out))
        time.sleep(0.5)
    after = fl.count_rows(env, db)
    check(before < len(expected.by_event) and after < len(expected.by_event),
          "rows %d..%d of %d while terminating: not mid-stream" % (before, after,
                                                                   len(expected.by_event)))
    check(sum(hits) >= 3, "only %d of 5 pg_terminate_backend calls found the worker's "
                          "connection: %s" % (sum(hits), hits))
    prod.wait()
    w.expect_exit(0, timeout=120)
    retries = (w.records("database unavailable; retrying batch") +
               w.records("cannot read partition position; retrying"))
    check(retries, "no database retry in the log after %d terminations: %s" % (sum(hits),
                                                                            w.tail()))
    check_eq(fl.stopped_totals(w), (len(expected.by_event),
                                    expected.n_valid - len(expected.by_event), 0),
             "worker stopped judged/replayed/dead_letters")
    summary = fl.final_check(case, db, cfg, expected, exact_outcomes=True)
    say("connection dropped", "terminated %s; %d retries logged; %s" % (hits, len(retries),
                                                                        summary))


# ====================================================================== 4. SIGTERM mid-batch


def test_sigterm_mid_batch(env):
    """SIGTERM three times at random points of a 20,000-event stream (a fresh worker each time):
    exit code 0, no partial batch in the database (per partition the stored source offsets are
    exactly 0..next_offset-1 and published_offset == next_offset), and a last worker finishes
    the rest exactly once: nothing replayed, each message on the outcomes topic once.
    The stream is fed at 800 events/s while the workers run: a worker that drains a backlog of
    thousands of events in a fraction of a second would otherwise finish before the signal."""
    case = Case(env, "sigterm")
    full = env.evaluate(env.generate(20000, 109))
    lines = fl.dedup_valid(full)  # no replays: every message makes exactly one row
    expected = env.evaluate(lines)
    total = len(expected.by_event)
    db, cfg = case.new_db_config(batch__max__messages=500, batch__max__ms=500,
                                 log__level="debug", exit__when__idle__ms=3000)
    prod = fl.BackgroundProducer(case, cfg, lines, rate=800)
    rng = random.Random(109)
    seen = []
    for i in range(3):
        w = case.worker(cfg, "term%d" % (i + 1))
        w.wait_log("batch committed", rng.randint(2, 4), timeout=90)
        time.sleep(rng.uniform(0, 0.05))  # anywhere in the next batch
        w.signal(signal.SIGTERM)
        w.expect_exit(0, timeout=60)
        st = w.stopped()
        n = fl.count_rows(env, db)
        check(0 < n < total, "SIGTERM %d: %d of %d rows: not mid-stream" % (i + 1, n, total))
        check(not seen or n > seen[-1], "SIGTERM %d: no progress (%d rows)" % (i + 1, n))
        check_eq(n - (seen[-1] if seen else 0), st["judged"], "rows added vs judged in the log")
        check_eq(st["replayed"], 0, "events replayed after the previous SIGTERM")
        offs = fl.no_partial_batch(env, db, cfg, case.events_topic)
        seen.append(n)
    check(prod.running(), "the feed ended before the third SIGTERM: the test would not be mid-stream")
    prod.wait()
    w = case.worker(cfg, "final")
    w.expect_exit(0, timeout=120)
    check_eq(fl.stopped_totals(w), (total - seen[-1], 0, 0), "the last worker's totals")
    summary = fl.final_check(case, db, cfg, expected, exact_outcomes=True)
    say("sigterm", "rows after each SIGTERM %s of %d (last offsets %s); %s" % (
        seen, total, offs, summary))


# ====================================================================== 5. kill -9, two workers


def test_kill9_two_workers(env):
    """Two workers of one group on ~200,000 events (fed at a steady rate so that every kill
    hits a flowing stream); 20 kill -9 at random moments, each killed worker restarted after a
    random 0-7 s (before or after its session expires). At the end: rows == distinct valid
    event_ids with no duplicates and equal to evaluate, offsets == end offsets, published ==
    next, every determination_id on the outcomes topic."""
    case = Case(env, "kill9x2")
    t = [time.monotonic()]
    expected = env.evaluate(env.generate(200000, 113))
    valid = expected.valid_lines()
    total = len(expected.by_event)
    t.append(time.monotonic())
    db, cfg = case.new_db_config(batch__max__messages=1000, log__level="debug",
                                 exit__when__idle__ms=5000, retry__max__backoff__ms=1000,
                                 kafka__session__timeout__ms=6000,
                                 kafka__heartbeat__interval__ms=1000)
    kills_wanted = 20
    prod = fl.BackgroundProducer(case, cfg, valid, rate=3600)
    rng = random.Random(113)
    gen = collections.Counter()

    def start(slot):
        gen[slot] += 1
        return case.worker(cfg, "%s%d" % (slot, gen[slot]),
                           {"AMTAGVI_WORKER_ID": "kill9-%s%d" % (slot, gen[slot])})

    live = {"a": start("a"), "b": start("b")}
    restart_at = {}  # slot -> monotonic time of its restart
    kills = []  # (seconds into the run, slot, rows at the kill)
    idle_exits = []
    t0 = time.monotonic()
    next_kill = t0 + rng.uniform(2, 4)
    while len(kills) < kills_wanted or restart_at:
        now = time.monotonic()
        check(now - t0 < 200, "kill phase over 200 s: %d kills, rows %d" % (
            len(kills), fl.count_rows(env, db)))
        for slot, w in list(live.items()):
            if w is None:
                continue
            rc = w.proc.poll()
            if rc is not None:  # not killed by us
                check(rc == 0, "%s exited %s on its own: %s" % (w.tag, rc, w.tail()))
                idle_exits.append(w.tag)
                live[slot] = None
                restart_at[slot] = now
        for slot, when in list(restart_at.items()):
            if now >= when:
                live[slot] = start(slot)
                del restart_at[slot]
        if len(kills) < kills_wanted and now >= next_kill:
            alive = [s for s, w in live.items() if w is not None]
            rows = fl.count_rows(env, db) if alive else 0
            if alive and rows == 0:
                # Nothing committed yet (a slow start, e.g. under ASan on a loaded machine): a
                # kill now tests no recovery; wait for the first commit.
                next_kill = now + 0.5
                time.sleep(0.05)
                continue
            if alive:
                slot = rng.choice(alive)
                w = live[slot]
                rc = w.kill9()
                check_eq(rc, -signal.SIGKILL, "exit status of the killed %s" % w.tag)
                kills.append((now - t0, w.tag, rows))
                live[slot] = None
                restart_at[slot] = time.monotonic() + rng.choice([0, 0, rng.uniform(0, 7)])
            next_kill = now + rng.uniform(1.0, 4.0)
        time.sleep(0.05)
    t.append(time.monotonic())
    prod.wait(timeout=120)
    for w in live.values():
        w.expect_exit(0, timeout=150)
    t.append(time.monotonic())
    check(len(kills) >= kills_wanted, "%d kills" % len(kills))
    mid = [k for k in kills if 0 < k[2] < total]
    check(len(mid) == len(kills), "kills outside the stream (rows 0 or all): %s" % [
        k for k in kills if k not in mid])
    summary = fl.final_check(case, db, cfg, expected, full=False)
    t.append(time.monotonic())
    republished = sum(len(w.records("republishing committed range")) for w in case.workers
                      if hasattr(w, "records"))
    fenced = sum(len(w.records("batch fenced; re-reading positions")) for w in case.workers
                 if hasattr(w, "records"))
    say("kill -9", "%d kills at s/rows %s; idle exits %s; %d republished ranges, %d fenced "
        "batches; %s; phases gen+eval %.0fs, kills %.0fs, drain %.0fs, checks %.0fs" % (
            len(kills), " ".join("%.0f/%d" % (s, r) for s, _, r in kills), idle_exits,
            republished, fenced, summary, t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3]))


# ====================================================================== 6. bad input


def diff_at(a, b):
    """The one byte position where two encodings of the same length differ."""
    check_eq(len(a), len(b), "lengths of the two encodings")
    pos = [i for i in range(len(a)) if a[i] != b[i]]
    check_eq(len(pos), 1, "differing bytes")
    return pos[0]


def marker_surgery(env, ev, field, new_len_and_bytes):
    """Encodes ev with `field` = "ZZZZ" and swaps its length varint + bytes for others."""
    ev = dict(ev, **{field: "ZZZZ"})
    v = encode(env, ev)
    at = v.index(zigzag(4) + b"ZZZZ")
    check(v.count(b"ZZZZ") == 1, "marker not unique")
    return v[:at] + new_len_and_bytes + v[at + 5:]


def bad_input_catalogue(env):
    """[(name, reason, key, value, words the error must contain)]: each class of message
    contract §2 rejects, built with the Python Avro library and byte surgery. Every message has
    a key of its own (but the keyless one), so it can be found on the topic."""
    out = []

    def add(name, reason, member, value, *words):
        out.append((name, reason, None if member is None else member.encode(), value, words))

    def pa(n, **over):
        return dict(pa_event("bad-%02d" % n, "M-BAD-%02d" % n, "PA-BAD-%02d" % n), **over)

    def claim(n, **over):
        return claim_event("bad-%02d" % n, "M-BAD-%02d" % n, "CLM-BAD-%02d" % n, None, **over)

    base = encode(env, claim(1))
    add("wrong magic byte", "bad_magic", "M-BAD-01", b"\x01" + base[1:], "magic")
    v = encode(env, claim(2))
    add("unknown schema id", "unknown_schema", "M-BAD-02",
        b"\x00" + (99).to_bytes(4, "big") + v[5:], "schema id 99")
    add("shorter than the header", "bad_magic", "M-BAD-03", b"\x00\x00\x01", "header")
    v = encode(env, pa(4))
    add("truncated body", "malformed", "M-BAD-04", v[:len(v) // 2], "ends")
    v = encode(env, claim(5))
    add("trailing bytes", "trailing_bytes", "M-BAD-05", v + b"\x00\x00", "after the record")
    add("string length far beyond the message", "malformed", "M-BAD-06",
        marker_surgery(env, pa(6), "pa_id", zigzag(10**6) + b"ZZZZ"), "pa_id")
    add("negative string length", "malformed", "M-BAD-07",
        marker_surgery(env, pa(7), "pa_id", zigzag(-3) + b"ZZZZ"), "pa_id")
    a, b = encode(env, pa(8, lymphodepletion="RECEIVED")), encode(env, pa(8, lymphodepletion="UNKNOWN"))
    i = diff_at(a, b)
    add("enum index out of range", "malformed", "M-BAD-08", a[:i] + zigzag(7) + a[i + 1:],
        "lymphodepletion")
    v = encode(env, pa(9))
    check_eq(v[-1], 0, "last byte (requested_dose_cells: null branch)")
    add("union branch out of range", "malformed", "M-BAD-09", v[:-1] + zigzag(2),
        "requested_dose_cells")
    add("invalid UTF-8", "invalid", "M-BAD-10",
        marker_surgery(env, pa(10), "pa_id", zigzag(4) + b"Z\xc3\x28Z"), "UTF-8")
    add("string of 129 bytes", "invalid", "M-BAD-11", encode(env, pa(11, pa_id="P" * 129)),
        "128")
    add("array element of 129 bytes", "invalid", "M-BAD-12",
        encode(env, claim(12, diagnosis_codes=["C43.9", "C" * 129])), "128")
    add("array of 65 items", "invalid", "M-BAD-13",
        encode(env, pa(13, diagnosis_codes=["C43.9"] * 65)), "64")
    a, b = encode(env, pa(14, birth_date="1970-01-02")), encode(env, pa(14, birth_date="1970-01-03"))
    i = diff_at(a, b)
    add("date beyond 9999-12-31", "invalid", "M-BAD-14", a[:i] + zigzag(5000000) + a[i + 1:],
        "birth_date")
    add("NUL in a string", "invalid", "M-BAD-15",
        marker_surgery(env, pa(15), "pa_id", zigzag(4) + b"Z\x00ZZ"), "NUL")
    add("missing key", "invalid", None, encode(env, claim(16)), "no key")
    add("key is not the member_id", "invalid", "M-BAD-NOT-17", encode(env, claim(17)),
        "member_id")
    add("empty value", "empty", "M-BAD-18", b"", "empty")
    add("tombstone (null value)", "empty", "M-BAD-19", None, "empty")
    return out


def test_bad_input_catalogue(env):
    """Every class of bad input of contract §2 in ONE stream with valid events around it: each
    reaches dead_letters and the dead-letter topic with its reason, a clear error, its key and
    value; values that decode but make no sense are judged (PENDED BIRTH_DATE_INVALID on 1.A,
    DENIED UNITS_INVALID, DENIED DOSE_OUT_OF_RANGE); the worker exits 0 at the end."""
    case = Case(env, "badinput")
    gen = env.generate(600, 127)
    part_a = env.evaluate(gen[:300]).valid_lines()
    part_b = env.evaluate(gen[300:]).valid_lines()
    cat = bad_input_catalogue(env)
    judged_evs = [  # decode fine, make no sense: judged, not rejected
        pa_event("odd-1", "M-ODD-1", "PA-ODD-1", birth_date="2026-07-01"),  # after D
        pa_event("odd-2", "M-ODD-2", "PA-ODD-2"),
        claim_event("odd-3", "M-ODD-2", "CLM-ODD-3", "PA-ODD-2", units=0),
        claim_event("odd-4", "M-ODD-2", "CLM-ODD-4", "PA-ODD-2", service_date="2026-07-02",
                    dose_viable_cells=-5),
    ]
    while len(judged_evs) <= len(cat):  # a valid event before and after every bad one
        n = len(judged_evs)
        judged_evs.append(claim_event("ok-%02d" % n, "M-OK-%02d" % n, "CLM-OK-%02d" % n, None))
    judged_lines = [json.dumps(e) for e in judged_evs]
    expected = env.evaluate(gen[:300] + judged_lines + gen[300:])
    check_eq(expected.n_valid, len(part_a) + len(judged_lines) + len(part_b), "valid lines")
    db, cfg = case.new_db_config(exit__when__idle__ms=3000)
    raw = []
    for k, ev in enumerate(judged_evs):  # Python-encoded valid events between the bad ones
        raw.append("%s\t%s" % (ev["member_id"], encode(env, ev).hex()))
        if k < len(cat):
            _, _, key, value, _ = cat[k]
            raw.append("%s\t%s" % ("-" if key is None else key.decode(),
                                   "-" if value is None else value.hex()))
    fl.produce_all(case, cfg, part_a)
    err = env.produce(cfg, raw, raw=True)
    check("produce: %d sent" % len(raw) in err, "produce --raw: " + err)
    fl.produce_all(case, cfg, part_b)
    msgs = fl.dump_lines(env, cfg, case.events_topic)
    coords = {}
    for n, (name, reason, key, value, words) in enumerate(cat):
        hits = [m for m in msgs if m["key"] == (None if key is None else key.hex())]
        check(len(hits) == 1, "%s found %d times on the events topic" % (name, len(hits)))
        coords[(hits[0]["partition"], hits[0]["offset"])] = n
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=90)
    check_eq(fl.stopped_totals(w)[2], len(cat), "dead letters in the worker's log")
    dl = env.query(db, "select source_topic, source_partition, source_offset, reason, error, "
                       "encode(message_key, 'hex') as key, encode(payload, 'hex') as payload "
                       "from dead_letters")
    got = {(r["source_partition"], r["source_offset"]): r for r in dl}
    check_eq(sorted(got), sorted(coords), "dead_letters coordinates")
    bad, table = [], []
    for c, n in sorted(coords.items(), key=lambda x: x[1]):
        name, reason, key, value, words = cat[n]
        r = got[c]
        table.append("%s -> %s" % (name, r["reason"]))
        if r["reason"] != reason:
            bad.append("%s: reason %r, expected %r (error %r)" % (name, r["reason"], reason,
                                                                  r["error"]))
        for word in words:
            if word.lower() not in (r["error"] or "").lower():
                bad.append("%s: error %r does not mention %r" % (name, r["error"], word))
        if r["source_topic"] != case.events_topic:
            bad.append("%s: source_topic %r" % (name, r["source_topic"]))
        if (r["key"] or None) != (key.hex() if key else None):
            bad.append("%s: message_key %r" % (name, r["key"]))
        if (r["payload"] or "") != (value or b"").hex():
            bad.append("%s: payload differs" % name)
    check(not bad, "dead_letters: %s" % "; ".join(bad))
    dmsgs = fl.dump_lines(env, cfg, case.dl_topic)
    check_eq(len(dmsgs), len(cat), "messages on the dead-letter topic")
    bad = []
    for m in dmsgs:
        # Kafka Connect's dead-letter context headers (docs/RELIABILITY.md, Dead letters)
        h = {k: fl.hdr(m, "__connect.errors." + n) for k, n in (
            ("reason", "exception.class.name"), ("error", "exception.message"),
            ("source_topic", "topic"), ("source_partition", "partition"),
            ("source_offset", "offset"), ("stage", "stage"))}
        if None in h.values():
            bad.append("headers missing: %s" % h)
            continue
        c = (int(h["source_partition"]), int(h["source_offset"]))
        if c not in coords:
            bad.append("dead letter for %s which is no bad input" % (c,))
            continue
        name, reason, key, value, _ = cat[coords[c]]
        if (h["reason"], h["error"], h["source_topic"]) != (reason, got[c]["error"],
                                                           case.events_topic):
            bad.append("%s: headers %s" % (name, h))
        if m["key"] != (None if key is None else key.hex()):
            bad.append("%s: key %r" % (name, m["key"]))
        if value and m["value"] != value.hex():
            bad.append("%s: value differs" % name)
    check(not bad, "dead-letter topic: %s" % first_diffs(bad))
    rows = {r["event_id"]: r for r in case.rows(db)}
    want = {"odd-1": ("PENDED", ["BIRTH_DATE_INVALID"], 2, "U"),  # criteria letter 2 = 1.A
            "odd-3": ("DENIED", ["UNITS_INVALID"], 5, "N"),  # UNITS (ORIGINAL comes first)
            "odd-4": ("DENIED", ["DOSE_OUT_OF_RANGE"], 6, "N")}  # DOSE
    bad = []
    for eid, (outcome, codes, pos, letter) in want.items():
        r = rows.get(eid)
        if r is None:
            bad.append("%s: no row" % eid)
        elif (r["outcome"], r["reason_codes"], r["criteria"][pos]) != (outcome, codes, letter):
            bad.append("%s: %s %s %s" % (eid, r["outcome"], r["reason_codes"], r["criteria"]))
    check(not bad, "values that make no sense were not judged as the contract says: %s" % bad)
    summary = fl.final_check(case, db, cfg, expected, exact_outcomes=True,
                             dead_letters=len(cat))
    say("bad input", "%d classes dead-lettered as expected (%s); %s" % (
        len(cat), "; ".join(table), summary))


# ====================================================================== the runner

# (name, function, exclusive): an exclusive test restarts a service of the shared stack, so it
# runs alone; the others run side by side.
TESTS = [
    ("pg_restart", test_pg_restart, True),
    ("kafka_restart", test_kafka_restart, True),
    ("kill9_two_workers", test_kill9_two_workers, False),
    ("bad_input_catalogue", test_bad_input_catalogue, False),
    ("sigterm_mid_batch", test_sigterm_mid_batch, False),
    ("connection_dropped", test_connection_dropped, False),
]


def main():
    a = runner_args(jobs=4)
    env = fl.FaultEnv(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir,
                      a.pidfile)
    return run_suite(env, TESTS, a, 28, "fault")


if __name__ == "__main__":
    sys.exit(main())
