#!/bin/bash
# Web Key Directory lookups by postseal-keyfetch against a real nginx over
# HTTPS with a throwaway CA: found, not found, a bad certificate, an
# oversize reply, a redirect to http, a 500, a key with a foreign user ID,
# two keys in one reply, an expired key, a revoked key. TEMPFAIL and BAD never become
# "no key". Found keys go into postseal's keyring, never the user's.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/nginx.sh" || exit 99

ps_setup alice
NG=$T/ng
NG_PORT=$(ng_start "$NG") || { rc=$?; [ "$rc" = 77 ] && skip "no nginx here"; fail "nginx did not start"; }
BAD_PORT=$(ng_port "$NG" bad)
export XDG_CACHE_HOME=$T/cache
STORE=$XDG_CACHE_HOME/postseal/gnupg

# keyfetch connects every https name to the good port, except
# openpgpkey.example.net, which gets the self-signed certificate
cat > "$T/conf" <<EOF2
[default]
lookup-timeout = 1
[keyfetch]
ca-file = $NG/ca/ca.pem
connect-to = openpgpkey.example.net:443:127.0.0.1:$BAD_PORT ::127.0.0.1:$NG_PORT
# DNS goes nowhere but loopback: nothing listens there, so DANE cannot
# answer (TEMPFAIL) and must not decide anything either
dns-forwarder = 127.0.0.1@9
EOF2
chmod 600 "$T/conf"

