/*
 * test_sv_platform_win.c - the Windows halves of common/: platform probes,
 * DPAPI, ACLs, \\?\ long paths, crash-safe writes and the process runner.
 * Built for Windows only; runs under Wine as well. A probe whose API the
 * system in use does not provide skips with a message naming the API.
 */
#include <windows.h>
#include <aclapi.h>

#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_platform.h"
#include "sv_proc.h"

/* ---- helpers ---- */

static int wide_path(wchar_t *dst, size_t n, const char *s)
{
	return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, dst,
				   (int)n) > 0;
}

static int file_exists(const char *dir, const char *name)
{
	char *p = sv_path_join(dir, name);
	int rc = sv_fs_stat(p, NULL, NULL);

	free(p);
	return rc == 0;
}

/* Counts directory entries whose name contains ".tmp-". */
static int count_temp(void *ud, const sv_dirent *e)
{
	if (strstr(e->name, ".tmp-") != NULL)
		(*(int *)ud)++;
	return 0;
}

static int temp_files_in(const char *dir)
{
	int n = 0;

	sv_assert_ok(sv_fs_list_dir(dir, count_temp, &n));
	return n;
}

/* ---- volumes ---- */

static void test_platform_win__volume_space_of_c(void **s)
{
	uint64_t free_bytes = 0, total = 0;

	(void)s;
	sv_assert_ok(sv_volume_space("C:\\", &free_bytes, &total));
	assert_true(free_bytes > 0);
	assert_true(free_bytes <= total);
}

static void test_platform_win__volume_query_c_is_fixed(void **s)
{
	sv_volume_info v;

	(void)s;
	sv_assert_ok(sv_volume_query("C:\\", &v));
	print_message("C:\\ is %s, %s\n", sv_volume_type_name(v.type),
		      v.fs_name);
	assert_int_equal(v.type, SV_VOL_FIXED);
	assert_string_equal(sv_volume_type_name(v.type), "fixed");
	assert_true(v.fs_name[0] != '\0');
	assert_int_equal(v.read_only, 0);
	assert_true(v.total_bytes > 0);
	assert_true(v.free_bytes <= v.total_bytes);
}

static void test_platform_win__volume_of_missing_path_not_found(void **s)
{
	sv_volume_info v;

	(void)s;
	assert_int_equal(sv_volume_query("C:\\sysvault-no-such-dir\\x", &v),
			 SV_ENOTFOUND);
}

/* ---- services ---- */

static void test_platform_win__rpcss_service_has_a_start_type(void **s)
{
	sv_service_info si;
	int rc;

	(void)s;
	rc = sv_service_query("RpcSs", &si);
	if (rc == SV_ENOTFOUND) {
		print_message("this service control manager has no RpcSs "
			      "(sv_service_query/OpenServiceW): %s\n",
			      sv_error_msg());
		skip();
	}
	sv_assert_ok(rc);
	print_message("RpcSs: %s, %s%s\n", sv_service_state_name(si.state),
		      sv_service_start_name(si.start_type),
		      si.delayed_auto ? " (delayed)" : "");
	assert_true(si.start_type >= SV_START_BOOT &&
		    si.start_type <= SV_START_DISABLED);
	assert_true(si.state >= SV_SVC_STOPPED && si.state <= SV_SVC_PAUSED);
	assert_string_not_equal(sv_service_start_name(si.start_type),
				"unknown");
}

static void test_platform_win__missing_service_not_found(void **s)
{
	sv_service_info si;

	(void)s;
	assert_int_equal(sv_service_query("sysvaultNoSuchService42", &si),
			 SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "is not installed"));
	assert_non_null(strstr(sv_error_msg(), "sysvaultNoSuchService42"));
}

/* ---- DPAPI ---- */

static int seal_or_skip(sv_buf *sealed, const char *secret)
{
	int rc = sv_secret_protect(sealed, secret, strlen(secret));

	if (rc == SV_ENOTSUPPORTED) {
		print_message("CryptProtectData is not implemented here: %s\n",
			      sv_error_msg());
		return 0;
	}
	sv_assert_ok(rc);
	return 1;
}

static void test_platform_win__secret_round_trip(void **s)
{
	const char *secret = "account-key: 0123456789abcdef";
	sv_buf sealed, plain;

	(void)s;
	sv_buf_init(&sealed, 1 << 20);
	sv_buf_init(&plain, 1 << 20);
	if (!seal_or_skip(&sealed, secret)) {
		sv_buf_release(&sealed);
		skip();
	}
	assert_true(sealed.len > strlen(secret));
	assert_null(strstr(sealed.ptr, "0123456789abcdef"));
	sv_assert_ok(sv_secret_unprotect(&plain, sealed.ptr, sealed.len));
	assert_int_equal(plain.len, strlen(secret));
	assert_memory_equal(plain.ptr, secret, plain.len);
	sv_buf_release(&sealed);
	sv_buf_release(&plain);
}

