#!/usr/bin/python3
"""The worker with a Schema Registry (rivven-schema) that goes away: it waits, never
dead-letters, says so on /readyz, and judges every event once the registry is back.

tests/scripts/registry_faults.sh starts the stack (PostgreSQL, Kafka, the registry) and runs this
file. Writer schemas (prior auth and claim versions 1, 2 and the test-only evolutions of
tests/interop/registry_interop.py) are registered over REST and events encoded with their ids by
Apache Avro for Python and produced with kafka-python. The registry is stopped, started and
restarted with `ops/stack.sh registry stop|start|restart` on the test's own stack, which keeps
its schemas (and so their ids) across a stop.

registry_down_at_start: the registry is down when the worker starts: it logs "schema registry
  unavailable" (waiting for it), /readyz answers 503 and nothing is judged or dead-lettered;
  the registry starts: the worker proceeds and every event is judged as `evaluate` judges it.
sigterm_while_waiting: SIGTERM while the worker waits for the registry at start-up (its back-off
  grown to seconds), then while a batch waits for the writer schema of an id it has not met,
  stops it within 3 s with exit status 0; nothing of the waiting batch is stored, and a worker
  started once the registry is back judges it.
registry_restart_mid_stream: a stream written with seven writer ids flows while the registry is
  restarted; then, with the registry stopped, more events of ids the worker has met are judged
  (no request to the registry: no "schema registry unavailable" line, /readyz stays 200); then
  an event of an id it has not met waits (a log line, /readyz 503, no dead letter, no row)
  until the registry is started again. At the end: every event judged exactly once, equal to
  `evaluate`, every determination published exactly once, no dead letter, consumer_offsets at
  the end of every partition (faultlib.final_check).

A worker that waits for the registry is frozen (SIGSTOP) while `ops/stack.sh registry start`
registers the saved schemas again (start_registry_frozen says why); a restart while a worker
runs is only done once it has met every id in use.

Every wait has a deadline. Usage: test_registry_faults.py --build DIR --src DIR --pg-port P
  --kafka-port K --stack-dir D --workdir W --pidfile F --registry-port R [-k NAME]...
"""
import json
import os
import random
import signal
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import avro.schema  # noqa: E402

import faultlib as fl  # noqa: E402
from faultlib import TestFailure, check, check_eq  # noqa: E402
from harness import (Case, Registry, claim_event, frame, pa_event,  # noqa: E402
                     suite_main, wait_until)
import registry_interop as ri  # noqa: E402 - writer schemas and how events are written with them
import wire_compat as wc  # noqa: E402 - kafka-python

UNAVAILABLE = "schema registry unavailable"


def say(msg):
    print("     %s" % msg, flush=True)


# ====================================================================== helpers


def unavailable(w):
    """The worker's log records saying it waits for the registry."""
    return [r for r in w.logs() if str(r.get("msg", "")).startswith(UNAVAILABLE)]


def wait_unavailable(w, n=1, timeout=60):
    def ok():
        if w.proc.poll() is not None:
            raise TestFailure("%s exited %s while the registry was down; last lines: %s" % (
                w.tag, w.proc.returncode, w.tail()))
        return len(unavailable(w)) >= n
    wait_until(ok, timeout, "%d x '%s...' in %s's log" % (n, UNAVAILABLE, w.tag), interval=0.05)


def registry(env, action):
    """ops/stack.sh registry start|stop|restart|status on this stack; status: True if up."""
    if action == "status":
        p = env.run([env.stack_sh, "registry", "status"], env=env.stack_env(), check_rc=False,
                    timeout=30)
        return p.returncode == 0
    out = env.stack_fault("registry", action)
    say("registry %s: %s" % (action, out.splitlines()[-1] if out else ""))
    return out


