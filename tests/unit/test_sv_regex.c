/*
 * test_sv_regex.c - the PCRE2 wrapper: compile errors, UTF-8 and invalid
 * bytes, caseless matching, capture groups, the match limit and concurrent
 * matching on one compiled pattern.
 */
#include "sv_test.h"
#include "sv_regex.h"
#include "sv_thread.h"

#define VERSION_RE "(\\d{2}/\\d{2}/\\d{4}-\\d{2}:\\d{2})"

static int match_str(const sv_regex *re, const char *s, sv_regex_span *m)
{
	return sv_regex_match(re, s, strlen(s), m);
}

static void test_regex__compile_error_names_offset(void **s)
{
	sv_regex *re = (sv_regex *)1;

	(void)s;
	assert_int_equal(sv_regex_new(&re, "abc(def", 0), SV_EINVAL);
	assert_null(re);
	assert_non_null(strstr(sv_error_msg(), "offset 7"));
	assert_non_null(strstr(sv_error_msg(), "abc(def"));
	assert_int_equal(sv_regex_new(&re, "x{2,1}", 0), SV_EINVAL);
	assert_int_equal(sv_regex_new(&re, NULL, 0), SV_EINVAL);
}

static void test_regex__invalid_utf8_pattern_is_einval(void **s)
{
	sv_regex *re = NULL;

	(void)s;
	assert_int_equal(sv_regex_new(&re, "B\xfcro", 0), SV_EINVAL);
	assert_null(re);
}

static void test_regex__finds_first_group(void **s)
{
	sv_regex *re = NULL;
	sv_regex_span m;
	const char *line =
		"Version identifier: 06/30/2026-19:26 and 07/01/2026-01:00";

	(void)s;
	sv_assert_ok(sv_regex_new(&re, VERSION_RE, 0));
	assert_int_equal(sv_regex_groups(re), 1);
	assert_int_equal(match_str(re, line, &m), 1);
	assert_int_equal(m.group, 1);
	assert_int_equal(m.group_start, 20);
	assert_int_equal(m.group_end, 36);
	assert_int_equal(m.start, 20);
	assert_int_equal(match_str(re, "Backup time: 6/30/2026 12:26 PM", &m),
			 0);
	assert_int_equal(match_str(re, "", NULL), 0);
	assert_int_equal(sv_regex_match(re, NULL, 0, NULL), 0);
	sv_regex_free(re);
}

static void test_regex__no_group_gives_whole_match(void **s)
{
	sv_regex *re = NULL;
	sv_regex_span m;
	char buf[16];

	(void)s;
	sv_assert_ok(sv_regex_new(&re, "0x8[0-9a-f]{7}", SV_REGEX_CASELESS));
	assert_int_equal(sv_regex_groups(re), 0);
	assert_int_equal(match_str(re, "error 0x800423f2.", &m), 1);
	assert_int_equal(m.group, 0);
	assert_int_equal(m.group_start, 6);
	assert_int_equal(m.group_end, 16);
	assert_int_equal(
		sv_regex_match_copy(re, "x 0x8078011E y", 14, buf, sizeof(buf)),
		1);
	assert_string_equal(buf, "0x8078011E");
	sv_regex_free(re);
}

static void test_regex__unset_group_falls_back_to_match(void **s)
{
	sv_regex *re = NULL;
	sv_regex_span m;

	(void)s;
	sv_assert_ok(sv_regex_new(&re, "a(b)?c", 0));
	assert_int_equal(match_str(re, "xxac", &m), 1);
	assert_int_equal(m.group, 0);
	assert_int_equal(m.group_start, 2);
	assert_int_equal(m.group_end, 4);
	sv_regex_free(re);
}

