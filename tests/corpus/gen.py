#!/usr/bin/env python3
"""Generate the hostile-input corpus of postseal (issue #13).

usage: gen.py OUTDIR --armor FILE

Writes, for every case NAME, OUTDIR/NAME.in (the bytes on standard input)
and OUTDIR/NAME.json (what is run and what is expected; run.py reads it):

  name      the case; its prefix is its family (hdr, addr, rcpt, mime,
            sealed, bs, cli)
  args      postseal's arguments (-C CONF is put in front by run.py)
  mode      "deliver" (a message on stdin) or "bs" (an SMTP dialogue)
  exit      the exit codes the specifications allow (usually one);
            "any" for the cases marked sealed
  sealed    already-encrypted or fake-encrypted input: the sealed-input
            detector is being reworked, so only the security property is
            asserted (the canary never reaches a require recipient
            outside an encrypted part), whatever the exit code
  canary    a string that appears in the message body (never in a field
            that stays outside the encryption); it must never be in a copy
            for alice@example.org, whose policy is encrypt = require
  rcpts     when the submission is accepted (or always, under -bs): the
            exact set of envelope recipients handed to the MTA
  allowed   instead of rcpts, when the specifications allow more than one
            reading: every recipient handed off must be one of these
  require_aliases  argv recipients the MTA delivers to alice@example.org
            (a trailing dot, a source route ...): treated as alice
  sender    the -f value the MTA must get, when the case gives one
  bs_codes  -bs: one regular expression per final reply, in order
  absent    strings no handed-off copy may contain
  pwn       a file that must not exist after the run (shell injection)
  why       where the expectation comes from

The expected values come from the specifications: RFC 5321 (SMTP),
RFC 5322 (message format), RFC 2045/2046 (MIME), RFC 3156 and 4880
(OpenPGP), sysexits(3), Postfix's sendmail(1) (what postseal stands in
for: issue #14 says postseal accepts what it accepts), and postseal's own
documented limits (common/pslimits.h). They are never taken from what
postseal does today.

Cases are generated at test time, not committed: several are large
(10,000 recipients, 300 KB headers, a 2 MB line), some hold bytes a
repository diff shows badly (NUL, bare CR), and the sealed ones need a
real OpenPGP message made with the test keys in the test's own keyring.
The generator is deterministic: the same input gives the same corpus.
"""
import base64
import hashlib
import json
import os
import re
import sys

ALICE = "alice@example.org"  # has a key; [address alice@example.org] encrypt = require
CAROL = "carol@example.com"  # no key: opportunistic, plaintext
DAVE = "dave@example.net"  # no key
SENDER = "s@example.com"

# sysexits(3)
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE = 0, 64, 65, 67, 69
EX_TEMPFAIL = 75

# RFC 5322 3.2.3 atext, besides letters and digits
ATEXT_SPECIALS = "!#$%&'*+-/=?^_`{|}~"

PS_RCPT_MAX = 1000  # common/pslimits.h
PS_HEADER_MAX = 256 * 1024
PS_HEADER_FIELDS_MAX = 1000

cases = []


def canary_for(name):
    # letters and digits only: it is also valid radix-64, so it can hide
    # inside an armor block as a "data line"
    return "CANARY" + hashlib.sha1(name.encode()).hexdigest()[:16].upper()


def b(s):
    return s.encode() if isinstance(s, str) else s


def case(name, data, args, exit, why, rcpts=None, allowed=None, mode="deliver",
         sealed=False, sender=None, bs_codes=None, absent=None, pwn=None,
         require_aliases=None, canary=None):
    if isinstance(exit, int):
        exit = [exit]
    cases.append({
        "name": name, "data": b(data), "args": list(args), "mode": mode,
        "exit": "any" if sealed else exit, "sealed": sealed,
        "canary": canary or canary_for(name), "rcpts": rcpts, "allowed": allowed,
        "require_aliases": require_aliases or [], "sender": sender,
        "bs_codes": bs_codes, "absent": absent or [], "pwn": pwn, "why": why,
    })


