# shellcheck shell=bash
#
# tests/integration/lib/world.sh - a small private INTERNET for tests that
# must run postseal (and gpg) with a DEFAULT configuration: no [keyfetch]
# ca-file, connect-to, dns-forwarder or trust-anchor. Source it from a
# bash test; it re-executes the test in a private network and mount
# namespace, where port 53, port 443 and all of 127.0.0.0/8 belong to the
# test, and where four system files are replaced by bind mounts that only
# the test's processes see (the host is never touched):
#
#   /etc/resolv.conf                    "nameserver 127.0.0.1"
#   /usr/share/dns/root.key             the test root's KSK (DNSKEY, in
#                                       Debian dns-root-data's format; what
#                                       postseal's libunbound and unbound
#                                       trust)
#   /usr/share/dns/root.hints           the test root's name server (what
#                                       a resolver that recurses itself
#                                       starts from)
#   /etc/ssl/certs/ca-certificates.crt  the system bundle + the test CA
#
# In that namespace:
#   127.0.0.1:53   unbound, a recursive VALIDATING resolver: root hints
#                  point at the test root, trust anchor = the test root
#   127.0.0.2:53   nsd, authoritative for every declared zone that has no
#                  ns= of its own: a DNSSEC-signed root ".", signed and
#                  unsigned zones below it, delegations with DS (signed
#                  child) or without (unsigned child), glue for every name
#                  server (ns.ZONE)
#   ADDR:443       nginx, one server block per world_site, certificates
#                  from a throwaway CA (one per site, for the site's names
#                  unless told otherwise); on every address a default
#                  server (the first name nobody declared lands there)
#   ADDR:PORT      servers that never answer (world_blackhole)
#
# Everything lives in one directory W (short, under /tmp: gpg-agent
# sockets) and is stopped and removed by world_cleanup (call it from the
# test's EXIT trap):
#   W/ca/ca.pem, ca.key         the test CA (WORLD_CA)
#   W/dns/                      zones/, keys/, nsd.conf, unbound.conf, logs
#   W/dns/root.key              the root's trust anchor (WORLD_ROOT_KEY)
#   W/web/                      nginx.conf, certs/, www/HOST/..., logs
#   W/etc/                      resolv.conf, ca-certificates.crt (the
#                               bundle, WORLD_BUNDLE): the mount sources
#   W/keys/NAME.gpg, NAME.fpr   keys made by world_gpg_key; W/keys/home
#                               (WORLD_KEYRING) holds their secret keys
#   W/run/                      pids, mounts, helper logs
#
# Functions (return 0, or 1 with a one-line "world.sh: ..." on stderr, or
# 77 = skip with a "SKIP: ..." line):
#
#   world_check                 root, the programs (nsd, unbound,
#                               ldnsutils, nginx, openssl, gpg, python3,
#                               ip, unshare) and the four files to
#                               replace exist; 77 when not, but 1 when a
#                               program or file is missing under CI=true
#   world_enter SCRIPT [ARG...] unless WORLD_NS=1: re-execute
#                               "bash SCRIPT ARG..." under
#                               `unshare -m -n --propagation private`
#                               with WORLD_NS=1 (exec: does not return on
#                               success; 77 when unshare does not work);
#                               with WORLD_NS=1: bring lo up
#   world_init [DIR]            make W (DIR, or mktemp -d /tmp/psw.XXXXXX),
#                               the CA, declare the signed root zone; sets
#                               W, WORLD_CA, WORLD_BUNDLE, WORLD_ROOT_KEY,
#                               WORLD_KEYRING. Not in a subshell.
#   world_zone ZONE [unsigned] [ns=ADDR]
#                               declare ZONE (signed unless "unsigned"),
#                               a child of the nearest declared ancestor
#                               (declare parents first). Its name server
#                               is ns.ZONE, at ADDR (default: nsd,
#                               WORLD_NS_ADDR); a zone whose ns= is not
#                               nsd is only delegated, never served (use
#                               it with world_blackhole for a dead name
#                               server)
#   world_rr NAME TYPE RDATA... add "NAME 300 IN TYPE RDATA" to the deepest
#                               declared zone holding NAME ("*.d.example"
#                               for a wildcard)
#   world_openpgpkey ADDR FILE  the RFC 7929 OPENPGPKEY record of ADDR
#                               (FILE: a binary key) in its zone
#   world_site ADDR NAMES [cert=NAMES] [redirect=URL] [default]
#                               an HTTPS server block on ADDR:443 for NAMES
#                               (comma-separated). It presents a CA-signed
#                               certificate for cert=NAMES (default: its
#                               own NAMES); redirect=URL answers every
#                               request with 301 to URL$request_uri;
#                               "default": the default server of ADDR
#                               (else ADDR gets one presenting a
#                               certificate for WORLD_DEFAULT_CERT). Files
#                               come from W/web/www/$host/. Declaring the
#                               same first name again replaces the site
#                               (then world_web_reload).
#   world_put HOST PATH FILE    serve FILE as https://HOST/PATH
#   world_wkd_put ADDR FILE [advanced|direct] [HOST]
#                               serve FILE as ADDR's WKD key (advanced:
#                               on openpgpkey.DOMAIN, direct: on DOMAIN,
#                               or on HOST), with the method's empty
#                               policy file
#   world_blackhole SPEC...     start lib/blackhole.py: SPEC is
#                               udp:ADDR:PORT (reads and drops),
#                               tcp-drop:ADDR:PORT (SYNs get no answer)
#                               or tcp-silent:ADDR:PORT (accepts, never
#                               speaks), or dnsfilter:/dnsstrip: (DNS
#                               proxies that drop some queries, or strip
#                               DNSSEC; see blackhole.py)
#   world_start                 build and sign the zones, start nsd and
#                               unbound (waits until unbound answers with
#                               AD for the root), nginx (when a site was
#                               declared), then the bind mounts
#   world_web_reload            rewrite nginx.conf from the sites and make
#                               nginx use it (waits for a new worker)
#   world_gpg_key NAME UID [expired]
#                               a fresh key (ed25519 sign + cv25519 encr)
#                               for UID in WORLD_KEYRING; its binary
#                               public key in W/keys/NAME.gpg and primary
#                               fingerprint in W/keys/NAME.fpr. "expired":
#                               made in 2020, expired since 2020-01-02
#   world_gpg_locate ADDR       gpg --locate-keys ADDR with
#                               --auto-key-locate WORLD_GPG_AKL in a fresh
#                               GnuPG home (dirmngr sees this world too);
#                               prints the primary fingerprints it got;
#                               gpg's stderr in W/run/gpg-locate.err
#   world_wkd_hash ADDR         z-base-32 SHA-1 of the local part
#   world_drill ARGS...         drill @127.0.0.1 ARGS (the resolver's view)
#   world_resolver_flush [ZONE...]
#                               make the resolver forget: each ZONE and
#                               everything below it (unbound-control
#                               flush_zone), or with no ZONE everything
#                               it has learnt (records, keys, negative
#                               answers, the servers' round-trip times),
#                               as if it had just started
#   world_resolver_queries      the number of queries the resolver has
#                               been asked since it started
#   world_log_tail [N]          the last N lines of every server's log
#   world_stop                  stop every server, gpg agents and dirmngrs
#                               under W, undo the bind mounts
#   world_cleanup               world_stop, then remove W (not with
#                               WORLD_KEEP=1)
#
# Variables (defaults): WORLD_RESOLVER (127.0.0.1), WORLD_NS_ADDR
# (127.0.0.2: the address of every zone's name server in NS glue and the
# root hints), WORLD_NSD_LISTEN (WORLD_NS_ADDR: where nsd listens; set
# it apart to put something, e.g. bench/delayproxy.py, between unbound and
# nsd), WORLD_TTL (300), WORLD_DEFAULT_CERT (default.world.invalid),
# WORLD_GPG_AKL (clear,dane,wkd,nodefault), WORLD_PY (/usr/bin/python3).
# A site's address (world_site) and the A records that point at it are
# independent in the same way: point the names at a proxy, declare the
# sites on the address behind it.
#
# Typical use:
#   . "$SRCDIR/tests/integration/lib/world.sh"
#   world_check || exit $?
#   world_enter "$0" "$@" || exit $?
#   world_init || exit 1
#   trap world_cleanup EXIT
#   world_zone example
#   world_zone d1.example
#   world_rr openpgpkey.d1.example A 127.0.0.10
#   world_site 127.0.0.10 openpgpkey.d1.example
#   world_gpg_key alice 'Alice <alice@d1.example>'
#   world_wkd_put alice@d1.example "$W/keys/alice.gpg"
#   world_start || exit 1
#   curl https://openpgpkey.d1.example/...      # verifies, resolves
#
# Verified on Debian 12 (nsd 4.6.1, unbound 1.17.1, nginx 1.22.1, gpg
# 2.2.40, curl 7.88.1) by tests/integration/lib/world-selftest.sh. Notes:
#   * a network namespace has no packet filter here (no nft/iptables), so
#     "drops packets" is made without one (blackhole.py tcp-drop).
#   * the bind mounts are refused unless this process is in a mount
#     namespace other than the one world_enter started from, so the
#     host's files are never replaced.

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"
# dns_openpgpkey_owner, dns_stop, dns__pids
# shellcheck source=dns.sh
. "$(dirname "${BASH_SOURCE[0]}")/dns.sh"
# ng_stop, ng__master_pid
# shellcheck source=nginx.sh
. "$(dirname "${BASH_SOURCE[0]}")/nginx.sh"

