/*
 * test_cloud_fault_cli.c - an Azure vault (Azurite) through the binary,
 * over a bad network and over TLS:
 *   - with SYSVAULT_FAULTS wrapped around the azure backend, backups
 *     complete, check passes, restores are bit-exact, retries are counted;
 *   - over HTTPS with a self-signed certificate, a run without --insecure
 *     fails with one line naming the endpoint and the fix; with --insecure
 *     it works and warns on every run, and the job records it.
 *
 * Run by azurite-run.sh (HTTP) and azurite-run.sh --tls (HTTPS), which set
 * SYSVAULT_AZURE_ENDPOINT and _KEY; each run does the tests of its scheme.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"
#define SKIP_CODE 77
#define BAD_NET "SYSVAULT_FAULTS=seed=9,fail=0.25,kinds=reset+503+stall+short," \
		"stall=5ms,backoff=1ms"

typedef struct env {
	char *dir;
	char *src;
	char *home_env;
	char *url;
	const char *endpoint;
} env;

/* Two files of pseudo-random and text-like bytes. */
static void make_source(const char *src)
{
	size_t n = (size_t)3 << 20, i;
	uint8_t *data = malloc(n);
	uint64_t x = 88172645463325252ull;
	char *a = cli_path(src, "a.bin"), *b = cli_path(src, "b.txt");

	assert_non_null(data);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (i / 8192) % 2 ? (uint8_t)('a' + x % 16) : (uint8_t)x;
	}
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	sv_assert_ok(sv_fs_write_atomic(a, data, n, 0));
	sv_assert_ok(sv_fs_write_atomic(b, data + 8192, 100000, 0));
	free(data);
	free(a);
	free(b);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	uint8_t r[6];
	char hex[13];

	if (!e || !(e->dir = sv_test_tmpdir("cloudfault")))
		return -1;
	e->endpoint = getenv("SYSVAULT_AZURE_ENDPOINT");
	e->src = cli_path(e->dir, "src");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	if (vault__random(r, sizeof(r)) < 0)
		return -1;
	sv_hex_encode(hex, r, sizeof(r));
	e->url = sv_aprintf("azure://devstoreaccount1/cf-%s/v", hex);
	make_source(e->src);
	cli_env_vault(e->home_env, "SYSVAULT_PASSPHRASE=" PASS);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->src);
	free(e->home_env);
	free(e->url);
	free(e);
	return 0;
}

static int is_https(const env *e)
{
	return sv_str_startswith(e->endpoint, "https://");
}

static json_int_t field(const json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v))
		fail_msg("no integer '%s'", key);
	return json_integer_value(v);
}

static void test_cloud_fault__azure_over_a_bad_network(void **state)
{
	env *e = *state;
	char *out, *a1, *a2, *b1, *b2;
	const char *init[] = { "--json", "vault", "init", "--vault", e->url, NULL };
	const char *backup[] = { "--json", "backup", "--source-dir", e->src,
				 "--vault", e->url, NULL };
	const char *check[] = { "--json", "vault", "check", "--read-data",
				"--vault", e->url, NULL };
	const char *restore[] = { "--json", "restore", "--point", "latest", "--to",
				  NULL /* out */, "--vault", e->url, NULL };
	json_int_t retries = 0;
	json_t *j;
	int i;

	if (is_https(e))
		skip();
	out = cli_path(e->dir, "out");
	a1 = cli_path(e->src, "a.bin");
	a2 = cli_path(out, "a.bin");
	b1 = cli_path(e->src, "b.txt");
	b2 = cli_path(out, "b.txt");
	restore[5] = out;
	cli_env[3] = BAD_NET;
	json_decref(cli_json(init, 0));
	for (i = 0; i < 2; i++) {
		j = cli_json(backup, 0);
		retries += field(j, "retries");
		json_decref(j);
	}
	j = cli_json(check, 0);
	assert_true(json_is_true(json_object_get(j, "ok")));
	retries += field(j, "retries");
	json_decref(j);
	j = cli_json(restore, 0);
	retries += field(j, "retries");
	json_decref(j);
	print_message("azure over a bad network: %lld retries\n", (long long)retries);
	assert_true(retries > 0);
	cli_same_file(a1, a2);
	cli_same_file(b1, b2);
	cli_env[3] = NULL;
	j = cli_json(check, 0);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(field(j, "points"), 2);
	json_decref(j);
	free(out);
	free(a1);
	free(a2);
	free(b1);
	free(b2);
}

static void test_cloud_fault__self_signed_needs_insecure(void **state)
{
	env *e = *state;
	const char *init[] = { "vault", "init", "--vault", e->url, NULL };
	const char *init_insecure[] = { "--insecure", "vault", "init", "--vault", e->url, NULL };
	const char *backup[] = { "--insecure", "--json", "backup", "--source-dir",
				 e->src, "--vault", e->url, NULL };
	const char *points[] = { "--json", "points", "--vault", e->url, NULL };
	const char *host = e->endpoint + strlen("https://");
	char warning[128];
	json_t *j, *show;
	char num[32];
	cli_run r;

	if (!is_https(e))
		skip();
	snprintf(warning, sizeof(warning),
		 "warning: TLS certificate verification is off for %.*s",
		 (int)strcspn(host, "/"), host);
	/* Verification is on: refused, one line naming the endpoint and
	 * both ways out. */
	cli_expect(&r, init, 2, "not trusted");
	assert_non_null(strstr(r.err.ptr, "127.0.0.1:"));
	assert_non_null(strstr(r.err.ptr, "install the CA"));
	assert_non_null(strstr(r.err.ptr, "--insecure"));
	assert_ptr_equal(strchr(r.err.ptr, '\n'), r.err.ptr + r.err.len - 1);
	cli_done(&r);
	/* --insecure works, and says so every time. */
	cli_expect(&r, init_insecure, 0, warning);
	cli_done(&r);
	cli(&r, backup);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.err.ptr, warning));
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "backup"));
	cli_done(&r);
	snprintf(num, sizeof(num), "%lld", (long long)field(j, "job"));
	{
		const char *a[] = { "--json", "jobs", "show", num, NULL };

		show = cli_json(a, 0);
		assert_true(json_is_true(json_object_get(json_object_get(show, "details"),
							 "insecure")));
		json_decref(show);
	}
	json_decref(j);
	/* And without it, the vault is refused again. */
	cli_expect(&r, points, 2, "--insecure");
	cli_done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cloud_fault__azure_over_a_bad_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cloud_fault__self_signed_needs_insecure, setup, teardown),
	};

	if (!getenv("SYSVAULT_AZURE_ENDPOINT")) {
		fprintf(stderr, "SKIPPED: SYSVAULT_AZURE_ENDPOINT is not set "
				"(run through tests/cloud/azurite-run.sh)\n");
		return SKIP_CODE;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
