#!/bin/bash
# The durable queue, with the private Postfix behind a sendmail wrapper
# that can play "down" (exit 75) or refuse a recipient (exit 67): copies
# the MTA cannot take are queued (exit 0), listed by -bp, retried with
# backoff by postseal-queue run, forced by -q, handed off exactly once
# even with two runners, returned to the sender when refused or too old;
# an encrypted copy is stored encrypted. Crashes (kill -9 at each stage)
# and a full spool lose nothing and send nothing half-done.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
Q=$XDG_STATE_HOME/postseal/queue

# the wrapper: down while $T/down exists; refuses carol with 67 while
# $T/refuse exists; logs each run
cat > "$T/mta" <<EOF2
#!/bin/sh
echo "run \$*" >> $T/mta.log
[ -e $T/down ] && exit 75
if [ -e $T/refuse ]; then
	for a in "\$@"; do [ "\$a" = carol@example.com ] && exit 67; done
fi
[ -e $T/slow ] && sleep 0.2
exec $SENDMAIL "\$@"
EOF2
chmod 755 "$T/mta"
ps_conf "$T/mta"
ln -s "$POSTSEAL" "$T/postseal-queue"
QRUN() { "$T/postseal-queue" -C "$T/conf" "$@"; }
queued() { find "$Q/q" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l; }
count() { pf_count_delivered "$PF"; }

printf 'From: sender@example.com\nTo: alice@example.org, carol@example.com\nSubject: queued\nMessage-ID: <q1@example.com>\n\nThe queued body.\n' > "$T/msg"

# --- relay down: queued, exit 0 --------------------------------------------------
touch "$T/down"
"$POSTSEAL" -C "$T/conf" -v -i -f sender@example.com alice@example.org carol@example.com < "$T/msg" 2> "$T/err" ||
	fail "MTA down: exit $?, want 0 once queued: $(cat "$T/err")"
