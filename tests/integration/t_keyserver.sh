#!/bin/bash
# Keyservers, opt-in sources: HKP against the real SKS keyserver from
# Debian (bound to 127.0.0.1, behind nginx for TLS, as public keyservers
# are run) and VKS against an nginx stand-in serving the keys.openpgp.org
# paths. A key found there encrypts a message end to end; third-party
# signatures from the keyserver are stripped on import (CVE-2019-13050);
# SKS's word search returns keys of other addresses, which are not used.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/nginx.sh" || exit 99
. "$LIB/sks.sh" || exit 99

ps_setup alice
ps_postfix
SKS=$T/sks
SKS_PORT=$(sks_start "$SKS") || { rc=$?; [ "$rc" = 77 ] && skip "no sks here"; fail "sks did not start"; }
NG=$T/ng
NG_PKS_UPSTREAM=127.0.0.1:$SKS_PORT
ng_ca "$NG" vks.example.test hkp.example.test > /dev/null || fail "no CA"
NG_PORT=$(ng_start "$NG") || { rc=$?; [ "$rc" = 77 ] && skip "no nginx here"; fail "nginx did not start"; }

fpr_of() {
	gpg --batch --with-colons --import-options show-only --import "$KEYS/$1.pub.asc" 2>/dev/null |
		awk -F: '/^fpr/ {print $10; exit}'
}

# bob's key on SKS, certified by alice (a third-party signature, as a
# flooder would add thousands of)
H=$T/signer; mkdir -m 700 "$H"
gpg --homedir "$H" --batch -q --import "$KEYS/alice.sec.asc" "$KEYS/bob.pub.asc" 2>/dev/null
gpg --homedir "$H" --batch -q --pinentry-mode loopback --passphrase '' \
	--default-key "$(fpr_of alice)" --quick-sign-key "$(fpr_of bob)" > /dev/null 2>&1 ||
	fail "cannot certify bob's key"
gpg --homedir "$H" --armor --export "$(fpr_of bob)" > "$T/bob-signed.asc"
gpgconf --homedir "$H" --kill all
[ "$(gpg --homedir "$H" --with-colons --list-sigs "$(fpr_of bob)" 2>/dev/null | grep -c '^sig')" -ge 2 ] ||
	fail "the certification is missing from the uploaded key"
sks_add_key "$SKS" "$T/bob-signed.asc" || fail "upload to SKS"
# user4 <user4@EXAMPLE.ORG>: SKS searches words, not addresses, so a
# search for org@user4.example returns this key
sks_add_key "$SKS" "$KEYS/user4.pub.asc" || fail "upload user4 to SKS"

# VKS stand-in: grace's key at the by-email path
gpg --dearmor < "$KEYS/grace.pub.asc" > "$T/grace.gpg"
mkdir -p "$NG/www/vks.example.test/vks/v1/by-email"
cp "$T/grace.gpg" "$NG/www/vks.example.test/vks/v1/by-email/grace@example.com"

export XDG_CACHE_HOME=$T/cache
cat > "$T/conf" <<EOF2
[transport]
mode = sendmail
sendmail = $SENDMAIL
[default]
lookup-timeout = 3
sources = local vks hkp
[keyfetch]
ca-file = $NG/ca/ca.pem
connect-to = ::127.0.0.1:$NG_PORT
vks-server = https://vks.example.test
hkp-server = https://hkp.example.test
EOF2
chmod 600 "$T/conf"

kf() { "$KEYFETCH" -C "$T/conf" "$@" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }

kf bob@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "hkp: exit $(cat "$T/rc"): $(cat "$T/out" "$T/err")"
grep -qx "bob@example.net $(fpr_of bob) hkp" "$T/out" || fail "hkp: $(cat "$T/out")"
grep -q '^  hkp: FOUND .*https://hkp.example.test/pks/lookup?op=get&options=mr&search=bob%40example.net$' "$T/out" ||
	fail "hkp: URL: $(cat "$T/out")"
