/*
 * test_diag_probe.c - what the probe providers read: tasklist, ps, reg and
 * the PowerShell probe scripts' tagged lines, through the Windows provider
 * with a fake runner; and the table of known backup software.
 */
#include "sv_test.h"

#include "diag_int.h"

static const char *fake_output;
static int fake_rc;

static int fake_run(const char *const *argv, uint32_t timeout_ms,
		    diag__output *out)
{
	if (fake_rc)
		return sv_error_set(fake_rc, "fake failure");
	return sv_buf_adds(&out->text, fake_output);
}

static char *fake_env(const char *name)
{
	return !strcmp(name, "SystemRoot") ? sv_strdup("C:\\Windows") : NULL;
}

static int fake_stat(const char *path, int *is_dir, uint64_t *size)
{
	*is_dir = 0;
	return 0;
}

static int fake_service(const char *name, sv_service_info *out)
{
	memset(out, 0, sizeof(*out));
	out->state = SV_SVC_RUNNING;
	out->start_type = SV_START_AUTO;
	return 0;
}

static diag__provider provider(void)
{
	diag__provider p = diag__provider_windows;

	p.run = fake_run;
	p.env_get = fake_env;
	p.fs_stat = fake_stat;
	p.service_query = fake_service;
	return p;
}

static json_t *esp(const char *out, int *rc)
{
	diag__provider p = provider();
	json_t *ev = json_object();

	fake_output = out;
	fake_rc = 0;
	*rc = p.esp(&p, 1000, ev);
	return ev;
}

static void test_diag_probe__reads_tasklist_csv(void **s)
{
	static const char out[] =
		"\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\"\r\n"
		"\"odd \"\"name\"\".exe\",\"4\",\"Services\",\"0\",\"1 K\"\r\n"
		"INFO: No tasks are running which match the criteria.\r\n"
		"\"VeeamAgent.exe\",\"4410\",\"Services\",\"0\",\"90 K\"\r\n";
	json_t *names = json_array();

	(void)s;
	sv_assert_ok(diag__parse_tasklist(names, out, strlen(out)));
	assert_int_equal(json_array_size(names), 3);
	assert_string_equal(json_string_value(json_array_get(names, 0)),
			    "System Idle Process");
	assert_string_equal(json_string_value(json_array_get(names, 1)),
			    "odd \"name\".exe");
	assert_string_equal(json_string_value(json_array_get(names, 2)),
			    "VeeamAgent.exe");
	json_decref(names);
}

static void test_diag_probe__reads_ps(void **s)
{
	static const char out[] = "systemd\n  kthreadd \n\nrestic\n";
	json_t *names = json_array();

	(void)s;
	sv_assert_ok(diag__parse_ps(names, out, strlen(out)));
	assert_int_equal(json_array_size(names), 3);
	assert_string_equal(json_string_value(json_array_get(names, 1)),
			    "kthreadd");
	json_decref(names);
}

