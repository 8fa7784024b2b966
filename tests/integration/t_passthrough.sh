#!/bin/bash
# Input that is already encrypted (PGP/MIME or inline PGP) passes through
# untouched, not encrypted twice, to recipients with and without keys;
# plaintext next to an armor block does not count as encrypted.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

# begins FILE: the number of armor blocks in FILE
begins() { grep -c -- '^-----BEGIN PGP MESSAGE-----' "$1"; }

printf 'The real secret.\nSecond line.\n' > "$T/secret"
gpg --batch -q --trust-model always --armor --encrypt -r alice@example.org \
	-o "$T/secret.asc" "$T/secret" || fail "gpg --encrypt"
[ "$(begins "$T/secret.asc")" = 1 ] || fail "gpg made no single armor block"
gpg --homedir "$T/d" --batch -q --decrypt "$T/secret.asc" 2>/dev/null |
	cmp -s "$T/secret" - || fail "the client's own ciphertext does not decrypt"

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

n=0 k=0
for m in pgpmime inline; do
	"$POSTSEAL" -C "$T/conf" -t -i < "$T/$m" || fail "$m: postseal exited $?"
	n=$((n + 2)) k=$((k + 1))
	pf_wait_delivered "$PF" $n || fail "$m: not delivered"
	[ "$(pf_count_delivered "$PF")" = $n ] || fail "$m: more than $n messages delivered in all"
	subj=$(header_of "$T/$m" | sed -n 's/^Subject: //p')
	for who in alice@example.org carol@example.com; do
		[ "$(pf_mailbox "$PF" "$who" | grep -c .)" = $k ] ||
			fail "$m: $who has not exactly $k message(s)"
		f=$(pf_mailbox "$PF" "$who" | tail -n1)
		body_of "$T/$m" | cmp -s - <(body_of "$f") || fail "$m to $who: body changed"
		[ "$(begins "$f")" = 1 ] || fail "$m to $who: $(begins "$f") armor blocks, want 1"
		header_of "$f" | grep -qxF "Subject: $subj" ||
			fail "$m to $who: Subject not as submitted (re-wrapped?)"
		gpg_decrypt "$f" | cmp -s "$T/secret" - || fail "$m to $who: does not decrypt to the original"
	done
	ok "$m: passed through unchanged to alice (key) and carol (no key)"
done
header_of "$(pf_mailbox "$PF" alice@example.org | head -n1)" |
	grep -qF 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";' ||
	fail "pgpmime: the Content-Type was changed"
ok "PGP/MIME keeps its own Content-Type"

# (c) plaintext before an armor block: must be encrypted for alice
{
	printf 'From: sender@example.com\nTo: alice@example.org\nSubject: mixed\n\n'
	printf 'This line is not encrypted by the client.\n'
	cat "$T/secret.asc"
} > "$T/mixed"
"$POSTSEAL" -C "$T/conf" -t -i < "$T/mixed" || fail "mixed: postseal exited $?"
pf_wait_delivered "$PF" $((n + 1)) || fail "mixed: not delivered"
[ "$(pf_count_delivered "$PF")" = $((n + 1)) ] || fail "mixed: more than one copy delivered"
f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
grep -q 'This line is not encrypted' "$f" && fail "mixed: plaintext line sent in the clear"
header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "mixed: not PGP/MIME"
# only the new outer armor shows; the client's block is inside it
[ "$(begins "$f")" = 1 ] || fail "mixed: $(begins "$f") armor blocks outside, want 1"
armored "$f" | cmp -s "$T/secret.asc" - && fail "mixed: the client's armor block was sent as is"
[ "$(keyids_of "$f")" = "$(keyid alice)" ] || fail "mixed: encrypted to [$(keyids_of "$f")], want alice"
gpg_decrypt "$f" > "$T/mixed.inner" || fail "mixed: cannot decrypt"
body_of "$T/mixed.inner" | cmp -s <(body_of "$T/mixed") - || fail "mixed: decrypted body differs"
ok "plaintext next to an armor block is encrypted, the client's block inside"

# (d) things that only look encrypted must be encrypted for alice:
# plaintext inside an armor frame, and a PGP/MIME header over a clear part
n=$((n + 1))
i=0
for fake in armor-frame mime-header; do
	i=$((i + 1))
	{
		printf 'From: sender@example.com\nTo: alice@example.org\nSubject: fake %s\n' "$fake"
		if [ "$fake" = armor-frame ]; then
			printf '\n-----BEGIN PGP MESSAGE-----\nMy bank PIN is 1234.\n-----END PGP MESSAGE-----\n'
		else
			printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted;\n'
			printf ' protocol="application/pgp-encrypted"; boundary="b1"\n\n'
			printf -- '--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
			printf -- '--b1\nContent-Type: text/plain\n\nMy bank PIN is 1234.\n--b1--\n'
		fi
	} > "$T/fake-$fake"
	"$POSTSEAL" -C "$T/conf" -t -i < "$T/fake-$fake" || fail "$fake: postseal exited $?"
	pf_wait_delivered "$PF" $((n + i)) || fail "$fake: not delivered"
	f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
	grep -q 'PIN is 1234' "$f" && fail "$fake: the plaintext was passed through"
	gpg_decrypt "$f" | grep -q 'PIN is 1234' || fail "$fake: does not decrypt to the text"
done
ok "an armor frame around plaintext and a PGP/MIME header over a clear part are encrypted"
