#!/usr/bin/env python3
"""Generates a realistic, reproducible stream of IP0625 events as JSON Lines.

Each synthetic member gets a small story in time order — a PA that may pend and be resubmitted,
be denied on one or more criteria, or be approved; claim lines that are paid, billed twice, sent
before approval, billed for a second dose, or carry billing errors; replays of the same event_id;
and now and then a malformed line. Members' stories are interleaved the way a partitioned topic
would interleave them, while each member's own events keep their order.

A few percent of claim lines go through the claim lifecycle (contract §10, see
docs/CLAIM_LIFECYCLE.md): about 3% are voided (frequency_code VOID; some are then billed again
under a new claim number, some voids are redelivered), about 2% replaced (a REPLACEMENT with a
corrected line, under the same or a new claim number; now and then the replacement itself is
voided later), and about 0.5% carry a reference the contract has to sort out: a claim never
billed, another member's claim, a void sent before its original, or a reference padded with
white space that still matches. Originals carry no frequency fields (absent means ORIGINAL).

No real person is described: names are absent, ids are sequential, dates are drawn at random.

usage: gen_events.py [--events N] [--seed S] [--invalid-rate R] > events.jsonl
"""
import argparse
import datetime as dt
import json
import random
import sys

ONCOLOGY_TAXONOMIES = ["207RX0202X", "207RH0003X", "2086X0206X", "207VX0201X"]
OTHER_TAXONOMIES = ["207R00000X", "208D00000X", "207Q00000X"]
PD1 = ["Keytruda", "pembrolizumab", "Opdivo", "nivolumab", "Opdualag", "Tecentriq", "Libtayo"]
BRAF = ["Tafinlar", "dabrafenib", "Zelboraf", "Braftovi", "encorafenib"]
OTHER_DRUGS = ["ipilimumab", "Yervoy", "trametinib", "Mekinist", "interleukin-2"]


def npi_with_check(first9: str) -> str:
    digits = "80840" + first9
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return first9 + str((10 - total % 10) % 10)


def iso(d: dt.date) -> str:
    return d.isoformat()


