/*
 * cache.c - the local cache of what a vault holds, in SQLite. The one file
 * that includes sqlite3.h: every SQLite error becomes an sv_err here.
 *
 * The cache only mirrors the vault (packs, the chunks in them, index objects
 * already read, recovery points), so it can always be deleted and rebuilt by
 * `sysvault vault sync`. Schema, version 1:
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *       'schema' = "1"; 'vault_id' = the vault's id in hex. A cache found
 *       holding another vault id is emptied; another schema is dropped and
 *       made again.
 *   packs(id BLOB PRIMARY KEY, size INTEGER, indexed INTEGER) WITHOUT ROWID
 *       indexed = 0 until an index object names the pack.
 *   chunks(id BLOB PRIMARY KEY, pack BLOB, offset INTEGER, length INTEGER,
 *          raw_length INTEGER, flags INTEGER) WITHOUT ROWID
 *       One row per chunk id. A chunk can be stored in two packs after an
 *       interrupted backup; the first location recorded is kept.
 *   chunks_pack ON chunks(pack, offset)
 *       For the blobs of one pack (vault__cache_pack_blobs(), _del_pack()).
 *   indexes(id BLOB PRIMARY KEY) WITHOUT ROWID
 *       Index objects already loaded.
 *   points(id BLOB PRIMARY KEY, machine TEXT, time INTEGER, summary TEXT)
 *
 * journal_mode=WAL (readers run beside the writer), synchronous=NORMAL (a
 * power cut may lose the last commits, never consistency: the vault is the
 * truth), busy_timeout 10 s. Statements are prepared once at open and
 * reused; a lookup is one bind, one step, one reset.
 *
 * A vault_cache is used by one thread at a time (its statements are
 * shared); other threads open their own vault_cache_reader.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "vault_int.h"

#define CACHE_SCHEMA "1"
#define CACHE_BUSY_MS 10000

/* ---- statements ---- */

enum cache_q {
	Q_GET_META,
	Q_SET_META,
	/* The rest need the full schema. */
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_LOOKUP,
	Q_ADD_PACK,
	Q_SET_INDEXED,
	Q_HAS_PACK,
	Q_UNINDEXED,
	Q_PACK_BLOBS,
	Q_ADD_CHUNK,
	Q_DEL_PACK,
	Q_DEL_PACK_CHUNKS,
	Q_HAS_INDEX,
	Q_ADD_INDEX,
	Q_ADD_POINT,
	Q_HAS_POINT,
	Q_POINTS,
	Q_DEL_POINT,
	Q_STATS,
	Q_INDEXES,
	Q_DEL_INDEX,
	Q_COUNT
};

#define Q_FIRST_DATA Q_BEGIN

struct vault_cache {
	sqlite3 *db;
	char *path;		  /* for messages */
	sqlite3_stmt *q[Q_COUNT]; /* prepared once, reused */
};

struct vault_cache_reader {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *lookup;
};

