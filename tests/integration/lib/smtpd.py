#!/usr/bin/python3
# tests/integration/lib/smtpd.py - a private SMTP server for the postseal
# integration tests, built on Debian's python3-aiosmtpd (1.4.3 in Debian 12).
# Started by sm_start in smtp.sh (read the header there first); listens on
# 127.0.0.1 only:
#
#   smtpd.py --dir DIR --port PORT [--tls-port PORT2] [options]
#
# DIR/ca/{good,bad}.{pem,key}  certificates (made by sm_ca in smtp.sh)
# DIR/auth                     "USER\nPASSWORD\n" when --auth is not none
# DIR/rules                    reply rules, re-read at every MAIL/RCPT/DATA:
#                                ADDRESS CODE TEXT   reply to RCPT TO:<ADDRESS>
#                                                    (case-insensitive)
#                                *       CODE TEXT   every other recipient
#                                MAIL    CODE TEXT   every MAIL FROM
#                                DATA    CODE TEXT   the end of DATA (the
#                                                    message is not stored)
#                              '#' comments and blank lines are ignored; a 421
#                              reply closes the connection after it is sent.
# DIR/mail/N.eml               message N (1, 2, ...; after a restart in the
#                              same DIR the numbers go on) exactly as received
#                              after DATA, transparency dots removed (RFC 5321
#                              4.5.2), every other byte kept (CRLF, bare LF)
# DIR/mail/N.env               one line of JSON about message N (see below);
#                              written (rename) after N.eml, so a present
#                              N.env means a complete message
# DIR/smtpd.log                one line per event, command and reply:
#                                HH:MM:SS.mmm #ID C: <command>   (AUTH data
#                                                    masked, AUTH continuation
#                                                    lines not logged)
#                                HH:MM:SS.mmm #ID S: <reply line>
#                                HH:MM:SS.mmm #ID P: <event>  (connect, TLS
#                                                    established / handshake
#                                                    failed, AUTH result,
#                                                    message data, stored,
#                                                    closed)
#
# The implicit-TLS listener accepts plain TCP and runs the handshake itself
# (loop.start_tls) so that a connection whose handshake fails (e.g. the
# client rejects the certificate) is logged; asyncio's ssl= listener would
# drop it silently.
#
# N.env keys: n, mail_from, rcpt_tos, mail_options (upper-cased, REQUIRETLS
# included when given), rcpt_options, requiretls (bool), tls (bool: the
# session was TLS when DATA came), tls_version, listener ("plain" or
# "implicit"), auth_user (null when not authenticated), helo, esmtp (bool),
# peer, size, time.
#
# Exit status: 0 after SIGTERM/SIGINT, 2 usage/config error, 3 cannot listen
# (the message names the port: sm_start picks new ports and retries).

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import time
import warnings

try:
    import aiosmtpd
    from aiosmtpd.smtp import SMTP, AuthResult, TLSSetupException
except ImportError as e:  # pragma: no cover
    sys.stderr.write("smtpd.py: python3-aiosmtpd is not installed (%s)\n" % e)
    sys.exit(2)

# aiosmtpd warns about auth_require_tls=False (we enforce it ourselves) and
# about the deprecated Session.login_data it sets itself after AUTH
warnings.filterwarnings("ignore")

LOG = None          # the open DIR/smtpd.log
CONN_IDS = {}       # peer tuple -> connection number
NEXT_ID = [0]


def now():
    t = time.time()
    return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % int((t % 1) * 1000)


def logline(cid, kind, text):
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "backslashreplace")
    text = text.rstrip("\r\n").replace("\r", "\\r").replace("\n", "\\n")
    LOG.write("%s #%s %s: %s\n" % (now(), cid, kind, text))
    LOG.flush()


class CommandLog(logging.Handler):
    """aiosmtpd logs every command line as "%r >> %r" (peer, line) at INFO,
    AUTH arguments already masked; turn those into "C:" lines."""

    def emit(self, record):
        try:
            if record.msg == "%r >> %r" and len(record.args) == 2:
                peer, line = record.args
                logline(CONN_IDS.get(peer, "?"), "C", line)
        except Exception:  # never break the server for the log
            pass


class Config:
    pass


def new_id():
    NEXT_ID[0] += 1
    return NEXT_ID[0]


