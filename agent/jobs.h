/*
 * jobs.h - the job store: every backup, restore, check, prune and copy is
 * a row in <state-dir>/jobs.db (SQLite, WAL), with its state, times,
 * bytes, stable error code, one-line message, details (JSON), the process
 * that runs it and that process's heartbeat.
 *
 * jobs.c is the agent's SQLite wrapper (the only agent file that includes
 * sqlite3.h); job_run.c is what commands use around their work.
 */
#ifndef SV_JOBS_H
#define SV_JOBS_H

#include <stdint.h>

#include "sv_json.h"

/* Job states as stored and printed. */
#define SV_JOB_QUEUED "queued"
#define SV_JOB_RUNNING "running"
#define SV_JOB_COMPLETED "completed"
#define SV_JOB_WARNINGS "completed_with_warnings"
#define SV_JOB_FAILED "failed"
#define SV_JOB_CANCELLED "cancelled"

/* The code of a job whose process ended without finishing it. */
#define SV_JOB_INTERRUPTED "INTERRUPTED"

/* A running job is failed as interrupted when its heartbeat is older than
 * this, or when it started longer ago than SV_JOB_MAX_AGE_S. */
#define SV_JOB_STALE_S 120
#define SV_JOB_MAX_AGE_S (30 * 86400)
#define SV_JOB_HEARTBEAT_MS 5000
#define SV_JOB_CANCEL_POLL_MS 500

typedef struct sv_jobs sv_jobs;

/*
 * Opens (creating) <state_dir>/jobs.db and sweeps it: every running job
 * whose process is gone, whose heartbeat is stale or that is older than 30
 * days becomes failed with code INTERRUPTED. Close with sv_jobs_close().
 */
int sv_jobs_open(sv_jobs **out, const char *state_dir);
void sv_jobs_close(sv_jobs *s);

/*
 * Records a new running job of kind ("backup", "restore", "check",
 * "prune", "copy", "cache") owned by this process, with details (may be
 * NULL; not taken). Only one backup runs per machine: while another
 * running backup job's process is alive, a new backup is refused with
 * SV_EBUSY naming that job, its process and its start; so is a backup
 * while a cache move runs, and a cache move while any job runs.
 */
int sv_jobs_begin(sv_jobs *s, const char *kind, const json_t *details,
		  int64_t *id);

/* How a job ended. */
typedef struct sv_job_end {
	const char *state;      /* SV_JOB_COMPLETED, _WARNINGS, _FAILED, _CANCELLED */
	const char *code;       /* stable error code, or NULL */
	const char *message;    /* one line (redacted here), or NULL */
	const json_t *details;  /* replaces the job's details; NULL keeps them */
	uint64_t bytes_read, bytes_stored;
} sv_job_end;

int sv_jobs_finish(sv_jobs *s, int64_t id, const sv_job_end *e);

/* Asks a running job to stop: sets its cancel flag, which its process
 * polls. SV_ENOTFOUND for no such job; SV_EINVAL "job N is not running"
 * when it has finished. */
int sv_jobs_cancel(sv_jobs *s, int64_t id);

/* The newest limit jobs (0: all), newest first, as a JSON array of the
 * objects sv_jobs_get() returns. Caller owns *out. */
int sv_jobs_list(sv_jobs *s, unsigned limit, json_t **out);
/* One job as a JSON object: id, kind, state, started, ended (UTC text or
 * null), pid, heartbeat, bytes_read, bytes_stored, error_code, message,
 * details, cancel_requested. SV_ENOTFOUND when there is none. */
int sv_jobs_get(sv_jobs *s, int64_t id, json_t **out);

/*
 * The watcher of a running job: a thread, with its own connection, that
 * writes the heartbeat every 5 s and polls the cancel flag every 500 ms;
 * when the flag is set it calls on_cancel(ud) once.
 */
typedef struct sv_jobs_watch sv_jobs_watch;
typedef void (*sv_jobs_cancel_cb)(void *ud);

int sv_jobs_watch_start(sv_jobs_watch **out, const char *state_dir,
			int64_t id, sv_jobs_cancel_cb on_cancel, void *ud);
/* Stops and joins the thread; accepts NULL. */
void sv_jobs_watch_stop(sv_jobs_watch *w);

/* ---- job_run.c: a command's job from start to end ---- */

typedef struct sv_agent_job {
	sv_jobs *store;
	sv_jobs_watch *watch;
	int64_t id;
	json_t *details;     /* owned; the command adds to it before the end */
	char *warning;       /* set by sv_agent_job_warn: completed_with_warnings */
	uint64_t bytes_read, bytes_stored;
	const char *kind;    /* for the end's event (docs/events.md) */
	uint64_t started_ms; /* monotonic: the event's duration */
} sv_agent_job;

/*
 * Opens the store, begins a job of kind with details (taken; may be NULL),
 * starts its watcher (a cancel makes sv_env_interrupted() true) and
 * catches Ctrl-C. On failure the sv_error says why (a second backup: which
 * job is running).
 */
int sv_agent_job_start(sv_agent_job *j, const char *kind, json_t *details);
/* <state-dir>/logs/job-<id>.log: the job's own log (info and above,
 * secrets redacted), opened by sv_agent_job_start and named in the job's
 * details as "log". Caller frees. */
char *sv_agent_job_log_path(int64_t id);
/* Records a warning; the job ends completed_with_warnings. */
void sv_agent_job_warn(sv_agent_job *j, const char *fmt, ...) SV_PRINTF(2, 3);
/*
 * Ends the job from the work's result rc (0 or an sv_err with the current
 * sv_error): completed, completed_with_warnings, cancelled, or failed with
 * its stable code (WSB_* from a wbadmin failure, PF0xx from a preflight
 * failure, else the sv_err name), and writes the end as one event to the
 * system log (docs/events.md). Leaves the sv_error as it was, releases j,
 * and returns rc.
 */
int sv_agent_job_end(sv_agent_job *j, int rc);

#endif
