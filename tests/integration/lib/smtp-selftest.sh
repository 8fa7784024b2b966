#!/bin/bash
# shellcheck disable=SC2015  # "A && B || fail" is meant as written
# Self-test of tests/integration/lib/smtp.sh: start the private SMTP servers
# on 127.0.0.1 and drive them with swaks and Python's smtplib:
#   A  smtpd.py tls=good implicit=1 requiretls=1 auth=optional: plain
#      delivery (bytes exact), STARTTLS verified against ca.pem, implicit
#      TLS, AUTH PLAIN/LOGIN good and bad, 450/550 recipient rules, a DATA
#      rule, REQUIRETLS advertised only with TLS and recorded when given
#   B  smtpd.py tls=bad auth=required: verification fails, AUTH required
#   C  smtpd.py tls=none: no STARTTLS
#   the STARTTLS-stripping proxy in front of A: swaks --tls fails, a plain
#      client's MAIL/DATA is logged, the EHLO reply stays well-formed
#   K  smtp-sink: receives and counts messages, no STARTTLS
# then checks that every listening socket is on 127.0.0.1, stops everything
# and checks that nothing is left.  Prints "smtp-selftest: ok".  Exit
# status: 0 ok, 1 failure, 77 skip, 99 hard error.  SM_KEEP=1 keeps the
# temp dir.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=smtp.sh
. "$here/smtp.sh" || exit 99

sm__check || exit $?
sm__sink_check || exit $?
command -v swaks >/dev/null 2>&1 || { echo "SKIP: swaks is not installed (apt-get install swaks)" >&2; exit 77; }
swaks --support 2>&1 | grep -q '=== TLS supported' ||
    { echo "SKIP: swaks has no TLS support (apt-get install libnet-ssleay-perl)" >&2; exit 77; }

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    for x in "${A:-}" "${B:-}" "${C:-}" "${K:-}"; do
        [ -n "$x" ] && sm_log_tail "$x" 15
    done
    exit 1
}

ROOT=$(mktemp -d /tmp/ps-smtp.XXXX) || exit 99
A=$ROOT/a B=$ROOT/b C=$ROOT/c K=$ROOT/k
mkdir "$A" "$B" "$C" "$K" || exit 99
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    for x in "$A" "$B" "$C" "$K"; do sm_stop "$x" >/dev/null 2>&1; done
    if [ -z "${SM_KEEP:-}" ]; then rm -rf "$ROOT"; else echo "kept $ROOT" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# py ARGS... < SCRIPT: Debian's python3 (smtplib client snippets)
py() { "$SM_PYTHON" - "$@"; }
# sw ARGS...: swaks, quiet, with our test addresses as defaults
sw() { swaks --from sender@example.org --to rcpt@example.net --timeout 10 "$@" >>"$ROOT/swaks.out" 2>&1; }
ds() { printf '%d.%ds' $(( $1 / 10 )) $(( $1 % 10 )); }

# ---------------------------------------------------------------- CA
t0=$(lib__now_ds)
CA=$(sm_ca "$A") || fail "sm_ca"
t1=$(lib__now_ds)
[ "$CA" = "$A/ca/ca.pem" ] && [ -s "$CA" ] || fail "sm_ca printed '$CA'"
openssl verify -CAfile "$CA" "$A/ca/good.pem" >/dev/null 2>&1 || fail "good cert does not verify"
openssl verify -CAfile "$CA" "$A/ca/bad.pem" >/dev/null 2>&1 && fail "bad cert verifies against the CA"
openssl x509 -in "$A/ca/good.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:smtp.example.test, DNS:localhost, IP Address:127.0.0.1' ||
    fail "good cert names: $(openssl x509 -in "$A/ca/good.pem" -noout -ext subjectAltName 2>&1)"

# ---------------------------------------------------------------- A
PORT=$(sm_start "$A" tls=good implicit=1 requiretls=1 auth=optional user=alice password=s3cret) ||
    fail "sm_start A"
