/*
 * job_backup.c - one system-state backup: staging volume -> wbadmin ->
 * vault. The only place that knows both wsb and vault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_platform.h"
#include "wsb.h"
#include "diag.h"
#include "sv_version.h"
#include "registration.h"


char *sv_agent_scratch_dir(const char *opt)
{
	const char *cfg = sv_agent_config("scratch");

	if (opt)
		return sv_strdup(opt);
	if (cfg)
		return sv_strdup(cfg);
	return sv_path_join(sv_agent_state_dir(), "Scratch");
}

int sv_agent_wsb_init(sv_wsb_ctx *c, const sv_wsb_args *a)
{
	const char *cfg_timeout = sv_agent_config("wsb.timeout");
	int rc;

	memset(c, 0, sizeof(*c));
	c->o.phase_timeout_ms = a->timeout_ms;
	if (!c->o.phase_timeout_ms && cfg_timeout &&
	    (rc = sv_agent_parse_duration(&c->o.phase_timeout_ms, cfg_timeout)) < 0)
		return rc;
	c->wbadmin = wsb_wbadmin_path(sv_agent_config("wsb.wbadmin"));
	if (!c->wbadmin)
		return SV_ENOMEM;
	c->o.wbadmin = c->wbadmin;
	rc = wsb_catalogue_load(&c->catalogue);
	c->o.catalogue = c->catalogue;
	return rc;
}

void sv_agent_wsb_release(sv_wsb_ctx *c)
{
	free(c->wbadmin);
	wsb_catalogue_free(c->catalogue);
	memset(c, 0, sizeof(*c));
}

static void wbadmin_progress(void *ud, int percent, const char *line)
{
	(void)ud;
	sv_log_info("wbadmin: %s", line);
	if (percent >= 0 && sv_env_isatty(stderr))
		fprintf(stderr, "\rwbadmin: %d%%   ", percent);
}

/* The blocking preflight checks: a failure ends the job before wbadmin is
 * touched, naming the check, its evidence and the fix. */
static int preflight(vault *v, const sv_wsb_args *a, const char *scratch,
		     const char *wbadmin)
{
	diag_vault_cb cb = { sv_agent_ping_vault, v };
	diag_report *rep = NULL;
	diag_opts d;
	diag_result res;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	d.wbadmin = wbadmin;
	d.scratch_dir = scratch;
	d.vault = &cb;
	d.agent_version = SV_VERSION;
	d.skip = a->skip_checks;
	d.blocking_only = 1;
	rc = diag_run(&rep, &d);
	for (i = 0; rc == 0 && i < diag_count(rep); i++) {
		if (diag_result_at(rep, i, &res) < 0 || res.verdict != DIAG_FAIL)
			continue;
		rc = sv_error_set(SV_ERROR, "preflight %s failed (%s): %s Fix: %s "
				  "(or pass --skip-check %s if you know better)",
				  res.id, res.title, res.reason, res.fix ? res.fix : "",
				  res.id);
	}
	for (i = 0; a->skip_checks && a->skip_checks[i]; i++)
		sv_log_warn("preflight check %s skipped at the administrator's request",
			    a->skip_checks[i]);
	diag_report_free(rep);
	return rc;
}

/* The point's extra fields: wbadmin version, layout, hardware identity. */
static json_t *point_meta(const char *version, const wsb_layout *l)
{
	json_t *m = json_object();

	if (!m || sv_json_set(m, "wbadmin_version", json_string(version)) ||
	    sv_json_set(m, "wsb", wsb_layout_json(l))) {
		json_decref(m);
		return NULL;
	}
	sv_json_set(m, "hardware", sv_agent_hardware_json());
	return m;
}

static int include_layout(void *ud, const char *rel, int is_dir)
{
	return wsb_layout_includes(ud, rel, is_dir);
}

/* Runs wbadmin onto the staging volume; fills *target and the version. */
static int run_wbadmin(const sv_wsb_args *a, wsb_opts *wo, char **target,
		       wsb_backup_result *wr)
{
	char *scratch = sv_agent_scratch_dir(a->scratch);
	int rc;

	if (!scratch)
		return SV_ENOMEM;
	rc = preflight(a->vault, a, scratch, wo->wbadmin);
	if (rc == 0)
		rc = wsb_staging_prepare(scratch, 0, target);
	free(scratch);
	if (rc < 0)
		return rc;
	wo->cancel = sv_agent_cancelled;
	wo->progress = wbadmin_progress;
	rc = wsb_backup(wo, *target, wr);
	if (sv_env_isatty(stderr))
		fputc('\n', stderr);
	return rc;
}

int sv_agent_backup_system_state(vault *v, const sv_wsb_args *a,
				 vault_backup_opts *bo, vault_backup_result *r,
				 char version[WSB_VERSION_LEN + 1])
{
	sv_wsb_ctx wc;
	wsb_backup_result wr;
	wsb_layout layout;
	char *target = NULL;
	json_t *meta = NULL, *given = bo->meta;
	int rc;

	memset(&layout, 0, sizeof(layout));
	sv_env_catch_interrupt();
	rc = sv_agent_wsb_init(&wc, a);
	if (rc == 0)
		rc = run_wbadmin(a, &wc.o, &target, &wr);
	if (rc == 0)
		rc = wsb_layout_scan(&layout, target, NULL);
	if (rc == 0 && !(meta = point_meta(wr.version, &layout)))
		rc = SV_ENOMEM;
	if (rc == 0 && given && json_object_update_missing(meta, given) != 0)
		rc = SV_ENOMEM;   /* the caller's fields ("trigger") */
	if (rc == 0) {
		bo->source_dir = target;
		bo->meta = meta;
		bo->include = include_layout;
		bo->include_ud = &layout;
		bo->cancel = sv_agent_cancelled;
		rc = vault_backup(v, bo, r);
	}
	if (rc == 0) {
		memcpy(version, wr.version, WSB_VERSION_LEN + 1);
		/* Older versions on the staging volume are no longer needed. */
		if (wsb_trim(&wc.o, target, 1) < 0)
			sv_agent_job_warn(a->job, "could not trim old versions on the staging volume: %s",
					  sv_error_msg());
	}
	bo->meta = given;
	json_decref(meta);
	wsb_layout_release(&layout);
	free(target);
	sv_agent_wsb_release(&wc);
	return rc;
}
