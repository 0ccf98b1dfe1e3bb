/*
 * events.h - one event per finished job in the operating system's log:
 * the Windows Application log (source "sysvault", messages from the
 * message table agent/events_msg.mc linked into sysvault.exe) or syslog /
 * journald elsewhere. docs/events.md lists the IDs and their fields.
 *
 * events.c chooses the ID and formats the insertion strings and the
 * syslog line (portable, unit-tested everywhere); events_win.c and
 * events_posix.c hand them to the platform.
 */
#ifndef SV_EVENTS_H
#define SV_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* The documented event IDs; agent/events_msg.mc declares the same numbers
 * (events_win.c checks that at compile time). New IDs only at the end. */
enum {
	SV_EVENT_COMPLETED = 1000,
	SV_EVENT_WARNINGS = 1001,
	SV_EVENT_FAILED = 1002,
	SV_EVENT_CANCELLED = 1003,
	SV_EVENT_PREFLIGHT_FAILED = 1004
};

/* How the log should rank an event. */
typedef enum sv_event_level {
	SV_EVENT_INFO,
	SV_EVENT_WARNING,
	SV_EVENT_ERROR
} sv_event_level;

/* A finished job as the event reports it. Strings are borrowed. */
typedef struct sv_event_job {
	int64_t id;
	const char *kind;     /* "backup", "restore", "check", ... */
	const char *state;    /* SV_JOB_COMPLETED, _WARNINGS, _FAILED, _CANCELLED */
	const char *code;     /* stable error code, or NULL */
	const char *message;  /* one line: the error and its fix, or NULL */
	uint64_t duration_s;
	uint64_t bytes_read, bytes_stored;
} sv_event_job;

/* The insertion strings %1..%7 of every message in events_msg.mc. */
enum {
	SV_EVENT_S_JOB,
	SV_EVENT_S_KIND,
	SV_EVENT_S_DURATION,
	SV_EVENT_S_BYTES_READ,
	SV_EVENT_S_BYTES_STORED,
	SV_EVENT_S_CODE,
	SV_EVENT_S_MESSAGE,
	SV_EVENT_NSTRINGS
};

#define SV_EVENT_MESSAGE_MAX 1024

/* One formatted event: its ID, level and insertion strings (pointing
 * into the struct itself or at the job's kind). */
typedef struct sv_event {
	uint32_t id;
	sv_event_level level;
	const char *strings[SV_EVENT_NSTRINGS];
	char num[4][24];                    /* job id, duration, bytes */
	char code[64];
	char message[SV_EVENT_MESSAGE_MAX]; /* redacted, one line */
} sv_event;

/*
 * The event ID for a job's end: SV_EVENT_PREFLIGHT_FAILED for a failure
 * whose code is a preflight check's (PF0xx), SV_EVENT_FAILED for any other
 * failure or an unknown state.
 */
uint32_t sv_event_id(const char *state, const char *code);

/* Fills ev from j: ID, level, and the insertion strings ("-" for a missing
 * code or message; the message redacted and cut at its first line break
 * or at SV_EVENT_MESSAGE_MAX). */
void sv_event_format(sv_event *ev, const sv_event_job *j);

/* The syslog line for ev, e.g. "job 7 backup failed (event 1002): 35 s,
 * 1048576 bytes read, 0 stored; WSB_VSS: <message>". Truncated to size. */
void sv_event_line(char *buf, size_t size, const sv_event *ev);

/*
 * Writes ev to the system log: ReportEventW under the source "sysvault"
 * on Windows, syslog() with the level's priority elsewhere (events_win.c,
 * events_posix.c). Returns 0, or an sv_err (the sv_error says why) when
 * the log refused it; a job's outcome never depends on it.
 */
int sv_event_report(const sv_event *ev);

/*
 * What a job's end calls: sv_event_report(), and when $SYSVAULT_EVENT_FILE
 * names a file, also appends the syslog line to it (created if missing),
 * for tests and for collectors that read a plain file. Returns the first
 * failure.
 */
int sv_event_write(const sv_event *ev);

#endif
