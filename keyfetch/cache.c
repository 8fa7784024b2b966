#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "addr.h"
#include "cache.h"
#include "store.h"

struct cache {
	sqlite3 *db;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS answer ("
	" addr TEXT NOT NULL, source TEXT NOT NULL, result TEXT NOT NULL,"
	" fpr TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '',"
	" why TEXT NOT NULL DEFAULT '', fetched INTEGER NOT NULL,"
	" expires INTEGER NOT NULL, PRIMARY KEY (addr, source));"
	"CREATE TABLE IF NOT EXISTS domain ("
	" domain TEXT NOT NULL, what TEXT NOT NULL, fetched INTEGER NOT NULL,"
	" expires INTEGER NOT NULL, PRIMARY KEY (domain, what));"
	"CREATE TABLE IF NOT EXISTS pin ("
	" addr TEXT PRIMARY KEY, fpr TEXT NOT NULL, source TEXT NOT NULL,"
	" url TEXT NOT NULL DEFAULT '', first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS memo ("
	" ring TEXT NOT NULL, addr TEXT NOT NULL, stamp TEXT NOT NULL,"
	" fpr TEXT NOT NULL, until INTEGER NOT NULL, PRIMARY KEY (ring, addr));"
	"PRAGMA user_version = 2;";
#define SCHEMA_VERSION 2

int
cache_path(char *out, size_t outlen)
{
	char dir[4096];
	char *slash;
	int n;

	if (store_path(dir, sizeof(dir)) < 0 || (slash = strrchr(dir, '/')) == NULL)
		return -1;
	*slash = '\0'; /* .../postseal/gnupg -> .../postseal */
	n = snprintf(out, outlen, "%s/cache.sqlite", dir);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
cache_key(const char *addr, char *out, size_t outlen)
{
	const char *at = strrchr(addr, '@');
	size_t len = strlen(addr);

	/* one mailbox, one key: the form policy sections and key user IDs
	 * are matched on */
	if (addr_canonical(addr, out, outlen) >= 0)
		return 0;
	/* not an address (it never reaches the network, and cannot be
	 * pinned): the domain lowercased, as it was */
	if (len >= outlen)
		return -1;
	memcpy(out, addr, len + 1);
	if (at != NULL)
		for (char *p = out + (at - addr); *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* A domain's key in the domain table: canonical, else lowercased. */
static int
cache_domain_key(const char *domain, char *out, size_t outlen)
{
	size_t len = strlen(domain);

	if (addr_canonical_domain(domain, out, outlen) >= 0)
		return 0;
	if (len >= outlen)
		return -1;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)domain[i]);
	return 0;
}

static int
schema_version(struct cache *c)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

enum ps_status
cache_open(const char *path, struct cache **cp, char *why, size_t whylen)
{
	struct cache *c = calloc(1, sizeof(*c));
	char *err = NULL;
	int rc;

	*cp = NULL;
	if (c == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	rc = sqlite3_open_v2(path, &c->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		goto fail;
	/* several postseal processes at once: wait for a writer rather than
	 * fail at once */
	sqlite3_busy_timeout(c->db, 10000);
	rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
			  NULL, NULL, &err);
	/* the schema only when it is not there yet: setting user_version
	 * is a write, and most opens only read */
	if (rc == SQLITE_OK && schema_version(c) != SCHEMA_VERSION)
		rc = sqlite3_exec(c->db, schema, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		goto fail;
	*cp = c;
	return PS_OK;
fail:
	ps_fail(PS_TEMPFAIL, why, whylen, "key cache %s: %s", path,
		err ? err : (c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc)));
	sqlite3_free(err);
	sqlite3_close(c->db);
	free(c);
	return PS_TEMPFAIL;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	free(c);
}

static sqlite3_stmt *
prep(struct cache *c, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

/* Run a statement that returns no rows, and finalize it: 0 or -1. */
static int
step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
col_text(sqlite3_stmt *s, int i, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

int
cache_get(struct cache *c, const char *addr, enum lk_source src,
	  struct cache_entry *e)
{
	char key[PS_ADDR_CANON_MAX + 1], res[16];
	sqlite3_stmt *s;
	int rc, r = -1;

	if (cache_key(addr, key, sizeof(key)) < 0 ||
	    (s = prep(c, "SELECT result, fpr, url, why, fetched, expires FROM answer"
			 " WHERE addr = ?1 AND source = ?2")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, lk_source_name(src), -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, res, sizeof(res));
		e->res = strcmp(res, "FOUND") == 0 ? LK_FOUND : LK_NOT_FOUND;
		col_text(s, 1, e->fpr, sizeof(e->fpr));
		col_text(s, 2, e->url, sizeof(e->url));
		col_text(s, 3, e->why, sizeof(e->why));
		e->fetched = (time_t)sqlite3_column_int64(s, 4);
		e->expires = (time_t)sqlite3_column_int64(s, 5);
		r = 1;
	} else if (rc == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

int
cache_put(struct cache *c, const char *addr, enum lk_source src,
	  const struct cache_entry *e)
{
	char key[PS_ADDR_CANON_MAX + 1];
	sqlite3_stmt *s;

	if (e->res != LK_FOUND && e->res != LK_NOT_FOUND)
		return 0; /* inconclusive answers are never cached */
	if (cache_key(addr, key, sizeof(key)) < 0 ||
	    (s = prep(c, "INSERT OR REPLACE INTO answer (addr, source, result, fpr,"
			 " url, why, fetched, expires) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)")) ==
		    NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, lk_source_name(src), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, lk_result_name(e->res), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)e->fetched);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)e->expires);
	return step_done(s);
}

int
cache_domain_get(struct cache *c, const char *domain, const char *what, time_t now)
{
	char key[PS_ADDR_CANON_MAX + 1];
	sqlite3_stmt *s;
	int rc, r = -1;

	if (cache_domain_key(domain, key, sizeof(key)) < 0)
		return -1;
	if ((s = prep(c, "SELECT expires FROM domain WHERE domain = ?1 AND what = ?2")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, what, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = (time_t)sqlite3_column_int64(s, 0) > now;
	else if (rc == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

int
cache_domain_put(struct cache *c, const char *domain, const char *what,
		 time_t now, time_t expires)
{
	char key[PS_ADDR_CANON_MAX + 1];
	sqlite3_stmt *s;

	if (cache_domain_key(domain, key, sizeof(key)) < 0)
		return -1;
	if ((s = prep(c, "INSERT OR REPLACE INTO domain (domain, what, fetched, expires)"
			 " VALUES (?1, ?2, ?3, ?4)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, what, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)expires);
	return step_done(s);
}

int
cache_pin_get(struct cache *c, const char *addr, struct cache_pin *p)
{
	char key[PS_ADDR_CANON_MAX + 1], src[16];
	sqlite3_stmt *s;
	int rc, r = -1;

	if (cache_key(addr, key, sizeof(key)) < 0 ||
	    (s = prep(c, "SELECT fpr, source, url, first_seen, last_seen FROM pin"
			 " WHERE addr = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, p->fpr, sizeof(p->fpr));
		col_text(s, 1, src, sizeof(src));
		/* the weakest source, should the database hold nonsense */
		p->src = lk_source_by_name(src) >= 0
				 ? (enum lk_source)lk_source_by_name(src)
				 : SRC_HKP;
		col_text(s, 2, p->url, sizeof(p->url));
		p->first_seen = (time_t)sqlite3_column_int64(s, 3);
		p->last_seen = (time_t)sqlite3_column_int64(s, 4);
		r = 1;
	} else if (rc == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

int
cache_pin_put(struct cache *c, const char *addr, const struct cache_pin *p)
{
	char key[PS_ADDR_CANON_MAX + 1];
	sqlite3_stmt *s;

	if (cache_key(addr, key, sizeof(key)) < 0 ||
	    (s = prep(c, "INSERT OR REPLACE INTO pin (addr, fpr, source, url,"
			 " first_seen, last_seen) VALUES (?1,?2,?3,?4,?5,?6)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->fpr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, lk_source_name(p->src), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)p->first_seen);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)p->last_seen);
	return step_done(s);
}

int
cache_pin_seen(struct cache *c, const char *addr, const char *fpr, time_t now)
{
	char key[PS_ADDR_CANON_MAX + 1];
	sqlite3_stmt *s;

	if (cache_key(addr, key, sizeof(key)) < 0 ||
	    (s = prep(c, "UPDATE pin SET last_seen = ?3 WHERE addr = ?1 AND fpr = ?2")) ==
		    NULL)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, fpr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)now);
	return step_done(s);
}

int
cache_flush(struct cache *c, const char *addr)
{
	char key[PS_ADDR_CANON_MAX + 1];
	const char *at;
	sqlite3_stmt *s;
	int rc = SQLITE_OK;
	static const char *const sql[] = {
		"DELETE FROM answer WHERE addr = ?1",
		"DELETE FROM pin WHERE addr = ?1",
		"DELETE FROM domain WHERE domain = ?2",
		"DELETE FROM memo WHERE addr = ?1 COLLATE NOCASE",
	};

	if (cache_key(addr, key, sizeof(key)) < 0)
		return -1;
	at = strrchr(key, '@');
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((s = prep(c, sql[i])) == NULL) {
			rc = SQLITE_ERROR;
			break;
		}
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, at ? at + 1 : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			break;
	}
	if (rc != SQLITE_DONE) {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
cache_each_address(struct cache *c, int (*fn)(const char *addr, void *arg),
		   void *arg)
{
	sqlite3_stmt *s;
	int rc, r = 0;

	if ((s = prep(c, "SELECT addr FROM pin UNION SELECT addr FROM answer"
			 " WHERE result = 'FOUND' ORDER BY 1")) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *a = sqlite3_column_text(s, 0);

		if (a != NULL && (r = fn((const char *)a, arg)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = -1;
	sqlite3_finalize(s);
	return r;
}

int
cache_begin(struct cache *c)
{
	/* IMMEDIATE: take the write lock now (waiting for other processes
	 * up to the busy timeout), so the batch cannot fail half-way */
	return sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
cache_commit(struct cache *c)
{
	return sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
cache_memo_get(struct cache *c, const char *ring, const char *stamp, const char *addr,
	       time_t now, char *fpr, size_t fprlen)
{
	sqlite3_stmt *s;
	int rc, r = -1;

	if ((s = prep(c, "SELECT fpr FROM memo WHERE ring = ?1 AND addr = ?2"
			 " AND stamp = ?3 AND until > ?4")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ring, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_text(s, 0, fpr, fprlen);
		r = 1;
	} else if (rc == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

int
cache_memo_put(struct cache *c, const char *ring, const char *stamp, const char *addr,
	       const char *fpr, time_t until)
{
	sqlite3_stmt *s;

	if ((s = prep(c, "INSERT OR REPLACE INTO memo (ring, addr, stamp, fpr, until)"
			 " VALUES (?1, ?2, ?3, ?4, ?5)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ring, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, fpr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)until);
	return step_done(s);
}
