/*
 * job_run.c - a command's job from start to end: the row in the job
 * store, the watcher that turns `sysvault jobs cancel` into the same
 * interrupt as Ctrl-C, and the stable code a failure is recorded with.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "events.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_time.h"

/* Writes a job's end to the system log. The log refusing it costs a
 * warning, never the job's outcome, and leaves the sv_error as it was. */
static void report_event(const sv_agent_job *j, const sv_job_end *e)
{
	sv_event_job ej = { j->id, j->kind, e->state, e->code, e->message,
			    (sv_time_mono_ms() - j->started_ms) / 1000,
			    e->bytes_read, e->bytes_stored };
	char *saved = sv_strdup(sv_error_msg());
	int code = sv_error_code();
	sv_event ev;

	sv_event_format(&ev, &ej);
	if (sv_event_write(&ev) < 0) {
		sv_log_warn("job %lld: no event written: %s", (long long)j->id, sv_error_msg());
		if (code)
			sv_error_set(code, "%s", saved ? saved : "");
	}
	free(saved);
}

static void request_interrupt(void *ud)
{
	(void)ud;
	sv_env_request_interrupt();
}

char *sv_agent_job_log_path(int64_t id)
{
	char name[48];

	snprintf(name, sizeof(name), "logs%cjob-%lld.log", SV_PATH_SEP, (long long)id);
	return sv_path_join(sv_agent_state_dir(), name);
}

/* The job's own log file; a job runs without one rather than not at all. */
static void open_job_log(sv_agent_job *j)
{
	char *path = sv_agent_job_log_path(j->id), *dir = path ? sv_path_dirname(path) : NULL;

	if (dir && sv_fs_mkdir_p(dir, 1) == 0 && sv_log_open_job_file(path) == 0)
		sv_json_set(j->details, "log", json_string(path));
	else
		sv_log_warn("job %lld: no log file: %s", (long long)j->id, sv_error_msg());
	free(dir);
	free(path);
}

int sv_agent_job_start(sv_agent_job *j, const char *kind, json_t *details)
{
	const char *dir = sv_agent_state_dir();
	int rc;

	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->started_ms = sv_time_mono_ms();
	j->details = details ? details : json_object();
	if (!j->details)
		return SV_ENOMEM;
	sv_env_catch_interrupt();
	rc = sv_jobs_open(&j->store, dir);
	if (rc == 0)
		rc = sv_jobs_begin(j->store, kind, j->details, &j->id);
	if (rc == 0)
		open_job_log(j);
	if (rc == 0)
		rc = sv_jobs_watch_start(&j->watch, dir, j->id, request_interrupt, NULL);
	if (rc < 0) {
		if (j->id) {
			sv_job_end e = { SV_JOB_FAILED, sv_err_str(rc), sv_error_msg(), NULL, 0, 0 };

			sv_jobs_finish(j->store, j->id, &e);
			report_event(j, &e);
		}
		sv_log_close_job_file();
		sv_jobs_close(j->store);
		json_decref(j->details);
		memset(j, 0, sizeof(*j));
		return rc;
	}
	sv_log_info("job %lld: %s started", (long long)j->id, kind);
	return 0;
}

void sv_agent_job_warn(sv_agent_job *j, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sv_log_warn("%s", line);
	if (j && !j->warning)   /* the first warning is the job's message */
		j->warning = sv_strdup(line);
}

/* The length of the code-like token ([A-Z0-9_]*) at s. */
static size_t token_len(const char *s)
{
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
}

/* A failure's stable code: the WSB_* code the wbadmin driver puts before
 * its cause, the id of a failed preflight check, MACHINE_RENAMED from the
 * identity check, else the sv_err name. */
static const char *stable_code(int rc, const char *msg, char *buf, size_t size)
{
	const char *p = msg ? strstr(msg, "WSB_") : NULL;
	size_t n;

	if (p && (p == msg || p[-1] == ' ') && (n = token_len(p)) < size && p[n] == ':') {
		memcpy(buf, p, n);
		buf[n] = '\0';
		return buf;
	}
	if (msg && !strncmp(msg, "MACHINE_RENAMED:", 16))
		return "MACHINE_RENAMED";
	if (msg && !strncmp(msg, "preflight PF", 12) && (n = token_len(msg + 10)) < size &&
	    msg[10 + n] == ' ') {
		memcpy(buf, msg + 10, n);
		buf[n] = '\0';
		return buf;
	}
	return sv_err_str(rc);
}

int sv_agent_job_end(sv_agent_job *j, int rc)
{
	char *msg = rc < 0 ? sv_strdup(sv_error_msg()) : NULL;
	char code[64];
	sv_job_end e;

	if (!j->store)
		return rc;
	sv_jobs_watch_stop(j->watch);
	memset(&e, 0, sizeof(e));
	e.details = j->details;
	e.bytes_read = j->bytes_read;
	e.bytes_stored = j->bytes_stored;
	if (rc == 0) {
		e.state = j->warning ? SV_JOB_WARNINGS : SV_JOB_COMPLETED;
		e.message = j->warning;
	} else {
		e.state = rc == SV_ECANCELLED ? SV_JOB_CANCELLED : SV_JOB_FAILED;
		e.code = rc == SV_ECANCELLED ? NULL : stable_code(rc, msg, code, sizeof(code));
		e.message = msg && msg[0] ? msg : sv_err_str(rc);
	}
	if (sv_jobs_finish(j->store, j->id, &e) < 0)
		sv_log_warn("job %lld: its end was not recorded: %s", (long long)j->id,
			    sv_error_msg());
	report_event(j, &e);
	sv_log_info("job %lld: %s%s%s%s%s", (long long)j->id, e.state, e.code ? " " : "",
		    e.code ? e.code : "", e.message ? ": " : "", e.message ? e.message : "");
	sv_log_close_job_file();
	if (rc < 0)   /* the command reports the work's error, not the store's */
		sv_error_set(rc, "%s", msg ? msg : "");
	sv_jobs_close(j->store);
	json_decref(j->details);
	free(j->warning);
	free(msg);
	memset(j, 0, sizeof(*j));
	return rc;
}
