#!/bin/bash
# A large message (about 4 MB: Postfix's default limit is 10 MB) streams
# through: it decrypts to the same bytes, and postseal's memory stays far
# below the message size (the body is never held in memory).
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
[ -x /usr/bin/time ] || skip "/usr/bin/time is missing (Debian package time)"

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

# lines of many lengths, some long, so that line ends fall on every
# position of the 64 KiB read buffer
head -c 6000000 /dev/urandom | base64 -w 0 | fold -w 997 |
	awk '{ print substr($0, 1, (NR * 37) % 997 + 1) }' > "$T/body"
{ printf 'From: s@example.com\nTo: alice@example.org\nSubject: big\n\n'; cat "$T/body"; } > "$T/msg"
/usr/bin/time -f %M -o "$T/rss" "$POSTSEAL" -C "$T/conf" -t -i < "$T/msg" ||
	fail "postseal exited $?"
rss=$(tail -n1 "$T/rss")
[ "$rss" -lt 32768 ] || fail "postseal used $rss KiB for a 4 MB message"
ok "a 4 MB message: postseal's peak RSS $rss KiB (< 32 MiB)"
pf_wait_delivered "$PF" 1 30 || fail "not delivered"
gpg_decrypt "$(mailbox alice@example.org)" > "$T/inner" || fail "cannot decrypt"
body_of "$T/inner" | cmp -s "$T/body" - || fail "the large body differs after the round trip"
ok "it decrypts to the same bytes"
