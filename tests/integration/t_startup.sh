#!/bin/bash
# The starting state a caller hands postseal does not reach the MTA or
# the message (postseal(8), SECURITY): whatever the caller's umask, open
# files, environment and a stderr nobody reads, the MTA runs with umask
# 077, none of the caller's descriptors and only the listed environment,
# and the message is handed off whole; spool files never have a name,
# even where O_TMPFILE is not available. The configuration file is used
# only when it is a regular file owned by root or the invoking user.
. "$SRCDIR/tests/integration/lib/common.sh" || exit 99

ps_setup alice
# a stand-in for the MTA that records what it was given: its umask, the
# files behind its descriptors (and which of them, other than the copy on
# its stdin, reads back the plaintext body), its environment, and the
# message
echo 'a-line-of-the-plaintext-body' > "$T/marker"
cat > "$T/mta" <<EOF2
#!/bin/sh
umask > "$T/mta.umask"
for f in /proc/\$\$/fd/*; do readlink "\$f"; done > "$T/mta.fds"
for f in /proc/\$\$/fd/[1-9]*; do
	[ -f "\$f" ] && grep -q -f "$T/marker" "\$f" 2>/dev/null && readlink "\$f"
done > "$T/mta.plain"
env > "$T/mta.env"
ls -A "\${TMPDIR:-/tmp}" > "$T/mta.tmpdir" 2>&1
cat > "$T/mta.msg"
EOF2
chmod 755 "$T/mta"
ps_conf "$T/mta"
printf 'From: s@example.com\nTo: alice@example.org\nSubject: start\n\n%s\n' "$(cat "$T/marker")" > "$T/in"
secret=$T/caller-secret
echo 'the caller'"'"'s own file' > "$secret"
# delivered: the MTA got alice's copy, encrypted, with the body inside
delivered() {
	[ -s "$T/mta.msg" ] || fail "$1: nothing reached the MTA"
	gpg_decrypt "$T/mta.msg" > "$T/dec" || fail "$1: the copy does not decrypt"
	tr -d '\r' < "$T/dec" > "$T/plain"
	grep -qx -f "$T/marker" "$T/plain" || fail "$1: the body is not in the copy: $(cat "$T/plain")"
	[ -s "$T/mta.plain" ] && fail "$1: the MTA of an encrypted copy can read the plaintext at: $(cat "$T/mta.plain")"
	rm -f "$T"/mta.*
}

# --- umask, descriptors, environment --------------------------------------------
(
	umask 022
	exec 7< "$secret"
	PS_CALLER_SECRET=s3cret BASH_ENV=$T/bashenv ENV=$T/shenv \
		http_proxy=http://127.0.0.1:9 PATH=$T/evil:$PATH \
		"$POSTSEAL" -C "$T/conf" -i alice@example.org < "$T/in" 2> "$T/err"
) || fail "exit $?: $(cat "$T/err")"
[ "$(cat "$T/mta.umask")" = 0077 ] || fail "the MTA runs with umask $(cat "$T/mta.umask"), not 0077"
grep -qx "$secret" "$T/mta.fds" && fail "the MTA holds the caller's open file: $(cat "$T/mta.fds")"
for v in PS_CALLER_SECRET BASH_ENV ENV http_proxy; do
	grep -q "^$v=" "$T/mta.env" && fail "$v reached the MTA"
done
grep -qx 'PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' "$T/mta.env" ||
	fail "the MTA's PATH: $(grep '^PATH=' "$T/mta.env")"
grep -qx "GNUPGHOME=$GNUPGHOME" "$T/mta.env" || fail "GNUPGHOME, which is kept, is lost"
# what postseal itself created for this user is private, whatever the umask
bad=$(find "$XDG_CACHE_HOME" ! -type l -perm /077 2>/dev/null)
[ -z "$bad" ] || fail "readable by others after a submission under umask 022: $bad"
delivered "umask 022, fd 7 open, a polluted environment"
ok "the MTA runs with umask 077, without the caller's open files, with only the listed environment"

# --- a caller that closed stderr, or stdout and stderr -------------------------
# (a closed descriptor that a spool file took would give the MTA, as its
# stdout or stderr, the plaintext)
"$POSTSEAL" -v -C "$T/conf" -i alice@example.org < "$T/in" 2>&- ||
	fail "stderr closed: exit $?"
delivered "stderr closed"
"$POSTSEAL" -v -C "$T/conf" -i alice@example.org < "$T/in" >&- 2>&- ||
	fail "stdout and stderr closed: exit $?"
delivered "stdout and stderr closed"
ok "stderr, or stdout and stderr, closed: the message is handed off whole, and the MTA gets no plaintext"

# --- a caller that stopped reading stderr (SIGPIPE) --------------------------------
rc=$(python3 - "$POSTSEAL" "$T/conf" "$T/in" <<'EOF2'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # nobody reads postseal's stderr
p = subprocess.run([sys.argv[1], "-v", "-C", sys.argv[2], "-i", "alice@example.org"],
                   stdin=open(sys.argv[3]), stdout=subprocess.DEVNULL, stderr=w)
print(p.returncode)
EOF2
)
[ "$rc" = 0 ] || fail "stderr without a reader: exit $rc, want 0"
delivered "stderr without a reader"
# the error line of a refusal that comes before GPGME starts (GPGME
# ignores SIGPIPE too, once it runs): the caller still gets the status,
# not a death by SIGPIPE (-13)
rc=$(python3 - "$POSTSEAL" "$T/missing.conf" "$T/in" <<'EOF2'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "-C", sys.argv[2], "-i", "alice@example.org"],
                   stdin=open(sys.argv[3]), stdout=subprocess.DEVNULL, stderr=w)
print(p.returncode)
EOF2
)
[ "$rc" = 78 ] || fail "a configuration error with stderr without a reader: exit $rc, want 78"
ok "a stderr nobody reads does not stop the hand-off, nor take the exit status"

# --- the configuration file ----------------------------------------------------
# a FIFO (a writer is waiting): not a regular file
mkfifo -m 600 "$T/fifo.conf"
timeout 20 cp "$T/conf" "$T/fifo.conf" 2>/dev/null &
timeout 20 "$POSTSEAL" -C "$T/fifo.conf" -i alice@example.org < "$T/in" > /dev/null 2> "$T/err"
rc=$?
kill %1 2>/dev/null
wait 2>/dev/null
[ "$rc" = 78 ] || fail "a FIFO as the configuration file: exit $rc, want 78 ($(cat "$T/err"))"
grep -q 'not a regular file' "$T/err" || fail "a FIFO: $(cat "$T/err")"
[ -e "$T/mta.msg" ] && fail "a FIFO as the configuration file: the message was sent"
# a file owned by another user (needs root to make one)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	cp "$T/conf" "$T/other.conf"
	chown nobody "$T/other.conf"
	"$POSTSEAL" -C "$T/other.conf" -i alice@example.org < "$T/in" > /dev/null 2> "$T/err"
	rc=$?
	[ "$rc" = 78 ] || fail "a configuration file owned by nobody: exit $rc, want 78 ($(cat "$T/err"))"
	grep -q 'not by root or by you' "$T/err" || fail "owned by nobody: $(cat "$T/err")"
	[ -e "$T/mta.msg" ] && fail "a configuration file owned by nobody: the message was sent"
	ok "a configuration file that is a FIFO, or owned by another user, is refused (78)"
else
	ok "a configuration file that is a FIFO is refused (78); not root: ownership not tested"
fi

# --- spool files have no name, also without O_TMPFILE -----------------------------
# A preloaded shim makes every O_TMPFILE open fail as on a file system
# without it (vfat, older NFS), so postseal takes its other way: a
# random name, removed at once. While the MTA runs and after the exit,
# TMPDIR holds nothing.
command -v "${CC:-cc}" >/dev/null || skip "no C compiler for the O_TMPFILE shim"
cat > "$T/notmpfile.c" <<'EOF2'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char mark[4096];

__attribute__((constructor)) static void init(void)
{
	const char *m = getenv("NOTMPFILE_MARK");

	if (m != NULL)
		snprintf(mark, sizeof(mark), "%s", m);
}

/* refuse O_TMPFILE as a file system without it does, and say so */
static int refused(int flags)
{
	if ((flags & O_TMPFILE) != O_TMPFILE)
		return 0;
	if (mark[0] != '\0') {
		int (*real)(const char *, int, ...) =
			(int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
		int fd = real(mark, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			(void)write(fd, "refused\n", 8);
			close(fd);
		}
	}
	errno = EOPNOTSUPP;
	return 1;
}

#define WRAP(name, ...)                                                       \
	int name(__VA_ARGS__, int flags, ...)                                 \
	{                                                                     \
		mode_t mode = 0;                                              \
		va_list ap;                                                   \
		va_start(ap, flags);                                          \
		if (flags & (O_CREAT | __O_TMPFILE))                          \
			mode = va_arg(ap, mode_t);                            \
		va_end(ap);                                                   \
		if (refused(flags))                                           \
			return -1;
WRAP(open, const char *p)
	return ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open"))(p, flags, mode);
}
WRAP(open64, const char *p)
	return ((int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64"))(p, flags, mode);
}
WRAP(openat, int dfd, const char *p)
	return ((int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat"))(dfd, p, flags, mode);
}
WRAP(openat64, int dfd, const char *p)
	return ((int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64"))(dfd, p, flags, mode);
}
EOF2
"${CC:-cc}" -shared -fPIC -o "$T/notmpfile.so" "$T/notmpfile.c" -ldl 2> "$T/cc.err" ||
	fail "cannot build the O_TMPFILE shim: $(cat "$T/cc.err")"
mkdir -m 700 "$T/spool"
# a sanitizer build must be told that its runtime need not come first
TMPDIR=$T/spool NOTMPFILE_MARK=$T/shim.mark LD_PRELOAD=$T/notmpfile.so \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	"$POSTSEAL" -C "$T/conf" -i alice@example.org < "$T/in" 2> "$T/err" ||
	fail "without O_TMPFILE: exit $?: $(cat "$T/err")"
grep -q refused "$T/shim.mark" 2>/dev/null || fail "the shim refused no O_TMPFILE open: the test tests nothing"
[ -s "$T/mta.tmpdir" ] && fail "without O_TMPFILE, TMPDIR held files while the MTA ran: $(cat "$T/mta.tmpdir")"
[ -z "$(ls -A "$T/spool")" ] || fail "without O_TMPFILE, files are left in TMPDIR: $(ls -A "$T/spool")"
delivered "without O_TMPFILE"
ok "without O_TMPFILE the spool files have no name either: TMPDIR stays empty"

# a GNUPGHOME the caller named that is not there (a volume not mounted, a
# typo) may hold keys that cannot be checked now: nothing is sent, and the
# reason says which directory (gpg itself stops there too)
rm -f "$T"/mta.*
GNUPGHOME=$T/no-such-dir "$POSTSEAL" -C "$T/conf" -i -- root@localhost < "$T/in" 2> "$T/err"
rc=$?
[ "$rc" = 75 ] || fail "GNUPGHOME naming no directory: exit $rc, want 75: $(cat "$T/err")"
grep -q "GNUPGHOME=$T/no-such-dir does not exist" "$T/err" || fail "GNUPGHOME naming no directory: the reason does not name it: $(cat "$T/err")"
[ -e "$T/mta.msg" ] && fail "GNUPGHOME naming no directory: a copy reached the MTA"
[ -e "$T/no-such-dir" ] && fail "GNUPGHOME naming no directory: postseal created it"
ok "a GNUPGHOME that names no directory: nothing sent, exit 75 with the directory named"

# a HOME that is not there (nobody's /nonexistent) is never created, not
# even by root: the keys of the run live in a private directory that is
# removed at the end
rm -f "$T"/mta.*
env -u GNUPGHOME HOME=$T/no-such-home XDG_CACHE_HOME='' XDG_STATE_HOME='' \
	"$POSTSEAL" -C "$T/conf" -i -- root@localhost < "$T/in" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || fail "HOME that does not exist: exit $rc: $(cat "$T/err")"
[ -s "$T/mta.msg" ] || fail "HOME that does not exist: nothing reached the MTA"
[ -e "$T/no-such-home" ] && fail "HOME that does not exist: postseal created it ($(find "$T/no-such-home" | head -n 5 | tr '\n' ' '))"
ok "a HOME that does not exist is not created (exit 0, the message goes on)"
