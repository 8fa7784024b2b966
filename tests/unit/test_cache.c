/* The key cache: answers with expiry, per-domain negatives, pins, flush,
 * address normalisation, and two processes writing at once. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "harness.h"
#include "keyring.h"

static char dir[] = "/tmp/ps-cache-test.XXXXXX";
static char path[256];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/cache.sqlite", dir);
	return 0;
}

static int
teardown(void **state)
{
	static const char *const files[] = {"cache.sqlite", "cache.sqlite-wal",
					    "cache.sqlite-shm", "garbage.sqlite",
					    "pubring.kbx", "trustdb.gpg", "new.kbx"};
	char f[300];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
		unlink(f);
	}
	return rmdir(dir);
}

static struct cache *
open_cache(void)
{
	struct cache *c = NULL;
	char why[512];

	assert_int_equal(cache_open(path, &c, why, sizeof(why)), PS_OK);
	return c;
}

static void
answers(void **state)
{
	struct cache *c = open_cache();
	struct cache_entry e = {0}, g;

	(void)state;
	e.res = LK_FOUND;
	snprintf(e.fpr, sizeof(e.fpr), "0123456789ABCDEF0123456789ABCDEF01234567");
	snprintf(e.url, sizeof(e.url), "https://openpgpkey.example.org/x");
	e.fetched = 1000;
	e.expires = 2000;
	assert_int_equal(cache_put(c, "Bob@Example.ORG", SRC_WKD, &e), 0);
	/* the address in its canonical form (addr_canonical()): any case,
	 * unneeded quotes, U-labels or A-labels find it */
	assert_int_equal(cache_get(c, "Bob@example.org", SRC_WKD, &g), 1);
	assert_int_equal(g.res, LK_FOUND);
	assert_string_equal(g.fpr, e.fpr);
	assert_string_equal(g.url, e.url);
	assert_int_equal(g.fetched, 1000);
	assert_int_equal(g.expires, 2000);
	assert_int_equal(cache_get(c, "bob@example.org", SRC_WKD, &g), 1);
	assert_int_equal(cache_get(c, "\"BOB\"@example.org", SRC_WKD, &g), 1);
	assert_int_equal(cache_get(c, "bobby@example.org", SRC_WKD, &g), 0);
	/* per source */
	assert_int_equal(cache_get(c, "Bob@example.org", SRC_DANE, &g), 0);
	/* inconclusive answers are never stored */
	e.res = LK_TEMPFAIL;
	assert_int_equal(cache_put(c, "carol@example.org", SRC_WKD, &e), 0);
	assert_int_equal(cache_get(c, "carol@example.org", SRC_WKD, &g), 0);
	e.res = LK_BAD;
	assert_int_equal(cache_put(c, "carol@example.org", SRC_WKD, &e), 0);
	assert_int_equal(cache_get(c, "carol@example.org", SRC_WKD, &g), 0);
	/* NOT_FOUND replaces FOUND */
	e.res = LK_NOT_FOUND;
	e.fpr[0] = '\0';
	assert_int_equal(cache_put(c, "Bob@example.org", SRC_WKD, &e), 0);
	assert_int_equal(cache_get(c, "Bob@example.org", SRC_WKD, &g), 1);
	assert_int_equal(g.res, LK_NOT_FOUND);
	assert_int_equal(cache_put(c, "x@b\xc3\xbc" "cher.example", SRC_WKD, &e), 0);
	assert_int_equal(cache_get(c, "X@XN--BCHER-KVA.example", SRC_WKD, &g), 1);
	assert_int_equal(g.res, LK_NOT_FOUND);
	cache_close(c);
}

static void
domains(void **state)
{
	struct cache *c = open_cache();

	(void)state;
	assert_int_equal(cache_domain_get(c, "example.net", "no-wkd", 100), 0);
	assert_int_equal(cache_domain_put(c, "Example.NET", "no-wkd", 100, 200), 0);
	assert_int_equal(cache_domain_get(c, "example.net", "no-wkd", 150), 1);
	/* expired */
	assert_int_equal(cache_domain_get(c, "example.net", "no-wkd", 200), 0);
	/* per kind */
	assert_int_equal(cache_domain_get(c, "example.net", "no-dnssec", 150), 0);
	/* a domain in U-labels and in A-labels is one domain */
	assert_int_equal(cache_domain_put(c, "B\xc3\x9c" "CHER.example", "no-wkd", 100, 200), 0);
	assert_int_equal(cache_domain_get(c, "xn--bcher-kva.example", "no-wkd", 150), 1);
	cache_close(c);
}

