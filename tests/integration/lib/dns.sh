# shellcheck shell=bash
#
# tests/integration/lib/dns.sh - serve DNSSEC-signed (and unsigned) test
# zones with a PRIVATE nsd instance on 127.0.0.1, for the postseal DANE
# OPENPGPKEY (RFC 7929, type 61) tests.  Source this file from a bash test.
#
# Everything lives below one directory DIR (keep the path short, e.g.
# "$(mktemp -d /tmp/ps-dns.XXXX)"); nothing outside DIR is touched:
#
#   DIR/zones/ZONE.zone          unsigned zone file (dns_zone, dns_add_openpgpkey)
#   DIR/zones/ZONE.zone.signed   signed zone file (dns_sign; dns_tamper edits it)
#   DIR/zones/ZONE.zone.signed.good  the untampered signed zone (dns_tamper)
#   DIR/keys/K<ZONE>+013+<id>.*  KSK and ZSK (ldns-keygen; reused by dns_sign)
#   DIR/ZONE.anchor              trust anchor: the KSK's DS record, in zone
#                                file format (for ub_ctx_add_ta_file())
#   DIR/nsd.conf, nsd.pid, nsd.log, nsd.port, zone.list, xfrd.state
#
# Functions (all return 77 = automake "skip", with a one-line reason on
# stderr, when not running as root or when nsd/ldnsutils are missing):
#
#   dns_zone DIR ZONE                 create DIR/zones/ZONE.zone: SOA, NS
#                                     (ns.ZONE -> 127.0.0.1) and
#                                     openpgpkey.ZONE A 127.0.0.1
#   dns_add_openpgpkey DIR ZONE OWNER KEYFILE
#                                     append "OWNER OPENPGPKEY <base64 of KEYFILE>"
#                                     to the UNSIGNED zone file.  OWNER is a
#                                     full name ("<56 hex>._openpgpkey.ZONE."),
#                                     or relative to ZONE when it has no
#                                     trailing dot.  Call dns_sign (again)
#                                     afterwards for a signed zone.
#   dns_openpgpkey_owner LOCALPART ZONE
#                                     print the RFC 7929 owner name
#                                     (hex(sha256(LOCALPART))[0:56]._openpgpkey.ZONE.)
#   dns_sign DIR ZONE                 sign DIR/zones/ZONE.zone (NSEC, ECDSAP256SHA256,
#                                     one KSK + one ZSK, created on first use
#                                     and reused afterwards so the anchor stays
#                                     valid), write DIR/ZONE.anchor
#   dns_tamper DIR ZONE               (signs first if needed) alter the first
#                                     byte of every OPENPGPKEY rdata in
#                                     DIR/zones/ZONE.zone.signed AFTER signing,
#                                     so validation of it is bogus
#   dns_start DIR [PORT]              run nsd on 127.0.0.1@PORT (a free high
#                                     port when not given) serving every
#                                     DIR/zones/*.zone (its .signed version
#                                     when there is one); prints the port,
#                                     also stored in DIR/nsd.port
#   dns_port DIR                      print the port of the running instance
#   dns_stop DIR                      stop nsd, kill its leftovers
#   dns_log_tail DIR [N]              last N (40) lines of DIR/nsd.log to stderr
#
# Typical use:
#   . "$srcdir/lib/dns.sh"
#   D=$(mktemp -d /tmp/ps-dns.XXXX) || exit 99
#   trap 'dns_stop "$D"; rm -rf "$D"' EXIT
#   own=$(dns_openpgpkey_owner alice example.test)
#   dns_zone "$D" example.test || exit $?
#   dns_add_openpgpkey "$D" example.test "$own" alice.pgp || exit 1
#   dns_sign "$D" example.test || exit 1           # -> $D/example.test.anchor
#   dns_zone "$D" insecure.test || exit 1           # stays unsigned
#   dns_add_openpgpkey "$D" insecure.test "$(dns_openpgpkey_owner bob insecure.test)" bob.pgp
#   dns_zone "$D" bogus.test && dns_add_openpgpkey ... && dns_tamper "$D" bogus.test
#   PORT=$(dns_start "$D") || exit $?
#
# ----------------------------------------------------------------------------
# How to point libunbound at it (verified with libunbound 1.17.1 + nsd 4.6.1
# on Debian 12 by tests/integration/lib/dns-selftest.sh):
#
#   ctx = ub_ctx_create();
#   ub_ctx_set_option(ctx, "do-not-query-localhost:", "no");    /* see below */
#   ub_ctx_set_option(ctx, "local-zone:", "test. transparent"); /* REQUIRED */
#   ub_ctx_set_stub(ctx, "test.", "127.0.0.1@PORT", 0);         /* preferred */
#      -- or --  ub_ctx_set_fwd(ctx, "127.0.0.1@PORT");          /* works too */
#   ub_ctx_add_ta_file(ctx, "DIR/example.test.anchor");  /* one per signed zone */
#   ub_resolve(ctx, "<hash>._openpgpkey.example.test.", 61, 1, &res);
#
#   * "do-not-query-localhost: no": unbound's documented default (yes)
#     forbids queries to 127.0.0.0/8.  Observed with 1.17.1: the addresses
#     given to ub_ctx_set_stub()/ub_ctx_set_fwd() were queried even WITHOUT
#     this option (same results), but set it anyway -- it is the documented
#     way and costs nothing.
#   * "test." is one of unbound's default local zones (RFC 6761 special-use
#     names): every .test name is answered locally with NXDOMAIN
#     (rcode 3, secure 0) and nsd is never asked -- unless a local-zone
#     overrides it.  SURPRISE: "test. nodefault" (what unbound.conf(5)
#     suggests) does NOT help when given through ub_ctx_set_option() in
#     libunbound 1.17.1 -- still the local NXDOMAIN.  "test. transparent"
#     works (so does "example.test. transparent" for just that zone).
#   * forward (ub_ctx_set_fwd) vs stub (ub_ctx_set_stub): BOTH work against
#     nsd with identical results for all cases below (nsd answers the
#     forwarded RD=1 queries authoritatively, which is all unbound needs;
#     checked by dns-selftest.sh in both modes).  The stub is the
#     cleaner model (nsd is authoritative only) and sends only .test queries to nsd; a forward
#     for "." would send every query there.  ub_ctx_set_stub() exists
#     since unbound 1.9.0.
#   * OPENPGPKEY answers bigger than 512 bytes come back truncated (TC) over
#     UDP from nsd; unbound retries over TCP by itself (nsd listens on TCP
#     on the same port), nothing to configure.
#   * Trust anchors: one ub_ctx_add_ta_file() per signed zone (the anchor
#     file holds the KSK's DS record; a DNSKEY line would be accepted too).
#     The zones are independent (no signed "test." parent, no DS
#     delegation), so:
#       - SECURE:   add DIR/example.test.anchor, query example.test names:
#                   data: rcode 0, havedata 1, secure 1, bogus 0;
#                   missing name: rcode 3, nxdomain 1, secure 1 (NSEC);
#                   existing name, no type 61: rcode 0, havedata 0, secure 1.
#       - BOGUS:    add the anchor of the zone that went through dns_tamper:
#                   bogus 1, secure 0, why_bogus "... signature verification
#                   failed ...".  (Adding the anchor of a zone that nsd serves
#                   UNSIGNED is bogus too: "no DNSKEY rrset ... for trust
#                   anchor".)  SURPRISE: libunbound reports it with
#                   rcode 0 and havedata 1 and the (forged) data in
#                   res->data -- NOT as SERVFAIL.  postseal must test
#                   res->bogus before it looks at res->havedata/data.
#       - INSECURE: query a zone that has NO trust anchor configured
#                   (insecure.test, never passed to dns_sign): rcode 0,
#                   havedata 1, secure 0, bogus 0 (NXDOMAIN: rcode 3,
#                   secure 0, bogus 0).  Do not add a trust anchor for
#                   "test." or "." (there is no signed chain down to the
#                   zones; validation would fail).  With no anchor at
#                   all every zone, signed or not, is insecure.
#   * A fresh ub_ctx has no trust anchor and reads no unbound.conf unless
#     told to (ub_ctx_config), so the system's root anchor plays no role.
# ----------------------------------------------------------------------------

