#!/usr/bin/env python3
"""The Schema Registry client (src/io/registry.c, driven by tests/tools/registry_tool) against
a real rivven-schema started and stopped with ops/stack.sh (registry start|stop).

Only the basic-auth and content-type header checks use a stub (a tiny http.server below):
rivven-schema 0.0.22's `serve` has authentication switched off (ServerConfig auth: None) and no
option to turn it on. Everything else talks to the real registry.

Usage (from tests/scripts/registry_client.sh):
  registry_client.py --tool T --adjudicator A --stack-sh S --stack-dir D --port P --schemas DIR
"""
import argparse
import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
import ports  # noqa: E402

CT = "application/vnd.schemaregistry.v1+json"
PASSED = []
FAILED = []


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- %s" % detail),
          flush=True)
    return cond


class Tool:
    """One registry_tool process: one client and its cache, across registry stops."""

    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def cmd(self, *fields):
        self.p.stdin.write("\t".join(str(f) for f in fields) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("registry_tool exited")
        return json.loads(line)

    def new(self, urls, timeout_ms, auth=None):
        a = ["new", urls, timeout_ms] + ([auth] if auth else [])
        return self.cmd(*a)

    def get(self, sid):
        return self.cmd("get", sid)

    def register(self, subject, path):
        return self.cmd("register", subject, path)

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(timeout=30)
        return rc


def full_name(path):
    d = json.load(open(path))
    return "%s.%s" % (d["namespace"], d["name"]) if d.get("namespace") else d["name"]


def rest(base, method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": CT})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


class Hang:
    """A port that accepts connections (the kernel's backlog) and never answers."""

    def __init__(self, port):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", port))
        self.s.listen(64)

    def close(self):
        self.s.close()


class Stub(http.server.BaseHTTPRequestHandler):
    """Basic auth / content type check only: 401 unless the expected Authorization header."""
    expected = ""
    seen = []

    def log_message(self, *a):
        pass

    def _answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", CT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _common(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        Stub.seen.append({"method": self.command, "path": self.path,
                          "authorization": self.headers.get("Authorization"),
                          "content_type": self.headers.get("Content-Type"),
                          "accept": self.headers.get("Accept"), "body": body.decode()})
        if self.headers.get("Authorization") != Stub.expected:
            self._answer(401, {"error_code": 40101, "message": "Unauthorized"})
            return False
        return True

    def do_GET(self):
        if self._common():
            self._answer(200, {"schema": "\"string\""})

    def do_POST(self):
        if self._common():
            self._answer(200, {"id": 7})