static int
count(const char *addr, void *arg)
{
	char *seen = arg;
	size_t len = strlen(seen);

	snprintf(seen + len, 512 - len, "%s ", addr);
	return 0;
}

static void
pins_and_flush(void **state)
{
	struct cache *c = open_cache();
	struct cache_pin p = {0}, g;
	struct cache_entry e = {0};
	char seen[512] = "";

	(void)state;
	assert_int_equal(cache_pin_get(c, "dave@example.com", &g), 0);
	snprintf(p.fpr, sizeof(p.fpr), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	p.src = SRC_DANE;
	p.first_seen = p.last_seen = 10;
	assert_int_equal(cache_pin_put(c, "dave@example.com", &p), 0);
	/* last_seen moves only for the pinned fingerprint */
	assert_int_equal(cache_pin_seen(c, "dave@example.com",
					"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", 50),
			 0);
	assert_int_equal(cache_pin_get(c, "dave@example.com", &g), 1);
	assert_int_equal(g.last_seen, 10);
	assert_int_equal(cache_pin_seen(c, "dave@example.com", p.fpr, 60), 0);
	assert_int_equal(cache_pin_get(c, "dave@example.com", &g), 1);
	assert_string_equal(g.fpr, p.fpr);
	assert_int_equal(g.src, SRC_DANE);
	assert_int_equal(g.first_seen, 10);
	assert_int_equal(g.last_seen, 60);

	e.res = LK_NOT_FOUND;
	e.expires = 99;
	assert_int_equal(cache_put(c, "erin@example.com", SRC_WKD, &e), 0);
	e.res = LK_FOUND;
	assert_int_equal(cache_put(c, "frank@example.com", SRC_WKD, &e), 0);
	assert_int_equal(cache_put(c, "dave@example.com", SRC_DANE, &e), 0);
	/* --refresh visits pinned and FOUND addresses, not NOT_FOUND ones */
	assert_int_equal(cache_each_address(c, count, seen), 0);
	assert_string_equal(seen, "dave@example.com frank@example.com ");

	assert_int_equal(cache_domain_put(c, "example.com", "no-dnssec", 0, 1000), 0);
	assert_int_equal(cache_pin_get(c, "DAVE@example.com", &g), 1);
	assert_int_equal(cache_flush(c, "Dave@Example.com"), 0);
	assert_int_equal(cache_pin_get(c, "dave@example.com", &g), 0);
	assert_int_equal(cache_get(c, "dave@example.com", SRC_DANE, (struct cache_entry *)&e), 0);
	assert_int_equal(cache_domain_get(c, "example.com", "no-dnssec", 5), 0);
	/* others stay */
	assert_int_equal(cache_get(c, "frank@example.com", SRC_WKD, (struct cache_entry *)&e), 1);
	cache_close(c);
}

/* two processes writing at once: every write lands (WAL, busy timeout) */
static void
concurrent(void **state)
{
	struct cache_entry e = {0}, g;
	pid_t pid;
	int status, found = 0;

	(void)state;
	e.res = LK_NOT_FOUND;
	e.expires = 1;
	pid = fork();
	assert_true(pid >= 0);
	{
		struct cache *c = open_cache();
		char a[64];

		for (int i = 0; i < 200; i++) {
			snprintf(a, sizeof(a), "%s%d@example.org", pid == 0 ? "child" : "parent",
				 i);
			if (cache_put(c, a, SRC_WKD, &e) != 0) {
				if (pid == 0)
					_exit(1);
				fail_msg("parent write %d failed", i);
			}
		}
		cache_close(c);
		if (pid == 0)
			_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		struct cache *c = open_cache();
		char a[64];

		for (int i = 0; i < 200; i++) {
			snprintf(a, sizeof(a), "child%d@example.org", i);
			found += cache_get(c, a, SRC_WKD, &g);
			snprintf(a, sizeof(a), "parent%d@example.org", i);
			found += cache_get(c, a, SRC_WKD, &g);
		}
		cache_close(c);
	}
	assert_int_equal(found, 400);
}

static void
unusable_file(void **state)
{
	struct cache *c = NULL;
	char why[512], bad[300];
	FILE *f;

	(void)state;
	snprintf(bad, sizeof(bad), "%s/garbage.sqlite", dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("this is not a database, and it is long enough to look like one's header\n", f);
	fclose(f);
	assert_int_equal(cache_open(bad, &c, why, sizeof(why)), PS_TEMPFAIL);
	assert_null(c);
	assert_non_null(strstr(why, "key cache"));
}

/* Remembered keyring lookups: they stand only under the same stamp,
 * in the same keyring, before their time runs out; "" (no key) is an
 * answer too; flush forgets them. */
static void
memo(void **state)
{
	struct cache *c = open_cache();
	char fpr[41];
	const char *alice = "0123456789ABCDEF0123456789ABCDEF01234567";

	(void)state;
	assert_int_equal(cache_memo_put(c, "/home/u/.gnupg", "S1", "alice@example.org", alice, 2000), 0);
	assert_int_equal(cache_memo_put(c, "/home/u/.gnupg", "S1", "bob@example.net", "", 2000), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "alice@example.org", 1000, fpr, sizeof(fpr)), 1);
	assert_string_equal(fpr, alice);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "bob@example.net", 1000, fpr, sizeof(fpr)), 1);
	assert_string_equal(fpr, "");
	/* another stamp, keyring, time, or local part's case: no answer */
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S2", "alice@example.org", 1000, fpr, sizeof(fpr)), 0);
	assert_int_equal(cache_memo_get(c, "/var/lib/postseal/gnupg", "S1", "alice@example.org", 1000, fpr, sizeof(fpr)), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "alice@example.org", 2000, fpr, sizeof(fpr)), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "Alice@example.org", 1000, fpr, sizeof(fpr)), 0);
	/* a new stamp replaces the old entry */
	assert_int_equal(cache_memo_put(c, "/home/u/.gnupg", "S2", "alice@example.org", "", 3000), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "alice@example.org", 1000, fpr, sizeof(fpr)), 0);
	assert_int_equal(cache_flush(c, "ALICE@EXAMPLE.ORG"), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S2", "alice@example.org", 1000, fpr, sizeof(fpr)), 0);
	assert_int_equal(cache_memo_get(c, "/home/u/.gnupg", "S1", "bob@example.net", 1000, fpr, sizeof(fpr)), 1);
	cache_close(c);
}

