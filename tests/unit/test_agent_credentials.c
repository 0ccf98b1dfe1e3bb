/*
 * test_agent_credentials.c - the credentials file parser (agent/credentials.c):
 * what it accepts, every malformed form it refuses with the reason, expiry,
 * and the tag that catches any edit.
 */
#include "sv_test.h"

#include "registration.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

#define PASS "correct horse battery staple"
#define NOW 1795000000 /* 2026-11-18 */
#define ID "34e4953ab9f6972c28d137a6c61618c3e5d2a9a0ad78ab65aa074c0b3953c7bd"
#define TAG "cbaaa9c993b8d679f611e4d0e7cd4b5433d09f7d05f1a241b7c675c00ee5d8ed"

static const char good[] =
	"{\"format\":\"sysvault-credentials\",\"version\":1,\"vault_id\":\"" ID
	"\","
	"\"vault_name\":\"fleet\",\"url\":\"azure://acct/vault\","
	"\"endpoint\":\"http://127.0.0.1:10000/"
	"acct\",\"secret\":\"c2VjcmV0IGtleQ==\","
	"\"s3_region\":null,\"tenant\":\"contoso\",\"region\":\"secondary\","
	"\"issued\":\"2026-11-17T00:00:00Z\",\"expires\":\"2026-11-27T00:00:"
	"00Z\","
	"\"tag\":\"" TAG "\"}";

/* A JSON value of any type (the parser's own entry wants a document). */
static json_t *any_json(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

	if (!v)
		fail_msg("bad test JSON: %s", text);
	return v;
}

/* good with one field replaced (value: JSON text) or removed (NULL). */
static char *with_field(const char *key, const char *value)
{
	json_t *j = NULL, *v = NULL;
	char *out;

	sv_assert_ok(sv_json_parse(&j, good, strlen(good), "good"));
	if (value) {
		v = any_json(value);
		json_object_set_new(j, key, v);
	} else
		json_object_del(j, key);
	out = sv_json_dump(j, 0);
	json_decref(j);
	return out;
}

static void expect_refused_at(const char *text, int64_t now, int code,
			      const char *reason)
{
	sv_credentials c;
	int rc = sv_credentials_parse(&c, text, strlen(text), now);

	if (rc != code || !strstr(sv_error_msg(), reason))
		fail_msg("expected %d '%s', got %d '%s' for %s", code, reason,
			 rc, sv_error_msg(), text);
}

static void expect_refused(const char *text, int code, const char *reason)
{
	expect_refused_at(text, NOW, code, reason);
}

static void refuse_field(const char *key, const char *value, const char *reason)
{
	char *text = with_field(key, value);

	expect_refused(text, SV_EINVAL, reason);
	free(text);
}

static void test_credentials__parses_every_field(void **s)
{
	sv_credentials c;
	uint8_t tag[32];

	(void)s;
	sv_assert_ok(sv_credentials_parse(&c, good, strlen(good), NOW));
	assert_string_equal(c.vault_id, ID);
	assert_string_equal(c.vault_name, "fleet");
	assert_string_equal(c.url, "azure://acct/vault");
	assert_string_equal(c.endpoint, "http://127.0.0.1:10000/acct");
	assert_string_equal(c.secret, "c2VjcmV0IGtleQ==");
	assert_null(c.s3_region);
	assert_string_equal(c.tenant, "contoso");
	assert_int_equal(c.secondary, 1);
	assert_int_equal(c.expires - c.issued, 10 * 86400);
	sv_assert_ok(sv_hex_decode(tag, sizeof(tag), TAG));
	assert_memory_equal(c.tag, tag, sizeof(tag));
	sv_credentials_release(&c);
}

static void test_credentials__refuses_malformed_with_the_reason(void **s)
{
	(void)s;
	expect_refused("{\"format\":", SV_EINVAL, "is not valid JSON");
	expect_refused("[1,2]", SV_EINVAL, "not a JSON object");
	expect_refused("", SV_EINVAL, "malformed");
	refuse_field("format", "\"restic\"", "not a sysvault credentials file");
	refuse_field("version", NULL, "field 'version' is missing");
	refuse_field("vault_id", "\"34e4\"",
		     "field 'vault_id' is not 64 hex digits");
	refuse_field("vault_id", "\"zz" ID "\"", "not 64 hex digits");
	refuse_field("url", NULL, "field 'url' is missing");
	refuse_field("url", "\"\"", "field 'url' is empty");
	refuse_field("url", "42", "field 'url' is not a string");
	refuse_field("vault_name", NULL, "field 'vault_name' is missing");
	refuse_field("secret", "[]", "field 'secret' is not a string");
	refuse_field("region", "\"tertiary\"",
		     "not \"primary\" or \"secondary\"");
	refuse_field("issued", "\"yesterday\"",
		     "field 'issued' is not a UTC time");
	refuse_field("expires", "\"2026-11-16T00:00:00Z\"",
		     "expires before it was issued");
	refuse_field("tag", "\"00\"", "field 'tag' is not 64 hex digits");
}

static void test_credentials__refuses_a_newer_version(void **s)
{
	char *text = with_field("version", "2");

	(void)s;
	expect_refused(text, SV_ENOTSUPPORTED, "version 2 is newer");
	free(text);
}

static void test_credentials__refuses_expired(void **s)
{
	sv_credentials c;

	(void)s;
	expect_refused_at(good, 1796000000, SV_EAUTH,
			  "expired on 2026-11-27T00:00:00Z");
	assert_int_equal(
		sv_credentials_parse(&c, good, strlen(good), 1795737600),
		SV_EAUTH);
	sv_assert_ok(sv_credentials_parse(&c, good, strlen(good), 1795737599));
	sv_credentials_release(&c);
}

