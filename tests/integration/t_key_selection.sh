#!/bin/bash
# Which key of the local keyring is used: not expired, not revoked, with
# an encryption subkey, a user ID with exactly the address (local part as
# given, domain in any case), and the newest encryption subkey when there
# are several. Every recipient here is blind (named on the command line
# only), so each gets its own copy.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice heidi frank user1 user2-old user2-new user3 user4
ps_postfix
ps_conf "$SENDMAIL"

printf 'Plans for the week.\n' > "$T/body"
{ printf 'From: sender@example.com\nSubject: key selection\n\n'; cat "$T/body"; } > "$T/msg"
"$POSTSEAL" -v -C "$T/conf" -i -f sender@example.com heidi@example.org \
	frank@example.org user1@example.org user2@example.org user3@example.org \
	user4@example.org < "$T/msg" 2> "$T/err" || fail "postseal exited $?: $(cat "$T/err")"
pf_wait_delivered "$PF" 6 || fail "not all 6 copies arrived"

for who in heidi frank user1 user3; do
	f=$(mailbox "$who@example.org")
	grep -q 'BEGIN PGP' "$f" && fail "$who: encrypted to an unusable key"
	body_of "$f" | cmp -s "$T/body" - || fail "$who: plaintext body differs"
	grep -q "^postseal: $who@example.org: no usable key" "$T/err" ||
		fail "$who: no decision line on stderr: $(cat "$T/err")"
done
ok "expired (heidi), revoked (frank), sign-only (user1) and other-case local part (user3) keys are not used"

f=$(mailbox user2@example.org)
[ "$(keyids_of "$f")" = "$(keyid user2-new)" ] ||
	fail "user2: encrypted to [$(keyids_of "$f")], want the newer key $(keyid user2-new)"
ok "of two keys, the one with the newest encryption subkey is used"

f=$(mailbox user4@example.org)
[ "$(keyids_of "$f")" = "$(keyid user4)" ] || fail "user4: the domain-case key was not used"
gpg_decrypt "$f" | body_of /dev/stdin | cmp -s "$T/body" - || fail "user4: decrypted body differs"
ok "a user ID whose domain differs only in case is used"
[ "$(grep -c '^postseal: .*@example.org: ' "$T/err")" = 6 ] ||
	fail "want one decision line per recipient: $(cat "$T/err")"
ok "-v gives one decision line per recipient"
