#!/bin/bash
# PHP 8's mail() sends CRLF ("sendmail -t -i"); mutt sends LF. Both arrive
# intact: no CR CR LF anywhere, the plaintext copy as submitted, the
# encrypted inner entity in canonical CRLF.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

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
"$POSTSEAL" -C "$T/conf" -t -i -fwebmaster@example.com < "$T/php" || fail "postseal exited $?"
pf_wait_delivered "$PF" 2 || fail "not delivered"
A=$(mailbox alice@example.org)
C=$(mailbox carol@example.com)
for f in "$A" "$C"; do
	[ "$(grep -c $'\r\r' "$f")" = 0 ] || fail "$f contains CR CR"
done
body_of "$C" | cmp -s "$T/body.lf" - || fail "carol's plaintext body differs"
ok "PHP-style CRLF: the plaintext copy arrives as submitted"

gpg_decrypt "$A" > "$T/inner" || fail "cannot decrypt"
[ "$(grep -c $'\r\r' "$T/inner")" = 0 ] || fail "inner entity contains CR CR"
lf=$(tr -cd '\n' < "$T/inner" | wc -c)
crlf=$(grep -c $'\r$' "$T/inner")
[ "$lf" = "$crlf" ] || fail "inner entity: $lf line ends, $crlf of them CRLF"
body_of "$T/inner" | cmp -s "$T/body.lf" - || fail "decrypted body differs"
# unfolding removes the CRLF only (RFC 5322 2.2.3): two spaces remain
python3 "$LIB/mimecheck.py" "$T/inner" --header 'Subject=Order confirmation  number 42' \
	--param charset=UTF-8 || fail "protected headers"
ok "PHP-style CRLF: the encrypted entity is canonical CRLF and decrypts to the body"

# mutt-style LF
{ printf 'From: sender@example.com\nTo: alice@example.org\nSubject: lf\n\n'; cat "$T/body.lf"; } |
	"$POSTSEAL" -C "$T/conf" -t -i || fail "postseal exited $?"
pf_wait_delivered "$PF" 3 || fail "LF message not delivered"
A2=$(pf_mailbox "$PF" alice@example.org | tail -n1)
gpg_decrypt "$A2" > "$T/inner2" || fail "cannot decrypt the LF message"
[ "$(tr -cd '\n' < "$T/inner2" | wc -c)" = "$(grep -c $'\r$' "$T/inner2")" ] ||
	fail "LF input: inner entity is not CRLF throughout"
body_of "$T/inner2" | cmp -s "$T/body.lf" - || fail "LF input: body differs"
ok "mutt-style LF: decrypts to the body, canonical CRLF inside"
