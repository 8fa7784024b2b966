#!/bin/bash
# Which key of the local keyring is used: not expired, not revoked, not
# created in the future, with an encryption subkey (not created in the
# future either), a user ID with the address in its canonical form (local
# part and domain in any ASCII case, as gpg and WKD match them), and the
# newest encryption subkey when there are several. Every recipient here is blind (named on the command line
# only), so each keyed recipient gets its own copy.
# a Maildir of its own for each recipient here
export PF_LOCALPARTS="alice heidi frank user1 user2 user3 user4 future1 future2 lower"
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice heidi frank user1 user2-old user2-new user3 user4
ps_postfix
ps_conf "$SENDMAIL"

# fpr_of NAME: the primary key fingerprint of a committed test key
fpr_of() {
	gpg --batch --with-colons --import-options show-only --import \
		"$KEYS/$1.pub.asc" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'
}

# The plaintext outcomes below mean something only if the keys are there:
# every test key must be in the sender's keyring.
for n in heidi frank user1 user2-old user2-new user3 user4; do
	fpr=$(fpr_of "$n")
	[ -n "$fpr" ] || fail "cannot read the fingerprint of test key $n"
	gpg --batch --with-colons --list-keys "$fpr" 2>/dev/null | grep -q '^pub' ||
		fail "test key $n is not in the sender keyring"
done
ok "the seven non-alice test keys are in the sender keyring"

printf 'Plans for the week.\n' > "$T/body"
{ printf 'From: sender@example.com\nSubject: key selection\n\n'; cat "$T/body"; } > "$T/msg"
rcpts="heidi frank user1 user2 user3 user4"
"$POSTSEAL" -v -C "$T/conf" -i -f sender@example.com heidi@example.org \
	frank@example.org user1@example.org user2@example.org user3@example.org \
	user4@example.org < "$T/msg" 2> "$T/err" || fail "postseal exited $?: $(cat "$T/err")"
pf_wait_delivered "$PF" 6 || fail "not all 6 copies arrived"
# mailbox() below also fails unless each address got exactly one message
[ "$(pf_count_delivered "$PF")" = 6 ] || fail "more than 6 messages delivered"

for who in heidi frank user1; do
	f=$(mailbox "$who@example.org")
	grep -q 'BEGIN PGP' "$f" && fail "$who: encrypted to an unusable key"
	header_of "$f" | grep -qi '^Content-Type: multipart/encrypted' &&
		fail "$who: sent as PGP/MIME"
	body_of "$f" | cmp -s "$T/body" - || fail "$who: plaintext body differs"
done
ok "expired (heidi), revoked (frank) and sign-only (user1) keys are not used"

f=$(mailbox user2@example.org)
[ "$(keyids_of "$f")" = "$(keyid user2-new)" ] ||
	fail "user2: encrypted to [$(keyids_of "$f")], want the newer key $(keyid user2-new)"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "user2: decrypted body differs"
ok "of two keys, the one with the newest encryption subkey is used"

f=$(mailbox user4@example.org)
[ "$(keyids_of "$f")" = "$(keyid user4)" ] ||
	fail "user4: encrypted to [$(keyids_of "$f")], want the domain-case key $(keyid user4)"
grep -q 'Plans for the week' "$f" && fail "user4: the body leaks outside"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "user4: decrypted body differs"
ok "a user ID whose domain differs only in case is used"

f=$(mailbox user3@example.org)
[ "$(keyids_of "$f")" = "$(keyid user3)" ] ||
	fail "user3: encrypted to [$(keyids_of "$f")], want the key of USER3@example.org $(keyid user3)"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "user3: decrypted body differs"
ok "a user ID whose local part differs only in case (USER3@example.org) is used"

# -v: exactly one decision line per recipient, and the right decision
for who in $rcpts; do
	n=$(grep -c "^postseal: $who@example.org: " "$T/err")
	[ "$n" = 1 ] || fail "$who: $n decision lines on stderr, want 1: $(cat "$T/err")"
	line=$(grep "^postseal: $who@example.org: " "$T/err")
	case $who in
	user2 | user3 | user4)
		case $line in *"no usable key"*) fail "$who: decision says no usable key: $line" ;; esac
		;;
	*)
		case $line in *"no usable key"*) ;; *) fail "$who: decision line lacks 'no usable key': $line" ;; esac
		;;
	esac
done
old=$(fpr_of user2-old)
grep -q "$old" "$T/err" && fail "-v names user2's older key $old: $(cat "$T/err")"
ok "-v gives one decision line per recipient, 'no usable key' for the three without one"

# --- keys made "in the future" ----------------------------------------------------
# A subkey whose creation time is still to come is not usable yet: gpg
# refuses to encrypt to it ("Unusable public key"), as sq and sqop do. A
# key made now with an encryption subkey dated 2030 (gpg --faked-system-time)
# must neither win over another, good key of the same address (by being
# "the newest") nor be chosen when it is the only one.
FK=$T/fk
mkdir -m 700 "$FK"
fk() { gpg --homedir "$FK" --batch -q --pinentry-mode loopback --passphrase '' "$@" 2>/dev/null; }
fk_fpr() { gpg --homedir "$FK" --with-colons --list-keys "=$1" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}'; }
fk_encr_id() { # UID: the key ID of the (only) encryption subkey
	gpg --homedir "$FK" --with-colons --list-keys "=$1" 2>/dev/null |
		awk -F: '$1=="sub" && $12 ~ /e/ {print $5}'
}
fk --quick-gen-key 'Future Good <future1@example.org>' ed25519 sign 0 || fail "cannot make a key"
fk --quick-add-key "$(fk_fpr 'Future Good <future1@example.org>')" cv25519 encr 0 || fail "cannot add a subkey"
fk --quick-gen-key 'Future Later <future1@example.org>' ed25519 sign 0 || fail "cannot make a key"
fk --faked-system-time 20300101T000000 --quick-add-key \
	"$(fk_fpr 'Future Later <future1@example.org>')" cv25519 encr 0 || fail "cannot add a future subkey"
