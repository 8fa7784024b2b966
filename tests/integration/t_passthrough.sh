#!/bin/bash
# Input that is already encrypted (PGP/MIME or inline PGP) passes through
# untouched, not encrypted twice, to recipients with and without keys;
# plaintext next to an armor block does not count as encrypted.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

# begins FILE: the number of armor blocks in FILE
begins() { grep -c -- '^-----BEGIN PGP MESSAGE-----' "$1"; }

printf 'The real secret.\nSecond line.\n' > "$T/secret"
gpg --batch -q --trust-model always --armor --encrypt -r alice@example.org \
	-o "$T/secret.asc" "$T/secret" || fail "gpg --encrypt"
[ "$(begins "$T/secret.asc")" = 1 ] || fail "gpg made no single armor block"
gpg --homedir "$T/d" --batch -q --decrypt "$T/secret.asc" 2>/dev/null |
	cmp -s "$T/secret" - || fail "the client's own ciphertext does not decrypt"

# (a) PGP/MIME made by the client itself
{
	printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\n'
	printf 'Subject: already sealed\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n'
	printf ' boundary="b1"\n\n'
	printf -- '--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
	printf -- '--b1\nContent-Type: application/octet-stream\n\n'
	cat "$T/secret.asc"
	printf -- '\n--b1--\n'
} > "$T/pgpmime"
# (b) inline PGP: the body is one armor block
{
	printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\n'
	printf 'Subject: inline\n\n'
	cat "$T/secret.asc"
} > "$T/inline"

n=0 k=0
for m in pgpmime inline; do
	"$POSTSEAL" -C "$T/conf" -t -i < "$T/$m" || fail "$m: postseal exited $?"
	n=$((n + 2)) k=$((k + 1))
	pf_wait_delivered "$PF" $n || fail "$m: not delivered"
	[ "$(pf_count_delivered "$PF")" = $n ] || fail "$m: more than $n messages delivered in all"
	subj=$(header_of "$T/$m" | sed -n 's/^Subject: //p')
	for who in alice@example.org carol@example.com; do
		[ "$(pf_mailbox "$PF" "$who" | grep -c .)" = $k ] ||
			fail "$m: $who has not exactly $k message(s)"
		f=$(pf_mailbox "$PF" "$who" | tail -n1)
		body_of "$T/$m" | cmp -s - <(body_of "$f") || fail "$m to $who: body changed"
		[ "$(begins "$f")" = 1 ] || fail "$m to $who: $(begins "$f") armor blocks, want 1"
		header_of "$f" | grep -qxF "Subject: $subj" ||
			fail "$m to $who: Subject not as submitted (re-wrapped?)"
		gpg_decrypt "$f" | cmp -s "$T/secret" - || fail "$m to $who: does not decrypt to the original"
	done
	ok "$m: passed through unchanged to alice (key) and carol (no key)"
done
header_of "$(pf_mailbox "$PF" alice@example.org | head -n1)" |
	grep -qF 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";' ||
	fail "pgpmime: the Content-Type was changed"
ok "PGP/MIME keeps its own Content-Type"

# (c) plaintext before an armor block: must be encrypted for alice
{
	printf 'From: sender@example.com\nTo: alice@example.org\nSubject: mixed\n\n'
	printf 'This line is not encrypted by the client.\n'
	cat "$T/secret.asc"
} > "$T/mixed"
"$POSTSEAL" -C "$T/conf" -t -i < "$T/mixed" || fail "mixed: postseal exited $?"
pf_wait_delivered "$PF" $((n + 1)) || fail "mixed: not delivered"
[ "$(pf_count_delivered "$PF")" = $((n + 1)) ] || fail "mixed: more than one copy delivered"
f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
grep -q 'This line is not encrypted' "$f" && fail "mixed: plaintext line sent in the clear"
header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "mixed: not PGP/MIME"
# only the new outer armor shows; the client's block is inside it
[ "$(begins "$f")" = 1 ] || fail "mixed: $(begins "$f") armor blocks outside, want 1"
armored "$f" | cmp -s "$T/secret.asc" - && fail "mixed: the client's armor block was sent as is"
[ "$(keyids_of "$f")" = "$(keyid alice)" ] || fail "mixed: encrypted to [$(keyids_of "$f")], want alice"
gpg_decrypt "$f" > "$T/mixed.inner" || fail "mixed: cannot decrypt"
body_of "$T/mixed.inner" | cmp -s <(body_of "$T/mixed") - || fail "mixed: decrypted body differs"
ok "plaintext next to an armor block is encrypted, the client's block inside"

