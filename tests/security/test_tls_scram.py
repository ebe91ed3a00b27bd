#!/usr/bin/python3
"""Security in transit against the real services: tests/scripts/tls_scram.sh starts one throwaway
stack in ops/stack.sh's secure modes (PostgreSQL: TLS with a CA made by the stack, hostssl +
SCRAM only; Kafka: the client port SASL_SSL with SCRAM-SHA-512) and runs this file.

The worker judges a stream end to end over both; then each wrong setting (a CA the server's
certificate does not chain to, a wrong password, a plaintext attempt) is shown to be refused with
a clear error in the worker's JSON log while nothing is written or consumed; the same stream is
then judged with the right settings (so the refusals were the settings, not a broken setup);
last, no password ever reached a log, a command's output or `run --print-config`.

The tests run in order and share the stack. Helpers come from tests/worker/harness.py (imported,
not copied): SecureEnv only adds the TLS URL, the passwords and a record of every output.

Usage: test_tls_scram.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                         --workdir W --pidfile F [-k NAME]...
"""
import collections
import glob
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                 "worker")))

from harness import (DET_FIELDS, Case, Env, TestFailure, check, check_eq,  # noqa: E402
                     compare_rows, first_diffs, report, run_one, runner_args, wait_until)

# How long a refused worker may take to log why (the first attempt fails within a second).
REFUSAL_TIMEOUT = 30


def read_secret(path):
    with open(path) as f:
        v = f.read().strip()
    check(len(v) >= 16, "%s: expected a generated password" % path)
    return v


class SecureEnv(Env):
    """The harness's Env on the secure stack: libpq URLs with sslmode=verify-full and the
    stack's CA, the worker's passwords in the environment of every command (never in argv or a
    config file), and every command's output kept for the secrets check."""

    def __init__(self, *args):
        super().__init__(*args)
        tls = os.path.join(self.stack_dir, "tls")
        sec = os.path.join(self.stack_dir, "secrets")
        self.ca = os.path.join(tls, "ca.crt")
        check(os.path.isfile(self.ca), "the stack made no CA (%s)" % self.ca)
        self.pg_password = read_secret(os.path.join(sec, "pg-amtagvi.password"))
        self.kafka_password = read_secret(os.path.join(sec, "kafka-amtagvi.password"))
        self.secret_env = {"PGPASSWORD": self.pg_password,
                           "AMTAGVI_KAFKA_SASL_PASSWORD": self.kafka_password}
        # Wrong values the refusal tests use: they must not be logged either.
        self.wrong_pg_password = "wrong-pg-" + secrets.token_hex(8)
        self.wrong_kafka_password = "wrong-kafka-" + secrets.token_hex(8)
        self.outputs = []  # (command, stdout + stderr) of everything run through run()
        self.other_ca = self._other_ca()

    def _other_ca(self):
        """A second CA, made by the test: valid, but not the one that signed the servers'."""
        d = os.path.join(self.workdir, "other-ca")
        os.makedirs(d, exist_ok=True)
        crt = os.path.join(d, "ca.crt")
        subprocess.run(["openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes",
                        "-sha256", "-days", "2", "-keyout", os.path.join(d, "ca.key"),
                        "-out", crt, "-subj", "/CN=not the amtagvi stack CA",
                        "-addext", "basicConstraints=critical,CA:TRUE"],
                       check=True, capture_output=True, timeout=60)
        return crt

    def db_url(self, db, sslmode="verify-full", ca=None, password=None):
        user = "amtagvi" if password is None else "amtagvi:" + password
        url = "postgresql://%s@127.0.0.1:%d/%s?sslmode=%s" % (user, self.pg_port, db, sslmode)
        if sslmode.startswith("verify"):
            url += "&sslrootcert=" + (ca or self.ca)
        return url

    def run(self, argv, input_data=None, timeout=120, env=None, check_rc=True):
        e = {} if argv[0] == self.stack_sh else dict(self.secret_env)
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}  # None: not in the environment
        try:
            p = super().run(argv, input_data, timeout, e, check_rc)
        except TestFailure as err:
            self.outputs.append((" ".join(argv[:2]), str(err).encode()))
            raise
        self.outputs.append((" ".join(argv[:2]), p.stdout + p.stderr))
        return p

    def psql(self, db, sql):
        p = self.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-d", self.db_url(db),
                      "-c", sql], timeout=60)
        return p.stdout.decode()

    def kafka_kv(self, **over):
        """The worker's kafka.* settings for the SASL_SSL port (the password is not here)."""
        kv = {"kafka__security__protocol": "SASL_SSL", "kafka__sasl__mechanisms": "SCRAM-SHA-512",
              "kafka__sasl__username": "amtagvi", "kafka__ssl__ca__location": self.ca}
        kv.update(over)
        return {k: v for k, v in kv.items() if v is not None}


