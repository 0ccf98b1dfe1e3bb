/*
 * test_wsb_catalogue.c - the error catalogue (wsb/errors.tsv, embedded) and
 * the classification of failed runs (catalogue.c): the embedded bytes, the
 * strict loader, every entry exercised by a sample, every code documented
 * in docs/errors.md, the recorded failures of tests/fixtures/wbadmin/, and
 * the rule that an unreadable failure stays WSB_UNKNOWN.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "wsb_int.h"

#define FIXTURE(name) SV_TEST_FIXTURES "/wbadmin/" name
#define REPO_FILE(name) SV_TEST_FIXTURES "/../../" name
#define FILE_MAX ((size_t)1 << 20)

static char *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		fail_msg("missing: %s", path);
	buf = malloc(FILE_MAX + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, FILE_MAX, f);
	assert_int_equal(ferror(f), 0);
	assert_true(*len < FILE_MAX);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static int setup(void **state)
{
	wsb_catalogue *c = NULL;

	if (wsb_catalogue_load(&c) != 0) {
		print_error("catalogue: %s\n", sv_error_msg());
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	wsb_catalogue_free(*state);
	return 0;
}

static void classify_str(const wsb_catalogue *c, const char *s, wsb_failure *f)
{
	wsb_classify(c, s, strlen(s), f);
}

/* ---- the catalogue itself ---- */

static void test_wsb_catalogue__embedded_bytes_are_the_file(void **s)
{
	size_t len;
	char *text = load(REPO_FILE("wsb/errors.tsv"), &len);

	(void)s;
	assert_int_equal(wsb__errors_tsv_len, len);
	assert_memory_equal(wsb__errors_tsv, text, len);
	assert_int_equal(wsb__errors_tsv[len], '\0');
	free(text);
}

static void test_wsb_catalogue__loads_and_orders_entries(void **s)
{
	const wsb_catalogue *c = *s;
	size_t i, efi = 0, denied = 0;

	assert_true(c->count > 20);
	for (i = 0; i < c->count; i++) {
		const wsb__entry *e = &c->entries[i];

		if (e->kind == WSB__KIND_HRESULT &&
		    !strcmp(e->code, "WSB_EFI_LOCKED"))
			efi = i + 1;
		if (e->kind == WSB__KIND_HRESULT &&
		    !strcmp(e->code, "WSB_ACCESS_DENIED"))
			denied = i + 1;
	}
	assert_true(efi > 0 && denied > 0);
	assert_true(efi < denied);
}

typedef struct codes {
	const char *code[128];
	size_t n;
	int stop_after;
} codes;

static int collect(void *ud, const char *code, const char *cause,
		   const char *fix)
{
	codes *cs = ud;
	size_t i;

	assert_true(cause[0] != '\0' && fix[0] != '\0');
	for (i = 0; i < cs->n; i++)
		assert_string_not_equal(cs->code[i], code);
	assert_true(cs->n < 128);
	cs->code[cs->n++] = code;
	return cs->stop_after && (int)cs->n == cs->stop_after ? 42 : 0;
}

static void test_wsb_catalogue__each_visits_every_code_once(void **s)
{
	const wsb_catalogue *c = *s;
	codes cs;

	memset(&cs, 0, sizeof(cs));
	sv_assert_ok(wsb_catalogue_each(c, collect, &cs));
	assert_int_equal(cs.n, 24);
	memset(&cs, 0, sizeof(cs));
	cs.stop_after = 3;
	assert_int_equal(wsb_catalogue_each(c, collect, &cs), 42);
	assert_int_equal(cs.n, 3);
}

static void test_wsb_catalogue__every_code_is_documented(void **s)
{
	const wsb_catalogue *c = *s;
	char *doc, quoted[64];
	size_t len, i;
	codes cs;

	memset(&cs, 0, sizeof(cs));
	sv_assert_ok(wsb_catalogue_each(c, collect, &cs));
	doc = load(REPO_FILE("docs/errors.md"), &len);
	for (i = 0; i < cs.n; i++) {
		snprintf(quoted, sizeof(quoted), "| `%s` |", cs.code[i]);
		if (strstr(doc, quoted) == NULL)
			fail_msg("docs/errors.md has no table row for %s",
				 cs.code[i]);
	}
	assert_non_null(strstr(doc, "| `WSB_UNKNOWN` |"));
	free(doc);
}

