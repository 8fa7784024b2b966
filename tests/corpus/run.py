#!/usr/bin/env python3
"""Run postseal on every case that gen.py wrote, and check each run.

usage: run.py --postseal BIN --cases DIR --work DIR [--jobs N] [--timeout S]
              [--only REGEX]

The environment (GNUPGHOME holding alice's public key, XDG_* directories)
comes from the caller, tests/integration/t_corpus.sh. In --work, each job
gets a fake MTA (a shell script that records its argv and standard input
per run) and a postseal.conf handing off to it:

  [address alice@example.org] encrypt = require, protect-subject = yes

For every case it checks:
  exit      0 or a sysexits code (64-78), and one the case allows; no
            signal, no sanitizer report on stderr, no hang (--timeout)
  refused   a refused submission (exit != 0, outside -bs) hands nothing on
  argv      every MTA argv is exactly -i [-f s] [-F n] -- rcpt..., with no
            recipient (and no -f value) starting with '-'
  require   every copy for alice (a require recipient) is multipart/encrypted
            and carries the case's canary nowhere: not in its bytes, not in
            any decoded MIME part, not in the data of any armor block
  bcc       no copy carries a Bcc or Resent-Bcc field
  stderr    a failure prints at most two lines on stderr
  bs        every -bs reply line is "NNN text" or "NNN-text", CRLF-ended,
            printable ASCII (RFC 5321 4.2), continuation lines with their
            final line's code, and the final codes are those expected
  rcpts     the recipients handed off are exactly those expected (each
            once), or a subset of those allowed
  returned  a copy from the null sender (-f <>) and from MAILER-DAEMON is
            a notice returning
            undecidable recipients to the sender: allowed only where the
            case says so ("must": required), only to the login name, and
            without the canary; its recipient is not counted in rcpts
  absent    strings no copy may contain
  pwn       a file a shell injection would have created does not exist

Prints one line per failing case ("FAIL: NAME: check: what was seen; ..."),
then a summary, and exits 1 when any case failed.
"""
import argparse
import base64
import binascii
import concurrent.futures
import email
import email.policy
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ALICE = "alice@example.org"
# the notice returning undecidable recipients goes to the login name (no -f)
LOGIN = pwd.getpwuid(os.getuid()).pw_name
SANITIZER = re.compile(rb"(ERROR: \w*Sanitizer|WARNING: \w*Sanitizer|runtime error:|"
                       rb"SUMMARY: \w*Sanitizer)")
REPLY = re.compile(rb"([2-5][0-9][0-9])([ -])([\t\x20-\x7e]+)")
ARMOR = re.compile(rb"-----BEGIN PGP [A-Z ,/0-9]+-----(.*?)-----END PGP [A-Z ,/0-9]+-----", re.S)
NOTICE = re.compile(rb"\AFrom: Mail Delivery System <MAILER-DAEMON@[^>]*>\n")
BCC = re.compile(rb"(resent-)?bcc[ \t]*:", re.I)
FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")

MTA = """#!/bin/sh
# a fake MTA: one directory per run, holding argv (NUL-separated) and stdin
d=$(/usr/bin/mktemp -d {runs}/run.XXXXXX) || exit 75
for a in "$@"; do printf '%s\\0' "$a"; done > "$d/argv"
/bin/cat > "$d/stdin"
"""

CONF = """# the corpus's postseal.conf
[transport]
mode = sendmail
sendmail = {mta}
[queue]
auto-run = no
[default]
sources = local
[address alice@example.org]
encrypt = require
protect-subject = yes
"""


def canon(addr):
    """The mailbox an MTA delivers to, for telling alice's copies apart:
    domain case, quotes around a plain local part, a final dot."""
    a = addr.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    if a.startswith("@") and ":" in a:
        a = a.split(":", 1)[1]
    local, _, dom = a.rpartition("@")
    if local.startswith('"') and local.endswith('"'):
        local = local[1:-1]
    return (local.lower() + "@" + dom.lower().rstrip(".")) if local else a.lower()


def split_copy(data):
    """The header lines of a copy and its body: the header ends at the empty
    line, or at the first line that is neither a field nor a continuation
    (issue #14); a field may have white space before its colon (RFC 5322
    4.5.3 obs-optional, as Postfix reads it)."""
    out = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        line = data[pos:end].rstrip(b"\n").rstrip(b"\r")
        if line == b"":
            return out, data[end:]
        if not (line[:1] in (b" ", b"\t") and out) and not FIELD.match(line):
            return out, data[pos:]
        out.append(line)
        pos = end
    return out, b""


