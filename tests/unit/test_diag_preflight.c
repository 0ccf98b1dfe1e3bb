/*
 * test_diag_preflight.c - running the probes: the Windows provider behind
 * a fake machine (a healthy server, a Wine-like one lacking services and
 * tools), time limits, --skip-check, the vault callback, and a real run on
 * the machine the tests run on.
 */
#include "sv_test.h"

#include "diag.h"
#include "diag_int.h"
#include "sv_fs.h"
#include "sv_time.h"

#define NOW 1795000000

/* What the fake machine lacks or does. */
static struct fake {
	const char *missing[8]; /* services that are not installed */
	int wine_tools;		/* tools absent or stubs, as in Wine */
	uint32_t vssadmin_hang_ms;
} F;

static int fake_service(const char *name, sv_service_info *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; F.missing[i]; i++)
		if (!strcmp(F.missing[i], name))
			return sv_error_set(SV_ENOTFOUND,
					    "service '%s' is "
					    "not installed",
					    name);
	if (!strcmp(name, "RpcSs") || !strcmp(name, "EventSystem") ||
	    !strcmp(name, "SENS")) {
		out->state = SV_SVC_RUNNING;
		out->start_type = SV_START_AUTO;
	} else {
		out->state = SV_SVC_STOPPED;
		out->start_type = SV_START_DEMAND;
	}
	return 0;
}

static int fake_acl(const char *path, int *granted)
{
	*granted = 1;
	return 0;
}

static int fake_volume(const char *path, sv_volume_info *out)
{
	memset(out, 0, sizeof(*out));
	out->type = SV_VOL_FIXED;
	sv_strlcpy(out->fs_name, "NTFS", sizeof(out->fs_name));
	out->free_bytes = (uint64_t)412 << 30;
	out->total_bytes = (uint64_t)500 << 30;
	return 0;
}

static int fake_stat(const char *path, int *is_dir, uint64_t *size)
{
	*is_dir = strstr(path, ".exe") == NULL;
	return 0;
}

static int fake_attrs(const char *path, unsigned *attrs)
{
	*attrs = SV_ATTR_DIRECTORY;
	return 0;
}

static int fake_write(const char *dir)
{
	return 0;
}

static int fake_firmware(sv_firmware_type *out)
{
	*out = SV_FW_UEFI;
	return 0;
}

static int fake_smbios(sv_smbios_info *out)
{
	memset(out, 0, sizeof(*out));
	sv_strlcpy(out->manufacturer, "Dell Inc.", sizeof(out->manufacturer));
	sv_strlcpy(out->product, "PowerEdge R740", sizeof(out->product));
	sv_strlcpy(out->uuid, "4c4c4544-0042-3510-8052-b7c04f4e3332",
		   sizeof(out->uuid));
	return 0;
}

static int fake_name(char *dst, size_t size)
{
	return sv_snprintf(dst, size, "SRV-DC01");
}

static int fake_fqdn(char *dst, size_t size)
{
	return sv_snprintf(dst, size, "srv-dc01.corp.example");
}

static int fake_os(char *dst, size_t size)
{
	return sv_snprintf(dst, size, "Windows 10.0.20348");
}

static char *fake_env(const char *name)
{
	if (!strcmp(name, "SystemRoot"))
		return sv_strdup("C:\\Windows");
	if (!strcmp(name, "SystemDrive"))
		return sv_strdup("C:");
	return NULL;
}

static int64_t fake_now(void)
{
	return NOW;
}

static const char writers_out[] =
	"Writer name: 'System Writer'\r\n"
	"   Writer Id: {e8132975-6f93-4464-a53e-1050253ae220}\r\n"
	"   Writer Instance Id: {7848396d-00b1-47cd-8ba9-769b7ce402d2}\r\n"
	"   State: [1] Stable\r\n"
	"   Last error: No error\r\n"
	"\r\n"
	"Writer name: 'Registry Writer'\r\n"
	"   Writer Id: {afbab4a2-367d-4d15-a586-71dbb18f8485}\r\n"
	"   Writer Instance Id: {ebaa8b2d-1bd4-4c6a-b3a4-7c4a0c5a5d0d}\r\n"
	"   State: [1] Stable\r\n"
	"   Last error: No error\r\n";

static const char storage_out[] =
	"   Used Shadow Copy Storage space: 2.06 GB (1%)\r\n"
	"   Allocated Shadow Copy Storage space: 2.5 GB (1%)\r\n"
	"   Maximum Shadow Copy Storage space: 11.8 GB (8%)\r\n";

