#!/usr/bin/python3
# tests/integration/lib/starttls_strip.py - a STARTTLS-stripping SMTP proxy
# (the classic downgrade attack) for the postseal integration tests.
# Started by sm_strip_start in smtp.sh; plain Python 3, no extra modules.
#
#   starttls_strip.py --dir DIR --port PORT --upstream UPSTREAM_PORT
#
# Listens on 127.0.0.1:PORT; every client connection gets its own plaintext
# connection to 127.0.0.1:UPSTREAM_PORT.  Bytes are passed on unchanged
# except:
#   * the STARTTLS line is removed from the reply to EHLO, and the reply is
#     renumbered so that it stays a valid multiline reply ("250-" on every
#     line but the last, "250 " on the last);
#   * a STARTTLS command is NOT passed on: the proxy answers
#     "454 4.7.0 TLS not available" itself (in the right place among the
#     replies, also when commands were pipelined before it).
# Replies are matched to commands in order (one reply per command line, one
# for the greeting, one for the end of DATA); message data after a 354 is
# passed on without being parsed as commands.
#
# DIR/strip.log, one line per event:
#   HH:MM:SS.mmm #ID C: <client command>   (AUTH arguments and AUTH
#                                           continuation lines masked)
#   HH:MM:SS.mmm #ID S: <reply line as sent to the client>
#   HH:MM:SS.mmm #ID P: <proxy event>: "connect", "removed STARTTLS from the
#       EHLO reply", "refused STARTTLS (454)", "message data: N bytes sent
#       in plaintext", "closed: mail=N rcpt=N data=N messages=N starttls=N"
#
# Exit status: 0 after SIGTERM/SIGINT, 3 when it cannot listen.

import argparse
import asyncio
import collections
import os
import signal
import sys
import time

LOG = None
NEXT_ID = [0]
LIMIT = 1 << 20


def now():
    t = time.time()
    return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % int((t % 1) * 1000)


def logline(cid, kind, text):
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "backslashreplace")
    text = text.rstrip("\r\n").replace("\r", "\\r").replace("\n", "\\n")
    LOG.write("%s #%s %s: %s\n" % (now(), cid, kind, text))
    LOG.flush()


def strip_starttls(lines):
    """lines: one complete reply (bytes lines with CRLF).  Returns the reply
    without a STARTTLS line, renumbered, and whether something was removed."""
    code = lines[0][:3]
    if code != b"250":
        return lines, False
    texts = [ln[4:].rstrip(b"\r\n") for ln in lines]
    keep = [t for i, t in enumerate(texts) if i == 0 or t.strip().upper() != b"STARTTLS"]
    if len(keep) == len(texts):
        return lines, False
    out = [code + (b"-" if i < len(keep) - 1 else b" ") + t + b"\r\n" for i, t in enumerate(keep)]
    return out, True


async def readline(reader):
    """a line, also when it is longer than the stream limit"""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as e:
        return e.partial
    except asyncio.LimitOverrunError as e:
        return await reader.read(e.consumed)