fk --quick-gen-key 'Future Only <future2@example.org>' ed25519 sign 0 || fail "cannot make a key"
fk --faked-system-time 20300101T000000 --quick-add-key \
	"$(fk_fpr 'Future Only <future2@example.org>')" cv25519 encr 0 || fail "cannot add a future subkey"
good_id=$(fk_encr_id 'Future Good <future1@example.org>')
later_id=$(fk_encr_id 'Future Later <future1@example.org>')
{ [ -n "$good_id" ] && [ -n "$later_id" ]; } || fail "the future test keys lack an encryption subkey"
gpg --homedir "$FK" --with-colons --list-keys "=Future Later <future1@example.org>" |
	awk -F: -v now="$(date +%s)" '$1=="sub" && $12 ~ /e/ && $6 > now {f=1} END {exit !f}' ||
	fail "the future subkey is not dated in the future"
gpg --homedir "$FK" --export | gpg --batch -q --import 2>/dev/null || fail "cannot import the future keys"
gpg --homedir "$FK" --export-secret-keys | gpg --homedir "$T/d" --batch -q --import 2>/dev/null ||
	fail "cannot import the future secret keys"
gpgconf --homedir "$FK" --kill all

n0=$(pf_count_delivered "$PF")
{ printf 'From: sender@example.com\nSubject: future keys\n\n'; cat "$T/body"; } > "$T/msg"
"$POSTSEAL" -v -C "$T/conf" -i -f sender@example.com future1@example.org < "$T/msg" 2> "$T/err" ||
	fail "future1: postseal exited $?, want 0: $(cat "$T/err")"
pf_wait_delivered "$PF" $((n0 + 1)) || fail "future1's copy did not arrive"
f=$(mailbox future1@example.org)
[ "$(keyids_of "$f")" = "$good_id" ] ||
	fail "future1: encrypted to [$(keyids_of "$f")], want the good key's subkey $good_id (not the future $later_id)"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "future1: decrypted body differs"
ok "an encryption subkey created in the future does not win over a good key of the same address"

"$POSTSEAL" -v -C "$T/conf" -i -f sender@example.com future2@example.org < "$T/msg" 2> "$T/err" ||
	fail "future2: postseal exited $?, want 0 (no usable key: plaintext): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n0 + 2)) || fail "future2's copy did not arrive"
f=$(mailbox future2@example.org)
grep -q 'BEGIN PGP' "$f" && fail "future2: encrypted to a key whose only encryption subkey is in the future"
body_of "$f" | cmp -s "$T/body" - || fail "future2: plaintext body differs"
grep -q '^postseal: future2@example.org: .*no usable key' "$T/err" ||
	fail "future2: the decision does not say 'no usable key': $(cat "$T/err")"
ok "a key whose only encryption subkey is created in the future is no usable key (plaintext, exit 0)"

# --- the recipient's address in another case ----------------------------------------
# A key for lower@example.org is the key of Lower@Example.ORG (gpg and WKD
# match the local part without regard to ASCII case); the envelope keeps
# the address as it was written.
fk --quick-gen-key 'Lower <lower@example.org>' ed25519 sign 0 || fail "cannot make a key"
fk --quick-add-key "$(fk_fpr 'Lower <lower@example.org>')" cv25519 encr 0 || fail "cannot add a subkey"
lower_id=$(fk_encr_id 'Lower <lower@example.org>')
[ -n "$lower_id" ] || fail "the key of lower@example.org lacks an encryption subkey"
gpg --homedir "$FK" --export "$(fk_fpr 'Lower <lower@example.org>')" | gpg --batch -q --import 2>/dev/null ||
	fail "cannot import lower's key"
gpg --homedir "$FK" --export-secret-keys "$(fk_fpr 'Lower <lower@example.org>')" |
	gpg --homedir "$T/d" --batch -q --import 2>/dev/null || fail "cannot import lower's secret key"
gpgconf --homedir "$FK" --kill all
n0=$(pf_count_delivered "$PF")
{ printf 'From: sender@example.com\nSubject: case\n\n'; cat "$T/body"; } > "$T/msg"
"$POSTSEAL" -v -C "$T/conf" -i -f sender@example.com Lower@Example.ORG < "$T/msg" 2> "$T/err" ||
	fail "Lower@Example.ORG: postseal exited $?: $(cat "$T/err")"
pf_wait_delivered "$PF" $((n0 + 1)) || fail "Lower@Example.ORG's copy did not arrive"
f=$(mailbox lower@example.org)
[ "$(keyids_of "$f")" = "$lower_id" ] ||
	fail "Lower@Example.ORG: encrypted to [$(keyids_of "$f")], want lower@example.org's key $lower_id: $(cat "$T/err")"
grep -q 'Plans for the week' "$f" && fail "Lower@Example.ORG: the body leaks outside"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "Lower@Example.ORG: decrypted body differs"
header_of "$f" | grep -qx 'X-Original-To: Lower@Example.ORG' ||
	fail "Lower@Example.ORG: the envelope recipient was rewritten: $(header_of "$f" | grep -i '^X-Original-To')"
ok "Lower@Example.ORG is encrypted to the key of lower@example.org, and handed on as written"
