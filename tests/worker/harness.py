"""Test harness for the worker integration tests (tests/worker/test_worker.py).

Everything talks to the one throwaway stack that tests/scripts/worker_integration.sh started:
PostgreSQL through `psql` (JSON out of json_agg, so no driver is needed), Kafka through the
binary's own `produce` and `dump` subcommands, topics through `ops/stack.sh create-topic`.
Outcome messages are decoded with the reference Apache Avro library for Python.

Each test case gets a Case: its own work dir, topics, databases and consumer groups. Worker
processes are Worker objects: stderr goes to a file, every wait has a deadline, and every pid
is appended to PIDFILE so the shell trap can kill what a crashed runner left behind.
"""
import argparse
import collections
import concurrent.futures
import datetime as dt
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

import avro.io
import avro.schema

LETTER = {"MET": "M", "NOT_MET": "N", "UNKNOWN": "U", "NOT_APPLICABLE": "A"}
# Contract §6 / §7 criterion order: the letters of determinations.criteria follow it.
PA_CRITERIA = ["POLICY", "INDICATION", "1.A", "1.B", "1.C", "1.D", "1.E", "1.F", "1.G", "DOSE"]
CLAIM_CRITERIA = ["ORIGINAL", "POLICY", "DUPLICATE", "HCPCS", "DIAGNOSIS", "UNITS", "DOSE",
                  "AUTHORIZATION", "SINGLE_DOSE"]
# §8 fields an outcome message must carry exactly as `evaluate` prints them.
DET_FIELDS = ["determination_id", "event_id", "kind", "member_id", "pa_id", "claim_id",
              "line_number", "policy_id", "policy_version", "outcome", "x12_action", "criteria",
              "reasons", "authorization", "matched_pa_id", "frequency_code", "reversed_event_id"]
# The worker's default schema ids (contract §11): claims of claim schema version 2 under 4, and of
# version 1 (schemas/claim.v1.avsc, read as ORIGINAL) under CLAIM_V1_SCHEMA_ID; determinations of
# version 2 under DET_SCHEMA_ID (DET_V1_SCHEMA_ID was version 1's, no longer written).
SCHEMA_IDS = {1: "prior_auth", 4: "claim"}
CLAIM_V1_SCHEMA_ID = 2
DET_SCHEMA_ID = 5
DET_V1_SCHEMA_ID = 3
CLAIM_V2_FIELDS = ("frequency_code", "original_claim_id")
EPOCH = dt.date(1970, 1, 1)


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, expected %r" % (what, got, want))


def first_diffs(items, n=5):
    items = list(items)
    more = "" if len(items) <= n else " (and %d more)" % (len(items) - n)
    return "; ".join(str(x) for x in items[:n]) + more


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns a true value or timeout seconds passed; returns the value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_all_share(workers, partitions, timeout, what):
    """Waits until every worker has been assigned some but not all of the partitions; a worker
    that exits meanwhile fails the wait at once."""
    def all_share():
        for w in workers:
            if w.proc.poll() is not None:
                raise TestFailure("%s exited %s early: %s" % (w.tag, w.proc.returncode, w.tail()))
        return all(any(0 < k < partitions for k in w.assignments()) for w in workers)
    wait_until(all_share, timeout, what)


