/*
 * test_cli.c - the sysvault binary as a user runs it: help, version, and
 * the usage errors every command shares.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_buf.h"
#include "sv_json.h"

static void done(cli_run *r)
{
	cli_done(r);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_cli__help_lists_commands(void **s)
{
	const char *args[] = { "--help", NULL };
	cli_run r;

	(void)s;
	cli(&r, args);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out.ptr, "usage: sysvault"));
	assert_non_null(strstr(r.out.ptr, "version"));
	assert_non_null(strstr(r.out.ptr, "Exit codes: 0 ok, 1 warnings, 2 failure, 3 usage error, 4 cancelled."));
	done(&r);
}

static void test_cli__version_text_and_json(void **s)
{
	const char *a1[] = { "version", NULL };
	const char *a2[] = { "--json", "version", NULL };
	const char *a3[] = { "version", "--json", NULL };
	json_t *v = NULL;
	const char *ver;
	cli_run r;

	(void)s;
	cli(&r, a1);
	assert_int_equal(r.code, 0);
	assert_true(strncmp(r.out.ptr, "sysvault ", 9) == 0);
	done(&r);
	cli(&r, a2);
	assert_int_equal(r.code, 0);
	sv_assert_ok(sv_json_parse(&v, r.out.ptr, r.out.len, "version --json"));
	sv_assert_ok(sv_json_str(v, "version", &ver));
	assert_true(strlen(ver) >= 5);
	json_decref(v);
	done(&r);
	cli(&r, a3);   /* global options may follow the command */
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out.ptr[0], '{');
	done(&r);
}

static void test_cli__command_help(void **s)
{
	const char *a1[] = { "version", "--help", NULL };
	const char *a2[] = { "help", "version", NULL };
	cli_run r;

	(void)s;
	cli(&r, a1);
	assert_int_equal(r.code, 0);
	assert_true(strncmp(r.out.ptr, "usage: sysvault version", 23) == 0);
	done(&r);
	cli(&r, a2);
	assert_int_equal(r.code, 0);
	assert_true(strncmp(r.out.ptr, "usage: sysvault version", 23) == 0);
	done(&r);
}

/* A usage error: exit 3, nothing on stdout, a one-line error naming the
 * input first on stderr, then the usage. */
static void expect_usage_error(const char *const *args, const char *first_line)
{
	cli_run r;

	cli(&r, args);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.out.ptr, "");
	if (strncmp(r.err.ptr, first_line, strlen(first_line)) != 0)
		fail_msg("stderr starts with '%s', expected '%s'", r.err.ptr, first_line);
	assert_non_null(strstr(r.err.ptr, "usage: sysvault"));
	assert_true(count_lines(r.err.ptr) <= 4);
	done(&r);
}

static void test_cli__unknown_command_and_options_exit_3(void **s)
{
	const char *a1[] = { "frobnicate", NULL };
	const char *a2[] = { "--frobnicate", NULL };
	const char *a3[] = { "version", "--frobnicate", NULL };
	const char *a4[] = { "--state-dir", NULL };
	const char *a5[] = { "help", "frobnicate", NULL };

	(void)s;
	expect_usage_error(a1, "sysvault: unknown command 'frobnicate'\n");
	expect_usage_error(a2, "sysvault: unknown option '--frobnicate'\n");
	expect_usage_error(a3, "sysvault: unexpected argument '--frobnicate'\n");
	expect_usage_error(a4, "sysvault: option '--state-dir' needs a value\n");
	expect_usage_error(a5, "sysvault: unknown command 'frobnicate'\n");
}

static void test_cli__no_arguments_prints_usage_exit_3(void **s)
{
	const char *args[] = { NULL };
	cli_run r;

	(void)s;
	cli(&r, args);
	assert_int_equal(r.code, 3);
	assert_non_null(strstr(r.err.ptr, "usage: sysvault"));
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli__help_lists_commands),
		cmocka_unit_test(test_cli__version_text_and_json),
		cmocka_unit_test(test_cli__command_help),
		cmocka_unit_test(test_cli__unknown_command_and_options_exit_3),
		cmocka_unit_test(test_cli__no_arguments_prints_usage_exit_3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
