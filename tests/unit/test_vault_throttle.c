/*
 * test_vault_throttle.c - vault/throttle.c with a simulated clock: parsing
 * and printing of rates, days and hours, which rate a schedule puts in
 * force at a given local time (boundaries, weekdays, windows that wrap
 * past midnight), the config.json form, and the token bucket's accuracy
 * over a simulated minute for several rates and 1, 4 and 16 transfers.
 */
#include <string.h>

#include "sv_test.h"
#include "sv_time.h"
#include "throttle.h"

/* Local seconds of a wall-clock time (throttle.c works on local seconds). */
static int64_t at(int year, int month, int day, int hour, int min, int sec)
{
	sv_tm tm = {year, month, day, hour, min, sec, 0};

	return sv_time_from_tm(&tm);
}

static void test_throttle__parses_rates_in_decimal_units(void **state)
{
	uint64_t bps;

	(void)state;
	sv_assert_ok(vault_throttle_parse_rate(&bps, "--work-rate", "4Mbps"));
	assert_int_equal(bps, 4000000);
	sv_assert_ok(vault_throttle_parse_rate(&bps, "r", "200mbps"));
	assert_int_equal(bps, 200000000);
	sv_assert_ok(vault_throttle_parse_rate(&bps, "r", "1.5Gbps"));
	assert_int_equal(bps, 1500000000);
	sv_assert_ok(vault_throttle_parse_rate(&bps, "r", "64Kbps"));
	assert_int_equal(bps, 64000);
	sv_assert_ok(vault_throttle_parse_rate(&bps, "r", "9000bps"));
	assert_int_equal(bps, 9000);
	sv_assert_ok(vault_throttle_parse_rate(&bps, "r", "unlimited"));
	assert_int_equal(bps, 0);
}

static void test_throttle__refuses_bad_rates_naming_the_option(void **state)
{
	static const char *bad[] = {"4",      "4MB",	    "Mbps",   "",
				    "4 Mbps", "1.2345Mbps", "-4Mbps", "4Mbpsx",
				    "1Kbps",  "2000Gbps",   "..5Mbps"};
	uint64_t bps;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			vault_throttle_parse_rate(&bps, "--off-rate", bad[i]),
			SV_EUSAGE);
		assert_non_null(strstr(sv_error_msg(), "--off-rate"));
		assert_null(strchr(sv_error_msg(), '\n'));
	}
}

static void test_throttle__formats_rates_back(void **state)
{
	static const char *in[] = {"4Mbps",   "1.5Gbps",   "200Mbps", "64Kbps",
				   "9000bps", "unlimited", "2.25Mbps"};
	static const char *want[] = {"4Mbps", "1.5Gbps",   "200Mbps", "64Kbps",
				     "9Kbps", "unlimited", "2.25Mbps"};
	char out[24];
	uint64_t bps;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		sv_assert_ok(vault_throttle_parse_rate(&bps, "r", in[i]));
		vault_throttle_format_rate(out, sizeof(out), bps);
		assert_string_equal(out, want[i]);
	}
}

static void test_throttle__parses_day_ranges_and_lists(void **state)
{
	uint8_t d;
	char out[32];

	(void)state;
	sv_assert_ok(vault_throttle_parse_days(&d, "--work-days", "Mon-Fri"));
	assert_int_equal(d, 0x3e);
	vault_throttle_format_days(out, sizeof(out), d);
	assert_string_equal(out, "Mon-Fri");
	sv_assert_ok(vault_throttle_parse_days(&d, "d", "Sat,Sun"));
	assert_int_equal(d, 0x41);
	sv_assert_ok(vault_throttle_parse_days(&d, "d", "fri-mon"));
	assert_int_equal(d, 0x63);
	sv_assert_ok(vault_throttle_parse_days(&d, "d", "Mon,Wed,Fri"));
	vault_throttle_format_days(out, sizeof(out), d);
	assert_string_equal(out, "Mon,Wed,Fri");
	sv_assert_ok(vault_throttle_parse_days(&d, "d", "Sun-Sat"));
	assert_int_equal(d, 0x7f);
	vault_throttle_format_days(out, sizeof(out), d);
	assert_string_equal(out, "Sun-Sat");
}

static void test_throttle__refuses_bad_days(void **state)
{
	static const char *bad[] = {"",	    "Monday", "Mon-",	     "Mon,,Tue",
				    "Mon,", "Fun",    "Mon-Fri-Sat", "1-5"};
	uint8_t d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			vault_throttle_parse_days(&d, "--work-days", bad[i]),
			SV_EUSAGE);
		assert_non_null(strstr(sv_error_msg(), "--work-days"));
	}
}