def clean_env(extra=None):
    """The caller's AMTAGVI_* / PG* settings must not leak into the binary or psql."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AMTAGVI_") and not k.startswith("PG")}
    env.update(extra or {})
    return env


class Env:
    """The stack and the binary under test."""

    _seq = itertools.count(1)

    def __init__(self, build, src, pg_port, kafka_port, stack_dir, workdir, pidfile):
        self.build = build
        self.src = src
        self.binary = os.path.join(build, "amtagvi-adjudicator")
        self.stack_sh = os.path.join(src, "ops", "stack.sh")
        self.gen = os.path.join(src, "ops", "gen_events.py")
        self.pg_port = pg_port
        self.kafka_port = kafka_port
        self.brokers = "127.0.0.1:%d" % kafka_port
        self.stack_dir = stack_dir
        self.workdir = workdir
        self.pidfile = pidfile
        self.registry_port = None  # the stack's Schema Registry (runner_args --registry-port)
        self.token = "%x" % (os.getpid() & 0xFFFFF)
        self.lock = threading.Lock()
        self.local = threading.local()  # .cases: the Cases of the test running in this thread
        with open(os.path.join(src, "schemas", "determination.avsc")) as f:
            self.det_schema = avro.schema.parse(f.read())
        self.event_schemas = {}
        for sid, name in list(SCHEMA_IDS.items()) + [(CLAIM_V1_SCHEMA_ID, "claim.v1")]:
            with open(os.path.join(src, "schemas", name + ".avsc")) as f:
                self.event_schemas[sid] = avro.schema.parse(f.read())

    @property
    def registry_url(self):
        check(self.registry_port, "no Schema Registry: the runner was given no --registry-port "
                                  "(is rivven-schema installed? ops/install-deps)")
        return "http://127.0.0.1:%d" % self.registry_port

    def stack_env(self):
        """The environment that points ops/stack.sh at this stack (its dir and ports)."""
        e = {"AMTAGVI_STACK_DIR": self.stack_dir, "AMTAGVI_PG_PORT": str(self.pg_port),
             "AMTAGVI_KAFKA_PORT": str(self.kafka_port)}
        if self.registry_port:
            e["AMTAGVI_REGISTRY_PORT"] = str(self.registry_port)
        return e

    def unique(self, stem):
        return "%s-%s-%d" % (stem, self.token, next(self._seq))

    def db_url(self, db):
        return "postgresql://amtagvi@127.0.0.1:%d/%s" % (self.pg_port, db)

    def record_pid(self, pid):
        with self.lock, open(self.pidfile, "a") as f:
            f.write("%d\n" % pid)

    # ------------------------------------------------------------------ commands

    def run(self, argv, input_data=None, timeout=120, env=None, check_rc=True):
        p = subprocess.run(argv, input=input_data, capture_output=True, timeout=timeout,
                           env=clean_env(env))
        if check_rc and p.returncode != 0:
            raise TestFailure("%s exited %d: %s" % (" ".join(argv[:3]), p.returncode,
                                                   p.stderr.decode(errors="replace")[-2000:]))
        return p

    def stack(self, *args):
        return self.run([self.stack_sh, *args], env=self.stack_env(), timeout=120)

    def create_topic(self, name, partitions):
        self.stack("create-topic", name, str(partitions))

    def psql(self, db, sql):
        p = self.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-h", "127.0.0.1",
                      "-p", str(self.pg_port), "-U", "amtagvi", "-d", db, "-c", sql], timeout=60)
        return p.stdout.decode()

    def query(self, db, sql):
        """Rows of a SELECT as a list of dicts (via json_agg: arrays, nulls and numbers typed)."""
        out = self.psql(db, "select coalesce(json_agg(t), '[]'::json) from (%s) t" % sql)
        return json.loads(out)

    def scalar(self, db, sql):
        return self.psql(db, sql).strip()

    def create_database(self, db):
        self.psql("amtagvi", "create database %s" % qident(db))

    def generate(self, events, seed):
        p = self.run([sys.executable, self.gen, "--events", str(events), "--seed", str(seed)])
        return p.stdout.decode().splitlines()

    def evaluate(self, lines):
        """`evaluate` over lines: Expected (one determination per valid line, in order)."""
        data = "".join(l + "\n" for l in lines).encode()
        p = self.run([self.binary, "evaluate"], input_data=data)
        out = [json.loads(l) for l in p.stdout.decode().splitlines()]
        inputs = [l for l in lines if l.strip()]
        check_eq(len(out), len(inputs), "evaluate output lines")
        return Expected(inputs, out)

    def produce(self, cfg, lines, topic=None, raw=False):
        argv = [self.binary, "produce", "--config", cfg]
        if topic:
            argv += ["--topic", topic]
        if raw:
            argv.append("--raw")
        p = self.run(argv, input_data="".join(l + "\n" for l in lines).encode())
        return p.stderr.decode()

    def dump(self, cfg, topic, idle_ms=1000):
        p = self.run([self.binary, "dump", "--config", cfg, "--topic", topic,
                      "--idle-ms", str(idle_ms)], timeout=120)
        msgs = []
        for line in p.stdout.decode().splitlines():
            m = json.loads(line)
            m["key_bytes"] = None if m["key"] is None else bytes.fromhex(m["key"])
            m["value_bytes"] = None if m["value"] is None else bytes.fromhex(m["value"])
            m["hdr"] = {k: None if v is None else bytes.fromhex(v).decode("utf-8", "replace")
                        for k, v in m["headers"].items()}
            msgs.append(m)
        return msgs

    # ------------------------------------------------------------------ Avro

    def decode_outcome(self, value, schema_id=DET_SCHEMA_ID, schema=None):
        """An outcome message value → the determination in evaluate's JSON form + source;
        schema_id / schema: the id it must carry and the writer schema (default: the pinned id
        and schemas/determination.avsc; a Schema Registry's id and the schema it holds)."""
        check(value is not None and len(value) > 5, "outcome message too short: %r" % value)
        check_eq(value[0], 0, "outcome magic byte")
        check_eq(int.from_bytes(value[1:5], "big"), schema_id, "outcome schema id")
        buf = io.BytesIO(value[5:])
        d = avro.io.DatumReader(schema or self.det_schema).read(avro.io.BinaryDecoder(buf))
        check_eq(buf.read(), b"", "bytes after the determination record")
        det = {k: d[k] for k in DET_FIELDS}
        det["policy_version"] = iso_or_none(det["policy_version"])
        if det["authorization"] is not None:
            a = dict(det["authorization"])
            a["valid_from"] = a["valid_from"].isoformat()
            a["valid_until"] = a["valid_until"].isoformat()
            det["authorization"] = a
        det["reasons"] = [dict(r) for r in det["reasons"]]
        det["criteria"] = dict(det["criteria"])
        src = {"topic": d["topic"], "partition": d["partition"], "offset": d["offset"],
               "decided_at": d["decided_at"]}
        return det, src

    def decode_event(self, value):
        """An events-topic message value → (kind, record) with the Python library, or None. A
        claim of schema version 1 is read as version 2 (its frequency fields defaulted)."""
        if value is None or len(value) < 5 or value[0] != 0:
            return None
        sid = int.from_bytes(value[1:5], "big")
        if sid not in self.event_schemas:
            return None
        reader = self.event_schemas[4 if sid == CLAIM_V1_SCHEMA_ID else sid]
        try:
            return SCHEMA_IDS.get(sid, "claim"), avro.io.DatumReader(
                self.event_schemas[sid], reader).read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))
        except Exception:  # noqa: BLE001 - a poison message
            return None

    def event_id_of(self, value):
        """The event_id of an events-topic message (the first field of both schemas: a zigzag
        varint length, then UTF-8), read directly: fast for 20000 messages. None if unreadable."""
        if value is None or len(value) < 6 or value[0] != 0:
            return None
        if int.from_bytes(value[1:5], "big") not in self.event_schemas:
            return None
        z, shift, i = 0, 0, 5
        while i < len(value) and shift < 64:
            b = value[i]
            z |= (b & 0x7F) << shift
            i += 1
            shift += 7
            if not b & 0x80:
                break
        else:
            return None
        n = (z >> 1) ^ -(z & 1)
        if n < 0 or i + n > len(value):
            return None
        try:
            return value[i:i + n].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def encode_event(self, kind, record, schema_id=None, claim_version=2):
        """Confluent-framed Avro of a record; a claim with claim schema version 2 (a record
        without the frequency fields is an ORIGINAL) or, claim_version=1, version 1 under its
        id (the record must then be an ORIGINAL without original_claim_id)."""
        sid = {v: k for k, v in SCHEMA_IDS.items()}[kind]
        if kind == "claim" and claim_version == 1:
            check(record.get("frequency_code", "ORIGINAL") == "ORIGINAL" and
                  record.get("original_claim_id") is None,
                  "claim schema version 1 cannot carry %s" % record.get("frequency_code"))
            sid = CLAIM_V1_SCHEMA_ID
            record = {k: v for k, v in record.items() if k not in CLAIM_V2_FIELDS}
        elif kind == "claim":
            record = dict(record)
            record.setdefault("frequency_code", "ORIGINAL")
            record.setdefault("original_claim_id", None)
        buf = io.BytesIO()
        avro.io.DatumWriter(self.event_schemas[sid]).write(record, avro.io.BinaryEncoder(buf))
        return b"\x00" + (schema_id or sid).to_bytes(4, "big") + buf.getvalue()


