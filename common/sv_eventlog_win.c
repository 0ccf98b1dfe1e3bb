/*
 * sv_eventlog_win.c - Windows Server Backup's result events, read with the
 * Windows Event Log API (wevtapi): EvtQuery on the channel, newest first,
 * EvtNext in batches, EvtRender to XML, and the portable parser of
 * sv_eventlog_parse.c.
 */
#include <windows.h>
#include <winevt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_eventlog.h"
#include "sv_buf.h"
#include "sv_time.h"

#define EL_CHANNEL_W L"Microsoft-Windows-Backup"

/* Events fetched per EvtNext, and examined at most: a run writes a handful,
 * so this bounds the work when since_unix is far in the past. */
#define EL_BATCH 16
#define EL_MAX_EVENTS 256

/* EvtNext on a local channel answers at once; this only bounds a hang. */
#define EL_NEXT_TIMEOUT_MS 30000

/* One event kept while scanning. */
typedef struct el_event {
	int set;
	uint32_t id, hresult;
	int64_t when;
} el_event;

typedef struct el_scan_state {
	el_event completed;   /* the newest event 14 */
	el_event other;       /* the newest of 4, 5, 8, 9 */
	int unparsed;         /* events whose XML could not be parsed */
	char unparsed_msg[256];
} el_scan_state;

/* ---- errors ---- */

static int el_code(DWORD e)
{
	switch (e) {
	case ERROR_EVT_CHANNEL_NOT_FOUND:
	case ERROR_EVT_INVALID_CHANNEL_PATH:
		return SV_ENOTFOUND;
	case ERROR_ACCESS_DENIED:
		return SV_EACCESS;
	case ERROR_CALL_NOT_IMPLEMENTED:
	case ERROR_NOT_SUPPORTED:
		return SV_ENOTSUPPORTED;
	case ERROR_TIMEOUT:
		return SV_ETIMEOUT;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return SV_ENOMEM;
	case ERROR_EVT_INVALID_QUERY:
		return SV_EINVAL;
	default:
		return SV_EIO;
	}
}

/* "<what> on the event log '<channel>': <OS text>" for error e. */
static int el_fail(DWORD e, const char *what)
{
	SetLastError(e);
	return sv_error_set_os(el_code(e), "%s on the event log '%s'", what,
			       SV_EVENTLOG_CHANNEL);
}

/* ---- the query ---- */

/* The XPath filter: the result events at or after since_unix. */
static int el_xpath(wchar_t *dst, size_t n, int64_t since_unix)
{
	char q[256];
	sv_tm tm;
	int rc;

	sv_time_to_tm(&tm, since_unix < 0 ? 0 : since_unix);
	rc = sv_snprintf(q, sizeof(q),
			 "*[System[(EventID=%d or EventID=%d or EventID=%d or "
			 "EventID=%d or EventID=%d) and TimeCreated[@SystemTime"
			 ">='%04d-%02d-%02dT%02d:%02d:%02d.000Z']]]",
			 SV_WSB_EVENT_COMPLETED, SV_WSB_EVENT_SUCCEEDED,
			 SV_WSB_EVENT_FAILED, SV_WSB_EVENT_CANCELLED,
			 SV_WSB_EVENT_VSS_FAILED, tm.year, tm.month, tm.day,
			 tm.hour, tm.min, tm.sec);
	if (rc != 0)
		return rc;
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, q, -1, dst,
				(int)n) <= 0)
		return sv_error_set(SV_EINVAL, "event query too long");
	return 0;
}

static int el_query(EVT_HANDLE *out, int64_t since_unix)
{
	wchar_t xpath[256];
	DWORD e;
	int rc;

	*out = NULL;
	if ((rc = el_xpath(xpath, sizeof(xpath) / sizeof(xpath[0]),
			   since_unix)) != 0)
		return rc;
	SetLastError(ERROR_SUCCESS);
	*out = EvtQuery(NULL, EL_CHANNEL_W, xpath,
			EvtQueryChannelPath | EvtQueryReverseDirection);
	if (*out != NULL)
		return 0;
	e = GetLastError();
	if (e == ERROR_EVT_CHANNEL_NOT_FOUND ||
	    e == ERROR_EVT_INVALID_CHANNEL_PATH)
		return sv_error_set(SV_ENOTFOUND, "the event log channel '%s' "
				    "does not exist (is Windows Server Backup "
				    "installed?)", SV_EVENTLOG_CHANNEL);
	/* Wine's EvtQuery is a stub that fails without setting an error. */
	if (e == ERROR_SUCCESS)
		return sv_error_set(SV_ENOTSUPPORTED, "EvtQuery is not "
				    "implemented here: the event log '%s' "
				    "cannot be read", SV_EVENTLOG_CHANNEL);
	return el_fail(e, "EvtQuery");
}

/* ---- one event ---- */

