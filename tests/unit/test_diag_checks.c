/*
 * test_diag_checks.c - every check's verdict (pass, fail, skip, and the
 * warning bands) from evidence bundles that describe Windows machines:
 * tests/fixtures/preflight/ (make_fixtures.py), plus the real Wine and
 * Linux runs saved there.
 */
#include "sv_test.h"

#include "diag.h"
#include "diag_int.h"
#include "sv_path.h"

static diag_report *load(const char *name)
{
	char *path = sv_aprintf("%s/preflight/%s", SV_TEST_FIXTURES, name);
	diag_report *r = NULL;

	assert_non_null(path);
	sv_assert_ok(diag_load(&r, path));
	sv_assert_ok(diag_evaluate(r, NULL));
	free(path);
	return r;
}

/* Asserts check id's verdict in fixture, and that its reason holds
 * `says` (when not NULL). */
static void expect(const char *fixture, const char *id, diag_verdict v,
		   const char *says)
{
	diag_report *r = load(fixture);
	diag_result res;
	int i = diag__check_index(id);

	assert_true(i >= 0);
	sv_assert_ok(diag_result_at(r, (size_t)i, &res));
	if (res.verdict != v || (says && !strstr(res.reason, says)))
		print_error("%s %s: %s \"%s\", expected %s \"%s\"\n", fixture,
			    id, diag_verdict_name(res.verdict), res.reason,
			    diag_verdict_name(v), says ? says : "");
	assert_int_equal(res.verdict, v);
	if (says)
		assert_non_null(strstr(res.reason, says));
	if (v == DIAG_FAIL || v == DIAG_WARN)
		assert_true(res.fix && res.fix[0]);
	else
		assert_null(res.fix);
	diag_report_free(r);
}

static void test_diag_checks__healthy_server_passes_everything(void **s)
{
	diag_report *r = load("healthy.json");
	diag_result res;
	size_t i;

	(void)s;
	for (i = 0; i < diag_count(r); i++) {
		sv_assert_ok(diag_result_at(r, i, &res));
		if (res.verdict != DIAG_PASS)
			print_error("%s: %s\n", res.id, res.reason);
		assert_int_equal(res.verdict, DIAG_PASS);
	}
	assert_int_equal(diag_exit_code(r), 0);
	diag_report_free(r);
}

static void test_diag_checks__pf001_wsb_installed(void **s)
{
	(void)s;
	expect("healthy.json", "PF001", DIAG_PASS, "wbadmin at C:\\Windows");
	expect("wsb-missing.json", "PF001", DIAG_FAIL, "not installed");
	expect("linux.json", "PF001", DIAG_SKIP, "not Windows");
}

static void test_diag_checks__pf002_services(void **s)
{
	(void)s;
	expect("healthy.json", "PF002", DIAG_PASS, NULL);
	expect("vss-disabled.json", "PF002", DIAG_FAIL, "disabled: VSS");
	expect("linux.json", "PF002", DIAG_SKIP, "not Windows");
}

static void test_diag_checks__pf002_names_every_service_wine_lacks(void **s)
{
	diag_report *r = load("wine.json");
	diag_result res;

	(void)s;
	sv_assert_ok(diag_result_at(r, 1, &res));
	assert_int_equal(res.verdict, DIAG_FAIL);
	assert_non_null(strstr(res.reason, "missing: "));
	assert_non_null(strstr(res.reason, "VSS"));
	assert_non_null(strstr(res.reason, "swprv"));
	assert_non_null(strstr(res.fix, "Not installed: "));
	diag_report_free(r);
}

static void test_diag_checks__pf003_system_ace(void **s)
{
	(void)s;
	expect("healthy.json", "PF003", DIAG_PASS, "SYSTEM has full control");
	expect("system-ace-missing.json", "PF003", DIAG_FAIL, "S-1-5-18");
	expect("linux.json", "PF003", DIAG_SKIP, "not Windows");
}