def msg(name, headers=None, body=None, eol="\n", extra=""):
    """A message whose body carries the case's canary."""
    c = canary_for(name)
    if headers is None:
        headers = [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", f"Subject: corpus {name}"]
    if body is None:
        body = f"Body of {name}: {c}{eol}"
    return (eol.join(headers) + eol + extra + eol).encode() + b(body)


def std(name, data, exit, why, args=None, rcpts=None, **kw):
    """A submission to alice (require) and carol (plaintext)."""
    if args is None:
        args = ["-i", ALICE, CAROL]
    if rcpts is None and exit == EX_OK and kw.get("allowed") is None:
        rcpts = [ALICE, CAROL]
    case(name, data, args, exit, why, rcpts=rcpts, **kw)


# ---------------------------------------------------------------------------
# hdr: header syntax
# ---------------------------------------------------------------------------
def gen_hdr():
    POSTFIX = "Postfix sendmail accepts it (issue #14: postseal accepts what it accepts)"
    n = "hdr-nul-value"
    std(n, msg(n, [f"From: {SENDER}", "Subject: a\0b"]), EX_DATAERR,
        "NUL cannot be carried by SMTP/8BITMIME (RFC 2045 2.7-2.8, RFC 6152); "
        "intake.h: a NUL byte anywhere is EX_DATAERR")
    n = "hdr-nul-name"
    std(n, msg(n, [f"From: {SENDER}", "Sub\0ject: a"]), EX_DATAERR, "as hdr-nul-value")
    n = "hdr-nul-body"
    std(n, msg(n, body=f"line {canary_for(n)}\n\0\nmore\n"), EX_DATAERR, "as hdr-nul-value")
    n = "hdr-nul-only-body"
    std(n, msg(n, body="\0"), EX_DATAERR, "as hdr-nul-value")
    n = "hdr-nul-in-continuation"
    std(n, msg(n, [f"From: {SENDER}", "Subject: a", " \0folded"]), EX_DATAERR,
        "as hdr-nul-value")

    n = "hdr-bare-cr-value"
    std(n, msg(n, [f"From: {SENDER}", "Subject: a\rb", f"To: {ALICE}"]), EX_OK, POSTFIX)
    n = "hdr-bare-cr-bcc-smuggle"
    # a parser that ends lines at CR would see a Bcc field here
    std(n, msg(n, [f"From: {SENDER}", f"Subject: a\rBcc: {DAVE}"]), EX_OK,
        POSTFIX + "; a bare CR does not end a line (RFC 5322 2.2)")
    n = "hdr-bare-cr-eol"
    std(n, msg(n, [f"From: {SENDER}", "Subject: x\r\r"]), EX_OK, POSTFIX)
    n = "hdr-bare-cr-body"
    std(n, msg(n, body=f"a\rb\r{canary_for(n)}\r\n"), EX_OK, POSTFIX)
    n = "hdr-crlf"
    std(n, msg(n, eol="\r\n"), EX_OK, "CRLF is the canonical line end (RFC 5322 2.1)")
    n = "hdr-mixed-eol"
    std(n, b"From: s@example.com\r\nSubject: mixed\nX-A: b\r\n\r\n"
        + b(f"body {canary_for(n)}\n"), EX_OK, POSTFIX)
    n = "hdr-only-cr-separator"
    std(n, b"Subject: x\r\r\n" + b(f"{canary_for(n)}\n"), EX_OK, POSTFIX)

    for ch in (1, 7, 8, 0x0B, 0x0C, 0x1B, 0x7F):
        n = f"hdr-ctl-{ch:02x}-value"
        std(n, msg(n, [f"From: {SENDER}", f"Subject: a{chr(ch)}b"]), EX_OK, POSTFIX)
        n = f"hdr-ctl-{ch:02x}-body"
        std(n, msg(n, body=f"a{chr(ch)}b {canary_for(n)}\n"), EX_OK, POSTFIX)

    n = "hdr-long-line-10k"
    std(n, msg(n, [f"From: {SENDER}", "X-Long: " + "a" * 10000]), EX_OK,
        POSTFIX + " (it breaks lines over line_length_limit, never refuses)")
    n = "hdr-long-line-over-cap"
    std(n, msg(n, [f"From: {SENDER}", "X-Long: " + "a" * (PS_HEADER_MAX + 10)]),
        EX_DATAERR, "a header section over PS_HEADER_MAX (pslimits.h, intake.h) is "
        "refused, never cut")
    n = "hdr-long-line-over-cap-t"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", "X-Long: " + "a" * 300000]),
         ["-t", "-i"], EX_DATAERR,
         "over PS_HEADER_MAX; Postfix sendmail -t also exits EX_DATAERR for a "
         "truncated header ('unable to extract recipients')")
    n = "hdr-fold-endless"
    std(n, msg(n, [f"From: {SENDER}", "Subject: x"] + [" y"] * 100000), EX_DATAERR,
        "100000 continuation lines: a header over PS_HEADER_MAX")
    n = "hdr-fold-many"
    std(n, msg(n, [f"From: {SENDER}", "Subject: x"] + [" y"] * 10000), EX_OK,
        "10000 continuation lines (30 KB): RFC 5322 3.2.2 folding, within the caps")
    n = "hdr-fold-whitespace-only"
    std(n, msg(n, [f"From: {SENDER}", "Subject: x", " ", "\t", "  \t"]), EX_OK,
        POSTFIX + " (obs-FWS, RFC 5322 4.2)")
    n = "hdr-under-cap"
    std(n, msg(n, [f"From: {SENDER}"] + [f"X-F{i}: " + "b" * 990 for i in range(240)]),
        EX_OK, "240 KB of header: within PS_HEADER_MAX")
    n = "hdr-fields-at-cap"
    std(n, msg(n, [f"X-F{i}: v" for i in range(PS_HEADER_FIELDS_MAX)]), EX_OK,
        f"{PS_HEADER_FIELDS_MAX} fields: PS_HEADER_FIELDS_MAX (header.h) is the "
        "submitted message's cap")
    n = "hdr-fields-over-cap-by-one"
    std(n, msg(n, [f"X-F{i}: v" for i in range(PS_HEADER_FIELDS_MAX + 1)]), EX_DATAERR,
        f"{PS_HEADER_FIELDS_MAX + 1} fields: one more than PS_HEADER_FIELDS_MAX (header.h)")
    n = "hdr-over-cap-by-little"
    std(n, msg(n, [f"From: {SENDER}"] + [f"X-F{i}: " + "b" * 990 for i in range(266)]),
        EX_DATAERR, "259 KB of header: just over PS_HEADER_MAX (256 KB, pslimits.h)")
    n = "hdr-fields-over-cap"
    std(n, msg(n, [f"X-F{i}: v" for i in range(PS_HEADER_FIELDS_MAX * 5)]), EX_DATAERR,
        "more fields than PS_HEADER_FIELDS_MAX (header.h): refused")

    # issue #14: the header ends at the first line that is not a field
    n = "hdr-no-blank-line"
    std(n, b"Subject: x\n" + b(f"hello {canary_for(n)}\n"), EX_OK,
        "issue #14: 'Subject: x\\nhello\\n' is accepted, hello is the body")
    n = "hdr-no-blank-line-crlf"
    std(n, b"From: s@example.com\r\nSubject: x\r\n" + b(f"hello {canary_for(n)}\r\n"),
        EX_OK, "issue #14")
    n = "hdr-no-blank-line-bcc-after"
    case(n, b(f"From: {SENDER}\nTo: {CAROL}\nhello {canary_for(n)}\nBcc: {DAVE}\n"),
         ["-t", "-i"], EX_OK, "issue #14: the header ends at 'hello'; the Bcc line "
         "after it is body text, not a recipient (Postfix sendmail -t)", rcpts=[CAROL])
    n = "hdr-no-blank-line-8bit-name"
    std(n, b"From: s@example.com\nS\xc3\xbcbject: x\n" + b(f"{canary_for(n)}\n"), EX_OK,
        "issue #14: a line with an invalid field name ends the header")
    n = "hdr-first-line-continuation"
    std(n, b" folded first\nSubject: x\n\n" + b(f"{canary_for(n)}\n"), EX_OK,
        "issue #14: the first line is not a field, so there is no header; all is body")
    n = "hdr-first-line-colon-only"
    std(n, b":x\n\n" + b(f"{canary_for(n)}\n"), EX_OK,
        "issue #14: an empty field name is no field; all is body")
    n = "hdr-space-before-colon"
    std(n, msg(n, [f"From: {SENDER}", "Subject : obs", "X-Y\t: z"]), EX_OK,
        "obs-optional (RFC 5322 4.5.3)")
    n = "hdr-empty-value"
    std(n, msg(n, [f"From: {SENDER}", "Subject:", "X-Empty:"]), EX_OK,
        "unstructured may be empty (RFC 5322 3.2.5)")
    n = "hdr-long-name"
    std(n, msg(n, [f"From: {SENDER}", "X-" + "N" * 500 + ": v"]), EX_OK, POSTFIX)
    n = "hdr-8bit-utf8"
    std(n, msg(n, [f"From: {SENDER}", "Subject: gr\u00fc\u00dfe \u2603"]), EX_OK,
        "RFC 6532: UTF-8 in header values")
    n = "hdr-8bit-latin1"
    std(n, msg(n, [f"From: {SENDER}"]).replace(b"From:", b"Subject: gr\xfc\xdfe\nFrom:", 1),
        EX_OK, POSTFIX)
    n = "hdr-encoded-word"
    std(n, msg(n, [f"From: {SENDER}", "Subject: =?UTF-8?B?Z3LDvMOfZQ==?= =?ISO-8859-1?Q?a=E9?="]),
        EX_OK, "RFC 2047")
    n = "hdr-encoded-word-broken"
    std(n, msg(n, [f"From: {SENDER}", "Subject: =?UTF-8?Q?=ZZ=?= =?x?B?!!!?= =?UTF-8?"]),
        EX_OK, "RFC 2047 section 6.3: malformed encoded-words are shown as they are")
    n = "hdr-encoded-word-huge"
    std(n, msg(n, [f"From: {SENDER}", "Subject: =?UTF-8?B?" + "QUFB" * 20000 + "?="]),
        EX_OK, POSTFIX)
    n = "hdr-empty-input"
    std(n, b"", EX_OK, "Postfix sendmail sends an empty message")
    n = "hdr-only-newline"
    std(n, b"\n", EX_OK, "an empty header and an empty body")
    n = "hdr-no-final-newline"
    std(n, b"Subject: x", EX_OK, "a header without a body or line end (RFC 5322 3.5: "
        "the body is optional)")
    n = "hdr-uucp-from"
    std(n, b"From s@example.com Mon Jan  1 00:00:00 2024\n" + msg(n), EX_OK,
        "Postfix sendmail strips a leading UUCP From_ line")
    n = "hdr-dot-ends"
    std(n, msg(n, body=f"{canary_for(n)}\n.\nAFTERDOT{canary_for(n)[6:]}\n"), EX_OK,
        "without -i a '.' line ends the message (sendmail(1) -i)",
        args=[ALICE, CAROL], absent=["AFTERDOT"])
    n = "hdr-dot-data-with-i"
    std(n, msg(n, body=f".\n{canary_for(n)}\n..\n"), EX_OK, "with -i a '.' line is data")

    # protected Subject: alice's policy protects it, so a canary there must
    # not reach her copy in the clear, however the field is spelled
    for n, hs in (
        ("hdr-subject-canary", ["Subject: {c}"]),
        ("hdr-subject-lowercase", ["subject: {c}"]),
        ("hdr-subject-space-colon", ["Subject : {c}"]),
        ("hdr-subject-folded", ["Subject: x", " {c}"]),
        ("hdr-subject-twice", ["Subject: innocuous", "SUBJECT: {c}"]),
        ("hdr-subject-encoded", ["Subject: =?UTF-8?B?{b64}?="]),
    ):
        c = canary_for(n)
        hs = [h.format(c=c, b64=base64.b64encode(c.encode()).decode()) for h in hs]
        std(n, msg(n, [f"From: {SENDER}", f"To: {ALICE}"] + hs), EX_OK,
            "the policy protects the Subject (protect-subject = yes): RFC 9788 "
            "header protection replaces every Subject field outside")


