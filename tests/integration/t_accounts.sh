#!/bin/bash
# Nothing lost, for every account: the callers that never retry (cron
# under systemd: no HOME; PHP as www-data: HOME=/var/www, not writable;
# a daemon as nobody: HOME=/nonexistent) submit while the resolver does
# not answer, through a real (private) Postfix, in the test world
# (lib/world.sh: postseal.conf without [keyfetch]). Each submission
# exits 0 and each message is listed by mailq; when the resolver is back,
# the runner the installed systemd unit starts (its ExecStart, run with
# the environment systemd gives a service) delivers every message,
# encrypted where the recipient has a key (WKD). Kept down past
# unknown-max-age, the sender gets a DSN and nothing goes in plaintext.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99
. "$LIB/world.sh" || exit 99

world_check || exit $?
world_enter "$0" "$@" || exit $?
# shellcheck disable=SC2119
world_init || exit 99
T=$W PF=""
trap '[ -n "$PF" ] && pf_stop "$PF" >/dev/null 2>&1; world_cleanup' EXIT
trap 'exit 1' INT TERM HUP
for u in www-data nobody; do id "$u" >/dev/null 2>&1 || skip "no user $u here"; done

TIMEOUT=3
WEB=127.0.0.10
world_zone example
world_zone keyed.example unsigned
world_rr openpgpkey.keyed.example A $WEB
world_site $WEB openpgpkey.keyed.example
world_zone plain.example unsigned
world_rr plain.example MX "10 mx.plain.example."
world_gpg_key ann "Ann <ann@keyed.example>" || exit 99
world_wkd_put ann@keyed.example "$W/keys/ann.gpg" || exit 99
world_start || fail "the world did not start"

# the accounts reach what they run: binaries and configuration root's,
# readable; the spool as make install makes it
chmod 711 "$W"
mkdir -m 755 "$W/bin"
cp "$POSTSEAL" "$W/bin/postseal"
cp "$(dirname "$POSTSEAL")/postseal-net.so" "$W/bin/postseal-net.so"
ln -s postseal "$W/bin/postseal-queue"
chmod 755 "$W/bin/postseal"
chmod 644 "$W/bin/postseal-net.so"
mkdir -m 755 "$W/spool"
install -d -m 1733 "$W/spool/maildrop"
install -d -m 700 "$W/spool/queue"

PF_DOMAINS="example.org keyed.example plain.example" PF_LOCALPARTS="ann bob erin" ps_postfix
conf() { # [QUEUE-LINES]
	cat > "$W/postseal.conf" <<EOF2
[transport]
mode = sendmail
sendmail = $SENDMAIL
[default]
lookup-timeout = $TIMEOUT
[queue]
system-spool = $W/spool
${1:-}
EOF2
	chmod 644 "$W/postseal.conf"
}
conf
BIN=$W/bin/postseal
ENVP="PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8"
count() { pf_count_delivered "$PF"; }
# the installed unit's command, with this test's binary and configuration
UNIT=$SRCDIR/systemd/postseal-queue.service.in
EXEC=$(sed -n 's/^ExecStart=%SBINDIR%\/postseal-queue //p' "$UNIT")
[ -n "$EXEC" ] || fail "no ExecStart in $UNIT"
runner() { # the runner as systemd starts it: root, no HOME
	# shellcheck disable=SC2086
	env -i $ENVP "$W/bin/postseal-queue" -C "$W/postseal.conf" $EXEC > "$W/run/runner.out" 2>&1
}