static void test_diag_probe__reads_reg_and_tags(void **s)
{
	static const char reg[] =
		"\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control"
		"\\TimeZoneInformation\r\n    TimeZoneKeyName    REG_SZ    "
		"Pacific Standard Time\r\n";
	static const char tags[] = "junk\nSV_ESPX=1\nSV_ESP=2\r\n";
	char v[64];

	(void)s;
	sv_assert_ok(diag__parse_reg_sz(reg, strlen(reg), "timezonekeyname", v,
					sizeof(v)));
	assert_string_equal(v, "Pacific Standard Time");
	assert_int_equal(
		diag__parse_reg_sz(reg, strlen(reg), "Other", v, sizeof(v)),
		SV_ENOTFOUND);
	sv_assert_ok(
		diag__tagged_value(tags, strlen(tags), "SV_ESP", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_int_equal(
		diag__tagged_value(tags, strlen(tags), "SV_BL", v, sizeof(v)),
		SV_ENOTFOUND);
}

static void test_diag_probe__esp_lock_answers(void **s)
{
	json_t *ev;
	int rc;

	(void)s;
	ev = esp("SV_ESP=1\nSV_ESP_VOLUME=\\\\?\\Volume{x}\\\nSV_ESP_LOCK=ok\n",
		 &rc);
	sv_assert_ok(rc);
	assert_true(json_is_true(json_object_get(ev, "found")));
	assert_string_equal(json_string_value(json_object_get(ev, "lock")),
			    "ok");
	json_decref(ev);
	ev = esp("SV_ESP=1\nSV_ESP_VOLUME=\\\\?\\Volume{x}\\\n"
		 "SV_ESP_LOCK=locked 5\n",
		 &rc);
	sv_assert_ok(rc);
	assert_string_equal(json_string_value(json_object_get(ev, "lock")),
			    "locked");
	assert_int_equal(json_integer_value(json_object_get(ev, "win32_error")),
			 5);
	json_decref(ev);
	ev = esp("SV_ESP=0\n", &rc);
	sv_assert_ok(rc);
	assert_true(json_is_false(json_object_get(ev, "found")));
	json_decref(ev);
	ev = esp("", &rc);
	assert_int_equal(rc, SV_ERROR);
	assert_non_null(strstr(sv_error_msg(), "gave no answer"));
	json_decref(ev);
	ev = esp("SV_ESP=error Access denied\n", &rc);
	assert_int_equal(rc, SV_ERROR);
	assert_non_null(strstr(sv_error_msg(), "Access denied"));
	json_decref(ev);
}

static int bitlocker(const char *out, json_t **ev)
{
	diag__provider p = provider();

	*ev = json_object();
	fake_output = out;
	fake_rc = 0;
	return p.bitlocker(&p, "C:\\", 1000, *ev);
}

static void test_diag_probe__bitlocker_answers(void **s)
{
	json_t *ev;

	(void)s;
	sv_assert_ok(bitlocker("SV_BL=1\nSV_BL_PROTECTION=1\n", &ev));
	assert_int_equal(json_integer_value(json_object_get(ev, "lock_status")),
			 1);
	json_decref(ev);
	sv_assert_ok(bitlocker("SV_BL=error InvalidNamespace Invalid "
			       "namespace\n",
			       &ev));
	assert_true(json_is_false(json_object_get(ev, "installed")));
	json_decref(ev);
	assert_int_equal(bitlocker("SV_BL=error AccessDenied Access is "
				   "denied.\n",
				   &ev),
			 SV_EACCESS);
	json_decref(ev);
	assert_int_equal(bitlocker("\n", &ev), SV_ERROR);
	json_decref(ev);
}

static void test_diag_probe__missing_tool_is_not_found(void **s)
{
	diag__provider p = provider();
	json_t *names = json_array();
	char src[64];

	(void)s;
	fake_rc = SV_ENOTFOUND;
	assert_int_equal(p.process_list(&p, 1000, names, src, sizeof(src)),
			 SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "tasklist.exe"));
	fake_rc = 0;
	json_decref(names);
}

static void test_diag_probe__dedup_needs_its_service(void **s)
{
	diag__provider p = provider();
	json_t *ev = json_object();

	(void)s;
	fake_output = "SV_DEDUP=1\r\n";
	fake_rc = 0;
	sv_assert_ok(p.dedup(&p, "E:\\scratch", 1000, ev));
	assert_true(json_is_true(json_object_get(ev, "enabled")));
	json_decref(ev);
}

static const diag__software *match(const diag__matcher *m, const char *n)
{
	return diag__matcher_find(m, n, strlen(n));
}

static void test_diag_probe__backup_software_table(void **s)
{
	diag__matcher *m = NULL;

	(void)s;
	sv_assert_ok(diag__matcher_new(&m));
	assert_string_equal(match(m, "WBADMIN.EXE")->kind, "wsb");
	assert_string_equal(match(m, "VeeamAgent.exe")->product, "Veeam");
	assert_string_equal(match(m, "restic")->kind, "job");
	assert_string_equal(match(m, "cbengine.exe")->kind, "agent");
	assert_null(match(m, "notwbadmin.exe"));
	assert_null(match(m, "svchost.exe"));
	assert_null(match(m, "sysvault.exe"));
	diag__matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_probe__reads_tasklist_csv),
		cmocka_unit_test(test_diag_probe__reads_ps),
		cmocka_unit_test(test_diag_probe__reads_reg_and_tags),
		cmocka_unit_test(test_diag_probe__esp_lock_answers),
		cmocka_unit_test(test_diag_probe__bitlocker_answers),
		cmocka_unit_test(test_diag_probe__missing_tool_is_not_found),
		cmocka_unit_test(test_diag_probe__dedup_needs_its_service),
		cmocka_unit_test(test_diag_probe__backup_software_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
