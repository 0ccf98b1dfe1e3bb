/*
 * preflight.c - running the probes: one thread per probe, all at once, each
 * waited for until its own limit (plus a second of grace). A probe that
 * overruns is abandoned: its check becomes a warning and its thread
 * finishes on its own. The run's state is reference-counted so that an
 * abandoned thread never touches freed memory; the report keeps a
 * reference while such threads exist and joins those that have ended when
 * it is freed. The only thing an abandoned probe may still use after
 * diag_run() returns is the caller's vault callback (see diag.h).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_thread.h"
#include "sv_time.h"

#define GRACE_MS 1000u

typedef struct diag__run run;

typedef struct job {
	run *r;
	size_t idx;
	uint32_t timeout_ms;
	sv_thread *t;
	json_t *ev; /* the thread's result, once done */
	uint64_t elapsed_ms;
	int started, done, abandoned;
} job;

struct diag__run {
	sv_mutex *mu;
	sv_cond *cv;
	int refs; /* the runner + each live thread */
	diag__provider prov;
	diag__inputs in;
	job jobs[DIAG__NCHECKS];
};

static void inputs_release(diag__inputs *in)
{
	free(in->wbadmin);
	free(in->scratch_dir);
	free(in->registered_name);
	free(in->registered_fqdn);
	free(in->agent_version);
}

static char *dup_opt(const char *s, int *rc)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = sv_strdup(s)))
		*rc = SV_ENOMEM;
	return d;
}

static int inputs_copy(diag__inputs *in, const diag_opts *o)
{
	int rc = 0;

	memset(in, 0, sizeof(*in));
	in->wbadmin = dup_opt(o->wbadmin, &rc);
	in->scratch_dir = dup_opt(o->scratch_dir, &rc);
	in->registered_name = dup_opt(o->registered_name, &rc);
	in->registered_fqdn = dup_opt(o->registered_fqdn, &rc);
	in->agent_version = dup_opt(o->agent_version, &rc);
	in->last_backup_bytes = o->last_backup_bytes;
	in->credentials_expiry = o->credentials_expiry;
	if (o->vault && o->vault->ping) {
		in->vault = *o->vault;
		in->have_vault = 1;
	}
	return rc;
}

static void run_free(run *r)
{
	size_t i;

	for (i = 0; i < DIAG__NCHECKS; i++)
		json_decref(r->jobs[i].ev);
	inputs_release(&r->in);
	sv_cond_free(r->cv);
	sv_mutex_free(r->mu);
	free(r);
}

/* Drops one reference; the last one frees the run. */
static void run_unref(run *r)
{
	int last;

	sv_mutex_lock(r->mu);
	last = --r->refs == 0;
	sv_mutex_unlock(r->mu);
	if (last)
		run_free(r);
}

/* Runs one probe; evidence is NULL only when out of memory. */
static json_t *probe_one(const run *r, const job *j)
{
	const diag__check *c = &diag__checks[j->idx];
	diag__probe_ctx ctx = {&r->prov, &r->in, j->timeout_ms};
	json_t *ev = json_object();
	int rc;

	if (!ev)
		return NULL;
	sv_error_clear();
	rc = c->probe(&ctx, ev);
	if (rc < 0 && !json_object_get(ev, "error"))
		diag__ev_error(ev, "error", rc);
	return ev;
}

static void probe_thread(void *arg)
{
	job *j = arg;
	run *r = j->r;
	uint64_t t0 = sv_time_mono_ms();
	json_t *ev = probe_one(r, j);

	sv_mutex_lock(r->mu);
	if (j->abandoned) {
		json_decref(ev);
	} else {
		j->ev = ev;
		j->elapsed_ms = sv_time_mono_ms() - t0;
	}
	j->done = 1;
	sv_cond_broadcast(r->cv);
	sv_mutex_unlock(r->mu);
	run_unref(r);
}

