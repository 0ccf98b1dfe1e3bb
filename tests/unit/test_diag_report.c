/*
 * test_diag_report.c - the report as text and as JSON, and the bundle:
 * save, load, re-evaluate, and what the loader refuses.
 */
#include "sv_test.h"

#include "diag.h"
#include "diag_int.h"
#include "sv_fs.h"
#include "sv_path.h"

static diag_report *load(const char *name)
{
	char *path = sv_aprintf("%s/preflight/%s", SV_TEST_FIXTURES, name);
	diag_report *r = NULL;

	sv_assert_ok(diag_load(&r, path));
	sv_assert_ok(diag_evaluate(r, NULL));
	free(path);
	return r;
}

static char *text_of(const diag_report *r, unsigned width)
{
	sv_buf b;

	sv_buf_init(&b, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(diag_report_text(r, &b, width));
	return sv_buf_take(&b);
}

static void test_diag_report__text_has_one_line_per_check(void **s)
{
	diag_report *r = load("healthy.json");
	char *t = text_of(r, 0);
	const char *p = t;
	unsigned lines = 0;

	(void)s;
	while ((p = strchr(p, '\n')) != NULL) {
		lines++;
		p++;
	}
	assert_int_equal(lines, 16); /* 15 checks and the summary */
	assert_non_null(strstr(t, "PF001  pass  Windows Server Backup "
				  "installed  wbadmin at "));
	assert_non_null(strstr(t, "15 pass, 0 warn, 0 fail, 0 skip in 2.1 s "
				  "on SRV-DC01\n"));
	assert_null(strstr(t, "fix:"));
	free(t);
	diag_report_free(r);
}

static void test_diag_report__text_puts_the_fix_under_a_failure(void **s)
{
	diag_report *r = load("azure-vm.json");
	char *t = text_of(r, 0);
	const char *line = strstr(t, "PF014  FAIL  Not an Azure VM");

	(void)s;
	assert_non_null(line);
	line = strchr(line, '\n') + 1;
	assert_true(sv_str_startswith(line, "             fix: System-state "
					    "backup is not supported"));
	assert_non_null(strstr(t, "14 pass, 0 warn, 1 fail, 0 skip"));
	free(t);
	diag_report_free(r);
}

static void test_diag_report__text_cuts_lines_to_the_terminal(void **s)
{
	diag_report *r = load("healthy.json");
	char *t = text_of(r, 80);
	const char *p = t, *nl;

	(void)s;
	while ((nl = strchr(p, '\n')) != NULL) {
		assert_true(nl - p <= 80);
		p = nl + 1;
	}
	assert_non_null(strstr(t, "...\n"));
	free(t);
	diag_report_free(r);
}

static void test_diag_report__json_holds_every_check_and_its_evidence(void **s)
{
	diag_report *r = load("clock-20min-behind.json");
	json_t *j = diag_report_json(r), *checks, *c;
	size_t i;

	(void)s;
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "format")),
			    "sysvault-preflight");
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(j, "summary"), "fail")),
			 1);
	checks = json_object_get(j, "checks");
	assert_int_equal(json_array_size(checks), 15);
	json_array_foreach(checks, i, c)
	{
		assert_true(json_is_object(json_object_get(c, "evidence")));
		assert_non_null(
			json_string_value(json_object_get(c, "verdict")));
	}
	c = json_array_get(checks, 10);
	assert_string_equal(json_string_value(json_object_get(c, "id")),
			    "PF011");
	assert_string_equal(json_string_value(json_object_get(c, "verdict")),
			    "fail");
	assert_true(json_is_string(json_object_get(c, "fix")));
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(c, "evidence"), "ping"),
			"server_time")),
		1795001200);
	json_decref(j);
	diag_report_free(r);
}

