/* The sendmail command line, against what real clients pass. */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "harness.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])) - 1)

static struct cli c;
static char why[256];

/* cli_parse() points into argv: keep a copy that outlives the macro's
 * block. */
static char *argv_copy[64];

static enum ps_status
parse(int argc, char **argv)
{
	assert_true(argc < 64);
	memcpy(argv_copy, argv, (size_t)(argc + 1) * sizeof(*argv));
	why[0] = '\0';
	return cli_parse(argc, argv_copy, &c, why, sizeof(why));
}

#define PARSE(...)                                                             \
	do {                                                                   \
		char *v_[] = {__VA_ARGS__, NULL};                              \
		st_ = parse(ARGC(v_), v_);                                     \
	} while (0)

static enum ps_status st_;

/* mutt's default: sendmail="/usr/sbin/sendmail -oem -oi", then it adds
 * -B8BITMIME, -f when use_envelope_from, -N/-R for DSN, then "--". */
static void
mutt(void **state)
{
	(void)state;
	PARSE("sendmail", "-oem", "-oi", "-B8BITMIME", "-f", "me@example.org",
	      "-N", "failure,delay", "-R", "hdrs", "--", "bob@example.org",
	      "carol@example.net");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.mode, MODE_DELIVER);
	assert_true(c.ignore_dots);
	assert_int_equal(c.errmode, 'm');
	assert_string_equal(c.sender, "me@example.org");
	assert_string_equal(c.dsn_notify, "failure,delay");
	assert_string_equal(c.dsn_ret, "hdrs");
	assert_false(c.extract);
	assert_int_equal(c.nrcpts, 2);
	assert_string_equal(c.rcpts[0], "bob@example.org");
	assert_string_equal(c.rcpts[1], "carol@example.net");
	/* -B, -N and -R are accepted and noted (-v says so), not errors */
	assert_int_equal(c.nnotes, 3);
	assert_non_null(strstr(c.notes[0], "-B 8BITMIME"));
	assert_non_null(strstr(c.notes[1], "-N failure,delay"));
}

/* git send-email with an absolute sendemail.smtpServer: "-i", then
 * "-f sender" when an envelope sender is set, then the recipients. */
static void
git_send_email(void **state)
{
	(void)state;
	PARSE("/usr/sbin/postseal", "-i", "-f", "dev@example.org",
	      "maintainer@example.org", "list@example.net");
	assert_int_equal(st_, PS_OK);
	assert_true(c.ignore_dots);
	assert_string_equal(c.sender, "dev@example.org");
	assert_int_equal(c.nrcpts, 2);
	assert_string_equal(c.rcpts[1], "list@example.net");
}

/* Debian cron: sendmail -FCronDaemon -i -B8BITMIME -oem root */
static void
cron(void **state)
{
	(void)state;
	PARSE("/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
	      "root");
	assert_int_equal(st_, PS_OK);
	assert_string_equal(c.fullname, "CronDaemon");
	assert_true(c.ignore_dots);
	assert_int_equal(c.errmode, 'm');
	assert_int_equal(c.nrcpts, 1);
	assert_string_equal(c.rcpts[0], "root");
}

/* PHP mail(): sendmail_path = "sendmail -t -i", additional_params
 * "-fwebmaster@example.org" glued to the flag. */
static void
php_mail(void **state)
{
	(void)state;
	PARSE("sendmail", "-t", "-i", "-fwebmaster@example.org");
	assert_int_equal(st_, PS_OK);
	assert_true(c.extract);
	assert_true(c.ignore_dots);
	assert_string_equal(c.sender, "webmaster@example.org");
	assert_int_equal(c.nrcpts, 0);
}

/* bsd-mailx: sendmail -i -- rcpt; s-nail adds -v with its own -v, and
 * -r sender. */
static void
mailx_and_snail(void **state)
{
	(void)state;
	PARSE("sendmail", "-i", "--", "bob@example.org");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.nrcpts, 1);

	PARSE("sendmail", "-i", "-v", "-r", "me@example.org", "--",
	      "bob@example.org");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.verbose, 1);
	assert_string_equal(c.sender, "me@example.org");
	assert_int_equal(c.nrcpts, 1);
}

static void
clustered_flags(void **state)
{
	(void)state;
	PARSE("sendmail", "-tiv", "-v", "bob@example.org");
	assert_int_equal(st_, PS_OK);
	assert_true(c.extract);
	assert_true(c.ignore_dots);
	assert_int_equal(c.verbose, 2);
	assert_int_equal(c.nrcpts, 1);

	/* a flag with its argument at the end of a cluster */
	PARSE("sendmail", "-itf", "a@example.org");
	assert_int_equal(st_, PS_OK);
	assert_string_equal(c.sender, "a@example.org");
	assert_int_equal(c.nrcpts, 0);
}