# shellcheck source=util.sh
. "$(dirname "${BASH_SOURCE[0]}")/util.sh"

DNS_NSD=${DNS_NSD:-/usr/sbin/nsd}
DNS_KEYGEN=${DNS_KEYGEN:-/usr/bin/ldns-keygen}
DNS_SIGNZONE=${DNS_SIGNZONE:-/usr/bin/ldns-signzone}
DNS_DRILL=${DNS_DRILL:-/usr/bin/drill}
DNS_ALG=${DNS_ALG:-ECDSAP256SHA256}
DNS_TTL=${DNS_TTL:-300}

# ---------------------------------------------------------------- helpers

dns__err() { printf 'dns.sh: %s\n' "$*" >&2; }

# dns__check: 0 if usable, else 77 with a one-line reason on stderr.
dns__check() {
    lib__need_root 'private nsd instance' || return 77
    if [ ! -x "$DNS_NSD" ]; then
        printf 'SKIP: nsd is not installed (%s missing; apt-get install nsd)\n' "$DNS_NSD" >&2
        return 77
    fi
    if [ ! -x "$DNS_KEYGEN" ] || [ ! -x "$DNS_SIGNZONE" ] || [ ! -x "$DNS_DRILL" ]; then
        printf 'SKIP: ldnsutils is not installed (%s missing; apt-get install ldnsutils)\n' "$DNS_SIGNZONE" >&2
        return 77
    fi
    return 0
}

