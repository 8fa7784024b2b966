#!/bin/bash
# Bad input gets one clear line and the right sysexits code, and nothing
# reaches the MTA: bad addresses, an unparsable header, NUL bytes, broken
# configuration, an MTA that fails (75, 69), usage errors.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

# input FORMAT [ARGS]: the next message (printf); expect reads it. No
# check runs in a pipeline: a failure there would end a subshell only
input() { printf -- "$@" > "$T/in"; }
# expect CODE PATTERN [postseal args...]: run postseal on the input
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$POSTSEAL" "$@" < "$T/in" > "$T/out" 2> "$T/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "postseal $*: exit $rc, want $want ($(cat "$T/err"))"
	[ -z "$pat" ] || grep -q -- "$pat" "$T/err" || fail "postseal $*: stderr lacks '$pat': $(cat "$T/err")"
	[ "$(grep -c . "$T/err")" -le 2 ] || fail "postseal $*: too chatty: $(cat "$T/err")"
}
good='From: s@example.com\nTo: alice@example.org\nSubject: hi\n\nbody\n'

# a recipient that is not an address goes back to the sender (a notice,
# below); with no sender to return it to (the null sender), the message
# is refused as a whole with the reason
input "$good"; expect 65 'no sender to return it to' -C "$T/conf" -i -f '<>' 'alice@exa mple.org'
input "$good"; expect 65 'bad recipient address' -C "$T/conf" -i -f '<>' 'alice@example.org;reboot'
input "$good"; expect 65 "begins with '-'" -C "$T/conf" -i -f '<>' -- '-oQ/tmp/x@example.org'
input "$good"; expect 65 'bad sender' -C "$T/conf" -i -f 'me@@example.com' alice@example.org
# control characters of the input never reach the terminal: shown as '?'
input "$good"; expect 65 'bad recipient address "ev?\[2Jil@' -C "$T/conf" -i -f '<>' "$(printf 'ev\033[2Jil@example.org')"
grep -q "$(printf '\033')" "$T/err" && fail "an escape character reached stderr: $(od -c "$T/err" | head -n3)"
# a bad sender's reason is written as it is: only the log's own care
# stands between it and the terminal
input "$good"; expect 65 'bad sender address "ev?\[2Jil@@' -C "$T/conf" -i -f "$(printf 'ev\033[2Jil@@example.org')" alice@example.org
grep -q "$(printf '\033')" "$T/err" && fail "an escape character of -f reached stderr: $(od -c "$T/err" | head -n3)"
ok "bad addresses with the null sender: exit 65 (EX_DATAERR) with the reason, control characters shown as '?'"

input 'From: s@example.com\nTo: alice@example.org, <<<\nSubject: x\n\nb\n'
expect 65 'To' -C "$T/conf" -t -i -f '<>'
ok "unparsable recipient field with -t and the null sender: exit 65"

input 'From: s@example.com\nSubject: a\0b\n\nbody\n'
expect 65 'NUL byte in the header' -C "$T/conf" -i alice@example.org
input 'From: s@example.com\nSubject: a\n\nbo\0dy\n'
expect 65 'NUL byte in the message body' -C "$T/conf" -i alice@example.org
head -c 300000 /dev/zero | tr '\0' a | sed 's/^/X-Big: /' > "$T/in"
expect 65 'header' -C "$T/conf" -i alice@example.org
ok "NUL bytes and a huge header: exit 65"

input "$good"; expect 64 'no recipients' -C "$T/conf" -i
# a full name with a line break would inject header fields
input "$good"; expect 64 'line break' -C "$T/conf" -i -F "$(printf 'Eve\nBcc: spy@example.net')" alice@example.org
input "$good"; expect 64 'line break' -C "$T/conf" -i -F "$(printf 'Eve\rX: y')" alice@example.org
input 'Subject: x\n\nb\n'; expect 64 'no recipient addresses' -C "$T/conf" -t -i
input ''
expect 64 'unknown option -z' -z
expect 64 'requires an argument' -f
ok "usage errors: exit 64"

