/*
 * test_vault_sign.c - vault/sign.c against published worked examples: the
 * Azure Shared Key signatures the storage emulator accepts for its
 * published development key, AWS's Signature Version 4 "GET Object"
 * example for S3, and the CRC-64/NVME check values. Plus the parts of
 * http.c that need no network (backoff, escaping, URL redaction).
 */
#include "sv_test.h"
#include "http.h"
#include "sv_buf.h"
#include "vault_int.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY                                                                \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"      \
	"K1SZFPTOtr/KBHBeksoGMGw=="
#define DEV_DATE "x-ms-date: Mon, 01 Jan 2024 00:00:00 GMT"
#define DEV_VERSION "x-ms-version: 2021-08-06"

/* The signature of one request under the emulator's development key. */
static void assert_azure_sig(const vault_sign_input *in, const char *want)
{
	sv_buf key, sig;

	sv_buf_init(&key, 1024);
	sv_buf_init(&sig, 1024);
	sv_assert_ok(vault__b64_decode(&key, DEV_KEY));
	sv_assert_ok(vault__azure_signature(&sig, (const uint8_t *)key.ptr,
					    key.len, DEV_ACCOUNT, in));
	assert_string_equal(sig.ptr, want);
	sv_buf_release(&key);
	sv_buf_release(&sig);
}

static void test_sign__azure_put_blob_vector(void **state)
{
	const char *h[] = {"Content-Type: application/octet-stream",
			   "x-ms-blob-type: BlockBlob", DEV_DATE, DEV_VERSION};
	vault_sign_input in = {
		"PUT", "/devstoreaccount1/probe/example.txt", NULL, h, 4, 11};

	(void)state;
	assert_azure_sig(&in, "FfPWK44QrqPnA3gLqRLXgHcjdjevbrjVNTpjdAbxCAo=");
}

/* This vector was taken with no Content-Type header at all. */
static void test_sign__azure_empty_put_leaves_length_empty(void **state)
{
	const char *h[] = {"x-ms-blob-type: BlockBlob", DEV_DATE, DEV_VERSION};
	vault_sign_input in = {
		"PUT", "/devstoreaccount1/probe/empty", NULL, h, 3, 0};
	sv_buf sts;

	(void)state;
	assert_azure_sig(&in, "+Acf3mJr0H6fyWpsx+RgvuBGGEGu54YddTe6VKXVEmE=");
	sv_buf_init(&sts, 4096);
	sv_assert_ok(vault__azure_string_to_sign(&sts, DEV_ACCOUNT, &in));
	assert_string_equal(sts.ptr,
			    "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
			    "x-ms-blob-type:BlockBlob\n"
			    "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\n"
			    "x-ms-version:2021-08-06\n"
			    "/devstoreaccount1/devstoreaccount1/probe/empty");
	sv_buf_release(&sts);
}

static void test_sign__azure_list_vector_sorts_query(void **state)
{
	const char *h[] = {DEV_DATE, DEV_VERSION};
	vault_sign_input in = {
		"GET",
		"/devstoreaccount1/probe",
		"restype=container&comp=list&prefix=ex&maxresults=10",
		h,
		2,
		0};
	sv_buf sts;

	(void)state;
	assert_azure_sig(&in, "jBjZGfj3wkgWia00EThrLrbrhkG85CF5i6IBTUVD6Kg=");
	sv_buf_init(&sts, 4096);
	sv_assert_ok(vault__azure_string_to_sign(&sts, DEV_ACCOUNT, &in));
	assert_non_null(strstr(sts.ptr, "/probe\ncomp:list\nmaxresults:10\n"
					"prefix:ex\nrestype:container"));
	sv_buf_release(&sts);
}

static void test_sign__azure_ranged_get_vector(void **state)
{
	/* header order and case must not matter */
	const char *h[] = {DEV_VERSION, "range: bytes=0-4", DEV_DATE};
	vault_sign_input in = {
		"GET", "/devstoreaccount1/probe/example.txt", NULL, h, 3, 0};

	(void)state;
	assert_azure_sig(&in, "+WHT5BDZYCCnEZHwdXMdL7P7KYjbi+X8P9sZWjfLp54=");
}