static const char *const cache_sql[Q_COUNT] = {
	[Q_GET_META] = "SELECT value FROM meta WHERE key = ?1",
	[Q_SET_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT sv_cache",
	[Q_RELEASE] = "RELEASE sv_cache",
	[Q_ROLLBACK_TO] = "ROLLBACK TO sv_cache",
	[Q_LOOKUP] = "SELECT pack, offset, length, raw_length, flags "
		     "FROM chunks WHERE id = ?1",
	[Q_ADD_PACK] = "INSERT OR IGNORE INTO packs(id, size, indexed) "
		       "VALUES(?1, ?2, ?3)",
	[Q_SET_INDEXED] = "UPDATE packs SET indexed = 1 WHERE id = ?1",
	[Q_HAS_PACK] = "SELECT 1 FROM packs WHERE id = ?1",
	[Q_UNINDEXED] = "SELECT id, size FROM packs WHERE indexed = 0",
	[Q_PACK_BLOBS] = "SELECT id, offset, length, raw_length, flags "
			 "FROM chunks WHERE pack = ?1 ORDER BY offset",
	[Q_ADD_CHUNK] =
		"INSERT OR IGNORE INTO chunks(id, pack, offset, length, "
		"raw_length, flags) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_DEL_PACK] = "DELETE FROM packs WHERE id = ?1",
	[Q_DEL_PACK_CHUNKS] = "DELETE FROM chunks WHERE pack = ?1",
	[Q_HAS_INDEX] = "SELECT 1 FROM indexes WHERE id = ?1",
	[Q_ADD_INDEX] = "INSERT OR IGNORE INTO indexes(id) VALUES(?1)",
	[Q_ADD_POINT] = "INSERT OR IGNORE INTO points(id, machine, time, "
			"summary) VALUES(?1, ?2, ?3, ?4)",
	[Q_HAS_POINT] = "SELECT 1 FROM points WHERE id = ?1",
	[Q_POINTS] = "SELECT id, machine, time, summary FROM points "
		     "ORDER BY time, id",
	[Q_DEL_POINT] = "DELETE FROM points WHERE id = ?1",
	[Q_STATS] = "SELECT (SELECT count(*) FROM packs), "
		    "(SELECT count(*) FROM chunks), "
		    "(SELECT coalesce(sum(size), 0) FROM packs)",
	[Q_INDEXES] = "SELECT id FROM indexes",
	[Q_DEL_INDEX] = "DELETE FROM indexes WHERE id = ?1",
};

static const char cache_meta_table[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

static const char cache_tables[] =
	"CREATE TABLE IF NOT EXISTS packs(id BLOB PRIMARY KEY, size INTEGER, "
	"indexed INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS chunks(id BLOB PRIMARY KEY, pack BLOB, "
	"offset INTEGER, length INTEGER, raw_length INTEGER, flags INTEGER) "
	"WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS chunks_pack ON chunks(pack, offset);"
	"CREATE TABLE IF NOT EXISTS indexes(id BLOB PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS points(id BLOB PRIMARY KEY, machine TEXT, "
	"time INTEGER, summary TEXT);";

static const char cache_drop[] =
	"DROP TABLE IF EXISTS packs; DROP TABLE IF EXISTS chunks;"
	"DROP TABLE IF EXISTS indexes; DROP TABLE IF EXISTS points;";

static const char cache_delete[] =
	"DELETE FROM packs; DELETE FROM chunks; DELETE FROM indexes;"
	"DELETE FROM points;";

/* ---- errors ---- */

/* Converts an SQLite result code (src) into an sv_err with a message. */
static int cache_fail(sqlite3 *db, const char *path, int src)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);

	switch (src & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return sv_error_set(
			SV_ECORRUPT,
			"cache '%s' is damaged (%s): delete the file "
			"or run `sysvault vault sync` to rebuild it",
			path, msg);
	case SQLITE_FULL:
		return sv_error_set(SV_ENOSPC, "cache '%s': %s", path, msg);
	case SQLITE_NOMEM:
		return sv_error_set(SV_ENOMEM, "cache '%s': %s", path, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return sv_error_set(SV_EBUSY, "cache '%s': %s", path, msg);
	default:
		return sv_error_set(SV_EIO, "cache '%s': %s", path, msg);
	}
}

static int cache_bad_row(const vault_cache *c, const char *table)
{
	return sv_error_set(SV_ECORRUPT,
			    "cache '%s' holds a bad row in '%s': delete the "
			    "file or run `sysvault vault sync` to rebuild it",
			    c->path, table);
}

/* ---- running statements ---- */

/* Steps a statement that returns no rows (or ignores them) and resets it. */
static int run(vault_cache *c, enum cache_q q)
{
	sqlite3_stmt *st = c->q[q];
	int src = sqlite3_step(st), rc = 0;

	if (src != SQLITE_DONE && src != SQLITE_ROW)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(st);
	return rc;
}

/* As run(), for the clean-up after a failure: the first error stays. */
static void run_quietly(vault_cache *c, enum cache_q q)
{
	sqlite3_step(c->q[q]);
	sqlite3_reset(c->q[q]);
}

static int exec(vault_cache *c, const char *sql)
{
	int src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? 0 : cache_fail(c->db, c->path, src);
}

/* Binds an id; a failure is reported and the statement reset. */
static int bind_id(vault_cache *c, enum cache_q q, int i, const uint8_t *id)
{
	int src =
		sqlite3_bind_blob(c->q[q], i, id, VAULT_ID_LEN, SQLITE_STATIC);

	return src == SQLITE_OK ? 0 : cache_fail(c->db, c->path, src);
}

/* Runs q with one id bound: 1 when it returns a row, 0 when not. */
static int exists(vault_cache *c, enum cache_q q, const uint8_t *id)
{
	int rc = bind_id(c, q, 1, id), src;

	if (rc != 0)
		return rc;
	src = sqlite3_step(c->q[q]);
	if (src == SQLITE_ROW)
		rc = 1;
	else if (src != SQLITE_DONE)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(c->q[q]);
	return rc;
}

/* As run(); *changes = the rows it wrote. */
static int run_changes(vault_cache *c, enum cache_q q, int *changes)
{
	int rc = run(c, q);

	*changes = rc == 0 ? sqlite3_changes(c->db) : 0;
	return rc;
}

/* Runs q with one id bound; *changes = the rows it wrote. */
static int write_id(vault_cache *c, enum cache_q q, const uint8_t *id,
		    int *changes)
{
	int rc = bind_id(c, q, 1, id);

	return rc == 0 ? run_changes(c, q, changes) : rc;
}

/* Ends the savepoint: kept on success, undone on failure (rc returned). */
static int end_savepoint(vault_cache *c, int rc)
{
	if (rc == 0)
		return run(c, Q_RELEASE);
	run_quietly(c, Q_ROLLBACK_TO);
	run_quietly(c, Q_RELEASE);
	return rc;
}

/* A column that must be a 32-bit unsigned value; -1 when it is not. */
static int64_t column_u32(sqlite3_stmt *st, int i)
{
	int64_t v = sqlite3_column_int64(st, i);

	return v >= 0 && v <= (int64_t)UINT32_MAX ? v : -1;
}

/* Copies a 32-byte id column; 0 when it has another size. */
static int column_id(sqlite3_stmt *st, int i, uint8_t *out)
{
	const void *p = sqlite3_column_blob(st, i);

	if (!p || sqlite3_column_bytes(st, i) != VAULT_ID_LEN)
		return 0;
	memcpy(out, p, VAULT_ID_LEN);
	return 1;
}

/* Reads (offset, length, raw_length, flags) from columns first.. first+3. */
static int column_entry(sqlite3_stmt *st, int first, uint32_t *offset,
			uint32_t *length, uint32_t *raw_length, uint8_t *flags)
{
	int64_t o = column_u32(st, first), l = column_u32(st, first + 1);
	int64_t r = column_u32(st, first + 2), f = column_u32(st, first + 3);

	if (o < 0 || l < 0 || r < 0 || f < 0 || f > 0xff)
		return 0;
	*offset = (uint32_t)o;
	*length = (uint32_t)l;
	*raw_length = (uint32_t)r;
	*flags = (uint8_t)f;
	return 1;
}

/* Room for item n in arr (elem-sized items, *cap of them): arr itself or
 * a larger copy; NULL (arr untouched) when out of memory. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t want, bytes;
	void *p;

	if (n < *cap)
		return arr;
	want = *cap ? *cap : 16;
	if (sv_mul_size(&want, want, 2) != 0 ||
	    sv_mul_size(&bytes, want, elem) != 0) {
		sv_error_set(SV_ENOMEM, "cache result too large");
		return NULL;
	}
	if ((p = sv_realloc(arr, bytes)) != NULL)
		*cap = want;
	return p;
}

/* ---- opening ---- */

static int cache_connect(sqlite3 **db, const char *path, int flags)
{
	int src, rc;

	*db = NULL;
	if (!sqlite3_threadsafe())
		return sv_error_set(SV_EIO,
				    "cache '%s': SQLite was built "
				    "without thread support",
				    path);
	src = sqlite3_open_v2(path, db, flags, NULL);
	if (src != SQLITE_OK) {
		rc = cache_fail(*db, path, src);
		sqlite3_close_v2(*db);
		*db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(*db, CACHE_BUSY_MS);
	return 0;
}

static int prepare(sqlite3 *db, const char *path, const char *sql,
		   sqlite3_stmt **st)
{
	int src = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st,
				     NULL);

	return src == SQLITE_OK ? 0 : cache_fail(db, path, src);
}

static int prepare_range(vault_cache *c, int from, int to)
{
	int i, rc = 0;

	for (i = from; rc == 0 && i < to; i++)
		rc = prepare(c->db, c->path, cache_sql[i], &c->q[i]);
	return rc;
}

/* WAL is what lets a reader run beside the writer: insist on it. */
static int set_pragmas(vault_cache *c)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, src;

	if ((rc = prepare(c->db, c->path, "PRAGMA journal_mode=WAL", &st)) != 0)
		return rc;
	src = sqlite3_step(st);
	mode = src == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (src != SQLITE_ROW)
		rc = cache_fail(c->db, c->path, src);
	else if (!mode || sqlite3_stricmp((const char *)mode, "wal") != 0)
		rc = sv_error_set(SV_EIO,
				  "cache '%s': the file system does not "
				  "support SQLite's WAL mode",
				  c->path);
	sqlite3_finalize(st);
	if (rc == 0)
		rc = exec(
			c,
			"PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;");
	return rc;
}

