#!/bin/bash
# tests/data/differential/habits.sh DIR - the shell-script habits of the
# differential test (issue #14): how scripts, cron jobs and web
# applications feed sendmail, written the way they do it (echo, printf,
# here documents). For each case NAME: DIR/NAME.in, the bytes on standard
# input, and DIR/NAME.args, sendmail's arguments one a line.
#
# Recipients: alice@example.org and bob@example.net have keys in the
# test's keyring (their copies are encrypted), dave@example.org too (a
# blind one); carol@example.com, erin@example.org and root have none.
set -eu
dir=${1:?usage: habits.sh DIR}
mkdir -p "$dir"

# habit NAME ARG... : the case's arguments; its input is standard input
habit() {
	local name=$1
	shift
	cat > "$dir/$name.in"
	printf '%s\n' "$@" > "$dir/$name.args"
}
two=(alice@example.org carol@example.com)

# --- no blank line between header and body
{ echo "Subject: backup report"; echo "backup finished"; echo "3 files"; } |
	habit echo-no-blank-line -i -- "${two[@]}"
printf 'Subject: x\nhello\n' | habit printf-no-blank-line -i -- "${two[@]}"
printf 'To: alice@example.org, carol@example.com\nSubject: x\nhello\n' |
	habit printf-no-blank-line-t -t -i
printf 'Subject: only a subject\n' | habit subject-only -i -- "${two[@]}"
printf 'Subject: no final newline' | habit subject-only-no-newline -i -- "${two[@]}"

# --- no header at all; a body and nothing else
echo "hello world" | habit no-header -i -- "${two[@]}"
printf 'Backup finished at 03:00, 12 files\nall is well\n' | habit body-only-colon -i -- "${two[@]}"
printf 'just a body\n\nwith an empty line\n' | habit body-only -i -- "${two[@]}"
printf '' | habit empty-message -i -- "${two[@]}"
printf '\nbody after an empty first line\n' | habit empty-first-line -i -- "${two[@]}"
printf ' indented first line\nSubject: x\n\nbody\n' | habit continuation-first -i -- "${two[@]}"
printf 'Subject: x\nX Spaced Name: y\nbody\n' | habit bad-field-name-ends-header -i -- "${two[@]}"

# --- -t, and the recipient fields
printf 'Subject: x\n\nTo: alice@example.org\nhello\n' | habit t-to-in-body -t -i
printf 'Subject: x\n\nTo: alice@example.org\nhello\n' | habit t-to-in-body-argv -t -i carol@example.com
printf 'From: s@example.com\nTo: alice@example.org\nCc: carol@example.com\nBcc: dave@example.org, erin@example.org\nSubject: cc and bcc\n\nbody\n' |
	habit t-cc-bcc -t -i -f s@example.com
printf 'From: s@example.com\nTo: alice@example.org\nSubject: fwd\nResent-From: r@example.com\nResent-To: bob@example.net\nResent-Cc: carol@example.com\nResent-Bcc: dave@example.org\n\nbody\n' |
	habit t-resent -t -i
printf 'To: root\nSubject: cron\n\nroot here\n' | habit t-bare-local -t -i
printf 'To: Alice <alice@example.org>, "Carol C." <carol@example.com>\nSubject: names\n\nb\n' |
	habit t-display-names -t -i
printf 'To:\nCc: carol@example.com\nSubject: empty To\n\nb\n' | habit t-empty-to -t -i
printf 'To: alice@example.org\nSubject: x\n\nb\n' | habit t-plus-argv -t -i carol@example.com
printf 'To: alice@example.org,\n  carol@example.com\nSubject: folded\n\nb\n' | habit t-folded-to -t -i
printf 'To: alice@example.org\nTo: carol@example.com\nSubject: two To\n\nb\n' | habit t-two-to -t -i
printf 'To: undisclosed-recipients:;\nBcc: carol@example.com\nSubject: group\n\nb\n' |
	habit t-empty-group -t -i

# --- characters and line endings
printf 'Subject: caf\xc3\xa9 \xe2\x82\xac 100\n\nna\xc3\xafve body\n' | habit utf8-subject -i -- "${two[@]}"
printf 'Subject: latin1 caf\xe9\n\nbody \xe9\n' | habit latin1-subject -i -- "${two[@]}"
printf 'From: s@example.com\r\nSubject: crlf\r\n\r\nline 1\r\nline 2\r\n' | habit crlf -i -- "${two[@]}"
printf 'From: s@example.com\r\nSubject: mixed\n\r\nline 1\nline 2\r\nline 3\n' | habit crlf-lf-mixed -i -- "${two[@]}"
printf 'Subject: stray cr\n\nline 1\rstill line 1\n' | habit stray-cr-body -i -- "${two[@]}"
# a file written with CRLF, passed through a tool that added another CR
printf 'From: s@example.com\nSubject: x\r\r\n\r\r\nline 1\r\r\n.\r\r\nafter\n' |
	habit cr-cr-lf -- "${two[@]}"
printf 'Subject: no final newline\n\nlast line' | habit no-final-newline -i -- "${two[@]}"
printf 'Subject: trailing blanks  \n\nline   \n\t\n' | habit trailing-blanks -i -- "${two[@]}"

