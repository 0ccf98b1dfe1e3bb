/*
 * test_sv_platform_posix.c - the POSIX machine probes against the machine
 * the tests run on. Probes that depend on what the machine offers (tmpfs at
 * /dev/shm, a readable SMBIOS table) skip with the reason when it is absent.
 */
#include <strings.h>

#include "sv_test.h"
#include "sv_platform.h"

static void test_platform_posix__root_space_is_plausible(void **state)
{
	uint64_t free_bytes = 0, total_bytes = 0;

	sv_assert_ok(sv_volume_space("/", &free_bytes, &total_bytes));
	assert_true(total_bytes > 0);
	assert_true(free_bytes <= total_bytes);
}

static void test_platform_posix__cwd_space_is_plausible(void **state)
{
	uint64_t free_bytes = 0, total_bytes = 0;

	sv_assert_ok(sv_volume_space(".", &free_bytes, &total_bytes));
	assert_true(total_bytes > 0);
	assert_true(free_bytes <= total_bytes);
}

static void test_platform_posix__root_is_local(void **state)
{
	sv_volume_info v;

	sv_assert_ok(sv_volume_query("/", &v));
	print_message("/: %s, %s%s\n", v.fs_name, sv_volume_type_name(v.type),
		      v.read_only ? ", read-only" : "");
#ifdef __linux__
	assert_true(v.fs_name[0] != '\0');
	assert_int_not_equal(v.type, SV_VOL_UNKNOWN);
#endif
	assert_int_not_equal(v.type, SV_VOL_REMOTE);
	assert_true(v.total_bytes > 0);
	assert_true(v.free_bytes <= v.total_bytes);
}

static void test_platform_posix__dev_shm_tmpfs_is_ramdisk(void **state)
{
	sv_volume_info v;
	int rc = sv_volume_query("/dev/shm", &v);

	if (rc == SV_ENOTFOUND || (rc == 0 && strcmp(v.fs_name, "tmpfs"))) {
		print_message("/dev/shm is not a tmpfs here (%s)\n",
			      rc ? sv_error_msg() : v.fs_name);
		skip();
	}
	assert_int_equal(rc, 0);
	assert_string_equal(v.fs_name, "tmpfs");
	assert_int_equal(v.type, SV_VOL_RAMDISK);
}

/* A path below a mount point belongs to that mount, not to "/". */
static void test_platform_posix__subdir_gets_its_mount(void **state)
{
#ifdef __linux__
	sv_volume_info v;

	sv_assert_ok(sv_volume_query("/proc/self/fd", &v));
	assert_string_equal(v.fs_name, "proc");
	assert_int_not_equal(v.type, SV_VOL_REMOTE);
#else
	print_message("/proc is Linux-only\n");
	skip();
#endif
}

/* Finds the last read-only mount in /proc/self/mounts whose mount point
 * no later line mounts over; "" when there is none. */
static void find_ro_mount(char *dir, size_t size)
{
	char line[16384], d[1024], opts[1024];
	FILE *f = fopen("/proc/self/mounts", "r");

	dir[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %1023s %*s %1023s", d, opts) != 2)
			continue;
		if (strcmp(d, dir) == 0)
			dir[0] = '\0';   /* mounted over */
		if (strchr(d, '\\') == NULL && strlen(d) < size &&
		    (strcmp(opts, "ro") == 0 || strncmp(opts, "ro,", 3) == 0))
			memcpy(dir, d, strlen(d) + 1);
	}
	fclose(f);
}

static void test_platform_posix__read_only_mount_reported(void **state)
{
	char dir[1024];
	sv_volume_info v;

	find_ro_mount(dir, sizeof(dir));
	if (dir[0] == '\0' || sv_volume_query(dir, &v) != 0) {
		print_message("no usable read-only mount on this machine\n");
		skip();
	}
	print_message("%s: %s, read-only %d\n", dir, v.fs_name, v.read_only);
	assert_true(v.read_only);
}

static void test_platform_posix__missing_path_not_found(void **state)
{
	const char *missing = "/nonexistent-sv-test/no/such/dir";
	sv_volume_info v;
	uint64_t f, t;

	assert_int_equal(sv_volume_query(missing, &v), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), missing));
	assert_int_equal(sv_volume_space(missing, &f, &t), SV_ENOTFOUND);
}

