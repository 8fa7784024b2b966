#!/bin/bash
# The site policy, decision by decision, through real submissions into a
# private Postfix: what arrived (or that nothing did) and the exit status.
# Keys: alice and bob in the local keyring; dave's key serves as a gateway
# key; carol and erin have none. Network sources are off unless a case
# needs them (DANE pointed at a resolver that does not answer: TEMPFAIL).
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice bob
ps_postfix
export XDG_CACHE_HOME=$T/cache

# pconf BODY: the site file, [transport] plus the policy lines given
pconf() {
	{
		printf '[transport]\nmode = sendmail\nsendmail = %s\n' "$SENDMAIL"
		printf '[keyfetch]\ndns-forwarder = 127.0.0.1@9\n'
		printf '%s\n' "$1"
	} > "$T/conf"
	chmod 600 "$T/conf"
}
msg() { printf 'From: Sender <sender@example.com>\nTo: %s\nSubject: Policy test\n\nPolicy body line.\n' "$1" > "$T/msg"; }
send() { "$POSTSEAL" -C "$T/conf" -i -f sender@example.com "$@" < "$T/msg" > "$T/out" 2> "$T/err"; echo $? > "$T/rc"; }
rc() { cat "$T/rc"; }
count() { pf_count_delivered "$PF"; }
nothing_since() { sleep 1; [ "$(count)" = "$1" ] || fail "$2: something was delivered"; }
newest() { pf_mailbox "$PF" "$1" | xargs -r ls -t | head -n1; }
encrypted_to() { # FILE KEYNAME...
	local f=$1 want; shift
	header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "$f is not encrypted"
	want=$(for k in "$@"; do keyid "$k"; done | sort)
	[ "$(keyids_of "$f")" = "$want" ] || fail "$f encrypted to [$(keyids_of "$f")], want [$want]"
	gpg_decrypt "$f" | tr -d '\r' | grep -qx 'Policy body line.' || fail "$f does not decrypt"
}
plaintext() { grep -qx 'Policy body line.' "$1" || fail "$1 is not the plaintext"; }

# --- encrypt = require --------------------------------------------------------
pconf "[default]
sources = local
[domain example.com]
encrypt = require"
msg "alice@example.org, carol@example.com"
n=$(count)
send alice@example.org carol@example.com
[ "$(rc)" = 69 ] || fail "require, no key: exit $(rc), want 69: $(cat "$T/err")"
grep -qx "postseal: carol@example.com: refused: no key, and encrypt = require ($T/conf:9 \[domain example.com\])" "$T/err" ||
	fail "require, no key: stderr: $(cat "$T/err")"
nothing_since "$n" "require, no key"
ok "encrypt = require and no key: nothing sent at all, exit 69, the deciding line named"

# --- one mailbox, other spellings: the same section ---------------------------------
# Another case, unneeded quotes and (with recipient-delimiter) an extension
# name the same mailbox, and so does a domain in U-labels or A-labels: none
# of them may escape the section (RFC 5321 2.4, RFC 5890).
pconf "[default]
sources = local
recipient-delimiter = +
[address ceo@example.com]
encrypt = require"
for r in CEO@example.com '"ceo"@example.com' ceo+board@example.com; do
	msg "$r"
	n=$(count)
	send "$r"
	[ "$(rc)" = 69 ] || fail "[address ceo@example.com] and $r: exit $(rc), want 69: $(cat "$T/err")"
	grep -qxF "postseal: $r: refused: no key, and encrypt = require ($T/conf:10 [address ceo@example.com])" "$T/err" ||
		fail "[address ceo@example.com] and $r: stderr: $(cat "$T/err")"
	nothing_since "$n" "[address ceo@example.com] and $r"
done
ok "[address ceo@example.com] applies to CEO@example.com, \"ceo\"@example.com and ceo+board@example.com (recipient-delimiter = +)"

