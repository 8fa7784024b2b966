#!/usr/bin/python3
"""Servers that never answer, for tests/integration/lib/world.sh.

    blackhole.py [--ready FILE] SPEC...

SPEC is MODE:ADDR:PORT, MODE one of
  udp         bind a UDP socket, read every datagram and drop it (a name
              server that never answers)
  tcp-drop    a TCP port whose SYNs get no answer, as behind a firewall
              rule "drop": a listening socket with a backlog of 0 whose
              accept queue is filled by this process itself and never
              accepted from; Linux then drops every further SYN, so a
              client's connect() times out (no packet filter needed)
  tcp-silent  accept every connection, read and drop what arrives, never
              write (the connection is up, the server never speaks)

or dnsfilter:ADDR:PORT:UPADDR:UPPORT:QTYPE:SUFFIX, a name server that
drops some queries and answers the others: it stands on ADDR:PORT (UDP
and TCP) in front of the real server on UPADDR:UPPORT, and every query
whose question type is QTYPE (a number: 61 is OPENPGPKEY) for a name
ending in SUFFIX is read and dropped (as load balancers and firewalls do
that know only the record types of their day); everything else, and its
answer, is passed on. Each dropped query is logged as "dnsfilter:
dropped a query of type QTYPE for NAME" on stdout.

or dnsstrip:ADDR:PORT:UPADDR:UPPORT, a forwarder that knows nothing of
DNSSEC in front of a resolver that does (as some home routers and old
forwarders are): the DO bit of every query's EDNS record is cleared
before it is passed on, so no signatures come back, and the AD bit of
every answer is cleared. Each query is logged as "dnsstrip: NAME TYPE".

When every socket is ready, FILE (if given) gets one line per SPEC. Runs
until killed (SIGTERM). Exit 1 when a socket cannot be set up.
"""
import os
import selectors
import signal
import socket
import sys
import threading
import time


def question(msg):
    """(name, type) of a DNS query's first question, or None."""
    if len(msg) < 12 or int.from_bytes(msg[4:6], "big") < 1:
        return None
    i, labels = 12, []
    while i < len(msg) and msg[i] != 0:
        if msg[i] & 0xC0:  # no compression in the question of a query
            return None
        labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace").lower())
        i += 1 + msg[i]
    if i + 3 > len(msg):
        return None
    return ".".join(labels) + ".", int.from_bytes(msg[i + 1:i + 3], "big")


class Filter:
    """dnsfilter: drops the queries of one type below one name."""

    def __init__(self, qtype, suffix):
        self.qtype, self.suffix = qtype, suffix

    def query(self, msg):
        """The query to pass on, or None to drop it (logged)."""
        q = question(msg)
        if q is None:
            return None
        name, qtype = q
        if qtype == self.qtype and (name == self.suffix or name.endswith("." + self.suffix)):
            print(f"dnsfilter: dropped a query of type {qtype} for {name}", flush=True)
            return None
        return msg

    def answer(self, msg):
        return msg


def skip_name(msg, i):
    """The offset after the (possibly compressed) name at i."""
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n
    raise ValueError("name runs past the end")


class Strip:
    """dnsstrip: no DO bit in queries, no AD bit in answers."""

    def query(self, msg):
        q = question(msg)
        if q is None:
            return None
        print(f"dnsstrip: {q[0]} {q[1]}", flush=True)
        msg = bytearray(msg)
        try:
            counts = [int.from_bytes(msg[k:k + 2], "big") for k in (4, 6, 8, 10)]
            i = 12
            for _ in range(counts[0]):
                i = skip_name(msg, i) + 4
            for _ in range(sum(counts[1:])):
                i = skip_name(msg, i)
                rtype = int.from_bytes(msg[i:i + 2], "big")
                if rtype == 41:  # OPT: TTL = ext-rcode, version, flags
                    msg[i + 6] &= 0x7F  # DO
                i += 10 + int.from_bytes(msg[i + 8:i + 10], "big")
        except (ValueError, IndexError):
            return None
        return bytes(msg)

    def answer(self, msg):
        if len(msg) < 4:
            return msg
        msg = bytearray(msg)
        msg[3] &= ~0x20 & 0xFF  # AD
        return bytes(msg)


