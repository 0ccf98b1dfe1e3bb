/*
 * test_vault_multipart_s3.c - large objects sent as multipart uploads
 * (parts in parallel, then CompleteMultipartUpload) by vault/backend_s3.c,
 * against the S3 test server (s3-server.js): a multi-part round trip with
 * reads across part boundaries, write-once where the server ignores
 * If-None-Match ("sv-*" buckets: the HEAD first) and where it honours it
 * ("cond-*"), and the fault wrapper (vault__backend_stack) over a
 * multipart upload.
 *
 * Run by s3-run.sh (SYSVAULT_S3_ENDPOINT and the credentials); without
 * them the test says why and exits 77 (skipped).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "sv_env.h"
#include "sv_test.h"
#include "vault_int.h"

#define SKIP_CODE 77
#define MIB ((size_t)1 << 20)
/* Four parts of 5 MiB, the last one short. */
#define BIG_LEN (18 * MIB + 4321)

static char run_id[16];

static uint8_t *big(uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	uint8_t *d = malloc(BIG_LEN);
	size_t i;

	assert_non_null(d);
	for (i = 0; i < BIG_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	return d;
}

/* The backend for s3://<kind>-<run>/<prefix> with four transfers, under
 * the retry layer and, when faults is given, the fault wrapper. */
static vault_backend *open_backend(const char *kind, const char *prefix,
				   const char *faults)
{
	vault_backend *leaf = NULL, *b = NULL;
	vault_access acc = {0};
	char *url = sv_aprintf("s3://%s-%s/%s", kind, run_id, prefix);

	acc.transfers = 4;
	sv_assert_ok(vault__backend_s3_open(&leaf, url, &acc, 1));
	sv_assert_ok(vault__backend_stack(&b, leaf, faults));
	free(url);
	return b;
}

static const char pack[] =
	"data/ef/"
	"ef00000000000000000000000000000000000000000000000000000000000001";

static void assert_stored(vault_backend *b, const char *name,
			  const uint8_t *want)
{
	uint64_t size = 0;
	sv_buf out;

	sv_buf_init(&out, BIG_LEN + 1);
	sv_assert_ok(b->ops->stat(b, name, &size));
	assert_int_equal(size, BIG_LEN);
	sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, &out));
	assert_int_equal(out.len, BIG_LEN);
	assert_memory_equal(out.ptr, want, BIG_LEN);
	sv_buf_release(&out);
}

static void test_multipart__round_trip(void **state)
{
	vault_backend *b = open_backend("sv", "rt", NULL);
	uint8_t *d = big(1);
	sv_buf out;

	(void)state;
	sv_buf_init(&out, 8 * MIB);
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	assert_stored(b, pack, d);
	/* across the first part boundary, and the short last part */
	sv_assert_ok(b->ops->get(b, pack, 5 * MIB - 9, 18, &out));
	assert_memory_equal(out.ptr, d + 5 * MIB - 9, 18);
	sv_buf_reset(&out);
	sv_assert_ok(b->ops->get(b, pack, BIG_LEN - 5, 5, &out));
	assert_memory_equal(out.ptr, d + BIG_LEN - 5, 5);
	sv_buf_release(&out);
	free(d);
	vault__backend_close(b);
}

/* Same bytes again: success; other bytes: refused, the object kept. */
static void write_once(const char *kind)
{
	vault_backend *b = open_backend(kind, "once", NULL);
	uint8_t *d = big(2), *other = big(3);

	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	sv_assert_ok(b->ops->put(b, pack, d, BIG_LEN));
	assert_int_equal(b->ops->put(b, pack, other, BIG_LEN), SV_EEXISTS);
	assert_non_null(strstr(sv_error_msg(), "already exists"));
	assert_stored(b, pack, d);
	free(d);
	free(other);
	vault__backend_close(b);
}

static void test_multipart__write_once_where_the_header_is_ignored(void **state)
{
	(void)state;
	write_once("sv");
}

static void
test_multipart__write_once_where_the_header_is_honoured(void **state)
{
	(void)state;
	write_once("cond");
}

static void test_multipart__fault_wrapper_over_a_multipart_upload(void **state)
{
	/* resets (some after the upload completed) and 503s, retried by
	 * the resilience layer */
	vault_backend *b = open_backend(
		"sv", "fault", "seed=7,fail=0.5,kinds=reset+503,backoff=1ms");
	uint8_t *d = big(4);
	vault_backend *x;
	uint64_t retries = 0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char name[sizeof(pack)];

		snprintf(name, sizeof(name), "%s", pack);
		name[sizeof(pack) - 2] = (char)('1' + i);
		sv_assert_ok(b->ops->put(b, name, d, BIG_LEN));
		assert_stored(b, name, d);
	}
	for (x = b; x; x = x->inner)
		retries += atomic_load(&x->retries);
	assert_true(retries >= 1);
	free(d);
	vault__backend_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart__round_trip),
		cmocka_unit_test(
			test_multipart__write_once_where_the_header_is_ignored),
		cmocka_unit_test(
			test_multipart__write_once_where_the_header_is_honoured),
		cmocka_unit_test(
			test_multipart__fault_wrapper_over_a_multipart_upload),
	};
	char *ep = sv_env_get("SYSVAULT_S3_ENDPOINT");
	uint8_t r[6];

	if (!ep || !ep[0]) {
		fprintf(stderr,
			"SKIPPED: SYSVAULT_S3_ENDPOINT is not set: this "
			"test runs through tests/cloud/s3-run.sh, which "
			"starts the S3 test server\n");
		free(ep);
		return SKIP_CODE;
	}
	free(ep);
	sv_assert_ok(vault__random(r, sizeof(r)));
	sv_hex_encode(run_id, r, sizeof(r));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
