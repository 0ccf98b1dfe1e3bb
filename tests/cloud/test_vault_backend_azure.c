/*
 * test_vault_backend_azure.c - vault/backend_azure.c against the Azure
 * Blob emulator (Azurite), through vault__backend_open("azure://..."):
 * put/get/range/stat/list/del and write-once, then the whole
 * init/backup/restore/check cycle through the sysvault binary.
 *
 * Run by azurite-run.sh, which starts the emulator and sets
 * SYSVAULT_AZURE_ENDPOINT and SYSVAULT_AZURE_KEY. Without them the test
 * says why and exits 77 (skipped).
 */
#include "sv_test.h"
#include "cloud_checks.h"
#include "sv_cli.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"
#define SKIP_CODE 77

static char container[32];

/* A container name no earlier run used. */
static void pick_container(void)
{
	uint8_t r[6];
	char hex[13];

	sv_assert_ok(vault__random(r, sizeof(r)));
	sv_hex_encode(hex, r, sizeof(r));
	sv_snprintf(container, sizeof(container), "sv-%s", hex);
}

static vault_backend *open_backend(const char *prefix, int create)
{
	vault_backend *b = NULL;
	char *url =
		sv_aprintf("azure://devstoreaccount1/%s/%s", container, prefix);

	sv_assert_ok(vault__backend_open(&b, url, NULL, create));
	assert_string_equal(b->ops->scheme, "azure");
	free(url);
	return b;
}

static const char pack_name[] =
	"data/ab/"
	"ab00000000000000000000000000000000000000000000000000000000000001";

