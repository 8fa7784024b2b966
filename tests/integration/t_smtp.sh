#!/bin/bash
# The SMTP relay handoff (mode = smtp) against real servers on loopback:
# aiosmtpd with STARTTLS and a throwaway CA, Postfix's smtp-sink (no
# STARTTLS), a STARTTLS-stripping proxy. Verified TLS for copies that need
# it, opportunistic TLS for the rest, per-recipient 450/550, AUTH PLAIN
# with password-command, queueing when the relay is down, kill -9 during
# DATA.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/smtp.sh" || exit 99

ps_setup alice
SM=$T/sm
CA=$(sm_ca "$SM") || { rc=$?; [ "$rc" = 77 ] && skip "no aiosmtpd/openssl here"; fail "no CA"; }
PORT=$(sm_start "$SM" tls=good auth=optional user=alice password='s3cret pass' requiretls=1) ||
	{ rc=$?; [ "$rc" = 77 ] && skip "no aiosmtpd here"; fail "smtpd did not start"; }
printf 's3cret pass\n' > "$T/pw"; chmod 600 "$T/pw"

# sconf PORT [EXTRA [TRANSPORT-EXTRA]]: mode = smtp to 127.0.0.1:PORT as
# smtp.example.test; carol's domain needs verified TLS for plaintext
sconf() {
	cat > "$T/conf" <<EOF2
[transport]
mode = smtp
host = smtp.example.test
port = $1
ca-file = $CA
${3:-}
[default]
sources = local
${2:-}
[domain example.com]
no-key = tls-required
EOF2
	chmod 600 "$T/conf"
}
msg() { printf 'From: sender@example.com\nTo: %s\nSubject: smtp test\n\nline one\n.dot line\nline three\n' "$1" > "$T/msg"; }
send() { "$POSTSEAL" -C "$T/conf" -v -i -f sender@example.com "$@" < "$T/msg" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
rc() { cat "$T/rc"; }
queued() { find "$XDG_STATE_HOME/postseal/queue/q" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
# the relay is named "localhost", which the test certificate carries too
# (as well as smtp.example.test, which nothing here resolves)
sed_host() { sed -i 's/^host = smtp.example.test$/host = localhost/' "$T/conf"; }

# --- a plaintext copy that needs TLS, and an encrypted one -------------------
sconf "$PORT"; sed_host
msg "alice@example.org, carol@example.com"
send alice@example.org carol@example.com
[ "$(rc)" = 0 ] || fail "exit $(rc): $(cat "$T/err")"
sm_wait_count "$SM" 2 10 || fail "the two copies did not arrive: $(sm_log_tail "$SM" 2>&1)"
for n in 1 2; do
	[ "$(sm_env_get "$SM" $n tls)" = true ] || fail "copy $n was not sent over TLS"
	[ "$(sm_env_get "$SM" $n mail_from)" = sender@example.com ] || fail "copy $n: MAIL FROM"
done
enc=$(grep -l 'multipart/encrypted' "$SM"/mail/*.eml)
plain=$(grep -L 'multipart/encrypted' "$SM"/mail/*.eml)
armored "$enc" | gpg --homedir "$T/d" --batch -q --decrypt 2>/dev/null | tr -d '\r' | grep -qx '.dot line' ||
	fail "the encrypted copy does not decrypt to the body (dot-stuffing?)"
grep -q $'^\\.dot line\r$' "$plain" || fail "the plaintext copy: CRLF or dot-stuffing wrong: $(od -c "$plain" | head)"
grep -q $'[^\r]$' "$plain" && fail "a bare LF reached the wire"
# the plaintext copy needs TLS on every hop: REQUIRETLS, as offered
pn=$(basename "$plain" .eml)
[ "$(sm_env_get "$SM" "$pn" requiretls)" = true ] || fail "the tls-required copy was sent without REQUIRETLS: $(sm_env "$SM" "$pn")"
en=$(basename "$enc" .eml)
[ "$(sm_env_get "$SM" "$en" requiretls)" = true ] && fail "the encrypted copy needs no REQUIRETLS"
grep -q 'sent over verified TLS with REQUIRETLS' "$T/err" || fail "no REQUIRETLS note: $(cat "$T/err")"
ok "mode = smtp: both copies over verified STARTTLS, CRLF and dot-stuffing right; the copy that needs TLS on every hop goes with REQUIRETLS"

# the same copy with AUTH, through the strict client
sconf "$PORT" "" "auth = plain
user = alice
password-command = /bin/cat $T/pw"; sed_host
msg carol@example.com
n=$(sm_count "$SM")
send carol@example.com
[ "$(rc)" = 0 ] || fail "AUTH (strict): exit $(rc): $(cat "$T/err")"
sm_wait_count "$SM" $((n + 1)) 10 || fail "AUTH (strict): no message"
[ "$(sm_env_get "$SM" $((n + 1)) auth_user)" = alice ] || fail "AUTH (strict): not authenticated"
[ "$(sm_env_get "$SM" $((n + 1)) requiretls)" = true ] || fail "AUTH (strict): no REQUIRETLS"
ok "AUTH PLAIN also on the REQUIRETLS path"

# --- AUTH PLAIN with password-command ---------------------------------------------
sconf "$PORT" "" "auth = plain
user = alice
password-command = /bin/cat $T/pw"; sed_host
msg alice@example.org
send alice@example.org
[ "$(rc)" = 0 ] || fail "AUTH: exit $(rc): $(cat "$T/err")"
n=$(sm_count "$SM")
sm_wait_count "$SM" "$n" 10 || fail "AUTH: no message"
[ "$(sm_env_get "$SM" "$n" auth_user)" = alice ] || fail "AUTH: authenticated as '$(sm_env_get "$SM" "$n" auth_user)'"
grep -q 's3cret' "$SM/smtpd.log" "$T/err" && fail "the password appears in a log"
printf 'wrong\n' > "$T/pw"
send alice@example.org
[ "$(rc)" = 0 ] || fail "bad password: exit $(rc), want 0 (queued): $(cat "$T/err")"
grep -q 'refused the login of alice' "$T/err" || fail "bad password: $(cat "$T/err")"
[ "$(queued)" = 1 ] || fail "bad password: not queued"
rm -rf "$XDG_STATE_HOME/postseal/queue"
printf 's3cret pass\n' > "$T/pw"
ok "AUTH PLAIN with the password from password-command; a refused login queues the copy"

# --- per-recipient 450 and 550 ---------------------------------------------------------
sconf "$PORT"; sed_host
sm_rule "$SM" later@example.net 450 4.2.0 try later
sm_rule "$SM" bad@example.net 550 5.1.1 no such user
msg "erin@example.net, later@example.net, bad@example.net"
n=$(sm_count "$SM")
send erin@example.net later@example.net bad@example.net
[ "$(rc)" = 69 ] || fail "450/550: exit $(rc), want 69: $(cat "$T/err")"
grep -q 'bad@example.net: refused by localhost' "$T/err" || fail "550 not reported: $(cat "$T/err")"
sm_wait_count "$SM" $((n + 1)) 10 || fail "erin's copy did not arrive"
[ "$(sm_env_get "$SM" $((n + 1)) rcpt_tos)" = erin@example.net ] || fail "recipients: $(sm_env_get "$SM" $((n + 1)) rcpt_tos)"
[ "$(queued)" = 1 ] || fail "the 450 recipient was not queued"
grep -q '^rcpt later@example.net$' "$XDG_STATE_HOME"/postseal/queue/q/* || fail "the queued copy is not later's"
grep -q '^rcpt bad@example.net$' "$XDG_STATE_HOME"/postseal/queue/q/* && fail "the 550 recipient was queued"
: > "$SM/rules"
"$POSTSEAL" -C "$T/conf" -q || fail "-q: exit $?"
sm_wait_count "$SM" $((n + 2)) 10 || fail "later's copy did not arrive after -q"
[ "$(queued)" = 0 ] || fail "queue not empty"
ok "per recipient: 550 reported (exit 69), 450 queued and delivered by -q, the others sent at once"

# --- a recipient that is not an address, without -f --------------------------------
# the notice goes where the relay would send a bounce: the envelope sender
# postseal gives the message in this mode, its From address (not the
# login name, which the relay would qualify with a domain of its own)
sconf "$PORT"; sed_host
msg "erin@example.net"
n=$(sm_count "$SM")
"$POSTSEAL" -C "$T/conf" -i erin@example.net 'x@exa mple.org' < "$T/msg" > "$T/out" 2> "$T/err"
echo $? > "$T/rc"
[ "$(rc)" = 0 ] || fail "bad recipient in smtp mode: exit $(rc): $(cat "$T/err")"
sm_wait_count "$SM" $((n + 2)) 10 || fail "erin's copy and the notice did not arrive"
got=""
for k in $((n + 1)) $((n + 2)); do
	got="$got $(sm_env_get "$SM" $k mail_from)>$(sm_env_get "$SM" $k rcpt_tos)"
done
case $got in
*"<>>sender@example.com"*) ;;
*) fail "no notice from <> to the From address (sender@example.com): $got" ;;
esac
case $got in *"sender@example.com>erin@example.net"*) ;; *) fail "erin's copy: $got" ;; esac
ok "smtp mode without -f: the notice for a recipient that is not an address goes to the From address"

# the same on the strict (REQUIRETLS) path: carol's domain needs TLS
sm_rule "$SM" carol@example.com 550 5.1.1 no such user
n=$(sm_count "$SM")
msg carol@example.com
send carol@example.com
[ "$(rc)" = 69 ] || fail "strict 550: exit $(rc): $(cat "$T/err")"
grep -q 'carol@example.com: refused by localhost' "$T/err" || fail "strict 550: $(cat "$T/err")"
sleep 0.5
[ "$(sm_count "$SM")" = "$n" ] || fail "strict 550: something was stored"
: > "$SM/rules"
ok "a 550 on the REQUIRETLS path is reported (exit 69), nothing sent"

# --- a bad certificate ---------------------------------------------------------------
sm_stop "$SM"
PORT=$(sm_start "$SM" tls=bad) || fail "smtpd (bad cert) did not start"
sconf "$PORT"; sed_host
n=$(sm_count "$SM")
msg carol@example.com
send carol@example.com
[ "$(rc)" = 0 ] || fail "bad cert, tls-required: exit $(rc), want 0 (queued): $(cat "$T/err")"
grep -q 'TLS with localhost failed' "$T/err" || fail "bad cert: $(cat "$T/err")"
sleep 0.5
[ "$(sm_count "$SM")" = "$n" ] || fail "a tls-required copy was sent over a bad certificate"
[ "$(queued)" = 1 ] || fail "bad cert: not queued"
rm -rf "$XDG_STATE_HOME/postseal/queue"
msg erin@example.net
send erin@example.net
[ "$(rc)" = 0 ] || fail "bad cert, opportunistic: exit $(rc): $(cat "$T/err")"
grep -q 'TLS certificate not verified.*sending over unverified TLS' "$T/err" || fail "no log line for the unverified TLS: $(cat "$T/err")"
sm_wait_count "$SM" $((n + 1)) 10 || fail "the opportunistic copy did not arrive"
[ "$(sm_env_get "$SM" $((n + 1)) tls)" = true ] || fail "the opportunistic copy went without TLS"
ok "a bad certificate: tls-required copy queued, nothing sent; opportunistic copy sent over the unverified TLS, logged"

# tls-verify = no: nothing is verified, so a copy that needs verified
# TLS is refused (postseal.conf(5)), never sent over the unverified TLS:
# at submission, and when a copy queued before the change is retried
with_body() { grep -l '^line three' "$SM"/mail/*.eml 2>/dev/null | wc -l; }
msg carol@example.com
send carol@example.com
[ "$(rc)" = 0 ] && [ "$(queued)" = 1 ] || fail "bad cert, tls-required: not queued (exit $(rc)): $(cat "$T/err")"
sconf "$PORT" "" "tls-verify = no"; sed_host
n=$(with_body)
send carol@example.com
[ "$(rc)" = 69 ] || fail "tls-verify = no, tls-required: exit $(rc), want 69: $(cat "$T/err")"
grep -q 'carol@example.com: refused: .*tls-verify = yes' "$T/err" || fail "tls-verify = no: $(cat "$T/err")"
"$POSTSEAL" -C "$T/conf" -q > "$T/out" 2> "$T/err"
sleep 0.5
[ "$(with_body)" = "$n" ] || fail "tls-verify = no: a tls-required copy was sent over unverified TLS"
# refused for good, not retried: returned to the sender with the reason
[ "$(queued)" = 0 ] || fail "tls-verify = no: the queued tls-required copy is still queued, not refused"
grep -l 'tls-verify = no' "$SM"/mail/*.eml > /dev/null 2>&1 ||
	fail "tls-verify = no: no DSN with the reason reached the sender"
rm -rf "$XDG_STATE_HOME/postseal/queue"
sconf "$PORT"; sed_host
ok "tls-verify = no: a copy that needs verified TLS is refused (69) or, queued before, returned to the sender; never sent"

# --- a bad certificate with AUTH configured: no password, nothing sent -------------------
# (whoever intercepts with a self-signed certificate must not get the
# relay password, whatever the copy's policy)
sm_stop "$SM"
PORT=$(sm_start "$SM" tls=bad auth=optional user=alice password='s3cret pass') ||
	fail "smtpd (bad cert, AUTH) did not start"
sconf "$PORT" "" "auth = plain
user = alice
password-command = /bin/cat $T/pw"; sed_host
rm -rf "$XDG_STATE_HOME/postseal/queue"
n=$(sm_count "$SM")
a0=$(cat "$SM"/*.log | grep -c ' C: AUTH')
msg erin@example.net
send erin@example.net
[ "$(rc)" = 0 ] || fail "bad cert + AUTH: exit $(rc), want 0 (queued): $(cat "$T/err")"
[ "$(cat "$SM"/*.log | grep -c ' C: AUTH')" = "$a0" ] ||
	fail "bad cert + AUTH: the password was sent: $(grep -h ' C: AUTH\|P: AUTH' "$SM"/*.log | tail -3)"
grep -q 'not verified.*password.*queued\|password.*only over verified TLS' "$T/err" ||
	fail "bad cert + AUTH: no clear line: $(cat "$T/err")"
sleep 0.5
[ "$(sm_count "$SM")" = "$n" ] || fail "bad cert + AUTH: the copy was sent"
[ "$(queued)" = 1 ] || fail "bad cert + AUTH: not queued"
rm -rf "$XDG_STATE_HOME/postseal/queue"
ok "a bad certificate with AUTH configured: no password and no message go out; the copy is queued, with a clear line"

# --- smtp-sink: no STARTTLS at all -------------------------------------------------------
SM2=$T/sink
SPORT=$(sm_sink_start "$SM2") || fail "smtp-sink did not start"
sconf "$SPORT"; sed_host
msg carol@example.com
send carol@example.com
[ "$(rc)" = 0 ] || fail "sink, tls-required: exit $(rc): $(cat "$T/err")"
grep -q 'does not offer STARTTLS, and this copy may only go over verified TLS; nothing sent' "$T/err" || fail "sink: $(cat "$T/err")"
[ "$(sm_sink_count "$SM2")" = 0 ] || fail "a tls-required copy reached smtp-sink in plaintext"
rm -rf "$XDG_STATE_HOME/postseal/queue"
msg erin@example.net
send erin@example.net
[ "$(rc)" = 0 ] || fail "sink, opportunistic: exit $(rc): $(cat "$T/err")"
for _ in $(seq 30); do [ "$(sm_sink_count "$SM2")" = 1 ] && break; sleep 0.1; done
[ "$(sm_sink_count "$SM2")" = 1 ] || fail "the opportunistic copy did not reach smtp-sink"
ok "a relay without STARTTLS: the tls-required copy is not sent (queued); an opportunistic one is"

# AUTH configured and a relay that offers AUTH but no STARTTLS: the
# password (and the copy) never go in the clear, whatever the copy's
# policy; the copy waits in the queue
SM3=$T/plainauth
NPORT=$(sm_start "$SM3" tls=none auth=optional user=alice password='s3cret pass') ||
	fail "smtpd (no TLS, AUTH) did not start"
rm -rf "$XDG_STATE_HOME/postseal/queue"
sconf "$NPORT" "" "auth = plain
user = alice
password-command = /bin/cat $T/pw"; sed_host
c0=$(sm_count "$SM3")
msg erin@example.net
send erin@example.net
[ "$(rc)" = 0 ] || fail "no STARTTLS + AUTH: exit $(rc), want 0 (queued): $(cat "$T/err")"
sleep 0.5
grep -q ' C: AUTH' "$SM3"/*.log && fail "no STARTTLS + AUTH: the password went in the clear: $(grep -h 'AUTH' "$SM3"/*.log | tail -3)"
[ "$(sm_count "$SM3")" = "$c0" ] || fail "no STARTTLS + AUTH: the copy went over a plain connection"
[ "$(queued)" = 1 ] || fail "no STARTTLS + AUTH: not queued"
rm -rf "$XDG_STATE_HOME/postseal/queue"
sm_stop "$SM3"
ok "AUTH configured and a relay without STARTTLS: no password and no copy go in the clear; the copy is queued"

# --- a STARTTLS-stripping proxy ------------------------------------------------------------
sm_stop "$SM"
PORT=$(sm_start "$SM" tls=good) || fail "smtpd did not restart"
XPORT=$(sm_strip_start "$SM" "$PORT") || fail "the stripping proxy did not start"
sconf "$XPORT"; sed_host
msg carol@example.com
send carol@example.com
[ "$(rc)" = 0 ] || fail "strip: exit $(rc): $(cat "$T/err")"
[ "$(sm_strip_count "$SM" message)" = 0 ] || fail "message data passed the stripping proxy in plaintext"
[ "$(sm_strip_count "$SM" mail)" = 0 ] || fail "MAIL was sent through the stripping proxy"
[ "$(queued)" = 1 ] || fail "strip: the copy was not queued"
ok "STARTTLS stripped on the way: nothing is sent in plaintext, the copy waits in the queue"

# --- relay down, then up -------------------------------------------------------------------
sconf "$PORT"; sed_host
n=$(sm_count "$SM")
"$POSTSEAL" -C "$T/conf" -v -q 2> "$T/err" || fail "-q: exit $?"
sm_wait_count "$SM" $((n + 1)) 10 || fail "the stripped copy was not delivered once the relay was reachable"
[ "$(sm_env_get "$SM" $((n + 1)) tls)" = true ] || fail "it went without TLS"
grep -q 'sent over verified TLS to the first hop; the relay does not offer REQUIRETLS' "$T/err" ||
	fail "no first-hop note for a relay without REQUIRETLS: $(cat "$T/err")"
sm_stop "$SM"
msg erin@example.net
send erin@example.net
[ "$(rc)" = 0 ] || fail "relay down: exit $(rc): $(cat "$T/err")"
[ "$(queued)" = 1 ] || fail "relay down: not queued"
# back up (on a new port: the old one may still be in TIME_WAIT; the
# queued copy's envelope does not name the relay, the site file does)
PORT=$(sm_start "$SM" tls=good) || fail "smtpd did not come back"
sconf "$PORT"; sed_host
n=$(sm_count "$SM")
"$POSTSEAL" -C "$T/conf" -q || fail "-q: exit $?"
sm_wait_count "$SM" $((n + 1)) 10 || fail "not delivered after the relay came back"
[ "$(queued)" = 0 ] || fail "queue not empty"
ok "relay down: queued (exit 0); delivered by -q once it is up again"

# --- kill -9 during DATA ----------------------------------------------------------------------
n=$(sm_count "$SM")
{ printf 'From: sender@example.com\nTo: erin@example.net\nSubject: big\n\n'; head -c 300000 /dev/urandom | base64; } > "$T/msg"
{ ( POSTSEAL_CRASH_AT=smtp-data exec "$POSTSEAL" -C "$T/conf" -i -f sender@example.com erin@example.net < "$T/msg" ); } 2>/dev/null
rc=$?
[ "$rc" = 137 ] || fail "kill during DATA: exit $rc"
sleep 1
[ "$(sm_count "$SM")" = "$n" ] || fail "a message cut during DATA was stored by the relay"
[ "$(queued)" = 0 ] || fail "kill during DATA: something was queued"
ok "kill -9 during SMTP DATA: the relay stores nothing, the client sees a failure"
