/*
 * test_sv_eventlog.c - the parser of Windows Server Backup events (on every
 * platform) and the event log query (Windows; POSIX has no such log).
 *
 * The samples follow the Event schema as EvtRender(EvtRenderEventXml)
 * writes it, with the data items the Microsoft-Windows-Backup manifest
 * declares for its events (BackupTemplateID, HRESULT, DetailedHRESULT,
 * ErrorMessage, BackupState, ...). Version 0 of the manifest types HRESULT
 * as UInt32 (rendered in decimal), later versions as HexInt32 ("0x...").
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_eventlog.h"
#include "sv_time.h"

#define EV_HEAD \
	"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
#define EV_SYSTEM(id, time) \
	"<System><Provider Name='Microsoft-Windows-Backup'/>" \
	"<EventID>" id "</EventID><Version>3</Version><Level>4</Level>" \
	"<Task>0</Task><Opcode>2</Opcode>" \
	"<Keywords>0x8000000000000000</Keywords>" \
	"<TimeCreated SystemTime='" time "'/>" \
	"<EventRecordID>4711</EventRecordID><Correlation/>" \
	"<Execution ProcessID='2168' ThreadID='3320'/>" \
	"<Channel>Microsoft-Windows-Backup</Channel>" \
	"<Computer>SRV-DC01.corp.example</Computer>" \
	"<Security UserID='S-1-5-18'/></System>"
#define EV_TIME "2026-11-21T02:31:07.1234567Z"

/* A completed, successful system-state backup (manifest version 3). */
static const char event14_ok[] =
	EV_HEAD EV_SYSTEM("14", EV_TIME)
	"<EventData>"
	"<Data Name='BackupTemplateID'>"
	"{7d5a2c1e-3b4f-4e6a-9c8d-0f1e2d3c4b5a}</Data>"
	"<Data Name='HRESULT'>0x0</Data>"
	"<Data Name='DetailedHRESULT'>0x0</Data>"
	"<Data Name='ErrorMessage'></Data>"
	"<Data Name='BackupState'>11</Data>"
	"<Data Name='BackupTime'>2026-11-21T02:00:14.0000000Z</Data>"
	"<Data Name='BackupTarget'>\\\\?\\Volume{0b1c2d3e-4f50-6172-8394-"
	"a5b6c7d8e9f0}\\</Data>"
	"<Data Name='SystemStateBackup'>true</Data>"
	"<Data Name='BackupSuccessLogPath'>C:\\Windows\\Logs\\"
	"WindowsServerBackup\\Backup-21-11-2026_02-00-14.log</Data>"
	"</EventData></Event>";

static int64_t ev_time(const char *s)
{
	int64_t t = 0;

	sv_assert_ok(sv_time_parse_utc(&t, s));
	return t;
}

static int parse(const char *xml, uint32_t *id, uint32_t *hr, int64_t *when)
{
	return sv_eventlog_parse_xml(xml, id, hr, when);
}

/* ---- well-formed events ---- */

static void test_eventlog__event14_success_hex_hresult(void **s)
{
	uint32_t id = 99, hr = 99;
	int64_t when = 0;

	(void)s;
	sv_assert_ok(parse(event14_ok, &id, &hr, &when));
	assert_int_equal(id, SV_WSB_EVENT_COMPLETED);
	assert_int_equal(hr, 0);
	assert_true(when == ev_time("2026-11-21T02:31:07Z"));
}

/* Version 0 renders HRESULT in decimal; DetailedHRESULT comes first and
 * must not be taken for it; attributes in double quotes; an EventID with
 * Qualifiers, as classic-style events carry. */
static void test_eventlog__event14_decimal_hresult(void **s)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?>\r\n<Event xmlns=\"http://schemas."
		"microsoft.com/win/2004/08/events/event\">\r\n <System>\r\n"
		"  <Provider Name=\"Microsoft-Windows-Backup\" />\r\n"
		"  <EventID Qualifiers=\"0\">14</EventID>\r\n"
		"  <TimeCreated SystemTime=\"2026-07-18T11:32:40.5000000Z\" />"
		"\r\n </System>\r\n <EventData>\r\n"
		"  <Data Name=\"DetailedHRESULT\">2147942405</Data>\r\n"
		"  <Data Name=\"HRESULT\"> 2155348010 </Data>\r\n"
		" </EventData>\r\n</Event>\r\n";
	uint32_t id, hr;
	int64_t when;

	(void)s;
	sv_assert_ok(parse(xml, &id, &hr, &when));
	assert_int_equal(id, 14);
	assert_int_equal(hr, 0x8078002Au);
	assert_true(when == ev_time("2026-07-18T11:32:40Z"));
}

/* The name is matched without regard to case ("HResult" as some tools
 * print it), and hex digits in either case. */
