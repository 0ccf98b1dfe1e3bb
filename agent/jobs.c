/*
 * jobs.c - the job store in <state-dir>/jobs.db. The agent's one file that
 * includes sqlite3.h: every SQLite error becomes an sv_err here.
 *
 * Each process opens its own connection (the watcher thread too); WAL lets
 * readers run beside the one writer, and writers that must decide on what
 * they read (begin: the one-backup lock) do so inside BEGIN IMMEDIATE.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "events.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_thread.h"
#include "sv_time.h"

#define JOBS_BUSY_MS 10000
#define JOBS_COLUMNS \
	"id, kind, state, started, ended, pid, heartbeat, bytes_read, " \
	"bytes_stored, error_code, message, details, cancel_requested"

struct sv_jobs {
	sqlite3 *db;
	char *path;
};

static const char jobs_schema[] =
	"CREATE TABLE IF NOT EXISTS jobs("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" started INTEGER NOT NULL,"
	" ended INTEGER,"
	" pid INTEGER NOT NULL,"
	" heartbeat INTEGER NOT NULL,"
	" bytes_read INTEGER NOT NULL DEFAULT 0,"
	" bytes_stored INTEGER NOT NULL DEFAULT 0,"
	" error_code TEXT,"
	" message TEXT,"
	" details TEXT,"
	" cancel_requested INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, kind);";

/* ---- errors and statements ---- */

static int jobs_fail(sqlite3 *db, const char *path, int src)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);

	switch (src & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return sv_error_set(SV_ECORRUPT, "job store '%s' is damaged (%s): move it "
				    "aside and sysvault starts a new one", path, msg);
	case SQLITE_FULL:
		return sv_error_set(SV_ENOSPC, "job store '%s': %s", path, msg);
	case SQLITE_NOMEM:
		return sv_error_set(SV_ENOMEM, "job store '%s': %s", path, msg);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return sv_error_set(SV_EBUSY, "job store '%s': %s", path, msg);
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_READONLY:
		return sv_error_set(SV_EACCESS, "job store '%s': %s", path, msg);
	default:
		return sv_error_set(SV_EIO, "job store '%s': %s", path, msg);
	}
}

/* SQLite answers SQLITE_BUSY without waiting in a few WAL situations
 * (another process recovering or checkpointing the WAL, a lock that the
 * busy handler may not wait for): try again for up to 10 s. */
#define JOBS_BUSY_TRIES 200
#define JOBS_BUSY_SLEEP_MS 50

static int busy(int src)
{
	return (src & 0xff) == SQLITE_BUSY || (src & 0xff) == SQLITE_LOCKED;
}

static int exec_sql(sv_jobs *s, const char *sql)
{
	int src, tries = 0;

	while (busy(src = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) &&
	       ++tries < JOBS_BUSY_TRIES)
		sv_time_sleep_ms(JOBS_BUSY_SLEEP_MS);
	return src == SQLITE_OK ? 0 : jobs_fail(s->db, s->path, src);
}

static int prepare(sv_jobs *s, const char *sql, sqlite3_stmt **st)
{
	int src = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	return src == SQLITE_OK ? 0 : jobs_fail(s->db, s->path, src);
}