static void test_regex__copy_that_does_not_fit(void **s)
{
	sv_regex *re = NULL;
	char buf[8];

	(void)s;
	sv_assert_ok(sv_regex_new(&re, VERSION_RE, 0));
	assert_int_equal(sv_regex_match_copy(re, "06/30/2026-19:26", 16, buf,
					     sizeof(buf)),
			 SV_EINVAL);
	assert_string_equal(buf, "");
	assert_int_equal(sv_regex_match_copy(re, "none", 4, buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(sv_regex_match_copy(re, "none", 4, buf, 0), SV_EINVAL);
	sv_regex_free(re);
}

static void test_regex__caseless_folds_unicode(void **s)
{
	sv_regex *re = NULL;
	sv_regex *cs = NULL;

	(void)s;
	sv_assert_ok(
		sv_regex_new(&re, "srv b\xc3\xbcro 01", SV_REGEX_CASELESS));
	sv_assert_ok(sv_regex_new(&cs, "access is denied", 0));
	assert_int_equal(match_str(re, "SRV B\xc3\x9cRO 01", NULL), 1);
	assert_int_equal(match_str(re, "srv buro 01", NULL), 0);
	assert_int_equal(match_str(cs, "Access is denied", NULL), 0);
	assert_int_equal(match_str(cs, "ERROR: access is denied.", NULL), 1);
	sv_regex_free(re);
	sv_regex_free(cs);
}

static void test_regex__invalid_utf8_subject_is_not_an_error(void **s)
{
	sv_regex *re = NULL;
	sv_regex *dot = NULL;
	/* CP850 "Büro" (0x81) and a lone continuation byte, then an HRESULT. */
	const char subj[] = "SRV B\x81ro 01 \xc3 \x80 failed 0x800423F2\xff";
	sv_regex_span m;

	(void)s;
	sv_assert_ok(sv_regex_new(&re, "0x8[0-9A-F]{7}", 0));
	sv_assert_ok(sv_regex_new(&dot, "B.ro", 0));
	assert_int_equal(sv_regex_match(re, subj, sizeof(subj) - 1, &m), 1);
	assert_int_equal(memcmp(subj + m.start, "0x800423F2", 10), 0);
	/* An invalid byte is not a character: "." does not match it. */
	assert_int_equal(sv_regex_match(dot, subj, sizeof(subj) - 1, NULL), 0);
	sv_regex_free(re);
	sv_regex_free(dot);
}

static void test_regex__subject_with_nul_and_length(void **s)
{
	sv_regex *re = NULL;
	const char subj[] = "first\0second 0x8004231F";

	(void)s;
	sv_assert_ok(sv_regex_new(&re, "second", 0));
	assert_int_equal(sv_regex_match(re, subj, sizeof(subj) - 1, NULL), 1);
	/* The length bounds the subject, not the NUL. */
	assert_int_equal(sv_regex_match(re, subj, 5, NULL), 0);
	sv_regex_free(re);
}

static void test_regex__match_limit_is_sv_error(void **s)
{
	sv_regex *re = NULL;
	char subj[64];

	(void)s;
	memset(subj, 'a', sizeof(subj) - 2);
	subj[sizeof(subj) - 2] = 'b';
	subj[sizeof(subj) - 1] = '\0';
	sv_assert_ok(sv_regex_new(&re, "^(a|a?)+$", 0));
	assert_int_equal(match_str(re, subj, NULL), SV_ERROR);
	assert_non_null(strstr(sv_error_msg(), "limit"));
	sv_regex_free(re);
}

typedef struct worker {
	const sv_regex *re;
	int ok;
} worker;

static void match_many(void *arg)
{
	worker *w = arg;
	char line[64];
	sv_regex_span m;
	int i;

	w->ok = 1;
	for (i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line),
			 "Version identifier: %02d/%02d/2026-%02d:%02d",
			 i % 12 + 1, i % 28 + 1, i % 24, i % 60);
		if (sv_regex_match(w->re, line, strlen(line), &m) != 1 ||
		    m.group_start != 20 || m.group_end != 36)
			w->ok = 0;
	}
}

static void test_regex__concurrent_matching(void **s)
{
	sv_regex *re = NULL;
	sv_thread *t[4];
	worker w[4];
	int i;

	(void)s;
	sv_assert_ok(sv_regex_new(&re, VERSION_RE, 0));
	for (i = 0; i < 4; i++) {
		w[i].re = re;
		w[i].ok = 0;
		sv_assert_ok(sv_thread_start(&t[i], match_many, &w[i]));
	}
	for (i = 0; i < 4; i++)
		sv_thread_join(t[i]);
	for (i = 0; i < 4; i++)
		assert_true(w[i].ok);
	sv_regex_free(re);
}

static void test_regex__free_null(void **s)
{
	(void)s;
	sv_regex_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regex__compile_error_names_offset),
		cmocka_unit_test(test_regex__invalid_utf8_pattern_is_einval),
		cmocka_unit_test(test_regex__finds_first_group),
		cmocka_unit_test(test_regex__no_group_gives_whole_match),
		cmocka_unit_test(test_regex__unset_group_falls_back_to_match),
		cmocka_unit_test(test_regex__copy_that_does_not_fit),
		cmocka_unit_test(test_regex__caseless_folds_unicode),
		cmocka_unit_test(
			test_regex__invalid_utf8_subject_is_not_an_error),
		cmocka_unit_test(test_regex__subject_with_nul_and_length),
		cmocka_unit_test(test_regex__match_limit_is_sv_error),
		cmocka_unit_test(test_regex__concurrent_matching),
		cmocka_unit_test(test_regex__free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