t2=$(lib__now_ds)
case $PORT in [1-9][0-9]*) ;; *) fail "sm_start printed '$PORT'" ;; esac
[ "$(sm_port "$A")" = "$PORT" ] || fail "sm_port"
TPORT=$(sm_port "$A" tls) || fail "no tls_port"
[ "$TPORT" != "$PORT" ] || fail "tls_port = port"
sm_start "$A" >/dev/null 2>&1 && fail "second sm_start in the same DIR succeeded"
[ "$(sm_count "$A")" = 0 ] || fail "sm_count before any mail: $(sm_count "$A")"
[ "$(sm_sessions "$A")" = 0 ] || fail "sm_sessions before any client: $(sm_sessions "$A")"

# --- plain delivery, bytes exact: dot-stuffing undone, CRLF and a bare LF
# kept (raw socket client: smtplib would rewrite line ends)
printf 'Subject: plain\r\nFrom: <sender@example.org>\r\n\r\n.leading dot\r\nbare\nLF\r\n..two\r\n\r\n' > "$ROOT/msg1"
py "$PORT" "$ROOT/msg1" <<'EOF' || fail "raw plain delivery"
import socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
msg = open(path, "rb").read()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        ln = f.readline()
        lines.append(ln)
        if ln[3:4] != b"-":
            return lines
assert reply()[0].startswith(b"220")
for cmd, want in ((b"EHLO raw.example\r\n", b"250"), (b"MAIL FROM:<sender@example.org>\r\n", b"250"),
                  (b"RCPT TO:<rcpt@example.net>\r\n", b"250"), (b"DATA\r\n", b"354")):
    s.sendall(cmd)
    r = reply()
    assert r[-1].startswith(want), (cmd, r)
stuffed = b"".join(b"." + ln if ln.startswith(b".") else ln for ln in msg.splitlines(True))
s.sendall(stuffed + b".\r\n")
r = reply()
assert r[-1].startswith(b"250"), r
s.sendall(b"QUIT\r\n")
reply()
EOF
[ "$(sm_count "$A")" = 1 ] || fail "sm_count after plain delivery: $(sm_count "$A")"
cmp -s "$A/mail/1.eml" "$ROOT/msg1" || fail "1.eml differs from what was sent: $(od -c "$A/mail/1.eml" | head)"
[ "$(sm_env_get "$A" 1 tls)" = false ] || fail "plain delivery: tls=$(sm_env_get "$A" 1 tls)"
[ "$(sm_env_get "$A" 1 helo)" = raw.example ] || fail "helo: $(sm_env_get "$A" 1 helo)"
[ "$(sm_env_get "$A" 1 mail_from)" = sender@example.org ] || fail "mail_from"
[ "$(sm_env_get "$A" 1 rcpt_tos)" = rcpt@example.net ] || fail "rcpt_tos"
[ -z "$(sm_env_get "$A" 1 auth_user)" ] || fail "auth_user set without AUTH"
[ "$(sm_env_get "$A" 1 requiretls)" = false ] || fail "requiretls set without REQUIRETLS"
[ "$(sm_env_get "$A" 1 listener)" = plain ] || fail "listener"
sm_env "$A" 1 > "$ROOT/env1" || fail "sm_env"
py "$ROOT/env1" <<'EOF' || fail "1.env is not one line of JSON"
import json, sys
t = open(sys.argv[1]).read()
assert t.count("\n") == 1
json.loads(t)
EOF
grep -q ' C: EHLO raw.example$' "$A/smtpd.log" && grep -q ' S: 354 ' "$A/smtpd.log" ||
    fail "commands/replies not in smtpd.log"
[ "$(sm_sessions "$A")" = 1 ] || fail "sm_sessions: $(sm_sessions "$A")"

# --- EHLO in plaintext: STARTTLS, no AUTH (TLS only), no REQUIRETLS
sw --server "127.0.0.1:$PORT" --quit-after EHLO || fail "swaks EHLO"
ehlo=$(awk '/ S: 250[- ]/ { sub(/.* S: /, ""); print }' "$A/smtpd.log" | tail -n 6)
grep -qx '250-STARTTLS' <<<"$ehlo" || fail "STARTTLS not offered: $ehlo"
grep -q 'AUTH\|REQUIRETLS' <<<"$ehlo" && fail "AUTH/REQUIRETLS offered in plaintext: $ehlo"

