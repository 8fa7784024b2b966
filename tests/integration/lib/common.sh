# shellcheck shell=bash
# tests/integration/lib/common.sh - shared set-up for the integration tests.
#
# Every test sources this file. It needs POSTSEAL (the binary under test)
# and SRCDIR (the source tree). It makes a private directory T under /tmp
# (short: gpg-agent socket paths must stay short) holding:
#   T/g      the sender's GNUPGHOME: public keys of the names given to
#            ps_setup (the keyring postseal searches)
#   T/d      a GNUPGHOME holding every test secret key, for decrypting
#   T/conf   a postseal.conf written by ps_conf
# and removes it, the gpg agents and any Postfix instance at exit.
set -u

: "${POSTSEAL:?POSTSEAL must name the postseal binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"
: "${KEYFETCH:=$(dirname "$POSTSEAL")/postseal-keyfetch}"
TESTS=$SRCDIR/tests
KEYS=$TESTS/data/keys
LIB=$TESTS/integration/lib
# shellcheck source=postfix.sh
. "$LIB/postfix.sh"

# fail also records the failure in $PS_FAILED (set by run-integration.sh):
# a fail inside a pipeline or $( ) ends only a subshell, and the test
# would go on and pass; the harness reads the file, so it cannot
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	[ -n "${PS_FAILED:-}" ] && printf '%s\n' "$*" >> "$PS_FAILED"
	exit 1
}
skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }
ok() { printf 'ok - %s\n' "$*"; }

# wkd_hash ADDR: the WKD file name of ADDR's local part, z-base-32 of the
# SHA-1 of the lowercased local part, computed here independently of
# postseal (draft-koch-openpgp-webkey-service section 3.1)
wkd_hash() {
	python3 -c '
import hashlib, sys
d = hashlib.sha1(sys.argv[1].rsplit("@", 1)[0].lower().encode()).digest()
a = "ybndrfg8ejkmcpqxot1uwisza345h769"
bits = "".join(f"{b:08b}" for b in d)
print("".join(a[int(bits[i:i + 5].ljust(5, "0"), 2)] for i in range(0, len(bits), 5)))
' "$1"
}

# keyid NAME: the encryption subkey ID of a committed test key
keyid() { awk -v n="$1" '$1==n {print $2}' "$KEYS/keyids.txt"; }

