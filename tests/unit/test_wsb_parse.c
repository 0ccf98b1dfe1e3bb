/*
 * test_wsb_parse.c - `wbadmin get versions` and progress parsing (parse.c)
 * on the recorded outputs of tests/fixtures/wbadmin/: English, an invented
 * German translation, CRLF, extra blank lines, a machine name with spaces
 * and non-ASCII letters (UTF-8 and undecoded OEM bytes). Every fixture is
 * also parsed with its line ends converted, so CRLF coverage does not
 * depend on how a checkout stores the files.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "wsb_int.h"

#define FIXTURE(name) SV_TEST_FIXTURES "/wbadmin/" name
#define FIXTURE_MAX ((size_t)1 << 20)

static char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		fail_msg("fixture missing: %s", path);
	buf = malloc(FIXTURE_MAX + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, FIXTURE_MAX, f);
	assert_int_equal(ferror(f), 0);
	assert_true(*len < FIXTURE_MAX);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

/* text with every line end turned into CRLF (crlf) or LF (!crlf). */
static char *with_line_ends(const char *text, size_t len, int crlf,
			    size_t *out_len)
{
	char *o = malloc(2 * len + 1);
	size_t i, n = 0;

	assert_non_null(o);
	for (i = 0; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (text[i] == '\n' && crlf)
			o[n++] = '\r';
		o[n++] = text[i];
	}
	o[n] = '\0';
	*out_len = n;
	return o;
}

typedef struct expect {
	const char *file;
	size_t count;
	const char *ids[3];
	const char *time0;    /* backup_time of the first version */
	const char *target0;  /* target of the first version */
	const char *recover0; /* can_recover of the first version */
} expect;

#define REC "Volume(s), File(s), Application(s), System State"

static const expect versions_fixtures[] = {
	{"versions-1.txt",
	 1,
	 {"06/30/2026-19:26"},
	 "6/30/2026 12:26 PM",
	 "Fixed Disk labeled F:",
	 REC},
	{"versions-3.txt",
	 3,
	 {"06/30/2026-19:26", "07/18/2026-18:01", "11/21/2026-10:00"},
	 "6/30/2026 12:26 PM",
	 "Fixed Disk labeled F:",
	 REC},
	{"versions-3-crlf.txt",
	 3,
	 {"06/30/2026-19:26", "07/18/2026-18:01", "11/21/2026-10:00"},
	 "6/30/2026 12:26 PM",
	 "Fixed Disk labeled F:",
	 REC},
	{"versions-blank-lines.txt",
	 3,
	 {"06/30/2026-19:26", "07/18/2026-18:01", "11/21/2026-10:00"},
	 "6/30/2026 12:26 PM",
	 "Fixed Disk labeled F:",
	 REC},
	{"versions-no-blank-lines.txt",
	 3,
	 {"06/30/2026-19:26", "07/18/2026-18:01", "11/21/2026-10:00"},
	 "6/30/2026 12:26 PM",
	 "Fixed Disk labeled F:",
	 REC},
	{"versions-machine-utf8.txt",
	 2,
	 {"11/21/2026-10:00", "11/22/2026-10:00"},
	 "11/21/2026 2:00 AM",
	 "Network Share labeled \\\\SRV B\xc3\xbcro 01\\Sicherung$",
	 "Volume(s), File(s), Application(s), Bare Metal Recovery, System "
	 "State"},
	{"versions-machine-cp850.txt",
	 2,
	 {"11/21/2026-10:00", "11/22/2026-10:00"},
	 "11/21/2026 2:00 AM",
	 "Network Share labeled \\\\SRV B?ro 01\\Sicherung$",
	 "Volume(s), File(s), Application(s), Bare Metal Recovery, System "
	 "State"},
	/* Unknown labels: the versions are found, the fields stay empty. */
	{"versions-de.txt",
	 3,
	 {"06/30/2026-19:26", "07/18/2026-18:01", "11/21/2026-10:00"},
	 "",
	 "",
	 ""},
	{"versions-none.txt", 0, {NULL}, NULL, NULL, NULL},
};