msg() { printf 'From: %s\nTo: %s\nSubject: %s\n\n%s canary-%s\n' "$1" "$2" "$3" "$3" "$3"; }
FAILS=0
submit() { # NAME USER HOME RCPT...: one submission as USER with that HOME
	local name=$1 user=$2 home=$3 a b rc
	shift 3
	msg erin@example.org "$(printf '%s, ' "$@" | sed 's/, $//')" "$name" > "$W/run/$name.msg"
	chmod 644 "$W/run/$name.msg"
	a=$EPOCHREALTIME
	if [ "$user" = root ]; then
		# systemd's cron: PATH, LANG and the user, nothing else
		env -i $ENVP LOGNAME=root USER=root "$BIN" -C "$W/postseal.conf" -i \
			-f erin@example.org -- "$@" < "$W/run/$name.msg" > "$W/run/$name.err" 2>&1
	else
		su -s /bin/sh "$user" -c "env -i $ENVP HOME=$home LOGNAME=$user USER=$user \
			$BIN -C $W/postseal.conf -i -f erin@example.org -- $*" \
			< "$W/run/$name.msg" > "$W/run/$name.err" 2>&1
	fi
	rc=$?
	b=$EPOCHREALTIME
	if [ "$rc" != 0 ]; then
		printf 'FAIL: %s: exit %s, want 0: %s\n' "$name" "$rc" "$(cat "$W/run/$name.err")" >&2
		FAILS=$((FAILS + 1))
	fi
	awk -v a="$a" -v b="$b" -v t=$((TIMEOUT + 3)) 'BEGIN {exit (b - a > t)}' ||
		{ echo "FAIL: $name: took longer than lookup-timeout + 3 s" >&2; FAILS=$((FAILS + 1)); }
}

# --- the resolver does not answer -----------------------------------------------
world_resolver_down || fail "the resolver could not be taken down"
submit cron root "" ann@keyed.example
submit php www-data /var/www ann@keyed.example bob@plain.example
submit daemon nobody /nonexistent ann@keyed.example
[ "$FAILS" = 0 ] || fail "$FAILS submissions failed while the resolver was down"
ok "cron (no HOME), www-data (HOME unwritable) and nobody (HOME=/nonexistent): exit 0 with the resolver down"

"$BIN" -C "$W/postseal.conf" -bp > "$W/run/mailq" 2>&1 || fail "mailq: exit $?: $(cat "$W/run/mailq")"
[ "$(grep -c 'awaiting a key lookup' "$W/run/mailq")" = 3 ] ||
	fail "mailq does not list 3 messages awaiting a lookup: $(cat "$W/run/mailq")"
grep -q 'bob@plain.example' "$W/run/mailq" || fail "mailq: bob is missing: $(cat "$W/run/mailq")"
grep -q 'from uid 33' "$W/run/mailq" && grep -q 'from uid 65534' "$W/run/mailq" ||
	fail "mailq does not say whose: $(cat "$W/run/mailq")"
sleep 1
[ "$(count)" = 0 ] || fail "something was delivered while the lookups were inconclusive"
ok "root's mailq lists all three, awaiting a key lookup, with the submitter's uid; nothing sent"

# --- the system runner picks up the maildrop while the resolver is still down ----------
# (the path unit wakes it as soon as something is dropped): the entries
# move into the system queue with the uid of the account that wrote
# them, taken from the file's owner
runner || fail "the runner (resolver down): exit $?: $(cat "$W/run/runner.out")"
[ -z "$(ls -A "$W/spool/maildrop")" ] || fail "the maildrop was not picked up: $(ls -la "$W/spool/maildrop")"
"$BIN" -C "$W/postseal.conf" -bp > "$W/run/mailq" 2>&1
grep -q '\[maildrop\]' "$W/run/mailq" && fail "entries left in the maildrop: $(cat "$W/run/mailq")"
[ "$(grep -c '\[system\]' "$W/run/mailq")" = 3 ] || fail "the system queue does not hold the three: $(cat "$W/run/mailq")"
grep -q 'from uid 33)' "$W/run/mailq" && grep -q 'from uid 65534)' "$W/run/mailq" ||
	fail "the picked-up entries lost their submitter's uid: $(cat "$W/run/mailq")"
sleep 1
[ "$(count)" = 0 ] || fail "something was delivered while the resolver was down"
ok "the system runner picks up the maildrop into the system queue, each entry with its writer's uid; nothing is sent while the lookups are inconclusive"