# ---------------------------------------------------------------------------
# addr: address syntax
# ---------------------------------------------------------------------------
def gen_addr():
    # every special of RFC 5322 atext is valid in an unquoted local part;
    # no shell is involved (execv), so nothing may be refused for it
    for i, ch in enumerate(ATEXT_SPECIALS):
        n = f"addr-atext-{i:02d}"
        a = f"car{ch}ol@example.com"
        std(n, msg(n, [f"From: {SENDER}", f"Subject: {n}"]), EX_OK,
            f"'{ch}' is atext (RFC 5322 3.2.3, RFC 5321 4.1.2): a valid local part",
            args=["-i", a], rcpts=[a])
    # not atext: invalid unquoted (a "Name <addr>" or list parse may not
    # turn it into some other address either)
    # (',' is left out: "car,ol@example.com" is a list of two addresses,
    # as Postfix sendmail reads its arguments)
    for i, ch in enumerate(';()<>[]:\\" @'):
        n = f"addr-notatext-{i:02d}"
        a = f"car{ch}ol@example.com"
        std(n, msg(n, [f"From: {SENDER}", f"Subject: {n}"]), [EX_USAGE, EX_DATAERR],
            f"'{ch}' is not atext (RFC 5322 3.2.3): not an address; sysexits: bad "
            "parameter (64) or bad input data (65)", args=["-i", a], rcpts=None)
    # quoted: every printable character is allowed (qtext or quoted-pair)
    for i, ch in enumerate(';|&$`<>(),:[] @'):
        n = f"addr-quoted-{i:02d}"
        a = f'"car{ch}ol"@example.com'
        std(n, msg(n, [f"From: {SENDER}", f"Subject: {n}"]), EX_OK,
            "a quoted-string local part (RFC 5321 4.1.2, RFC 5322 3.4.1)",
            args=["-i", a], rcpts=[a])
    pw = "/tmp/ps-corpus-pwned"
    for n, a, k in (
        ("addr-shell-subst-quoted", f'"$(touch {pw}1)"@example.com', 1),
        ("addr-shell-backtick", f"`touch${{IFS}}{pw}2`@example.com", 2),
        ("addr-shell-backtick-quoted", f'"`touch {pw}3`"@example.com', 3),
        ("addr-shell-semicolon-quoted", f'"x;touch {pw}4;"@example.com', 4),
        ("addr-shell-pipe-amp", f"x|touch${{IFS}}{pw}8&&id@example.com", 8),
    ):
        std(n, msg(n, [f"From: {SENDER}", f"Subject: {n}"]), EX_OK,
            "valid RFC 5321 local part; nothing may run a shell on it (CONVENTIONS: "
            "no shell anywhere)", args=["-i", a], rcpts=[a], pwn=f"{pw}{k}")
    n = "addr-shell-subst-unquoted"
    std(n, msg(n, [f"From: {SENDER}", f"Subject: {n}"]), [EX_USAGE, EX_DATAERR],
        "'(' and ' ' are not atext: not an address", args=["-i", f"$(touch {pw}5)@example.com"],
        pwn=pw + "5")
    n = "addr-shell-in-to-header"
    case(n, msg(n, [f"From: {SENDER}", f'To: "$(touch {pw}6)"@example.com, `touch${{IFS}}{pw}7`@example.com']),
         ["-t", "-i"], EX_OK, "valid addresses in To (RFC 5322 3.4)",
         rcpts=[f'"$(touch {pw}6)"@example.com', f"`touch${{IFS}}{pw}7`@example.com"],
         pwn=pw + "6")

    # a leading '-': never an argv element that starts with '-'
    n = "addr-quoted-specials-to-header"
    a = ['"a,b"@example.com', '"c(d"@example.com', '"e;f:g<h>"@example.com']
    case(n, msg(n, [f"From: {SENDER}", "To: " + ", ".join(a)]), ["-t", "-i"], EX_OK,
         "quoted local parts with specials are valid in To (RFC 5322 3.4.1)", rcpts=a)

    n = "addr-dash-argv"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "an address an MTA may read as an option "
        "(OpenSMTPD CVE-2020-7247 class) is refused, never passed on",
        args=["-i", "--", "-oQ/tmp/x@example.org"])
    n = "addr-dash-argv-bare"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "as addr-dash-argv", args=["-i", "--", "-bd"])
    n = "addr-dash-to-header"
    case(n, msg(n, [f"From: {SENDER}", f"To: -oQ/tmp/x@example.org, {CAROL}"]),
         ["-t", "-i"], EX_DATAERR, "as addr-dash-argv, from the To field (-t)")
    n = "addr-dash-bcc-header"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", "Bcc: -X/tmp/log@example.org"]),
         ["-t", "-i"], EX_DATAERR, "as addr-dash-argv, from the Bcc field (-t)")
    n = "addr-dash-sender"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "a -f sender that an MTA may read as an option",
        args=["-i", "-f", "-oQ/tmp/x@example.org", CAROL])
    n = "addr-dash-quoted"
    a = '"-oQ/tmp/x"@example.org'
    std(n, msg(n), [EX_OK, EX_USAGE, EX_DATAERR], "quoted, it does not start with '-': "
        "passing it on is as valid as refusing it", args=["-i", a], rcpts=None, allowed=[a])

    # groups, comments, display names (-t)
    n = "addr-group"
    case(n, msg(n, [f"From: {SENDER}", f"To: friends: {CAROL}, {ALICE};"]), ["-t", "-i"],
         EX_OK, "group syntax (RFC 5322 3.4)", rcpts=[CAROL, ALICE])
    n = "addr-group-empty-plus-argv"
    case(n, msg(n, [f"From: {SENDER}", "To: undisclosed-recipients:;"]), ["-i", CAROL],
         EX_OK, "an empty group (RFC 5322 3.4)", rcpts=[CAROL])
    n = "addr-group-empty-only"
    case(n, msg(n, [f"From: {SENDER}", "To: undisclosed-recipients:;"]), ["-t", "-i"],
         EX_USAGE, "no recipient: Postfix sendmail exits EX_USAGE ('No recipient "
         "addresses found in message header')")
    n = "addr-group-unterminated"
    case(n, msg(n, [f"From: {SENDER}", f"To: g: {CAROL}"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "invalid group (no ';'): refusing or reading the member "
         "are both allowed; no other address may appear", allowed=[CAROL])
    n = "addr-group-nested"
    case(n, msg(n, [f"From: {SENDER}", f"To: a: b: {CAROL};;"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "groups do not nest (RFC 5322 3.4)", allowed=[CAROL])
    n = "addr-comments"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL} (Carol (the (nested) one))"]),
         ["-t", "-i"], EX_OK, "comments nest (RFC 5322 3.2.2)", rcpts=[CAROL])
    n = "addr-comment-deep"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL} " + "(" * 200 + ")" * 200]),
         ["-t", "-i"], [EX_OK, EX_DATAERR], "200 nested comments: valid (RFC 5322 3.2.2), "
         "or refused by a token cap (CONVENTIONS, Postfix tok822 limit)", allowed=[CAROL])
    n = "addr-comment-unclosed"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL} (unclosed"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "an unclosed comment", allowed=[CAROL])
    n = "addr-comment-hides-alice"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL} ({ALICE})"]), ["-t", "-i"], EX_OK,
         "an address inside a comment is no recipient", rcpts=[CAROL])
    n = "addr-display-spoof"
    case(n, msg(n, [f"From: {SENDER}", f'To: "{ALICE}" <{DAVE}>']), ["-t", "-i"], EX_OK,
         "the display name is not the address (RFC 5322 3.4)", rcpts=[DAVE])
    n = "addr-display-angle-spoof"
    case(n, msg(n, [f"From: {SENDER}", f'To: "x <{ALICE}>" <{CAROL}>']), ["-t", "-i"],
         EX_OK, "angle brackets inside a quoted display name", rcpts=[CAROL])
    n = "addr-encoded-word-display"
    case(n, msg(n, [f"From: {SENDER}", f"To: =?UTF-8?Q?{ALICE}=2C?= <{CAROL}>"]),
         ["-t", "-i"], EX_OK, "an encoded-word is a display name (RFC 2047 5)",
         rcpts=[CAROL])
    n = "addr-two-angles"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL} <{ALICE}>"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "an unquoted address as display name (obs-phrase does not "
         "allow '@')", allowed=[CAROL, ALICE])
    n = "addr-space-in-angle-addr"
    case(n, msg(n, [f"From: {SENDER}", "To: Carol <car ol@exa mple.com>"]), ["-t", "-i"],
         EX_DATAERR, "'car ol' and 'exa mple.com' are no addr-spec (RFC 5322 3.4.1, "
         "4.4): with -t a recipient field that does not parse is refused (#14); it must "
         "not become some other address (carol@example.com)")
    n = "addr-space-in-angle-argv"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "as addr-space-in-angle-addr, on the command "
        "line", args=["-i", "Carol <car ol@exa mple.com>"])
    n = "addr-quoted-space-to-header"
    a = '"carol smith"@example.com'
    case(n, msg(n, [f"From: {SENDER}", f"To: {a}"]), ["-t", "-i"], EX_OK,
         "a quoted local part keeps its spaces (RFC 5322 3.4.1, 3.2.4): it is a "
         "different mailbox from \"carolsmith\"", rcpts=[a])
    n = "addr-quoted-space-argv-angle"
    std(n, msg(n), EX_OK, "as addr-quoted-space-to-header, as 'Name <addr>' on the "
        "command line (Postfix sendmail)", args=["-i", f"Carol <{a}>"], rcpts=[a])
    n = "addr-angle-trailing-word"
    case(n, msg(n, [f"From: {SENDER}", f"To: <{CAROL} x>"]), ["-t", "-i"], EX_DATAERR,
         "'<carol@example.com x>' is no angle-addr (RFC 5322 3.4): refused under -t "
         "(#14), never sent to carol@example.comx")
    n = "addr-double-at"
    case(n, msg(n, [f"From: {SENDER}", f"To: {ALICE}@evil.example"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "two '@': invalid; refusing or a reading that sends "
         "alice's copy encrypted", allowed=[ALICE, f"{ALICE}@evil.example"],
         require_aliases=[f"{ALICE}@evil.example"])
    n = "addr-unparsable-to"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}, <<<"]), ["-t", "-i"],
         [EX_OK, EX_DATAERR], "an unparsable recipient field under -t: refused, or "
         "only the valid address used", allowed=[CAROL])
    for n, f in (("addr-unparsable-from", "From: <<<"),
                 ("addr-unparsable-from-2", "From: a@@b"),
                 ("addr-unparsable-sender", "Sender: ((("),
                 ("addr-unparsable-reply-to", "Reply-To: x@y, ,, <z")):
        std(n, msg(n, [f, "Subject: x"]), EX_OK, "issue #14: an unparsable From (or "
            "other non-recipient address field) is passed on as it is")
    n = "addr-from-encoded-word"
    std(n, msg(n, ["From: =?UTF-8?Q?Al=C3=AFce?= <s@example.com>", "Subject: x"]), EX_OK,
        "RFC 2047 display name")
    n = "addr-from-8bit"
    std(n, msg(n, ["From: J\u00f6rg <s@example.com>", "Subject: x"]), EX_OK, "RFC 6532")

    # argv forms Postfix sendmail parses "as if it were an RFC 822 header"
    n = "addr-argv-list"
    std(n, msg(n), EX_OK, "Postfix sendmail parses a comma list in one argument",
        args=["-i", f"{ALICE}, {CAROL}"])
    n = "addr-argv-name-angle"
    std(n, msg(n), EX_OK, "Postfix sendmail: 'word word <address>'",
        args=["-i", f"Carol C <{CAROL}>", ALICE])
    n = "addr-argv-angle"
    std(n, msg(n), EX_OK, "<addr-spec>", args=["-i", f"<{CAROL}>", f"<{ALICE}>"])
    n = "addr-argv-newline"
    std(n, msg(n), [EX_USAGE, EX_DATAERR, EX_OK], "a line break in an argument: refused, "
        "or read as white space; nothing else may be made of it",
        args=["-i", f"{CAROL}\nBcc: {DAVE}"], allowed=[CAROL])
    n = "addr-argv-empty"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "an empty recipient is no address",
        args=["-i", ""])
    n = "addr-argv-null"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "<> is no recipient (RFC 5321 4.1.1.3)",
        args=["-i", "<>"])
    n = "addr-bare-local"
    std(n, msg(n), EX_OK, "a bare local part: the MTA qualifies it (envelope.h, "
        "Postfix append_at_myorigin)", args=["-i", "root"], rcpts=["root"])
    n = "addr-too-long"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "longer than the 256-octet path limit "
        "(RFC 5321 4.5.3.1.3)", args=["-i", "a" * 250 + "@example.com"])
    n = "addr-literal-v4"
    std(n, msg(n), EX_OK, "address literal (RFC 5321 4.1.3)", args=["-i", "carol@[192.0.2.1]"],
        rcpts=["carol@[192.0.2.1]"])
    n = "addr-literal-v6"
    std(n, msg(n), EX_OK, "IPv6 address literal (RFC 5321 4.1.3)",
        args=["-i", "carol@[IPv6:2001:db8::1]"], rcpts=["carol@[IPv6:2001:db8::1]"])
    n = "addr-idn-ulabel"
    a = "carol@b\u00fccher.example"
    std(n, msg(n), EX_OK, "an IDN (RFC 6531)", args=["-i", a],
        allowed=[a, "carol@xn--bcher-kva.example"])
    n = "addr-idn-utf8-local"
    a = "j\u00f6rg@example.com"
    std(n, msg(n), EX_OK, "a UTF-8 local part (RFC 6531 3.3)", args=["-i", a], rcpts=[a])
    n = "addr-idn-alabel-bogus"
    a = "carol@xn--zzzz-9999.example"
    std(n, msg(n), EX_OK, "LDH syntax (RFC 5321 4.1.2); no DNS here", args=["-i", a],
        rcpts=[a])
    n = "addr-idn-latin1"
    std(n, msg(n), [EX_USAGE, EX_DATAERR], "not UTF-8: no valid domain (RFC 6531 3.3)",
        args=["-i", "carol@b\udcfccher.example"])
    n = "addr-idn-to-header"
    case(n, msg(n, [f"From: {SENDER}", "To: carol@b\u00fccher.example"]), ["-t", "-i"], EX_OK,
         "RFC 6532", allowed=["carol@b\u00fccher.example", "carol@xn--bcher-kva.example"])

    # the same mailbox as alice, written differently: still encrypt = require
    for n, a, ok in (
        ("addr-alice-upper-domain", "alice@EXAMPLE.ORG", [EX_OK]),
        ("addr-alice-upper-all", "ALICE@Example.Org", [EX_OK]),
        ("addr-alice-quoted", '"alice"@example.org', [EX_OK]),
        ("addr-alice-trailing-dot", "alice@example.org.", [EX_OK, EX_USAGE, EX_DATAERR]),
        ("addr-alice-source-route", "@relay.example:alice@example.org",
         [EX_OK, EX_USAGE, EX_DATAERR]),
    ):
        std(n, msg(n, [f"From: {SENDER}", f"To: {a}", f"Subject: {n}"]), ok,
            "the same mailbox (RFC 5321 2.4: domains are case-insensitive; 4.1.2: "
            "a quoted-string is the same local part; 4.1.1.3: source routes are "
            "ignored; a final dot names the same domain): encrypt = require applies",
            args=["-i", a], rcpts=None, allowed=[a, ALICE],
            require_aliases=[a])