static void check_versions(const expect *e, const char *text, size_t len)
{
	wsb_version *v = NULL;
	size_t n = 0, i;

	sv_assert_ok(wsb_parse_versions(&v, &n, text, len));
	if (n != e->count)
		fail_msg("%s: %lu versions, expected %lu", e->file,
			 (unsigned long)n, (unsigned long)e->count);
	for (i = 0; i < n; i++)
		assert_string_equal(v[i].id, e->ids[i]);
	if (n > 0) {
		assert_string_equal(v[0].backup_time, e->time0);
		assert_string_equal(v[0].target, e->target0);
		assert_string_equal(v[0].can_recover, e->recover0);
	}
	free(v);
}

static void test_wsb_parse__versions_in_every_variant(void **s)
{
	char path[512], *text, *conv;
	size_t len, clen, i;
	int crlf;

	(void)s;
	for (i = 0;
	     i < sizeof(versions_fixtures) / sizeof(versions_fixtures[0]);
	     i++) {
		const expect *e = &versions_fixtures[i];

		snprintf(path, sizeof(path), "%s%s", FIXTURE(""), e->file);
		text = load(path, &len);
		check_versions(e, text, len);
		for (crlf = 0; crlf < 2; crlf++) {
			conv = with_line_ends(text, len, crlf, &clen);
			check_versions(e, conv, clen);
			free(conv);
		}
		free(text);
	}
}

static void test_wsb_parse__all_fields_of_three_versions(void **s)
{
	wsb_version *v = NULL;
	size_t n = 0, len;
	char *text = load(FIXTURE("versions-3-crlf.txt"), &len);

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, len));
	assert_int_equal(n, 3);
	assert_string_equal(v[1].backup_time, "7/18/2026 11:01 AM");
	assert_string_equal(v[2].backup_time, "11/21/2026 2:00 AM");
	assert_string_equal(v[2].target, "Fixed Disk labeled F:");
	assert_string_equal(v[2].can_recover, REC);
	free(v);
	free(text);
}

static void test_wsb_parse__machine_name_with_spaces_and_umlauts(void **s)
{
	wsb_version *v = NULL;
	size_t n = 0, len;
	char *text = load(FIXTURE("versions-machine-utf8.txt"), &len);

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, len));
	assert_int_equal(n, 2);
	assert_string_equal(v[1].target,
			    "Fixed Disk labeled SRV B\xc3\xbcro 01 "
			    "\xc3\x84u\xc3\x9f"
			    "eres Laufwerk (G:)");
	free(v);
	free(text);
}

static void test_wsb_parse__blocks_without_blank_lines(void **s)
{
	wsb_version *v = NULL;
	size_t n = 0, len;
	char *text = load(FIXTURE("versions-no-blank-lines.txt"), &len);

	(void)s;
	/* Each label goes to the nearest identifier of its block. */
	sv_assert_ok(wsb_parse_versions(&v, &n, text, len));
	assert_int_equal(n, 3);
	assert_string_equal(v[0].backup_time, "6/30/2026 12:26 PM");
	assert_string_equal(v[1].backup_time, "7/18/2026 11:01 AM");
	assert_string_equal(v[2].backup_time, "11/21/2026 2:00 AM");
	assert_string_equal(v[1].can_recover, REC);
	free(v);
	free(text);
}

static void test_wsb_parse__nearest_label_on_a_tie(void **s)
{
	/* Without Snapshot ID lines, "Backup time" of the second version is
	 * as far from both identifiers: it belongs to the one after it. */
	const char text[] = "Backup time: A\nBackup target: TA\n"
			    "Version identifier: 01/01/2026-01:00\n"
			    "Can recover: RA\nBackup time: B\n"
			    "Backup target: TB\n"
			    "Version identifier: 01/02/2026-01:00\n"
			    "Can recover: RB\n";
	wsb_version *v = NULL;
	size_t n = 0;

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, sizeof(text) - 1));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].backup_time, "A");
	assert_string_equal(v[0].can_recover, "RA");
	assert_string_equal(v[1].backup_time, "B");
	assert_string_equal(v[1].target, "TB");
	assert_string_equal(v[1].can_recover, "RB");
	free(v);
}

