"""Helpers of the fault-tolerance tests (tests/faults/test_faults.py).

Built on the worker integration harness (tests/worker/harness.py, imported, never copied): the
same Env / Case / Worker objects, the same `evaluate` comparison. What is added here:

- stack faults: ops/stack.sh stop-pg / start-pg / stop-kafka / start-kafka on the test's own
  stack (its ports stay reserved for tests/scripts/fault_tolerance.sh while a service is down,
  tests/scripts/lib/ports.py, so a sibling run cannot take one);
- the end-of-scenario invariants, cheap enough for 200,000 events: rows vs `evaluate` (all
  columns through harness.compare_rows for small streams, event_id / determination_id /
  outcome / criteria / reasons for big ones), no duplicate rows, every determination_id on the
  outcomes topic (the `determination_id` header, read from `dump`), every dead letter on the
  dead-letter topic, consumer_offsets.next_offset == the topic's end offset and
  published_offset == next_offset on every partition;
- a rate-limited background producer (`produce --rate`) so that faults hit a flowing stream.
"""
import collections
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "worker"))

import harness  # noqa: E402
from harness import (LETTER, CLAIM_CRITERIA, PA_CRITERIA, TestFailure, check,  # noqa: E402
                     check_eq, clean_env, first_diffs, group_of, qlit)
from harness import dedup_valid, produce_all  # noqa: E402,F401 - fl.* for test_faults.py

PARTITIONS = 4  # harness.Case creates the events topic with 4 partitions


class FaultEnv(harness.Env):
    """harness.Env plus the stack faults."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.exclusive = threading.Lock()  # held by a test that restarts a service

    def stack_fault(self, *args):
        """ops/stack.sh with this stack's dir and ports, fast PostgreSQL as at start."""
        p = subprocess.run([self.stack_sh, *args], capture_output=True, timeout=150,
                           env=clean_env(dict(self.stack_env(), AMTAGVI_PG_FAST="1")))
        out = (p.stdout + p.stderr).decode(errors="replace").strip()
        if p.returncode != 0:
            raise TestFailure("ops/stack.sh %s exited %d: %s" % (" ".join(args), p.returncode,
                                                                out[-1500:]))
        return out