def main():
    ap = argparse.ArgumentParser()
    for a in ("--tool", "--adjudicator", "--stack-sh", "--stack-dir", "--schemas"):
        ap.add_argument(a, required=True)
    ap.add_argument("--port", type=int, required=True)
    o = ap.parse_args()
    env = dict(os.environ, AMTAGVI_STACK_DIR=o.stack_dir, AMTAGVI_REGISTRY_PORT=str(o.port))

    def stack(*args):
        r = subprocess.run(["bash", o.stack_sh] + list(args), env=env, capture_output=True,
                           text=True, timeout=120)
        print("  ops/stack.sh %s: %s" % (" ".join(args), (r.stdout + r.stderr).strip()))
        return r

    base = "http://127.0.0.1:%d" % o.port
    dead, hang_port, stub_port = ports.reserve([1, 1, 1])
    dead_url = "http://127.0.0.1:%d" % dead
    hang_url = "http://127.0.0.1:%d" % hang_port
    hang = Hang(hang_port)
    tmp = tempfile.mkdtemp(prefix="registry_client.")

    def schema_file(name, obj):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
        return p

    S = {k: os.path.join(o.schemas, k + ".avsc")
         for k in ("prior_auth", "claim", "claim.v1", "determination", "determination.v1")}
    c1 = Tool(o.tool)
    check("client made", c1.new(base, 2000).get("ok") is True)

    # ---- subjects
    for strategy, topic, name, want in (
            ("record", "t", "com.amtagvi.ip0625.ClaimLine", "com.amtagvi.ip0625.ClaimLine"),
            ("topic_record", "amtagvi.events.v1", "com.amtagvi.ip0625.ClaimLine",
             "amtagvi.events.v1-com.amtagvi.ip0625.ClaimLine"),
            ("topic", "t", "a.B", None), ("topic_record", "", "a.B", None),
            ("record", "t", "", None)):
        r = c1.cmd("subject", strategy, topic, name)
        check("subject %s(%r, %r)" % (strategy, topic, name),
              (r["rc"] == 0 and r["subject"] == want) if want else r["rc"] == -1, r)

    # ---- register our schemas under record-name and topic-record-name subjects
    ids = {}
    for key in ("prior_auth", "claim.v1", "determination.v1"):
        subj = full_name(S[key])
        r = c1.register(subj, S[key])
        check("register %s under %s" % (key, subj), r["status"] == "ok" and r["id"] > 0, r)
        ids[key] = r["id"]
    # rivven-schema 0.0.22 refuses any second version of a schema with logical types under
    # BACKWARD (no case for them in its check); version 2 of claim and determination go under
    # subjects of their own here (topic-record-name), the evolution itself is the worker's.
    for key, topic in (("claim", "amtagvi.events.v1"), ("determination", "amtagvi.determinations.v1")):
        subj = "%s-%s" % (topic, full_name(S[key]))
        r = c1.register(subj, S[key])
        check("register %s under %s" % (key, subj), r["status"] == "ok" and r["id"] > 0, r)
        ids[key] = r["id"]
    check("five schemas, five ids", len(set(ids.values())) == 5, ids)
    r = c1.register("amtagvi.events.v1-" + full_name(S["prior_auth"]), S["prior_auth"])
    check("the same schema under a topic-record subject keeps its id",
          r["status"] == "ok" and r["id"] == ids["prior_auth"], r)
    r = c1.register(full_name(S["prior_auth"]), S["prior_auth"])
    check("registering again finds the id", r["status"] == "ok" and r["id"] == ids["prior_auth"], r)

    # ---- by id: the text equals ours as JSON (the registry re-serialises it)
    for key, sid in ids.items():
        r = c1.get(sid)
        ok = r["status"] == "ok" and json.loads(r["schema"]) == json.load(open(S[key]))
        check("schema id %d is %s" % (sid, key), ok, r.get("err"))
    r = c1.get(999999)
    check("unknown id -> not_found (40403)", r["status"] == "not_found" and "40403" in r["err"], r)
    r = c1.get(-3)
    check("negative id -> not_found", r["status"] == "not_found", r)

    # ---- refusals
    simple = {"type": "record", "name": "Simple", "namespace": "test.registry",
              "fields": [{"name": "a", "type": "string"}]}
    grown = dict(simple, fields=simple["fields"] + [{"name": "b", "type": "long"}])
    r = c1.register("test.registry.Simple", schema_file("simple.avsc", simple))
    check("register a simple schema", r["status"] == "ok", r)
    r = c1.register("test.registry.Simple", schema_file("grown.avsc", grown))
    check("a field without default under BACKWARD -> refused (409)",
          r["status"] == "refused" and "409" in r["err"] and "incompatible" in r["err"], r)
    r = c1.register("test.registry.Bad", schema_file("bad.avsc", '{"type": "nonsense"}'))
    check("an invalid schema -> refused (422)", r["status"] == "refused" and "422" in r["err"], r)
    proto = rest(base, "POST", "/subjects/test.registry.proto/versions",
                 {"schemaType": "PROTOBUF",
                  "schema": 'syntax = "proto3"; message M { string a = 1; }'})["id"]
    r = c1.get(proto)
    check("a PROTOBUF schema id -> unreadable, named", r["status"] == "unreadable" and
          "PROTOBUF" in r["err"], r)
    big = dict(simple, name="Big", doc="x" * (5 << 20))
    big_id = c1.register("test.registry.Big", schema_file("big.avsc", big))["id"]
    r = c1.get(big_id)
    check("an answer over 4 MiB -> unreadable", r["status"] == "unreadable" and "larger" in r["err"],
          r)

    # ---- a registered schema this client never fetched (for the registry-down checks)
    spare = dict(simple, name="Spare")
    spare_id = c1.register("test.registry.Spare", schema_file("spare.avsc", spare))["id"]

    # ---- cache bound by count: 1025 schemas, least recently used forgotten
    many = []
    for i in range(1025):
        p = schema_file("m%d.avsc" % i, dict(simple, name="M%d" % i))
        r = c1.register("test.registry.M%d" % i, p)
        if r["status"] != "ok":
            check("register 1025 small schemas", False, r)
            break
        many.append(r["id"])
    c2 = Tool(o.tool)
    c2.new(base, 2000)
    fills = [c2.get(sid)["status"] for sid in many[:1024]]
    check("1024 ids fetched", fills == ["ok"] * 1024, set(fills))
    c2.get(many[0])  # most recently used now
    check("the 1025th id fetched", c2.get(many[1024])["status"] == "ok")

    # ---- cache bound by bytes: 9 schemas of just under 2 MiB (8 fit in 16 MiB, 9 do not)
    bigs = []
    for i in range(9):
        doc = chr(97 + i) * ((2 << 20) - 1024)
        p = schema_file("b%d.avsc" % i, dict(simple, name="B%d" % i, doc=doc))
        bigs.append(c1.register("test.registry.B%d" % i, p)["id"])
    c3 = Tool(o.tool)
    c3.new(base, 2000)
    got = [c3.get(sid)["status"] for sid in bigs]
    check("nine 2 MiB schemas fetched", got == ["ok"] * 9, got)

    # ---- fail-over: a refused URL and a hanging one before the registry
    c4 = Tool(o.tool)
    c4.new("%s, %s/ ,%s" % (dead_url, hang_url, base), 1500)
    r = c4.get(ids["claim"])
    check("fail-over past a dead and a hanging URL", r["status"] == "ok" and r["ms"] >= 1400, r)
    r = c4.get(ids["determination"])
    check("the URL that answered is asked first next time", r["status"] == "ok" and
          r["ms"] < 500, r)

    # ---- registry down
    stack("registry", "stop")
    r = c1.get(ids["prior_auth"])
    check("cached id answered with the registry stopped", r["status"] == "ok" and
          json.loads(r["schema"]) == json.load(open(S["prior_auth"])), r)
    r = c1.get(spare_id)
    check("uncached id with the registry down -> unavailable, at once",
          r["status"] == "unavailable" and r["ms"] < 2000 and "connect" in r["err"].lower(), r)
    c5 = Tool(o.tool)
    c5.new(hang_url, 1000)
    r = c5.get(1)
    check("a registry that does not answer -> unavailable within the timeout",
          r["status"] == "unavailable" and 900 <= r["ms"] < 1800, r)
    r = c4.get(spare_id)
    check("all URLs down -> unavailable, all named", r["status"] == "unavailable" and
          "all 3" in r["err"] and r["ms"] < 1500 * 3 + 1000, r)
    st = [c2.get(many[0])["status"], c2.get(many[1])["status"], c2.get(many[2])["status"],
          c2.get(many[1024])["status"]]
    check("LRU: 1024 ids kept, the least recently used one forgotten",
          st == ["ok", "unavailable", "ok", "ok"], st)
    st = [c3.get(sid)["status"] for sid in bigs]
    check("16 MiB bound: the first 2 MiB schema forgotten, the other eight kept",
          st == ["unavailable"] + ["ok"] * 8, st)

    # ---- registry back: the snapshot keeps the ids
    r = stack("registry", "start")
    check("registry restarted with its schemas", r.returncode == 0 and "registered again" in r.stdout,
          r.stdout + r.stderr)
    r = c1.get(spare_id)
    check("after the restart an uncached id answers with the same schema",
          r["status"] == "ok" and json.loads(r["schema"]) == spare, r)
    r = c1.get(ids["claim"])
    check("claim v2 keeps its id across the restart", r["status"] == "ok" and
          json.loads(r["schema"]) == json.load(open(S["claim"])), r)
    for c in (c1, c2, c3, c4, c5):
        c.close()

    # ---- basic auth (stub: rivven-schema serves without authentication)
    Stub.expected = "Basic " + base64.b64encode(b"reg-user:pa55-w0rd").decode()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", stub_port), Stub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    stub = "http://127.0.0.1:%d" % stub_port
    c6 = Tool(o.tool)
    c6.new(stub, 2000, "reg-user:pa55-w0rd")
    r = c6.get(1)
    check("basic auth: the header is sent", r["status"] == "ok" and
          Stub.seen[-1]["authorization"] == Stub.expected, Stub.seen[-1:])
    r = c6.register("s", S["prior_auth"])
    last = Stub.seen[-1]
    check("POST: content type %s, body {\"schema\": ...}" % CT,
          r["status"] == "ok" and r["id"] == 7 and last["content_type"] == CT and
          CT in (last["accept"] or "") and
          json.loads(json.loads(last["body"])["schema"]) == json.load(open(S["prior_auth"])),
          last)
    c6.new(stub, 2000, "reg-user:wrong-s3cret")
    r = c6.get(2)
    check("wrong password -> refused, secret not in the error", r["status"] == "refused" and
          "401" in r["err"] and "wrong-s3cret" not in r["err"], r)
    c6.new("http://u:url-s3cret@127.0.0.1:%d" % dead, 1000)
    r = c6.get(3)
    check("credentials in a URL never in the error", r["status"] == "unavailable" and
          "url-s3cret" not in r["err"] and "u:" not in r["err"], r)
    c6.close()
    srv.shutdown()

    # ---- --print-config masks the secret
    penv = dict(os.environ, AMTAGVI_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO="reg-user:pa55-w0rd",
                AMTAGVI_SCHEMA_REGISTRY_URL="http://a:url-pw@127.0.0.1:1,%s" % base)
    r = subprocess.run([o.adjudicator, "run", "--print-config"], env=penv, capture_output=True,
                       text=True, timeout=30)
    out = r.stdout + r.stderr
    check("--print-config masks the basic-auth secret and URL passwords",
          r.returncode == 0 and "pa55-w0rd" not in out and "url-pw" not in out and
          "schema.registry.basic.auth.user.info = reg-user:****" in out and
          "schema.registry.url = http://a:****@127.0.0.1:1," in out, out[-2000:])
    hang.close()
    ports.release()
    print("summary: %d passed, %d failed" % (len(PASSED), len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
