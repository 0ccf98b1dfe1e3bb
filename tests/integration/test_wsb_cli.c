/*
 * test_wsb_cli.c - the system-state backup through the binary, with the
 * wbadmin simulator standing in for Windows Server Backup: backup, dedup
 * across days, restore + apply (the simulator checks byte identity), every
 * failure the simulator can produce, hung and crashed wbadmin.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"

/* These tests are about the wbadmin driver; the preflight checks that
 * judge the host (CLI_SKIPS, sv_cli.h) have tests of their own. */
#define DAY 86400

typedef struct env {
	char *dir, *vault, *out;
	char *home_env, *wbadmin_env, *now_env, *fail_env, *fake_env, *sim_env;
	int64_t now;
} env;

/* Moves wbadmin's and sysvault's clocks to another day. */
static void set_day(env *e, int day)
{
	long long t = (long long)(e->now + (int64_t)day * DAY);

	free(e->now_env);
	free(e->fake_env);
	e->now_env = sv_aprintf("WBADMIN_SIM_NOW=%lld", t);
	e->fake_env = sv_aprintf("SYSVAULT_FAKE_NOW=%lld", t);
	cli_env[3] = e->now_env;
	cli_env[9] = e->fake_env;
}

static void set_fail(env *e, const char *mode)
{
	free(e->fail_env);
	e->fail_env = mode ? sv_aprintf("WBADMIN_SIM_FAIL=%s", mode) : sv_strdup("WBADMIN_SIM_FAIL=");
	cli_env[6] = e->fail_env;
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	char *bin = sv_test_bin("wbadmin");

	e->dir = sv_test_tmpdir("wsb");
	if (!e->dir || !bin)
		return -1;
	e->vault = cli_path(e->dir, "vault");
	e->out = cli_path(e->dir, "restored");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	e->wbadmin_env = sv_aprintf("SYSVAULT_WBADMIN=%s", bin);
	e->now = 1795226400;   /* 2026-11-21 02:00 UTC */
	cli_env[0] = e->home_env;
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_env[2] = e->wbadmin_env;
	cli_env[4] = "WBADMIN_SIM_SIZE=24M";
	cli_env[5] = "WBADMIN_SIM_MACHINE=SRV Büro 01";
	cli_env[7] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[8] = "WBADMIN_SIM_LANG=";
	/* The simulator's job markers: private, so that `stop job` here never
	 * stops another test's wbadmin. */
	e->sim_env = sv_aprintf("WBADMIN_SIM_STATE=%s%csim", e->dir, SV_PATH_SEP);
	cli_env[10] = e->sim_env;
	cli_env[11] = NULL;
	set_day(e, 0);
	set_fail(e, NULL);
	free(bin);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->out);
	free(e->home_env);
	free(e->wbadmin_env);
	free(e->now_env);
	free(e->fail_env);
	free(e->fake_env);
	free(e->sim_env);
	free(e);
	return 0;
}

static json_t *backup(env *e)
{
	const char *a[] = { "--json", "backup", CLI_SKIPS "--vault", e->vault, NULL };
	json_t *j = NULL;
	cli_run r;

	cli_expect(&r, a, 0, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "backup output"));
	cli_done(&r);
	return j;
}

static size_t count_points(env *e)
{
	const char *a[] = { "--json", "points", "--vault", e->vault, NULL };
	json_t *j = NULL;
	cli_run r;
	size_t n;

	cli_expect(&r, a, 0, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "points"));
	n = json_array_size(j);
	json_decref(j);
	cli_done(&r);
	return n;
}

static uint64_t field(json_t *j, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(j, k));
}

static void test_wsb_cli__backup_dedup_restore_apply(void **state)
{
	env *e = *state;
	json_t *s1, *s2;
	cli_run r;

	cli_init_vault(e->vault);
	s1 = backup(e);
	assert_non_null(json_string_value(json_object_get(s1, "wbadmin_version")));
	set_day(e, 1);
	s2 = backup(e);
	/* The next day's system state stores only a few percent. */
	assert_true(field(s2, "bytes_new") < field(s2, "bytes_read") / 10);
	assert_int_equal(count_points(e), 2);
	{
		const char *a[] = { "restore", "--point", "latest", "--to", e->out,
				    "--vault", e->vault, "--apply", NULL };

		cli_expect(&r, a, 0, NULL);
		assert_non_null(strstr(r.out.ptr, "wbadmin recovered the system state"));
		cli_done(&r);
	}
	{
		/* --apply refuses a directory that already holds a tree. */
		const char *a[] = { "restore", "--point", "latest", "--to", e->out,
				    "--vault", e->vault, "--overwrite", "--apply", NULL };

		cli_expect(&r, a, 3, "is not empty");
		cli_done(&r);
	}
	{
		/* The older point carries its own catalogue: it applies too. */
		char *older = cli_path(e->dir, "older");
		const char *a[] = { "restore", "--point", json_string_value(json_object_get(s1, "point")),
				    "--to", older, "--vault", e->vault, "--apply", NULL };

		cli_expect(&r, a, 0, NULL);
		cli_done(&r);
		free(older);
	}
	json_decref(s1);
	json_decref(s2);
}

