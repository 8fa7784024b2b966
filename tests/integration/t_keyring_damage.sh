#!/bin/bash
# A damaged keyring never means "no key": gpg lists what it can still
# read and GPGME reports success, so a recipient whose key sits in the
# damaged part would get plaintext. Truncated or garbled, the keyring
# makes postseal fail (75) with nothing handed off, and say why.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice bob
printf '#!/bin/sh\ncat > "%s/handed.$$"\n' "$T" > "$T/sink"
chmod 755 "$T/sink"
ps_conf "$T/sink"
printf 'From: s@example.com\nTo: bob@example.net\nSubject: damage\n\ncanary body\n' > "$T/msg"
cp "$GNUPGHOME/pubring.kbx" "$T/pubring.good"
size=$(stat -c %s "$T/pubring.good")

check_refused() { # WHAT
	rm -f "$T"/handed.*
	"$POSTSEAL" -C "$T/conf" -i bob@example.net < "$T/msg" > "$T/out" 2> "$T/err"
	rc=$?
	[ "$rc" = 75 ] || fail "$1: exit $rc, want 75: $(cat "$T/err")"
	grep -q 'keyring cannot be read' "$T/err" || fail "$1: no reason given: $(cat "$T/err")"
	ls "$T"/handed.* >/dev/null 2>&1 && fail "$1: something was handed off: $(cat "$T"/handed.*)"
	[ "$(wc -l < "$T/err")" -le 2 ] || fail "$1: more than a short error: $(cat "$T/err")"
}

# the good keyring: bob's copy is encrypted
"$POSTSEAL" -C "$T/conf" -i bob@example.net < "$T/msg" 2> "$T/err" || fail "good keyring: exit $?: $(cat "$T/err")"
f=$(ls "$T"/handed.* | head -n1)
grep -q 'canary body' "$f" && fail "good keyring: bob's copy is plaintext"
ok "with the keyring intact bob's copy is encrypted"

# truncated in the middle of bob's key (the second one imported)
head -c $((size * 3 / 4)) "$T/pubring.good" > "$GNUPGHOME/pubring.kbx"
check_refused "truncated keyring"
ok "a truncated keyring: exit 75, nothing handed off"

# garbled: the OpenPGP packets of bob's key overwritten (the keybox blobs
# are walked by their 4-byte lengths; bob's is the last; its keyblock
# offset is at byte 8 of the blob, RFC-less but documented in GnuPG's
# kbx/keybox-blob.c)
cp "$T/pubring.good" "$GNUPGHOME/pubring.kbx"
python3 - "$GNUPGHOME/pubring.kbx" <<'PY' || fail "could not garble the keyring"
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
pos, blobs = 0, []
while pos + 5 <= len(d):
    n = struct.unpack(">I", d[pos:pos + 4])[0]
    if n < 5 or pos + n > len(d):
        break
    blobs.append(pos)
    pos += n
last = blobs[-1]
assert d[last + 4] == 2, "the last blob is not an OpenPGP key blob"
off = struct.unpack(">I", d[last + 8:last + 12])[0]
d[last + off:last + off + 8] = b"\xff" * 8
open(p, "wb").write(bytes(d))
PY
check_refused "garbled keyring"
ok "a garbled keyring: exit 75, nothing handed off"
