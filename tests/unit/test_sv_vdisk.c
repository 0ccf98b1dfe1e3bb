/*
 * test_sv_vdisk.c - the staging virtual disk.
 *
 * POSIX: every function says virtual disks are a Windows feature. Windows:
 * argument checks and missing files run everywhere; the create / attach /
 * expand / detach cycle needs a working VirtDisk and an elevated process,
 * and skips, naming what is missing, where either is absent (Wine has no
 * virtual disk stack; its VirtDisk functions are stubs).
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_vdisk.h"

#ifdef _WIN32

/* A fresh directory and the path of a VHDX inside it; both freed by
 * cleanup(). */
typedef struct fixture {
	char *dir;
	char *vhdx;
} fixture;

static void setup(fixture *f, const char *tag)
{
	f->dir = sv_test_tmpdir(tag);
	assert_non_null(f->dir);
	f->vhdx = sv_path_join(f->dir, "CBSSBVol_test.vhdx");
	assert_non_null(f->vhdx);
}

static void cleanup(fixture *f)
{
	sv_vdisk_detach(f->vhdx);
	sv_fs_remove_tree(f->dir);
	free(f->vhdx);
	free(f->dir);
}

/* 1 when rc says this system cannot run the cycle: printed, for the skip. */
static int cannot_run(int rc)
{
	if (rc == SV_ENOTSUPPORTED) {
		print_message("VirtDisk does not work here (Wine lacks "
			      "CreateVirtualDisk and AttachVirtualDisk): %s\n",
			      sv_error_msg());
		assert_non_null(strstr(sv_error_msg(), "VirtualDisk"));
		return 1;
	}
	if (rc == SV_EACCESS) {
		print_message("not elevated: %s\n", sv_error_msg());
		assert_non_null(strstr(sv_error_msg(), "elevated"));
		return 1;
	}
	return 0;
}

static void assert_volume_path(const char *v)
{
	print_message("staging volume: %s\n", v);
	assert_true(sv_str_startswith(v, "\\\\?\\Volume{"));
	assert_true(sv_str_endswith(v, "}\\"));
	assert_int_equal(strlen(v), 49);
}

/* ---- arguments and missing files: before any VirtDisk call ---- */

static void test_vdisk__create_refuses_an_existing_file(void **s)
{
	fixture f;

	(void)s;
	setup(&f, "vd-exists");
	sv_assert_ok(sv_fs_write_atomic(f.vhdx, "x", 1, 0));
	assert_int_equal(sv_vdisk_create(f.vhdx, (uint64_t)1 << 30),
			 SV_EEXISTS);
	assert_non_null(strstr(sv_error_msg(), "already exists"));
	cleanup(&f);
}

static void test_vdisk__create_checks_name_and_size(void **s)
{
	fixture f;
	char *vhd;

	(void)s;
	setup(&f, "vd-args");
	vhd = sv_path_join(f.dir, "staging.vhd");
	assert_non_null(vhd);
	assert_int_equal(sv_vdisk_create(vhd, (uint64_t)1 << 30), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), ".vhdx"));
	assert_int_equal(sv_vdisk_create(f.vhdx, SV_VDISK_MIN_SIZE - 1),
			 SV_EINVAL);
	assert_int_equal(sv_vdisk_create(f.vhdx, SV_VDISK_MAX_SIZE + 1),
			 SV_EINVAL);
	assert_int_equal(sv_vdisk_expand(f.vhdx, 0), SV_EINVAL);
	assert_int_equal(sv_vdisk_create(NULL, SV_VDISK_MIN_SIZE), SV_EINVAL);
	free(vhd);
	cleanup(&f);
}

static void test_vdisk__missing_disk(void **s)
{
	char vol[SV_VDISK_VOLUME_MAX] = "junk";
	fixture f;

	(void)s;
	setup(&f, "vd-missing");
	assert_int_equal(sv_vdisk_attach(f.vhdx, vol, sizeof(vol)),
			 SV_ENOTFOUND);
	assert_string_equal(vol, "");
	assert_non_null(strstr(sv_error_msg(), "CBSSBVol_test.vhdx"));
	sv_strlcpy(vol, "junk", sizeof(vol));
	assert_int_equal(sv_vdisk_volume(f.vhdx, vol, sizeof(vol)),
			 SV_ENOTFOUND);
	assert_string_equal(vol, "");
	assert_int_equal(sv_vdisk_expand(f.vhdx, (uint64_t)2 << 30),
			 SV_ENOTFOUND);
	/* Nothing to detach is not an error. */
	sv_assert_ok(sv_vdisk_detach(f.vhdx));
	cleanup(&f);
}