ulabel=$(printf 'b\xc3\xbccher.example') # bücher.example, whatever the script's encoding
for dom in "$ulabel" xn--bcher-kva.example; do
	pconf "[default]
sources = local
[domain $dom]
encrypt = require"
	for r in "x@$ulabel" X@XN--BCHER-KVA.EXAMPLE; do
		msg "$r"
		n=$(count)
		send "$r"
		[ "$(rc)" = 69 ] || fail "[domain $dom] and $r: exit $(rc), want 69: $(cat "$T/err")"
		grep -qF "refused: no key, and encrypt = require ($T/conf:9 [domain xn--bcher-kva.example])" "$T/err" ||
			fail "[domain $dom] and $r: stderr: $(cat "$T/err")"
		nothing_since "$n" "[domain $dom] and $r"
	done
done
ok "[domain bücher.example] and [domain xn--bcher-kva.example] both apply to x@bücher.example and X@XN--BCHER-KVA.EXAMPLE"

pconf "[default]
sources = local
[domain example.org]
encrypt = require
require-sources = dane wkd"
msg alice@example.org
send alice@example.org
[ "$(rc)" = 69 ] || fail "require-sources: exit $(rc): $(cat "$T/err")"
grep -q "alice@example.org: refused: the only key comes from local, which require-sources does not accept" "$T/err" ||
	fail "require-sources: $(cat "$T/err")"
nothing_since "$n" "require-sources"
ok "encrypt = require with a key from a source require-sources does not list: refused"

# --- no-key -------------------------------------------------------------------
pconf "[default]
sources = local
no-key = refuse"
msg carol@example.com
send carol@example.com
[ "$(rc)" = 69 ] || fail "no-key = refuse: exit $(rc)"
grep -q "carol@example.com: refused: no key, and no-key = refuse ($T/conf:8 \[default\])" "$T/err" || fail "no-key = refuse: $(cat "$T/err")"
nothing_since "$n" "no-key = refuse"
ok "no-key = refuse: refused, exit 69"

pconf "[default]
sources = local
[domain example.com]
no-key = tls-required"
send carol@example.com
[ "$(rc)" = 69 ] || fail "tls-required: exit $(rc)"
grep -q "carol@example.com: refused: .*tls-required.*this handoff cannot enforce verified TLS (that needs \[transport\] mode = smtp" "$T/err" || fail "tls-required: $(cat "$T/err")"
nothing_since "$n" "tls-required"
ok "no-key = tls-required cannot be kept with the sendmail handoff: refused with the reason, never plaintext"

pconf "[default]
sources = local"
send carol@example.com
[ "$(rc)" = 0 ] || fail "tls-opportunistic: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "carol's plaintext copy did not arrive"
plaintext "$(newest carol@example.com)"
n=$(count)
ok "no-key = tls-opportunistic (default): plaintext"

# --- unknown --------------------------------------------------------------------
pconf "[default]
sources = local dane
lookup-timeout = 1"
send -v carol@example.com
[ "$(rc)" = 0 ] || fail "unknown: exit $(rc), want 0 (deferred): $(cat "$T/err")"
grep -q "carol@example.com: key lookup inconclusive (dane: TEMPFAIL.*unknown = defer" "$T/err" || fail "unknown: $(cat "$T/err")"
grep -q "carol@example.com: waits in the queue as" "$T/err" || fail "unknown: not queued: $(cat "$T/err")"
nothing_since "$n" "unknown = defer"
rm -rf "$XDG_STATE_HOME/postseal/queue"
ok "opportunistic with an inconclusive lookup: deferred to the queue (exit 0), nothing sent now"

pconf "[default]
sources = local dane
lookup-timeout = 1
[domain example.com]
unknown = as-no-key"
send carol@example.com
[ "$(rc)" = 0 ] || fail "as-no-key: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "as-no-key: no copy"
plaintext "$(newest carol@example.com)"
n=$(count)
ok "unknown = as-no-key: an inconclusive lookup counts as no key (here: plaintext)"

