#!/usr/bin/env python3
"""Contract tests for `amtagvi-adjudicator evaluate` (docs/CONTRACT.md §2, §8, §9).

Runs the real binary. Checks the golden examples, determinism, every rejection class of §2,
line numbering with blank and CRLF lines, and that rejected lines leave history untouched.
The golden examples are tests/contract/golden/ (beside this file; see its README.md); the
policy file is the repository's own (or $AMTAGVI_SOURCE_DIR's) policy/IP0625.json.
usage: evaluate_contract.py BINARY
"""
import json
import os
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checks import Checks  # noqa: E402

BIN = sys.argv[1]
GOLDEN = os.path.join(HERE, "golden")
# the repository this file belongs to; its policy/IP0625.json is the one the binary is run with
SOURCE = os.environ.get("AMTAGVI_SOURCE_DIR") or os.path.join(HERE, "..", "..")
NS = uuid.UUID("1087c614-d8e5-5733-b26d-5854114041b2")
check = Checks()


def run(data: bytes, *args):
    p = subprocess.run([BIN, "evaluate", *args], input=data, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")))
    return [json.loads(l) for l in p.stdout.decode().splitlines()], p.stderr.decode()


PA = {"kind": "prior_auth", "event_id": "e1", "pa_id": "PA-1", "received_at": "2026-06-02T14:05:00Z",
      "urgency": "STANDARD", "member_id": "M1", "birth_date": "1970-03-02", "diagnosis_codes": ["C43.9"],
      "disease_status": "METASTATIC", "braf_v600": "NEGATIVE",
      "prior_therapies": [{"drug": "Opdivo", "start_date": "2025-02-01", "end_date": None}],
      "lymphodepletion": "PLANNED", "prescriber_npi": "1234567893", "prescriber_taxonomy": "207RX0202X",
      "consulting_npi": None, "consulting_taxonomy": None, "requested_dose_cells": None}
CLAIM = {"kind": "claim", "event_id": "c1", "claim_id": "CLM-1", "line_number": 1,
         "received_at": "2026-07-20T09:30:00Z", "member_id": "M1", "birth_date": "1970-03-02",
         "service_date": "2026-07-14", "hcpcs_code": "J3590", "ndc": None, "units": 1,
         "dose_viable_cells": 33400000000, "diagnosis_codes": ["C43.9"], "rendering_npi": "1245319599",
         "authorization_id": "PA-1", "billed_amount_cents": 51500000}


def line(obj):
    return (json.dumps(obj) + "\n").encode()


def with_(base, **kw):
    d = dict(base)
    d.update(kw)
    return d


# --- golden examples
inp = open(os.path.join(GOLDEN, "input.jsonl"), "rb").read()
exp = [json.loads(l) for l in open(os.path.join(GOLDEN, "expected.jsonl"))]
got, _ = run(inp)
check("golden: line count", len(got) == len(exp), "%d != %d" % (len(got), len(exp)))
for i, (e, g) in enumerate(zip(exp, got)):
    if "determination_id" in e:
        check("golden %d: determination_id is uuid5(event_id)" % (i + 1),
              g["determination_id"] == str(uuid.uuid5(NS, g["event_id"])))
        check("golden %d: messages non-empty" % (i + 1), all(r["message"] for r in g["reasons"]))
        e = json.loads(json.dumps(e))
        g = json.loads(json.dumps(g))
        for d in (e, g):
            d.pop("determination_id")
            for r in d["reasons"]:
                r.pop("message")
    check("golden %d" % (i + 1), e == g and list(e) == list(g), "\nexp %s\ngot %s" % (e, g))

# --- determinism: byte-identical output on a second run
a = subprocess.run([BIN, "evaluate"], input=inp, capture_output=True).stdout
b = subprocess.run([BIN, "evaluate"], input=inp, capture_output=True).stdout
check("determinism", a == b and len(a) > 0)

# --- rejections (§2): each must be rejected with a message naming the problem
REJECT = [
    ("not json", b"{not json}\n", "JSON"),
    ("array not object", b"[1,2]\n", "object"),
    ("missing kind", line({k: v for k, v in PA.items() if k != "kind"}), "kind"),
    ("unknown kind", line(with_(PA, kind="refund")), "kind"),
    ("missing required", line({k: v for k, v in PA.items() if k != "member_id"}), "member_id"),
    ("null required", line(with_(CLAIM, units=None)), "units"),
    ("int as fraction", line(with_(CLAIM, units=1.0)), "units"),
    ("int as exponent", line(with_(CLAIM, units=1e0)), "units"),
    ("int32 overflow", line(with_(CLAIM, line_number=2**31)), "line_number"),
    ("int64 overflow", line(with_(CLAIM, billed_amount_cents=2**63)), "billed_amount_cents"),
    ("long as string", line(with_(CLAIM, dose_viable_cells="33400000000")), "dose_viable_cells"),
    ("unknown enum", line(with_(PA, urgency="URGENT")), "urgency"),
    ("lower-case enum", line(with_(PA, braf_v600="negative")), "braf_v600"),
    ("not a real day", line(with_(CLAIM, service_date="2026-02-29")), "service_date"),
    ("date with time", line(with_(PA, birth_date="1970-03-02T00:00:00Z")), "birth_date"),
    ("timestamp without zone", line(with_(PA, received_at="2026-06-02T14:05:00")), "received_at"),
    ("timestamp whose UTC day is before 0001", line(with_(PA, received_at="0001-01-01T00:00:00+01:00")), "received_at"),
    ("timestamp bad hour", line(with_(PA, received_at="2026-06-02T24:05:00Z")), "received_at"),
    ("therapy date bad", line(with_(PA, prior_therapies=[{"drug": "x", "start_date": "2025-13-01"}])), "start_date"),
    ("therapy without drug", line(with_(PA, prior_therapies=[{"start_date": None}])), "drug"),
    ("string 129 bytes", line(with_(PA, pa_id="P" * 129)), "pa_id"),
    ("array element 129 bytes", line(with_(PA, diagnosis_codes=["C" * 129])), "diagnosis_codes"),
    ("array of 65", line(with_(PA, diagnosis_codes=["C439"] * 65)), "diagnosis_codes"),
    ("lone surrogate", line(with_(PA, member_id="\ud800")).replace(b"\\ud800", b"\\ud800"), "UTF-8"),
    ("raw invalid utf-8", line(with_(PA, member_id="XX")).replace(b'"XX"', b'"\xff\xfe"'), "UTF-8"),
    ("duplicate key", line(PA).replace(b'"pa_id": "PA-1"', b'"pa_id": "PA-1", "pa_id": "PA-2"'), "pa_id"),
    ("NUL character", line(with_(PA, member_id="a\u0000b")), "NUL"),
    ("trailing garbage", line(PA).rstrip(b"\n") + b" x\n", "JSON"),
]
for name, data, needle in REJECT:
    out, _ = run(data)
    ok = len(out) == 1 and out[0].get("rejected") is True and out[0].get("line") == 1
    check("reject %s" % name, ok and needle.lower() in out[0]["error"].lower(), str(out))

# --- accepted edge values
ACCEPT = [
    ("string of 128 bytes", with_(PA, pa_id="P" * 128)),
    ("128 bytes of multibyte text", with_(PA, member_id="é" * 64)),
    ("64 items", with_(PA, diagnosis_codes=["C439"] * 64)),
    ("unknown extra fields", with_(PA, extra={"nested": [1, {"a": None}]}, note="x")),
    ("nullable omitted", {k: v for k, v in PA.items() if k not in ("consulting_npi", "requested_dose_cells")}),
    ("offset timestamp", with_(PA, received_at="2026-06-02T01:00:00.123456+05:30")),
    ("int64 max", with_(CLAIM, billed_amount_cents=2**63 - 1)),
    ("int32 min", with_(CLAIM, line_number=-(2**31))),
]
for name, obj in ACCEPT:
    out, _ = run(line(obj))
    check("accept %s" % name, len(out) == 1 and "outcome" in out[0], str(out)[:300])

# the offset moves the decision date: 01:00+05:30 is the previous UTC day
out, _ = run(line(with_(PA, received_at="2026-06-02T01:00:00+05:30")))
check("offset moves D to the UTC day", out[0]["authorization"]["valid_from"] == "2026-06-01", str(out[0]["authorization"]))

# --- line numbering: blank lines and CRLF count; output one object per non-blank line
data = b"\n" + line(PA).replace(b"\n", b"\r\n") + b"   \r\n" + b"{bad\n" + line(CLAIM)
out, _ = run(data)
check("blank lines counted, not output", len(out) == 3, str(out))
check("rejected line number counts blanks", out[1].get("line") == 4, str(out[1]))
check("claim after PA approved", out[2].get("outcome") == "APPROVED", str(out[2]))

# --- rejected events never enter history: an invalid claim line first, then the valid one
bad_claim = with_(CLAIM, event_id="c0", service_date="2026-02-30")
out, _ = run(line(PA) + line(bad_claim) + line(CLAIM))
check("rejected line leaves no history", out[1].get("rejected") and out[2]["criteria"]["DUPLICATE"] == "MET"
      and out[2]["outcome"] == "APPROVED", str(out))

# --- replay with different content: stored determination again, and a warning without PHI
changed = with_(PA, lymphodepletion="NOT_PLANNED", birth_date="1999-09-09")
out, err = run(line(PA) + line(changed))
check("replay differing content returns stored", out[0] == out[1], str(out))
check("replay differing content is logged", "e1" in err and "different content" in err, err)
check("no PHI in the log", "1999-09-09" not in err and "C43" not in err, err)

# --- policy file errors are start-up errors naming the problem
import tempfile
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    pol = json.load(open(os.path.join(SOURCE, "policy", "IP0625.json")))
    del pol["reasons"]["claim"]["AUTH_MISSING"]
    json.dump(pol, f)
p = subprocess.run([BIN, "evaluate", "--policy", f.name], input=line(PA), capture_output=True)
os.unlink(f.name)
check("malformed policy is a start-up error", p.returncode != 0 and b"AUTH_MISSING" in p.stderr, p.stderr.decode())

check.finish()