static void test_platform_win__tampered_secret_is_eauth(void **s)
{
	sv_buf sealed, plain;

	(void)s;
	sv_buf_init(&sealed, 1 << 20);
	sv_buf_init(&plain, 1 << 20);
	if (!seal_or_skip(&sealed, "s3-secret-key-value")) {
		sv_buf_release(&sealed);
		skip();
	}
	sealed.ptr[sealed.len - 8] ^= 0x5a;   /* inside the data or its MAC */
	assert_int_equal(sv_secret_unprotect(&plain, sealed.ptr, sealed.len),
			 SV_EAUTH);
	assert_int_equal(plain.len, 0);
	assert_int_equal(sv_secret_unprotect(&plain, "not a blob", 10),
			 SV_EAUTH);
	sv_buf_release(&sealed);
	sv_buf_release(&plain);
}

/* ---- ACLs ---- */

/* The DACL walk of sv_acl_system_full_control(), in sv_platform_win.c. */
int sv__acl_dacl_system_full_control(PACL dacl, int *granted);

enum { ACE_ALLOW, ACE_DENY, ACE_ALLOW_INHERIT_ONLY };

typedef struct test_ace {
	int kind;
	WELL_KNOWN_SID_TYPE sid;
	DWORD mask;
} test_ace;

typedef struct test_acl {
	DWORD buf[1024];
} test_acl;

/* Builds a DACL of n ACEs in a. */
static PACL build_dacl(test_acl *a, const test_ace *aces, size_t n)
{
	BYTE sid[SECURITY_MAX_SID_SIZE];
	PACL acl = (PACL)a->buf;
	DWORD size;
	size_t i;
	BOOL ok = TRUE;

	assert_true(InitializeAcl(acl, sizeof(a->buf), ACL_REVISION));
	for (i = 0; i < n && ok; i++) {
		size = sizeof(sid);
		assert_true(CreateWellKnownSid(aces[i].sid, NULL, sid, &size));
		if (aces[i].kind == ACE_DENY)
			ok = AddAccessDeniedAce(acl, ACL_REVISION, aces[i].mask,
						sid);
		else if (aces[i].kind == ACE_ALLOW)
			ok = AddAccessAllowedAce(acl, ACL_REVISION, aces[i].mask,
						 sid);
		else
			ok = AddAccessAllowedAceEx(acl, ACL_REVISION,
						   INHERIT_ONLY_ACE |
						   OBJECT_INHERIT_ACE |
						   CONTAINER_INHERIT_ACE,
						   aces[i].mask, sid);
	}
	assert_true(ok);
	return acl;
}

static int dacl_granted(const test_ace *aces, size_t n)
{
	test_acl a;
	int granted = -1;

	sv_assert_ok(sv__acl_dacl_system_full_control(build_dacl(&a, aces, n),
						      &granted));
	return granted;
}

static const test_ace acl_full[] = {
	{ACE_ALLOW, WinBuiltinAdministratorsSid, FILE_ALL_ACCESS},
	{ACE_ALLOW, WinLocalSystemSid, GENERIC_ALL},
};
static const test_ace acl_read_only[] = {
	{ACE_ALLOW, WinBuiltinAdministratorsSid, FILE_ALL_ACCESS},
	{ACE_ALLOW, WinLocalSystemSid, FILE_GENERIC_READ},
};
static const test_ace acl_denied[] = {
	{ACE_DENY, WinLocalSystemSid, FILE_WRITE_DATA},
	{ACE_ALLOW, WinLocalSystemSid, FILE_ALL_ACCESS},
};

static void test_platform_win__acl_system_full_control_granted(void **s)
{
	static const test_ace specific[] = {
		{ACE_ALLOW, WinLocalSystemSid, FILE_ALL_ACCESS},
	};
	static const test_ace split[] = {
		{ACE_ALLOW, WinLocalSystemSid, FILE_GENERIC_READ},
		{ACE_ALLOW, WinLocalSystemSid, FILE_ALL_ACCESS &
					       ~FILE_GENERIC_READ},
	};
	int granted = 0;

	(void)s;
	assert_int_equal(dacl_granted(acl_full, 2), 1);
	assert_int_equal(dacl_granted(specific, 1), 1);
	assert_int_equal(dacl_granted(split, 2), 1);
	sv_assert_ok(sv__acl_dacl_system_full_control(NULL, &granted));
	assert_int_equal(granted, 1);   /* a NULL DACL grants everything */
}

