/*++
 * NAME
 *	netmod 3
 * SUMMARY
 *	load postseal-net.so on first need; forwarding stubs
 * DESCRIPTION
 *	See netmod.h. The module is opened with RTLD_NOW, so a symbol it
 *	needs from this program and this program does not export (the
 *	--dynamic-list in netmod.syms) fails the load, not a later call.
 *--*/
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dnsfetch.h"
#include "log.h"
#include "netmod.h"
#include "smtp.h"
#include "wkdfetch.h"

#ifndef PS_NETMOD_DIR
#define PS_NETMOD_DIR "/usr/local/lib/postseal"
#endif
#define NETMOD_FILE "postseal-net.so"

static struct {
	int state; /* 0 not tried, 1 loaded, -1 failed */
	char why[PS_WHY_MAX];
	struct dane_batch *(*dane_start)(char *const *, size_t, const struct dane_opts *,
					 struct lk_answer *, const unsigned char *);
	void (*dane_finish)(struct dane_batch *);
	int (*wkd_fetch_all)(char *const *, size_t, const struct wkd_opts *,
			     struct fetch_set *, struct dane_batch *);
	enum ps_status (*smtp_send)(const struct ps_config *, const char *,
				    const char *const *, size_t, int, off_t,
				    enum smtp_tls_need, struct smtp_outcome *, char *,
				    size_t);
} nm;

/* 1: loaded; 0: no module in dir; -1: a module there is unusable (err) */
static int
try_dir(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	const char *abi;
	struct stat sb;
	void *h;

	if (snprintf(path, sizeof(path), "%s/%s", dir, NETMOD_FILE) >= (int)sizeof(path))
		return 0;
	if (stat(path, &sb) != 0)
		return 0;
	/* code this process will run: not writable by anyone but its owner,
	 * and owned by root or by us */
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (sb.st_uid != 0 && sb.st_uid != geteuid())) {
		snprintf(err, errlen, "%.300s: not used: writable by others or not owned by "
			 "root", path);
		return -1;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "%s", dlerror());
		return -1;
	}
	abi = dlsym(h, "netmod_abi");
	if (abi == NULL || strcmp(abi, PS_NETMOD_ABI) != 0) {
		snprintf(err, errlen, "%.300s: interface %.40s, this program needs %s", path,
			 abi != NULL ? abi : "(none)", PS_NETMOD_ABI);
		dlclose(h);
		return -1;
	}
	*(void **)&nm.dane_start = dlsym(h, "dane_start");
	*(void **)&nm.dane_finish = dlsym(h, "dane_finish");
	*(void **)&nm.wkd_fetch_all = dlsym(h, "wkd_fetch_all");
	*(void **)&nm.smtp_send = dlsym(h, "smtp_send");
	if (nm.dane_start == NULL || nm.dane_finish == NULL || nm.wkd_fetch_all == NULL ||
	    nm.smtp_send == NULL) {
		snprintf(err, errlen, "%.300s: an entry point is missing", path);
		dlclose(h);
		return -1;
	}
	return 1; /* never closed: the process uses it until it exits */
}

enum ps_status
netmod_load(char *why, size_t whylen)
{
	char exe[PATH_MAX] = "", err1[PS_WHY_MAX] = "", err2[PS_WHY_MAX] = "";
	ssize_t n;
	int r1 = 0, r2 = 0;

	if (nm.state == 1)
		return PS_OK;
	if (nm.state == -1)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s", nm.why);
	/* the executable's own directory first: a build tree's module goes
	 * with that build's programs */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL && slash != exe) {
			*slash = '\0';
			r1 = try_dir(exe, err1, sizeof(err1));
		} else
			exe[0] = '\0';
	}
	if (r1 != 1 && strcmp(exe, PS_NETMOD_DIR) != 0)
		r2 = try_dir(PS_NETMOD_DIR, err2, sizeof(err2));
	if (r1 == 1 || r2 == 1) {
		nm.state = 1;
		return PS_OK;
	}
	nm.state = -1;
	snprintf(nm.why, sizeof(nm.why), "cannot load the network code: %s",
		 r1 == -1 ? err1
		 : r2 == -1 ? err2
			    : "postseal-net.so is not installed in " PS_NETMOD_DIR);
	return ps_fail(PS_TEMPFAIL, why, whylen, "%s", nm.why);
}

static int
loaded(void)
{
	char why[PS_WHY_MAX];

	if (netmod_load(why, sizeof(why)) == PS_OK)
		return 1;
	log_warnx("%s", why);
	return 0;
}

struct dane_batch *
dane_start(char *const *addrs, size_t n, const struct dane_opts *o,
	   struct lk_answer *out, const unsigned char *skip_dane)
{
	return loaded() ? nm.dane_start(addrs, n, o, out, skip_dane) : NULL;
}

void
dane_finish(struct dane_batch *b)
{
	if (b != NULL && loaded())
		nm.dane_finish(b);
}

int
wkd_fetch_all(char *const *addrs, size_t n, const struct wkd_opts *o,
	      struct fetch_set *fs, struct dane_batch *dane)
{
	return loaded() ? nm.wkd_fetch_all(addrs, n, o, fs, dane) : -1;
}

enum ps_status
smtp_send(const struct ps_config *cf, const char *sender, const char *const *rcpts,
	  size_t n, int fd, off_t offset, enum smtp_tls_need need,
	  struct smtp_outcome *out, char *why, size_t whylen)
{
	if (netmod_load(why, whylen) != PS_OK)
		return PS_TEMPFAIL;
	return nm.smtp_send(cf, sender, rcpts, n, fd, offset, need, out, why, whylen);
}
