#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "eolconv.h"
#include "fileio.h"
#include "log.h"
#include "smtp.h"

/* what the debug callback learns from the dialogue */
struct dialogue {
	size_t n;	    /* recipients */
	int *code;	    /* their RCPT replies */
	long rcpt_next;	    /* index of the next RCPT sent */
	long pending;	    /* RCPT awaiting its reply, -1 none */
	int in_ehlo;	    /* the last command was EHLO */
	int starttls;	    /* STARTTLS advertised */
	int requiretls;	    /* REQUIRETLS advertised */
	char last[256];	    /* the last reply line, for messages */
};

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *vd)
{
	struct dialogue *d = vd;
	const char *p = data, *end = data + size;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		d->in_ehlo = size >= 4 && strncasecmp(data, "EHLO", 4) == 0;
		if (d->in_ehlo)
			d->starttls = d->requiretls = 0; /* the new EHLO counts */
		if (size >= 8 && strncasecmp(data, "RCPT TO:", 8) == 0 &&
		    d->rcpt_next < (long)d->n)
			d->pending = d->rcpt_next++;
		return 0;
	}
	if (type != CURLINFO_HEADER_IN)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len >= 4 && isdigit((unsigned char)p[0])) {
			if (d->in_ehlo) {
				if (len >= 12 && strncasecmp(p + 4, "STARTTLS", 8) == 0)
					d->starttls = 1;
				if (len >= 14 && strncasecmp(p + 4, "REQUIRETLS", 10) == 0)
					d->requiretls = 1;
			}
			if (p[3] == ' ') { /* the last line of a reply */
				snprintf(d->last, sizeof(d->last), "%.*s",
					 (int)(len > 0 && p[len - 1] == '\r' ? len - 1 : len), p);
				if (d->pending >= 0) {
					d->code[d->pending] = (int)strtol(p, NULL, 10);
					d->pending = -1;
				}
			}
		}
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *vc)
{
	ssize_t r = eolconv_read(vc, buf, size * nitems);

	if (r > 0)
		crash_point("smtp-data");
	return r < 0 ? CURL_READFUNC_ABORT : (size_t)r;
}

/* The password: the first line password-command prints, run with execv
 * (split at blanks, no shell). */
static int
get_password(const char *cmd, char *out, size_t outlen, char *why, size_t whylen)
{
	char copy[1024], *argv[32], *save = NULL;
	int pfd[2], argc = 0, status;
	ssize_t got = 0, r;
	pid_t pid;

	snprintf(copy, sizeof(copy), "%s", cmd);
	for (char *t = strtok_r(copy, " \t", &save); t != NULL && argc < 31;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0 || pipe(pfd) < 0)
		return ps_why(why, whylen, "password-command: cannot run");
	if ((pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return ps_why(why, whylen, "password-command: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		env_child_restore(); /* e.g. "gpg --decrypt" needs the user's keyring */
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((size_t)got < outlen - 1 &&
	       (r = read(pfd[0], out + got, outlen - 1 - (size_t)got)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out[0] == '\0')
		return ps_why(why, whylen, "password-command %s failed or printed nothing",
			      argv[0]);
	return 0;
}

static CURLcode
attempt(const struct ps_config *cf, const char *sender, struct curl_slist *rcpts,
	int fd, off_t offset, off_t len, int verify, long use_ssl,
	const char *password, struct dialogue *d, char *errbuf)
{
	char url[512];
	struct eolconv ec;
	CURLcode rc;
	CURL *h;
	int port = cf->smtp_port ? cf->smtp_port : cf->smtp_tls == SMTP_IMPLICIT ? 465 : 587;

	if ((h = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	snprintf(url, sizeof(url), "%s://%s:%d", cf->smtp_tls == SMTP_IMPLICIT ? "smtps" : "smtp",
		 cf->smtp_host, port);
	eolconv_init(&ec, fd, offset + len, 1);
	ec.off = offset;
	d->rcpt_next = 0;
	d->pending = -1;
	for (size_t i = 0; i < d->n; i++)
		d->code[i] = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, (long)verify);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	/* the configured bundle, else the system's (found by configure):
	 * Debian's libcurl-gnutls has no default bundle, only a directory,
	 * which is turned off (read file by file on every connection); the
	 * OpenSSL build's default is not relied on either */
	curl_easy_setopt(h, CURLOPT_CAINFO,
			 cf->smtp_ca_file[0] != '\0' ? cf->smtp_ca_file : PS_CA_BUNDLE);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, sender);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &ec);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, d);
	if (password != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, cf->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, password);
		curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS,
				 cf->smtp_auth == SMTP_AUTH_LOGIN ? "AUTH=LOGIN" : "AUTH=PLAIN");
	}
	errbuf[0] = '\0';
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return rc;
}

static int
tls_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_USE_SSL_FAILED;
}

