/*
 * vssadmin.c - reading `vssadmin list writers` and `vssadmin list
 * shadowstorage`. vssadmin is localised, so the writer parser does not
 * read a single label: a block starts at an unindented line whose value is
 * a quoted name, its ids are the values in braces (writer id, then
 * instance id), its state is the value that starts with "[n]", and its
 * last error is the line after the state. Output arrives in the OEM code
 * page with CRLF; non-UTF-8 bytes are kept only where JSON allows them.
 */
#include <string.h>

#include "diag_int.h"

#define WRITERS_MAX 1000
#define FIELD_MAX 256

typedef struct line {
	const char *s;
	size_t n;
	int indented;
} line;

/* The next line of text at *pos, without its "\r\n" and surrounding
 * blanks. Returns 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos, line *l)
{
	size_t i = *pos, end;

	if (i >= len)
		return 0;
	while (i < len && text[i] != '\n')
		i++;
	end = i;
	l->s = text + *pos;
	*pos = i < len ? i + 1 : i;
	l->indented = l->s < text + end && (*l->s == ' ' || *l->s == '\t');
	while (l->s < text + end && (*l->s == ' ' || *l->s == '\t'))
		l->s++;
	while (end > (size_t)(l->s - text) &&
	       (text[end - 1] == '\r' || text[end - 1] == ' ' ||
		text[end - 1] == '\t'))
		end--;
	l->n = (size_t)(text + end - l->s);
	return 1;
}

/* The value after the first ':' of the line, blanks skipped; NULL when
 * the line has no ':'. */
static const char *value_of(const line *l, size_t *n)
{
	const char *c = memchr(l->s, ':', l->n), *end = l->s + l->n;

	if (!c)
		return NULL;
	c++;
	while (c < end && (*c == ' ' || *c == '\t'))
		c++;
	*n = (size_t)(end - c);
	return c;
}

/* A JSON string of at most FIELD_MAX bytes; bytes that are not UTF-8
 * (an OEM code page) become '?'. */
static json_t *field(const char *s, size_t n)
{
	char buf[FIELD_MAX + 1];
	size_t i;
	json_t *v;

	if (n > FIELD_MAX)
		n = FIELD_MAX;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = json_stringn(buf, n);
	if (v)
		return v;
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80 || buf[i] == '\0')
			buf[i] = '?';
	return json_stringn(buf, n);
}

/* "'System Writer'" after the first ':' followed by a quote. */
static int writer_name(const line *l, const char **name, size_t *n)
{
	size_t i;

	if (l->indented || l->n < 3 || l->s[l->n - 1] != '\'')
		return 0;
	for (i = 0; i + 1 < l->n; i++) {
		size_t j = i + 1;

		if (l->s[i] != ':')
			continue;
		while (j < l->n && (l->s[j] == ' ' || l->s[j] == '\t'))
			j++;
		if (j < l->n - 1 && l->s[j] == '\'') {
			*name = l->s + j + 1;
			*n = l->n - j - 2;
			return 1;
		}
	}
	return 0;
}

/* "[1] Stable": the number and the text after it. */
static int writer_state(const char *v, size_t n, int *state, const char **text,
			size_t *text_n)
{
	size_t i = 1;
	int s = 0;

	if (n < 3 || v[0] != '[')
		return 0;
	while (i < n && v[i] >= '0' && v[i] <= '9' && i < 4)
		s = s * 10 + (v[i++] - '0');
	if (i == 1 || i >= n || v[i] != ']')
		return 0;
	i++;
	while (i < n && v[i] == ' ')
		i++;
	*state = s;
	*text = v + i;
	*text_n = n - i;
	return 1;
}

typedef struct writer_parse {
	json_t *w;	 /* the writer being read */
	int guids;	 /* braces values seen in this block */
	int after_state; /* the previous line was the state */
} writer_parse;

static int writer_line(writer_parse *wp, const line *l)
{
	const char *v, *t;
	size_t n, tn;
	int state, rc = 0;

	if (!l->indented || !(v = value_of(l, &n)))
		return 0;
	if (wp->after_state) {
		wp->after_state = 0;
		return sv_json_set(wp->w, "last_error", field(v, n));
	}
	if (n >= 2 && v[0] == '{' && v[n - 1] == '}' && wp->guids < 2) {
		rc = sv_json_set(wp->w, wp->guids == 0 ? "id" : "instance_id",
				 field(v, n));
		wp->guids++;
	} else if (writer_state(v, n, &state, &t, &tn)) {
		rc = sv_json_set(wp->w, "state", json_integer(state)) |
		     sv_json_set(wp->w, "state_text", field(t, tn));
		wp->after_state = 1;
	}
	return rc;
}

