/*
 * job_prune.c - applying a retention policy to a vault: every machine's
 * points through the keep-set (retention.c), then vault_prune() for the
 * ones that go. Used by `vault prune` and after `backup --scheduled`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "retention.h"
#include "sv_buf.h"
#include "sv_time.h"

/* The points of the vault, oldest first, with what the keep-set needs. */
typedef struct point_list {
	vault_point_info *p;
	size_t n, cap;
} point_list;

static int add_point(void *ud, const vault_point_info *p)
{
	point_list *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *q = cap > ((size_t)1 << 24)
				  ? NULL
				  : sv_realloc(l->p, cap * sizeof(*p));

		if (!q)
			return sv_error_set(
				SV_ENOMEM, "too many recovery points to prune");
		l->p = q;
		l->cap = cap;
	}
	l->p[l->n++] = *p;
	return 0;
}

/* Judges the points of one machine (those of l equal to machine). */
static void judge_machine(const sv_retention *pol, const point_list *l,
			  const char *machine, sv_retention_point *out,
			  int64_t now_local)
{
	sv_retention_point *m;
	size_t i, k = 0, *at;

	m = sv_calloc(l->n ? l->n : 1, sizeof(*m));
	at = sv_calloc(l->n ? l->n : 1, sizeof(*at));
	if (!m || !at) {
		/* Out of memory: keep everything rather than guess. */
		for (i = 0; i < l->n; i++)
			if (!strcmp(l->p[i].machine, machine))
				out[i].keep = 1;
		free(m);
		free(at);
		return;
	}
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->p[i].machine, machine) != 0)
			continue;
		m[k].local = sv_retention_local(l->p[i].time);
		m[k].scheduled = l->p[i].scheduled;
		at[k++] = i;
	}
	sv_retention_apply(pol, m, k, now_local);
	for (i = 0; i < k; i++)
		out[at[i]] = m[i];
	free(m);
	free(at);
}

static int first_of_machine(const point_list *l, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(l->p[j].machine, l->p[i].machine))
			return 0;
	return 1;
}

static json_t *point_json(const vault_point_info *p,
			  const sv_retention_point *r)
{
	char when[32];

	sv_time_format_utc(when, sizeof(when), p->time);
	return json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "id", p->id, "machine",
			 p->machine, "time", when, "trigger",
			 p->scheduled ? "scheduled" : "adhoc", "keep", r->keep,
			 "reason", r->reason);
}

/* Fills the report's points and the ids to delete (borrowed from l). */
static int decide(sv_prune_report *out, const point_list *l,
		  const sv_retention_point *r, const char **ids)
{
	size_t i;

	out->points = json_array();
	if (!out->points)
		return SV_ENOMEM;
	for (i = 0; i < l->n; i++) {
		if (json_array_append_new(out->points,
					  point_json(&l->p[i], &r[i])))
			return SV_ENOMEM;
		if (r[i].keep)
			out->kept++;
		else
			ids[out->dropped++] = l->p[i].id;
	}
	return 0;
}

int sv_agent_prune(vault *v, const sv_retention *pol, const char *machine,
		   const char *lock_machine, int dry_run, sv_prune_report *out)
{
	point_list l = {NULL, 0, 0};
	sv_retention_point *r = NULL;
	const char **ids = NULL;
	vault_prune_opts o;
	int64_t now = sv_retention_local(sv_time_now());
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vault_sync(v, 0, NULL);
	if (rc == 0)
		rc = vault_points(v, machine, add_point, &l);
	if (rc == 0 && (!(r = sv_calloc(l.n + 1, sizeof(*r))) ||
			!(ids = sv_calloc(l.n + 1, sizeof(*ids)))))
		rc = SV_ENOMEM;
	for (i = 0; rc == 0 && i < l.n; i++)
		if (first_of_machine(&l, i))
			judge_machine(pol, &l, l.p[i].machine, r, now);
	if (rc == 0)
		rc = decide(out, &l, r, ids);
	memset(&o, 0, sizeof(o));
	o.points = ids;
	o.npoints = out->dropped;
	o.machine = lock_machine;
	o.dry_run = dry_run;
	o.cancel = sv_agent_cancelled;
	if (rc == 0)
		rc = vault_prune(v, &o, &out->r);
	free(ids);
	free(r);
	free(l.p);
	return rc;
}

void sv_prune_report_release(sv_prune_report *r)
{
	json_decref(r->points);
	memset(r, 0, sizeof(*r));
}

