#include "sv_test.h"
#include "sv_json.h"

static void test_json__typed_fields(void **s)
{
	const char *text = "{\"name\":\"SRV01\",\"size\":42,\"neg\":-1,\"ok\":true,"
			   "\"list\":[1],\"obj\":{}}";
	json_t *v = NULL, *a, *o;
	const char *str;
	uint64_t u;
	int64_t i;
	int b;

	(void)s;
	sv_assert_ok(sv_json_parse(&v, text, strlen(text), "test"));
	sv_assert_ok(sv_json_str(v, "name", &str));
	assert_string_equal(str, "SRV01");
	sv_assert_ok(sv_json_u64(v, "size", &u));
	assert_true(u == 42);
	assert_int_equal(sv_json_u64(v, "neg", &u), SV_EINVAL);
	sv_assert_ok(sv_json_i64(v, "neg", &i));
	assert_true(i == -1);
	sv_assert_ok(sv_json_bool(v, "ok", &b));
	assert_true(b);
	sv_assert_ok(sv_json_arr(v, "list", &a));
	sv_assert_ok(sv_json_obj(v, "obj", &o));
	assert_int_equal(sv_json_str(v, "size", &str), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "'size'"));
	assert_int_equal(sv_json_str(v, "missing", &str), SV_EINVAL);
	sv_assert_ok(sv_json_str_opt(v, "missing", "dflt", &str));
	assert_string_equal(str, "dflt");
	json_decref(v);
}

static void test_json__malformed_input_names_position(void **s)
{
	json_t *v = NULL;

	(void)s;
	assert_int_equal(sv_json_parse(&v, "{\"a\":1,}", 8, "config"), SV_EINVAL);
	assert_null(v);
	assert_non_null(strstr(sv_error_msg(), "config is not valid JSON (line 1"));
	assert_int_equal(sv_json_parse(&v, "{\"a\":1,\"a\":2}", 13, "x"), SV_EINVAL);
}

static void test_json__dump_keeps_order(void **s)
{
	json_t *v = json_object();
	char *out;

	(void)s;
	sv_assert_ok(sv_json_set(v, "z", json_integer(1)));
	sv_assert_ok(sv_json_set(v, "a", json_string("x")));
	assert_int_equal(sv_json_set(v, "n", NULL), SV_ENOMEM);
	out = sv_json_dump(v, 0);
	assert_string_equal(out, "{\"z\":1,\"a\":\"x\"}");
	free(out);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json__typed_fields),
		cmocka_unit_test(test_json__malformed_input_names_position),
		cmocka_unit_test(test_json__dump_keeps_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
