#!/bin/bash
# Debian cron's exact submission: sendmail -FCronDaemon -i -B8BITMIME -oem
# root, with "From: root (Cron Daemon)" and "To: root"; the output of the
# job must arrive (the MTA qualifies the bare local part).
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
ps_postfix
ps_conf "$SENDMAIL"

printf 'total 0\n-rw-r--r-- 1 root root 0 Nov 23 10:00 f\n' > "$T/body"
{
	printf 'From: root (Cron Daemon)\n'
	printf 'To: root\n'
	printf 'Subject: Cron <root@host> ls -l /tmp\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=UTF-8\n'
	printf 'Content-Transfer-Encoding: 8bit\n'
	printf 'X-Cron-Env: <SHELL=/bin/sh>\n'
	printf '\n'
	cat "$T/body"
} | "$POSTSEAL" -C "$T/conf" -FCronDaemon -i -B8BITMIME -oem root 2> "$T/err" ||
	fail "postseal exited $?: $(cat "$T/err")"
ok "postseal accepted cron's message"
pf_wait_delivered "$PF" 1 || fail "the cron mail did not arrive"
R=$(mailbox root@example.org)
body_of "$R" | cmp -s "$T/body" - || fail "the job's output differs"
header_of "$R" | grep -q '^Subject: Cron <root@host> ls -l /tmp$' || fail "subject"
ok "cron's mail to root arrived with the job output intact"
