/*
 * test_agent_events.c - the job events: the ID each outcome gets, the
 * insertion strings of the message table, the syslog line, and the
 * platform writer accepting an event.
 */
#include "sv_test.h"

#include "events.h"
#include "jobs.h"
#include "sv_log.h"

#ifdef _WIN32
#include <windows.h>
#endif

static sv_event_job a_job(const char *state, const char *code, const char *message)
{
	sv_event_job j = { 42, "backup", state, code, message, 35, 1048576, 4096 };

	return j;
}

static void test_events__id_for_each_outcome(void **s)
{
	(void)s;
	assert_int_equal(sv_event_id(SV_JOB_COMPLETED, NULL), 1000);
	assert_int_equal(sv_event_id(SV_JOB_WARNINGS, NULL), 1001);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "WSB_VSS_FAILED"), 1002);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, NULL), 1002);
	assert_int_equal(sv_event_id(SV_JOB_CANCELLED, NULL), 1003);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "PF006"), 1004);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "INTERRUPTED"), 1002);
}

static void test_events__only_a_check_id_is_a_preflight_failure(void **s)
{
	(void)s;
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "PF"), SV_EVENT_FAILED);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "PF01"), SV_EVENT_FAILED);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "PF0123"), SV_EVENT_FAILED);
	assert_int_equal(sv_event_id(SV_JOB_FAILED, "PFX12"), SV_EVENT_FAILED);
	/* A cancelled job is cancelled whatever code it carries. */
	assert_int_equal(sv_event_id(SV_JOB_CANCELLED, "PF006"), SV_EVENT_CANCELLED);
	assert_int_equal(sv_event_id(NULL, NULL), SV_EVENT_FAILED);
	assert_int_equal(sv_event_id("running", NULL), SV_EVENT_FAILED);
}

static void test_events__level_follows_outcome(void **s)
{
	sv_event ev;
	sv_event_job j = a_job(SV_JOB_COMPLETED, NULL, NULL);

	(void)s;
	sv_event_format(&ev, &j);
	assert_int_equal(ev.level, SV_EVENT_INFO);
	j.state = SV_JOB_WARNINGS;
	sv_event_format(&ev, &j);
	assert_int_equal(ev.level, SV_EVENT_WARNING);
	j.state = SV_JOB_CANCELLED;
	sv_event_format(&ev, &j);
	assert_int_equal(ev.level, SV_EVENT_WARNING);
	j.state = SV_JOB_FAILED;
	sv_event_format(&ev, &j);
	assert_int_equal(ev.level, SV_EVENT_ERROR);
	j.code = "PF003";
	sv_event_format(&ev, &j);
	assert_int_equal(ev.level, SV_EVENT_ERROR);
}

static void test_events__insertion_strings_in_table_order(void **s)
{
	sv_event ev;
	sv_event_job j = a_job(SV_JOB_FAILED, "WSB_VSS_FAILED",
			       "wbadmin failed: run 'vssadmin list writers' and restart the failed writer");

	(void)s;
	sv_event_format(&ev, &j);
	assert_int_equal(ev.id, SV_EVENT_FAILED);
	assert_string_equal(ev.strings[0], "42");
	assert_string_equal(ev.strings[1], "backup");
	assert_string_equal(ev.strings[2], "35");
	assert_string_equal(ev.strings[3], "1048576");
	assert_string_equal(ev.strings[4], "4096");
	assert_string_equal(ev.strings[5], "WSB_VSS_FAILED");
	assert_string_equal(ev.strings[6],
			    "wbadmin failed: run 'vssadmin list writers' and restart the failed writer");
}

static void test_events__missing_code_and_message_are_dashes(void **s)
{
	sv_event ev;
	sv_event_job j = a_job(SV_JOB_COMPLETED, NULL, "");

	(void)s;
	j.kind = NULL;
	sv_event_format(&ev, &j);
	assert_string_equal(ev.strings[SV_EVENT_S_KIND], "-");
	assert_string_equal(ev.strings[SV_EVENT_S_CODE], "-");
	assert_string_equal(ev.strings[SV_EVENT_S_MESSAGE], "-");
}

static void test_events__message_is_one_redacted_line(void **s)
{
	sv_event ev;
	sv_event_job j = a_job(SV_JOB_FAILED, "SV_EAUTH",
			       "upload refused with key s3cr3t-account-key\nsecond line");

	(void)s;
	sv_log_add_secret("s3cr3t-account-key");
	sv_event_format(&ev, &j);
	assert_null(strstr(ev.strings[SV_EVENT_S_MESSAGE], "s3cr3t"));
	assert_null(strchr(ev.strings[SV_EVENT_S_MESSAGE], '\n'));
	assert_non_null(strstr(ev.strings[SV_EVENT_S_MESSAGE], "upload refused with key"));
}

static void test_events__long_message_is_cut_not_overrun(void **s)
{
	char big[3 * SV_EVENT_MESSAGE_MAX];
	sv_event ev;
	sv_event_job j;

	(void)s;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	j = a_job(SV_JOB_FAILED, "SV_EIO", big);
	sv_event_format(&ev, &j);
	assert_int_equal(strlen(ev.strings[SV_EVENT_S_MESSAGE]), SV_EVENT_MESSAGE_MAX - 1);
}