json_t *sv_prune_report_json(const sv_prune_report *r, int dry_run)
{
	return json_pack("{s:b,s:O,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s}",
			 "dry_run", dry_run, "points",
			 r->points ? r->points : json_null(), "kept",
			 (json_int_t)r->kept, "deleted", (json_int_t)r->dropped,
			 "packs_deleted", (json_int_t)r->r.packs_deleted,
			 "packs_repacked", (json_int_t)r->r.packs_repacked,
			 "bytes_freed", (json_int_t)r->r.bytes_freed,
			 "packs_partial", (json_int_t)r->r.packs_partial,
			 "bytes_reclaimable", (json_int_t)r->r.bytes_reclaimable,
			 "data_deferred", r->r.data_deferred, "deferred_by",
			 r->r.deferred_by);
}

void sv_prune_report_print(const sv_prune_report *r, int dry_run)
{
	char freed[32], partial[32];
	json_t *p;
	size_t i;

	json_array_foreach(r->points, i, p)
	{
		if (json_is_true(json_object_get(p, "keep")))
			continue;
		printf("%s %.16s  %s  %-16s %s\n",
		       dry_run ? "would delete" : "deleted",
		       json_string_value(json_object_get(p, "id")),
		       json_string_value(json_object_get(p, "time")),
		       json_string_value(json_object_get(p, "machine")),
		       json_string_value(json_object_get(p, "reason")));
	}
	sv_format_size(freed, sizeof(freed), r->r.bytes_freed);
	sv_format_size(partial, sizeof(partial), r->r.bytes_reclaimable);
	printf("%s %zu of %zu recovery points; %s %s: %llu packs deleted, "
	       "%llu repacked; %llu packs kept whole with %s unused\n",
	       dry_run ? "would delete" : "deleted", r->dropped,
	       r->kept + r->dropped, dry_run ? "would free" : "freed", freed,
	       (unsigned long long)r->r.packs_deleted,
	       (unsigned long long)r->r.packs_repacked,
	       (unsigned long long)r->r.packs_partial, partial);
	if (r->r.data_deferred)
		printf("data left for the next prune: a backup from %s is "
		       "running\n",
		       r->r.deferred_by);
}

/* ---- scheduled backups ---- */

/* Where the current schedule window began (local wall clock): the last
 * "schedule.time" of config.json at or before now, else local midnight. */
static int window_start(int64_t *out, int64_t now)
{
	const char *t = sv_agent_config("schedule.time");
	int64_t start = now - now % 86400;
	unsigned hh = 0, mm = 0;
	char end;

	if (now < 0)
		start -= 86400; /* C's % keeps the sign: back to midnight */
	if (t &&
	    (sscanf(t, "%2u:%2u%c", &hh, &mm, &end) != 2 || hh > 23 || mm > 59))
		return sv_error_set(
			SV_EINVAL,
			"config.json: \"schedule\".\"time\" is '%s', not "
			"HH:MM: set it again with 'sysvault schedule set'",
			t);
	start += (int64_t)hh * 3600 + (int64_t)mm * 60;
	*out = now < start ? start - 86400 : start;
	return 0;
}

typedef struct window_ctx {
	int64_t start;
	vault_point_info found;
	int hit;
} window_ctx;

static int in_window(void *ud, const vault_point_info *p)
{
	window_ctx *w = ud;

	if (p->scheduled && sv_retention_local(p->time) >= w->start) {
		w->found = *p;
		w->hit = 1;
	}
	return 0;
}

int sv_agent_scheduled_done(vault *v, const char *machine, char *msg, size_t n)
{
	window_ctx w;
	char when[32];
	int rc;

	memset(&w, 0, sizeof(w));
	rc = window_start(&w.start, sv_retention_local(sv_time_now()));
	if (rc == 0)
		rc = vault_points(v, machine, in_window, &w);
	if (rc < 0 || !w.hit)
		return rc;
	sv_time_format_utc(when, sizeof(when), w.found.time);
	snprintf(msg, n,
		 "scheduled backup skipped: recovery point %.16s of %s already "
		 "covers this window",
		 w.found.id, when);
	return 1;
}

void sv_agent_prune_after_backup(vault *v, const char *machine,
				 sv_agent_job *job)
{
	sv_retention pol;
	sv_prune_report rep;
	int found = 0;

	if (sv_retention_load(&pol, &found) < 0) {
		sv_agent_job_warn(job, "retention was not applied: %s",
				  sv_error_msg());
		return;
	}
	if (!found)
		return;
	if (sv_agent_prune(v, &pol, machine, machine, 0, &rep) < 0)
		sv_agent_job_warn(job, "retention was not applied: %s",
				  sv_error_msg());
	else
		sv_json_set(job->details, "prune",
			    sv_prune_report_json(&rep, 0));
	sv_prune_report_release(&rep);
}