# dns__dir DIR: validate + normalise DIR (absolute, no trailing slash) -> stdout
dns__dir() { lib__dir dns.sh "$1"; }

# dns__zone ZONE: validate + normalise ZONE (lower case, no trailing dot)
dns__zone() {
    local z=${1%.}
    z=$(printf '%s' "$z" | tr '[:upper:]' '[:lower:]')
    case $z in
    '' | *[!a-z0-9.-]* | .* | *..*)
        dns__err "bad ZONE name '$1'"; return 2 ;;
    esac
    printf '%s\n' "$z"
}

# dns__now_ds: current time in deciseconds (integer)
dns__now_ds() { lib__now_ds; }

dns__alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# dns__pids DIR: pids of the live (not zombie) nsd processes whose command
# line names DIR/nsd.conf.  (nsd renames its processes "nsd: xfrd", "nsd:
# main", "nsd: server 1", but keeps argv; zombies have an empty cmdline.)
dns__pids() {
    local d=$1 p c st a
    for p in /proc/[0-9]*; do
        { read -r c < "$p/comm"; } 2>/dev/null || continue
        case $c in nsd*) ;; *) continue ;; esac
        { read -r st < "$p/stat"; } 2>/dev/null || continue
        st=${st##*) }
        case $st in Z* | X*) continue ;; esac
        a=()
        { mapfile -d '' a < "$p/cmdline"; } 2>/dev/null || continue
        case " ${a[*]} " in
        *" $d/nsd.conf "*) printf '%s\n' "${p#/proc/}" ;;
        esac
    done
}

# dns__port_busy PORT: 0 when something uses PORT (tcp or udp, v4 or v6)
dns__port_busy() { lib__port_busy "$1" udp; }

# dns__free_port: print a (probably) free port in 20000..59999
dns__free_port() {
    local i=0 p
    while [ $i -lt 50 ]; do
        i=$(( i + 1 ))
        p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        dns__port_busy "$p" || { printf '%s\n' "$p"; return 0; }
    done
    dns__err "no free port found"
    return 1
}

# ---------------------------------------------------------------- zones

dns_openpgpkey_owner() {
    local lp=$1 z h
    z=$(dns__zone "$2") || return 2
    if [ -z "$lp" ]; then dns__err "dns_openpgpkey_owner: missing LOCALPART"; return 2; fi
    h=$(printf '%s' "$lp" | sha256sum | cut -c1-56) || return 1
    printf '%s._openpgpkey.%s.\n' "$h" "$z"
}

