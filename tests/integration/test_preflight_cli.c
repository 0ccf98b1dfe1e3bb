/*
 * test_preflight_cli.c - `sysvault preflight` through the binary: every
 * check reports a verdict; on Linux the Windows-only checks skip with "not
 * Windows" and the portable ones run; under Wine (which lacks several
 * services) PF002 fails and names them; --save/--from round-trip.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

static json_t *check(json_t *report, const char *id)
{
	json_t *checks = json_object_get(report, "checks"), *c;
	size_t i;

	json_array_foreach(checks, i, c) {
		if (!strcmp(json_string_value(json_object_get(c, "id")), id))
			return c;
	}
	fail_msg("no check %s in the report", id);
	return NULL;
}

static const char *verdict(json_t *report, const char *id)
{
	return json_string_value(json_object_get(check(report, id), "verdict"));
}

static void test_preflight_cli__reports_every_check(void **s)
{
	char *dir = sv_test_tmpdir("preflight"), *home, *bundle;
	const char *a[] = { "--json", "preflight", "--save", NULL, NULL };
	json_t *rep = NULL;
	cli_run r;
	int i;

	(void)s;
	home = sv_aprintf("SYSVAULT_HOME=%s", dir);
	bundle = sv_path_join(dir, "bundle.json");
	a[3] = bundle;
	cli_env[0] = home;
	cli_env[1] = NULL;
	cli(&r, a);
	assert_true(r.code >= 0 && r.code <= 2);
	sv_assert_ok(sv_json_parse(&rep, r.out.ptr, r.out.len, "preflight --json"));
	for (i = 1; i <= 15; i++) {
		char id[8];

		snprintf(id, sizeof(id), "PF%03d", i);
		assert_non_null(verdict(rep, id));
	}
#ifdef _WIN32
	/* Under Wine, EventSystem, SENS, VSS and swprv do not exist. */
	if (!strcmp(verdict(rep, "PF002"), "fail")) {
		const char *why = json_string_value(json_object_get(check(rep, "PF002"), "reason"));

		assert_non_null(why);
		assert_non_null(strstr(why, "VSS"));
		assert_int_equal(r.code, 2);
	}
#else
	assert_string_equal(verdict(rep, "PF002"), "skip");
	assert_non_null(strstr(json_string_value(json_object_get(check(rep, "PF002"), "reason")),
			       "not Windows"));
	assert_string_equal(verdict(rep, "PF015"), "pass");
	assert_string_not_equal(verdict(rep, "PF006"), "skip");
#endif
	cli_done(&r);
	{
		/* The saved bundle re-evaluates to the same verdicts. */
		const char *b[] = { "--json", "preflight", "--from", bundle, NULL };
		json_t *again = NULL;

		cli(&r, b);
		sv_assert_ok(sv_json_parse(&again, r.out.ptr, r.out.len, "preflight --from"));
		for (i = 1; i <= 15; i++) {
			char id[8];

			snprintf(id, sizeof(id), "PF%03d", i);
			assert_string_equal(verdict(rep, id), verdict(again, id));
		}
		json_decref(again);
		cli_done(&r);
	}
	json_decref(rep);
	sv_fs_remove_tree(dir);
	free(dir);
	free(home);
	free(bundle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preflight_cli__reports_every_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
