/*
 * test_agent_retention.c - the retention options, their JSON form, and the
 * keep-set: years of simulated daily backups with failures sprinkled in,
 * pruned day after day as the agent does, must leave exactly the points
 * an independent expectation names. The expectation is written
 * differently: calendar buckets enumerated from a known Sunday and from
 * civil dates (Hinnant's days_from_civil), the representative of each
 * found by search over the whole history, the last N buckets counted.
 */
#include "sv_test.h"

#include "retention.h"

#define DAY 86400

/* ---- options ---- */

static int opt(sv_retention *p, const char *name, const char *arg)
{
	int i;

	for (i = 0; sv_retention_options[i].name; i++)
		if (!strcmp(sv_retention_options[i].name, name))
			return sv_retention_option(p, sv_retention_options[i].val, arg);
	fail_msg("no option %s", name);
	return -1;
}

static void test_retention__ranges(void **s)
{
	static const struct { const char *name, *arg; int ok; } cases[] = {
		{ "retain-daily", "6", 0 }, { "retain-daily", "7", 1 },
		{ "retain-daily", "9999", 1 }, { "retain-daily", "10000", 0 },
		{ "retain-daily", "x", 0 }, { "retain-daily", "-7", 0 },
		{ "retain-weekly", "3", 0 }, { "retain-weekly", "4", 1 },
		{ "retain-weekly", "5163", 1 }, { "retain-weekly", "5164", 0 },
		{ "retain-monthly", "2", 0 }, { "retain-monthly", "3", 1 },
		{ "retain-monthly", "1188", 1 }, { "retain-monthly", "1189", 0 },
		{ "retain-yearly", "0", 0 }, { "retain-yearly", "1", 1 },
		{ "retain-yearly", "99", 1 }, { "retain-yearly", "100", 0 },
		{ "weekly-on", "Sun", 1 }, { "weekly-on", "wednesday", 1 },
		{ "weekly-on", "Funday", 0 }, { "monthly-on", "1", 1 },
		{ "monthly-on", "28", 1 }, { "monthly-on", "29", 0 },
		{ "monthly-on", "0", 0 }, { "monthly-on", "LAST", 1 },
		{ "yearly-in", "Jan", 1 }, { "yearly-in", "december", 1 },
		{ "yearly-in", "Smarch", 0 },
	};
	sv_retention p;
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		sv_retention_init(&p);
		rc = opt(&p, cases[i].name, cases[i].arg);
		if ((rc == 1) != cases[i].ok)
			fail_msg("--%s %s: got %d (%s)", cases[i].name, cases[i].arg, rc,
				 sv_error_msg());
		if (!cases[i].ok) {
			assert_int_equal(rc, SV_EUSAGE);
			assert_non_null(strstr(sv_error_msg(), cases[i].name));
			assert_null(strchr(sv_error_msg(), '\n'));
		}
	}
	assert_int_equal(sv_retention_option(&p, 'v', "x"), 0);
}

static void test_retention__validate_names_the_missing_option(void **s)
{
	sv_retention p;

	(void)s;
	sv_retention_init(&p);
	opt(&p, "retain-weekly", "8");
	assert_int_equal(sv_retention_validate(&p), SV_EUSAGE);
	assert_non_null(strstr(sv_error_msg(), "--retain-daily"));
	sv_retention_init(&p);
	opt(&p, "retain-daily", "7");
	opt(&p, "weekly-on", "Mon");
	assert_int_equal(sv_retention_validate(&p), SV_EUSAGE);
	assert_non_null(strstr(sv_error_msg(), "--retain-weekly"));
	opt(&p, "retain-weekly", "4");
	sv_assert_ok(sv_retention_validate(&p));
}

static void test_retention__json_round_trip_and_merge(void **s)
{
	sv_retention p, q, over;
	json_t *j;

	(void)s;
	sv_retention_init(&p);
	opt(&p, "retain-daily", "30");
	opt(&p, "retain-weekly", "12");
	opt(&p, "weekly-on", "Fri");
	opt(&p, "retain-monthly", "24");
	opt(&p, "monthly-on", "last");
	opt(&p, "retain-yearly", "7");
	opt(&p, "yearly-in", "Jun");
	j = sv_retention_to_json(&p);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "weekly_on")), "Fri");
	assert_string_equal(json_string_value(json_object_get(j, "monthly_on")), "last");
	sv_assert_ok(sv_retention_from_json(&q, j, "test"));
	assert_int_equal(q.daily, 30);
	assert_int_equal(q.weekly, 12);
	assert_int_equal(q.weekly_on, 5);
	assert_int_equal(q.monthly, 24);
	assert_int_equal(q.monthly_on, SV_RETAIN_LAST_DAY);
	assert_int_equal(q.yearly, 7);
	assert_int_equal(q.yearly_in, 6);
	json_object_set_new(j, "daily", json_integer(3));
	assert_int_equal(sv_retention_from_json(&q, j, "config"), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "daily"));
	json_decref(j);

	sv_retention_init(&over);
	opt(&over, "retain-weekly", "5");
	sv_retention_merge(&p, &over);
	assert_int_equal(p.weekly, 5);
	assert_int_equal(p.daily, 30);
	assert_int_equal(p.weekly_on, 5);
}