class ImplicitTLS(asyncio.Protocol):
    """The implicit-TLS listener (RFC 8314): accept TCP, log the connection,
    do the TLS handshake (logging a failure, which asyncio's own ssl=
    listener would swallow), then hand the TLS transport to an SMTPx."""

    def __init__(self, make_smtp, ctx):
        self.make_smtp = make_smtp
        self.ctx = ctx

    def connection_made(self, transport):
        # keep the ClientHello in the socket until start_tls takes over
        transport.pause_reading()
        self.id = new_id()
        peer = transport.get_extra_info("peername")
        logline(self.id, "P", "connect from %s:%s to the implicit listener" % tuple(peer[:2]))
        asyncio.ensure_future(self.upgrade(transport))

    async def upgrade(self, transport):
        smtp = self.make_smtp()
        smtp.sm_id = self.id
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(transport, smtp, self.ctx, server_side=True,
                                       ssl_handshake_timeout=10)
        except Exception as e:
            logline(self.id, "P", "TLS handshake failed: %s" % (str(e) or type(e).__name__))
            logline(self.id, "P", "closed")
            transport.close()
            return
        smtp.connection_made(tls)

    def data_received(self, data):  # not reached: reading is paused
        pass


def read_rules(path):
    rules = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 2)
                if len(parts) < 2 or not (len(parts[1]) == 3 and parts[1].isdigit()):
                    continue
                key = parts[0]
                if "@" in key:
                    key = key.strip("<>").lower()
                else:
                    key = key.upper()
                rules.setdefault(key, " ".join(parts[1:]))
    except FileNotFoundError:
        pass
    return rules