static int run_new(run **out, const diag_opts *opts, const diag__provider *p)
{
	run *r = sv_calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return SV_ENOMEM;
	r->refs = 1;
	r->prov = *p;
	rc = inputs_copy(&r->in, opts);
	if (rc == 0)
		rc = sv_mutex_new(&r->mu);
	if (rc == 0)
		rc = sv_cond_new(&r->cv);
	if (rc < 0) {
		run_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* Starts job j in its own thread, or runs it here when no thread can be
 * had (it then has no time limit, but the run still completes). */
static void job_start(run *r, job *j)
{
	uint64_t t0;

	sv_mutex_lock(r->mu);
	r->refs++;
	sv_mutex_unlock(r->mu);
	j->started = 1;
	if (sv_thread_start(&j->t, probe_thread, j) == 0)
		return;
	sv_mutex_lock(r->mu);
	r->refs--;
	sv_mutex_unlock(r->mu);
	j->t = NULL;
	t0 = sv_time_mono_ms();
	j->ev = probe_one(r, j);
	j->elapsed_ms = sv_time_mono_ms() - t0;
	j->done = 1;
}

/* Waits until every started job is done or past its deadline; abandons
 * the late ones. Called with r->mu held. */
static void wait_all(run *r, uint64_t t0)
{
	uint64_t now, next, deadline;
	size_t i;
	int pending;

	for (;;) {
		now = sv_time_mono_ms();
		next = UINT64_MAX;
		pending = 0;
		for (i = 0; i < DIAG__NCHECKS; i++) {
			job *j = &r->jobs[i];

			if (!j->started || j->done || j->abandoned)
				continue;
			deadline = t0 + j->timeout_ms + GRACE_MS;
			if (now >= deadline) {
				j->abandoned = 1;
				continue;
			}
			pending = 1;
			if (deadline < next)
				next = deadline;
		}
		if (!pending)
			return;
		sv_cond_timedwait(r->cv, r->mu, (unsigned)(next - now));
	}
}

static int skip_listed(const char *const *skip, const char *id)
{
	for (; skip && *skip; skip++)
		if (sv_ascii_caseeq(*skip, id))
			return 1;
	return 0;
}

static void collect(diag_report *rep, run *r, const diag_opts *opts)
{
	size_t i;

	for (i = 0; i < DIAG__NCHECKS; i++) {
		job *j = &r->jobs[i];
		diag__result *res = &rep->res[i];

		res->timeout_ms = j->timeout_ms;
		res->not_run = 0;
		if (!j->started) {
			res->skipped_by_user =
				skip_listed(opts->skip, diag__checks[i].id);
			res->not_run = !res->skipped_by_user;
		} else if (j->abandoned && !j->done) {
			res->timed_out = 1;
			res->elapsed_ms = j->timeout_ms + GRACE_MS;
		} else {
			res->evidence = j->ev;
			j->ev = NULL;
			res->elapsed_ms = j->elapsed_ms;
		}
	}
}

static void report_header(diag_report *rep, const diag__provider *p)
{
	sv_strlcpy(rep->platform, p->platform, sizeof(rep->platform));
	sv_time_format_utc(rep->created, sizeof(rep->created), p->now());
	if (p->machine_name(rep->host, sizeof(rep->host)) < 0)
		rep->host[0] = '\0';
	sv_error_clear();
}

static int validate_skip(const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!diag_check_exists(*skip))
			return sv_error_set(SV_EINVAL,
					    "no check '%s' (the "
					    "checks are PF001 to PF%03d)",
					    *skip, DIAG__NCHECKS);
	return 0;
}

int diag__run_with(diag_report **out, const diag_opts *opts,
		   const diag__provider *p)
{
	diag_report *rep = NULL;
	run *r = NULL;
	uint64_t t0 = sv_time_mono_ms();
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = validate_skip(opts->skip)) < 0 ||
	    (rc = diag__report_new(&rep)) < 0 ||
	    (rc = run_new(&r, opts, p)) < 0)
		goto done;
	json_object_seed(0); /* before any thread makes an object */
	report_header(rep, p);
	for (i = 0; i < DIAG__NCHECKS; i++) {
		const diag__check *c = &diag__checks[i];
		job *j = &r->jobs[i];

		j->r = r;
		j->idx = i;
		j->timeout_ms =
			opts->timeout_ms ? opts->timeout_ms : c->timeout_ms;
		if (skip_listed(opts->skip, c->id) ||
		    (opts->blocking_only && c->severity != DIAG_BLOCKING))
			continue;
		job_start(r, j);
	}
	sv_mutex_lock(r->mu);
	wait_all(r, t0);
	collect(rep, r, opts);
	sv_mutex_unlock(r->mu);
	for (i = 0; i < DIAG__NCHECKS; i++)
		if (r->jobs[i].t && r->jobs[i].done)
			sv_thread_join(r->jobs[i].t);
	rep->duration_ms = sv_time_mono_ms() - t0;
	rc = diag_evaluate(rep, NULL);
	for (i = 0; i < DIAG__NCHECKS; i++)
		if (rep->res[i].timed_out && !rep->run) {
			rep->run = r; /* the runner's reference, handed over */
			r = NULL;
		}
done:
	if (r)
		run_unref(r);
	if (rc < 0) {
		diag_report_free(rep);
		return rc;
	}
	*out = rep;
	return 0;
}

void diag__run_release(run *r)
{
	sv_thread *ended[DIAG__NCHECKS];
	size_t i, n = 0;

	if (!r)
		return;
	sv_mutex_lock(r->mu);
	for (i = 0; i < DIAG__NCHECKS; i++)
		if (r->jobs[i].abandoned && r->jobs[i].done && r->jobs[i].t) {
			ended[n++] = r->jobs[i].t;
			r->jobs[i].t = NULL;
		}
	sv_mutex_unlock(r->mu);
	/* Joined outside the lock: an ending thread still takes it once. A
	 * probe that still hangs keeps its thread (and its handle). */
	for (i = 0; i < n; i++)
		sv_thread_join(ended[i]);
	run_unref(r);
}

int diag_run(diag_report **out, const diag_opts *opts)
{
	return diag__run_with(out, opts, diag__provider_detect());
}