/* The event as new UTF-8 XML. */
static int el_render(char **out, EVT_HANDLE ev)
{
	wchar_t *w = NULL;
	char *xml = NULL;
	DWORD used = 0, props = 0, e;
	int n, rc = 0;

	*out = NULL;
	if (EvtRender(NULL, ev, EvtRenderEventXml, 0, NULL, &used, &props)) {
		rc = sv_error_set(SV_ECORRUPT, "an event in '%s' renders as "
				  "nothing", SV_EVENTLOG_CHANNEL);
		goto done;
	}
	if ((e = GetLastError()) != ERROR_INSUFFICIENT_BUFFER) {
		rc = el_fail(e, "EvtRender");
		goto done;
	}
	if (used > 2 * SV_EVENTLOG_XML_MAX) {
		rc = sv_error_set(SV_EINVAL, "an event in '%s' is larger than "
				  "%zu bytes", SV_EVENTLOG_CHANNEL,
				  SV_EVENTLOG_XML_MAX);
		goto done;
	}
	if ((w = sv_calloc((size_t)used / sizeof(wchar_t) + 1,
			   sizeof(wchar_t))) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if (!EvtRender(NULL, ev, EvtRenderEventXml, used, w, &used, &props)) {
		rc = el_fail(GetLastError(), "EvtRender");
		goto done;
	}
	n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (n <= 0 || (xml = sv_malloc((size_t)n)) == NULL) {
		rc = n <= 0 ? sv_error_set(SV_ECORRUPT, "an event in '%s' is "
					   "not valid UTF-16",
					   SV_EVENTLOG_CHANNEL)
			    : SV_ENOMEM;
		goto done;
	}
	WideCharToMultiByte(CP_UTF8, 0, w, -1, xml, n, NULL, NULL);
	*out = xml;
	xml = NULL;
done:
	free(w);
	free(xml);
	return rc;
}

/* Renders and parses ev into s; an event that does not parse is counted
 * and skipped, since a newer or older one may still decide. */
static int el_take(el_scan_state *s, EVT_HANDLE ev)
{
	el_event e = {1, 0, 0, 0};
	char *xml = NULL;
	int rc;

	if ((rc = el_render(&xml, ev)) != 0)
		goto done;
	rc = sv_eventlog_parse_xml(xml, &e.id, &e.hresult, &e.when);
	if (rc == SV_ECORRUPT) {
		if (s->unparsed++ == 0)
			sv_strlcpy(s->unparsed_msg, sv_error_msg(),
				   sizeof(s->unparsed_msg));
		rc = 0;
		goto done;
	}
	if (rc != 0)
		goto done;
	if (e.id == SV_WSB_EVENT_COMPLETED)
		s->completed = e;
	else if (!s->other.set)
		s->other = e;   /* newest first: keep the first one seen */
done:
	free(xml);
	return rc;
}

/* Reads events, newest first, until an event 14 is found, the events run
 * out, or EL_MAX_EVENTS have been looked at. */
static int el_scan(el_scan_state *s, EVT_HANDLE q)
{
	EVT_HANDLE evs[EL_BATCH];
	DWORD got, i, e;
	int seen = 0, rc = 0;

	while (rc == 0 && !s->completed.set && seen < EL_MAX_EVENTS) {
		got = 0;
		if (!EvtNext(q, EL_BATCH, evs, EL_NEXT_TIMEOUT_MS, 0, &got)) {
			e = GetLastError();
			if (e != ERROR_NO_MORE_ITEMS)
				rc = el_fail(e, "EvtNext");
			break;
		}
		for (i = 0; i < got; i++) {
			if (rc == 0 && !s->completed.set)
				rc = el_take(s, evs[i]);
			EvtClose(evs[i]);
		}
		seen += (int)got;
	}
	return rc;
}

/* The decision of sv_eventlog_backup_result() from what the scan kept. */
static int el_pick(const el_scan_state *s, int64_t since_unix,
		   uint32_t *event_id, uint32_t *hresult, int64_t *when)
{
	const el_event *e = s->completed.set ? &s->completed : &s->other;
	char t[32];

	if (e->set) {
		*event_id = e->id;
		*hresult = e->hresult;
		*when = e->when;
		return 0;
	}
	if (s->unparsed > 0)
		return sv_error_set(SV_ECORRUPT, "%d event(s) in '%s' could "
				    "not be read: %s", s->unparsed,
				    SV_EVENTLOG_CHANNEL, s->unparsed_msg);
	sv_time_format_utc(t, sizeof(t), since_unix < 0 ? 0 : since_unix);
	return sv_error_set(SV_ENOTFOUND, "no Windows Server Backup result "
			    "event (ID 14, 4, 5, 8 or 9) in '%s' since %s",
			    SV_EVENTLOG_CHANNEL, t);
}

int sv_eventlog_backup_result(int64_t since_unix, uint32_t *event_id,
			      uint32_t *hresult, int64_t *when)
{
	EVT_HANDLE q = NULL;
	el_scan_state s;
	int rc;

	memset(&s, 0, sizeof(s));
	*event_id = 0;
	*hresult = 0;
	*when = 0;
	if ((rc = el_query(&q, since_unix)) != 0)
		goto done;
	if ((rc = el_scan(&s, q)) != 0)
		goto done;
	rc = el_pick(&s, since_unix, event_id, hresult, when);
done:
	if (q != NULL)
		EvtClose(q);
	return rc;
}