# --- mixed ------------------------------------------------------------------------
msg "alice@example.org, carol@example.com"
pconf "[default]
sources = local
mixed = refuse-keyless"
send alice@example.org carol@example.com
[ "$(rc)" = 69 ] || fail "refuse-keyless: exit $(rc), want 69: $(cat "$T/err")"
grep -q "carol@example.com: refused: no key.*mixed = refuse-keyless ($T/conf:8" "$T/err" || fail "refuse-keyless: $(cat "$T/err")"
grep -q "the copies for the other recipients were sent" "$T/err" || fail "refuse-keyless: does not say what was sent: $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "refuse-keyless: alice's copy did not arrive"
sleep 1
[ "$(count)" = $((n + 1)) ] || fail "refuse-keyless: carol got something"
encrypted_to "$(newest alice@example.org)" alice
n=$(count)
ok "mixed = refuse-keyless: the encrypted copy is sent, the keyless recipient refused, exit 69 says so"

pconf "[default]
sources = local
mixed = refuse"
send alice@example.org carol@example.com
[ "$(rc)" = 69 ] || fail "mixed = refuse: exit $(rc)"
nothing_since "$n" "mixed = refuse"
ok "mixed = refuse: nothing sent, exit 69"

pconf "[default]
sources = local
mixed = plaintext"
send alice@example.org carol@example.com
[ "$(rc)" = 0 ] || fail "mixed = plaintext: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 2)) || fail "mixed = plaintext: copies missing"
plaintext "$(newest alice@example.org)"
plaintext "$(newest carol@example.com)"
n=$(count)
ok "mixed = plaintext: everybody gets the plaintext"

pconf "[default]
sources = local"
send alice@example.org carol@example.com
[ "$(rc)" = 0 ] || fail "split: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 2)) || fail "split: copies missing"
encrypted_to "$(newest alice@example.org)" alice
plaintext "$(newest carol@example.com)"
n=$(count)
ok "mixed = split (default): encrypted copy and plaintext copy"

# --- gateway-key ------------------------------------------------------------------
gpg --dearmor < "$KEYS/dave.pub.asc" > "$T/gateway.gpg"
pconf "[default]
sources = local
[domain example.com]
encrypt = require
gateway-key = $T/gateway.gpg"
msg carol@example.com
send carol@example.com
[ "$(rc)" = 0 ] || fail "gateway: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "gateway: no copy"
encrypted_to "$(newest carol@example.com)" dave
gpg --with-colons --list-keys dave@example.org >/dev/null 2>&1 && fail "the gateway key went into the user's keyring"
n=$(count)
ok "gateway-key: a recipient without a key gets a copy encrypted to the domain's gateway key"

