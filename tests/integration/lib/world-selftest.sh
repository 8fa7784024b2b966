#!/bin/bash
# Self-test of tests/integration/lib/world.sh: build a small world (a
# signed root and TLD, a signed and an unsigned domain, a domain whose
# name server never answers, web servers with certificates of the test
# CA, a port that drops SYNs) and check the world itself, with the
# system's own tools and their default configuration:
#   1. the resolver (127.0.0.1, from /etc/resolv.conf) validates: AD on a
#      signed name, a secure NXDOMAIN, no AD on an unsigned name,
#      SERVFAIL for the dead name server
#   2. the bind mounts: resolv.conf, root.key (Debian's format), the
#      bundle with the test CA; the host (PID 1's mount namespace) still
#      has its own files
#   3. libunbound set up as postseal does (resolv.conf + root.key) sees
#      the signed name as secure (needs cc and libunbound-dev)
#   4. curl, with the system bundle only, fetches a WKD key over HTTPS;
#      a default server's certificate for another name does not verify;
#      a refused port and a dropped port fail as they should
#   5. world_web_reload puts a certificate for another name in place
#   6. gpg --locate-keys (dirmngr) finds the WKD key and the DANE key;
#      world_resolver_flush makes the resolver forget a zone, or all
#   7. world_stop leaves no server and no bind mount behind
# Exit status: 0 ok, 1 failure, 77 skip. WORLD_KEEP=1 keeps the dir.

here=$(cd "$(dirname "$0")" && pwd) || exit 99
# shellcheck source=world.sh
. "$here/world.sh" || exit 99

world_check || exit $?
HOST_RESOLV=$(cat /etc/resolv.conf 2>/dev/null)
world_enter "$0" "$@" || exit $?
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed" >&2; exit 77; }