# --- STARTTLS, verified against ca.pem.  swaks 20201014 --tls-verify
# checks the chain only, not the host name: Python checks the names below.
n=$(sm_count "$A")
sw --server "127.0.0.1:$PORT" --tls --tls-verify --tls-ca-path "$CA" --h-Subject starttls ||
    fail "swaks --tls --tls-verify (exit $?)"
n=$((n + 1))
[ "$(sm_count "$A")" = $n ] || fail "STARTTLS message not stored"
[ "$(sm_env_get "$A" $n tls)" = true ] || fail "STARTTLS message: tls=$(sm_env_get "$A" $n tls)"
case $(sm_env_get "$A" $n tls_version) in TLSv1.[23]) ;; *) fail "tls_version" ;; esac
grep -q ' P: TLS established (TLSv1\.[23], .*) after STARTTLS$' "$A/smtpd.log" || fail "no TLS line in the log"
py "$PORT" "$CA" <<'EOF' || fail "host name verification"
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
for name, good in (("smtp.example.test", True), ("localhost", True), ("127.0.0.1", True),
                   ("other.example.test", False)):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s._host = name          # the name smtplib's starttls() verifies
    try:
        s.starttls(context=ssl.create_default_context(cafile=ca))
        ok = True
        s.quit()
    except ssl.SSLCertVerificationError:
        ok = False
        s.close()
    assert ok == good, (name, ok)
EOF
# verification against a CA that did not sign it fails
sw --server "127.0.0.1:$PORT" --tls --tls-verify --tls-ca-path "$A/ca/bad.pem" --quit-after EHLO &&
    fail "verification against the wrong CA succeeded"

# --- implicit TLS (RFC 8314), verified
sw --server "127.0.0.1:$TPORT" --tlsc --tls-verify --tls-ca-path "$CA" --h-Subject implicit ||
    fail "swaks --tlsc (exit $?)"
n=$((n + 1))
[ "$(sm_count "$A")" = $n ] || fail "implicit-TLS message not stored"
[ "$(sm_env_get "$A" $n tls)" = true ] && [ "$(sm_env_get "$A" $n listener)" = implicit ] ||
    fail "implicit TLS: $(sm_env "$A" $n)"
# plaintext on the implicit port gets no banner
SM_BANNER_WAIT=0.5 sm__banner "$TPORT" && fail "plaintext banner on the implicit-TLS port"
sleep 0.1
grep -q ' P: TLS handshake failed: ' "$A/smtpd.log" || fail "aborted implicit handshake not logged"
grep -q ' P: Exception' "$A/smtpd.log" && fail "exception in smtpd.py: $(grep ' P: Exception' "$A/smtpd.log")"
grep -q ' P: TLS established .* on connect$' "$A/smtpd.log" || fail "no implicit TLS line in the log"

# --- AUTH PLAIN / LOGIN, good and bad password
sw --server "127.0.0.1:$PORT" --tls --tls-ca-path "$CA" --tls-verify \
    --auth PLAIN --auth-user alice --auth-password s3cret || fail "AUTH PLAIN good (exit $?)"
n=$((n + 1))
[ "$(sm_env_get "$A" $n auth_user)" = alice ] || fail "auth_user after PLAIN: $(sm_env "$A" $n)"
sw --server "127.0.0.1:$PORT" --tls --auth PLAIN --auth-user alice --auth-password wrong
rc=$?
[ $rc = 28 ] || fail "AUTH PLAIN bad password: swaks exit $rc, expected 28"
[ "$(sm_count "$A")" = $n ] || fail "message stored after a failed AUTH"
grep -q ' S: 535 5.7.8 ' "$A/smtpd.log" && grep -q ' P: AUTH PLAIN user=alice FAILED$' "$A/smtpd.log" ||
    fail "failed AUTH not logged"
sw --server "127.0.0.1:$PORT" --tlsc --server "127.0.0.1:$TPORT" \
    --auth LOGIN --auth-user alice --auth-password s3cret || fail "AUTH LOGIN on the implicit port (exit $?)"