/* Reads meta[key] into value (size bytes; "" when absent). */
static int meta_get(vault_cache *c, const char *key, char *value, size_t size)
{
	sqlite3_stmt *st = c->q[Q_GET_META];
	const unsigned char *v;
	int src, rc = 0;

	value[0] = '\0';
	if ((src = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC)) !=
	    SQLITE_OK)
		return cache_fail(c->db, c->path, src);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		sv_strlcpy(value, v ? (const char *)v : "", size);
	} else if (src != SQLITE_DONE) {
		rc = cache_fail(c->db, c->path, src);
	}
	sqlite3_reset(st);
	return rc;
}

static int meta_set(vault_cache *c, const char *key, const char *value)
{
	sqlite3_stmt *st = c->q[Q_SET_META];
	int src = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);

	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	if (src != SQLITE_OK)
		return cache_fail(c->db, c->path, src);
	return run(c, Q_SET_META);
}

/* Creates the tables; a cache of another schema version is made again. */
static int make_schema(vault_cache *c)
{
	char version[16];
	int rc;

	if ((rc = exec(c, cache_meta_table)) != 0 ||
	    (rc = prepare_range(c, 0, Q_FIRST_DATA)) != 0 ||
	    (rc = meta_get(c, "schema", version, sizeof(version))) != 0)
		return rc;
	if (strcmp(version, CACHE_SCHEMA) != 0 &&
	    ((rc = exec(c, cache_drop)) != 0 ||
	     (rc = meta_set(c, "schema", CACHE_SCHEMA)) != 0))
		return rc;
	if ((rc = exec(c, cache_tables)) != 0)
		return rc;
	return prepare_range(c, Q_FIRST_DATA, Q_COUNT);
}

