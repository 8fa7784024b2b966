#!/bin/bash
# unknown = defer (the default): a recipient whose key lookup is
# inconclusive (here: DNS does not answer) waits in the queue, the others
# are handed off at once, and the submission succeeds (exit 0), as
# Postfix's sendmail accepts what it cannot finish now. The queue runner
# looks again once DNS answers (a DANE key: encrypted; a proven no-key:
# plaintext); past unknown-max-age the sender gets a DSN and nothing goes
# out in plaintext; delay-warning warns the sender first. -bs answers 250.
# A kill -9 at every stage of the deferral loses nothing.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/dns.sh" || exit 99

ps_setup alice
ps_postfix
Q=$XDG_STATE_HOME/postseal/queue
D=$T/dns; mkdir -p "$D"
bin() { gpg --dearmor < "$KEYS/$1.pub.asc"; }
# example.com signed with grace's key in DANE; example.net signed, empty
bin grace > "$T/grace.gpg"
dns_zone "$D" example.com || { [ $? = 77 ] && skip "no nsd/ldnsutils here"; fail "zone"; }
dns_add_openpgpkey "$D" example.com "$(dns_openpgpkey_owner grace example.com)" "$T/grace.gpg"
dns_sign "$D" example.com || fail "sign example.com"
dns_zone "$D" example.net
dns_sign "$D" example.net || fail "sign example.net"
PORT=$(dns_start "$D") || fail "nsd did not start"
cat "$D"/example.*.anchor > "$T/anchors"
DEAD=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