n=$((n + 1))
[ "$(sm_env_get "$A" $n auth_user)" = alice ] || fail "auth_user after LOGIN"
# AUTH before STARTTLS: refused
sw --server "127.0.0.1:$PORT" --auth PLAIN --auth-user alice --auth-password s3cret
rc=$?
[ $rc = 28 ] || fail "AUTH in plaintext: swaks exit $rc, expected 28"
# the password is never logged (plain or base64)
b64=$(printf '\0alice\0s3cret' | base64)
grep -q -e s3cret -e "$b64" -e "$(printf s3cret | base64)" "$A/smtpd.log" "$A/smtpd.out" &&
    fail "password in the log"

# --- reply rules: one message to a good and a 550 recipient, a 450 one
sm_rule "$A" bad@example.net 550 5.1.1 no such user || fail "sm_rule"
printf '%s\n' '# comment' '' 'Later@Example.NET 450 4.2.0 try later' >> "$A/rules"
py "$PORT" <<'EOF' || fail "smtplib rules"
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
refused = s.sendmail("sender@example.org", ["good@example.net", "bad@example.net"],
                     b"Subject: rules\r\n\r\nbody\r\n")
assert refused == {"bad@example.net": (550, b"5.1.1 no such user")}, refused
try:
    s.sendmail("sender@example.org", ["later@example.net"], b"Subject: later\r\n\r\nx\r\n")
    raise SystemExit("450 recipient accepted")
except smtplib.SMTPRecipientsRefused as e:
    assert e.recipients == {"later@example.net": (450, b"4.2.0 try later")}, e.recipients
s.quit()
EOF
n=$((n + 1))
[ "$(sm_count "$A")" = $n ] || fail "rules: count $(sm_count "$A"), expected $n"
[ "$(sm_env_get "$A" $n rcpt_tos)" = good@example.net ] || fail "rules: rcpt_tos $(sm_env_get "$A" $n rcpt_tos)"
# swaks to the 550 recipient only: no RCPT accepted (exit 24)
sw --server "127.0.0.1:$PORT" --to bad@example.net
rc=$?
[ $rc = 24 ] || fail "550 recipient: swaks exit $rc, expected 24"
# a DATA rule: the message is refused and not stored
echo 'DATA 451 4.3.0 try again later' >> "$A/rules"
sw --server "127.0.0.1:$PORT" --to good@example.net
rc=$?
[ $rc = 26 ] || fail "DATA rule: swaks exit $rc, expected 26"
[ "$(sm_count "$A")" = $n ] || fail "DATA rule: message stored"
: > "$A/rules"

# --- REQUIRETLS: advertised after STARTTLS only, recorded when given,
# 555 in plaintext (not advertised there)
py "$PORT" "$CA" <<'EOF' || fail "smtplib REQUIRETLS"
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP("localhost", port, timeout=10)
s.ehlo()
assert not s.has_extn("requiretls"), "REQUIRETLS offered in plaintext"
try:
    s.sendmail("sender@example.org", ["rt@example.net"], b"Subject: x\r\n\r\nx\r\n",
               mail_options=["REQUIRETLS"])
    raise SystemExit("MAIL ... REQUIRETLS accepted in plaintext")
except smtplib.SMTPSenderRefused as e:
    assert e.smtp_code == 555, e
s.rset()
s.starttls(context=ctx)             # verifies smtp.example.test/localhost
s.ehlo()
assert s.has_extn("requiretls"), "REQUIRETLS not offered after STARTTLS"
s.sendmail("sender@example.org", ["rt@example.net"], b"Subject: requiretls\r\n\r\nx\r\n",
           mail_options=["REQUIRETLS", "BODY=8BITMIME"])
s.sendmail("sender@example.org", ["nort@example.net"], b"Subject: no requiretls\r\n\r\nx\r\n")
s.quit()
EOF
n=$((n + 1))
[ "$(sm_env_get "$A" $n requiretls)" = true ] || fail "REQUIRETLS not recorded: $(sm_env "$A" $n)"
sm_env_get "$A" $n mail_options | grep -qx REQUIRETLS || fail "REQUIRETLS not in mail_options"
sm_env_get "$A" $n mail_options | grep -qx BODY=8BITMIME || fail "BODY= not in mail_options"
[ "$(sm_env_get "$A" $n tls)" = true ] || fail "REQUIRETLS message not over TLS"
n=$((n + 1))
[ "$(sm_env_get "$A" $n requiretls)" = false ] || fail "REQUIRETLS recorded for the next message"
sm_wait_count "$A" $n 2 || fail "sm_wait_count"
sm_wait_count "$A" $((n + 1)) 0 2>/dev/null && fail "sm_wait_count did not time out"
t3=$(lib__now_ds)