/* Every probe script's tags at once: each parser takes its own. */
static const char powershell_out[] = "SV_ESP=1\r\n"
				     "SV_ESP_VOLUME=\\\\?\\Volume{5a1c3f2e-"
				     "0d4b-4e8a-9c71-2b6f0e9d8a13}\\\r\n"
				     "SV_ESP_LOCK=ok\r\n"
				     "SV_BL=0\r\n"
				     "SV_BL_PROTECTION=1\r\n";

static const char tasklist_out[] =
	"\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\"\r\n"
	"\"svchost.exe\",\"812\",\"Services\",\"0\",\"24,120 K\"\r\n"
	"\"lsass.exe\",\"640\",\"Services\",\"0\",\"18,004 K\"\r\n";

static const char reg_out[] =
	"\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\"
	"TimeZoneInformation\r\n"
	"    TimeZoneKeyName    REG_SZ    W. Europe Standard Time\r\n\r\n";

static int ends_with(const char *s, const char *tail)
{
	return sv_str_endswith(s, tail);
}

static int fake_run(const char *const *argv, uint32_t timeout_ms,
		    diag__output *out)
{
	const char *exe = argv[0];

	if (ends_with(exe, "vssadmin.exe") && F.vssadmin_hang_ms)
		sv_time_sleep_ms(F.vssadmin_hang_ms);
	if (F.wine_tools && ends_with(exe, "vssadmin.exe"))
		return sv_error_set(SV_ENOTFOUND, "cannot run '%s'", exe);
	if (F.wine_tools) /* Wine's tasklist and powershell are stubs */
		return sv_buf_adds(&out->text,
				   ends_with(exe, "reg.exe") ? reg_out : "");
	if (ends_with(exe, "vssadmin.exe"))
		return sv_buf_adds(&out->text, !strcmp(argv[2], "writers")
						       ? writers_out
						       : storage_out);
	if (ends_with(exe, "powershell.exe"))
		return sv_buf_adds(&out->text, powershell_out);
	if (ends_with(exe, "tasklist.exe"))
		return sv_buf_adds(&out->text, tasklist_out);
	if (ends_with(exe, "reg.exe"))
		return sv_buf_adds(&out->text, reg_out);
	return sv_error_set(SV_ENOTFOUND, "no fake for '%s'", exe);
}

static diag__provider fake_windows(void)
{
	diag__provider p = diag__provider_windows;

	p.service_query = fake_service;
	p.acl_system_full_control = fake_acl;
	p.volume_query = fake_volume;
	p.fs_stat = fake_stat;
	p.fs_attributes = fake_attrs;
	p.write_probe = fake_write;
	p.firmware_type = fake_firmware;
	p.smbios_read = fake_smbios;
	p.machine_name = fake_name;
	p.machine_fqdn = fake_fqdn;
	p.os_version = fake_os;
	p.env_get = fake_env;
	p.now = fake_now;
	p.run = fake_run;
	return p;
}

static int ping_ok(void *ud, uint32_t timeout_ms, int64_t *server_time,
		   char *err, size_t n)
{
	*server_time = NOW + 2;
	return 0;
}

static int ping_refused(void *ud, uint32_t timeout_ms, int64_t *server_time,
			char *err, size_t n)
{
	sv_snprintf(err, n, "403 AuthenticationFailed");
	return SV_EAUTH;
}

static diag_opts healthy_opts(const diag_vault_cb *vault)
{
	diag_opts o;

	memset(&o, 0, sizeof(o));
	o.scratch_dir = "D:\\sysvault\\Scratch";
	o.last_backup_bytes = (uint64_t)27 << 30;
	o.vault = vault;
	o.registered_name = "SRV-DC01";
	o.registered_fqdn = "srv-dc01.corp.example";
	o.credentials_expiry = NOW + 180 * 86400;
	o.agent_version = "0.1.0";
	return o;
}

static diag_report *run_fake(const diag_opts *o)
{
	diag__provider p = fake_windows();
	diag_report *r = NULL;

	sv_assert_ok(diag__run_with(&r, o, &p));
	return r;
}

static const char *reason_of(const diag_report *r, int i, diag_verdict *v)
{
	diag_result res;

	sv_assert_ok(diag_result_at(r, (size_t)i, &res));
	*v = res.verdict;
	return res.reason;
}

