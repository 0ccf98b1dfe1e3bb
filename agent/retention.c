/*
 * retention.c - the retention policy: options, JSON, and the keep-set
 * (docs/operations.md, "Retention").
 *
 * Times are on the local wall clock, counted in seconds like UTC, so that
 * calendar arithmetic is day numbers: day d starts at d * 86400.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "retention.h"
#include "sv_buf.h"
#include "sv_time.h"

#define DAY 86400

static const char *const day_names[7] = {"Sunday",    "Monday",	  "Tuesday",
					 "Wednesday", "Thursday", "Friday",
					 "Saturday"};
static const char *const month_names[12] = {
	"January", "February", "March",	    "April",   "May",	   "June",
	"July",	   "August",   "September", "October", "November", "December"};

enum {
	OPT_DAILY = SV_RETAIN_OPT_FIRST,
	OPT_WEEKLY,
	OPT_WEEKLY_ON,
	OPT_MONTHLY,
	OPT_MONTHLY_ON,
	OPT_YEARLY,
	OPT_YEARLY_IN
};

const struct option sv_retention_options[] = {
	{"retain-daily", required_argument, NULL, OPT_DAILY},
	{"retain-weekly", required_argument, NULL, OPT_WEEKLY},
	{"weekly-on", required_argument, NULL, OPT_WEEKLY_ON},
	{"retain-monthly", required_argument, NULL, OPT_MONTHLY},
	{"monthly-on", required_argument, NULL, OPT_MONTHLY_ON},
	{"retain-yearly", required_argument, NULL, OPT_YEARLY},
	{"yearly-in", required_argument, NULL, OPT_YEARLY_IN},
	{NULL, 0, NULL, 0}};

void sv_retention_init(sv_retention *p)
{
	memset(p, 0, sizeof(*p));
	p->monthly_on = 1;
	p->yearly_in = 1;
}

int sv_retention_longopts(struct option *out, size_t cap,
			  const struct option *own)
{
	size_t n = 0, i;

	for (i = 0; own && own[i].name; i++) {
		if (n + 1 >= cap)
			return sv_error_set(SV_ENOMEM,
					    "option table too small");
		out[n++] = own[i];
	}
	for (i = 0; sv_retention_options[i].name; i++) {
		if (n + 1 >= cap)
			return sv_error_set(SV_ENOMEM,
					    "option table too small");
		out[n++] = sv_retention_options[i];
	}
	memset(&out[n], 0, sizeof(out[n]));
	return 0;
}

/* ---- parsing ---- */