class Handler:
    def __init__(self, cfg):
        self.cfg = cfg
        os.makedirs(os.path.join(cfg.dir, "mail"), exist_ok=True)
        n = 0
        for name in os.listdir(os.path.join(cfg.dir, "mail")):
            base = name.split(".", 1)[0]
            if base.isdigit():
                n = max(n, int(base))
        self.count = n

    def rule(self, key):
        return read_rules(os.path.join(self.cfg.dir, "rules")).get(key)

    @staticmethod
    def maybe_close(server, status):
        if status.startswith("421"):
            server.loop.call_soon(server.transport.close)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        lines = [r[4:] for r in responses]
        out = []
        for t in lines:
            if t.upper().startswith("AUTH") and not server.sm_auth_offered():
                continue
            if t == "HELP" and server.sm_requiretls_offered():
                out.append("REQUIRETLS")
            out.append(t)
        return ["250%s%s" % ("-" if i < len(out) - 1 else " ", t) for i, t in enumerate(out)]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        r = self.rule("MAIL")
        if r:
            self.maybe_close(server, r)
            return r
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        if server.sm_requiretls_given:
            envelope.mail_options.append("REQUIRETLS")
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rules = read_rules(os.path.join(self.cfg.dir, "rules"))
        r = rules.get(address.strip("<>").lower()) or rules.get("*")
        if r:
            self.maybe_close(server, r)
            return r
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        logline(server.sm_id, "P", "message data: %d bytes" % len(content))
        r = self.rule("DATA")
        if r:
            self.maybe_close(server, r)
            return r
        self.count += 1
        n = self.count
        d = os.path.join(self.cfg.dir, "mail")
        tls = server.sm_tls_object()
        env = {
            "n": n,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "requiretls": "REQUIRETLS" in envelope.mail_options,
            "tls": tls is not None,
            "tls_version": tls.version() if tls is not None else None,
            "listener": server.sm_listener,
            "auth_user": server.sm_auth_user if session.authenticated else None,
            "helo": session.host_name,
            "esmtp": bool(session.extended_smtp),
            "peer": "%s:%s" % tuple(session.peer[:2]) if session.peer else None,
            "size": len(content),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        for name, data in (("%d.eml" % n, content),
                           ("%d.env" % n, (json.dumps(env, sort_keys=True) + "\n").encode())):
            tmp = os.path.join(d, "." + name + ".tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, os.path.join(d, name))
        logline(server.sm_id, "P", "stored message %d (tls=%s auth_user=%s requiretls=%s)"
                % (n, json.dumps(env["tls"]), json.dumps(env["auth_user"]),
                   json.dumps(env["requiretls"])))
        return "250 2.0.0 OK: queued as %d" % n


class SMTPx(SMTP):
    """aiosmtpd's SMTP with logging, REQUIRETLS, implicit TLS and our own
    rule for when AUTH is allowed."""

    def __init__(self, handler, cfg, listener, **kw):
        self.cfg = cfg
        self.sm_listener = listener
        self.sm_id = "?"
        self.sm_requiretls_given = False
        self.sm_auth_user = None
        super().__init__(handler, **kw)

    # --- state
    def sm_tls_object(self):
        t = self.transport
        if t is None:
            return None
        try:
            return t.get_extra_info("ssl_object")
        except Exception:
            return None

    def sm_auth_offered(self):
        c = self.cfg
        if c.auth == "none":
            return False
        return c.auth_plaintext or self.sm_tls_object() is not None or \
            (c.tls == "none" and self.sm_listener == "plain")

    def sm_requiretls_offered(self):
        if self.cfg.requiretls == "always":
            return True
        return self.cfg.requiretls == "tls" and self.sm_tls_object() is not None

    # --- connection events
    def connection_made(self, transport):
        starttls = self._original_transport is not None
        super().connection_made(transport)
        if not starttls and self.sm_id == "?":
            # (ImplicitTLS has given the id and logged the connect already)
            self.sm_id = new_id()
            logline(self.sm_id, "P", "connect from %s:%s to the %s listener"
                    % (self.session.peer[0], self.session.peer[1], self.sm_listener))
        CONN_IDS[self.session.peer] = self.sm_id
        tls = self.sm_tls_object()
        if tls is not None:
            if self.session.ssl is None:
                # implicit TLS: aiosmtpd only sets this after STARTTLS
                self.session.ssl = {"ssl_object": tls}
            logline(self.sm_id, "P", "TLS established (%s, %s)%s"
                    % (tls.version(), tls.cipher()[0],
                       " after STARTTLS" if starttls else " on connect"))

    def connection_lost(self, error):
        if self.session is None:
            # the implicit-TLS handshake failed: connection_made never ran
            # (ImplicitTLS logs it), but asyncio reports the loss here too
            return
        if not getattr(self, "sm_closed", False):   # aiosmtpd may call it twice
            self.sm_closed = True
            logline(self.sm_id, "P", "closed" + (" (%s)" % error if str(error or "") else ""))
        super().connection_lost(error)

    async def push(self, status):
        logline(self.sm_id, "S", status)
        await super().push(status)

    async def handle_exception(self, error):
        if isinstance(error, TLSSetupException):
            cause = error.__cause__ or error
            logline(self.sm_id, "P", "TLS handshake failed: %s" % cause)
            return "454 4.7.0 TLS handshake failed"
        logline(self.sm_id, "P", "exception: %r" % (error,))
        return "451 4.3.0 Error: (%s) %s" % (error.__class__.__name__, error)

    # --- commands
    async def smtp_STARTTLS(self, arg):
        if self.sm_tls_object() is not None:
            return await self.push("554 5.5.1 Error: TLS already active")
        await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg):
        if self.cfg.auth == "none":
            return await self.push("503 5.5.1 Error: authentication not enabled")
        if self.session.host_name and self.session.extended_smtp and not self.sm_auth_offered():
            return await self.push("538 5.7.11 Encryption required for requested "
                                   "authentication mechanism")
        await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        # aiosmtpd answers 555 to any MAIL parameter it does not know: take
        # REQUIRETLS out (when we offer it) and record it
        self.sm_requiretls_given = False
        if arg and self.session.extended_smtp and self.sm_requiretls_offered():
            i = arg.rfind(">")
            head, tail = (arg[:i + 1], arg[i + 1:]) if i >= 0 else (arg, "")
            params = tail.split()
            kept = [p for p in params if p.upper() != "REQUIRETLS"]
            if len(kept) != len(params):
                self.sm_requiretls_given = True
                arg = " ".join([head] + kept)
        await super().smtp_MAIL(arg)


def make_context(cfg, which):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(cfg.dir, "ca", which + ".pem"),
                        os.path.join(cfg.dir, "ca", which + ".key"))
    return ctx