static void test_throttle__parses_hours(void **state)
{
	static const char *bad[] = {
		"8:00-18:00",  "08:00-18:0",  "08:60-09:00",
		"25:00-26:00", "08:00-08:00", "00:00-24:00x",
		"24:00-08:00", "08:00_18:00", ""};
	uint16_t s, e;
	char out[12];
	size_t i;

	(void)state;
	sv_assert_ok(vault_throttle_parse_hours(&s, &e, "h", "08:00-18:00"));
	assert_int_equal(s, 480);
	assert_int_equal(e, 1080);
	sv_assert_ok(vault_throttle_parse_hours(&s, &e, "h", "22:30-06:15"));
	assert_int_equal(s, 1350);
	assert_int_equal(e, 375);
	vault_throttle_format_hours(out, sizeof(out), s, e);
	assert_string_equal(out, "22:30-06:15");
	sv_assert_ok(vault_throttle_parse_hours(&s, &e, "h", "00:00-24:00"));
	assert_int_equal(e, 1440);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(vault_throttle_parse_hours(
					 &s, &e, "--work-hours", bad[i]),
				 SV_EUSAGE);
}

static vault_throttle office(void)
{
	vault_throttle t = {1, 0x3e, 8 * 60, 18 * 60, 4000000, 200000000};

	return t;
}

/* 2024-01-01 was a Monday. */
static void test_throttle__switches_rate_at_the_boundaries(void **state)
{
	vault_throttle t = office();

	(void)state;
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 1, 7, 59, 59)),
			 200000000);
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 1, 8, 0, 0)),
			 4000000);
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 1, 17, 59, 59)),
			 4000000);
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 1, 18, 0, 0)),
			 200000000);
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 5, 12, 0, 0)),
			 4000000); /* Friday */
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 6, 12, 0, 0)),
			 200000000); /* Saturday */
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 7, 12, 0, 0)),
			 200000000); /* Sunday */
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 8, 9, 0, 0)),
			 4000000); /* Monday again */
	assert_int_equal(vault_throttle_rate_at(&t, at(1969, 12, 29, 9, 0, 0)),
			 4000000); /* a Monday before the epoch */
	t.enabled = 0;
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 1, 9, 0, 0)),
			 0);
	assert_int_equal(vault_throttle_rate_at(NULL, 0), 0);
}

static void test_throttle__night_window_wraps_into_the_next_day(void **state)
{
	vault_throttle t = {1, 1u << 5, 22 * 60, 6 * 60, 1000000, 0};

	(void)state; /* Fridays 22:00 to Saturday 06:00 */
	assert_false(vault_throttle_in_work(&t, at(2024, 1, 5, 21, 59, 59)));
	assert_true(vault_throttle_in_work(&t, at(2024, 1, 5, 22, 0, 0)));
	assert_true(vault_throttle_in_work(&t, at(2024, 1, 6, 5, 59, 59)));
	assert_false(vault_throttle_in_work(&t, at(2024, 1, 6, 6, 0, 0)));
	assert_false(vault_throttle_in_work(&t, at(2024, 1, 6, 23, 0, 0)));
	assert_false(vault_throttle_in_work(&t, at(2024, 1, 5, 5, 0, 0)));
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 6, 1, 0, 0)),
			 1000000);
	assert_int_equal(vault_throttle_rate_at(&t, at(2024, 1, 6, 7, 0, 0)),
			 0);
}

static void test_throttle__json_round_trip_and_refusals(void **state)
{
	vault_throttle t = office(), back;
	json_t *j = NULL;

	(void)state;
	sv_assert_ok(vault_throttle_to_json(&j, &t));
	assert_string_equal(json_string_value(json_object_get(j, "days")),
			    "Mon-Fri");
	sv_assert_ok(vault_throttle_from_json(&back, j));
	assert_int_equal(back.enabled, 1);
	assert_int_equal(back.days, t.days);
	assert_int_equal(back.start_min, t.start_min);
	assert_int_equal(back.end_min, t.end_min);
	assert_int_equal(back.work_bps, t.work_bps);
	assert_int_equal(back.off_bps, t.off_bps);
	json_object_set_new(j, "work_bps", json_string("4Mbps"));
	assert_int_equal(vault_throttle_from_json(&back, j), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "throttle.work_bps"));
	json_object_set_new(j, "work_bps", json_integer(4000000));
	json_object_set_new(j, "hours", json_string("8-18"));
	assert_int_equal(vault_throttle_from_json(&back, j), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "throttle.hours"));
	json_decref(j);
	j = json_array();
	assert_int_equal(vault_throttle_from_json(&back, j), SV_EINVAL);
	json_decref(j);
}

/*
 * n transfers share one bucket for a simulated minute over a link far
 * faster than the limit. Each tick (an uneven step, like the engine's
 * polls) every transfer moves 16 KiB buffers until the bucket says wait,
 * as libcurl calls the callbacks until one pauses: odd ones as uploads (a
 * part may pass), even ones as downloads (all or nothing, into debt).
 * Returns the bytes moved.
 */
