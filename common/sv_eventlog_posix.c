/*
 * sv_eventlog_posix.c - there is no Windows event log here; the parser of
 * rendered events (sv_eventlog_parse.c) still works, for tests and tools.
 */
#include "sv_eventlog.h"

int sv_eventlog_backup_result(int64_t since_unix, uint32_t *event_id,
			      uint32_t *hresult, int64_t *when)
{
	(void)since_unix;
	*event_id = 0;
	*hresult = 0;
	*when = 0;
	return sv_error_set(SV_ENOTSUPPORTED, "the %s event log exists only "
			    "on Windows", SV_EVENTLOG_CHANNEL);
}
