#!/bin/bash
# shellcheck disable=SC2015  # "A && B || fail" is meant as written
# Self-test of tests/integration/lib/sks.sh: start a private SKS keyserver
# on 127.0.0.1, upload alice's public key (armored) and bob's (binary),
# fetch them back the HKP way (op=get&options=mr) and compare fingerprints
# resp. bytes, check the 404 for an unknown address, that the instance
# listens on 127.0.0.1:PORT only, stop it and check that nothing of it is
# left.  Prints "sks-selftest: ok".  Exit status: 0 ok, 1 failure, 77 skip,
# 99 hard error.  SKS_KEEP=1 keeps the temp dir.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=sks.sh
. "$here/sks.sh" || exit 99
keys=$here/../../data/keys

sks__check || exit $?
command -v gpg >/dev/null 2>&1 || { echo "SKIP: gpg is not installed" >&2; exit 77; }
[ -r "$keys/alice.pub.asc" ] && [ -r "$keys/bob.pub.asc" ] ||
    { echo "sks-selftest: test keys missing in $keys" >&2; exit 99; }

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    [ -n "${S:-}" ] && sks_log_tail "$S" 15
    exit 1
}

S=$(mktemp -d /tmp/ps-sks.XXXX) || exit 99
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    sks_stop "$S" >/dev/null 2>&1
    if [ -z "${SKS_KEEP:-}" ]; then rm -rf "$S"; else echo "kept $S" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

g() { sks__gpg "$S" "$@"; }
# primary fingerprint(s) of a key file, one a line
fprs() { g --with-colons --show-keys "$1" 2>/dev/null | awk -F: '$1 == "pub" { p = 1; next } $1 == "fpr" && p { print $10; p = 0 }'; }

# --- start (not in a subshell: the variables must be set)
t0=$(lib__now_ds)
sks_start "$S" > "$S/started" || fail "sks_start"
t1=$(lib__now_ds)
PORT=$(cat "$S/started")
case $PORT in [1-9][0-9]*) ;; *) fail "sks_start printed '$PORT'" ;; esac
[ "${SKS_PORT:-}" = "$PORT" ] || fail "SKS_PORT='${SKS_PORT:-}', printed $PORT"
[ "$(sks_port "$S")" = "$PORT" ] || fail "sks_port differs"
[ "$(sks_url "$S")" = "http://127.0.0.1:$PORT" ] || fail "sks_url: $(sks_url "$S")"
RECON=$(cat "$S/recon_port") || fail "no recon_port"
[ "$RECON" != "$PORT" ] || fail "recon port = hkp port"
grep -qx "hkp_address: 127.0.0.1" "$S/etc/sks/sksconf" &&
    grep -qx "recon_address: 127.0.0.1" "$S/etc/sks/sksconf" || fail "sksconf addresses"
[ -s "$S/etc/sks/membership" ] && fail "membership file is not empty"
URL=$(sks_url "$S")

# a second start in the same DIR must refuse
sks_start "$S" >/dev/null 2>&1 && fail "second sks_start succeeded"

# --- the instance listens on 127.0.0.1:PORT only: no other TCP listener,
# no UDP socket (checked via the sockets of its processes)
pids=$(sks__instance_pids "$S")
dbpid=$(sks__db_pid "$S") || fail "no sks db pid"
[ "$pids" = "$dbpid" ] || fail "instance processes '$pids', expected just sks db $dbpid"
expect=$(printf '0100007F:%04X' "$PORT")
listen_inodes=$(awk 'FNR > 1 && $4 == "0A" { print $10 }' /proc/net/tcp /proc/net/tcp6)
udp_inodes=$(awk 'FNR > 1 { print $10 }' /proc/net/udp /proc/net/udp6)
got=""
for fd in /proc/"$dbpid"/fd/*; do
    l=$(readlink "$fd" 2>/dev/null) || continue
    case $l in socket:\[*\]) ;; *) continue ;; esac
    ino=${l#socket:[}; ino=${ino%]}
    grep -qx "$ino" <<<"$udp_inodes" && fail "sks db has a UDP socket"
    grep -qx "$ino" <<<"$listen_inodes" || continue
    a=$(awk -v i="$ino" 'FNR > 1 && $10 == i { print $2 }' /proc/net/tcp /proc/net/tcp6)
    got="$got$a"$'\n'
done
got=$(printf '%s' "$got" | grep . | sort -u)
[ "$got" = "$expect" ] || fail "listening sockets of sks db: got
$got
expected
$expect"
# and nobody listens on PORT or the recon port on any other address
hexes=$(printf ':%04X\n' "$PORT" "$RECON")
others=$(awk 'FNR > 1 && $4 == "0A" { print $2 }' /proc/net/tcp /proc/net/tcp6 |
    grep -F "$hexes" | grep -vx "$expect")
[ -z "$others" ] || fail "other listeners on our ports: $others"
if command -v ss >/dev/null 2>&1; then
    ss -ltnp 2>/dev/null | grep "pid=$dbpid," | grep -qv "127\.0\.0\.1:$PORT " &&
        fail "ss shows sks db listening elsewhere: $(ss -ltnp | grep "pid=$dbpid,")"
fi

# --- upload alice (armored) and fetch her back by e-mail address
ALICE=$keys/alice.pub.asc
afpr=$(fprs "$ALICE")
[ ${#afpr} = 40 ] || fail "cannot read fingerprint of $ALICE: '$afpr'"
amail=$(g --with-colons --show-keys "$ALICE" 2>/dev/null | awk -F: '$1 == "uid" { print $10; exit }' |
    sed -n 's/.*<\([^>]*\)>.*/\1/p')
