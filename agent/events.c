/*
 * events.c - the portable half of the job events: which ID a job's end
 * gets, and the text that goes with it. events_win.c / events_posix.c
 * write it to the platform's log.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"

uint32_t sv_event_id(const char *state, const char *code)
{
	if (!state)
		return SV_EVENT_FAILED;
	if (!strcmp(state, SV_JOB_COMPLETED))
		return SV_EVENT_COMPLETED;
	if (!strcmp(state, SV_JOB_WARNINGS))
		return SV_EVENT_WARNINGS;
	if (!strcmp(state, SV_JOB_CANCELLED))
		return SV_EVENT_CANCELLED;
	/* A preflight check's id: "PF" and three digits (docs/preflight.md). */
	if (code && !strncmp(code, "PF", 2) && strlen(code) == 5 &&
	    strspn(code + 2, "0123456789") == 3)
		return SV_EVENT_PREFLIGHT_FAILED;
	return SV_EVENT_FAILED;
}

static sv_event_level level_of(uint32_t id)
{
	switch (id) {
	case SV_EVENT_COMPLETED:
		return SV_EVENT_INFO;
	case SV_EVENT_WARNINGS:
	case SV_EVENT_CANCELLED:
		return SV_EVENT_WARNING;
	default:
		return SV_EVENT_ERROR;
	}
}

/* Copies s (or "-" when it is empty) into buf as one redacted line. */
static void one_line(char *buf, size_t size, const char *s)
{
	char *nl;

	sv_strlcpy(buf, s && s[0] ? s : "-", size);
	if ((nl = strpbrk(buf, "\r\n")) != NULL)
		*nl = '\0';
	sv_redact(buf);
}

void sv_event_format(sv_event *ev, const sv_event_job *j)
{
	memset(ev, 0, sizeof(*ev));
	ev->id = sv_event_id(j->state, j->code);
	ev->level = level_of(ev->id);
	snprintf(ev->num[0], sizeof(ev->num[0]), "%" PRId64, j->id);
	snprintf(ev->num[1], sizeof(ev->num[1]), "%" PRIu64, j->duration_s);
	snprintf(ev->num[2], sizeof(ev->num[2]), "%" PRIu64, j->bytes_read);
	snprintf(ev->num[3], sizeof(ev->num[3]), "%" PRIu64, j->bytes_stored);
	one_line(ev->code, sizeof(ev->code), j->code);
	one_line(ev->message, sizeof(ev->message), j->message);
	ev->strings[SV_EVENT_S_JOB] = ev->num[0];
	ev->strings[SV_EVENT_S_KIND] = j->kind && j->kind[0] ? j->kind : "-";
	ev->strings[SV_EVENT_S_DURATION] = ev->num[1];
	ev->strings[SV_EVENT_S_BYTES_READ] = ev->num[2];
	ev->strings[SV_EVENT_S_BYTES_STORED] = ev->num[3];
	ev->strings[SV_EVENT_S_CODE] = ev->code;
	ev->strings[SV_EVENT_S_MESSAGE] = ev->message;
}

static const char *outcome(uint32_t id)
{
	switch (id) {
	case SV_EVENT_COMPLETED:
		return "completed";
	case SV_EVENT_WARNINGS:
		return "completed with warnings";
	case SV_EVENT_CANCELLED:
		return "was cancelled";
	case SV_EVENT_PREFLIGHT_FAILED:
		return "failed a preflight check";
	default:
		return "failed";
	}
}

void sv_event_line(char *buf, size_t size, const sv_event *ev)
{
	const char *const *s = ev->strings;

	snprintf(buf, size, "job %s %s %s (event %" PRIu32 "): %s s, %s bytes read, "
		 "%s stored; code %s: %s", s[SV_EVENT_S_JOB], s[SV_EVENT_S_KIND],
		 outcome(ev->id), ev->id, s[SV_EVENT_S_DURATION], s[SV_EVENT_S_BYTES_READ],
		 s[SV_EVENT_S_BYTES_STORED], s[SV_EVENT_S_CODE], s[SV_EVENT_S_MESSAGE]);
}

/* Appends line and a newline at the end of the file at path. */
static int append_line(const char *path, const char *line)
{
	sv_file *f = NULL;
	uint64_t size = 0;
	sv_buf b;
	int rc;

	sv_buf_init(&b, SV_EVENT_MESSAGE_MAX + 512);
	rc = sv_buf_printf(&b, "%s\n", line);
	if (rc == 0)
		rc = sv_file_open(&f, path, SV_O_WRITE | SV_O_CREATE);
	if (rc == 0)
		rc = sv_file_size(f, &size);
	if (rc == 0)
		rc = sv_file_pwrite(f, b.ptr, b.len, size);
	if (f) {
		int crc = sv_file_close(f);

		rc = rc < 0 ? rc : crc;
	}
	sv_buf_release(&b);
	return rc;
}

int sv_event_write(const sv_event *ev)
{
	char line[SV_EVENT_MESSAGE_MAX + 256];
	char *file = sv_env_get("SYSVAULT_EVENT_FILE");
	int rc = sv_event_report(ev), frc = 0;

	if (file && file[0]) {
		sv_event_line(line, sizeof(line), ev);
		frc = append_line(file, line);
	}
	free(file);
	return rc < 0 ? rc : frc;
}