WORLD_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_RESOLVER=${WORLD_RESOLVER:-127.0.0.1}
WORLD_NS_ADDR=${WORLD_NS_ADDR:-127.0.0.2}
WORLD_NSD_LISTEN=${WORLD_NSD_LISTEN:-$WORLD_NS_ADDR}
WORLD_TTL=${WORLD_TTL:-300}
WORLD_DEFAULT_CERT=${WORLD_DEFAULT_CERT:-default.world.invalid}
WORLD_GPG_AKL=${WORLD_GPG_AKL:-clear,dane,wkd,nodefault}
WORLD_UNBOUND=${WORLD_UNBOUND:-/usr/sbin/unbound}
WORLD_UNBOUND_CONTROL=${WORLD_UNBOUND_CONTROL:-/usr/sbin/unbound-control}
WORLD_PY=${WORLD_PY:-/usr/bin/python3}
[ -x "$WORLD_PY" ] || WORLD_PY=$(command -v python3 2>/dev/null || echo /usr/bin/python3)
WORLD_ALG=${WORLD_ALG:-ECDSAP256SHA256}
# the files replaced inside the namespace
WORLD_SYS_RESOLV=/etc/resolv.conf
WORLD_SYS_ROOTKEY=/usr/share/dns/root.key
WORLD_SYS_ROOTHINTS=/usr/share/dns/root.hints
WORLD_SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt

world__err() { printf 'world.sh: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- checks

world_check() {
    local p missing="" f
    lib__need_root 'the test world (namespaces, ports 53 and 443)' || return 77
    for p in "$DNS_NSD" "$WORLD_UNBOUND" "$DNS_KEYGEN" "$DNS_SIGNZONE" "$DNS_DRILL" \
        "$NG_NGINX" "$NG_OPENSSL" gpg gpgconf "$WORLD_PY" ip unshare mount umount; do
        command -v "$p" >/dev/null 2>&1 || missing="$missing ${p##*/}"
    done
    for f in "$WORLD_SYS_RESOLV" "$WORLD_SYS_ROOTKEY" "$WORLD_SYS_ROOTHINTS" "$WORLD_SYS_BUNDLE"; do
        [ -f "$f" ] || missing="$missing $f"
    done
    [ -z "$missing" ] && return 0
    if [ "${CI:-}" = true ]; then
        printf 'FAIL: the test world needs what is missing here:%s\n' "$missing" >&2
        return 1
    fi
    printf 'SKIP: the test world needs what is missing here:%s\n' "$missing" >&2
    return 77
}

world_enter() {
    if [ "${WORLD_NS:-}" = 1 ]; then
        ip link set lo up 2>/dev/null
        case $(ip -o addr show dev lo 2>/dev/null) in
        *"inet 127.0.0.1/"*) return 0 ;;
        esac
        world__err "no 127.0.0.1 in the private network namespace"
        return 1
    fi
    lib__need_root 'the test world (namespaces)' || return 77
    if ! unshare -m -n --propagation private ip link set lo up >/dev/null 2>&1; then
        printf 'SKIP: unshare -m -n --propagation private does not work here\n' >&2
        return 77
    fi
    # the mount namespace left behind: world__mount refuses to run in it
    WORLD_NS=1 WORLD_HOST_MNTNS=$(readlink /proc/self/ns/mnt) \
        exec unshare -m -n --propagation private -- bash "$@"
}

# ---------------------------------------------------------------- names

# world__zone NAME: lower case, no trailing dot; the root is "."
world__zone() {
    local z=${1%.}
    z=${z,,}
    [ -z "$z" ] && { echo .; return 0; }
    case $z in
    *[!a-z0-9._*-]* | .* | *..*) world__err "bad name '$1'"; return 2 ;;
    esac
    printf '%s\n' "$z"
}

# world__fqdn NAME: lower case with the trailing dot
world__fqdn() {
    local z
    z=$(world__zone "$1") || return 2
    [ "$z" = . ] && { echo .; return 0; }
    printf '%s.\n' "$z"
}

# world__zf ZONE: the file name of ZONE ("root" for the root)
world__zf() { [ "$1" = . ] && echo root || echo "$1"; }

# world__zones: every declared zone
world__zones() {
    local f
    for f in "$W"/dns/decl/*; do
        [ -f "$f" ] || continue
        f=${f##*/}
        [ "$f" = root ] && echo . || echo "$f"
    done
}

# world__zone_of NAME: the deepest declared zone holding NAME
world__zone_of() {
    local n z best=. len=0
    n=$(world__zone "$1") || return 2
    for z in $(world__zones); do
        [ "$z" = . ] && continue
        case $n in
        "$z" | *".$z")
            [ ${#z} -gt "$len" ] && { best=$z; len=${#z}; } ;;
        esac
    done
    printf '%s\n' "$best"
}

# world__parent ZONE: the zone that delegates ZONE
world__parent() {
    [ "$1" = . ] && return 1
    case $1 in
    *.*) world__zone_of "${1#*.}" ;;
    *) echo . ;;
    esac
}

# world__decl ZONE KEY: a field (signed, ns) of ZONE's declaration
world__decl() {
    local k v f=root
    [ "$1" = . ] || f=$1
    while IFS='=' read -r k v; do
        [ "$k" = "$2" ] && { printf '%s\n' "$v"; return 0; }
    done < "$W/dns/decl/$f"
    return 1
}

# ---------------------------------------------------------------- init

world_init() {
    local out
    if [ -n "${1:-}" ]; then
        W=$(lib__dir world.sh "$1") || return 1
        mkdir -p "$W" || return 1
    else
        W=$(mktemp -d /tmp/psw.XXXXXX) || return 1
    fi
    chmod 755 "$W"
    mkdir -p "$W/ca" "$W/dns/decl" "$W/dns/body" "$W/dns/zones" "$W/dns/keys" \
        "$W/web/sites" "$W/web/certs" "$W/web/www" "$W/web/tmp" "$W/etc" "$W/run" \
        "$W/keys" || return 1
    mkdir -m 700 "$W/keys/home" 2>/dev/null || [ -d "$W/keys/home" ] || return 1
    WORLD_CA=$W/ca/ca.pem
    WORLD_BUNDLE=$W/etc/ca-certificates.crt
    WORLD_ROOT_KEY=$W/dns/root.key
    WORLD_KEYRING=$W/keys/home
    out=$(cd "$W/ca" && "$NG_OPENSSL" req -x509 -new -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 3650 \
        -subj "/CN=postseal test world CA $$" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" 2>&1) || {
        world__err "cannot make the CA: $out"; return 1; }
    chmod 644 "$W/ca/ca.pem"
    printf 'signed=1\nns=%s\n' "$WORLD_NS_ADDR" > "$W/dns/decl/root"
    : > "$W/dns/body/root"
}

# ---------------------------------------------------------------- DNS

world_zone() {
    local z a signed=1 ns=$WORLD_NS_ADDR
    z=$(world__zone "$1") || return 2
    shift
    [ "$z" = . ] && { world__err "the root is declared by world_init"; return 2; }
    for a in "$@"; do
        case $a in
        unsigned) signed=0 ;;
        signed) signed=1 ;;
        ns=*) ns=${a#ns=} ;;
        *) world__err "world_zone: unknown option '$a'"; return 2 ;;
        esac
    done
    printf 'signed=%s\nns=%s\n' "$signed" "$ns" > "$W/dns/decl/$z"
    : >> "$W/dns/body/$z"
}