# nothing of the above may have reached the MTA
sleep 0.5
postqueue -c "$PF/etc" -f >/dev/null 2>&1
sleep 0.5
[ "$(pf_count_delivered "$PF")" = 0 ] || fail "a refused message was delivered"
[ -z "$(find "$PF/spool/maildrop" "$PF/spool/incoming" "$PF/spool/active" -type f 2>/dev/null)" ] ||
	fail "a refused message is in Postfix's queue"
ok "nothing reached Postfix"

# --- recipients no policy can be decided for (issue #14) ------------------------
# As Postfix's sendmail, postseal takes the message: the others get their
# copies, and each argument or -t field that is not an address goes back
# to the sender in a delivery status notification, after the copies went
# out (the reason; no header field but Message-ID and Date, not the body:
# the notice is plaintext, the copies may not be); it never reaches the
# MTA as a recipient. Exit 0.
secret='From: bob@example.com\nTo: carol@example.org\nBcc: heidi@example.org\nSubject: merger secret-subject\n\nbody canary-u1\n'
input "$secret"; expect 0 'returned to the sender (bob@example.com)' -C "$T/conf" -i -f bob@example.com \
	'alice@exa mple.org' carol@example.org
input "$secret"; expect 0 "begins with '-'" -C "$T/conf" -i -f bob@example.com -- '-oQ/tmp/x@example.org'
input "$secret"; expect 0 'bad recipient address "ev?\[2Jil@' -C "$T/conf" -i -f bob@example.com \
	"$(printf 'ev\033[2Jil@example.org\nBcc: spy@example.net')"
input 'From: bob@example.com\nTo: alice@example.org@evil.example\nCc: dave@example.org\nSubject: t\n\nbody canary-u2\n'
expect 0 'returned to the sender' -C "$T/conf" -t -i -f bob@example.com
# a blind field that does not parse: the notice and stderr do not name
# whom it hides
input 'From: bob@example.com\nTo: erin@example.org\nBcc: blind-one@example.net, <<< blind-list\nSubject: t\n\nbody canary-u3\n'
expect 0 'Bcc: a field that cannot be read' -C "$T/conf" -t -i -f bob@example.com
grep -q 'blind-' "$T/err" && fail "stderr names the blind recipients: $(cat "$T/err")"
pf_wait_delivered "$PF" 8 || fail "want 8 messages delivered: 5 notices to bob, carol's, dave's and erin's copies"
sleep 0.5
[ "$(pf_count_delivered "$PF")" = 8 ] || fail "$(pf_count_delivered "$PF") messages delivered, want 8"
[ "$(pf_mailbox "$PF" carol@example.org | wc -l)" = 1 ] || fail "carol did not get her copy"
[ "$(pf_mailbox "$PF" dave@example.org | wc -l)" = 1 ] || fail "dave (Cc, -t) did not get his copy"
[ "$(pf_mailbox "$PF" erin@example.org | wc -l)" = 1 ] || fail "erin (To, -t, next to a bad Bcc) did not get her copy"
n=0
for f in $(pf_mailbox "$PF" bob@example.com); do
	n=$((n + 1))
	grep -q '^From: Mail Delivery System <MAILER-DAEMON@' "$f" || fail "notice $n is not from MAILER-DAEMON: $(head -n 5 "$f")"
	grep -q '^Return-Path: <>' "$f" || fail "notice $n is not from the null sender"
	grep -q '^Content-Type: message/delivery-status' "$f" || fail "notice $n has no delivery-status part"
	grep -q '^Status: 5\.1\.3' "$f" || fail "notice $n: no Status 5.1.3"
	grep -q 'canary-u' "$f" && fail "notice $n carries the message body"
	grep -q 'secret-subject' "$f" && fail "notice $n carries the Subject (the copies may hide it)"
	grep -q 'heidi\|blind-' "$f" && fail "notice $n names a blind recipient"
	grep -q "$(printf '\033')" "$f" && fail "notice $n carries an escape character"
	grep -q '^Bcc: spy' "$f" && fail "notice $n: a line break of an argument made a header line"
