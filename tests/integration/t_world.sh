#!/bin/bash
# postseal with a DEFAULT configuration in a small private internet
# (lib/world.sh): a signed root and TLD, signed and unsigned domains, a
# validating resolver on 127.0.0.1:53, web servers on 443 with a CA that
# only the system bundle knows. postseal.conf has [transport] and
# [default] only, never [keyfetch]: names are resolved, certificates
# verified and DNSSEC validated the way they are on a real machine.
#
# One table row per kind of domain, each submitted with a fresh cache:
# the message must arrive encrypted to the recipient's key, arrive in
# plaintext (no key: a lasting property of an unsigned domain), or not
# arrive at all and wait in the queue for another lookup, exit 0
# (inconclusive: a signed domain or a domain with memory that fails, a
# name server that never answers; unknown = defer), and
# every submission must end within lookup-timeout + 3 s. Where gpg's
# dirmngr can ask the same world, postseal must find every key gpg finds.
# Every row is run and reported; the test fails if any row failed.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
# nsd listens behind the name servers' address (127.0.0.2), where a
# filter stands that drops one domain's OPENPGPKEY queries (row 17)
# shellcheck disable=SC2034  # read by world.sh
WORLD_NSD_LISTEN=127.0.0.3
. "$LIB/world.sh" || exit 99

world_check || exit $?
world_enter "$0" "$@" || exit $?
# shellcheck disable=SC2119  # a directory of its own
world_init || exit 99
T=$W
trap world_cleanup EXIT
trap 'exit 1' INT TERM HUP

TIMEOUT=5   # [default] lookup-timeout
SLACK=3     # what a submission may take beyond it, in seconds
T0=$EPOCHREALTIME

# --- the world -------------------------------------------------------------------
# 127.0.0.10  the WKD web host (one certificate per name)
# 127.0.0.20  a catch-all host: *.wildcard.example, its default server
#             presents the certificate of wildcard.example/www
# 127.0.0.30  shared hosting: only a default server, certificate for
#             www.webhost.example
# 127.0.0.40  port 443 drops the SYNs; 127.0.0.41 nothing listens
# 127.0.0.66  a name server that never answers (UDP and TCP 53)
# 127.0.0.2   every zone's name server: a filter in front of nsd
#             (127.0.0.3) that drops the OPENPGPKEY queries for
#             oldns.example and passes on everything else
WEB=127.0.0.10 CATCHALL=127.0.0.20 SHARED=127.0.0.30 DROP=127.0.0.40 REFUSE=127.0.0.41
DEAD_NS=127.0.0.66

world_zone example
# 1. WKD advanced (signed domain: DANE answers a secure NXDOMAIN)
world_zone advanced.example
world_rr openpgpkey.advanced.example A $WEB
world_site $WEB openpgpkey.advanced.example
# 15. an internationalised domain (bücher.example in the address, its
# A-label in DNS and in the WKD host name)
world_zone xn--bcher-kva.example unsigned
world_rr openpgpkey.xn--bcher-kva.example A $WEB
world_site $WEB openpgpkey.xn--bcher-kva.example
# 2. WKD direct: no openpgpkey host, the apex serves the key
world_zone direct.example unsigned
world_rr direct.example A $WEB
world_site $WEB direct.example
# 3. the apex redirects to www, which serves the key
world_zone redirect.example unsigned
world_rr redirect.example A $WEB
world_rr www.redirect.example A $WEB
world_site $WEB redirect.example redirect=https://www.redirect.example
world_site $WEB www.redirect.example
# 4. DANE in a signed zone, no web server
world_zone dane.example
# 5. mail only: MX, no address at the apex, no openpgpkey host
world_zone mailonly.example unsigned
world_rr mailonly.example MX 10 mx.mailonly.example.
world_rr mx.mailonly.example A 127.0.0.42
# 6. the apex refuses connections on 443
world_zone refused.example unsigned
world_rr refused.example A $REFUSE
# 7. the apex drops packets
world_zone dropped.example unsigned
world_rr dropped.example A $DROP
# 8. shared hosting: the apex's server has a certificate for another name
world_zone shared.example unsigned
world_rr shared.example A $SHARED
world_site $SHARED www.webhost.example default
# 9. a wildcard: openpgpkey.wildcard.example exists, no certificate for it
world_zone wildcard.example unsigned
world_rr wildcard.example A $CATCHALL
world_rr '*.wildcard.example' A $CATCHALL
world_site $CATCHALL wildcard.example,www.wildcard.example default
# 10. WKD serves a key whose user ID is another address
world_zone otheruid.example unsigned
world_rr openpgpkey.otheruid.example A $WEB
world_site $WEB openpgpkey.otheruid.example
# 11. WKD serves an expired key
world_zone expired.example unsigned
world_rr openpgpkey.expired.example A $WEB
world_site $WEB openpgpkey.expired.example
# 12. signed domain whose _openpgpkey subzone (signed, DS in the parent)
# is served by a name server that never answers
world_zone danetimeout.example
world_zone _openpgpkey.danetimeout.example ns=$DEAD_NS
# 13. domain with memory: a key in WKD now, a broken server later
world_zone memory.example unsigned
world_rr openpgpkey.memory.example A $WEB
world_site $WEB openpgpkey.memory.example
# 14. the whole domain is delegated to the name server that never answers
world_zone blackholed.example unsigned ns=$DEAD_NS
# 17. an unsigned domain whose name server drops OPENPGPKEY queries (and
# answers A queries): DANE never answers, WKD has the key. Another
# address of the domain has an OPENPGPKEY record, so that _openpgpkey
# exists and a resolver's query for r17's record reaches the name server
# (for a name below an NXDOMAIN it would not: RFC 8020)
world_zone oldns.example unsigned
world_rr openpgpkey.oldns.example A $WEB
world_site $WEB openpgpkey.oldns.example