# ---------------------------------------------------------------------------
# rcpt: recipient counts, Bcc, Resent-*
# ---------------------------------------------------------------------------
def gen_rcpt():
    many = [f"r{i}@example.com" for i in range(10000)]
    n = "rcpt-argv-10000"
    std(n, msg(n, [f"From: {SENDER}", "Subject: many"]), [EX_USAGE, EX_DATAERR],
        f"more than PS_RCPT_MAX ({PS_RCPT_MAX}) recipients: a clean refusal "
        "(envelope.h), nothing sent", args=["-i"] + many)
    n = "rcpt-argv-10000-same"
    std(n, msg(n, [f"From: {SENDER}", "Subject: same"]), EX_OK,
        "10000 times one address: duplicates are folded (envelope.h; Postfix "
        "sort-uniqs recipients)", args=["-i"] + [CAROL] * 10000, rcpts=[CAROL])
    n = "rcpt-to-10000"
    case(n, msg(n, [f"From: {SENDER}", "To: " + ",\n ".join(many)]), ["-t", "-i"],
         EX_DATAERR, f"more than PS_RCPT_MAX in To: refused (envelope.h)")
    n = "rcpt-to-at-limit"
    lim = [f"r{i}@example.com" for i in range(PS_RCPT_MAX - 1)] + [ALICE]
    case(n, msg(n, [f"From: {SENDER}", "To: " + ",\n ".join(lim)]), ["-t", "-i"], EX_OK,
         f"exactly PS_RCPT_MAX recipients: accepted", rcpts=lim)
    n = "rcpt-to-over-limit"
    lim = [f"r{i}@example.com" for i in range(PS_RCPT_MAX)] + [ALICE]
    case(n, msg(n, [f"From: {SENDER}", "To: " + ",\n ".join(lim)]), ["-t", "-i"],
         EX_DATAERR, "PS_RCPT_MAX + 1 recipients: refused")
    n = "rcpt-argv-plus-header-over"
    half = [f"r{i}@example.com" for i in range(600)]
    case(n, msg(n, [f"From: {SENDER}", "To: " + ",\n ".join(half)]),
         ["-t", "-i"] + [f"q{i}@example.com" for i in range(600)],
         [EX_USAGE, EX_DATAERR], "600 on the command line plus 600 from -t: over "
         "PS_RCPT_MAX together (Postfix: -t adds to the command line)")
    n = "rcpt-to-10000-same"
    case(n, msg(n, [f"From: {SENDER}", "To: " + ",\n ".join([CAROL] * 10000)]),
         ["-t", "-i"], EX_OK, "duplicates fold (envelope.h)", rcpts=[CAROL])
    n = "rcpt-bcc-only"
    case(n, msg(n, [f"From: {SENDER}", f"Bcc: {CAROL}, {ALICE}", "Subject: bcc only"]),
         ["-t", "-i"], EX_OK, "Bcc recipients are recipients (RFC 5322 3.6.3); the Bcc "
         "field is removed from what is sent", rcpts=[CAROL, ALICE])
    n = "rcpt-bcc-variants"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", f"BCC: {DAVE}", f"bcc : {ALICE}",
                    f"Bcc:", f" {ALICE}"]), ["-t", "-i"], EX_OK,
         "field names are case-insensitive (RFC 5322 1.2.2), obs-optional WSP before "
         "the colon, a folded value", rcpts=[CAROL, DAVE, ALICE])
    n = "rcpt-bcc-group"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", f"Bcc: hidden: {ALICE};"]),
         ["-t", "-i"], EX_OK, "a group in Bcc", rcpts=[CAROL, ALICE])
    n = "rcpt-bcc-empty"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", "Bcc:"]), ["-t", "-i"], EX_OK,
         "an empty Bcc (RFC 5322 3.6.3 allows it)", rcpts=[CAROL])
    n = "rcpt-bcc-no-t"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", f"Bcc: {DAVE}"]), ["-i", ALICE],
         EX_OK, "without -t the header names no recipient, and Bcc is still removed",
         rcpts=[ALICE])
    n = "rcpt-resent"
    case(n, msg(n, [f"From: {SENDER}", f"To: {DAVE}", f"Resent-From: {SENDER}",
                    f"Resent-To: {CAROL}", f"Resent-Bcc: {ALICE}"]), ["-t", "-i"], EX_OK,
         "with Resent- fields, -t takes Resent-To/Cc/Bcc only (Postfix sendmail: "
         "resent_recip)", rcpts=[CAROL, ALICE])
    n = "rcpt-resent-bcc-only"
    case(n, msg(n, [f"From: {SENDER}", f"To: {DAVE}", f"Resent-Bcc: {ALICE}"]),
         ["-t", "-i"], EX_OK, "Resent-Bcc alone selects the Resent- recipients",
         rcpts=[ALICE])
    n = "rcpt-resent-twice"
    case(n, msg(n, [f"From: {SENDER}", f"To: {DAVE}", f"Resent-To: {CAROL}",
                    f"Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000", f"Resent-To: {ALICE}",
                    f"Resent-Bcc: {DAVE}"]), ["-t", "-i"], EX_OK,
         "several Resent- blocks: every Resent- recipient", rcpts=[CAROL, ALICE, DAVE])
    n = "rcpt-cc-and-argv"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}", f"Cc: {ALICE}"]), ["-t", "-i", DAVE],
         EX_OK, "-t adds the header recipients to the command line's (Postfix)",
         rcpts=[CAROL, ALICE, DAVE])