/* ---- the independent calendar ---- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	while (m > 12) {
		m -= 12;
		y++;
	}
	while (m < 1) {
		m += 12;
		y--;
	}
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t month_start_day(const sv_retention *p, int64_t y, int64_t m)
{
	if (p->monthly_on == SV_RETAIN_LAST_DAY)
		return days_from_civil(y, m + 1, 1) - 1;
	return days_from_civil(y, m, p->monthly_on);
}

typedef struct sim_point {
	int64_t local;
	int scheduled;
} sim_point;

/* The first scheduled point at or after day start, or -1. */
static long first_after(const sim_point *h, size_t n, int64_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (h[i].scheduled && h[i].local >= start * DAY)
			return (long)i;
	return -1;
}

/* Marks the representatives of the last `count` started buckets, whose
 * start days are starts[0..nstarts) in increasing order. */
static void keep_buckets(const sim_point *h, size_t n, int *keep,
			 const int64_t *starts, size_t nstarts, int64_t now,
			 unsigned count)
{
	size_t started = 0, i;

	while (started < nstarts && starts[started] * DAY <= now)
		started++;
	for (i = started > count ? started - count : 0; i < started; i++) {
		long r = first_after(h, n, starts[i]);

		if (r >= 0)
			keep[r] = 1;
	}
}

#define MAX_STARTS 4096

static void expect(const sv_retention *p, const sim_point *h, size_t n,
		   int64_t now, int *keep)
{
	int64_t starts[MAX_STARTS], first_day = h[0].local / DAY - 400;
	int64_t sunday = days_from_civil(2020, 1, 5);  /* a Sunday */
	size_t k, i;
	int64_t y, m;

	for (i = 0; i < n; i++)
		keep[i] = now / DAY - h[i].local / DAY < p->daily;
	if (p->weekly) {
		int64_t s = sunday + p->weekly_on;

		for (k = 0; s <= now / DAY + 7 && k < MAX_STARTS; s += 7)
			if (s >= first_day)
				starts[k++] = s;
		keep_buckets(h, n, keep, starts, k, now, p->weekly);
	}
	if (p->monthly) {
		for (k = 0, y = 2019; y <= 2045; y++)
			for (m = 1; m <= 12; m++)
				starts[k++] = month_start_day(p, y, m);
		keep_buckets(h, n, keep, starts, k, now, p->monthly);
	}
	if (p->yearly) {
		for (k = 0, y = 2019; y <= 2045; y++)
			starts[k++] = month_start_day(p, y, p->yearly_in);
		keep_buckets(h, n, keep, starts, k, now, p->yearly);
	}
}

/* ---- the simulation ---- */

static uint32_t rnd(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return (*state >> 16) & 0x7fff;
}

typedef struct sim {
	sim_point hist[4096];      /* every point ever made */
	size_t nhist;
	size_t live[4096];         /* indexes into hist of points not pruned */
	size_t nlive;
} sim;

static void add_point(sim *sm, int64_t local, int scheduled)
{
	sm->hist[sm->nhist].local = local;
	sm->hist[sm->nhist].scheduled = scheduled;
	sm->live[sm->nlive++] = sm->nhist++;
}

/* One prune as the agent runs it: keep-set over the live points. */
static void prune(const sv_retention *p, sim *sm, int64_t now)
{
	sv_retention_point pts[4096];
	size_t i, k = 0;

	memset(pts, 0, sizeof(pts));
	for (i = 0; i < sm->nlive; i++) {
		pts[i].local = sm->hist[sm->live[i]].local;
		pts[i].scheduled = sm->hist[sm->live[i]].scheduled;
	}
	sv_retention_apply(p, pts, sm->nlive, now);
	for (i = 0; i < sm->nlive; i++) {
		assert_non_null(strstr(pts[i].reason, pts[i].keep ? "until" : "expired"));
		if (pts[i].keep)
			sm->live[k++] = sm->live[i];
	}
	sm->nlive = k;
}

/* Days of scheduled backups (21:00) from start_day, with random failures,
 * a failed fortnight, and ad-hoc points (10:00) now and then; pruned after
 * every day. */
static void run_days(const sv_retention *p, sim *sm, int64_t start_day,
		     int days, uint32_t seed)
{
	int d;

	for (d = 0; d < days; d++) {
		int64_t day = start_day + d;
		int failed = rnd(&seed) % 100 < 20 || (d >= 200 && d < 214);

		if (rnd(&seed) % 100 < 8)
			add_point(sm, day * DAY + 10 * 3600, 0);
		if (!failed)
			add_point(sm, day * DAY + 21 * 3600, 1);
		prune(p, sm, day * DAY + 22 * 3600);
	}
}

