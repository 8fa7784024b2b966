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

When every socket is ready, FILE (if given) gets one line per SPEC. Runs
until killed (SIGTERM). Exit 1 when a socket cannot be set up.
"""
import os
import selectors
import signal
import socket
import sys
import time


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
            mode, addr, port = spec.split(":")
            port = int(port)
        except ValueError:
            print(f"blackhole.py: bad SPEC {spec!r}", file=sys.stderr)
            return 2
        try:
            if mode == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((addr, port))
                sel.register(s, selectors.EVENT_READ, "udp")
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
            if key.data == "udp":
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
