/* The configuration file: values, and every error class with its line. */
#include "config.h"

#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "pslimits.h"
#include "harness.h"

static struct ps_config cf;
static char why[512];

static enum ps_status
parse(const char *text)
{
	config_free(&cf);
	config_defaults(&cf);
	why[0] = '\0';
	return config_parse(&cf, "t.conf", text, strlen(text), why, sizeof(why));
}

static void
good_file(void **state)
{
	(void)state;
	assert_int_equal(parse("# site file\n"
			       "\n"
			       "[transport]\n"
			       "mode = sendmail   # the only mode so far\n"
			       "  sendmail=/usr/sbin/sendmail.postfix\n"),
			 PS_OK);
	assert_string_equal(cf.sendmail, "/usr/sbin/sendmail.postfix");
	assert_int_equal(cf.sendmail_line, 5);
	assert_int_equal(cf.mode, TRANSPORT_SENDMAIL);
}

static void
defaults(void **state)
{
	(void)state;
	assert_int_equal(parse(""), PS_OK);
	assert_string_equal(cf.sendmail, PS_REAL_SENDMAIL);
	assert_int_equal(cf.sendmail_line, 0);
}

static void
errors_with_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("[transport]\nmod = sendmail\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:2:"));
	assert_non_null(strstr(why, "unknown key"));

	assert_int_equal(parse("[transport]\nmode = carrier-pigeon\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:2:"));
	assert_non_null(strstr(why, "bad value"));

	assert_int_equal(parse("[transport]\n\n[transport]\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:3:"));
	assert_non_null(strstr(why, "duplicate section"));

	assert_int_equal(parse("[transport]\nsendmail = /a\nsendmail = /b\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:3:"));
	assert_non_null(strstr(why, "duplicate key"));

	assert_int_equal(parse("[nonsense]\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:1:"));

	assert_int_equal(parse("mode = sendmail\n"), PS_CONFIG);
	assert_non_null(strstr(why, "outside"));

	assert_int_equal(parse("[transport]\nsendmail = relative/path\n"), PS_CONFIG);
	assert_non_null(strstr(why, "absolute"));

	assert_int_equal(parse("[transport]\nsendmail =\n"), PS_CONFIG);
	assert_int_equal(parse("[transport]\njust words\n"), PS_CONFIG);
	assert_int_equal(parse("[transport\n"), PS_CONFIG);
	assert_int_equal(parse("[transport]\nmode = smtp\n"), PS_CONFIG);
	assert_string_equal(why, "t.conf:2: mode = smtp needs host in [transport]");
	assert_int_equal(parse("[transport]\nmode = smtp\nhost = smtp.example.org\n"
			       "auth = plain\nuser = me\n"),
			 PS_CONFIG);
	assert_string_equal(why, "t.conf:4: auth needs user and password-command in "
				 "[transport]");
	assert_int_equal(parse("[transport]\nmode = smtp\nhost = smtp.example.org\n"
			       "port = 465\ntls = implicit\nauth = login\nuser = me\n"
			       "password-command = /usr/bin/pass show mail\n"),
			 PS_OK);
	assert_int_equal(cf.mode, TRANSPORT_SMTP);
	assert_int_equal(cf.smtp_port, 465);
	assert_int_equal(cf.smtp_tls, SMTP_IMPLICIT);
	assert_int_equal(cf.smtp_auth, SMTP_AUTH_LOGIN);
	assert_int_equal(parse("[transport]\npassword-command = pass show\n"), PS_CONFIG);
	assert_int_equal(parse("[transport]\ntls-verify = maybe\n"), PS_CONFIG);
	/* a password never goes over TLS that was not verified */
	assert_int_equal(parse("[transport]\nmode = smtp\nhost = smtp.example.org\n"
			       "tls-verify = no\nauth = plain\nuser = me\n"
			       "password-command = /usr/bin/pass show mail\n"),
			 PS_CONFIG);
	assert_string_equal(why, "t.conf:5: auth needs tls-verify = yes: a password never goes "
				 "over TLS that was not verified (set ca-file for a private CA)");
}

static void
keyfetch_section(void **state)
{
	struct pol_effective pe;

	(void)state;
	assert_int_equal(parse("[keyfetch]\nca-file = /etc/ssl/ca.pem\n"
			       "connect-to = openpgpkey.example.org:443:127.0.0.1:8443\n"
			       "[default]\nlookup-timeout = 7\n"),
			 PS_OK);
	assert_string_equal(cf.ca_file, "/etc/ssl/ca.pem");
	assert_string_equal(cf.connect_to, "openpgpkey.example.org:443:127.0.0.1:8443");
	pol_resolve(&cf.policy, NULL, "a@b.example", &pe);
	assert_int_equal(pe.v.lookup_timeout_ms, 7000);
	assert_int_equal(parse(""), PS_OK);
	pol_resolve(&cf.policy, NULL, "a@b.example", &pe);
	assert_int_equal(pe.v.lookup_timeout_ms, 5000);
	assert_int_equal(parse("[default]\nlookup-timeout = 0\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:2:"));
	assert_int_equal(parse("[default]\nlookup-timeout = 5s\n"), PS_OK);
	/* it is a policy key now, not a [keyfetch] one */
	assert_int_equal(parse("[keyfetch]\nlookup-timeout = 5\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\nca-file = relative.pem\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\nconnect-to = a;b\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\nconnect-to = a:1:127.0.0.1:2 ::127.0.0.1:3\n"), PS_OK);
	assert_int_equal(parse("[keyfetch]\n[keyfetch]\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\ndns-forwarder = 127.0.0.1@5353\n"
			       "trust-anchor = /usr/share/dns/root.key\n"),
			 PS_OK);
	assert_string_equal(cf.dns_forwarder, "127.0.0.1@5353");
	assert_string_equal(cf.trust_anchor, "/usr/share/dns/root.key");
	assert_int_equal(parse("[keyfetch]\ndns-forwarder = resolver.example\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\ntrust-anchor = root.key\n"), PS_CONFIG);
	assert_int_equal(parse("[keyfetch]\nsendmail = /x\n"), PS_CONFIG);
	assert_non_null(strstr(why, "unknown key"));
}