# ---------------------------------------------------------------------------
# mime
# ---------------------------------------------------------------------------
def gen_mime():
    def mm(n, ct, body, extra_headers=()):
        return msg(n, [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", "MIME-Version: 1.0",
                       f"Content-Type: {ct}", *extra_headers], body)
    POSTFIX = "Postfix sendmail does not parse MIME (MIME_OPT_DISABLE_MIME); issue #14"
    for n, ct, body in (
        ("mime-no-boundary-param", "multipart/mixed", "--x\n\n{c}\n--x--\n"),
        ("mime-boundary-absent", 'multipart/mixed; boundary="nope"', "--x\n\n{c}\n--x--\n"),
        ("mime-no-close", 'multipart/mixed; boundary="b"', "--b\nContent-Type: text/plain\n\n{c}\n"),
        ("mime-boundary-long", 'multipart/mixed; boundary="' + "b" * 200 + '"',
         "--" + "b" * 200 + "\n\n{c}\n--" + "b" * 200 + "--\n"),
        ("mime-boundary-empty", 'multipart/mixed; boundary=""', "--\n\n{c}\n----\n"),
        ("mime-boundary-spaces", 'multipart/mixed; boundary="a b "', "--a b \n\n{c}\n--a b --\n"),
        ("mime-nested-deep", 'multipart/mixed; boundary="b0"',
         "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\n\n" for i in range(200))
         + "--b200\n\n{c}\n"),
        ("mime-bad-ct-syntax", ";;;", "{c}\n"),
        ("mime-bad-ct-quote", 'text/plain; charset="utf-8', "{c}\n"),
        ("mime-ct-many-params", "text/plain; " + "; ".join(f"p{i}=v" for i in range(3000)), "{c}\n"),
        ("mime-ct-huge-param", 'text/plain; x="' + "y" * 60000 + '"', "{c}\n"),
        ("mime-bad-base64", "text/plain", "!!!! {c} ****\n"),
        ("mime-version-2", "text/plain", "{c}\n"),
        ("mime-smime-enveloped", 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
         "{b64}\n"),
        ("mime-smime-signed", 'multipart/signed; protocol="application/pkcs7-signature"; '
         'micalg=sha-256; boundary="s"',
         "--s\nContent-Type: text/plain\n\n{c}\n--s\nContent-Type: application/pkcs7-signature\n\n"
         "MIIBogYJKoZIhvcNAQcCoIIBkzCCAY8CAQExDzANBglghkgBZQMEAgEFADALBgkq\n--s--\n"),
        ("mime-pgp-signed", 'multipart/signed; protocol="application/pgp-signature"; '
         'micalg=pgp-sha256; boundary="s"',
         "--s\nContent-Type: text/plain\n\n{c}\n--s\nContent-Type: application/pgp-signature\n\n"
         "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n--s--\n"),
        ("mime-message-rfc822-bcc", 'multipart/mixed; boundary="b"',
         "--b\nContent-Type: message/rfc822\n\nFrom: x@y\nBcc: inner@example.net\n\n{c}\n--b--\n"),
        ("mime-encrypted-no-protocol", 'multipart/encrypted; boundary="b"',
         "--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--b\n"
         "Content-Type: application/octet-stream\n\n{c}\n--b--\n"),
    ):
        c = canary_for(n)
        bd = body.format(c=c, b64=base64.b64encode(("plaintext " + c).encode()).decode())
        extra = ("Content-Transfer-Encoding: base64",) if n in ("mime-bad-base64", "mime-smime-enveloped") else ()
        data = mm(n, ct, bd, extra)
        if n == "mime-version-2":
            data = data.replace(b"MIME-Version: 1.0", b"MIME-Version: 2.0")
        std(n, data, EX_OK, POSTFIX + "; not OpenPGP, so alice's copy is encrypted")


# ---------------------------------------------------------------------------
# sealed: fake and real encrypted input. The detector is being reworked
# (another branch): only the security property is asserted.
# ---------------------------------------------------------------------------
def crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data, crc=None, headers=(), kind="MESSAGE"):
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    if crc is None:
        crc = "=" + base64.b64encode(crc24(data).to_bytes(3, "big")).decode()
    return "\n".join([f"-----BEGIN PGP {kind}-----", *headers, "", *lines, crc,
                      f"-----END PGP {kind}-----"]) + "\n"


def first_packet(binary):
    """The first OpenPGP packet of binary (old or new format)."""
    tag = binary[0]
    if tag & 0x40:  # new format
        l0 = binary[1]
        if l0 < 192:
            return binary[:2 + l0]
        if l0 < 224:
            ln = ((l0 - 192) << 8) + binary[2] + 192
            return binary[:3 + ln]
        ln = int.from_bytes(binary[2:6], "big")
        return binary[:6 + ln]
    lt = tag & 3
    if lt == 0:
        return binary[:2 + binary[1]]
    if lt == 1:
        return binary[:3 + int.from_bytes(binary[1:3], "big")]
    return binary[:5 + int.from_bytes(binary[1:5], "big")]


def literal_packet(text):
    body = b"b\x00\x00\x00\x00\x00" + text
    assert len(body) < 192
    return bytes([0xC0 | 11, len(body)]) + body