ps__cleanup() {
	local rc=$?
	[ -n "${PF:-}" ] && pf_stop "$PF" >/dev/null 2>&1
	# more private Postfix instances of the test (t_differential)
	for d in ${PF_MORE:-}; do
		pf_stop "$d" >/dev/null 2>&1
	done
	# servers of the optional libraries: nginx in $NG, nsd in $D, SKS in $SKS,
	if [ -n "${SKS:-}" ] && declare -F sks_stop >/dev/null; then
		sks_stop "$SKS" >/dev/null 2>&1
	fi
	# and the SMTP servers of lib/smtp.sh in $SM (and $SM2)
	if declare -F sm_stop >/dev/null; then
		[ -n "${SM:-}" ] && sm_stop "$SM" >/dev/null 2>&1
		[ -n "${SM2:-}" ] && sm_stop "$SM2" >/dev/null 2>&1
		[ -n "${SM3:-}" ] && sm_stop "$SM3" >/dev/null 2>&1
	fi
	if [ -n "${NG:-}" ] && declare -F ng_stop >/dev/null; then
		ng_stop "$NG" >/dev/null 2>&1
	fi
	if [ -n "${D:-}" ] && declare -F dns_stop >/dev/null; then
		dns_stop "$D" >/dev/null 2>&1
	fi
	for h in "$T"/g "$T"/d "$T"/home/.gnupg; do
		[ -d "$h" ] && gpgconf --homedir "$h" --kill all >/dev/null 2>&1
	done
	if [ "${PS_KEEP:-}" = 1 ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

# ps_setup NAME...: private dir, sender keyring with those public keys,
# decrypting keyring with all secret keys.
ps_setup() {
	command -v gpg >/dev/null || skip "gpg is not installed"
	T=$(mktemp -d /tmp/ps.XXXXXX) || exit 99
	# traversable for the postfix user (the private instance lives here)
	chmod 711 "$T"
	trap ps__cleanup EXIT
	mkdir -m 700 "$T/g" "$T/d"
	export GNUPGHOME=$T/g
	# no user policy file, key cache or queue but the test's own
	export XDG_CONFIG_HOME=$T/config XDG_CACHE_HOME=$T/cache XDG_STATE_HOME=$T/state
	for n in "$@"; do
		gpg --batch -q --import "$KEYS/$n.pub.asc" 2>/dev/null ||
			fail "cannot import test key $n"
	done
	gpg --homedir "$T/d" --batch -q --import "$KEYS"/*.sec.asc 2>/dev/null ||
		fail "cannot import the secret test keys"
}

# ps_postfix: start a private Postfix; sets PF and SENDMAIL. A Postfix
# that cannot start is a skip (77); CI turns a skip into a failure.
ps_postfix() {
	PF=$T/pf
	pf_start "$PF" || {
		local rc=$?
		[ "$rc" = 77 ] && skip "no private Postfix here"
		fail "the private Postfix did not start"
	}
	SENDMAIL=$(pf_sendmail "$PF")
}

# ps_conf SENDMAIL [FILE]: a postseal.conf handing off to SENDMAIL; keys
# come from the local keyring only (tests of discovery write their own
# [default] sources and [keyfetch] sections: see ps_conf_discovery)
ps_conf() {
	local f=${2:-$T/conf}
	printf '# test configuration\n[transport]\nmode = sendmail\nsendmail = %s\n' \
		"$1" > "$f"
	printf '[default]\nsources = local\n' >> "$f"
	chmod 600 "$f"
}

# armored FILE: the OpenPGP armor block of a delivered message
armored() {
	awk '/^-----BEGIN PGP MESSAGE-----/{on=1} on{print} /^-----END PGP MESSAGE-----/{on=0}' "$1"
}

# gpg_decrypt FILE: the decrypted inner MIME entity, on stdout
gpg_decrypt() {
	armored "$1" | gpg --homedir "$T/d" --batch -q --decrypt 2>/dev/null
}

# rnp_decrypt FILE NAME: decrypt with rnp, an independent implementation
rnp_decrypt() {
	local h=$T/rnp-$2
	if [ ! -d "$h" ]; then
		mkdir -m 700 "$h"
		rnpkeys --homedir "$h" --import "$KEYS/$2.sec.asc" >/dev/null 2>&1 ||
			fail "rnpkeys cannot import $2"
	fi
	armored "$1" > "$T/rnp-in.asc"
	rnp --homedir "$h" --decrypt "$T/rnp-in.asc" --output - 2>/dev/null
}

# sq_decrypt FILE NAME: decrypt with Sequoia's sq
sq_decrypt() {
	armored "$1" | sq decrypt --recipient-key "$KEYS/$2.sec.asc" 2>/dev/null
}

# keyids_of FILE: the key IDs a delivered message is encrypted to, sorted
keyids_of() {
	armored "$1" | gpg --homedir "$T/g" --batch --list-packets 2>/dev/null |
		awk '/^:pubkey enc packet:/ {for (i=1;i<=NF;i++) if ($i=="keyid") print toupper($(i+1))}' |
		sort
}

# body_of FILE: everything after the first empty line, CRLF made LF
body_of() {
	tr -d '\r' < "$1" | awk 'b{print} /^$/ && !b {b=1}'
}

# header_of FILE: the header section, CRLF made LF, unfolded
header_of() {
	tr -d '\r' < "$1" | awk '/^$/{exit} {print}'
}

# mailbox ADDRESS: the one message delivered to ADDRESS (fails otherwise)
mailbox() {
	local files n
	files=$(pf_mailbox "$PF" "$1")
	n=$(printf '%s' "$files" | grep -c . || true)
	[ "$n" = 1 ] || fail "expected 1 message for $1, found $n"
	printf '%s\n' "$files"
}

# ps_muttrc FILE: a muttrc sending through postseal with T/conf, as
# sender@example.com, keeping no copy and doing no crypto of its own
ps_muttrc() {
	mkdir -p "$(dirname "$1")"
	cat > "$1" <<EOF2
set sendmail="$POSTSEAL -C $T/conf"
set from="Sender <sender@example.com>"
set use_from=yes
set use_envelope_from=yes
set record=""
set copy=no
set charset="utf-8"
set send_charset="us-ascii:utf-8"
set crypt_autosign=no
set crypt_autoencrypt=no
set folder="$T/home/Mail"
set spoolfile="$T/home/Mail/inbox"
EOF2
}