static void check_against_expectation(const sv_retention *p, const sim *sm,
				      int64_t now)
{
	int keep[4096];
	size_t i, j = 0, expected = 0;

	expect(p, sm->hist, sm->nhist, now, keep);
	for (i = 0; i < sm->nhist; i++) {
		int live = j < sm->nlive && sm->live[j] == i;

		if (live != keep[i])
			fail_msg("point %zu (day %lld, %s): kept %d, expected %d", i,
				 (long long)(sm->hist[i].local / DAY),
				 sm->hist[i].scheduled ? "scheduled" : "ad-hoc", live, keep[i]);
		j += live;
		expected += keep[i];
	}
	assert_int_equal(sm->nlive, expected);
}

static void simulate(const char *const *args, uint32_t seed)
{
	static sim sm;
	sv_retention p;
	int64_t start = days_from_civil(2025, 3, 17);
	int days = 3 * 365 + 40, i;

	sv_retention_init(&p);
	for (i = 0; args[i]; i += 2)
		assert_int_equal(opt(&p, args[i], args[i + 1]), 1);
	sv_assert_ok(sv_retention_validate(&p));
	memset(&sm, 0, sizeof(sm));
	run_days(&p, &sm, start, days, seed);
	check_against_expectation(&p, &sm, (start + days - 1) * DAY + 22 * 3600);
}

static void test_retention__years_of_backups_sunday_first(void **s)
{
	const char *a[] = { "retain-daily", "7", "retain-weekly", "4", "retain-monthly",
			    "3", "retain-yearly", "2", NULL };

	(void)s;
	simulate(a, 1);
	simulate(a, 2);
}

static void test_retention__years_of_backups_wednesday_last_june(void **s)
{
	const char *a[] = { "retain-daily", "10", "retain-weekly", "6", "weekly-on",
			    "Wed", "retain-monthly", "5", "monthly-on", "last",
			    "retain-yearly", "3", "yearly-in", "Jun", NULL };

	(void)s;
	simulate(a, 3);
	simulate(a, 4);
}

static void test_retention__daily_and_monthly_on_the_15th(void **s)
{
	const char *a[] = { "retain-daily", "14", "retain-monthly", "12",
			    "monthly-on", "15", NULL };

	(void)s;
	simulate(a, 5);
}

/* Backups stop: every rule expires, and the point that was kept longest
 * stays, alone, until a newer point exists. */
static void test_retention__never_prunes_to_zero(void **s)
{
	static sim sm;
	sv_retention p;
	int64_t start = days_from_civil(2025, 1, 1), last = 0;
	size_t i;
	int d;

	(void)s;
	sv_retention_init(&p);
	opt(&p, "retain-daily", "7");
	opt(&p, "retain-monthly", "3");
	memset(&sm, 0, sizeof(sm));
	run_days(&p, &sm, start, 100, 9);
	for (i = 0; i < sm.nhist; i++)
		if (sm.hist[i].scheduled && sm.hist[i].local / DAY >=
		    days_from_civil(2025, 4, 1) && !last)
			last = sm.hist[i].local;   /* April's monthly point */
	for (d = 100; d < 1000; d++)
		prune(&p, &sm, (start + d) * DAY);
	assert_int_equal(sm.nlive, 1);
	assert_true(sm.hist[sm.live[0]].local == last);
	/* A new backup: kept by the daily rule; the old one goes. */
	add_point(&sm, (start + 1000) * DAY + 21 * 3600, 1);
	prune(&p, &sm, (start + 1000) * DAY + 22 * 3600);
	assert_int_equal(sm.nlive, 1);
	assert_true(sm.hist[sm.live[0]].local == (start + 1000) * DAY + 21 * 3600);
}

/* A failed weekly day: the next successful backup is the week's point. */
static void test_retention__failed_weekly_day_passes_the_role_on(void **s)
{
	sv_retention p;
	sv_retention_point pts[3];
	int64_t sun = days_from_civil(2026, 11, 1);   /* a Sunday */

	(void)s;
	sv_retention_init(&p);
	opt(&p, "retain-daily", "7");
	opt(&p, "retain-weekly", "4");
	memset(pts, 0, sizeof(pts));
	pts[0].local = (sun - 1) * DAY + 21 * 3600;    /* Saturday */
	pts[0].scheduled = 1;
	pts[1].local = (sun + 1) * DAY + 10 * 3600;    /* Monday, ad-hoc */
	pts[2].local = (sun + 1) * DAY + 21 * 3600;    /* Monday */
	pts[2].scheduled = 1;
	sv_retention_apply(&p, pts, 3, (sun + 20) * DAY);
	assert_false(pts[1].keep);
	assert_true(pts[2].keep);
	assert_non_null(strstr(pts[2].reason, "weekly (week from 2026-11-01)"));
	assert_true(pts[0].keep);   /* the week before's point */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retention__ranges),
		cmocka_unit_test(test_retention__validate_names_the_missing_option),
		cmocka_unit_test(test_retention__json_round_trip_and_merge),
		cmocka_unit_test(test_retention__years_of_backups_sunday_first),
		cmocka_unit_test(test_retention__years_of_backups_wednesday_last_june),
		cmocka_unit_test(test_retention__daily_and_monthly_on_the_15th),
		cmocka_unit_test(test_retention__never_prunes_to_zero),
		cmocka_unit_test(test_retention__failed_weekly_day_passes_the_role_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