class Conn:
    def __init__(self, cid, cr, cw, upstream):
        self.cid = cid
        self.cr, self.cw = cr, cw
        self.upstream = upstream
        # replies still owed to the client, in order: ("up", kind) for a
        # reply from upstream, ("local", bytes) for one of our own
        self.queue = collections.deque()
        self.data_done = None
        self.data_ok = False
        self.auth_cont = False
        self.counts = collections.Counter()

    def flush_local(self):
        while self.queue and self.queue[0][0] == "local":
            text = self.queue.popleft()[1]
            logline(self.cid, "S", text)
            self.cw.write(text + b"\r\n")

    def local_reply(self, text):
        self.queue.append(("local", text))
        self.flush_local()

    async def run(self):
        logline(self.cid, "P", "connect")
        try:
            self.ur, self.uw = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.upstream, limit=LIMIT), 10)
        except (OSError, asyncio.TimeoutError) as e:
            logline(self.cid, "P", "upstream 127.0.0.1:%d unavailable: %s" % (self.upstream, e))
            self.local_reply(b"421 4.3.0 proxy: upstream not available")
            await self.close(self.cw)
            return
        self.queue.append(("up", "greeting"))
        tasks = [asyncio.ensure_future(self.c2s()), asyncio.ensure_future(self.s2c())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await self.close(self.uw)
            await self.close(self.cw)
            c = self.counts
            logline(self.cid, "P", "closed: mail=%d rcpt=%d data=%d messages=%d starttls=%d"
                    % (c["MAIL"], c["RCPT"], c["DATA"], c["message"], c["STARTTLS"]))

    @staticmethod
    async def close(w):
        try:
            w.close()
            await asyncio.wait_for(w.wait_closed(), 2)
        except Exception:
            pass

    async def c2s(self):
        while True:
            line = await readline(self.cr)
            if not line:
                return
            if self.auth_cont:
                # a response to a 334 challenge: credentials
                self.auth_cont = False
                logline(self.cid, "C", "<AUTH data masked>")
                self.queue.append(("up", "auth"))
                self.uw.write(line)
                await self.uw.drain()
                continue
            words = line.split(None, 2)
            cmd = words[0].upper().decode("ascii", "replace") if words else ""
            if cmd == "AUTH":
                logline(self.cid, "C", b"AUTH " + (words[1] if len(words) > 1 else b"") +
                        (b" <masked>" if len(words) > 2 else b""))
            else:
                logline(self.cid, "C", line)
            self.counts[cmd] += 1
            if cmd == "STARTTLS":
                logline(self.cid, "P", "refused STARTTLS (454)")
                self.local_reply(b"454 4.7.0 TLS not available")
                await self.cw.drain()
                continue
            kind = {"EHLO": "ehlo", "DATA": "data", "AUTH": "auth"}.get(cmd, "cmd")
            self.queue.append(("up", kind))
            self.uw.write(line)
            await self.uw.drain()
            if kind == "data":
                # the client must wait for 354 before sending the message
                self.data_done = asyncio.Event()
                await self.data_done.wait()
                if self.data_ok:
                    await self.message()

    async def message(self):
        n = 0
        while True:
            line = await readline(self.cr)
            if not line:
                return
            self.uw.write(line)
            if line == b".\r\n":
                break
            n += len(line)
        self.counts["message"] += 1
        logline(self.cid, "P", "message data: %d bytes sent in plaintext" % n)
        self.queue.append(("up", "enddata"))
        await self.uw.drain()

    async def s2c(self):
        lines = []
        while True:
            line = await readline(self.ur)
            if not line:
                # pass on what is left, then end the session
                for ln in lines:
                    self.cw.write(ln)
                return
            lines.append(line)
            if len(line) >= 4 and line[3:4] == b"-":
                continue
            kind = self.queue.popleft()[1] if self.queue and self.queue[0][0] == "up" else "unsolicited"
            out = lines
            if kind == "ehlo":
                out, removed = strip_starttls(lines)
                if removed:
                    logline(self.cid, "P", "removed STARTTLS from the EHLO reply")
            for ln in out:
                logline(self.cid, "S", ln)
                self.cw.write(ln)
            if kind == "auth" and lines[-1].startswith(b"334"):
                self.auth_cont = True
            if kind == "data":
                self.data_ok = lines[-1].startswith(b"354")
                self.data_done.set()
            lines = []
            self.flush_local()
            await self.cw.drain()


def main():
    global LOG
    ap = argparse.ArgumentParser(description="STARTTLS-stripping SMTP proxy for the postseal tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", type=int, required=True)
    a = ap.parse_args()
    LOG = open(os.path.join(a.dir, "strip.log"), "a", encoding="utf-8")

    async def client(cr, cw):
        NEXT_ID[0] += 1
        await Conn(NEXT_ID[0], cr, cw, a.upstream).run()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(lambda lp, ctx: logline("-", "P", ctx.get("message", "error")))
    try:
        srv = loop.run_until_complete(asyncio.start_server(
            client, host="127.0.0.1", port=a.port, limit=LIMIT, reuse_address=True))
    except OSError as e:
        sys.stderr.write("starttls_strip.py: cannot listen on 127.0.0.1:%d: %s\n" % (a.port, e))
        return 3
    logline("-", "P", "listening on 127.0.0.1:%d, upstream 127.0.0.1:%d" % (a.port, a.upstream))
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, loop.stop)
    loop.run_forever()
    srv.close()
    logline("-", "P", "stopped")
    LOG.close()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