def main():
    global LOG
    ap = argparse.ArgumentParser(description="private SMTP server for the postseal tests")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int, default=0)
    ap.add_argument("--tls", choices=["good", "bad", "none"], default="good",
                    help="STARTTLS certificate (none: no STARTTLS)")
    ap.add_argument("--implicit-cert", choices=["good", "bad"], default="good",
                    help="certificate of the implicit-TLS listener")
    ap.add_argument("--requiretls", choices=["off", "tls", "always"], default="off")
    ap.add_argument("--auth", choices=["none", "optional", "required"], default="none")
    ap.add_argument("--auth-plaintext", action="store_true",
                    help="offer AUTH before STARTTLS too")
    ap.add_argument("--require-starttls", action="store_true")
    ap.add_argument("--no-smtputf8", action="store_true")
    ap.add_argument("--size", type=int, default=32 * 1024 * 1024)
    ap.add_argument("--hostname", default="smtp.example.test")
    cfg = ap.parse_args(namespace=Config())

    LOG = open(os.path.join(cfg.dir, "smtpd.log"), "a", encoding="utf-8")
    h = CommandLog()
    lg = logging.getLogger("mail.log")
    lg.setLevel(logging.INFO)
    lg.propagate = False
    lg.addHandler(h)
    warn = logging.StreamHandler(sys.stderr)
    warn.setLevel(logging.WARNING)
    # aiosmtpd 1.4.3 itself sets the deprecated Session.login_data after
    # every successful AUTH and then warns about it; it also warns at every
    # connection that auth_required is set without auth_require_tls (we
    # enforce "AUTH only with TLS" ourselves, see SMTPx.smtp_AUTH)
    warn.addFilter(lambda r: "login_data is deprecated" not in str(r.msg)
                   and "auth_require_tls == False" not in str(r.msg))
    lg.addHandler(warn)

    user = password = None
    if cfg.auth != "none":
        try:
            with open(os.path.join(cfg.dir, "auth"), encoding="utf-8") as f:
                user, password = (f.read().split("\n") + ["", ""])[:2]
        except OSError as e:
            sys.stderr.write("smtpd.py: cannot read %s/auth: %s\n" % (cfg.dir, e))
            return 2

    try:
        starttls_ctx = make_context(cfg, cfg.tls) if cfg.tls != "none" else None
        implicit_ctx = make_context(cfg, cfg.implicit_cert) if cfg.tls_port else None
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("smtpd.py: cannot load certificate: %s\n" % e)
        return 2

    def authenticator(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode("utf-8", "replace")
        ok = (auth_data.login == user.encode() and auth_data.password == password.encode())
        logline(server.sm_id, "P", "AUTH %s user=%s %s" % (mechanism, login, "ok" if ok else "FAILED"))
        if ok:
            server.sm_auth_user = login
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    handler = Handler(cfg)

    def factory(listener, ctx):
        return lambda: SMTPx(
            handler, cfg, listener,
            hostname=cfg.hostname,
            ident="ESMTP postseal test server (aiosmtpd %s)" % aiosmtpd.__version__,
            tls_context=ctx,
            require_starttls=cfg.require_starttls and ctx is not None,
            auth_required=cfg.auth == "required",
            auth_require_tls=False,     # enforced in SMTPx.smtp_AUTH
            authenticator=authenticator,
            enable_SMTPUTF8=not cfg.no_smtputf8,
            data_size_limit=cfg.size,
            timeout=120,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def on_loop_error(loop, context):
        exc = context.get("exception")
        logline("-", "P", "%s%s" % (context.get("message", "error"), ": %s" % exc if exc else ""))
    loop.set_exception_handler(on_loop_error)

    servers = []
    listeners = [(cfg.port, factory("plain", starttls_ctx))]
    if cfg.tls_port:
        implicit_smtp = factory("implicit", None)
        listeners.append((cfg.tls_port, lambda: ImplicitTLS(implicit_smtp, implicit_ctx)))
    for port, proto in listeners:
        try:
            srv = loop.run_until_complete(loop.create_server(
                proto, host="127.0.0.1", port=port, reuse_address=True))
        except OSError as e:
            sys.stderr.write("smtpd.py: cannot listen on 127.0.0.1:%d: %s\n" % (port, e))
            return 3
        servers.append(srv)

    logline("-", "P", "listening on 127.0.0.1:%d%s (aiosmtpd %s, tls=%s, requiretls=%s, auth=%s)"
            % (cfg.port, " and implicit TLS on 127.0.0.1:%d" % cfg.tls_port if cfg.tls_port else "",
               aiosmtpd.__version__, cfg.tls, cfg.requiretls, cfg.auth))
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, loop.stop)
    loop.run_forever()
    for srv in servers:
        srv.close()
    logline("-", "P", "stopped")
    LOG.close()
    sys.stderr.flush()
    os._exit(0)  # do not wait for open sessions


if __name__ == "__main__":
    sys.exit(main())
