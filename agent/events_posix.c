/*
 * events_posix.c - job events through syslog(3): journald or the syslog
 * daemon picks them up under the identifier "sysvault".
 */
#include <syslog.h>

#include "events.h"

static int priority(sv_event_level level)
{
	switch (level) {
	case SV_EVENT_INFO:
		return LOG_INFO;
	case SV_EVENT_WARNING:
		return LOG_WARNING;
	default:
		return LOG_ERR;
	}
}

int sv_event_report(const sv_event *ev)
{
	char line[SV_EVENT_MESSAGE_MAX + 256];

	sv_event_line(line, sizeof(line), ev);
	/* syslog() reports no failure: with no log daemon the line is lost,
	 * as it would be for any other program on the machine. */
	openlog("sysvault", LOG_PID, LOG_DAEMON);
	syslog(priority(ev->level), "%s", line);
	closelog();
	return 0;
}