enum ps_status
smtp_send(const struct ps_config *cf, const char *sender, const char *const *rcpts,
	  size_t n, int fd, off_t offset, enum smtp_tls_need need,
	  struct smtp_outcome *out, char *why, size_t whylen)
{
	static int curl_ready;
	char password[512] = "", errbuf[CURL_ERROR_SIZE];
	struct curl_slist *list = NULL;
	struct dialogue d;
	struct stat sb;
	long use_ssl;
	int verify = 1, ok = 0, temp = 0;
	CURLcode rc;
	enum ps_status st;

	out->tls = out->verified = out->requiretls_offered = 0;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return ps_fail(PS_TEMPFAIL, why, whylen, "libcurl cannot start");
		curl_ready = 1;
	}
	if (need == SMTP_TLS_REQUIRED && !cf->smtp_tls_verify)
		return ps_fail(PS_UNAVAILABLE, why, whylen,
			       "this copy needs verified TLS, but [transport] tls-verify = no");
	if (fstat(fd, &sb) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "fstat: %s", strerror(errno));
	if (cf->smtp_auth != SMTP_AUTH_NONE &&
	    get_password(cf->smtp_password_command, password, sizeof(password), why,
			 whylen) < 0)
		return PS_TEMPFAIL;
	for (size_t i = 0; i < n; i++) {
		struct curl_slist *nl = curl_slist_append(list, rcpts[i]);

		if (nl == NULL) {
			curl_slist_free_all(list);
			return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		}
		list = nl;
	}
	if (need == SMTP_TLS_REQUIRED) {
		curl_slist_free_all(list);
		st = smtp_send_strict(cf, sender, rcpts, n, fd, offset,
				      password[0] ? password : NULL, out, why, whylen);
		explicit_bzero(password, sizeof(password));
		return st;
	}
	memset(&d, 0, sizeof(d));
	d.n = n;
	d.code = out->rcpt_code;
	/* STARTTLS: required for a copy that needs it and whenever AUTH is
	 * used (a password never travels in the clear); tried otherwise */
	use_ssl = (need == SMTP_TLS_REQUIRED || cf->smtp_auth != SMTP_AUTH_NONE)
			  ? CURLUSESSL_ALL
			  : CURLUSESSL_TRY;
	verify = cf->smtp_tls_verify;
	rc = attempt(cf, sender, list, fd, offset, sb.st_size - offset, verify, use_ssl,
		     password[0] ? password : NULL, &d, errbuf);
	if (tls_error(rc) && rc != CURLE_USE_SSL_FAILED && need == SMTP_TLS_OPPORTUNISTIC &&
	    verify && password[0] != '\0') {
		/* a password goes only over TLS whose certificate verified,
		 * whatever the copy's policy: whoever intercepts with a
		 * certificate of their own must not get it */
		log_warnx("%s: TLS certificate not verified (%s); AUTH is configured and the "
			  "password goes only over verified TLS: nothing sent, the copy is queued",
			  cf->smtp_host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (tls_error(rc) && rc != CURLE_USE_SSL_FAILED && need == SMTP_TLS_OPPORTUNISTIC &&
		   verify) {
		/* opportunistic: a bad certificate still beats plaintext */
		log_warnx("%s: TLS certificate not verified (%s); sending over unverified "
			  "TLS (this copy's policy allows it)",
			  cf->smtp_host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		verify = 0;
		rc = attempt(cf, sender, list, fd, offset, sb.st_size - offset, 0, use_ssl,
			     password[0] ? password : NULL, &d, errbuf);
	}
	explicit_bzero(password, sizeof(password));
	curl_slist_free_all(list);
	out->requiretls_offered = d.requiretls;
	out->tls = cf->smtp_tls == SMTP_IMPLICIT || d.starttls || rc == CURLE_OK;
	out->verified = out->tls && verify;
	for (size_t i = 0; i < n; i++) {
		if (out->rcpt_code[i] >= 200 && out->rcpt_code[i] < 300)
			ok = 1;
		else if (out->rcpt_code[i] == 0 || out->rcpt_code[i] < 500)
			temp = 1;
	}
	if (rc == CURLE_OK)
		return PS_OK;
	if (rc == CURLE_USE_SSL_FAILED)
		st = ps_fail(PS_TEMPFAIL, why, whylen,
			     "%s does not offer STARTTLS, and this copy may only go over "
			     "verified TLS; nothing sent",
			     cf->smtp_host);
	else if (tls_error(rc))
		st = ps_fail(PS_TEMPFAIL, why, whylen, "TLS with %s failed: %s; nothing sent",
			     cf->smtp_host, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (rc == CURLE_LOGIN_DENIED)
		st = ps_fail(PS_TEMPFAIL, why, whylen, "%s refused the login of %s: %s",
			     cf->smtp_host, cf->smtp_user, d.last);
	else if (!ok && !temp && d.last[0] == '5')
		st = ps_fail(PS_UNAVAILABLE, why, whylen, "%s refused: %s", cf->smtp_host,
			     d.last);
	else
		st = ps_fail(PS_TEMPFAIL, why, whylen, "%s: %s%s%s", cf->smtp_host,
			     errbuf[0] ? errbuf : curl_easy_strerror(rc), d.last[0] ? "; last reply: " : "",
			     d.last);
	return st;
}