def gen_sealed(real_armor):
    m = re.search(r"-----BEGIN PGP MESSAGE-----\n(?:.+\n)*?\n((?:[A-Za-z0-9+/=]+\n)+?)(=[A-Za-z0-9+/]{4}\n)?-----END",
                  real_armor)
    data_lines = m.group(1)
    binary = base64.b64decode("".join(data_lines.split()))
    pkesk = first_packet(binary)
    real = real_armor if real_armor.endswith("\n") else real_armor + "\n"
    PS = "sealed input: the canary may only reach alice inside encryption (RFC 3156)"

    def pgpmime(n, preamble="", p1h="", p1b="Version: 1\n", p2h="", p2pre="", arm=real,
                p2post="", epilogue="", extra_part="", ct=None, hdr_extra=()):
        ct = ct or 'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"'
        body = (f"{preamble}--b1\nContent-Type: application/pgp-encrypted\n{p1h}\n{p1b}\n"
                f"--b1\nContent-Type: application/octet-stream\n{p2h}\n{p2pre}{arm}{p2post}"
                f"{extra_part}--b1--\n{epilogue}")
        return msg(n, [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", "Subject: sealed",
                       "MIME-Version: 1.0", f"Content-Type: {ct}", *hdr_extra], body)

    def inline(n, text):
        return msg(n, [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", "Subject: sealed"], text)

    def sc(n, data):
        std(n, data, None, PS, sealed=True, rcpts=None)

    # real input, no plaintext: passes through or is encrypted again
    sc("sealed-real-pgpmime", pgpmime("sealed-real-pgpmime"))
    sc("sealed-real-inline", inline("sealed-real-inline", real))
    # real PGP/MIME with plaintext around the encrypted part
    n = "sealed-pgpmime-preamble"
    sc(n, pgpmime(n, preamble=f"Secret preamble {canary_for(n)}\n"))
    n = "sealed-pgpmime-epilogue"
    sc(n, pgpmime(n, epilogue=f"Secret epilogue {canary_for(n)}\n"))
    n = "sealed-pgpmime-part1-header"
    sc(n, pgpmime(n, p1h=f"Content-Description: {canary_for(n)}\n"))
    n = "sealed-pgpmime-part2-header"
    sc(n, pgpmime(n, p2h=f"Content-Description: {canary_for(n)}\n"))
    n = "sealed-pgpmime-part2-xheader"
    sc(n, pgpmime(n, p2h=f"X-Note: {canary_for(n)}\n"))
    n = "sealed-pgpmime-version-text"
    sc(n, pgpmime(n, p1b=f"Version: 1\n{canary_for(n)}\n"))
    n = "sealed-pgpmime-before-armor"
    sc(n, pgpmime(n, p2pre=f"{canary_for(n)}\n"))
    n = "sealed-pgpmime-after-armor"
    sc(n, pgpmime(n, p2post=f"{canary_for(n)}\n"))
    n = "sealed-pgpmime-third-part"
    sc(n, pgpmime(n, extra_part=f"--b1\nContent-Type: text/plain\n\n{canary_for(n)}\n"))
    n = "sealed-pgpmime-no-close"
    sc(n, pgpmime(n).replace(b"--b1--\n", b(f"{canary_for(n)}\n")))
    n = "sealed-pgpmime-armor-comment"
    sc(n, pgpmime(n, arm=real.replace("-----BEGIN PGP MESSAGE-----\n",
                                      f"-----BEGIN PGP MESSAGE-----\nComment: {canary_for(n)}\n", 1)))
    n = "sealed-pgpmime-armor-xheader"
    sc(n, pgpmime(n, arm=real.replace("-----BEGIN PGP MESSAGE-----\n",
                                      f"-----BEGIN PGP MESSAGE-----\nX-Leak: {canary_for(n)}\n", 1)))
    n = "sealed-pgpmime-canary-data-line"
    lines = real.split("\n")
    k = next(i for i, l in enumerate(lines) if l == "") + 2
    sc(n, pgpmime(n, arm="\n".join(lines[:k] + [canary_for(n)] + lines[k:])))
    n = "sealed-pgpmime-after-crc"
    sc(n, pgpmime(n, arm=real.replace("-----END PGP MESSAGE-----",
                                      f"{canary_for(n)}\n-----END PGP MESSAGE-----")))
    n = "sealed-pgpmime-begin-trailer"
    sc(n, pgpmime(n, arm=real.replace("-----BEGIN PGP MESSAGE-----",
                                      f"-----BEGIN PGP MESSAGE----- {canary_for(n)}", 1)))
    n = "sealed-pgpmime-base64-cte"
    sc(n, pgpmime(n, p2h="Content-Transfer-Encoding: base64\n",
                  arm=base64.encodebytes(b(f"{canary_for(n)}\n" + real)).decode()))
    n = "sealed-pgpmime-part2-text"
    sc(n, pgpmime(n).replace(b"Content-Type: application/octet-stream\n",
                             b(f"Content-Type: text/plain\n\n{canary_for(n)}\n"), 1))
    n = "sealed-pgpmime-dup-ct"
    sc(n, pgpmime(n, preamble=f"{canary_for(n)}\n", hdr_extra=("Content-Type: text/plain",)))
    n = "sealed-pgpmime-wrong-protocol"
    sc(n, pgpmime(n, preamble=f"{canary_for(n)}\n",
                  ct='multipart/encrypted; protocol="application/pkcs7-mime"; boundary="b1"'))
    n = "sealed-pgpmime-nested-rfc822"
    inner = pgpmime(n).decode()
    sc(n, msg(n, [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", "MIME-Version: 1.0",
                  'Content-Type: multipart/mixed; boundary="o"'],
              f"--o\nContent-Type: text/plain\n\n{canary_for(n)}\n--o\nContent-Type: "
              f"message/rfc822\n\n{inner}--o--\n"))
    n = "sealed-pgpmime-uppercase"
    sc(n, pgpmime(n, preamble=f"{canary_for(n)}\n",
                  ct='MULTIPART/ENCRYPTED; PROTOCOL="APPLICATION/PGP-ENCRYPTED"; BOUNDARY="b1"'))
    # fake armor: nothing in it is encrypted
    n = "sealed-fake-crc-garbage"
    sc(n, inline(n, armor(b(f"plaintext {canary_for(n)} " * 4), crc="=!!!!")))
    n = "sealed-fake-crc-valid"
    sc(n, inline(n, armor(b(f"plaintext {canary_for(n)} " * 4))))
    n = "sealed-fake-hf4d"
    sc(n, inline(n, armor(base64.b64decode("hF4D") + b(f" plaintext {canary_for(n)} " * 4),
                          crc="=AbCd")))
    n = "sealed-fake-hf4d-valid-crc"
    sc(n, inline(n, armor(base64.b64decode("hF4D") + b(f" plaintext {canary_for(n)} " * 4))))
    n = "sealed-fake-pkesk-literal"
    sc(n, inline(n, armor(pkesk + literal_packet(b(f"plaintext {canary_for(n)}")))))
    n = "sealed-fake-pkesk-literal-mime"
    sc(n, pgpmime(n, arm=armor(pkesk + literal_packet(b(f"plaintext {canary_for(n)}")))))
    n = "sealed-fake-pkesk-only-then-text"
    sc(n, inline(n, armor(pkesk + b(f"plaintext {canary_for(n)}" * 3))))
    n = "sealed-fake-hf4d-mime"
    sc(n, pgpmime(n, arm=armor(base64.b64decode("hF4D") + b(f" plaintext {canary_for(n)} " * 4))))
    n = "sealed-fake-no-blank"
    sc(n, inline(n, armor(pkesk + literal_packet(b(f"x {canary_for(n)}"))).replace(
        "-----\n\n", "-----\n", 1)))
    # inline PGP with plaintext next to it
    n = "sealed-inline-before"
    sc(n, inline(n, f"{canary_for(n)}\n" + real))
    n = "sealed-inline-after"
    sc(n, inline(n, real + f"P.S. {canary_for(n)}\n"))
    n = "sealed-inline-between"
    sc(n, inline(n, real + f"{canary_for(n)}\n" + real))
    n = "sealed-inline-quoted"
    sc(n, inline(n, "".join("> " + l + "\n" for l in real.splitlines()) + f"{canary_for(n)}\n"))
    n = "sealed-inline-signed"
    sc(n, inline(n, f"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n{canary_for(n)}\n"
                    "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEE\n=abcd\n"
                    "-----END PGP SIGNATURE-----\n"))
    n = "sealed-inline-truncated"
    sc(n, inline(n, "\n".join(real.split("\n")[:4]) + f"\n{canary_for(n)}\n"))
    n = "sealed-inline-version-header"
    sc(n, inline(n, real.replace("-----BEGIN PGP MESSAGE-----\n",
                                 f"-----BEGIN PGP MESSAGE-----\nVersion: {canary_for(n)}\n", 1)))
    n = "sealed-inline-crlf-before"
    sc(n, inline(n, (f"{canary_for(n)}\n" + real).replace("\n", "\r\n")))


# ---------------------------------------------------------------------------
# bs: postseal -bs
# ---------------------------------------------------------------------------
def dialogue(*lines, eol="\r\n"):
    return "".join(l + eol for l in lines).encode()


def gen_bs():
    BS = ["-bs"]
    R = "RFC 5321"

    def body(n, hdr=None):
        hdr = hdr or [f"From: {SENDER}", f"To: {ALICE}, {CAROL}", f"Subject: {n}"]
        return [*hdr, "", f"Body {canary_for(n)}", "."]

    def bs(n, lines, codes, rcpts, why, exit=EX_OK, eol="\r\n", raw=None, **kw):
        case(n, raw if raw is not None else dialogue(*lines, eol=eol), BS, exit, why,
             mode="bs", bs_codes=codes, rcpts=rcpts, **kw)

    n = "bs-basic"
    bs(n, ["EHLO c.example", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{ALICE}>", f"RCPT TO:<{CAROL}>",
           "DATA", *body(n), "QUIT"], ["220", "250", "250", "250", "250", "354", "250", "221"],
       [ALICE, CAROL], f"{R} 4.1.1, 3.3")
    n = "bs-data-no-rcpt"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", "DATA", "QUIT"],
       ["220", "250", "250", "503|554", "221"], [],
       f"{R} 3.3: DATA with no RCPT: 503 (or 554 no valid recipients)")
    n = "bs-data-no-mail"
    bs(n, ["EHLO c", "DATA", "QUIT"], ["220", "250", "503", "221"], [], f"{R} 4.1.4: 503")
    n = "bs-rcpt-no-mail"
    bs(n, ["EHLO c", f"RCPT TO:<{CAROL}>", "DATA", "QUIT"], ["220", "250", "503", "503", "221"],
       [], f"{R} 4.1.4: bad sequence of commands")
    n = "bs-data-no-rcpt-body-as-commands"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", "RCPT TO:<bad address>", "DATA",
           "Subject: x", "", f"{canary_for(n)}", ".", "QUIT"],
       ["220", "250", "250", "501", "503|554", "500", "500", "500", "500", "221"], [],
       f"{R}: DATA refused, the lines that follow are commands (unrecognised: 500)")
    n = "bs-ehlo-after-rcpt"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{DAVE}>", "EHLO c", "DATA", "QUIT"],
       ["220", "250", "250", "250", "250", "503", "221"], [],
       f"{R} 4.1.4: EHLO resets the transaction as RSET does; DATA then has no MAIL")
    n = "bs-ehlo-after-rcpt-new-txn"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{DAVE}>", "EHLO c",
           f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "250", "250", "250", "354", "250", "221"], [CAROL],
       f"{R} 4.1.4: the aborted transaction's recipients are not used")
    n = "bs-helo-after-rcpt-new-txn"
    bs(n, ["HELO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{DAVE}>", "HELO c",
           f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "250", "250", "250", "354", "250", "221"], [CAROL],
       f"{R} 4.1.4: HELO resets too")
    n = "bs-ehlo-mid-many"
    lines = ["EHLO c"]
    for i in range(50):
        lines += [f"MAIL FROM:<{SENDER}>", f"RCPT TO:<r{i}@example.com>", "EHLO c"]
    lines += [f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"]
    bs(n, lines, ["220", "250"] + ["250", "250", "250"] * 50 + ["250", "250", "354", "250", "221"],
       [CAROL], f"{R} 4.1.4: fifty aborted transactions leave nothing behind")
    n = "bs-rset-new-txn"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{DAVE}>", "RSET",
           f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "250", "250", "250", "354", "250", "221"], [CAROL],
       f"{R} 4.1.1.5: RSET aborts the transaction")
    n = "bs-nested-mail"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"MAIL FROM:<{SENDER}>", "QUIT"],
       ["220", "250", "250", "503", "221"], [], f"{R} 4.1.4: MAIL inside a transaction")
    n = "bs-two-messages"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{ALICE}>", "DATA", *body(n),
           f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "354", "250", "250", "250", "354", "250", "221"],
       [ALICE, CAROL], f"{R} 3.3: transactions follow one another")
    n = "bs-long-command"
    bs(n, ["EHLO c", "NOOP " + "x" * 5000, "QUIT"], ["220", "250", "500", "221"], [],
       f"{R} 4.5.3.1.4 and 4.5.3.1.10: '500 Line too long'")
    n = "bs-long-command-huge"
    bs(n, ["EHLO c", "RCPT TO:<" + "x" * 200000 + ">", "QUIT"], ["220", "250", "500", "221"], [],
       f"{R} 4.5.3.1.10: 500 Line too long (200 KB)")
    n = "bs-long-path"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", "RCPT TO:<" + "a" * 300 + "@example.com>", "QUIT"],
       ["220", "250", "250", "501|553", "221"], [], f"{R} 4.5.3.1.10: '501 Path too long'")
    n = "bs-long-data-line"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA",
           "Subject: x", "", "y" * 70000, ".", "QUIT"],
       ["220", "250", "250", "250", "354", "5..", "221"], [],
       "bs.h: a DATA line over 64000 octets refuses the message, never cuts it "
       f"({R} 4.5.3.1.6 text line limit)")
    n = "bs-too-many-rcpts"
    lim = [f"r{i}@example.com" for i in range(PS_RCPT_MAX + 1)]
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", *[f"RCPT TO:<{a}>" for a in lim], "DATA",
           f"From: {SENDER}", "To: " + ",".join(lim[:PS_RCPT_MAX]), "Subject: many", "",
           canary_for(n), ".", "QUIT"],
       ["220", "250", "250"] + ["250"] * PS_RCPT_MAX + ["452", "354", "250", "221"],
       lim[:PS_RCPT_MAX], f"{R} 4.5.3.1.10: '452 Too many recipients' past PS_RCPT_MAX; the "
       "first PS_RCPT_MAX are kept")
    n = "bs-eof-in-data"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", "Subject: cut", "",
           canary_for(n)], ["220", "250", "250", "250", "354"], [],
       f"{R} 4.1.1.4: a message without its final dot is not delivered; bs.h and "
       "sysexits: EX_TEMPFAIL", exit=EX_TEMPFAIL)
    n = "bs-eof-after-data-cmd"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA"],
       ["220", "250", "250", "250", "354"], [], "as bs-eof-in-data", exit=EX_TEMPFAIL)
    n = "bs-eof-after-accepted"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n)],
       ["220", "250", "250", "250", "354", "250"], [CAROL],
       "bs.h: end of input ends the session; the message was accepted at its dot")
    n = "bs-eof-partial-line"
    bs(n, None, ["220", "250", "250", "250", "354"], [], "as bs-eof-in-data",
       exit=EX_TEMPFAIL,
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA",
                    "Subject: x", "") + b(f"{canary_for(n)}\r\n."))
    n = "bs-eof-no-quit"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>"], ["220", "250", "250"], [],
       "bs.h: end of input outside DATA ends the session, exit 0")
    n = "bs-empty-input"
    bs(n, [], ["220"], [], "bs.h: the greeting, then end of input")
    n = "bs-bare-lf"
    bs(n, None, ["220", "250", "250", "250", "354", "250", "221"], [CAROL],
       "bare LF commands and text lines, as Postfix's smtpd accepts them "
       "(smtpd_forbid_bare_newline = normalize); the data ends with <CRLF>.<CRLF>",
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA",
                    *body(n)[:-1], eol="\n") + b"\r\n.\r\nQUIT\n")
    n = "bs-smuggle-lf-dot"
    bs(n, None, None, None, f"{R} 4.1.1.4: only <CRLF>.<CRLF> ends the data; whatever a "
       "server reads, it must not send a message to DAVE that the client did not "
       "address", allowed=[CAROL],
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA",
                    "Subject: x", "") + b(f"{canary_for(n)}\n.\nMAIL FROM:<{SENDER}>\r\n"
                                          f"RCPT TO:<{DAVE}>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"))
    n = "bs-lowercase"
    bs(n, ["ehlo c", f"mail from:<{SENDER}>", f"rcpt to:<{CAROL}>", "data", *body(n), "quit"],
       ["220", "250", "250", "250", "354", "250", "221"], [CAROL],
       f"{R} 2.4: verbs are case-insensitive")
    n = "bs-nul-in-command"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}\0{DAVE}>", "QUIT"],
       ["220", "250", "250", "501|500", "221"], [], f"{R} 4.1.2: NUL is no address character")
    n = "bs-8bit-command"
    bs(n, None,
       ["220", "250", "250", "501|553", "221"], [], "not UTF-8: no address (RFC 6531)",
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>")
       + b"RCPT TO:<\xff\xfe@example.com>\r\nQUIT\r\n")
    n = "bs-8bit-unknown-verb"
    bs(n, None, ["220", "500", "221"], [], f"{R} 4.2: replies are printable ASCII, "
       "whatever the command", raw=b"\xc3\xa9\xff\x01HLO\r\nQUIT\r\n")
    n = "bs-dash-rcpt"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", "RCPT TO:<-oQ/tmp/x@example.com>",
           f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "5..", "250", "354", "250", "221"], [CAROL],
       "an address an MTA may read as an option is refused (CVE-2020-7247 class)")
    n = "bs-dash-sender"
    bs(n, ["EHLO c", "MAIL FROM:<-oQ/tmp/x@example.com>", "QUIT"], ["220", "250", "5..", "221"],
       [], "as bs-dash-rcpt, for the sender")
    n = "bs-shell-rcpt"
    a = '"$(touch /tmp/ps-corpus-pwnedb)"@example.com'
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{a}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "354", "250", "221"], [a],
       f"{R} 4.1.2: a quoted local part; no shell", pwn="/tmp/ps-corpus-pwnedb")
    n = "bs-source-route-alice"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<@relay.example:{ALICE}>", "DATA",
           *body(n), "QUIT"], ["220", "250", "250", "250", "354", "250", "221"], [ALICE],
       f"{R} 4.1.1.3: a source route is accepted and ignored: the recipient is alice")
    n = "bs-null-sender"
    bs(n, ["EHLO c", "MAIL FROM:<>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       ["220", "250", "250", "250", "354", "250", "221"], [CAROL], f"{R} 4.5.5: MAIL FROM:<>")
    n = "bs-mail-params"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}> SIZE=100 BODY=8BITMIME", f"RCPT TO:<{CAROL}>",
           "DATA", *body(n), "QUIT"], ["220", "250", "250", "250", "354", "250", "221"],
       [CAROL], "RFC 1870 SIZE and RFC 6152 BODY, both advertised")
    n = "bs-data-with-arg"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA x", "QUIT"],
       ["220", "250", "250", "250", "501|500", "221"], [], f"{R} 4.1.1.4: DATA takes no argument")
    n = "bs-unknown-verbs"
    bs(n, ["EHLO c", "EXPN root", "TURN", "ETRN x", "BDAT 10 LAST", "XYZZY", "QUIT"],
       ["220", "250", "500|502|252|550", "500|502", "500|502", "500|502", "500|502", "221"], [],
       f"{R} 4.2.4: unrecognised or unimplemented: 500/502")
    n = "bs-no-helo"
    bs(n, [f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n), "QUIT"],
       None, None,
       f"{R} 4.1.4: a server may require EHLO (503) or not", allowed=[CAROL])
    n = "bs-pipelined-after-quit"
    bs(n, ["EHLO c", "QUIT", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", *body(n)],
       ["220", "250", "221"], [], f"{R} 4.1.1.10: nothing after QUIT is read")
    n = "bs-pipelined-bulk"
    lines = ["EHLO c"]
    for i in range(20):
        lines += [f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", f"RCPT TO:<{ALICE}>", "DATA",
                  *body(n), "RSET", "NOOP"]
    lines.append("QUIT")
    bs(n, lines, ["220", "250"] + ["250", "250", "250", "354", "250", "250", "250"] * 20 + ["221"],
       [ALICE, CAROL], "RFC 2920: a whole pipelined session in one write")
    n = "bs-data-dot-stuffing"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", "Subject: d", "",
           "..", "...x", canary_for(n), ".", "QUIT"],
       ["220", "250", "250", "250", "354", "250", "221"], [CAROL], f"{R} 4.5.2")
    n = "bs-message-no-blank-line"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", "Subject: x",
           f"hello {canary_for(n)}", ".", "QUIT"],
       ["220", "250", "250", "250", "354", "250", "221"], [CAROL], "issue #14, under -bs")
    n = "bs-message-nul"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", "Subject: x", "",
           f"a\0b {canary_for(n)}", ".", "QUIT"],
       ["220", "250", "250", "250", "354", "5..", "221"], [],
       "a NUL byte: refused (intake.h); a 5xx reply")
    n = "bs-message-bcc"
    bs(n, ["EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA", f"To: {CAROL}",
           f"Bcc: {DAVE}", "Subject: x", "", canary_for(n), ".", "QUIT"],
       ["220", "250", "250", "250", "354", "250", "221"], [CAROL],
       "-bs takes the envelope from RCPT; the Bcc field is still removed")
    n = "bs-reply-8bit-echo"
    bs(n, None, ["220", "250", "250", "250", "354", "250|5..", "221"], None,
       f"{R} 4.2: a reply is printable US-ASCII, even when it names a bad address "
       "taken from the message", allowed=[CAROL],
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>", f"RCPT TO:<{CAROL}>", "DATA")
       + b"Cc: <j\xc3\xb6rg\xff@@example.com>\r\nSubject: x\r\n\r\n"
       + b(f"{canary_for(n)}\r\n.\r\nQUIT\r\n"))
    n = "bs-huge-greeting-name"
    bs(n, ["EHLO " + "h" * 990, "HELO", "EHLO", "QUIT"], ["220", "250", "250|501", "250|501", "221"],
       [], f"{R} 4.1.1.1: EHLO domain; an empty one may be refused")
    n = "bs-crlf-in-address"
    bs(n, None, ["220", "250", "250", "501|500|553", "500", "221"], [],
       f"{R} 2.3.8: CR only with LF; what follows a CR is no part of an address",
       raw=dialogue("EHLO c", f"MAIL FROM:<{SENDER}>") + b(f"RCPT TO:<{CAROL}\r>\r\n")
       + b"\r\nQUIT\r\n")


