#!/usr/bin/python3
"""Failure isolation: a poison pill costs one dead letter, never a partition (issue 11).

One test per failure class, each against the real PostgreSQL and Kafka of the shared stack,
each on a stream with valid events before and after the poison:
  oversize_dead_letter   a ~1 MB PA (999,700-character prescriber_npi) and a 1.5 MB value:
                         dead letters over the topic's limit go out without their value
  oversize_outcome       an outcomes topic whose max.message.bytes no outcome fits
  refused_row            rows PostgreSQL refuses (a CHECK constraint of the test database)
  encoder_refusal        determinations the outcome encoder refuses (fault.encode.refuse)
  sigterm_db_down        SIGTERM while the commit is retried against a stopped PostgreSQL,
                         and /healthz turning unhealthy while no progress is made
  sigterm_broker_down    SIGTERM while dead letters and outcomes wait for a stopped broker
  broker_down_dead_lettering  the broker down for 8 s while poison messages are dead-lettered
  dead_letter_replay     dead-letters replay after the cause is fixed, and its loop guard
Every test ends with: the partition kept flowing (offsets at the end, the worker exited by
itself), the offending message in dead_letters with its full payload, and nothing else lost
or doubled in PostgreSQL.

Usage: test_isolation.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                         --workdir W --pidfile F [--jobs N] [-k NAME]...
"""
import collections
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import faultlib as fl  # noqa: E402
from faultlib import check, check_eq  # noqa: E402
from harness import Case, encode, pa_event, run_suite, runner_args, wait_until  # noqa: E402

BIG_TOPIC_BYTES = 4 * 1024 * 1024


def say(name, msg):
    print("    %s: %s" % (name, msg), flush=True)


def dead_rows(env, db):
    return {(r["source_partition"], r["source_offset"]): r for r in env.query(
        db, "select source_partition, source_offset, reason, stage, error, "
            "length(payload) as payload_len, encode(payload, 'hex') as payload, "
            "encode(message_key, 'hex') as key, replay_count, replayed_at is not null as replayed "
            "from dead_letters")}


def events_by_coord(env, cfg, topic):
    return {(m["partition"], m["offset"]): m for m in fl.dump_lines(env, cfg, topic)}


def produce_raw(case, cfg, pairs):
    """Produces (key, value) pairs as they are (our produce --raw; keys are text)."""
    raw = ["%s\t%s" % ("-" if k is None else k, "-" if v is None else v.hex()) for k, v in pairs]
    err = case.env.produce(cfg, raw, raw=True)
    check("produce: %d sent" % len(raw) in err, "produce --raw: " + err[-300:])