/* A name or its first three letters, any case: its index, or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (sv_ascii_caseeq(s, names[i]) ||
		    (strlen(s) == 3 && sv_ascii_ncaseeq(s, names[i], 3)))
			return i;
	return -1;
}

static int parse_count(unsigned *out, const char *arg, const char *opt,
		       unsigned min, unsigned max, const char *unit)
{
	uint64_t v;

	if (sv_parse_u64(&v, arg) < 0 || v < min || v > max)
		return sv_error_set(
			SV_EUSAGE,
			"--%s takes a number of %s from %u to %u, not '%s'",
			opt, unit, min, max, arg);
	*out = (unsigned)v;
	return 1;
}

static int parse_monthly_on(sv_retention *p, const char *arg)
{
	uint64_t v;

	if (sv_ascii_caseeq(arg, "last")) {
		p->monthly_on = SV_RETAIN_LAST_DAY;
		return 1;
	}
	if (sv_parse_u64(&v, arg) < 0 || v < 1 || v > 28)
		return sv_error_set(SV_EUSAGE,
				    "--monthly-on takes a day of the month "
				    "from 1 to 28, or 'last', not '%s'",
				    arg);
	p->monthly_on = (int)v;
	return 1;
}

static int parse_name(int *out, const char *arg, const char *opt,
		      const char *const *names, int n, const char *what)
{
	int i = name_index(arg, names, n);

	if (i < 0)
		return sv_error_set(
			SV_EUSAGE,
			"--%s takes %s (as 'Sun' or 'Sunday'), not '%s'", opt,
			what, arg);
	*out = i;
	return 1;
}

int sv_retention_option(sv_retention *p, int val, const char *arg)
{
	int rc, i;

	switch (val) {
	case OPT_DAILY:
		rc = parse_count(&p->daily, arg, "retain-daily",
				 SV_RETAIN_DAILY_MIN, SV_RETAIN_DAILY_MAX,
				 "days");
		break;
	case OPT_WEEKLY:
		rc = parse_count(&p->weekly, arg, "retain-weekly",
				 SV_RETAIN_WEEKLY_MIN, SV_RETAIN_WEEKLY_MAX,
				 "weeks");
		break;
	case OPT_WEEKLY_ON:
		rc = parse_name(&p->weekly_on, arg, "weekly-on", day_names, 7,
				"a day of the week");
		break;
	case OPT_MONTHLY:
		rc = parse_count(&p->monthly, arg, "retain-monthly",
				 SV_RETAIN_MONTHLY_MIN, SV_RETAIN_MONTHLY_MAX,
				 "months");
		break;
	case OPT_MONTHLY_ON:
		rc = parse_monthly_on(p, arg);
		break;
	case OPT_YEARLY:
		rc = parse_count(&p->yearly, arg, "retain-yearly",
				 SV_RETAIN_YEARLY_MIN, SV_RETAIN_YEARLY_MAX,
				 "years");
		break;
	case OPT_YEARLY_IN:
		rc = parse_name(&i, arg, "yearly-in", month_names, 12,
				"a month");
		if (rc > 0)
			p->yearly_in = i + 1;
		break;
	default:
		return 0;
	}
	if (rc > 0)
		p->set |= 1u << (val - OPT_DAILY);
	return rc;
}

void sv_retention_merge(sv_retention *base, const sv_retention *over)
{
	if (over->set & SV_RETAIN_SET_DAILY)
		base->daily = over->daily;
	if (over->set & SV_RETAIN_SET_WEEKLY)
		base->weekly = over->weekly;
	if (over->set & SV_RETAIN_SET_WEEKLY_ON)
		base->weekly_on = over->weekly_on;
	if (over->set & SV_RETAIN_SET_MONTHLY)
		base->monthly = over->monthly;
	if (over->set & SV_RETAIN_SET_MONTHLY_ON)
		base->monthly_on = over->monthly_on;
	if (over->set & SV_RETAIN_SET_YEARLY)
		base->yearly = over->yearly;
	if (over->set & SV_RETAIN_SET_YEARLY_IN)
		base->yearly_in = over->yearly_in;
	base->set |= over->set;
}

static int in_range(unsigned v, unsigned min, unsigned max)
{
	return v == 0 || (v >= min && v <= max);
}

int sv_retention_validate(const sv_retention *p)
{
	if (p->daily < SV_RETAIN_DAILY_MIN || p->daily > SV_RETAIN_DAILY_MAX)
		return sv_error_set(SV_EUSAGE,
				    "a retention policy needs --retain-daily "
				    "with a number of days from %d to %d",
				    SV_RETAIN_DAILY_MIN, SV_RETAIN_DAILY_MAX);
	if (!in_range(p->weekly, SV_RETAIN_WEEKLY_MIN, SV_RETAIN_WEEKLY_MAX) ||
	    !in_range(p->monthly, SV_RETAIN_MONTHLY_MIN,
		      SV_RETAIN_MONTHLY_MAX) ||
	    !in_range(p->yearly, SV_RETAIN_YEARLY_MIN, SV_RETAIN_YEARLY_MAX))
		return sv_error_set(SV_EUSAGE,
				    "retention counts out of range: weekly "
				    "%d-%d, monthly %d-%d, yearly %d-%d",
				    SV_RETAIN_WEEKLY_MIN, SV_RETAIN_WEEKLY_MAX,
				    SV_RETAIN_MONTHLY_MIN,
				    SV_RETAIN_MONTHLY_MAX, SV_RETAIN_YEARLY_MIN,
				    SV_RETAIN_YEARLY_MAX);
	if ((p->set & SV_RETAIN_SET_WEEKLY_ON) && !p->weekly)
		return sv_error_set(SV_EUSAGE,
				    "--weekly-on needs --retain-weekly");
	if ((p->set & SV_RETAIN_SET_MONTHLY_ON) && !p->monthly && !p->yearly)
		return sv_error_set(SV_EUSAGE,
				    "--monthly-on needs --retain-monthly or "
				    "--retain-yearly");
	if ((p->set & SV_RETAIN_SET_YEARLY_IN) && !p->yearly)
		return sv_error_set(SV_EUSAGE,
				    "--yearly-in needs --retain-yearly");
	return 0;
}

/* ---- JSON ---- */