/* Steps a statement that returns no row, then finalizes it. */
static int run_stmt(sv_jobs *s, sqlite3_stmt *st)
{
	int src, tries = 0, rc;

	while (busy(src = sqlite3_step(st)) && ++tries < JOBS_BUSY_TRIES) {
		sqlite3_reset(st);
		sv_time_sleep_ms(JOBS_BUSY_SLEEP_MS);
	}
	rc = src == SQLITE_DONE || src == SQLITE_ROW ? 0 : jobs_fail(s->db, s->path, src);

	sqlite3_finalize(st);
	return rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ---- open and sweep ---- */

static int jobs_connect(sv_jobs **out, const char *state_dir)
{
	sv_jobs *s = sv_calloc(1, sizeof(*s));
	int src, rc = s ? sv_fs_mkdir_p(state_dir, 1) : SV_ENOMEM;

	*out = NULL;
	if (rc == 0 && !(s->path = sv_path_join(state_dir, "jobs.db")))
		rc = SV_ENOMEM;
	if (rc == 0 && !sqlite3_threadsafe())
		rc = sv_error_set(SV_EIO, "job store: SQLite was built without thread support");
	if (rc == 0) {
		src = sqlite3_open_v2(s->path, &s->db,
				      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
		if (src != SQLITE_OK)
			rc = jobs_fail(s->db, s->path, src);
	}
	if (rc == 0) {
		sqlite3_busy_timeout(s->db, JOBS_BUSY_MS);
		rc = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
	}
	if (rc < 0) {
		sv_jobs_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The event of a job the sweep found interrupted (docs/events.md): its
 * own process could not write one. Written inside the sweep's
 * transaction: should that roll back, the next sweep reports the job
 * again. Row: id, pid, heartbeat, started, kind, bytes_read, bytes_stored. */
static void report_interrupted(sqlite3_stmt *st, int64_t now, const char *msg)
{
	int64_t started = sqlite3_column_int64(st, 3);
	sv_event_job ej = { sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 4),
			    SV_JOB_FAILED, SV_JOB_INTERRUPTED, msg,
			    now > started ? (uint64_t)(now - started) : 0,
			    (uint64_t)sqlite3_column_int64(st, 5),
			    (uint64_t)sqlite3_column_int64(st, 6) };
	sv_event ev;

	sv_event_format(&ev, &ej);
	if (sv_event_write(&ev) < 0)
		sv_log_warn("job %lld: no event written: %s", (long long)ej.id, sv_error_msg());
}

/* Fails every running job whose process is gone, whose heartbeat is stale
 * or that is too old. Runs inside the caller's transaction. */
static int sweep(sv_jobs *s)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	int64_t now = sv_time_now(), id, pid;
	int alive, src, rc = prepare(s, "SELECT id, pid, heartbeat, started, kind, bytes_read, "
				     "bytes_stored FROM jobs WHERE state = 'running'", &st);

	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		char *msg;

		id = sqlite3_column_int64(st, 0);
		pid = sqlite3_column_int64(st, 1);
		alive = sv_proc_alive(pid) && now - sqlite3_column_int64(st, 2) <= SV_JOB_STALE_S;
		if (alive && now - sqlite3_column_int64(st, 3) <= SV_JOB_MAX_AGE_S)
			continue;
		/* A job this old is failed whatever its process says: no backup
		 * runs for 30 days, and the one-backup lock must not hold forever. */
		msg = alive ? sv_aprintf("interrupted: still running after 30 days; the sysvault "
					 "process (pid %lld) is hung: end it", (long long)pid) :
			      sv_aprintf("interrupted: the sysvault process (pid %lld) ended "
					 "without finishing the job", (long long)pid);
		rc = msg ? prepare(s, "UPDATE jobs SET state = 'failed', ended = ?1, "
				   "error_code = ?2, message = ?3 WHERE id = ?4", &up) : SV_ENOMEM;
		if (rc == 0) {
			sqlite3_bind_int64(up, 1, now);
			bind_text(up, 2, SV_JOB_INTERRUPTED);
			bind_text(up, 3, msg);
			sqlite3_bind_int64(up, 4, id);
			rc = run_stmt(s, up);
			sv_log_warn("job %lld: %s", (long long)id, msg);
		}
		if (rc == 0)
			report_interrupted(st, now, msg);
		free(msg);
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = jobs_fail(s->db, s->path, src);
	sqlite3_finalize(st);
	return rc;
}

/* Runs fn inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on failure). */
static int in_transaction(sv_jobs *s, int (*fn)(sv_jobs *s, void *ud), void *ud)
{
	int rc = exec_sql(s, "BEGIN IMMEDIATE");

	if (rc < 0)
		return rc;
	rc = fn(s, ud);
	if (rc == 0)
		rc = exec_sql(s, "COMMIT");
	if (rc < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int sweep_tx(sv_jobs *s, void *ud)
{
	(void)ud;
	return sweep(s);
}

int sv_jobs_open(sv_jobs **out, const char *state_dir)
{
	int rc = jobs_connect(out, state_dir);

	if (rc == 0)
		rc = exec_sql(*out, jobs_schema);
	if (rc == 0)
		rc = in_transaction(*out, sweep_tx, NULL);
	if (rc < 0) {
		sv_jobs_close(*out);
		*out = NULL;
	}
	return rc;
}

void sv_jobs_close(sv_jobs *s)
{
	if (!s)
		return;
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

/* ---- begin, finish, cancel ---- */

typedef struct begin_ctx {
	const char *kind;
	const char *details;
	int64_t id;
} begin_ctx;

/* SV_EBUSY when a backup job, or a cache move (which takes the staging
 * volume away), of a live process is running. */
static int refuse_second_backup(sv_jobs *s)
{
	sqlite3_stmt *st = NULL;
	char since[32];
	int rc = prepare(s, "SELECT id, pid, started, kind FROM jobs WHERE state = 'running' "
			 "AND kind IN ('backup', 'cache') ORDER BY id LIMIT 1", &st);

	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		sv_time_format_utc(since, sizeof(since), sqlite3_column_int64(st, 2));
		rc = sv_error_set(SV_EBUSY, "%s: job %lld (pid %lld) since %s",
				  strcmp((const char *)sqlite3_column_text(st, 3), "cache") ?
				  "a backup is already running" :
				  "the scratch folder is being moved ('sysvault cache move')",
				  (long long)sqlite3_column_int64(st, 0),
				  (long long)sqlite3_column_int64(st, 1), since);
	}
	sqlite3_finalize(st);
	return rc;
}

/* SV_EBUSY when any job of a live process is running: a cache move runs
 * alone (a backup writes the staging volume, a seeding copy reads the
 * machine's state). */
static int refuse_beside_any(sv_jobs *s)
{
	sqlite3_stmt *st = NULL;
	char since[32];
	int rc = prepare(s, "SELECT id, pid, started, kind FROM jobs WHERE state = 'running' "
			 "ORDER BY id LIMIT 1", &st);

	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		sv_time_format_utc(since, sizeof(since), sqlite3_column_int64(st, 2));
		rc = sv_error_set(SV_EBUSY, "job %lld (%s, pid %lld) is running since %s: wait "
				  "for it to end (--wait) or cancel it ('sysvault jobs cancel %lld')",
				  (long long)sqlite3_column_int64(st, 0),
				  (const char *)sqlite3_column_text(st, 3),
				  (long long)sqlite3_column_int64(st, 1), since,
				  (long long)sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	return rc;
}

static int begin_tx(sv_jobs *s, void *ud)
{
	begin_ctx *b = ud;
	sqlite3_stmt *st = NULL;
	int64_t now = sv_time_now();
	int rc = sweep(s);

	if (rc == 0 && !strcmp(b->kind, "backup"))
		rc = refuse_second_backup(s);
	if (rc == 0 && !strcmp(b->kind, "cache"))
		rc = refuse_beside_any(s);
	if (rc == 0)
		rc = prepare(s, "INSERT INTO jobs(kind, state, started, pid, heartbeat, details) "
			     "VALUES(?1, 'running', ?2, ?3, ?2, ?4)", &st);
	if (rc < 0)
		return rc;
	bind_text(st, 1, b->kind);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, sv_proc_self());
	bind_text(st, 4, b->details);
	rc = run_stmt(s, st);
	b->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

int sv_jobs_begin(sv_jobs *s, const char *kind, const json_t *details, int64_t *id)
{
	begin_ctx b = { kind, NULL, 0 };
	char *text = details ? sv_json_dump(details, 0) : NULL;
	int rc;

	if (details && !text)
		return SV_ENOMEM;
	b.details = text;
	rc = in_transaction(s, begin_tx, &b);
	free(text);
	*id = rc == 0 ? b.id : 0;
	return rc;
}

int sv_jobs_finish(sv_jobs *s, int64_t id, const sv_job_end *e)
{
	sqlite3_stmt *st = NULL;
	char *msg = e->message ? sv_strdup(e->message) : NULL;
	char *details = e->details ? sv_json_dump(e->details, 0) : NULL;
	char *nl;
	int rc = (e->message && !msg) || (e->details && !details) ? SV_ENOMEM : 0;

	if (rc == 0 && msg) {
		sv_redact(msg);
		if ((nl = strpbrk(msg, "\r\n")) != NULL)
			*nl = '\0';   /* one line: the rest is in the log */
	}
	if (rc == 0)
		rc = prepare(s, "UPDATE jobs SET state = ?1, ended = ?2, error_code = ?3, "
			     "message = ?4, details = coalesce(?5, details), bytes_read = ?6, "
			     "bytes_stored = ?7 WHERE id = ?8", &st);
	if (rc == 0) {
		bind_text(st, 1, e->state);
		sqlite3_bind_int64(st, 2, sv_time_now());
		bind_text(st, 3, e->code);
		bind_text(st, 4, msg);
		bind_text(st, 5, details);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)e->bytes_read);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)e->bytes_stored);
		sqlite3_bind_int64(st, 8, id);
		rc = run_stmt(s, st);
	}
	free(msg);
	free(details);
	return rc;
}

int sv_jobs_cancel(sv_jobs *s, int64_t id)
{
	sqlite3_stmt *st = NULL;
	json_t *j = NULL;
	int rc = prepare(s, "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND "
			 "state IN ('queued', 'running')", &st);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = run_stmt(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0 && (rc = sv_jobs_get(s, id, &j)) == 0)
		rc = sv_error_set(SV_EINVAL, "job %lld is not running (its state: %s)", (long long)id,
				  json_string_value(json_object_get(j, "state")));
	json_decref(j);
	return rc;
}

/* ---- reading ---- */

static json_t *time_or_null(sqlite3_stmt *st, int col)
{
	char t[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	sv_time_format_utc(t, sizeof(t), sqlite3_column_int64(st, col));
	return json_string(t);
}

static json_t *text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	return v ? json_string((const char *)v) : json_null();
}

static json_t *details_of(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	json_t *j = NULL;

	if (!v || sv_json_parse(&j, v, strlen(v), "job details") < 0)
		return json_object();
	return j;
}

/* The current row as the JSON object sv_jobs_get() documents. */
static json_t *row_json(sqlite3_stmt *st)
{
	json_t *j = json_object();

	if (!j || sv_json_set(j, "id", json_integer(sqlite3_column_int64(st, 0))) ||
	    sv_json_set(j, "kind", text_or_null(st, 1)) ||
	    sv_json_set(j, "state", text_or_null(st, 2)) ||
	    sv_json_set(j, "started", time_or_null(st, 3)) ||
	    sv_json_set(j, "ended", time_or_null(st, 4)) ||
	    sv_json_set(j, "pid", json_integer(sqlite3_column_int64(st, 5))) ||
	    sv_json_set(j, "heartbeat", time_or_null(st, 6)) ||
	    sv_json_set(j, "bytes_read", json_integer(sqlite3_column_int64(st, 7))) ||
	    sv_json_set(j, "bytes_stored", json_integer(sqlite3_column_int64(st, 8))) ||
	    sv_json_set(j, "error_code", text_or_null(st, 9)) ||
	    sv_json_set(j, "message", text_or_null(st, 10)) ||
	    sv_json_set(j, "details", details_of(st, 11)) ||
	    sv_json_set(j, "cancel_requested", json_boolean(sqlite3_column_int(st, 12)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int sv_jobs_list(sv_jobs *s, unsigned limit, json_t **out)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array(), *row;
	int src = SQLITE_DONE;
	int rc = arr ? prepare(s, "SELECT " JOBS_COLUMNS " FROM jobs ORDER BY id DESC "
			       "LIMIT ?1", &st) : SV_ENOMEM;

	if (rc == 0)
		sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(row = row_json(st)) || json_array_append_new(arr, row) < 0)
			rc = SV_ENOMEM;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = jobs_fail(s->db, s->path, src);
	sqlite3_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		arr = NULL;
	}
	*out = arr;
	return rc;
}

int sv_jobs_get(sv_jobs *s, int64_t id, json_t **out)
{
	sqlite3_stmt *st = NULL;
	int src, rc = prepare(s, "SELECT " JOBS_COLUMNS " FROM jobs WHERE id = ?1", &st);

	*out = NULL;
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = (*out = row_json(st)) ? 0 : SV_ENOMEM;
	else if (src == SQLITE_DONE)
		rc = sv_error_set(SV_ENOTFOUND, "there is no job %lld ('sysvault jobs' lists them)",
				  (long long)id);
	else
		rc = jobs_fail(s->db, s->path, src);
	sqlite3_finalize(st);
	return rc;
}

/* ---- the watcher ---- */

struct sv_jobs_watch {
	sv_jobs *s;
	int64_t id;
	sv_jobs_cancel_cb on_cancel;
	void *ud;
	sv_thread *thread;
	sv_mutex *mu;
	sv_cond *cond;
	int quit;
};

static int beat(sv_jobs_watch *w)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(w->s, "UPDATE jobs SET heartbeat = ?1 WHERE id = ?2", &st);

	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, sv_time_now());
	sqlite3_bind_int64(st, 2, w->id);
	return run_stmt(w->s, st);
}

