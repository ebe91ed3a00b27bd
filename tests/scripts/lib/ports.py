#!/usr/bin/env python3
"""Free TCP ports for the tests' throwaway services, below Linux's ephemeral port range.

A port in the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default)
can be held at any moment by any client's outgoing connection or by anyone binding port 0, so a
service told to listen there can fail with "Address already in use" (a broker here did, its
port being the local port of a PostgreSQL client connection). Ports below that range are only
ever taken by an explicit bind. The tests take theirs from a pool there (AMTAGVI_TEST_PORTS,
default 21000-24999; ops/stack.sh's own defaults, 25432 and 25092/25093, lie outside it).

Every test that needs a port decided before its service binds it gets it here, the one
mechanism: under an flock on REGISTRY (AMTAGVI_PORTS_DIR, default /tmp) a candidate is free if
no live owner has it reserved and binding 127.0.0.1 on it succeeds; what is handed out is
recorded with its owner's pid and start time (a reused pid does not count) and stays reserved
until the owner releases it or exits. So concurrent runs (the normal and the ASan build, ctest
-j) never get the same port, not even while one of them has a service down for a restart.

    ports.py reserve OWNER_PID SIZE...   one line of ports, one per SIZE: the first of SIZE
                                         consecutive free ports (2 for Kafka: client+controller)
    ports.py release OWNER_PID [PORT...] drop OWNER_PID's reservations (all, or those PORTs)
    ports.py list                        the live reservations

From Python: import ports; pg, kafka = ports.reserve([1, 2]) (owner: this process).
Bash scripts source tests/scripts/lib/ports.sh, which calls this file.
"""
import fcntl
import os
import socket
import sys

DEFAULT_POOL = (21000, 24999)


def _pool():
    spec = os.environ.get("AMTAGVI_TEST_PORTS", "%d-%d" % DEFAULT_POOL)
    try:
        lo, hi = (int(x) for x in spec.split("-"))
    except ValueError:
        raise SystemExit("ports.py: AMTAGVI_TEST_PORTS must be LO-HI, not %r" % spec)
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        eph_lo = 32768
    hi = min(hi, eph_lo - 1)
    if not 1024 <= lo <= hi:
        raise SystemExit("ports.py: empty port pool %s below the ephemeral range (from %d)"
                         % (spec, eph_lo))
    return lo, hi


def _registry():
    d = os.environ.get("AMTAGVI_PORTS_DIR", "/tmp")
    return os.path.join(d, "amtagvi-test-ports.reserved")


def _start_time(pid):
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), None if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        return None


def _bindable(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class _Registry:
    """The reservations ({port: (pid, start)} of live owners), read and rewritten under flock."""

    def __enter__(self):
        path = _registry()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            os.fchmod(fd, 0o666)  # shared by every user's test runs (umask would narrow it)
        except OSError:
            pass  # someone else's file: they made it shared
        self.f = os.fdopen(fd, "r+")
        fcntl.flock(self.f, fcntl.LOCK_EX)
        self.held = {}
        for line in self.f:
            parts = line.split()
            if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
                continue  # a torn line from an interrupted writer
            port, pid, start = int(parts[0]), int(parts[1]), parts[2]
            if _start_time(pid) == start:
                self.held[port] = (pid, start)
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self.f.seek(0)
                self.f.truncate()
                self.f.write("".join("%d %d %s\n" % (p, pid, st)
                                     for p, (pid, st) in sorted(self.held.items())))
                self.f.flush()
        finally:
            self.f.close()  # releases the lock


def reserve(sizes, owner=None):
    """A port per size: the first of `size` consecutive ports, all free and now reserved for
    `owner` (a pid, default this process) until release() or its exit."""
    owner = os.getpid() if owner is None else int(owner)
    start = _start_time(owner)
    if start is None:
        raise SystemExit("ports.py: no process %d to own the ports" % owner)
    lo, hi = _pool()
    span = hi - lo + 1
    out = []
    with _Registry() as reg:
        # Start where this owner's pid points, so concurrent owners rarely probe the same ports.
        first = (owner * 7919) % span
        for size in sizes:
            size = int(size)
            for i in range(span):
                base = lo + (first + i) % span
                group = range(base, base + size)
                if group[-1] > hi or any(p in reg.held for p in group):
                    continue
                if all(_bindable(p) for p in group):
                    for p in group:
                        reg.held[p] = (owner, start)
                    out.append(base)
                    first = (base + size - lo) % span
                    break
            else:
                raise SystemExit("ports.py: no %d free consecutive port(s) in %d-%d"
                                 % (size, lo, hi))
    return out


def release(owner=None, ports=None):
    owner = os.getpid() if owner is None else int(owner)
    with _Registry() as reg:
        for p, (pid, _) in list(reg.held.items()):
            if pid == owner and (not ports or p in ports):
                del reg.held[p]


def main(argv):
    if len(argv) >= 3 and argv[0] == "reserve":
        print(" ".join(str(p) for p in reserve(argv[2:], owner=argv[1])))
    elif len(argv) >= 2 and argv[0] == "release":
        release(owner=argv[1], ports={int(p) for p in argv[2:]})
    elif argv == ["list"]:
        with _Registry() as reg:
            for p, (pid, _) in sorted(reg.held.items()):
                print(p, pid)
    else:
        sys.exit("usage: ports.py reserve OWNER_PID SIZE... | release OWNER_PID [PORT...] | list")


if __name__ == "__main__":
    main(sys.argv[1:])
