#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "proc.h"
#include "status.h"

int
proc_run_fd(const char *path, char *const argv[], int stdin_fd, int *code,
	    char *why, size_t whylen)
{
	return proc_run_fd_at(path, argv, stdin_fd, 0, code, why, whylen);
}

int
proc_run_fd_at(const char *path, char *const argv[], int stdin_fd, off_t offset,
	       int *code, char *why, size_t whylen)
{
	pid_t pid, w;
	int status;

	if (lseek(stdin_fd, offset, SEEK_SET) < 0)
		return ps_why(why, whylen, "lseek: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return ps_why(why, whylen, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (stdin_fd != 0) {
			if (dup2(stdin_fd, 0) < 0)
				_exit(127);
			close(stdin_fd);
		}
		signal(SIGPIPE, SIG_DFL);
		env_child_restore();
		execv(path, argv);
		_exit(127);
	}
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return ps_why(why, whylen, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		*code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*code = 128 + WTERMSIG(status);
	else
		*code = 127;
	return 0;
}