static void test_azure__put_get_range_stat(void **state)
{
	vault_backend *b = open_backend("t1", 1);
	uint8_t data[100000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	cloud_check_ranged_reads(b, pack_name, data, sizeof(data));
	vault__backend_close(b);
}

static void test_azure__missing_objects_are_not_found(void **state)
{
	vault_backend *b = open_backend("t2", 1);

	(void)state;
	cloud_check_missing_objects(b);
	vault__backend_close(b);
}

static void test_azure__write_once(void **state)
{
	vault_backend *b = open_backend("t3", 1);
	sv_buf out;

	(void)state;
	sv_buf_init(&out, 1024);
	sv_assert_ok(b->ops->put(b, "config", "{\"v\":1}", 7));
	/* identical bytes: a retried upload, success */
	sv_assert_ok(b->ops->put(b, "config", "{\"v\":1}", 7));
	/* different bytes, same or other length: refused, left alone */
	assert_int_equal(b->ops->put(b, "config", "{\"v\":2}", 7), SV_EEXISTS);
	assert_non_null(strstr(sv_error_msg(), "already exists"));
	assert_int_equal(b->ops->put(b, "config", "{}", 2), SV_EEXISTS);
	sv_assert_ok(b->ops->get(b, "config", 0, UINT64_MAX, &out));
	assert_string_equal(out.ptr, "{\"v\":1}");
	/* empty objects work too */
	sv_assert_ok(b->ops->put(b, "locks/00112233445566778899aabbccddeeff",
				 "", 0));
	sv_assert_ok(b->ops->put(b, "locks/00112233445566778899aabbccddeeff",
				 "", 0));
	sv_buf_release(&out);
	vault__backend_close(b);
}

typedef struct seen {
	int n;
	int bad;
	uint64_t bytes;
} seen;

static int count_cb(void *ud, const char *name, uint64_t size)
{
	seen *s = ud;

	s->n++;
	s->bytes += size;
	if (!sv_str_startswith(name, "index/") &&
	    !sv_str_startswith(name, "keys/"))
		s->bad++;
	return 0;
}

static int stop_cb(void *ud, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	(*(int *)ud)++;
	return 42;
}

static void test_azure__list_and_delete(void **state)
{
	vault_backend *b = open_backend("t4/deeper", 1);
	vault_backend *other = open_backend("t4/other", 1);
	char name[VAULT_NAME_MAX];
	uint8_t id[VAULT_ID_LEN] = {0};
	seen s = {0};
	int i, calls = 0;

	(void)state;
	for (i = 0; i < 12; i++) {
		id[0] = (uint8_t)i;
		vault__name_object(name, "index", id);
		sv_assert_ok(b->ops->put(b, name, "x", 1));
	}
	sv_assert_ok(b->ops->put(b, "keys/00112233445566778899aabbccddeeff",
				 "k", 1));
	sv_assert_ok(other->ops->put(other, "config", "o", 1));
	sv_assert_ok(b->ops->list(b, "index/", count_cb, &s));
	assert_int_equal(s.n, 12);
	assert_int_equal(s.bytes, 12);
	memset(&s, 0, sizeof(s));
	sv_assert_ok(b->ops->list(b, "", count_cb, &s));
	assert_int_equal(s.n, 13); /* not the other prefix's config */
	assert_int_equal(s.bad, 0);
	assert_int_equal(b->ops->list(b, "", stop_cb, &calls), 42);
	assert_int_equal(calls, 1);
	for (i = 0; i < 12; i++) {
		id[0] = (uint8_t)i;
		vault__name_object(name, "index", id);
		sv_assert_ok(b->ops->del(b, name));
	}
	memset(&s, 0, sizeof(s));
	sv_assert_ok(b->ops->list(b, "index/", count_cb, &s));
	assert_int_equal(s.n, 0);
	vault__backend_close(b);
	vault__backend_close(other);
}

static void test_azure__bad_urls_and_credentials_are_refused(void **state)
{
	vault_backend *b = NULL;

	(void)state;
	assert_int_equal(vault__backend_open(&b, "azure://acct", NULL, 0), SV_EINVAL);
	assert_int_equal(vault__backend_open(&b, "azure://acct/UPPER/x", NULL, 0),
			 SV_EINVAL);
	assert_null(b);
}

/* ---- through the binary ---- */

static void expect(const char *const *args, int code)
{
	cli_run r;

	cli(&r, args);
	if (r.code != code)
		fail_msg("%s %s: exit %d (expected %d)\nstdout: %s\nstderr: %s",
			 args[0], args[1], r.code, code, r.out.ptr, r.err.ptr);
	cli_done(&r);
}

static void write_tree(const char *src)
{
	static uint8_t big[3 << 20];
	char *a = sv_path_join(src, "big.bin"),
	     *c = sv_path_join(src, "small.txt");
	uint64_t x = 88172645463325252ull;
	size_t i;

	for (i = 0; i < sizeof(big); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		big[i] = i % 3 ? (uint8_t)x : (uint8_t)'a';
	}
	sv_assert_ok(sv_fs_write_atomic(a, big, sizeof(big), 0));
	sv_assert_ok(sv_fs_write_atomic(c, "hello azure\n", 12, 0));
	free(a);
	free(c);
}

static void assert_same_file(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	size_t xn = 0, yn = 0;

	sv_assert_ok(sv_fs_read_all(&x, &xn, a, (size_t)64 << 20));
	sv_assert_ok(sv_fs_read_all(&y, &yn, b, (size_t)64 << 20));
	assert_int_equal(xn, yn);
	assert_memory_equal(x, y, xn);
	free(x);
	free(y);
}

static void test_azure__backup_restore_check_through_the_binary(void **state)
{
	char *dir = sv_test_tmpdir("azure-cli");
	char *src = sv_path_join(dir, "src"), *to = sv_path_join(dir, "out");
	char *home = sv_aprintf("SYSVAULT_HOME=%s%cstate", dir, SV_PATH_SEP);
	char *url = sv_aprintf("azure://devstoreaccount1/%s/cli", container);
	char *f1 = sv_path_join(src, "big.bin"),
	     *f2 = sv_path_join(to, "big.bin");
	char *f3 = sv_path_join(src, "small.txt"),
	     *f4 = sv_path_join(to, "small.txt");
	const char *init[] = {"vault", "init", "--vault", url, NULL};
	const char *bk[] = {"backup", "--source-dir", src,	"--vault",
			    url,      "--machine",    "SRV-AZ", NULL};
	const char *rs[] = {"restore", "--point", "latest", "--to",
			    to,	       "--vault", url,	    NULL};
	const char *ck[] = {"vault",   "check", "--read-data",
			    "--vault", url,	NULL};

	(void)state;
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	write_tree(src);
	cli_env_vault(home, "SYSVAULT_PASSPHRASE=" PASS);
	expect(init, 0);
	expect(bk, 0);
	expect(bk, 0); /* the second finds everything stored */
	expect(rs, 0);
	assert_same_file(f1, f2);
	assert_same_file(f3, f4);
	expect(ck, 0);
	{
		/* The preflight reaches the vault and compares clocks. */
		const char *pf[] = {"--json", "preflight", "--vault", url,
				    "--skip-check", "PF009", NULL};
		json_t *rep = NULL, *c;
		cli_run r;
		size_t i;
		int found = 0;

		cli(&r, pf);
		assert_true(r.code == 0 || r.code == 1);
		sv_assert_ok(sv_json_parse(&rep, r.out.ptr, r.out.len, "preflight"));
		json_array_foreach(json_object_get(rep, "checks"), i, c) {
			const char *id = json_string_value(json_object_get(c, "id"));
			const char *v = json_string_value(json_object_get(c, "verdict"));

			if (!strcmp(id, "PF011") || !strcmp(id, "PF012")) {
				if (strcmp(v, "pass") != 0)
					fail_msg("%s is %s: %s", id, v, r.out.ptr);
				found++;
			}
		}
		assert_int_equal(found, 2);
		json_decref(rep);
		cli_done(&r);
	}
	cli_env[0] = NULL;
	sv_fs_remove_tree(dir);
	free(dir);
	free(src);
	free(to);
	free(home);
	free(url);
	free(f1);
	free(f2);
	free(f3);
	free(f4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_azure__put_get_range_stat),
		cmocka_unit_test(test_azure__missing_objects_are_not_found),
		cmocka_unit_test(test_azure__write_once),
		cmocka_unit_test(test_azure__list_and_delete),
		cmocka_unit_test(
			test_azure__bad_urls_and_credentials_are_refused),
		cmocka_unit_test(
			test_azure__backup_restore_check_through_the_binary),
	};
	char *ep = sv_env_get("SYSVAULT_AZURE_ENDPOINT");

	if (!ep || !ep[0]) {
		fprintf(stderr,
			"SKIPPED: SYSVAULT_AZURE_ENDPOINT is not set: this "
			"test "
			"runs through tests/cloud/azurite-run.sh, which starts "
			"the Azure emulator (not available here)\n");
		free(ep);
		return SKIP_CODE;
	}
	free(ep);
	pick_container();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
