/*
 * test_jobs_cli.c - the job store through the binary, with the wbadmin
 * simulator: completed and failed jobs with their stable codes, skipped
 * preflight checks in the details, a killed backup found interrupted, the
 * one-backup lock, and `jobs cancel` stopping a hung backup.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"

/* Wine lacks the wbengine and VSS services the preflight rightly wants
 * (see test_wsb_cli.c). */
#ifdef _WIN32
#define WINE_SKIPS "--skip-check", "PF001", "--skip-check", "PF002",
#else
#define WINE_SKIPS
#endif

typedef struct env {
	char *dir, *vault;
	char *home_env, *wbadmin_env, *fail_env, *sim_env, *wbadmin;
} env;

static void set_fail(env *e, const char *mode)
{
	free(e->fail_env);
	e->fail_env = sv_aprintf("WBADMIN_SIM_FAIL=%s", mode ? mode : "");
	cli_env[5] = e->fail_env;
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("jobs");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->vault = sv_path_join(e->dir, "vault");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	e->wbadmin_env = sv_aprintf("SYSVAULT_WBADMIN=%s", e->wbadmin);
	e->sim_env = sv_aprintf("WBADMIN_SIM_STATE=%s%csim", e->dir, SV_PATH_SEP);
	cli_env[0] = e->home_env;
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_env[2] = e->wbadmin_env;
	cli_env[3] = "WBADMIN_SIM_SIZE=8M";
	cli_env[4] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[6] = e->sim_env;
	cli_env[7] = "WBADMIN_SIM_LANG=";
	cli_env[8] = NULL;
	set_fail(e, NULL);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->home_env);
	free(e->wbadmin_env);
	free(e->fail_env);
	free(e->sim_env);
	free(e->wbadmin);
	free(e);
	return 0;
}

static json_t *expect_json(const char *const *args, int code)
{
	json_t *j = NULL;
	cli_run r;

	cli_expect(&r, args, code, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "sysvault output"));
	cli_done(&r);
	return j;
}

static void init_vault(env *e)
{
	const char *a[] = { "vault", "init", "--vault", e->vault, NULL };
	cli_run r;

	cli_expect(&r, a, 0, NULL);
	cli_done(&r);
}

/* `jobs show <id> --json`. */
static json_t *job(int64_t id)
{
	char num[32];
	const char *a[] = { "--json", "jobs", "show", num, NULL };

	snprintf(num, sizeof(num), "%lld", (long long)id);
	return expect_json(a, 0);
}

/* The newest job in `jobs --json`, or NULL when there is none. */
static json_t *newest_job(void)
{
	const char *a[] = { "--json", "jobs", "--limit", "1", NULL };
	json_t *list = expect_json(a, 0), *j = json_incref(json_array_get(list, 0));

	json_decref(list);
	return j;
}

static const char *s(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "";
}

static int64_t n(json_t *j, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(j, key));
}

static void assert_job(json_t *j, const char *state, const char *code)
{
	if (strcmp(s(j, "state"), state) || (code && strcmp(s(j, "error_code"), code))) {
		char *dump = sv_json_dump(j, 1);

		fail_msg("expected a %s job (%s): %s", state, code ? code : "no code", dump);
	}
}

static void test_jobs_cli__completed_and_failed_backups(void **state)
{
	env *e = *state;
	const char *a[] = { "--json", "backup", WINE_SKIPS "--vault", e->vault, NULL };
	json_t *sum, *j;
	cli_run r;

	init_vault(e);
	sum = expect_json(a, 0);
	j = job(n(sum, "job"));
	assert_job(j, "completed", NULL);
	assert_string_equal(s(j, "kind"), "backup");
	assert_int_equal(n(j, "bytes_read"), n(sum, "bytes_read"));
	assert_true(n(j, "bytes_stored") > 0);
	assert_string_equal(s(json_object_get(j, "details"), "point"), s(sum, "point"));
	json_decref(j);
	json_decref(sum);

	set_fail(e, "vss_timeout");
	cli_expect(&r, a, 2, "WSB_VSS_TIMEOUT");
	cli_done(&r);
	j = newest_job();
	assert_job(j, "failed", "WSB_VSS_TIMEOUT");
	assert_non_null(strstr(s(j, "message"), "Fix:"));
	assert_int_equal(n(j, "bytes_stored"), 0);
	json_decref(j);
	{
		const char *b[] = { "--json", "jobs", NULL };
		json_t *list = expect_json(b, 0);

		assert_int_equal(json_array_size(list), 2);
		json_decref(list);
	}
}

#ifndef _WIN32
#include <unistd.h>

