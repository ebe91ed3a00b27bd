#!/usr/bin/python3
"""Retention end to end (issue 14; docs/DECISIONS.md "Retention"): `amtagvi-adjudicator
retention` against a real PostgreSQL 15 + Kafka 3.9, on determinations the `run` worker wrote.

Phase 1: a generated stream (ops/gen_events.py, dates 2024-06 .. 2026) and hand-written members
dated 2024-2025 are judged by a worker. The horizon is 2025-06-01.

- archive beside a worker: a second worker consumes a throttled stream while `retention
  --mode archive` runs in small batches; the worker commits batches during the run, logs no
  error and exits 0. Afterwards no removable row older than the horizon is left, every removed
  row is in determinations_archive (and nothing else), nothing is lost, and every member's paid
  doses counted on what is left equal those counted on the whole history (determinations +
  archive). Then new events are judged against the thinned history: a member whose paid dose is
  older than the horizon is still refused (PRIOR_AMTAGVI, PRIOR_DOSE_PAID), also when the dose
  is an accepted replacement; a member whose old line was voided (both removed) is paid; a line
  voided by an old void of a newer line stays voided (the void is kept); the documented
  consequences hold (a void of a removed line: ORIGINAL_NOT_FOUND; a replayed removed event is
  judged anew). `retro` warns, on stderr and in its summary, for a window that starts before the
  horizon and records it in retro_runs, and does not for one after it.
- delete, stop and refuse (on a copy of the phase-1 database): a horizon 30 days back is
  refused, and accepted with --force --dry-run without changing anything; `--mode delete` is
  stopped with SIGTERM between batches: exit 0, status interrupted, rows_deleted equal to what
  is gone, paid doses unchanged, retention_horizon() at the point reached; running it again
  finishes the job.

Usage: test_retention.py --build DIR --src DIR --pg-port P --kafka-port K --stack-dir D
                         --workdir W --pidfile F [-k NAME]...
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "worker"))

from harness import (Case, TestFailure, check, check_eq, claim_event, clean_env,  # noqa: E402
                     group_of, pa_event, qident, qlit, suite_main, wait_until)

HORIZON = "2025-06-01"
BILLED = ("(d.frequency_code IS NULL OR d.frequency_code = 'ORIGINAL' OR "
          "(d.frequency_code = 'REPLACEMENT' AND d.reversed_event_id IS NOT NULL))")


def say(msg):
    print("    retention: %s" % msg, flush=True)


def old_pa(eid, member, pa_id, received):
    """An approvable PA received on an old date (its prior therapy started before it)."""
    return pa_event(eid, member, pa_id, received + "T10:00:00Z",
                    prior_therapies=[{"drug": "pembrolizumab", "start_date": "2023-01-10",
                                      "end_date": None}])


def claim(eid, member, claim_id, service, auth, frequency=None, ref=None, **over):
    ev = claim_event(eid, member, claim_id, service, auth, **over)
    if frequency is not None:
        ev["frequency_code"] = frequency
        ev["original_claim_id"] = ref
    return ev


def old_events():
    """The hand-written history, decided before the horizon (m5's line after it), and what the
    worker must make of it: event_id -> (outcome, reversed_event_id)."""
    evs = [
        # m1: a paid dose, and a denied line of another claim.
        old_pa("R-P1", "R-M1", "R-PA1", "2024-09-01"),
        claim("R-C1", "R-M1", "R-CLM1", "2024-10-01", "R-PA1"),
        claim("R-C1D", "R-M1", "R-CLM9", "2024-10-02", "R-PA1", diagnosis_codes=[]),
        # m2: a paid line voided: nothing of it counts any more.
        old_pa("R-P2", "R-M2", "R-PA2", "2024-09-01"),
        claim("R-C2", "R-M2", "R-CLM2", "2024-10-01", "R-PA2"),
        claim("R-V2", "R-M2", "R-CLM2V", "2024-10-01", None, "VOID", "R-CLM2"),
        # m3: a denied PA (resectable disease).
        old_pa("R-P3", "R-M3", "R-PA3", "2024-09-01") | {"disease_status": "RESECTABLE"},
        # m4: the paid dose is a replacement of an older line.
        old_pa("R-P4", "R-M4", "R-PA4", "2024-09-01"),
        claim("R-C4", "R-M4", "R-CLM4", "2024-10-01", "R-PA4"),
        claim("R-R4", "R-M4", "R-CLM4R", "2024-10-01", "R-PA4", "REPLACEMENT", "R-CLM4"),
        # m5: a line after the horizon voided by a void whose service date is before it.
        old_pa("R-P5", "R-M5", "R-PA5", "2025-09-01"),
        claim("R-C5", "R-M5", "R-CLM5", "2025-10-01", "R-PA5"),
        claim("R-V5", "R-M5", "R-CLM5V", "2025-01-01", None, "VOID", "R-CLM5"),
    ]
    want = {"R-P1": ("APPROVED", None), "R-C1": ("APPROVED", None), "R-C1D": ("DENIED", None),
            "R-P2": ("APPROVED", None), "R-C2": ("APPROVED", None),
            "R-V2": ("APPROVED", "R-C2"), "R-P3": ("DENIED", None),
            "R-P4": ("APPROVED", None), "R-C4": ("APPROVED", None),
            "R-R4": ("APPROVED", "R-C4"), "R-P5": ("APPROVED", None),
            "R-C5": ("APPROVED", None), "R-V5": ("APPROVED", "R-C5")}
    return evs, want


def new_events():
    """Judged after retention: event_id -> (event, outcome, reason codes it must carry)."""
    out = {}

    def add(ev, outcome, reasons=()):
        out[ev["event_id"]] = (ev, outcome, set(reasons))

    add(old_pa("R-P1B", "R-M1", "R-PA1B", "2026-08-01"), "DENIED", ["PRIOR_AMTAGVI"])
    add(claim("R-C1B", "R-M1", "R-CLM1B", "2026-09-01", "R-PA1B"), "DENIED", ["PRIOR_DOSE_PAID"])
    add(claim("R-C4B", "R-M4", "R-CLM4B", "2026-09-01", None), "DENIED", ["PRIOR_DOSE_PAID"])
    add(old_pa("R-P2B", "R-M2", "R-PA2B", "2026-08-01"), "APPROVED")
    add(claim("R-C2B", "R-M2", "R-CLM2B", "2026-09-01", "R-PA2B"), "APPROVED")
    add(old_pa("R-P5B", "R-M5", "R-PA5B", "2026-08-01"), "APPROVED")
    add(claim("R-C5B", "R-M5", "R-CLM5B", "2026-09-01", "R-PA5B"), "APPROVED")
    add(old_pa("R-P3B", "R-M3", "R-PA3B", "2026-08-01"), "APPROVED")
    # Documented consequences: a void of a removed (archived) line is refused, and a replayed
    # event whose determination was removed is judged anew (a new row).
    add(claim("R-V1D", "R-M1", "R-CLM9V", "2024-10-02", None, "VOID", "R-CLM9"), "DENIED",
        ["ORIGINAL_NOT_FOUND"])
    return out


def paid_by_member(env, db, relation):
    """{member_id: paid doses} over relation, with the reversal test of paid_doses_daily."""
    rows = env.query(db, "SELECT d.member_id, count(*) AS n FROM %s d WHERE d.kind = 'claim' "
                         "AND d.outcome = 'APPROVED' AND %s AND NOT EXISTS (SELECT 1 FROM %s r "
                         "WHERE r.reversed_event_id IS NOT NULL AND r.member_id = d.member_id "
                         "AND btrim(r.original_claim_id, E' \\t\\r\\n') = d.claim_id "
                         "AND r.line_number = d.line_number AND r.seq > d.seq) "
                         "GROUP BY d.member_id" % (relation, BILLED, relation))
    return {r["member_id"]: r["n"] for r in rows}


FULL = "(SELECT * FROM determinations UNION ALL SELECT * FROM determinations_archive)"


def generated(env, n, seed, prefix=""):
    """Generated JSON lines; prefix renames event, member, PA and claim ids (a second stream of
    other members)."""
    lines = env.generate(n, seed)
    if not prefix:
        return lines
    out = []
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        for k in ("event_id", "member_id", "pa_id", "claim_id", "authorization_id",
                  "original_claim_id"):
            if isinstance(ev.get(k), str) and ev[k].strip():
                ev[k] = prefix + ev[k]
        out.append(json.dumps(ev))
    return out


def retention(env, cfg, *args, check_rc=True):
    p = env.run([env.binary, "retention", "--config", cfg] + list(args), timeout=300,
                check_rc=check_rc)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def retro(env, cfg, frm, to):
    p = env.run([env.binary, "retro", "--config", cfg, "--from", frm, "--to", to], timeout=300)
    return p.stdout.decode(), p.stderr.decode()


def findings_by_kind(env, db):
    """The last retro run's findings: {finding: count} and the reason pairs of the changed."""
    run = env.scalar(db, "SELECT max(run_id) FROM retro_runs")
    return env.query(db, "SELECT finding, old_outcome, new_outcome, old_reasons::text AS o, "
                         "new_reasons::text AS n, count(*) AS c FROM retro_findings "
                         "WHERE run_id = %s GROUP BY 1, 2, 3, 4, 5 ORDER BY 6 DESC" % run)


def errors_logged(worker):
    return [r for r in worker.logs() if r.get("level") == "error"]


def check_removed(env, db, run):
    """What every run must leave: no removable row older than the horizon, kept rows listed."""
    left = int(env.scalar(db, "SELECT count(*) FROM determinations d WHERE d.decision_date < %s "
                              "AND d.seq <= %d AND NOT EXISTS (SELECT 1 FROM retention_keep k "
                              "WHERE k.event_id = d.event_id)" % (qlit(HORIZON), run["max_seq"])))
    check_eq(left, 0, "removable rows older than the horizon left")
    ids = set(r["event_id"] for r in env.query(db, "SELECT event_id FROM determinations"))
    return ids


# ====================================================================== phase 1

def phase1(env, case):
    db, cfg = case.new_db_config()
    evs, want = old_events()
    lines = generated(env, 4000, 11) + [json.dumps(e) for e in evs]
    env.produce(cfg, lines)
    # One consumer group for every worker of this database: a new group would read the topic
    # from its start again, and replays of removed events are judged anew.
    w = case.worker(case.config(db, exit__when__idle__ms=3000, worker__id="w1",
                                group__id=group_of(cfg)), "w1")
    w.expect_exit(0, timeout=240)
    rows = {r["event_id"]: r for r in env.query(
        db, "SELECT event_id, outcome, reversed_event_id FROM determinations "
            "WHERE event_id LIKE 'R-%'")}
    for eid, (outcome, rev) in want.items():
        check(eid in rows, "phase 1: %s not stored" % eid)
        check_eq((rows[eid]["outcome"], rows[eid]["reversed_event_id"]), (outcome, rev),
                 "phase 1: %s (outcome, reversed_event_id)" % eid)
    old = int(env.scalar(db, "SELECT count(*) FROM determinations WHERE decision_date < %s"
                         % qlit(HORIZON)))
    total = int(env.scalar(db, "SELECT count(*) FROM determinations"))
    check(old > 500, "phase 1: only %d rows before the horizon" % old)
    say("phase 1: %d determinations, %d before %s" % (total, old, HORIZON))
    return db, cfg


def test_retention(env):
    case = Case(env, "retention")
    db, cfg = phase1(env, case)
    copy = env.unique("wt_retention_copy").replace("-", "_")
    env.psql("amtagvi", "CREATE DATABASE %s TEMPLATE %s" % (qident(copy), qident(db)))
    archive_beside_worker(env, case, db, cfg)
    delete_stop_refuse(env, case, copy)


# ====================================================================== archive beside a worker

def archive_beside_worker(env, case, db, cfg):
    paid0 = paid_by_member(env, db, "determinations")
    pre_ids = set(r["event_id"] for r in env.query(db, "SELECT event_id FROM determinations"))
    # A second stream, throttled so that the worker is still consuming while retention runs.
    stream = generated(env, 5000, 12, prefix="B")
    wcfg = case.config(db, exit__when__idle__ms=4000, worker__id="w2",
                       batch__max__messages=100, group__id=group_of(cfg))
    w = case.worker(wcfg, "w2")
    prod = subprocess.Popen([env.binary, "produce", "--config", cfg, "--rate", "600"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=clean_env())
    env.record_pid(prod.pid)
    prod.stdin.write("".join(l + "\n" for l in stream).encode())
    prod.stdin.close()
    wait_until(lambda: int(env.scalar(db, "SELECT count(*) FROM worker_batches WHERE worker_id "
                                          "= 'w2' AND judged > 0")) > 0, 60,
               "w2's first batch")
    # Small batches and a long pause: the run lasts seconds, so the worker (slow on a loaded
    # machine) has time to commit beside it.
    rc, out, err = retention(env, cfg, "--before", HORIZON, "--batch-rows", "50",
                             "--pause-ms", "150")
    say("archive run:\n      " + out.strip().replace("\n", "\n      "))
    check("status                            finished" in out, "retention said %r" % out)
    run = env.query(db, "SELECT * FROM retention_runs ORDER BY run_id DESC LIMIT 1")[0]
    check_eq((run["status"], run["mode"], run["dry_run"]), ("finished", "archive", False),
             "run status, mode, dry_run")
    during = int(env.scalar(db, "SELECT count(*) FROM worker_batches b, retention_runs r WHERE "
                                "r.run_id = %d AND b.worker_id = 'w2' AND b.judged > 0 AND "
                                "b.committed_at BETWEEN r.started_at AND r.finished_at"
                            % run["run_id"]))
    check(run["batches"] >= 10, "only %d retention batches" % run["batches"])
    check(during >= 1, "the worker committed no batch while retention ran (%s .. %s)" % (
        run["started_at"], run["finished_at"]))
    prc = prod.wait(timeout=120)
    check(prc == 0, "produce exited %d: %s" % (prc, prod.stderr.read().decode()[-500:]))
    w.expect_exit(0, timeout=240)
    check_eq(errors_logged(w), [], "error log lines of the worker beside retention")

    # The archive holds exactly what went, all of it older than the horizon, none of it needed.
    arch = env.query(db, "SELECT event_id, decision_date::text AS day, outcome, kind "
                         "FROM determinations_archive")
    check_eq(len(arch), run["rows_moved"], "archive rows vs rows_moved")
    check(len(arch) > 300, "only %d rows archived" % len(arch))
    check_eq([a["event_id"] for a in arch if a["day"] >= HORIZON], [],
             "archived rows decided on or after the horizon")
    ids = check_removed(env, db, run)
    arch_ids = set(a["event_id"] for a in arch)
    check_eq(sorted(arch_ids & ids)[:5], [], "rows both archived and in determinations")
    check_eq(sorted(pre_ids - ids - arch_ids)[:5], [], "rows lost (neither kept nor archived)")
    keep = set(r["event_id"] for r in env.query(db, "SELECT event_id FROM retention_keep"))
    check_eq(len(keep), run["rows_kept"], "retention_keep rows vs rows_kept")
    check_eq(sorted(keep & arch_ids)[:5], [], "kept rows archived")
    for eid in ("R-C1D", "R-C2", "R-V2", "R-P2", "R-P3"):
        check(eid in arch_ids, "%s (not needed) was not archived" % eid)
    for eid in ("R-C1", "R-P1", "R-R4", "R-C4", "R-P4", "R-V5", "R-C5"):
        check(eid in ids, "%s (needed) was removed" % eid)
    check(any(a["outcome"] == "DENIED" for a in arch) and any(a["kind"] == "prior_auth"
                                                             for a in arch),
          "no denial or PA request archived")
    # Paid doses: what is left counts what the whole history counts, member by member, and
    # what the members had before the run (the second stream's members are new).
    paid_left = paid_by_member(env, db, "determinations")
    paid_full = paid_by_member(env, db, FULL)
    check_eq(paid_left, paid_full, "paid doses per member: left vs whole history")
    check_eq({m: n for m, n in paid_left.items() if m in paid0}, paid0,
             "paid doses per member before the run")
    check(sum(paid0.values()) >= 20, "only %d paid doses in phase 1" % sum(paid0.values()))

    # New events judged against the thinned history.
    news = new_events()
    replay = next(e for e in old_events()[0] if e["event_id"] == "R-P3")
    env.produce(cfg, [json.dumps(ev) for ev, _, _ in news.values()] + [json.dumps(replay)])
    w3 = case.worker(case.config(db, exit__when__idle__ms=3000, worker__id="w3",
                                 group__id=group_of(cfg)), "w3")
    w3.expect_exit(0, timeout=120)
    got = {r["event_id"]: r for r in env.query(
        db, "SELECT event_id, outcome, reason_codes FROM determinations WHERE event_id = ANY(%s)"
            % qlit("{%s}" % ",".join(list(news) + ["R-P3"])))}
    for eid, (_, outcome, reasons) in news.items():
        check(eid in got, "%s not judged" % eid)
        check_eq(got[eid]["outcome"], outcome, "%s outcome (reasons %s)" % (
            eid, got[eid]["reason_codes"]))
        missing = reasons - set(got[eid]["reason_codes"])
        check(not missing, "%s lacks %s (has %s)" % (eid, sorted(missing),
                                                      got[eid]["reason_codes"]))
    check("R-P3" in got, "the replayed archived event R-P3 was not judged anew")

    # retro: a warning for a window before the horizon, none after it.
    out, err = retro(env, cfg, "2024-06-01", "2026-12-31")
    warn = "window starts 2024-06-01, before the retention horizon %s" % HORIZON
    check(warn in err, "retro before the horizon: no warning on stderr: %r" % err[-600:])
    check(re.search(r"retention horizon +%s: the window starts before it" % HORIZON, out),
          "retro before the horizon: no warning in the summary: %r" % out)
    r1 = env.query(db, "SELECT retention_horizon::text AS h, before_retention_horizon AS b "
                       "FROM retro_runs ORDER BY run_id DESC LIMIT 1")[0]
    check_eq((r1["h"], r1["b"]), (HORIZON, True), "retro_runs (horizon, before) for 2024-06-01")
    say("retro 2024-06-01..: " + " / ".join(l.strip() for l in out.splitlines()
                                             if "changed" in l or "would now" in l))
    out, err = retro(env, cfg, HORIZON, "2026-12-31")
    check("retention horizon" not in err, "retro after the horizon warned: %r" % err[-600:])
    check("(the window is after it)" in out, "retro after the horizon: summary %r" % out)
    r2 = env.query(db, "SELECT retention_horizon::text AS h, before_retention_horizon AS b "
                       "FROM retro_runs ORDER BY run_id DESC LIMIT 1")[0]
    check_eq((r2["h"], r2["b"]), (HORIZON, False), "retro_runs (horizon, before) for %s" % HORIZON)
    say("retro %s..: " % HORIZON + " / ".join(l.strip() for l in out.splitlines()
                                             if "changed" in l or "would now" in l))
    say("archive beside w2: %d rows archived, %d kept (%d paid doses), %d batches, w2 "
        "committed %d batches during the run" % (len(arch), run["rows_kept"],
                                                 run["kept_paid_doses"], run["batches"], during))


# ====================================================================== delete, stop, refuse

def delete_stop_refuse(env, case, db):
    cfg = case.config(db)
    paid0 = paid_by_member(env, db, "determinations")
    retro(env, cfg, HORIZON, "2026-12-31")
    base = findings_by_kind(env, db)
    n0 = int(env.scalar(db, "SELECT count(*) FROM determinations"))

    rc, out, err = retention(env, cfg, "--older-than-days", "30", check_rc=False)
    check_eq(rc, 2, "exit status of a 30-day horizon")
    check("refused" in err and "less than 400" in err, "no refusal: %r" % err)
    check_eq(env.scalar(db, "SELECT count(*) FROM retention_runs"), "0", "runs after a refusal")

    rc, out, err = retention(env, cfg, "--older-than-days", "30", "--force", "--dry-run")
    check("(dry run)" in out and "would be removed" in out, "dry run said %r" % out)
    check_eq(int(env.scalar(db, "SELECT count(*) FROM determinations")), n0, "rows after dry run")
    check_eq(env.scalar(db, "SELECT count(*) FROM retention_keep"), "0",
             "retention_keep after a dry run")
    check_eq(env.scalar(db, "SELECT retention_horizon() IS NULL"), "t",
             "retention_horizon() after a dry run")

    # Stopped with SIGTERM between batches.
    p = subprocess.Popen([env.binary, "retention", "--config", cfg, "--before", HORIZON,
                          "--mode", "delete", "--batch-rows", "20", "--pause-ms", "300"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    env.record_pid(p.pid)
    try:
        wait_until(lambda: int(env.scalar(
            db, "SELECT coalesce(max(batches), 0) FROM retention_runs WHERE NOT dry_run")) >= 2,
            60, "two delete batches")
        p.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    stop_s = time.monotonic() - t0
    out = out.decode()
    check_eq(p.returncode, 0, "exit status after SIGTERM (stderr %r)" % err.decode()[-300:])
    check("status                            interrupted (run again to resume)" in out,
          "interrupted run said %r" % out)
    run = env.query(db, "SELECT * FROM retention_runs WHERE NOT dry_run ORDER BY run_id DESC "
                        "LIMIT 1")[0]
    check_eq(run["status"], "interrupted", "status after SIGTERM")
    n1 = int(env.scalar(db, "SELECT count(*) FROM determinations"))
    check_eq(n0 - n1, run["rows_deleted"], "rows gone vs rows_deleted after SIGTERM")
    check_eq(run["rows_deleted"], 20 * run["batches"], "rows_deleted vs whole batches")
    check(n0 - n1 < 400, "SIGTERM did not stop the run (%d rows deleted)" % (n0 - n1))
    check_eq(env.scalar(db, "SELECT count(*) FROM determinations_archive"), "0",
             "archive rows in delete mode")
    check_eq(paid_by_member(env, db, "determinations"), paid0, "paid doses after SIGTERM")
    reached = env.scalar(db, "SELECT retention_horizon()::text")
    check(reached and reached <= HORIZON and reached == run["removed_through"],
          "retention_horizon() %r after an interrupted run (removed_through %r)" % (
              reached, run["removed_through"]))

    rc, out, err = retention(env, cfg, "--before", HORIZON, "--mode", "delete")
    check("status                            finished" in out, "resumed run said %r" % out)
    run2 = env.query(db, "SELECT * FROM retention_runs ORDER BY run_id DESC LIMIT 1")[0]
    n2 = int(env.scalar(db, "SELECT count(*) FROM determinations"))
    check_eq(n0 - n2, run["rows_deleted"] + run2["rows_deleted"], "rows gone after both runs")
    check_removed(env, db, run2)
    check_eq(paid_by_member(env, db, "determinations"), paid0, "paid doses after delete")
    check_eq(env.scalar(db, "SELECT retention_horizon()::text"), HORIZON,
             "retention_horizon() after the resumed run")
    # retro over a window after the horizon: what it found before the removal (nothing: same
    # policy file) and after. Paid doses are intact, so no payment flips either way; a PA still
    # pending is kept, so no claim that pended on it is now denied for want of it. What may
    # change are reasons of claims citing removed denied or expired PAs (docs/DECISIONS.md).
    retro(env, cfg, HORIZON, "2026-12-31")
    after = findings_by_kind(env, db)
    check_eq(base, [], "retro findings after the horizon before any removal")
    flips = [f for f in after if f["finding"] in ("POSSIBLE_OVERPAYMENT", "NOW_PAYABLE")]
    check_eq(flips, [], "payments retro finds changed after the removal")
    pend = [f for f in after if "AUTH_PENDING" in f["o"] and "AUTH_NOT_FOUND" in f["n"]]
    check_eq(pend, [], "claims pended on a PA that are now denied AUTH_NOT_FOUND")
    say("retro %s.. after delete: %s" % (HORIZON, ", ".join(
        "%s %s->%s %s->%s x%d" % (f["finding"], f["old_outcome"], f["new_outcome"], f["o"],
                                  f["n"], f["c"]) for f in after)))
    say("delete: refused 30 days; SIGTERM after %d batches stopped in %.1fs (%d rows); resumed "
        "run deleted %d more, %d kept" % (run["batches"], stop_s, n0 - n1,
                                          run2["rows_deleted"], run2["rows_kept"]))


TESTS = [("retention", test_retention, False)]

if __name__ == "__main__":
    try:
        sys.exit(suite_main(TESTS, "retention", jobs=1))
    except TestFailure as e:
        print("summary: 0 passed, 1 failed\n%s" % e)
        sys.exit(1)