# (d) things that only look encrypted must be encrypted for alice:
# plaintext inside an armor frame, and a PGP/MIME header over a clear part
n=$((n + 1))
i=0
for fake in armor-frame mime-header; do
	i=$((i + 1))
	{
		printf 'From: sender@example.com\nTo: alice@example.org\nSubject: fake %s\n' "$fake"
		if [ "$fake" = armor-frame ]; then
			printf '\n-----BEGIN PGP MESSAGE-----\nMy bank PIN is 1234.\n-----END PGP MESSAGE-----\n'
		else
			printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted;\n'
			printf ' protocol="application/pgp-encrypted"; boundary="b1"\n\n'
			printf -- '--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
			printf -- '--b1\nContent-Type: text/plain\n\nMy bank PIN is 1234.\n--b1--\n'
		fi
	} > "$T/fake-$fake"
	"$POSTSEAL" -C "$T/conf" -t -i < "$T/fake-$fake" || fail "$fake: postseal exited $?"
	pf_wait_delivered "$PF" $((n + i)) || fail "$fake: not delivered"
	f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
	grep -q 'PIN is 1234' "$f" && fail "$fake: the plaintext was passed through"
	gpg_decrypt "$f" | grep -q 'PIN is 1234' || fail "$fake: does not decrypt to the text"
done
ok "an armor frame around plaintext and a PGP/MIME header over a clear part are encrypted"

# --- only the real thing passes, and the policy still applies (#13 item 3) ---
# alice: encrypt = require, her key in the sender's keyring; carol: no key,
# opportunistic; erin: no key, no-key = refuse. The MTA is run through a
# wrapper that records every run, so "nothing was handed off" is a fact, not
# a timeout.
cat > "$T/mta" <<EOF2
#!/bin/sh
echo "\$*" >> "$T/handoffs"
exec "$SENDMAIL" "\$@"
EOF2
chmod 755 "$T/mta"
ps_conf "$T/mta" "$T/conf-req"
printf '[address alice@example.org]\nencrypt = require\n[address erin@example.com]\nno-key = refuse\n' \
	>> "$T/conf-req"
CRAFT="python3 $LIB/pgpcraft.py"
CANARY='Canary 7f3a: the vault code is 4711'
handoffs() { if [ -f "$T/handoffs" ]; then grep -c . "$T/handoffs"; else echo 0; fi; }
# submit FILE RCPT...: postseal on $T/FILE; exit status in $T/rc, stderr in $T/err
submit() {
	local f=$1
	shift
	"$POSTSEAL" -C "$T/conf-req" -i -f sender@example.com "$@" < "$T/$f" > "$T/out" 2> "$T/err"
	echo $? > "$T/rc"
}
rc() { cat "$T/rc"; }
# outside_armor FILE: the lines of FILE outside its OpenPGP armor blocks
outside_armor() {
	tr -d '\r' < "$1" |
		awk '/^-----BEGIN PGP MESSAGE-----/{on=1} !on{print} /^-----END PGP MESSAGE-----/{on=0}'
}
# inline NAME SUBJECT: a message to alice whose body is stdin
inline() {
	{
		printf 'From: sender@example.com\nTo: alice@example.org\nSubject: %s\n\n' "$2"
		cat
	} > "$T/$1"
}
# pgpmime NAME PREAMBLE PART2-HEADERS EPILOGUE: PGP/MIME around $T/secret.asc
pgpmime() {
	{
		printf 'From: sender@example.com\nTo: alice@example.org\nSubject: fake %s\n' "$1"
		printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted;\n'
		printf ' protocol="application/pgp-encrypted"; boundary="b1"\n\n%s' "$2"
		printf -- '--b1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--b1\nContent-Type: application/octet-stream\n%s\n' "$3"
		cat "$T/secret.asc"
		printf -- '\n--b1--\n%s' "$4"
	} > "$T/$1"
}

# The fakes, each to alice. Not one is "already encrypted": each is a
# plaintext message to postseal, so alice gets it encrypted to her key.
sed "s/^=.*/= $CANARY/" "$T/secret.asc" | inline crc-garbage "fake crc-garbage"
$CRAFT dearmor < "$T/secret.asc" | $CRAFT armor wrong | inline crc-wrong "fake crc-wrong"
{ printf '\204\136\003'; for i in 1 2 3 4; do printf '%s. ' "$CANARY"; done; } |
	$CRAFT armor | inline hf4d "fake hf4d"
{ $CRAFT dearmor < "$T/secret.asc"; printf '%s\n' "$CANARY" | $CRAFT literal; } |
	$CRAFT armor | inline trailing "fake trailing"
{ $CRAFT dearmor < "$T/secret.asc" | $CRAFT first; printf '%s\n' "$CANARY" | $CRAFT literal; } |
	$CRAFT armor | inline literal "fake literal"