def mixed_stream(env, seed, n=400):
    """Two halves of a generated stream's valid lines (the generator also writes malformed
    lines, which produce rejects)."""
    gen = env.evaluate(env.generate(n, seed)).valid_lines()
    return gen[: len(gen) // 2], gen[len(gen) // 2:]


def expect_poison_dead_letters(env, db, cfg, case, poisons, reason, stage):
    """Each poison (event value bytes) is in dead_letters whole, with reason and stage."""
    rows = dead_rows(env, db)
    msgs = events_by_coord(env, cfg, case.events_topic)
    by_value = {m["value"]: c for c, m in msgs.items() if m["value"]}
    bad = []
    for value in poisons:
        c = by_value.get(value.hex())
        r = rows.get(c)
        if r is None:
            bad.append("poison at %s not in dead_letters" % (c,))
            continue
        if r["payload"] != value.hex():
            bad.append("%s: stored payload differs (%s of %d bytes)" % (c, r["payload_len"],
                                                                         len(value)))
        if (r["reason"], r["stage"]) != (reason, stage):
            bad.append("%s: reason/stage %s/%s, expected %s/%s" % (c, r["reason"], r["stage"],
                                                                   reason, stage))
    check(not bad, "dead letters: " + "; ".join(bad))
    return rows


# ====================================================================== oversize


def test_oversize_dead_letter(env):
    """A ~1 MB PA (a 999,700-character prescriber_npi: valid Avro, contract-invalid) and a
    1.5 MB value on an input topic that allows 4 MB: both are dead-lettered with their full
    payload in the table, published to the dead-letter topic (default limit) without their
    value and with amtagvi.truncated; everything around them is judged; the worker exits."""
    case = Case(env, "oversizedl", topics=False)
    env.stack("topics", "--create", "--topic", case.events_topic, "--partitions", "2",
              "--replication-factor", "1", "--config", "max.message.bytes=%d" % BIG_TOPIC_BYTES)
    env.create_topic(case.outcomes_topic, 2)
    env.create_topic(case.dl_topic, 1)
    a, b = mixed_stream(env, 211)
    expected = env.evaluate(a + b)
    db, cfg = case.new_db_config(exit__when__idle__ms=3000)
    big_cfg = case.config(db, kafka__message__max__bytes=BIG_TOPIC_BYTES + 100000)
    big_pa = encode(env, pa_event("big-1", "M-BIG-1", "PA-BIG-1", prescriber_npi="9" * 999700))
    garbage = b"\x07" + b"x" * 1500000
    fl.produce_all(case, cfg, a)
    produce_raw(case, big_cfg, [("M-BIG-1", big_pa), ("M-BIG-2", garbage)])
    fl.produce_all(case, cfg, b)
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=120)
    rows = expect_poison_dead_letters(env, db, cfg, case, [big_pa], "invalid", "validate")
    expect_poison_dead_letters(env, db, cfg, case, [garbage], "bad_magic", "decode")
    dl = fl.dump_lines(env, cfg, case.dl_topic)
    check_eq(len(dl), 2, "messages on the dead-letter topic")
    for m in dl:
        check(m["value"] is None, "a dead letter over the limit was published with its value")
        check_eq(fl.hdr(m, "amtagvi.truncated"), "value", "amtagvi.truncated")
        c = (int(fl.hdr(m, "__connect.errors.partition")), int(fl.hdr(m, "__connect.errors.offset")))
        check_eq(int(fl.hdr(m, "amtagvi.original.value.bytes")), rows[c]["payload_len"],
                 "amtagvi.original.value.bytes")
    summary = fl.final_check(case, db, cfg, expected, exact_outcomes=True, dead_letters=2)
    say("oversize dead letters", "sizes %s; %s" % (
        sorted(r["payload_len"] for r in rows.values()), summary))