static void test_wsb_parse__identifier_needs_its_exact_shape(void **s)
{
	const char text[] = "106/30/2026-19:26\n06/30/2026-19:261\n"
			    "6/30/2026-19:26\n06/30/2026 19:26\n"
			    "06-30-2026-19:26\nx06/30/2026-19:26x\n"
			    "Version identifier: 07/01/2026-00:00\n";
	wsb_version *v = NULL;
	size_t n = 0;

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, sizeof(text) - 1));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "06/30/2026-19:26");
	assert_string_equal(v[1].id, "07/01/2026-00:00");
	free(v);
}

static void test_wsb_parse__repeated_identifier_is_one_version(void **s)
{
	const char text[] = "Version identifier: 06/30/2026-19:26\n\n"
			    "Version identifier: 06/30/2026-19:26\n";
	wsb_version *v = NULL;
	size_t n = 0;

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, sizeof(text) - 1));
	assert_int_equal(n, 1);
	free(v);
}

static void test_wsb_parse__nul_separated_and_empty(void **s)
{
	const char text[] = "Backup time: X\0Version identifier: "
			    "06/30/2026-19:26\0\0Version identifier: "
			    "07/01/2026-00:00";
	wsb_version *v = (wsb_version *)1;
	size_t n = 7;

	(void)s;
	sv_assert_ok(wsb_parse_versions(&v, &n, text, sizeof(text) - 1));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].backup_time, "X");
	free(v);
	sv_assert_ok(wsb_parse_versions(&v, &n, "", 0));
	assert_int_equal(n, 0);
	free(v);
	sv_assert_ok(wsb_parse_versions(&v, &n, NULL, 0));
	assert_int_equal(n, 0);
	assert_int_equal(wsb_parse_versions(&v, &n, NULL, 3), SV_EINVAL);
}

static int valid_utf8(const char *s)
{
	char tmp[1024];

	/* copy_clean leaves valid UTF-8 without control characters alone. */
	wsb__copy_clean(tmp, sizeof(tmp), s, strlen(s));
	return strcmp(tmp, s) == 0;
}

static void test_wsb_parse__long_values_are_cut_whole_characters(void **s)
{
	sv_buf b;
	wsb_version *v = NULL;
	size_t n = 0, i;

	(void)s;
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(sv_buf_adds(&b, "Backup time: "));
	for (i = 0; i < 100; i++)
		sv_assert_ok(sv_buf_adds(&b, "\xc3\xa4")); /* 200 bytes */
	sv_assert_ok(sv_buf_adds(&b, "\nBackup target: "));
	for (i = 0; i < 1000; i++)
		sv_assert_ok(sv_buf_adds(&b, "\xe2\x82\xac"));
	sv_assert_ok(sv_buf_adds(&b, "\x01\xff\nVersion identifier: "
				     "06/30/2026-19:26\n"));
	sv_assert_ok(wsb_parse_versions(&v, &n, b.ptr, b.len));
	assert_int_equal(n, 1);
	assert_int_equal(strlen(v[0].backup_time), 62);
	assert_true(valid_utf8(v[0].backup_time));
	assert_int_equal(strlen(v[0].target), 255);
	assert_true(valid_utf8(v[0].target));
	free(v);
	sv_buf_release(&b);
}

/* n distinct identifiers, one per line, in one block. */
static void many_versions(sv_buf *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sv_assert_ok(sv_buf_printf(b,
					   "Version identifier: "
					   "%02u/%02u/2026-%02u:%02u\n",
					   (unsigned)(i / 40320 % 12 + 1),
					   (unsigned)(i / 1440 % 28 + 1),
					   (unsigned)(i / 60 % 24),
					   (unsigned)(i % 60)));
}