def header_section(data):
    return split_copy(data)[0]


def field_value(lines, name):
    """The first field called name (unfolded), or None."""
    fields = []
    for line in lines:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b" " + line.strip()
        else:
            n, _, v = line.partition(b":")
            fields.append([n.strip().lower(), v.strip()])
    for n, v in fields:
        if n == name.lower().encode():
            return v
    return None


def b64_lenient(text):
    s = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    s = s[: len(s) - len(s) % 4]
    try:
        return base64.b64decode(s)
    except (binascii.Error, ValueError):
        return b""


def armor_payloads(data):
    """The decoded data of every armor block (headers and CRC left out)."""
    out = []
    for m in ARMOR.finditer(data):
        inner = m.group(1).replace(b"\r", b"")
        parts = inner.split(b"\n\n", 1)
        body = parts[1] if len(parts) == 2 else inner
        lines = [l for l in body.split(b"\n") if not l.startswith(b"=")]
        out.append(b64_lenient(b"\n".join(lines)))
    return out


def decoded_parts(data):
    try:
        m = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # noqa: BLE001 (a parser failure only means less to look at)
        return []
    out = []
    for p in m.walk():
        if p.is_multipart():
            continue
        try:
            pl = p.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            pl = None
        if isinstance(pl, bytes):
            out.append(pl)
    return out


def check_require_copy(copy, canary, sealed):
    """Problems with one copy for a require recipient."""
    probs = []
    cb = canary.encode()
    if cb in copy:
        probs.append("canary in the copy's bytes")
    elif any(cb in p for p in decoded_parts(copy)):
        probs.append("canary in a decoded MIME part")
    elif any(cb in p for p in armor_payloads(copy)):
        probs.append("canary in the decoded data of an armor block")
    # the Content-Type as the MTA reads the header, the body parsed by it
    hdr, body = split_copy(copy)
    ct = field_value(hdr, "Content-Type")
    try:
        m = email.message_from_bytes(b"Content-Type: " + (ct or b"text/plain") + b"\n\n" + body,
                                     policy=email.policy.compat32)
        ctype = m.get_content_type()
        proto = m.get_param("protocol") or ""
        proto = proto if isinstance(proto, str) else ""
    except Exception:  # noqa: BLE001
        m, ctype, proto = None, "?", ""
    if ctype == "multipart/encrypted" and proto.lower() == "application/pgp-encrypted":
        parts = m.get_payload() if m.is_multipart() else []
        if (not isinstance(parts, list) or len(parts) != 2
                or parts[0].get_content_type() != "application/pgp-encrypted"
                or not ARMOR.search(parts[1].as_bytes())):
            probs.append("multipart/encrypted without the two RFC 3156 parts")
    else:
        # an inline-PGP message that was passed through: only the sealed
        # cases may produce one, and its body must be one armor block
        b = body.replace(b"\r", b"").strip()
        one = ARMOR.fullmatch(b) is not None and b.count(b"-----BEGIN") == 1
        if not (sealed and one):
            probs.append(f"not multipart/encrypted (Content-Type {ctype}, "
                         f"{len(hdr)} header lines)")
    return probs


def check_bs(out, codes):
    probs = []
    if out and not out.endswith(b"\r\n"):
        probs.append(f"output does not end in CRLF: ...{out[-40:]!r}")
    lines = out.split(b"\r\n")[:-1] if out.endswith(b"\r\n") else out.split(b"\r\n")
    finals, pending = [], None
    for ln in lines:
        m = REPLY.fullmatch(ln)
        if not m:
            probs.append(f"malformed reply line {ln[:80]!r}")
            break
        code = m.group(1).decode()
        if pending is not None and code != pending:
            probs.append(f"continuation code {pending} then {code}")
        if m.group(2) == b"-":
            pending = code
        else:
            pending = None
            finals.append(code)
    if pending is not None:
        probs.append("a multi-line reply without its last line")
    if codes is not None and not probs:
        if len(finals) != len(codes) or not all(
                re.fullmatch(w, g) for w, g in zip(codes, finals)):
            # name the first difference
            for i, (w, g) in enumerate(zip(codes, finals)):
                if not re.fullmatch(w, g):
                    probs.append(f"reply {i + 1} is {g}, want {w} (all: {' '.join(finals)[:200]})")
                    break
            else:
                probs.append(f"{len(finals)} replies, want {len(codes)} "
                             f"(got {' '.join(finals)[-120:]})")
    return probs


