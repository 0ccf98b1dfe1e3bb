/*
 * sv_time.h - clocks. Wall time goes through sv_time_now() so that tests
 * can inject a clock (SYSVAULT_FAKE_NOW=<unix seconds> or sv_time_set_fake).
 */
#ifndef SV_TIME_H
#define SV_TIME_H

#include <stdint.h>
#include <stddef.h>
#include "sv_error.h"

/* Seconds since the Unix epoch (UTC), or the injected clock. */
int64_t sv_time_now(void);
/* The machine's own clock, never the injected one: for what another
 * system checks against its clock (request signatures and their dates). */
int64_t sv_time_real(void);
/* Overrides the wall clock (0 restores the real one). */
void sv_time_set_fake(int64_t unix_seconds);
/* Milliseconds from a monotonic clock, for durations and timeouts. */
uint64_t sv_time_mono_ms(void);
/* Seconds to add to UTC time t for local time at t (the time zone and its
 * daylight saving rule of this machine). */
int32_t sv_time_local_offset(int64_t t);
/* Sleeps ms milliseconds. */
void sv_time_sleep_ms(uint32_t ms);
/* Formats t as "2026-11-21T02:00:14Z" (dst at least 21 bytes). */
void sv_time_format_utc(char *dst, size_t size, int64_t t);
/* Parses "YYYY-MM-DDTHH:MM:SSZ"; SV_EINVAL otherwise. */
int sv_time_parse_utc(int64_t *out, const char *s);
/* UTC broken-down time without the C library's locale or time zone. */
typedef struct sv_tm {
	int year, month, day, hour, min, sec, wday; /* month 1-12, wday 0=Sun */
} sv_tm;
void sv_time_to_tm(sv_tm *out, int64_t t);
int64_t sv_time_from_tm(const sv_tm *tm);

#endif