/* Every other flag Postfix's sendmail accepts is accepted and ignored. */
static void
postfix_flags_ignored(void **state)
{
	(void)state;
	PARSE("sendmail", "-A", "x", "-G", "-h", "17", "-L", "label", "-m", "-n",
	      "-O", "DeliveryMode=b", "-U", "-X", "/tmp/log", "-c", "-x", "-p",
	      "smtp:host", "-oQ/var/spool", "-V", "envid1", "-C", "/etc/x.conf",
	      "bob@example.org");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.mode, MODE_DELIVER);
	assert_string_equal(c.envid, "envid1");
	assert_string_equal(c.config, "/etc/x.conf");
	assert_int_equal(c.nrcpts, 1);
	/* A G h L m n O U X c x p oQ V: 14 notes */
	assert_int_equal(c.nnotes, 14);
}

static void
modes(void **state)
{
	(void)state;
	PARSE("mailq");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.mode, MODE_LIST_QUEUE);

	PARSE("/usr/bin/mailq", "-v");
	assert_int_equal(c.mode, MODE_LIST_QUEUE);

	PARSE("sendmail", "-bp");
	assert_int_equal(c.mode, MODE_LIST_QUEUE);

	PARSE("sendmail", "-bm", "bob@example.org");
	assert_int_equal(c.mode, MODE_DELIVER);

	PARSE("sendmail", "-bs");
	assert_int_equal(c.mode, MODE_SMTP);

	PARSE("newaliases");
	assert_int_equal(c.mode, MODE_NEWALIASES);

	PARSE("sendmail", "-I");
	assert_int_equal(c.mode, MODE_NEWALIASES);

	PARSE("sendmail", "-q");
	assert_int_equal(st_, PS_OK);
	assert_int_equal(c.mode, MODE_RUN_QUEUE);
	assert_int_equal(c.nrcpts, 0);

	PARSE("sendmail", "-qRexample.org");
	assert_int_equal(c.mode, MODE_RUN_QUEUE);
}

static void
end_of_options(void **state)
{
	(void)state;
	/* after "--" everything is a recipient, even "-t" */
	PARSE("sendmail", "--", "-t", "bob@example.org");
	assert_int_equal(st_, PS_OK);
	assert_false(c.extract);
	assert_int_equal(c.nrcpts, 2);
	assert_string_equal(c.rcpts[0], "-t");

	/* the first non-option ends the options, as Postfix does */
	PARSE("sendmail", "bob@example.org", "-t");
	assert_false(c.extract);
	assert_int_equal(c.nrcpts, 2);
}

static void
usage_errors(void **state)
{
	(void)state;
	PARSE("sendmail", "-z");
	assert_int_equal(st_, PS_USAGE);
	assert_non_null(strstr(why, "-z"));

	PARSE("sendmail", "-f");
	assert_int_equal(st_, PS_USAGE);
	assert_non_null(strstr(why, "requires an argument"));

	PARSE("sendmail", "-bd");
	assert_int_equal(st_, PS_USAGE);

	PARSE("sendmail", "-bz");
	assert_int_equal(st_, PS_USAGE);

	PARSE("sendmail", "-q30m");
	assert_int_equal(st_, PS_USAGE);

	PARSE("sendmail", "--bogus");
	assert_int_equal(st_, PS_USAGE);
}

static void
error_modes(void **state)
{
	(void)state;
	PARSE("sendmail", "-oep", "-oi", "x@example.org");
	assert_int_equal(c.errmode, 'p');
	PARSE("sendmail", "-oeq", "x@example.org");
	assert_int_equal(c.errmode, 'q');
	PARSE("sendmail", "-oee", "x@example.org");
	assert_int_equal(c.errmode, 'e');
	PARSE("sendmail", "x@example.org");
	assert_int_equal(c.errmode, 'p');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mutt),
		cmocka_unit_test(git_send_email),
		cmocka_unit_test(cron),
		cmocka_unit_test(php_mail),
		cmocka_unit_test(mailx_and_snail),
		cmocka_unit_test(clustered_flags),
		cmocka_unit_test(postfix_flags_ignored),
		cmocka_unit_test(modes),
		cmocka_unit_test(end_of_options),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(error_modes),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
