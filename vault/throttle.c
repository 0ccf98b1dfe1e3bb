/*
 * throttle.c - the throttle schedule (which rate is in force when), its
 * text and JSON forms, and the token bucket the transfer engine shares
 * among all parallel transfers of a vault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "throttle.h"

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed",
					 "Thu", "Fri", "Sat"};

/* The smallest rate accepted: below it one 16 KiB buffer takes seconds and
 * stall detection would misfire. */
#define RATE_MIN 8000u
#define RATE_MAX 1000000000000ull /* 1 Tbps */

/* ---- rates ---- */

/* ASCII case-insensitive equality. */
static int ci_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = *a >= 'A' && *a <= 'Z' ? *a + 32 : *a;
		int y = *b >= 'A' && *b <= 'Z' ? *b + 32 : *b;

		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int rate_unit(uint64_t *mult, const char *u)
{
	if (ci_eq(u, "bps"))
		*mult = 1;
	else if (ci_eq(u, "kbps"))
		*mult = 1000;
	else if (ci_eq(u, "mbps"))
		*mult = 1000000;
	else if (ci_eq(u, "gbps"))
		*mult = 1000000000;
	else
		return -1;
	return 0;
}

/* "12.5" -> value x 1000 (three decimals at most), without floating point
 * so that "4Mbps" is exactly 4,000,000. */
static const char *parse_milli(uint64_t *out, const char *s)
{
	uint64_t v = 0;
	int digits = 0, frac = -1;

	for (; *s; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		if (v > RATE_MAX || frac >= 3)
			return NULL;
		v = v * 10 + (uint64_t)(*s - '0');
		digits++;
		if (frac >= 0)
			frac++;
	}
	if (!digits)
		return NULL;
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v *= 10;
	*out = v;
	return s;
}

int vault_throttle_parse_rate(uint64_t *bps, const char *what, const char *s)
{
	uint64_t milli = 0, mult = 0;
	const char *unit = s ? parse_milli(&milli, s) : NULL;

	*bps = 0;
	if (s && ci_eq(s, "unlimited"))
		return 0;
	if (!unit || rate_unit(&mult, unit) != 0 ||
	    milli / 1000 > RATE_MAX / mult)
		return sv_error_set(
			SV_EUSAGE,
			"%s '%s': not a rate (use a number with bps, Kbps, "
			"Mbps or Gbps, e.g. 4Mbps, or 'unlimited')",
			what, s ? s : "");
	*bps = milli * mult / 1000;
	if (*bps < RATE_MIN || *bps > RATE_MAX)
		return sv_error_set(SV_EUSAGE,
				    "%s '%s': out of range (use 8Kbps to "
				    "1000Gbps, or 'unlimited')",
				    what, s);
	return 0;
}

void vault_throttle_format_rate(char *dst, size_t size, uint64_t bps)
{
	static const struct {
		uint64_t mult;
		const char *unit;
	} units[] = {{1000000000, "Gbps"}, {1000000, "Mbps"}, {1000, "Kbps"}};
	size_t i;

	if (bps == 0) {
		snprintf(dst, size, "unlimited");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t m = units[i].mult;

		if (bps >= m && bps % (m / 1000) == 0) {
			uint64_t milli = bps / (m / 1000);
			char frac[8];
			size_t k;

			snprintf(frac, sizeof(frac), ".%03llu",
				 (unsigned long long)(milli % 1000));
			for (k = strlen(frac); k > 0 && frac[k - 1] == '0'; k--)
				frac[k - 1] = '\0';
			snprintf(dst, size, "%llu%s%s",
				 (unsigned long long)(milli / 1000),
				 strcmp(frac, ".") == 0 ? "" : frac,
				 units[i].unit);
			return;
		}
	}
	snprintf(dst, size, "%llubps", (unsigned long long)bps);
}

/* ---- days ---- */

static int day_index(const char *s, size_t n)
{
	char name[4];
	int d;

	if (n != 3)
		return -1;
	memcpy(name, s, 3);
	name[3] = '\0';
	for (d = 0; d < 7; d++)
		if (ci_eq(name, day_names[d]))
			return d;
	return -1;
}

/* One item of the list: "Mon" or "Mon-Fri" (wrapping past Sunday). */
static int day_item(uint8_t *days, const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	int a, b;

	if (!dash) {
		if ((a = day_index(s, n)) < 0)
			return -1;
		*days |= (uint8_t)(1u << a);
		return 0;
	}
	a = day_index(s, (size_t)(dash - s));
	b = day_index(dash + 1, n - (size_t)(dash - s) - 1);
	if (a < 0 || b < 0)
		return -1;
	for (;; a = (a + 1) % 7) {
		*days |= (uint8_t)(1u << a);
		if (a == b)
			return 0;
	}
}

