/*
 * sv_clock_win.c - the monotonic clock and sleeping on Windows. The rest of
 * sv_time.h is portable (sv_time.c).
 */
#include <windows.h>

#include "sv_time.h"

/*
 * The performance counter rather than GetTickCount64(): the tick count
 * advances in steps of the timer interrupt (about 16 ms), too coarse for
 * the short timeouts and durations measured here. Both are monotonic and
 * unaffected by changes of the wall clock.
 */
uint64_t sv_time_mono_ms(void)
{
	LARGE_INTEGER freq, now;
	uint64_t f, c;

	if (!QueryPerformanceFrequency(&freq) || freq.QuadPart <= 0 ||
	    !QueryPerformanceCounter(&now) || now.QuadPart < 0)
		return (uint64_t)GetTickCount64();
	f = (uint64_t)freq.QuadPart;
	c = (uint64_t)now.QuadPart;
	/* Split to keep c * 1000 from overflowing. */
	return c / f * 1000 + c % f * 1000 / f;
}

void sv_time_sleep_ms(uint32_t ms)
{
	Sleep((DWORD)ms);
}

/* Through the Win32 time zone rather than the C runtime's, which follows
 * the TZ variable and not the system's setting. */
int32_t sv_time_local_offset(int64_t t)
{
	ULARGE_INTEGER u;
	FILETIME ft;
	SYSTEMTIME utc, loc;
	sv_tm v;

	u.QuadPart = ((uint64_t)t + 11644473600ull) * 10000000ull;
	ft.dwLowDateTime = u.LowPart;
	ft.dwHighDateTime = u.HighPart;
	if (t < 0 || !FileTimeToSystemTime(&ft, &utc) ||
	    !SystemTimeToTzSpecificLocalTime(NULL, &utc, &loc))
		return 0;
	v.year = loc.wYear;
	v.month = loc.wMonth;
	v.day = loc.wDay;
	v.hour = loc.wHour;
	v.min = loc.wMinute;
	v.sec = loc.wSecond;
	v.wday = loc.wDayOfWeek;
	return (int32_t)(sv_time_from_tm(&v) - t);
}