def qident(name):
    return '"' + name.replace('"', '""') + '"'


def qlit(s):
    return "'" + s.replace("'", "''") + "'"


def iso_or_none(d):
    return None if d is None else d.isoformat()


class Expected:
    """What `evaluate` says about a stream: per valid line and per event_id."""

    def __init__(self, inputs, outputs):
        self.lines = []  # (input line, event dict, determination) of valid lines, in order
        self.rejected = 0
        for line, det in zip(inputs, outputs):
            if det.get("rejected"):
                self.rejected += 1
                continue
            self.lines.append((line, json.loads(line), det))
        self.by_event = {}
        self.first_event = {}
        self.occurrences = collections.Counter()
        for _, ev, det in self.lines:
            eid = det["event_id"]
            self.occurrences[eid] += 1
            if eid not in self.by_event:
                self.by_event[eid] = det
                self.first_event[eid] = ev
            elif self.by_event[eid] != det:
                raise TestFailure("evaluate gave two determinations for %s" % eid)

    @property
    def n_valid(self):
        return len(self.lines)

    def valid_lines(self):
        return [l for l, _, _ in self.lines]


# ---------------------------------------------------------------------- comparisons

DB_COLUMNS = ("event_id, determination_id::text AS determination_id, kind, member_id, pa_id, "
              "claim_id, line_number, policy_version::text AS policy_version, "
              "decision_date::text AS decision_date, outcome, criteria, reason_codes, "
              "valid_from::text AS valid_from, valid_until::text AS valid_until, auth_max_doses, "
              "auth_dose_min, auth_dose_max, matched_pa_id, source_topic, source_partition, "
              "source_offset, decided_at::text AS decided_at")


