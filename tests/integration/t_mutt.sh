#!/bin/bash
# mutt, configured with set sendmail="postseal -C <conf>", sends a message
# with a binary attachment; it arrives through Postfix as PGP/MIME and
# decrypts (gpg and rnp) to the same text and attachment.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
command -v mutt >/dev/null || skip "mutt is not installed"

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

ps_muttrc "$T/home/.muttrc"
printf 'Hello Alice,\n\nthe report is attached.\n\n-- \nSender\n' > "$T/body"
head -c 3000 /dev/urandom > "$T/report.bin"

HOME=$T/home mutt -n -F "$T/home/.muttrc" -s "Report for you" \
	-a "$T/report.bin" -- alice@example.org < "$T/body" > "$T/mutt.out" 2>&1 ||
	fail "mutt exited $?: $(cat "$T/mutt.out")"
ok "mutt handed the message to postseal"

pf_wait_delivered "$PF" 1 || fail "nothing arrived"
A=$(mailbox alice@example.org)
header_of "$A" | grep -q '^Content-Type: multipart/encrypted;' || fail "not PGP/MIME"
header_of "$A" | grep -q '^Subject: \[\.\.\.\]$' || fail "subject not obscured"
grep -q 'Report for you' "$A" && fail "subject leaks"
[ "$(keyids_of "$A")" = "$(keyid alice)" ] || fail "not encrypted to alice's key"
grep -q "^Return-Path: <sender@example.com>" "$A" || fail "envelope sender lost"
ok "the copy is PGP/MIME to alice with the envelope sender mutt set"

gpg_decrypt "$A" > "$T/inner" || fail "gpg cannot decrypt"
python3 "$LIB/mimecheck.py" "$T/inner" --header 'Subject=Report for you' \
	--header 'To=alice@example.org' --header 'From=Sender <sender@example.com>' \
	--param hp=cipher --text "$T/body" --attachment "$T/report.bin" ||
	fail "decrypted message differs from what mutt sent"
ok "gpg: text, attachment and protected headers are as sent"
if command -v rnp >/dev/null; then
	rnp_decrypt "$A" alice > "$T/inner.rnp" || fail "rnp cannot decrypt"
	cmp -s "$T/inner" "$T/inner.rnp" || fail "rnp and gpg disagree"
	ok "rnp decrypts the same bytes"
fi