/* Empties the cache when it was filled for another vault. */
static int claim(vault_cache *c, const char *vault_id)
{
	char have[VAULT_HEX_ID_LEN * 2 + 1];
	int rc;

	if ((rc = meta_get(c, "vault_id", have, sizeof(have))) != 0)
		return rc;
	if (strcmp(have, vault_id) == 0)
		return 0;
	if ((rc = exec(c, cache_delete)) != 0)
		return rc;
	return meta_set(c, "vault_id", vault_id);
}

int vault__cache_open(vault_cache **out, const char *path, const char *vault_id)
{
	vault_cache *c = NULL;
	int rc;

	*out = NULL;
	if (!path || !vault_id || !vault_id[0])
		return sv_error_set(SV_EINVAL, "cache: no path or vault id");
	if ((c = sv_calloc(1, sizeof(*c))) == NULL ||
	    (c->path = sv_strdup(path)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = cache_connect(&c->db, path,
				SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					SQLITE_OPEN_NOMUTEX)) != 0 ||
	    (rc = set_pragmas(c)) != 0 ||
	    (rc = exec(c, "BEGIN IMMEDIATE")) != 0)
		goto done;
	if ((rc = make_schema(c)) == 0 && (rc = claim(c, vault_id)) == 0)
		rc = exec(c, "COMMIT");
	if (rc != 0 && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
done:
	if (rc == 0) {
		*out = c;
		c = NULL;
	}
	vault__cache_close(c);
	return rc;
}

void vault__cache_close(vault_cache *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(c->q[i]);
	sqlite3_close_v2(c->db);
	free(c->path);
	free(c);
}

int vault__cache_clear(vault_cache *c)
{
	int rc = run(c, Q_SAVEPOINT);

	if (rc != 0)
		return rc;
	return end_savepoint(c, exec(c, cache_delete));
}

/* ---- transactions ---- */

int vault__cache_begin(vault_cache *c)
{
	return run(c, Q_BEGIN);
}

int vault__cache_commit(vault_cache *c)
{
	return run(c, Q_COMMIT);
}

/* Nothing to undo outside a transaction (SQLite may already have rolled
 * it back after an I/O error): that is not an error. */
int vault__cache_rollback(vault_cache *c)
{
	if (sqlite3_get_autocommit(c->db))
		return 0;
	return run(c, Q_ROLLBACK);
}

/* ---- packs and chunks ---- */

static int insert_pack(vault_cache *c, const uint8_t *pack_id, uint64_t size,
		       int indexed, int *added)
{
	sqlite3_stmt *st = c->q[Q_ADD_PACK];
	int src;

	*added = 0;
	if (size > (uint64_t)INT64_MAX)
		return sv_error_set(SV_EINVAL, "cache: pack size out of range");
	src = sqlite3_bind_blob(st, 1, pack_id, VAULT_ID_LEN, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int(st, 3, indexed ? 1 : 0);
	if (src != SQLITE_OK)
		return cache_fail(c->db, c->path, src);
	return run_changes(c, Q_ADD_PACK, added);
}

static int insert_chunk(vault_cache *c, const uint8_t *pack_id,
			const vault_blob_entry *e)
{
	sqlite3_stmt *st = c->q[Q_ADD_CHUNK];
	int src;

	src = sqlite3_bind_blob(st, 1, e->id, VAULT_ID_LEN, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_blob(st, 2, pack_id, VAULT_ID_LEN,
					SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 3, e->offset);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 4, e->length);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 5, e->raw_length);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int(st, 6, e->flags);
	if (src != SQLITE_OK)
		return cache_fail(c->db, c->path, src);
	return run(c, Q_ADD_CHUNK);
}

/*
 * The pack and its blobs go in together or not at all (a savepoint), so a
 * known pack always has its blobs and re-adding it can be a no-op. Re-adding
 * with indexed = 1 does mark a known pack indexed: a pack found again in an
 * index object is indexed, whatever this machine knew of it before.
 */
int vault__cache_add_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN],
			  uint64_t size, const vault_blob_entry *e,
			  uint32_t count, int indexed)
{
	uint32_t i;
	int rc, added = 0, changes;

	if ((rc = run(c, Q_SAVEPOINT)) != 0)
		return rc;
	rc = insert_pack(c, pack_id, size, indexed, &added);
	for (i = 0; rc == 0 && added && i < count; i++)
		rc = insert_chunk(c, pack_id, &e[i]);
	if (rc == 0 && !added && indexed)
		rc = write_id(c, Q_SET_INDEXED, pack_id, &changes);
	return end_savepoint(c, rc);
}

