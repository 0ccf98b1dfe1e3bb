/*
 * sv_eventlog.h - what Windows Server Backup wrote in the event log about a
 * run: language-neutral evidence of success or failure (event IDs and the
 * HRESULT), read instead of wbadmin's localised text.
 *
 * The events live in the channel SV_EVENTLOG_CHANNEL, written by the
 * provider of the same name:
 *    4  the backup finished successfully
 *    5  the backup failed (HRESULT: the error)
 *    8  the backup was cancelled
 *    9  the backup failed because the volume shadow copy failed
 *   14  the backup operation has completed; written for every run, with
 *       the HRESULT of the run (0 = success)
 *
 * Windows (sv_eventlog_win.c) queries the log through wevtapi; elsewhere
 * (sv_eventlog_posix.c) there is no such log and the query returns
 * SV_ENOTSUPPORTED. The parser of one rendered event (sv_eventlog_parse.c)
 * is portable and tested on every platform.
 */
#ifndef SV_EVENTLOG_H
#define SV_EVENTLOG_H

#include <stdint.h>
#include "sv_error.h"

#define SV_EVENTLOG_CHANNEL "Microsoft-Windows-Backup"

enum {
	SV_WSB_EVENT_SUCCEEDED = 4,
	SV_WSB_EVENT_FAILED = 5,
	SV_WSB_EVENT_CANCELLED = 8,
	SV_WSB_EVENT_VSS_FAILED = 9,
	SV_WSB_EVENT_COMPLETED = 14
};

/* The largest rendered event accepted, in bytes. */
#define SV_EVENTLOG_XML_MAX ((size_t)1 << 20)

/*
 * The result of the newest backup run recorded at or after since_unix
 * (seconds since the Unix epoch, UTC): the newest event 14 when there is
 * one, since it is written for every run and carries the run's HRESULT;
 * otherwise the newest of events 4, 5, 8 and 9. Fills *event_id, *hresult
 * (0 = success; see sv_eventlog_parse_xml() for events without one) and
 * *when (the event's time, Unix seconds).
 *
 * Returns 0; SV_ENOTFOUND when no such event exists since since_unix, or
 * when the channel does not exist (Windows Server Backup not installed; the
 * message names the channel); SV_ECORRUPT when the only events found could
 * not be parsed; SV_EACCESS when the log cannot be read; SV_ENOTSUPPORTED
 * where there is no event log API (POSIX, Wine).
 */
int sv_eventlog_backup_result(int64_t since_unix, uint32_t *event_id,
			      uint32_t *hresult, int64_t *when);

/*
 * Parses one event rendered as XML (EvtRender's EvtRenderEventXml, UTF-8,
 * NUL-terminated, at most SV_EVENTLOG_XML_MAX bytes): the text of
 * System/EventID, the SystemTime attribute of System/TimeCreated
 * ("2026-11-21T02:31:07.1234567Z", fraction dropped) and the data item
 * named "HRESULT" (matched without regard to case, so "HResult" too) as hex
 * ("0x8078011E") or decimal ("2155348010", or negative as an Int32).
 *
 * The provider's manifest declares HRESULT (and DetailedHRESULT, not read
 * here) in events 4, 5, 8, 9 and 14. When the item is missing, event 4
 * (success by definition) gives *hresult 0 and every other event
 * SV_ECORRUPT: a run's outcome is never guessed.
 *
 * Returns 0; SV_ECORRUPT for a missing or malformed EventID, TimeCreated or
 * required HRESULT; SV_EINVAL for input longer than SV_EVENTLOG_XML_MAX.
 * The outputs are zeroed on failure.
 */
int sv_eventlog_parse_xml(const char *xml, uint32_t *event_id,
			  uint32_t *hresult, int64_t *when);

#endif