put() { # ADDR FILE: serve FILE as ADDR's key (advanced method)
	local dom=${1#*@} h
	h=$(wkd_hash "$1")
	[ -n "$h" ] || fail "no WKD hash for $1"
	ng_put_key "$NG" "openpgpkey.$dom" ".well-known/openpgpkey/$dom/hu/$h" "$2"
}
bin() { gpg --dearmor < "$KEYS/$1.pub.asc"; }
fpr_of() {
	gpg --batch --with-colons --import-options show-only --import "$KEYS/$1.pub.asc" 2>/dev/null |
		awk -F: '/^fpr/ {print $10; exit}'
}

bin grace > "$T/grace.gpg"; put grace@example.com "$T/grace.gpg"
bin bob > "$T/bob.gpg"; put bob@example.net "$T/bob.gpg"
bin heidi > "$T/heidi.gpg"; put heidi@example.org "$T/heidi.gpg"
cat <(bin user2-old) <(bin user2-new) > "$T/user2.gpg"; put user2@example.org "$T/user2.gpg"
head -c 300000 /dev/urandom > "$T/big"; put huge@example.org "$T/big"
bin frank > "$T/frank.gpg"; put frank@example.org "$T/frank.gpg"

kf() { "$KEYFETCH" -C "$T/conf" "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
line() { grep "^$1 " "$T/out"; }
wkdline() { awk -v a="$1" '$1==a {on=1; next} /^[^ ]/ {on=0} on && $1=="wkd:"' "$T/out"; }

kf grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "grace: exit $(cat "$T/rc"): $(cat "$T/out" "$T/err")"
[ "$(line grace@example.com)" = "grace@example.com $(fpr_of grace) wkd" ] ||
	fail "grace: $(cat "$T/out")"
gpg --homedir "$STORE" --with-colons --list-keys grace@example.com 2>/dev/null | grep -q "^fpr:*$(fpr_of grace):" ||
	fail "grace's key is not in postseal's keyring"
gpg --with-colons --list-keys grace@example.com >/dev/null 2>&1 && fail "grace's key went into the user's keyring"
ok "a key in WKD is found, imported into postseal's keyring only"

# --json while the network is asked: the DNS resolver forks a worker, which
# must not write a second copy of what stdout holds so far ("[[")
kf --json --refresh grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "--json: exit $(cat "$T/rc"): $(cat "$T/out" "$T/err")"
python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert len(doc) == 1, doc
assert doc[0]["address"] == sys.argv[1], doc
assert doc[0]["fingerprint"] == sys.argv[2], doc
assert doc[0]["sources"]["wkd"]["asked"] == "network", doc
assert doc[0]["sources"]["dane"]["asked"] == "network", doc
' grace@example.com "$(fpr_of grace)" < "$T/out" || fail "--json is not the JSON expected: $(cat "$T/out")"
ok "postseal-keyfetch --json with network lookups prints one valid JSON document"

# more addresses than one lookup batch (64): the second batch's worker must
# not repeat the first batch's output either
many=$(for i in $(seq 1 70); do printf 'many%d@example.com\n' "$i"; done)
# shellcheck disable=SC2086
kf --json $many
python3 -c '
import json, sys
doc = json.load(sys.stdin)
got = [d["address"] for d in doc]
want = ["many%d@example.com" % i for i in range(1, 71)]
assert got == want, got
' < "$T/out" || fail "--json, 70 addresses: $(head -c 600 "$T/out")"
# shellcheck disable=SC2086
kf $many
# each address heads exactly one block
[ "$(grep -o '^many[0-9]*@example.com ' "$T/out" | sort | uniq -u | wc -l)" = 70 ] ||
	fail "text output, 70 addresses: $(grep -o '^many[0-9]*@example.com ' "$T/out" | sort | uniq -c | sort -rn | head -3)"
ok "postseal-keyfetch prints each of 70 addresses once (two lookup batches), as text and as JSON"

kf nobody@example.com
wkdline nobody@example.com | grep -q 'NOT_FOUND (HTTP 404)' || fail "nobody: $(cat "$T/out")"
# there is no DNS here, so DANE could not answer: WKD's 404 alone does not
# make it "no key"
grep -q '^  dane: TEMPFAIL' "$T/out" || fail "nobody: DANE answered without DNS? $(cat "$T/out")"
grep -qx 'nobody@example.com - unknown' "$T/out" || fail "nobody: $(cat "$T/out")"
[ "$(cat "$T/rc")" = 75 ] || fail "nobody: exit $(cat "$T/rc"), want 75"
ok "404 is NOT_FOUND, and with DANE unanswered the address stays unknown (exit 75)"

kf bob@example.net
[ "$(cat "$T/rc")" = 75 ] || fail "bad cert: exit $(cat "$T/rc"), want 75"
wkdline bob@example.net | grep -q '^  wkd: BAD' || fail "bad cert: $(cat "$T/out")"
grep -q '^bob@example.net - unknown$' "$T/out" || fail "bad cert is not 'unknown': $(cat "$T/out")"
ok "a bad certificate is BAD and the address stays unknown (exit 75), not 'no key'"

kf huge@example.org
wkdline huge@example.org | grep -q 'BAD (reply larger than the limit' || fail "oversize: $(cat "$T/out")"
[ "$(cat "$T/rc")" = 75 ] || fail "oversize: exit $(cat "$T/rc")"
ok "a reply over 256 KiB is BAD"

kf frank@example.org
wkdline frank@example.org | grep -q 'BAD (no usable key' || fail "revoked: $(cat "$T/out")"
grep -qx 'frank@example.org - unknown' "$T/out" || fail "revoked: $(cat "$T/out")"
ok "a revoked key from WKD is BAD, never used"

kf heidi@example.org
wkdline heidi@example.org | grep -q 'BAD (no usable key' || fail "expired: $(cat "$T/out")"
ok "an expired key from WKD is BAD"

kf user2@example.org
[ "$(line user2@example.org)" = "user2@example.org $(fpr_of user2-new) wkd" ] ||
	fail "two keys: $(cat "$T/out")"
ok "of two keys in one reply, the newer is chosen"

# a key with a foreign user ID: only grace's user ID is kept
GH=$T/gh; mkdir -m 700 "$GH"
gpg --homedir "$GH" --batch -q --import "$KEYS/grace.sec.asc" 2>/dev/null
gpg --homedir "$GH" --batch --pinentry-mode loopback --passphrase '' \
	--quick-add-uid "$(fpr_of grace)" 'Mallory <mallory@evil.example>' 2>/dev/null
gpg --homedir "$GH" --export "$(fpr_of grace)" > "$T/grace2.gpg"
gpgconf --homedir "$GH" --kill all
rm -rf "$STORE"
put grace@example.com "$T/grace2.gpg"
kf grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "foreign uid: exit $(cat "$T/rc")"
gpg --homedir "$STORE" --with-colons --list-keys 2>/dev/null | grep -q 'mallory@evil.example' &&
	fail "the foreign user ID was imported"
ok "a foreign user ID in the reply is not imported"

# the same for an address that the import of several replies at once
# cannot name in its filter (a '&' is filter syntax): imported on its own,
# still only its own user ID
GA=$T/ga; mkdir -m 700 "$GA"
gpg --homedir "$GA" --batch -q --pinentry-mode loopback --passphrase '' \
	--quick-gen-key 'Amp <amp&co@example.com>' default default 0 2>/dev/null ||
	fail "cannot make a key for amp&co"
afpr=$(gpg --homedir "$GA" --with-colons --list-keys 'amp&co@example.com' 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --homedir "$GA" --batch --pinentry-mode loopback --passphrase '' \
	--quick-add-uid "$afpr" 'Mallory <mallory@evil.example>' 2>/dev/null
gpg --homedir "$GA" --export "$afpr" > "$T/amp.gpg"
gpgconf --homedir "$GA" --kill all
gpg --homedir "$GA" --with-colons --list-keys "$afpr" 2>/dev/null | grep -q 'mallory@evil.example' ||
	fail "the test key lacks its foreign user ID"
rm -rf "$STORE"
put 'amp&co@example.com' "$T/amp.gpg"
kf 'amp&co@example.com'
[ "$(cat "$T/rc")" = 0 ] || fail "amp&co: exit $(cat "$T/rc"): $(cat "$T/err")"
line 'amp&co@example.com' | grep -q "$afpr wkd" || fail "amp&co: the key was not found: $(cat "$T/out")"
gpg --homedir "$STORE" --with-colons --list-keys 2>/dev/null | grep -q 'mallory@evil.example' &&
	fail "amp&co: the foreign user ID was imported"
ok "a foreign user ID in the reply for an address with a '&' is not imported either"

# one lookup run for two addresses whose replies are imported together:
# grace's domain serves user2's newer key, user2's domain the older one.
# The newer key may count neither for grace (no user ID of hers) nor for
# user2 (it is not in user2's own reply), although it is newer
rm -rf "$STORE" "$XDG_CACHE_HOME/postseal/cache.sqlite"*
bin user2-new > "$T/u2new.gpg"; bin user2-old > "$T/u2old.gpg"
put grace@example.com "$T/u2new.gpg"
put user2@example.org "$T/u2old.gpg"
kf grace@example.com user2@example.org
grep -qx 'grace@example.com - unknown' "$T/out" || fail "cross reply: grace: $(cat "$T/out")"
[ "$(line user2@example.org)" = "user2@example.org $(fpr_of user2-old) wkd" ] ||
	fail "cross reply: user2 got a key from grace's reply: $(cat "$T/out")"
put user2@example.org "$T/user2.gpg"
rm -rf "$STORE" "$XDG_CACHE_HOME/postseal/cache.sqlite"*
ok "a key served for one address is never used for another looked up in the same run"

ng_host_mode "$NG" openpgpkey.example.org redirect-http
kf user2@example.org
wkdline user2@example.org | grep -q "^  wkd: BAD (HTTP 30[12378] redirect to http://.*refused" || fail "redirect to http: $(cat "$T/out")"
ng_host_mode "$NG" openpgpkey.example.org err500
kf user2@example.org
wkdline user2@example.org | grep -q 'TEMPFAIL (HTTP 500' || fail "500: $(cat "$T/out")"
[ "$(cat "$T/rc")" = 75 ] || fail "500: exit $(cat "$T/rc")"
ok "a redirect to http is BAD, a 500 is TEMPFAIL; neither is 'no key'"