static void test_eventlog__event5_hresult_name_any_case(void **s)
{
	static const char xml[] =
		EV_HEAD EV_SYSTEM("5", "2026-11-21T03:00:00Z")
		"<EventData><Data Name='BackupTemplateID'>{}</Data>"
		"<Data Name='HResult'>0x8078011e</Data>"
		"<Data Name='DetailedHResult'>0x80070005</Data>"
		"</EventData></Event>";
	uint32_t id, hr;
	int64_t when;

	(void)s;
	sv_assert_ok(parse(xml, &id, &hr, &when));
	assert_int_equal(id, SV_WSB_EVENT_FAILED);
	assert_int_equal(hr, 0x8078011Eu);
	assert_true(when == ev_time("2026-11-21T03:00:00Z"));
}

/* An Int32 rendering of a failure HRESULT is its two's complement. */
static void test_eventlog__negative_decimal_hresult(void **s)
{
	static const char xml[] =
		EV_HEAD EV_SYSTEM("9", EV_TIME)
		"<EventData><Data Name='HRESULT'>-2139619042</Data>"
		"</EventData></Event>";
	uint32_t id, hr;
	int64_t when;

	(void)s;
	sv_assert_ok(parse(xml, &id, &hr, &when));
	assert_int_equal(id, SV_WSB_EVENT_VSS_FAILED);
	assert_int_equal(hr, 0x8078011Eu);
}

static void test_eventlog__event4_needs_no_hresult(void **s)
{
	static const char xml[] =
		EV_HEAD EV_SYSTEM("4", EV_TIME)
		"<EventData><Data Name='BackupState'>11</Data></EventData>"
		"</Event>";
	uint32_t id, hr = 99;
	int64_t when;

	(void)s;
	sv_assert_ok(parse(xml, &id, &hr, &when));
	assert_int_equal(id, SV_WSB_EVENT_SUCCEEDED);
	assert_int_equal(hr, 0);
}

/* Markup quoted inside another item arrives escaped and is never read as
 * an element. */
static void test_eventlog__escaped_markup_is_text(void **s)
{
	static const char xml[] =
		EV_HEAD EV_SYSTEM("14", EV_TIME)
		"<EventData><Data Name='ErrorMessage'>&lt;Data Name='HRESULT'"
		"&gt;0x0&lt;/Data&gt; &lt;EventID&gt;4&lt;/EventID&gt;</Data>"
		"<Data Name='HRESULT'>0x80042302</Data></EventData></Event>";
	uint32_t id, hr;
	int64_t when;

	(void)s;
	sv_assert_ok(parse(xml, &id, &hr, &when));
	assert_int_equal(id, 14);
	assert_int_equal(hr, 0x80042302u);
}

/* ---- malformed events ---- */

static void expect_corrupt(const char *xml)
{
	uint32_t id = 1, hr = 1;
	int64_t when = 1;

	assert_int_equal(parse(xml, &id, &hr, &when), SV_ECORRUPT);
	assert_int_equal(sv_error_code(), SV_ECORRUPT);
	assert_int_equal(id, 0);
	assert_int_equal(hr, 0);
	assert_true(when == 0);
}

static void test_eventlog__missing_hresult_is_corrupt(void **s)
{
	(void)s;
	expect_corrupt(EV_HEAD EV_SYSTEM("14", EV_TIME)
		       "<EventData><Data Name='DetailedHRESULT'>0x0</Data>"
		       "</EventData></Event>");
	assert_non_null(strstr(sv_error_msg(), "no HRESULT"));
	expect_corrupt(EV_HEAD EV_SYSTEM("5", EV_TIME) "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("14", EV_TIME)
		       "<EventData><Data Name='HRESULT'/></EventData></Event>");
}

static void test_eventlog__missing_system_is_corrupt(void **s)
{
	(void)s;
	expect_corrupt(EV_HEAD "<System><EventID>14</EventID></System>"
		       "<EventData><Data Name='HRESULT'>0x0</Data></EventData>"
		       "</Event>");
	assert_non_null(strstr(sv_error_msg(), "TimeCreated"));
	expect_corrupt(EV_HEAD "<System><TimeCreated SystemTime='" EV_TIME
		       "'/></System><EventData><Data Name='HRESULT'>0x0"
		       "</Data></EventData></Event>");
	assert_non_null(strstr(sv_error_msg(), "EventID"));
	expect_corrupt(EV_HEAD "<EventData><Data Name='HRESULT'>0x0</Data>"
		       "</EventData></Event>");
	expect_corrupt("");
	expect_corrupt("not xml at all");
}