# ---------------------------------------------------------------- B: bad cert
BPORT=$(sm_start "$B" tls=bad auth=required implicit=1) || fail "sm_start B"
sw --server "127.0.0.1:$BPORT" --tls --tls-verify --tls-ca-path "$B/ca/ca.pem" --quit-after EHLO
rc=$?
[ $rc = 29 ] || fail "bad cert: swaks exit $rc, expected 29 (TLS error)"
sw --server "127.0.0.1:$(sm_port "$B" tls)" --tlsc --tls-verify --tls-ca-path "$B/ca/ca.pem" --quit-after EHLO &&
    fail "bad cert on the implicit port verified"
[ "$(grep -c ' P: TLS handshake failed: .*ALERT_UNKNOWN_CA' "$B/smtpd.log")" = 2 ] ||
    fail "failed handshakes (STARTTLS and implicit) not logged"
grep -q ' P: connect from 127.0.0.1:[0-9]* to the implicit listener' "$B/smtpd.log" ||
    fail "implicit connection not logged"
# without verification TLS works; AUTH is required
sw --server "127.0.0.1:$BPORT" --tls
rc=$?
[ $rc = 23 ] || fail "auth=required, no AUTH: swaks exit $rc, expected 23 (MAIL refused)"
grep -q ' S: 530 5.7.0 Authentication required' "$B/smtpd.log" || fail "no 530 in B's log"
sw --server "127.0.0.1:$BPORT" --tls --auth PLAIN --auth-user alice --auth-password secret ||
    fail "B: AUTH with the default user/password (exit $?)"
[ "$(sm_count "$B")" = 1 ] && [ "$(sm_env_get "$B" 1 auth_user)" = alice ] || fail "B: message"
openssl x509 -in "$B/ca/bad.pem" -noout -fingerprint -sha256 > "$ROOT/bad.fp"
sw --server "127.0.0.1:$BPORT" --tls --quit-after TLS --tls-get-peer-cert "$ROOT/peer.pem" ||
    fail "B: fetching the peer certificate"
[ "$(openssl x509 -in "$ROOT/peer.pem" -noout -fingerprint -sha256)" = "$(cat "$ROOT/bad.fp")" ] ||
    fail "B does not present bad.pem"

# ---------------------------------------------------------------- C: no TLS
CPORT=$(sm_start "$C" tls=none auth=optional) || fail "sm_start C"
[ -e "$C/ca" ] && fail "tls=none made a CA"
sw --server "127.0.0.1:$CPORT" --tls
rc=$?
[ $rc = 29 ] || fail "tls=none: swaks --tls exit $rc, expected 29"
grep -q ' S: 250-STARTTLS' "$C/smtpd.log" && fail "tls=none offers STARTTLS"
# AUTH in plaintext is offered when there is no TLS at all
sw --server "127.0.0.1:$CPORT" --auth PLAIN --auth-user alice --auth-password secret ||
    fail "C: plaintext AUTH (exit $?)"
[ "$(sm_env_get "$C" 1 auth_user)" = alice ] && [ "$(sm_env_get "$C" 1 tls)" = false ] || fail "C: message"

# ---------------------------------------------------------------- STRIPTLS
t4=$(lib__now_ds)
SPORT=$(sm_strip_start "$A" "$PORT") || fail "sm_strip_start"
t5=$(lib__now_ds)
[ "$(sm_port "$A" strip)" = "$SPORT" ] || fail "sm_port strip"
sm_strip_start "$A" "$PORT" >/dev/null 2>&1 && fail "second sm_strip_start succeeded"
na=$(sm_count "$A")
sw --server "127.0.0.1:$SPORT" --tls
rc=$?
[ $rc = 29 ] || fail "through the proxy: swaks --tls exit $rc, expected 29"
[ "$(sm_strip_count "$A" mail)" = 0 ] && [ "$(sm_strip_count "$A" data)" = 0 ] ||
    fail "swaks --tls sent MAIL/DATA through the proxy"
