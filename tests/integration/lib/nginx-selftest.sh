#!/bin/bash
# shellcheck disable=SC2015  # "A && B || fail" is meant as written
# Self-test of tests/integration/lib/nginx.sh: make a CA, start a private
# nginx on 127.0.0.1, put a key, fetch it with curl, check the bad-cert port,
# 404, the redirects, 500 and the slow path, the per-host modes, stop the
# instance and check that nothing of it is left.  Exit status: 0 ok,
# 1 failure, 77 skip, 99 hard error.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=nginx.sh
. "$here/nginx.sh" || exit 99

ng__check || exit $?
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed" >&2; exit 77; }

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    [ -n "${NG:-}" ] && ng_log_tail "$NG" 15
    exit 1
}

NG=$(mktemp -d /tmp/ps-ng.XXXX) || exit 99
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    ng_stop "$NG" >/dev/null 2>&1
    if [ -z "${NG_KEEP:-}" ]; then rm -rf "$NG"; else echo "kept $NG" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

t0=$(ng__now_ds)
CA=$(ng_ca "$NG") || fail "ng_ca"
[ "$CA" = "$NG/ca/ca.pem" ] && [ -s "$CA" ] || fail "ng_ca printed '$CA'"
openssl verify -CAfile "$CA" "$NG/ca/good.pem" >/dev/null 2>&1 || fail "good cert does not verify"
openssl verify -CAfile "$CA" "$NG/ca/bad.pem" >/dev/null 2>&1 && fail "bad cert verifies against the CA"
t1=$(ng__now_ds)

# ng_start in a subshell (as tests will do) prints the port; the variables
# are then read back with ng_port
PORT=$(ng_start "$NG") || fail "ng_start"
t2=$(ng__now_ds)
case $PORT in [1-9][0-9]*) ;; *) fail "ng_start printed '$PORT'" ;; esac
[ "$(ng_port "$NG")" = "$PORT" ] || fail "ng_port differs"
BAD=$(ng_port "$NG" bad) || fail "ng_port bad"
HTTP=$(ng_port "$NG" http) || fail "ng_port http"
[ "$PORT" != "$BAD" ] && [ "$PORT" != "$HTTP" ] && [ "$BAD" != "$HTTP" ] || fail "ports not distinct: $PORT $BAD $HTTP"

# a second start in the same DIR must refuse
ng_start "$NG" >/dev/null 2>&1 && fail "second ng_start succeeded"

# the instance may listen on 127.0.0.1 only, on exactly our three ports
pids=$(ng__instance_pids "$NG")
[ -n "$pids" ] || fail "no processes found for the running instance"
expect=$(printf '0100007F:%04X\n' "$PORT" "$BAD" "$HTTP" | sort)
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

# --- fetch a key (advanced method)
KEY=$NG/key.bin
head -c 1500 /dev/urandom > "$KEY"
printf '\x99\x00\n\r\0end' >> "$KEY"
WKD=.well-known/openpgpkey/example.org/hu/xyz
ng_put_key "$NG" openpgpkey.example.org "$WKD" "$KEY" || fail "ng_put_key"
[ -f "$NG/www/openpgpkey.example.org/.well-known/openpgpkey/example.org/policy" ] || fail "no policy file"
RES=(--resolve "openpgpkey.example.org:$PORT:127.0.0.1")
read -ra ALLRES <<<"$(ng_curl_resolve "$NG")"
C=(curl -sS --max-time 10 --cacert "$CA")

"${C[@]}" "${RES[@]}" -o "$NG/out" "https://openpgpkey.example.org:$PORT/$WKD" || fail "curl fetch failed"
cmp -s "$NG/out" "$KEY" || fail "fetched bytes differ"
ct=$("${C[@]}" "${RES[@]}" -o /dev/null -w '%{content_type}' "https://openpgpkey.example.org:$PORT/$WKD")
[ "$ct" = application/octet-stream ] || fail "Content-Type '$ct'"
code=$("${C[@]}" "${RES[@]}" -o "$NG/out" -w '%{http_code}' "https://openpgpkey.example.org:$PORT/.well-known/openpgpkey/example.org/policy")
[ "$code" = 200 ] && [ ! -s "$NG/out" ] || fail "policy: $code, $(wc -c < "$NG/out") bytes"

# direct method via the helpers
ng_put_key "$NG" example.net .well-known/openpgpkey/hu/abc "$KEY" || fail "ng_put_key direct"
[ -f "$NG/www/example.net/.well-known/openpgpkey/policy" ] || fail "no direct policy file"
"${C[@]}" "${ALLRES[@]}" -o "$NG/out" "$(ng_url "$NG" example.net .well-known/openpgpkey/hu/abc)" ||
    fail "direct fetch failed"
cmp -s "$NG/out" "$KEY" || fail "direct: fetched bytes differ"
# the file of one host is not visible under another host name
code=$("${C[@]}" "${ALLRES[@]}" -o /dev/null -w '%{http_code}' "$(ng_url "$NG" example.com .well-known/openpgpkey/hu/abc)")
[ "$code" = 404 ] || fail "other host: $code"

# --- bad certificate port: verification must fail (curl exit 60)
"${C[@]}" --resolve "openpgpkey.example.org:$BAD:127.0.0.1" -o /dev/null \
    "https://openpgpkey.example.org:$BAD/$WKD" 2>/dev/null
rc=$?
[ $rc = 60 ] || fail "bad-cert port: curl exit $rc, expected 60"
# ... but it is the same content when verification is off
"${C[@]}" -k --resolve "openpgpkey.example.org:$BAD:127.0.0.1" -o "$NG/out" \
    "https://openpgpkey.example.org:$BAD/$WKD" || fail "bad-cert port with -k"
