/*
 * driver.c - running wbadmin: backups, versions, trimming, recovery.
 *
 * Success is never read from English text. A backup succeeded when wbadmin
 * exited 0, `get versions` shows a version identifier that was not there
 * before, and (where the event log exists) the Microsoft-Windows-Backup
 * completion event carries HRESULT 0. Everything else is a failure,
 * classified by the catalogue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_env.h"
#include "sv_eventlog.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"
#include "wsb.h"
#include "wsb_int.h"

#define OUTPUT_MAX ((size_t)4 << 20)
#define DEFAULT_TIMEOUT_MS (6u * 3600u * 1000u)
#define STOP_GRACE_MS 30000u

char *wsb_wbadmin_path(const char *configured)
{
	char *env, *root, *path;

	if (configured && configured[0])
		return sv_strdup(configured);
	env = sv_env_get("SYSVAULT_WBADMIN");
	if (env && env[0])
		return env;
	free(env);
	root = sv_env_get("SystemRoot");
	if (!root)
		return sv_strdup("wbadmin");
	path = sv_aprintf("%s\\System32\\wbadmin.exe", root);
	free(root);
	return path;
}

/* ---- one wbadmin run ---- */

typedef struct run_ctx {
	const wsb_opts *o;
	sv_buf out;          /* everything it printed (bounded) */
} run_ctx;

static int on_line(void *ud, int stream, const char *line, size_t len)
{
	run_ctx *c = ud;
	int percent = -2;

	(void)stream;
	if (c->out.len + len + 1 <= c->out.max) {
		sv_buf_add(&c->out, line, len);
		sv_buf_addc(&c->out, '\n');
	}
	if (c->o->progress) {
		if (!wsb_parse_progress(line, &percent))
			percent = -2;
		c->o->progress(c->o->ud, percent, line);
	}
	return 0;
}

static int should_stop(void *ud)
{
	run_ctx *c = ud;

	return c->o->cancel && c->o->cancel(c->o->ud);
}

/* Asks wbadmin to stop the running job before the runner kills the tree:
 * a stopped job leaves nothing half-written that wbadmin cares about. */
static void stop_job(void *ud)
{
	run_ctx *c = ud;
	const char *argv[] = { c->o->wbadmin, "stop", "job", "-quiet", NULL };
	sv_proc_opts po;
	sv_proc_result pr;

	memset(&po, 0, sizeof(po));
	po.argv = argv;
	po.timeout_ms = STOP_GRACE_MS;
	sv_log_info("asking wbadmin to stop the running job");
	if (sv_proc_run(&pr, &po) < 0)
		sv_log_warn("wbadmin stop job: %s", sv_error_msg());
}

/* Runs wbadmin with args; the output lands in c->out. *exit_code is the
 * exit status. SV_ENOTFOUND when wbadmin cannot be started. */
static int run(run_ctx *c, const char *const *args, uint32_t timeout_ms,
	       int *exit_code)
{
	const char *argv[16];
	sv_proc_opts po;
	sv_proc_result pr;
	int i, rc;

	argv[0] = c->o->wbadmin;
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	memset(&po, 0, sizeof(po));
	po.argv = argv;
	po.timeout_ms = timeout_ms;
	po.grace_ms = STOP_GRACE_MS;
	po.on_line = on_line;
	po.should_stop = should_stop;
	po.on_stop = stop_job;
	po.ud = c;
	rc = sv_proc_run(&pr, &po);
	*exit_code = pr.exited ? pr.exit_code : -1;
	return rc;
}

static uint32_t timeout_of(const wsb_opts *o)
{
	return o->phase_timeout_ms ? o->phase_timeout_ms : DEFAULT_TIMEOUT_MS;
}

/* A failure with code/cause/fix filled in by hand (no output to classify). */
static void set_failure(wsb_failure *f, const char *code, const char *cause,
			const char *fix)
{
	memset(f, 0, sizeof(*f));
	sv_strlcpy(f->code, code, sizeof(f->code));
	sv_strlcpy(f->cause, cause, sizeof(f->cause));
	sv_strlcpy(f->fix, fix, sizeof(f->fix));
}

/* The sv_error for a failure: "<code>: <cause> Fix: <fix>" (+ logs). */
static int failure_error(const wsb_failure *f)
{
	if (f->logs[1][0])
		return sv_error_set(SV_ERROR, "%s: %s Fix: %s (wbadmin logs: %s, %s)",
				    f->code, f->cause, f->fix, f->logs[0], f->logs[1]);
	if (f->logs[0][0])
		return sv_error_set(SV_ERROR, "%s: %s Fix: %s (wbadmin log: %s)",
				    f->code, f->cause, f->fix, f->logs[0]);
	if (!strcmp(f->code, "WSB_UNKNOWN") && f->evidence[0])
		return sv_error_set(SV_ERROR, "%s: %s Fix: %s (last output: %s)",
				    f->code, f->cause, f->fix, f->evidence);
	return sv_error_set(SV_ERROR, "%s: %s Fix: %s", f->code, f->cause, f->fix);
}