static int pack_unknown(const vault_cache *c, const uint8_t *pack_id)
{
	char hex[VAULT_HEX_ID_LEN + 1];

	sv_hex_encode(hex, pack_id, VAULT_ID_LEN);
	return sv_error_set(SV_ENOTFOUND, "cache '%s': no pack %s", c->path,
			    hex);
}

int vault__cache_mark_indexed(vault_cache *c,
			      const uint8_t pack_id[VAULT_ID_LEN])
{
	int changes = 0, rc = write_id(c, Q_SET_INDEXED, pack_id, &changes);

	if (rc == 0 && changes == 0)
		rc = pack_unknown(c, pack_id);
	return rc;
}

/*
 * A missing pack is not an error. The chunks recorded in this pack are
 * forgotten even when another pack holds a copy (only the first location
 * was kept): a later backup stores them again, `vault sync` finds the copy.
 */
int vault__cache_del_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN])
{
	int rc = run(c, Q_SAVEPOINT), changes;

	if (rc != 0)
		return rc;
	rc = write_id(c, Q_DEL_PACK_CHUNKS, pack_id, &changes);
	if (rc == 0)
		rc = write_id(c, Q_DEL_PACK, pack_id, &changes);
	return end_savepoint(c, rc);
}

int vault__cache_has_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN])
{
	return exists(c, Q_HAS_PACK, pack_id);
}

