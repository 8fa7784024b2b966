#!/usr/bin/env python3
"""Independent MIME checks for the integration tests (Python's email
package, not postseal's parser).

mimecheck.py FILE [--header NAME=VALUE]... [--no-header NAME]...
             [--text FILE] [--attachment FILE] [--param NAME=VALUE]...
             [--outer]

FILE is a decrypted inner entity (or, with --outer, a delivered message).
Exits 1 with a reason when a check fails.
"""
import argparse
import email
import email.policy
import sys


def fail(msg):
    print("mimecheck: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--no-header", action="append", default=[])
    ap.add_argument("--text")
    ap.add_argument("--attachment")
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--outer", action="store_true")
    a = ap.parse_args()

    with open(a.file, "rb") as f:
        raw = f.read()
    if b"\r\r\n" in raw:
        fail("CR CR LF found")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        fail("MIME defects: %r" % msg.defects)

    for hv in a.header:
        name, _, want = hv.partition("=")
        got = msg.get_all(name) or []
        if want not in [str(g) for g in got]:
            fail("header %s: want %r, got %r" % (name, want, got))
    for name in a.no_header:
        if msg.get_all(name):
            fail("header %s present: %r" % (name, msg.get_all(name)))
    for pv in a.param:
        name, _, want = pv.partition("=")
        got = msg.get_param(name)
        if got != want:
            fail("Content-Type parameter %s: want %r, got %r" % (name, want, got))

    if a.text is not None:
        with open(a.text, "rb") as f:
            want = f.read().decode("utf-8").replace("\r\n", "\n")
        part = msg.get_body(preferencelist=("plain",))
        if part is None:
            fail("no text/plain part")
        got = part.get_content().replace("\r\n", "\n")
        if got.rstrip("\n") != want.rstrip("\n"):
            fail("text differs:\n--- want\n%s\n--- got\n%s" % (want, got))

    if a.attachment is not None:
        with open(a.attachment, "rb") as f:
            want = f.read()
        found = False
        for part in msg.iter_attachments():
            if part.get_payload(decode=True) == want:
                found = True
        if not found:
            fail("attachment %s not found intact" % a.attachment)


main()