# keys: one per recipient (row N: rN@DOMAIN), plus the other address's
# key of row 10
key() { world_gpg_key "$@" || exit 99; }
key r1 "Row 1 <r1@advanced.example>"
key r2 "Row 2 <r2@direct.example>"
key r3 "Row 3 <r3@redirect.example>"
key r4 "Row 4 <r4@dane.example>"
key r10 "Someone Else <other@otheruid.example>"
key r11 "Row 11 <r11@expired.example>" expired
key r13 "Row 13 <r13@memory.example>"
key r15 "Row 15 <r15@bücher.example>"
key r17 "Row 17 <r17@oldns.example>"
world_wkd_put r1@advanced.example "$W/keys/r1.gpg" || exit 99
world_wkd_put r2@direct.example "$W/keys/r2.gpg" direct || exit 99
world_wkd_put r3@redirect.example "$W/keys/r3.gpg" direct www.redirect.example || exit 99
world_openpgpkey r4@dane.example "$W/keys/r4.gpg" || exit 99
world_wkd_put r10@otheruid.example "$W/keys/r10.gpg" || exit 99
world_wkd_put r11@expired.example "$W/keys/r11.gpg" || exit 99
world_wkd_put r13@memory.example "$W/keys/r13.gpg" || exit 99
world_wkd_put r15@xn--bcher-kva.example "$W/keys/r15.gpg" || exit 99
world_wkd_put r17@oldns.example "$W/keys/r17.gpg" || exit 99
world_openpgpkey other@oldns.example "$W/keys/r10.gpg" || exit 99
world_blackhole tcp-drop:$DROP:443 udp:$DEAD_NS:53 tcp-drop:$DEAD_NS:53 \
	"dnsfilter:$WORLD_NS_ADDR:53:$WORLD_NSD_LISTEN:53:61:oldns.example" || exit 99
world_start || { world_log_tail 10; fail "the world did not start"; }
printf 'world up in %s s\n' "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')"

# --- postseal: a default configuration, a sink, an empty keyring ---------------------
mkdir -m 700 "$W/sender" "$W/home"
mkdir "$W/out" "$W/cache"
cat > "$W/sink" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$W/out/\$\$.argv"
exec cat > "$W/out/\$\$.msg"
EOF
chmod 755 "$W/sink"
CONF=$W/postseal.conf
printf '[transport]\nmode = sendmail\nsendmail = %s\n[default]\nlookup-timeout = %s\n' \
	"$W/sink" "$TIMEOUT" > "$CONF"
chmod 600 "$CONF"
export GNUPGHOME=$W/sender HOME=$W/home XDG_CONFIG_HOME=$W/config XDG_STATE_HOME=$W/state

FAILS=0
bad() { # ROW WHAT: one failed assertion, the test goes on
	printf 'FAIL: row %s: %s\n' "$1" "$2" >&2
	FAILS=$((FAILS + 1))
}