dns_zone() {
    dns__check || return $?
    local d z
    d=$(dns__dir "$1") || return 2
    z=$(dns__zone "$2") || return 2
    mkdir -p "$d/zones" || return 1
    rm -f "$d/zones/$z.zone.signed" "$d/zones/$z.zone.signed.good"
    cat > "$d/zones/$z.zone" <<EOF || return 1
\$ORIGIN $z.
\$TTL $DNS_TTL
@           IN SOA  ns.$z. hostmaster.$z. ( 1 3600 600 86400 $DNS_TTL )
@           IN NS   ns.$z.
ns          IN A    127.0.0.1
openpgpkey  IN A    127.0.0.1
EOF
}

dns_add_openpgpkey() {
    dns__check || return $?
    local d z own kf f b64
    d=$(dns__dir "$1") || return 2
    z=$(dns__zone "$2") || return 2
    own=$3 kf=$4
    f=$d/zones/$z.zone
    if [ ! -f "$f" ]; then dns__err "no zone $z in $d (dns_zone first)"; return 1; fi
    if [ -z "$own" ]; then dns__err "dns_add_openpgpkey: missing OWNER"; return 2; fi
    if [ ! -s "$kf" ]; then dns__err "dns_add_openpgpkey: key file '$kf' missing or empty"; return 1; fi
    case $own in
    *.) ;;
    *) own=$own.$z. ;;
    esac
    own=$(printf '%s' "$own" | tr '[:upper:]' '[:lower:]')
    case $own in
    "$z." | *".$z.") ;;
    *) dns__err "owner $own is not inside zone $z"; return 2 ;;
    esac
    # RFC 7929 presentation format: base64, may be split into several
    # whitespace-separated chunks inside parentheses (nsd and ldns accept it)
    b64=$(base64 -w 64 < "$kf") || return 1
    {
        printf '%s %s IN OPENPGPKEY (\n' "$own" "$DNS_TTL"
        # shellcheck disable=SC2086  # split into the 64-char lines
        printf '    %s\n' $b64
        printf '    )\n'
    } >> "$f" || return 1
    if [ -f "$f.signed" ]; then
        dns__err "note: $z was already signed; run dns_sign again"
    fi
    return 0
}

dns_sign() {
    dns__check || return $?
    local d z f ksk zsk out
    d=$(dns__dir "$1") || return 2
    z=$(dns__zone "$2") || return 2
    f=$d/zones/$z.zone
    if [ ! -f "$f" ]; then dns__err "no zone $z in $d (dns_zone first)"; return 1; fi
    mkdir -p "$d/keys" || return 1
    ksk=$(cat "$d/keys/$z.ksk" 2>/dev/null)
    zsk=$(cat "$d/keys/$z.zsk" 2>/dev/null)
    if [ -z "$ksk" ] || [ ! -f "$d/keys/$ksk.private" ]; then
        ksk=$(cd "$d/keys" && "$DNS_KEYGEN" -a "$DNS_ALG" -k "$z") || {
            dns__err "ldns-keygen (KSK) failed for $z"; return 1; }
        printf '%s\n' "$ksk" > "$d/keys/$z.ksk"
    fi
    if [ -z "$zsk" ] || [ ! -f "$d/keys/$zsk.private" ]; then
        zsk=$(cd "$d/keys" && "$DNS_KEYGEN" -a "$DNS_ALG" "$z") || {
            dns__err "ldns-keygen (ZSK) failed for $z"; return 1; }
        printf '%s\n' "$zsk" > "$d/keys/$z.zsk"
    fi
    # inception 1 hour in the past against small clock differences;
    # expiration: ldns default (4 weeks)
    out=$("$DNS_SIGNZONE" -i "$(date -u -d '-1 hour' +%Y%m%d%H%M%S)" -o "$z" \
          -f "$f.signed" "$f" "$d/keys/$ksk" "$d/keys/$zsk" 2>&1) || {
        dns__err "ldns-signzone failed for $z: $out"; rm -f "$f.signed"; return 1; }
    rm -f "$f.signed.good"
    # trust anchor: DS of the KSK (ldns-keygen -k wrote it), one line,
    # zone file format -- what ub_ctx_add_ta_file() reads
    grep -v '^;' "$d/keys/$ksk.ds" > "$d/$z.anchor" || {
        dns__err "no DS record in $d/keys/$ksk.ds"; return 1; }
    return 0
}

