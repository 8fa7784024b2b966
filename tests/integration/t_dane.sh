#!/bin/bash
# DANE OPENPGPKEY lookups by postseal-keyfetch through libunbound against
# real DNSSEC-signed zones (ldns-signzone) served by nsd on loopback: a
# secure record is used; a tampered (bogus) record is BAD, never "no key";
# an unsigned zone means "no DANE here"; a secure NXDOMAIN is NOT_FOUND.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/dns.sh" || exit 99

ps_setup alice
D=$T/dns
mkdir -p "$D"
bin() { gpg --dearmor < "$KEYS/$1.pub.asc"; }
fpr_of() {
	gpg --batch --with-colons --import-options show-only --import "$KEYS/$1.pub.asc" 2>/dev/null |
		awk -F: '/^fpr/ {print $10; exit}'
}
# example.com: signed, grace's key; example.org: signed, then dave's
# record tampered; example.net: unsigned, bob's key
bin grace > "$T/grace.gpg"; bin dave > "$T/dave.gpg"; bin bob > "$T/bob.gpg"
dns_zone "$D" example.com || { [ $? = 77 ] && skip "no nsd/ldnsutils here"; fail "zone"; }
dns_add_openpgpkey "$D" example.com "$(dns_openpgpkey_owner grace example.com)" "$T/grace.gpg"
dns_sign "$D" example.com || fail "sign example.com"
dns_zone "$D" example.org
dns_add_openpgpkey "$D" example.org "$(dns_openpgpkey_owner dave example.org)" "$T/dave.gpg"
dns_sign "$D" example.org || fail "sign example.org"
dns_tamper "$D" example.org || fail "tamper example.org"
dns_zone "$D" example.net
dns_add_openpgpkey "$D" example.net "$(dns_openpgpkey_owner bob example.net)" "$T/bob.gpg"
PORT=$(dns_start "$D") || fail "nsd did not start"
cat "$D/example.com.anchor" "$D/example.org.anchor" > "$T/anchors"

export XDG_CACHE_HOME=$T/cache
cat > "$T/conf" <<EOF2
[default]
lookup-timeout = 5
[keyfetch]
dns-forwarder = 127.0.0.1@$PORT
trust-anchor = $T/anchors
# no web server here: WKD is refused fast and must not decide anything
connect-to = ::127.0.0.1:9
EOF2
chmod 600 "$T/conf"

kf() { "$KEYFETCH" -C "$T/conf" "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
daneline() { awk -v a="$1" '$1==a {on=1; next} /^[^ ]/ {on=0} on && $1=="dane:"' "$T/out"; }

kf grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "grace: exit $(cat "$T/rc"): $(cat "$T/out" "$T/err")"
grep -qx "grace@example.com $(fpr_of grace) dane" "$T/out" || fail "grace: $(cat "$T/out")"
daneline grace@example.com | grep -q '^  dane: FOUND' || fail "grace: $(cat "$T/out")"
ok "a key in a DNSSEC-secure OPENPGPKEY record is found and chosen"

kf dave@example.org
daneline dave@example.org | grep -q '^  dane: BAD (DNSSEC bogus' || fail "tampered: $(cat "$T/out")"
grep -qx 'dave@example.org - unknown' "$T/out" || fail "tampered: not unknown: $(cat "$T/out")"
[ "$(cat "$T/rc")" = 75 ] || fail "tampered: exit $(cat "$T/rc"), want 75"
ok "a tampered record is BAD: the address is unknown (exit 75), not 'no key'"

kf bob@example.net
daneline bob@example.net | grep -q '^  dane: NOT_FOUND (insecure zone' || fail "insecure: $(cat "$T/out")"
grep -q "^bob@example.net $(fpr_of bob)" "$T/out" && fail "a key from an unsigned zone was used"
ok "an unsigned zone means no DANE: its record is not used"

kf nobody@example.com
daneline nobody@example.com | grep -q '^  dane: NOT_FOUND (secure NXDOMAIN)' ||
	fail "nxdomain: $(cat "$T/out")"
ok "a secure NXDOMAIN is NOT_FOUND"