static void test_sign__azure_folds_whitespace_and_decodes_query(void **state)
{
	const char *h[] = {"X-MS-Meta-A:  two   spaces ", DEV_DATE};
	vault_sign_input in = {"GET", "/a/c", "Comp=list&prefix=a%2Fb&x=2&x=1",
			       h,     2,      0};
	sv_buf sts;

	(void)state;
	sv_buf_init(&sts, 4096);
	sv_assert_ok(vault__azure_string_to_sign(&sts, "acct", &in));
	assert_non_null(strstr(sts.ptr, "\nx-ms-meta-a:two spaces\n"));
	assert_non_null(
		strstr(sts.ptr, "/acct/a/c\ncomp:list\nprefix:a/b\nx:1,2"));
	sv_buf_release(&sts);
}

/* AWS's published SigV4 example for S3 "GET Object" (Range bytes=0-9). */
#define AWS_EMPTY_SHA                                                          \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_sign__s3_get_object_example(void **state)
{
	const char *h[] = {"Host: examplebucket.s3.amazonaws.com",
			   "Range: bytes=0-9",
			   "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			   "x-amz-date: 20130524T000000Z"};
	vault_sign_input in = {"GET", "/test.txt", NULL, h, 4, 0};
	sv_buf canon, sts, auth;

	(void)state;
	sv_buf_init(&canon, 4096);
	sv_buf_init(&sts, 4096);
	sv_buf_init(&auth, 4096);
	sv_assert_ok(vault__s3_canonical_request(&canon, &in, AWS_EMPTY_SHA));
	assert_string_equal(
		canon.ptr,
		"GET\n/test.txt\n\n"
		"host:examplebucket.s3.amazonaws.com\n"
		"range:bytes=0-9\n"
		"x-amz-content-sha256:" AWS_EMPTY_SHA "\n"
		"x-amz-date:20130524T000000Z\n\n"
		"host;range;x-amz-content-sha256;x-amz-date\n" AWS_EMPTY_SHA);
	sv_assert_ok(vault__s3_string_to_sign(&sts, "20130524T000000Z",
					      "us-east-1", &in, AWS_EMPTY_SHA));
	assert_string_equal(
		sts.ptr, "AWS4-HMAC-SHA256\n20130524T000000Z\n"
			 "20130524/us-east-1/s3/aws4_request\n"
			 "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2"
			 "dc43964946972");
	sv_assert_ok(vault__s3_authorization(
		&auth, "AKIAIOSFODNN7EXAMPLE",
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
		"20130524T000000Z", &in, AWS_EMPTY_SHA));
	assert_string_equal(
		auth.ptr,
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
		"us-east-1/s3/aws4_request, SignedHeaders=host;range;"
		"x-amz-content-sha256;x-amz-date, Signature="
		"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb"
		"41");
	sv_buf_release(&canon);
	sv_buf_release(&sts);
	sv_buf_release(&auth);
}

static void test_sign__s3_query_is_sorted_and_encoded(void **state)
{
	const char *h[] = {"host: h"};
	vault_sign_input in = {"GET", "/b", "prefix=a/b c&list-type=2",
			       h,     1,    0};
	sv_buf canon;

	(void)state;
	sv_buf_init(&canon, 4096);
	sv_assert_ok(
		vault__s3_canonical_request(&canon, &in, "UNSIGNED-PAYLOAD"));
	assert_true(sv_str_startswith(
		canon.ptr, "GET\n/b\nlist-type=2&prefix=a%2Fb%20c\n"));
	sv_buf_release(&canon);
}

static void test_sign__crc64nvme_check_values(void **state)
{
	char b64[13];
	uint64_t c;

	(void)state;
	c = vault__crc64nvme(0, "123456789", 9);
	assert_true(c == 0xAE8B14860A799888ull);
	vault__crc64_b64(b64, c);
	assert_string_equal(b64, "iJh5CoYUi64=");
	vault__crc64_b64(b64, vault__crc64nvme(0, "hello world", 11));
	assert_string_equal(b64, "vo7q9sPVKY0=");
	/* chaining equals one pass */
	c = vault__crc64nvme(vault__crc64nvme(0, "hello ", 6), "world", 5);
	vault__crc64_b64(b64, c);
	assert_string_equal(b64, "vo7q9sPVKY0=");
}

static void test_sign__http_date_is_rfc1123(void **state)
{
	char d[40];

	(void)state;
	vault__http_date(d, sizeof(d), 1704067200); /* 2024-01-01 */
	assert_string_equal(d, "Mon, 01 Jan 2024 00:00:00 GMT");
	vault__http_date(d, sizeof(d), 951782400); /* 2000-02-29 */
	assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
}

static void test_http__backoff_grows_is_capped_and_honours_hint(void **state)
{
	vault_http_opts o = {0, 6, 100, 1000, 0, 0, 0, 0};
	unsigned i, d;

	(void)state;
	for (i = 0; i < 50; i++) {
		d = vault__http_backoff(&o, 1, -1);
		assert_true(d >= 50 && d <= 100);
		d = vault__http_backoff(&o, 3, -1);
		assert_true(d >= 200 && d <= 400);
		d = vault__http_backoff(&o, 9, -1);
		assert_true(d >= 500 && d <= 1000);
	}
	assert_int_equal(vault__http_backoff(&o, 1, 5000), 5000);
	assert_true(vault__http_retryable(503) && vault__http_retryable(408));
	assert_false(vault__http_retryable(404) || vault__http_retryable(409) ||
		     vault__http_retryable(403) || vault__http_retryable(416));
}

static void test_http__url_public_drops_the_query(void **state)
{
	char *u;
	sv_buf b;

	(void)state;
	u = vault__http_url_public("https://a/c/b?sv=1&sig=SECRET");
	assert_string_equal(u, "https://a/c/b");
	free(u);
	sv_buf_init(&b, 256);
	sv_assert_ok(vault__http_escape(&b, "data/ab c+~", 1));
	assert_string_equal(b.ptr, "data/ab%20c%2B~");
	sv_buf_reset(&b);
	sv_assert_ok(vault__http_escape(&b, "a/b", 0));
	assert_string_equal(b.ptr, "a%2Fb");
	sv_buf_release(&b);
}

static void test_sign__http_date_round_trip(void **state)
{
	char d[64];
	int64_t t;

	(void)state;
	vault__http_date(d, sizeof(d), 1795226414);
	assert_string_equal(d, "Sat, 21 Nov 2026 02:00:14 GMT");
	sv_assert_ok(vault__http_date_parse(&t, d));
	assert_true(t == 1795226414);
	assert_int_equal(vault__http_date_parse(&t, "Sat, 21 Foo 2026 02:00:14 GMT"),
			 SV_EINVAL);
	assert_int_equal(vault__http_date_parse(&t, "yesterday"), SV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign__azure_put_blob_vector),
		cmocka_unit_test(
			test_sign__azure_empty_put_leaves_length_empty),
		cmocka_unit_test(test_sign__azure_list_vector_sorts_query),
		cmocka_unit_test(test_sign__azure_ranged_get_vector),
		cmocka_unit_test(
			test_sign__azure_folds_whitespace_and_decodes_query),
		cmocka_unit_test(test_sign__s3_get_object_example),
		cmocka_unit_test(test_sign__http_date_round_trip),
		cmocka_unit_test(test_sign__s3_query_is_sorted_and_encoded),
		cmocka_unit_test(test_sign__crc64nvme_check_values),
		cmocka_unit_test(test_sign__http_date_is_rfc1123),
		cmocka_unit_test(
			test_http__backoff_grows_is_capped_and_honours_hint),
		cmocka_unit_test(test_http__url_public_drops_the_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