static void test_diag_report__save_then_load_gives_the_same_verdicts(void **s)
{
	char *dir = sv_test_tmpdir("diag-report");
	char *path = sv_path_join(dir, "bundle.json");
	diag_report *a = load("writers-failed.json"), *b = NULL;
	json_t *ja, *jb;

	(void)s;
	sv_assert_ok(diag_save(a, path));
	sv_assert_ok(diag_load(&b, path));
	sv_assert_ok(diag_evaluate(b, NULL));
	ja = diag_report_json(a);
	jb = diag_report_json(b);
	assert_true(json_equal(ja, jb));
	json_decref(ja);
	json_decref(jb);
	diag_report_free(a);
	diag_report_free(b);
	sv_fs_remove_tree(dir);
	free(path);
	free(dir);
}

static void test_diag_report__verdicts_in_a_bundle_are_not_trusted(void **s)
{
	static const char lying[] =
		"{\"format\":\"sysvault-preflight\",\"version\":1,"
		"\"platform\":\"windows\",\"checks\":[{\"id\":\"PF014\","
		"\"verdict\":\"pass\",\"evidence\":{\"manufacturer\":"
		"\"Microsoft Corporation\",\"product\":\"Virtual Machine\","
		"\"chassis_asset_tag\":\"7783-7084-3265-9085-8269-3286-77\"}},"
		"{\"id\":\"PF999\",\"evidence\":{}},{\"id\":\"PF014\","
		"\"evidence\":{}}]}";
	diag_report *r = NULL;
	diag_result res;

	(void)s;
	sv_assert_ok(diag_load_mem(&r, lying, strlen(lying)));
	sv_assert_ok(diag_evaluate(r, NULL));
	sv_assert_ok(diag_result_at(r, 13, &res));
	assert_int_equal(res.verdict, DIAG_FAIL);
	/* Checks the bundle lacks were not run. */
	sv_assert_ok(diag_result_at(r, 0, &res));
	assert_int_equal(res.verdict, DIAG_SKIP);
	assert_string_equal(res.reason, "not run");
	diag_report_free(r);
}

static void test_diag_report__load_refuses_what_is_not_a_bundle(void **s)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"format\":\"sysvault-preflight\"}",
		"{\"format\":\"other\",\"version\":1,\"checks\":[]}",
		"{\"format\":\"sysvault-preflight\",\"version\":2,"
		"\"checks\":[]}",
		"{\"format\":\"sysvault-preflight\",\"version\":1,"
		"\"checks\":{}}",
		"{\"format\":\"sysvault-preflight\",\"version\":1,"
		"\"checks\":[",
		NULL};
	diag_report *r = NULL;
	size_t i;

	(void)s;
	for (i = 0; bad[i]; i++) {
		assert_int_equal(diag_load_mem(&r, bad[i], strlen(bad[i])),
				 SV_ECORRUPT);
		assert_null(r);
	}
}

static void test_diag_report__evaluate_refuses_an_unknown_skip(void **s)
{
	const char *skip[] = {"PF016", NULL};
	diag_report *r = load("healthy.json");

	(void)s;
	assert_int_equal(diag_evaluate(r, skip), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "PF016"));
	assert_true(diag_check_exists("pf015"));
	assert_false(diag_check_exists("PF16"));
	diag_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_report__text_has_one_line_per_check),
		cmocka_unit_test(
			test_diag_report__text_puts_the_fix_under_a_failure),
		cmocka_unit_test(
			test_diag_report__text_cuts_lines_to_the_terminal),
		cmocka_unit_test(
			test_diag_report__json_holds_every_check_and_its_evidence),
		cmocka_unit_test(
			test_diag_report__save_then_load_gives_the_same_verdicts),
		cmocka_unit_test(
			test_diag_report__verdicts_in_a_bundle_are_not_trusted),
		cmocka_unit_test(
			test_diag_report__load_refuses_what_is_not_a_bundle),
		cmocka_unit_test(
			test_diag_report__evaluate_refuses_an_unknown_skip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
