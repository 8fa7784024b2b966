#!/bin/bash
# Self-test of tests/integration/lib/dns.sh: build three zones (example.test
# signed, bogus.test signed and then tampered, insecure.test unsigned), serve
# them with a private nsd on 127.0.0.1, and check with a tiny libunbound
# program (built here into the temp dir, the way postseal will resolve) that
#   1. the OPENPGPKEY of example.test validates: rcode 0, secure, data == key
#   2. a missing name in example.test is a secure NXDOMAIN (rcode 3)
#   3. the tampered OPENPGPKEY of bogus.test is bogus
#   4. the OPENPGPKEY of the unsigned insecure.test is insecure (not bogus)
# (plus: secure NODATA, insecure NXDOMAIN), once with ub_ctx_set_stub() and
# once with ub_ctx_set_fwd().  Then stop nsd and check that nothing of it is
# left running.  Exit status: 0 ok, 1 failure, 77 skip, 99 hard error.
# DNS_KEEP=1 keeps the temp dir.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=dns.sh
. "$here/dns.sh" || exit 99

dns__check || exit $?
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "SKIP: no C compiler ($CC)" >&2; exit 77
fi

fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

D=$(mktemp -d /tmp/ps-dns.XXXX) || exit 99
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    dns_stop "$D" >/dev/null 2>&1
    if [ -z "${DNS_KEEP:-}" ]; then rm -rf "$D"; else echo "kept $D" >&2; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ------------------------------------------------------------ probe program
