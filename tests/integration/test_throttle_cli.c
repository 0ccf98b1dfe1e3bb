/*
 * test_throttle_cli.c - `sysvault throttle set|show|off` through the
 * binary: the settings land in config.json, bad input is refused with a
 * one-line error and exit code 3 leaving the file as it was, a malformed
 * stored schedule is named, and a local vault works (unthrottled) with a
 * schedule set.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

#define PASS "correct horse battery staple"

typedef struct env {
	char *dir, *home_env, *config;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("throttle");
	if (!e->dir)
		return -1;
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s", e->dir);
	e->config = sv_path_join(e->dir, "config.json");
	cli_env_vault(e->home_env, "SYSVAULT_PASSPHRASE=" PASS);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->home_env);
	free(e->config);
	free(e);
	return 0;
}

static json_t *show_json(void)
{
	const char *a[] = {"--json", "throttle", "show", NULL};
	json_t *j = NULL;
	cli_run r;

	cli_expect(&r, a, 0, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "throttle show"));
	cli_done(&r);
	return j;
}

static char *config_text(const env *e)
{
	char *text = NULL;
	size_t len;

	if (sv_fs_read_all(&text, &len, e->config, 1 << 20) < 0)
		return sv_strdup("");
	return text;
}

static void test_throttle_cli__set_show_off(void **state)
{
	const char *set[] = {
		"throttle",	"set",	       "--work-days", "Mon-Fri",
		"--work-hours", "08:00-18:00", "--work-rate", "4Mbps",
		"--off-rate",	"200Mbps",     NULL};
	const char *off[] = {"throttle", "off", NULL};
	json_t *j;
	cli_run r;

	(void)state;
	j = show_json();
	assert_false(json_is_true(json_object_get(j, "enabled")));
	json_decref(j);
	cli_expect(&r, set, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "4Mbps"));
	cli_done(&r);
	j = show_json();
	assert_true(json_is_true(json_object_get(j, "enabled")));
	assert_string_equal(json_string_value(json_object_get(j, "days")),
			    "Mon-Fri");
	assert_string_equal(json_string_value(json_object_get(j, "hours")),
			    "08:00-18:00");
	assert_int_equal(json_integer_value(json_object_get(j, "work_bps")),
			 4000000);
	assert_int_equal(json_integer_value(json_object_get(j, "off_bps")),
			 200000000);
	json_decref(j);
	cli_expect(&r, off, 0, NULL);
	cli_done(&r);
	j = show_json();
	assert_false(json_is_true(json_object_get(j, "enabled")));
	json_decref(j);
}

static void test_throttle_cli__bad_input_leaves_the_config_alone(void **state)
{
	env *e = *state;
	const char *good[] = {"throttle",    "set",	    "--work-hours",
			      "22:00-06:00", "--work-rate", "1.5Mbps",
			      NULL};
	const char *bad[][12] = {
		{"throttle", "set", "--work-hours", "8-18", "--work-rate",
		 "4Mbps", NULL},
		{"throttle", "set", "--work-hours", "08:00-18:00",
		 "--work-rate", "4MB", NULL},
		{"throttle", "set", "--work-hours", "08:00-18:00",
		 "--work-rate", "4Mbps", "--work-days", "Mon-Funday", NULL},
		{"throttle", "set", "--work-hours", "08:00-18:00",
		 "--work-rate", "4Mbps", "--off-rate", "lots", NULL},
		{"throttle", "set", "--work-rate", "4Mbps", NULL},
		{"throttle", "show", "now", NULL},
	};
	const char *why[] = {"--work-hours '8-18'",
			     "--work-rate '4MB'",
			     "--work-days 'Mon-Funday'",
			     "--off-rate 'lots'",
			     "--work-hours and --work-rate are required",
			     "unexpected argument 'now'"};
	char *before, *after;
	cli_run r;
	size_t i;

	cli_expect(&r, good, 0, NULL);
	cli_done(&r);
	before = config_text(e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cli_expect(&r, bad[i], 3, why[i]);
		cli_done(&r);
		after = config_text(e);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
}

static void test_throttle_cli__malformed_schedule_is_named(void **state)
{
	env *e = *state;
	const char *show[] = {"throttle", "show", NULL};
	const char *text =
		"{\"throttle\": {\"days\": \"Mon-Fri\", \"hours\": "
		"\"08:00-18:00\", \"work_bps\": \"fast\", \"off_bps\": 0}}";
	cli_run r;

	sv_assert_ok(sv_fs_write_atomic(e->config, text, strlen(text), 0));
	cli_expect(&r, show, 2, "throttle.work_bps");
	cli_done(&r);
}

static void test_throttle_cli__local_vault_works_with_a_schedule(void **state)
{
	env *e = *state;
	char *vault = sv_path_join(e->dir, "vault");
	char *src = sv_path_join(e->dir, "src");
	char *file = sv_path_join(src, "a.bin");
	const char *set[] = {"throttle",    "set",	    "--work-days",
			     "Sun-Sat",	    "--work-hours", "00:00-24:00",
			     "--work-rate", "8Kbps",	    NULL};
	const char *init[] = {"vault", "init", "--vault", vault, NULL};
	const char *backup[] = {"backup",  "--source-dir", src,
				"--vault", vault,	   NULL};
	static char data[1 << 20];
	cli_run r;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 131 + i / 4096);
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	sv_assert_ok(sv_fs_write_atomic(file, data, sizeof(data), 0));
	cli_expect(&r, set, 0, NULL);
	cli_done(&r);
	cli_expect(&r, init, 0, NULL);
	cli_done(&r);
	/* 1 MiB at 8 Kbps would take over 17 minutes: the test's time limit
	 * fails it if a local vault were throttled */
	cli_expect(&r, backup, 0, NULL);
	cli_done(&r);
	free(vault);
	free(src);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_throttle_cli__set_show_off,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_throttle_cli__bad_input_leaves_the_config_alone,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_throttle_cli__malformed_schedule_is_named, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_throttle_cli__local_vault_works_with_a_schedule,
			setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