/* ---- every entry exercised ---- */

typedef struct sample {
	const char *text;
	const char *code;
} sample;

/* One or more samples per entry of errors.tsv. The test below fails when
 * an entry is decided by none of them. */
static const sample samples[] = {
	/* language-neutral: HRESULTs */
	{"Detailed error: (0x8078011e)", "WSB_EFI_LOCKED"},
	{"HResult: 80780049 DetailedHResult: 8007007B",
	 "WSB_INVALID_WRITER_PATH"},
	{"Fehler 0x18770.", "WSB_INVALID_WRITER_PATH"},
	{"DetailedHResult: 8007007B", "WSB_INVALID_WRITER_PATH"},
	{"(0x800423F2)", "WSB_VSS_TIMEOUT"},
	{"Code: 0x8004231f", "WSB_SHADOW_STORAGE"},
	{"0x800423F0", "WSB_VSS_INCONSISTENTSNAPSHOT"},
	{"0x800423F1", "WSB_VSS_OUTOFRESOURCES"},
	{"0x800423F3", "WSB_VSS_RETRYABLE"},
	{"(0x800423f4) The writer experienced a non-transient error.",
	 "WSB_VSS_NONRETRYABLE"},
	{"0x80042306", "WSB_VSS_PROVIDER_VETO"},
	{"0x80042313", "WSB_VSS_FLUSH_WRITES_TIMEOUT"},
	{"0x80042314", "WSB_VSS_HOLD_WRITES_TIMEOUT"},
	{"0x80042316", "WSB_VSS_SNAPSHOT_SET_IN_PROGRESS"},
	{"0x80042317", "WSB_VSS_MAXIMUM_NUMBER_OF_SNAPSHOTS_REACHED"},
	{"0x80042318", "WSB_VSS_WRITER_INFRASTRUCTURE"},
	{"0x80042319", "WSB_VSS_WRITER_NOT_RESPONDING"},
	{"0x80042409", "WSB_VSS_WRITER_STATUS_NOT_AVAILABLE"},
	{"Vorgang abgebrochen (0x800704C7).", "WSB_STOPPED"},
	/* language-neutral: event lines */
	{"event VSS 8229", "WSB_VSS_TIMEOUT"},
	{"event VSS 12289: Volume Shadow Copy Service error",
	 "WSB_VSS_TIMEOUT"},
	{"event volsnap 25", "WSB_SHADOW_STORAGE"},
	{"event volsnap 36", "WSB_SHADOW_STORAGE"},
	{"event Microsoft-Windows-Backup 8", "WSB_STOPPED"},
	{"event Microsoft-Windows-Backup 9", "WSB_VSS_FAILED"},
	{"Zugriff verweigert (0x80070005)", "WSB_ACCESS_DENIED"},
	/* English */
	{"Windows Server Backup failed to get an exclusive lock on the EFI "
	 "system partition (ESP).",
	 "WSB_EFI_LOCKED"},
	{"The system writer reported an invalid path.",
	 "WSB_INVALID_WRITER_PATH"},
	{"The writer's time-out expired between the Freeze and Thaw events.",
	 "WSB_VSS_TIMEOUT"},
	{"There is insufficient disk space on volumes containing system "
	 "files.",
	 "WSB_SHADOW_STORAGE"},
	{"There is not enough disk space to create the volume shadow copy on "
	 "the storage location.",
	 "WSB_SHADOW_STORAGE"},
	{"ERROR - The location for backup is a critical volume.",
	 "WSB_TARGET_CRITICAL"},
	{"ERROR - The backup storage location is invalid. You cannot use a "
	 "volume that is included in the backup as a storage location.",
	 "WSB_TARGET_INCLUDED"},
	{"You cannot save a system state backup to DVDs or other removable "
	 "disks.",
	 "WSB_TARGET_REMOVABLE"},
	{"'wbadmin' is not recognized as an internal or external command,",
	 "WSB_NOT_INSTALLED"},
	{"The term 'Get-WBJob' is not recognized as the name of a cmdlet.",
	 "WSB_NOT_INSTALLED"},
	{"sh: 1: wbadmin: not found", "WSB_NOT_INSTALLED"},
	{"Enumeration of the files failed.", "WSB_ENUMERATION_FAILED"},
	{"The backup operation was stopped before it completed.",
	 "WSB_STOPPED"},
	{"The backup job has been cancelled.", "WSB_STOPPED"},
	{"ERROR - A Volume Shadow Copy Service operation error has occurred.",
	 "WSB_VSS_FAILED"},
	{"ERROR - Access is denied.", "WSB_ACCESS_DENIED"},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static void test_wsb_catalogue__every_sample_gets_its_code(void **s)
{
	const wsb_catalogue *c = *s;
	wsb_failure f;
	size_t i;

	for (i = 0; i < NSAMPLES; i++) {
		classify_str(c, samples[i].text, &f);
		if (strcmp(f.code, samples[i].code) != 0)
			fail_msg("'%s' gave %s, expected %s", samples[i].text,
				 f.code, samples[i].code);
	}
}

static void test_wsb_catalogue__every_entry_is_exercised(void **s)
{
	const wsb_catalogue *c = *s;
	size_t i, j;
	long idx;

	for (i = 0; i < c->count; i++) {
		const wsb__entry *e = &c->entries[i];

		for (j = 0; j < NSAMPLES; j++) {
			idx = wsb__classify_entry(c, samples[j].text,
						  strlen(samples[j].text),
						  NULL);
			if (idx == (long)i &&
			    strcmp(samples[j].code, e->code) == 0)
				break;
		}
		if (j == NSAMPLES)
			fail_msg("errors.tsv line %u (%s, %s) is decided by no "
				 "sample",
				 e->line, e->code, e->pattern);
	}
}

/* ---- recorded failures ---- */

typedef struct recorded {
	const char *file;
	const char *code;
	const char *hresult;
	const char *log0;
	const char *log1;
} recorded;

#define LOGDIR "C:\\Windows\\Logs\\WindowsServerBackup\\"
#define LOG_OK LOGDIR "Backup-18-07-2026_11-01-26.log"
#define LOG_ERR LOGDIR "Backup_Error-18-07-2026_11-01-26.log"

static const recorded recorded_failures[] = {
	{"fail-kb968247.txt", "WSB_ENUMERATION_FAILED", "",
	 LOGDIR "SystemStateBackup 18-07-2026 11-04-12.log",
	 LOGDIR "SystemStateBackup_Error 18-07-2026 11-04-12.log"},
	{"fail-vss-timeout.txt", "WSB_VSS_TIMEOUT", "0x800423F2", LOG_OK,
	 LOG_ERR},
	{"fail-shadow-storage.txt", "WSB_SHADOW_STORAGE", "0x8004231F", LOG_OK,
	 LOG_ERR},
	{"fail-efi-locked.txt", "WSB_EFI_LOCKED", "0x8078011E", LOG_OK,
	 LOG_ERR},
	{"fail-not-installed.txt", "WSB_NOT_INSTALLED", "", "", ""},
	{"fail-invalid-writer-path.txt", "WSB_INVALID_WRITER_PATH",
	 "0x80780049", LOG_OK, LOG_ERR},
	{"fail-critical-volume.txt", "WSB_TARGET_CRITICAL", "", "", ""},
	{"fail-included-volume.txt", "WSB_TARGET_INCLUDED", "", "", ""},
	{"fail-removable.txt", "WSB_TARGET_REMOVABLE", "", "", ""},
	{"fail-access-denied.txt", "WSB_ACCESS_DENIED", "", "", ""},
	{"fail-stopped.txt", "WSB_STOPPED", "", "", ""},
	/* An invented translation: the HRESULT still decides. */
	{"fail-de-hresult.txt", "WSB_VSS_TIMEOUT", "0x800423F2", LOG_OK,
	 LOG_ERR},
	/* Same, without an HRESULT: unknown, never anything better. */
	{"fail-de-unknown.txt", "WSB_UNKNOWN", "", LOG_OK, LOG_ERR},
	{"fail-unknown-english.txt", "WSB_UNKNOWN", "", LOG_OK, LOG_ERR},
};

static void test_wsb_catalogue__recorded_failures(void **s)
{
	const wsb_catalogue *c = *s;
	char path[512], *text;
	wsb_failure f;
	size_t i, len;

	for (i = 0;
	     i < sizeof(recorded_failures) / sizeof(recorded_failures[0]);
	     i++) {
		const recorded *r = &recorded_failures[i];

		snprintf(path, sizeof(path), "%s%s", FIXTURE(""), r->file);
		text = load(path, &len);
		wsb_classify(c, text, len, &f);
		if (strcmp(f.code, r->code) != 0)
			fail_msg("%s gave %s (%s), expected %s", r->file,
				 f.code, f.evidence, r->code);
		assert_string_equal(f.hresult, r->hresult);
		assert_string_equal(f.logs[0], r->log0);
		assert_string_equal(f.logs[1], r->log1);
		assert_true(f.cause[0] && f.fix[0] && f.evidence[0]);
		free(text);
	}
}

static void test_wsb_catalogue__unknown_language_without_hresult(void **s)
{
	const wsb_catalogue *c = *s;
	wsb_failure f;
	size_t len;
	char *text = load(FIXTURE("fail-de-unknown.txt"), &len);

	wsb_classify(c, text, len, &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_string_equal(
		f.evidence, LOG_ERR
		" | FEHLER - Der Sicherungsvorgang ist fehlgeschlagen."
		" | Die Aufz\xc3\xa4hlung der Dateien ist fehlgeschlagen.");
	assert_string_equal(f.hresult, "");
	assert_non_null(strstr(f.fix, "logs"));
	free(text);
}

static void test_wsb_catalogue__success_output_matches_no_entry(void **s)
{
	static const char *const files[] = {
		"backup-success.txt",
		"backup-success-de.txt",
		"versions-3.txt",
		"versions-de.txt",
		"versions-machine-utf8.txt",
	};
	const wsb_catalogue *c = *s;
	char path[512], *text;
	size_t i, len;
	long idx;

	/* No entry fires on a normal run, so no code can be invented for a
	 * run that failed only by its exit code. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", FIXTURE(""), files[i]);
		text = load(path, &len);
		idx = wsb__classify_entry(c, text, len, NULL);
		if (idx >= 0)
			fail_msg("%s: line %u (%s) matched", files[i],
				 c->entries[idx].line, c->entries[idx].code);
		free(text);
	}
}

/* ---- classification rules ---- */

static void test_wsb_catalogue__hresult_beats_english_on_any_line(void **s)
{
	const wsb_catalogue *c = *s;
	const char text[] = "ERROR - Access is denied.\n"
			    "ERROR - The location for backup is a critical "
			    "volume.\n"
			    "Detailed error: 0x80042319\n";
	wsb_failure f;

	classify_str(c, text, &f);
	assert_string_equal(f.code, "WSB_VSS_WRITER_NOT_RESPONDING");
	assert_string_equal(f.evidence, "Detailed error: 0x80042319");
}

static void test_wsb_catalogue__order_of_entries_not_of_lines(void **s)
{
	const wsb_catalogue *c = *s;
	wsb_failure f;

	/* 0x80070005 is printed first but is the generic detail. */
	classify_str(c, "0x80070005\n0x8078011E\n", &f);
	assert_string_equal(f.code, "WSB_EFI_LOCKED");
	assert_string_equal(f.hresult, "0x8078011E");
}

static void test_wsb_catalogue__hresult_of_unknown_failure(void **s)
{
	const wsb_catalogue *c = *s;
	wsb_failure f;

	classify_str(c, "banner\nFehler: 0x80071a90\nzweite\ndritte\n", &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_string_equal(f.hresult, "0x80071A90");
	assert_string_equal(f.evidence, "Fehler: 0x80071a90 | zweite | dritte");
	/* Not an HRESULT: no 0x8 prefix, too short, inside a word. */
	classify_str(c, "0x0000000\n0x8007\nab0x80071A90\n0x80071A90ff\n", &f);
	assert_string_equal(f.hresult, "");
}

static void test_wsb_catalogue__find_hresult_forms(void **s)
{
	char hr[11];

	(void)s;
	assert_true(wsb__find_hresult("HResult: 80780049", 17, hr));
	assert_string_equal(hr, "0x80780049");
	assert_true(wsb__find_hresult("DetailedHResult=8007007b", 24, hr));
	assert_string_equal(hr, "0x8007007B");
	assert_true(wsb__find_hresult("(0X800423F2)", 12, hr));
	assert_string_equal(hr, "0x800423F2");
	assert_false(wsb__find_hresult("HResult: 00000000", 17, hr));
	assert_false(wsb__find_hresult("80780049", 8, hr));
	assert_false(wsb__find_hresult("0x8004231", 9, hr));
	assert_false(wsb__find_hresult("HResult", 7, hr));
}

static void test_wsb_catalogue__event_lines(void **s)
{
	const wsb_catalogue *c = *s;
	char line[128];
	wsb_failure f;

	sv_assert_ok(wsb__event_line(line, sizeof(line), "volsnap", 36, 0));
	assert_string_equal(line, "event volsnap 36");
	classify_str(c, line, &f);
	assert_string_equal(f.code, "WSB_SHADOW_STORAGE");
	sv_assert_ok(wsb__event_line(line, sizeof(line),
				     "Microsoft-Windows-Backup", 14,
				     0x8078011Eu));
	assert_string_equal(line,
			    "event Microsoft-Windows-Backup 14 0x8078011E");
	classify_str(c, line, &f);
	assert_string_equal(f.code, "WSB_EFI_LOCKED");
	/* An event id must be whole: 80 is not 8, 250 is not 25. */
	classify_str(c, "event Microsoft-Windows-Backup 80\nevent volsnap 250",
		     &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_int_equal(wsb__event_line(line, 8, "volsnap", 25, 0), SV_EINVAL);
}

static void test_wsb_catalogue__nul_separated_output(void **s)
{
	const wsb_catalogue *c = *s;
	const char text[] = "first\0'C:\\x\\a.log'\0ERROR - Access is denied."
			    "\0last";
	wsb_failure f;

	wsb_classify(c, text, sizeof(text) - 1, &f);
	assert_string_equal(f.code, "WSB_ACCESS_DENIED");
	assert_string_equal(f.evidence, "ERROR - Access is denied.");
	assert_string_equal(f.logs[0], "C:\\x\\a.log");
}

static void test_wsb_catalogue__log_paths(void **s)
{
	const wsb_catalogue *c = *s;
	const char text[] = "see C:\\not\\a-path-line.log\n"
			    "\"\\\\SRV B\xc3\xbcro 01\\logs\\one.LOG\"\n"
			    "C:\\two.log'\n"
			    "C:\\two.log\n"
			    "D:\\three.log\n"
			    "C:\\dir.log\\file.txt\n";
	wsb_failure f;

	classify_str(c, text, &f);
	assert_string_equal(f.logs[0], "\\\\SRV B\xc3\xbcro 01\\logs\\one.LOG");
	assert_string_equal(f.logs[1], "C:\\two.log");
}

static void test_wsb_catalogue__empty_and_null(void **s)
{
	const wsb_catalogue *c = *s;
	wsb_failure f;

	wsb_classify(c, "", 0, &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_string_equal(f.evidence, "");
	assert_string_equal(f.logs[0], "");
	wsb_classify(c, NULL, 0, &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	wsb_classify(NULL, "ERROR - Access is denied.", 25, &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_string_equal(f.evidence, "ERROR - Access is denied.");
	assert_int_equal(wsb_catalogue_each(NULL, collect, NULL), 0);
	wsb_catalogue_free(NULL);
}

static int clean_utf8(const char *s, size_t size)
{
	char tmp[1024];

	if (memchr(s, '\0', size) == NULL)
		return 0;
	wsb__copy_clean(tmp, sizeof(tmp), s, strlen(s));
	return strcmp(tmp, s) == 0;
}

static void test_wsb_catalogue__evidence_is_bounded_clean_utf8(void **s)
{
	const wsb_catalogue *c = *s;
	sv_buf b;
	wsb_failure f;
	size_t i;

	sv_buf_init(&b, 1 << 20);
	for (i = 0; i < 3; i++) {
		size_t k;

		for (k = 0; k < 300; k++)
			sv_assert_ok(sv_buf_adds(&b, "\xc3\xa4\x81\x1b"));
		sv_assert_ok(sv_buf_addc(&b, '\n'));
	}
	wsb_classify(c, b.ptr, b.len, &f);
	assert_string_equal(f.code, "WSB_UNKNOWN");
	assert_true(clean_utf8(f.evidence, sizeof(f.evidence)));
	assert_int_equal(strlen(f.evidence), sizeof(f.evidence) - 1);
	sv_buf_reset(&b);
	sv_assert_ok(sv_buf_adds(&b, "Access is denied "));
	for (i = 0; i < 1000; i++)
		sv_assert_ok(sv_buf_adds(&b, "\xe2\x82\xac"));
	wsb_classify(c, b.ptr, b.len, &f);
	assert_string_equal(f.code, "WSB_ACCESS_DENIED");
	assert_true(clean_utf8(f.evidence, sizeof(f.evidence)));
	assert_true(strlen(f.evidence) >= sizeof(f.evidence) - 3);
	sv_buf_release(&b);
}

static void test_wsb_catalogue__only_the_last_lines_count(void **s)
{
	const wsb_catalogue *c = *s;
	sv_buf b;
	wsb_failure f;
	size_t i;

	sv_buf_init(&b, 1 << 22);
	sv_assert_ok(sv_buf_adds(&b, "0x800423F2\n"));
	for (i = 0; i < WSB__CLASSIFY_MAX_LINES; i++)
		sv_assert_ok(sv_buf_adds(&b, "Found (12) files.\n"));
	sv_assert_ok(sv_buf_adds(&b, "0x8004231F\n"));
	wsb_classify(c, b.ptr, b.len, &f);
	assert_string_equal(f.code, "WSB_SHADOW_STORAGE");
	sv_buf_release(&b);
}

/* ---- the strict loader ---- */

static void expect_load_error(const char *tsv, const char *needle)
{
	wsb_catalogue *c = (wsb_catalogue *)1;

	assert_int_equal(wsb__catalogue_parse(&c, tsv, strlen(tsv)), SV_EINVAL);
	assert_null(c);
	if (strstr(sv_error_msg(), needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, sv_error_msg());
}

static void test_wsb_catalogue__loader_rejects_malformed_lines(void **s)
{
	(void)s;
	expect_load_error("# c\nWSB_A\thresult\tx\tcause\n", "line 2: fewer");
	expect_load_error("WSB_A\thresult\tx\tc\tf\textra\n", "line 1: more");
	expect_load_error("WSB_A\thresult\t\tc\tf\n", "line 1: empty field");
	expect_load_error("\n\nWSB_A\tregex\tx\tc\tf\n", "line 3: kind");
	expect_load_error("wsb_a\thresult\tx\tc\tf\n", "line 1: code");
	expect_load_error("WSB_\thresult\tx\tc\tf\n", "line 1: code");
	expect_load_error("WSB_a b\thresult\tx\tc\tf\n", "line 1: code");
	expect_load_error("WSB_UNKNOWN\ttext\tx\tc\tf\n", "implicit");
	expect_load_error("# a\n# b\nWSB_A\ttext\tabc(\tc\tf\n",
			  "errors.tsv line 3 (WSB_A)");
	expect_load_error("WSB_A\ttext\tx\tc\tf\nWSB_A\ttext\ty\tc2\tf\n",
			  "line 2: cause or fix differs");
	expect_load_error("WSB_A\ttext\tx\tc\x01\tf\n", "line 1: cause");
	expect_load_error("# only comments\n\n", "no entries");
	expect_load_error(" WSB_A\ttext\tx\tc\tf\n", "line 1: code");
}

static void test_wsb_catalogue__loader_rejects_long_fields_and_nul(void **s)
{
	char tsv[1200];
	wsb_catalogue *c = NULL;

	(void)s;
	snprintf(tsv, sizeof(tsv), "WSB_A\ttext\tx\t%0300d\tf\n", 0);
	expect_load_error(tsv, "line 1: cause longer");
	snprintf(tsv, sizeof(tsv), "WSB_A\ttext\tx\tc\t%0600d\n", 0);
	expect_load_error(tsv, "line 1: fix longer");
	snprintf(tsv, sizeof(tsv), "WSB_%060d\ttext\tx\tc\tf\n", 0);
	expect_load_error(tsv, "line 1: code");
	assert_int_equal(
		wsb__catalogue_parse(&c, "WSB_A\ttext\tx\0\tc\tf\n", 16),
		SV_EINVAL);
	assert_null(c);
}

static void test_wsb_catalogue__loader_accepts_crlf_and_comments(void **s)
{
	const char tsv[] = "# comment\r\n\r\nWSB_A\thresult\t0x1\tc\tf\r\n"
			   "WSB_B\ttext\tb+\tcb\tfb";
	wsb_catalogue *c = NULL;
	wsb_failure f;

	(void)s;
	sv_assert_ok(wsb__catalogue_parse(&c, tsv, sizeof(tsv) - 1));
	assert_int_equal(c->count, 2);
	assert_int_equal(c->entries[0].line, 3);
	assert_int_equal(c->entries[1].line, 4);
	assert_string_equal(c->entries[1].fix, "fb");
	assert_int_equal(c->entries[0].kind, WSB__KIND_HRESULT);
	classify_str(c, "xBBx", &f);
	assert_string_equal(f.code, "WSB_B");
	assert_string_equal(f.fix, "fb");
	wsb_catalogue_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_wsb_catalogue__embedded_bytes_are_the_file),
		cmocka_unit_test(test_wsb_catalogue__loads_and_orders_entries),
		cmocka_unit_test(
			test_wsb_catalogue__each_visits_every_code_once),
		cmocka_unit_test(test_wsb_catalogue__every_code_is_documented),
		cmocka_unit_test(
			test_wsb_catalogue__every_sample_gets_its_code),
		cmocka_unit_test(test_wsb_catalogue__every_entry_is_exercised),
		cmocka_unit_test(test_wsb_catalogue__recorded_failures),
		cmocka_unit_test(
			test_wsb_catalogue__unknown_language_without_hresult),
		cmocka_unit_test(
			test_wsb_catalogue__success_output_matches_no_entry),
		cmocka_unit_test(
			test_wsb_catalogue__hresult_beats_english_on_any_line),
		cmocka_unit_test(
			test_wsb_catalogue__order_of_entries_not_of_lines),
		cmocka_unit_test(
			test_wsb_catalogue__hresult_of_unknown_failure),
		cmocka_unit_test(test_wsb_catalogue__find_hresult_forms),
		cmocka_unit_test(test_wsb_catalogue__event_lines),
		cmocka_unit_test(test_wsb_catalogue__nul_separated_output),
		cmocka_unit_test(test_wsb_catalogue__log_paths),
		cmocka_unit_test(test_wsb_catalogue__empty_and_null),
		cmocka_unit_test(
			test_wsb_catalogue__evidence_is_bounded_clean_utf8),
		cmocka_unit_test(test_wsb_catalogue__only_the_last_lines_count),
		cmocka_unit_test(
			test_wsb_catalogue__loader_rejects_malformed_lines),
		cmocka_unit_test(
			test_wsb_catalogue__loader_rejects_long_fields_and_nul),
		cmocka_unit_test(
			test_wsb_catalogue__loader_accepts_crlf_and_comments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