static void test_platform_win__acl_system_read_only_not_granted(void **s)
{
	static const test_ace others[] = {
		{ACE_ALLOW, WinBuiltinAdministratorsSid, FILE_ALL_ACCESS},
		{ACE_ALLOW, WinWorldSid, FILE_ALL_ACCESS},
	};

	(void)s;
	assert_int_equal(dacl_granted(acl_read_only, 2), 0);
	assert_int_equal(dacl_granted(others, 2), 0);
	assert_int_equal(dacl_granted(NULL, 0), 0);   /* empty DACL */
}

static void test_platform_win__acl_deny_ace_removes_full_control(void **s)
{
	static const test_ace everyone[] = {
		{ACE_DENY, WinWorldSid, DELETE},
		{ACE_ALLOW, WinLocalSystemSid, FILE_ALL_ACCESS},
	};
	static const test_ace other_user[] = {
		{ACE_DENY, WinBuiltinGuestsSid, FILE_ALL_ACCESS},
		{ACE_ALLOW, WinLocalSystemSid, FILE_ALL_ACCESS},
	};

	(void)s;
	assert_int_equal(dacl_granted(acl_denied, 2), 0);
	assert_int_equal(dacl_granted(everyone, 2), 0);
	assert_int_equal(dacl_granted(other_user, 2), 1);
}

static void test_platform_win__acl_inherit_only_ace_ignored(void **s)
{
	static const test_ace a[] = {
		{ACE_ALLOW_INHERIT_ONLY, WinLocalSystemSid, GENERIC_ALL},
		{ACE_ALLOW, WinLocalSystemSid, FILE_GENERIC_READ},
	};

	(void)s;
	assert_int_equal(dacl_granted(a, 2), 0);
}

/* 1 when two ACEs have the same type, flags, SID and rights (generic
 * rights mapped, as the system may store them mapped). */
static int ace_equal(ACE_HEADER *a, ACE_HEADER *b)
{
	GENERIC_MAPPING gm = {FILE_GENERIC_READ, FILE_GENERIC_WRITE,
			      FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS};
	ACCESS_ALLOWED_ACE *x = (ACCESS_ALLOWED_ACE *)a;
	ACCESS_ALLOWED_ACE *y = (ACCESS_ALLOWED_ACE *)b;
	ACCESS_MASK mx = x->Mask, my = y->Mask;

	MapGenericMask(&mx, &gm);
	MapGenericMask(&my, &gm);
	return a->AceType == b->AceType && a->AceFlags == b->AceFlags &&
	       mx == my && EqualSid(&x->SidStart, &y->SidStart);
}

static int dacl_equal(PACL a, PACL b)
{
	void *x, *y;
	DWORD i;

	if (a == NULL || b == NULL || a->AceCount != b->AceCount)
		return 0;
	for (i = 0; i < a->AceCount; i++) {
		if (!GetAce(a, i, &x) || !GetAce(b, i, &y) || !ace_equal(x, y))
			return 0;
	}
	return 1;
}

/* Sets a protected DACL on dir; 0 when the file system kept it (it reads
 * back the same), else 1. */
static int set_dacl(const char *dir, const test_ace *aces, size_t n)
{
	test_acl a;
	PACL acl = build_dacl(&a, aces, n), got = NULL;
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t w[MAX_PATH];
	int kept;

	assert_true(wide_path(w, MAX_PATH, dir));
	assert_int_equal(SetNamedSecurityInfoW(w, SE_FILE_OBJECT,
			 DACL_SECURITY_INFORMATION |
			 PROTECTED_DACL_SECURITY_INFORMATION,
			 NULL, NULL, acl, NULL), ERROR_SUCCESS);
	assert_int_equal(GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
			 DACL_SECURITY_INFORMATION, NULL, NULL, &got, NULL,
			 &sd), ERROR_SUCCESS);
	kept = dacl_equal(got, acl);
	LocalFree(sd);
	return kept ? 0 : 1;
}

