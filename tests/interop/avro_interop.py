#!/usr/bin/python3
"""Avro interop between the C codec (avro-c) and the reference Python `avro` library.

1. Python encodes a seeded, varied set of events (Confluent framing); the C tool decodes them;
   every field must come back equal, and every event the contract rejects must come back as
   the right decode error. Claims are written with both versions of the claim schema (contract
   §11): version 2 under id 4 (every frequency), version 1 under id 2 (read as ORIGINAL).
2. The C tool encodes the valid events from their JSON Lines form; Python decodes them; the
   ORIGINAL claims without a reference again with claim schema version 1.
3. The C tool encodes a fixed set of determinations (version 2 of their schema); Python decodes
   them with the real schema (logical types included) and compares with the values C declares,
   and reads them again with version 1 of the schema as the reader's schema.

Run with the system python (/usr/bin/python3), which has the `avro` package.
Usage: avro_interop.py --tool BUILD/avro_interop_tool --schemas SRC/schemas --policy FILE
"""
import argparse
import copy
import datetime
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import warnings

import avro.io
import avro.schema

PA_ID, CLAIM_ID, DET_ID = 1, 4, 5  # the worker's defaults: claim and determination version 2
CLAIM_V1_ID, DET_V1_ID = 2, 3  # version 1: claims still read, determinations no longer written
DATE_MIN, DATE_MAX = -719162, 2932896  # 0001-01-01, 9999-12-31 as days since 1970-01-01
MS_PER_DAY = 86400000
TS_MIN, TS_MAX = DATE_MIN * MS_PER_DAY, (DATE_MAX + 1) * MS_PER_DAY - 1
I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)
EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

URGENCY = ["STANDARD", "EXPEDITED"]
DISEASE = ["RESECTABLE", "UNRESECTABLE", "METASTATIC", "UNKNOWN"]
BRAF = ["POSITIVE", "NEGATIVE", "UNKNOWN"]
LYMPHO = ["RECEIVED", "PLANNED", "NOT_PLANNED", "UNKNOWN"]
FREQUENCY = ["ORIGINAL", "REPLACEMENT", "VOID"]

# Characters of every UTF-8 width, JSON-special and control characters, RTL and astral-plane.
ALPHABET = list("ABCXYZabcxyz0123456789 .-_/") + [
    '"', "\\", "\n", "\t", "\x01", "\x7f", "é", "ß", "Ω", "渡", "辺", "\u202e", "\ufeff",
    "\U0001F600", "\U00010348",
]


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what, file=sys.stderr)