cmp -s "$NG/out" "$KEY" || fail "bad-cert port: bytes differ"
# a name not in the certificate fails too
"${C[@]}" --resolve "other.example.org:$PORT:127.0.0.1" -o /dev/null \
    "https://other.example.org:$PORT/$WKD" 2>/dev/null
rc=$?
[ $rc = 60 ] || fail "unlisted name: curl exit $rc, expected 60"

# --- status codes
req() { # URI -> "code redirect_url"
    "${C[@]}" "${RES[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "https://openpgpkey.example.org:$PORT$1"
}
r=$(req "/.well-known/openpgpkey/example.org/hu/missing") ; [ "$r" = "404 " ] || fail "missing: $r"
r=$(req "/err500/$WKD") ; [ "$r" = "500 " ] || fail "err500: $r"
r=$(req "/redirect-https/$WKD?l=alice")
[ "$r" = "302 https://openpgpkey.example.org:$PORT/$WKD?l=alice" ] || fail "redirect-https: $r"
r=$(req "/redirect-http/$WKD")
[ "$r" = "302 http://openpgpkey.example.org:$HTTP/$WKD" ] || fail "redirect-http: $r"
# following them lands on the file
"${C[@]}" -L "${RES[@]}" -o "$NG/out" "https://openpgpkey.example.org:$PORT/redirect-https/$WKD" &&
    cmp -s "$NG/out" "$KEY" || fail "following redirect-https"
"${C[@]}" -L --resolve "openpgpkey.example.org:$HTTP:127.0.0.1" "${RES[@]}" -o "$NG/out" \
    "https://openpgpkey.example.org:$PORT/redirect-http/$WKD" &&
    cmp -s "$NG/out" "$KEY" || fail "following redirect-http"
grep -q "^openpgpkey.example.org:$HTTP \"GET /$WKD HTTP/1.1\" 200 " "$NG/access.log" ||
    fail "plain-HTTP fetch not in access.log"

# --- slow: nothing (not even the status line) within 2 s
ts=$(ng__now_ds)
"${C[@]}" --max-time 2 "${RES[@]}" -o /dev/null "https://openpgpkey.example.org:$PORT/slow/$WKD" 2>/dev/null
rc=$?
te=$(ng__now_ds)
[ $rc = 28 ] || fail "slow: curl exit $rc, expected 28 (timeout)"
[ $(( te - ts )) -ge 19 ] || fail "slow: timed out after only $(( te - ts ))/10 s"

# --- per-host modes (the WKD path itself)
ng_put_key "$NG" keys.example.test "$WKD" "$KEY" || fail "ng_put_key keys.example.test"
ng_host_mode "$NG" openpgpkey.example.org err500 || fail "ng_host_mode"
r=$(req "/$WKD") ; [ "$r" = "500 " ] || fail "mode err500: $r"
ng_host_mode "$NG" openpgpkey.example.org err404
r=$(req "/$WKD") ; [ "$r" = "404 " ] || fail "mode err404: $r"
ng_host_mode "$NG" openpgpkey.example.org redirect-https
r=$(req "/$WKD") ; [ "$r" = "302 https://keys.example.test:$PORT/$WKD" ] || fail "mode redirect-https: $r"
"${C[@]}" -L "${ALLRES[@]}" -o "$NG/out" "https://openpgpkey.example.org:$PORT/$WKD" &&
    cmp -s "$NG/out" "$KEY" || fail "following mode redirect-https"
ng_host_mode "$NG" openpgpkey.example.org redirect-http
r=$(req "/$WKD") ; [ "$r" = "302 http://keys.example.test:$HTTP/$WKD" ] || fail "mode redirect-http: $r"
ng_host_mode "$NG" openpgpkey.example.org slow
"${C[@]}" --max-time 1 "${RES[@]}" -o /dev/null "https://openpgpkey.example.org:$PORT/$WKD" 2>/dev/null
rc=$?
[ $rc = 28 ] || fail "mode slow: curl exit $rc, expected 28"
ng_host_mode "$NG" openpgpkey.example.org normal
"${C[@]}" "${RES[@]}" -o "$NG/out" "https://openpgpkey.example.org:$PORT/$WKD" && cmp -s "$NG/out" "$KEY" ||
    fail "mode normal"
t3=$(ng__now_ds)

# --- stop
master=$(ng__master_pid "$NG") || fail "no master pid before stop"
pids=$(ng__instance_pids "$NG")
ng_stop "$NG" || fail "ng_stop"
t4=$(ng__now_ds)
for p in $pids; do
    ng__alive "$p" && ng__is_nginx "$p" && fail "process $p still running after ng_stop"
done
left=$(ng__instance_pids "$NG")
[ -z "$left" ] || fail "processes of the instance left: $left"
ng__master_pid "$NG" >/dev/null 2>&1 && fail "ng__master_pid still finds a master"
for p in "$PORT" "$BAD" "$HTTP"; do
    ng__listening "$p" && fail "port $p still listening after ng_stop"
done
ng_stop "$NG" || fail "second ng_stop"
# nothing was written to the system's nginx places by us
[ -e /run/nginx.pid ] && echo "note: /run/nginx.pid exists (not ours)" >&2

printf 'PASS: nginx selftest (ports %s/%s/%s; ca %d.%ds, start %d.%ds, checks %d.%ds, stop %d.%ds)\n' \
    "$PORT" "$BAD" "$HTTP" \
    $(( (t1 - t0) / 10 )) $(( (t1 - t0) % 10 )) \
    $(( (t2 - t1) / 10 )) $(( (t2 - t1) % 10 )) \
    $(( (t3 - t2) / 10 )) $(( (t3 - t2) % 10 )) \
    $(( (t4 - t3) / 10 )) $(( (t4 - t3) % 10 ))
exit 0