# ---------------------------------------------------------------------- shared checks


def check_outcomes(env, case, cfg, expected):
    """The outcomes topic holds every valid event's determination, equal to evaluate's."""
    msgs = env.dump(cfg, case.outcomes_topic)
    seen, diffs = collections.Counter(), []
    for m in msgs:
        det, _ = env.decode_outcome(m["value_bytes"])
        want = expected.by_event.get(det["event_id"])
        if want is None:
            diffs.append("outcome for unexpected event %s" % det["event_id"])
            continue
        seen[det["event_id"]] += 1
        diffs += ["%s.%s: topic=%r evaluate=%r" % (det["event_id"], f, det[f], want[f])
                  for f in DET_FIELDS if det[f] != want[f]]
    check(not diffs, "outcomes differ from evaluate: %s" % first_diffs(diffs))
    missing = sorted(set(expected.by_event) - set(seen))
    check(not missing, "%d events have no outcome message: %s" % (len(missing),
                                                                 first_diffs(missing)))
    # one message per valid input message (a replayed event_id is published again)
    check_eq(len(msgs), expected.n_valid, "outcome messages")
    return len(msgs)


def nothing_written(env, case, db, cfg):
    """No row in the case's database, nothing on its outcomes or dead-letter topic."""
    tables = env.scalar(db, "select string_agg(t, ' ') from unnest(array['determinations', "
                            "'consumer_offsets', 'worker_batches', 'dead_letters']) t "
                            "where to_regclass(t) is not null").split()
    check("determinations" in tables, "no determinations table in %s" % db)
    counts = env.query(db, " union all ".join(
        "select '%s' as tbl, count(*) as n from %s" % (t, t) for t in tables))
    written = ["%s: %d" % (r["tbl"], r["n"]) for r in counts if r["n"]]
    check(not written, "rows written by a refused run: %s" % ", ".join(written))
    for topic in (case.outcomes_topic, case.dl_topic):
        check_eq(len(env.dump(cfg, topic, idle_ms=500)), 0, "messages on %s" % topic)