pgpmime preamble "$CANARY
" "" ""
pgpmime part-headers "" "Content-Description: $CANARY
" ""
pgpmime epilogue "" "" "
$CANARY
"
fakes="crc-garbage crc-wrong hf4d trailing literal preamble part-headers epilogue"
for fake in $fakes; do
	n=$(pf_count_delivered "$PF") h=$(handoffs)
	# what must never leave in the clear: the canary, and the fake's
	# radix-64 lines (the canary is inside some of them)
	{ printf '%s\n' "$CANARY"; grep -E '^[A-Za-z0-9+/]{16,}={0,2}$' "$T/$fake"; } > "$T/sensitive"
	submit "$fake" alice@example.org
	[ "$(rc)" = 0 ] || fail "$fake: exit $(rc), want 0 (encrypted by postseal): $(cat "$T/err")"
	[ "$(handoffs)" = $((h + 1)) ] || fail "$fake: $(($(handoffs) - h)) handoffs, want 1"
	pf_wait_delivered "$PF" $((n + 1)) || fail "$fake: not delivered"
	f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
	header_of "$f" | grep -q '^Content-Type: multipart/encrypted;' || fail "$fake: not PGP/MIME"
	header_of "$f" | grep -qxF 'Subject: [...]' || fail "$fake: passed through (Subject not protected)"
	[ "$(begins "$f")" = 1 ] || fail "$fake: $(begins "$f") armor blocks outside, want postseal's one"
	[ "$(keyids_of "$f")" = "$(keyid alice)" ] || fail "$fake: encrypted to [$(keyids_of "$f")], want alice"
	if outside_armor "$f" | grep -qF -f "$T/sensitive"; then
		fail "$fake: the canary or the fake's radix-64 left outside the armor"
	fi
	gpg_decrypt "$f" > "$T/inner" || fail "$fake: cannot decrypt"
	grep -qF -f "$T/sensitive" "$T/inner" || fail "$fake: the decrypted copy lacks the fake's body"
	ok "fake $fake to a require recipient: encrypted by postseal, nothing in the clear"
done

# Real messages encrypted to alice's key pass through to her, unchanged.
mkdir -m 700 "$T/rnp-pub"
rnpkeys --homedir "$T/rnp-pub" --import "$KEYS/alice.pub.asc" > /dev/null 2>&1 ||
	fail "rnpkeys --import alice"
rnp --homedir "$T/rnp-pub" -e -r alice@example.org --armor "$T/secret" --output "$T/secret-rnp.asc" \
	> /dev/null 2>&1 || fail "rnp -e"
sq encrypt --recipient-cert "$KEYS/alice.pub.asc" < "$T/secret" > "$T/secret-sq.asc" ||
	fail "sq encrypt"
# a big one from a pipe: gpg writes the data packet with partial lengths
head -c 300000 /dev/urandom | base64 | gpg --batch -q --trust-model always --armor -e \
	-r alice@example.org > "$T/secret-big.asc" || fail "gpg --encrypt (big)"
inline real-gpg "real gpg" < "$T/secret.asc"
inline real-rnp "real rnp" < "$T/secret-rnp.asc"
inline real-sq "real sq" < "$T/secret-sq.asc"
inline real-big "real big" < "$T/secret-big.asc"
pgpmime real-pgpmime "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)
" 'Content-Description: OpenPGP encrypted message
Content-Disposition: inline; filename="encrypted.asc"
' ""
for m in real-gpg real-rnp real-sq real-big real-pgpmime; do
	n=$(pf_count_delivered "$PF") h=$(handoffs)
	submit "$m" alice@example.org
	[ "$(rc)" = 0 ] || fail "$m: exit $(rc): $(cat "$T/err")"
	[ "$(handoffs)" = $((h + 1)) ] || fail "$m: $(($(handoffs) - h)) handoffs, want 1"
	pf_wait_delivered "$PF" $((n + 1)) || fail "$m: not delivered"
	f=$(pf_mailbox "$PF" alice@example.org | tail -n1)
	body_of "$T/$m" | cmp -s - <(body_of "$f") || fail "$m: body changed"
	header_of "$f" | grep -qxF "Subject: $(header_of "$T/$m" | sed -n 's/^Subject: //p')" ||
		fail "$m: Subject changed (encrypted again?)"
	ok "$m, encrypted to alice's key: passed through to alice (encrypt = require)"
done

# Encrypted to someone else's key, or to a password: refused for alice,
# exit 69, nothing handed off, one line naming her.
gpg --homedir "$T/d" --batch -q --trust-model always --armor -e -r bob@example.net \
	-o "$T/secret-bob.asc" "$T/secret" || fail "gpg --encrypt to bob"