static void not_installed(wsb_failure *f, const char *wbadmin)
{
	char cause[256];

	snprintf(cause, sizeof(cause),
		 "Windows Server Backup is not installed ('%s' cannot be run).",
		 wbadmin);
	set_failure(f, "WSB_NOT_INSTALLED", cause,
		    "Install-WindowsFeature -Name Windows-Server-Backup");
}

/* Classifies a finished run that did not succeed. */
static int classify(const wsb_opts *o, run_ctx *c, int rc, wsb_failure *f)
{
	char cause[256];

	if (rc == SV_ENOTFOUND) {
		not_installed(f, o->wbadmin);
		return failure_error(f);
	}
	if (rc == SV_ECANCELLED)
		return sv_error_set(SV_ECANCELLED,
				    "cancelled: wbadmin was asked to stop and its job ended");
	if (rc == SV_ETIMEOUT) {
		uint32_t t = timeout_of(o);

		if (t >= 120000u)
			snprintf(cause, sizeof(cause),
				 "wbadmin did not finish within %u minutes and was stopped.",
				 t / 60000u);
		else
			snprintf(cause, sizeof(cause),
				 "wbadmin did not finish within %u seconds and was stopped.",
				 t / 1000u);
		set_failure(f, "WSB_TIMEOUT", cause,
			    "Check 'wbadmin get status' and the VSS writers (sysvault preflight); "
			    "raise wsb.timeout only for very slow machines.");
		return sv_error_set(SV_ETIMEOUT, "%s: %s Fix: %s", f->code, f->cause, f->fix);
	}
	if (rc < 0)
		return rc;
	wsb_classify(o->catalogue, c->out.ptr ? c->out.ptr : "", c->out.len, f);
	return failure_error(f);
}

/* ---- versions ---- */

static int versions_run(const wsb_opts *o, const char *target,
			wsb_version **out, size_t *count, wsb_failure *f)
{
	char *t = sv_aprintf("-backupTarget:%s", target);
	const char *args[] = { "get", "versions", t, NULL };
	run_ctx c = { o, { 0 } };
	int code = 0, rc;

	*out = NULL;
	*count = 0;
	if (!t)
		return SV_ENOMEM;
	sv_buf_init(&c.out, OUTPUT_MAX);
	rc = run(&c, args, 10u * 60u * 1000u, &code);
	if (rc == 0 && code == 0)
		rc = wsb_parse_versions(out, count, c.out.ptr ? c.out.ptr : "", c.out.len);
	else
		rc = classify(o, &c, rc, f);
	sv_buf_release(&c.out);
	free(t);
	return rc;
}

int wsb_versions(const wsb_opts *o, const char *target, wsb_version **out,
		 size_t *count)
{
	wsb_failure f;

	return versions_run(o, target, out, count, &f);
}

static int has_version(const wsb_version *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return 1;
	return 0;
}

/* The newest version in after[] that is not in before[]. */
static const char *new_version(const wsb_version *before, size_t nb,
			       const wsb_version *after, size_t na)
{
	size_t i;

	for (i = na; i > 0; i--)
		if (!has_version(before, nb, after[i - 1].id))
			return after[i - 1].id;
	return NULL;
}

/* Where the event log exists, its completion event must agree. A failure
 * event is classified like output, so its HRESULT names the cause. */