# ---------------------------------------------------------------------------
# cli: the command line around hostile input
# ---------------------------------------------------------------------------
def gen_cli():
    n = "cli-no-recipients"
    std(n, msg(n), EX_USAGE, "Postfix sendmail: 'Recipient addresses must be specified on "
        "the command line or via the -t option', EX_USAGE", args=["-i"])
    n = "cli-t-no-recipients"
    case(n, msg(n, [f"From: {SENDER}", "Subject: nobody"]), ["-t", "-i"], EX_USAGE,
         "Postfix sendmail: 'No recipient addresses found in message header', EX_USAGE")
    n = "cli-unknown-option"
    std(n, msg(n), EX_USAGE, "sysexits: a bad flag", args=["-z", CAROL])
    n = "cli-f-no-arg"
    std(n, msg(n), EX_USAGE, "sysexits: missing argument", args=["-i", "-f"])
    n = "cli-bad-mode"
    std(n, msg(n), EX_USAGE, "sysexits: a bad flag", args=["-bx", CAROL])
    n = "cli-F-newline"
    std(n, msg(n), EX_USAGE, "a full name with a line break would become a header line "
        "in the MTA's From: refused as a bad parameter", args=["-i", "-F", "Me\nBcc: x@y", CAROL])
    n = "cli-F-dash"
    std(n, msg(n), EX_OK, "-F takes any text; after -F it is an option argument",
        args=["-i", "-F", "-oQ/tmp/x", ALICE, CAROL])
    n = "cli-f-null"
    std(n, msg(n), EX_OK, "the null sender (RFC 5321 4.5.5)", args=["-i", "-f", "<>", ALICE, CAROL])
    n = "cli-f-display"
    std(n, msg(n), EX_OK, "Postfix sendmail reads -f as an address header",
        args=["-i", "-f", f"Me <{SENDER}>", ALICE, CAROL], sender=SENDER)
    n = "cli-f-shell"
    a = "`touch${IFS}/tmp/ps-corpus-pwnedf`@example.com"
    std(n, msg(n), EX_OK, "a valid address (atext); no shell", args=["-i", "-f", a, ALICE, CAROL],
        sender=a, pwn="/tmp/ps-corpus-pwnedf")
    n = "cli-dsn-options"
    std(n, msg(n), EX_OK, "Postfix's DSN options are accepted; the handoff argv stays "
        "-i [-f] [-F] -- rcpt", args=["-i", "-N", "success,delay", "-R", "hdrs", "-V", "id1",
                                      ALICE, CAROL])
    n = "cli-ignored-options"
    std(n, msg(n), EX_OK, "Postfix ignores these (sendmail(1) compatibility)",
        args=["-oi", "-oem", "-odb", "-U", "-G", "-x", "-m", ALICE, CAROL])
    n = "cli-t-plus-i-dot"
    case(n, msg(n, [f"From: {SENDER}", f"To: {CAROL}"], f"{canary_for(n)}\n.\n.\n"),
         ["-t", "-oi"], EX_OK, "-oi is -i: dots are data", rcpts=[CAROL])