static void
put_file(const char *name, const char *content)
{
	char f[300];
	FILE *fp;

	snprintf(f, sizeof(f), "%s/%s", dir, name);
	assert_non_null(fp = fopen(f, "w"));
	fputs(content, fp);
	fclose(fp);
}

/* The stamp of a GnuPG home changes with any change of its keyring or
 * trust database (content, size, or the file replaced by rename), and a
 * change within the last second or two makes it "do not remember". */
static void
stamp(void **state)
{
	char s0[1024], s1[1024], s2[1024], s3[1024], s4[1024], a[300], b[300];
	time_t later = time(NULL) + 10;

	(void)state;
	assert_int_equal(keyring_stamp(dir, later, s0, sizeof(s0)), 0);
	put_file("pubring.kbx", "keys");
	assert_int_equal(keyring_stamp(dir, time(NULL), s1, sizeof(s1)), 1); /* just changed */
	assert_int_equal(keyring_stamp(dir, later, s1, sizeof(s1)), 0);
	assert_string_not_equal(s0, s1);
	put_file("pubring.kbx", "KEYS");  /* same size, same inode, new content */
	{
		/* an mtime one second on, as a coarse clock would show it */
		struct timespec ts[2] = {{0, UTIME_OMIT}, {later - 5, 0}};
		char f[300];

		snprintf(f, sizeof(f), "%s/pubring.kbx", dir);
		assert_int_equal(utimensat(AT_FDCWD, f, ts, 0), 0);
	}
	assert_int_equal(keyring_stamp(dir, later, s2, sizeof(s2)), 0);
	assert_string_not_equal(s1, s2);
	put_file("new.kbx", "KEYS");
	snprintf(a, sizeof(a), "%s/new.kbx", dir);
	snprintf(b, sizeof(b), "%s/pubring.kbx", dir);
	assert_int_equal(rename(a, b), 0); /* how gpg replaces a keybox */
	assert_int_equal(keyring_stamp(dir, later, s3, sizeof(s3)), 0);
	assert_string_not_equal(s2, s3);
	put_file("trustdb.gpg", "x");
	assert_int_equal(keyring_stamp(dir, later, s4, sizeof(s4)), 0);
	assert_string_not_equal(s3, s4);
	/* unchanged: the same stamp */
	assert_int_equal(keyring_stamp(dir, later, s0, sizeof(s0)), 0);
	assert_string_equal(s0, s4);
}

