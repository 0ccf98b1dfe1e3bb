/*
 * sv_clock_posix.c - monotonic clock and sleep.
 */
#include <errno.h>
#include <time.h>

#include "sv_time.h"

uint64_t sv_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sv_time_sleep_ms(uint32_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int32_t sv_time_local_offset(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm lt;
	sv_tm v;

	if (localtime_r(&tt, &lt) == NULL)
		return 0;
	v.year = lt.tm_year + 1900;
	v.month = lt.tm_mon + 1;
	v.day = lt.tm_mday;
	v.hour = lt.tm_hour;
	v.min = lt.tm_min;
	v.sec = lt.tm_sec;
	v.wday = lt.tm_wday;
	return (int32_t)(sv_time_from_tm(&v) - t);
}
