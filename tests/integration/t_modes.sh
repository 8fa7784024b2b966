#!/bin/bash
# mailq, -bp, -q and newaliases reach the real MTA (postseal keeps no queue
# of its own yet); -bs is refused plainly; --version and --help answer.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

out=$("$POSTSEAL" -C "$T/conf" -bp 2>&1) || fail "-bp exited $?: $out"
[ "$out" = "Mail queue is empty" ] || fail "-bp printed: $out"
ln -s "$POSTSEAL" "$T/mailq"
out=$("$T/mailq" -C "$T/conf" 2>&1) || fail "mailq exited $?: $out"
[ "$out" = "Mail queue is empty" ] || fail "mailq printed: $out"
ok "mailq and -bp show the MTA's queue"

# a message the private Postfix cannot deliver yet stays in its queue and
# shows in mailq: hold it with a domain the instance defers
postconf -c "$PF/etc" -e 'defer_transports = error' >/dev/null
postfix -c "$PF/etc" reload >/dev/null 2>&1
printf 'Subject: held\n\nx\n' | "$POSTSEAL" -C "$T/conf" -i -f s@example.com someone@elsewhere.invalid ||
	fail "submission failed"
for _ in $(seq 1 50); do
	out=$("$POSTSEAL" -C "$T/conf" -bp 2>&1)
	grep -q 'someone@elsewhere.invalid' <<<"$out" && break
	sleep 0.1
done
grep -q 'someone@elsewhere.invalid' <<<"$out" || fail "mailq does not show the queued message: $out"
ok "a message in the MTA's queue shows in postseal -bp"

"$POSTSEAL" -C "$T/conf" -q || fail "-q exited $?"
ok "-q runs the MTA's queue"

out=$("$POSTSEAL" -C "$T/conf" -bs < /dev/null 2>&1)
rc=$?
[ "$rc" = 69 ] || fail "-bs exited $rc, want 69"
grep -q 'not supported' <<<"$out" || fail "-bs said: $out"
ok "-bs is refused with exit 69 and a reason"

"$POSTSEAL" --version | grep -q '^postseal [0-9]' || fail "--version"
"$POSTSEAL" --help | grep -q '^usage: postseal' || fail "--help"
ok "--version and --help"