/* The same three cases through the file system. */
static void test_platform_win__acl_set_on_directory(void **s)
{
	static const test_ace open_acl[] = {
		{ACE_ALLOW, WinWorldSid, GENERIC_ALL},
	};
	const test_ace *cases[3] = {acl_full, acl_read_only, acl_denied};
	const int want[3] = {1, 0, 0};
	char *dir = sv_test_tmpdir("acl");
	int i, granted, unkept = 0;

	(void)s;
	assert_non_null(dir);
	/* A temp directory inherits SYSTEM's full control. */
	sv_assert_ok(sv_acl_system_full_control(dir, &granted));
	assert_int_equal(granted, 1);
	for (i = 0; i < 3 && !unkept; i++) {
		if ((unkept = set_dacl(dir, cases[i], 2)) != 0)
			break;
		sv_assert_ok(sv_acl_system_full_control(dir, &granted));
		assert_int_equal(granted, want[i]);
	}
	set_dacl(dir, open_acl, 1);   /* lets the owner delete it again */
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
	if (unkept) {
		print_message("SetNamedSecurityInfoW does not keep a DACL on "
			      "this file system (it reads back the default)\n");
		skip();
	}
}

/* ---- firmware, SMBIOS, names ---- */

static void test_platform_win__firmware_type_is_bios_or_uefi(void **s)
{
	sv_firmware_type fw = SV_FW_UNKNOWN;
	int rc;

	(void)s;
	rc = sv_firmware_type_get(&fw);
	if (rc == SV_ENOTSUPPORTED) {
		print_message("GetFirmwareType is not available: %s\n",
			      sv_error_msg());
		skip();
	}
	sv_assert_ok(rc);
	print_message("firmware: %s\n", sv_firmware_type_name(fw));
	assert_true(fw == SV_FW_BIOS || fw == SV_FW_UEFI);
	assert_string_equal(sv_firmware_type_name(SV_FW_UEFI), "UEFI");
}

static void test_platform_win__smbios_read_gives_identity(void **s)
{
	sv_smbios_info info;
	int rc;

	(void)s;
	rc = sv_smbios_read(&info);
	if (rc == SV_ENOTSUPPORTED) {
		print_message("GetSystemFirmwareTable('RSMB') gives nothing "
			      "here: %s\n", sv_error_msg());
		skip();
	}
	sv_assert_ok(rc);
	print_message("SMBIOS: uuid '%s', manufacturer '%s', product '%s'\n",
		      info.uuid, info.manufacturer, info.product);
	assert_true(info.uuid[0] != '\0' || info.manufacturer[0] != '\0' ||
		    info.product[0] != '\0' || info.serial[0] != '\0');
}

static void test_platform_win__machine_names(void **s)
{
	char name[256], fqdn[512], os[128], tiny[2];

	(void)s;
	sv_assert_ok(sv_machine_name(name, sizeof(name)));
	sv_assert_ok(sv_machine_fqdn(fqdn, sizeof(fqdn)));
	sv_assert_ok(sv_os_version(os, sizeof(os)));
	print_message("name %s, fqdn %s, %s\n", name, fqdn, os);
	assert_true(name[0] != '\0');
	assert_true(fqdn[0] != '\0');
	assert_true(sv_str_startswith(os, "Windows "));
	assert_int_equal(sv_machine_name(tiny, sizeof(tiny)), SV_EINVAL);
}

/* ---- files ---- */

static void test_platform_win__atomic_write_onto_directory_keeps_it(void **s)
{
	char *dir = sv_test_tmpdir("atomic"), *target;

	(void)s;
	assert_non_null(dir);
	target = sv_path_join(dir, "state.json");
	sv_assert_ok(sv_fs_mkdir_p(target, 0));
	assert_true(sv_fs_write_atomic(target, "new", 3, 0) < 0);
	assert_true(file_exists(target, "."));
	assert_int_equal(temp_files_in(dir), 0);
	free(target);
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
}

static void test_platform_win__atomic_write_onto_busy_file_keeps_it(void **s)
{
	char *dir = sv_test_tmpdir("atomic"), *target, *data = NULL;
	wchar_t w[MAX_PATH];
	size_t len;
	HANDLE h;
	int rc;

	(void)s;
	assert_non_null(dir);
	target = sv_path_join(dir, "state.json");
	sv_assert_ok(sv_fs_write_atomic(target, "old", 3, 0));
	assert_true(wide_path(w, MAX_PATH, target));
	/* Open without FILE_SHARE_DELETE: nothing may replace it now. */
	h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
			NULL, OPEN_EXISTING, 0, NULL);
	assert_true(h != INVALID_HANDLE_VALUE);
	rc = sv_fs_write_atomic(target, "new", 3, 0);
	CloseHandle(h);
	assert_true(rc < 0);
	print_message("refused as expected: %s\n", sv_error_msg());
	sv_assert_ok(sv_fs_read_all(&data, &len, target, 1024));
	assert_string_equal(data, "old");
	assert_int_equal(temp_files_in(dir), 0);
	free(data);
	free(target);
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
}

