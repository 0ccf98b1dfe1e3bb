#include "sv_test.h"
#include "sv_buf.h"

static void test_buf__grows_and_terminates(void **s)
{
	sv_buf b;
	int i;

	(void)s;
	sv_buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		sv_assert_ok(sv_buf_printf(&b, "%d,", i));
	assert_int_equal(b.ptr[b.len], '\0');
	assert_true(b.len > 2000);
	assert_memory_equal(b.ptr, "0,1,2,", 6);
	sv_buf_release(&b);
}

static void test_buf__refuses_past_max(void **s)
{
	sv_buf b;

	(void)s;
	sv_buf_init(&b, 8);
	sv_assert_ok(sv_buf_adds(&b, "12345678"));
	assert_int_equal(sv_buf_addc(&b, '9'), SV_ENOMEM);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.ptr, "12345678");
	sv_buf_release(&b);
}

static void test_buf__take_empty_gives_empty_string(void **s)
{
	sv_buf b;
	char *p;

	(void)s;
	sv_buf_init(&b, 16);
	p = sv_buf_take(&b);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
}

static void test_buf__size_arithmetic_overflow(void **s)
{
	size_t out;

	(void)s;
	assert_int_equal(sv_add_size(&out, SIZE_MAX, 1), SV_ENOMEM);
	assert_int_equal(sv_mul_size(&out, SIZE_MAX / 2, 3), SV_ENOMEM);
	sv_assert_ok(sv_mul_size(&out, 1000, 1000));
	assert_int_equal(out, 1000000);
}

static void test_buf__parse_numbers_and_sizes(void **s)
{
	uint64_t v;

	(void)s;
	sv_assert_ok(sv_parse_u64(&v, "18446744073709551615"));
	assert_true(v == UINT64_MAX);
	assert_int_equal(sv_parse_u64(&v, "18446744073709551616"), SV_EINVAL);
	assert_int_equal(sv_parse_u64(&v, "-1"), SV_EINVAL);
	assert_int_equal(sv_parse_u64(&v, "12x"), SV_EINVAL);
	assert_int_equal(sv_parse_u64(&v, ""), SV_EINVAL);
	sv_assert_ok(sv_parse_size(&v, "64K"));
	assert_int_equal(v, 65536);
	sv_assert_ok(sv_parse_size(&v, "16MiB"));
	assert_int_equal(v, 16 << 20);
	sv_assert_ok(sv_parse_size(&v, "1.5g"));
	assert_int_equal(v, 3ull << 29);
	assert_int_equal(sv_parse_size(&v, "12 parsecs"), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "12 parsecs"));
}

static void test_buf__hex_round_trip_and_rejects(void **s)
{
	uint8_t in[4] = { 0x00, 0xab, 0x10, 0xff }, out[4];
	char hex[9];

	(void)s;
	sv_hex_encode(hex, in, 4);
	assert_string_equal(hex, "00ab10ff");
	sv_assert_ok(sv_hex_decode(out, 4, hex));
	assert_memory_equal(in, out, 4);
	assert_int_equal(sv_hex_decode(out, 4, "00ab10f"), SV_EINVAL);
	assert_int_equal(sv_hex_decode(out, 4, "00ab10fg"), SV_EINVAL);
}

static void test_buf__strlcpy_and_snprintf_truncate_safely(void **s)
{
	char small[4];

	(void)s;
	assert_int_equal(sv_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
	assert_int_equal(sv_snprintf(small, sizeof(small), "%s", "abcd"), SV_EINVAL);
	sv_assert_ok(sv_snprintf(small, sizeof(small), "%d", 12));
	assert_string_equal(small, "12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__grows_and_terminates),
		cmocka_unit_test(test_buf__refuses_past_max),
		cmocka_unit_test(test_buf__take_empty_gives_empty_string),
		cmocka_unit_test(test_buf__size_arithmetic_overflow),
		cmocka_unit_test(test_buf__parse_numbers_and_sizes),
		cmocka_unit_test(test_buf__hex_round_trip_and_rejects),
		cmocka_unit_test(test_buf__strlcpy_and_snprintf_truncate_safely),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
