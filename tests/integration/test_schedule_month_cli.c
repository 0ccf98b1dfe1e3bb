/*
 * test_schedule_month_cli.c - a simulated month of `backup --scheduled`
 * through the binary and the wbadmin simulator, on an injected clock
 * (SYSVAULT_FAKE_NOW): failures on some days (a Sunday among them, whose
 * weekly role passes to the next success), ad-hoc backups, repeated
 * scheduled runs in one window (skipped, no job), and the saved retention
 * applied after each scheduled backup. The vault must end with exactly
 * the points an expectation computed here names.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"
#define DAY 86400

typedef struct env {
	char *dir, *vault, *state;
	char *wbadmin;
	char now_env[64];
	cli_sim sim;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("month");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->vault = sv_path_join(e->dir, "vault");
	e->state = sv_path_join(e->dir, "state");
	cli_sim_env(&e->sim, e->dir, e->state, e->wbadmin,
		    "SYSVAULT_PASSPHRASE=" PASS, "WBADMIN_SIM_SIZE=2M");
	cli_env[CLI_SIM_SLOTS] = "TZ=UTC0";   /* local days are UTC days here */
	cli_env[CLI_SIM_SLOTS + 1] = e->now_env;
	cli_env[CLI_SIM_SLOTS + 2] = NULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->state);
	cli_sim_free(&e->sim);
	free(e->wbadmin);
	free(e);
	return 0;
}

static void at(env *e, int64_t t)
{
	snprintf(e->now_env, sizeof(e->now_env), "SYSVAULT_FAKE_NOW=%lld", (long long)t);
}

static size_t job_count(void)
{
	const char *a[] = { "--json", "jobs", NULL };
	json_t *j = cli_json(a, 0);
	size_t n = json_array_size(j);

	json_decref(j);
	return n;
}

/* ---- the expectation: daily 7, weekly 4 on Sunday ---- */

typedef struct made {
	int64_t t;
	int scheduled;
} made;

static int expected_keep(const made *m, size_t n, size_t i, int64_t now,
			 int64_t first_sunday)
{
	int64_t s, starts[16];
	size_t k = 0, j, b;

	if (now / DAY - m[i].t / DAY < 7)
		return 1;
	for (s = first_sunday; s * DAY <= now; s += 7)
		starts[k++] = s;
	for (b = k > 4 ? k - 4 : 0; b < k; b++) {
		for (j = 0; j < n; j++)
			if (m[j].scheduled && m[j].t >= starts[b] * DAY)
				break;
		if (j == i)
			return 1;
	}
	return 0;
}

/* ---- the month ---- */

static int fails(int day)
{
	/* Day 7 and 14 are Sundays (the month starts on Sunday 1 March);
	 * 14 and 15 fail together, so Tuesday takes the weekly role. */
	return day == 3 || day == 7 || day == 14 || day == 15 || day == 25;
}

static void run_backup(env *e, int64_t t, int scheduled, int code,
		       const char *in_out)
{
	const char *s[] = { "backup", CLI_SKIPS "--vault", e->vault, "--scheduled", NULL };
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, NULL };
	cli_run r;

	at(e, t);
	cli_expect(&r, scheduled ? s : a, code, NULL);
	if (in_out && !strstr(r.out.ptr, in_out))
		fail_msg("expected '%s' in: %s", in_out, r.out.ptr);
	cli_done(&r);
}

