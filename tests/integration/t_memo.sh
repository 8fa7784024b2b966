#!/bin/bash
# postseal remembers keyring lookups (the key, or "no usable key") under
# the keyring's stamp and the keys' expiry, so that a submission runs
# gpg only to encrypt. A remembered answer must never outlive a change:
# a key imported, disabled, revoked, or expired since is seen at once.
# Each case first checks that the answer was remembered, so that what
# follows tests the invalidation, not a fresh lookup.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
printf '#!/bin/sh\ncat > "%s/out/$$"\n' "$T" > "$T/sink"
chmod 755 "$T/sink"
mkdir "$T/out"
ps_conf "$T/sink"
DB=$XDG_CACHE_HOME/postseal/cache.sqlite
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3 to read the cache"

fpr_in() { gpg --homedir "$1" --with-colons --list-keys "$2" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'; }
# remembered ADDR: the remembered fingerprint ("" for no key), or
# "none" when nothing is remembered for ADDR
remembered() {
	"$PY" - "$DB" "$1" <<'EOF2'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
r = c.execute("SELECT fpr FROM memo WHERE addr = ?", (sys.argv[2],)).fetchall()
print(r[0][0] if r else "none")
EOF2
}
# send ADDR: submit one message to ADDR; prints "encrypted" or
# "plaintext" for what was handed off
send() {
	rm -f "$T"/out/*
	printf 'From: s@example.com\nTo: %s\nSubject: memo\n\nthe body\n' "$1" |
		"$POSTSEAL" -C "$T/conf" -i "$1" 2> "$T/err" || fail "$1: exit $? ($(cat "$T/err"))"
	local f
	f=$(ls "$T"/out/* 2>/dev/null | head -n1)
	[ -n "$f" ] || fail "$1: nothing handed off"
	if grep -q '^-----BEGIN PGP MESSAGE-----' "$f"; then
		KEYIDS=$(keyids_of "$f")
		echo encrypted
	else
		echo plaintext
	fi
}
settle() { sleep 2.1; } # past the racy-clean seconds of the last keyring change

settle
[ "$(send bob@example.net)" = plaintext ] || fail "bob has no key yet"
[ "$(remembered bob@example.net)" = "" ] || fail "no-key answer not remembered: $(remembered bob@example.net)"
gpg --batch -q --import "$KEYS/bob.pub.asc" 2>/dev/null
[ "$(send bob@example.net)" = encrypted ] || fail "bob's key imported just now was not used: remembered 'no key' outlived the import"
ok "a key imported after 'no key' was remembered is used at once (same second)"

settle
send bob@example.net > /dev/null
BOB=$(fpr_in "$T/g" bob@example.net)
[ "$(remembered bob@example.net)" = "$BOB" ] || fail "bob's key not remembered"
[ "$(send bob@example.net)" = encrypted ] || fail "the remembered key is not used"
printf 'disable\nsave\n' | gpg --batch -q --command-fd 0 --edit-key "$BOB" 2>/dev/null
[ "$(send bob@example.net)" = plaintext ] || fail "bob's disabled key is still used"
ok "a key disabled after it was remembered is not used (the trust database is part of the stamp)"

# keys made here: one that expires in a few seconds, one to revoke
X=$T/x
mkdir -m 700 "$X"
xg() { gpg --homedir "$X" --batch --passphrase '' -q "$@"; }
xg --quick-gen-key 'Rev <rev@example.org>' ed25519 sign 0 2>/dev/null
xg --quick-add-key "$(fpr_in "$X" rev@example.org)" cv25519 encr 0 2>/dev/null
xg --quick-gen-key 'Exp <exp@example.org>' ed25519 sign "seconds=12" 2>/dev/null
xg --quick-add-key "$(fpr_in "$X" exp@example.org)" cv25519 encr "seconds=12" 2>/dev/null
xg --export rev@example.org exp@example.org | gpg --batch -q --import 2>/dev/null
REV=$(fpr_in "$X" rev@example.org)
# the earliest expiry of exp's primary key and subkey
EXP_AT=$(gpg --homedir "$X" --with-colons --list-keys exp@example.org |
	awk -F: '/^(pub|sub)/ && $7 != "" {if (m == "" || $7 < m) m = $7} END {print m}')
[ -n "$EXP_AT" ] || fail "exp's key has no expiry"
gpgconf --homedir "$X" --kill all 2>/dev/null

settle
[ "$(send rev@example.org)" = encrypted ] || fail "rev's key not used"
[ "$(remembered rev@example.org)" = "$REV" ] || fail "rev's key not remembered"
sed 's/^:-----/-----/' "$X/openpgp-revocs.d/$REV.rev" | gpg --batch -q --import 2>/dev/null
[ "$(send rev@example.org)" = plaintext ] || fail "rev's revoked key is still used"
ok "a key revoked after it was remembered is not used"

settle
[ "$(send exp@example.org)" = encrypted ] || fail "exp's key (valid for a few seconds more) not used"
[ "$(remembered exp@example.org)" != none ] || fail "exp's key not remembered"
until=$("$PY" -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT until FROM memo WHERE addr='exp@example.org'\").fetchone()[0])" "$DB")
[ "$until" -le "$EXP_AT" ] || fail "exp's key is remembered past its expiry ($until > $EXP_AT)"
while [ "$(date +%s)" -le $((EXP_AT + 1)) ]; do sleep 0.5; done
[ "$(send exp@example.org)" = plaintext ] || fail "exp's expired key is still used"
ok "a remembered key stands only until it expires ($until <= $EXP_AT), then is not used"
