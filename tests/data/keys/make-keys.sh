#!/bin/bash
# Regenerate the committed test keys (run by hand, never by the tests:
# the fixtures must stay stable). No passphrases: test keys only.
set -euo pipefail
cd "$(dirname "$0")"
export GNUPGHOME=$(mktemp -d /tmp/ps-mk.XXXX)
trap 'gpgconf --kill all; rm -rf "$GNUPGHOME"' EXIT
g() { gpg --batch --pinentry-mode loopback --passphrase '' "$@"; }
fpr_of() { gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/{print $10; exit}'; }
gen() { # name uid [algo] [faked-time]
	local name=$1 uid=$2 algo=${3:-ed25519} when=${4:-}
	local extra=()
	[ -n "$when" ] && extra=(--faked-system-time "$when")
	if [ "$algo" = rsa ]; then
		g "${extra[@]}" --quick-gen-key "$uid" rsa2048 sign 2y
		g "${extra[@]}" --quick-add-key "$(fpr_of "=$uid")" rsa2048 encr 2y
	else
		g "${extra[@]}" --quick-gen-key "$uid" ed25519 sign 0
		g "${extra[@]}" --quick-add-key "$(fpr_of "=$uid")" cv25519 encr 0
	fi
}
export_key() { # file uid-or-fpr
	g --armor --export "$2" > "$1.pub.asc"
	g --armor --export-secret-keys "$2" > "$1.sec.asc"
}
gen alice 'Alice <alice@example.org>'
gen bob 'Bob <bob@example.net>' rsa
gen dave 'Dave <dave@example.org>'
gen grace 'Grace <grace@example.com>'
export_key alice alice@example.org
export_key bob bob@example.net
export_key dave dave@example.org
export_key grace grace@example.com
# expired: made in 2020, valid for 2 years
g --faked-system-time 20200101T000000 --quick-gen-key 'Heidi <heidi@example.org>' ed25519 sign 2y
g --faked-system-time 20200101T000000 --quick-add-key "$(fpr_of heidi@example.org)" cv25519 encr 2y
export_key heidi heidi@example.org
# revoked
gen frank 'Frank <frank@example.org>'
f=$(fpr_of frank@example.org)
# gpg wrote a revocation certificate when it made the key; its armor
# line is guarded by a ':' against accidental import
sed 's/^:-----/-----/' "$GNUPGHOME/openpgp-revocs.d/$f.rev" | g --import
export_key frank "$f"
# sign-only: no encryption subkey
g --quick-gen-key 'User1 <user1@example.org>' ed25519 sign 0
export_key user1 user1@example.org
# two keys for one address: the newer encryption subkey must win
g --faked-system-time 20240101T000000 --quick-gen-key 'User2 old <user2@example.org>' ed25519 sign 0
g --faked-system-time 20240101T000000 --quick-add-key "$(fpr_of '=User2 old <user2@example.org>')" cv25519 encr 0
export_key user2-old "$(fpr_of '=User2 old <user2@example.org>')"
g --quick-gen-key 'User2 new <user2@example.org>' ed25519 sign 0
g --quick-add-key "$(fpr_of '=User2 new <user2@example.org>')" cv25519 encr 0
export_key user2-new "$(fpr_of '=User2 new <user2@example.org>')"
# local part in another case: not user3@example.org's key
gen user3 'User3 <USER3@example.org>'
export_key user3 USER3@example.org
# domain in another case: is user4@example.org's key
gen user4 'User4 <user4@EXAMPLE.ORG>'
export_key user4 user4@EXAMPLE.ORG
# the encryption subkey IDs, for --list-packets checks
for k in *.pub.asc; do
	n=${k%.pub.asc}
	id=$(gpg --with-colons --import-options show-only --import "$k" 2>/dev/null |
		awk -F: '$1=="sub" && $12 ~ /e/ {print $5}' | tail -n1)
	echo "$n $id"
done > keyids.txt
cat keyids.txt