static void test_wsb_parse__more_versions_than_a_volume_holds(void **s)
{
	sv_buf b;
	wsb_version *v = NULL;
	size_t n = 0;

	(void)s;
	sv_buf_init(&b, 1 << 22);
	many_versions(&b, WSB__MAX_VERSIONS);
	sv_assert_ok(wsb_parse_versions(&v, &n, b.ptr, b.len));
	assert_int_equal(n, WSB__MAX_VERSIONS);
	assert_string_equal(v[WSB__MAX_VERSIONS - 1].id, "01/06/2026-16:31");
	free(v);
	sv_buf_reset(&b);
	many_versions(&b, WSB__MAX_VERSIONS + 1);
	assert_int_equal(wsb_parse_versions(&v, &n, b.ptr, b.len), SV_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	sv_buf_release(&b);
}

static void test_wsb_parse__failure_outputs_hold_no_version(void **s)
{
	static const char *const files[] = {
		"backup-success.txt",	    "backup-success-de.txt",
		"fail-kb968247.txt",	    "fail-vss-timeout.txt",
		"fail-shadow-storage.txt",  "fail-efi-locked.txt",
		"fail-not-installed.txt",   "fail-invalid-writer-path.txt",
		"fail-critical-volume.txt", "fail-included-volume.txt",
		"fail-removable.txt",	    "fail-access-denied.txt",
		"fail-stopped.txt",	    "fail-de-hresult.txt",
		"fail-de-unknown.txt",	    "fail-unknown-english.txt",
	};
	char path[512], *text;
	wsb_version *v = NULL;
	size_t i, n, len;

	(void)s;
	/* Dates in run output never pass for a version identifier, so no
	 * run's own output can make a version appear. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", FIXTURE(""), files[i]);
		text = load(path, &len);
		sv_assert_ok(wsb_parse_versions(&v, &n, text, len));
		if (n != 0)
			fail_msg("%s: found version %s", files[i], v[0].id);
		free(v);
		free(text);
	}
}

/* ---- progress ---- */

static void test_wsb_parse__progress_percent(void **s)
{
	int p = -7;

	(void)s;
	assert_int_equal(wsb_parse_progress("Creating a backup of volume "
					    "(C:), copied (45%).",
					    &p),
			 1);
	assert_int_equal(p, 45);
	assert_int_equal(wsb_parse_progress("Overall progress: 100% "
					    "(Currently backing up (C:))",
					    &p),
			 1);
	assert_int_equal(p, 100);
	assert_int_equal(wsb_parse_progress("0%", &p), 1);
	assert_int_equal(p, 0);
	/* Any language: the number and the sign are enough. */
	assert_int_equal(wsb_parse_progress("Sicherung von Volume (C:): "
					    "7% kopiert.",
					    &p),
			 1);
	assert_int_equal(p, 7);
}

static void test_wsb_parse__progress_rejects_non_percentages(void **s)
{
	int p = -7;

	(void)s;
	assert_int_equal(wsb_parse_progress("Used 2.5% of the space", &p), 0);
	assert_int_equal(wsb_parse_progress("1,5%", &p), 0);
	assert_int_equal(wsb_parse_progress("150% done", &p), 0);
	assert_int_equal(wsb_parse_progress("1000%", &p), 0);
	assert_int_equal(wsb_parse_progress("% only", &p), 0);
	assert_int_equal(wsb_parse_progress("", &p), 0);
	assert_int_equal(wsb_parse_progress(NULL, &p), 0);
	assert_int_equal(wsb_parse_progress("Retrieving volume "
					    "information...",
					    &p),
			 0);
	assert_int_equal(p, -7);
	/* A later good one still counts. */
	assert_int_equal(wsb_parse_progress("2.5% then 30%", &p), 1);
	assert_int_equal(p, 30);
}

static void test_wsb_parse__progress_phases(void **s)
{
	int p = 5;

	(void)s;
	assert_int_equal(wsb_parse_progress("Creating a shadow copy of the "
					    "volumes specified for backup...",
					    &p),
			 1);
	assert_int_equal(p, -1);
	p = 5;
	assert_int_equal(wsb_parse_progress("Scanning the file system...", &p),
			 1);
	assert_int_equal(p, -1);
	p = 5;
	assert_int_equal(wsb_parse_progress("Found (12) files.", &p), 1);
	assert_int_equal(p, -1);
	p = 5;
	assert_int_equal(wsb_parse_progress("Found (many) files.", &p), 0);
	assert_int_equal(wsb_parse_progress("Found (12)", &p), 0);
	assert_int_equal(p, 5);
}

static void test_wsb_parse__progress_over_success_output(void **s)
{
	size_t len, pos = 0;
	char *text = load(FIXTURE("backup-success.txt"), &len);
	char line[512];
	wsb__line l;
	int p, phases = 0, others = 0;

	(void)s;
	while (wsb__line_next(text, len, &pos, &l)) {
		assert_true(l.len < sizeof(line));
		memcpy(line, l.p, l.len);
		line[l.len] = '\0';
		if (wsb_parse_progress(line, &p))
			phases += p == -1;
		else
			others++;
	}
	assert_int_equal(phases, 3);
	assert_true(others > 5);
	free(text);
}

/* ---- helpers ---- */

static void test_wsb_parse__lines_trim_cr_and_space(void **s)
{
	const char text[] = "  a \r\n\r\nb\0c\r\r\n";
	wsb__line l;
	size_t pos = 0;

	(void)s;
	assert_true(wsb__line_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.len, 1);
	assert_int_equal(l.p[0], 'a');
	assert_true(wsb__line_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.len, 0);
	assert_true(wsb__line_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.p[0], 'b');
	assert_true(wsb__line_next(text, sizeof(text) - 1, &pos, &l));
	assert_int_equal(l.len, 1);
	assert_int_equal(l.p[0], 'c');
	assert_false(wsb__line_next(text, sizeof(text) - 1, &pos, &l));
}

static void test_wsb_parse__copy_clean(void **s)
{
	char out[8];

	(void)s;
	assert_int_equal(wsb__copy_clean(out, sizeof(out), "a\tb\x81", 4), 4);
	assert_string_equal(out, "a b?");
	/* A 3-byte character that does not fit is left out whole. */
	assert_int_equal(
		wsb__copy_clean(out, sizeof(out), "abcde\xe2\x82\xac", 8), 5);
	assert_string_equal(out, "abcde");
	/* Overlong, surrogate and truncated sequences are invalid. */
	wsb__copy_clean(out, sizeof(out), "\xc0\xaf\xed\xa0\x80\xe2\x82", 7);
	assert_string_equal(out, "???????");
	assert_int_equal(wsb__copy_clean(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wsb_parse__versions_in_every_variant),
		cmocka_unit_test(test_wsb_parse__all_fields_of_three_versions),
		cmocka_unit_test(
			test_wsb_parse__machine_name_with_spaces_and_umlauts),
		cmocka_unit_test(test_wsb_parse__blocks_without_blank_lines),
		cmocka_unit_test(test_wsb_parse__nearest_label_on_a_tie),
		cmocka_unit_test(
			test_wsb_parse__identifier_needs_its_exact_shape),
		cmocka_unit_test(
			test_wsb_parse__repeated_identifier_is_one_version),
		cmocka_unit_test(test_wsb_parse__nul_separated_and_empty),
		cmocka_unit_test(
			test_wsb_parse__long_values_are_cut_whole_characters),
		cmocka_unit_test(
			test_wsb_parse__more_versions_than_a_volume_holds),
		cmocka_unit_test(
			test_wsb_parse__failure_outputs_hold_no_version),
		cmocka_unit_test(test_wsb_parse__progress_percent),
		cmocka_unit_test(
			test_wsb_parse__progress_rejects_non_percentages),
		cmocka_unit_test(test_wsb_parse__progress_phases),
		cmocka_unit_test(test_wsb_parse__progress_over_success_output),
		cmocka_unit_test(test_wsb_parse__lines_trim_cr_and_space),
		cmocka_unit_test(test_wsb_parse__copy_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
