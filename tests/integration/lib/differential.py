#!/usr/bin/env python3
"""differential.py - postseal against Postfix's own sendmail (issue #14).

usage: differential.py --oracle DIR --plain DIR --subject DIR
                       --postseal BIN --conf FILE --gnupghome DIR
                       --work DIR --expected FILE CASEDIR...

Three private Postfix instances (tests/integration/lib/postfix.sh, each
started with PF_CATCHALL=1 so that every recipient is delivered and none
bounces), all configured alike:

  oracle   gets the case through Postfix's sendmail, with the case's
           arguments: what Postfix makes of the input
  plain    the same, with -G added: Postfix's reading of the header
           without its rewriting (no domain appended to bare names, no
           From, Date or Message-Id added). It is the oracle for the
           protected header inside an encrypted copy, which postseal
           writes before any MTA sees the message
  subject  gets what postseal hands off: postseal -C FILE, the case's
           arguments

A CASEDIR holds, for each case NAME, NAME.in (the bytes on standard input)
and its arguments, either NAME.args (one argument a line) or NAME.json
({"args": [...]}; a case with "mode" other than "deliver" is skipped).
The case is called DIRNAME/NAME, DIRNAME being the last part of CASEDIR.

For every case, compared:
  accept   whether each exited 0 ("accept": Postfix's sendmail accepts,
           postseal refuses; "refuse": the other way round); when both
           refuse, their exit codes ("exit=75/64": Postfix's, postseal's)
  rcpts    every delivered copy's Return-Path, X-Original-To and
           Delivered-To (the envelope as Postfix queued it)
  header   a plaintext copy: every header field, in order, byte for byte;
           an encrypted copy's outer header: the same, less what goes
           inside by design (Content-*, MIME-Version, Keywords, Comments)
           and with the Subject "[...]"
  body     the body bytes
  inner-header, inner-body
           an encrypted copy, decrypted: its protected header against
           the plain instance's copy (less HP-Outer, and the
           Content-Type without the protected-headers parameters), and
           its body, line endings made LF, against the oracle's body
Normalised, because they must differ: the Received field each Postfix
prepends (the first one only); Date and Message-ID fields the input did
not have: postseal adds its own before the MTA sees the message, Postfix
its own, so only their presence is compared; a header-only message and
one with an empty body (RFC 5322 3.5: the body is optional).

The expected differences come from FILE: lines "CASE-GLOB<TAB>ASPECT<TAB>
why", each one documented in postseal(8), DIFFERENCES FROM POSTFIX'S
SENDMAIL. A difference no line matches fails the run, and so does a line
that matches no difference of a case that ran (the list stays honest).
Exit 0 when all is as expected, 1 otherwise; a summary on stdout: the
messages compared, accepted by both, and differing.

Input that is PGP/MIME already (the corpus's sealed cases) reaches the
oracle as it is; a copy postseal sealed again (its armor block is not in
the input) is compared decrypted, as any other encrypted copy.
"""
import argparse
import fnmatch
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import time

QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold")
ARMOR = re.compile(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----\n?", re.S)
PROTECTED_PARAMS = re.compile(r';\s*protected-headers="v1";\s*hp="cipher"\s*$', re.S)


def load_cases(dirs):
    """The cases, and how many were left out: an SMTP dialogue (-bs) is
    no submission through the command line, and its replies have nothing
    to be compared with here."""
    cases = []
    skipped = 0
    for d in dirs:
        label = os.path.basename(os.path.normpath(d))
        for inp in sorted(glob.glob(os.path.join(d, "*.in"))):
            stem = inp[:-3]
            name = label + "/" + os.path.basename(stem)
            if os.path.exists(stem + ".json"):
                with open(stem + ".json", encoding="utf-8") as f:
                    spec = json.load(f)
                if spec.get("mode", "deliver") != "deliver":
                    skipped += 1
                    continue
                args = [str(a) for a in spec["args"]]
            elif os.path.exists(stem + ".args"):
                with open(stem + ".args", encoding="utf-8") as f:
                    args = f.read().splitlines()
            else:
                continue
            cases.append((name, inp, args))
    return cases, skipped


def load_expected(path):
    rules = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not parts[2].strip():
                sys.exit(f"{path}:{n}: want CASE-GLOB<TAB>ASPECT<TAB>why")
            rules.append({"glob": parts[0], "aspect": parts[1], "why": parts[2],
                          "where": f"{path}:{n}", "used": 0, "ran": 0})
    return rules


class Instance:
    def __init__(self, d):
        self.dir = d
        self.sendmail = os.path.join(d, "sendmail")
        self.maildir = os.path.join(d, "mail")

    def busy(self):
        for q in QUEUE_DIRS:
            for _root, _dirs, files in os.walk(os.path.join(self.dir, "spool", q)):
                if files:
                    return True
        return False

    def take(self, dest):
        """Move every delivered message into dest; return their paths."""
        os.makedirs(dest, exist_ok=True)
        out = []
        for f in sorted(glob.glob(os.path.join(self.maildir, "*", "*", "new", "*"))):
            to = os.path.join(dest, os.path.basename(f))
            os.rename(f, to)
            out.append(to)
        return out

    def flush(self):
        subprocess.run(["postqueue", "-c", os.path.join(self.dir, "etc"), "-f"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_idle(instances, timeout):
    deadline = time.monotonic() + timeout
    kicked = False
    while True:
        if not any(i.busy() for i in instances):
            return True
        if time.monotonic() > deadline:
            return False
        if not kicked and time.monotonic() > deadline - timeout / 2:
            for i in instances:
                i.flush()
            kicked = True
        time.sleep(0.02)


# --------------------------------------------------------------- messages

def split_message(data):
    """A delivered message (LF line endings): (fields, body). fields is a
    list of [name, value] with value the raw bytes after the colon,
    continuation lines included, without the final LF; body is None for
    a header-only message."""
    fields = []
    pos = 0
    body = None
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        line = data[pos:end]
        nxt = end + 1
        if line == b"":
            body = data[nxt:]
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b"\n" + line
        else:
            colon = line.find(b":")
            if colon < 0:
                fields.append([line, None])  # not a field: shown as is
            else:
                fields.append([line[:colon], line[colon + 1:]])
        pos = nxt
    return fields, body


def fname(f):
    return f[0].decode("latin-1").rstrip(" \t").lower()


def show(f):
    if f[1] is None:
        return repr(f[0][:120])
    v = f[0] + b":" + f[1]
    return repr(v[:160]) + ("...(%d bytes)" % len(v) if len(v) > 160 else "")


class Delivered:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.path = path
        fields, self.body = split_message(self.data)
        env = {}
        # virtual(8) prepends exactly these three
        for f in fields[:3]:
            env[fname(f)] = (f[1] or b"").strip()
        self.envelope = (env.get("return-path"), env.get("x-original-to"),
                         env.get("delivered-to"))
        rest = fields[3:]
        # the Received field this Postfix prepended
        if rest and fname(rest[0]) == "received":
            rest = rest[1:]
        self.fields = rest

    def first(self, name):
        for f in self.fields:
            if fname(f) == name:
                return f[1]
        return None

    def is_pgp_mime(self):
        ct = self.first("content-type")
        return ct is not None and re.search(
            rb"multipart/encrypted", ct, re.I) is not None and re.search(
            rb"application/pgp-encrypted", ct, re.I) is not None

    def sealed_here(self, original):
        """A PGP/MIME copy postseal made: its armor block is not in the
        input. Input that was PGP/MIME already (the corpus's sealed
        cases) arrives so at the oracle too; postseal may seal it once
        more, and then its copy is compared decrypted."""
        if not self.is_pgp_mime():
            return False
        m = ARMOR.search(self.data)
        return m is not None and m.group(0).rstrip(b"\n") not in \
            original.replace(b"\r\n", b"\n")

    def is_bounce(self):
        return self.envelope[0] == b"<>" and (self.first("from") or b"").find(
            b"MAILER-DAEMON") >= 0


ADDED = ("date", "message-id", "resent-date", "resent-message-id")


def set_aside_added(fields, original):
    """Date and Message-ID fields (and their Resent- forms) whose value is
    not in the input were added, by Postfix's cleanup or by postseal, each
    with its own time and queue id: take them out of the sequence; return
    (rest, sorted names of those added)."""
    rest, added = [], []
    for f in fields:
        n = fname(f)
        if n in ADDED and f[1] is not None and \
                f[1].strip() not in original:
            added.append(n)
        else:
            rest.append(f)
    return rest, sorted(added)


def compare_fields(want, got):
    """First difference of two field lists, or None."""
    for i, (a, b) in enumerate(zip(want, got)):
        if a[0] != b[0] or a[1] != b[1]:
            return f"field {i + 1}: Postfix {show(a)}, postseal {show(b)}"
    if len(want) != len(got):
        extra = want[len(got):] if len(want) > len(got) else got[len(want):]
        who = "only Postfix" if len(want) > len(got) else "only postseal"
        return f"{who} has {'; '.join(show(f) for f in extra[:3])}"
    return None


def body_norm(b):
    return b"" if b is None else b


def compare_body(want, got):
    want, got = body_norm(want), body_norm(got)
    if want == got:
        return None
    i = 0
    while i < min(len(want), len(got)) and want[i] == got[i]:
        i += 1
    return (f"{len(want)} bytes from Postfix, {len(got)} from postseal; first "
            f"difference at byte {i}: {want[i:i + 24]!r} / {got[i:i + 24]!r}")


def header_only(fields, drop):
    return [f for f in fields if fname(f) not in drop and not
            (fname(f).startswith("content-") and "content-*" in drop)]


class Decryptor:
    def __init__(self, home):
        self.home = home
        self.cache = {}

    def __call__(self, data):
        m = ARMOR.search(data)
        if m is None:
            return None
        key = hashlib.sha256(m.group(0)).hexdigest()
        if key not in self.cache:
            r = subprocess.run(["gpg", "--homedir", self.home, "--batch", "-q",
                                "--decrypt"], input=m.group(0),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            self.cache[key] = r.stdout if r.returncode == 0 else None
        return self.cache[key]


def compare_encrypted(a, b, g, original, decrypt, diffs):
    """b is postseal's encrypted copy for the recipient a went to."""
    # --- outside: what the MTA saw
    drop = {"content-*", "mime-version", "keywords", "comments"}
    want = header_only(a.fields, drop)
    want = [[f[0], b" [...]"] if fname(f) == "subject" else f for f in want]
    got = header_only(b.fields, {"content-type", "mime-version"})
    want, wadd = set_aside_added(want, original)
    got, gadd = set_aside_added(got, original)
    d = compare_fields(want, got)
    if d is None and wadd != gadd:
        d = f"added by Postfix: {wadd}, by postseal: {gadd}"
    if d:
        diffs.append(("header", "outer: " + d))
    # --- inside
    plain = decrypt(b.data)
    if plain is None:
        diffs.append(("decrypt", "gpg cannot decrypt postseal's copy"))
        return
    plain = plain.replace(b"\r\n", b"\n")
    inner, ibody = split_message(plain)
    if g is None:
        diffs.append(("inner-header", "no copy from the plain instance to compare with"))
    else:
        # the plain instance's header: no rewriting, nothing added;
        # MIME-Version belongs to the outer message
        want = [f for f in g.fields if fname(f) != "mime-version"]
        got = [f for f in inner if fname(f) != "hp-outer"]
        wct = [f for f in want if fname(f) == "content-type"]
        gct = [f for f in got if fname(f) == "content-type"]
        want = [f for f in want if fname(f) != "content-type"]
        got = [f for f in got if fname(f) != "content-type"]
        ctv = PROTECTED_PARAMS.sub("", gct[0][1].decode("latin-1")) if gct else None
        if not gct or not PROTECTED_PARAMS.search(gct[0][1].decode("latin-1")):
            diffs.append(("inner-header", "no Content-Type with protected-headers"))
        elif wct:
            # the first one describes the body; the parameters are added
            # after its value, less trailing white space and ';'
            w = wct[0][1].decode("latin-1").rstrip(" \t\n;")
            if ctv != w:
                diffs.append(("inner-header", f"Content-Type: Postfix {w!r}, postseal {ctv!r}"))
            want += [f for f in wct[1:]]
            got += [f for f in gct[1:]]
        elif ctv.strip().lower() != "text/plain; charset=us-ascii":
            # RFC 2045 5.2: no Content-Type is text/plain; charset=us-ascii
            diffs.append(("inner-header", f"Content-Type {ctv!r} where there was none"))
        # Postfix adds Date and Message-Id (or their Resent- forms)
        # outside; postseal the same ones before it encrypts, so that the
        # protected header has them too
        want, _ = set_aside_added(want, original)
        got, gadd = set_aside_added(got, original)
        _, aadd = set_aside_added(a.fields, original)
        d = compare_fields(want, got)
        if d is None and gadd != aadd:
            d = f"Postfix added {aadd}, postseal {gadd} to the protected header"
        if d:
            diffs.append(("inner-header", d))
    d = compare_body(a.body, ibody)
    if d:
        diffs.append(("inner-body", d))


def compare_case(original, ra, rb, A, B, G, decrypt):
    diffs = []
    # one refusing what the other accepts: that is the difference (what
    # the other delivered has nothing to be compared with)
    if ra == 0 and rb != 0:
        return [("accept", f"Postfix accepts, postseal exits {rb}")]
    if ra != 0 and rb == 0:
        return [("refuse", f"Postfix exits {ra}, postseal accepts")]
    if ra != rb:
        diffs.append((f"exit={ra}/{rb}", f"both refuse: Postfix exits {ra}, postseal {rb}"))
    ea = sorted(m.envelope for m in A)
    eb = sorted(m.envelope for m in B)
    if ea != eb:
        only_a = [e for e in ea if e not in eb]
        only_b = [e for e in eb if e not in ea]
        diffs.append(("rcpts", f"only Postfix: {only_a[:4]}; only postseal: {only_b[:4]}"))
    g_any = next((m for m in G if not m.is_bounce()), None)
    bykey = {}
    for m in B:
        bykey.setdefault(m.envelope, []).append(m)
    seen = set()
    for a in sorted(A, key=lambda m: m.envelope):
        lst = bykey.get(a.envelope)
        if not lst:
            continue
        b = lst.pop(0)
        if a.is_bounce() and b.is_bounce():
            continue  # their text names queue ids and times
        if b.sealed_here(original):
            sub = []
            compare_encrypted(a, b, g_any, original, decrypt, sub)
        else:
            sub = []
            wa, wadd = set_aside_added(a.fields, original)
            gb, gadd = set_aside_added(b.fields, original)
            d = compare_fields(wa, gb)
            if d is None and wadd != gadd:
                d = f"added by Postfix: {wadd}, by postseal: {gadd}"
            if d:
                sub.append(("header", d))
            d = compare_body(a.body, b.body)
            if d:
                sub.append(("body", d))
        for aspect, d in sub:
            # one line per aspect and difference, not per recipient
            if (aspect, d) not in seen:
                seen.add((aspect, d))
                diffs.append((aspect, f"{a.envelope[2].decode('latin-1')}: {d}"))
    return diffs


def run(cmd, inp, out_prefix, env):
    with open(inp, "rb") as stdin, open(out_prefix + ".out", "wb") as so, \
            open(out_prefix + ".err", "wb") as se:
        return subprocess.Popen(cmd, stdin=stdin, stdout=so, stderr=se, env=env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--subject", required=True)
    ap.add_argument("--postseal", required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--gnupghome", required=True, help="holds the secret keys")
    ap.add_argument("--work", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--only", default="*", help="glob of case names to run")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("casedirs", nargs="+")
    o = ap.parse_args()

    cases, skipped = load_cases(o.casedirs)
    cases = [c for c in cases if fnmatch.fnmatchcase(c[0], o.only)]
    rules = load_expected(o.expected)
    oracle, plain, subject = Instance(o.oracle), Instance(o.plain), Instance(o.subject)
    decrypt = Decryptor(o.gnupghome)
    env = dict(os.environ)
    n = same = both_ok = both_refuse = listed = 0
    stats = {"copies": 0, "encrypted": 0}
    bad = []
    started = time.monotonic()
    for name, inp, args in cases:
        n += 1
        w = os.path.join(o.work, name)
        os.makedirs(w, exist_ok=True)
        with open(inp, "rb") as f:
            original = f.read()
        procs = [run([oracle.sendmail] + args, inp, w + "/oracle", env),
                 run([plain.sendmail, "-G"] + args, inp, w + "/plain", env),
                 run([o.postseal, "-C", o.conf] + args, inp, w + "/postseal", env)]
        rcs = []
        for p in procs:
            try:
                rcs.append(p.wait(timeout=o.timeout))
            except subprocess.TimeoutExpired:
                p.kill()
                rcs.append(p.wait())
        ra, _rg, rb = rcs
        if not wait_idle([oracle, plain, subject], o.timeout):
            bad.append((name, "stuck", "a Postfix queue did not empty (see maillog)"))
        A = [Delivered(p) for p in oracle.take(w + "/oracle.mail")]
        G = [Delivered(p) for p in plain.take(w + "/plain.mail")]
        B = [Delivered(p) for p in subject.take(w + "/postseal.mail")]
        if ra == 0 and rb == 0:
            both_ok += 1
        elif ra != 0 and rb != 0:
            both_refuse += 1
        diffs = compare_case(original, ra, rb, A, B, G, decrypt)
        stats["copies"] += len(B)
        stats["encrypted"] += sum(1 for m in B if m.sealed_here(original))
        for r in rules:
            if fnmatch.fnmatchcase(name, r["glob"]):
                r["ran"] += 1
        if not diffs:
            same += 1
            if o.verbose:
                print(f"same      {name} (exit {ra}/{rb}, {len(A)} copies)")
            continue
        unlisted = []
        for aspect, d in diffs:
            hit = [r for r in rules if r["aspect"] == aspect and
                   fnmatch.fnmatchcase(name, r["glob"])]
            for r in hit:
                r["used"] += 1
            if not hit:
                unlisted.append((aspect, d))
        if unlisted:
            for aspect, d in unlisted:
                bad.append((name, aspect, d))
                print(f"DIFFERS   {name} [{aspect}] {d}")
                err = open(w + "/postseal.err", "rb").read().decode("utf-8", "replace").strip()
                if err and aspect in ("accept", "exit"):
                    print(f"          postseal said: {err[:300]}")
        else:
            listed += 1
            print(f"expected  {name} [{', '.join(sorted(set(a for a, _ in diffs)))}]")
            if o.verbose:
                for aspect, d in diffs:
                    print(f"          [{aspect}] {d}")
    for r in rules:
        # a glob as wide as "*" runs with any case: judge it on the whole run
        if r["ran"] and not r["used"] and o.only == "*":
            bad.append((r["glob"], r["aspect"],
                        f"{r['where']}: listed, but no such difference (remove the line)"))
            print(f"STALE     {r['where']}: {r['glob']} [{r['aspect']}] matches no difference")
    secs = time.monotonic() - started
    others = len({b[0] for b in bad})
    print(f"differential: {n} messages compared, {both_ok} accepted by both, "
          f"{listed + others} differing ({listed} only as postseal(8) lists, "
          f"{others} otherwise); {both_refuse} refused by both, {same} identical; "
          f"{skipped} -bs dialogues not compared; {stats['copies']} copies from "
          f"postseal compared, {stats['encrypted']} of them encrypted and "
          f"decrypted; {secs:.0f}s")
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