static void test_diag_preflight__healthy_fake_server_passes(void **s)
{
	diag_vault_cb vault = {ping_ok, NULL};
	diag_opts o = healthy_opts(&vault);
	diag_report *r;
	diag_verdict v;
	int i;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "ddpsvc";
	r = run_fake(&o);
	for (i = 0; i < DIAG__NCHECKS; i++) {
		const char *why = reason_of(r, i, &v);

		if (v != DIAG_PASS)
			print_error("%s: %s\n", diag__checks[i].id, why);
		assert_int_equal(v, DIAG_PASS);
	}
	assert_int_equal(diag_exit_code(r), 0);
	assert_non_null(strstr(reason_of(r, 10, &v), "within 2 s"));
	diag_report_free(r);
}

/* The keys of a and b, recursively (first element of arrays). */
static void same_shape(const json_t *a, const json_t *b, const char *where)
{
	const char *k;
	json_t *v;

	if (json_is_array(a) && json_array_size(a) && json_array_size(b)) {
		same_shape(json_array_get(a, 0), json_array_get(b, 0), where);
		return;
	}
	if (!json_is_object(a))
		return;
	json_object_foreach((json_t *)(uintptr_t)a, k, v)
	{
		if (!json_object_get(b, k))
			print_error("%s: '%s' only in the probe's evidence\n",
				    where, k);
		assert_non_null(json_object_get(b, k));
		same_shape(v, json_object_get(b, k), where);
	}
}

static void test_diag_preflight__evidence_has_the_fixtures_shape(void **s)
{
	diag_vault_cb vault = {ping_ok, NULL};
	diag_opts o = healthy_opts(&vault);
	char *path = sv_aprintf("%s/preflight/healthy.json", SV_TEST_FIXTURES);
	diag_report *r, *fx = NULL;
	diag_result a, b;
	int i;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "ddpsvc";
	r = run_fake(&o);
	sv_assert_ok(diag_load(&fx, path));
	for (i = 0; i < DIAG__NCHECKS; i++) {
		sv_assert_ok(diag_result_at(r, (size_t)i, &a));
		sv_assert_ok(diag_result_at(fx, (size_t)i, &b));
		same_shape(a.evidence, b.evidence, a.id);
		same_shape(b.evidence, a.evidence, a.id);
	}
	diag_report_free(fx);
	diag_report_free(r);
	free(path);
}

static void test_diag_preflight__wine_like_machine_fails_clearly(void **s)
{
	diag_opts o = healthy_opts(NULL);
	diag_report *r;
	diag_verdict v;
	const char *why;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "EventSystem";
	F.missing[1] = "SENS";
	F.missing[2] = "swprv";
	F.missing[3] = "ddpsvc";
	F.wine_tools = 1;
	r = run_fake(&o);
	why = reason_of(r, 1, &v);
	assert_int_equal(v, DIAG_FAIL);
	assert_string_equal(why, "missing: EventSystem, SENS, swprv");
	why = reason_of(r, 7, &v);
	assert_int_equal(v, DIAG_SKIP);
	assert_non_null(strstr(why, "vssadmin not available"));
	why = reason_of(r, 8, &v);
	assert_int_equal(v, DIAG_WARN);
	assert_non_null(strstr(why, "came back empty"));
	why = reason_of(r, 6, &v);
	assert_int_equal(v, DIAG_WARN);
	assert_non_null(strstr(why, "gave no answer"));
	assert_int_equal(diag_exit_code(r), 2);
	diag_report_free(r);
}

static void test_diag_preflight__a_hung_probe_is_a_warning(void **s)
{
	diag_opts o = healthy_opts(NULL);
	diag_report *r;
	diag_verdict v;
	uint64_t t0;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "ddpsvc";
	F.vssadmin_hang_ms = 2500;
	o.timeout_ms = 200;
	t0 = sv_time_mono_ms();
	r = run_fake(&o);
	/* 200 ms and the second of grace, not the 2.5 s of the hang. */
	assert_true(sv_time_mono_ms() - t0 < 2000);
	assert_non_null(strstr(reason_of(r, 7, &v), "did not finish within "
						    "200 ms"));
	assert_int_equal(v, DIAG_WARN);
	assert_int_equal(diag_exit_code(r), 1);
	/* Once the hung probes have ended, freeing the report reaps them. */
	sv_time_sleep_ms(3000);
	diag_report_free(r);
}