int vault_throttle_parse_days(uint8_t *days, const char *what, const char *s)
{
	const char *p = s ? s : "";
	int bad = !*p;

	*days = 0;
	while (*p && !bad) {
		size_t n = strcspn(p, ",");

		bad = day_item(days, p, n) != 0;
		p += n;
		if (*p == ',' && *++p == '\0')
			bad = 1; /* a trailing comma */
	}
	if (bad)
		return sv_error_set(SV_EUSAGE,
				    "%s '%s': not a list of days (use Mon-Fri, "
				    "Sat,Sun or Mon,Wed,Fri)",
				    what, s ? s : "");
	return 0;
}

void vault_throttle_format_days(char *dst, size_t size, uint8_t days)
{
	sv_buf b;
	int d = 0;

	sv_buf_init(&b, 64);
	while (d < 7) {
		int e = d;

		if (!(days & (1u << d))) {
			d++;
			continue;
		}
		while (e + 1 < 7 && (days & (1u << (e + 1))))
			e++;
		if (b.len)
			sv_buf_addc(&b, ',');
		if (e - d >= 2)
			sv_buf_printf(&b, "%s-%s", day_names[d], day_names[e]);
		else if (e > d)
			sv_buf_printf(&b, "%s,%s", day_names[d], day_names[e]);
		else
			sv_buf_printf(&b, "%s", day_names[d]);
		d = e + 1;
	}
	snprintf(dst, size, "%s", b.ptr ? b.ptr : "");
	sv_buf_release(&b);
}

/* ---- hours ---- */

static const char *parse_hhmm(uint16_t *min, const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[2] != ':' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
		return NULL;
	*min = (uint16_t)(((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
			  (s[3] - '0') * 10 + (s[4] - '0'));
	/* 24:00 is allowed as an end of day */
	return *min <= 24 * 60 ? s + 5 : NULL;
}

int vault_throttle_parse_hours(uint16_t *start_min, uint16_t *end_min,
			       const char *what, const char *s)
{
	const char *p = s && strlen(s) == 11 ? parse_hhmm(start_min, s) : NULL;

	if (p && *p == '-')
		p = parse_hhmm(end_min, p + 1);
	else
		p = NULL;
	if (!p || *p || *start_min == 24 * 60)
		return sv_error_set(
			SV_EUSAGE,
			"%s '%s': not a time range (use HH:MM-HH:MM in 24-hour "
			"local time, e.g. 08:00-18:00)",
			what, s ? s : "");
	if (*end_min == *start_min)
		return sv_error_set(SV_EUSAGE,
				    "%s '%s': the range is empty (for the "
				    "whole day, use 00:00-24:00)",
				    what, s);
	return 0;
}

void vault_throttle_format_hours(char *dst, size_t size, uint16_t start_min,
				 uint16_t end_min)
{
	/* Minutes of a day (at most 24:00): the bounds let the compiler see
	 * that 12 bytes always suffice. */
	unsigned s = start_min % 1441u, e = end_min % 1441u;

	snprintf(dst, size, "%02u:%02u-%02u:%02u", (s / 60u) % 25u, s % 60u,
		 (e / 60u) % 25u, e % 60u);
}

/* ---- schedule ---- */

int vault_throttle_in_work(const vault_throttle *t, int64_t local_secs)
{
	int64_t day = local_secs >= 0 ? local_secs / 86400
				      : -((-local_secs + 86399) / 86400);
	int min = (int)((local_secs - day * 86400) / 60);
	int wday = (int)(((day % 7) + 7 + 4) % 7); /* 1970-01-01: Thursday */
	int yday = (wday + 6) % 7;

	if (t->start_min < t->end_min)
		return (t->days & (1u << wday)) && min >= t->start_min &&
		       min < t->end_min;
	/* wraps past midnight: the evening of a listed day, or the morning
	 * after one */
	return ((t->days & (1u << wday)) && min >= t->start_min) ||
	       ((t->days & (1u << yday)) && min < t->end_min);
}

uint64_t vault_throttle_rate_at(const vault_throttle *t, int64_t local_secs)
{
	if (!t || !t->enabled)
		return 0;
	return vault_throttle_in_work(t, local_secs) ? t->work_bps : t->off_bps;
}

/* ---- JSON ---- */

int vault_throttle_to_json(json_t **out, const vault_throttle *t)
{
	char days[32], hours[12];

	vault_throttle_format_days(days, sizeof(days), t->days);
	vault_throttle_format_hours(hours, sizeof(hours), t->start_min,
				    t->end_min);
	*out = json_pack("{s:s, s:s, s:I, s:I}", "days", days, "hours", hours,
			 "work_bps", (json_int_t)t->work_bps, "off_bps",
			 (json_int_t)t->off_bps);
	return *out ? 0 : SV_ENOMEM;
}

static int json_rate(uint64_t *bps, const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (json_integer_value(v) > 0 &&
	     (json_integer_value(v) < (json_int_t)RATE_MIN ||
	      (uint64_t)json_integer_value(v) > RATE_MAX)))
		return sv_error_set(
			SV_EINVAL,
			"config.json: throttle.%s is not a rate in bits per "
			"second (run 'sysvault throttle set' again)",
			key);
	*bps = (uint64_t)json_integer_value(v);
	return 0;
}

int vault_throttle_from_json(vault_throttle *t, const json_t *j)
{
	const char *days = json_string_value(json_object_get(j, "days"));
	const char *hours = json_string_value(json_object_get(j, "hours"));
	int rc;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(j))
		return sv_error_set(
			SV_EINVAL,
			"config.json: throttle is not an object (run 'sysvault "
			"throttle set' or 'throttle off')");
	if ((rc = vault_throttle_parse_days(
		     &t->days, "config.json: throttle.days", days)) < 0 ||
	    (rc = vault_throttle_parse_hours(&t->start_min, &t->end_min,
					     "config.json: throttle.hours",
					     hours)) < 0) {
		char msg[512];

		sv_strlcpy(msg, sv_error_msg(), sizeof(msg));
		return sv_error_set(SV_EINVAL, "%s", msg);
	}
	if ((rc = json_rate(&t->work_bps, j, "work_bps")) < 0 ||
	    (rc = json_rate(&t->off_bps, j, "off_bps")) < 0)
		return rc;
	t->enabled = 1;
	return 0;
}

