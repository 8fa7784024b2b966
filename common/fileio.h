/*++
 * NAME
 *	fileio 3h
 * SUMMARY
 *	safe file and descriptor handling
 * DESCRIPTION
 *	spool_open() creates a private file for message data: mode 0600,
 *	never reachable through a symlink, and nameless (O_TMPFILE) or
 *	unlinked at once, so that a crash leaves no plaintext behind.
 *
 *	secure_open() opens a configuration file with O_NOFOLLOW and checks
 *	the open descriptor (not the path): a regular file, owned by root or
 *	the invoking user, and neither group- nor world-writable.
 *
 *	process_sanitize() is the start-up hygiene of a front end run by
 *	anybody: umask 077, fds 0-2 open, other fds closed, environment
 *	reduced to a whitelist, SIGPIPE ignored.
 *
 *	write_all()/read_some() retry on EINTR and short transfers.
 *--*/
#ifndef PS_FILEIO_H
#define PS_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

int spool_open(const char *dir, char *why, size_t whylen);
const char *spool_dir_default(void);

int secure_open(const char *path, int *missing, char *why, size_t whylen);

int write_all(int fd, const void *p, size_t n);
ssize_t read_some(int fd, void *p, size_t n);
ssize_t pread_some(int fd, void *p, size_t n, off_t off);

void process_sanitize(void);

/* mkdir -p with mode 0700 for every directory it creates; 0 or -1
 * (errno). Existing directories are left as they are (callers check
 * ownership and mode themselves). */
int mkdir_private(const char *path);

/* $HOME when it is an absolute path to a directory that exists, else
 * NULL: a home that is not there (nobody's /nonexistent, a home not
 * mounted) is no place for postseal's files, and is never created. */
const char *env_home(void);

/* postseal's gpg runs may use its own keyring as their default home:
 * env_gnupghome_override() points GNUPGHOME there for the gpg processes
 * GPGME starts; env_child_restore(), called in a forked child before it
 * execs anything else (the MTA, a password-command), gives that child
 * the user's own GNUPGHOME (or none) back. */
int env_gnupghome_override(const char *dir);
void env_child_restore(void);

/* The caller's own GNUPGHOME (not postseal's override), or NULL when it
 * was unset or empty. */
const char *env_user_gnupghome(void);

/* Fault injection for the crash-safety tests: when the environment of
 * process_sanitize() had POSTSEAL_CRASH_AT=stage, the process kills
 * itself (SIGKILL, as kill -9 would) on reaching that stage. Stages:
 * "intake" (stdin read, nothing composed), "encrypt" (a copy being
 * encrypted), "queue-write" (queue file written, not renamed),
 * "queue-rename" (renamed, directory not yet synced), "handoff" (a
 * copy handed off, the next not yet), "smtp-data" (during SMTP DATA). */
void crash_point(const char *stage);

/* Close every descriptor from low up. */
void fd_close_from(int low);

#endif