static void test_diag_preflight__skip_and_blocking_only(void **s)
{
	const char *skip[] = {"PF009", "pf014", NULL};
	const char *bad[] = {"PF000", NULL};
	diag_opts o = healthy_opts(NULL);
	diag_report *r;
	diag_verdict v;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "ddpsvc";
	o.skip = skip;
	o.blocking_only = 1;
	r = run_fake(&o);
	assert_string_equal(reason_of(r, 8, &v), "skipped by --skip-check");
	assert_string_equal(reason_of(r, 13, &v), "skipped by --skip-check");
	assert_string_equal(reason_of(r, 14, &v), "not run");
	assert_int_equal(v, DIAG_SKIP);
	diag_report_free(r);
	o.skip = bad;
	r = NULL;
	assert_int_equal(diag_run(&r, &o), SV_EINVAL);
	assert_null(r);
}

static void test_diag_preflight__vault_refusal_fails_pf012(void **s)
{
	diag_vault_cb vault = {ping_refused, NULL};
	diag_opts o = healthy_opts(&vault);
	diag_report *r;
	diag_verdict v;

	(void)s;
	memset(&F, 0, sizeof(F));
	F.missing[0] = "ddpsvc";
	r = run_fake(&o);
	assert_string_equal(reason_of(r, 11, &v),
			    "credentials rejected: 403 AuthenticationFailed");
	assert_int_equal(v, DIAG_FAIL);
	assert_non_null(strstr(reason_of(r, 10, &v), "did not answer"));
	assert_int_equal(v, DIAG_SKIP);
	diag_report_free(r);
}

static int ping_now(void *ud, uint32_t timeout_ms, int64_t *server_time,
		    char *err, size_t n)
{
	*server_time = sv_time_now();
	return 0;
}

/* The real thing: this machine, with the provider common/ chooses. */
static void test_diag_preflight__runs_on_this_machine(void **s)
{
	char *dir = sv_test_tmpdir("diag-preflight");
	diag_vault_cb vault = {ping_now, NULL};
	diag_opts o;
	diag_report *r = NULL;
	diag_result res;
	json_t *j;
	size_t i;

	(void)s;
	memset(&o, 0, sizeof(o));
	o.scratch_dir = dir;
	o.agent_version = "test";
	o.vault = &vault;
	sv_assert_ok(diag_run(&r, &o));
	j = diag_report_json(r);
	assert_non_null(j);
	for (i = 0; i < diag_count(r); i++) {
		sv_assert_ok(diag_result_at(r, i, &res));
		assert_non_null(res.reason);
		assert_false(res.timed_out);
	}
	/* The portable checks ran for real: the clock and time zone, the
	 * vault, the free space. */
	sv_assert_ok(diag_result_at(r, 10, &res));
	if (res.verdict != DIAG_PASS)
		print_error("PF011: %s\n", res.reason);
	assert_int_equal(res.verdict, DIAG_PASS);
	sv_assert_ok(diag_result_at(r, 11, &res));
	assert_int_equal(res.verdict, DIAG_PASS);
	sv_assert_ok(diag_result_at(r, 4, &res));
	assert_true(
		json_is_integer(json_object_get(res.evidence, "free_bytes")));
	sv_assert_ok(diag_result_at(r, 5, &res));
	assert_true(
		json_is_integer(json_object_get(res.evidence, "free_bytes")));
	if (!strcmp(json_string_value(json_object_get(j, "platform")),
		    "posix")) {
		for (i = 0; i < 3; i++) {
			sv_assert_ok(diag_result_at(r, i, &res));
			assert_string_equal(res.reason, "not Windows");
		}
		sv_assert_ok(diag_result_at(r, 7, &res));
		assert_string_equal(res.reason, "not Windows");
	} else {
		sv_assert_ok(diag_result_at(r, 1, &res));
		assert_int_equal(json_array_size(json_object_get(res.evidence,
								 "services")),
				 5);
	}
	assert_true(json_integer_value(json_object_get(j, "duration_ms")) <
		    10000);
	json_decref(j);
	diag_report_free(r);
	sv_fs_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_diag_preflight__healthy_fake_server_passes),
		cmocka_unit_test(
			test_diag_preflight__evidence_has_the_fixtures_shape),
		cmocka_unit_test(
			test_diag_preflight__wine_like_machine_fails_clearly),
		cmocka_unit_test(
			test_diag_preflight__a_hung_probe_is_a_warning),
		cmocka_unit_test(test_diag_preflight__skip_and_blocking_only),
		cmocka_unit_test(
			test_diag_preflight__vault_refusal_fails_pf012),
		cmocka_unit_test(test_diag_preflight__runs_on_this_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
