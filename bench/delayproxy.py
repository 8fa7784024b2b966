#!/usr/bin/env python3
"""bench/delayproxy.py - a latency-adding proxy for bench/discovery.sh.

Puts a fixed delay on every answer of a server, without touching the
network stack (no tc/netem):

  TCP  (--tcp LISTEN:TARGET, repeatable): forwards connections to TARGET.
       Client-to-server bytes go through at once; server-to-client bytes
       are handed on DELAY after they arrived, in order (a one-way latency
       on the answer direction).  So the TLS handshake's server flight is
       delayed, and so is the HTTP response: every round trip the client
       makes costs DELAY.  With --first-only, only the first answer bytes
       of a connection wait (the rest flows freely).
  UDP  (--udp LISTEN:TARGET, repeatable): forwards each datagram to TARGET
       from a socket of its own per client address and port, and sends
       each reply back DELAY after it arrived.

LISTEN and TARGET are PORT (on 127.0.0.1) or ADDR:PORT (an IPv4 address,
e.g. 127.0.0.2:53:127.0.0.3:53: the proxy on 127.0.0.2 port 53 in front
of a server on 127.0.0.3 port 53).  Port 0 of LISTEN picks a free port;
with --same-port, a --tcp and a --udp listener given with port 0, the same
listen address and the same TARGET get one port number (DNS over UDP and
TCP on one port).  Once listening, the sockets in use are written, one
"KIND LISTEN-ADDR:PORT TARGET-ADDR:PORT" line each, to --ready FILE
(atomically), and every connection or datagram is logged as one line on
stderr (so a caller can count network use).

The delay can be changed while running: SIGUSR1 sets it to 0, SIGUSR2
back to --delay-ms; after either, the delay now in force is written as
"delay MS" to --state FILE (atomically), so a caller can wait for it.
Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import ipaddress
import os
import signal
import socket
import sys
import time

LOG = sys.stderr
# the delay in force, in seconds (SIGUSR1/SIGUSR2 change it)
DELAY = {"s": 0.1}


def log(kind, what):
    LOG.write("%.3f %s %s\n" % (time.monotonic(), kind, what))
    LOG.flush()


def fmt(ap):
    return "%s:%d" % ap


async def pump_now(reader, writer):
    """client -> server: no delay"""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError, RuntimeError):
            pass


async def pump_delayed(reader, writer, first_only):
    """server -> client: each chunk handed on DELAY after it arrived"""
    q = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read_side():
        first = True
        try:
            while True:
                data = await reader.read(65536)
                now = loop.time()
                delay = DELAY["s"]
                if not data:
                    await q.put((now + (delay if not first_only or first else 0), None))
                    return
                due = now + delay if (not first_only or first) else now
                first = False
                await q.put((due, data))
        except (ConnectionError, OSError):
            await q.put((loop.time(), None))

    rt = asyncio.create_task(read_side())
    last_due = 0.0
    try:
        while True:
            due, data = await q.get()
            due = max(due, last_due)  # keep the order
            last_due = due
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        rt.cancel()
        try:
            writer.close()
        except (ConnectionError, OSError, RuntimeError):
            pass


async def splice(creader, cwriter, target, first_only, kind):
    try:
        sreader, swriter = await asyncio.open_connection(*target)
    except OSError as e:
        log(kind, "upstream %s: %s" % (fmt(target), e))
        cwriter.close()
        return
    s = swriter.get_extra_info("socket")
    c = cwriter.get_extra_info("socket")
    for sock in (s, c):
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up = asyncio.create_task(pump_now(creader, swriter))
    await pump_delayed(sreader, cwriter, first_only)
    up.cancel()
    try:
        swriter.close()
    except (ConnectionError, OSError, RuntimeError):
        pass


def tcp_handler(target, first_only):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        log("tcp", "%s:%s -> %s" % (peer[0], peer[1], fmt(target)))
        await splice(reader, writer, target, first_only, "tcp")
    return handle


def question(data):
    """the question of a DNS message as "NAME TYPE", or "" """
    try:
        i, labels = 12, []
        while data[i]:
            labels.append(data[i + 1:i + 1 + data[i]].decode("ascii", "replace"))
            i += 1 + data[i]
        qtype = int.from_bytes(data[i + 1:i + 3], "big")
        names = {1: "A", 2: "NS", 6: "SOA", 28: "AAAA", 43: "DS", 48: "DNSKEY", 61: "OPENPGPKEY"}
        return " %s. %s" % (".".join(labels), names.get(qtype, "TYPE%d" % qtype))
    except (IndexError, ValueError):
        return ""


class UdpUpstream(asyncio.DatagramProtocol):
    def __init__(self, front, client):
        self.front, self.client = front, client
        self.transport = None
        self.last = time.monotonic()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.last = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.call_later(DELAY["s"], self.front.reply, data, self.client)


class UdpFront(asyncio.DatagramProtocol):
    def __init__(self, target):
        self.target = target
        self.transport = None
        self.ups = {}

    def connection_made(self, transport):
        self.transport = transport

    def reply(self, data, client):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)

    def datagram_received(self, data, client):
        log("udp", "%s:%s -> %s (%d bytes)%s" % (client[0], client[1], fmt(self.target),
                                                  len(data), question(data)))
        up = self.ups.get(client)
        if up is not None and up.transport is not None:
            up.last = time.monotonic()
            up.transport.sendto(data)
            return
        asyncio.get_running_loop().create_task(self.open_up(data, client))

    async def open_up(self, data, client):
        loop = asyncio.get_running_loop()
        transport, up = await loop.create_datagram_endpoint(
            lambda: UdpUpstream(self, client), remote_addr=self.target)
        self.ups[client] = up
        transport.sendto(data)

    def expire(self, idle):
        now = time.monotonic()
        for client, up in list(self.ups.items()):
            if now - up.last > idle:
                up.transport.close()
                del self.ups[client]


def endpoint(parts):
    """[ADDR, PORT] or [PORT] -> (ADDR, PORT)"""
    addr = parts[0] if len(parts) == 2 else "127.0.0.1"
    ipaddress.IPv4Address(addr)
    port = int(parts[-1])
    if not 0 <= port <= 65535:
        raise ValueError(port)
    return addr, port


def spec(s):
    """LISTEN:TARGET, each PORT or ADDR:PORT -> ((ADDR, PORT), (ADDR, PORT))"""
    p = s.split(":")
    try:
        if len(p) == 2:
            return endpoint(p[:1]), endpoint(p[1:])
        if len(p) == 4:
            return endpoint(p[:2]), endpoint(p[2:])
        if len(p) == 3:
            # ADDR:PORT:PORT or PORT:ADDR:PORT
            if "." in p[0]:
                return endpoint(p[:2]), endpoint(p[2:])
            return endpoint(p[:1]), endpoint(p[1:])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        "want LISTEN:TARGET, each PORT or ADDR:PORT, got %r" % s)


def free_pair(addr):
    """one port number free for both TCP and UDP on addr"""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((addr, port))
        except OSError:
            t.close()
            u.close()
            continue
        return t, u
    raise OSError("no port free for both TCP and UDP on %s" % addr)


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delay-ms", type=float, default=100.0)
    ap.add_argument("--tcp", type=spec, action="append", default=[])
    ap.add_argument("--udp", type=spec, action="append", default=[])
    ap.add_argument("--same-port", action="store_true",
                    help="a --tcp and a --udp with listen port 0 on the same "
                    "address and the same TARGET share one port number")
    ap.add_argument("--first-only", action="store_true",
                    help="TCP: delay only the first answer bytes of a connection")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--state", help="where SIGUSR1/SIGUSR2 report the delay in force")
    args = ap.parse_args()
    DELAY["s"] = args.delay_ms / 1000.0
    loop = asyncio.get_running_loop()
    lines, fronts, servers = [], [], []

    pre_tcp, pre_udp = {}, {}  # (listen addr, target) -> pre-bound socket
    if args.same_port:
        for listen, target in args.udp:
            k = (listen[0], target)
            if listen[1] == 0 and (listen, target) in args.tcp and k not in pre_udp:
                pre_tcp[k], pre_udp[k] = free_pair(listen[0])
    for listen, target in args.tcp:
        k = (listen[0], target)
        if listen[1] == 0 and k in pre_tcp:
            sock = pre_tcp.pop(k)
            sock.listen(128)
            srv = await asyncio.start_server(tcp_handler(target, args.first_only), sock=sock)
        else:
            srv = await asyncio.start_server(tcp_handler(target, args.first_only),
                                             listen[0], listen[1], reuse_address=True,
                                             backlog=128)
        servers.append(srv)
        lines.append("tcp %s %s" % (fmt(srv.sockets[0].getsockname()[:2]), fmt(target)))
    for listen, target in args.udp:
        k = (listen[0], target)
        if listen[1] == 0 and k in pre_udp:
            sock = pre_udp.pop(k)
            transport, front = await loop.create_datagram_endpoint(
                lambda t=target: UdpFront(t), sock=sock)
        else:
            transport, front = await loop.create_datagram_endpoint(
                lambda t=target: UdpFront(t), local_addr=listen)
        fronts.append(front)
        lines.append("udp %s %s" % (fmt(transport.get_extra_info("sockname")[:2]), fmt(target)))

    def set_delay(s):
        DELAY["s"] = s
        if args.state:
            write_atomically(args.state, "delay %g\n" % (s * 1000))

    # the handlers before the ready file: a caller may signal at once
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, set_delay, 0.0)
    loop.add_signal_handler(signal.SIGUSR2, set_delay, args.delay_ms / 1000.0)
    write_atomically(args.ready, "\n".join(lines) + "\n")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            # an upstream socket per client port: resolvers pick a new
            # port per query, so close the idle ones soon
            for fr in fronts:
                fr.expire(2 + DELAY["s"])
    for srv in servers:
        srv.close()


if __name__ == "__main__":
    asyncio.run(main())