# dns_tamper_a DIR ZONE OWNER: after signing, change the address of
# OWNER's A record (its RRSIG no longer matches: a bogus answer, as a
# forged one would be)
dns_tamper_a() {
    dns__check || return $?
    local d z f own
    d=$(dns__dir "$1") || return 2
    z=$(dns__zone "$2") || return 2
    own=$3
    f=$d/zones/$z.zone.signed
    if [ ! -f "$f" ]; then dns_sign "$d" "$z" || return 1; fi
    [ -f "$f.good" ] || cp "$f" "$f.good" || return 1
    awk -v o="$own." '
        $1 == o && $4 == "A" { $5 = ($5 == "127.0.0.2" ? "127.0.0.3" : "127.0.0.2"); n++ }
        { print }
        END { if (!n) exit 3 }' "$f.good" > "$f.tmp" || {
        rm -f "$f.tmp"; dns__err "dns_tamper_a: no A record for $own in $f"; return 1; }
    mv "$f.tmp" "$f"
}

dns_tamper() {
    dns__check || return $?
    local d z f n
    d=$(dns__dir "$1") || return 2
    z=$(dns__zone "$2") || return 2
    f=$d/zones/$z.zone.signed
    if [ ! -f "$f" ]; then dns_sign "$d" "$z" || return 1; fi
    [ -f "$f.good" ] || cp "$f" "$f.good" || return 1
    # ldns-signzone prints every RR on one line:
    #   OWNER TTL IN OPENPGPKEY BASE64   (or "\# LEN HEX" for an unknown type)
    # Change the FIRST base64 character (it holds the top 6 bits of the first
    # byte, never only padding bits) or the first hex digit.
    awk '
        $4 == "OPENPGPKEY" || $4 == "TYPE61" {
            i = 5
            if ($5 == "\\#") i = 7
            c = substr($i, 1, 1)
            if (i == 7) r = (c == "9" ? "8" : "9"); else r = (c == "A" ? "B" : "A")
            $i = r substr($i, 2)
            n++
        }
        { print }
        END { if (!n) exit 3 }' "$f.good" > "$f.tmp"
    n=$?
    if [ $n -ne 0 ]; then
        rm -f "$f.tmp"
        dns__err "dns_tamper: no OPENPGPKEY record in $f (dns_add_openpgpkey first)"
        return 1
    fi
    mv "$f.tmp" "$f"
}

# ---------------------------------------------------------------- nsd

dns_log_tail() {
    local d n=${2:-40}
    d=$(dns__dir "$1") || return 2
    if [ -s "$d/nsd.log" ]; then
        printf -- '--- last %s lines of %s/nsd.log:\n' "$n" "$d" >&2
        tail -n "$n" "$d/nsd.log" >&2
    fi
}

dns_port() {
    local d
    d=$(dns__dir "$1") || return 2
    [ -s "$d/nsd.port" ] || { dns__err "no nsd instance in $d"; return 1; }
    cat "$d/nsd.port"
}

# dns__write_config DIR PORT
dns__write_config() {
    local d=$1 port=$2 zf z file
    {
        cat <<EOF
# generated by tests/integration/lib/dns.sh
server:
    ip-address: 127.0.0.1
    port: $port
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
    identity: "postseal-test"
    refuse-any: yes
    zonefiles-check: yes
    zonefiles-write: 0

remote-control:
    control-enable: no

EOF
        for zf in "$d"/zones/*.zone; do
            [ -f "$zf" ] || continue
            z=${zf##*/}; z=${z%.zone}
            file=$z.zone
            [ -f "$zf.signed" ] && file=$z.zone.signed
            printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n\n' "$z" "$file"
        done
    } > "$d/nsd.conf"
}