# --- mbox and dots
printf 'From root@example.org Mon Jan  1 00:00:00 2024\nSubject: from line\n\nbody\n' |
	habit from-line -i -- "${two[@]}"
printf 'From root@example.org Mon Jan  1 00:00:00 2024\nhello\n' | habit from-line-no-header -i -- "${two[@]}"
printf 'Subject: dots\n\nbefore\n.\nafter\n' | habit dot-line-without-i -- "${two[@]}"
printf 'Subject: dots\n\nbefore\n.\nafter\n..two\n' | habit dot-line-with-i -i -- "${two[@]}"

# --- long lines
{ printf 'Subject: long body line\n\n'; head -c 10000 /dev/zero | tr '\0' x; echo; } |
	habit long-body-line -i -- "${two[@]}"
{ printf 'Subject: long header\nX-Long: '; head -c 2000 /dev/zero | tr '\0' y; printf '\n\nbody\n'; } |
	habit long-header-field -i -- "${two[@]}"

# --- address fields postseal takes nothing from
printf 'From: "broken <x@y\nSubject: broken from\n\nbody\n' | habit broken-from -i -- "${two[@]}"
printf 'From: "broken <x@y\nTo: alice@example.org\nSubject: broken from, -t\n\nbody\n' |
	habit broken-from-t -t -i
printf 'From: s@example.com\nTo: <<<\nSubject: broken To without -t\n\nbody\n' |
	habit broken-to-no-t -i -- "${two[@]}"
printf 'From: s@example.com\nReply-To: ,,,@@\nSender: x y z\nSubject: broken others\n\nb\n' |
	habit broken-reply-to -i -- "${two[@]}"

# --- the envelope: argv, -f, -F
printf 'Subject: several\n\nb\n' |
	habit argv-several -i -- alice@example.org bob@example.net carol@example.com root
printf 'Subject: bare\n\nb\n' | habit argv-bare-local -i root
printf 'Subject: names on argv\n\nb\n' | habit argv-angle -i -- '<alice@example.org>' 'Carol <carol@example.com>'
printf 'Subject: list on argv\n\nb\n' | habit argv-list -i -- 'alice@example.org, carol@example.com'
printf 'Subject: cron\n\noutput\n' | habit cron-style -F 'Cron Daemon' -i root
printf 'Subject: no -f\n\nb\n' | habit no-sender -i -- "${two[@]}"
printf 'Subject: null sender\n\nb\n' | habit null-sender -i -f '<>' -- "${two[@]}"
printf 'Subject: -f\n\nb\n' | habit sender-given -i -f s@example.com -F 'S Sender' -- "${two[@]}"
printf 'Subject: no rcpt\n\nb\n' | habit no-recipient -i
printf 'Subject: x\n\nb\n' | habit t-no-recipient -t -i

# --- fields the MTA drops or rewrites on the way in
printf 'Return-Path: <bounce@example.com>\nSubject: return path\n\nb\n' | habit return-path-in-input -i -- "${two[@]}"
printf 'Content-Length: 2\nSubject: content length\n\nb\n' | habit content-length-in-input -i -- "${two[@]}"
printf 'Subject: a\rb\nX-Stray: c\rd\n\nbody\n' | habit stray-cr-header -i -- "${two[@]}"
printf 'Subject :spaced colon\nX-Empty:\nX-No-Space:v\n\nb\n' | habit odd-fields -i -- "${two[@]}"
printf 'S\xc3\xbcbject: 8-bit name\nSubject: x\n\nb\n' | habit eight-bit-field-name -i -- "${two[@]}"

# --- what postseal refuses (each listed in expected, with its reason)
printf 'Subject: a\0b\n\nbody\n' | habit nul-in-header -i -- "${two[@]}"
printf 'Subject: nul in body\n\nbo\0dy\n' | habit nul-in-body -i -- "${two[@]}"
printf 'Subject: x\n\nb\n' | habit argv-space -i -- 'alice@exa mple.org'
printf 'Subject: x\n\nb\n' | habit argv-semicolon -i -- 'alice@example.org;reboot'
printf 'Subject: x\n\nb\n' | habit sender-double-at -i -f 'me@@example.com' -- carol@example.com
printf 'Content-Type: ;;;\nSubject: broken content type\n\nb\n' | habit broken-content-type -i -- "${two[@]}"
printf 'MIME-Version: 1.0\nContent-Type: text/html; charset=\nSubject: empty charset\n\n<p>b</p>\n' |
	habit empty-charset -i -- "${two[@]}"
printf 'From: s@example.com\nTo: alice@example.org\nSubject: fwd\nResent-From: r@example.com\n\nbody\n' |
	habit t-resent-from-only -t -i
printf 'Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <orig@example.com>\nSubject: resent by a script\nResent-To: alice@example.org\n\nb\n' |
	habit resent-with-date -i -- "${two[@]}"
{ printf 'To: alice@example.org\nSubject: long header, -t\nX-Long: '; head -c 5000 /dev/zero | tr '\0' z; printf '\n\nbody\n'; } |
	habit long-header-field-t -t -i
{ printf 'Subject: '; head -c 3000 /dev/zero | tr '\0' s; printf '\n\nbody\n'; } |
	habit long-subject -i -- "${two[@]}"