/* How long a remembered key stands: until the first (sub)key expires or
 * becomes valid after now, never past the limit. */
static void
horizon(void **state)
{
	struct _gpgme_key k;
	struct _gpgme_subkey pk, sk1, sk2;

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&sk1, 0, sizeof(sk1));
	memset(&sk2, 0, sizeof(sk2));
	k.subkeys = &pk;
	pk.next = &sk1;
	sk1.next = &sk2;
	pk.timestamp = 100;
	sk1.timestamp = 200;
	sk2.timestamp = 300;
	assert_int_equal(keyring_key_horizon(&k, 1000, 5000), 5000); /* nothing expires */
	sk1.expires = 4000;
	pk.expires = 4500;
	assert_int_equal(keyring_key_horizon(&k, 1000, 5000), 4000);
	sk2.expires = 900; /* already expired: no longer a change to come */
	assert_int_equal(keyring_key_horizon(&k, 1000, 5000), 4000);
	sk2.timestamp = 2000; /* a subkey made "in the future" becomes valid */
	assert_int_equal(keyring_key_horizon(&k, 1000, 5000), 2000);
	assert_int_equal(keyring_key_horizon(NULL, 1000, 5000), 5000);
}

/* Which key is usable for an address at a given time: a key or an
 * encryption subkey created after now is not (gpg refuses to encrypt to
 * it), and a future subkey does not count as the "newest". */
static void
usable_in_time(void **state)
{
	struct _gpgme_key k;
	struct _gpgme_subkey pk, enc, later;
	struct _gpgme_user_id uid;

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(&pk, 0, sizeof(pk));
	memset(&enc, 0, sizeof(enc));
	memset(&later, 0, sizeof(later));
	memset(&uid, 0, sizeof(uid));
	k.subkeys = &pk;
	k.uids = &uid;
	uid.email = (char *)"bob@example.org";
	pk.timestamp = 100;
	pk.can_sign = 1;
	pk.next = &enc;
	enc.timestamp = 200;
	enc.can_encrypt = 1;
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 1000), 200);
	assert_int_equal(keyring_key_usable(&k, "eve@example.org", 1000), -1);
	/* a second encryption subkey, made "in the future": not usable yet,
	 * so the older one stays the newest usable */
	enc.next = &later;
	later.timestamp = 5000;
	later.can_encrypt = 1;
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 1000), 200);
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 5000), 5000);
	/* the only encryption subkey is from the future: no usable key */
	enc.can_encrypt = 0;
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 1000), -1);
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 4999), -1);
	enc.can_encrypt = 1;
	/* a primary key from the future, even one gpg did not mark invalid */
	pk.timestamp = 1500;
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 1000), -1);
	assert_int_equal(keyring_key_usable(&k, "bob@example.org", 1500), 200);
	/* and the answer for now stands only until the future key becomes
	 * valid */
	assert_int_equal(keyring_key_horizon(&k, 1000, 1000 + 86400), 1500);
	pk.timestamp = 100;
	assert_int_equal(keyring_key_horizon(&k, 1000, 1000 + 86400), 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers),
		cmocka_unit_test(domains),
		cmocka_unit_test(pins_and_flush),
		cmocka_unit_test(concurrent),
		cmocka_unit_test(unusable_file),
		cmocka_unit_test(memo),
		cmocka_unit_test(stamp),
		cmocka_unit_test(horizon),
		cmocka_unit_test(usable_in_time),
	};

	return cmocka_run_group_tests_name("cache", tests, setup, teardown);
}