static int cancel_requested(sv_jobs_watch *w)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;

	if (prepare(w->s, "SELECT cancel_requested FROM jobs WHERE id = ?1", &st) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, w->id);
	if (sqlite3_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return yes;
}

static void watch_main(void *arg)
{
	sv_jobs_watch *w = arg;
	uint64_t next_beat = sv_time_mono_ms() + SV_JOB_HEARTBEAT_MS;
	int cancelled = 0;

	sv_mutex_lock(w->mu);
	while (!w->quit) {
		sv_cond_timedwait(w->cond, w->mu, SV_JOB_CANCEL_POLL_MS);
		if (w->quit)
			break;
		sv_mutex_unlock(w->mu);
		if (!cancelled && cancel_requested(w)) {
			cancelled = 1;
			sv_log_info("job %lld: cancel requested", (long long)w->id);
			w->on_cancel(w->ud);
		}
		if (sv_time_mono_ms() >= next_beat) {
			if (beat(w) < 0)   /* a busy store: the next beat tries again */
				sv_log_debug("job %lld: heartbeat not written: %s",
					     (long long)w->id, sv_error_msg());
			next_beat = sv_time_mono_ms() + SV_JOB_HEARTBEAT_MS;
		}
		sv_mutex_lock(w->mu);
	}
	sv_mutex_unlock(w->mu);
}