def refused(case, cfg, tag, extra_env, msgs, phrases, what):
    """Runs a worker that must be refused: waits (bounded) for a log record whose msg is one of
    msgs and whose error/detail names the reason (one of phrases), stops the worker with
    SIGTERM and checks that it consumed nothing. Returns (record, worker)."""
    t0 = time.monotonic()
    w = case.worker(cfg, tag, extra_env)

    def matching():
        out = []
        for r in w.logs():
            text = str(r.get("error", "")) + " " + str(r.get("detail", ""))
            if any(r.get("msg", "").startswith(m) for m in msgs) and \
                    any(p in text for p in phrases):
                out.append(r)
        return out

    def found():
        m = matching()
        if m:
            return m[0]
        if w.proc.poll() is not None:
            raise TestFailure("%s: the worker exited %s without logging %s; last lines: %s" % (
                what, w.proc.returncode, " or ".join(map(repr, phrases)), w.tail()))
        return None

    try:
        rec = wait_until(found, REFUSAL_TIMEOUT, "%s: a log line saying %s" % (
            what, " or ".join(map(repr, phrases))), interval=0.1)
    except TestFailure as e:
        raise TestFailure("%s; last lines: %s" % (e, w.tail()))
    after = time.monotonic() - t0
    w.signal(signal.SIGTERM)
    rc = w.wait(30)  # bounded; how it ends while refused is reported, not judged (see below)
    check_eq(w.count("partitions assigned"), 0, "%s: partitions assigned" % what)
    stopped = w.records("worker stopped")
    if stopped:
        check_eq(stopped[0].get("judged", 0), 0, "%s: events judged" % what)
    kinds = collections.Counter("%s %s%s" % (r.get("level"), r.get("msg"),
                                             " " + r["code"] if r.get("code") else "")
                                for r in matching())
    print("     %s: %s\n       logged within %.1fs as %s; exit %s after SIGTERM%s" % (
        what, (rec.get("error") or rec.get("detail") or "")[:160], after,
        ", ".join("%d x %s" % (n, k) for k, n in sorted(kinds.items())), rc,
        "" if stopped else " (no 'worker stopped' line)"), flush=True)
    return rec, w


# ---------------------------------------------------------------------- the tests

STATE = {}  # what the tests hand on to the next ones (they run in order)


def test_end_to_end(env):
    """Migrate, produce, a worker to the end, over TLS + SCRAM and SASL_SSL; one row per
    valid event, equal to evaluate; the outcomes topic has them all."""
    case = Case(env, "e2e")
    db, cfg = case.new_db_config(**env.kafka_kv())  # migrate over TLS, PGPASSWORD
    with open(os.path.join(env.src, "samples", "events.jsonl")) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    expected = env.evaluate(lines)
    out = env.produce(cfg, lines)  # AMTAGVI_KAFKA_SASL_PASSWORD from the environment
    check("%d sent" % len(expected.lines) in out, "produce said: %s" % out.strip()[-300:])
    # The worker gets the database password inside AMTAGVI_DATABASE_URL, not PGPASSWORD.
    w = case.worker(cfg, "worker", {
        "AMTAGVI_DATABASE_URL": env.db_url(db, password=env.pg_password),
        "AMTAGVI_KAFKA_SASL_PASSWORD": env.kafka_password})
    w.expect_exit(0, timeout=120)
    check(not w.bad_lines(), "log lines that are not JSON: %s" % first_diffs(w.bad_lines()))
    errors = [r for r in w.logs() if r.get("level") == "error"]
    check(not errors, "errors in the worker's log: %s" % first_diffs(errors))
    rows = compare_rows(case.rows(db), expected)
    n = check_outcomes(env, case, cfg, expected)
    # Both connections really were encrypted: the server says so for this very session.
    ssl = env.scalar(db, "select ssl::text || ' ' || version from pg_stat_ssl "
                         "where pid = pg_backend_pid()")
    check(ssl.startswith("true TLSv1."), "pg_stat_ssl of a verify-full session: %r" % ssl)
    print("     %d rows == %d distinct valid events, %d outcome messages (%s)" % (
        len(rows), len(expected.by_event), n, ssl), flush=True)


def refusal_case(env):
    """One case for every refusal: its own topics and migrated database, and a fresh stream on
    its events topic that only the final control run may judge."""
    if "refusal" not in STATE:
        case = Case(env, "refused")
        db, good = case.new_db_config(**env.kafka_kv())
        lines = env.generate(200, seed=1109)
        expected = env.evaluate(lines)
        env.produce(good, lines)
        STATE["refusal"] = (case, db, good, expected)
    # The harness closes a test's cases when it ends (no worker outlives its test); the shared
    # case's workers are all stopped by then, so it is reused as is.
    case = STATE["refusal"][0]
    env.local.cases.append(case)
    return STATE["refusal"]