cat > "$D/probe.c" <<'EOF'
/* probe stub|fwd PORT ANCHOR... -- NAME TYPE [OUTFILE]
 * prints "rcode=N secure=N bogus=N havedata=N nxdomain=N", writes the first
 * rdata to OUTFILE when given. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unbound.h>
#define CHK(what, call) do { int r_ = (call); if (r_) { \
    fprintf(stderr, "probe: %s: %s\n", what, ub_strerror(r_)); return 2; } } while (0)
int main(int argc, char **argv) {
    struct ub_ctx *ctx;
    struct ub_result *res;
    char addr[64];
    int i;
    if (argc < 6) { fprintf(stderr, "usage: probe stub|fwd PORT ANCHOR... -- NAME TYPE [OUT]\n"); return 2; }
    snprintf(addr, sizeof addr, "127.0.0.1@%s", argv[2]);
    if (!(ctx = ub_ctx_create())) { fprintf(stderr, "probe: ub_ctx_create\n"); return 2; }
    CHK("do-not-query-localhost", ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"));
    CHK("local-zone", ub_ctx_set_option(ctx, "local-zone:", "test. transparent"));
    if (strcmp(argv[1], "fwd") == 0)
        CHK("set_fwd", ub_ctx_set_fwd(ctx, addr));
    else
        CHK("set_stub", ub_ctx_set_stub(ctx, "test.", addr, 0));
    for (i = 3; i < argc && strcmp(argv[i], "--") != 0; i++)
        CHK(argv[i], ub_ctx_add_ta_file(ctx, argv[i]));
    if (i + 2 >= argc) { fprintf(stderr, "probe: missing NAME TYPE\n"); return 2; }
    CHK("resolve", ub_resolve(ctx, argv[i + 1], atoi(argv[i + 2]), 1, &res));
    printf("rcode=%d secure=%d bogus=%d havedata=%d nxdomain=%d\n",
           res->rcode, res->secure, res->bogus, res->havedata, res->nxdomain);
    if (res->why_bogus) fprintf(stderr, "probe: why_bogus: %s\n", res->why_bogus);
    if (i + 3 < argc && res->havedata) {
        FILE *f = fopen(argv[i + 3], "wb");
        if (!f || fwrite(res->data[0], 1, res->len[0], f) != (size_t)res->len[0] || fclose(f)) {
            perror(argv[i + 3]); return 2;
        }
    }
    ub_resolve_free(res);
    ub_ctx_delete(ctx);
    return 0;
}
EOF
if ! out=$("$CC" -o "$D/probe" "$D/probe.c" -lunbound 2>&1); then
    case $out in
    *unbound.h*|*lunbound*) echo "SKIP: libunbound-dev not installed" >&2; exit 77 ;;
    esac
    printf '%s\n' "$out" >&2
    fail "cannot compile the libunbound probe"
fi

# ------------------------------------------------------------ zones
t0=$(dns__now_ds)
# Not a real OpenPGP key (DNS does not care): an old-style public-key packet
# tag followed by 1500 random bytes -- big enough to force TC + TCP retry.
{ printf '\231'; head -c 1500 /dev/urandom; } > "$D/alice.pgp" || exit 99
{ printf '\306'; head -c 200 /dev/urandom; } > "$D/bob.pgp" || exit 99

own_ex=$(dns_openpgpkey_owner alice example.test) || fail "dns_openpgpkey_owner"
[ "$own_ex" = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db._openpgpkey.example.test." ] ||
    fail "dns_openpgpkey_owner alice example.test printed '$own_ex'"
own_bo=$(dns_openpgpkey_owner alice bogus.test)
own_in=$(dns_openpgpkey_owner bob insecure.test)

dns_zone "$D" example.test || fail "dns_zone example.test"
dns_add_openpgpkey "$D" example.test "$own_ex" "$D/alice.pgp" || fail "dns_add_openpgpkey example.test"
dns_sign "$D" example.test || fail "dns_sign example.test"
[ -s "$D/example.test.anchor" ] || fail "no $D/example.test.anchor"

dns_zone "$D" bogus.test || fail "dns_zone bogus.test"
dns_add_openpgpkey "$D" bogus.test "$own_bo" "$D/alice.pgp" || fail "dns_add_openpgpkey bogus.test"
dns_sign "$D" bogus.test || fail "dns_sign bogus.test"
dns_tamper "$D" bogus.test || fail "dns_tamper bogus.test"
cmp -s "$D/zones/bogus.test.zone.signed" "$D/zones/bogus.test.zone.signed.good" &&
    fail "dns_tamper did not change the signed zone"

dns_zone "$D" insecure.test || fail "dns_zone insecure.test"
dns_add_openpgpkey "$D" insecure.test "$own_in" "$D/bob.pgp" || fail "dns_add_openpgpkey insecure.test"
t1=$(dns__now_ds)

PORT=$(dns_start "$D") || fail "dns_start"
t2=$(dns__now_ds)
[ "$(dns_port "$D")" = "$PORT" ] || fail "dns_port"
pids=$(dns__pids "$D")
[ -n "$pids" ] || fail "no nsd processes found"

# nsd must listen on 127.0.0.1 only: every inet socket of its processes
# must be bound to 127.0.0.1 (0100007F)
sockinfo=$(awk 'FNR > 1 { print $10, $2 }' /proc/net/tcp /proc/net/udp /proc/net/tcp6 /proc/net/udp6 2>/dev/null)
for p in $pids; do
    for fd in /proc/"$p"/fd/*; do
        l=$(readlink "$fd" 2>/dev/null) || continue
        case $l in socket:\[*\])
            ino=${l#socket:[}; ino=${ino%]}
            la=$(printf '%s\n' "$sockinfo" | awk -v i="$ino" '$1 == i { print $2; exit }')
            case $la in
            '') ;;                        # not an inet socket
            0100007F:*) ;;
            *) fail "nsd process $p has an inet socket on $la" ;;
            esac ;;
        esac
    done
done

# ------------------------------------------------------------ checks
# expect MODE WHAT "ANCHORS" NAME TYPE EXPECTED [OUTFILE]
expect() {
    local mode=$1 what=$2 anchors=$3 name=$4 type=$5 want=$6 outf=$7 got
    # shellcheck disable=SC2086
    got=$("$D/probe" "$mode" "$PORT" $anchors -- "$name" "$type" $outf 2>"$D/probe.err") ||
        { cat "$D/probe.err" >&2; fail "$mode: $what: probe failed"; }
    if [ "$got" != "$want" ]; then
        cat "$D/probe.err" >&2
        dns_log_tail "$D" 10
        fail "$mode: $what: got '$got', want '$want'"
    fi
    printf 'ok   %-4s %-28s %s\n' "$mode" "$what" "$got"
}

anchors="$D/example.test.anchor $D/bogus.test.anchor"
for mode in stub fwd; do
    rm -f "$D/got.bin"
    expect "$mode" "1 secure data" "$anchors" "$own_ex" 61 \
        "rcode=0 secure=1 bogus=0 havedata=1 nxdomain=0" "$D/got.bin"
    cmp -s "$D/got.bin" "$D/alice.pgp" || fail "$mode: OPENPGPKEY rdata differs from the key file"
    expect "$mode" "2 secure NXDOMAIN" "$anchors" "nobody._openpgpkey.example.test." 61 \
        "rcode=3 secure=1 bogus=0 havedata=0 nxdomain=1"
    expect "$mode" "   secure NODATA" "$anchors" "openpgpkey.example.test." 61 \
        "rcode=0 secure=1 bogus=0 havedata=0 nxdomain=0"
    expect "$mode" "3 bogus (tampered)" "$anchors" "$own_bo" 61 \
        "rcode=0 secure=0 bogus=1 havedata=1 nxdomain=0"
    grep -q 'signature verification failed' "$D/probe.err" ||
        fail "$mode: unexpected why_bogus: $(cat "$D/probe.err")"
    rm -f "$D/got.bin"
    expect "$mode" "4 insecure data" "$anchors" "$own_in" 61 \
        "rcode=0 secure=0 bogus=0 havedata=1 nxdomain=0" "$D/got.bin"
    cmp -s "$D/got.bin" "$D/bob.pgp" || fail "$mode: insecure OPENPGPKEY rdata differs from the key file"
    expect "$mode" "   insecure NXDOMAIN" "$anchors" "nobody._openpgpkey.insecure.test." 61 \
        "rcode=3 secure=0 bogus=0 havedata=0 nxdomain=1"
done
t3=$(dns__now_ds)

dns_stop "$D" || fail "dns_stop"
t4=$(dns__now_ds)
left=$(dns__pids "$D")
[ -z "$left" ] || fail "nsd processes left after dns_stop: $left"
for p in $pids; do
    st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
    case $st in ''|Z|X) ;; *) fail "nsd process $p still alive (state $st)" ;; esac
done
dns__port_busy "$PORT" && fail "port $PORT still in use after dns_stop"

printf 'dns-selftest: ok (zones+keys+signing %s.%ss, nsd start %s.%ss, 12 lookups %s.%ss, stop %s.%ss)\n' \
    $(( (t1 - t0) / 10 )) $(( (t1 - t0) % 10 )) $(( (t2 - t1) / 10 )) $(( (t2 - t1) % 10 )) \
    $(( (t3 - t2) / 10 )) $(( (t3 - t2) % 10 )) $(( (t4 - t3) / 10 )) $(( (t4 - t3) % 10 ))
exit 0