# Issue #14: a recipient argument, or a -t recipient field, that is not
# an address is returned to the sender at once (a notice from the null
# sender to the login name, run.py checks it carries no canary) while the
# other recipients get their copies; the message is taken (exit 0). These
# cases were "refused" (64/65) before. "must": the notice has to come;
# True: it may (the case allows another reading too).
RETURNED = {
    "addr-angle-trailing-word": ("must", [EX_OK]),
    "addr-argv-empty": ("must", [EX_OK]),
    "addr-argv-null": ("must", [EX_OK]),
    "addr-dash-argv-bare": ("must", [EX_OK]),
    "addr-dash-argv": ("must", [EX_OK]),
    "addr-dash-bcc-header": ("must", [EX_OK]),
    "addr-dash-to-header": ("must", [EX_OK]),
    "addr-idn-latin1": ("must", [EX_OK]),
    "addr-shell-subst-unquoted": ("must", [EX_OK]),
    "addr-space-in-angle-addr": ("must", [EX_OK]),
    "addr-space-in-angle-argv": ("must", [EX_OK]),
    "addr-too-long": ("must", [EX_OK]),
    "addr-alice-source-route": (True, None),
    "addr-alice-trailing-dot": (True, None),
    "addr-argv-newline": (True, None),
    "addr-comment-unclosed": (True, None),
    "addr-double-at": (True, None),
    "addr-group-nested": (True, None),
    "addr-group-unterminated": (True, None),
    "addr-unparsable-to": (True, None),
}


def returned(c):
    r = RETURNED.get(c["name"])
    if r is None and c["name"].startswith("addr-notatext-"):
        r = ("must", [EX_OK])
    if r is not None:
        c["returned"] = r[0]
        if r[1] is not None:
            c["exit"] = r[1]


def main():
    if len(sys.argv) != 4 or sys.argv[2] != "--armor":
        sys.exit("usage: gen.py OUTDIR --armor FILE")
    out = sys.argv[1]
    with open(sys.argv[3]) as f:
        real = f.read()
    gen_hdr()
    gen_addr()
    gen_rcpt()
    gen_mime()
    gen_sealed(real)
    gen_bs()
    gen_cli()
    os.makedirs(out, exist_ok=True)
    seen = set()
    for c in cases:
        assert c["name"] not in seen, c["name"]
        seen.add(c["name"])
        returned(c)
        data = c.pop("data")
        with open(os.path.join(out, c["name"] + ".in"), "wb") as f:
            f.write(data)
        with open(os.path.join(out, c["name"] + ".json"), "w") as f:
            json.dump(c, f, ensure_ascii=True)
    print(f"gen.py: {len(cases)} cases in {out}")


if __name__ == "__main__":
    main()