static void test_platform_win__create_atomic_refuses_existing(void **s)
{
	char *dir = sv_test_tmpdir("atomic"), *target, *data = NULL;
	size_t len;

	(void)s;
	assert_non_null(dir);
	target = sv_path_join(dir, "key");
	sv_assert_ok(sv_fs_create_atomic(target, "first", 5));
	assert_int_equal(sv_fs_create_atomic(target, "second", 6), SV_EEXISTS);
	sv_assert_ok(sv_fs_read_all(&data, &len, target, 1024));
	assert_string_equal(data, "first");
	assert_int_equal(temp_files_in(dir), 0);
	free(data);
	free(target);
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
}

static int count_entries(void *ud, const sv_dirent *e)
{
	(void)e;
	(*(int *)ud)++;
	return 0;
}

static void test_platform_win__long_path_create_read_remove(void **s)
{
	char *dir = sv_test_tmpdir("long"), *deep = NULL, *file, *data = NULL;
	char part[101];
	size_t len, i;
	uint64_t size;
	int n = 0, is_dir;

	(void)s;
	assert_non_null(dir);
	memset(part, 'd', 100);
	part[100] = '\0';
	deep = sv_strdup(dir);
	for (i = 0; i < 3; i++) {
		char *next = sv_path_join(deep, part);

		free(deep);
		deep = next;
	}
	file = sv_path_join(deep, "payload.bin");
	assert_true(strlen(file) > 300);
	sv_assert_ok(sv_fs_mkdir_p(deep, 1));
	sv_assert_ok(sv_fs_write_atomic(file, "long path data", 14, 1));
	sv_assert_ok(sv_fs_stat(file, &is_dir, &size));
	assert_int_equal(is_dir, 0);
	assert_int_equal(size, 14);
	sv_assert_ok(sv_fs_read_all(&data, &len, file, 1024));
	assert_string_equal(data, "long path data");
	sv_assert_ok(sv_fs_list_dir(deep, count_entries, &n));
	assert_int_equal(n, 1);
	sv_assert_ok(sv_fs_remove_tree(dir));
	assert_int_equal(sv_fs_stat(file, NULL, NULL), SV_ENOTFOUND);
	assert_int_equal(sv_fs_stat(dir, NULL, NULL), SV_ENOTFOUND);
	free(data);
	free(file);
	free(deep);
	free(dir);
}

static void test_platform_win__fs_errors_are_mapped(void **s)
{
	char *dir = sv_test_tmpdir("errs"), *missing, *f;
	sv_file *fh = NULL;
	unsigned attrs = 0;

	(void)s;
	assert_non_null(dir);
	missing = sv_path_join(dir, "no/such/file");
	assert_int_equal(sv_file_open(&fh, missing, SV_O_READ), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "such"));
	f = sv_path_join(dir, "f");
	sv_assert_ok(sv_fs_write_atomic(f, "x", 1, 0));
	assert_int_equal(sv_file_open(&fh, f, SV_O_WRITE | SV_O_CREATE |
				      SV_O_EXCL), SV_EEXISTS);
	sv_assert_ok(sv_fs_attributes(dir, &attrs));
	assert_true(attrs & SV_ATTR_DIRECTORY);
	sv_assert_ok(sv_fs_attributes(f, &attrs));
	assert_false(attrs & SV_ATTR_DIRECTORY);
	free(missing);
	free(f);
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
}

/* The same directory reached as "C:/x/y", "\\?\C:\x\y" and "C:\x\.\z\..\y". */
static void test_platform_win__path_forms_reach_the_same_file(void **s)
{
	char *dir = sv_test_tmpdir("forms"), *file, *slashed, *prefixed;
	char *dotted, *data = NULL;
	size_t len;
	uint64_t size = 0;

	(void)s;
	assert_non_null(dir);
	assert_true(sv_path_is_absolute(dir));
	file = sv_path_join(dir, "sub\\f.txt");
	slashed = sv_strdup(file);
	for (char *p = slashed; *p != '\0'; p++)
		if (*p == '\\')
			*p = '/';
	prefixed = sv_aprintf("\\\\?\\%s", file);
	dotted = sv_aprintf("%s\\.\\sub\\..\\sub\\f.txt", dir);
	sv_assert_ok(sv_fs_mkdir_p(slashed, 0));   /* a directory named f.txt */
	sv_assert_ok(sv_fs_remove(prefixed));
	sv_assert_ok(sv_fs_write_atomic(slashed, "forms", 5, 0));
	sv_assert_ok(sv_fs_stat(prefixed, NULL, &size));
	assert_int_equal(size, 5);
	sv_assert_ok(sv_fs_read_all(&data, &len, dotted, 64));
	assert_string_equal(data, "forms");
	free(data);
	free(dotted);
	free(prefixed);
	free(slashed);
	free(file);
	sv_assert_ok(sv_fs_remove_tree(dir));
	free(dir);
}

