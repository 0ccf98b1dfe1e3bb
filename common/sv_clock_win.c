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
