/*
 * sv_buf.c - bounded growable buffers and checked string helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"

void *sv_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		sv_error_set(SV_ENOMEM, "out of memory allocating %zu bytes", n);
	return p;
}

void *sv_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		sv_error_set(SV_ENOMEM, "out of memory allocating %zu x %zu bytes",
			     n, size);
	return p;
}

void *sv_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		sv_error_set(SV_ENOMEM, "out of memory allocating %zu bytes", n);
	return q;
}

char *sv_strndup(const char *s, size_t n)
{
	char *d = sv_malloc(n + 1);

	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *sv_strdup(const char *s)
{
	return s ? sv_strndup(s, strlen(s)) : NULL;
}

char *sv_aprintf(const char *fmt, ...)
{
	sv_buf b;
	va_list ap;
	int rc;

	sv_buf_init(&b, SV_BUF_DEFAULT_MAX);
	va_start(ap, fmt);
	rc = sv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0) {
		sv_buf_release(&b);
		return NULL;
	}
	return sv_buf_take(&b);
}

void sv_buf_init(sv_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void sv_buf_release(sv_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	sv_buf_init(b, b->max);
}

void sv_buf_reset(sv_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

int sv_buf_reserve(sv_buf *b, size_t extra)
{
	size_t need = 0, cap;
	char *p;

	if (sv_add_size(&need, b->len, extra) < 0 || need > b->max)
		return sv_error_set(SV_ENOMEM, "buffer limit of %zu bytes exceeded",
				    b->max);
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = sv_realloc(b->ptr, cap);
	if (!p)
		return SV_ENOMEM;
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int sv_buf_add(sv_buf *b, const void *p, size_t n)
{
	int rc = sv_buf_reserve(b, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int sv_buf_adds(sv_buf *b, const char *s)
{
	return sv_buf_add(b, s, strlen(s));
}

int sv_buf_addc(sv_buf *b, char c)
{
	return sv_buf_add(b, &c, 1);
}

int sv_buf_vprintf(sv_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return sv_error_set(SV_EINVAL, "invalid format string");
	rc = sv_buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sv_buf_printf(sv_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sv_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *sv_buf_take(sv_buf *b)
{
	char *p = b->ptr;

	if (!p)
		p = sv_strdup("");
	sv_buf_init(b, b->max);
	return p;
}

size_t sv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int sv_snprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return sv_error_set(SV_EINVAL, "text longer than %zu bytes", size);
	return 0;
}

int sv_add_size(size_t *out, size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		return sv_error_set(SV_ENOMEM, "size overflow");
	*out = a + b;
	return 0;
}

int sv_mul_size(size_t *out, size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		return sv_error_set(SV_ENOMEM, "size overflow");
	*out = a * b;
	return 0;
}

int sv_parse_u64(uint64_t *out, const char *s)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return sv_error_set(SV_EINVAL, "'%s' is not a whole number",
				    s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return sv_error_set(SV_EINVAL, "'%s' is not a whole number", s);
	*out = (uint64_t)v;
	return 0;
}

static int size_suffix(uint64_t *mult, const char *suf)
{
	static const struct { const char *s; uint64_t m; } tab[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1ull << 10 }, { "KB", 1ull << 10 }, { "KIB", 1ull << 10 },
		{ "M", 1ull << 20 }, { "MB", 1ull << 20 }, { "MIB", 1ull << 20 },
		{ "G", 1ull << 30 }, { "GB", 1ull << 30 }, { "GIB", 1ull << 30 },
		{ "T", 1ull << 40 }, { "TB", 1ull << 40 }, { "TIB", 1ull << 40 },
	};
	char up[8];
	size_t i, n = strlen(suf);

	if (n >= sizeof(up))
		return SV_EINVAL;
	for (i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)suf[i]);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (!strcmp(up, tab[i].s)) {
			*mult = tab[i].m;
			return 0;
		}
	}
	return SV_EINVAL;
}

int sv_parse_size(uint64_t *out, const char *s)
{
	uint64_t mult;
	double v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (errno || size_suffix(&mult, end) < 0)
		goto bad;
	if (v * (double)mult >= 18446744073709551615.0)
		goto bad;
	*out = (uint64_t)(v * (double)mult);
	return 0;
bad:
	return sv_error_set(SV_EINVAL,
			    "'%s' is not a size (examples: 4096, 64K, 16MiB, 2G)",
			    s ? s : "");
}

void sv_format_size(char *dst, size_t size, uint64_t bytes)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(dst, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(dst, size, "%.2f %s", v, units[u]);
}

int sv_str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int sv_ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
		if (a[i] == '\0')
			return 1;
	}
	return 1;
}

int sv_ascii_caseeq(const char *a, const char *b)
{
	size_t na = strlen(a);

	return na == strlen(b) && sv_ascii_ncaseeq(a, b, na);
}

int sv_str_endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

void sv_hex_encode(char *dst, const uint8_t *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

int sv_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sv_hex_decode(uint8_t *dst, size_t n, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * n)
		return sv_error_set(SV_EINVAL, "expected %zu hex digits", 2 * n);
	for (i = 0; i < n; i++) {
		int hi = sv_hex_digit(hex[2 * i]), lo = sv_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return sv_error_set(SV_EINVAL, "'%s' is not hexadecimal", hex);
		dst[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
