/*++
 * NAME
 *	proc 3h
 * SUMMARY
 *	run a helper program with argv and execv, never a shell
 * DESCRIPTION
 *	proc_run_fd() forks, makes stdin_fd (rewound to offset 0) the child's
 *	standard input, and execv()s path with argv; the child keeps our
 *	stdout and stderr. It waits for the child and stores its exit code
 *	in *code (a signal gives 128+signo, a failed exec 127).
 *
 *	This module forks and execs; it is the only one that does besides
 *	GPGME itself.
 *--*/
#ifndef PS_PROC_H
#define PS_PROC_H

#include <stddef.h>
#include <sys/types.h>

int proc_run_fd(const char *path, char *const argv[], int stdin_fd, int *code,
		char *why, size_t whylen);

/* The same, with stdin_fd read from offset instead of 0. */
int proc_run_fd_at(const char *path, char *const argv[], int stdin_fd,
		   off_t offset, int *code, char *why, size_t whylen);

#endif