# a client that sends STARTTLS although it is not offered gets 454 from the
# proxy; the EHLO reply is well-formed; pipelined commands stay in order
py "$SPORT" <<'EOF' || fail "raw client through the proxy"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        ln = f.readline()
        assert ln.endswith(b"\r\n"), lines + [ln]
        lines.append(ln)
        if ln[3:4] != b"-":
            return lines
assert reply()[0].startswith(b"220")
s.sendall(b"EHLO strip.example\r\n")
r = reply()
assert not any(b"STARTTLS" in ln for ln in r), r
assert all(ln[:4] == b"250-" for ln in r[:-1]) and r[-1][:4] == b"250 ", r
s.sendall(b"NOOP\r\nNOOP\r\nSTARTTLS\r\n")
assert reply()[0].startswith(b"250")
assert reply()[0].startswith(b"250")
assert reply() == [b"454 4.7.0 TLS not available\r\n"]
s.sendall(b"QUIT\r\n")
assert reply()[0].startswith(b"221")
EOF
grep -q ' P: removed STARTTLS from the EHLO reply' "$A/strip.log" || fail "strip.log: no removal"
grep -q ' P: refused STARTTLS (454)' "$A/strip.log" || fail "strip.log: no 454"
# a plaintext client delivers through the proxy: logged
sw --server "127.0.0.1:$SPORT" --h-Subject stripped || fail "plain delivery through the proxy (exit $?)"
[ "$(sm_strip_count "$A" mail)" = 1 ] && [ "$(sm_strip_count "$A" data)" = 1 ] &&
    [ "$(sm_strip_count "$A" message)" = 1 ] || fail "strip counts: $(grep ' P: closed' "$A/strip.log")"
[ "$(sm_count "$A")" = $((na + 1)) ] || fail "message through the proxy not stored"
[ "$(sm_env_get "$A" $((na + 1)) tls)" = false ] || fail "message through the proxy was TLS?"
grep -q ' P: closed: mail=1 rcpt=1 data=1 messages=1 starttls=0$' "$A/strip.log" || fail "no summary line"
# AUTH through the proxy: A offers it only with TLS, so not here
sw --server "127.0.0.1:$SPORT" --auth LOGIN --auth-user alice --auth-password s3cret
rc=$?
[ $rc = 28 ] || fail "AUTH through the proxy to A: swaks exit $rc, expected 28"
# a second proxy, in front of C (no TLS, plaintext AUTH): AUTH LOGIN and
# PLAIN pass, the credentials are masked in strip.log
CSPORT=$(sm_strip_start "$C" "$CPORT") || fail "sm_strip_start C"
sw --server "127.0.0.1:$CSPORT" --auth LOGIN --auth-user alice --auth-password secret ||
    fail "AUTH LOGIN through the proxy to C (exit $?)"
sw --server "127.0.0.1:$CSPORT" --auth PLAIN --auth-user alice --auth-password secret ||
    fail "AUTH PLAIN through the proxy to C (exit $?)"
[ "$(sm_count "$C")" = 3 ] && [ "$(sm_env_get "$C" 3 auth_user)" = alice ] || fail "C: AUTH via the proxy"
[ "$(grep -c ' C: <AUTH data masked>$' "$C/strip.log")" = 2 ] || fail "AUTH LOGIN data not masked"
grep -q ' C: AUTH PLAIN <masked>$' "$C/strip.log" || fail "AUTH PLAIN argument not masked"
grep -q -e secret -e "$(printf '\0alice\0secret' | base64)" -e "$(printf secret | base64)" \
    "$C/strip.log" "$C/smtpd.log" && fail "password in the logs of C"

