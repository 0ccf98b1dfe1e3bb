/*
 * parse.c - reading wbadmin's output: `get versions` blocks, progress lines,
 * and the line and text helpers the catalogue shares (wsb_int.h).
 *
 * wbadmin is localised and writes the OEM code page with CRLF, so nothing
 * here depends on an English word to find what matters. A version is found
 * by its identifier "MM/DD/YYYY-HH:MM", which keeps that form in every
 * language seen; the English labels ("Backup time:", ...) only fill in the
 * descriptive fields when present. Every string handed out is valid UTF-8,
 * bounded and NUL-terminated, whatever bytes came in.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "wsb_int.h"

/* ---- lines and text ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int wsb__line_next(const char *text, size_t len, size_t *pos, wsb__line *l)
{
	size_t i = *pos, start, end;

	if (text == NULL || i >= len)
		return 0;
	start = i;
	while (i < len && text[i] != '\n' && text[i] != '\0')
		i++;
	end = i;
	*pos = i < len ? i + 1 : i;
	while (start < end && is_space(text[start]))
		start++;
	while (end > start && is_space(text[end - 1]))
		end--;
	l->p = text + start;
	l->len = end - start;
	return 1;
}

/* The length of the valid UTF-8 character at s[0, n), or 0 if invalid. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

size_t wsb__copy_clean(char *dst, size_t size, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, k;

	if (size == 0)
		return 0;
	while (i < n) {
		k = utf8_char(s + i, n - i);
		if (o + (k ? k : 1) >= size)
			break;
		if (k == 0) {
			dst[o++] = '?';
			i++;
		} else if (k == 1) {
			dst[o++] = (s[i] < 0x20 || s[i] == 0x7F) ? ' '
								 : (char)s[i];
			i++;
		} else {
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
		}
	}
	dst[o] = '\0';
	return o;
}

/* ---- version identifiers ---- */

/* "DD/DD/DDDD-DD:DD": a digit is 'D', anything else must match exactly. */
static const char version_shape[] = "DD/DD/DDDD-DD:DD";

static int version_at(const char *s, size_t n, size_t i)
{
	size_t k;

	if (n - i < WSB_VERSION_LEN)
		return 0;
	if (i > 0 && is_digit(s[i - 1]))
		return 0;
	if (n - i > WSB_VERSION_LEN && is_digit(s[i + WSB_VERSION_LEN]))
		return 0;
	for (k = 0; k < WSB_VERSION_LEN; k++) {
		if (version_shape[k] == 'D' ? !is_digit(s[i + k])
					    : s[i + k] != version_shape[k])
			return 0;
	}
	return 1;
}

long wsb__find_version_id(const char *s, size_t n)
{
	size_t i;

	for (i = 0; n >= WSB_VERSION_LEN && i <= n - WSB_VERSION_LEN; i++)
		if (is_digit(s[i]) && version_at(s, n, i))
			return (long)i;
	return -1;
}

/* ---- get versions ---- */

/* The English labels of a `get versions` block. `after` is set for the
 * label wbadmin prints after the identifier: on a tie between two
 * identifiers at the same distance it belongs to the earlier one. */
typedef struct label {
	const char *name;
	size_t offset; /* of the field in wsb_version */
	size_t size;
	int after;
} label;

static const label labels[] = {
	{"Backup time:", offsetof(wsb_version, backup_time),
	 sizeof(((wsb_version *)0)->backup_time), 0},
	{"Backup target:", offsetof(wsb_version, target),
	 sizeof(((wsb_version *)0)->target), 0},
	{"Can recover:", offsetof(wsb_version, can_recover),
	 sizeof(((wsb_version *)0)->can_recover), 1},
};

#define NLABELS (sizeof(labels) / sizeof(labels[0]))

static int ascii_prefix_ci(const wsb__line *l, const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (l->len < n)
		return 0;
	for (i = 0; i < n; i++)
		if (ascii_lower(l->p[i]) != ascii_lower(prefix[i]))
			return 0;
	return 1;
}

/* Growable arrays of the parse, each bounded by the input's line count. */
typedef struct vparse {
	wsb_version *v;
	size_t n, cap;
	wsb__line *block; /* lines of the current block */
	size_t *anchor;	  /* per version of the block: its line in block */
	size_t nblock, blockcap;
} vparse;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 8, bytes;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		if (sv_mul_size(&ncap, ncap, 2) < 0)
			return sv_error_set(SV_ENOMEM,
					    "versions: too many lines");
	if (sv_mul_size(&bytes, ncap, elem) < 0)
		return sv_error_set(SV_ENOMEM, "versions: too many lines");
	np = sv_realloc(*p, bytes);
	if (np == NULL)
		return SV_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int seen(const vparse *vp, const char *id)
{
	size_t i;

	for (i = 0; i < vp->n; i++)
		if (memcmp(vp->v[i].id, id, WSB_VERSION_LEN) == 0)
			return 1;
	return 0;
}

/* The version of the block (versions first..n-1, whose anchors are in
 * increasing line order) nearest to line i, by binary search. */