def test_oversize_outcome(env):
    """An outcomes topic with max.message.bytes = 320, which no outcome fits (and the
    producer's batch.size at that limit, as the runbook says): the broker refuses the first
    ones, the worker learns the limit and publishes every outcome without its value
    (determination_id header kept, amtagvi.truncated); every determination is in PostgreSQL
    and the worker exits instead of retrying forever."""
    case = Case(env, "oversizeout", topics=False)
    env.create_topic(case.events_topic, 2)
    env.stack("topics", "--create", "--topic", case.outcomes_topic, "--partitions", "2",
              "--replication-factor", "1", "--config", "max.message.bytes=320")
    env.create_topic(case.dl_topic, 1)
    a, b = mixed_stream(env, 223, 300)
    expected = env.evaluate(a + b)
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, retry__max__backoff__ms=1000,
                                 kafka__batch__size=320)
    fl.produce_all(case, cfg, a + b)
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=120)
    outs = fl.dump_lines(env, cfg, case.outcomes_topic)
    check(outs, "nothing on the outcomes topic")
    full = [m for m in outs if m["value"] is not None]
    cut = [m for m in outs if m["value"] is None]
    check(len(cut) > len(outs) // 2, "only %d of %d outcomes shortened" % (len(cut), len(outs)))
    check(all(fl.hdr(m, "amtagvi.truncated") == "value" for m in cut), "amtagvi.truncated")
    check(all(len(m["value"]) // 2 < 320 for m in full), "an outcome over the limit went whole")
    summary = fl.final_check(case, db, cfg, expected)
    say("oversize outcomes", "%d outcome messages, %d without value (the rest fit); %d "
        "'delivery failed'; %s" % (len(outs), len(cut), w.count("delivery failed"), summary))


# ====================================================================== refused by PostgreSQL


def refusal_stream(env, seed, marker):
    """Valid events where a few event_ids start with marker (a PA whose later claim depends on
    it among them); returns (lines, poison event_ids)."""
    gen = fl.dedup_valid(env.evaluate(env.generate(400, seed)))
    poison = []
    lines = []
    for i, line in enumerate(gen):
        ev = json.loads(line)
        if i in (37, 150, 151, 260):
            ev["event_id"] = marker + ev["event_id"]
            poison.append(ev["event_id"])
        lines.append(json.dumps(ev))
    return lines, poison


def check_isolated(case, env, db, cfg, lines, poison, reason, stage, w):
    """The poison events are dead letters with their full payload; everything else equals
    evaluate on the stream WITHOUT them (they are in nobody's history)."""
    rest = [l for l in lines if json.loads(l).get("event_id") not in poison]
    expected = env.evaluate(rest)
    rows = dead_rows(env, db)
    msgs = events_by_coord(env, cfg, case.events_topic)
    got = {}
    for c, r in rows.items():
        eid = env.event_id_of(bytes.fromhex(r["payload"]))
        got[eid] = r
        check_eq((r["reason"], r["stage"]), (reason, stage), "reason/stage of " + str(eid))
        check_eq(r["payload"], msgs[c]["value"], "stored payload of " + str(eid))
        check(str(eid) not in r["error"], "the error quotes the event_id: " + r["error"])
    check_eq(sorted(got), sorted(set(poison)), "dead-lettered event_ids")
    return fl.final_check(case, db, cfg, expected, dead_letters=len(rows))


def test_refused_row(env):
    """A CHECK constraint on the test database refuses four events' rows (one of them a PA a
    later claim relies on): they are found by bisection, dead-lettered (rejected, store), and
    the batches are judged again without them; every other event equals `evaluate` on the
    stream without them."""
    case = Case(env, "refused")
    lines, poison = refusal_stream(env, 229, "refuse-")
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, batch__max__messages=100)
    env.psql(db, "ALTER TABLE determinations ADD CONSTRAINT test_refuse "
                 "CHECK (event_id NOT LIKE 'refuse-%')")
    fl.produce_all(case, cfg, lines)
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=120)
    refused = w.records("row refused by PostgreSQL; the event is dead-lettered")
    check(refused, "no refusal logged: " + w.tail())
    check("23514" in refused[0]["error"], "the refusal names no SQLSTATE: %r" % refused[0])
    summary = check_isolated(case, env, db, cfg, lines, poison, "rejected", "store", w)
    say("refused rows", "%d refusals logged (%s); %s" % (len(refused), refused[0]["error"],
                                                         summary))


def test_encoder_refusal(env):
    """The outcome encoder refuses four determinations (fault.encode.refuse): they are
    dead-lettered (unencodable, publish) instead of stored, the rest is judged without them."""
    case = Case(env, "unencodable")
    lines, poison = refusal_stream(env, 233, "unenc-")
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, batch__max__messages=100,
                                 fault__encode__refuse="unenc-")
    fl.produce_all(case, cfg, lines)
    w = case.worker(cfg, "worker")
    w.expect_exit(0, timeout=120)
    check(w.records("outcome cannot be encoded; the event is dead-lettered"),
          "no encoder refusal logged: " + w.tail())
    summary = check_isolated(case, env, db, cfg, lines, poison, "unencodable", "publish", w)
    say("encoder refusal", summary)


# ====================================================================== stop means stop