def expected_row(det, event):
    order = PA_CRITERIA if det["kind"] == "prior_auth" else CLAIM_CRITERIA
    check_eq(list(det["criteria"].keys()), order, "evaluate criteria order of " + det["event_id"])
    auth = det["authorization"] or {}
    if det["kind"] == "prior_auth":
        decision = dt.datetime.fromisoformat(event["received_at"].replace("Z", "+00:00"))
        decision = decision.astimezone(dt.timezone.utc).date().isoformat()
    else:
        decision = event["service_date"]
    return {
        "determination_id": det["determination_id"], "kind": det["kind"],
        "member_id": det["member_id"], "pa_id": det["pa_id"], "claim_id": det["claim_id"],
        "line_number": det["line_number"], "policy_version": det["policy_version"],
        "decision_date": decision, "outcome": det["outcome"],
        "criteria": "".join(LETTER[det["criteria"][c]] for c in order),
        "reason_codes": [r["code"] for r in det["reasons"]],
        "valid_from": auth.get("valid_from"), "valid_until": auth.get("valid_until"),
        "auth_max_doses": auth.get("max_doses"), "auth_dose_min": auth.get("dose_min_cells"),
        "auth_dose_max": auth.get("dose_max_cells"), "matched_pa_id": det["matched_pa_id"],
    }


