#!/bin/bash
# Input that is already encrypted (PGP/MIME or inline PGP) passes through
# untouched, not encrypted twice; plaintext next to an armor block does not
# count as encrypted.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

printf 'The real secret.\n' > "$T/secret"
gpg --batch -q --trust-model always --armor --encrypt -r alice@example.org \
	-o "$T/secret.asc" "$T/secret" || fail "gpg --encrypt"

# (a) PGP/MIME made by the client itself
{
	printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\n'
	printf 'Subject: already sealed\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n'
	printf ' boundary="b1"\n\n'
	printf -- '--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
	printf -- '--b1\nContent-Type: application/octet-stream\n\n'
	cat "$T/secret.asc"
	printf -- '\n--b1--\n'
} > "$T/pgpmime"
# (b) inline PGP: the body is one armor block
{
	printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\n'
	printf 'Subject: inline\n\n'
	cat "$T/secret.asc"
} > "$T/inline"

n=0
for m in pgpmime inline; do
	"$POSTSEAL" -C "$T/conf" -t -i < "$T/$m" || fail "$m: postseal exited $?"
	n=$((n + 2))
	pf_wait_delivered "$PF" $n || fail "$m: not delivered"
	for who in alice@example.org carol@example.com; do
		f=$(pf_mailbox "$PF" "$who" | tail -n1)
		body_of "$T/$m" | cmp -s - <(body_of "$f") || fail "$m to $who: body changed"
		[ "$(grep -c -- '-----BEGIN PGP MESSAGE-----' "$f")" = 1 ] ||
			fail "$m to $who: encrypted twice"
		gpg_decrypt "$f" | cmp -s "$T/secret" - || fail "$m to $who: does not decrypt to the original"
	done
done
ok "PGP/MIME and inline PGP input pass through to keyed and keyless recipients alike"

# (c) plaintext before an armor block: must be encrypted for alice
{
	printf 'From: sender@example.com\nTo: alice@example.org\nSubject: mixed\n\n'
	printf 'This line is not encrypted by the client.\n'
	cat "$T/secret.asc"
} > "$T/mixed"
"$POSTSEAL" -C "$T/conf" -t -i < "$T/mixed" || fail "mixed: postseal exited $?"
pf_wait_delivered "$PF" $((n + 1)) || fail "mixed: not delivered"
f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
grep -q 'This line is not encrypted' "$f" && fail "mixed: plaintext line sent in the clear"
header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "mixed: not PGP/MIME"
gpg_decrypt "$f" > "$T/mixed.inner" || fail "mixed: cannot decrypt"
body_of "$T/mixed.inner" | cmp -s <(body_of "$T/mixed") - || fail "mixed: decrypted body differs"
ok "plaintext next to an armor block is encrypted"