done
[ "$n" = 5 ] || fail "bob got $n notices, want 5"
grep -l 'alice@example.org@evil.example' $(pf_mailbox "$PF" bob@example.com) >/dev/null ||
	fail "no notice names the unparsable To field"
# the undecided recipients reached no mailbox (example.org's and
# example.net's catch-alls, evil.example bounces)
[ -z "$(find "$PF/mail" -path '*/catchall/new/*' -type f)" ] || fail "a message reached a catch-all mailbox"
# a later refusal keeps the notice back too: nothing at all is sent, and
# no notice tells of copies that did not go (nokey@ must be encrypted and
# has no key: 69)
printf '[address nokey@example.org]\nencrypt = require\n' | cat "$T/conf" - > "$T/req.conf"
chmod 600 "$T/req.conf"
input "$secret"; expect 69 'not sent' -C "$T/req.conf" -i -f bob@example.com 'alice@exa mple.org' nokey@example.org
sleep 0.5
postqueue -c "$PF/etc" -f >/dev/null 2>&1
sleep 0.5
[ "$(pf_count_delivered "$PF")" = 8 ] || fail "a refused message still sent something: $(pf_count_delivered "$PF") delivered, want 8"
ok "undecided recipients: exit 0, the others got their copies, 5 notices to the sender without the body, Subject or blind recipients; none when the message is refused"

# --- configuration ----------------------------------------------------------
printf '[transport]\nmode = sendmail\nsendmail = %s\nbogus = 1\n' "$SENDMAIL" > "$T/bad.conf"
chmod 600 "$T/bad.conf"
input "$good"; expect 78 "bad.conf:4: unknown key" -C "$T/bad.conf" -i alice@example.org
printf '[transport]\nmode = pigeon\n' > "$T/bad.conf"
input "$good"; expect 78 "bad.conf:2: bad value" -C "$T/bad.conf" -i alice@example.org
ps_conf "$SENDMAIL" "$T/open.conf"
chmod 666 "$T/open.conf"
input "$good"; expect 78 'writable' -C "$T/open.conf" -i alice@example.org
input "$good"; expect 78 'No such file' -C "$T/missing.conf" -i alice@example.org
ps_conf /nonexistent/sendmail "$T/nomta.conf"
input "$good"; expect 78 'nomta.conf:4' -C "$T/nomta.conf" -i alice@example.org
ps_conf "$POSTSEAL" "$T/loop.conf"
input "$good"; expect 78 'postseal itself' -C "$T/loop.conf" -i alice@example.org
ok "configuration errors: exit 78 with file:line"

# --- an MTA that fails --------------------------------------------------------
# Stand-ins for an MTA's sendmail that exit with a given sysexits code
# after reading the message (the failure mode is what is tested here).
for code in 75 69 1; do
	printf '#!/bin/sh\ncat >/dev/null\nexit %s\n' "$code" > "$T/mta$code"
	chmod 755 "$T/mta$code"
	ps_conf "$T/mta$code" "$T/mta$code.conf"
