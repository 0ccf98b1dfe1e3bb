/*
 * throttle.h - bandwidth throttling of cloud vaults (throttle.c): a
 * weekly schedule of two rates, its text and JSON forms, and the token
 * bucket that the transfer engine (http.c) shares among its transfers.
 *
 * Everything here is pure: times and clocks are arguments, so that the
 * schedule and the bucket are tested with a simulated clock.
 */
#ifndef SV_VAULT_THROTTLE_H
#define SV_VAULT_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#include "sv_error.h"
#include "sv_json.h"

/*
 * Work hours run from start_min to end_min (minutes after local midnight)
 * on the days in the `days` mask (bit 0 Sunday ... bit 6 Saturday). When
 * end_min < start_min the window wraps past midnight: it starts on a listed
 * day and ends the next morning (Fri 22:00-06:00 covers Fri 22:00 to Sat
 * 06:00). Rates are bits per second; 0 means unlimited.
 */
typedef struct vault_throttle {
	int enabled;
	uint8_t days;
	uint16_t start_min, end_min;
	uint64_t work_bps, off_bps;
} vault_throttle;

/* "4Mbps", "200Kbps", "1.5Gbps", "64000bps" (decimal units: 1 Mbps is
 * 1,000,000 bits/s) or "unlimited" (0). At least 8 Kbps. SV_EUSAGE with a
 * message naming what (the option) otherwise. */
int vault_throttle_parse_rate(uint64_t *bps, const char *what, const char *s);
/* "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri", "Fri-Mon" (a range may wrap past
 * Sunday); names are the English three-letter days, any case. SV_EUSAGE. */
int vault_throttle_parse_days(uint8_t *days, const char *what, const char *s);
/* "08:00-18:00" (24-hour local time; an end before the start wraps past
 * midnight; equal ends are refused). SV_EUSAGE. */
int vault_throttle_parse_hours(uint16_t *start_min, uint16_t *end_min,
			       const char *what, const char *s);

/* "4Mbps", "unlimited" ... into dst (at least 24 bytes). */
void vault_throttle_format_rate(char *dst, size_t size, uint64_t bps);
/* "Mon-Fri", "Sat,Sun" ... into dst (at least 32 bytes). */
void vault_throttle_format_days(char *dst, size_t size, uint8_t days);
/* "08:00-18:00" into dst (at least 12 bytes). */
void vault_throttle_format_hours(char *dst, size_t size, uint16_t start_min,
				 uint16_t end_min);

/* The settings as stored in config.json ("throttle"): {"days": "Mon-Fri",
 * "hours": "08:00-18:00", "work_bps": n, "off_bps": n}. */
int vault_throttle_to_json(json_t **out, const vault_throttle *t);
/* SV_EINVAL naming the bad field (the file is the administrator's to
 * fix); t->enabled is set. */
int vault_throttle_from_json(vault_throttle *t, const json_t *j);

/* 1 when local_secs (seconds since the epoch, shifted to local time)
 * falls in work hours. */
int vault_throttle_in_work(const vault_throttle *t, int64_t local_secs);
/* The rate in force at local_secs, in bits per second (0: unlimited,
 * also when t is NULL or not enabled). */
uint64_t vault_throttle_rate_at(const vault_throttle *t, int64_t local_secs);

/* ---- the token bucket (internal to vault/) ---- */

/*
 * Tokens are bytes, refilled at `rate` bytes per second from a clock in
 * milliseconds that the caller supplies, up to `burst`. A taker may
 * overdraw (a download callback must take a whole buffer or pause); the
 * debt is paid before anyone proceeds again, so over any long span the
 * bytes moved stay within one burst and one buffer of rate x time.
 */
typedef struct vault_bucket {
	uint64_t rate;	/* bytes per second; 0: unlimited */
	int64_t tokens; /* negative: debt */
	int64_t burst;
	uint64_t last_ms;
	uint64_t frac; /* refill remainder, in byte-milliseconds */
} vault_bucket;

void vault__bucket_init(vault_bucket *b, uint64_t rate, uint64_t now_ms);
/* Changes the rate; the tokens accrued so far are kept (clamped). */
void vault__bucket_set_rate(vault_bucket *b, uint64_t rate, uint64_t now_ms);
/* Up to `want` bytes may be sent now (0: wait). */
size_t vault__bucket_take(vault_bucket *b, size_t want, uint64_t now_ms);
/* 1 when n bytes may pass now (taking them, possibly into debt), else 0. */
int vault__bucket_take_all(vault_bucket *b, size_t n, uint64_t now_ms);
/* Milliseconds until a taker may proceed (0: now). */
uint64_t vault__bucket_wait_ms(vault_bucket *b, uint64_t now_ms);

#endif