conf() { # DNS-PORT [QUEUE-LINES]: DNS to nsd, or to a port where nothing answers
	cat > "$T/conf" <<EOF2
[transport]
mode = sendmail
sendmail = $SENDMAIL
[default]
sources = local dane
lookup-timeout = 1
[keyfetch]
dns-forwarder = 127.0.0.1@$1
trust-anchor = $T/anchors
[queue]
${2:-}
EOF2
	chmod 600 "$T/conf"
}
queued() { find "$Q/q" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
count() { pf_count_delivered "$PF"; }
newest() { pf_mailbox "$PF" "$1" | xargs -r ls -t | head -n1; }
msg() { printf 'From: sender@example.com\nTo: alice@example.org, grace@example.com, carol@example.net\nSubject: %s\n\nThe deferred body %s.\n' "$1" "$1"; }

# --- DNS down: alice's copy goes, grace and carol wait --------------------------
conf "$DEAD"
msg one | "$POSTSEAL" -C "$T/conf" -v -i -f sender@example.com alice@example.org grace@example.com carol@example.net \
	> "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || fail "DNS down: exit $rc, want 0 (deferred): $(cat "$T/err")"
pf_wait_delivered "$PF" 1 || fail "alice's copy did not arrive at once"
header_of "$(newest alice@example.org)" | grep -q '^Content-Type: multipart/encrypted;' ||
	fail "alice's copy is not encrypted"
for a in grace@example.com carol@example.net; do
	grep -q "$a: key lookup inconclusive.*deferred" "$T/err" || fail "-v says nothing about deferring $a: $(cat "$T/err")"
	grep -q "$a: waits in the queue as" "$T/err" || fail "-v names no queue entry for $a: $(cat "$T/err")"
done
[ "$(queued)" = 1 ] || fail "$(queued) queue entries, want 1 (one message for both)"
E=$(ls "$Q"/q/[0-9]*)
[ "$(stat -c %a "$E")" = 600 ] && [ "$(stat -c %a "$Q/q")" = 700 ] || fail "queue entry or directory not private"
grep -qx 'kind lookup' "$E" || fail "the entry is not 'awaiting a key lookup'"
grep -qx 'rcpt alice@example.org' "$E" && fail "alice, already sent, waits as well"
sleep 1
[ "$(count)" = 1 ] || fail "something went to grace or carol while their lookup was inconclusive"
out=$("$POSTSEAL" -C "$T/conf" -bp)
grep -q 'awaiting a key lookup' <<<"$out" && grep -q grace@example.com <<<"$out" || fail "mailq: $out"
ok "DNS down: the copy for alice (local key) goes at once, grace and carol wait in one private queue entry (exit 0, -v line each, mailq says why)"

# --- this host's own domains are not looked up on the network -------------------------
H=$(hostname)
printf 'From: sender@example.com\nTo: root@%s\nSubject: local\n\nlocal body\n' "$H" |
	"$POSTSEAL" -C "$T/conf" -v -i -f sender@example.com "root@$H" > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || fail "root@$H: exit $rc: $(cat "$T/err")"
grep -q "root@$H: no usable key; sent in plaintext" "$T/err" ||
	fail "root@$H (this host) waited for the network: $(cat "$T/err")"
[ "$(queued)" = 1 ] || fail "root@$H was queued"
ok "mail to this host's own name is not looked up on the network: handed off at once with DNS down"

# --- -bs: 250 for a message accepted this way -----------------------------------------
printf 'EHLO x\r\nMAIL FROM:<sender@example.com>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\nSubject: bs\r\n\r\nbs body\r\n.\r\nQUIT\r\n' |
	"$POSTSEAL" -C "$T/conf" -bs > "$T/bs" 2> "$T/bserr"
grep -q '^250 .*' <(sed -n '/^354/,$p' "$T/bs" | sed -n 2p) || fail "-bs: the message was not accepted with 250: $(cat "$T/bs" "$T/bserr")"
[ "$(queued)" = 2 ] || fail "-bs: $(queued) entries, want 2"
ok "-bs answers 250 for a message whose recipient waits for a lookup"

# --- DNS back: the runner decides and sends --------------------------------------
conf "$PORT"
"$POSTSEAL" -C "$T/conf" -q || fail "-q: exit $?"
pf_wait_delivered "$PF" 4 || fail "the waiting copies did not arrive ($(count))"
[ "$(queued)" = 0 ] || fail "$(queued) entries left after DNS came back: $("$POSTSEAL" -C "$T/conf" -bp)"
G=$(newest grace@example.com)
header_of "$G" | grep -q '^Content-Type: multipart/encrypted;' || fail "grace's copy is not encrypted"
gpg_decrypt "$G" | tr -d '\r' | grep -qx 'The deferred body one.' || fail "grace's copy does not decrypt"
pf_mailbox "$PF" carol@example.net | xargs -r grep -l 'The deferred body one' > "$T/carol" || true
[ -s "$T/carol" ] ||
	fail "carol's copy (proven no key) is not the plaintext message"
ok "once DNS answers, the runner sends grace's copy encrypted (DANE) and carol's in plaintext (secure NXDOMAIN)"

# --- past unknown-max-age: a DSN, never plaintext ---------------------------------
conf "$DEAD" "unknown-max-age = 2s"
before=$(count)
printf 'From: erin@example.com\nTo: dora@example.net\nSubject: too old\n\nold body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f erin@example.com dora@example.net 2> "$T/err" || fail "old: exit $?"
[ "$(queued)" = 1 ] || fail "old: not queued"
sleep 3
"$POSTSEAL" -C "$T/conf" -q || fail "-q (old): exit $?"
pf_wait_delivered "$PF" $((before + 1)) || fail "no DSN arrived"
B=$(newest erin@example.com)
grep -q '^Subject: Undelivered Mail Returned to Sender' "$B" || fail "DSN: $(cat "$B")"
grep -q '^Final-Recipient: rfc822; dora@example.net' "$B" || fail "DSN names no recipient: $(cat "$B")"
grep -q 'inconclusive' "$B" || fail "DSN gives no reason: $(cat "$B")"
grep -q 'old body' "$B" && fail "the DSN carries the body"
[ "$(queued)" = 0 ] || fail "the old entry is still queued"
sleep 1
[ "$(count)" = $((before + 1)) ] || fail "something besides the DSN was delivered"
ok "past unknown-max-age the sender gets a DSN naming the recipient and the reason; nothing goes in plaintext"

# --- delay-warning -----------------------------------------------------------------
conf "$DEAD" "delay-warning = 1s"
before=$(count)
printf 'From: erin@example.com\nTo: erik@example.net\nSubject: slow\n\nslow body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f erin@example.com erik@example.net 2> "$T/err" || fail "slow: exit $?"
sleep 2
"$POSTSEAL" -C "$T/conf" -q || fail "-q (slow): exit $?"
pf_wait_delivered "$PF" $((before + 1)) || fail "no delay warning arrived"
W=$(newest erin@example.com)
grep -q '^Subject: Delayed Mail' "$W" || fail "delay warning: $(cat "$W")"
grep -q '^Action: delayed' "$W" || fail "delay warning: no Action: delayed"
[ "$(queued)" = 1 ] || fail "the warned entry left the queue"
"$POSTSEAL" -C "$T/conf" -q || fail "-q (slow, again): exit $?"
sleep 1
[ "$(count)" = $((before + 1)) ] || fail "the delay warning was sent twice"
ok "delay-warning: the sender is told once that the message waits; it stays queued"

# --- kill -9 at every stage of a deferral and of its retry: nothing lost --------------
# alice (local key) goes at once, frank waits for his lookup. A crash
# before the entry is in q/ leaves nothing sent and nothing queued (the
# client sees the failure and resends); after it, frank's entry is whole
# (a resend gives a duplicate at worst, never a loss).
conf "$DEAD"
rm -rf "$Q"
for stage in intake queue-write queue-rename defer encrypt handoff; do
	rm -rf "$Q"
	before=$(count)
	printf 'From: sender@example.com\nTo: alice@example.org, frank@example.net\nSubject: crash %s\n\ncrash body %s\n' "$stage" "$stage" |
		{ ( POSTSEAL_CRASH_AT=$stage exec "$POSTSEAL" -C "$T/conf" -i -f sender@example.com alice@example.org frank@example.net ); } 2>/dev/null
	rc=$?
	[ "$rc" = 137 ] || fail "$stage: exit $rc, want 137 (killed)"
	sleep 0.5
	case $stage in
	intake|queue-write)
		[ "$(queued)" = 0 ] || fail "$stage: an entry reached q/"
		[ "$(count)" = "$before" ] || fail "$stage: something was sent" ;;
	queue-rename|defer|encrypt)
		[ "$(queued)" = 1 ] || fail "$stage: frank's entry is not whole in q/"
		[ "$(count)" = "$before" ] || fail "$stage: something was sent" ;;
	handoff)
		[ "$(queued)" = 1 ] || fail "$stage: frank's entry is not whole in q/"
		pf_wait_delivered "$PF" $((before + 1)) || fail "$stage: alice's copy did not arrive" ;;
	esac
	if [ "$stage" = queue-write ]; then
		[ -n "$(ls -A "$Q/tmp")" ] || fail "queue-write: no half-written file in tmp/"
		"$POSTSEAL" -C "$T/conf" -q || fail "queue-write: -q exit $?"
		[ -z "$(ls -A "$Q/tmp")" ] || fail "queue-write: the runner left the dead submission's file in tmp/"
	fi
done
# the runner killed right after its second look (DNS back): the entry
# stays, and the next run sends it again (a duplicate, never a loss)
conf "$PORT"
before=$(count)
{ ( POSTSEAL_CRASH_AT=lookup-retry exec "$POSTSEAL" -C "$T/conf" -q ); } 2>/dev/null
rc=$?
[ "$rc" = 137 ] || fail "lookup-retry: exit $rc, want 137"
[ "$(queued)" = 1 ] || fail "lookup-retry: the entry did not stay"
"$POSTSEAL" -C "$T/conf" -q || fail "lookup-retry: -q exit $?"
[ "$(queued)" = 0 ] || fail "lookup-retry: the entry is still queued"
pf_mailbox "$PF" frank@example.net | xargs -r grep -l 'crash body handoff' > "$T/frank" || true
[ -s "$T/frank" ] || fail "lookup-retry: frank's message was lost"
ok "kill -9 at every stage of a deferral (intake, queue write and rename, after queueing, encryption, handoff) and of the runner's second look: nothing lost, nothing sent before its time"