static void test_diag_checks__pf004_scratch_folder(void **s)
{
	(void)s;
	expect("healthy.json", "PF004", DIAG_PASS, "NTFS");
	expect("scratch-unusable.json", "PF004", DIAG_FAIL, "removable volume");
	expect("scratch-unusable.json", "PF004", DIAG_FAIL,
	       "file system FAT32 (must be NTFS)");
	expect("scratch-unusable.json", "PF004", DIAG_FAIL, "reparse_point");
	expect("unconfigured.json", "PF004", DIAG_SKIP,
	       "no scratch folder configured");
}

static void test_diag_checks__pf005_scratch_space(void **s)
{
	(void)s;
	expect("healthy.json", "PF005", DIAG_PASS, "412.00 GiB free");
	expect("scratch-full.json", "PF005", DIAG_FAIL,
	       "needs at least 30.00 GiB");
	expect("unconfigured.json", "PF005", DIAG_SKIP,
	       "no scratch folder configured");
}

static void test_diag_checks__pf006_system_volume(void **s)
{
	(void)s;
	expect("healthy.json", "PF006", DIAG_PASS, "shadow storage");
	expect("shadow-storage-tight.json", "PF006", DIAG_FAIL, "needs 1 GiB");
	expect("probe-timeouts.json", "PF006", DIAG_SKIP,
	       "skipped by --skip-check");
}

static void test_diag_checks__pf007_esp(void **s)
{
	(void)s;
	expect("healthy.json", "PF007", DIAG_PASS, "lock taken and released");
	expect("esp-locked.json", "PF007", DIAG_FAIL,
	       "locked by another process");
	expect("bios.json", "PF007", DIAG_SKIP, "BIOS firmware");
}

static void test_diag_checks__pf008_writers(void **s)
{
	(void)s;
	expect("healthy.json", "PF008", DIAG_PASS, "11 writers stable");
	expect("writers-failed.json", "PF008", DIAG_FAIL,
	       "'System Writer' [9] Failed");
	expect("writers-failed.json", "PF008", DIAG_FAIL,
	       "last error: Retryable error");
	expect("vss-disabled.json", "PF008", DIAG_WARN,
	       "vssadmin failed (exit code 2): Error: The service cannot be "
	       "started");
	expect("linux.json", "PF008", DIAG_SKIP, "not Windows");
	expect("wine.json", "PF008", DIAG_SKIP, "vssadmin not available");
}

static void test_diag_checks__pf009_other_backup(void **s)
{
	(void)s;
	expect("healthy.json", "PF009", DIAG_PASS, "none among 20 processes");
	expect("other-backup-running.json", "PF009", DIAG_FAIL,
	       "another backup is running: Veeam (VeeamAgent.exe)");
	expect("wsb-running.json", "PF009", DIAG_FAIL,
	       "Windows Server Backup (wbadmin.exe)");
	expect("probe-timeouts.json", "PF009", DIAG_WARN,
	       "did not finish within 8000 ms");
}

static void test_diag_checks__pf009_resident_agent_is_named_not_failed(void **s)
{
	diag_report *r = load("backup-agent-resident.json");
	diag_result res;

	(void)s;
	sv_assert_ok(diag_result_at(r, 8, &res));
	assert_int_equal(res.verdict, DIAG_PASS);
	assert_non_null(strstr(res.reason, "resident: Microsoft Azure Backup "
					   "(MARS) (cbengine.exe)"));
	diag_report_free(r);
}

static void test_diag_checks__pf009_skip(void **s)
{
	const char *skip[] = {"pf009", NULL};
	diag_report *r = load("other-backup-running.json");
	diag_result res;

	(void)s;
	sv_assert_ok(diag_evaluate(r, skip));
	sv_assert_ok(diag_result_at(r, 8, &res));
	assert_int_equal(res.verdict, DIAG_SKIP);
	assert_string_equal(res.reason, "skipped by --skip-check");
	diag_report_free(r);
}

static void test_diag_checks__pf010_bitlocker(void **s)
{
	(void)s;
	expect("healthy.json", "PF010", DIAG_PASS, "unlocked");
	expect("bitlocker-locked.json", "PF010", DIAG_FAIL,
	       "locked by BitLocker");
	expect("linux.json", "PF010", DIAG_SKIP, "not Windows");
}

