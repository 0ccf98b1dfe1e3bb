/*
 * retention.h - how long recovery points are kept: the policy, its
 * command-line options and JSON form, and the keep-set (which points a
 * policy keeps, and why). The rules are specified in docs/operations.md,
 * "Retention"; `vault prune` and `backup --scheduled` apply them.
 *
 * Another command accepts the same options by merging the table:
 *
 *     struct option lo[32];
 *     sv_retention pol;
 *     sv_retention_init(&pol);
 *     sv_retention_longopts(lo, 32, own_options);
 *     while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
 *         int r = sv_retention_option(&pol, c, optarg);
 *         if (r < 0)
 *             return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
 *         if (r > 0)
 *             continue;
 *         switch (c) { ...the command's own options... }
 *     }
 *     then sv_retention_load(&saved, &found), sv_retention_merge(&saved,
 *     &pol), sv_retention_validate(&saved) and sv_retention_save(&saved).
 */
#ifndef SV_RETENTION_H
#define SV_RETENTION_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"
#include "sv_json.h"
#include "vault.h"

/* The ranges, as in the product sysvault replaces. */
#define SV_RETAIN_DAILY_MIN 7
#define SV_RETAIN_DAILY_MAX 9999
#define SV_RETAIN_WEEKLY_MIN 4
#define SV_RETAIN_WEEKLY_MAX 5163
#define SV_RETAIN_MONTHLY_MIN 3
#define SV_RETAIN_MONTHLY_MAX 1188
#define SV_RETAIN_YEARLY_MIN 1
#define SV_RETAIN_YEARLY_MAX 99

#define SV_RETAIN_LAST_DAY 0 /* monthly_on: the last day of the month */

/* Which fields were given (sv_retention.set), for merging. */
enum {
	SV_RETAIN_SET_DAILY = 1 << 0,
	SV_RETAIN_SET_WEEKLY = 1 << 1,
	SV_RETAIN_SET_WEEKLY_ON = 1 << 2,
	SV_RETAIN_SET_MONTHLY = 1 << 3,
	SV_RETAIN_SET_MONTHLY_ON = 1 << 4,
	SV_RETAIN_SET_YEARLY = 1 << 5,
	SV_RETAIN_SET_YEARLY_IN = 1 << 6
};

typedef struct sv_retention {
	unsigned daily;	  /* days (required) */
	unsigned weekly;  /* weeks; 0: no weekly points */
	int weekly_on;	  /* 0 = Sunday .. 6 = Saturday (default Sunday) */
	unsigned monthly; /* months; 0: none */
	int monthly_on;	  /* 1..28, or SV_RETAIN_LAST_DAY (default 1) */
	unsigned yearly;  /* years; 0: none */
	int yearly_in;	  /* month 1..12 (default January) */
	unsigned set;	  /* SV_RETAIN_SET_* of the fields given */
} sv_retention;

/* The defaults of the day fields (Sunday, the 1st, January), nothing
 * set. */
void sv_retention_init(sv_retention *p);

/* The long options (--retain-daily, --retain-weekly, --weekly-on,
 * --retain-monthly, --monthly-on, --retain-yearly, --yearly-in), ended by
 * a zero entry; their vals are >= SV_RETAIN_OPT_FIRST. */
#define SV_RETAIN_OPT_FIRST 0x5200
extern const struct option sv_retention_options[];
/* Copies own (ended by a zero entry) then sv_retention_options into out
 * (room for cap entries, the end marker included). SV_ENOMEM when it does
 * not fit. */
int sv_retention_longopts(struct option *out, size_t cap,
			  const struct option *own);
/* Applies one parsed option: 1 when val is a retention option and arg is
 * good, 0 when val is not a retention option, SV_EUSAGE with a one-line
 * message naming the option, its range and the fix. */
int sv_retention_option(sv_retention *p, int val, const char *arg);

/* Fields set in over replace those of base. */
void sv_retention_merge(sv_retention *base, const sv_retention *over);
/* Checks a whole policy: daily given, every count in its range, a day
 * choice only with its count. SV_EUSAGE naming the option. */
int sv_retention_validate(const sv_retention *p);

/* {"daily":30,"weekly":12,"weekly_on":"Sun","monthly":12,"monthly_on":1
 * or "last","yearly":5,"yearly_in":"Jan"}; fields of unused rules are
 * left out. */
json_t *sv_retention_to_json(const sv_retention *p);
/* The inverse, validated; SV_EINVAL naming `what` and the field. */
int sv_retention_from_json(sv_retention *p, const json_t *j, const char *what);
/* The saved policy ("retention" in <state>/config.json): 0 with *found 0
 * when there is none; SV_EINVAL when it is malformed. */
int sv_retention_load(sv_retention *p, int *found);
/* Saves a validated policy under "retention" (atomically). */
int sv_retention_save(const sv_retention *p);

/* ---- the keep-set ---- */

typedef struct sv_retention_point {
	/* in */
	int64_t local; /* the point's time on the local wall clock
			  (sv_retention_local) */
	int scheduled; /* 0: ad-hoc (daily rule only) */
	/* out */
	int keep;
	int64_t expires;  /* local wall clock: kept while now < expires */
	char reason[160]; /* which rule keeps it, or why it goes */
} sv_retention_point;

/* The local wall-clock time of a UTC time, as seconds counted like UTC
 * (so that sv_time_to_tm() gives the local date and time). */
int64_t sv_retention_local(int64_t utc);

/*
 * Decides keep/drop for the n points of ONE machine, in time order
 * (oldest first), at now (local wall clock), by the rules of
 * docs/operations.md. Fills keep, expires and reason of each.
 */
void sv_retention_apply(const sv_retention *p, sv_retention_point *pts,
			size_t n, int64_t now_local);

/* ---- applying it to a vault (job_prune.c) ---- */

typedef struct sv_prune_report {
	json_t *points; /* [{id, machine, time, trigger, keep,
			    reason}], oldest first */
	size_t kept, dropped;
	vault_prune_result r;
} sv_prune_report;

/*
 * Computes the keep-set of every machine's points (only machine's when
 * not NULL) and removes the rest with vault_prune (dry_run: nothing
 * changes). lock_machine names this machine in the prune's lock object.
 * Release the report with sv_prune_report_release().
 */
int sv_agent_prune(vault *v, const sv_retention *p, const char *machine,
		   const char *lock_machine, int dry_run, sv_prune_report *out);
void sv_prune_report_release(sv_prune_report *r);
/* The report as JSON (the points and the totals); NULL on out-of-memory. */
json_t *sv_prune_report_json(const sv_prune_report *r, int dry_run);
/* Prints the points that go (or would) with their reasons, and totals. */
void sv_prune_report_print(const sv_prune_report *r, int dry_run);

/* ---- scheduled backups (job_prune.c) ---- */

/* 1 (with a one-line msg) when a scheduled point of machine already
 * exists in the current schedule window: from "schedule.time" in
 * config.json (HH:MM, local) to the same time the next day, else the
 * local calendar day. 0 when not; SV_EINVAL for a malformed time. */
int sv_agent_scheduled_done(vault *v, const char *machine, char *msg, size_t n);
/* Applies the saved policy (if any) to machine's points after a
 * scheduled backup, recording the result as "prune" in the job's
 * details; a failure is a warning on the job, never an error. */
void sv_agent_prune_after_backup(vault *v, const char *machine,
				 sv_agent_job *job);

#endif
