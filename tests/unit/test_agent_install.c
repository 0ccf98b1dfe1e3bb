/*
 * test_agent_install.c - the installer's helpers: the machine PATH entry
 * (added once, matched without regard to case or a trailing backslash,
 * removed without touching the other entries) and the state directory.
 * On Windows (Wine: the test prefix's registry) they really change the
 * machine environment, with a folder no one uses; elsewhere they refuse.
 */
#include "sv_test.h"

#include "install.h"
#include "sv_buf.h"
#include "sv_fs.h"

#ifdef _WIN32
#include <windows.h>

#define ENV_KEY L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
#define TEST_DIR "C:\\sysvault-test-path-entry"

/* The machine PATH as stored, in UTF-8 (static). */
static const char *machine_path(void)
{
	static char out[65536];
	static wchar_t w[32768];
	DWORD size = sizeof(w);

	assert_int_equal(RegGetValueW(HKEY_LOCAL_MACHINE, ENV_KEY, L"Path",
				      RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL,
				      w, &size), ERROR_SUCCESS);
	assert_true(WideCharToMultiByte(CP_UTF8, 0, w, -1, out, sizeof(out), NULL, NULL) > 0);
	return out;
}

/* How many entries of the machine PATH are exactly entry. */
static int count_entries(const char *entry)
{
	const char *p = machine_path();
	size_t n = strlen(entry);
	int found = 0;

	while (*p) {
		size_t len = strcspn(p, ";");

		if (len == n && !strncmp(p, entry, n))
			found++;
		p += len + (p[len] == ';');
	}
	return found;
}

static void test_install__path_entry_added_once_and_removed(void **s)
{
	char before[65536];

	(void)s;
	snprintf(before, sizeof(before), "%s", machine_path());
	assert_int_equal(count_entries(TEST_DIR), 0);
	sv_assert_ok(sv_install_path_add(TEST_DIR));
	assert_int_equal(count_entries(TEST_DIR), 1);
	/* Running the installer again, or another spelling of the folder,
	 * adds nothing. */
	sv_assert_ok(sv_install_path_add(TEST_DIR));
	sv_assert_ok(sv_install_path_add("c:\\SYSVAULT-test-path-entry\\"));
	assert_int_equal(count_entries(TEST_DIR), 1);
	assert_int_equal(strncmp(machine_path(), before, strlen(before)), 0);

	sv_assert_ok(sv_install_path_remove("C:\\Sysvault-Test-Path-Entry\\"));
	assert_int_equal(count_entries(TEST_DIR), 0);
	assert_string_equal(machine_path(), before);
	/* Absent: nothing to do, no error. */
	sv_assert_ok(sv_install_path_remove(TEST_DIR));
	assert_string_equal(machine_path(), before);
}

static void test_install__state_dir_created_and_secured(void **s)
{
	char *dir = sv_test_tmpdir("install"), *state = NULL;
	int is_dir = 0;
	uint64_t size = 0;

	(void)s;
	assert_non_null(dir);
	state = malloc(strlen(dir) + 16);
	assert_non_null(state);
	snprintf(state, strlen(dir) + 16, "%s\\state", dir);
	sv_assert_ok(sv_install_secure_dir(state));
	sv_assert_ok(sv_fs_stat(state, &is_dir, &size));
	assert_true(is_dir);
	/* Again: the directory exists, the ACL is set once more. */
	sv_assert_ok(sv_install_secure_dir(state));
	sv_fs_remove_tree(dir);
	free(state);
	free(dir);
}

static void test_install__exe_dir_is_this_programs_folder(void **s)
{
	char *dir = NULL;

	(void)s;
	sv_assert_ok(sv_install_exe_dir(&dir));
	/* The test programs are built into <build>\tests\bin. */
	if (!sv_str_endswith(dir, "\\tests\\bin"))
		fail_msg("sv_install_exe_dir: '%s', not the tests\\bin folder", dir);
	free(dir);
}
#else
/* A distribution's package owns PATH and /var/lib: the helpers refuse. */
static void test_install__refused_outside_windows(void **s)
{
	char x = 0, *dir = &x;

	(void)s;
	assert_int_equal(sv_install_path_add("/opt/sysvault"), SV_ENOTSUPPORTED);
	assert_int_equal(sv_install_path_remove("/opt/sysvault"), SV_ENOTSUPPORTED);
	assert_int_equal(sv_install_secure_dir("/var/lib/sysvault"), SV_ENOTSUPPORTED);
	assert_int_equal(sv_install_exe_dir(&dir), SV_ENOTSUPPORTED);
	assert_null(dir);
	assert_non_null(strstr(sv_error_msg(), "Windows installer"));
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef _WIN32
		cmocka_unit_test(test_install__path_entry_added_once_and_removed),
		cmocka_unit_test(test_install__state_dir_created_and_secured),
		cmocka_unit_test(test_install__exe_dir_is_this_programs_folder),
#else
		cmocka_unit_test(test_install__refused_outside_windows),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