static void test_events__syslog_line_names_everything(void **s)
{
	char line[2048];
	sv_event ev;
	sv_event_job j = a_job(SV_JOB_FAILED, "PF006",
			       "preflight PF006 failed: 2 GiB free on C:, 40 GiB needed; free space");

	(void)s;
	sv_event_format(&ev, &j);
	sv_event_line(line, sizeof(line), &ev);
	assert_string_equal(line, "job 42 backup failed a preflight check (event 1004): 35 s, "
			    "1048576 bytes read, 4096 stored; code PF006: preflight PF006 "
			    "failed: 2 GiB free on C:, 40 GiB needed; free space");
}

static void test_events__syslog_line_for_each_outcome(void **s)
{
	static const struct {
		const char *state, *words;
	} cases[] = {
		{ SV_JOB_COMPLETED, "job 42 backup completed (event 1000)" },
		{ SV_JOB_WARNINGS, "job 42 backup completed with warnings (event 1001)" },
		{ SV_JOB_FAILED, "job 42 backup failed (event 1002)" },
		{ SV_JOB_CANCELLED, "job 42 backup was cancelled (event 1003)" },
	};
	char line[2048];
	sv_event ev;
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sv_event_job j = a_job(cases[i].state, NULL, NULL);

		sv_event_format(&ev, &j);
		sv_event_line(line, sizeof(line), &ev);
		assert_int_equal(strncmp(line, cases[i].words, strlen(cases[i].words)), 0);
	}
}

/* The platform writer takes an event of every level: syslog() on POSIX;
 * on Windows ReportEventW (Wine accepts the call and keeps no log). */
static void test_events__report_accepts_every_level(void **s)
{
	static const char *const states[] = { SV_JOB_COMPLETED, SV_JOB_WARNINGS,
					      SV_JOB_FAILED, SV_JOB_CANCELLED };
	sv_event ev;
	size_t i;

	(void)s;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		sv_event_job j = a_job(states[i], "TEST", "test event from test_agent_events");

		j.kind = "test";
		sv_event_format(&ev, &j);
		sv_assert_ok(sv_event_report(&ev));
	}
}

#ifdef _WIN32
/* Renders message id of the table in sysvault.exe with ev's insertion
 * strings, as Event Viewer does; returns the text in UTF-8 (static). */
static const char *render(HMODULE exe, const sv_event *ev)
{
	static char out[4096];
	wchar_t w[SV_EVENT_NSTRINGS][SV_EVENT_MESSAGE_MAX], *text = NULL;
	DWORD_PTR args[SV_EVENT_NSTRINGS];
	int i;

	for (i = 0; i < SV_EVENT_NSTRINGS; i++) {
		assert_true(MultiByteToWideChar(CP_UTF8, 0, ev->strings[i], -1, w[i],
						SV_EVENT_MESSAGE_MAX) > 0);
		args[i] = (DWORD_PTR)w[i];
	}
	if (!FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY |
			    FORMAT_MESSAGE_ALLOCATE_BUFFER, exe, ev->id, 0, (LPWSTR)&text, 0,
			    (va_list *)args))
		fail_msg("message %lu is not in sysvault.exe's message table (error %lu)",
			 (unsigned long)ev->id, (unsigned long)GetLastError());
	WideCharToMultiByte(CP_UTF8, 0, text, -1, out, sizeof(out), NULL, NULL);
	LocalFree(text);
	return out;
}

/* sysvault.exe carries a message for every ID, and each names the job
 * with its insertion strings: what Event Viewer shows. */
static void test_events__message_table_renders_every_id(void **s)
{
	static const struct {
		const char *state, *code, *want;
	} cases[] = {
		{ SV_JOB_COMPLETED, NULL, "sysvault job 42 (backup) completed in 35 s: 1048576 "
					  "bytes read, 4096 bytes stored." },
		{ SV_JOB_WARNINGS, NULL, "Warning: the staging volume was not trimmed" },
		{ SV_JOB_FAILED, "WSB_VSS_TIMEOUT", "Error code: WSB_VSS_TIMEOUT" },
		{ SV_JOB_CANCELLED, NULL, "sysvault job 42 (backup) was cancelled after 35 s" },
		{ SV_JOB_FAILED, "PF006", "stopped by preflight check PF006 after 35 s" },
	};
	wchar_t path[1024];
	HMODULE exe;
	sv_event ev;
	size_t i;

	(void)s;
	assert_true(MultiByteToWideChar(CP_UTF8, 0, SV_SYSVAULT_EXE, -1, path, 1024) > 0);
	exe = LoadLibraryExW(path, NULL, LOAD_LIBRARY_AS_DATAFILE);
	assert_non_null(exe);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sv_event_job j = a_job(cases[i].state, cases[i].code,
				       "the staging volume was not trimmed");
		const char *text;

		sv_event_format(&ev, &j);
		text = render(exe, &ev);
		if (!strstr(text, cases[i].want))
			fail_msg("message %lu reads \"%s\", without \"%s\"",
				 (unsigned long)ev.id, text, cases[i].want);
	}
	FreeLibrary(exe);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events__id_for_each_outcome),
		cmocka_unit_test(test_events__only_a_check_id_is_a_preflight_failure),
		cmocka_unit_test(test_events__level_follows_outcome),
		cmocka_unit_test(test_events__insertion_strings_in_table_order),
		cmocka_unit_test(test_events__missing_code_and_message_are_dashes),
		cmocka_unit_test(test_events__message_is_one_redacted_line),
		cmocka_unit_test(test_events__long_message_is_cut_not_overrun),
		cmocka_unit_test(test_events__syslog_line_names_everything),
		cmocka_unit_test(test_events__syslog_line_for_each_outcome),
		cmocka_unit_test(test_events__report_accepts_every_level),
#ifdef _WIN32
		cmocka_unit_test(test_events__message_table_renders_every_id),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
