#!/usr/bin/env python3
"""bench/delayproxy.py - a latency-adding proxy for bench/discovery.sh.

Puts a fixed delay on every answer of a server, on 127.0.0.1 only, without
touching the network stack (no tc/netem):

  TCP  (--tcp LISTEN_PORT:TARGET_PORT, repeatable): forwards connections to
       127.0.0.1:TARGET_PORT.  Client-to-server bytes go through at once;
       server-to-client bytes are handed on DELAY after they arrived, in
       order (a one-way latency on the answer direction).  So the TLS
       handshake's server flight is delayed, and so is the HTTP response:
       every round trip the client makes costs DELAY.  With --first-only,
       only the first answer bytes of a connection wait (the rest flows
       freely).
  UDP  (--udp LISTEN_PORT:TARGET_PORT, repeatable): forwards each datagram
       to 127.0.0.1:TARGET_PORT from a socket of its own per client address
       and port, and sends each reply back DELAY after it arrived.

LISTEN_PORT 0 picks a free port; with --same-port, a --tcp and a --udp
listener given as 0 with the same TARGET_PORT get one port number (DNS
over UDP and TCP on one port).  Once listening, the ports in use are
written, one "KIND LISTEN TARGET" line each, to --ready FILE (atomically),
and every connection or datagram is logged as one line on stderr (so a
caller can count network use).  Runs until SIGTERM/SIGINT.
"""
import argparse
import asyncio
import os
import signal
import socket
import sys
import time

LOG = sys.stderr


def log(kind, what):
    LOG.write("%.3f %s %s\n" % (time.monotonic(), kind, what))
    LOG.flush()


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


async def pump_delayed(reader, writer, delay, first_only):
    """server -> client: each chunk handed on `delay` after it arrived"""
    q = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def read_side():
        first = True
        try:
            while True:
                data = await reader.read(65536)
                now = loop.time()
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


async def splice(creader, cwriter, target, delay, first_only, kind):
    try:
        sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
    except OSError as e:
        log(kind, "upstream %d: %s" % (target, e))
        cwriter.close()
        return
    s = swriter.get_extra_info("socket")
    c = cwriter.get_extra_info("socket")
    for sock in (s, c):
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up = asyncio.create_task(pump_now(creader, swriter))
    await pump_delayed(sreader, cwriter, delay, first_only)
    up.cancel()
    try:
        swriter.close()
    except (ConnectionError, OSError, RuntimeError):
        pass


def tcp_handler(target, delay, first_only):
    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        log("tcp", "%s:%s -> %d" % (peer[0], peer[1], target))
        await splice(reader, writer, target, delay, first_only, "tcp")
    return handle


class UdpUpstream(asyncio.DatagramProtocol):
    def __init__(self, front, client, delay):
        self.front, self.client, self.delay = front, client, delay
        self.transport = None
        self.last = time.monotonic()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.last = time.monotonic()
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.front.reply, data, self.client)


class UdpFront(asyncio.DatagramProtocol):
    def __init__(self, target, delay):
        self.target, self.delay = target, delay
        self.transport = None
        self.ups = {}

    def connection_made(self, transport):
        self.transport = transport

    def reply(self, data, client):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)

    def datagram_received(self, data, client):
        log("udp", "%s:%s -> %d (%d bytes)" % (client[0], client[1], self.target, len(data)))
        up = self.ups.get(client)
        if up is not None and up.transport is not None:
            up.last = time.monotonic()
            up.transport.sendto(data)
            return
        asyncio.get_running_loop().create_task(self.open_up(data, client))

    async def open_up(self, data, client):
        loop = asyncio.get_running_loop()
        transport, up = await loop.create_datagram_endpoint(
            lambda: UdpUpstream(self, client, self.delay),
            remote_addr=("127.0.0.1", self.target))
        self.ups[client] = up
        transport.sendto(data)

    def expire(self, idle):
        now = time.monotonic()
        for client, up in list(self.ups.items()):
            if now - up.last > idle:
                up.transport.close()
                del self.ups[client]


def spec(s):
    try:
        a, b = s.split(":")
        return int(a), int(b)
    except ValueError:
        raise argparse.ArgumentTypeError("want LISTEN_PORT:TARGET_PORT, got %r" % s)


def free_pair():
    """one port number free for both TCP and UDP on 127.0.0.1"""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            u.close()
            continue
        return t, u
    raise OSError("no port free for both TCP and UDP")


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delay-ms", type=float, default=100.0)
    ap.add_argument("--tcp", type=spec, action="append", default=[])
    ap.add_argument("--udp", type=spec, action="append", default=[])
    ap.add_argument("--same-port", action="store_true",
                    help="a --tcp and a --udp with LISTEN 0 and the same "
                    "TARGET share one port number")
    ap.add_argument("--first-only", action="store_true",
                    help="TCP: delay only the first answer bytes of a connection")
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    delay = args.delay_ms / 1000.0
    loop = asyncio.get_running_loop()
    lines, fronts, servers = [], [], []

    pre_tcp, pre_udp = {}, {}  # target -> pre-bound socket
    if args.same_port:
        for listen, target in args.udp:
            if listen == 0 and (0, target) in args.tcp and target not in pre_udp:
                pre_tcp[target], pre_udp[target] = free_pair()
    for listen, target in args.tcp:
        if listen == 0 and target in pre_tcp:
            sock = pre_tcp.pop(target)
            sock.listen(128)
            srv = await asyncio.start_server(tcp_handler(target, delay, args.first_only),
                                             sock=sock)
        else:
            srv = await asyncio.start_server(tcp_handler(target, delay, args.first_only),
                                             "127.0.0.1", listen, reuse_address=True)
        servers.append(srv)
        lines.append("tcp %d %d" % (srv.sockets[0].getsockname()[1], target))
    for listen, target in args.udp:
        if listen == 0 and target in pre_udp:
            sock = pre_udp.pop(target)
            transport, front = await loop.create_datagram_endpoint(
                lambda: UdpFront(target, delay), sock=sock)
        else:
            transport, front = await loop.create_datagram_endpoint(
                lambda: UdpFront(target, delay), local_addr=("127.0.0.1", listen))
        fronts.append(front)
        lines.append("udp %d %d" % (transport.get_extra_info("sockname")[1], target))

    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, args.ready)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            # an upstream socket per client port: resolvers pick a new
            # port per query, so close the idle ones soon
            for fr in fronts:
                fr.expire(2 + delay)
    for srv in servers:
        srv.close()


if __name__ == "__main__":
    asyncio.run(main())
