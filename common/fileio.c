#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "status.h"

extern char **environ;

const char *
spool_dir_default(void)
{
	const char *d = getenv("TMPDIR");

	if (d != NULL && d[0] == '/')
		return d;
	return "/tmp";
}

int
spool_open(const char *dir, char *why, size_t whylen)
{
	int fd;
	unsigned char rnd[12];
	char path[4096];

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		ps_why(why, whylen, "cannot create spool file in %s: %s", dir,
		       strerror(errno));
		return -1;
	}
#endif
	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			ps_why(why, whylen, "getrandom: %s", strerror(errno));
			return -1;
		}
		snprintf(path, sizeof(path),
			 "%s/postseal.%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
			 dir, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
			 rnd[6], rnd[7], rnd[8], rnd[9], rnd[10], rnd[11]);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			unlink(path);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	ps_why(why, whylen, "cannot create spool file in %s: %s", dir,
	       strerror(errno));
	return -1;
}

int
secure_open(const char *path, int *missing, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if (missing != NULL)
		*missing = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && missing != NULL)
			*missing = 1;
		if (errno == ELOOP)
			return ps_why(why, whylen, "%s: is a symbolic link", path);
		return ps_why(why, whylen, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		ps_why(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return ps_why(why, whylen, "%s: not a regular file", path);
	}
	if (st.st_uid != 0 && st.st_uid != getuid()) {
		close(fd);
		return ps_why(why, whylen,
			      "%s: owned by uid %lu, not by root or by you", path,
			      (unsigned long)st.st_uid);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		close(fd);
		return ps_why(why, whylen,
			      "%s: group- or world-writable (mode %03o); refusing it",
			      path, (unsigned)(st.st_mode & 0777));
	}
	return fd;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
read_some(int fd, void *p, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

ssize_t
pread_some(int fd, void *p, size_t n, off_t off)
{
	for (;;) {
		ssize_t r = pread(fd, p, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

/* The variables a mail submission may legitimately depend on. Everything
 * else (LD_*, IFS, BASH_ENV, proxies, ...) is dropped so that it cannot
 * reach gpg or the MTA. */
static const char *const env_keep[] = {
	"HOME=", "USER=", "LOGNAME=", "GNUPGHOME=", "LANG=", "LC_ALL=",
	"LC_CTYPE=", "LC_MESSAGES=", "TZ=", "TMPDIR=", "XDG_CONFIG_HOME=",
	"XDG_CACHE_HOME=", "XDG_STATE_HOME=", "XDG_RUNTIME_DIR=", "MAIL_CONFIG=",
	NULL,
};

static char crash_at[32];

static struct {
	int active;
	int had;	   /* the user had GNUPGHOME set */
	char orig[4096]; /* ... to this */
} gh;

int
env_gnupghome_override(const char *dir)
{
	const char *cur = getenv("GNUPGHOME");

	if (!gh.active) {
		gh.had = cur != NULL;
		if (cur != NULL &&
		    snprintf(gh.orig, sizeof(gh.orig), "%s", cur) >= (int)sizeof(gh.orig))
			return -1;
	}
	if (setenv("GNUPGHOME", dir, 1) < 0)
		return -1;
	gh.active = 1;
	return 0;
}

const char *
env_user_gnupghome(void)
{
	const char *cur = gh.active ? (gh.had ? gh.orig : NULL) : getenv("GNUPGHOME");

	return cur != NULL && cur[0] != '\0' ? cur : NULL;
}

void
env_child_restore(void)
{
	if (!gh.active)
		return;
	if (gh.had)
		setenv("GNUPGHOME", gh.orig, 1);
	else
		unsetenv("GNUPGHOME");
}

void
crash_point(const char *stage)
{
	if (crash_at[0] != '\0' && strcmp(crash_at, stage) == 0)
		raise(SIGKILL);
}

static void
env_sanitize(void)
{
	static char *newenv[32];
	static char path[] = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	size_t n = 0;

	for (char **e = environ; e != NULL && *e != NULL; e++) {
		for (size_t k = 0; env_keep[k] != NULL; k++) {
			if (strncmp(*e, env_keep[k], strlen(env_keep[k])) == 0 &&
			    n < sizeof(newenv) / sizeof(newenv[0]) - 2) {
				newenv[n++] = *e;
				break;
			}
		}
	}
	newenv[n++] = path;
	newenv[n] = NULL;
	environ = newenv;
}

static void
fds_sanitize(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0) {
			int nfd = open("/dev/null", O_RDWR);

			if (nfd < 0)
				_exit(75);
			if (nfd != fd) {
				dup2(nfd, fd);
				close(nfd);
			}
		}
	}
	fd_close_from(3);
}

void
fd_close_from(int low)
{
#ifdef HAVE_CLOSE_RANGE
	if (close_range((unsigned)low, ~0U, 0) == 0)
		return;
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);

		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = low; fd < max; fd++)
			close(fd);
	}
}

void
process_sanitize(void)
{
	const char *at = getenv("POSTSEAL_CRASH_AT");

	if (at != NULL)
		snprintf(crash_at, sizeof(crash_at), "%s", at);
	umask(077);
	fds_sanitize();
	env_sanitize();
	signal(SIGPIPE, SIG_IGN);
}

int
mkdir_private(const char *path)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

const char *
env_home(void)
{
	const char *home = getenv("HOME");
	struct stat sb;

	if (home == NULL || home[0] != '/' || stat(home, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return NULL;
	return home;
}