json_t *sv_retention_to_json(const sv_retention *p)
{
	json_t *j = json_object();
	char day[4], mon[4];
	int rc;

	sv_strlcpy(day, day_names[p->weekly_on % 7], sizeof(day));
	sv_strlcpy(mon, month_names[(p->yearly_in + 11) % 12], sizeof(mon));
	rc = sv_json_set(j, "daily", json_integer(p->daily));
	if (rc == 0 && p->weekly)
		rc = sv_json_set(j, "weekly", json_integer(p->weekly)) ||
		     sv_json_set(j, "weekly_on", json_string(day));
	if (rc == 0 && (p->monthly || p->yearly))
		rc = sv_json_set(j, "monthly_on",
				 p->monthly_on == SV_RETAIN_LAST_DAY
					 ? json_string("last")
					 : json_integer(p->monthly_on));
	if (rc == 0 && p->monthly)
		rc = sv_json_set(j, "monthly", json_integer(p->monthly));
	if (rc == 0 && p->yearly)
		rc = sv_json_set(j, "yearly", json_integer(p->yearly)) ||
		     sv_json_set(j, "yearly_in", json_string(mon));
	if (rc) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* One field through the option parser, so that JSON and the command line
 * accept exactly the same values. */
static int json_field(sv_retention *p, const json_t *j, const char *key,
		      int val, const char *what)
{
	const json_t *f = json_object_get(j, key);
	char num[32];
	const char *arg = num;

	if (!f)
		return 0;
	if (json_is_integer(f))
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(f));
	else if (json_is_string(f))
		arg = json_string_value(f);
	else
		return sv_error_set(SV_EINVAL,
				    "%s: field '%s' is not a number or a name",
				    what, key);
	if (sv_retention_option(p, val, arg) < 0)
		return sv_error_set(SV_EINVAL, "%s: field '%s': %s", what, key,
				    sv_error_msg());
	return 0;
}

