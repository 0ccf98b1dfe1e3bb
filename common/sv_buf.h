/*
 * sv_buf.h - a growable byte buffer with a hard maximum, and small string
 * helpers with checked arithmetic.
 */
#ifndef SV_BUF_H
#define SV_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include "sv_error.h"

/* Embedded struct: sv_buf_init() / sv_buf_release(). Always NUL-terminated
 * after the first successful add. */
typedef struct sv_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;   /* the buffer never holds more than max bytes */
} sv_buf;

#define SV_BUF_DEFAULT_MAX ((size_t)64 << 20)

void sv_buf_init(sv_buf *b, size_t max);
void sv_buf_release(sv_buf *b);
void sv_buf_reset(sv_buf *b);                  /* len = 0, keeps memory */
int sv_buf_add(sv_buf *b, const void *p, size_t n);  /* SV_ENOMEM past max */
int sv_buf_adds(sv_buf *b, const char *s);
int sv_buf_addc(sv_buf *b, char c);
int sv_buf_printf(sv_buf *b, const char *fmt, ...) SV_PRINTF(2, 3);
int sv_buf_vprintf(sv_buf *b, const char *fmt, va_list ap) SV_VPRINTF(2);
int sv_buf_reserve(sv_buf *b, size_t extra);
/* Returns the NUL-terminated contents (caller frees) and resets b. Never
 * NULL unless out of memory: an empty buffer gives "". */
char *sv_buf_take(sv_buf *b);

/* Allocation that sets SV_ENOMEM's message on failure. */
void *sv_malloc(size_t n);
void *sv_calloc(size_t n, size_t size);
void *sv_realloc(void *p, size_t n);
char *sv_strdup(const char *s);
char *sv_strndup(const char *s, size_t n);
char *sv_aprintf(const char *fmt, ...) SV_PRINTF(1, 2);

/* Copies at most size-1 bytes and NUL-terminates; returns strlen(src). */
size_t sv_strlcpy(char *dst, const char *src, size_t size);
/* Formats into dst; returns SV_EINVAL (and truncates) when it did not fit. */
int sv_snprintf(char *dst, size_t size, const char *fmt, ...) SV_PRINTF(3, 4);

/* Overflow-checked size arithmetic: 0 on success, SV_ENOMEM on overflow. */
int sv_add_size(size_t *out, size_t a, size_t b);
int sv_mul_size(size_t *out, size_t a, size_t b);

/* Whole-string decimal parse; SV_EINVAL on junk, sign, or overflow. */
int sv_parse_u64(uint64_t *out, const char *s);
/* Parses "16", "16K", "64KiB", "2M", "1G", "1.5G" into bytes. */
int sv_parse_size(uint64_t *out, const char *s);
/* Formats bytes as "1.50 GiB" into dst. */
void sv_format_size(char *dst, size_t size, uint64_t bytes);

int sv_str_startswith(const char *s, const char *prefix);
/* ASCII-only case-insensitive comparisons (no locale): 1 when the first n
 * bytes (or the whole strings) are equal ignoring A-Z/a-z case. */
int sv_ascii_ncaseeq(const char *a, const char *b, size_t n);
int sv_ascii_caseeq(const char *a, const char *b);
/* The value of a hex digit, or -1. */
int sv_hex_digit(char c);
int sv_str_endswith(const char *s, const char *suffix);
/* Hex encoding of n bytes into dst (2n+1 bytes); decode returns SV_EINVAL
 * on bad input or wrong length. */
void sv_hex_encode(char *dst, const uint8_t *src, size_t n);
int sv_hex_decode(uint8_t *dst, size_t n, const char *hex);

#endif