class Setup:
    """The writer schemas registered (the registry up), and a case with a registry config."""

    def __init__(self, env, name, **kv):
        self.env = env
        check(registry(env, "status"), "the registry is not running at the start of " + name)
        self.reg = Registry(env.registry_url)
        self.writers = ri.register_writers(env, self.reg)
        self.case = Case(env, name)
        self.mport = fl.reserve_port()
        kv.setdefault("schema__registry__retry__max__ms", 1000)
        self.db = self.case.database()
        self.cfg = self.case.config(self.db, schema__registry__url=env.registry_url,
                                    metrics__address="127.0.0.1:%d" % self.mport, **kv)
        self.case.migrate(self.cfg)
        self.lines = []  # JSON of every event produced, in order (for evaluate)

    def events(self, n, seed):
        """The valid events of a generated stream (ops/gen_events.py)."""
        return [ev for _, ev, _ in self.env.evaluate(self.env.generate(n, seed)).lines]

    def messages(self, evs, seed):
        """The events as (key, value) messages, each written with a version that can carry it."""
        rng = random.Random(seed)
        return [self.message(ev, rng.choice(sorted(ri.versions_for(ev)))) for ev in evs]

    def message(self, ev, version):
        sid, schema = self.writers[version]
        self.lines.append(json.dumps(ev))
        return ev["member_id"].encode(), frame(schema, sid, ri.record_for(ev, version))

    def produce(self, msgs):
        wc.produce_python(self.env, self.case.events_topic, msgs)

    def expected(self):
        exp = self.env.evaluate(self.lines)
        check_eq(exp.rejected, 0, "lines evaluate rejects")
        return exp

    def distinct(self):
        """How many rows the events produced so far make (one per distinct event_id)."""
        return len(self.expected().by_event)

    def readyz(self):
        return fl.http_status(self.mport, "/readyz")

    def rows(self):
        return fl.count_rows(self.env, self.db)

    def dead(self):
        return fl.count_rows(self.env, self.db, "dead_letters")

    def wait_rows(self, n, timeout, w=None):
        def ok():
            if w is not None and w.proc.poll() is not None:
                raise TestFailure("%s exited %s; last lines: %s" % (w.tag, w.proc.returncode,
                                                                   w.tail()))
            return self.rows() >= n
        try:
            wait_until(ok, timeout, "%d determinations rows" % n, interval=0.2)
        except TestFailure as e:
            raise TestFailure("%s (have %d, %d dead letters)%s" % (
                e, self.rows(), self.dead(), "; %s's last lines: %s" % (w.tag, w.tail())
                if w is not None else ""))
        check_eq(self.rows(), n, "determinations rows")

    def readyz_stays(self, want, seconds):
        """/readyz answers `want` at every poll for that many seconds."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.readyz()
            check(got == want, "/readyz answered %s, expected %s" % (got, want))
            time.sleep(0.2)


def start_registry_frozen(env, workers):
    """ops/stack.sh registry start with the workers stopped (SIGSTOP) until it is done.

    rivven-schema keeps its schemas in memory: `start` registers the saved ones again once it
    answers, and for the second or so that takes, a saved id answers 404 (which a worker rightly
    dead-letters as unknown_schema) and a registration takes an id the restore then needs. The
    workers must meet the registry as it was before the stop, so they are frozen meanwhile."""
    live = [w for w in workers if w is not None and w.proc.poll() is None]
    for w in live:
        w.signal(signal.SIGSTOP)
    try:
        registry(env, "start")
    finally:
        for w in live:
            w.signal(signal.SIGCONT)


def paced_produce(setup, msgs, seconds):
    """Produces msgs in slices over about `seconds` in a thread; returns (thread, errors)."""
    errors = []

    def run():
        try:
            step = max(1, len(msgs) // max(1, int(seconds / 0.2)))
            for i in range(0, len(msgs), step):
                setup.produce(msgs[i:i + step])
                time.sleep(0.2)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def stop_worker(w, within):
    """SIGTERM; the worker must exit 0 within `within` seconds. Returns the seconds taken."""
    t0 = time.monotonic()
    w.signal(signal.SIGTERM)
    w.expect_exit(0, timeout=within)
    return time.monotonic() - t0


# ====================================================================== the tests


def test_registry_down_at_start(env):
    s = Setup(env, "down-at-start", exit__when__idle__ms=4000)
    s.produce(s.messages(s.events(300, 1301), 1301))
    expected = s.expected()
    registry(env, "stop")
    w = None
    try:
        w = s.case.worker(s.cfg, "w")
        wait_unavailable(w, n=2, timeout=30)
        s.readyz_stays(503, 3)
        check_eq((s.rows(), s.dead()), (0, 0), "(rows, dead letters) while the registry is down")
        check(w.proc.poll() is None, "the worker exited while waiting: %s" % w.tail())
    finally:
        start_registry_frozen(env, [w])
    w.expect_exit(0, timeout=120)
    summary = fl.final_check(s.case, s.db, s.cfg, expected, full=True, exact_outcomes=True)
    say("down at start: %d '%s' lines, then %s" % (len(unavailable(w)), UNAVAILABLE, summary))


def test_sigterm_while_waiting(env):
    # Default back-off cap (10 s): SIGTERM must not wait for the back-off to run out.
    s = Setup(env, "sigterm", exit__when__idle__ms=0, schema__registry__retry__max__ms=10000)
    s.produce([s.message(pa_event("st-pa1", "ST-1", "PA-ST-1"), "pa1")])
    registry(env, "stop")
    try:
        w = s.case.worker(s.cfg, "w-start")
        wait_unavailable(w, n=6, timeout=30)  # 6.3 s: the back-off is now 3.2 s and growing
        time.sleep(0.3)
        took = stop_worker(w, within=3)
        check_eq((s.rows(), s.dead()), (0, 0), "(rows, dead letters) after the start-up stop")
    finally:
        registry(env, "start")
    say("SIGTERM while waiting at start-up: exit 0 in %.1fs" % took)

    # Mid-stream: a worker judges the first event (pa1 met), then the registry goes away and an
    # event of an id the worker has not met comes.
    w = s.case.worker(s.cfg, "w-mid")
    s.wait_rows(1, 60, w)
    registry(env, "stop")
    try:
        s.produce([s.message(pa_event("st-pa2", "ST-2", "PA-ST-2"), "pa3")])
        wait_unavailable(w, n=5, timeout=30)  # the batch's back-off has grown to 1.6 s
        check_eq((s.rows(), s.dead()), (1, 0), "(rows, dead letters) while the batch waits")
        check_eq(s.readyz(), 503, "/readyz while the batch waits for the registry")
        took = stop_worker(w, within=3)
        check_eq((s.rows(), s.dead()), (1, 0), "(rows, dead letters) after the mid-stream stop")
    finally:
        registry(env, "start")
    say("SIGTERM while a batch waits: exit 0 in %.1fs" % took)
    w = s.case.worker(s.cfg, "w-after", extra_env={"AMTAGVI_EXIT_WHEN_IDLE_MS": "4000"})
    w.expect_exit(0, timeout=120)
    say("after: %s" % fl.final_check(s.case, s.db, s.cfg, s.expected(), full=True))


def test_registry_restart_mid_stream(env):
    s = Setup(env, "restart", exit__when__idle__ms=0)
    # A writer id that nothing uses until the registry is down (registered now: a stop keeps
    # it): claim version 2 with another doc is another schema, so another id.
    fresh = dict(ri.writer_schemas(env)["claim2"], doc="TEST ONLY: claim v2, another id")
    fresh_id = s.reg.register(ri.CLAIM_NAME, json.dumps(fresh))
    check(fresh_id not in {i for i, _ in s.writers.values()}, "a fresh id: %d" % fresh_id)
    s.writers["fresh"] = (fresh_id, avro.schema.parse(json.dumps(fresh)))

    w = s.case.worker(s.cfg, "w")
    evs = s.events(1800, 1303)  # the last 300 go while the registry is down
    msgs = s.messages(evs[:-300], 1303)
    # The worker meets every writer id before the restart (one that it met during the second
    # the restarted registry takes to register its saved schemas again would be a 404).
    first = msgs[:200]
    check_eq(len({m[1][1:5] for m in first}), 7, "writer ids in the first 200 messages")
    s.produce(first)
    s.wait_rows(len(env.evaluate(s.lines[:200]).by_event), 60, w)
    t, errors = paced_produce(s, msgs[200:], 8)
    time.sleep(2.5)
    check(t.is_alive(), "the stream finished before the registry restart")
    registry(env, "restart")
    t.join(120)
    check(not t.is_alive() and not errors, "the paced producer: %s" % (errors or "still running"))
    n1 = s.distinct()
    s.wait_rows(n1, 120, w)
    check_eq(s.dead(), 0, "dead letters after the restart")
    check_eq(len(unavailable(w)), 0, "'%s' lines (every id was met before)" % UNAVAILABLE)
    say("restart mid-stream: %d rows; %d '%s' lines" % (n1, len(unavailable(w)), UNAVAILABLE))

    registry(env, "stop")
    try:
        # Ids the worker has met keep working while the registry is down, without asking it.
        before = len(unavailable(w))
        s.produce(s.messages(evs[-300:], 1304))
        n2 = s.distinct()
        s.wait_rows(n2, 60, w)
        check(not registry(env, "status"), "the registry came back by itself")
        check_eq(len(unavailable(w)), before, "'%s' lines while met ids flowed" % UNAVAILABLE)
        check_eq(s.readyz(), 200, "/readyz while met ids flow with the registry down")
        # An id it has not met waits.
        s.produce([s.message(claim_event("rs-fresh", "RS-1", "CLM-RS-1", "2026-06-20", None),
                             "fresh")])
        wait_unavailable(w, n=before + 2, timeout=30)
        wait_until(lambda: s.readyz() == 503, 30, "/readyz 503 while the registry is down")
        time.sleep(1)
        check_eq((s.rows(), s.dead()), (n2, 0), "(rows, dead letters) while the new id waits")
    finally:
        start_registry_frozen(env, [w])
    s.wait_rows(n2 + 1, 60, w)
    wait_until(lambda: s.readyz() == 200, 30, "/readyz 200 after the registry is back")
    stop_worker(w, within=30)
    say("restart: %s" % fl.final_check(s.case, s.db, s.cfg, s.expected(), full=True,
                                       exact_outcomes=True))


TESTS = [("registry_down_at_start", test_registry_down_at_start, True),
         ("sigterm_while_waiting", test_sigterm_while_waiting, True),
         ("registry_restart_mid_stream", test_registry_restart_mid_stream, True)]



if __name__ == "__main__":
    sys.exit(suite_main(TESTS, "registry faults", setup=lambda a: wc.import_kafka(a.src),
                        env_class=fl.FaultEnv, needs_registry=True))