def http_status(port, path, timeout=2):
    """The HTTP status of GET 127.0.0.1:port/path (e.g. the worker's /readyz), None when
    nothing answers."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


# ---------------------------------------------------------------------- Kafka reads


def dump_lines(env, cfg, topic, idle_ms=1000):
    """The messages of a topic as dicts (partition, offset, key hex, value hex, headers hex),
    streamed from `dump` so that 200,000 messages do not sit in memory twice."""
    argv = [env.binary, "dump", "--config", cfg, "--topic", topic, "--idle-ms", str(idle_ms)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    err = []
    t = threading.Thread(target=lambda: err.append(p.stderr.read()))
    t.start()
    out = []
    for line in p.stdout:
        out.append(json.loads(line))
    rc = p.wait(timeout=120)
    t.join()
    if rc != 0:
        raise TestFailure("dump %s exited %d: %s" % (topic, rc, err[0].decode()[-1000:]))
    return out


def hdr(m, name):
    v = m["headers"].get(name)
    return None if v is None else bytes.fromhex(v).decode("utf-8", "replace")


def ends_of(msgs):
    ends = {}
    for m in msgs:
        ends[m["partition"]] = max(ends.get(m["partition"], 0), m["offset"] + 1)
    return ends


def event_ends(env, cfg, topic):
    return ends_of(dump_lines(env, cfg, topic))


# ---------------------------------------------------------------------- PostgreSQL reads


def psql_rows(env, db, sql):
    """Rows of a SELECT as lists of strings (tab-separated; '' for null)."""
    p = env.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-F", "\t", "-h",
                 "127.0.0.1", "-p", str(env.pg_port), "-U", "amtagvi", "-d", db, "-c", sql],
                timeout=120)
    return [l.split("\t") for l in p.stdout.decode().splitlines() if l]


def count_rows(env, db, table="determinations"):
    return int(env.scalar(db, "select count(*) from %s" % table))


def lean_compare(env, db, expected):
    """One row per distinct valid event_id, no duplicates, and each row's determination_id,
    outcome, criteria letters and reason codes equal `evaluate`. Returns {event_id: det_id}."""
    rows = psql_rows(env, db, "select event_id, determination_id, outcome, criteria, "
                              "array_to_string(reason_codes, ',') from determinations")
    seen = collections.Counter(r[0] for r in rows)
    dup = [e for e, n in seen.items() if n > 1]
    check(not dup, "%d event_ids have more than one row: %s" % (len(dup), first_diffs(dup)))
    missing = sorted(set(expected.by_event) - set(seen))
    extra = sorted(set(seen) - set(expected.by_event))
    check(not missing, "%d event_ids have no determinations row: %s" % (len(missing),
                                                                      first_diffs(missing)))
    check(not extra, "%d rows for events evaluate does not know: %s" % (len(extra),
                                                                      first_diffs(extra)))
    diffs = []
    ids = {}
    for eid, det_id, outcome, criteria, reasons in rows:
        want = expected.by_event[eid]
        order = PA_CRITERIA if want["kind"] == "prior_auth" else CLAIM_CRITERIA
        got = (det_id, outcome, criteria, reasons)
        exp = (want["determination_id"], want["outcome"],
               "".join(LETTER[want["criteria"][c]] for c in order),
               ",".join(r["code"] for r in want["reasons"]))
        if got != exp:
            diffs.append("%s: db=%r evaluate=%r" % (eid, got, exp))
        ids[eid] = det_id
    check(not diffs, "%d rows differ from evaluate: %s" % (len(diffs), first_diffs(diffs)))
    return ids


def offsets(env, db, group, topic):
    rows = psql_rows(env, db, "select partition, next_offset, published_offset from "
                              "consumer_offsets where consumer_group = %s and topic = %s" % (
                                  qlit(group), qlit(topic)))
    return {int(p): (int(n), int(pub)) for p, n, pub in rows}


def check_offsets_at_end(env, db, cfg, topic, ends):
    offs = offsets(env, db, group_of(cfg), topic)
    bad = []
    for p in range(PARTITIONS):
        end = ends.get(p, 0)
        if p not in offs:
            if end:
                bad.append("p%d: no consumer_offsets row (topic end %d)" % (p, end))
            continue
        n, pub = offs[p]
        if n != end:
            bad.append("p%d: next_offset %d, topic end offset %d" % (p, n, end))
        if pub != n:
            bad.append("p%d: published_offset %d, next_offset %d" % (p, pub, n))
    check(not bad, "consumer_offsets: %s" % "; ".join(bad))
    return offs


# ---------------------------------------------------------------------- the invariants


def final_check(case, db, cfg, expected, full=True, exact_outcomes=False, dead_letters=0):
    """The invariants every scenario ends with; returns a one-line summary.

    full: compare every column with harness.compare_rows (small streams), else lean_compare.
    exact_outcomes: each determination_id is on the outcomes topic exactly once per message of
    its event (a run with no redelivery and no crash), else at least once.
    dead_letters: the number of dead_letters rows expected; each must be on the DL topic."""
    env = case.env
    if full:
        by_id = harness.compare_rows(case.rows(db), expected)
        ids = {eid: r["determination_id"] for eid, r in by_id.items()}
    else:
        ids = lean_compare(env, db, expected)
    ends = event_ends(env, cfg, case.events_topic)
    outs = dump_lines(env, cfg, case.outcomes_topic)
    published = collections.Counter(hdr(m, "determination_id") for m in outs)
    missing = sorted(eid for eid, d in ids.items() if not published.get(d))
    check(not missing, "%d determinations never published to %s: %s" % (
        len(missing), case.outcomes_topic, first_diffs(missing)))
    stray = set(published) - set(ids.values())
    check(not stray, "%d determination_ids on the outcomes topic without a row: %s" % (
        len(stray), first_diffs(sorted(map(str, stray)))))
    if exact_outcomes:
        bad = ["%s: %d messages, expected %d" % (eid, published[d], expected.occurrences[eid])
               for eid, d in ids.items() if published[d] != expected.occurrences[eid]]
        check(not bad, "outcomes not published exactly once per message: %s" % first_diffs(bad))
    n_dead = count_rows(env, db, "dead_letters")
    check_eq(n_dead, dead_letters, "dead_letters rows")
    if dead_letters:
        stored = {(int(p), int(o)) for p, o in psql_rows(
            env, db, "select source_partition, source_offset from dead_letters")}
        dl = {(int(hdr(m, "__connect.errors.partition")), int(hdr(m, "__connect.errors.offset")))
              for m in dump_lines(env, cfg, case.dl_topic)}
        check(stored <= dl, "dead letters not on the dead-letter topic: %s" % first_diffs(
            sorted(stored - dl)))
    offs = check_offsets_at_end(env, db, cfg, case.events_topic, ends)
    return "%d rows == %d distinct valid events; %d outcome messages; offsets %s" % (
        len(ids), len(expected.by_event), len(outs),
        " ".join("p%d=%d" % (p, offs[p][0]) for p in sorted(offs)))


def no_partial_batch(env, db, cfg, topic):
    """After a clean stop (SIGTERM), on a stream where every message makes exactly one row or
    one dead letter: per partition, the stored source offsets are exactly 0..next_offset-1 and
    published_offset == next_offset. A partial batch (rows without the offset move, or the
    offset moved past rows that are missing) breaks it. Returns {partition: next_offset}."""
    offs = offsets(env, db, group_of(cfg), topic)
    stored = collections.defaultdict(list)
    for p, o in psql_rows(env, db, "select source_partition, source_offset from determinations "
                                   "union all select source_partition, source_offset from "
                                   "dead_letters"):
        stored[int(p)].append(int(o))
    bad = []
    for p in set(offs) | set(stored):
        n, pub = offs.get(p, (0, 0))
        got = sorted(stored.get(p, []))
        top = got[-1] + 1 if got else 0
        if n != top:
            bad.append("p%d: next_offset %d, max stored source offset + 1 = %d" % (p, n, top))
        if got != list(range(n)):
            bad.append("p%d: %d stored messages below next_offset %d (not 0..%d)" % (
                p, len(got), n, n - 1))
        if pub != n:
            bad.append("p%d: published_offset %d, next_offset %d" % (p, pub, n))
    check(not bad, "partial batch: %s" % "; ".join(bad))
    return {p: offs[p][0] for p in sorted(offs)}


# ---------------------------------------------------------------------- producing


class BackgroundProducer:
    """`produce --rate N` of some JSON lines in the background: the stream keeps flowing while
    a fault is injected. wait() checks that every line was sent."""

    def __init__(self, case, cfg, lines, rate, tag="producer"):
        self.case = case
        self.n = len(lines)
        self.path = os.path.join(case.dir, tag + ".jsonl")
        with open(self.path, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        self.log = os.path.join(case.dir, tag + ".log")
        self.proc = subprocess.Popen(
            [case.env.binary, "produce", "--config", cfg, "--rate", str(rate)],
            stdin=open(self.path, "rb"), stdout=subprocess.DEVNULL,
            stderr=open(self.log, "wb"), env=clean_env())
        case.env.record_pid(self.proc.pid)
        case.workers.append(self)  # Case.close() stops it like a worker

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout=180):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("produce --rate did not finish within %ds" % timeout)
        with open(self.log, "rb") as f:
            err = f.read().decode(errors="replace")
        want = "produce: %d sent to %s, 0 failed" % (self.n, self.case.events_topic)
        check(rc == 0 and want in err, "produce exited %s: %r, expected %r" % (
            rc, err.strip().splitlines()[-1:], want))

    def stop_if_running(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def stopped_totals(w):
    st = w.stopped()
    return st["judged"], st["replayed"], st["dead_letters"]


def reserve_port():
    """A free port below the ephemeral range, reserved for this process (tests/scripts/lib)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                                    "lib"))
    import ports
    return ports.reserve([1])[0]
