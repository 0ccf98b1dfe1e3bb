#include "sv_test.h"
#include "sv_buf.h"
#include "sv_path.h"

static void test_path__utf8_validation(void **s)
{
	(void)s;
	assert_true(sv_utf8_valid("Sauvegarde état", strlen("Sauvegarde état")));
	assert_true(sv_utf8_valid("\xe6\x97\xa5\xe6\x9c\xac", 6));
	assert_false(sv_utf8_valid("\xc0\xaf", 2));          /* overlong '/' */
	assert_false(sv_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(sv_utf8_valid("\xe6\x97", 2));          /* truncated */
	assert_false(sv_utf8_valid("\xff", 1));
}

static void test_path__join_and_split(void **s)
{
	char *j, *d;

	(void)s;
	j = sv_path_join("a", "b");
	assert_non_null(j);
	assert_int_equal(j[1], SV_PATH_SEP);
	free(j);
	j = sv_path_join("a/", "/b");
	assert_string_equal(j, "a/b");
	free(j);
	assert_string_equal(sv_path_basename("x/y\\z.vhdx"), "z.vhdx");
	d = sv_path_dirname("x/y/z");
	assert_string_equal(d, "x/y");
	free(d);
	d = sv_path_dirname("z");
	assert_string_equal(d, ".");
	free(d);
}

static void test_path__absolute_forms(void **s)
{
	(void)s;
	assert_true(sv_path_is_absolute("/etc"));
	assert_true(sv_path_is_absolute("C:\\Windows"));
	assert_true(sv_path_is_absolute("c:relative-to-drive"));
	assert_true(sv_path_is_absolute("\\\\server\\share"));
	assert_false(sv_path_is_absolute("WindowsImageBackup/host"));
}

static void test_path__safe_relative_paths_pass(void **s)
{
	(void)s;
	sv_assert_ok(sv_path_check_relative("WindowsImageBackup/SRV01/Backup 2026-11-21 020014/x.vhdx"));
	sv_assert_ok(sv_path_check_relative("Catalog/GlobalCatalog"));
	sv_assert_ok(sv_path_check_relative("données/日本/file.xml"));
	sv_assert_ok(sv_path_check_relative("..hidden/a..b"));
}

static void test_path__escaping_paths_are_refused(void **s)
{
	static const char *bad[] = {
		"../etc/passwd", "a/../../b", "/etc/passwd", "C:\\Windows",
		"C:/Windows", "c:x", "a\\..\\b", "file.txt:stream",
		"a//b", "a/./b", "", "a/", "CON", "dir/nul.txt", "com1",
		"LPT9.log", "trailing.", "space ", "a\nb", "a*b", "\\\\srv\\s",
		"\xc0\xaf", NULL
	};
	int i;

	(void)s;
	for (i = 0; bad[i]; i++) {
		if (sv_path_check_relative(bad[i]) != SV_EINVAL)
			fail_msg("accepted hostile path '%s'", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path__utf8_validation),
		cmocka_unit_test(test_path__join_and_split),
		cmocka_unit_test(test_path__absolute_forms),
		cmocka_unit_test(test_path__safe_relative_paths_pass),
		cmocka_unit_test(test_path__escaping_paths_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
