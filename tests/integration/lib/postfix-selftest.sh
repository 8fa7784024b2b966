#!/bin/bash
# Self-test of tests/integration/lib/postfix.sh: start a private Postfix
# instance, submit two messages through the sendmail wrapper, check that they
# arrive intact in the right Maildirs, stop the instance and check that
# nothing of it is left running.  Exit status: 0 ok, 1 failure, 77 skip,
# 99 hard error.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=postfix.sh
. "$here/postfix.sh" || exit 99

pf__check || exit $?

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

PF=$(mktemp -d /tmp/ps-pf.XXXX) || exit 99
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    pf_stop "$PF" >/dev/null 2>&1
    if [ -z "${PF_KEEP:-}" ]; then rm -rf "$PF"; else echo "kept $PF" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

t0=$(pf__now_ds)
pf_start "$PF" || fail "pf_start"
t1=$(pf__now_ds)

SENDMAIL=$(pf_sendmail "$PF") || fail "pf_sendmail"
[ "$SENDMAIL" = "$PF/sendmail" ] || fail "pf_sendmail printed '$SENDMAIL'"

# nothing of this instance may listen on the network: no listening TCP
# socket and no UDP socket may belong to one of its processes
pids=$(pf__instance_pids "$PF")
[ -n "$pids" ] || fail "no processes found for the running instance"
inet_inodes=" $(awk 'FNR > 1 && (FILENAME ~ /udp/ || $4 == "0A") { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null | tr '\n' ' ') "
for p in $pids; do
    for fd in /proc/"$p"/fd/*; do
        l=$(readlink "$fd" 2>/dev/null) || continue
        case $l in socket:\[*\])
            ino=${l#socket:[}; ino=${ino%]}
            case $inet_inodes in *" $ino "*)
                fail "process $p of the instance has a listening inet socket ($l)" ;;
            esac ;;
        esac
    done
done

# message 1: LF line endings, to alice@example.org
body1=$(printf 'first line\n.\nFrom the middle\n\n  indented, trailing blanks  \nlast')
msg1=$(printf 'From: Sender <sender@example.net>\nTo: alice@example.org\nSubject: selftest 1\n\n%s\n' "$body1")
printf '%s\n' "$msg1" | "$SENDMAIL" -i -f sender@example.net -- alice@example.org ||
    fail "submission 1 failed"

# message 2: CRLF line endings, unqualified recipient root -> example.org/root
printf 'Subject: selftest 2\r\nTo: root\r\n\r\nline A\r\nline B\r\n' |
    "$SENDMAIL" -i -f sender@example.net -- root || fail "submission 2 failed"

pf_wait_delivered "$PF" 2 || fail "messages not delivered"
t2=$(pf__now_ds)

# --- alice
m=$(pf_mailbox "$PF" alice@example.org)
[ "$(printf '%s\n' "$m" | grep -c .)" = 1 ] || fail "alice: expected 1 message, got: $m"
case $m in "$PF/mail/example.org/alice/new/"*) ;; *) fail "alice: wrong path $m" ;; esac
got=$(pf_message_body "$m")
[ "$got" = "$body1" ] || fail "alice: body differs:
$got"
h=$(head -n 3 "$m")
[ "$h" = "Return-Path: <sender@example.net>
X-Original-To: alice@example.org
Delivered-To: alice@example.org" ] || fail "alice: unexpected delivery headers:
$h"
stripped=$(pf_strip_delivery_headers "$m")
case $stripped in "Received: by "*) ;; *) fail "alice: strip_delivery_headers: $(head -n1 <<<"$stripped")" ;; esac
grep -q '^Subject: selftest 1$' "$m" || fail "alice: Subject missing"

# --- root (unqualified)
m=$(pf_mailbox "$PF" root)
[ "$(printf '%s\n' "$m" | grep -c .)" = 1 ] || fail "root: expected 1 message, got: $m"
case $m in "$PF/mail/example.org/root/new/"*) ;; *) fail "root: wrong path $m" ;; esac
[ "$(pf_mailbox "$PF" root@example.org)" = "$m" ] || fail "root: pf_mailbox root@example.org differs"
got=$(pf_message_body "$m")
[ "$got" = "line A
line B" ] || fail "root: body differs (CRLF not converted?): $(printf '%s' "$got" | od -c | head -3)"
grep -q '^Delivered-To: root@example.org$' "$m" || fail "root: Delivered-To missing"
grep -q '^To: root@example.org$' "$m" || fail "root: To: not qualified"

[ "$(pf_count_delivered "$PF")" = 2 ] || fail "expected exactly 2 delivered messages, got $(pf_count_delivered "$PF")"

# --- stop
master=$(pf__master_pid "$PF") || fail "no master pid before stop"
pf_stop "$PF" || fail "pf_stop"
t3=$(pf__now_ds)
if pf__alive "$master" && [ "$(cat "/proc/$master/comm" 2>/dev/null)" = master ]; then
    fail "master $master still running after pf_stop"
fi
left=$(pf__instance_pids "$PF")
[ -z "$left" ] || fail "processes of the instance left: $left"
pf__master_pid "$PF" >/dev/null 2>&1 && fail "pf__master_pid still finds a master"
# pf_stop on a stopped instance is a no-op
pf_stop "$PF" || fail "second pf_stop"

printf 'PASS: postfix selftest (start %d.%ds, submit+deliver %d.%ds, stop %d.%ds, total %d.%ds)\n' \
    $(( (t1 - t0) / 10 )) $(( (t1 - t0) % 10 )) \
    $(( (t2 - t1) / 10 )) $(( (t2 - t1) % 10 )) \
    $(( (t3 - t2) / 10 )) $(( (t3 - t2) % 10 )) \
    $(( (t3 - t0) / 10 )) $(( (t3 - t0) % 10 ))
exit 0