/* ---- the process runner ---- */

typedef struct capture {
	sv_buf out, err;
	int lines;
	int cancel_at_line;   /* on_line asks to stop at this line (0: never) */
	int stop_after_polls; /* should_stop says yes after this many (0: never) */
	int polls;
	int on_stop_calls;
} capture;

static int cap_line(void *ud, int stream, const char *line, size_t len)
{
	capture *c = ud;
	sv_buf *b = stream == SV_PROC_STDERR ? &c->err : &c->out;

	assert_int_equal(strlen(line), len);
	sv_buf_add(b, line, len);
	sv_buf_addc(b, '\n');
	c->lines++;
	return c->cancel_at_line != 0 && c->lines >= c->cancel_at_line;
}

static int cap_should_stop(void *ud)
{
	capture *c = ud;

	c->polls++;
	return c->stop_after_polls != 0 && c->polls >= c->stop_after_polls;
}

static void cap_on_stop(void *ud)
{
	((capture *)ud)->on_stop_calls++;
}

static void cap_init(capture *c)
{
	memset(c, 0, sizeof(*c));
	sv_buf_init(&c->out, 64 << 20);
	sv_buf_init(&c->err, 1 << 20);
	sv_buf_adds(&c->out, "");
	sv_buf_adds(&c->err, "");
}

static void cap_release(capture *c)
{
	sv_buf_release(&c->out);
	sv_buf_release(&c->err);
}

/* The directory ctest gives in SV_TEST_BIN_DIR (a Unix path under Wine is
 * reached through drive Z:), else this program's own directory. */
static const char *child_path(void)
{
	static char path[MAX_PATH * 3];
	const char *dir = getenv("SV_TEST_BIN_DIR");
	wchar_t w[MAX_PATH];
	char *slash;

	if (dir != NULL && dir[0] != '\0') {
		sv_snprintf(path, sizeof(path), "%s%s\\sv_test_child.exe",
			    dir[0] == '/' ? "Z:" : "", dir);
		sv_path_to_native(path);
		if (sv_fs_stat(path, NULL, NULL) == 0)
			return path;
	}
	assert_true(GetModuleFileNameW(NULL, w, MAX_PATH) > 0);
	assert_true(WideCharToMultiByte(CP_UTF8, 0, w, -1, path, sizeof(path),
					NULL, NULL) > 0);
	slash = strrchr(path, '\\');
	assert_non_null(slash);
	sv_strlcpy(slash + 1, "sv_test_child.exe",
		   sizeof(path) - (size_t)(slash + 1 - path));
	return path;
}