int diag__vssadmin_parse_writers(json_t **out, const char *text, size_t len)
{
	json_t *arr = json_array();
	writer_parse wp = {NULL, 0, 0};
	size_t pos = 0, nn;
	const char *name;
	line l;
	int rc = 0;

	*out = NULL;
	if (!arr)
		return SV_ENOMEM;
	while (rc == 0 && next_line(text, len, &pos, &l)) {
		if (writer_name(&l, &name, &nn)) {
			if (json_array_size(arr) >= WRITERS_MAX)
				break;
			wp.w = json_object();
			wp.guids = 0;
			wp.after_state = 0;
			if (!wp.w || json_array_append_new(arr, wp.w)) {
				rc = SV_ENOMEM;
				break;
			}
			rc = sv_json_set(wp.w, "name", field(name, nn));
		} else if (wp.w) {
			rc = writer_line(&wp, &l);
		}
	}
	if (rc) {
		json_decref(arr);
		return SV_ENOMEM;
	}
	*out = arr;
	return 0;
}

/* ---- shadow storage ---- */

/* "2.06 GB (1%)" -> bytes. vssadmin counts in powers of 1024 and some
 * locales write a decimal comma. */
static int parse_size(const char *v, size_t n, uint64_t *out)
{
	static const char units[] = "BKMGTP";
	uint64_t whole = 0, frac = 0, div = 1, mult = 1;
	size_t i = 0;
	const char *u;
	int digits = 0;

	while (i < n && v[i] >= '0' && v[i] <= '9' && digits < 15) {
		whole = whole * 10 + (uint64_t)(v[i++] - '0');
		digits++;
	}
	if (digits == 0)
		return SV_EINVAL;
	if (i < n && (v[i] == '.' || v[i] == ',')) {
		i++;
		while (i < n && v[i] >= '0' && v[i] <= '9' && div < 1000000) {
			frac = frac * 10 + (uint64_t)(v[i++] - '0');
			div *= 10;
		}
	}
	while (i < n && v[i] == ' ')
		i++;
	if (i >= n || !(u = strchr(units, v[i])) || *u == '\0')
		return SV_EINVAL;
	for (; u > units; u--)
		mult *= 1024;
	/* At most 15 digits of PB: saturate rather than wrap. */
	if (whole > UINT64_MAX / mult - 1)
		*out = UINT64_MAX;
	else
		*out = whole * mult + frac * (mult / div) +
		       frac * (mult % div) / div;
	return 0;
}

static int storage_line(json_t *st, const line *l, int *seen)
{
	static const struct {
		const char *label, *key;
	} labels[] = {
		{"Used Shadow Copy Storage space", "used_bytes"},
		{"Allocated Shadow Copy Storage space", "allocated_bytes"},
		{"Maximum Shadow Copy Storage space", "max_bytes"},
	};
	const char *v;
	uint64_t bytes;
	size_t i, n, ll;

	if (!(v = value_of(l, &n)))
		return 0;
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		ll = strlen(labels[i].label);
		if (l->n < ll ||
		    !sv_ascii_ncaseeq(l->s, labels[i].label, ll))
			continue;
		(*seen)++;
		if (i == 2 && n >= 9 && sv_ascii_ncaseeq(v, "UNBOUNDED", 9))
			return sv_json_set(st, "unbounded", json_true());
		if (parse_size(v, n, &bytes) < 0)
			return SV_EINVAL;
		if (i == 2 && sv_json_set(st, "unbounded", json_false()))
			return SV_ENOMEM;
		return sv_json_set(
			st, labels[i].key,
			json_integer((json_int_t)(bytes > INT64_MAX ? INT64_MAX
								    : bytes)));
	}
	return 0;
}

int diag__vssadmin_parse_storage(json_t **out, const char *text, size_t len)
{
	json_t *st = json_object();
	size_t pos = 0;
	int seen = 0, rc = 0;
	line l;

	*out = NULL;
	if (!st)
		return SV_ENOMEM;
	while (rc == 0 && seen < 3 && next_line(text, len, &pos, &l)) {
		if (l.n >= 14 &&
		    sv_ascii_ncaseeq(l.s, "No items found", 14)) {
			rc = sv_json_set(st, "none", json_true());
			seen = 3;
			break;
		}
		rc = storage_line(st, &l, &seen);
	}
	if (rc == 0 && seen == 0)
		rc = SV_EINVAL;
	if (rc) {
		json_decref(st);
		return rc == SV_EINVAL ? sv_error_set(SV_EINVAL,
						      "shadow storage: output "
						      "not understood")
				       : rc;
	}
	*out = st;
	return 0;
}