def compare_rows(rows, expected):
    """Every row equals evaluate; exactly one row per distinct event_id. Returns rows by id."""
    by_id, dup = {}, []
    for r in rows:
        if r["event_id"] in by_id:
            dup.append(r["event_id"])
        by_id[r["event_id"]] = r
    check(not dup, "duplicate event_id rows: %s" % first_diffs(dup))
    missing = sorted(set(expected.by_event) - set(by_id))
    extra = sorted(set(by_id) - set(expected.by_event))
    check(not missing, "%d event_ids have no determinations row: %s" % (
        len(missing), first_diffs(missing)))
    check(not extra, "%d unexpected rows: %s" % (len(extra), first_diffs(extra)))
    diffs = []
    for eid, det in expected.by_event.items():
        want = expected_row(det, expected.first_event[eid])
        row = by_id[eid]
        for k, v in want.items():
            if row[k] != v:
                diffs.append("%s.%s: db=%r evaluate=%r" % (eid, k, row[k], v))
    check(not diffs, "%d row fields differ from evaluate: %s" % (len(diffs), first_diffs(diffs)))
    check_eq(len(rows), len(expected.by_event), "determinations rows")
    return by_id


def end_offsets(msgs):
    ends = collections.Counter()
    for m in msgs:
        ends[m["partition"]] = max(ends[m["partition"]], m["offset"] + 1)
    return dict(ends)


# ---------------------------------------------------------------------- workers