static void test_eventlog__malformed_values_are_corrupt(void **s)
{
	static const char *const hresults[] = {
		"0xZZ", "0x1FFFFFFFF", "", "12abc", "0x", "-", "4294967296",
		"-2147483649", "0x0000000000000", "+5",
	};
	size_t i;
	char *xml;

	(void)s;
	for (i = 0; i < sizeof(hresults) / sizeof(hresults[0]); i++) {
		xml = sv_aprintf(EV_HEAD EV_SYSTEM("14", EV_TIME)
				 "<EventData><Data Name='HRESULT'>%s</Data>"
				 "</EventData></Event>", hresults[i]);
		assert_non_null(xml);
		expect_corrupt(xml);
		free(xml);
	}
	expect_corrupt(EV_HEAD EV_SYSTEM("70000", EV_TIME) "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("x", EV_TIME) "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("14", "2026-11-21 02:31:07Z")
		       "<EventData><Data Name='HRESULT'>0x0</Data></EventData>"
		       "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("14", "2026-13-21T02:31:07Z")
		       "<EventData><Data Name='HRESULT'>0x0</Data></EventData>"
		       "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("14", "2026-11-21T02:31:07.12x4Z")
		       "<EventData><Data Name='HRESULT'>0x0</Data></EventData>"
		       "</Event>");
	expect_corrupt(EV_HEAD EV_SYSTEM("14", "2026-11-21T02:31:07")
		       "<EventData><Data Name='HRESULT'>0x0</Data></EventData>"
		       "</Event>");
}

/* Every prefix of a real event parses or is reported corrupt; none reads
 * past its end (the sanitizers and Wine's heap checks watch that). */
static void test_eventlog__every_truncation_is_safe(void **s)
{
	size_t n = strlen(event14_ok), i;
	uint32_t id, hr;
	int64_t when;
	char *copy;
	int rc;

	(void)s;
	for (i = 0; i <= n; i++) {
		copy = sv_strndup(event14_ok, i);
		assert_non_null(copy);
		rc = parse(copy, &id, &hr, &when);
		assert_true(rc == 0 || rc == SV_ECORRUPT);
		if (i < (size_t)(strstr(event14_ok, "0x0</Data>") -
				 event14_ok))
			assert_int_equal(rc, SV_ECORRUPT);
		free(copy);
	}
}

static void test_eventlog__oversized_input_rejected(void **s)
{
	char *big = malloc(SV_EVENTLOG_XML_MAX + 2);
	uint32_t id, hr;
	int64_t when;

	(void)s;
	assert_non_null(big);
	memset(big, ' ', SV_EVENTLOG_XML_MAX + 1);
	big[SV_EVENTLOG_XML_MAX + 1] = '\0';
	assert_int_equal(parse(big, &id, &hr, &when), SV_EINVAL);
	free(big);
}

/* ---- the event log ---- */

#ifdef _WIN32
/* Under Wine EvtQuery is a stub; on Windows without the Windows Server
 * Backup feature the channel does not exist; with it, the newest result
 * since the epoch (if any run ever happened) comes back. */
static void test_eventlog__backup_result_from_the_log(void **s)
{
	uint32_t id = 99, hr = 99;
	int64_t when = -1;
	int rc;

	(void)s;
	rc = sv_eventlog_backup_result(0, &id, &hr, &when);
	if (rc == SV_ENOTSUPPORTED) {
		print_message("EvtQuery does not work here (Wine lacks it): "
			      "%s\n", sv_error_msg());
		assert_non_null(strstr(sv_error_msg(), "EvtQuery"));
		skip();
	}
	if (rc == SV_ENOTFOUND) {
		print_message("no backup result in the log: %s\n",
			      sv_error_msg());
		assert_non_null(strstr(sv_error_msg(), SV_EVENTLOG_CHANNEL));
		assert_int_equal(id, 0);
		return;
	}
	sv_assert_ok(rc);
	print_message("newest backup result: event %u, HRESULT 0x%08x\n",
		      (unsigned)id, (unsigned)hr);
	assert_true(id == 4 || id == 5 || id == 8 || id == 9 || id == 14);
	assert_true(when > 0);
}
#else
static void test_eventlog__backup_result_not_supported(void **s)
{
	uint32_t id = 99, hr = 99;
	int64_t when = 99;

	(void)s;
	assert_int_equal(sv_eventlog_backup_result(0, &id, &hr, &when),
			 SV_ENOTSUPPORTED);
	assert_non_null(strstr(sv_error_msg(), SV_EVENTLOG_CHANNEL));
	assert_int_equal(id, 0);
	assert_int_equal(hr, 0);
	assert_true(when == 0);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eventlog__event14_success_hex_hresult),
		cmocka_unit_test(test_eventlog__event14_decimal_hresult),
		cmocka_unit_test(test_eventlog__event5_hresult_name_any_case),
		cmocka_unit_test(test_eventlog__negative_decimal_hresult),
		cmocka_unit_test(test_eventlog__event4_needs_no_hresult),
		cmocka_unit_test(test_eventlog__escaped_markup_is_text),
		cmocka_unit_test(test_eventlog__missing_hresult_is_corrupt),
		cmocka_unit_test(test_eventlog__missing_system_is_corrupt),
		cmocka_unit_test(test_eventlog__malformed_values_are_corrupt),
		cmocka_unit_test(test_eventlog__every_truncation_is_safe),
		cmocka_unit_test(test_eventlog__oversized_input_rejected),
#ifdef _WIN32
		cmocka_unit_test(test_eventlog__backup_result_from_the_log),
#else
		cmocka_unit_test(test_eventlog__backup_result_not_supported),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