# a gateway key that is revoked or expired: the admin's configuration is
# wrong (78), not a temporary state (75) to be retried forever
GK=$T/gk; mkdir -m 700 "$GK"
gpg --homedir "$GK" --batch -q --passphrase '' --quick-gen-key 'Gw <gw@example.com>' ed25519 sign never 2>/dev/null
GF=$(gpg --homedir "$GK" --with-colons --list-keys gw@example.com 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --homedir "$GK" --batch -q --passphrase '' --quick-add-key "$GF" cv25519 encr never 2>/dev/null
sed 's/^:-----BEGIN/-----BEGIN/' "$GK/openpgp-revocs.d/$GF.rev" | gpg --homedir "$GK" --batch -q --import 2>/dev/null
gpg --homedir "$GK" --export "$GF" > "$T/gw-revoked.gpg"
gpg --homedir "$GK" --batch -q --passphrase '' --faked-system-time 20200101T000000 \
	--quick-gen-key 'Gx <gx@example.com>' ed25519 sign 2020-06-01 2>/dev/null
XF=$(gpg --homedir "$GK" --with-colons --list-keys gx@example.com 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --homedir "$GK" --batch -q --passphrase '' --faked-system-time 20200101T000001 \
	--quick-add-key "$XF" cv25519 encr 2020-06-01 2>/dev/null
gpg --homedir "$GK" --export "$XF" > "$T/gw-expired.gpg"
gpgconf --homedir "$GK" --kill all
for kind in revoked expired; do
	[ -s "$T/gw-$kind.gpg" ] || fail "could not make the $kind gateway key"
	pconf "[default]
sources = local
[domain example.com]
encrypt = require
gateway-key = $T/gw-$kind.gpg"
	msg carol@example.com
	send carol@example.com
	[ "$(rc)" = 78 ] || fail "gateway key $kind: exit $(rc), want 78: $(cat "$T/err")"
	grep -q 'cannot encrypt' "$T/err" || fail "gateway key $kind: no reason: $(cat "$T/err")"
	nothing_since "$n" "gateway key $kind"
done
ok "a revoked or an expired gateway key is a configuration error (78), nothing sent"

# --- encrypt = never, encrypt-to-self, protect-subject --------------------------------
pconf "[default]
sources = local
[address alice@example.org]
encrypt = never"
msg alice@example.org
send alice@example.org
[ "$(rc)" = 0 ] || fail "never: exit $(rc)"
pf_wait_delivered "$PF" $((n + 1)) || fail "never: no copy"
plaintext "$(newest alice@example.org)"
n=$(count)
ok "encrypt = never: plaintext even though a key exists"

pconf "[default]
sources = local
encrypt-to-self = yes
protect-subject = no"
msg alice@example.org
"$POSTSEAL" -C "$T/conf" -i -f bob@example.net alice@example.org < "$T/msg" 2> "$T/err" || fail "to-self: exit $?: $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "to-self: no copy"
A=$(newest alice@example.org)
encrypted_to "$A" alice bob
header_of "$A" | grep -qx 'Subject: Policy test' || fail "protect-subject = no: outer Subject is $(header_of "$A" | grep ^Subject)"
n=$(count)
ok "encrypt-to-self adds the sender's key (bob, from -f); protect-subject = no leaves the Subject outside"

# --- the user's file: tighten yes, loosen no -------------------------------------------
pconf "[default]
sources = local"
mkdir -p "$XDG_CONFIG_HOME/postseal"
printf '[domain example.com]\nencrypt = require\n[address alice@example.org]\nencrypt = never\n' > "$XDG_CONFIG_HOME/postseal/postseal.conf"
msg carol@example.com
send carol@example.com
[ "$(rc)" = 69 ] || fail "user tightening: exit $(rc): $(cat "$T/err")"
grep -q "carol@example.com: refused: no key, and encrypt = require ($XDG_CONFIG_HOME/postseal/postseal.conf:2" "$T/err" ||
	fail "user tightening: $(cat "$T/err")"
msg alice@example.org
send alice@example.org
[ "$(rc)" = 0 ] || fail "user loosening: exit $(rc): $(cat "$T/err")"
grep -q "postseal.conf:4: encrypt would loosen the site policy for alice@example.org; ignored" "$T/err" ||
	fail "user loosening: no warning: $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "user loosening: no copy"
encrypted_to "$(newest alice@example.org)" alice
rm -f "$XDG_CONFIG_HOME/postseal/postseal.conf"
n=$(count)
ok "a user's file tightens (require: refused) but cannot loosen (never: ignored, warned, encrypted)"

# --- policy explain and check ------------------------------------------------------------
pconf "[default]
sources = local
[domain example.com]
encrypt = require
[domain *.example.com]
no-key = refuse
[address alice@example.org]
key-change = warn"
"$POSTSEAL" policy explain -C "$T/conf" --lookup alice@example.org carol@example.com x@sub.example.com > "$T/explain" 2>&1 ||
	fail "explain: exit $?: $(cat "$T/explain")"
awk '$1=="alice@example.org"{on=1} on && $1=="key-change"{print; exit}' "$T/explain" | grep -q "warn *$T/conf:13 \[address alice@example.org\]" ||
	fail "explain: alice's key-change: $(cat "$T/explain")"
awk '$1=="carol@example.com"{on=1} on && $1=="encrypt"{print; exit}' "$T/explain" | grep -q "require *$T/conf:9 \[domain example.com\]" ||
	fail "explain: carol's encrypt: $(cat "$T/explain")"
awk '$1=="x@sub.example.com"{on=1} on && $1=="no-key"{print; exit}' "$T/explain" | grep -q "refuse *$T/conf:11 \[domain \*.example.com\]" ||
	fail "explain: the wildcard: $(cat "$T/explain")"
awk '$1=="x@sub.example.com"{on=1} on && $1=="encrypt"{print; exit}' "$T/explain" | grep -q "opportunistic *built-in default" ||
	fail "explain: built-in: $(cat "$T/explain")"
awk '$1=="alice@example.org"{on=1} on && /decision:/{print; exit}' "$T/explain" | grep -q "decision: *encrypt: encrypted to .* (local)" ||
	fail "explain --lookup: alice: $(cat "$T/explain")"
awk '$1=="carol@example.com"{on=1} on && /decision:/{print; exit}' "$T/explain" | grep -q "refuse (nothing is sent): no key, and encrypt = require" ||
	fail "explain --lookup: carol: $(cat "$T/explain")"
ok "policy explain: every key with its value and file:line, and with --lookup the real decision"

printf '[default]\nencrypt = sometimes\n[domain a.example]\nmixed = split\nmixed = refuse\n[frob]\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
"$POSTSEAL" policy check "$T/bad.conf" > "$T/check" 2>&1; r=$?
[ "$r" = 78 ] || fail "policy check: exit $r, want 78"
[ "$(cat "$T/check")" = "$T/bad.conf:2: bad value \"sometimes\" for encrypt (never, opportunistic, require)
$T/bad.conf:5: duplicate key \"mixed\" (first at line 4)
$T/bad.conf:6: unknown section [frob]" ] || fail "policy check: $(cat "$T/check")"
"$POSTSEAL" policy check "$T/conf" > "$T/check" 2>&1 || fail "policy check of a good file: $(cat "$T/check")"
# run as sendmail, "policy check" are two local recipients: the message on
# stdin must reach them, never be dropped by the policy tool
mkdir -p "$T/sbin"
ln -sf "$POSTSEAL" "$T/sbin/sendmail"
cp "$(dirname "$POSTSEAL")/postseal-net.so" "$T/sbin/" 2>/dev/null
n=$(count)
printf 'Subject: to policy and check\n\nnot a policy file\n' |
	"$T/sbin/sendmail" -C "$T/conf" -v policy check > "$T/out" 2> "$T/err"
r=$?
[ "$r" = 0 ] || fail "sendmail policy check < msg: exit $r: $(cat "$T/err")"
grep -q 'no errors' "$T/out" && fail "sendmail policy check < msg ran the policy tool"
pf_wait_delivered "$PF" $((n + 2)) || fail "sendmail policy check < msg: the message was not delivered to policy and check"
ok "invoked as sendmail, 'policy check' are recipients: the message on stdin is delivered, not dropped"
# a broken file stops submissions too
send alice@example.org
sed -i 's/^encrypt = require/encrypt = always/' "$T/conf"
send alice@example.org
[ "$(rc)" = 78 ] || fail "broken file: exit $(rc)"
grep -qx "postseal: $T/conf:9: bad value \"always\" for encrypt (never, opportunistic, require)" "$T/err" || fail "broken file: $(cat "$T/err")"
ok "policy check lists every error with its line (exit 78); a broken file stops submissions (78)"

cp "$SRCDIR/docs/postseal.conf.example" "$T/example.conf" && chmod 600 "$T/example.conf"
"$POSTSEAL" policy check "$T/example.conf" > "$T/check" 2>&1 || fail "the shipped example does not pass policy check: $(cat "$T/check")"
ok "the shipped example configuration passes policy check"