static void test_schedule_month__yields_exactly_the_expected_points(void **state)
{
	env *e = *state;
	int64_t day0 = 0, now = 0;
	made m[64];
	size_t n = 0, i, jobs;
	json_t *pts, *p;
	int d;

	{
		sv_tm tm = { 2026, 3, 1, 0, 0, 0, 0 };

		day0 = sv_time_from_tm(&tm) / DAY;
	}
	at(e, day0 * DAY);
	{
		const char *a[] = { "vault", "init", "--vault", e->vault, NULL };
		const char *b[] = { "vault", "prune", "--vault", e->vault,
				    "--retain-daily", "7", "--retain-weekly", "4",
				    "--weekly-on", "Sun", "--save", NULL };
		cli_run r;

		cli_expect(&r, a, 0, NULL);
		cli_done(&r);
		cli_expect(&r, b, 0, NULL);
		cli_done(&r);
	}
	{
		/* The schedule's window starts at 21:00 (written by `schedule
		 * set` on a real machine). */
		char *path = sv_path_join(e->state, "config.json"), *text;
		json_t *cfg = NULL;

		sv_assert_ok(sv_json_load_file(&cfg, path, 1 << 20));
		json_object_set_new(cfg, "schedule", json_pack("{s:s,s:[s]}", "time", "21:00",
							       "days", "Mon"));
		text = sv_json_dump(cfg, 1);
		sv_assert_ok(sv_fs_write_atomic(path, text, strlen(text), 1));
		free(text);
		free(path);
		json_decref(cfg);
	}
	for (d = 0; d < 30; d++) {
		int64_t t = (day0 + d) * DAY + 21 * 3600 + 5 * 60;

		if (d == 12) {
			run_backup(e, (day0 + d) * DAY + 10 * 3600, 0, 0, "recovery point");
			m[n].t = (day0 + d) * DAY + 10 * 3600;
			m[n++].scheduled = 0;
		}
		cli_sim_fail(&e->sim, fails(d) ? "vss_timeout" : NULL);
		run_backup(e, t, 1, fails(d) ? 2 : 0, fails(d) ? NULL : "recovery point");
		cli_sim_fail(&e->sim, NULL);
		if (!fails(d)) {
			m[n].t = t;
			m[n++].scheduled = 1;
			now = t;
		}
		if (d == 26) {
			/* Ad-hoc backups are always allowed, even in a window a
			 * scheduled point already covers. */
			run_backup(e, (day0 + d) * DAY + 22 * 3600, 0, 0, "recovery point");
			m[n].t = (day0 + d) * DAY + 22 * 3600;
			m[n++].scheduled = 0;
		}
		if (d == 8) {
			/* The same window again, late that night and the next
			 * morning: skipped, and no job is recorded. */
			jobs = job_count();
			run_backup(e, t + 2 * 3600, 1, 0, "scheduled backup skipped");
			run_backup(e, t + 5 * 3600 + 3000, 1, 0, "scheduled backup skipped");
			assert_int_equal(job_count(), jobs);
		}
	}
	{
		const char *a[] = { "--json", "points", "--vault", e->vault, NULL };
		size_t kept = 0, j;

		at(e, now);
		pts = cli_json(a, 0);
		for (i = 0; i < n; i++) {
			int want = expected_keep(m, n, i, now, day0);
			int have = 0;

			json_array_foreach(pts, j, p) {
				int64_t pt;

				sv_assert_ok(sv_time_parse_utc(&pt, json_string_value(json_object_get(p, "time"))));
				if (pt == m[i].t) {
					have = 1;
					assert_string_equal(json_string_value(json_object_get(p, "trigger")),
							    m[i].scheduled ? "scheduled" : "adhoc");
				}
			}
			if (have != want)
				fail_msg("point of day %lld %02lld:%02lld: in the vault %d, expected %d",
					 (long long)(m[i].t / DAY - day0), (long long)(m[i].t % DAY / 3600),
					 (long long)(m[i].t % 3600 / 60), have, want);
			kept += (size_t)want;
		}
		assert_int_equal(json_array_size(pts), kept);
		json_decref(pts);
	}
	{
		const char *a[] = { "vault", "check", "--vault", e->vault, NULL };
		cli_run r;

		cli_expect(&r, a, 0, NULL);
		cli_done(&r);
	}
	{
		/* The last scheduled backup's job records its prune. */
		const char *a[] = { "--json", "jobs", "--limit", "2", NULL };
		json_t *list = cli_json(a, 0), *prune;

		prune = json_object_get(json_object_get(json_array_get(list, 1), "details"), "prune");
		assert_non_null(prune);
		assert_true(json_integer_value(json_object_get(prune, "kept")) > 0);
		json_decref(list);
	}
}

/* A retention policy that cannot be applied (a hand-edited config.json
 * out of range) makes the scheduled backup completed with warnings. */
static void test_schedule_month__prune_failure_is_a_warning(void **state)
{
	env *e = *state;
	const char *a[] = { "vault", "init", "--vault", e->vault, NULL };
	const char *b[] = { "--json", "backup", CLI_SKIPS "--vault", e->vault, "--scheduled", NULL };
	char *path = sv_path_join(e->state, "config.json");
	const char *cfg = "{\"retention\": {\"daily\": 3}}";
	json_t *sum;
	cli_run r;

	at(e, 1780000000);
	cli_expect(&r, a, 0, NULL);
	cli_done(&r);
	sv_assert_ok(sv_fs_mkdir_p(e->state, 1));
	sv_assert_ok(sv_fs_write_atomic(path, cfg, strlen(cfg), 1));
	sum = cli_json(b, 1);
	assert_non_null(json_object_get(sum, "point"));
	json_decref(sum);
	{
		const char *c[] = { "--json", "jobs", "--limit", "1", NULL };
		json_t *list = cli_json(c, 0), *j = json_array_get(list, 0);

		assert_string_equal(json_string_value(json_object_get(j, "state")),
				    "completed_with_warnings");
		assert_non_null(strstr(json_string_value(json_object_get(j, "message")),
				       "retention was not applied"));
		json_decref(list);
	}
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schedule_month__yields_exactly_the_expected_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_month__prune_failure_is_a_warning, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