world_rr() {
    local n z
    [ $# -ge 3 ] || { world__err "usage: world_rr NAME TYPE RDATA..."; return 2; }
    n=$(world__fqdn "$1") || return 2
    z=$(world__zone_of "$n") || return 2
    shift
    printf '%s %s IN %s\n' "$n" "$WORLD_TTL" "$*" >> "$W/dns/body/$(world__zf "$z")"
}

world_openpgpkey() {
    local addr=$1 file=$2 own z b64
    [ -s "$file" ] || { world__err "world_openpgpkey: no key file '$file'"; return 1; }
    own=$(dns_openpgpkey_owner "${addr%@*}" "${addr##*@}") || return 1
    z=$(world__zone_of "$own") || return 2
    b64=$(base64 -w 64 < "$file") || return 1
    {
        printf '%s %s IN OPENPGPKEY (\n' "$own" "$WORLD_TTL"
        # shellcheck disable=SC2086  # one chunk a line
        printf '    %s\n' $b64
        printf '    )\n'
    } >> "$W/dns/body/$(world__zf "$z")"
}

# world__keys ZONE: make (once) the KSK and ZSK of ZONE
world__keys() {
    local z=$1 zf k kind
    zf=$(world__zf "$z")
    for kind in ksk zsk; do
        [ -s "$W/dns/keys/$zf.$kind" ] && continue
        if [ $kind = ksk ]; then
            k=$(cd "$W/dns/keys" && "$DNS_KEYGEN" -a "$WORLD_ALG" -k "$z") || return 1
        else
            k=$(cd "$W/dns/keys" && "$DNS_KEYGEN" -a "$WORLD_ALG" "$z") || return 1
        fi
        echo "$k" > "$W/dns/keys/$zf.$kind"
    done
}

# world__build_zones: every zone file, signed where declared so
world__build_zones() {
    local z zf c ns soa_ns f out ksk zsk
    rm -rf "$W/dns/deleg"
    mkdir -p "$W/dns/deleg" || return 1
    for z in $(world__zones); do
        [ "$(world__decl "$z" signed)" = 1 ] || continue
        world__keys "$z" || { world__err "ldns-keygen failed for zone $z"; return 1; }
    done
    # each zone's delegation to it in its parent: NS, glue, and the DS
    # of a signed zone
    for c in $(world__zones); do
        [ "$c" = . ] && continue
        {
            printf '%s. IN NS ns.%s.\n' "$c" "$c"
            printf 'ns.%s. IN A %s\n' "$c" "$(world__decl "$c" ns)"
            if [ "$(world__decl "$c" signed)" = 1 ]; then
                grep -v '^;' "$W/dns/keys/$(cat "$W/dns/keys/$c.ksk").ds"
            fi
        } >> "$W/dns/deleg/$(world__zf "$(world__parent "$c")")"
    done
    for z in $(world__zones); do
        zf=$(world__zf "$z")
        ns=$(world__decl "$z" ns)
        [ "$z" = . ] && soa_ns=ns. || soa_ns=ns.$z.
        f=$W/dns/zones/$zf.zone
        {
            echo "\$TTL $WORLD_TTL"
            printf '%s IN SOA %s hostmaster.%s ( 1 3600 600 86400 %s )\n' \
                "$(world__fqdn "$z")" "$soa_ns" "$soa_ns" "$WORLD_TTL"
            printf '%s IN NS %s\n' "$(world__fqdn "$z")" "$soa_ns"
            printf '%s IN A %s\n' "$soa_ns" "$ns"
            [ -f "$W/dns/deleg/$zf" ] && cat "$W/dns/deleg/$zf"
            cat "$W/dns/body/$zf"
        } > "$f" || return 1
        rm -f "$f.signed"
        [ "$(world__decl "$z" signed)" = 1 ] || continue
        ksk=$(cat "$W/dns/keys/$zf.ksk") zsk=$(cat "$W/dns/keys/$zf.zsk")
        # inception an hour ago against small clock differences
        out=$("$DNS_SIGNZONE" -i "$(date -u -d '-1 hour' +%Y%m%d%H%M%S)" -o "$z" \
            -f "$f.signed" "$f" "$W/dns/keys/$ksk" "$W/dns/keys/$zsk" 2>&1) || {
            world__err "ldns-signzone failed for zone $z: $out"; return 1; }
    done
    # the root's KSK as Debian's dns-root-data writes it:
    #   ". IN DNSKEY 257 3 13 BASE64 ; keytag N"
    awk '{ for (i = 1; i <= NF; i++) if ($i == "DNSKEY") break }
        i < NF { id = $0; sub(/.*id = /, "", id); sub(/ .*/, "", id)
        printf ". IN DNSKEY %s %s %s %s ; keytag %s\n", $(i+1), $(i+2), $(i+3), $(i+4), id }' \
        "$W/dns/keys/$(cat "$W/dns/keys/root.ksk").key" > "$WORLD_ROOT_KEY"
    [ -s "$WORLD_ROOT_KEY" ] || { world__err "no root DNSKEY"; return 1; }
}

world__nsd_start() {
    local d=$W/dns z zf n=0 deadline out
    {
        cat <<EOF
# generated by tests/integration/lib/world.sh
server:
    ip-address: $WORLD_NSD_LISTEN
    port: 53
    do-ip4: yes
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$d/zones"
    database: ""
    zonelistfile: "$d/zone.list"
    xfrdfile: "$d/xfrd.state"
    xfrdir: "$d/xfr"
    pidfile: "$d/nsd.pid"
    logfile: "$d/nsd.log"
    verbosity: 1
    hide-version: yes
    identity: "postseal-world"
    zonefiles-check: yes
    zonefiles-write: 0
remote-control:
    control-enable: no
EOF
        for z in $(world__zones); do
            [ "$(world__decl "$z" ns)" = "$WORLD_NS_ADDR" ] || continue
            zf=$(world__zf "$z")
            [ -f "$d/zones/$zf.zone.signed" ] && zf=$zf.zone.signed || zf=$zf.zone
            printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$(world__fqdn "$z")" "$zf"
        done
    } > "$d/nsd.conf"
    mkdir -p "$d/xfr"
    : > "$d/nsd.log"
    out=$("$DNS_NSD" -c "$d/nsd.conf" 2>&1 </dev/null) || {
        world__err "nsd failed: $out"; dns_log_tail "$d"; return 1; }
    deadline=$(( $(lib__now_ds) + 100 ))
    while :; do
        n=0
        for z in $(world__zones); do
            [ "$(world__decl "$z" ns)" = "$WORLD_NS_ADDR" ] || continue
            "$DNS_DRILL" -Q @"$WORLD_NSD_LISTEN" "$(world__fqdn "$z")" SOA 2>/dev/null |
                grep -q hostmaster || { n=1; break; }
        done
        [ $n = 0 ] && return 0
        if [ "$(lib__now_ds)" -ge "$deadline" ]; then
            world__err "nsd on $WORLD_NSD_LISTEN does not answer for every zone"
            dns_log_tail "$d"
            return 1
        fi
        sleep 0.1
    done
}

world__unbound_start() {
    local d=$W/dns deadline out
    printf '. 3600000 IN NS ns.\nns. 3600000 IN A %s\n' "$WORLD_NS_ADDR" > "$d/root.hints"
    cat > "$d/unbound.conf" <<EOF
# generated by tests/integration/lib/world.sh
server:
    interface: $WORLD_RESOLVER
    port: 53
    do-ip4: yes
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    logfile: "$d/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    so-reuseport: no
    root-hints: "$d/root.hints"
    trust-anchor-file: "$WORLD_ROOT_KEY"
    module-config: "validator iterator"
remote-control:
    control-enable: yes
    control-interface: $d/unbound.ctl
    control-use-cert: no
EOF
    out=$(unbound-checkconf "$d/unbound.conf" 2>&1) || {
        world__err "unbound.conf: $out"; return 1; }
    : > "$d/unbound.log"
    "$WORLD_UNBOUND" -d -c "$d/unbound.conf" > "$W/run/unbound.out" 2>&1 </dev/null &
    echo $! > "$W/run/unbound.pid"
    deadline=$(( $(lib__now_ds) + 100 ))
    while :; do
        # drill waits 5 s for a query sent before unbound's socket exists
        world__udp_bound "$WORLD_RESOLVER" 53 || { out="not listening yet"; sleep 0.05; continue; }
        out=$("$DNS_DRILL" -D @"$WORLD_RESOLVER" . SOA 2>/dev/null)
        case $out in
        *"rcode: NOERROR"*"flags: "*" ad "*) return 0 ;;
        esac
        if ! lib__alive "$(cat "$W/run/unbound.pid")" || [ "$(lib__now_ds)" -ge "$deadline" ]; then
            world__err "unbound on $WORLD_RESOLVER does not validate the root: $out"
            cat "$W/run/unbound.out" >&2
            tail -n 20 "$d/unbound.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# world__udp_bound ADDR PORT: a UDP socket is bound to ADDR:PORT
world__udp_bound() {
    local hex
    hex=$(world__hexaddr "$1" "$2")
    awk -v h="$hex" 'FNR > 1 && $2 == h { f = 1 } END { exit !f }' /proc/net/udp
}

# world__hexaddr ADDR PORT: ADDR:PORT as /proc/net/tcp writes it
world__hexaddr() {
    # shellcheck disable=SC2046,SC2183  # the four bytes of ADDR
    printf '%02X%02X%02X%02X:%04X' $(echo "$1" | awk -F. '{print $4, $3, $2, $1}') "$2"
}

world_drill() { "$DNS_DRILL" @"$WORLD_RESOLVER" "$@"; }

world__control() {
    "$WORLD_UNBOUND_CONTROL" -c "$W/dns/unbound.conf" "$@" 2>&1
}

# world__control_each COMMAND...: each COMMAND (e.g. "flush_zone x.") to
# unbound's control socket, from one process (unbound-control takes one
# command and tens of milliseconds each); fails unless every reply is "ok"
world__control_each() {
    "$WORLD_PY" - "$W/dns/unbound.ctl" "$@" <<'EOF'
import socket, sys
for cmd in sys.argv[2:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    # unbound-control's protocol on a local socket: "UBCT1 " COMMAND LF,
    # the reply until the server closes
    s.sendall(b"UBCT1 " + cmd.encode() + b"\n")
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    if not out.startswith(b"ok"):
        sys.exit("%s: %s" % (cmd, out.decode(errors="replace").strip() or "no reply"))
EOF
}

world_resolver_flush() {
    local z out cmds=()
    if [ $# = 0 ]; then
        # everything: records, keys, negative answers, and what unbound
        # knows about the servers (round-trip times, EDNS)
        cmds=("flush_zone ." flush_bogus flush_negative "flush_infra all" flush_requestlist)
    fi
    for z in "$@"; do
        z=$(world__fqdn "$z") || return 2
        cmds+=("flush_zone $z")
    done
    out=$(world__control_each "${cmds[@]}" 2>&1) || {
        world__err "the resolver did not flush: $out"; return 1; }
}

world_resolver_queries() {
    local out
    out=$(world__control stats_noreset) || { world__err "unbound-control stats: $out"; return 1; }
    printf '%s\n' "$out" | awk -F= '$1 == "total.num.queries" {print $2; f = 1} END {exit !f}'
}

# ---------------------------------------------------------------- web

# world__cert NAMES: a certificate for the comma-separated NAMES, signed
# by the test CA (made once; a random serial number, so that several can
# be made at once); prints the path without .pem/.key
world__cert() {
    local names=$1 base san="" n out serial
    base=$W/web/certs/${names//,/+}
    if [ ! -s "$base.pem" ]; then
        for n in ${names//,/ }; do san="${san:+$san,}DNS:$n"; done
        serial=0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
        out=$(
            set -e
            "$NG_OPENSSL" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$base.key" -out "$base.csr" -subj "/CN=${names%%,*}" 2>&1
            printf '%s\n' "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyEncipherment" \
                "extendedKeyUsage=serverAuth" "subjectAltName=$san" \
                "authorityKeyIdentifier=keyid" > "$base.ext"
            "$NG_OPENSSL" x509 -req -in "$base.csr" -CA "$WORLD_CA" -CAkey "$W/ca/ca.key" \
                -set_serial "$serial" -out "$base.pem" -days 3650 \
                -extfile "$base.ext" 2>&1
        ) || { world__err "cannot make a certificate for $names: $out"; return 1; }
    fi
    printf '%s\n' "$base"
}

world_site() {
    local addr=$1 names=$2 a cert="" redirect="" def=0 first
    if [ -z "$addr" ] || [ -z "$names" ]; then
        world__err "usage: world_site ADDR NAMES [cert=NAMES] [redirect=URL] [default]"
        return 2
    fi
    shift 2
    for a in "$@"; do
        case $a in
        cert=*) cert=${a#cert=} ;;
        redirect=*) redirect=${a#redirect=} ;;
        default) def=1 ;;
        *) world__err "world_site: unknown option '$a'"; return 2 ;;
        esac
    done
    first=${names%%,*}
    printf '%s %s %s %s %s\n' "$addr" "$names" "${cert:-$names}" "${redirect:--}" "$def" \
        > "$W/web/sites/$first"
}

world_put() {
    local host=$1 path=${2#/} file=$3 dst
    case $host in '' | */* | .* | *..*) world__err "world_put: bad HOST '$host'"; return 2 ;; esac
    case /$path/ in */../* | */./* | //) world__err "world_put: bad PATH '$2'"; return 2 ;; esac
    dst=$W/web/www/$host/$path
    mkdir -p "${dst%/*}" && cp -- "$file" "$dst" && chmod 644 "$dst"
}

world_wkd_put() {
    local addr=$1 file=$2 method=${3:-advanced} dom h host
    dom=$(printf '%s' "${addr##*@}" | tr '[:upper:]' '[:lower:]')
    h=$(world_wkd_hash "$addr") || return 1
    case $method in
    advanced)
        host=${4:-openpgpkey.$dom}
        world_put "$host" ".well-known/openpgpkey/$dom/hu/$h" "$file" || return 1
        : >> "$W/web/www/$host/.well-known/openpgpkey/$dom/policy" ;;
    direct)
        host=${4:-$dom}
        world_put "$host" ".well-known/openpgpkey/hu/$h" "$file" || return 1
        : >> "$W/web/www/$host/.well-known/openpgpkey/policy" ;;
    *) world__err "world_wkd_put: method must be advanced or direct"; return 2 ;;
    esac
}

world_wkd_hash() {
    "$WORLD_PY" -c '
import hashlib, sys
d = hashlib.sha1(sys.argv[1].rsplit("@", 1)[0].lower().encode()).digest()
a = "ybndrfg8ejkmcpqxot1uwisza345h769"
bits = "".join(f"{b:08b}" for b in d)
print("".join(a[int(bits[i:i + 5].ljust(5, "0"), 2)] for i in range(0, len(bits), 5)))
' "$1"
}

# world__web_config: W/web/nginx.conf from the declared sites; sets
# WORLD_WEB_ADDRS (the addresses nginx listens on)
world__web_config() {
    local d=$W/web f addr names cert redirect def defaults="" a certs=" " pids="" p bad=0
    WORLD_WEB_ADDRS=""
    # the certificates first, so that writing the file cannot fail halfway
    # (each made once, all at the same time)
    for f in "$d"/sites/*; do
        [ -f "$f" ] || continue
        read -r addr names cert redirect def < "$f"
        case $certs in *" $cert "*) ;; *) certs="$certs$cert " ;; esac
        case " $WORLD_WEB_ADDRS " in *" $addr "*) ;; *) WORLD_WEB_ADDRS="$WORLD_WEB_ADDRS $addr" ;; esac
        [ "$def" = 1 ] && defaults="$defaults $addr"
    done
    case $certs in *" $WORLD_DEFAULT_CERT "*) ;; *) certs="$certs$WORLD_DEFAULT_CERT " ;; esac
    for cert in $certs; do
        world__cert "$cert" > /dev/null &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || bad=1; done
    [ $bad = 0 ] || return 1
    {
        cat <<EOF
# generated by tests/integration/lib/world.sh
user root root;
daemon on;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
lock_file $d/nginx.lock;
events { worker_connections 256; }
http {
    log_format w '\$server_addr \$host "\$request" \$status \$body_bytes_sent';
    access_log $d/access.log w;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    sendfile off;
    keepalive_timeout 5;
    server_tokens off;
    server_names_hash_bucket_size 128;
    types { }
    default_type application/octet-stream;
    root $d/www/\$host;
EOF
        for f in "$d"/sites/*; do
            [ -f "$f" ] || continue
            read -r addr names cert redirect def < "$f"
            printf '    server {\n'
            printf '        listen %s:443 ssl%s;\n' "$addr" "$([ "$def" = 1 ] && echo ' default_server')"
            printf '        server_name %s;\n' "${names//,/ }"
            printf '        ssl_certificate %s.pem;\n' "$d/certs/${cert//,/+}"
            printf '        ssl_certificate_key %s.key;\n' "$d/certs/${cert//,/+}"
            [ "$redirect" != - ] &&
                printf "        location / { return 301 %s\$request_uri; }\n" "$redirect"
            printf '    }\n'
        done
        # every address without a declared default: one for another name
        for a in $WORLD_WEB_ADDRS; do
            case " $defaults " in *" $a "*) continue ;; esac
            printf '    server {\n        listen %s:443 ssl default_server;\n' "$a"
            printf '        server_name _;\n'
            printf '        ssl_certificate %s.pem;\n' "$d/certs/$WORLD_DEFAULT_CERT"
            printf '        ssl_certificate_key %s.key;\n' "$d/certs/$WORLD_DEFAULT_CERT"
            printf '    }\n'
        done
        echo '}'
    } > "$d/nginx.conf.new" && mv "$d/nginx.conf.new" "$d/nginx.conf"
}

# world__listening ADDR PORT: something listens on ADDR:PORT (TCP)
world__listening() {
    local hex
    hex=$(world__hexaddr "$1" "$2")
    awk -v h="$hex" 'FNR > 1 && $2 == h && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

world__web_start() {
    local d=$W/web out deadline a ok
    ls "$d"/sites/* >/dev/null 2>&1 || return 0
    world__web_config || return 1
    : > "$d/error.log"
    : > "$d/access.log"
    out=$(timeout 20 "$NG_NGINX" -e "$d/error.log" -p "$d/" -c "$d/nginx.conf" 2>&1 </dev/null) || {
        world__err "nginx failed: $out"; ng_log_tail "$d" 10; return 1; }
    deadline=$(( $(lib__now_ds) + 100 ))
    while :; do
        ok=1
        for a in $WORLD_WEB_ADDRS; do world__listening "$a" 443 || ok=0; done
        [ $ok = 1 ] && ng__master_pid "$d" >/dev/null && return 0
        if [ "$(lib__now_ds)" -ge "$deadline" ]; then
            world__err "nginx does not listen on every address"; ng_log_tail "$d" 10; return 1
        fi
        sleep 0.05
    done
}

world_web_reload() {
    local d=$W/web m old new deadline out left p
    m=$(ng__master_pid "$d") || { world__err "nginx is not running"; return 1; }
    world__web_config || return 1
    out=$("$NG_NGINX" -t -e "$d/error.log" -p "$d/" -c "$d/nginx.conf" 2>&1) || {
        world__err "nginx -t: $out"; return 1; }
    old=$(pgrep -P "$m" | tr '\n' ' ')
    kill -HUP "$m"
    deadline=$(( $(lib__now_ds) + 100 ))
    while :; do
        # the new configuration is the only one once a worker that was
        # not there before runs and the old ones are gone (until then an
        # old worker may still accept connections)
        left=0
        for p in $old; do lib__alive "$p" && left=1; done
        if [ $left = 0 ]; then
            for new in $(pgrep -P "$m"); do
                case " $old " in *" $new "*) ;; *) return 0 ;; esac
            done
        fi
        if [ "$(lib__now_ds)" -ge "$deadline" ]; then
            world__err "nginx did not reload"; ng_log_tail "$d" 10; return 1
        fi
        sleep 0.05
    done
}

# ---------------------------------------------------------------- helpers

world_blackhole() {
    local n
    local f n=1
    for f in "$W"/run/bh.*.pid; do [ -e "$f" ] && n=$((n + 1)); done
    "$WORLD_PY" "$WORLD_LIB/blackhole.py" --ready "$W/run/bh.$n.ready" "$@" \
        > "$W/run/bh.$n.log" 2>&1 </dev/null &
    echo $! > "$W/run/bh.$n.pid"
    for _ in $(seq 1 100); do
        [ -s "$W/run/bh.$n.ready" ] && return 0
        lib__alive "$(cat "$W/run/bh.$n.pid")" || break
        sleep 0.05
    done
    world__err "blackhole.py $* did not start: $(cat "$W/run/bh.$n.log")"
    return 1
}

# world_resolver_down: the resolver (WORLD_RESOLVER:53) stops answering:
# unbound is stopped and a black hole takes its address (UDP and TCP),
# as a resolver that is down behind a firewall looks; world_resolver_up
# brings unbound back (with an empty cache).
world_resolver_down() {
    local p=$W/run/unbound.pid before after
    if [ -f "$p" ]; then
        kill -TERM "$(cat "$p")" 2>/dev/null
        wait "$(cat "$p")" 2>/dev/null
        rm -f "$p"
    fi
    before=$(ls "$W"/run/bh.*.pid 2>/dev/null)
    world_blackhole "udp:$WORLD_RESOLVER:53" "tcp-drop:$WORLD_RESOLVER:53" || return 1
    after=$(ls "$W"/run/bh.*.pid 2>/dev/null)
    comm -13 <(printf '%s\n' "$before" | sort) <(printf '%s\n' "$after" | sort) \
        > "$W/run/resolver.bh"
}

world_resolver_up() {
    local f
    if [ -s "$W/run/resolver.bh" ]; then
        while read -r f; do
            [ -f "$f" ] || continue
            kill -TERM "$(cat "$f")" 2>/dev/null
            wait "$(cat "$f")" 2>/dev/null
            rm -f "$f"
        done < "$W/run/resolver.bh"
        rm -f "$W/run/resolver.bh"
    fi
    world__unbound_start
}

world_gpg_key() {
    local name=$1 uid=$2 exp=never faked=() fpr
    if [ "${3:-}" = expired ]; then
        faked=(--faked-system-time 20200101T000000)
        exp=1d
    fi
    fpr=$(gpg --homedir "$WORLD_KEYRING" --batch --passphrase '' --status-fd 1 \
        "${faked[@]}" --quick-gen-key "$uid" ed25519 sign "$exp" 2>/dev/null |
        awk '$2 == "KEY_CREATED" {print $4; exit}')
    [ -n "$fpr" ] || { world__err "gpg could not make a key for $uid"; return 1; }
    gpg --homedir "$WORLD_KEYRING" --batch -q --passphrase '' "${faked[@]}" \
        --quick-add-key "$fpr" cv25519 encr "$exp" >/dev/null 2>&1 || {
        world__err "gpg could not add an encryption subkey for $uid"; return 1; }
    gpg --homedir "$WORLD_KEYRING" --batch --export "$fpr" > "$W/keys/$name.gpg" 2>/dev/null
    [ -s "$W/keys/$name.gpg" ] || { world__err "could not export the key of $uid"; return 1; }
    echo "$fpr" > "$W/keys/$name.fpr"
}

world_gpg_locate() {
    local h rc
    mkdir -p "$W/gl" || return 1
    h=$(mktemp -d "$W/gl/XXXXXX") || return 1
    chmod 700 "$h"
    GNUPGHOME=$h timeout 60 gpg --batch --no-tty --auto-key-locate "$WORLD_GPG_AKL" \
        --locate-keys "$@" > "$W/run/gpg-locate.out" 2> "$W/run/gpg-locate.err"
    rc=$?
    gpg --homedir "$h" --batch --with-colons --list-keys 2>/dev/null |
        awk -F: '/^(pub|sub)/ {t = $1} /^fpr/ && t == "pub" {print $10}'
    gpgconf --homedir "$h" --kill all >/dev/null 2>&1
    rm -rf "$h"
    return $rc
}

# ---------------------------------------------------------------- mounts

world__mount() {
    local src dst here
    here=$(readlink /proc/self/ns/mnt)
    if [ "${WORLD_NS:-}" != 1 ] || [ -z "$here" ] || [ -z "${WORLD_HOST_MNTNS:-}" ] ||
        [ "$here" = "$WORLD_HOST_MNTNS" ]; then
        world__err "not in a private mount namespace (world_enter): no bind mounts"
        return 1
    fi
    printf 'nameserver %s\n' "$WORLD_RESOLVER" > "$W/etc/resolv.conf"
    cat "$WORLD_SYS_BUNDLE" > "$WORLD_BUNDLE" || return 1
    # (the system bundle's last line may lack its newline)
    [ -z "$(tail -c 1 "$WORLD_BUNDLE")" ] || echo >> "$WORLD_BUNDLE"
    cat "$WORLD_CA" >> "$WORLD_BUNDLE" || return 1
    chmod 644 "$W/etc/resolv.conf" "$WORLD_BUNDLE" "$WORLD_ROOT_KEY" "$W/dns/root.hints"
    for src in "$W/etc/resolv.conf:$WORLD_SYS_RESOLV" "$WORLD_ROOT_KEY:$WORLD_SYS_ROOTKEY" \
        "$W/dns/root.hints:$WORLD_SYS_ROOTHINTS" "$WORLD_BUNDLE:$WORLD_SYS_BUNDLE"; do
        dst=${src#*:} src=${src%%:*}
        mount --bind "$src" "$dst" || { world__err "cannot bind-mount $src on $dst"; return 1; }
        echo "$dst" >> "$W/run/mounts"
    done
}

# ---------------------------------------------------------------- start, stop

world_start() {
    world__build_zones || return 1
    world__nsd_start || return 1
    world__unbound_start || return 1
    world__web_start || return 1
    world__mount || return 1
}

world_log_tail() {
    local n=${1:-20} f
    for f in "$W/dns/nsd.log" "$W/dns/unbound.log" "$W/web/error.log" "$W/web/access.log" \
        "$W"/run/bh.*.log; do
        [ -s "$f" ] || continue
        printf -- '--- last %s lines of %s\n' "$n" "$f" >&2
        tail -n "$n" "$f" >&2
    done
}

world_stop() {
    local p h m
    [ -n "${W:-}" ] && [ -d "$W" ] || return 0
    if [ -f "$W/run/mounts" ]; then
        while read -r m; do umount "$m" 2>/dev/null; done < "$W/run/mounts"
        rm -f "$W/run/mounts"
    fi
    ng_stop "$W/web" >/dev/null 2>&1
    for p in "$W"/run/unbound.pid "$W"/run/bh.*.pid; do
        [ -f "$p" ] || continue
        kill -TERM "$(cat "$p")" 2>/dev/null
        wait "$(cat "$p")" 2>/dev/null
        rm -f "$p"
    done
    dns_stop "$W/dns" >/dev/null 2>&1
    # gpg-agents and dirmngrs of every GnuPG home made here
    # (their sockets may live under /run/user: look for the homes)
    for h in $(find "$W" \( -name S.gpg-agent -o -name S.dirmngr -o -name pubring.kbx \) \
        -printf '%h\n' 2>/dev/null | sort -u); do
        gpgconf --homedir "$h" --kill all >/dev/null 2>&1
    done
    return 0
}

world_cleanup() {
    local rc=$?
    world_stop
    if [ "${WORLD_KEEP:-}" = 1 ]; then
        echo "kept ${W:-}" >&2
    elif [ -n "${W:-}" ]; then
        rm -rf "$W"
    fi
    return $rc
}
