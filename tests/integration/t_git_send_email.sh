#!/bin/bash
# git send-email with sendemail.smtpServer = postseal sends a patch; it
# arrives encrypted and decrypts to the patch, byte for byte.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
git send-email --help >/dev/null 2>&1 || git send-email -h 2>&1 | grep -q usage ||
	skip "git send-email is not installed"

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

export HOME=$T/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME" "$T/repo"
cd "$T/repo" || fail "cd"
git init -q . && git config user.name Dev && git config user.email dev@example.com
printf 'int main(void) { return 0; }\n' > main.c
git add main.c && git commit -qm "Add main" || fail "commit"
printf 'int main(void) { return 1; }\n' > main.c
git commit -qam "Return failure from main

A longer explanation of the change.
" || fail "commit"
git format-patch -q -1 -o "$T/patches" || fail "format-patch"
P=$(ls "$T"/patches/*.patch)

git send-email --smtp-server="$POSTSEAL" \
	--smtp-server-option=-C --smtp-server-option="$T/conf" \
	--from="Dev <dev@example.com>" --to=alice@example.org \
	--confirm=never --suppress-cc=all --no-validate --quiet "$P" \
	> "$T/gse.out" 2>&1 || fail "git send-email exited $?: $(cat "$T/gse.out")"
ok "git send-email handed the patch to postseal"

pf_wait_delivered "$PF" 1 || fail "nothing arrived"
A=$(mailbox alice@example.org)
header_of "$A" | grep -q '^Content-Type: multipart/encrypted;' || fail "not PGP/MIME"
grep -q 'Return failure' "$A" && fail "the patch subject leaks"
grep -q 'return 1' "$A" && fail "the patch leaks"
gpg_decrypt "$A" > "$T/inner" || fail "gpg cannot decrypt"
python3 "$LIB/mimecheck.py" "$T/inner" \
	--header 'Subject=[PATCH] Return failure from main' --param hp=cipher ||
	fail "protected headers"
# the patch body (after its header) arrives unchanged
body_of "$P" > "$T/want"
body_of "$T/inner" > "$T/got"
cmp -s "$T/want" "$T/got" || fail "patch differs: $(diff "$T/want" "$T/got" | head)"
( cd "$T/repo" && git checkout -q HEAD~1 && git apply --check "$T/got" ) ||
	fail "the decrypted patch does not apply"
ok "the decrypted patch is the one git produced and applies"