PG_MSGS = ("database unavailable",)
KAFKA_MSGS = ("librdkafka", "kafka error", "consumer error")


def test_pg_wrong_ca(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, **env.kafka_kv())
    # the password inside AMTAGVI_DATABASE_URL this time: the error must not echo the URL
    refused(case, cfg, "pg-wrong-ca", {
        "AMTAGVI_DATABASE_URL": env.db_url(db, ca=env.other_ca, password=env.pg_password),
        "AMTAGVI_KAFKA_SASL_PASSWORD": env.kafka_password}, PG_MSGS,
        ("certificate verify failed",), "PostgreSQL, a CA that did not sign the server")
    nothing_written(env, case, db, good)


def test_pg_wrong_password(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, **env.kafka_kv())
    refused(case, cfg, "pg-wrong-password", dict(env.secret_env, PGPASSWORD=env.wrong_pg_password),
            PG_MSGS, ('password authentication failed for user "amtagvi"',),
            "PostgreSQL, a wrong password")
    nothing_written(env, case, db, good)


def test_pg_plaintext(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, database__url=env.db_url(db, sslmode="disable"), **env.kafka_kv())
    refused(case, cfg, "pg-plaintext", dict(env.secret_env), PG_MSGS,
            ("no pg_hba.conf entry",), "PostgreSQL, sslmode=disable")
    nothing_written(env, case, db, good)


def test_kafka_wrong_ca(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, **env.kafka_kv(kafka__ssl__ca__location=env.other_ca))
    refused(case, cfg, "kafka-wrong-ca", dict(env.secret_env), KAFKA_MSGS,
            ("certificate verify failed",), "Kafka, a CA that did not sign the broker")
    nothing_written(env, case, db, good)


def test_kafka_wrong_password(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, **env.kafka_kv())
    refused(case, cfg, "kafka-wrong-password",
            dict(env.secret_env, AMTAGVI_KAFKA_SASL_PASSWORD=env.wrong_kafka_password),
            KAFKA_MSGS, ("SASL authentication error", "Authentication failed"),
            "Kafka, a wrong password")
    nothing_written(env, case, db, good)


def test_kafka_plaintext(env):
    case, db, good, _ = refusal_case(env)
    cfg = case.config(db, kafka__security__protocol="PLAINTEXT")
    refused(case, cfg, "kafka-plaintext", {"PGPASSWORD": env.pg_password}, KAFKA_MSGS,
            ("Disconnected while requesting ApiVersion", "incorrect security.protocol"),
            "Kafka, PLAINTEXT against the SASL_SSL port")
    nothing_written(env, case, db, good)


def test_refused_stream_judged_with_right_settings(env):
    """The control: the stream every refused worker left alone is judged in full once the
    settings are right, so the refusals came from the settings alone."""
    case, db, good, expected = refusal_case(env)
    w = case.worker(good, "control", dict(env.secret_env))
    w.expect_exit(0, timeout=120)
    rows = compare_rows(case.rows(db), expected)
    check_outcomes(env, case, good, expected)
    print("     %d rows == %d distinct valid events" % (len(rows), len(expected.by_event)),
          flush=True)