static void test_platform_posix__windows_only_apis(void **state)
{
	sv_service_info svc;
	sv_buf b;
	int granted = 1;

	assert_int_equal(sv_service_query("RpcSs", &svc), SV_ENOTSUPPORTED);
	assert_non_null(strstr(sv_error_msg(), "services"));
	assert_int_equal(sv_acl_system_full_control("/", &granted),
			 SV_ENOTSUPPORTED);
	assert_int_equal(granted, 0);
	sv_buf_init(&b, 1024);
	assert_int_equal(sv_secret_protect(&b, "k", 1), SV_ENOTSUPPORTED);
	assert_int_equal(sv_secret_unprotect(&b, "k", 1), SV_ENOTSUPPORTED);
	assert_non_null(strstr(sv_error_msg(), "DPAPI"));
	assert_int_equal(b.len, 0);
	sv_buf_release(&b);
}

static void test_platform_posix__machine_names(void **state)
{
	char name[256], fqdn[512];

	sv_assert_ok(sv_machine_name(name, sizeof(name)));
	assert_true(name[0] != '\0');
	assert_null(strchr(name, '.'));
	sv_assert_ok(sv_machine_fqdn(fqdn, sizeof(fqdn)));
	print_message("name %s, fqdn %s\n", name, fqdn);
	assert_true(strncasecmp(fqdn, name, strlen(name)) == 0);
}

static void test_platform_posix__small_buffer_rejected(void **state)
{
	char tiny[1];

	assert_int_equal(sv_machine_name(tiny, sizeof(tiny)), SV_EINVAL);
	assert_int_equal(sv_os_version(tiny, sizeof(tiny)), SV_EINVAL);
}

static void test_platform_posix__os_version(void **state)
{
	char v[256];

	sv_assert_ok(sv_os_version(v, sizeof(v)));
	print_message("os %s\n", v);
	assert_non_null(strchr(v, ' '));
#ifdef __linux__
	assert_true(strncmp(v, "Linux ", 6) == 0);
#endif
}

static void test_platform_posix__firmware_type(void **state)
{
	sv_firmware_type fw = SV_FW_UNKNOWN;
	int rc = sv_firmware_type_get(&fw);

#ifdef __linux__
	assert_int_equal(rc, 0);
	assert_true(fw == SV_FW_BIOS || fw == SV_FW_UEFI);
#else
	assert_int_equal(rc, SV_ENOTSUPPORTED);
	assert_int_equal(fw, SV_FW_UNKNOWN);
#endif
}

static void test_platform_posix__smbios_read(void **state)
{
	sv_smbios_info info;
	int rc = sv_smbios_read(&info);

	if (rc == SV_ENOTSUPPORTED) {
		print_message("sv_smbios_read: %s\n", sv_error_msg());
		assert_non_null(strstr(sv_error_msg(), "/sys/firmware/dmi"));
		skip();
	}
	assert_int_equal(rc, 0);
	print_message("SMBIOS: %s / %s / %s\n", info.manufacturer, info.product,
		      info.uuid);
	assert_true(info.manufacturer[0] != '\0' || info.product[0] != '\0' ||
		    info.uuid[0] != '\0' || info.serial[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_posix__root_space_is_plausible),
		cmocka_unit_test(test_platform_posix__cwd_space_is_plausible),
		cmocka_unit_test(test_platform_posix__root_is_local),
		cmocka_unit_test(test_platform_posix__dev_shm_tmpfs_is_ramdisk),
		cmocka_unit_test(test_platform_posix__subdir_gets_its_mount),
		cmocka_unit_test(test_platform_posix__read_only_mount_reported),
		cmocka_unit_test(test_platform_posix__missing_path_not_found),
		cmocka_unit_test(test_platform_posix__windows_only_apis),
		cmocka_unit_test(test_platform_posix__machine_names),
		cmocka_unit_test(test_platform_posix__small_buffer_rejected),
		cmocka_unit_test(test_platform_posix__os_version),
		cmocka_unit_test(test_platform_posix__firmware_type),
		cmocka_unit_test(test_platform_posix__smbios_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