static void test_diag_checks__pf011_clock(void **s)
{
	(void)s;
	expect("healthy.json", "PF011", DIAG_PASS,
	       "time zone W. Europe Standard Time");
	expect("clock-20min-behind.json", "PF011", DIAG_FAIL,
	       "20 min 0 s behind");
	expect("unconfigured.json", "PF011", DIAG_SKIP, "no vault configured");
	expect("vault-auth-refused.json", "PF011", DIAG_SKIP, "did not answer");
}

static void test_diag_checks__pf012_vault(void **s)
{
	(void)s;
	expect("healthy.json", "PF012", DIAG_PASS, "answered in 187 ms");
	expect("vault-auth-refused.json", "PF012", DIAG_FAIL,
	       "credentials rejected: 403");
	expect("unconfigured.json", "PF012", DIAG_SKIP, "no vault configured");
}

static void test_diag_checks__pf013_registration(void **s)
{
	(void)s;
	expect("healthy.json", "PF013", DIAG_PASS, "registered as SRV-DC01");
	expect("renamed-machine.json", "PF013", DIAG_FAIL,
	       "this machine is 'SRV-DC02' but the vault knows it as "
	       "'SRV-DC01'");
	expect("credentials-expired.json", "PF013", DIAG_FAIL,
	       "expired on 2026-11-17");
	expect("unconfigured.json", "PF013", DIAG_SKIP, "not registered");
}

static void test_diag_checks__pf014_azure(void **s)
{
	(void)s;
	expect("healthy.json", "PF014", DIAG_PASS, "Dell Inc. PowerEdge R740");
	expect("azure-vm.json", "PF014", DIAG_FAIL, "an Azure VM");
	expect("linux.json", "PF014", DIAG_SKIP, "SMBIOS");
}

static void test_diag_checks__pf015_versions(void **s)
{
	(void)s;
	expect("healthy.json", "PF015", DIAG_PASS, "(Windows Server 2022)");
	/* A warning-severity check that fails is reported as a warning. */
	expect("old-os.json", "PF015", DIAG_WARN,
	       "older than Windows Server "
	       "2012");
	expect("unconfigured.json", "PF015", DIAG_SKIP, "OS version unknown");
}

static void test_diag_checks__exit_codes_follow_the_worst_verdict(void **s)
{
	diag_report *r;

	(void)s;
	r = load("old-os.json");
	assert_int_equal(diag_exit_code(r), 1);
	diag_report_free(r);
	r = load("azure-vm.json");
	assert_int_equal(diag_exit_code(r), 2);
	diag_report_free(r);
	r = load("unconfigured.json");
	assert_int_equal(diag_exit_code(r), 0);
	diag_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_diag_checks__healthy_server_passes_everything),
		cmocka_unit_test(test_diag_checks__pf001_wsb_installed),
		cmocka_unit_test(test_diag_checks__pf002_services),
		cmocka_unit_test(
			test_diag_checks__pf002_names_every_service_wine_lacks),
		cmocka_unit_test(test_diag_checks__pf003_system_ace),
		cmocka_unit_test(test_diag_checks__pf004_scratch_folder),
		cmocka_unit_test(test_diag_checks__pf005_scratch_space),
		cmocka_unit_test(test_diag_checks__pf006_system_volume),
		cmocka_unit_test(test_diag_checks__pf007_esp),
		cmocka_unit_test(test_diag_checks__pf008_writers),
		cmocka_unit_test(test_diag_checks__pf009_other_backup),
		cmocka_unit_test(
			test_diag_checks__pf009_resident_agent_is_named_not_failed),
		cmocka_unit_test(test_diag_checks__pf009_skip),
		cmocka_unit_test(test_diag_checks__pf010_bitlocker),
		cmocka_unit_test(test_diag_checks__pf011_clock),
		cmocka_unit_test(test_diag_checks__pf012_vault),
		cmocka_unit_test(test_diag_checks__pf013_registration),
		cmocka_unit_test(test_diag_checks__pf014_azure),
		cmocka_unit_test(test_diag_checks__pf015_versions),
		cmocka_unit_test(
			test_diag_checks__exit_codes_follow_the_worst_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