static void
long_line(void **state)
{
	char big[PS_CONFIG_LINE_MAX + 64];

	(void)state;
	memset(big, '#', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:1:"));
}

static void
nul_in_file(void **state)
{
	(void)state;
	config_defaults(&cf);
	assert_int_equal(config_parse(&cf, "t.conf", "[transport]\0x", 13, why,
				      sizeof(why)),
			 PS_CONFIG);
}

static void
unsafe_file(void **state)
{
	char path[] = "/tmp/ps-conf-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[transport]\n", 12), 12);
	close(fd);
	chmod(path, 0666);
	assert_int_equal(config_load(&cf, path, 0, why, sizeof(why)), PS_CONFIG);
	assert_non_null(strstr(why, "writable"));
	chmod(path, 0644);
	assert_int_equal(config_load(&cf, path, 0, why, sizeof(why)), PS_OK);
	unlink(path);
	/* missing: an error when named with -C, defaults otherwise */
	assert_int_equal(config_load(&cf, path, 0, why, sizeof(why)), PS_CONFIG);
	assert_int_equal(config_load(&cf, path, 1, why, sizeof(why)), PS_OK);
	/* a symlink is refused */
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(config_load(&cf, path, 0, why, sizeof(why)), PS_CONFIG);
	assert_non_null(strstr(why, "symbolic link"));
	unlink(path);
}

static void
default_section(void **state)
{
	struct pol_effective pe;

	(void)state;
	/* the built-in order */
	assert_int_equal(parse(""), PS_OK);
	pol_resolve(&cf.policy, NULL, "a@example.org", &pe);
	assert_int_equal(pe.v.nsources, 4);
	assert_int_equal(pe.v.sources[0], SRC_LOCAL);
	assert_int_equal(pe.v.sources[1], SRC_PINNED);
	assert_int_equal(pe.v.sources[2], SRC_DANE);
	assert_int_equal(pe.v.sources[3], SRC_WKD);
	assert_int_equal(pe.v.key_change, KC_REFUSE);
	assert_null(pe.file[PK_SOURCES]);

	assert_int_equal(parse("[default]\nsources = wkd local\nkey-change = warn\n"),
			 PS_OK);
	pol_resolve(&cf.policy, NULL, "a@example.org", &pe);
	assert_int_equal(pe.v.nsources, 2);
	assert_int_equal(pe.v.sources[0], SRC_WKD);
	assert_int_equal(pe.v.sources[1], SRC_LOCAL);
	assert_int_equal(pe.v.key_change, KC_WARN);
	assert_int_equal(pe.line[PK_KEY_CHANGE], 3);

	assert_int_equal(parse("[default]\nsources = local dane local\n"), PS_CONFIG);
	assert_string_equal(why, "t.conf:2: sources: source \"local\" named twice");
	assert_int_equal(parse("[default]\n\nsources = local ldap\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:3: sources: unknown source \"ldap\""));
	assert_int_equal(parse("[default]\nkey-change = maybe\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:2: bad value \"maybe\" for key-change"));
	assert_int_equal(parse("[default]\n[default]\n"), PS_CONFIG);
	assert_string_equal(why, "t.conf:2: duplicate section [default] (first at line 1)");
	/* a keyserver source needs its server, even when it is set later */
	assert_int_equal(parse("[default]\nsources = local hkp\n"), PS_CONFIG);
	assert_string_equal(why, "t.conf:2: source hkp needs hkp-server in [keyfetch]");
	assert_int_equal(parse("[domain x.example]\nsources = local hkp vks\n[keyfetch]\n"
			       "hkp-server = https://hkp.example\n"
			       "vks-server = https://keys.openpgp.org\n"),
			 PS_OK);
	assert_string_equal(cf.hkp_server, "https://hkp.example");
	assert_int_equal(parse("[keyfetch]\nhkp-server = hkp://hkp.example\n"), PS_CONFIG);
	assert_non_null(strstr(why, "t.conf:2: hkp-server must be an https URL"));
	config_free(&cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file),
		cmocka_unit_test(defaults),
		cmocka_unit_test(errors_with_lines),
		cmocka_unit_test(keyfetch_section),
		cmocka_unit_test(long_line),
		cmocka_unit_test(nul_in_file),
		cmocka_unit_test(unsafe_file),
		cmocka_unit_test(default_section),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