class Generator:
    def __init__(self, seed: int, invalid_rate: float):
        self.r = random.Random(seed)
        self.invalid_rate = invalid_rate
        self.seq = 0
        self.npis = [npi_with_check("%09d" % self.r.randrange(10**8, 10**9)) for _ in range(200)]

    def eid(self) -> str:
        self.seq += 1
        return "ev-%08d" % self.seq

    def ts(self, day: dt.date) -> str:
        r = self.r
        return "%sT%02d:%02d:%02dZ" % (iso(day), r.randrange(24), r.randrange(60), r.randrange(60))

    def pa(self, member, pa_id, day, flavour):
        r = self.r
        ev = {
            "kind": "prior_auth",
            "event_id": self.eid(),
            "pa_id": pa_id,
            "received_at": self.ts(day),
            "urgency": r.choice(["STANDARD", "STANDARD", "STANDARD", "EXPEDITED"]),
            "member_id": member["id"],
            "birth_date": iso(member["birth"]),
            "diagnosis_codes": [r.choice(["C43.9", "C43.59", "c43.4", "C43.71"])],
            "disease_status": r.choice(["METASTATIC", "UNRESECTABLE"]),
            "braf_v600": member["braf"],
            "prior_therapies": [
                {"drug": r.choice(PD1), "start_date": iso(day - dt.timedelta(days=r.randrange(200, 700))),
                 "end_date": iso(day - dt.timedelta(days=r.randrange(20, 190)))}
            ],
            "lymphodepletion": r.choice(["PLANNED", "PLANNED", "RECEIVED"]),
            "prescriber_npi": r.choice(self.npis),
            "prescriber_taxonomy": r.choice(ONCOLOGY_TAXONOMIES),
            "consulting_npi": None,
            "consulting_taxonomy": None,
            "requested_dose_cells": r.choice([None, None, r.randrange(7_500_000_000, 72_000_000_001)]),
        }
        if member["braf"] == "POSITIVE":
            ev["prior_therapies"].append({"drug": r.choice(BRAF), "start_date": None, "end_date": None})
        if r.random() < 0.2:
            ev["prior_therapies"].append({"drug": r.choice(OTHER_DRUGS)})
        if flavour == "pend":
            k = r.randrange(4)
            if k == 0:
                ev["lymphodepletion"] = "UNKNOWN"
            elif k == 1:
                ev["disease_status"] = "UNKNOWN"
            elif k == 2:
                ev["prescriber_taxonomy"] = None
            else:
                ev["braf_v600"] = "UNKNOWN"
                ev["prior_therapies"] = [t for t in ev["prior_therapies"] if t["drug"] not in BRAF]
        elif flavour == "deny":
            k = r.randrange(6)
            if k == 0:
                ev["disease_status"] = "RESECTABLE"
            elif k == 1:
                ev["prior_therapies"] = [{"drug": r.choice(OTHER_DRUGS)}]
            elif k == 2:
                ev["lymphodepletion"] = "NOT_PLANNED"
            elif k == 3:
                ev["diagnosis_codes"] = [r.choice(["C69.3", "D03.9", "C50.911"])]
            elif k == 4:
                ev["prescriber_taxonomy"] = r.choice(OTHER_TAXONOMIES)
            else:
                ev["birth_date"] = iso(day - dt.timedelta(days=365 * 17))
        return ev

    def claim(self, member, claim_id, day, auth, flavour):
        r = self.r
        ev = {
            "kind": "claim",
            "event_id": self.eid(),
            "claim_id": claim_id,
            "line_number": 1,
            "received_at": self.ts(day + dt.timedelta(days=r.randrange(1, 20))),
            "member_id": member["id"],
            "birth_date": iso(member["birth"]),
            "service_date": iso(day),
            "hcpcs_code": r.choice(["J3590", "C9399"]),
            "ndc": "73776-0001-12",
            "units": 1,
            "dose_viable_cells": r.randrange(7_500_000_000, 72_000_000_001),
            "diagnosis_codes": ["C43.9"],
            "rendering_npi": r.choice(self.npis),
            "authorization_id": auth,
            "billed_amount_cents": 51_500_000,
        }
        if flavour == "billing":
            k = r.randrange(4)
            if k == 0:
                ev["hcpcs_code"] = "J9999"
            elif k == 1:
                ev["units"] = 2
            elif k == 2:
                ev["dose_viable_cells"] = None
            else:
                ev["diagnosis_codes"] = []
        return ev

    def follow_up(self, orig, frequency, reference, claim_id=None):
        """A VOID or REPLACEMENT of the line `orig`, received some days after it: the same line
        (line_number, service date, codes) under its own event_id, naming `reference` as
        original_claim_id (the claim number REF*F8 carries). claim_id: the follow-up's own claim
        number (default: the original's, as most claims systems send it)."""
        r = self.r
        ev = dict(orig)
        ev["event_id"] = self.eid()
        ev["claim_id"] = claim_id or orig["claim_id"]
        day = dt.date.fromisoformat(orig["received_at"][:10])
        ev["received_at"] = self.ts(day + dt.timedelta(days=r.randrange(2, 30)))
        ev["frequency_code"] = frequency
        ev["original_claim_id"] = reference
        return ev

    def corrected(self, member, orig, n, k):
        """A REPLACEMENT of orig: a billing error fixed, or another dose or rendering NPI."""
        r = self.r
        claim_id = orig["claim_id"] if r.random() < 0.5 else "CLM-%07d-R%d" % (n, k)
        ev = self.follow_up(orig, "REPLACEMENT", orig["claim_id"], claim_id)
        ev.update(hcpcs_code=r.choice(["J3590", "C9399"]), units=1, diagnosis_codes=["C43.9"],
                  dose_viable_cells=r.randrange(7_500_000_000, 72_000_000_001))
        if r.random() < 0.3:
            ev["rendering_npi"] = r.choice(self.npis)
        return ev

    def lifecycle(self, member, n, out, first):
        """Voids, replacements and bad references of the member's line `first`, appended to (or,
        for a void sent too early, inserted into) the member's events `out`."""
        r = self.r
        roll = r.random()
        billing_error = first["hcpcs_code"] == "J9999" or first["units"] != 1 or \
            first["dose_viable_cells"] is None or not first["diagnosis_codes"]
        if billing_error and roll < 0.12:  # a denied line corrected by a replacement
            roll = 0.04
        if roll < 0.032:  # voided: billed in error; sometimes billed again correctly later
            own = first["claim_id"] if r.random() < 0.7 else first["claim_id"] + "-V"
            void = self.follow_up(first, "VOID", first["claim_id"], own)
            out.append(void)
            if r.random() < 0.1:  # the void redelivered
                out.append(dict(void))
            if r.random() < 0.4:
                svc = dt.date.fromisoformat(first["service_date"])
                auth = first["authorization_id"]
                out.append(self.claim(member, "CLM-%07d-C" % n, svc, auth, "ok"))
        elif roll < 0.046:  # replaced with a corrected line
            rep = self.corrected(member, first, n, 1)
            out.append(rep)
            if r.random() < 0.25:  # a chain: the replacement itself is voided later
                out.append(self.follow_up(rep, "VOID", rep["claim_id"]))
        elif roll < 0.055:  # a reference the contract has to sort out
            k = r.randrange(4)
            freq = r.choice(["VOID", "REPLACEMENT"])
            if k == 0:  # a claim never billed here
                out.append(self.follow_up(first, freq, "CLM-%07d-X" % n))
            elif k == 1:  # another member's claim number
                out.append(self.follow_up(first, freq, "CLM-%07d" % max(1, n - 1)))
            elif k == 2:  # a void that arrives before its original (not held back)
                out.insert(out.index(first), self.follow_up(first, "VOID", first["claim_id"]))
            else:  # padded with white space: trimmed, it still names the line
                pad = r.choice([" %s ", "\t%s", "%s\r\n", "  %s\t"])
                out.append(self.follow_up(first, freq, pad % first["claim_id"]))

    def invalid(self, member):
        r = self.r
        k = r.randrange(4)
        if k == 0:
            return '{"kind": "prior_auth", "event_id": "%s", "member_id": "%s"}' % (self.eid(), member["id"])
        if k == 1:
            return '{"kind": "claim", "event_id": "%s", "units": 1.5}' % self.eid()
        if k == 2:
            return '{"kind": "refund", "event_id": "%s"}' % self.eid()
        return '{"kind": "claim", "event_id": "%s", "service_date": "2026-02-30"' % self.eid()

    def member_story(self, n: int):
        """Events of one member, in that member's order."""
        r = self.r
        start = dt.date(2024, 5, 1) + dt.timedelta(days=r.randrange(0, 900))
        member = {
            "id": "MEM-%07d" % n,
            "birth": dt.date(r.randrange(1940, 2010), r.randrange(1, 13), r.randrange(1, 29)),
            "braf": r.choice(["NEGATIVE", "NEGATIVE", "POSITIVE", "UNKNOWN"]),
        }
        if member["braf"] == "UNKNOWN" and r.random() < 0.7:
            member["braf"] = "NEGATIVE"
        out = []
        pa_id = "PA-%07d" % n
        roll = r.random()
        day = start
        if roll < 0.15:  # pended, then resubmitted with the missing data
            out.append(self.pa(member, pa_id, day, "pend"))
            out.append(self.claim(member, "CLM-%07d-A" % n, day + dt.timedelta(days=5), None, "ok"))
            day += dt.timedelta(days=r.randrange(3, 20))
            out.append(self.pa(member, pa_id, day, "ok"))
        elif roll < 0.30:  # denied
            out.append(self.pa(member, pa_id, day, "deny"))
        else:
            out.append(self.pa(member, pa_id, day, "ok"))
        # claims: most within the window, some late, some billed twice or for a second dose
        svc = day + dt.timedelta(days=r.randrange(-5, 200))
        auth = pa_id if r.random() < 0.7 else r.choice([None, "", " %s " % pa_id, "PA-UNKNOWN"])
        first = self.claim(member, "CLM-%07d" % n, svc, auth, "billing" if r.random() < 0.08 else "ok")
        out.append(first)
        roll = r.random()
        if roll < 0.05:  # replay of the same event (redelivery)
            out.append(dict(first))
        elif roll < 0.10:  # the same line billed again under a new event id
            dup = dict(first)
            dup["event_id"] = self.eid()
            out.append(dup)
        elif roll < 0.14:  # a second dose
            out.append(self.claim(member, "CLM-%07d-B" % n, svc + dt.timedelta(days=40), auth, "ok"))
        self.lifecycle(member, n, out, first)
        if r.random() < self.invalid_rate * 3:
            out.append(self.invalid(member))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=625)
    ap.add_argument("--invalid-rate", type=float, default=0.01)
    args = ap.parse_args()
    g = Generator(args.seed, args.invalid_rate)
    queues = []
    produced = 0
    n = 0
    out = sys.stdout
    # Interleave members: keep up to 64 stories open, emit from a random open one.
    while produced < args.events:
        while len(queues) < 64:
            n += 1
            queues.append(g.member_story(n))
        i = g.r.randrange(len(queues))
        ev = queues[i].pop(0)
        if not queues[i]:
            queues.pop(i)
        out.write(ev if isinstance(ev, str) else json.dumps(ev))
        out.write("\n")
        produced += 1


if __name__ == "__main__":
    main()
