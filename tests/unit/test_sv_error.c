#include "sv_test.h"
#include <errno.h>
#include "sv_error.h"

static void test_error__set_returns_code_and_keeps_message(void **s)
{
	(void)s;
	assert_int_equal(sv_error_set(SV_ENOTFOUND, "no vault at '%s'", "x"),
			 SV_ENOTFOUND);
	assert_int_equal(sv_error_code(), SV_ENOTFOUND);
	assert_string_equal(sv_error_msg(), "no vault at 'x'");
	sv_error_clear();
	assert_int_equal(sv_error_code(), 0);
	assert_string_equal(sv_error_msg(), "");
}

static void test_error__errno_text_is_appended(void **s)
{
	(void)s;
	errno = ENOENT;
	sv_error_set_errno(SV_ENOTFOUND, "cannot open '%s'", "f");
	assert_non_null(strstr(sv_error_msg(), "cannot open 'f': "));
	assert_true(strlen(sv_error_msg()) > strlen("cannot open 'f': "));
}

static void test_error__prefix_adds_context(void **s)
{
	(void)s;
	sv_error_set(SV_ECORRUPT, "bad header");
	sv_error_prefix("pack %s", "ab12");
	assert_string_equal(sv_error_msg(), "pack ab12: bad header");
	assert_int_equal(sv_error_code(), SV_ECORRUPT);
}

static void test_error__long_message_is_truncated_not_overflowed(void **s)
{
	char big[4000];

	(void)s;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sv_error_set(SV_EINVAL, "%s", big);
	assert_true(strlen(sv_error_msg()) < sizeof(big));
	sv_error_prefix("%s", big);
	assert_true(strlen(sv_error_msg()) < sizeof(big));
}

static void test_error__errno_mapping(void **s)
{
	(void)s;
	assert_int_equal(sv_err_from_errno(ENOSPC), SV_ENOSPC);
	assert_int_equal(sv_err_from_errno(EACCES), SV_EACCESS);
	assert_int_equal(sv_err_from_errno(EEXIST), SV_EEXISTS);
	assert_int_equal(sv_err_from_errno(ENOENT), SV_ENOTFOUND);
	assert_string_equal(sv_err_str(SV_EAUTH), "authentication failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__set_returns_code_and_keeps_message),
		cmocka_unit_test(test_error__errno_text_is_appended),
		cmocka_unit_test(test_error__prefix_adds_context),
		cmocka_unit_test(test_error__long_message_is_truncated_not_overflowed),
		cmocka_unit_test(test_error__errno_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
