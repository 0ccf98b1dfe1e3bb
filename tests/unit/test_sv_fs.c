#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#endif

typedef struct fs_fixture {
	char *dir;
} fs_fixture;

static int setup(void **state)
{
	fs_fixture *f = calloc(1, sizeof(*f));

	f->dir = sv_test_tmpdir("fs");
	*state = f;
	return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
	fs_fixture *f = *state;

	sv_fs_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *in_dir(void **state, const char *name)
{
	return sv_path_join(((fs_fixture *)*state)->dir, name);
}

static void assert_file_is(const char *path, const char *want)
{
	char *text = NULL;
	size_t len;

	sv_assert_ok(sv_fs_read_all(&text, &len, path, 1 << 20));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(text, want, len);
	free(text);
}

static int count_entry(void *ud, const sv_dirent *e)
{
	(void)e;
	(*(int *)ud)++;
	return 0;
}

static int entries(void **state)
{
	int n = 0;

	sv_assert_ok(sv_fs_list_dir(((fs_fixture *)*state)->dir, count_entry, &n));
	return n;
}

static void test_fs__atomic_write_creates_and_replaces(void **state)
{
	char *p = in_dir(state, "config");

	sv_assert_ok(sv_fs_write_atomic(p, "one", 3, 0));
	assert_file_is(p, "one");
	sv_assert_ok(sv_fs_write_atomic(p, "second", 6, 1));
	assert_file_is(p, "second");
	assert_int_equal(entries(state), 1);   /* no temp file left behind */
	free(p);
}

static void test_fs__create_atomic_never_replaces(void **state)
{
	char *p = in_dir(state, "object");

	sv_assert_ok(sv_fs_create_atomic(p, "first", 5));
	assert_int_equal(sv_fs_create_atomic(p, "other", 5), SV_EEXISTS);
	assert_file_is(p, "first");
	assert_int_equal(entries(state), 1);
	free(p);
}

static void test_fs__failed_rename_keeps_target_and_cleans_temp(void **state)
{
	char *d = in_dir(state, "busy"), *inner;

	/* A non-empty directory cannot be replaced by a file. */
	sv_assert_ok(sv_fs_mkdir_p(d, 0));
	inner = sv_path_join(d, "keep");
	sv_assert_ok(sv_fs_write_atomic(inner, "kept", 4, 0));
	assert_true(sv_fs_write_atomic(d, "new", 3, 0) < 0);
	assert_file_is(inner, "kept");
	assert_int_equal(entries(state), 1);
	free(inner);
	free(d);
}

#ifndef _WIN32
static void test_fs__failed_write_keeps_old_file(void **state)
{
	char *p = in_dir(state, "points");
	char *big = calloc(1, 1 << 16);
	struct rlimit old, lim;
	int rc;

	sv_assert_ok(sv_fs_write_atomic(p, "old point", 9, 0));
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1024;        /* writes past 1 KiB fail with EFBIG */
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = sv_fs_write_atomic(p, big, 1 << 16, 0);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_true(rc < 0);
	assert_non_null(strstr(sv_error_msg(), "points"));
	assert_file_is(p, "old point");
	assert_int_equal(entries(state), 1);
	free(big);
	free(p);
}
#endif

static void test_fs__file_io_and_short_read(void **state)
{
	char *p = in_dir(state, "data.bin");
	sv_file *f = NULL;
	char buf[8];
	uint64_t size;

	sv_assert_ok(sv_file_open(&f, p, SV_O_READ | SV_O_WRITE | SV_O_CREATE | SV_O_EXCL));
	sv_assert_ok(sv_file_write(f, "abcdef", 6));
	sv_assert_ok(sv_file_pwrite(f, "XY", 2, 10));
	sv_assert_ok(sv_file_size(f, &size));
	assert_true(size == 12);
	sv_assert_ok(sv_file_pread(f, buf, 3, 2));
	assert_memory_equal(buf, "cde", 3);
	assert_int_equal(sv_file_pread(f, buf, 8, 8), SV_ECORRUPT);
	sv_assert_ok(sv_file_truncate(f, 4));
	sv_assert_ok(sv_file_sync(f));
	sv_assert_ok(sv_file_close(f));
	assert_file_is(p, "abcd");
	assert_int_equal(sv_file_open(&f, p, SV_O_WRITE | SV_O_CREATE | SV_O_EXCL),
			 SV_EEXISTS);
	free(p);
}

static void test_fs__missing_paths_are_not_found(void **state)
{
	char *p = in_dir(state, "missing/deeper"), *text;
	sv_file *f = NULL;
	size_t len;

	assert_int_equal(sv_file_open(&f, p, SV_O_READ), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "deeper"));
	assert_int_equal(sv_fs_read_all(&text, &len, p, 10), SV_ENOTFOUND);
	assert_int_equal(sv_fs_stat(p, NULL, NULL), SV_ENOTFOUND);
	sv_assert_ok(sv_fs_remove_tree(p));
	free(p);
}

static void test_fs__read_all_enforces_limit(void **state)
{
	char *p = in_dir(state, "big"), *text = NULL;
	size_t len;

	sv_assert_ok(sv_fs_write_atomic(p, "0123456789", 10, 0));
	assert_int_equal(sv_fs_read_all(&text, &len, p, 5), SV_ENOMEM);
	assert_null(text);
	free(p);
}

static void test_fs__tree_with_unicode_names(void **state)
{
	char *d = in_dir(state, "WindowsImageBackup/SRV-Ünïcödé/Backup 2026-11-21 020014");
	char *f = sv_path_join(d, "日本.xml"), *top = in_dir(state, "WindowsImageBackup");
	int is_dir = 0;
	uint64_t size = 0;

	sv_assert_ok(sv_fs_mkdir_p(d, 0));
	sv_assert_ok(sv_fs_write_atomic(f, "<x/>", 4, 0));
	sv_assert_ok(sv_fs_stat(f, &is_dir, &size));
	assert_false(is_dir);
	assert_true(size == 4);
	sv_assert_ok(sv_fs_stat(d, &is_dir, NULL));
	assert_true(is_dir);
	sv_assert_ok(sv_fs_remove_tree(top));
	assert_int_equal(sv_fs_stat(top, NULL, NULL), SV_ENOTFOUND);
	free(d);
	free(f);
	free(top);
}

static void test_fs__attributes_of_directory(void **state)
{
	unsigned attrs = 0;

	sv_assert_ok(sv_fs_attributes(((fs_fixture *)*state)->dir, &attrs));
	assert_true(attrs & SV_ATTR_DIRECTORY);
	assert_false(attrs & SV_ATTR_REPARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fs__atomic_write_creates_and_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__create_atomic_never_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__failed_rename_keeps_target_and_cleans_temp, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_fs__failed_write_keeps_old_file, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_fs__file_io_and_short_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__missing_paths_are_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__read_all_enforces_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__tree_with_unicode_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fs__attributes_of_directory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