static size_t nearest(const vparse *vp, size_t first, size_t i, int after)
{
	size_t lo = 0, hi = vp->n - first, mid, before_d, after_d;

	/* lo becomes the first anchor at or after line i. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (vp->anchor[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == vp->n - first)
		return vp->n - 1;
	if (lo == 0 || vp->anchor[lo] == i)
		return first + lo;
	before_d = i - vp->anchor[lo - 1];
	after_d = vp->anchor[lo] - i;
	if (before_d < after_d || (before_d == after_d && after))
		return first + lo - 1;
	return first + lo;
}

static void fill_labels(vparse *vp, size_t first)
{
	size_t i, j, k, nl;
	const wsb__line *l;
	char *field;

	for (i = 0; i < vp->nblock; i++) {
		l = &vp->block[i];
		for (j = 0; j < NLABELS; j++) {
			if (!ascii_prefix_ci(l, labels[j].name))
				continue;
			k = nearest(vp, first, i, labels[j].after);
			field = (char *)&vp->v[k] + labels[j].offset;
			if (field[0])
				break;
			nl = strlen(labels[j].name);
			while (nl < l->len && is_space(l->p[nl]))
				nl++;
			wsb__copy_clean(field, labels[j].size, l->p + nl,
					l->len - nl);
			break;
		}
	}
}

/* Turns the current block into versions: one per new identifier. */
static int end_block(vparse *vp)
{
	size_t first = vp->n, i;
	wsb_version *v;
	long at;

	for (i = 0; i < vp->nblock; i++) {
		at = wsb__find_version_id(vp->block[i].p, vp->block[i].len);
		if (at < 0 || seen(vp, vp->block[i].p + at))
			continue;
		if (vp->n == WSB__MAX_VERSIONS)
			return sv_error_set(SV_EINVAL,
					    "get versions lists more "
					    "than %d versions",
					    WSB__MAX_VERSIONS);
		if (grow((void **)&vp->v, &vp->cap, vp->n + 1, sizeof(*vp->v)))
			return SV_ENOMEM;
		vp->anchor[vp->n - first] = i;
		v = &vp->v[vp->n++];
		memset(v, 0, sizeof(*v));
		memcpy(v->id, vp->block[i].p + at, WSB_VERSION_LEN);
	}
	if (vp->n > first)
		fill_labels(vp, first);
	vp->nblock = 0;
	return 0;
}

static int add_line(vparse *vp, const wsb__line *l)
{
	size_t cap = vp->blockcap;

	if (grow((void **)&vp->block, &vp->blockcap, vp->nblock + 1,
		 sizeof(*vp->block)))
		return SV_ENOMEM;
	if (vp->blockcap != cap || vp->anchor == NULL) {
		/* anchor[] is never longer than the block. */
		size_t *na = sv_realloc(vp->anchor,
					vp->blockcap * sizeof(*vp->anchor));

		if (na == NULL)
			return SV_ENOMEM;
		vp->anchor = na;
	}
	vp->block[vp->nblock++] = *l;
	return 0;
}

int wsb_parse_versions(wsb_version **out, size_t *count, const char *text,
		       size_t len)
{
	vparse vp;
	wsb__line l;
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (text == NULL && len != 0)
		return sv_error_set(SV_EINVAL, "versions: no text");
	memset(&vp, 0, sizeof(vp));
	while (rc == 0 && wsb__line_next(text, len, &pos, &l)) {
		if (l.len == 0)
			rc = end_block(&vp);
		else
			rc = add_line(&vp, &l);
	}
	if (rc == 0)
		rc = end_block(&vp);
	free(vp.block);
	free(vp.anchor);
	if (rc < 0) {
		free(vp.v);
		return rc;
	}
	*out = vp.v;
	*count = vp.n;
	return 0;
}

/* ---- progress ---- */

/* A percentage "N%" (1-3 digits, 0-100, not part of a decimal number). */
static int find_percent(const char *s, int *percent)
{
	size_t i, d, nd;
	int v;

	for (i = 0; s[i]; i++) {
		if (s[i] != '%')
			continue;
		for (nd = 0; nd < i && nd < 4 && is_digit(s[i - nd - 1]); nd++)
			;
		if (nd == 0 || nd > 3)
			continue;
		if (nd < i && (s[i - nd - 1] == '.' || s[i - nd - 1] == ','))
			continue;
		v = 0;
		for (d = i - nd; d < i; d++)
			v = v * 10 + (s[d] - '0');
		if (v <= 100) {
			*percent = v;
			return 1;
		}
	}
	return 0;
}

/* s starts with prefix, ASCII case-insensitively (s is NUL-terminated). */
static int starts_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (*s == '\0' || ascii_lower(*s) != ascii_lower(*prefix))
			return 0;
	return 1;
}

static const char *find_ci(const char *s, const char *needle)
{
	for (; *s; s++)
		if (starts_ci(s, needle))
			return s;
	return NULL;
}

/* "Found (N) files": the count is in the parentheses. */
static int found_files(const char *s)
{
	const char *p;

	for (p = find_ci(s, "Found ("); p; p = find_ci(p + 1, "Found (")) {
		const char *d = p + strlen("Found (");

		if (!is_digit(*d))
			continue;
		while (is_digit(*d))
			d++;
		if (starts_ci(d, ") files"))
			return 1;
	}
	return 0;
}

int wsb_parse_progress(const char *line, int *percent)
{
	if (line == NULL)
		return 0;
	if (find_percent(line, percent))
		return 1;
	if (find_ci(line, "Creating a shadow copy") ||
	    find_ci(line, "Scanning the file system") || found_files(line)) {
		*percent = -1;
		return 1;
	}
	return 0;
}