def strip_logical(node):
    """The schema with logicalType removed, so dates and timestamps are raw ints and longs (the
    same bytes; lets the test use the full 64-bit range and exact day numbers)."""
    if isinstance(node, dict):
        return {k: strip_logical(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [strip_logical(v) for v in node]
    return node


def load_schema(path, raw):
    with open(path, encoding="utf-8") as f:
        text = json.load(f)
    return avro.schema.parse(json.dumps(strip_logical(text) if raw else text))


def avro_bytes(schema, datum):
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


def avro_read(schema, body):
    buf = io.BytesIO(body)
    datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(buf))
    return datum, len(body) - buf.tell()


def frame(schema_id, body):
    return b"\x00" + struct.pack(">I", schema_id) + body


def day_str(days):
    return None if days is None else datetime.date.fromordinal(EPOCH_ORDINAL + days).isoformat()


def ts_str(ms):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond // 1000)


# ---------------------------------------------------------------- generators


def rand_string(rng, max_bytes=128):
    mode = rng.random()
    if mode < 0.05:
        return ""
    if mode < 0.12:  # exactly the limit, in 1-, 2- and 4-byte characters
        unit = rng.choice(["x", "é", "\U0001F600"])
        return unit * (max_bytes // len(unit.encode()))
    target = rng.randint(1, 40)
    s, used = [], 0
    while len(s) < target:
        c = rng.choice(ALPHABET)
        n = len(c.encode())
        if used + n > max_bytes:
            break
        s.append(c)
        used += n
    return "".join(s)


def unique_id(rng, prefix):
    return prefix + rand_string(rng, 128 - len(prefix))


def rand_int(rng, lo, hi):
    r = rng.random()
    if r < 0.15:
        return rng.choice([lo, hi, 0, -1, 1])
    return rng.randint(lo, hi)


def rand_date(rng):
    return rng.choice([DATE_MIN, DATE_MAX, 0, -1]) if rng.random() < 0.2 else rng.randint(DATE_MIN, DATE_MAX)


def rand_ts(rng):
    return rng.choice([TS_MIN, TS_MAX, 0, -1]) if rng.random() < 0.2 else rng.randint(TS_MIN, TS_MAX)


def maybe(rng, value, p_null=0.3):
    return None if rng.random() < p_null else value


def rand_count(rng):
    return rng.choice([0, 1, 2, 64, rng.randint(0, 64)])


def gen_pa(rng, i):
    return {
        "event_id": unique_id(rng, "pa-%d-" % i),
        "pa_id": rand_string(rng),
        "received_at": rand_ts(rng),
        "urgency": rng.choice(URGENCY),
        "member_id": rand_string(rng),
        "birth_date": rand_date(rng),
        "diagnosis_codes": [rand_string(rng) for _ in range(rand_count(rng))],
        "disease_status": rng.choice(DISEASE),
        "braf_v600": rng.choice(BRAF),
        "prior_therapies": [
            {"drug": rand_string(rng), "start_date": maybe(rng, rand_date(rng)),
             "end_date": maybe(rng, rand_date(rng))}
            for _ in range(rand_count(rng))
        ],
        "lymphodepletion": rng.choice(LYMPHO),
        "prescriber_npi": rand_string(rng),
        "prescriber_taxonomy": maybe(rng, rand_string(rng)),
        "consulting_npi": maybe(rng, rand_string(rng)),
        "consulting_taxonomy": maybe(rng, rand_string(rng)),
        "requested_dose_cells": maybe(rng, rand_int(rng, *I64)),
    }


def gen_claim(rng, i):
    return {
        "event_id": unique_id(rng, "claim-%d-" % i),
        "claim_id": rand_string(rng),
        "line_number": rand_int(rng, *I32),
        "received_at": rand_ts(rng),
        "member_id": rand_string(rng),
        "birth_date": rand_date(rng),
        "service_date": rand_date(rng),
        "hcpcs_code": rand_string(rng),
        "ndc": maybe(rng, rand_string(rng)),
        "units": rand_int(rng, *I32),
        "dose_viable_cells": maybe(rng, rand_int(rng, *I64)),
        "diagnosis_codes": [rand_string(rng) for _ in range(rand_count(rng))],
        "rendering_npi": rand_string(rng),
        "authorization_id": maybe(rng, rand_string(rng)),
        "billed_amount_cents": rand_int(rng, *I64),
        "frequency_code": rng.choice(FREQUENCY),
        "original_claim_id": maybe(rng, rand_string(rng)),
    }


def as_v1(datum):
    """A claim as a writer of claim schema version 1 has it: no frequency fields."""
    return {k: v for k, v in datum.items() if k not in ("frequency_code", "original_claim_id")}


def read_as_v2(datum):
    """What a version-1 claim means (contract §11): an ORIGINAL without a reference."""
    return dict(datum, frequency_code="ORIGINAL", original_claim_id=None)


def canonical(kind, datum):
    """What the C tool prints for a decoded event."""
    out = {"kind": kind}
    for k, v in datum.items():
        if k == "received_at":
            out["received_at_ms"] = v
        elif k in ("birth_date", "service_date"):
            out[k] = day_str(v)
        elif k == "prior_therapies":
            out[k] = [{"drug": t["drug"], "start_date": day_str(t["start_date"]),
                       "end_date": day_str(t["end_date"])} for t in v]
        else:
            out[k] = v
    return out


def json_line(kind, datum):
    """The event's JSON Lines form (contract section 9) for `encode-events`."""
    d = canonical(kind, datum)
    del d["received_at_ms"]
    d["received_at"] = ts_str(datum["received_at"])
    return json.dumps(d)


# ---------------------------------------------------------------- the three checks


def run_tool(tool, args, data):
    p = subprocess.run([tool] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors="replace"))
        raise SystemExit("%s %s exited %d" % (tool, " ".join(args), p.returncode))
    return p.stdout


def split_framed(data):
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def build_decode_cases(rng, pa_raw, claim_raw, claim_v1_raw, n):
    """(message bytes, expected tool output, label, (kind, datum) or None)."""
    cases = []
    for i in range(n):
        if i % 2 == 0:
            kind, schema, sid, datum = "prior_auth", pa_raw, PA_ID, gen_pa(rng, i)
            written = datum
        elif i % 4 == 1:
            kind, schema, sid, datum = "claim", claim_raw, CLAIM_ID, gen_claim(rng, i)
            written = datum
        else:  # the same topic carries claims of version 1 (contract §11)
            kind, schema, sid = "claim", claim_v1_raw, CLAIM_V1_ID
            written = as_v1(gen_claim(rng, i))
            datum = read_as_v2(written)
        cases.append((frame(sid, avro_bytes(schema, written)), canonical(kind, datum),
                      "%s #%d (schema id %d)" % (kind, i, sid), (kind, datum)))

    base_pa = gen_pa(rng, 10**6)
    base_pa["received_at"] = 1780358400123
    base_claim = gen_claim(rng, 10**6 + 1)

    def bad(label, kind, mutate, error):
        datum = copy.deepcopy(base_pa if kind == "prior_auth" else base_claim)
        mutate(datum)
        schema, sid = (pa_raw, PA_ID) if kind == "prior_auth" else (claim_raw, CLAIM_ID)
        cases.append((frame(sid, avro_bytes(schema, datum)), {"error": error}, label, None))

    # The contract's rejections that Avro can still carry.
    bad("65 diagnosis codes", "prior_auth", lambda d: d.update(diagnosis_codes=["C43"] * 65), "invalid")
    bad("65 prior therapies", "prior_auth", lambda d: d.update(prior_therapies=[
        {"drug": "x", "start_date": None, "end_date": None}] * 65), "invalid")
    bad("129-byte member_id", "claim", lambda d: d.update(member_id="m" * 129), "invalid")
    bad("129-byte array item", "claim", lambda d: d.update(diagnosis_codes=["C" * 129]), "invalid")
    bad("65-byte 2-byte chars", "prior_auth", lambda d: d.update(pa_id="é" * 65), "invalid")
    bad("NUL in a string", "prior_auth", lambda d: d.update(event_id="a\x00b"), "invalid")
    for ts in (I64[1], I64[0], TS_MAX + 1, TS_MIN - 1):
        bad("received_at %d" % ts, "claim", lambda d, ts=ts: d.update(received_at=ts), "invalid")
    for day in (DATE_MAX + 1, DATE_MIN - 1, I32[0], I32[1]):
        bad("service_date %d" % day, "claim", lambda d, day=day: d.update(service_date=day), "invalid")
        bad("start_date %d" % day, "prior_auth", lambda d, day=day: d.update(
            prior_therapies=[{"drug": "x", "start_date": day, "end_date": None}]), "invalid")

    # Invalid UTF-8 cannot be written by the library: patch a marker in the encoded bytes.
    for label, repl in (("bad UTF-8", b"\xc3\x28QQ"), ("surrogate", b"\xed\xa0\x80Q"),
                        ("overlong", b"\xc0\xafQQ"), ("above U+10FFFF", b"\xf4\x90\x80\x80")):
        d = copy.deepcopy(base_pa)
        d["consulting_npi"] = "QQQQ"
        body = avro_bytes(pa_raw, d).replace(b"QQQQ", repl)
        cases.append((frame(PA_ID, body), {"error": "invalid"}, label, None))

    good = frame(CLAIM_ID, avro_bytes(claim_raw, base_claim))
    cases.append((good, canonical("claim", base_claim), "base claim", None))
    cases.append((good + b"\x00", {"error": "trailing_bytes"}, "trailing byte", None))
    cases.append((good[:-1], {"error": "malformed"}, "truncated by one", None))
    cases.append((good[:5], {"error": "malformed"}, "header only", None))
    cases.append((b"", {"error": "empty"}, "empty", None))
    cases.append((good[:3], {"error": "bad_magic"}, "3 bytes", None))
    cases.append((b"\x01" + good[1:], {"error": "bad_magic"}, "magic 1", None))
    cases.append((frame(7, good[5:]), {"error": "unknown_schema"}, "schema id 7", None))
    cases.append((frame(DET_ID, good[5:]), {"error": "unknown_schema"}, "determination id", None))
    cases.append((frame(DET_V1_ID, good[5:]), {"error": "unknown_schema"}, "determination v1 id",
                  None))
    # Claim versions: v2 bytes under the v1 id have two bytes too many; v1 bytes under the v2 id
    # end before frequency_code; a frequency index that is no symbol is malformed.
    good_v1 = avro_bytes(claim_v1_raw, as_v1(base_claim))
    cases.append((frame(CLAIM_V1_ID, good_v1), canonical("claim", read_as_v2(as_v1(base_claim))),
                  "base claim, version 1", None))
    cases.append((frame(CLAIM_V1_ID, good[5:]), {"error": "trailing_bytes"}, "v2 body, v1 id", None))
    cases.append((frame(CLAIM_ID, good_v1), {"error": "malformed"}, "v1 body, v2 id", None))
    void = dict(base_claim, frequency_code="VOID", original_claim_id=None)
    body = avro_bytes(claim_raw, void)
    assert body.endswith(b"\x04\x00")  # VOID (index 2), then null
    for idx in (3, -1, 64):
        bad_body = body[:-2] + avro_bytes(avro.schema.parse('"long"'), idx) + b"\x00"
        cases.append((frame(CLAIM_ID, bad_body), {"error": "malformed"},
                      "frequency index %d" % idx, None))
    bad("129-byte original_claim_id", "claim",
        lambda d: d.update(frequency_code="REPLACEMENT", original_claim_id="o" * 129), "invalid")
    # A PA body under the claim id is not valid as a claim.
    pa_body = avro_bytes(pa_raw, base_pa)
    cases.append((frame(CLAIM_ID, pa_body), {"error": "malformed"}, "PA body as claim", None))
    # A string length of 2^31 with a short body; a union index out of range.
    cases.append((frame(PA_ID, b"\x80\x80\x80\x80\x10abc"), {"error": "malformed"}, "2^31 length", None))
    # ndc is the first union of a claim: locate it by encoding the fields before it.
    body = bytearray(avro_bytes(claim_raw, dict(base_claim, ndc=None)))
    prefix = b"".join(avro_bytes(avro.schema.parse('"string"'), base_claim[k])
                      for k in ("event_id", "claim_id"))
    prefix += avro_bytes(avro.schema.parse('"int"'), base_claim["line_number"])
    prefix += avro_bytes(avro.schema.parse('"long"'), base_claim["received_at"])
    prefix += avro_bytes(avro.schema.parse('"string"'), base_claim["member_id"])
    prefix += avro_bytes(avro.schema.parse('"int"'), base_claim["birth_date"])
    prefix += avro_bytes(avro.schema.parse('"int"'), base_claim["service_date"])
    prefix += avro_bytes(avro.schema.parse('"string"'), base_claim["hcpcs_code"])
    assert bytes(body[:len(prefix)]) == prefix and body[len(prefix)] == 0
    body[len(prefix)] = 4  # union branch 2 of ["null", "string"]
    cases.append((frame(CLAIM_ID, bytes(body)), {"error": "malformed"}, "union index 2", None))
    return cases


def check_decode(res, tool, cases):
    data = b"".join(struct.pack(">I", len(m)) + m for m, _, _, _ in cases)
    lines = run_tool(tool, ["decode"], data).decode("utf-8").splitlines()
    res.check(len(lines) == len(cases), "decode printed %d lines for %d messages" % (len(lines), len(cases)))
    for (msg, want, label, _), line in zip(cases, lines):
        got = json.loads(line)
        if got != want:
            keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            res.check(False, "decode %s: differs in %s: %.300s" % (label, keys, line))
        else:
            res.check(True, label)


def check_encode_events(res, tool, cases, pa_schema, claim_schema, claim_v1_schema):
    valid = [c for c in cases if c[3] is not None and "error" not in c[1]]
    text = "".join(json_line(kind, datum) + "\n" for _, _, _, (kind, datum) in valid)
    frames = split_framed(run_tool(tool, ["encode-events"], text.encode("utf-8")))
    res.check(len(frames) == len(valid), "encode-events wrote %d of %d" % (len(frames), len(valid)))
    for frm, (_, _, label, (kind, datum)) in zip(frames, valid):
        sid = PA_ID if kind == "prior_auth" else CLAIM_ID
        schema = pa_schema if kind == "prior_auth" else claim_schema
        ok_header = frm[:5] == b"\x00" + struct.pack(">I", sid)
        got, left = avro_read(schema, frm[5:])
        res.check(ok_header and left == 0 and got == datum,
                  "encode-events %s: header %s, %d bytes left, equal %s" % (label, ok_header, left, got == datum))
    # Claim schema version 1 (produce --schema-version 1): the ORIGINAL claims without a
    # reference, under id 2, read by Python with the version-1 schema.
    v1 = [(label, datum) for _, _, label, (kind, datum) in valid
          if kind == "claim" and datum["frequency_code"] == "ORIGINAL"
          and datum["original_claim_id"] is None]
    res.check(len(v1) > 20, "only %d claims to write with version 1" % len(v1))
    text = "".join(json_line("claim", datum) + "\n" for _, datum in v1)
    frames = split_framed(run_tool(tool, ["encode-events", "1"], text.encode("utf-8")))
    res.check(len(frames) == len(v1), "encode-events 1 wrote %d of %d" % (len(frames), len(v1)))
    for frm, (label, datum) in zip(frames, v1):
        ok_header = frm[:5] == b"\x00" + struct.pack(">I", CLAIM_V1_ID)
        got, left = avro_read(claim_v1_schema, frm[5:])
        res.check(ok_header and left == 0 and got == as_v1(datum),
                  "encode-events 1 %s: header %s, %d bytes left" % (label, ok_header, left))
    # ... and refuses what version 1 cannot say.
    refused = [datum for _, _, _, (kind, datum) in valid
               if kind == "claim" and datum["frequency_code"] != "ORIGINAL"][:1]
    res.check(len(refused) == 1, "a REPLACEMENT or VOID among the claims")
    p = subprocess.run([tool, "encode-events", "1"], input=(json_line("claim", refused[0]) + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    res.check(p.returncode != 0 and not p.stdout and b"version 1" in p.stderr,
              "encode-events 1 of a %s: exit %d, %r" % (refused[0]["frequency_code"], p.returncode,
                                                        p.stderr[-200:]))


def det_to_contract_json(d):
    """A Python-decoded Determination in the §8 JSON form the C tool declares."""
    def day(v):
        return v.isoformat() if v is not None else None

    auth = d["authorization"]
    return {
        "determination_id": d["determination_id"],
        "event_id": d["event_id"],
        "kind": d["kind"],
        "member_id": d["member_id"],
        "pa_id": d["pa_id"],
        "claim_id": d["claim_id"],
        "line_number": d["line_number"],
        "policy_id": d["policy_id"],
        "policy_version": day(d["policy_version"]),
        "x12_action": d["x12_action"],
        "authorization": None if auth is None else dict(
            auth, valid_from=day(auth["valid_from"]), valid_until=day(auth["valid_until"])),
        "matched_pa_id": d["matched_pa_id"],
        "frequency_code": d["frequency_code"],
        "reversed_event_id": d["reversed_event_id"],
        "outcome": d["outcome"],
        "criteria": d["criteria"],
        "reasons": d["reasons"],
    }


def check_determinations(res, tool, policy, det_schema, det_v1_schema):
    with tempfile.TemporaryDirectory() as tmp:
        exp_path = os.path.join(tmp, "expected.jsonl")
        frames = split_framed(run_tool(tool, ["encode-determinations", policy, exp_path], b""))
        with open(exp_path, encoding="utf-8") as f:
            expected = [json.loads(line) for line in f]
    res.check(len(frames) == len(expected) and frames, "%d determinations, %d expected" % (len(frames), len(expected)))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    for frm, exp in zip(frames, expected):
        label = "determination %s" % exp["determination"]["event_id"]
        res.check(frm[:5] == b"\x00" + struct.pack(">I", DET_ID), label + ": header")
        got, left = avro_read(det_schema, frm[5:])
        res.check(left == 0, label + ": %d bytes left" % left)
        contract = det_to_contract_json(got)
        want = exp["determination"]
        diff = {k: (want.get(k), contract.get(k)) for k in want if want.get(k) != contract.get(k)}
        res.check(not diff, label + ": %s" % diff)
        # criteria in the contract's order, not just equal as a set
        res.check(list(contract["criteria"]) == list(want["criteria"]), label + ": criteria order")
        decided_ms = (got["decided_at"] - epoch) // datetime.timedelta(milliseconds=1)
        res.check(decided_ms == exp["decided_at_ms"], label + ": decided_at %s" % got["decided_at"])
        for k in ("topic", "partition", "offset"):
            res.check(got[k] == exp[k], label + ": %s %r != %r" % (k, got[k], exp[k]))
        # A consumer still on version 1 of the schema (contract §11): Apache Avro's schema
        # resolution skips the two trailing fields; every other field reads the same.
        buf = io.BytesIO(frm[5:])
        old = avro.io.DatumReader(det_schema, det_v1_schema).read(avro.io.BinaryDecoder(buf))
        res.check(buf.read() == b"", label + ": bytes left after the version-1 read")
        res.check(set(old) == set(got) - {"frequency_code", "reversed_event_id"} and
                  all(old[k] == got[k] for k in old), label + ": version-1 reader differs")
    kinds = [e["determination"]["frequency_code"] for e in expected]
    res.check({"ORIGINAL", "REPLACEMENT", "VOID", None} <= set(kinds),
              "determination cases cover every frequency and null: %s" % sorted(map(str, kinds)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--events", type=int, default=400)
    ap.add_argument("--seed", type=int, default=625)
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    pa_raw = load_schema(os.path.join(args.schemas, "prior_auth.avsc"), raw=True)
    claim_raw = load_schema(os.path.join(args.schemas, "claim.avsc"), raw=True)
    claim_v1_raw = load_schema(os.path.join(args.schemas, "claim.v1.avsc"), raw=True)
    det = load_schema(os.path.join(args.schemas, "determination.avsc"), raw=False)
    det_v1 = load_schema(os.path.join(args.schemas, "determination.v1.avsc"), raw=False)
    for name in ("prior_auth", "claim", "claim.v1"):  # the real schemas parse too
        load_schema(os.path.join(args.schemas, name + ".avsc"), raw=False)

    res = Results()
    rng = random.Random(args.seed)
    cases = build_decode_cases(rng, pa_raw, claim_raw, claim_v1_raw, args.events)
    check_decode(res, args.tool, cases)
    check_encode_events(res, args.tool, cases, pa_raw, claim_raw, claim_v1_raw)
    check_determinations(res, args.tool, args.policy, det, det_v1)
    print("avro interop: %d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