grep -q '^  vks: NOT_FOUND (HTTP 404)' "$T/out" || fail "vks for bob: $(cat "$T/out")"
STORE=$XDG_CACHE_HOME/postseal/gnupg
sigs=$(gpg --homedir "$STORE" --with-colons --list-sigs "$(fpr_of bob)" 2>/dev/null | awk -F: '$1=="sig" {print $5}' | sort -u)
[ "$sigs" = "$(gpg --with-colons --import-options show-only --import "$KEYS/bob.pub.asc" 2>/dev/null | awk -F: '$1=="pub" {print $5}')" ] ||
	fail "third-party signatures were imported: signers [$sigs]"
ok "HKP (SKS behind TLS) finds bob's key; alice's certification from the keyserver is stripped"

kf grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "vks: exit $(cat "$T/rc"): $(cat "$T/out" "$T/err")"
grep -qx "grace@example.com $(fpr_of grace) vks" "$T/out" || fail "vks: $(cat "$T/out")"
grep -q '^  vks: FOUND .*https://vks.example.test/vks/v1/by-email/grace%40example.com$' "$T/out" ||
	fail "vks: URL: $(cat "$T/out")"
ok "VKS finds grace's key at /vks/v1/by-email/"

# SKS answers a search for org@user4.example with user4's key (same
# words); its user ID is another address, so nothing is imported
kf org@user4.example
grep -q '^  hkp: \(NOT_FOUND\|BAD\)' "$T/out" || fail "word search: $(cat "$T/out")"
grep -q "$(fpr_of user4)" "$T/out" && fail "a key of another address was taken: $(cat "$T/out")"
ok "a keyserver reply without the exact address is not used"

# end to end: a message to bob, whose key only the keyserver has
printf 'From: sender@example.com\nTo: bob@example.net\nSubject: via hkp\n\nkeyserver body\n' > "$T/msg"
"$POSTSEAL" -C "$T/conf" -i -f sender@example.com bob@example.net < "$T/msg" 2> "$T/err" ||
	fail "postseal exit $?: $(cat "$T/err")"
pf_wait_delivered "$PF" 1 || fail "bob's copy did not arrive"
B=$(pf_mailbox "$PF" bob@example.net)
header_of "$B" | grep -q '^Content-Type: multipart/encrypted;' || fail "not encrypted: $(cat "$B")"
[ "$(keyids_of "$B")" = "$(keyid bob)" ] || fail "encrypted to $(keyids_of "$B")"
gpg_decrypt "$B" | tr -d '\r' | grep -qx 'keyserver body' || fail "does not decrypt"
ok "a message to a recipient whose key is on the keyserver arrives encrypted to it"

# encrypt = require: a key only HKP has never satisfies it
sed -i 's/^sources = local vks hkp$/sources = local vks hkp\nencrypt = require/' "$T/conf"
grep -q '^encrypt = require$' "$T/conf" || fail "could not write the require policy"
n=$(pf_count_delivered "$PF")
"$POSTSEAL" -C "$T/conf" -i -f sender@example.com bob@example.net < "$T/msg" 2> "$T/err"; rc=$?
[ "$rc" = 69 ] || fail "require + HKP: exit $rc, want 69: $(cat "$T/err")"
grep -q "bob@example.net: refused: the only key comes from hkp, which require-sources does not accept" "$T/err" ||
	fail "require + HKP: $(cat "$T/err")"
sleep 1
[ "$(pf_count_delivered "$PF")" = "$n" ] || fail "require + HKP: something was delivered"
"$POSTSEAL" -C "$T/conf" -i -f sender@example.com grace@example.com < "$T/msg" 2> "$T/err" ||
	fail "require + VKS: exit $?: $(cat "$T/err")"
ok "encrypt = require: a key only from HKP is refused (nothing sent, 69); one from VKS is accepted"
