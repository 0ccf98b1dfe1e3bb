/*
 * sv_time.c - wall clock with test injection, and UTC conversions that do not
 * depend on the C library's time zone or locale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sv_buf.h"
#include "sv_time.h"

static int64_t g_fake_now;

int64_t sv_time_now(void)
{
	const char *env;
	uint64_t v;

	if (g_fake_now)
		return g_fake_now;
	env = getenv("SYSVAULT_FAKE_NOW");
	if (env && sv_parse_u64(&v, env) == 0)
		return (int64_t)v;
	return (int64_t)time(NULL);
}

int64_t sv_time_real(void)
{
	return (int64_t)time(NULL);
}

void sv_time_set_fake(int64_t unix_seconds)
{
	g_fake_now = unix_seconds;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void sv_time_to_tm(sv_tm *out, int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	out->year = (int)(yoe + era * 400 + (out->month <= 2));
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
	out->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

int64_t sv_time_from_tm(const sv_tm *tm)
{
	return days_from_civil(tm->year, tm->month, tm->day) * 86400 +
	       tm->hour * 3600 + tm->min * 60 + tm->sec;
}

void sv_time_format_utc(char *dst, size_t size, int64_t t)
{
	sv_tm tm;

	sv_time_to_tm(&tm, t);
	snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.year, tm.month,
		 tm.day, tm.hour, tm.min, tm.sec);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sv_time_parse_utc(int64_t *out, const char *s)
{
	sv_tm tm = { 0 };

	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    digits(s, 4, &tm.year) || digits(s + 5, 2, &tm.month) ||
	    digits(s + 8, 2, &tm.day) || digits(s + 11, 2, &tm.hour) ||
	    digits(s + 14, 2, &tm.min) || digits(s + 17, 2, &tm.sec) ||
	    tm.month < 1 || tm.month > 12 || tm.day < 1 || tm.day > 31 ||
	    tm.hour > 23 || tm.min > 59 || tm.sec > 60)
		return sv_error_set(SV_EINVAL,
				    "'%s' is not a UTC time like 2026-11-21T02:00:14Z",
				    s);
	*out = sv_time_from_tm(&tm);
	return 0;
}
