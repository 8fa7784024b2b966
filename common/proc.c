#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "proc.h"
#include "status.h"

int
proc_run_fd(const char *path, char *const argv[], int stdin_fd, long timeout_s, int *code,
	    char *why, size_t whylen)
{
	return proc_run_fd_at(path, argv, stdin_fd, 0, timeout_s, code, why, whylen);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for pid until deadline (ms, CLOCK_MONOTONIC; 0: no limit). 1 when
 * it ended (status set), 0 at the deadline, -1 on an error. */
static int
wait_until(pid_t pid, int pidfd, long deadline, int *status)
{
	long pause_us = 200;
	pid_t w;

	for (;;) {
		long left;

		do
			w = waitpid(pid, status, deadline ? WNOHANG : 0);
		while (w < 0 && errno == EINTR);
		if (w == pid)
			return 1;
		if (w < 0)
			return -1;
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		if (pidfd >= 0) {
			struct pollfd p = {pidfd, POLLIN, 0};

			if (poll(&p, 1, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR)
				return -1;
		} else {
			struct timespec ts = {0, pause_us * 1000};

			nanosleep(&ts, NULL);
			if (pause_us < 50000)
				pause_us *= 2;
		}
	}
}

int
proc_run_fd_at(const char *path, char *const argv[], int stdin_fd, off_t offset,
	       long timeout_s, int *code, char *why, size_t whylen)
{
	pid_t pid;
	int status = 0, pidfd = -1, r;

	if (lseek(stdin_fd, offset, SEEK_SET) < 0)
		return ps_why(why, whylen, "lseek: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return ps_why(why, whylen, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* a group of its own: on a time-out, it and whatever it
		 * started are ended together */
		setpgid(0, 0);
		if (stdin_fd != 0) {
			if (dup2(stdin_fd, 0) < 0)
				_exit(127);
			close(stdin_fd);
		}
		if (dup2(2, 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		env_child_restore();
		execv(path, argv);
		_exit(127);
	}
	/* also here: the child may not have run setpgid() yet */
	setpgid(pid, pid);
#ifdef SYS_pidfd_open
	if (timeout_s > 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	r = wait_until(pid, pidfd, timeout_s > 0 ? now_ms() + timeout_s * 1000L : 0, &status);
	if (r == 0) {
		kill(-pid, SIGTERM);
		if (wait_until(pid, pidfd, now_ms() + 1000, &status) != 1) {
			kill(-pid, SIGKILL);
			wait_until(pid, pidfd, 0, &status);
		}
		/* whatever else is left of its group */
		kill(-pid, SIGKILL);
		if (pidfd >= 0)
			close(pidfd);
		*code = PROC_TIMED_OUT;
		return 0;
	}
	if (pidfd >= 0)
		close(pidfd);
	if (r < 0)
		return ps_why(why, whylen, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		*code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*code = 128 + WTERMSIG(status);
	else
		*code = 127;
	return 0;
}