/* ---- token bucket ---- */

/* A tenth of a second of tokens, but never less than one 16 KiB buffer:
 * enough to keep a link busy, small against a second's worth of error. */
static int64_t burst_for(uint64_t rate)
{
	uint64_t b = rate / 10;

	return (int64_t)(b < 16384 ? 16384 : b);
}

static void refill(vault_bucket *b, uint64_t now_ms)
{
	uint64_t dt, add;

	if (now_ms <= b->last_ms || b->rate == 0) {
		if (now_ms > b->last_ms)
			b->last_ms = now_ms;
		return;
	}
	dt = now_ms - b->last_ms;
	b->last_ms = now_ms;
	if (dt > 60000)
		dt = 60000; /* a long sleep refills at most to the burst anyway
			     */
	b->frac += dt * b->rate;
	add = b->frac / 1000;
	b->frac %= 1000;
	b->tokens += (int64_t)add;
	if (b->tokens > b->burst) {
		b->tokens = b->burst;
		b->frac = 0;
	}
}

void vault__bucket_init(vault_bucket *b, uint64_t rate, uint64_t now_ms)
{
	memset(b, 0, sizeof(*b));
	b->rate = rate;
	b->burst = burst_for(rate);
	b->tokens = b->burst; /* a transfer may start at once */
	b->last_ms = now_ms;
}

void vault__bucket_set_rate(vault_bucket *b, uint64_t rate, uint64_t now_ms)
{
	refill(b, now_ms);
	b->rate = rate;
	b->burst = burst_for(rate);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

size_t vault__bucket_take(vault_bucket *b, size_t want, uint64_t now_ms)
{
	size_t k;

	if (b->rate == 0)
		return want;
	refill(b, now_ms);
	if (b->tokens <= 0)
		return 0;
	k = (uint64_t)b->tokens < want ? (size_t)b->tokens : want;
	b->tokens -= (int64_t)k;
	return k;
}

int vault__bucket_take_all(vault_bucket *b, size_t n, uint64_t now_ms)
{
	if (b->rate == 0)
		return 1;
	refill(b, now_ms);
	if (b->tokens <= 0)
		return 0;
	b->tokens -= (int64_t)n;
	return 1;
}

uint64_t vault__bucket_wait_ms(vault_bucket *b, uint64_t now_ms)
{
	uint64_t need;

	if (b->rate == 0)
		return 0;
	refill(b, now_ms);
	if (b->tokens > 0)
		return 0;
	need = (uint64_t)(1 - b->tokens) * 1000;
	need = need > b->frac ? need - b->frac : 0;
	return (need + b->rate - 1) / b->rate;
}
