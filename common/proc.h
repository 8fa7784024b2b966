/*++
 * NAME
 *	proc 3h
 * SUMMARY
 *	run a helper program with argv and execv, never a shell, under a
 *	time limit
 * DESCRIPTION
 *	proc_run_fd() forks, makes stdin_fd (rewound to offset 0) the child's
 *	standard input and our stderr its standard output (its output must
 *	never reach our stdout, which is the SMTP dialogue under -bs), puts
 *	it in a process group of its own, and execv()s path with argv. It
 *	waits for the child and stores its exit code in *code (a signal
 *	gives 128+signo, a failed exec 127).
 *
 *	With timeout_s > 0 the child may take that many seconds: then its
 *	whole process group gets SIGTERM, and SIGKILL a second later, and
 *	*code is PROC_TIMED_OUT. The wait is a pidfd in poll() (Linux 5.3),
 *	else waitpid(WNOHANG) at growing intervals.
 *
 *	This module forks and execs; it is the only one that does besides
 *	GPGME itself.
 *--*/
#ifndef PS_PROC_H
#define PS_PROC_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_TIMED_OUT (-2)

int proc_run_fd(const char *path, char *const argv[], int stdin_fd, long timeout_s,
		int *code, char *why, size_t whylen);

/* The same, with stdin_fd read from offset instead of 0. */
int proc_run_fd_at(const char *path, char *const argv[], int stdin_fd,
		   off_t offset, long timeout_s, int *code, char *why, size_t whylen);

#endif
