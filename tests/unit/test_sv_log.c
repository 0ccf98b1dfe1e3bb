#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"

static void test_log__registered_secret_is_redacted(void **s)
{
	char line[] = "passphrase is correct-horse-battery-staple, twice: "
		      "correct-horse-battery-staple";

	(void)s;
	sv_log_add_secret("correct-horse-battery-staple");
	sv_redact(line);
	assert_string_equal(line, "passphrase is ***, twice: ***");
	sv_log_clear_secrets();
}

static void test_log__sas_and_shared_key_are_redacted(void **s)
{
	char url[] = "GET https://a.blob.core.windows.net/c/b?sv=2021-08-06&sig=abc%2Bdef%3D&se=x";
	char hdr[] = "Authorization: SharedKey devstoreaccount1:FfPWK44QrqPn=";
	char v4[] = "Credential=AKIA/20260101/us-east-1/s3/aws4_request, Signature=deadbeef";
	char conn[] = "DefaultEndpointsProtocol=https;AccountKey=Eby8vdM02x==;";

	(void)s;
	sv_redact(url);
	assert_string_equal(url, "GET https://a.blob.core.windows.net/c/b?sv=2021-08-06&sig=***&se=x");
	sv_redact(hdr);
	assert_string_equal(hdr, "Authorization: SharedKey ***");
	sv_redact(v4);
	assert_null(strstr(v4, "deadbeef"));
	sv_redact(conn);
	assert_null(strstr(conn, "Eby8"));
}

static void test_log__short_strings_are_not_secrets(void **s)
{
	char line[] = "abc is fine";

	(void)s;
	sv_log_add_secret("abc");
	sv_redact(line);
	assert_string_equal(line, "abc is fine");
	sv_log_clear_secrets();
}

static void test_log__file_gets_redacted_debug_lines(void **s)
{
	char *dir = sv_test_tmpdir("log"), *path, *text = NULL;
	size_t len;

	(void)s;
	assert_non_null(dir);
	path = sv_path_join(dir, "job.log");
	sv_assert_ok(sv_log_open_file(path));
	sv_log_set_level(SV_LOG_ERROR);
	sv_log_add_secret("s3cr3t-value-1234");
	sv_log_debug("connecting with key s3cr3t-value-1234 to %s", "vault");
	sv_log_close();
	sv_assert_ok(sv_fs_read_all(&text, &len, path, 4096));
	assert_non_null(strstr(text, "debug connecting with key *** to vault"));
	assert_null(strstr(text, "s3cr3t"));
	sv_log_clear_secrets();
	free(text);
	free(path);
	sv_fs_remove_tree(dir);
	free(dir);
}

/* The job's own file: info and above, redacted, beside the --log-file. */
static void test_log__job_file_gets_redacted_info_lines(void **s)
{
	char *dir = sv_test_tmpdir("joblog"), *path, *text = NULL;
	size_t len;

	(void)s;
	assert_non_null(dir);
	path = sv_path_join(dir, "job-7.log");
	sv_assert_ok(sv_log_open_job_file(path));
	sv_log_set_level(SV_LOG_ERROR);
	sv_log_add_secret("s3cr3t-value-1234");
	sv_log_info("wbadmin: using s3cr3t-value-1234");
	sv_log_debug("not for the job log");
	sv_log_warn("a warning");
	sv_log_close_job_file();
	sv_log_info("after the job");
	sv_assert_ok(sv_fs_read_all(&text, &len, path, 4096));
	assert_non_null(strstr(text, "info wbadmin: using ***"));
	assert_non_null(strstr(text, "warning a warning"));
	assert_null(strstr(text, "s3cr3t"));
	assert_null(strstr(text, "not for the job log"));
	assert_null(strstr(text, "after the job"));
	sv_log_clear_secrets();
	free(text);
	free(path);
	sv_fs_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log__registered_secret_is_redacted),
		cmocka_unit_test(test_log__sas_and_shared_key_are_redacted),
		cmocka_unit_test(test_log__short_strings_are_not_secrets),
		cmocka_unit_test(test_log__file_gets_redacted_debug_lines),
		cmocka_unit_test(test_log__job_file_gets_redacted_info_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