class Job:
    def __init__(self, work, k):
        self.dir = os.path.join(work, f"job{k}")
        self.runs = os.path.join(self.dir, "runs")
        os.makedirs(self.runs, exist_ok=True)
        self.mta = os.path.join(self.dir, "mta")
        with open(self.mta, "w") as f:
            f.write(MTA.format(runs=self.runs))
        os.chmod(self.mta, 0o755)
        self.conf = os.path.join(self.dir, "postseal.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(mta=self.mta))
        os.chmod(self.conf, 0o600)

    def reset(self):
        shutil.rmtree(self.runs, ignore_errors=True)
        os.makedirs(self.runs)

    def collected(self):
        out = []
        for d in sorted(os.listdir(self.runs)):
            p = os.path.join(self.runs, d)
            try:
                with open(os.path.join(p, "argv"), "rb") as f:
                    argv = f.read().split(b"\0")[:-1]
                with open(os.path.join(p, "stdin"), "rb") as f:
                    data = f.read()
            except OSError as e:
                out.append(([b"?unreadable run: " + str(e).encode()], b""))
                continue
            out.append((argv, data))
        return out


def check_argv(argv):
    """-i [-f s] [-F n] -- rcpt...; the recipients, or a problem."""
    a = list(argv)
    if a[:1] != [b"-i"]:
        return None, f"argv does not start with -i: {a[:4]!r}"
    i = 1
    sender = None
    if a[i:i + 1] == [b"-f"]:
        if len(a) < i + 2:
            return None, "-f without a value"
        sender = a[i + 1]
        if sender.startswith(b"-"):
            return None, f"-f value starts with '-': {sender[:60]!r}"
        i += 2
    if a[i:i + 1] == [b"-F"]:
        if len(a) < i + 2:
            return None, "-F without a value"
        i += 2
    if a[i:i + 1] != [b"--"]:
        return None, f"no '--' where expected: {a[:8]!r}"
    rc = a[i + 1:]
    if not rc:
        return None, "no recipient after --"
    for r in rc:
        if r.startswith(b"-"):
            return None, f"recipient starts with '-': {r[:60]!r}"
    return (sender, rc), None


def run_case(c, data, job, args):
    probs = []
    job.reset()
    if c.get("pwn"):
        try:
            os.unlink(c["pwn"])
        except FileNotFoundError:
            pass
    argv = [args.postseal, "-C", job.conf] + [os.fsencode(x) for x in c["args"]]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, cwd=job.dir)
    try:
        out, err = p.communicate(data, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        probs.append(("hang", f"no exit within {args.timeout}s"))
    secs = time.monotonic() - t0
    rc = p.returncode
    runs = job.collected()

    # exit status
    if rc is not None and rc < 0:
        probs.append(("crash", f"killed by signal {-rc}"))
    elif not (rc == 0 or 64 <= rc <= 78):
        probs.append(("exit", f"exit {rc} is neither 0 nor a sysexits code"))
    elif c["exit"] != "any" and rc not in c["exit"]:
        probs.append(("exit", f"exit {rc}, want {'|'.join(map(str, c['exit']))}"
                      f"; stderr: {err.decode(errors='replace').strip()[:200]!r}"))
    m = SANITIZER.search(err)
    if m:
        line = err[m.start():].split(b"\n", 1)[0]
        probs.append(("sanitizer", line.decode(errors="replace")[:200]))
    # stderr of a failure
    if rc != 0 and not m:
        n = len([l for l in err.split(b"\n") if l.strip()])
        if n > 2:
            probs.append(("stderr", f"{n} lines on stderr: {err.decode(errors='replace')[:200]!r}"))
    # nothing handed on when refused
    if c["mode"] == "deliver" and rc != 0 and runs:
        probs.append(("refused", f"exit {rc} but {len(runs)} cop{'y' if len(runs) == 1 else 'ies'} "
                      "handed to the MTA"))
    # every handoff
    got = []
    notices = 0
    req = {x for x in c.get("require_aliases", [])}
    canary = c["canary"]
    for argv_run, copy in runs:
        ok, why = check_argv(argv_run)
        if why:
            probs.append(("argv", why))
            continue
        sender, rcpts = ok
        rs = [os.fsdecode(r) for r in rcpts]
        if sender == b"<>" and NOTICE.search(copy):
            notices += 1
            if not c.get("returned"):
                probs.append(("returned", f"a notice from <> to {rs[:3]} where none is due"))
            if rs != [LOGIN]:
                probs.append(("returned", f"the notice goes to {rs[:3]}, not to {LOGIN}"))
            if canary.encode() in copy:
                probs.append(("returned", "the notice carries the message body (canary)"))
            continue
        got += rs
        if c.get("sender") is not None and os.fsdecode(sender or b"") != c["sender"]:
            probs.append(("argv", f"-f {sender!r}, want {c['sender']!r}"))
        for line in header_section(copy):
            if BCC.match(line):
                probs.append(("bcc", f"a copy carries {line[:60]!r}"))
                break
        if any(canon(r) == ALICE or r in req for r in rs):
            for pr in check_require_copy(copy, canary, c["sealed"]):
                probs.append(("require", f"copy for {','.join(rs)[:80]}: {pr}"))
        for s in c.get("absent", []):
            if s.encode() in copy:
                probs.append(("absent", f"{s!r} reached the MTA"))
    # recipients
    if c["mode"] == "bs" or rc == 0:
        # one copy per recipient (under -bs, each transaction is its own)
        dup = [] if c["mode"] == "bs" else sorted({r for r in got if got.count(r) > 1})
        if dup:
            probs.append(("rcpts", f"handed off more than once: {dup[:5]}"))
        if c.get("rcpts") is not None and set(got) != set(c["rcpts"]):
            extra = sorted(set(got) - set(c["rcpts"]))
            missing = sorted(set(c["rcpts"]) - set(got))
            probs.append(("rcpts", f"extra {extra[:5]}{'...' if len(extra) > 5 else ''}, "
                          f"missing {missing[:5]}{'...' if len(missing) > 5 else ''}"))
        if c.get("allowed") is not None:
            extra = sorted(set(got) - set(c["allowed"]))
            if extra:
                probs.append(("rcpts", f"not allowed: {extra[:5]}"))
    if c.get("returned") == "must" and rc == 0 and notices == 0:
        probs.append(("returned", "no notice returned the undecidable recipient to the sender"))
    if c["mode"] == "bs":
        for pr in check_bs(out, c.get("bs_codes")):
            probs.append(("bs", pr))
    if c.get("pwn") and os.path.exists(c["pwn"]):
        probs.append(("pwn", f"{c['pwn']} was created: a shell ran"))
        os.unlink(c["pwn"])
    return probs, rc, secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postseal", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--only", default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    names = sorted(f[:-5] for f in os.listdir(args.cases) if f.endswith(".json"))
    if args.only:
        names = [n for n in names if re.search(args.only, n)]
    jobs = [Job(args.work, k) for k in range(args.jobs)]
    free = list(jobs)
    lock = threading.Lock()
    t0 = time.monotonic()

    def one(name):
        with open(os.path.join(args.cases, name + ".json")) as f:
            c = json.load(f)
        with open(os.path.join(args.cases, name + ".in"), "rb") as f:
            data = f.read()
        with lock:
            job = free.pop()
        try:
            return name, c, run_case(c, data, job, args)
        finally:
            with lock:
                free.append(job)

    failed = []
    slow = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        # the big ones first, so that the end is not one long case
        order = sorted(names, key=lambda n: -os.path.getsize(os.path.join(args.cases, n + ".in")))
        for name, c, (probs, rc, secs) in ex.map(one, order):
            slow.append((secs, name))
            if probs:
                checks = []
                for chk, _ in probs:
                    if chk not in checks:
                        checks.append(chk)
                detail = "; ".join(f"{k}: {v}" for k, v in probs[:4])
                mark = " [sealed]" if c["sealed"] else ""
                failed.append(f"FAIL: {name}{mark}: {detail}")
            elif args.verbose:
                print(f"ok: {name} (exit {rc}, {secs:.2f}s)")
    for line in sorted(failed):
        print(line)
    total = time.monotonic() - t0
    slow.sort(reverse=True)
    print("corpus: slowest: " + ", ".join(f"{n} {s:.1f}s" for s, n in slow[:3]))
    print(f"corpus: {len(names)} cases, {len(names) - len(failed)} passed, "
          f"{len(failed)} failed, {total:.1f}s with {args.jobs} jobs")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