static void test_vdisk__garbage_file_is_not_attached(void **s)
{
	char vol[SV_VDISK_VOLUME_MAX] = "junk";
	fixture f;
	int rc;

	(void)s;
	setup(&f, "vd-garbage");
	sv_assert_ok(sv_fs_write_atomic(f.vhdx, "not a virtual disk", 18, 0));
	rc = sv_vdisk_attach(f.vhdx, vol, sizeof(vol));
	assert_string_equal(vol, "");
	if (cannot_run(rc)) {
		cleanup(&f);
		skip();
	}
	print_message("attach of a non-disk: %s\n", sv_error_msg());
	assert_true(rc < 0 && rc != SV_ENOTFOUND);
	cleanup(&f);
}

/* ---- the cycle ---- */

static void test_vdisk__create_attach_expand_detach(void **s)
{
	char vol[SV_VDISK_VOLUME_MAX], again[SV_VDISK_VOLUME_MAX];
	char tiny[8];
	fixture f;
	int rc;

	(void)s;
	setup(&f, "vd-cycle");
	rc = sv_vdisk_create(f.vhdx, (uint64_t)256 << 20);
	if (cannot_run(rc)) {
		cleanup(&f);
		skip();
	}
	sv_assert_ok(rc);
	assert_int_equal(sv_vdisk_create(f.vhdx, (uint64_t)256 << 20),
			 SV_EEXISTS);
	assert_int_equal(sv_vdisk_volume(f.vhdx, vol, sizeof(vol)),
			 SV_ENOTFOUND);
	rc = sv_vdisk_attach(f.vhdx, vol, sizeof(vol));
	if (cannot_run(rc)) {
		cleanup(&f);
		skip();
	}
	sv_assert_ok(rc);
	assert_volume_path(vol);
	/* Attached already: the same volume, nothing formatted again. */
	sv_assert_ok(sv_vdisk_attach(f.vhdx, again, sizeof(again)));
	assert_string_equal(vol, again);
	sv_assert_ok(sv_vdisk_volume(f.vhdx, again, sizeof(again)));
	assert_string_equal(vol, again);
	assert_int_equal(sv_vdisk_volume(f.vhdx, tiny, sizeof(tiny)),
			 SV_EINVAL);
	/* Growing keeps the volume; shrinking is a no-op. */
	sv_assert_ok(sv_vdisk_expand(f.vhdx, (uint64_t)512 << 20));
	sv_assert_ok(sv_vdisk_expand(f.vhdx, (uint64_t)128 << 20));
	sv_assert_ok(sv_vdisk_volume(f.vhdx, again, sizeof(again)));
	assert_string_equal(vol, again);
	sv_assert_ok(sv_vdisk_detach(f.vhdx));
	sv_assert_ok(sv_vdisk_detach(f.vhdx));
	assert_int_equal(sv_vdisk_volume(f.vhdx, again, sizeof(again)),
			 SV_ENOTFOUND);
	/* Re-attached, the volume keeps its GUID path. */
	sv_assert_ok(sv_vdisk_attach(f.vhdx, again, sizeof(again)));
	assert_string_equal(vol, again);
	sv_assert_ok(sv_vdisk_detach(f.vhdx));
	cleanup(&f);
}

#else

static void test_vdisk__posix_reports_not_supported(void **s)
{
	char vol[SV_VDISK_VOLUME_MAX] = "junk";

	(void)s;
	assert_int_equal(sv_vdisk_create("/tmp/x.vhdx", (uint64_t)1 << 30),
			 SV_ENOTSUPPORTED);
	assert_non_null(strstr(sv_error_msg(), "Windows feature"));
	assert_non_null(strstr(sv_error_msg(), "directory"));
	assert_int_equal(sv_vdisk_attach("/tmp/x.vhdx", vol, sizeof(vol)),
			 SV_ENOTSUPPORTED);
	assert_string_equal(vol, "");
	sv_strlcpy(vol, "junk", sizeof(vol));
	assert_int_equal(sv_vdisk_volume("/tmp/x.vhdx", vol, sizeof(vol)),
			 SV_ENOTSUPPORTED);
	assert_string_equal(vol, "");
	assert_int_equal(sv_vdisk_detach("/tmp/x.vhdx"), SV_ENOTSUPPORTED);
	assert_int_equal(sv_vdisk_expand("/tmp/x.vhdx", (uint64_t)2 << 30),
			 SV_ENOTSUPPORTED);
	assert_int_equal(sv_error_code(), SV_ENOTSUPPORTED);
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef _WIN32
		cmocka_unit_test(test_vdisk__create_refuses_an_existing_file),
		cmocka_unit_test(test_vdisk__create_checks_name_and_size),
		cmocka_unit_test(test_vdisk__missing_disk),
		cmocka_unit_test(test_vdisk__garbage_file_is_not_attached),
		cmocka_unit_test(test_vdisk__create_attach_expand_detach),
#else
		cmocka_unit_test(test_vdisk__posix_reports_not_supported),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