static void test_wsb_cli__each_failure_has_its_code(void **state)
{
	static const struct { const char *mode, *code, *fix; } cases[] = {
		{ "vss_timeout", "WSB_VSS_TIMEOUT", "Fix:" },
		{ "shadow_storage", "WSB_SHADOW_STORAGE", "vssadmin resize shadowstorage" },
		{ "efi_locked", "WSB_EFI_LOCKED", "Fix:" },
		{ "not_installed", "WSB_NOT_INSTALLED", "Install-WindowsFeature -Name Windows-Server-Backup" },
		{ "critical_volume", "WSB_TARGET_CRITICAL", "Fix:" },
		{ "invalid_path", "WSB_INVALID_WRITER_PATH", "Fix:" },
		{ "access_denied", "WSB_ACCESS_DENIED", "Fix:" },
		{ NULL, NULL, NULL }
	};
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, NULL };
	int i;

	cli_init_vault(e->vault);
	for (i = 0; cases[i].mode; i++) {
		cli_run r;

		set_fail(e, cases[i].mode);
		cli_expect(&r, a, 2, cases[i].code);
		if (!strstr(r.err.ptr, cases[i].fix))
			fail_msg("%s: no fix text in: %s", cases[i].mode, r.err.ptr);
		cli_done(&r);
	}
	set_fail(e, NULL);
	assert_int_equal(count_points(e), 0);
	{
		/* Each failure is a failed job carrying its code. */
		const char *j[] = { "--json", "jobs", NULL };
		json_t *jobs = NULL, *job;
		cli_run r;
		size_t k;

		cli_expect(&r, j, 0, NULL);
		sv_assert_ok(sv_json_parse(&jobs, r.out.ptr, r.out.len, "jobs"));
		for (i = 0; cases[i].mode; i++) {
			int found = 0;

			json_array_foreach(jobs, k, job) {
				const char *code = json_string_value(json_object_get(job, "error_code"));
				const char *st = json_string_value(json_object_get(job, "state"));

				found |= code && !strcmp(code, cases[i].code) &&
					 st && !strcmp(st, "failed");
			}
			if (!found)
				fail_msg("no failed job with %s: %s", cases[i].code, r.out.ptr);
		}
		json_decref(jobs);
		cli_done(&r);
	}
}

static void test_wsb_cli__hang_ends_by_timeout(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, "--wbadmin-timeout", "3s", NULL };
	uint64_t t0;
	cli_run r;

	cli_init_vault(e->vault);
	set_fail(e, "hang");
	t0 = sv_time_mono_ms();
	cli_expect(&r, a, 2, "WSB_TIMEOUT");
	assert_true(sv_time_mono_ms() - t0 < 60000);
	cli_done(&r);
	set_fail(e, NULL);
	assert_int_equal(count_points(e), 0);
}

#ifndef _WIN32
static void test_wsb_cli__hang_ends_by_cancel(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, NULL };
	cli_run r;

	cli_init_vault(e->vault);
	set_fail(e, "hang");
	cli_interrupted(&r, a, 2000);
	if (r.code != 4)
		fail_msg("exit %d after a cancel (expected 4): %s", r.code, r.err.ptr);
	assert_non_null(strstr(r.err.ptr, "cancelled"));
	cli_done(&r);
	set_fail(e, NULL);
	assert_int_equal(count_points(e), 0);
}
#endif

#ifndef _WIN32
#include <unistd.h>

/* A blocking preflight failure stops the backup before wbadmin runs;
 * --skip-check lets an administrator who knows better go on. */
static void test_wsb_cli__preflight_failure_blocks_backup(void **state)
{
	env *e = *state;
	char *real = cli_path(e->dir, "scratch-real"), *link = cli_path(e->dir, "scratch-link");
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, "--scratch", link, NULL };
	const char *b[] = { "backup", CLI_SKIPS "--vault", e->vault, "--scratch", link,
			    "--skip-check", "PF004", NULL };
	const char *c[] = { "backup", "--vault", e->vault, "--skip-check", "PF999", NULL };
	cli_run r;

	cli_init_vault(e->vault);
	sv_assert_ok(sv_fs_mkdir_p(real, 0));
	assert_int_equal(symlink(real, link), 0);
	cli_expect(&r, a, 2, "preflight PF004 failed");
	assert_non_null(strstr(r.err.ptr, "Fix:"));
	cli_done(&r);
	assert_int_equal(count_points(e), 0);
	cli_expect(&r, b, 0, "PF004 skipped");
	cli_done(&r);
	assert_int_equal(count_points(e), 1);
	cli_expect(&r, c, 3, "--skip-check");
	cli_done(&r);
	free(real);
	free(link);
}
#endif

static void test_wsb_cli__crash_midway_then_success(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, NULL };
	json_t *s;
	cli_run r;

	cli_init_vault(e->vault);
	set_fail(e, "crash_midway");
	cli(&r, a);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.ptr, "WSB_"));
	cli_done(&r);
	set_fail(e, NULL);
	assert_int_equal(count_points(e), 0);
	set_day(e, 1);
	s = backup(e);
	assert_int_equal(count_points(e), 1);
	json_decref(s);
}

static void test_wsb_cli__versions_json(void **state)
{
	env *e = *state;
	const char *a[] = { "--json", "wsb", "versions", NULL };
	json_t *j = NULL;
	cli_run r;

	cli_init_vault(e->vault);
	json_decref(backup(e));
	set_day(e, 1);
	json_decref(backup(e));
	cli_expect(&r, a, 0, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "wsb versions"));
	/* Old versions are trimmed from the staging volume after a backup. */
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	cli_done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wsb_cli__backup_dedup_restore_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wsb_cli__each_failure_has_its_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wsb_cli__hang_ends_by_timeout, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_wsb_cli__hang_ends_by_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wsb_cli__preflight_failure_blocks_backup, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_wsb_cli__crash_midway_then_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wsb_cli__versions_json, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
