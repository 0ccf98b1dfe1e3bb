#include "sv_test.h"
#include "sv_time.h"

static void test_time__format_and_parse_round_trip(void **s)
{
	char buf[32];
	int64_t t;

	(void)s;
	sv_time_format_utc(buf, sizeof(buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	sv_time_format_utc(buf, sizeof(buf), 1795226414);
	assert_string_equal(buf, "2026-11-21T02:00:14Z");
	sv_assert_ok(sv_time_parse_utc(&t, buf));
	assert_true(t == 1795226414);
	sv_assert_ok(sv_time_parse_utc(&t, "2024-02-29T23:59:59Z"));
	sv_time_format_utc(buf, sizeof(buf), t + 1);
	assert_string_equal(buf, "2024-03-01T00:00:00Z");
}

static void test_time__parse_rejects_junk(void **s)
{
	int64_t t;

	(void)s;
	assert_int_equal(sv_time_parse_utc(&t, "2026-13-01T00:00:00Z"), SV_EINVAL);
	assert_int_equal(sv_time_parse_utc(&t, "2026-11-21 02:00:14"), SV_EINVAL);
	assert_int_equal(sv_time_parse_utc(&t, ""), SV_EINVAL);
}

static void test_time__weekday_and_fake_clock(void **s)
{
	sv_tm tm;

	(void)s;
	sv_time_to_tm(&tm, 1795226414);     /* a Saturday */
	assert_int_equal(tm.wday, 6);
	sv_time_to_tm(&tm, -1);
	assert_int_equal(tm.year, 1969);
	assert_int_equal(tm.sec, 59);
	sv_time_set_fake(1000);
	assert_true(sv_time_now() == 1000);
	/* What a signature carries stays on the machine's clock. */
	assert_true(sv_time_real() > 1700000000);
	sv_time_set_fake(0);
	assert_true(sv_time_now() > 1700000000);
}

static void test_time__monotonic_sleep(void **s)
{
	uint64_t a = sv_time_mono_ms(), b;

	(void)s;
	sv_time_sleep_ms(30);
	b = sv_time_mono_ms();
	assert_true(b - a >= 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time__format_and_parse_round_trip),
		cmocka_unit_test(test_time__parse_rejects_junk),
		cmocka_unit_test(test_time__weekday_and_fake_clock),
		cmocka_unit_test(test_time__monotonic_sleep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