class Worker:
    def __init__(self, case, cfg, tag, extra_env=None, args=None):
        self.case = case
        self.tag = tag
        self.log_path = os.path.join(case.dir, tag + ".log")
        self._log = open(self.log_path, "wb")
        argv = [case.env.binary, "run", "--config", cfg] + list(args or [])
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self._log,
                                     env=clean_env(extra_env))
        case.env.record_pid(self.proc.pid)
        case.workers.append(self)

    def lines(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def logs(self):
        """The JSON log records (lines that are not JSON are skipped here, see bad_lines)."""
        out = []
        for line in self.lines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def bad_lines(self):
        bad = []
        for line in self.lines():
            try:
                json.loads(line)
            except ValueError:
                bad.append(line)
        return bad

    def assignments(self):
        """How many partitions each "partitions assigned" log line gave the worker, in order."""
        return [r["count"] for r in self.records("partitions assigned")]

    def records(self, msg):
        return [r for r in self.logs() if r.get("msg") == msg]

    def count(self, msg):
        return len(self.records(msg))

    def stopped(self):
        r = self.records("worker stopped")
        check(len(r) == 1, "%s: expected one 'worker stopped' log line, got %d" % (self.tag, len(r)))
        return r[0]

    def wait_log(self, msg, n=1, timeout=60):
        def ok():
            if self.count(msg) >= n:
                return True
            if self.proc.poll() is not None:
                raise TestFailure("%s exited %s before logging %d x '%s'; last lines: %s" % (
                    self.tag, self.proc.returncode, n, msg, self.tail()))
            return False
        wait_until(ok, timeout, "%d x '%s' in %s" % (n, msg, self.tag), interval=0.01)

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("%s did not exit within %ds; last lines: %s" % (
                self.tag, timeout, self.tail()))
        self._log.close()
        return rc

    def expect_exit(self, rc_want, timeout=120):
        rc = self.wait(timeout)
        check(rc == rc_want, "%s exited %s, expected %s; last lines: %s" % (
            self.tag, rc, rc_want, self.tail()))

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        return self.wait(30)

    def tail(self, n=6):
        return " | ".join(l[:300] for l in self.lines()[-n:])

    def stop_if_running(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self._log.closed:
            self._log.close()


class Case:
    """One test case's private world: topics, databases, groups, configs, work dir."""

    def __init__(self, env, name, topics=True):
        self.env = env
        self.name = name
        self.dir = os.path.join(env.workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.workers = []
        getattr(env.local, "cases", []).append(self)
        self.events_topic = env.unique("wt.%s.events" % name)
        self.outcomes_topic = env.unique("wt.%s.outcomes" % name)
        self.dl_topic = env.unique("wt.%s.dead" % name)
        for t, n in ((self.events_topic, 4), (self.outcomes_topic, 4), (self.dl_topic, 1)):
            if topics:
                env.create_topic(t, n)
        self._cfg_seq = itertools.count(1)

    def database(self):
        db = self.env.unique("wt_%s" % self.name).replace("-", "_")
        self.env.create_database(db)
        return db

    def config(self, db, **kv):
        """A config file for this case; keys with dots are given with '__' for '.'"""
        settings = {
            "brokers": self.env.brokers,
            "database.url": self.env.db_url(db),
            "group.id": self.env.unique("g.%s" % self.name),
            "topics": self.events_topic,
            "outcomes.topic": self.outcomes_topic,
            "dead_letter.topic": self.dl_topic,
            "exit.when.idle.ms": "3000",
            "worker.id": "%s-w" % self.name,
        }
        for k, v in kv.items():
            settings[k.replace("__", ".")] = str(v)
        path = os.path.join(self.dir, "c%d.conf" % next(self._cfg_seq))
        with open(path, "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        return path

    def migrate(self, cfg):
        out = self.env.run([self.env.binary, "migrate", "--config", cfg]).stdout.decode()
        check("database up to date" in out, "migrate said: %r" % out)

    def new_db_config(self, **kv):
        db = self.database()
        cfg = self.config(db, **kv)
        self.migrate(cfg)
        return db, cfg

    def worker(self, cfg, tag, extra_env=None, args=None):
        return Worker(self, cfg, tag, extra_env, args)

    def rows(self, db):
        return self.env.query(db, "select %s from determinations order by source_partition, "
                                  "source_offset" % DB_COLUMNS)

    def offsets(self, db, group):
        rows = self.env.query(db, "select partition, next_offset, published_offset from "
                                  "consumer_offsets where consumer_group = %s and topic = %s" % (
                                      qlit(group), qlit(self.events_topic)))
        return {r["partition"]: r for r in rows}

    def close(self):
        for w in self.workers:
            w.stop_if_running()


def group_of(cfg):
    with open(cfg) as f:
        for line in f:
            k, _, v = line.partition("=")
            if k.strip() == "group.id":
                return v.strip()
    raise TestFailure("no group.id in " + cfg)


# ---------------------------------------------------------------------- producing events


def produce_all(case, cfg, lines, sent=None):
    """`produce` the JSON lines to the case's events topic; sent: how many it must report sent
    (default all: lines `evaluate` rejects are not sent)."""
    err = case.env.produce(cfg, lines)
    want = "produce: %d sent to %s, 0 failed" % (len(lines) if sent is None else sent,
                                                  case.events_topic)
    check(want in err, "produce said %r, expected %r" % (err.strip().splitlines()[-1:], want))


def dedup_valid(expected):
    """The valid lines with each event_id once: every message then makes exactly one row."""
    seen, out = set(), []
    for line, _, det in expected.lines:
        if det["event_id"] not in seen:
            seen.add(det["event_id"])
            out.append(line)
    return out


# ---------------------------------------------------------------------- hand-written events

NPI = "1234567893"


def pa_event(eid, member, pa_id, received="2026-06-01T10:00:00Z", **over):
    ev = {"kind": "prior_auth", "event_id": eid, "pa_id": pa_id, "received_at": received,
          "urgency": "STANDARD", "member_id": member, "birth_date": "1970-03-04",
          "diagnosis_codes": ["C43.9"], "disease_status": "METASTATIC", "braf_v600": "NEGATIVE",
          "prior_therapies": [{"drug": "pembrolizumab", "start_date": "2025-01-10",
                               "end_date": None}],
          "lymphodepletion": "PLANNED", "prescriber_npi": NPI,
          "prescriber_taxonomy": "207RX0202X", "consulting_npi": None,
          "consulting_taxonomy": None, "requested_dose_cells": None}
    ev.update(over)
    return ev


def claim_event(eid, member, claim_id, service, auth, **over):
    """A claim line received at 09:00 UTC on its service date."""
    ev = {"kind": "claim", "event_id": eid, "claim_id": claim_id, "line_number": 1,
          "received_at": service + "T09:00:00Z", "member_id": member,
          "birth_date": "1970-03-04", "service_date": service, "hcpcs_code": "J3590",
          "ndc": None, "units": 1, "dose_viable_cells": 20000000000,
          "diagnosis_codes": ["C43.9"], "rendering_npi": NPI, "authorization_id": auth,
          "billed_amount_cents": 51500000}
    ev.update(over)
    return ev


def avro_record(ev):
    """The JSON event as the Python Avro library wants it (datetime / date objects)."""
    def d(s):
        return None if s is None else dt.date.fromisoformat(s)
    rec = {k: v for k, v in ev.items() if k != "kind"}
    rec["received_at"] = dt.datetime.fromisoformat(ev["received_at"].replace("Z", "+00:00"))
    rec["birth_date"] = d(ev["birth_date"])
    if ev["kind"] == "claim":
        rec["service_date"] = d(ev["service_date"])
    else:
        rec["prior_therapies"] = [{"drug": p["drug"], "start_date": d(p["start_date"]),
                                   "end_date": d(p["end_date"])} for p in ev["prior_therapies"]]
    return rec


def encode(env, ev, claim_version=2):
    """Confluent-framed Avro of a JSON event, by the reference Python library."""
    return env.encode_event(ev["kind"], avro_record(ev), claim_version=claim_version)


def zigzag(n):
    """An Avro long: zigzag, then base-128 varint."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


# ---------------------------------------------------------------------- Schema Registry


class Registry:
    """A Confluent Schema Registry's REST API (urllib, JSON): the tests' own client, independent
    of the binary's (src/io/registry.c)."""

    CT = "application/vnd.schemaregistry.v1+json"

    def __init__(self, url, timeout=10):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def call(self, method, path, body=None):
        """(HTTP status, JSON answer or text); a connection failure raises TestFailure."""
        req = urllib.request.Request(self.url + path, method=method, headers={
            "Content-Type": self.CT, "Accept": self.CT},
            data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text
        except OSError as e:
            raise TestFailure("Schema Registry %s %s: %s" % (method, path, e))

    def ok(self, method, path, body=None):
        status, out = self.call(method, path, body)
        check(status == 200, "Schema Registry %s %s: HTTP %d %r" % (method, path, status, out))
        return out

    @staticmethod
    def q(subject):
        return urllib.parse.quote(subject, safe="")

    def register(self, subject, schema):
        """Registers schema (JSON text or a dict) under subject; returns its id."""
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return self.ok("POST", "/subjects/%s/versions" % self.q(subject), {"schema": text})["id"]

    def set_compatibility(self, subject, level):
        """PUT /config/{subject}; returns the level the registry then reports for the subject."""
        self.ok("PUT", "/config/%s" % self.q(subject), {"compatibility": level})
        return self.ok("GET", "/config/%s" % self.q(subject)).get("compatibilityLevel")

    def schema_by_id(self, sid):
        """(HTTP status, answer) of GET /schemas/ids/{id}."""
        return self.call("GET", "/schemas/ids/%d" % sid)

    def latest(self, subject):
        """The latest version under subject: {"id", "version", "schema", ...}."""
        return self.ok("GET", "/subjects/%s/versions/latest" % self.q(subject))


def full_name(schema_json):
    """The full name of a record schema's JSON text or dict (namespace + name)."""
    s = json.loads(schema_json) if isinstance(schema_json, str) else schema_json
    name = s["name"]
    return name if "." in name or not s.get("namespace") else s["namespace"] + "." + name


def frame(schema, schema_id, record):
    """Confluent-framed Avro of record written with schema (a parsed Avro schema) under id."""
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(buf))
    return b"\x00" + schema_id.to_bytes(4, "big") + buf.getvalue()


# ---------------------------------------------------------------------- the runners' shared part


def runner_args(jobs):
    """The command line of test_worker.py and tests/faults/test_faults.py (the shell scripts
    pass both the same stack options); jobs: the default of --jobs."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ap.add_argument("--kafka-port", type=int, required=True)
    ap.add_argument("--stack-dir", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--registry-port", type=int, default=None,
                    help="the stack's Schema Registry (stack_runner.sh passes it when it runs)")
    ap.add_argument("--jobs", type=int, default=jobs)
    ap.add_argument("-k", action="append", default=[], help="run only tests whose name has this")
    return ap.parse_args()


def run_one(env, name, fn):
    """Runs one test: (name, ok, why, seconds); closes every Case the test opened."""
    t0 = time.monotonic()
    env.local.cases = []
    try:
        fn(env)
        ok, why = True, ""
    except TestFailure as e:
        ok, why = False, str(e)
    except Exception:  # noqa: BLE001 - a harness error is a failure too, with its trace
        ok, why = False, traceback.format_exc()
    finally:
        for case in env.local.cases:  # no worker outlives its test
            case.close()
    return name, ok, why, time.monotonic() - t0


def run_suite(env, tests, a, width, label):
    """Runs the tests that -k selects (all without it), each (name, fn) or (name, fn, exclusive):
    the exclusive ones (they restart a service of the shared stack) first, each alone, then the
    rest side by side on a.jobs threads; prints PASS / FAIL, the time and the summary.
    @returns the exit status: 1 when a test failed or none was selected."""
    tests = [t for t in tests if not a.k or any(k in t[0] for k in a.k)]
    counts = collections.Counter()
    t0 = time.monotonic()
    for name, fn, *excl in tests:
        if excl and excl[0]:
            report(run_one(env, name, fn), counts, width)
    shared = [(name, fn) for name, fn, *excl in tests if not (excl and excl[0])]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for fut in [pool.submit(run_one, env, n, f) for n, f in shared]:
            report(fut.result(), counts, width)
    print("%s tests took %.0fs (logs in %s)" % (label, time.monotonic() - t0, a.workdir))
    print("summary: %d passed, %d failed" % (counts[True], counts[False]))
    return 1 if counts[False] or not tests else 0


def report(result, counts, width):
    """Prints PASS / FAIL for a run_one result and counts it in counts[ok]."""
    name, ok, why, secs = result
    counts[ok] += 1
    if ok:
        print("PASS %-*s %5.1fs" % (width, name, secs), flush=True)
    else:
        print("FAIL %-*s %5.1fs\n     %s" % (width, name, secs, why.replace("\n", "\n     ")),
              flush=True)


def suite_main(tests, label, jobs=1, setup=None, env_class=Env, needs_registry=False):
    """The whole body of a runner script: its arguments (runner_args), setup(args) if given (an
    import that needs --src), the environment, the suite. A TestFailure before any test ran
    counts as one failed test. @returns the exit status."""
    try:
        a = runner_args(jobs=jobs)
        if setup:
            setup(a)
        env = env_class(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir,
                        a.pidfile)
        env.registry_port = getattr(a, "registry_port", None)
        if needs_registry and not env.registry_port:
            raise TestFailure("no --registry-port: the stack runs no Schema Registry "
                              "(rivven-schema is installed by ops/install-deps)")
        return run_suite(env, tests, a, max(len(t[0]) for t in tests), label)
    except TestFailure as e:
        print("summary: 0 passed, 1 failed\n%s" % e)
        return 1