static void
test_credentials__optional_fields_may_be_missing_null_or_empty(void **s)
{
	char *a = with_field("endpoint", NULL),
	     *b = with_field("endpoint", "\"\"");
	sv_credentials ca, cb;
	sv_buf ba, bb;

	(void)s;
	sv_buf_init(&ba, 1 << 16);
	sv_buf_init(&bb, 1 << 16);
	sv_assert_ok(sv_credentials_parse(&ca, a, strlen(a), NOW));
	sv_assert_ok(sv_credentials_parse(&cb, b, strlen(b), NOW));
	assert_null(ca.endpoint);
	assert_null(cb.endpoint);
	sv_assert_ok(sv_credentials_canonical(&ba, &ca));
	sv_assert_ok(sv_credentials_canonical(&bb, &cb));
	assert_int_equal(ba.len, bb.len);
	assert_memory_equal(ba.ptr, bb.ptr, ba.len);
	sv_buf_release(&ba);
	sv_buf_release(&bb);
	sv_credentials_release(&ca);
	sv_credentials_release(&cb);
	free(a);
	free(b);
}

/* The canonical bytes separate fields: moving text from one field into
 * the next changes them. */
static void test_credentials__canonical_bytes_separate_fields(void **s)
{
	char *a = with_field("vault_name", "\"fleetX\""),
	     *b = with_field("tenant", "\"Xcontoso\"");
	sv_credentials ca, cb;
	sv_buf ba, bb;

	(void)s;
	sv_buf_init(&ba, 1 << 16);
	sv_buf_init(&bb, 1 << 16);
	sv_assert_ok(sv_credentials_parse(&ca, a, strlen(a), NOW));
	sv_assert_ok(sv_credentials_parse(&cb, b, strlen(b), NOW));
	sv_assert_ok(sv_credentials_canonical(&ba, &ca));
	sv_assert_ok(sv_credentials_canonical(&bb, &cb));
	assert_true(ba.len != bb.len || memcmp(ba.ptr, bb.ptr, ba.len) != 0);
	sv_buf_release(&ba);
	sv_buf_release(&bb);
	sv_credentials_release(&ca);
	sv_credentials_release(&cb);
	free(a);
	free(b);
}

/* Signed with a real vault's key: the file verifies, survives a JSON
 * round trip, and any edited field fails. */
static void test_credentials__tag_catches_every_edit(void **s)
{
	static const char *const edits[][2] = {
		{"expires", "\"2099-01-01T00:00:00Z\""},
		{"region", "\"primary\""},
		{"url", "\"/elsewhere\""},
		{"secret", "\"other\""},
		{"tenant", "\"fabrikam\""},
		{"endpoint", "null"},
	};
	char *dir = sv_test_tmpdir("cred"), *url = sv_path_join(dir, "vault");
	char *cache = sv_path_join(dir, "cache"), *text = NULL, *edited;
	vault_init_opts o = {0, 0, 0, 0, 1024};
	sv_credentials c, d;
	vault *v = NULL;
	json_t *j;
	size_t i;

	(void)s;
	sv_assert_ok(vault_init(url, NULL, PASS, &o, NULL));
	sv_assert_ok(vault_open(&v, url, NULL, PASS, cache));
	sv_assert_ok(sv_credentials_parse(&c, good, strlen(good), NOW));
	sv_strlcpy(c.vault_id, vault_id(v), sizeof(c.vault_id));
	assert_int_equal(sv_credentials_verify(&c, v), SV_EAUTH);
	sv_assert_ok(sv_credentials_sign(&c, v));
	sv_assert_ok(sv_credentials_verify(&c, v));
	j = sv_credentials_json(&c);
	text = sv_json_dump(j, 1);
	sv_assert_ok(sv_credentials_parse(&d, text, strlen(text), NOW));
	sv_assert_ok(sv_credentials_verify(&d, v));
	sv_credentials_release(&d);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		json_t *e = json_deep_copy(j);

		json_object_set_new(e, edits[i][0], any_json(edits[i][1]));
		edited = sv_json_dump(e, 0);
		sv_assert_ok(
			sv_credentials_parse(&d, edited, strlen(edited), NOW));
		assert_int_equal(sv_credentials_verify(&d, v), SV_EAUTH);
		assert_non_null(strstr(sv_error_msg(), "altered"));
		sv_credentials_release(&d);
		json_decref(e);
		free(edited);
	}
	/* Another vault's file names the other vault. */
	sv_strlcpy(c.vault_id, ID, sizeof(c.vault_id));
	assert_int_equal(sv_credentials_verify(&c, v), SV_EAUTH);
	assert_non_null(strstr(sv_error_msg(), "was issued for vault"));
	sv_credentials_release(&c);
	json_decref(j);
	free(text);
	vault_close(v);
	sv_fs_remove_tree(dir);
	free(dir);
	free(url);
	free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials__parses_every_field),
		cmocka_unit_test(
			test_credentials__refuses_malformed_with_the_reason),
		cmocka_unit_test(test_credentials__refuses_a_newer_version),
		cmocka_unit_test(test_credentials__refuses_expired),
		cmocka_unit_test(
			test_credentials__optional_fields_may_be_missing_null_or_empty),
		cmocka_unit_test(
			test_credentials__canonical_bytes_separate_fields),
		cmocka_unit_test(test_credentials__tag_catches_every_edit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
