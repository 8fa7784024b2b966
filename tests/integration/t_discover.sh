#!/bin/bash
# Key discovery in the submission path, end to end: messages to recipients
# whose keys exist only in WKD (nginx, HTTPS) or only in DANE (nsd,
# DNSSEC-signed zones) go through postseal into a private Postfix, arrive
# encrypted and decrypt to what was submitted. Downgrades fail closed: a
# bogus DNSSEC answer, a bad certificate or a server that does not answer
# in time sends nothing at all (exit 75), never plaintext. Cached answers
# are used without the network; a pinned key replaced by another is a key
# change (refused by default, exit 69; warned about with key-change = warn).
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/nginx.sh" || exit 99
. "$LIB/dns.sh" || exit 99

ps_setup alice
ps_postfix
NG=$T/ng
NG_PORT=$(ng_start "$NG") || { rc=$?; [ "$rc" = 77 ] && skip "no nginx here"; fail "nginx did not start"; }
BAD_PORT=$(ng_port "$NG" bad)

bin() { gpg --dearmor < "$KEYS/$1.pub.asc"; }
fpr_of() {
	gpg --batch --with-colons --import-options show-only --import "$KEYS/$1.pub.asc" 2>/dev/null |
		awk -F: '/^fpr/ {print $10; exit}'
}
put() { # ADDR FILE [KEYNAME]: serve FILE as ADDR's WKD key (advanced method)
	local dom=${1#*@} h
	h=$(wkd_hash "$1")
	[ -n "$h" ] || fail "no WKD hash for $1"
	ng_put_key "$NG" "openpgpkey.$dom" ".well-known/openpgpkey/$dom/hu/$h" "$2"
}

# DNS: example.com signed, grace's key in DANE; example.org signed, dave's
# record tampered after signing; example.net signed, no records (WKD only)
D=$T/dns; mkdir -p "$D"
bin grace > "$T/grace.gpg"; bin dave > "$T/dave.gpg"; bin bob > "$T/bob.gpg"
dns_zone "$D" example.com || { [ $? = 77 ] && skip "no nsd/ldnsutils here"; fail "zone"; }
dns_add_openpgpkey "$D" example.com "$(dns_openpgpkey_owner grace example.com)" "$T/grace.gpg"
dns_sign "$D" example.com || fail "sign example.com"
dns_zone "$D" example.org
dns_add_openpgpkey "$D" example.org "$(dns_openpgpkey_owner dave example.org)" "$T/dave.gpg"
dns_sign "$D" example.org || fail "sign example.org"
dns_tamper "$D" example.org || fail "tamper example.org"
dns_zone "$D" example.net
dns_sign "$D" example.net || fail "sign example.net"
DNS_PORT=$(dns_start "$D") || fail "nsd did not start"
cat "$D"/example.*.anchor > "$T/anchors"

# WKD: bob at example.net, user2 at example.org (grace's key is in DANE
# only, and example.com publishes no WKD: no policy file)
rm -f "$NG/www/openpgpkey.example.com/.well-known/openpgpkey/example.com/policy"
put bob@example.net "$T/bob.gpg"
bin user2-old > "$T/user2-old.gpg"; bin user2-new > "$T/user2-new.gpg"
put user2@example.org "$T/user2-old.gpg"

# conf NAME [CONNECT-TO] [EXTRA-LINE]: a configuration with every https
# name sent to nginx's good port (or CONNECT-TO) and DNS to nsd
conf() {
	cat > "$T/$1" <<EOF2
[transport]
mode = sendmail
sendmail = $SENDMAIL
[default]
lookup-timeout = 2
sources = local pinned dane wkd
${3:-}
[keyfetch]
ca-file = $NG/ca/ca.pem
connect-to = ${2:-::127.0.0.1:$NG_PORT}
dns-forwarder = 127.0.0.1@$DNS_PORT
trust-anchor = $T/anchors
EOF2
	chmod 600 "$T/$1"
}
conf conf
conf badcert "openpgpkey.example.net:443:127.0.0.1:$BAD_PORT ::127.0.0.1:$NG_PORT"
conf warn "" "key-change = warn"
conf accept "" "key-change = accept"
export XDG_CACHE_HOME=$T/cache

msg() { # TO SUBJECT: a message with a recognisable body
	printf 'From: Sender <sender@example.com>\nTo: %s\nSubject: %s\n\n' "$1" "$2"
	printf 'Discovery test body for %s.\n.leading dot\nlast line\n' "$1"
}
send() { # CONF RCPT...: submit (-v), recording exit status and stderr
	local c=$1; shift
	"$POSTSEAL" -C "$T/$c" -v -i -f sender@example.com "$@" < "$T/msg" > "$T/out" 2> "$T/err"
	echo $? > "$T/rc"
}
delivered() { pf_count_delivered "$PF"; }
newest() { # ADDR: the newest message delivered to ADDR
	pf_mailbox "$PF" "$1" | xargs -r ls -t | head -n1
}
check_encrypted() { # FILE KEYNAME...: PGP/MIME to exactly these keys, decrypting to the body
	local f=$1 want got; shift
	header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "$f is not PGP/MIME: $(cat "$f")"
	grep -q 'Discovery test body' "$f" && fail "$f: the body leaks outside"
	want=$(for k in "$@"; do keyid "$k"; done | sort)
	got=$(keyids_of "$f")
	[ "$got" = "$want" ] || fail "$f encrypted to [$got], want [$want]"
	gpg_decrypt "$f" | tr -d '\r' | grep -qx '.leading dot' || fail "$f does not decrypt to the body"
}
access_count() { grep -c "$1" "$NG/access.log" 2>/dev/null || true; }

# --- a key only in WKD --------------------------------------------------------
msg bob@example.net "wkd only" > "$T/msg"
send conf bob@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "bob (WKD): exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" 1 || fail "bob's copy did not arrive"
B=$(newest bob@example.net)
check_encrypted "$B" bob
rnp_decrypt "$B" bob | tr -d '\r' | grep -qx 'last line' || fail "rnp cannot decrypt bob's copy"
gpg --with-colons --list-keys bob@example.net >/dev/null 2>&1 && fail "bob's key went into the user's keyring"
ok "a recipient whose key is only in WKD gets an encrypted copy that gpg and rnp decrypt"

# --- a key only in DANE -------------------------------------------------------
msg grace@example.com "dane only" > "$T/msg"
send conf grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "grace (DANE): exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" 2 || fail "grace's copy did not arrive"
G=$(newest grace@example.com)
check_encrypted "$G" grace
sq_decrypt "$G" grace | tr -d '\r' | grep -qx 'last line' || fail "sq cannot decrypt grace's copy"
ok "a recipient whose key is only in DANE gets an encrypted copy that gpg and sq decrypt"

# --- one copy for a local key and a discovered one -------------------------------
msg "alice@example.org, grace@example.com" "mixed sources" > "$T/msg"
send conf alice@example.org grace@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "mixed: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" 4 || fail "the mixed copies did not arrive"
check_encrypted "$(newest alice@example.org)" alice grace
check_encrypted "$(newest grace@example.com)" alice grace
gpg --with-colons --list-keys grace@example.com >/dev/null 2>&1 && fail "grace's key went into the user's keyring"
ok "a copy for a local-keyring key and a DANE key is encrypted to both"

# --- downgrades: nothing is sent to the recipient concerned ----------------------
Q=$XDG_STATE_HOME/postseal/queue
waiting() { # ADDR: ADDR waits in the queue for a lookup
	grep -lxE "rcpt(-blind)? $1" "$Q"/q/[0-9]* 2>/dev/null | xargs -r grep -lx 'kind lookup' | grep -q .
}
before=$(delivered)
msg "dave@example.org, carol@example.com" "bogus" > "$T/msg"
send conf dave@example.org carol@example.com
[ "$(cat "$T/rc")" = 0 ] || fail "bogus DNSSEC: exit $(cat "$T/rc"), want 0 (deferred): $(cat "$T/err")"
grep -q 'dave@example.org: key lookup inconclusive (dane: BAD (DNSSEC bogus' "$T/err" ||
	fail "bogus DNSSEC: stderr does not say why: $(cat "$T/err")"
waiting dave@example.org || fail "bogus DNSSEC: dave does not wait in the queue"
pf_wait_delivered "$PF" $((before + 1)) || fail "bogus DNSSEC: carol's copy did not arrive"
sleep 1
[ "$(delivered)" = $((before + 1)) ] || fail "bogus DNSSEC: something was delivered to dave"
pf_mailbox "$PF" dave@example.org | grep -q . && fail "bogus DNSSEC: dave got a copy"
rm -rf "$Q"
before=$(delivered)
ok "a bogus DNSSEC answer sends nothing to that recipient: it waits in the queue (exit 0); the other recipient's copy goes"

# a certificate for another name is a lasting property of the server: for
# a domain that never served WKD it means "no WKD here" (plaintext, as
# for gpg); once the domain has served keys, the same failure is a
# downgrade and sends nothing
XDG_CACHE_HOME=$T/cache-badcert
msg carol@example.net "bad cert, no memory" > "$T/msg"
send badcert carol@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "bad cert, no memory: exit $(cat "$T/rc"), want 0: $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 1)) || fail "bad cert, no memory: nothing arrived"
grep -q 'Discovery test body' "$(newest carol@example.net)" ||
	fail "bad cert, no memory: carol's copy is not plaintext"
before=$(delivered)
ok "WKD behind a certificate for another name, at a domain never seen with WKD, is 'no WKD' (plaintext, exit 0)"

XDG_CACHE_HOME=$T/cache-memory
msg bob@example.net "memory" > "$T/msg"
send conf bob@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "memory: bob: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 1)) || fail "memory: bob's copy did not arrive"
before=$(delivered)
msg carol@example.net "bad cert" > "$T/msg"
send badcert carol@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "bad cert: exit $(cat "$T/rc"), want 0 (deferred): $(cat "$T/err")"
grep -q 'carol@example.net: key lookup inconclusive.*wkd: BAD.*published keys in WKD before' "$T/err" ||
	fail "bad cert: $(cat "$T/err")"
waiting carol@example.net || fail "bad cert: carol does not wait in the queue"
sleep 1
[ "$(delivered)" = "$before" ] || fail "bad certificate: something was delivered"
rm -rf "$Q"
ok "WKD behind an invalid certificate at a domain that served keys before sends nothing: the recipient waits in the queue, not plaintext"

XDG_CACHE_HOME=$T/cache-slow
ng_host_mode "$NG" openpgpkey.example.net slow
msg bob@example.net "timeout" > "$T/msg"
start=$(date +%s)
send conf bob@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "timeout: exit $(cat "$T/rc"), want 0 (deferred): $(cat "$T/err")"
[ $(( $(date +%s) - start )) -le 8 ] || fail "timeout: the lookup deadline was not kept"
grep -q 'wkd: TEMPFAIL (no answer from openpgpkey.example.net before the deadline' "$T/err" || fail "timeout: $(cat "$T/err")"
waiting bob@example.net || fail "timeout: bob does not wait in the queue"
sleep 1
[ "$(delivered)" = "$before" ] || fail "timeout: something was delivered"
ng_host_mode "$NG" openpgpkey.example.net normal
rm -rf "$Q"
ok "a WKD server of a signed domain that does not answer in time sends nothing (it waits in the queue), within the deadline"
export XDG_CACHE_HOME=$T/cache

# --- the cache: answers used without the network ---------------------------------
h=$(wkd_hash bob@example.net)
n0=$(access_count "$h")
ng_host_mode "$NG" openpgpkey.example.net err500
msg bob@example.net "cached" > "$T/msg"
send conf bob@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "cached: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 1)) || fail "the cached copy did not arrive"
check_encrypted "$(newest bob@example.net)" bob
[ "$(access_count "$h")" = "$n0" ] || fail "a cached key still asked the WKD server"
ng_host_mode "$NG" openpgpkey.example.net normal
ok "a cached key is used without asking the network (the server failing meanwhile)"

msg carol@example.net "no key anywhere" > "$T/msg"
send conf carol@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "carol: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 2)) || fail "carol's copy did not arrive"
grep -q 'Discovery test body' "$(newest carol@example.net)" || fail "carol's copy is not plaintext"
hc=$(wkd_hash carol@example.net)
n0=$(access_count "$hc")
ng_host_mode "$NG" openpgpkey.example.net err500
send conf carol@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "carol (cached no-key): exit $(cat "$T/rc"): $(cat "$T/err")"
[ "$(access_count "$hc")" = "$n0" ] || fail "a cached NOT_FOUND still asked the WKD server"
ng_host_mode "$NG" openpgpkey.example.net normal
pf_wait_delivered "$PF" $((before + 3)) || fail "carol's second copy did not arrive"
ok "proven no-key (secure NXDOMAIN + WKD 404) is plaintext, and cached: no request the second time"

# ... until the negative answer expires: then the server is asked again
# (a recipient who publishes a key must get encrypted mail)
python3 - "$XDG_CACHE_HOME/postseal/cache.sqlite" <<'PY' || fail "could not age the cache"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE answer SET expires = 1 WHERE addr = 'carol@example.net'").rowcount
db.execute("UPDATE domain SET expires = 1 WHERE domain = 'example.net' AND what LIKE 'no-%'")
db.commit()
sys.exit(0 if n > 0 else 1)
PY
n0=$(access_count "$hc")
send conf carol@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "carol (expired no-key): exit $(cat "$T/rc"): $(cat "$T/err")"
[ "$(access_count "$hc")" -gt "$n0" ] || fail "an expired NOT_FOUND was still used: the WKD server was not asked"
pf_wait_delivered "$PF" $((before + 4)) || fail "carol's third copy did not arrive"
before=$((before + 1)) # the extra copy, for the counts below
ok "an expired cached NOT_FOUND is asked again"

# example.com has no WKD at all (grace's key is in DANE only): her lookup
# found its policy file missing, so the domain is cached as "no WKD"
n0=$(grep -c 'openpgpkey.example.com' "$NG/access.log" 2>/dev/null || true)
"$KEYFETCH" -C "$T/conf" someone@example.com > "$T/kf" 2>&1
grep -q '^  wkd: NOT_FOUND (cached: the domain publishes no WKD)' "$T/kf" || fail "no per-domain WKD negative: $(cat "$T/kf")"
[ "$(grep -c 'openpgpkey.example.com' "$NG/access.log")" = "$n0" ] || fail "a domain known to have no WKD was asked again"
ok "a domain without a WKD policy file is cached as such: other addresses there ask nothing"

# --- pins and key changes --------------------------------------------------------
msg user2@example.org "pinned" > "$T/msg"
send conf user2@example.org
[ "$(cat "$T/rc")" = 0 ] || fail "user2: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 4)) || fail "user2's copy did not arrive"
check_encrypted "$(newest user2@example.org)" user2-old
put user2@example.org "$T/user2-new.gpg"
"$KEYFETCH" -C "$T/conf" --refresh user2@example.org > "$T/kf" 2>&1; rc=$?
[ "$rc" = 69 ] || fail "key change: keyfetch exit $rc, want 69: $(cat "$T/kf")"
grep -qx 'user2@example.org - key-change' "$T/kf" || fail "key change: $(cat "$T/kf")"
send conf user2@example.org
[ "$(cat "$T/rc")" = 69 ] || fail "key change: postseal exit $(cat "$T/rc"), want 69: $(cat "$T/err")"
grep -q "user2@example.org: refused: key change: wkd offers $(fpr_of user2-new), but $(fpr_of user2-old) is pinned" "$T/err" ||
	fail "key change: stderr: $(cat "$T/err")"
sleep 1
[ "$(delivered)" = $((before + 4)) ] || fail "key change: something was delivered"
ok "a pinned key replaced by another is a key change: refused, nothing sent (exit 69)"

send warn user2@example.org
[ "$(cat "$T/rc")" = 0 ] || fail "key-change = warn: exit $(cat "$T/rc"): $(cat "$T/err")"
grep -q 'key change accepted (key-change = warn)' "$T/err" || fail "key-change = warn: no warning: $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 5)) || fail "user2's new copy did not arrive"
check_encrypted "$(newest user2@example.org)" user2-new
ok "with key-change = warn the new key is used, with a warning, and pinned"

put user2@example.org "$T/user2-old.gpg"
"$KEYFETCH" -C "$T/accept" --refresh user2@example.org > "$T/kf" 2>&1; rc=$?
[ "$rc" = 0 ] || fail "key-change = accept: keyfetch exit $rc: $(cat "$T/kf")"
send accept user2@example.org
[ "$(cat "$T/rc")" = 0 ] || fail "key-change = accept: exit $(cat "$T/rc"): $(cat "$T/err")"
grep -q 'key change' "$T/err" && fail "key-change = accept warned on stderr: $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 6)) || fail "user2's accepted copy did not arrive"
check_encrypted "$(newest user2@example.org)" user2-old
put user2@example.org "$T/user2-new.gpg"
"$KEYFETCH" -C "$T/accept" --refresh user2@example.org > /dev/null 2>&1
ok "with key-change = accept the new key is used and pinned without a warning"

ng_host_mode "$NG" openpgpkey.example.org err500
"$KEYFETCH" -C "$T/conf" --refresh user2@example.org > "$T/kf" 2>&1; rc=$?
[ "$rc" = 0 ] || fail "pinned fallback: exit $rc: $(cat "$T/kf")"
grep -qx "user2@example.org $(fpr_of user2-new) pinned" "$T/kf" || fail "pinned fallback: $(cat "$T/kf")"
ng_host_mode "$NG" openpgpkey.example.org normal
ok "when the sources cannot answer, the pinned key stands in"

"$KEYFETCH" -C "$T/conf" --json bob@example.net grace@example.com > "$T/json" 2>&1 ||
	fail "--json: exit $?: $(cat "$T/json")"
python3 - "$T/json" "$(fpr_of bob)" "$(fpr_of grace)" <<'PY' || fail "--json output: $(cat "$T/json")"
import json, sys
doc = json.load(open(sys.argv[1]))
by = {d["address"]: d for d in doc}
assert by["bob@example.net"]["fingerprint"] == sys.argv[2], by
assert by["bob@example.net"]["source"] == "wkd"
assert by["bob@example.net"]["sources"]["wkd"]["asked"] == "cache"
assert by["grace@example.com"]["source"] == "dane"
assert by["grace@example.com"]["fingerprint"] == sys.argv[3]
assert by["grace@example.com"]["pin"]["fingerprint"] == sys.argv[3]
PY
ok "postseal-keyfetch --json reports key, source, cache use and pin"

"$KEYFETCH" -C "$T/conf" --flush user2@example.org user2@example.org > "$T/kf" 2>&1; rc=$?
[ "$rc" = 0 ] || fail "--flush: exit $rc: $(cat "$T/kf")"
grep -q "^  pin: $(fpr_of user2-new)" "$T/kf" || fail "--flush: not pinned anew: $(cat "$T/kf")"
grep -q "^  wkd: FOUND" "$T/kf" || fail "--flush: WKD not asked again: $(cat "$T/kf")"
ok "--flush forgets cached answers and the pin, then the address is looked up afresh"

# --- a revocation published later is picked up -----------------------------------
RH=$T/rev; mkdir -m 700 "$RH"
gpg --homedir "$RH" --batch -q --passphrase '' --quick-gen-key 'User5 <user5@example.net>' ed25519 sign never 2>/dev/null
RF=$(gpg --homedir "$RH" --with-colons --list-keys user5@example.net 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
gpg --homedir "$RH" --batch -q --passphrase '' --quick-add-key "$RF" cv25519 encr never 2>/dev/null
gpg --homedir "$RH" --export "$RF" > "$T/rev.gpg"
put user5@example.net "$T/rev.gpg"
msg user5@example.net "before revocation" > "$T/msg"
send conf user5@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "user5: exit $(cat "$T/rc"): $(cat "$T/err")"
pf_wait_delivered "$PF" $((before + 7)) || fail "user5's copy did not arrive"
header_of "$(newest user5@example.net)" | grep -q '^Content-Type: multipart/encrypted;' || fail "user5's copy is not encrypted"
# the revocation certificate gpg made at key generation
sed 's/^:-----BEGIN/-----BEGIN/' "$RH/openpgp-revocs.d/$RF.rev" | gpg --homedir "$RH" --batch -q --import 2>/dev/null
gpg --homedir "$RH" --export "$RF" > "$T/rev.gpg"
gpgconf --homedir "$RH" --kill all
put user5@example.net "$T/rev.gpg"
"$KEYFETCH" -C "$T/conf" --refresh user5@example.net > "$T/kf" 2>&1; rc=$?
[ "$rc" = 75 ] || fail "revocation: keyfetch exit $rc, want 75: $(cat "$T/kf")"
grep -q '^  wkd: BAD (no usable key' "$T/kf" || fail "revocation: $(cat "$T/kf")"
grep -q '^  pinned: BAD (key .* is no longer usable' "$T/kf" || fail "revocation: the pin still counts: $(cat "$T/kf")"
send conf user5@example.net
[ "$(cat "$T/rc")" = 0 ] || fail "revocation: postseal exit $(cat "$T/rc"), want 0 (deferred): $(cat "$T/err")"
waiting user5@example.net || fail "revocation: user5 does not wait in the queue"
sleep 1
[ "$(delivered)" = $((before + 7)) ] || fail "revocation: something was delivered"
ok "--refresh picks up a revocation: the revoked key is no longer used, not even as the pin"

# --- gateway mode: a system keyring and cache instead of the user's -----------------
sed 's|^\[keyfetch\]$|[keyfetch]\nkeyring = '"$T"'/sys/gnupg|' "$T/conf" > "$T/sysconf"; chmod 600 "$T/sysconf"
XDG_CACHE_HOME=$T/unused "$KEYFETCH" -C "$T/sysconf" bob@example.net > "$T/kf" 2>&1 || fail "keyring =: exit $?: $(cat "$T/kf")"
gpg --homedir "$T/sys/gnupg" --with-colons --list-keys bob@example.net 2>/dev/null | grep -q "^fpr:*$(fpr_of bob):" ||
	fail "keyring =: bob's key is not in the configured keyring"
[ -f "$T/sys/cache.sqlite" ] || fail "keyring =: no cache next to it"
[ -e "$T/unused/postseal" ] && fail "keyring =: the user's cache directory was used"
ok "[keyfetch] keyring puts postseal's keyring and cache at a system path (gateway mode)"