static uint64_t simulate(uint64_t rate_bytes, int n, uint64_t ms_total)
{
	static const unsigned steps[] = {1, 7, 3, 13, 100, 2};
	vault_bucket b;
	uint64_t now = 1000, moved = 0;
	size_t k = 0;
	int i;

	vault__bucket_init(&b, rate_bytes, now);
	while (now < 1000 + ms_total) {
		for (i = 0; i < n; i++) {
			size_t got = 1;

			while (got > 0) {
				if (i % 2)
					got = vault__bucket_take(&b, 16384,
								 now);
				else
					got = vault__bucket_take_all(&b, 16384,
								     now)
						      ? 16384
						      : 0;
				moved += got;
			}
		}
		now += steps[k++ % (sizeof(steps) / sizeof(steps[0]))];
	}
	return moved;
}

static void
test_throttle__bucket_holds_the_rate_within_ten_percent(void **state)
{
	static const uint64_t bps[] = {200000, 4000000, 40000000, 200000000};
	static const int transfers[] = {1, 4, 16};
	size_t r, t;

	(void)state;
	for (r = 0; r < sizeof(bps) / sizeof(bps[0]); r++) {
		for (t = 0; t < sizeof(transfers) / sizeof(transfers[0]); t++) {
			uint64_t want = bps[r] / 8 * 60;
			uint64_t got =
				simulate(bps[r] / 8, transfers[t], 60000);

			if (got < want * 9 / 10 || got > want * 11 / 10)
				fail_msg("%llu bps, %d transfers: %llu bytes, "
					 "want %llu +-10%%",
					 (unsigned long long)bps[r],
					 transfers[t], (unsigned long long)got,
					 (unsigned long long)want);
		}
	}
}

static void test_throttle__unlimited_bucket_never_waits(void **state)
{
	vault_bucket b;

	(void)state;
	vault__bucket_init(&b, 0, 5);
	assert_int_equal(vault__bucket_take(&b, 1 << 20, 5), 1 << 20);
	assert_true(vault__bucket_take_all(&b, 1 << 30, 5));
	assert_int_equal(vault__bucket_wait_ms(&b, 5), 0);
}

static void test_throttle__wait_ms_says_when_tokens_are_back(void **state)
{
	vault_bucket b;
	uint64_t w;

	(void)state;
	vault__bucket_init(&b, 100000, 0); /* 100 kB/s, 16 KiB to start */
	assert_true(vault__bucket_take_all(&b, 50000, 0)); /* 33616 in debt */
	assert_int_equal(vault__bucket_take(&b, 100, 0), 0);
	w = vault__bucket_wait_ms(&b, 0);
	assert_int_equal(w, 337); /* 33617 bytes at 100 bytes/ms */
	assert_int_equal(vault__bucket_take(&b, 100, w - 1), 0);
	assert_true(vault__bucket_take(&b, 100, w) > 0);
}

static void test_throttle__rate_change_applies_from_then_on(void **state)
{
	vault_bucket b;
	uint64_t now = 0, moved = 0;

	(void)state;
	vault__bucket_init(&b, 1000000, now); /* 1 MB/s for 10 s */
	for (; now < 10000; now += 10)
		moved += vault__bucket_take(&b, 65536, now);
	assert_in_range(moved, 9500000, 10500000);
	vault__bucket_set_rate(&b, 50000, now); /* then 50 kB/s for 20 s */
	moved = 0;
	for (; now < 30000; now += 10)
		moved += vault__bucket_take(&b, 65536, now);
	assert_in_range(moved, 900000, 1100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle__parses_rates_in_decimal_units),
		cmocka_unit_test(
			test_throttle__refuses_bad_rates_naming_the_option),
		cmocka_unit_test(test_throttle__formats_rates_back),
		cmocka_unit_test(test_throttle__parses_day_ranges_and_lists),
		cmocka_unit_test(test_throttle__refuses_bad_days),
		cmocka_unit_test(test_throttle__parses_hours),
		cmocka_unit_test(
			test_throttle__switches_rate_at_the_boundaries),
		cmocka_unit_test(
			test_throttle__night_window_wraps_into_the_next_day),
		cmocka_unit_test(test_throttle__json_round_trip_and_refusals),
		cmocka_unit_test(
			test_throttle__bucket_holds_the_rate_within_ten_percent),
		cmocka_unit_test(test_throttle__unlimited_bucket_never_waits),
		cmocka_unit_test(
			test_throttle__wait_ms_says_when_tokens_are_back),
		cmocka_unit_test(
			test_throttle__rate_change_applies_from_then_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