dns_start() {
    dns__check || return $?
    local d port=${2:-} tries pid rc deadline z out
    d=$(dns__dir "$1") || return 2
    if [ -n "$(dns__pids "$d")" ]; then
        dns__err "an nsd instance is already running in $d"
        return 1
    fi
    if ! ls "$d"/zones/*.zone >/dev/null 2>&1; then
        dns__err "no zones in $d/zones (dns_zone first)"
        return 1
    fi
    case $port in *[!0-9]*) dns__err "bad PORT '$port'"; return 2 ;; esac
    mkdir -p "$d/xfr" || return 1
    tries=5
    [ -n "$port" ] && tries=1
    while [ $tries -gt 0 ]; do
        tries=$(( tries - 1 ))
        if [ -z "${2:-}" ]; then port=$(dns__free_port) || return 1; fi
        dns__write_config "$d" "$port" || { dns__err "cannot write $d/nsd.conf"; return 1; }
        rm -f "$d/nsd.pid" "$d/nsd.port"
        : > "$d/nsd.log"
        out=$("$DNS_NSD" -c "$d/nsd.conf" 2>&1 </dev/null)
        rc=$?
        if [ $rc -ne 0 ]; then
            dns__err "nsd -c $d/nsd.conf failed (exit $rc): $out"
            dns_log_tail "$d"
            dns_stop "$d" >/dev/null 2>&1
            continue
        fi
        # wait until every zone answers its SOA (nsd loads the zones after
        # forking; a bind failure shows up as an exit of the daemon)
        deadline=$(( $(dns__now_ds) + ${DNS_START_TIMEOUT:-10} * 10 ))
        while :; do
            pid=$(cat "$d/nsd.pid" 2>/dev/null)
            rc=0
            for z in "$d"/zones/*.zone; do
                z=${z##*/}; z=${z%.zone}
                "$DNS_DRILL" -Q -p "$port" @127.0.0.1 "$z." SOA 2>/dev/null | grep -q . || { rc=1; break; }
            done
            if [ $rc -eq 0 ] && dns__alive "$pid"; then
                printf '%s\n' "$port" > "$d/nsd.port"
                printf '%s\n' "$port"
                return 0
            fi
            if [ -z "$(dns__pids "$d")" ] || [ "$(dns__now_ds)" -ge "$deadline" ]; then
                dns__err "nsd in $d did not come up on 127.0.0.1@$port"
                dns_log_tail "$d"
                dns_stop "$d" >/dev/null 2>&1
                break
            fi
            sleep 0.1
        done
    done
    return 1
}

dns_stop() {
    dns__check || return $?
    local d pid pids deadline
    d=$(dns__dir "$1") || return 2
    [ -f "$d/nsd.conf" ] || return 0
    pid=$(cat "$d/nsd.pid" 2>/dev/null)
    pids=" $(dns__pids "$d" | tr '\n' ' ') "
    case $pids in
    *" ${pid:-none} "*) kill -TERM "$pid" 2>/dev/null ;;
    esac
    deadline=$(( $(dns__now_ds) + ${DNS_STOP_TIMEOUT:-10} * 10 ))
    while :; do
        pids=$(dns__pids "$d")
        [ -z "$pids" ] && break
        if [ "$(dns__now_ds)" -ge "$deadline" ]; then
            dns__err "nsd processes of $d did not exit, killing: $(printf '%s' "$pids" | tr '\n' ' ')"
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null
            sleep 0.2
            break
        fi
        # processes left behind by a dead pidfile process: TERM them too
        # shellcheck disable=SC2086
        case " $(printf '%s ' $pids)" in
        *" ${pid:-none} "*) ;;
        *) kill -TERM $pids 2>/dev/null ;;
        esac
        sleep 0.1
    done
    rm -f "$d/nsd.pid" "$d/nsd.port"
    return 0
}