# a file in the maildrop that postseal did not write as it does (mode
# 0600): readable by others, it is refused, never taken for mail
su -s /bin/sh nobody -c "umask 022; printf 'postseal-queue 1\ncreated $(date +%s)\nsender-given 0\nkind lookup\ntls opportunistic\nrcpt ann@keyed.example\n\nSubject: forged\n\nforged-entry\n' > $W/spool/maildrop/9999999999.0badc0ffee00"
[ "$(stat -c %a "$W/spool/maildrop/9999999999.0badc0ffee00" 2>/dev/null)" = 644 ] ||
	fail "could not drop the forged file"
runner || fail "the runner (forged entry): exit $?"
[ -e "$W/spool/maildrop/9999999999.0badc0ffee00" ] && fail "the forged maildrop file was left in place"
"$BIN" -C "$W/postseal.conf" -bp > "$W/run/mailq" 2>&1
[ "$(grep -c '\[system\]' "$W/run/mailq")" = 3 ] || fail "the forged maildrop file was queued: $(cat "$W/run/mailq")"
grep -rl 'forged-entry' "$W/spool/queue" >/dev/null 2>&1 && fail "the forged maildrop file's message is in the system queue"
ok "a maildrop file of mode 0644 is refused and removed, not queued"

# --- the resolver is back: the installed unit's runner delivers ------------------------
world_resolver_up || fail "the resolver did not come back"
# the first retry was made while the resolver was down: the timer's next
# run comes after the backoff (5 minutes); time passes here by making
# the entries due, not by waiting
for f in "$W"/spool/queue/q/.*.state; do
	[ -f "$f" ] && sed -i 's/^next .*/next 0/' "$f"
done
runner || fail "the runner (the unit's ExecStart: $EXEC): exit $?: $(cat "$W/run/runner.out")"
pf_wait_delivered "$PF" 4 || fail "$(count) of 4 copies arrived: $(cat "$W/run/runner.out"; "$BIN" -C "$W/postseal.conf" -bp)"
n=0
for f in $(pf_mailbox "$PF" ann@keyed.example); do
	n=$((n + 1))
	grep -q 'canary-' "$f" && fail "ann's copy $f is in the clear"
	header_of "$f" | grep -qi '^Content-Type: multipart/encrypted' || fail "ann's copy $f is not PGP/MIME"
	armored "$f" | gpg --homedir "$WORLD_KEYRING" --batch -q --decrypt 2>/dev/null | grep -q 'canary-' ||
		fail "ann's copy $f does not decrypt"
done
[ "$n" = 3 ] || fail "ann got $n copies, want 3: $(cat "$W/run/runner.out"; find "$PF/mail" -type f)"
B=$(pf_mailbox "$PF" bob@plain.example)
grep -q 'canary-php' "$B" || fail "bob's copy (no key anywhere) is not the plaintext message"
"$BIN" -C "$W/postseal.conf" -bp | grep -q 'the queue is empty' || fail "entries left: $("$BIN" -C "$W/postseal.conf" -bp)"
ok "with the resolver back, the unit's runner delivers every message: ann's three encrypted (WKD), bob's in plaintext"

# --- kept down past unknown-max-age: a DSN, never plaintext ---------------------------
conf "unknown-max-age = 2s"
world_resolver_down || fail "the resolver could not be taken down again"
before=$(count)
submit late nobody /nonexistent ann@keyed.example
[ "$FAILS" = 0 ] || fail "the late submission failed"
sleep 3
runner || fail "runner (late): $(cat "$W/run/runner.out")"
pf_wait_delivered "$PF" $((before + 1)) || fail "no DSN arrived"
D=$(pf_mailbox "$PF" erin@example.org | xargs -r ls -t | head -n1)
grep -q '^Subject: Undelivered Mail Returned to Sender' "$D" || fail "not a DSN: $(cat "$D")"
grep -q '^Final-Recipient: rfc822; ann@keyed.example' "$D" || fail "the DSN names no recipient"
grep -q 'canary-late' "$D" && fail "the DSN carries the body"
sleep 1
[ "$(count)" = $((before + 1)) ] || fail "ann got the late message (in plaintext?)"
ok "past unknown-max-age the sender gets a DSN; nothing is sent in plaintext"