# ---------------------------------------------------------------- smtp-sink
t6=$(lib__now_ds)
KPORT=$(sm_sink_start "$K") || fail "sm_sink_start"
t7=$(lib__now_ds)
[ "$(sm_port "$K" sink)" = "$KPORT" ] || fail "sm_port sink"
[ "$(sm_sink_count "$K")" = 0 ] || fail "sink count at start: $(sm_sink_count "$K")"
sm_sink_start "$K" >/dev/null 2>&1 && fail "second sm_sink_start succeeded"
swaks --server "127.0.0.1:$KPORT" --quit-after EHLO 2>&1 | grep -q STARTTLS && fail "smtp-sink offers STARTTLS"
sw --server "127.0.0.1:$KPORT" --tls
rc=$?
[ $rc = 29 ] || fail "smtp-sink: swaks --tls exit $rc, expected 29"
sw --server "127.0.0.1:$KPORT" --h-Subject sink-one || fail "smtp-sink delivery 1"
sw --server "127.0.0.1:$KPORT" --h-Subject sink-two --to other@example.net || fail "smtp-sink delivery 2"
[ "$(sm_sink_count "$K")" = 2 ] || fail "sm_sink_count: $(sm_sink_count "$K")"
files=$(sm_sink_files "$K")
[ "$(printf '%s\n' "$files" | grep -c .)" = 2 ] || fail "sink files: $files"
# shellcheck disable=SC2086
grep -q '^Subject: sink-one' $files && grep -q '^X-Rcpt-Args: <other@example.net>' $files ||
    fail "sink files lack the messages"

# ---------------------------------------------------------------- loopback only
expect=""
for p in "$PORT" "$TPORT" "$BPORT" "$(sm_port "$B" tls)" "$CPORT" "$SPORT" "$CSPORT" "$KPORT"; do
    expect="$expect$(printf '0100007F:%04X' "$p")"$'\n'
done
expect=$(printf '%s' "$expect" | sort)
pids=$(for x in "$A" "$B" "$C" "$K"; do for w in smtpd strip sink; do sm__pids "$x" $w; done; done)
[ "$(printf '%s\n' "$pids" | grep -c .)" = 6 ] || fail "expected 6 server processes, got: $pids"
listen_inodes=$(awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/net/tcp /proc/net/tcp6)
udp_inodes=$(awk 'FNR > 1 { print $10 }' /proc/net/udp /proc/net/udp6)
got=""
for p in $pids; do
    for fd in /proc/"$p"/fd/*; do
        l=$(readlink "$fd" 2>/dev/null) || continue
        case $l in socket:\[*\]) ;; *) continue ;; esac
        ino=${l#socket:[}; ino=${ino%]}
        grep -qx "$ino" <<<"$udp_inodes" && fail "process $p has a UDP socket"
        grep -qx "$ino" <<<"$listen_inodes" || continue
        a=$(awk -v i="$ino" 'FNR > 1 && $10 == i { print $2 }' /proc/net/tcp /proc/net/tcp6)
        got="$got$a"$'\n'
    done
done
got=$(printf '%s' "$got" | grep . | sort -u)
[ "$got" = "$expect" ] || fail "listening sockets: got
$got
expected
$expect"

# ---------------------------------------------------------------- stop
t8=$(lib__now_ds)
for x in "$A" "$B" "$C" "$K"; do sm_stop "$x" || fail "sm_stop $x"; done
t9=$(lib__now_ds)
for p in $pids; do lib__alive "$p" && fail "process $p still running after sm_stop"; done
for x in "$A" "$B" "$C" "$K"; do
    for w in smtpd strip sink; do
        [ -z "$(sm__pids "$x" $w)" ] || fail "$w of $x left after sm_stop"
    done
    sm_stop "$x" || fail "second sm_stop $x"
done
for p in "$PORT" "$TPORT" "$BPORT" "$CPORT" "$SPORT" "$CSPORT" "$KPORT"; do
    sm__listening "$p" && fail "port $p still listening after sm_stop"
done
grep -q ' P: stopped$' "$A/smtpd.log" || fail "smtpd.py did not stop cleanly"
cat "$A/smtpd.out" "$B/smtpd.out" "$C/smtpd.out" "$A/strip.out" "$C/strip.out" > "$ROOT/stderr"
[ -s "$ROOT/stderr" ] && fail "output on stderr: $(cat "$ROOT/stderr")"

printf 'smtp-selftest: ok (ca %s, sm_start %s, A checks %s, strip start %s, sink start %s, stop of 6 servers %s)\n' \
    "$(ds $((t1 - t0)))" "$(ds $((t2 - t1)))" "$(ds $((t3 - t2)))" "$(ds $((t5 - t4)))" \
    "$(ds $((t7 - t6)))" "$(ds $((t9 - t8)))"
exit 0