static void test_jobs_cli__preflight_failure_and_skipped_checks(void **state)
{
	env *e = *state;
	char *real = sv_path_join(e->dir, "scratch-real"), *link = sv_path_join(e->dir, "scratch-link");
	const char *a[] = { "backup", "--vault", e->vault, "--scratch", link, NULL };
	const char *b[] = { "backup", "--vault", e->vault, "--scratch", link,
			    "--skip-check", "PF004", NULL };
	json_t *j, *skipped;
	cli_run r;

	init_vault(e);
	sv_assert_ok(sv_fs_mkdir_p(real, 0));
	assert_int_equal(symlink(real, link), 0);
	cli_expect(&r, a, 2, "preflight PF004 failed");
	cli_done(&r);
	j = newest_job();
	assert_job(j, "failed", "PF004");
	json_decref(j);
	cli_expect(&r, b, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "(job 2)"));
	cli_done(&r);
	j = newest_job();
	assert_job(j, "completed", NULL);
	skipped = json_object_get(json_object_get(j, "details"), "skipped_checks");
	assert_int_equal(json_array_size(skipped), 1);
	assert_string_equal(json_string_value(json_array_get(skipped, 0)), "PF004");
	json_decref(j);
	free(real);
	free(link);
}
#endif

/* Ends a simulated wbadmin that the killed sysvault left hanging. */
static void stop_sim(env *e)
{
	const char *argv[] = { e->wbadmin, "stop", "job", "-quiet", NULL };
	sv_proc_opts o;
	sv_proc_result res;

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env_set = cli_env;
	o.timeout_ms = 30000;
	sv_proc_run(&res, &o);
}

static void test_jobs_cli__killed_backup_is_interrupted(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", WINE_SKIPS "--vault", e->vault,
			    "--wbadmin-timeout", "120s", NULL };
	json_t *j;
	cli_run r;
	char pid[64];

	init_vault(e);
	set_fail(e, "hang");
	cli_killed(&r, a, 3000);
	assert_int_equal(r.code, -1);
	cli_done(&r);
	set_fail(e, NULL);
	stop_sim(e);
	/* The next start of sysvault finds the job's process gone. */
	j = newest_job();
	assert_job(j, "failed", "INTERRUPTED");
	snprintf(pid, sizeof(pid), "(pid %lld) ended without finishing", (long long)n(j, "pid"));
	assert_non_null(strstr(s(j, "message"), pid));
	assert_non_null(json_string_value(json_object_get(j, "ended")));
	json_decref(j);
}

/* Waits until the newest job is a running backup; returns its id. */
static int64_t wait_running(void)
{
	uint64_t until = sv_time_mono_ms() + 60000;
	int64_t id = 0;
	json_t *j;

	while (!id && sv_time_mono_ms() < until) {
		j = newest_job();
		if (j && !strcmp(s(j, "state"), "running") && !strcmp(s(j, "kind"), "backup"))
			id = n(j, "id");
		json_decref(j);
		if (!id)
			sv_time_sleep_ms(200);
	}
	assert_true(id > 0);
	return id;
}

static void test_jobs_cli__one_backup_at_a_time_and_cancel(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", WINE_SKIPS "--vault", e->vault,
			    "--wbadmin-timeout", "120s", NULL };
	char num[32], want[96];
	const char *cancel[] = { "jobs", "cancel", num, NULL };
	cli_bg *bg;
	json_t *j;
	cli_run r;
	uint64_t t0;
	int64_t id;

	init_vault(e);
	set_fail(e, "hang");
	bg = cli_start(a);
	id = wait_running();
	sv_time_sleep_ms(1000);   /* let it reach wbadmin */
	snprintf(want, sizeof(want), "a backup is already running: job %lld (pid", (long long)id);
	cli_expect(&r, a, 2, want);
	cli_done(&r);

	snprintf(num, sizeof(num), "%lld", (long long)id);
	cli_expect(&r, cancel, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "within 2 s"));
	cli_done(&r);
	t0 = sv_time_mono_ms();
	cli_wait(bg, &r);
	if (r.code != 4)
		fail_msg("exit %d after jobs cancel (expected 4): %s", r.code, r.err.ptr);
	assert_true(sv_time_mono_ms() - t0 < 20000);
	cli_done(&r);
	set_fail(e, NULL);
	j = job(id);
	assert_job(j, "cancelled", NULL);
	assert_true(json_is_true(json_object_get(j, "cancel_requested")));
	json_decref(j);
	snprintf(want, sizeof(want), "job %lld is not running", (long long)id);
	cli_expect(&r, cancel, 2, want);
	cli_done(&r);
	{
		const char *none[] = { "jobs", "show", "999", NULL };

		cli_expect(&r, none, 2, "no job 999");
		cli_done(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_cli__completed_and_failed_backups, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_jobs_cli__preflight_failure_and_skipped_checks, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_jobs_cli__killed_backup_is_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_cli__one_backup_at_a_time_and_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