gpg --homedir "$T/d" --batch -q --pinentry-mode loopback --passphrase pw --armor --symmetric \
	-o "$T/secret-sym.asc" "$T/secret" || fail "gpg --symmetric"
inline to-bob "to bob" < "$T/secret-bob.asc"
inline to-password "to a password" < "$T/secret-sym.asc"
for m in to-bob to-password; do
	n=$(pf_count_delivered "$PF") h=$(handoffs)
	submit "$m" alice@example.org carol@example.com
	[ "$(rc)" = 69 ] || fail "$m: exit $(rc), want 69: $(cat "$T/err")"
	[ "$(handoffs)" = "$h" ] || fail "$m: handed off to the MTA"
	[ "$(grep -c 'alice@example.org: refused: ' "$T/err")" = 1 ] ||
		fail "$m: want one refusal line for alice: $(cat "$T/err")"
	grep -q 'carol@example.com: refused' "$T/err" && fail "$m: carol refused: $(cat "$T/err")"
	sleep 1
	[ "$(pf_count_delivered "$PF")" = "$n" ] || fail "$m: something was delivered"
	ok "$m: refused for alice (encrypt = require), exit 69, nothing handed off"
done

# Encrypted to bob, sent to carol only (opportunistic, no key): as is.
sed 's/^To: alice@example.org/To: carol@example.com/' "$T/to-bob" > "$T/to-bob-carol"
n=$(pf_count_delivered "$PF")
submit to-bob-carol carol@example.com
[ "$(rc)" = 0 ] || fail "to-bob-carol: exit $(rc): $(cat "$T/err")"
pf_wait_delivered "$PF" $((n + 1)) || fail "to-bob-carol: not delivered"
f=$(pf_mailbox "$PF" carol@example.com | tail -n1)
body_of "$T/to-bob-carol" | cmp -s - <(body_of "$f") || fail "to-bob-carol: body changed"
ok "already encrypted to another key, to an opportunistic recipient: passed through"

# no-key = refuse without a key: refused even though alice's key is there
n=$(pf_count_delivered "$PF") h=$(handoffs)
submit real-gpg alice@example.org erin@example.com
[ "$(rc)" = 69 ] || fail "erin: exit $(rc), want 69: $(cat "$T/err")"
[ "$(handoffs)" = "$h" ] || fail "erin: handed off to the MTA"
grep -q 'erin@example.com: refused: ' "$T/err" || fail "erin: no refusal line: $(cat "$T/err")"
ok "already encrypted, to a no-key = refuse recipient without a key: refused, nothing handed off"

# alice and carol together: one copy, as is, to both
n=$(pf_count_delivered "$PF") h=$(handoffs)
submit real-sq alice@example.org carol@example.com
[ "$(rc)" = 0 ] || fail "alice+carol: exit $(rc): $(cat "$T/err")"
[ "$(handoffs)" = $((h + 1)) ] || fail "alice+carol: $(($(handoffs) - h)) handoffs, want 1"
pf_wait_delivered "$PF" $((n + 2)) || fail "alice+carol: not delivered"
ok "already encrypted to alice: one copy, as is, to alice (require) and carol"

# require, and the lookup inconclusive (DNS that does not answer): the
# recipient waits in the queue with the message as it is; carol gets it now
ps_conf "$T/mta" "$T/conf-defer"
printf '[keyfetch]\ndns-forwarder = 127.0.0.1@9\n[address erin@example.com]\nencrypt = require\nsources = local dane\nlookup-timeout = 1\n' \
	>> "$T/conf-defer"
n=$(pf_count_delivered "$PF") h=$(handoffs)
"$POSTSEAL" -C "$T/conf-defer" -v -i -f sender@example.com erin@example.com carol@example.com \
	< "$T/real-gpg" > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || fail "deferred: exit $rc, want 0: $(cat "$T/err")"
grep -q "erin@example.com: waits in the queue as" "$T/err" || fail "deferred: erin not queued: $(cat "$T/err")"
[ "$(handoffs)" = $((h + 1)) ] || fail "deferred: $(($(handoffs) - h)) handoffs, want 1 (carol)"
grep -q 'erin@example.com' "$T/handoffs" && fail "deferred: erin was handed off"
pf_wait_delivered "$PF" $((n + 1)) || fail "deferred: carol's copy not delivered"
f=$(pf_mailbox "$PF" carol@example.com | tail -n1)
body_of "$T/real-gpg" | cmp -s - <(body_of "$f") || fail "deferred: carol's copy changed"
grep -rlqF -- "$(sed -n 3p "$T/secret.asc")" "$XDG_STATE_HOME/postseal/queue" ||
	fail "deferred: the queue does not hold the message as it is"
ok "already encrypted, a require recipient's lookup inconclusive: queued as it is, the others sent"
