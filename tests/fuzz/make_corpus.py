#!/usr/bin/env python3
"""Regenerates the committed seed corpora under tests/fuzz/corpus/ (docs/FUZZING.md).

    tests/fuzz/make_corpus.py --fuzz-build build/fuzz --adjudicator build/amtagvi-adjudicator \
        [--examples tests/contract/golden/input.jsonl]

* fuzz_json_event: the golden example lines, one sample line per distinct (kind, outcome,
  reasons) of samples/events.jsonl as judged by `evaluate`, a few of its malformed lines, and
  hand-written lines around every §2 rule (escapes, surrogates, limits, number ranges, dates,
  timestamps, nesting).
* fuzz_avro_decode: the same accepted lines encoded by the project's own codec (fuzz_seedgen),
  the poison messages of samples/poison.tsv, and messages crafted here byte by byte around the
  framing and every walker/decoder rule (limits, block forms, varints, union and enum indexes,
  UTF-8, NUL, date and timestamp bounds).
* fuzz_policy_load: policy/IP0625.json and variants (limits at their bounds, one or 32
  versions, sets as lists or objects, entries that normalise oddly, and rejected files).

Deterministic: the same inputs give the same files. Stale files are removed first.
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- JSON Lines

def pick_samples(adjudicator, samples):
    """One sample line per distinct (kind, outcome, reasons), plus up to 5 rejected lines."""
    with open(samples, "rb") as f:
        lines = f.read().split(b"\n")
    out = subprocess.run([adjudicator, "evaluate"], input=b"\n".join(lines), capture_output=True,
                         check=True).stdout.decode().splitlines()
    nonblank = [i for i, l in enumerate(lines) if l.strip()]
    seen, picked, rejected = set(), [], []
    for k, text in enumerate(out):
        o = json.loads(text)
        if o.get("rejected"):
            if len(rejected) < 5:
                rejected.append(lines[o["line"] - 1])
            continue
        key = (o["kind"], o["outcome"], tuple(r["code"] for r in o["reasons"]))
        if key not in seen:
            seen.add(key)
            picked.append(lines[nonblank[k]])
    return picked, rejected


PA = {"kind": "prior_auth", "event_id": "ev-1", "pa_id": "PA-1", "received_at":
      "2026-06-02T14:05:00Z", "urgency": "STANDARD", "member_id": "MEM-1001", "birth_date":
      "1970-03-02", "diagnosis_codes": ["C43.9"], "disease_status": "METASTATIC", "braf_v600":
      "NEGATIVE", "prior_therapies": [{"drug": "Opdivo", "start_date": "2025-02-01",
                                       "end_date": None}],
      "lymphodepletion": "PLANNED", "prescriber_npi": "1234567893", "prescriber_taxonomy":
      "207RX0202X", "consulting_npi": None, "consulting_taxonomy": None,
      "requested_dose_cells": None}
CLAIM = {"kind": "claim", "event_id": "ev-2", "claim_id": "CLM-1", "line_number": 1,
         "received_at": "2026-07-20T09:30:00Z", "member_id": "MEM-1007", "birth_date":
         "1961-12-31", "service_date": "2026-07-14", "hcpcs_code": "J3590", "ndc": None,
         "units": 1, "dose_viable_cells": 33400000000, "diagnosis_codes": ["C43.9"],
         "rendering_npi": "1245319599", "authorization_id": "PA-1007",
         "billed_amount_cents": 51500000}


def line(base, **changes):
    o = copy.deepcopy(base)
    for k, v in changes.items():
        if v is DROP:
            o.pop(k, None)
        else:
            o[k] = v
    return json.dumps(o, ensure_ascii=False)


DROP = object()


def tricky_json():
    """(name, bytes) of hand-written lines around the §2 rules."""
    t = []
    add = lambda name, text: t.append((name, text.encode() if isinstance(text, str) else text))
    pa, cl = json.dumps(PA), json.dumps(CLAIM)
    add("pa-base", pa)
    add("claim-base", cl)
    add("pa-compact", json.dumps(PA, separators=(",", ":")))
    add("pa-kind-last", json.dumps({**{k: v for k, v in PA.items() if k != "kind"},
                                    "kind": "prior_auth"}))
    head = '{"kind": "prior_auth", '
    add("pa-whitespace", ' \t{ "kind" :\t"prior_auth" ,' + pa[len(head):].replace(", ", " ,\r\n ")
        + " \r")
    add("pa-escapes", pa.replace('"ev-1"', r'"ev-\"1\"\\\/\b\f\n\r\t"')
        .replace('"MEM-1001"', r'"MEM-\u00e9\u4e2d\ud83d\ude00"'))
    add("pa-kind-escaped", pa.replace('"prior_auth"', r'"prior\u005fauth"', 1))
    add("pa-key-escaped", pa.replace('"pa_id"', r'"pa\u005fid"'))
    add("pa-lone-high-surrogate", pa.replace('"ev-1"', r'"ev-\ud83d"'))
    add("pa-lone-low-surrogate", pa.replace('"ev-1"', r'"\ude00"'))
    add("pa-surrogate-then-short", pa.replace('"ev-1"', r'"\ud83d\u00"'))
    add("pa-nul-escape", pa.replace('"ev-1"', r'"ev\u0000"'))
    add("pa-bad-escape", pa.replace('"ev-1"', r'"ev\x41"'))
    add("pa-raw-control", pa.replace('"ev-1"', '"ev\x01"'))
    add("pa-invalid-utf8", pa.encode().replace(b'"ev-1"', b'"ev\xc3\x28"'))
    add("pa-overlong-utf8", pa.encode().replace(b'"ev-1"', b'"ev\xc0\xaf"'))
    add("pa-raw-surrogate-utf8", pa.encode().replace(b'"ev-1"', b'"ev\xed\xa0\x80"'))
    add("pa-4byte-utf8", pa.encode().replace(b'"Opdivo"', b'"Opdivo \xf0\x9f\x92\x8a"'))
    add("pa-string-128", line(PA, event_id="e" * 128))
    add("pa-string-129", line(PA, event_id="e" * 129))
    add("pa-string-128-escaped", line(PA, member_id="\u00e9" * 64))
    add("pa-string-escapes-long", pa.replace('"ev-1"', '"' + r"\u0041" * 128 + '"'))
    add("pa-dx-64", line(PA, diagnosis_codes=["C43.%d" % (i % 10) for i in range(64)]))
    add("pa-dx-65", line(PA, diagnosis_codes=["C43"] * 65))
    add("pa-therapies-64", line(PA, prior_therapies=[{"drug": "keytruda"}] * 64))
    add("pa-dx-empty-and-blank", line(PA, diagnosis_codes=["", " . ", "z85.820", "c78 .0"]))
    add("pa-dx-null-item", line(PA, diagnosis_codes=[None]))
    add("pa-therapy-extra-keys", line(PA, prior_therapies=[{"x": [1, {"y": None}],
                                                            "drug": "dabrafenib",
                                                            "end_date": "2025-01-01"}]))
    add("pa-therapy-dup-key", pa.replace('{"drug": "Opdivo"', '{"drug": "a", "drug": "Opdivo"'))
    add("pa-therapy-null-drug", line(PA, prior_therapies=[{"drug": None}]))
    add("pa-therapy-not-object", line(PA, prior_therapies=["Opdivo"]))
    add("pa-duplicate-key", pa[:-1] + ', "pa_id": "PA-2"}')
    add("pa-unknown-fields-nested", pa[:-1] + ', "x": {"a": [[[[{"b": [true, false, null, -0.5e+3]}]]]]}, '
        '"": 1, "kin": "claim"}')
    add("pa-deep-nesting", pa[:-1] + ', "x": ' + "[" * 40 + "]" * 40 + "}")
    add("pa-missing-required", line(PA, pa_id=DROP))
    add("pa-null-required", line(PA, member_id=None))
    add("pa-all-optional-present", line(PA, consulting_npi="1245319599",
                                        consulting_taxonomy=" 207rh0003x ",
                                        requested_dose_cells=9223372036854775807))
    add("pa-dose-int64-min", line(PA, requested_dose_cells=-9223372036854775808))
    add("pa-dose-int64-over", pa.replace('"requested_dose_cells": null',
                                         '"requested_dose_cells": 9223372036854775808'))
    add("pa-dose-fraction", pa.replace('"requested_dose_cells": null',
                                       '"requested_dose_cells": 7.5e9'))
    add("pa-dose-minus-zero", pa.replace('"requested_dose_cells": null',
                                         '"requested_dose_cells": -0'))
    add("pa-dose-leading-zero", pa.replace('"requested_dose_cells": null',
                                           '"requested_dose_cells": 07'))
    add("pa-enum-unknown", line(PA, urgency="URGENT"))
    add("pa-enum-lowercase", line(PA, braf_v600="negative"))
    add("pa-enum-not-string", line(PA, disease_status=2))
    add("pa-date-feb29", line(PA, birth_date="2008-02-29"))
    add("pa-date-feb30", line(PA, birth_date="2023-02-30"))
    add("pa-date-year0", line(PA, birth_date="0000-01-01"))
    add("pa-date-first-day", line(PA, birth_date="0001-01-01"))
    add("pa-date-last-day", line(PA, birth_date="9999-12-31"))
    add("pa-birth-after-d", line(PA, birth_date="2030-01-01"))
    add("pa-ts-fraction-offset", line(PA, received_at="2026-06-02T14:05:00.123456789+05:30"))
    add("pa-ts-negative-offset", line(PA, received_at="2026-06-02T00:30:00-14:00"))
    add("pa-ts-no-zone", line(PA, received_at="2026-06-02T14:05:00"))
    add("pa-ts-lowercase-z", line(PA, received_at="2026-06-02t14:05:00z"))
    add("pa-ts-space", line(PA, received_at="2026-06-02 14:05:00Z"))
    add("pa-ts-leap-second", line(PA, received_at="2026-06-30T23:59:60Z"))
    add("pa-ts-empty-fraction", line(PA, received_at="2026-06-02T14:05:00.Z"))
    # Not approved: an approval this late has no real valid_until (see regressions/).
    add("pa-ts-last-instant", line(PA, received_at="9999-12-31T23:59:59.999Z",
                                   lymphodepletion="UNKNOWN"))
    add("pa-ts-first-instant", line(PA, received_at="0001-01-01T00:00:00.000Z"))
    add("pa-before-policy", line(PA, received_at="2024-06-14T23:59:59Z"))
    add("claim-units-int32-max", line(CLAIM, units=2147483647, line_number=-2147483648))
    add("claim-units-int32-over", cl.replace('"units": 1', '"units": 2147483648'))
    add("claim-units-exponent", cl.replace('"units": 1', '"units": 1e0'))
    add("claim-units-zero", line(CLAIM, units=0))
    add("claim-all-null", line(CLAIM, ndc=None, dose_viable_cells=None, authorization_id=None))
    add("claim-auth-blank", line(CLAIM, authorization_id="  \t"))
    add("claim-auth-padded", line(CLAIM, authorization_id=" PA-1007 ", hcpcs_code=" j3590 "))
    add("claim-auth-unknown", line(CLAIM, authorization_id="PA-404"))
    add("claim-second-dose", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77002",
                                  authorization_id=None, service_date="2026-08-01"))
    add("claim-duplicate-line", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                     event_id="ev-dup"))
    add("claim-on-pended", line(CLAIM, member_id="MEM-1003", authorization_id="PA-1003"))
    add("claim-on-denied", line(CLAIM, member_id="MEM-1002", authorization_id=None))
    add("claim-expired", line(CLAIM, service_date="2027-12-01"))
    add("claim-before-auth", line(CLAIM, service_date="2026-06-01"))
    add("claim-replay-history-id", line(CLAIM, event_id="ex-02"))
    # Contract §10 against the fuzzers' history (tests/fuzz/fuzz_common.c): MEM-1001's paid
    # CLM-77001/1, MEM-1003's pended CLM-77003/1, MEM-1002's CLM-77021/1 reversed by a void
    # sent as CLM-77021-V/1.
    VOID = dict(frequency_code="VOID", authorization_id=None)
    add("claim-void-paid", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001-V",
                                original_claim_id="CLM-77001", **VOID))
    add("claim-void-padded-ref", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                      original_claim_id=" \tCLM-77001\r\n", **VOID))
    add("claim-void-formfeed-ref", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                        original_claim_id="\fCLM-77001", **VOID))
    add("claim-void-pended", line(CLAIM, member_id="MEM-1003", claim_id="CLM-77003",
                                  original_claim_id="CLM-77003", service_date="2024-01-01",
                                  **VOID))
    add("claim-void-reversed", line(CLAIM, member_id="MEM-1002", claim_id="CLM-77021",
                                    original_claim_id="CLM-77021", **VOID))
    add("claim-void-void-line", line(CLAIM, member_id="MEM-1002", claim_id="CLM-77021-V",
                                     original_claim_id="CLM-77021-V", **VOID))
    add("claim-void-null-ref", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                    original_claim_id=None, **VOID))
    add("claim-void-blank-ref", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                     original_claim_id=" \t\r\n", **VOID))
    add("claim-void-other-member", line(CLAIM, original_claim_id="CLM-77001", **VOID))
    add("claim-replacement-paid", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77001",
                                       frequency_code="REPLACEMENT",
                                       original_claim_id="CLM-77001",
                                       dose_viable_cells=41000000000, authorization_id=None))
    add("claim-replacement-new-number", line(CLAIM, member_id="MEM-1001",
                                             claim_id="CLM-77001-R", line_number=1,
                                             frequency_code="REPLACEMENT",
                                             original_claim_id="CLM-77001", units=2))
    add("claim-replacement-before-policy", line(CLAIM, member_id="MEM-1001",
                                                claim_id="CLM-77001",
                                                frequency_code="REPLACEMENT",
                                                original_claim_id="CLM-77001",
                                                service_date="2024-06-14"))
    add("claim-replacement-not-found", line(CLAIM, frequency_code="REPLACEMENT",
                                            original_claim_id="CLM-404"))
    add("claim-original-with-ref", line(CLAIM, member_id="MEM-1001", claim_id="CLM-77002",
                                        frequency_code="ORIGINAL",
                                        original_claim_id="CLM-77001"))
    add("claim-frequency-null", line(CLAIM, frequency_code=None))
    add("claim-frequency-lowercase", line(CLAIM, frequency_code="void"))
    add("claim-frequency-x12-code", line(CLAIM, frequency_code=8))
    add("claim-ref-129", line(CLAIM, frequency_code="VOID", original_claim_id="C" * 129))
    add("claim-ref-not-string", line(CLAIM, frequency_code="VOID", original_claim_id=77001))
    add("claim-kind-unknown", line(CLAIM, kind="claims"))
    add("claim-kind-null", line(CLAIM, kind=None))
    add("claim-kind-missing", line(CLAIM, kind=DROP))
    add("not-an-object", '["kind", "claim"]')
    add("empty-object", "{}")
    add("empty", "")
    add("whitespace-only", " \t\r\n")
    add("truncated", cl[: len(cl) // 2])
    add("unterminated-string", '{"kind": "claim", "event_id": "ev')
    add("trailing-text", cl + " x")
    add("trailing-comma", cl[:-1] + ", }")
    add("two-objects", cl + cl)
    add("literals", '{"a": true, "b": false, "c": null, "d": tru}')
    return t


# ---------------------------------------------------------------- Avro, byte by byte

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "worker"))
from harness import zigzag as zz  # noqa: E402  (Avro's zigzag varint, one copy)


def s(v):
    v = v.encode() if isinstance(v, str) else v
    return zz(len(v)) + v


def arr(items, form="one"):
    if not items:
        return zz(0)
    body = b"".join(items)
    if form == "one":
        return zz(len(items)) + body + zz(0)
    if form == "sized":
        return zz(-len(items)) + zz(len(body)) + body + zz(0)
    if form == "split":
        return b"".join(zz(1) + i for i in items) + zz(0)
    raise ValueError(form)


def opt(enc):
    return zz(0) if enc is None else zz(1) + enc


DAY = 86400000
D2026 = 20606  # 2026-06-02
PA_FIELDS = ["event_id", "pa_id", "received_at", "urgency", "member_id", "birth_date",
             "diagnosis_codes", "disease_status", "braf_v600", "prior_therapies",
             "lymphodepletion", "prescriber_npi", "prescriber_taxonomy", "consulting_npi",
             "consulting_taxonomy", "requested_dose_cells"]
# Version 1 of the claim schema (framed under id 2); version 2 (id 4) adds the last two.
CLAIM_FIELDS = ["event_id", "claim_id", "line_number", "received_at", "member_id", "birth_date",
                "service_date", "hcpcs_code", "ndc", "units", "dose_viable_cells",
                "diagnosis_codes", "rendering_npi", "authorization_id", "billed_amount_cents"]
CLAIM_V2_FIELDS = CLAIM_FIELDS + ["frequency_code", "original_claim_id"]
ORIGINAL, REPLACEMENT, VOID = 0, 1, 2


def pa_fields():
    return {
        "event_id": s("av-1"), "pa_id": s("PA-1"), "received_at": zz(D2026 * DAY + 50700000),
        "urgency": zz(0), "member_id": s("MEM-1001"), "birth_date": zz(18),
        "diagnosis_codes": arr([s("C43.9")]), "disease_status": zz(2), "braf_v600": zz(1),
        "prior_therapies": arr([s("Opdivo") + opt(zz(20120)) + opt(None)]),
        "lymphodepletion": zz(1), "prescriber_npi": s("1234567893"),
        "prescriber_taxonomy": opt(s("207RX0202X")), "consulting_npi": opt(None),
        "consulting_taxonomy": opt(None), "requested_dose_cells": opt(None)}


def claim_fields():
    return {
        "event_id": s("av-2"), "claim_id": s("CLM-1"), "line_number": zz(1),
        "received_at": zz(20654 * DAY), "member_id": s("MEM-1007"), "birth_date": zz(-2),
        "service_date": zz(20648), "hcpcs_code": s("J3590"), "ndc": opt(None), "units": zz(1),
        "dose_viable_cells": opt(zz(33400000000)), "diagnosis_codes": arr([s("C43.9")]),
        "rendering_npi": s("1245319599"), "authorization_id": opt(s("PA-1007")),
        "billed_amount_cents": zz(51500000), "frequency_code": zz(ORIGINAL),
        "original_claim_id": opt(None)}


def frame(schema_id, body, magic=0):
    return bytes([magic]) + struct.pack(">I", schema_id & 0xFFFFFFFF) + body


def pa_msg(**over):
    f = pa_fields()
    f.update(over)
    return frame(1, b"".join(f[k] for k in PA_FIELDS))


def claim_msg(**over):
    """A claim of schema version 1 (id 2)."""
    f = claim_fields()
    f.update(over)
    return frame(2, b"".join(f[k] for k in CLAIM_FIELDS))


def claim_v2_msg(**over):
    """A claim of schema version 2 (id 4)."""
    f = claim_fields()
    f.update(over)
    return frame(4, b"".join(f[k] for k in CLAIM_V2_FIELDS))


def crafted_avro(poison):
    DATE_MIN, DATE_MAX = -719162, 2932896
    pa, cl = pa_msg(), claim_msg()
    c = [("pa-crafted", pa), ("claim-crafted", cl),
         ("tombstone-empty", b""), ("short-1", b"\x00"), ("short-4", b"\x00\x00\x00\x00"),
         ("header-only-pa", frame(1, b"")), ("header-only-claim", frame(2, b"")),
         ("bad-magic", b"\x01" + pa[1:]), ("bad-magic-ff", b"\xff" + cl[1:]),
         ("schema-id-3", frame(3, pa[5:])), ("schema-id-5-determination", frame(5, pa[5:])),
         ("schema-id-0", frame(0, pa[5:])),
         ("schema-id-max", frame(0xFFFFFFFF, cl[5:])), ("schema-id-swapped", frame(2, pa[5:])),
         ("truncated-last-byte", pa[:-1]), ("truncated-mid", cl[: len(cl) // 2]),
         ("trailing-byte", pa + b"\x00"), ("trailing-record", cl + cl[5:])]
    for i, hexmsg in enumerate(poison):
        c.append(("poison-%d" % (i + 1), bytes.fromhex(hexmsg)))
    c += [
        ("string-128", pa_msg(event_id=s("e" * 128))),
        ("string-129", pa_msg(event_id=s("e" * 129))),
        ("string-129-in-array", claim_msg(diagnosis_codes=arr([s("C" * 129)]))),
        ("string-negative-length", pa_msg(pa_id=zz(-1))),
        ("string-length-huge", pa_msg(pa_id=zz(1 << 31) + b"x")),
        ("string-length-past-end", frame(1, zz(100) + b"av-1")),
        ("string-nul", pa_msg(member_id=s(b"MEM\x00-1"))),
        ("string-invalid-utf8", pa_msg(member_id=s(b"MEM\xc3\x28"))),
        ("string-overlong-utf8", pa_msg(member_id=s(b"\xc0\xaf"))),
        ("string-surrogate-utf8", claim_msg(ndc=opt(s(b"\xed\xa0\x80")))),
        ("string-above-10ffff", claim_msg(ndc=opt(s(b"\xf4\x90\x80\x80")))),
        ("string-4byte-utf8", pa_msg(prior_therapies=arr([s("Opdivo \U0001F48A") + opt(None)
                                                          + opt(None)]))),
        ("string-control-chars", pa_msg(event_id=s("av\x01\x1f\"\\\n\x7f"))),
        ("string-empty", claim_msg(hcpcs_code=s(""), authorization_id=opt(s("")))),
        ("array-64", pa_msg(diagnosis_codes=arr([s("C43")] * 64))),
        ("array-65", pa_msg(diagnosis_codes=arr([s("C43")] * 65))),
        ("array-65-split", claim_msg(diagnosis_codes=arr([s("C43")] * 65, "split"))),
        ("array-therapies-65", pa_msg(prior_therapies=arr([s("x") + opt(None) + opt(None)] * 65))),
        ("array-sized-block", pa_msg(diagnosis_codes=arr([s("C43.9"), s("Z85.820")], "sized"))),
        ("array-split-blocks", claim_msg(diagnosis_codes=arr([s("C78"), s("Z85820")], "split"))),
        ("array-sized-wrong-size", pa_msg(diagnosis_codes=zz(-1) + zz(9) + s("C43") + zz(0))),
        ("array-count-huge", pa_msg(diagnosis_codes=zz(1 << 40))),
        ("array-count-int64-min", pa_msg(diagnosis_codes=b"\xff" * 9 + b"\x01")),
        ("array-unterminated", pa_msg(diagnosis_codes=zz(1) + s("C43"))),
        ("varint-nonminimal", claim_msg(line_number=b"\x82\x80\x80\x00", units=b"\x82\x00")),
        ("varint-10-bytes", claim_msg(billed_amount_cents=b"\xfe" + b"\xff" * 8 + b"\x01")),
        ("varint-overflow", claim_msg(billed_amount_cents=b"\xff" * 9 + b"\x7f")),
        ("varint-11-bytes", claim_msg(billed_amount_cents=b"\xff" * 10 + b"\x00")),
        ("int-over-32bit", claim_msg(units=zz(1 << 31))),
        ("int-min-32bit", claim_msg(units=zz(-(1 << 31)), line_number=zz((1 << 31) - 1))),
        ("enum-out-of-range", pa_msg(urgency=zz(2))),
        ("enum-negative", pa_msg(lymphodepletion=zz(-1))),
        ("enum-last", pa_msg(disease_status=zz(3), braf_v600=zz(2), lymphodepletion=zz(3))),
        ("union-index-2", pa_msg(prescriber_taxonomy=zz(2) + s("x"))),
        ("union-index-negative", claim_msg(ndc=zz(-1))),
        ("union-all-present", pa_msg(consulting_npi=opt(s("1245319599")),
                                     consulting_taxonomy=opt(s("207RH0003X")),
                                     requested_dose_cells=opt(zz(-(1 << 63))))),
        ("date-min", pa_msg(birth_date=zz(DATE_MIN))),
        ("date-max", pa_msg(birth_date=zz(DATE_MAX))),
        ("date-below-min", pa_msg(birth_date=zz(DATE_MIN - 1))),
        ("date-above-max", claim_msg(service_date=zz(DATE_MAX + 1))),
        ("date-int32-min", claim_msg(service_date=zz(-(1 << 31)))),
        ("date-therapy-out-of-range", pa_msg(prior_therapies=arr([s("x") + opt(zz(DATE_MAX + 1))
                                                                  + opt(None)]))),
        ("timestamp-min", pa_msg(received_at=zz(DATE_MIN * DAY))),
        ("timestamp-max", claim_msg(received_at=zz((DATE_MAX + 1) * DAY - 1))),
        ("timestamp-below-min", pa_msg(received_at=zz(DATE_MIN * DAY - 1))),
        ("timestamp-above-max", claim_msg(received_at=zz((DATE_MAX + 1) * DAY))),
        ("timestamp-int64-min", claim_msg(received_at=zz(-(1 << 63)))),
        ("pa-before-policy", pa_msg(received_at=zz(19888 * DAY))),
        # Claim schema version 2 (contract §10, §11), against the fuzzers' history.
        ("claim-v2-crafted", claim_v2_msg()),
        ("claim-v2-void-paid", claim_v2_msg(member_id=s("MEM-1001"), claim_id=s("CLM-77001-V"),
                                            authorization_id=opt(None), frequency_code=zz(VOID),
                                            original_claim_id=opt(s("CLM-77001")))),
        ("claim-v2-void-padded-ref", claim_v2_msg(member_id=s("MEM-1001"),
                                                  frequency_code=zz(VOID),
                                                  original_claim_id=opt(s(" CLM-77001\t")))),
        ("claim-v2-void-reversed", claim_v2_msg(member_id=s("MEM-1002"), frequency_code=zz(VOID),
                                                original_claim_id=opt(s("CLM-77021")))),
        ("claim-v2-replacement-paid", claim_v2_msg(member_id=s("MEM-1001"),
                                                   claim_id=s("CLM-77001"),
                                                   authorization_id=opt(s("PA-1001")),
                                                   frequency_code=zz(REPLACEMENT),
                                                   original_claim_id=opt(s("CLM-77001")))),
        ("claim-v2-replacement-pended", claim_v2_msg(member_id=s("MEM-1003"),
                                                     claim_id=s("CLM-77003"),
                                                     frequency_code=zz(REPLACEMENT),
                                                     original_claim_id=opt(s("CLM-77003")))),
        ("claim-v2-original-with-ref", claim_v2_msg(original_claim_id=opt(s("CLM-77001")))),
        ("claim-v2-frequency-out-of-range", claim_v2_msg(frequency_code=zz(3))),
        ("claim-v2-frequency-negative", claim_v2_msg(frequency_code=zz(-1))),
        ("claim-v2-ref-union-index-2", claim_v2_msg(original_claim_id=zz(2) + s("x"))),
        ("claim-v2-ref-129", claim_v2_msg(frequency_code=zz(VOID),
                                          original_claim_id=opt(s("C" * 129)))),
        ("claim-v2-ref-invalid-utf8", claim_v2_msg(frequency_code=zz(VOID),
                                                   original_claim_id=opt(s(b"CLM\xc3\x28")))),
        ("claim-v1-body-under-v2-id", frame(4, cl[5:])),
        ("claim-v2-body-under-v1-id", frame(2, claim_v2_msg()[5:])),
    ]
    return c


# ---------------------------------------------------------------- policy files

def policy_variants(base_text):
    base = json.loads(base_text)
    v = [("ip0625", base_text), ("ip0625-compact", json.dumps(base, separators=(",", ":")))]

    def var(name, fn):
        p = copy.deepcopy(base)
        fn(p)
        v.append((name, json.dumps(p, indent=1)))

    def limits(**kw):
        return lambda p: p["limits"].update(kw)

    var("limits-low", limits(adult_age_years=0, approval_months=1, max_doses=1, max_units=1,
                             dose_min_cells=1, dose_max_cells=1))
    var("limits-high", limits(adult_age_years=150, approval_months=120, max_doses=100,
                              max_units=1000, dose_min_cells=1,
                              dose_max_cells=9223372036854775807))
    var("limits-min-over-max", limits(dose_min_cells=10, dose_max_cells=9))
    var("limits-out-of-range", limits(approval_months=121))
    var("limits-not-integer", limits(max_units=1.0))
    var("versions-one-first-day", lambda p: p.update(versions=["0001-01-01"]))
    var("versions-last-day", lambda p: p.update(versions=["2024-06-15", "9999-12-31"]))
    var("versions-32", lambda p: p.update(versions=["%04d-01-01" % (2000 + i) for i in range(32)]))
    var("versions-33", lambda p: p.update(versions=["%04d-01-01" % (2000 + i) for i in range(33)]))
    var("versions-unsorted", lambda p: p.update(versions=["2025-05-01", "2024-06-15"]))
    var("versions-bad-date", lambda p: p.update(versions=["2024-02-30"]))
    var("sets-as-objects", lambda p: p.update(
        covered_hcpcs={"C9399": "x", " j3590 ": "y"},
        indication={k: {c: 1 for c in vals} for k, vals in p["indication"].items()}))
    var("sets-odd-normalisation", lambda p: p.update(
        oncologist_taxonomies=[" 207rx0202x ", "\t2086X0206X"],
        indication={"melanoma_prefixes": ["c 4 3", "."], "melanoma_history_codes": ["z85.820"],
                    "secondary_prefixes": ["C7"], "excluded_prefixes": ["D03", "c69."]}))
    var("sets-duplicate-after-normalising", lambda p: p.update(covered_hcpcs=["J3590", "j3590"]))
    var("sets-empty", lambda p: p.update(covered_hcpcs=[]))
    var("sets-long-entry", lambda p: p.update(covered_hcpcs=["J" * 128]))
    var("drugs-overlapping", lambda p: p["drugs"].update(
        amtagvi=["lifileucel", "Keytruda", "  OPDIVO  qvantig "]))
    var("drugs-unicode", lambda p: p["drugs"].update(braf_inhibitors=["vemurafenib",
                                                                      "ZELBORAF\u00ae"]))
    var("reasons-missing-one", lambda p: p["reasons"]["claim"].pop("AUTH_MISSING"))
    var("reasons-pa-with-carc", lambda p: p["reasons"]["prior_auth"]["DX_MISSING"].update(
        carc="16"))
    var("reasons-claim-null-rarc", lambda p: p["reasons"]["claim"]["AUTH_MISSING"].update(
        rarc=None))
    var("reasons-unknown-code", lambda p: p["reasons"]["claim"].update(NOPE={"message": "x"}))
    var("reasons-escaped-message", lambda p: p["reasons"]["claim"]["AUTH_MISSING"].update(
        message="quote \" backslash \\ tab \t \u00e9 \U0001F48A"))
    var("format-2", lambda p: p.update(format=2))
    v.append(("truncated", base_text[: len(base_text) // 2]))
    v.append(("duplicate-key", base_text.replace('"format": 1,', '"format": 1, "format": 1,')))
    v.append(("not-an-object", "[1, 2, 3]"))
    v.append(("empty", ""))
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fuzz-build", required=True, help="build dir of tests/fuzz (fuzz_seedgen)")
    ap.add_argument("--adjudicator", required=True, help="the built amtagvi-adjudicator")
    ap.add_argument("--examples", default=os.path.join(SRC, "tests", "contract", "golden",
                                                       "input.jsonl"))
    args = ap.parse_args()

    for t in ("fuzz_json_event", "fuzz_avro_decode", "fuzz_policy_load"):
        shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)

    with open(args.examples, "rb") as f:
        examples = [l for l in f.read().split(b"\n") if l.strip()]
    picked, rejected = pick_samples(args.adjudicator, os.path.join(SRC, "samples", "events.jsonl"))

    # JSON Lines: one line per file, no newline (json_event_parse gets one line).
    seen = set()
    for prefix, lines in (("example", examples), ("sample", picked), ("sample-rejected", rejected)):
        for i, l in enumerate(lines):
            if l in seen:
                continue
            seen.add(l)
            write("fuzz_json_event", "%s-%02d.json" % (prefix, i + 1), l)
    for name, data in tricky_json():
        write("fuzz_json_event", "edge-%s.json" % name, data)

    # Avro: the accepted lines through the project's own codec, then the crafted messages.
    seedgen = os.path.join(args.fuzz_build, "fuzz_seedgen")
    out = os.path.join(CORPUS, "fuzz_avro_decode")
    os.makedirs(out, exist_ok=True)
    for prefix, lines in (("example", examples), ("sample", picked)):
        subprocess.run([seedgen, out, prefix], input=b"\n".join(lines) + b"\n", check=True)
    with open(os.path.join(SRC, "samples", "poison.tsv")) as f:
        poison = [row.split("\t")[1].strip() for row in f if row.strip() and
                  not row.startswith("-")]
    for name, data in crafted_avro(poison):
        write("fuzz_avro_decode", "edge-%s.avro" % name, data)

    with open(os.path.join(SRC, "policy", "IP0625.json")) as f:
        base_text = f.read()
    for name, text in policy_variants(base_text):
        write("fuzz_policy_load", "%s.json" % name, text)

    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, n)) for n in files)
        print("%-18s %4d files %8d bytes" % (t, len(files), size))


if __name__ == "__main__":
    main()
