/*
 * test_identity_azure.c - a credentials file for an Azure vault (the
 * Azurite emulator) carries the endpoint and the account key: with both
 * removed from the environment, a machine registers and backs up through
 * it, and a bare machine restores from it. Runs through azurite-run.sh,
 * which sets SYSVAULT_AZURE_ENDPOINT and SYSVAULT_AZURE_KEY; without them
 * the test says why and exits 77 (skipped).
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"
#define SKIP_CODE 77

/* A system root on another volume than the test's temporary directory. */
#ifdef _WIN32
#define SV_OTHER_VOLUME "Z:\\"
#else
#define SV_OTHER_VOLUME "/proc"
#endif

static char *container_url(void)
{
	uint8_t r[6];
	char hex[13];

	sv_assert_ok(vault__random(r, sizeof(r)));
	sv_hex_encode(hex, r, sizeof(r));
	return sv_aprintf("azure://devstoreaccount1/sv-id-%s/vault", hex);
}

static void
test_identity_azure__credentials_carry_endpoint_and_key(void **state)
{
	char *dir = sv_test_tmpdir("ident-azure"), *url = container_url();
	char *src = sv_path_join(dir, "src"), *to = sv_path_join(dir, "out");
	char *creds = sv_path_join(dir, "azure.cred"),
	     *file = sv_path_join(src, "a.txt");
	char *pass = sv_path_join(dir, "pass");
	char *home = sv_aprintf("SYSVAULT_HOME=%s%chome", dir, SV_PATH_SEP);
	char *bare = sv_aprintf("SYSVAULT_HOME=%s%cbare", dir, SV_PATH_SEP);
	const char *init[] = {
		"vault", "init", "--vault", url, "--passphrase-file",
		pass,	 NULL};
	const char *issue[] = {
		"vault", "credentials", "--vault", url, "--passphrase-file",
		pass,	 "-o",		creds,	   NULL};
	const char *reg[] = {"register", "--credentials",
			     creds,	 "--passphrase-file",
			     pass,	 NULL};
	const char *bk[] = {"backup", "--source-dir", src, NULL};
	const char *no_reg[] = {"points", "--vault", url, "--passphrase-file",
				pass,	  NULL};
	const char *rs[] = {"restore", "--credentials",
			    creds,     "--passphrase-file",
			    pass,      "--point",
			    "latest",  "--to",
			    to,	       NULL};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	sv_assert_ok(sv_fs_write_atomic(pass, PASS "\n", strlen(PASS) + 1, 1));
	sv_assert_ok(sv_fs_write_atomic(file, "hello azure\n", 12, 0));
	cli_env[0] = home;
	cli_env[1] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[2] = "SYSVAULT_FAKE_SYSTEM_ROOT=" SV_OTHER_VOLUME;
	cli_env[3] = NULL;
	cli_check(init, 0, NULL);
	cli_check(issue, 0, NULL);
	/* From here on the environment knows neither endpoint nor key. */
	cli_env[3] = "SYSVAULT_AZURE_ENDPOINT=";
	cli_env[4] = "SYSVAULT_AZURE_KEY=";
	cli_env[5] = NULL;
	cli_check(no_reg, 2, NULL);
	cli_check(reg, 0, NULL);
	cli_check(bk, 0, NULL);
	cli_env[0] = bare;
	cli_check(rs, 0, NULL);
	{
		char *out = sv_path_join(to, "a.txt");

		sv_assert_ok(sv_fs_read_all(&text, &len, out, 1024));
		assert_string_equal(text, "hello azure\n");
		free(out);
	}
	memset(cli_env, 0, sizeof(cli_env));
	sv_fs_remove_tree(dir);
	free(text);
	free(dir);
	free(url);
	free(src);
	free(to);
	free(creds);
	free(file);
	free(pass);
	free(home);
	free(bare);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_identity_azure__credentials_carry_endpoint_and_key),
	};
	char *ep = sv_env_get("SYSVAULT_AZURE_ENDPOINT");

	if (!ep || !ep[0]) {
		fprintf(stderr, "SKIPPED: SYSVAULT_AZURE_ENDPOINT is not set: "
				"this test "
				"runs through tests/cloud/azurite-run.sh, "
				"which starts the "
				"Azure emulator (not available here)\n");
		free(ep);
		return SKIP_CODE;
	}
	free(ep);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