int sv_jobs_watch_start(sv_jobs_watch **out, const char *state_dir, int64_t id,
			sv_jobs_cancel_cb on_cancel, void *ud)
{
	sv_jobs_watch *w = sv_calloc(1, sizeof(*w));
	int rc = w ? jobs_connect(&w->s, state_dir) : SV_ENOMEM;

	*out = NULL;
	if (rc == 0) {
		w->id = id;
		w->on_cancel = on_cancel;
		w->ud = ud;
		rc = sv_mutex_new(&w->mu);
	}
	if (rc == 0)
		rc = sv_cond_new(&w->cond);
	if (rc == 0)
		rc = sv_thread_start(&w->thread, watch_main, w);
	if (rc < 0) {
		sv_jobs_watch_stop(w);
		return rc;
	}
	*out = w;
	return 0;
}

void sv_jobs_watch_stop(sv_jobs_watch *w)
{
	if (!w)
		return;
	if (w->thread) {
		sv_mutex_lock(w->mu);
		w->quit = 1;
		sv_cond_signal(w->cond);
		sv_mutex_unlock(w->mu);
		sv_thread_join(w->thread);
	}
	sv_cond_free(w->cond);
	sv_mutex_free(w->mu);
	sv_jobs_close(w->s);
	free(w);
}