done
Q=$XDG_STATE_HOME/postseal/queue
queued() { find "$Q/q" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
input "$good"; expect 0 '' -C "$T/mta75.conf" -i alice@example.org
[ "$(queued)" = 1 ] || fail "MTA 75: the copy was not queued"
input "$good"; expect 69 'exited with status 69' -C "$T/mta69.conf" -i alice@example.org
[ "$(queued)" = 1 ] || fail "MTA 69: something was queued"
rm -rf "$Q"
# a status that is no sysexits code says nothing of the message: 75 (queued), never success
input "$good"; expect 0 '' -C "$T/mta1.conf" -i alice@example.org
[ "$(queued)" = 1 ] || fail "MTA 1: the copy was not queued"
rm -rf "$Q"
ok "an MTA's temporary failure (75, or a status that is no sysexits code) queues the copy (exit 0, as Postfix's sendmail accepts); a permanent one (69) is passed on"
# the notice returning a recipient that is not an address, when the MTA
# cannot take it now: queued (exit 0), from <> to the sender
input "$good"; expect 0 'returned to the sender' -C "$T/mta75.conf" -i -f bob@example.com 'x@exa mple.org'
[ "$(queued)" = 1 ] || fail "MTA 75: the notice was not queued"
grep -qx 'rcpt bob@example.com' "$Q"/q/[0-9]* || fail "the queued notice is not for bob: $(grep -h '^rcpt' "$Q"/q/[0-9]*)"
rm -rf "$Q"
ok "a notice the MTA cannot take now is queued (exit 0)"

# a later copy failing names what was already handed off
cat > "$T/mta-picky" <<EOF2
#!/bin/sh
for a in "\$@"; do [ "\$a" = carol@example.com ] && { cat >/dev/null; exit 75; }; done
cat > "$T/picky-\$\$.msg"
echo "\$@" >> "$T/picky.log"
EOF2
chmod 755 "$T/mta-picky"
ps_conf "$T/mta-picky" "$T/picky.conf"
input 'From: s@example.com\nTo: alice@example.org, carol@example.com\nSubject: x\n\nb\n'
expect 0 '' -C "$T/picky.conf" -t -i
grep -q -- '-i -- alice@example.org' "$T/picky.log" || fail "alice's copy was not handed off first"
grep -qx 'rcpt carol@example.com' "$Q"/q/[0-9]* || fail "carol's copy was not queued"
rm -rf "$Q"
ok "a copy the MTA cannot take now is queued (exit 0); the copy before it was handed off"

# the real sendmail is exec'd with -i -f sender -- rcpts, never -t
printf "$good" | "$POSTSEAL" -C "$T/picky.conf" -i -f 'me@example.com' -F 'Me Myself' \
	-- alice@example.org 2>/dev/null || fail "picky MTA refused alice"
tail -n1 "$T/picky.log" | grep -qx -- '-i -f me@example.com -F Me Myself -- alice@example.org' ||
	fail "MTA argv was: $(tail -n1 "$T/picky.log")"
ok "the MTA gets -i -f sender -- recipients"

# --- blind recipients never travel in a copy ---------------------------------------
cat > "$T/cap" <<EOF2
#!/bin/sh
cat > "$T/cap-\$\$.msg"
EOF2
chmod 755 "$T/cap"
ps_conf "$T/cap" "$T/cap.conf"
input 'From: s@example.com\nTo: alice@example.org\nBcc: carol@example.com\nSubject: b\n\nbody\n'
expect 0 '' -C "$T/cap.conf" -t -i
input 'From: s@example.com\nTo: bob@example.net\nResent-From: r@example.com\nResent-To: alice@example.org\nResent-Bcc: carol@example.com\nSubject: rb\n\nbody\n'
expect 0 '' -C "$T/cap.conf" -t -i
n=$(ls "$T"/cap-*.msg | wc -l)
[ "$n" -ge 4 ] || fail "blind: $n copies captured, want at least 4"
for f in "$T"/cap-*.msg; do
	grep -qi '^Bcc:\|^Resent-Bcc:' "$f" && fail "a handed-off copy carries a Bcc field: $f"
done
grep -l 'carol@example.com' "$T"/cap-*.msg > "$T/carol-seen" || true
[ -s "$T/carol-seen" ] && fail "the blind recipient is named in a copy: $(cat "$T/carol-seen")"
ok "Bcc and Resent-Bcc are removed from every copy handed off, and the blind recipient is named in none"

# Date and Message-ID are added when missing, once
rm -f "$T"/cap-*.msg
input 'From: s@example.com\nTo: carol@example.com\nSubject: nd\n\nbody\n'
expect 0 '' -C "$T/cap.conf" -i carol@example.com
f=$(ls "$T"/cap-*.msg)
[ "$(sed '/^$/q' "$f" | grep -c '^Date: ')" = 1 ] || fail "no Date added (or two): $(cat "$f")"
[ "$(sed '/^$/q' "$f" | grep -c '^Message-ID: <[^@ ]*@[^@ ]*>$')" = 1 ] || fail "no Message-ID added (or two): $(cat "$f")"
ok "a message without Date and Message-ID gets one of each"
