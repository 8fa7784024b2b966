#!/bin/bash
# End to end: a message submitted with -t goes through postseal into a
# private Postfix and lands, per recipient, encrypted or in plaintext as
# the opportunistic default says. Decrypted with gpg, rnp and sq, and
# compared with what was submitted.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice bob dave
ps_postfix
ps_conf "$SENDMAIL"

cat > "$T/body" <<'EOF2'
The numbers for Q3 are attached below.

.a line starting with a dot
.
Regards,
  Sender
EOF2
{
	printf 'From: Sender <sender@example.com>\n'
	printf 'To: Alice <alice@example.org>\n'
	printf 'Cc: bob@example.net, carol@example.com\n'
	printf 'Bcc: dave@example.org, erin@example.org\n'
	printf 'Subject: Quarterly numbers, confidential\n'
	printf 'Message-ID: <e2e-1@example.com>\n'
	printf '\n'
	cat "$T/body"
} > "$T/msg"

"$POSTSEAL" -C "$T/conf" -t -i -f sender@example.com < "$T/msg" 2> "$T/err" ||
	fail "postseal exited $? ($(cat "$T/err"))"
[ -s "$T/err" ] && fail "postseal wrote to stderr without -v: $(cat "$T/err")"
ok "postseal -t accepted the message"

pf_wait_delivered "$PF" 5 || fail "not all 5 copies arrived"
[ "$(pf_count_delivered "$PF")" = 5 ] || fail "more than 5 messages delivered"
A=$(mailbox alice@example.org)
B=$(mailbox bob@example.net)
C=$(mailbox carol@example.com)
D=$(mailbox dave@example.org)
E=$(mailbox erin@example.org)

# --- the visible copy: alice and bob share it -------------------------------
for f in "$A" "$B"; do
	header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "$f is not PGP/MIME"
	header_of "$f" | grep -q '^Subject: \[\.\.\.\]$' || fail "$f: outer Subject not obscured"
	grep -q 'Quarterly' "$f" && fail "$f: the subject leaks outside"
	grep -q 'numbers for Q3' "$f" && fail "$f: the body leaks outside"
	grep -qi '^Bcc:' "$f" && fail "$f: carries a Bcc header"
	pf_strip_delivery_headers "$f" | grep -q 'dave@\|erin@' &&
		fail "$f: names a blind recipient"
	python3 "$LIB/mimecheck.py" --outer "$f" \
		--param protocol=application/pgp-encrypted || fail "$f: outer MIME"
done
[ "$(armored "$A")" = "$(armored "$B")" ] || fail "alice and bob did not get the same copy"
ok "alice and bob got one PGP/MIME copy with an obscured subject"

want=$(printf '%s\n' "$(keyid alice)" "$(keyid bob)" | sort)
[ "$(keyids_of "$A")" = "$want" ] ||
	fail "visible copy encrypted to [$(keyids_of "$A" | tr '\n' ' ')], want [$(echo $want)]"
[ "$(keyids_of "$D")" = "$(keyid dave)" ] ||
	fail "dave's copy encrypted to [$(keyids_of "$D" | tr '\n' ' ')], want only dave"
ok "the visible copy names only alice's and bob's keys; dave's names only dave's"

# --- decrypt with gpg and compare -------------------------------------------
gpg_decrypt "$A" > "$T/inner.gpg" || fail "gpg cannot decrypt alice's copy"
body_of "$T/inner.gpg" > "$T/inner.body"
cmp -s "$T/body" "$T/inner.body" || fail "decrypted body differs: $(diff "$T/body" "$T/inner.body")"
python3 "$LIB/mimecheck.py" "$T/inner.gpg" \
	--header 'Subject=Quarterly numbers, confidential' \
	--header 'From=Sender <sender@example.com>' \
	--header 'To=Alice <alice@example.org>' \
	--header 'Cc=bob@example.net, carol@example.com' \
	--header 'HP-Outer=Subject: [...]' \
	--param hp=cipher --param protected-headers=v1 \
	--no-header Bcc --text "$T/body" || fail "protected headers"
grep -q 'dave@\|erin@' "$T/inner.gpg" && fail "the inner part names a blind recipient"
# the message had no Date: postseal added one before encrypting, so the
# protected header has it and the MTA adds no other outside
idate=$(tr -d '\r' < "$T/inner.gpg" | sed -n '/^$/q; s/^Date: //p')
odate=$(header_of "$A" | sed -n 's/^Date: //p')
[ -n "$idate" ] || fail "the protected header has no Date"
[ "$idate" = "$odate" ] || fail "inner Date [$idate] differs from the outer one [$odate]"
ok "gpg decrypts the body and the protected headers as submitted; the Date postseal added is the same inside and out"

# --- and with independent implementations -----------------------------------
if command -v rnp >/dev/null; then
	rnp_decrypt "$A" alice > "$T/inner.rnp" || fail "rnp cannot decrypt"
	cmp -s "$T/inner.gpg" "$T/inner.rnp" || fail "rnp and gpg disagree"
	rnp_decrypt "$B" bob > "$T/inner.rnp.bob" || fail "rnp cannot decrypt bob's (RSA) copy"
	cmp -s "$T/inner.gpg" "$T/inner.rnp.bob" || fail "rnp (bob) and gpg disagree"
	ok "rnp decrypts the same bytes"
else
	[ "${CI:-}" = true ] && fail "rnp is missing"
fi
if command -v sq >/dev/null; then
	sq_decrypt "$A" alice > "$T/inner.sq" || fail "sq cannot decrypt"
	cmp -s "$T/inner.gpg" "$T/inner.sq" || fail "sq and gpg disagree"
	ok "sq decrypts the same bytes"
else
	[ "${CI:-}" = true ] && fail "sq is missing"
fi

# --- dave: blind, keyed: his own copy ---------------------------------------
gpg_decrypt "$D" > "$T/inner.dave" || fail "gpg cannot decrypt dave's copy"
body_of "$T/inner.dave" | cmp -s "$T/body" - || fail "dave's body differs"
[ "$(armored "$D")" = "$(armored "$A")" ] && fail "dave got the visible copy"
ok "dave's blind copy decrypts to the same body"

# --- carol and erin: no key: plaintext, Bcc stripped -------------------------
for f in "$C" "$E"; do
	header_of "$f" | grep -q '^Subject: Quarterly numbers, confidential$' || fail "$f: subject"
	grep -qi '^Bcc:' "$f" && fail "$f: carries a Bcc header"
	# Postfix's own Delivered-To/X-Original-To name the mailbox owner
	pf_strip_delivery_headers "$f" | grep -q 'dave@\|erin@' &&
		fail "$f: names a blind recipient"
	body_of "$f" | cmp -s "$T/body" - || fail "$f: body differs"
	grep -q 'BEGIN PGP' "$f" && fail "$f: keyless copy was encrypted"
done
ok "carol and erin (no keys) got the plaintext without Bcc"