int sv_retention_from_json(sv_retention *p, const json_t *j, const char *what)
{
	static const struct {
		const char *key;
		int val;
	} fields[] = {
		{"daily", OPT_DAILY},		{"weekly", OPT_WEEKLY},
		{"weekly_on", OPT_WEEKLY_ON},	{"monthly", OPT_MONTHLY},
		{"monthly_on", OPT_MONTHLY_ON}, {"yearly", OPT_YEARLY},
		{"yearly_in", OPT_YEARLY_IN},
	};
	size_t i;
	int rc = 0;

	sv_retention_init(p);
	if (!json_is_object(j))
		return sv_error_set(SV_EINVAL, "%s is not a JSON object", what);
	for (i = 0; rc == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
		rc = json_field(p, j, fields[i].key, fields[i].val, what);
	if (rc == 0 && sv_retention_validate(p) < 0)
		rc = sv_error_set(SV_EINVAL, "%s: %s", what, sv_error_msg());
	return rc;
}

int sv_retention_load(sv_retention *p, int *found)
{
	const json_t *j = sv_agent_config_json("retention");

	sv_retention_init(p);
	*found = j != NULL;
	if (!j)
		return 0;
	return sv_retention_from_json(p, j, "\"retention\" in config.json");
}

int sv_retention_save(const sv_retention *p)
{
	json_t *j = sv_retention_to_json(p);

	return j ? sv_agent_config_set("retention", j) : SV_ENOMEM;
}

/* ---- calendar ---- */

int64_t sv_retention_local(int64_t utc)
{
	time_t t = (time_t)utc;
	struct tm *lt = localtime(&t); /* the agent is single-threaded here */
	sv_tm tm;

	if (!lt)
		return utc;
	memset(&tm, 0, sizeof(tm));
	tm.year = lt->tm_year + 1900;
	tm.month = lt->tm_mon + 1;
	tm.day = lt->tm_mday;
	tm.hour = lt->tm_hour;
	tm.min = lt->tm_min;
	tm.sec = lt->tm_sec;
	return sv_time_from_tm(&tm);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t day_of(int64_t local)
{
	return floor_div(local, DAY);
}

static int64_t ymd_day(int64_t y, int64_t m, int d)
{
	sv_tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.year = (int)(y + floor_div(m - 1, 12));
	tm.month = (int)(m - 1 - 12 * floor_div(m - 1, 12)) + 1;
	tm.day = d;
	return day_of(sv_time_from_tm(&tm));
}

/* The day a month's period starts: its monthly-on day. k counts months
 * from year 0 (k = 12 * year + month - 1). */
static int64_t month_start(const sv_retention *p, int64_t k)
{
	int64_t y = floor_div(k, 12), m = k - 12 * y + 1;

	if (p->monthly_on == SV_RETAIN_LAST_DAY)
		return ymd_day(y, m + 1, 1) - 1;
	return ymd_day(y, m, p->monthly_on);
}

static void format_day(char *dst, size_t n, int64_t day)
{
	sv_tm tm;

	sv_time_to_tm(&tm, day * DAY);
	snprintf(dst, n, "%04d-%02d-%02d", tm.year, tm.month, tm.day);
}

/* ---- the keep-set ---- */

/* The role that keeps a point longest. */
typedef struct role {
	int64_t expires;
	char what[64];
} role;

static void consider(role *best, int64_t expires, const char *what)
{
	if (expires > best->expires) {
		best->expires = expires;
		sv_strlcpy(best->what, what, sizeof(best->what));
	}
}

static void weekly_role(const sv_retention *p, role *best, int64_t prev,
			int64_t t)
{
	int64_t d = day_of(t), wday = (d % 7 + 7 + 4) % 7; /* day 0: Thursday */
	int64_t start = d - (wday - p->weekly_on + 7) % 7;
	char what[64], date[16];

	if (!p->weekly || prev >= start * DAY)
		return; /* an earlier point already is this week's */
	format_day(date, sizeof(date), start);
	snprintf(what, sizeof(what), "weekly (week from %s)", date);
	consider(best, (start + 7 * (int64_t)p->weekly) * DAY, what);
}

/* The month period holding day d: the last k whose start is <= d. */
static int64_t month_of(const sv_retention *p, int64_t d)
{
	sv_tm tm;
	int64_t k;

	sv_time_to_tm(&tm, d * DAY);
	k = 12 * (int64_t)tm.year + tm.month - 1;
	return d >= month_start(p, k) ? k : k - 1;
}

static void monthly_role(const sv_retention *p, role *best, int64_t prev,
			 int64_t t)
{
	int64_t k = month_of(p, day_of(t)), start = month_start(p, k);
	char what[64];

	if (!p->monthly || prev >= start * DAY)
		return;
	snprintf(what, sizeof(what), "monthly (%04lld-%02lld)",
		 (long long)floor_div(k, 12),
		 (long long)(k - 12 * floor_div(k, 12) + 1));
	consider(best, month_start(p, k + (int64_t)p->monthly) * DAY, what);
}

static void yearly_role(const sv_retention *p, role *best, int64_t prev,
			int64_t t)
{
	int64_t k = month_of(p, day_of(t)), y = floor_div(k, 12), start;
	char what[64];

	/* The year's period starts with its yearly-in month's period. */
	if (k < 12 * y + p->yearly_in - 1)
		y--;
	start = month_start(p, 12 * y + p->yearly_in - 1);
	if (!p->yearly || prev >= start * DAY)
		return;
	snprintf(what, sizeof(what), "yearly (%lld)", (long long)y);
	consider(best,
		 month_start(p,
			     12 * (y + (int64_t)p->yearly) + p->yearly_in - 1) *
			 DAY,
		 what);
}

static void judge(const sv_retention *p, sv_retention_point *pt, int64_t prev,
		  int64_t now)
{
	role best = {INT64_MIN, ""};
	char date[16];

	consider(&best, (day_of(pt->local) + (int64_t)p->daily) * DAY,
		 pt->scheduled ? "daily" : "daily (ad-hoc point)");
	if (pt->scheduled) {
		weekly_role(p, &best, prev, pt->local);
		monthly_role(p, &best, prev, pt->local);
		yearly_role(p, &best, prev, pt->local);
	}
	pt->expires = best.expires;
	pt->keep = now < best.expires;
	format_day(date, sizeof(date), day_of(best.expires));
	snprintf(pt->reason, sizeof(pt->reason), "%s: %s %s", best.what,
		 pt->keep ? "until" : "expired", date);
}

void sv_retention_apply(const sv_retention *p, sv_retention_point *pts,
			size_t n, int64_t now_local)
{
	int64_t prev = INT64_MIN;
	size_t i, last = 0, kept = 0;
	char date[16];

	for (i = 0; i < n; i++) {
		judge(p, &pts[i], prev, now_local);
		kept += pts[i].keep;
		if (pts[i].scheduled)
			prev = pts[i].local;
		if (pts[i].expires >= pts[last].expires)
			last = i;
	}
	if (n == 0 || kept > 0)
		return;
	/* Backups stopped: never prune to zero. */
	pts[last].keep = 1;
	format_day(date, sizeof(date), day_of(pts[last].expires));
	snprintf(pts[last].reason, sizeof(pts[last].reason),
		 "longest retention, expired %s: kept until a newer point "
		 "exists",
		 date);
}