static int check_event(const wsb_opts *o, int64_t since, wsb_failure *f)
{
	char line[160];
	uint32_t id = 0, hr = 0;
	int64_t when = 0;
	char cause[256];
	int rc = sv_eventlog_backup_result(since, &id, &hr, &when);

	if (rc == SV_ENOTSUPPORTED || rc == SV_ENOTFOUND) {
		sv_log_info("backup event log not consulted: %s", sv_error_msg());
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((id == 14 && hr == 0) || id == 4)
		return 0;
	if (wsb__event_line(line, sizeof(line), "Microsoft-Windows-Backup", id, hr) == 0) {
		wsb_classify(o->catalogue, line, strlen(line), f);
		if (strcmp(f->code, "WSB_UNKNOWN") != 0)
			return failure_error(f);
	}
	snprintf(cause, sizeof(cause),
		 "Windows Server Backup logged event %u with HRESULT 0x%08X.",
		 (unsigned)id, (unsigned)hr);
	set_failure(f, "WSB_EVENT_FAILURE", cause,
		    "Read the Microsoft-Windows-Backup event log and 'wbadmin get status'; "
		    "run 'sysvault preflight'.");
	snprintf(f->hresult, sizeof(f->hresult), "0x%08X", (unsigned)hr);
	return failure_error(f);
}

static int confirm(const wsb_opts *o, const char *target, wsb_version *before,
		   size_t nb, int64_t started, wsb_backup_result *r)
{
	wsb_version *after = NULL;
	size_t na = 0;
	const char *id;
	int rc = versions_run(o, target, &after, &na, &r->failure);

	if (rc < 0) {
		free(after);
		return rc;
	}
	id = new_version(before, nb, after, na);
	if (!id) {
		set_failure(&r->failure, "WSB_NO_NEW_VERSION",
			    "wbadmin exited 0 but no new version appeared in 'wbadmin get versions'.",
			    "Run 'wbadmin get versions' and read the Windows Server Backup logs; the backup did not complete.");
		rc = failure_error(&r->failure);
	} else {
		sv_strlcpy(r->version, id, sizeof(r->version));
		rc = check_event(o, started, &r->failure);
	}
	free(after);
	return rc;
}

int wsb_backup(const wsb_opts *o, const char *target, wsb_backup_result *r)
{
	char *t = sv_aprintf("-backupTarget:%s", target);
	const char *args[] = { "start", "systemstatebackup", t, "-quiet", NULL };
	run_ctx c = { o, { 0 } };
	wsb_version *before = NULL;
	size_t nb = 0;
	int64_t started = sv_time_now();
	int rc;

	memset(r, 0, sizeof(*r));
	if (!t)
		return SV_ENOMEM;
	sv_buf_init(&c.out, OUTPUT_MAX);
	/* A listing that fails (wbadmin missing, access denied) is the
	 * backup's failure. */
	rc = versions_run(o, target, &before, &nb, &r->failure);
	if (rc < 0 && (rc == SV_ECANCELLED || rc == SV_ETIMEOUT ||
		       !strcmp(r->failure.code, "WSB_NOT_INSTALLED") ||
		       !strcmp(r->failure.code, "WSB_ACCESS_DENIED")))
		goto done;
	if (rc < 0) {
		/* An empty target may list nothing in a way we do not parse:
		 * then every version found afterwards is new. */
		sv_log_info("no versions listed before the backup: %s", sv_error_msg());
		memset(&r->failure, 0, sizeof(r->failure));
	}
	rc = run(&c, args, timeout_of(o), &r->exit_code);
	if (rc == 0 && r->exit_code == 0)
		rc = confirm(o, target, before, nb, started, r);
	else
		rc = classify(o, &c, rc, &r->failure);
done:
	free(before);
	sv_buf_release(&c.out);
	free(t);
	return rc;
}

int wsb_trim(const wsb_opts *o, const char *target, unsigned keep)
{
	char *t = sv_aprintf("-backupTarget:%s", target);
	char *k = sv_aprintf("-keepVersions:%u", keep);
	const char *args[] = { "delete", "systemstatebackup", k, t, "-quiet", NULL };
	run_ctx c = { o, { 0 } };
	wsb_failure f;
	int code = 0, rc = SV_ENOMEM;

	sv_buf_init(&c.out, OUTPUT_MAX);
	if (t && k) {
		rc = run(&c, args, 30u * 60u * 1000u, &code);
		if (rc < 0 || code != 0)
			rc = classify(o, &c, rc, &f);
	}
	sv_buf_release(&c.out);
	free(t);
	free(k);
	return rc;
}

int wsb_recover(const wsb_opts *o, const wsb_recover_opts *ro,
		wsb_failure *failure)
{
	char *v = sv_aprintf("-version:%s", ro->version);
	char *t = sv_aprintf("-backupTarget:%s", ro->target);
	char *m = sv_aprintf("-machine:%s", ro->machine);
	const char *args[10] = { "start", "systemstaterecovery", v, t, m, "-quiet" };
	run_ctx c = { o, { 0 } };
	int n = 6, code = 0, rc = SV_ENOMEM;

	memset(failure, 0, sizeof(*failure));
	if (ro->authsysvol)
		args[n++] = "-authsysvol";
	if (ro->reboot)
		args[n++] = "-autoReboot";
	args[n] = NULL;
	sv_buf_init(&c.out, OUTPUT_MAX);
	if (v && t && m) {
		rc = run(&c, args, timeout_of(o), &code);
		if (rc < 0 || code != 0)
			rc = classify(o, &c, rc, failure);
	}
	sv_buf_release(&c.out);
	free(v);
	free(t);
	free(m);
	return rc;
}