typedef struct pack_row {
	uint8_t id[VAULT_ID_LEN];
	uint64_t size;
} pack_row;

/* Reads every unindexed pack first: the callback may write to the cache. */
static int unindexed_rows(vault_cache *c, pack_row **rows, size_t *n)
{
	sqlite3_stmt *st = c->q[Q_UNINDEXED];
	pack_row *p;
	size_t cap = 0;
	int src = SQLITE_DONE, rc = 0;

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(*rows, &cap, *n, sizeof(*p))) == NULL) {
			rc = SV_ENOMEM;
			break;
		}
		*rows = p;
		p += (*n)++;
		p->size = (uint64_t)sqlite3_column_int64(st, 1);
		if (!column_id(st, 0, p->id) || sqlite3_column_int64(st, 1) < 0)
			rc = cache_bad_row(c, "packs");
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(st);
	return rc;
}

int vault__cache_unindexed(vault_cache *c, vault_pack_cb cb, void *ud)
{
	pack_row *rows = NULL;
	size_t n = 0, i;
	int rc = unindexed_rows(c, &rows, &n);

	for (i = 0; rc == 0 && i < n; i++)
		rc = cb(ud, rows[i].id, rows[i].size);
	free(rows);
	return rc;
}

/* A pack's blobs: a pack holds at most a few hundred thousand, far below
 * UINT32_MAX, so the count cannot overflow for a sane cache. */
static int read_blobs(vault_cache *c, vault_blob_entry **out, size_t *n)
{
	sqlite3_stmt *st = c->q[Q_PACK_BLOBS];
	vault_blob_entry *e;
	size_t cap = 0;
	int src = SQLITE_DONE, rc = 0;

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == UINT32_MAX)
			rc = cache_bad_row(c, "chunks");
		else if ((e = grow(*out, &cap, *n, sizeof(*e))) == NULL)
			rc = SV_ENOMEM;
		if (rc != 0)
			break;
		*out = e;
		e += (*n)++;
		if (!column_id(st, 0, e->id) ||
		    !column_entry(st, 1, &e->offset, &e->length, &e->raw_length,
				  &e->flags))
			rc = cache_bad_row(c, "chunks");
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(st);
	return rc;
}

int vault__cache_pack_blobs(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN],
			    vault_blob_entry **out, uint32_t *count)
{
	vault_blob_entry *e = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = bind_id(c, Q_PACK_BLOBS, 1, pack_id)) != 0 ||
	    (rc = read_blobs(c, &e, &n)) != 0)
		goto done;
	if (n == 0 && (rc = vault__cache_has_pack(c, pack_id)) <= 0) {
		rc = rc < 0 ? rc : pack_unknown(c, pack_id);
		goto done;
	}
	rc = 0;
	*out = e;
	*count = (uint32_t)n;
	e = NULL;