FAILS=0
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL: %s\n' "$*" >&2; FAILS=$((FAILS + 1)); }
check() { # WHAT COMMAND...: ok when COMMAND succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

# shellcheck disable=SC2119  # a directory of its own
world_init || exit 99
trap world_cleanup EXIT
trap 'exit 1' INT TERM HUP
t0=$EPOCHREALTIME

world_zone example
world_zone signed.example
world_rr openpgpkey.signed.example A 127.0.0.10
world_rr signed.example A 127.0.0.10
world_zone unsigned.example unsigned
world_rr unsigned.example A 127.0.0.10
world_rr refused.unsigned.example A 127.0.0.41
world_rr dropped.unsigned.example A 127.0.0.40
world_zone dead.example unsigned ns=127.0.0.66
world_site 127.0.0.10 openpgpkey.signed.example
world_site 127.0.0.10 unsigned.example
world_gpg_key alice "Alice <alice@signed.example>" || exit 99
world_gpg_key dora "Dora <dora@signed.example>" || exit 99
world_wkd_put alice@signed.example "$W/keys/alice.gpg" || exit 99
world_openpgpkey dora@signed.example "$W/keys/dora.gpg" || exit 99
world_blackhole udp:127.0.0.66:53 tcp-drop:127.0.0.66:53 tcp-drop:127.0.0.40:443 || exit 99
world_start || { world_log_tail 10; echo "FAIL: the world did not start" >&2; exit 1; }
t1=$EPOCHREALTIME

# --- 1. the resolver --------------------------------------------------------------
# dq NAME TYPE: rcode, the AD flag and the answer's first rdata, one line
dq() {
	world_drill -D "$1" "$2" 2>/dev/null | awk -v t="$2" '
		/rcode:/ { for (i = 1; i <= NF; i++) if ($i == "rcode:") { r = $(i + 1); sub(/,/, "", r) } }
		/^;; flags:/ { ad = ($0 ~ / ad /) ? "ad" : "-" }
		!/^;/ && $4 == t && d == "" { d = $5 }
		END { printf "%s %s %s\n", r, ad, d }'
}
check "signed name: NOERROR with AD" [ "$(dq openpgpkey.signed.example A)" = "NOERROR ad 127.0.0.10" ]
check "signed zone, missing name: secure NXDOMAIN" [ "$(dq nothere.signed.example A)" = "NXDOMAIN ad " ]
check "signed zone, OPENPGPKEY: NOERROR with AD" \
	[ "$(dq "$(dns_openpgpkey_owner dora signed.example)" OPENPGPKEY | cut -d' ' -f1,2)" = "NOERROR ad" ]
check "unsigned name: NOERROR without AD" [ "$(dq unsigned.example A)" = "NOERROR - 127.0.0.10" ]
check "the TLD: NOERROR with AD" [ "$(dq example SOA | cut -d' ' -f1,2)" = "NOERROR ad" ]
# (unbound gives up on an unsigned delegation only after 15 s or more)
a=$(timeout 4 "$DNS_DRILL" @127.0.0.1 x.dead.example A 2>/dev/null | grep -c 'rcode: NOERROR')
check "a name server that never answers: no answer (SERVFAIL or none in 4 s)" [ "$a" = 0 ]

# --- 2. the bind mounts --------------------------------------------------------------
check "/etc/resolv.conf names 127.0.0.1" [ "$(cat /etc/resolv.conf)" = "nameserver 127.0.0.1" ]
check "/usr/share/dns/root.key is the test root's KSK" cmp -s /usr/share/dns/root.key "$WORLD_ROOT_KEY"
if grep -Eq '^\. IN DNSKEY 257 3 13 [A-Za-z0-9+/=]+ ; keytag [0-9]+$' /usr/share/dns/root.key &&
	[ "$(wc -l < /usr/share/dns/root.key)" = 1 ]; then
	ok "root.key has Debian's format"
else
	bad "root.key format: $(cat /usr/share/dns/root.key)"
fi
check "the system bundle ends with the test CA" \
	[ "$(tail -c "$(wc -c < "$WORLD_CA")" /etc/ssl/certs/ca-certificates.crt)" = "$(cat "$WORLD_CA")" ]
if outside=$(cat /proc/1/root/etc/resolv.conf 2>/dev/null) ||
	outside=$(nsenter -m -t 1 cat /etc/resolv.conf 2>/dev/null); then
	check "the host's /etc/resolv.conf is untouched" [ "$outside" = "$HOST_RESOLV" ]
else
	ok "(cannot look into PID 1's mount namespace: host files not compared)"
fi

# --- 3. libunbound as postseal sets it up ---------------------------------------------
CC=${CC:-cc}
cat > "$W/probe.c" <<'EOF'
/* probe NAME TYPE: libunbound with /etc/resolv.conf and Debian's root
 * key, as postseal's dnsfetch.c does; prints "rcode=N secure=N bogus=N" */
#include <stdio.h>
#include <stdlib.h>
#include <unbound.h>
int main(int argc, char **argv) {
	struct ub_ctx *ctx = ub_ctx_create();
	struct ub_result *r;
	if (argc != 3 || !ctx) return 2;
	ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");
	if (ub_ctx_resolvconf(ctx, NULL) || ub_ctx_add_ta_file(ctx, "/usr/share/dns/root.key") ||
	    ub_resolve(ctx, argv[1], atoi(argv[2]), 1, &r)) return 2;
	printf("rcode=%d secure=%d bogus=%d\n", r->rcode, r->secure, r->bogus);
	return 0;
}
EOF
if command -v "$CC" >/dev/null 2>&1 && "$CC" -o "$W/probe" "$W/probe.c" -lunbound 2>/dev/null; then
	check "libunbound (resolv.conf, root.key): signed name secure" \
		[ "$("$W/probe" openpgpkey.signed.example 1)" = "rcode=0 secure=1 bogus=0" ]
	check "libunbound (resolv.conf, root.key): unsigned name insecure" \
		[ "$("$W/probe" unsigned.example 1)" = "rcode=0 secure=0 bogus=0" ]
else
	ok "(no C compiler or libunbound-dev: libunbound not probed)"
fi

# --- 4. HTTPS with the system bundle ---------------------------------------------------
HU=.well-known/openpgpkey/signed.example/hu/$(world_wkd_hash alice@signed.example)
check "curl fetches the WKD key, verified against the system bundle" \
	curl -sSf -o "$W/got.key" "https://openpgpkey.signed.example/$HU"
check "... and it is alice's key" cmp -s "$W/got.key" "$W/keys/alice.gpg"
check "... the advanced method's policy file is there" \
	curl -sSf -o /dev/null "https://openpgpkey.signed.example/.well-known/openpgpkey/signed.example/policy"
curl -sS -o /dev/null "https://signed.example/" 2>/dev/null
check "a default server presents a certificate for another name (curl exit 60)" [ $? = 60 ]
curl -sS -o /dev/null --connect-timeout 2 "https://refused.unsigned.example/" 2>/dev/null
check "a port where nothing listens refuses (curl exit 7)" [ $? = 7 ]
a=$EPOCHREALTIME
curl -sS -o /dev/null --connect-timeout 1 "https://dropped.unsigned.example/" 2>/dev/null
rc=$?
check "a dropping port times out (curl exit 28, not a refusal)" [ $rc = 28 ]
check "... after the connect timeout" awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN {exit !(b - a >= 0.9)}'

# --- 5. a site's certificate changed ----------------------------------------------------
world_site 127.0.0.10 unsigned.example cert=www.webhost.example
world_web_reload || bad "world_web_reload"
curl -sS -o /dev/null "https://unsigned.example/" 2>/dev/null
check "after world_web_reload the site presents the other name's certificate" [ $? = 60 ]
check "... and the other sites are unchanged" curl -sSf -o /dev/null "https://openpgpkey.signed.example/$HU"

# --- 6. gpg's dirmngr sees the same world ------------------------------------------------
got=$(WORLD_GPG_AKL=clear,wkd,nodefault world_gpg_locate alice@signed.example)
check "gpg --locate-keys finds alice's key in WKD" [ "$got" = "$(cat "$W/keys/alice.fpr")" ] ||
	sed 's/^/    /' "$W/run/gpg-locate.err"
got=$(WORLD_GPG_AKL=clear,dane,nodefault world_gpg_locate dora@signed.example)
check "gpg --locate-keys finds dora's key in DANE" [ "$got" = "$(cat "$W/keys/dora.fpr")" ] ||
	sed 's/^/    /' "$W/run/gpg-locate.err"

# --- 6b. the resolver forgets on request --------------------------------------------------
# cached NAME: the resolver's cache holds an rrset of NAME
cached() { world__control dump_cache | grep -q "^$1[[:space:]]"; }
uncached() { ! cached "$1"; }
q0=$(world_resolver_queries)
world_drill openpgpkey.signed.example A > /dev/null 2>&1
world_drill unsigned.example A > /dev/null 2>&1
check "world_resolver_queries counts the queries" [ "$(world_resolver_queries)" -ge $((q0 + 2)) ]
check "the resolver caches what it was asked" cached openpgpkey.signed.example.
world_resolver_flush signed.example || bad "world_resolver_flush signed.example"
check "world_resolver_flush ZONE: the zone is forgotten" uncached openpgpkey.signed.example.
check "... the others are not" cached unsigned.example.
world_resolver_flush || bad "world_resolver_flush"
check "world_resolver_flush: everything is forgotten" uncached unsigned.example.
check "... and the resolver still validates" [ "$(dq openpgpkey.signed.example A)" = "NOERROR ad 127.0.0.10" ]
t2=$EPOCHREALTIME

# --- 7. stop --------------------------------------------------------------------------------
world_stop
left=""
for p in /proc/[0-9]*; do
	c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
	case $c in *"$W/"*) left="$left ${p#/proc/}:${c%% *}" ;; esac
done
check "no process of the world is left after world_stop" [ -z "$left" ] || echo "    left:$left"
check "the bind mounts are gone" [ "$(cat /etc/resolv.conf)" = "$HOST_RESOLV" ]

printf 'world-selftest: %s (start %ss, checks %ss)\n' "$([ $FAILS = 0 ] && echo ok || echo "$FAILS FAILED")" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" \
	"$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.1f", b - a}')"
[ $FAILS = 0 ]