def healthz(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def contiguous(env, db, cfg, case):
    """Nothing half-committed: per partition, the stored source offsets are exactly
    0..next_offset-1 (a stream where every message makes one row or one dead letter)."""
    offs = fl.offsets(env, db, fl.group_of(cfg), case.events_topic)
    stored = collections.defaultdict(set)
    for p, o in fl.psql_rows(env, db, "select source_partition, source_offset from determinations "
                                      "union all select source_partition, source_offset from "
                                      "dead_letters"):
        stored[int(p)].add(int(o))
    bad = ["p%d: %d rows below next_offset %d" % (p, len(stored[p]), n)
           for p, (n, _) in offs.items() if stored[p] != set(range(n))]
    check(not bad, "partial batch: " + "; ".join(bad))


def sigterm_during_outage(env, w, service, timeout, meanwhile):
    """Stops the service, runs meanwhile(), sends SIGTERM and waits up to timeout s for the
    worker to exit; starts the service again whatever happens. @returns the seconds taken."""
    env.stack_fault("stop-" + service)
    try:
        meanwhile()
        t0 = time.monotonic()
        w.signal(signal.SIGTERM)
        w.wait(timeout=timeout)
        return time.monotonic() - t0
    finally:
        env.stack_fault("start-" + service)


def test_sigterm_db_down(env):
    """PostgreSQL stopped while the worker has work: /healthz turns 503 after health.stall.ms
    without progress; SIGTERM then ends the worker within 10 s with nothing half-committed;
    after PostgreSQL is back a new worker finishes the stream exactly."""
    case = Case(env, "sigtermdb")
    expected = env.evaluate(fl.dedup_valid(env.evaluate(env.generate(6000, 239))))
    port = fl.reserve_port()
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, batch__max__messages=200,
                                 retry__max__backoff__ms=30000, health__stall__ms=2000,
                                 metrics__address="127.0.0.1:%d" % port, log__level="debug")
    prod = fl.BackgroundProducer(case, cfg, expected.valid_lines(), rate=1500)
    w = case.worker(cfg, "worker")
    w.wait_log("batch committed", 2, timeout=60)
    wait_until(lambda: healthz(port) == 200, 10, "/healthz 200 while flowing")
    def unhealthy():
        wait_until(lambda: healthz(port) == 503, 20, "/healthz 503 with no progress")
        time.sleep(1)
    took = sigterm_during_outage(env, w, "pg", 10, unhealthy)
    prod.wait()
    contiguous(env, db, cfg, case)
    w2 = case.worker(cfg, "again")
    w2.expect_exit(0, timeout=120)
    summary = fl.final_check(case, db, cfg, expected, full=False)
    say("sigterm, database down", "stopped %.1fs after SIGTERM (rc %s); %s" % (
        took, w.proc.returncode, summary))


def test_sigterm_broker_down(env):
    """The broker stopped while dead letters and outcomes are being published: SIGTERM ends
    the worker within 45 s (10 s without an acknowledgement, then the group leave given up
    after shutdown.timeout.ms); after the broker is back a new worker republishes what was
    committed but not published; every dead letter and determination is on its topic."""
    case = Case(env, "sigtermkafka")
    expected = env.evaluate(env.evaluate(env.generate(3000, 241)).valid_lines())
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, batch__max__messages=200,
                                 retry__max__backoff__ms=2000)
    poison = [("M-P-%d" % i, b"\x07poison-%d" % i) for i in range(40)]
    fl.produce_all(case, cfg, expected.valid_lines()[:1500])
    produce_raw(case, cfg, poison)
    fl.produce_all(case, cfg, expected.valid_lines()[1500:])
    w = case.worker(cfg, "worker")
    w.wait_log("partitions assigned", 1, timeout=60)
    took = sigterm_during_outage(env, w, "kafka", 45, lambda: time.sleep(3))
    w2 = case.worker(cfg, "again")
    w2.expect_exit(0, timeout=180)
    summary = fl.final_check(case, db, cfg, expected, full=False, dead_letters=len(poison))
    say("sigterm, broker down", "stopped %.1fs after SIGTERM (rc %s); %s" % (
        took, w.proc.returncode, summary))


def test_broker_down_dead_lettering(env):
    """The broker stopped for 8 s right after 40 poison messages arrive in a flowing stream
    (1,500 events/s): the worker backs off and finishes by itself once the broker is back;
    every dead letter is in the table whole and on the dead-letter topic, every determination
    on the outcomes topic."""
    case = Case(env, "dldown")
    expected = env.evaluate(env.evaluate(env.generate(3000, 257)).valid_lines())
    # Idle longer than the outage: a worker at the end of every partition when the broker
    # stops must not take the 8 s without messages for the end of the stream.
    db, cfg = case.new_db_config(exit__when__idle__ms=15000, batch__max__messages=200,
                                 retry__max__backoff__ms=2000)
    poison = [("M-Q-%d" % i, b"\x07poison-%d" % i) for i in range(40)]
    prod = fl.BackgroundProducer(case, cfg, expected.valid_lines(), rate=1500)
    w = case.worker(cfg, "worker")
    w.wait_log("partitions assigned", 1, timeout=60)
    time.sleep(0.5)
    # The poison lands while the stream flows; the broker goes away as its dead letters are
    # being published.
    produce_raw(case, cfg, poison)
    time.sleep(0.3)
    env.stack_fault("stop-kafka")
    try:
        time.sleep(8)
        check(w.proc.poll() is None, "the worker exited while the broker was down: " + w.tail())
    finally:
        env.stack_fault("start-kafka")
    prod.wait()
    w.expect_exit(0, timeout=180)
    expect_poison_dead_letters(env, db, cfg, case, [v for _, v in poison], "bad_magic",
                               "decode")
    summary = fl.final_check(case, db, cfg, expected, full=False, dead_letters=len(poison))
    say("broker down while dead-lettering", summary)