# submit ROW RCPT CACHE: one submission; sets RC, MS (wall time in ms)
# and MSGS (the messages the sink got)
submit() {
	local a b
	rm -f "$W"/out/*
	mkdir -p "$3"
	a=$EPOCHREALTIME
	printf 'Subject: row\n\nhello canary-%s\n' "$1" |
		XDG_CACHE_HOME=$3 timeout 60 "$POSTSEAL" -C "$CONF" -v -i -f sender@local.example -- "$2" \
			> "$W/run/row.out" 2> "$W/run/row.err"
	RC=$?
	b=$EPOCHREALTIME
	MS=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%d", (b - a) * 1000}')
	MSGS=$(find "$W/out" -name '*.msg' | sort)
}

# enc_subkey NAME: the long ID of the encryption subkey of key NAME
enc_subkey() {
	gpg --homedir "$WORLD_KEYRING" --batch --with-colons --list-keys "$(cat "$W/keys/$1.fpr")" 2>/dev/null |
		awk -F: '/^sub/ && $12 ~ /e/ {print $5; exit}'
}
# enc_keyids FILE: the key IDs a message is encrypted to
enc_keyids() {
	armored "$1" | gpg --homedir "$WORLD_KEYRING" --batch --list-packets 2>/dev/null |
		awk '/^:pubkey enc packet:/ {for (i=1;i<=NF;i++) if ($i=="keyid") print toupper($(i+1))}' |
		sort -u
}

# judge ROW RCPT EXPECT [KEY]: the assertions of one submission;
# EXPECT is encrypted (to KEY), plaintext or inconclusive. Returns 1
# when one failed (each is reported).
judge() {
	local row=$1 rcpt=$2 want=$3 key=${4:-} n f nbad=$FAILS got
	n=$(printf '%s' "$MSGS" | grep -c . || true)
	f=$(printf '%s\n' "$MSGS" | head -n 1)
	case $want in
	encrypted)
		[ "$RC" = 0 ] || bad "$row" "exit $RC, want 0"
		if [ "$n" != 1 ]; then
			bad "$row" "$n messages reached the sink, want 1 (encrypted)"
		else
			grep -q "canary-$row" "$f" && bad "$row" "the canary is in the clear"
			header_of "$f" | grep -qi '^Content-Type: multipart/encrypted' ||
				bad "$row" "not PGP/MIME: $(header_of "$f" | grep -i '^content-type' | head -n 1)"
			got=$(enc_keyids "$f" | tr '\n' ' ')
			[ "$got" = "$(enc_subkey "$key") " ] ||
				bad "$row" "encrypted to [${got% }], want [$(enc_subkey "$key")] ($key)"
			armored "$f" | gpg --homedir "$WORLD_KEYRING" --batch -q --decrypt 2>/dev/null |
				grep -q "canary-$row" || bad "$row" "does not decrypt to the canary"
		fi ;;
	plaintext)
		[ "$RC" = 0 ] || bad "$row" "exit $RC, want 0"
		if [ "$n" != 1 ]; then
			bad "$row" "$n messages reached the sink, want 1 (plaintext)"
		else
			grep -q 'BEGIN PGP MESSAGE' "$f" && bad "$row" "encrypted, want plaintext"
			grep -q "canary-$row" "$f" || bad "$row" "the canary is not in the message"
		fi ;;
	inconclusive)
		[ "$RC" = 0 ] || bad "$row" "exit $RC, want 0 (deferred to the queue)"
		[ "$n" = 0 ] || bad "$row" "$n messages reached the sink, want none"
		grep -lxE "rcpt(-blind)? $rcpt" "$XDG_STATE_HOME"/postseal/queue/q/[0-9]* 2>/dev/null |
			xargs -r grep -lx 'kind lookup' > "$W/run/waiting" || true
		[ -s "$W/run/waiting" ] || bad "$row" "$rcpt does not wait in the queue for a lookup"
		;;
	esac
	if [ "$n" -ge 1 ] && ! grep -qx -- "$rcpt" "${f%.msg}.argv"; then
		bad "$row" "the MTA was not given $rcpt: $(tr '\n' ' ' < "${f%.msg}.argv")"
	fi
	[ "$MS" -le $(((TIMEOUT + SLACK) * 1000)) ] ||
		bad "$row" "took $MS ms, more than lookup-timeout + $SLACK s"
	if [ "$FAILS" != "$nbad" ]; then
		printf '    (exit %s, %s ms)\n' "$RC" "$MS" >&2
		sed 's/^/    /' "$W/run/row.err" | head -n 12 >&2
		return 1
	fi
	[ "${VERBOSE:-}" = 1 ] && sed 's/^/    /' "$W/run/row.err" | head -n 12
	return 0
}

# gpg_compare ROW RCPT GOT: gpg --locate-keys in a fresh home against the
# same world; every key gpg finds postseal must have found (GOT: the
# fingerprint of the key postseal encrypted to, "" for none)
GPG_ROWS=0 GPG_FOUND=0
gpg_compare() {
	local row=$1 rcpt=$2 got=$3 fprs f
	fprs=$(world_gpg_locate "$rcpt")
	GPG_ROWS=$((GPG_ROWS + 1))
	for f in $fprs; do
		# keys gpg imported but would not use (expired, revoked) do not count
		gpg --homedir "$WORLD_KEYRING" --with-colons --list-keys "$f" 2>/dev/null |
			awk -F: '/^pub/ {exit ($2 ~ /[erd]/) ? 1 : 0}' || continue
		GPG_FOUND=$((GPG_FOUND + 1))
		if [ "$f" != "$got" ]; then
			bad "$row" "gpg --locate-keys found key $f, postseal did not use it"
			return 1
		fi
		return 0
	done
	[ -z "$got" ] || echo "    note: row $row: gpg --locate-keys found no key: $(grep -m1 -i 'error\|not found' "$W/run/gpg-locate.err")"
	return 0
}

# --- the rows ----------------------------------------------------------------------
# ROW  RCPT                      EXPECT        KEY  GPG  WHAT
ROWS='
1  r1@advanced.example        encrypted     r1   gpg  WKD advanced method
2  r2@direct.example          encrypted     r2   gpg  WKD direct method (no openpgpkey host)
3  r3@redirect.example        encrypted     r3   gpg  the apex redirects (301) to www, which serves the key
4  r4@dane.example            encrypted     r4   gpg  DANE OPENPGPKEY in a signed zone
5  r5@mailonly.example        plaintext     -    gpg  mail-only domain: MX, no address, no openpgpkey host
6  r6@refused.example         plaintext     -    gpg  the apex refuses port 443
7  r7@dropped.example         plaintext     -    -    the apex drops packets to port 443
8  r8@shared.example          plaintext     -    gpg  shared hosting: a certificate for another name
9  r9@wildcard.example        plaintext     -    gpg  wildcard A record, no certificate for openpgpkey.DOMAIN
10 r10@otheruid.example       plaintext     -    gpg  WKD serves a key for another address
15 r15@bücher.example         encrypted     r15  -    an internationalised domain (U-label in the address)
16 nokey@advanced.example     plaintext     -    -    a WKD domain without a key for this address (404, then its policy file)
11 r11@expired.example        plaintext     -    gpg  WKD serves an expired key
17 r17@oldns.example          encrypted     r17  gpg  unsigned domain whose name server drops OPENPGPKEY queries, key in WKD
12 r12@danetimeout.example    inconclusive  -    -    signed domain, its DANE name server never answers
14 r14@blackholed.example     inconclusive  -    -    the domain name server never answers (the deadline)
'
while read -r row rcpt want key cmp what; do
	[ -n "$row" ] || continue
	submit "$row" "$rcpt" "$W/cache/$row"
	# the policy file asked after the 404 starts at once (a poll that
	# waited its full second for it made this row take over 1 s)
	if [ "$row" = 16 ] && [ "$MS" -ge 900 ]; then
		bad 16 "took $MS ms: the policy file after the 404 waited for the poll"
	fi
	if judge "$row" "$rcpt" "$want" "$key"; then
		ok "row $row $what: $want, exit $RC, ${MS} ms"
	fi
	if [ "$cmp" = gpg ]; then
		fpr=""
		[ "$want" = encrypted ] && [ "$RC" = 0 ] && [ -n "$MSGS" ] &&
			[ "$(enc_keyids "$(printf '%s\n' "$MSGS" | head -n 1)")" = "$(enc_subkey "$key")" ] &&
			fpr=$(cat "$W/keys/$key.fpr")
		gpg_compare "$row" "$rcpt" "$fpr" && ok "row $row: postseal found every key gpg --locate-keys found"
	fi
done <<< "$ROWS"
# row 17 tested something only if the name server really dropped a query
# for the OPENPGPKEY record
grep -q 'dropped a query of type 61' "$W"/run/bh.*.log ||
	bad 17 "no OPENPGPKEY query reached the name server that drops them"

# 13: a domain with memory that starts failing. First its key is found
# in WKD; then its server presents a certificate for another name and
# every cached answer is stale (as after a day): a new address at the
# domain is inconclusive (no pin, but the domain had keys), the first
# address still gets encrypted mail (its pin).
C13=$W/cache/13
submit 13a r13@memory.example "$C13"
judge 13a r13@memory.example encrypted r13 && ok "row 13a memory: key in WKD: encrypted, exit $RC, ${MS} ms"
world_site $WEB openpgpkey.memory.example cert=www.webhost.example
world_web_reload || fail "nginx did not take the broken certificate"
if ! "$WORLD_PY" - "$C13/postseal/cache.sqlite" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE answer SET expires = ? WHERE addr LIKE '%@memory.example'",
               (int(time.time()) - 1,)).rowcount
db.commit()
sys.exit(0 if n > 0 else 1)
EOF
then
	bad 13 "no cached answer for memory.example to age in $C13/postseal/cache.sqlite"
fi
submit 13b new13@memory.example "$C13"
judge 13b new13@memory.example inconclusive &&
	ok "row 13b memory: a new address after the server broke: inconclusive, exit $RC, ${MS} ms"
submit 13c r13@memory.example "$C13"
judge 13c r13@memory.example encrypted r13 &&
	ok "row 13c memory: the first address after the server broke: encrypted (pin), exit $RC, ${MS} ms"
# 13d: the domain's memory has lapsed (90 days), the pin has not: the
# pin alone keeps the failure inconclusive, and the pinned key is used
if ! "$WORLD_PY" - "$C13/postseal/cache.sqlite" <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
n = db.execute("DELETE FROM domain WHERE domain = 'memory.example' AND what = 'wkd-seen'").rowcount
db.execute("UPDATE answer SET expires = ? WHERE addr LIKE '%@memory.example'",
           (int(time.time()) - 1,))
db.commit()
sys.exit(0 if n > 0 else 1)
EOF
then
	bad 13d "no domain memory for memory.example to forget in $C13/postseal/cache.sqlite"
fi
submit 13d r13@memory.example "$C13"
judge 13d r13@memory.example encrypted r13 &&
	ok "row 13d pin without domain memory: the server broke, the pinned key is used: encrypted, exit $RC, ${MS} ms"

# 18: the system resolver (/etc/resolv.conf) is a forwarder that knows
# nothing of DNSSEC (as some home routers are): its answers come without
# signatures. Validating through it fails for every name, signed or not;
# postseal resolves from the root servers itself (root hints) instead,
# and mail goes where it would have gone.
STRIP=127.0.0.5
world_blackhole "dnsstrip:$STRIP:53:$WORLD_RESOLVER:53" || exit 99
printf 'nameserver %s\n' "$STRIP" > "$W/etc/resolv.conf" # the bind mount's source, in place
submit 18a r1@advanced.example "$W/cache/18"
judge 18a r1@advanced.example encrypted r1 &&
	ok "row 18a resolver strips DNSSEC: WKD in a signed domain: encrypted, exit $RC, ${MS} ms"
submit 18b r4@dane.example "$W/cache/18"
judge 18b r4@dane.example encrypted r4 &&
	ok "row 18b resolver strips DNSSEC: DANE in a signed domain: encrypted, exit $RC, ${MS} ms"
submit 18c r5@mailonly.example "$W/cache/18"
judge 18c r5@mailonly.example plaintext &&
	ok "row 18c resolver strips DNSSEC: a mail-only unsigned domain: plaintext, exit $RC, ${MS} ms"
grep -q '^dnsstrip: ' "$W"/run/bh.*.log ||
	bad 18 "postseal did not ask the resolver that strips DNSSEC"
printf 'nameserver %s\n' "$WORLD_RESOLVER" > "$W/etc/resolv.conf"

for h in "$W"/cache/*/postseal/gnupg; do
	[ -d "$h" ] && gpgconf --homedir "$h" --kill all >/dev/null 2>&1
done
printf 'gpg --locate-keys asked in %s rows, found %s keys\n' "$GPG_ROWS" "$GPG_FOUND"
printf 'took %s s\n' "$(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')"
if [ "$FAILS" -gt 0 ]; then
	printf 'FAIL: %s assertions failed\n' "$FAILS" >&2
	exit 1
fi
exit 0