done:
	free(e);
	return rc;
}

/* ---- lookups ---- */

/* One lookup on a prepared "SELECT pack, offset, length, raw_length,
 * flags ... WHERE id = ?1" of either connection. */
static int lookup_with(sqlite3 *db, const char *path, sqlite3_stmt *st,
		       const uint8_t *id, vault_blob_loc *loc)
{
	int src = sqlite3_bind_blob(st, 1, id, VAULT_ID_LEN, SQLITE_STATIC);
	int rc = 0;

	if (src != SQLITE_OK)
		return cache_fail(db, path, src);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		if (!column_id(st, 0, loc->pack_id) ||
		    !column_entry(st, 1, &loc->offset, &loc->length,
				  &loc->raw_length, &loc->flags))
			rc = sv_error_set(SV_ECORRUPT,
					  "cache '%s' holds a bad row in "
					  "'chunks': delete the file or run "
					  "`sysvault vault sync` to rebuild it",
					  path);
	} else if (src == SQLITE_DONE) {
		/* A miss is the common answer for new data: no id in it. */
		rc = sv_error_set(SV_ENOTFOUND, "chunk not in the cache");
	} else {
		rc = cache_fail(db, path, src);
	}
	sqlite3_reset(st);
	return rc;
}

int vault__cache_lookup(vault_cache *c, const uint8_t id[VAULT_ID_LEN],
			vault_blob_loc *loc)
{
	return lookup_with(c->db, c->path, c->q[Q_LOOKUP], id, loc);
}

int vault__cache_reader_open(vault_cache_reader **out, vault_cache *c)
{
	vault_cache_reader *r = NULL;
	int rc;

	*out = NULL;
	if ((r = sv_calloc(1, sizeof(*r))) == NULL ||
	    (r->path = sv_strdup(c->path)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = cache_connect(&r->db, r->path,
				SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX)) !=
		    0 ||
	    (rc = prepare(r->db, r->path, cache_sql[Q_LOOKUP], &r->lookup)) !=
		    0)
		goto done;
	/* Readers are one per worker thread: 512 KiB of page cache each keeps
	 * the backup inside its memory budget; the OS caches the rest. */
	sqlite3_exec(r->db, "PRAGMA cache_size=-512", NULL, NULL, NULL);
	*out = r;
	r = NULL;
done:
	vault__cache_reader_close(r);
	return rc;
}

int vault__cache_reader_lookup(vault_cache_reader *r,
			       const uint8_t id[VAULT_ID_LEN],
			       vault_blob_loc *loc)
{
	return lookup_with(r->db, r->path, r->lookup, id, loc);
}

void vault__cache_reader_close(vault_cache_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->lookup);
	sqlite3_close_v2(r->db);
	free(r->path);
	free(r);
}

/* ---- index objects ---- */

int vault__cache_has_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN])
{
	return exists(c, Q_HAS_INDEX, index_id);
}

int vault__cache_add_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN])
{
	int changes;

	return write_id(c, Q_ADD_INDEX, index_id, &changes);
}

int vault__cache_del_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN])
{
	int changes;

	return write_id(c, Q_DEL_INDEX, index_id, &changes);
}

/* Reads every id first: the callback may change the table. */
int vault__cache_indexes(vault_cache *c, vault_id_cb cb, void *ud)
{
	sqlite3_stmt *st = c->q[Q_INDEXES];
	uint8_t (*ids)[VAULT_ID_LEN] = NULL, (*p)[VAULT_ID_LEN];
	size_t n = 0, cap = 0, i;
	int src = SQLITE_DONE, rc = 0;

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(ids, &cap, n, VAULT_ID_LEN)) == NULL)
			rc = SV_ENOMEM;
		else if (!column_id(st, 0, (ids = p)[n++]))
			rc = cache_bad_row(c, "indexes");
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(st);
	for (i = 0; rc == 0 && i < n; i++)
		rc = cb(ud, ids[i]);
	free(ids);
	return rc;
}