grep -q 'encrypted copy for 1 recipient queued as' "$T/err" || fail "no 'queued' note with -v: $(cat "$T/err")"
[ "$(queued)" = 2 ] || fail "$(queued) queue files, want 2"
sleep 1
[ "$(count)" = 0 ] || fail "something was delivered while the MTA was down"
enc=$(grep -l '^kind encrypted$' "$Q"/q/*)
grep -q 'The queued body' "$enc" && fail "the encrypted copy is stored in plaintext"
grep -q -- '-----BEGIN PGP MESSAGE-----' "$enc" || fail "the queued encrypted copy holds no OpenPGP message"
[ "$(stat -c %a "$Q/q")" = 700 ] || fail "queue directory mode $(stat -c %a "$Q/q")"
[ "$(stat -c %a "$enc")" = 600 ] || fail "queue file mode $(stat -c %a "$enc")"
ok "with the MTA down both copies are queued (exit 0, -v says so), the encrypted one stored encrypted, privately"

out=$("$POSTSEAL" -C "$T/conf" -bp) || fail "-bp exit $?"
grep -q 'alice@example.org' <<<"$out" && grep -q 'carol@example.com' <<<"$out" || fail "-bp: $out"
grep -q -- '-- 2 copies queued' <<<"$out" || fail "-bp: $out"
QRUN run || fail "postseal-queue run: exit $?"
out=$("$POSTSEAL" -C "$T/conf" -bp)
grep -q 'exited with status 75.*tried 1 time' <<<"$out" || fail "-bp shows no last error: $out"
ok "mailq lists id, age, sender, recipients and, after a failed run, the last error"

rm -f "$T/down"
n=$(wc -l < "$T/mta.log")
QRUN run || fail "run exit $?"
[ "$(wc -l < "$T/mta.log")" = "$n" ] || fail "postseal-queue run retried before the backoff was over"
[ "$(queued)" = 2 ] || fail "copies left the queue early"
"$POSTSEAL" -C "$T/conf" -q || fail "-q exit $?"
pf_wait_delivered "$PF" 2 || fail "the queued copies did not arrive"
[ "$(queued)" = 0 ] || fail "$(queued) copies still queued"
A=$(pf_mailbox "$PF" alice@example.org)
header_of "$A" | grep -q '^Content-Type: multipart/encrypted;' || fail "alice's copy is not encrypted"
gpg_decrypt "$A" | tr -d '\r' | grep -qx 'The queued body.' || fail "alice's copy does not decrypt"
grep -qx 'The queued body.' "$(pf_mailbox "$PF" carol@example.com)" || fail "carol's copy"
ok "run honours the backoff; -q retries at once and delivers both copies, which decrypt"

# --- two runners at once: each copy handed off once ---------------------------------
touch "$T/down"
for i in $(seq 1 12); do
	printf 'From: sender@example.com\nTo: carol@example.com\nSubject: n%s\nMessage-ID: <par%s@example.com>\n\nbody %s\n' "$i" "$i" "$i" |
		"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com || fail "queueing $i: exit $?"
done
[ "$(queued)" = 12 ] || fail "$(queued) queued, want 12"
rm -f "$T/down"; touch "$T/slow"
before=$(count)
"$POSTSEAL" -C "$T/conf" -q & p1=$!
"$POSTSEAL" -C "$T/conf" -q & p2=$!
wait $p1 || fail "runner 1: exit $?"
wait $p2 || fail "runner 2: exit $?"
rm -f "$T/slow"
pf_wait_delivered "$PF" $((before + 12)) || fail "not all 12 arrived"
sleep 1
[ "$(count)" = $((before + 12)) ] || fail "$(( $(count) - before )) delivered, want 12 (duplicates)"
[ "$(grep -c 'par[0-9]*@example.com' <(cat $(pf_mailbox "$PF" carol@example.com)) )" = 12 ] || fail "Message-IDs"
[ "$(queued)" = 0 ] || fail "queue not empty"
ok "two queue runners at once hand off each of 12 copies exactly once"

# --- a permanent refusal and a too old copy go back to the sender -------------------------
touch "$T/down"
printf 'From: erin@example.com\nTo: carol@example.com\nSubject: will bounce\n\nbounce body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f erin@example.com carol@example.com || fail "queue: exit $?"
rm -f "$T/down"; touch "$T/refuse"
before=$(count)
"$POSTSEAL" -C "$T/conf" -q || fail "-q: exit $?"
rm -f "$T/refuse"
pf_wait_delivered "$PF" $((before + 1)) || fail "no bounce arrived"
B=$(pf_mailbox "$PF" erin@example.com | xargs -r ls -t | head -n1)
[ -n "$B" ] || fail "no bounce in erin's mailbox"
grep -q '^Subject: Undelivered Mail Returned to Sender' "$B" || fail "bounce: $(cat "$B")"
grep -q 'Content-Type: multipart/report; report-type=delivery-status' "$B" || fail "bounce is not a DSN"
grep -q "^Final-Recipient: rfc822; carol@example.com" "$B" || fail "bounce: no Final-Recipient: $(cat "$B")"
grep -q '^Return-Path: <>' "$B" || fail "the bounce was not sent from the null sender"
grep -q 'bounce body' "$B" && fail "the bounce carries the body"
[ "$(queued)" = 0 ] || fail "refused copy still queued"
ok "a permanent refusal returns a DSN to the sender (null sender, headers only) and removes the copy"

printf '[queue]\nmax-queue-age = 1s\n' >> "$T/conf"
touch "$T/down"
printf 'From: erin@example.com\nTo: carol@example.com\nSubject: too old\n\nold body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f erin@example.com carol@example.com || fail "queue: exit $?"
sleep 2.2
rm -f "$T/down"
before=$(count)
QRUN run || fail "run: exit $?"
pf_wait_delivered "$PF" $((before + 1)) || fail "no bounce for the old copy"
sleep 1
[ "$(count)" = $((before + 1)) ] || fail "the old copy was delivered as well as bounced"
grep -l 'still undeliverable after' $(pf_mailbox "$PF" erin@example.com) >/dev/null || fail "no max-queue-age bounce"
[ "$(queued)" = 0 ] || fail "old copy still queued"
sed -i '/^\[queue\]/,$d' "$T/conf"
ok "a copy older than max-queue-age is returned to the sender and removed"

# --- durability: the file synced before its rename, the directory after ----------------
if command -v strace >/dev/null; then
	touch "$T/down"
	rm -rf "$Q"
	# (LeakSanitizer cannot run under ptrace: off for this one run of a
	# sanitizer build; the other runs check leaks)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -e trace=fsync,fdatasync,rename,renameat,renameat2 -o "$T/strace" \
		"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com < "$T/msg" 2> "$T/err" ||
		fail "strace'd submission: exit $?: $(cat "$T/err")"
	rm -f "$T/down"
	id=$(ls "$Q/q" | grep -v '^\.' | head -n1)
	[ -n "$id" ] || fail "strace'd submission: nothing queued"
	f=$(grep -n "fsync([0-9]*<$Q/tmp/$id>)" "$T/strace" | head -n1 | cut -d: -f1)
	r=$(grep -n "rename[at2]*(.*\"$Q/tmp/$id\".*\"$Q/q/$id\"" "$T/strace" | head -n1 | cut -d: -f1)
	d=$(grep -n "fsync([0-9]*<$Q/q>)" "$T/strace" | tail -n1 | cut -d: -f1)
	[ -n "$f" ] && [ -n "$r" ] && [ -n "$d" ] || fail "durability: missing fsync/rename/fsync: $(cat "$T/strace")"
	[ "$f" -lt "$r" ] && [ "$r" -lt "$d" ] ||
		fail "durability: not file fsync ($f) < rename ($r) < directory fsync ($d)"
	rm -rf "$Q"
	ok "a queued copy is synced before its rename into q/, and q/ is synced after it (a power cut loses nothing accepted)"
else
	[ "${CI:-}" = true ] && fail "strace is missing"
	echo "note: no strace here; the durability order is not checked"
fi

# --- kill -9 at each stage: every message accounted for -------------------------------
for stage in intake encrypt queue-write queue-rename; do
	touch "$T/down"
	rm -rf "$Q/tmp"/*
	before=$(count); inq=$(queued)
	{ ( POSTSEAL_CRASH_AT=$stage exec "$POSTSEAL" -C "$T/conf" -i -f sender@example.com alice@example.org < "$T/msg" ); } 2>/dev/null
	rc=$?
	[ "$rc" = 137 ] || fail "$stage: exit $rc, want 137 (killed)"
	case $stage in
	intake|encrypt)
		[ "$(queued)" = "$inq" ] || fail "$stage: something was queued"
		[ -z "$(ls -A "$Q/tmp" 2>/dev/null)" ] || fail "$stage: a file in tmp/";;
	queue-write)
		# the client saw a failure and will resend; the half-done file stays
		# in tmp/ where no runner sends it
		[ "$(queued)" = "$inq" ] || fail "queue-write: a file reached q/"
		[ -n "$(ls -A "$Q/tmp")" ] || fail "queue-write: no file in tmp/";;
	queue-rename)
		# renamed: whole in q/ (the client also resends: a duplicate, never a loss)
		[ "$(queued)" = $((inq + 1)) ] || fail "queue-rename: not in q/";;
	esac
	rm -f "$T/down"
	"$POSTSEAL" -C "$T/conf" -q || fail "$stage: -q exit $?"
	sleep 0.5
	case $stage in
	queue-rename) want=$((before + 1));;
	*) want=$before;;
	esac
	pf_wait_delivered "$PF" "$want" || fail "$stage: the whole queued copy was not delivered"
	[ -z "$(ls -A "$Q/tmp")" ] || fail "$stage: the runner left a dead submission's file in tmp/"
	sleep 0.5
	[ "$(count)" = "$want" ] || fail "$stage: $(( $(count) - before )) delivered, want $((want - before))"
done
before=$(count); inq=$(queued)
{ ( POSTSEAL_CRASH_AT=handoff exec "$POSTSEAL" -C "$T/conf" -i -f sender@example.com alice@example.org carol@example.com < "$T/msg" ); } 2>/dev/null
rc=$?
[ "$rc" = 137 ] || fail "handoff: exit $rc"
pf_wait_delivered "$PF" $((before + 1)) || fail "handoff: the first copy did not arrive"
sleep 1
[ "$(count)" = $((before + 1)) ] || fail "handoff: the copy after the crash was sent"
[ "$(queued)" = "$inq" ] || fail "handoff: something was queued"
ok "kill -9 during intake, encryption, queue write, queue rename and between two copies: nothing half-sent, nothing half-queued reaches q/, the next runner removes what a dead submission left in tmp/, the client sees a failure (and resends: a duplicate at worst, never a loss)"

# --- a full spool: EX_TEMPFAIL, nothing half-written ----------------------------------------
MNT=$T/full
mkdir -p "$MNT"
if mount -t tmpfs -o size=64k,mode=700 tmpfs "$MNT" 2>/dev/null; then
	trap 'r=$?; umount "$MNT" 2>/dev/null; (exit $r); ps__cleanup' EXIT
	mkdir -m 700 "$MNT/tmp" "$MNT/q"
	head -c 60000 /dev/zero > "$MNT/filler"
	printf '[queue]\nspool = %s\n' "$MNT" >> "$T/conf"
	{ printf 'From: sender@example.com\nSubject: big\n\n'; head -c 200000 /dev/urandom | base64; } > "$T/big"
	touch "$T/down"
	"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com < "$T/big" 2> "$T/err"; rc=$?
	[ "$rc" = 75 ] || fail "ENOSPC: exit $rc, want 75: $(cat "$T/err")"
	grep -q 'could not be queued: cannot write the queue file.*No space left on device' "$T/err" || fail "ENOSPC: $(cat "$T/err")"
	[ -z "$(ls -A "$MNT/q")" ] || fail "ENOSPC: something reached q/"
	[ -z "$(ls -A "$MNT/tmp")" ] || fail "ENOSPC: a half-written file was left in tmp/"
	rm -f "$T/down"
	umount "$MNT"
	ok "a full spool gives exit 75 with nothing half-written"
else
	[ "${CI:-}" = true ] && fail "cannot mount a tmpfs for the ENOSPC test"
	echo "note: no tmpfs mount here; ENOSPC case not run"
fi

# --- the queue runs itself: a submission starts a runner for due entries ---------------
# (an entry older than a minute; its id, which begins with its time, is
# made older, as time would)
sed -i '/^\[queue\]/,$d' "$T/conf"
rm -rf "$Q"
touch "$T/down"
printf 'From: sender@example.com\nTo: carol@example.com\nSubject: old\n\nold body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com || fail "old: exit $?"
rm -f "$T/down"
old=$(ls "$Q/q" | grep -v '^\.' | head -n1)
[ -n "$old" ] || fail "old: not queued"
aged=$(( ${old%%.*} - 3600 )).${old#*.}
mv "$Q/q/$old" "$Q/q/$aged"
[ -f "$Q/q/.$old.state" ] && mv "$Q/q/.$old.state" "$Q/q/.$aged.state"
before=$(count)
printf 'From: sender@example.com\nTo: carol@example.com\nSubject: new\n\nnew body\n' |
	"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com || fail "new: exit $?"
pf_wait_delivered "$PF" $((before + 2)) || fail "the old entry was not delivered by a runner the submission started"
for _ in $(seq 50); do [ "$(queued)" = 0 ] && break; sleep 0.1; done
[ "$(queued)" = 0 ] || fail "the old entry is still queued"
grep -l 'old body' $(pf_mailbox "$PF" carol@example.com) > /dev/null || fail "the old message did not arrive"
ok "a submission starts a detached runner for the user's due entries older than a minute: nobody has to run the queue"

# --- a queue directory others can read is not used ---------------------------------------
# (a queued copy may be plaintext at rest: it waits only where nobody
# else can look, and a copy that cannot wait there is not accepted)
OPENQ=$T/openq
mkdir -m 755 "$OPENQ"
printf '[queue]\nspool = %s\n' "$OPENQ" >> "$T/conf"
touch "$T/down"
printf 'From: sender@example.com\nTo: carol@example.com\nSubject: open\n\nopen body\n' > "$T/open.msg"
"$POSTSEAL" -C "$T/conf" -i -f sender@example.com carol@example.com < "$T/open.msg" 2> "$T/err"; rc=$?
rm -f "$T/down"
sed -i '/^\[queue\]/,$d' "$T/conf"
[ "$rc" = 75 ] || fail "a queue directory of mode 755: exit $rc, want 75: $(cat "$T/err")"
grep -q "$OPENQ: not a private directory" "$T/err" || fail "a queue directory of mode 755: $(cat "$T/err")"
found=$(grep -rl 'open body' "$OPENQ" 2>/dev/null)
[ -z "$found" ] || fail "the message was queued in a directory others can read: $found"
ok "a queue directory others can read is refused: exit 75, nothing written there"
