#!/bin/bash
# make demo: postseal's main job on an embedded default.
#  1. a throwaway GNUPGHOME holding the recipient's public key;
#  2. a private Postfix instance (no network listener at all);
#  3. mutt, set sendmail="postseal -C <conf>", sends a message;
#  4. show what Postfix delivered (PGP/MIME) and decrypt it with gpg.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
command -v mutt >/dev/null || fail "mutt is not installed (run scripts/demo)"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ps_setup alice
say "1. A throwaway GnuPG home ($GNUPGHOME) with the recipient's key"
gpg --list-keys --keyid-format long alice@example.org | sed 's/^/   /'

say "2. A private Postfix instance under $T/pf (no listener, local Maildirs)"
ps_postfix
ps_conf "$SENDMAIL"
sed 's/^/   /' "$T/conf"

say "3. mutt sends a message through postseal"
ps_muttrc "$T/home/.muttrc"
cat > "$T/body" <<'EOF2'
Hello Alice,

the launch codes are 0000. Nobody between us can read this:
postseal found your key and encrypted the message end to end.

-- Sender
EOF2
echo "   mutt -s 'Launch codes' -- alice@example.org < message"
HOME=$T/home mutt -n -F "$T/home/.muttrc" -s "Launch codes" -- alice@example.org \
	< "$T/body" || fail "mutt failed"
pf_wait_delivered "$PF" 1 || fail "nothing arrived"
A=$(mailbox alice@example.org)

say "4. What Postfix delivered to alice@example.org ($A)"
sed -n '1,/^-----BEGIN PGP MESSAGE-----/p' "$A" | sed 's/^/   /'
echo "   ... $(armored "$A" | wc -l) lines of OpenPGP data ..."
header_of "$A" | grep -q '^Content-Type: multipart/encrypted;' || fail "not PGP/MIME"

say "5. Decrypted with gpg and alice's secret key"
gpg_decrypt "$A" > "$T/inner" || fail "gpg cannot decrypt"
sed 's/\r$//; s/^/   /' "$T/inner"

say "Result"
if body_of "$T/inner" | cmp -s "$T/body" - &&
	grep -q '^Subject: Launch codes' "$T/inner"; then
	echo "   PGP/MIME on the wire; the decrypted body and subject equal what mutt submitted."
else
	fail "the decrypted message differs from what was submitted"
fi