int vault__cache_forget_indexed(vault_cache *c)
{
	int rc = exec(c, "BEGIN IMMEDIATE;"
		    "DELETE FROM chunks WHERE pack IN "
		    "(SELECT id FROM packs WHERE indexed = 1);"
		    "DELETE FROM packs WHERE indexed = 1;"
		    "DELETE FROM indexes; COMMIT;");

	if (rc < 0 && !sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- recovery points ---- */

int vault__cache_add_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN],
			   const char *machine, int64_t time,
			   const char *summary_json)
{
	sqlite3_stmt *st = c->q[Q_ADD_POINT];
	int src;

	src = sqlite3_bind_blob(st, 1, point_id, VAULT_ID_LEN, SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 2, machine ? machine : "", -1,
					SQLITE_STATIC);
	if (src == SQLITE_OK)
		src = sqlite3_bind_int64(st, 3, time);
	if (src == SQLITE_OK)
		src = sqlite3_bind_text(st, 4, summary_json ? summary_json : "",
					-1, SQLITE_STATIC);
	if (src != SQLITE_OK)
		return cache_fail(c->db, c->path, src);
	return run(c, Q_ADD_POINT);
}

int vault__cache_has_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN])
{
	return exists(c, Q_HAS_POINT, point_id);
}

typedef struct point_row {
	uint8_t id[VAULT_ID_LEN];
	char *machine;
	int64_t time;
	char *summary;
} point_row;

static void free_points(point_row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(rows[i].machine);
		free(rows[i].summary);
	}
	free(rows);
}

static char *column_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return sv_strdup(t ? (const char *)t : "");
}

/* Reads every point first: the callback may delete points. */
static int point_rows(vault_cache *c, point_row **rows, size_t *n)
{
	sqlite3_stmt *st = c->q[Q_POINTS];
	point_row *p;
	size_t cap = 0;
	int src = SQLITE_DONE, rc = 0;

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if ((p = grow(*rows, &cap, *n, sizeof(*p))) == NULL) {
			rc = SV_ENOMEM;
			break;
		}
		*rows = p;
		p += (*n)++;
		p->time = sqlite3_column_int64(st, 2);
		p->machine = column_strdup(st, 1);
		p->summary = column_strdup(st, 3);
		if (!p->machine || !p->summary)
			rc = SV_ENOMEM;
		else if (!column_id(st, 0, p->id))
			rc = cache_bad_row(c, "points");
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = cache_fail(c->db, c->path, src);
	sqlite3_reset(st);
	return rc;
}

int vault__cache_points(vault_cache *c, vault_point_cb cb, void *ud)
{
	point_row *rows = NULL;
	size_t n = 0, i;
	int rc = point_rows(c, &rows, &n);

	for (i = 0; rc == 0 && i < n; i++)
		rc = cb(ud, rows[i].id, rows[i].machine, rows[i].time,
			rows[i].summary);
	free_points(rows, n);
	return rc;
}

int vault__cache_del_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN])
{
	int changes;

	return write_id(c, Q_DEL_POINT, point_id, &changes);
}

/* ---- status ---- */

int vault__cache_stats(vault_cache *c, uint64_t *packs, uint64_t *chunks,
		       uint64_t *stored_bytes)
{
	sqlite3_stmt *st = c->q[Q_STATS];
	int src = sqlite3_step(st), rc = 0;

	if (src == SQLITE_ROW) {
		*packs = (uint64_t)sqlite3_column_int64(st, 0);
		*chunks = (uint64_t)sqlite3_column_int64(st, 1);
		*stored_bytes = (uint64_t)sqlite3_column_int64(st, 2);
	} else {
		rc = cache_fail(c->db, c->path, src);
	}
	sqlite3_reset(st);
	return rc;
}