def test_secrets_never_printed(env):
    """Neither password (nor the wrong ones) in any worker's stderr, any command's output, the
    services' own logs, or `run --print-config` (password from the environment or the file)."""
    case, db, _, _ = refusal_case(env)
    pw = {"PostgreSQL password": env.pg_password, "Kafka password": env.kafka_password,
          "wrong PostgreSQL password": env.wrong_pg_password,
          "wrong Kafka password": env.wrong_kafka_password}
    # --print-config, secrets from the environment ...
    cfg = case.config(db, **env.kafka_kv())
    p = env.run([env.binary, "run", "--config", cfg, "--print-config"], env={
        "AMTAGVI_DATABASE_URL": env.db_url(db, password=env.pg_password)})
    printed = p.stdout.decode()
    check("kafka.sasl.password = ****" in printed, "print-config does not show the Kafka "
          "password masked: %s" % printed[-400:])
    check("amtagvi:****@" in printed, "print-config does not show the URL's password masked")
    # ... and from the config file (where they should not be, but may be)
    cfg2 = case.config(db, database__url=env.db_url(db) + "&password=" + env.pg_password,
                       kafka__sasl__password=env.kafka_password, **env.kafka_kv())
    printed2 = env.run([env.binary, "run", "--config", cfg2, "--print-config"],
                       env={"PGPASSWORD": None, "AMTAGVI_KAFKA_SASL_PASSWORD": None}
                       ).stdout.decode()
    with open(cfg2) as f:  # the search below does find a password where there is one
        check(env.pg_password in f.read(), "the config file with the passwords is not one")
    os.unlink(cfg2)
    check("password=****" in printed2, "print-config does not mask password= in the URL")
    texts = [("print-config (env)", printed), ("print-config (file)", printed2)]
    logs = sorted(glob.glob(os.path.join(env.workdir, "*", "*.log")))
    check(len(logs) >= 8, "expected the logs of every worker run, found %d" % len(logs))
    for path in logs:
        with open(path, "rb") as f:
            texts.append((os.path.relpath(path, env.workdir), f.read().decode("utf-8", "replace")))
    texts += [(cmd, out.decode("utf-8", "replace")) for cmd, out in env.outputs]
    service_logs = service_log_files(env)
    for path in service_logs:
        with open(path, "rb") as f:
            texts.append((path, f.read().decode("utf-8", "replace")))
    leaks = ["%s in %s" % (what, where) for where, text in texts
             for what, secret in pw.items() if secret in text]
    check(not leaks, "secrets printed: %s" % first_diffs(leaks, 10))
    print("     %d worker logs, %d command outputs, %d service logs, 2 print-configs: clean" % (
        len(logs), len(env.outputs), len(service_logs)), flush=True)


def service_log_files(env):
    """The broker's and PostgreSQL's own logs (ops/stack.sh keeps the cluster in the stack dir,
    or in /tmp/amtagvi-pg-<hash of the stack dir> when the postgres user cannot reach it)."""
    files = glob.glob(os.path.join(env.stack_dir, "kafka", "logs", "*"))
    h = hashlib.sha1(env.stack_dir.encode()).hexdigest()[:12]
    for root in (os.path.join(env.stack_dir, "pg"), "/tmp/amtagvi-pg-" + h):
        files += glob.glob(os.path.join(root, "postgres.log"))
    return [f for f in files if os.path.isfile(f)]


TESTS = [
    ("test_end_to_end", test_end_to_end),
    ("test_pg_wrong_ca", test_pg_wrong_ca),
    ("test_pg_wrong_password", test_pg_wrong_password),
    ("test_pg_plaintext", test_pg_plaintext),
    ("test_kafka_wrong_ca", test_kafka_wrong_ca),
    ("test_kafka_wrong_password", test_kafka_wrong_password),
    ("test_kafka_plaintext", test_kafka_plaintext),
    ("test_refused_stream_judged_with_right_settings",
     test_refused_stream_judged_with_right_settings),
    ("test_secrets_never_printed", test_secrets_never_printed),
]


def main():
    a = runner_args(jobs=1)
    t0 = time.monotonic()
    env = SecureEnv(a.build, a.src, a.pg_port, a.kafka_port, a.stack_dir, a.workdir, a.pidfile)
    tests = [(n, f) for n, f in TESTS if not a.k or any(k in n for k in a.k)]
    counts = collections.Counter()
    for n, f in tests:  # in order: later tests use what earlier ones set up
        report(run_one(env, n, f), counts, 48)
    print("tls/scram tests took %.0fs (logs in %s)" % (time.monotonic() - t0, a.workdir))
    print("summary: %d passed, %d failed" % (counts[True], counts[False]))
    return 1 if counts[False] or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
