#!/bin/bash
# PHP 8's mail() sends CRLF ("sendmail -t -i"); mutt sends LF. Both arrive
# intact: no CR CR LF anywhere, the plaintext copy as submitted, the
# encrypted inner entity in canonical CRLF.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
# Postfix turns CRLF into LF and a stray CR into a space, so the Maildir
# alone cannot show a CR CR LF that postseal wrote: keep a copy of every
# handoff, byte for byte, on its way to Postfix's sendmail.
mkdir "$T/handoff"
cat > "$T/tee-sendmail" <<EOF2
#!/bin/sh
f=\$(mktemp "$T/handoff/copy.XXXXXX") || exit 75
cat > "\$f" || exit 75
exec "$SENDMAIL" "\$@" < "\$f"
EOF2
chmod 755 "$T/tee-sendmail"
ps_conf "$T/tee-sendmail"

# crlf_clean FILE: every LF preceded by CR, no CR without an LF after it
crlf_clean() {
	local lf crlf
	lf=$(tr -cd '\n' < "$1" | wc -c)
	crlf=$(grep -c $'\r$' "$1")
	[ "$lf" -gt 0 ] && [ "$lf" = "$crlf" ] &&
		[ "$(LC_ALL=C grep -c $'\r.' "$1")" = 0 ] &&
		[ "$(tail -c1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}
# no_crcr FILE...: none of the files contains CR CR
no_crcr() {
	for f in "$@"; do
		[ "$(grep -c $'\r\r' "$f")" = 0 ] || fail "$f contains CR CR"
	done
}

printf 'Line one\r\nLine two with trailing space \r\n\r\nLast line\r\n' > "$T/body.crlf"
tr -d '\r' < "$T/body.crlf" > "$T/body.lf"
{
	printf 'From: webmaster@example.com\r\n'
	printf 'To: alice@example.org, carol@example.com\r\n'
	printf 'Subject: Order confirmation\r\n  number 42\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n'
	printf 'X-Mailer: PHP/8.2\r\n\r\n'
	cat "$T/body.crlf"
} > "$T/php"
# the input really is CRLF throughout, with a folded line
crlf_clean "$T/php" || fail "test input is not CRLF throughout"
grep -q $'^  number 42\r$' "$T/php" || fail "test input has no folded line"

"$POSTSEAL" -C "$T/conf" -t -i -fwebmaster@example.com < "$T/php" 2> "$T/err"
rc=$?
[ $rc = 0 ] || fail "postseal exited $rc: $(cat "$T/err")"
pf_wait_delivered "$PF" 2 || fail "not delivered"
[ "$(pf_count_delivered "$PF")" = 2 ] || fail "more than 2 messages delivered"
[ "$(find "$T/handoff" -type f | wc -l)" = 2 ] || fail "want 2 handoffs (encrypted, plaintext)"
A=$(mailbox alice@example.org)
C=$(mailbox carol@example.com)
no_crcr "$A" "$C" "$T"/handoff/*
ok "PHP-style CRLF: exit 0, no CR CR in what postseal handed off or what arrived"

header_of "$C" | grep -q '^Subject: Order confirmation$' || fail "carol: Subject"
python3 "$LIB/mimecheck.py" "$C" --header 'Subject=Order confirmation  number 42' ||
	fail "carol: folded Subject"
body_of "$C" | cmp -s "$T/body.lf" - || fail "carol's plaintext body differs"
ok "PHP-style CRLF: the plaintext copy arrives as submitted"

[ "$(keyids_of "$A")" = "$(keyid alice)" ] || fail "alice's copy is not encrypted to alice"
grep -q 'Line one' "$A" && fail "alice's body leaks outside"
gpg_decrypt "$A" > "$T/inner" || fail "cannot decrypt"
no_crcr "$T/inner"
crlf_clean "$T/inner" || fail "inner entity is not CRLF throughout: $(od -c "$T/inner" | head -20)"
body_of "$T/inner" | cmp -s "$T/body.lf" - || fail "decrypted body differs"
# the body is the submitted one byte for byte: CRLF as PHP sent it
sed '1,/^\r$/d' "$T/inner" | cmp -s "$T/body.crlf" - || fail "decrypted CRLF body differs"
# unfolding removes the CRLF only (RFC 5322 2.2.3): two spaces remain
python3 "$LIB/mimecheck.py" "$T/inner" --header 'Subject=Order confirmation  number 42' \
	--param charset=UTF-8 || fail "protected headers"
ok "PHP-style CRLF: the encrypted entity is canonical CRLF and decrypts to the body"

# mutt-style LF
{ printf 'From: sender@example.com\nTo: alice@example.org\nSubject: lf\n\n'; cat "$T/body.lf"; } > "$T/mutt"
grep -q $'\r' "$T/mutt" && fail "test input is not LF-only"
"$POSTSEAL" -C "$T/conf" -t -i < "$T/mutt" || fail "postseal exited $?"
pf_wait_delivered "$PF" 3 || fail "LF message not delivered"
[ "$(pf_count_delivered "$PF")" = 3 ] || fail "LF message: more than 1 copy delivered"
A2=$(pf_mailbox "$PF" alice@example.org | tail -n1)
[ "$A2" != "$A" ] || fail "LF message: not in alice's Maildir"
no_crcr "$A2" "$T"/handoff/*
gpg_decrypt "$A2" > "$T/inner2" || fail "cannot decrypt the LF message"
crlf_clean "$T/inner2" || fail "LF input: inner entity is not CRLF throughout"
body_of "$T/inner2" | cmp -s "$T/body.lf" - || fail "LF input: body differs"
ok "mutt-style LF: decrypts to the body, canonical CRLF inside"