static int run_child(capture *c, sv_proc_result *res, const char **args,
		     uint32_t timeout_ms)
{
	const char *argv[16];
	sv_proc_opts o;
	size_t i;

	argv[0] = child_path();
	for (i = 0; args[i] != NULL && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = timeout_ms;
	o.grace_ms = 200;
	o.on_line = cap_line;
	o.should_stop = cap_should_stop;
	o.on_stop = cap_on_stop;
	o.ud = c;
	return sv_proc_run(res, &o);
}

static void test_platform_win__proc_captures_stdout_and_exit(void **s)
{
	const char *args[] = {"print", "3", "hello", NULL};
	const char *exit7[] = {"exit", "7", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	sv_assert_ok(run_child(&c, &res, args, 30000));
	assert_int_equal(res.exited, 1);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(c.out.ptr, "hello 0\nhello 1\nhello 2\n");
	assert_string_equal(c.err.ptr, "");
	sv_assert_ok(run_child(&c, &res, exit7, 30000));
	assert_int_equal(res.exited, 1);
	assert_int_equal(res.exit_code, 7);
	assert_int_equal(res.timed_out, 0);
	assert_int_equal(c.on_stop_calls, 0);
	cap_release(&c);
}

static void test_platform_win__proc_captures_stderr(void **s)
{
	const char *args[] = {"stderr", "something failed", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	sv_assert_ok(run_child(&c, &res, args, 30000));
	assert_string_equal(c.err.ptr, "something failed\n");
	assert_string_equal(c.out.ptr, "");
	cap_release(&c);
}

static void test_platform_win__proc_arguments_arrive_intact(void **s)
{
	const char *args[] = {"echo-args", "a", "b c", "d\"e", "", "tail\\",
			      "x\\\"y", "tab\there", "\\\\srv\\share dir\\", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	sv_assert_ok(run_child(&c, &res, args, 30000));
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(c.out.ptr, "a\nb c\nd\"e\n\ntail\\\nx\\\"y\n"
				       "tab\there\n\\\\srv\\share dir\\\n");
	cap_release(&c);
}

static void test_platform_win__proc_long_line_comes_in_pieces(void **s)
{
	char *text = malloc(10001);
	const char *args[] = {"print", "1", text, NULL};
	sv_proc_result res;
	capture c;
	const char *nl;

	(void)s;
	assert_non_null(text);
	memset(text, 'x', 10000);
	text[10000] = '\0';
	cap_init(&c);
	sv_assert_ok(run_child(&c, &res, args, 30000));
	assert_int_equal(c.lines, 2);
	nl = strchr(c.out.ptr, '\n');
	assert_int_equal(nl - c.out.ptr, SV_PROC_MAX_LINE);
	assert_int_equal(strlen(nl + 1), 10002 - SV_PROC_MAX_LINE + 1);
	assert_true(sv_str_endswith(c.out.ptr, "x 0\n"));
	cap_release(&c);
	free(text);
}

static void test_platform_win__proc_many_lines_in_order(void **s)
{
	const char *args[] = {"print", "20000", "line", NULL};
	sv_proc_result res;
	capture c;
	char want[32];
	const char *p;
	int i;

	(void)s;
	cap_init(&c);
	sv_assert_ok(run_child(&c, &res, args, 60000));
	assert_int_equal(c.lines, 20000);
	p = c.out.ptr;
	for (i = 0; i < 20000; i++) {
		sv_snprintf(want, sizeof(want), "line %d\n", i);
		assert_true(strncmp(p, want, strlen(want)) == 0);
		p += strlen(want);
	}
	cap_release(&c);
}

static void test_platform_win__proc_timeout_kills_sleeper(void **s)
{
	const char *args[] = {"sleep", "20000", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	assert_int_equal(run_child(&c, &res, args, 500), SV_ETIMEOUT);
	assert_int_equal(res.timed_out, 1);
	assert_int_equal(res.exited, 0);
	assert_int_equal(c.on_stop_calls, 1);
	assert_true(res.elapsed_ms >= 500);
	assert_true(res.elapsed_ms < 10000);
	assert_non_null(strstr(sv_error_msg(), "sv_test_child"));
	assert_string_equal(c.out.ptr, "");
	cap_release(&c);
}

/* The grandchild is in the job: the kill takes it too, so its inherited
 * pipe closes and the runner returns without waiting for it. */
static void test_platform_win__proc_timeout_kills_whole_tree(void **s)
{
	const char *args[] = {"spawn-sleep", "20000", NULL};
	sv_proc_result res;
	unsigned long pid = 0;
	HANDLE h;
	capture c;

	(void)s;
	cap_init(&c);
	assert_int_equal(run_child(&c, &res, args, 1500), SV_ETIMEOUT);
	assert_int_equal(res.timed_out, 1);
	print_message("tree stopped after %llu ms\n",
		      (unsigned long long)res.elapsed_ms);
	assert_true(res.elapsed_ms < 4500);
	assert_int_equal(sscanf(c.out.ptr, "grandchild %lu", &pid), 1);
	h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
	if (h != NULL) {
		assert_int_equal(WaitForSingleObject(h, 3000), WAIT_OBJECT_0);
		CloseHandle(h);
	}
	cap_release(&c);
}

static void test_platform_win__proc_cancel_by_should_stop(void **s)
{
	const char *args[] = {"sleep", "20000", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	c.stop_after_polls = 2;
	assert_int_equal(run_child(&c, &res, args, 0), SV_ECANCELLED);
	assert_int_equal(res.cancelled, 1);
	assert_int_equal(res.timed_out, 0);
	assert_int_equal(c.on_stop_calls, 1);
	assert_true(res.elapsed_ms < 10000);
	cap_release(&c);
}

static void test_platform_win__proc_cancel_by_on_line(void **s)
{
	const char *args[] = {"spawn-sleep", "20000", NULL};
	sv_proc_result res;
	capture c;

	(void)s;
	cap_init(&c);
	c.cancel_at_line = 1;
	assert_int_equal(run_child(&c, &res, args, 0), SV_ECANCELLED);
	assert_int_equal(res.cancelled, 1);
	assert_true(res.elapsed_ms < 10000);
	cap_release(&c);
}

static void test_platform_win__proc_environment_is_added(void **s)
{
	const char *env[] = {"SV_TEST_ADDED=hello world", "sv_test_over=new",
			     NULL};
	const char *argv[4] = {NULL, "env", NULL, NULL};
	sv_proc_opts o;
	sv_proc_result res;
	capture c;

	(void)s;
	SetEnvironmentVariableW(L"SV_TEST_OVER", L"old");
	cap_init(&c);
	argv[0] = child_path();
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env_set = env;
	o.on_line = cap_line;
	o.ud = &c;
	argv[2] = "SV_TEST_ADDED";
	sv_assert_ok(sv_proc_run(&res, &o));
	argv[2] = "SV_TEST_OVER";
	sv_assert_ok(sv_proc_run(&res, &o));
	argv[2] = "PATH";
	sv_assert_ok(sv_proc_run(&res, &o));
	assert_true(sv_str_startswith(c.out.ptr, "hello world\nnew\n"));
	assert_null(strstr(c.out.ptr, "(unset)"));
	SetEnvironmentVariableW(L"SV_TEST_OVER", NULL);
	cap_release(&c);
}

static void test_platform_win__proc_missing_program_not_found(void **s)
{
	const char *abs_argv[] = {"C:\\sysvault-no-such\\prog.exe", NULL};
	const char *bare_argv[] = {"sysvault-no-such-program", NULL};
	sv_proc_opts o;
	sv_proc_result res;

	(void)s;
	memset(&o, 0, sizeof(o));
	o.argv = abs_argv;
	assert_int_equal(sv_proc_run(&res, &o), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "prog.exe"));
	o.argv = bare_argv;
	assert_int_equal(sv_proc_run(&res, &o), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "sysvault-no-such-program"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_win__volume_space_of_c),
		cmocka_unit_test(test_platform_win__volume_query_c_is_fixed),
		cmocka_unit_test(test_platform_win__volume_of_missing_path_not_found),
		cmocka_unit_test(test_platform_win__rpcss_service_has_a_start_type),
		cmocka_unit_test(test_platform_win__missing_service_not_found),
		cmocka_unit_test(test_platform_win__secret_round_trip),
		cmocka_unit_test(test_platform_win__tampered_secret_is_eauth),
		cmocka_unit_test(test_platform_win__acl_system_full_control_granted),
		cmocka_unit_test(test_platform_win__acl_system_read_only_not_granted),
		cmocka_unit_test(test_platform_win__acl_deny_ace_removes_full_control),
		cmocka_unit_test(test_platform_win__acl_inherit_only_ace_ignored),
		cmocka_unit_test(test_platform_win__acl_set_on_directory),
		cmocka_unit_test(test_platform_win__firmware_type_is_bios_or_uefi),
		cmocka_unit_test(test_platform_win__smbios_read_gives_identity),
		cmocka_unit_test(test_platform_win__machine_names),
		cmocka_unit_test(test_platform_win__atomic_write_onto_directory_keeps_it),
		cmocka_unit_test(test_platform_win__atomic_write_onto_busy_file_keeps_it),
		cmocka_unit_test(test_platform_win__create_atomic_refuses_existing),
		cmocka_unit_test(test_platform_win__long_path_create_read_remove),
		cmocka_unit_test(test_platform_win__fs_errors_are_mapped),
		cmocka_unit_test(test_platform_win__path_forms_reach_the_same_file),
		cmocka_unit_test(test_platform_win__proc_captures_stdout_and_exit),
		cmocka_unit_test(test_platform_win__proc_captures_stderr),
		cmocka_unit_test(test_platform_win__proc_arguments_arrive_intact),
		cmocka_unit_test(test_platform_win__proc_long_line_comes_in_pieces),
		cmocka_unit_test(test_platform_win__proc_many_lines_in_order),
		cmocka_unit_test(test_platform_win__proc_timeout_kills_sleeper),
		cmocka_unit_test(test_platform_win__proc_timeout_kills_whole_tree),
		cmocka_unit_test(test_platform_win__proc_cancel_by_should_stop),
		cmocka_unit_test(test_platform_win__proc_cancel_by_on_line),
		cmocka_unit_test(test_platform_win__proc_environment_is_added),
		cmocka_unit_test(test_platform_win__proc_missing_program_not_found),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