[ "$amail" = alice@example.org ] || fail "alice's address is '$amail'"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/pks/lookup?op=get&options=mr&search=0x$afpr")
[ "$code" = 404 ] || fail "alice found before the upload (HTTP $code)"
t2=$(lib__now_ds)
sks_add_key "$S" "$ALICE" || fail "sks_add_key $ALICE"
t3=$(lib__now_ds)
r=$(curl -sS -o "$S/alice.out" -w '%{http_code} %{content_type}' --max-time 10 \
    "$URL/pks/lookup?op=get&options=mr&search=alice%40example.org") || fail "curl alice"
case $r in
"200 application/pgp-keys"*) ;;
*) fail "lookup alice: '$r'" ;;
esac
head -n 1 "$S/alice.out" | grep -qx -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' ||
    fail "reply is not an armored public key block: $(head -n 1 "$S/alice.out")"
got=$(fprs "$S/alice.out")
[ "$got" = "$afpr" ] || fail "fetched fingerprint(s) '$got', expected $afpr"
# same by fingerprint, long key id, subkey id, upper-case address
asub=$(g --with-colons --show-keys "$ALICE" 2>/dev/null | awk -F: '$1 == "sub" { print $5; exit }')
for q in "0x$afpr" "0x${afpr:24}" "0x$asub" "ALICE%40EXAMPLE.ORG"; do
    curl -s -o "$S/q.out" --fail --max-time 5 "$URL/pks/lookup?op=get&options=mr&search=$q" ||
        fail "lookup search=$q failed"
    [ "$(fprs "$S/q.out")" = "$afpr" ] || fail "lookup search=$q: wrong key"
done
# machine-readable index
curl -s --fail --max-time 5 "$URL/pks/lookup?op=index&options=mr&search=alice%40example.org" > "$S/index.out" ||
    fail "op=index failed"
grep -q "^pub:$afpr:" "$S/index.out" && grep -q '^uid:Alice <alice@example.org>:' "$S/index.out" ||
    fail "op=index: $(cat "$S/index.out")"

# --- unknown addresses: 404
for q in nobody%40example.org alice%40example.net; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/pks/lookup?op=get&options=mr&search=$q")
    [ "$code" = 404 ] || fail "search=$q: HTTP $code, expected 404"
done

# --- a binary key: uploaded and served byte for byte
g --dearmor < "$keys/bob.pub.asc" > "$S/bob.bin" || fail "gpg --dearmor bob"
bfpr=$(fprs "$S/bob.bin")
sks_add_key "$S" "$S/bob.bin" || fail "sks_add_key bob.bin"
curl -s --fail -o "$S/bob.out" --max-time 5 "$URL/pks/lookup?op=get&options=mr&search=0x$bfpr" ||
    fail "lookup bob"
g --dearmor < "$S/bob.out" > "$S/bob.out.bin" && cmp -s "$S/bob.out.bin" "$S/bob.bin" ||
    fail "bob's key does not come back byte for byte"

# --- refusals: a secret key, junk
sks_add_key "$S" "$keys/alice.sec.asc" 2>/dev/null && fail "sks_add_key accepted a secret key"
printf 'junk\n' > "$S/junk"
sks_add_key "$S" "$S/junk" 2>/dev/null && fail "sks_add_key accepted junk"
t4=$(lib__now_ds)

# --- stop
sks_stop "$S" || fail "sks_stop"
t5=$(lib__now_ds)
for p in $pids; do
    sks__is_ours "$p" "$S" && fail "sks process $p still running after sks_stop"
done
left=$(sks__instance_pids "$S")
[ -z "$left" ] || fail "sks processes of $S left: $left"
# nothing else (no live /proc entry at all; a stopped "sks db" may stay a
# zombie for a moment, reparented to a PID 1 that reaps late) runs
# "-basedir $S"
for p in /proc/[0-9]*; do
    tr '\0' '\n' 2>/dev/null < "$p/cmdline" | grep -qx -- "$S" &&
        tr '\0' ' ' 2>/dev/null < "$p/cmdline" | grep -q -- "-basedir $S" &&
        lib__alive "${p#/proc/}" && fail "process ${p#/proc/} still runs with -basedir $S"
done
sks__listening "$PORT" && fail "port $PORT still listening after sks_stop"
[ -e "$S/sks-db.pid" ] && fail "pid file left"
grep -q 'Database closed' "$S/var/log/sks/db.log" || fail "no clean database shutdown in db.log"
sks_stop "$S" || fail "second sks_stop"

printf 'PASS: sks selftest (port %s; start %d.%ds, add %d.%ds, checks %d.%ds, stop %d.%ds)\n' \
    "$PORT" \
    $(( (t1 - t0) / 10 )) $(( (t1 - t0) % 10 )) \
    $(( (t3 - t2) / 10 )) $(( (t3 - t2) % 10 )) \
    $(( (t4 - t3) / 10 )) $(( (t4 - t3) % 10 )) \
    $(( (t5 - t4) / 10 )) $(( (t5 - t4) % 10 ))
echo "sks-selftest: ok"
exit 0