# ====================================================================== replay


def test_dead_letter_replay(env):
    """Events refused by a constraint are dead letters; replaying while the constraint is
    still there fails them again (replay_count 1 on the new dead letters); with
    --max-replays 1 the guard then holds them back; once the constraint is dropped, a replay
    with the default guard judges them, exactly once."""
    case = Case(env, "replay")
    lines, poison = refusal_stream(env, 251, "replay-")
    db, cfg = case.new_db_config(exit__when__idle__ms=3000, batch__max__messages=100)
    env.psql(db, "ALTER TABLE determinations ADD CONSTRAINT test_refuse "
                 "CHECK (event_id NOT LIKE 'replay-%')")
    fl.produce_all(case, cfg, lines)
    case.worker(cfg, "first").expect_exit(0, timeout=120)
    check_eq(fl.count_rows(env, db, "dead_letters"), len(poison), "dead letters after run 1")
    dry = env.run([env.binary, "dead-letters", "replay", "--config", cfg, "--reason", "rejected",
                   "--dry-run"]).stdout.decode()
    check("%d would be replayed" % len(poison) in dry, "dry run said: " + dry)
    check_eq(int(env.scalar(db, "select count(*) from dead_letters where replayed_at is not "
                                "null")), 0, "rows marked replayed by the dry run")
    out = env.run([env.binary, "dead-letters", "replay", "--config", cfg, "--reason",
                   "rejected"]).stdout.decode()
    check("%d replayed" % len(poison) in out, "replay said: " + out)
    case.worker(cfg, "second").expect_exit(0, timeout=120)
    again = env.query(db, "select replay_count from dead_letters where replayed_at is null")
    check_eq(sorted(r["replay_count"] for r in again), [1] * len(poison),
             "replay_count of the dead letters the replay made")
    held = env.run([env.binary, "dead-letters", "replay", "--config", cfg, "--max-replays",
                    "1"]).stdout.decode()
    check("0 replayed" in held and "%d held back" % len(poison) in held,
          "loop guard: " + held)
    env.psql(db, "ALTER TABLE determinations DROP CONSTRAINT test_refuse")
    out = env.run([env.binary, "dead-letters", "replay", "--config", cfg]).stdout.decode()
    check("%d replayed" % len(poison) in out, "replay after the fix said: " + out)
    case.worker(cfg, "third").expect_exit(0, timeout=120)
    judged = int(env.scalar(db, "select count(*) from determinations where event_id like "
                                "'replay-%'"))
    check_eq(judged, len(poison), "replayed events judged")
    check_eq(int(env.scalar(db, "select count(*) - count(distinct event_id) from "
                                "determinations")), 0, "doubled determinations")
    say("replay", "%d dead letters -> replayed, refused again (replay_count 1), held back by "
        "--max-replays 1, replayed after the fix and judged once" % len(poison))


# (name, function, exclusive): an exclusive test stops a service of the shared stack.
TESTS = [
    ("sigterm_db_down", test_sigterm_db_down, True),
    ("sigterm_broker_down", test_sigterm_broker_down, True),
    ("broker_down_dead_lettering", test_broker_down_dead_lettering, True),
    ("oversize_dead_letter", test_oversize_dead_letter, False),
    ("oversize_outcome", test_oversize_outcome, False),
    ("refused_row", test_refused_row, False),
    ("encoder_refusal", test_encoder_refusal, False),
    ("dead_letter_replay", test_dead_letter_replay, False),
]


def main():
    a = runner_args(jobs=3)
    env = fl.FaultEnv(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir,
                      a.pidfile)
    return run_suite(env, TESTS, a, 28, "isolation")


if __name__ == "__main__":
    sys.exit(main())
