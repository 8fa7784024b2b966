#!/bin/bash
# postseal -bs: SMTP on standard input and output, as PHP mailers and
# Alpine use it. A scripted dialogue with two messages in one session,
# refusals with their codes, protocol errors, and swaks --pipe; every
# accepted message goes through the whole pipeline (keys, policy, handoff)
# into the private Postfix.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"
printf '[domain example.net]\nencrypt = require\n' >> "$T/conf"

crlf() { sed 's/$/\r/'; }
{
	printf 'EHLO client.example\nMAIL FROM:<sender@example.com>\nRCPT TO:<alice@example.org>\nDATA\n'
	printf 'From: sender@example.com\nTo: alice@example.org\nSubject: bs one\n\n..a line that starts with a dot\nfirst body\n.\n'
	printf 'MAIL FROM:<sender@example.com>\nRCPT TO:<carol@example.com>\nDATA\n'
	printf 'From: sender@example.com\nTo: carol@example.com\nSubject: bs two\n\nsecond body\n.\n'
	printf 'MAIL FROM:<sender@example.com>\nRCPT TO:<erin@example.net>\nDATA\n'
	printf 'Subject: bs three\n\nthird body\n.\n'
	printf 'RCPT TO:<bob@example.net>\nMAIL FROM:<bad address>\nMAIL FROM:<sender@example.com>\nRCPT TO:<-oQ/tmp@example.com>\nRSET\nNOOP\nQUIT\n'
} | crlf > "$T/dialogue"
"$POSTSEAL" -C "$T/conf" -bs < "$T/dialogue" > "$T/replies" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || fail "-bs exit $rc: $(cat "$T/err")"
tr -d '\r' < "$T/replies" | awk '{print $1}' > "$T/codes"
# one final reply per command (EHLO's continuation lines aside), in order
[ "$(grep -v -- '-' "$T/codes" | tr '\n' ' ')" = "220 250 250 250 354 250 250 250 354 250 250 250 354 554 503 501 250 501 250 250 221 " ] ||
	fail "reply codes: $(tr '\n' ' ' < "$T/codes")"
tr -d '\r' < "$T/replies" > "$T/r"
[ "$(grep -c '^250 2.0.0 Ok: accepted$' "$T/r")" = 2 ] || fail "two messages should be accepted: $(cat "$T/r")"
grep -q '^554 5.7.1 erin@example.net refused by policy; nothing was sent$' "$T/r" || fail "the refusal: $(cat "$T/r")"
grep -q '^503 5.5.1 need MAIL before RCPT$' "$T/r" || fail "RCPT before MAIL: $(cat "$T/r")"
[ "$(grep -c '^501 ' "$T/r")" = 2 ] || fail "bad addresses: $(cat "$T/r")"
grep -q '^221 ' "$T/r" || fail "no 221 at QUIT"
pf_wait_delivered "$PF" 2 || fail "the two accepted messages did not arrive"
sleep 1
[ "$(pf_count_delivered "$PF")" = 2 ] || fail "more than two messages delivered"
A=$(pf_mailbox "$PF" alice@example.org)
header_of "$A" | grep -q '^Content-Type: multipart/encrypted;' || fail "alice's message is not encrypted"
gpg_decrypt "$A" | tr -d '\r' > "$T/inner"
grep -qx '.a line that starts with a dot' "$T/inner" || fail "dot-unstuffing: $(cat "$T/inner")"
grep -qx 'first body' "$T/inner" || fail "alice's body"
grep -qx 'second body' "$(pf_mailbox "$PF" carol@example.com)" || fail "carol's message"
ok "a scripted -bs session: two messages accepted (one encrypted, dots unstuffed), a policy refusal as 554 with the reason, protocol errors as 503/501"

printf 'EHLO x\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\nSubject: cut\r\n\r\nno end\r\n' |
	"$POSTSEAL" -C "$T/conf" -bs > /dev/null 2> "$T/err"
rc=$?
[ "$rc" = 75 ] || fail "input ending inside DATA: exit $rc, want 75"
sleep 1
[ "$(pf_count_delivered "$PF")" = 2 ] || fail "a message cut inside DATA was sent"
ok "input that ends inside DATA sends nothing and exits 75"

{ printf 'EHLO x\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\nSubject: long\r\n\r\n'
  head -c 70000 /dev/zero | tr '\0' x; printf '\r\n.\r\nQUIT\r\n'; } |
	"$POSTSEAL" -C "$T/conf" -bs 2> /dev/null | tr -d '\r' > "$T/r"
grep -q '^554 5.6.0 a line longer than 63999 bytes; message not sent$' "$T/r" || fail "overlong line: $(cat "$T/r")"
sleep 1
[ "$(pf_count_delivered "$PF")" = 2 ] || fail "a message with an overlong line was sent (cut?)"
ok "a DATA line longer than the limit refuses the message (554), never cuts it"

swaks --pipe "$POSTSEAL -C $T/conf -bs" --from sender@example.com --to alice@example.org \
	--header 'Subject: via swaks' --body 'swaks body' > "$T/swaks" 2>&1 || fail "swaks: $(cat "$T/swaks")"
grep -q '<-  250 2.0.0 Ok: accepted' "$T/swaks" || fail "swaks: $(cat "$T/swaks")"
pf_wait_delivered "$PF" 3 || fail "swaks' message did not arrive"
A=$(pf_mailbox "$PF" alice@example.org | xargs ls -t | head -n1)
gpg_decrypt "$A" | tr -d '\r' | grep -qx 'swaks body' || fail "swaks' message does not decrypt to its body"
ok "swaks --pipe 'postseal -bs' delivers, encrypted"