def dns_filter(sel, s, upstream, rule):
    """One query over UDP: drop it, or pass it on through a socket of its
    own, whose answer goes back to the client (the upstream, nsd, answers
    every query it gets, so no socket waits for ever)."""
    try:
        msg, client = s.recvfrom(65536)
    except OSError:
        return
    msg = rule.query(msg)
    if msg is None:
        return
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.connect(upstream)
        u.send(msg)
    except OSError:
        u.close()
        return
    sel.register(u, selectors.EVENT_READ, ("reply", s, client, rule))


def read_exact(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b


def tcp_conn(c, upstream, rule):
    """DNS over TCP, one connection: each query (2-octet length, message)
    is dropped or sent to the upstream over a connection of its own, and
    the answer written back. A dropped query gets no answer; the client
    gives up on it (the connection stays open until the client closes)."""
    with c:
        while True:
            n = read_exact(c, 2)
            msg = n and read_exact(c, int.from_bytes(n, "big"))
            if not msg:
                return
            msg = rule.query(msg)
            if msg is None:
                continue
            try:
                with socket.create_connection(upstream, timeout=10) as u:
                    u.sendall(len(msg).to_bytes(2, "big") + msg)
                    ln = read_exact(u, 2)
                    ans = ln and read_exact(u, int.from_bytes(ln, "big"))
                if not ans:
                    return
                ans = rule.answer(ans)
                c.sendall(len(ans).to_bytes(2, "big") + ans)
            except OSError:
                return


def tcp_filter(t, upstream, rule):
    while True:
        try:
            c, _ = t.accept()
        except OSError:
            return
        threading.Thread(target=tcp_conn, args=(c, upstream, rule), daemon=True).start()


def main(argv):
    ready = None
    specs = []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--ready" and args:
            ready = args.pop(0)
        else:
            specs.append(a)
    if not specs:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sel = selectors.DefaultSelector()
    keep = []  # sockets that must stay open
    for spec in specs:
        try:
            mode, addr, port, *rest = spec.split(":")
            port = int(port)
            if mode == "dnsfilter":
                upstream = (rest[0], int(rest[1]))
                rule = Filter(int(rest[2]), rest[3].lower().rstrip(".") + ".")
            elif mode == "dnsstrip":
                upstream = (rest[0], int(rest[1]))
                rule = Strip()
            elif rest:
                raise ValueError
        except (ValueError, IndexError):
            print(f"blackhole.py: bad SPEC {spec!r}", file=sys.stderr)
            return 2
        try:
            if mode == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((addr, port))
                sel.register(s, selectors.EVENT_READ, "udp")
            elif mode in ("dnsfilter", "dnsstrip"):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((addr, port))
                sel.register(s, selectors.EVENT_READ, ("filter", upstream, rule))
                t = socket.socket()
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind((addr, port))
                t.listen(64)
                keep.append(t)
                threading.Thread(target=tcp_filter, args=(t, upstream, rule),
                                 daemon=True).start()
            elif mode == "tcp-drop":
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((addr, port))
                s.listen(0)
                keep.append(s)
                # fill the accept queue until a connect() no longer
                # completes: from then on the kernel drops the SYNs
                for _ in range(16):
                    c = socket.socket()
                    c.settimeout(0.1)
                    try:
                        c.connect((addr, port))
                    except OSError:
                        c.close()
                        break
                    keep.append(c)
                else:
                    raise OSError("the accept queue never filled up")
            elif mode == "tcp-silent":
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((addr, port))
                s.listen(64)
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, "accept")
            else:
                print(f"blackhole.py: unknown MODE in {spec!r}", file=sys.stderr)
                return 2
        except OSError as e:
            print(f"blackhole.py: {spec}: {e}", file=sys.stderr)
            return 1
    if ready:
        tmp = ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(s + "\n" for s in specs))
        os.rename(tmp, ready)
    while True:
        events = sel.select(timeout=60) if sel.get_map() else time.sleep(60)
        for key, _ in events or ():
            s = key.fileobj
            if isinstance(key.data, tuple) and key.data[0] == "filter":
                dns_filter(sel, s, key.data[1], key.data[2])
            elif isinstance(key.data, tuple) and key.data[0] == "reply":
                try:
                    data = key.data[3].answer(s.recv(65536))
                    key.data[1].sendto(data, key.data[2])
                except OSError:
                    pass
                sel.unregister(s)
                s.close()
            elif key.data == "udp":
                try:
                    s.recvfrom(65536)
                except OSError:
                    pass
            elif key.data == "accept":
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, "conn")
            else:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    s.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
