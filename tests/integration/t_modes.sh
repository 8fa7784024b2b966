#!/bin/bash
# mailq and -bp list postseal's own queue, -q runs it (t_queue tests the
# queue itself; t_bs tests -bs); --version and --help answer.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

export XDG_STATE_HOME=$T/state
out=$("$POSTSEAL" -C "$T/conf" -bp 2>&1) || fail "-bp exited $?: $out"
[ "$out" = "postseal: the queue is empty" ] || fail "-bp printed: $out"
ln -s "$POSTSEAL" "$T/mailq"
out=$("$T/mailq" -C "$T/conf" 2>&1) || fail "mailq exited $?: $out"
[ "$out" = "postseal: the queue is empty" ] || fail "mailq printed: $out"
ok "mailq and -bp show postseal's own queue"

"$POSTSEAL" -C "$T/conf" -q || fail "-q exited $?"
ok "-q runs postseal's queue (see t_queue)"

"$POSTSEAL" --version | grep -q '^postseal [0-9]' || fail "--version"
"$POSTSEAL" --help | grep -q '^usage: postseal' || fail "--help"
ok "--version and --help"
