#!/bin/bash
# A real MTA's sendmail that hangs (and leaves a child hanging with it)
# must not hang postseal: after [transport] timeout its whole process
# group is stopped, the copy is queued (exit 0, nothing lost), and the
# queue delivers it once the MTA works again. The MTA's stdout never
# reaches postseal's stdout (the SMTP dialogue under -bs).
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice bob
ps_postfix
Q=$XDG_STATE_HOME/postseal/queue
# a sleep no other test run (the mutation harness runs two at once) has
NAP=300.$$
cat > "$T/mta" <<EOF2
#!/bin/sh
echo "mta says hello on stdout"
if [ -e $T/refuse-bob ]; then
	for a in "\$@"; do [ "\$a" = bob@example.net ] && exit 67; done
fi
echo "run \$*" >> $T/mta.log
if [ -e $T/hang ]; then
	sleep $NAP &
	echo \$! > $T/child.pid
	sleep $NAP
fi
exec $SENDMAIL "\$@"
EOF2
chmod 755 "$T/mta"
ps_conf "$T/mta"
sed -i 's/^mode = sendmail$/mode = sendmail\ntimeout = 2s/' "$T/conf"
queued() { find "$Q/q" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }

printf 'From: sender@example.com\nTo: alice@example.org\nSubject: hang\n\nThe body.\n' > "$T/msg"
touch "$T/hang"
start=$EPOCHREALTIME
"$POSTSEAL" -C "$T/conf" -v -i -f sender@example.com alice@example.org < "$T/msg" > "$T/out" 2> "$T/err"
rc=$?
took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", (b - a) * 1000}')
[ "$rc" = 0 ] || fail "hanging MTA: exit $rc, want 0 (queued): $(cat "$T/err")"
[ "$took" -lt 6000 ] || fail "hanging MTA: postseal took $took ms with timeout = 2s"
grep -q 'did not finish within 2s' "$T/err" || fail "hanging MTA: no reason given: $(cat "$T/err")"
grep -q 'queued as' "$T/err" || fail "hanging MTA: -v says nothing about the queue: $(cat "$T/err")"
[ "$(queued)" = 1 ] || fail "hanging MTA: $(queued) queued copies, want 1"
[ -s "$T/out" ] && fail "the MTA's stdout reached postseal's stdout: $(cat "$T/out")"
sleep 0.5
if [ -s "$T/child.pid" ] && ps -o stat= -p "$(cat "$T/child.pid")" 2>/dev/null | grep -qv Z; then
	kill "$(cat "$T/child.pid")"
	fail "the MTA's child process was left running"
fi
pgrep -f "sleep $NAP" >/dev/null && { pkill -f "sleep $NAP"; fail "a sleep of the MTA survived"; }
ok "a hanging MTA is stopped with its children after [transport] timeout and the copy queued (exit 0, $took ms)"

rm -f "$T/hang"
"$POSTSEAL" -C "$T/conf" -q || fail "-q: exit $?"
pf_wait_delivered "$PF" 1 || fail "the queued copy did not arrive"
[ "$(queued)" = 0 ] || fail "$(queued) copies still queued"
A=$(pf_mailbox "$PF" alice@example.org)
gpg_decrypt "$A" | tr -d '\r' | grep -qx 'The body.' || fail "the delivered copy does not decrypt"
ok "once the MTA works again the queued copy is delivered, encrypted"

# --- a copy refused for good stops the rest; the error names what went ----------
# copies in order: alice's (To, key), bob's own (Bcc, key), carol's plaintext
touch "$T/refuse-bob"
: > "$T/mta.log"
before=$(pf_count_delivered "$PF")
printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\nBcc: bob@example.net\nSubject: refused\n\nThe body.\n' |
	"$POSTSEAL" -C "$T/conf" -v -t -i -f sender@example.com > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 67 ] || fail "refused copy: exit $rc, want 67 (the MTA's): $(cat "$T/err")"
grep -q 'already handed off: alice@example.org; not sent: .*carol@example.com' "$T/err" ||
	fail "refused copy: the error does not name what was handed off and what not: $(cat "$T/err")"
grep -q 'carol@example.com' "$T/mta.log" && fail "the copy after the refused one was handed off"
[ "$(queued)" = 0 ] || fail "refused copy: something was queued"
grep -q 'carol@example.com: no usable key; sent in plaintext' "$T/err" &&
	fail "-v/syslog says carol's copy was sent: $(cat "$T/err")"
ok "a copy refused for good (exit 67) stops the copies after it; the error names the recipients handed off and those not sent"
