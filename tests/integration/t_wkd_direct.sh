#!/bin/bash
# WKD's direct method is used only when openpgpkey.DOMAIN does not exist
# in DNS (NXDOMAIN from a real nsd), never because the advanced server
# failed or said 404.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/nginx.sh" || exit 99
. "$LIB/dns.sh" || exit 99

ps_setup alice
D=$T/dns NG=$T/ng
mkdir -p "$D"
# example.net: no openpgpkey host; example.com: has one
dns_zone "$D" example.net || { [ $? = 77 ] && skip "no nsd/ldnsutils here"; fail "zone"; }
sed -i '/^openpgpkey /d' "$D/zones/example.net.zone"
dns_zone "$D" example.com
# example.org: signed, its openpgpkey A record forged after signing (a
# bogus answer): that must never read as "does not exist"
dns_zone "$D" example.org
dns_sign "$D" example.org || fail "sign example.org"
dns_tamper_a "$D" example.org openpgpkey.example.org || fail "tamper example.org"
DPORT=$(dns_start "$D") || fail "nsd did not start"
NG_PORT=$(ng_start "$NG") || { rc=$?; [ "$rc" = 77 ] && skip "no nginx here"; fail "nginx did not start"; }

export XDG_CACHE_HOME=$T/cache
# example.net and example.com are unsigned ("insecure"); example.org's
# anchor makes its forged answer bogus
cp "$D/example.org.anchor" "$T/no-anchor"
cat > "$T/conf" <<EOF2
[default]
lookup-timeout = 3
[keyfetch]
ca-file = $NG/ca/ca.pem
connect-to = ::127.0.0.1:$NG_PORT
dns-forwarder = 127.0.0.1@$DPORT
trust-anchor = $T/no-anchor
EOF2
chmod 600 "$T/conf"

hash_of() {
	gpg --homedir "$T/d" --with-wkd-hash --list-keys "<$1>" 2>/dev/null |
		sed -n "s/^ *\([a-z0-9]\{32\}\)@${1#*@}\$/\1/p" | head -n1
}
fpr_of() {
	gpg --batch --with-colons --import-options show-only --import "$KEYS/$1.pub.asc" 2>/dev/null |
		awk -F: '/^fpr/ {print $10; exit}'
}
gpg --dearmor < "$KEYS/bob.pub.asc" > "$T/bob.gpg"
gpg --dearmor < "$KEYS/grace.pub.asc" > "$T/grace.gpg"
# bob@example.net: only the direct method has his key
ng_put_key "$NG" example.net ".well-known/openpgpkey/hu/$(hash_of bob@example.net)" "$T/bob.gpg"
# grace@example.com: the advanced host exists and 404s; a key waiting at
# the direct URL must not be fetched
ng_put_key "$NG" example.com ".well-known/openpgpkey/hu/$(hash_of grace@example.com)" "$T/grace.gpg"

"$KEYFETCH" -C "$T/conf" bob@example.net grace@example.com > "$T/out" 2> "$T/err"
grep -qx "bob@example.net $(fpr_of bob) wkd" "$T/out" || fail "direct method: $(cat "$T/out" "$T/err")"
grep -q '^  wkd: FOUND.* https://example.net/.well-known/openpgpkey/hu/' "$T/out" ||
	fail "bob's key did not come from the direct URL: $(cat "$T/out")"
ok "openpgpkey.example.net does not exist: the direct method finds bob's key"

grep -q "^grace@example.com $(fpr_of grace)" "$T/out" && fail "the direct method was used though openpgpkey.example.com exists"
awk '$1=="grace@example.com"{on=1;next} /^[^ ]/{on=0} on' "$T/out" |
	grep -q '^  wkd: NOT_FOUND (HTTP 404) https://openpgpkey.example.com/' || fail "grace: $(cat "$T/out")"
ok "openpgpkey.example.com exists: its 404 stands, no fallback"

# frank@example.org: a key waits at the direct URL (as an attacker who
# forged the DNS answer would place it); the bogus answer for
# openpgpkey.example.org must not send the lookup there
gpg --dearmor < "$KEYS/frank.pub.asc" > "$T/frank.gpg"
ng_put_key "$NG" example.org ".well-known/openpgpkey/hu/$(wkd_hash frank@example.org)" "$T/frank.gpg"
"$KEYFETCH" -C "$T/conf" frank@example.org > "$T/out" 2> "$T/err"
grep -q '^frank@example.org .* wkd$' "$T/out" && fail "a bogus DNSSEC answer sent WKD to the direct method: $(cat "$T/out")"
grep -q 'https://example.org/.well-known/openpgpkey/hu/' "$T/out" && fail "the direct URL was asked: $(cat "$T/out")"
ok "a bogus DNSSEC answer for openpgpkey.DOMAIN never means 'does not exist': the direct method is not used"
