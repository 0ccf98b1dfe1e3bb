/*
 * catalogue.c - the wbadmin error catalogue (wsb/errors.tsv, embedded) and
 * the classification of a failed run's output against it.
 *
 * Language-neutral evidence decides first: every hresult and event entry,
 * in file order, is tried on every line before any English phrase is, so
 * a localised wbadmin that prints an HRESULT is classified as precisely as
 * an English one. What matches nothing is WSB_UNKNOWN, with the last lines
 * of output as evidence. Classification only ever names a failure: deciding
 * that a run succeeded is the driver's, from exit code, versions and the
 * event log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "wsb_int.h"

#define FIELDS 5
#define UNKNOWN_CODE "WSB_UNKNOWN"
#define UNKNOWN_CAUSE                                                          \
	"wbadmin failed for a reason the error catalogue does not know."
#define UNKNOWN_FIX                                                            \
	"Read the last lines of wbadmin's output and the logs it named; "      \
	"check the Microsoft-Windows-Backup event log, then retry."
#define EVIDENCE_LINES 3
#define EVIDENCE_SEP " | "

/* ---- loading ---- */

static const char *const kind_names[] = {"hresult", "event", "text"};

static int bad_line(unsigned line, const char *msg, const char *what)
{
	return sv_error_set(SV_EINVAL, "errors.tsv line %u: %s%s", line, msg,
			    what);
}

static int valid_code(const char *s)
{
	size_t i;

	if (strncmp(s, "WSB_", 4) != 0 || s[4] == '\0')
		return 0;
	for (i = 4; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

/* Splits line (NUL-terminated, tabs separate) into exactly FIELDS fields. */
static int split_fields(char *line, char *f[FIELDS], unsigned no)
{
	int n = 0;
	char *p = line, *tab;

	for (;;) {
		if (n == FIELDS)
			return bad_line(no, "more than 5 tab-separated fields",
					"");
		f[n++] = p;
		tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (n != FIELDS)
		return bad_line(no,
				"fewer than 5 tab-separated fields "
				"(code, kind, pattern, cause, fix)",
				"");
	for (n = 0; n < FIELDS; n++)
		if (f[n][0] == '\0')
			return bad_line(no, "empty field", "");
	return 0;
}

static int check_entry(const wsb_catalogue *c, const wsb__entry *e)
{
	wsb_failure *f = NULL;
	size_t i;

	if (!valid_code(e->code) || strlen(e->code) >= sizeof(f->code))
		return bad_line(e->line,
				"code is not WSB_[A-Z0-9_]+ of at most "
				"47 characters: ",
				e->code);
	if (strcmp(e->code, UNKNOWN_CODE) == 0)
		return bad_line(e->line, "WSB_UNKNOWN is implicit", "");
	if (strlen(e->cause) >= sizeof(f->cause) || has_control(e->cause))
		return bad_line(e->line,
				"cause longer than 255 bytes or with "
				"control characters",
				"");
	if (strlen(e->fix) >= sizeof(f->fix) || has_control(e->fix))
		return bad_line(e->line,
				"fix longer than 511 bytes or with "
				"control characters",
				"");
	for (i = 0; i < c->count; i++) {
		const wsb__entry *o = &c->entries[i];

		if (strcmp(o->code, e->code) == 0 &&
		    (strcmp(o->cause, e->cause) || strcmp(o->fix, e->fix)))
			return bad_line(e->line,
					"cause or fix differs from an "
					"earlier line of the same code: ",
					e->code);
	}
	return 0;
}

/* Parses one non-comment line into c->entries[c->count]. */
static int parse_entry(wsb_catalogue *c, char *line, unsigned no)
{
	wsb__entry *e = &c->entries[c->count];
	char *f[FIELDS];
	int rc, k;

	rc = split_fields(line, f, no);
	if (rc < 0)
		return rc;
	memset(e, 0, sizeof(*e));
	e->code = f[0];
	e->pattern = f[2];
	e->cause = f[3];
	e->fix = f[4];
	e->line = no;
	for (k = 0; k < 3 && strcmp(f[1], kind_names[k]) != 0; k++)
		;
	if (k == 3)
		return bad_line(no,
				"kind is not hresult, event or text: ", f[1]);
	e->kind = (wsb__kind)k;
	rc = check_entry(c, e);
	if (rc < 0)
		return rc;
	rc = sv_regex_new(&e->re, e->pattern, SV_REGEX_CASELESS);
	if (rc < 0) {
		sv_error_prefix("errors.tsv line %u (%s)", no, e->code);
		return rc;
	}
	c->count++;
	return 0;
}

/* Counts the lines of text, an upper bound on the entries. */
static size_t count_lines(const char *text)
{
	size_t n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static int parse_all(wsb_catalogue *c)
{
	char *p = c->text, *nl;
	unsigned no = 0;
	size_t n;
	int rc;

	while (*p) {
		no++;
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		n = strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		if (n > 0 && p[0] != '#') {
			if (c->count == WSB__MAX_ENTRIES)
				return bad_line(no, "too many entries", "");
			rc = parse_entry(c, p, no);
			if (rc < 0)
				return rc;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (c->count == 0)
		return sv_error_set(SV_EINVAL, "errors.tsv: no entries");
	return 0;
}

int wsb__catalogue_parse(wsb_catalogue **out, const char *tsv, size_t len)
{
	wsb_catalogue *c = NULL;
	size_t lines;
	int rc;

	*out = NULL;
	if (tsv == NULL || memchr(tsv, '\0', len) != NULL)
		return sv_error_set(SV_EINVAL, "errors.tsv: missing or holds "
					       "a NUL byte");
	c = sv_calloc(1, sizeof(*c));
	if (c == NULL)
		return SV_ENOMEM;
	c->text = sv_strndup(tsv, len);
	if (c->text == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	lines = count_lines(c->text);
	if (lines > WSB__MAX_ENTRIES)
		lines = WSB__MAX_ENTRIES;
	c->entries = sv_calloc(lines, sizeof(*c->entries));
	if (c->entries == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	rc = parse_all(c);
done:
	if (rc < 0) {
		wsb_catalogue_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int wsb_catalogue_load(wsb_catalogue **out)
{
	return wsb__catalogue_parse(out, wsb__errors_tsv, wsb__errors_tsv_len);
}

void wsb_catalogue_free(wsb_catalogue *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->count; i++)
		sv_regex_free(c->entries[i].re);
	free(c->entries);
	free(c->text);
	free(c);
}

int wsb_catalogue_each(const wsb_catalogue *c, wsb_entry_cb cb, void *ud)
{
	size_t i, j;
	int rc;

	for (i = 0; c && i < c->count; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(c->entries[j].code, c->entries[i].code) == 0)
				break;
		if (j < i)
			continue; /* each code once, at its first line */
		rc = cb(ud, c->entries[i].code, c->entries[i].cause,
			c->entries[i].fix);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- classification ---- */

/* The lines considered: the last WSB__CLASSIFY_MAX_LINES non-empty ones. */
typedef struct lines {
	wsb__line *l;
	size_t n;
} lines;

static int collect_lines(lines *ls, const char *text, size_t len)
{
	size_t pos = 0, total = 0, cap;
	wsb__line l;

	ls->l = NULL;
	ls->n = 0;
	while (wsb__line_next(text, len, &pos, &l))
		total += l.len > 0;
	cap = total < WSB__CLASSIFY_MAX_LINES ? total : WSB__CLASSIFY_MAX_LINES;
	if (cap == 0)
		return 0;
	ls->l = sv_calloc(cap, sizeof(*ls->l));
	if (ls->l == NULL)
		return SV_ENOMEM;
	pos = 0;
	while (wsb__line_next(text, len, &pos, &l)) {
		if (l.len == 0)
			continue;
		if (total-- > cap)
			continue; /* before the window */
		ls->l[ls->n++] = l;
	}
	return 0;
}

static int entry_in_pass(const wsb__entry *e, int pass)
{
	return pass == 0 ? e->kind != WSB__KIND_TEXT
			 : e->kind == WSB__KIND_TEXT;
}

/* The deciding entry among ls, or -1; *hit gets its line. */
static long decide(const wsb_catalogue *c, const lines *ls, wsb__line *hit)
{
	size_t i, j;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->count; i++) {
			const wsb__entry *e = &c->entries[i];

			if (!entry_in_pass(e, pass))
				continue;
			for (j = 0; j < ls->n; j++) {
				if (sv_regex_match(e->re, ls->l[j].p,
						   ls->l[j].len, NULL) != 1)
					continue;
				if (hit)
					*hit = ls->l[j];
				return (long)i;
			}
		}
	}
	return -1;
}

long wsb__classify_entry(const wsb_catalogue *c, const char *output, size_t len,
			 wsb__line *line)
{
	lines ls;
	long idx = -1;

	if (c == NULL || collect_lines(&ls, output, len) < 0)
		return -1;
	idx = decide(c, &ls, line);
	free(ls.l);
	return idx;
}

/* ---- what goes with a classification ---- */

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

static int is_word(char ch)
{
	return is_hex(ch) || (ch >= 'g' && ch <= 'z') ||
	       (ch >= 'G' && ch <= 'Z') || ch == '_';
}

static char upper(char ch)
{
	return ch >= 'a' && ch <= 'f' ? (char)(ch - 'a' + 'A') : ch;
}

/* Eight hex digits starting with 8 at s[i], ending at a word boundary. */
static int hr_digits(const char *s, size_t n, size_t i)
{
	size_t k;

	if (n - i < 8 || s[i] != '8')
		return 0;
	for (k = 1; k < 8; k++)
		if (!is_hex(s[i + k]))
			return 0;
	return n - i == 8 || !is_word(s[i + 8]);
}

/* After an "HResult" label (also inside "DetailedHResult"): optional ':',
 * '=' and spaces, then where the digits must start; 0 when no label. */
static size_t after_label(const char *s, size_t n, size_t i)
{
	static const char label[] = "hresult";
	size_t k;

	if (n - i < sizeof(label) - 1)
		return 0;
	for (k = 0; k < sizeof(label) - 1; k++)
		if ((s[i + k] | 0x20) != label[k])
			return 0;
	i += k;
	while (i < n && (s[i] == ':' || s[i] == ' ' || s[i] == '='))
		i++;
	return i;
}

int wsb__find_hresult(const char *s, size_t n, char hr[11])
{
	size_t i, at, k;

	for (i = 0; i < n; i++) {
		at = 0;
		if (s[i] == '0' && n - i > 2 && (s[i + 1] | 0x20) == 'x' &&
		    (i == 0 || !is_word(s[i - 1])))
			at = i + 2;
		else if ((s[i] | 0x20) == 'h')
			at = after_label(s, n, i);
		if (at == 0 || at >= n || !hr_digits(s, n, at))
			continue;
		hr[0] = '0';
		hr[1] = 'x';
		for (k = 0; k < 8; k++)
			hr[2 + k] = upper(s[at + k]);
		hr[10] = '\0';
		return 1;
	}
	return 0;
}

/* The HRESULT of the deciding line, else the first one in the output. */
static void set_hresult(wsb_failure *out, const lines *ls, const wsb__line *hit)
{
	size_t j;

	if (hit && wsb__find_hresult(hit->p, hit->len, out->hresult))
		return;
	for (j = 0; j < ls->n; j++)
		if (wsb__find_hresult(ls->l[j].p, ls->l[j].len, out->hresult))
			return;
	out->hresult[0] = '\0';
}

/* A line that is a log path wbadmin named: after removing quotes, a drive
 * or UNC path ending in ".log". Language-neutral, so the translated
 * "Log of files ..." headers are not needed to find them. */
static int log_path(const wsb__line *l, wsb__line *path)
{
	const char *p = l->p;
	size_t n = l->len;

	while (n > 0 && (p[0] == '\'' || p[0] == '"')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '\'' || p[n - 1] == '"'))
		n--;
	if (n < 8)
		return 0;
	if (!((((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z') && p[1] == ':' &&
	       p[2] == '\\') ||
	      (p[0] == '\\' && p[1] == '\\')))
		return 0;
	if (p[n - 4] != '.' || (p[n - 3] | 0x20) != 'l' ||
	    (p[n - 2] | 0x20) != 'o' || (p[n - 1] | 0x20) != 'g')
		return 0;
	path->p = p;
	path->len = n;
	return 1;
}

static void set_logs(wsb_failure *out, const lines *ls)
{
	size_t j, k, nlogs = 0;
	wsb__line path;
	char tmp[sizeof(out->logs[0])];

	for (j = 0; j < ls->n && nlogs < 2; j++) {
		if (!log_path(&ls->l[j], &path))
			continue;
		if (path.len >= sizeof(tmp))
			continue; /* a cut path would name another file */
		wsb__copy_clean(tmp, sizeof(tmp), path.p, path.len);
		for (k = 0; k < nlogs; k++)
			if (strcmp(out->logs[k], tmp) == 0)
				break;
		if (k == nlogs)
			memcpy(out->logs[nlogs++], tmp, sizeof(tmp));
	}
}

/* The last EVIDENCE_LINES lines, joined by EVIDENCE_SEP. */
static void set_last_lines(wsb_failure *out, const lines *ls)
{
	size_t first = ls->n > EVIDENCE_LINES ? ls->n - EVIDENCE_LINES : 0;
	size_t j, o = 0;

	out->evidence[0] = '\0';
	for (j = first; j < ls->n; j++) {
		if (j > first)
			o += wsb__copy_clean(
				out->evidence + o, sizeof(out->evidence) - o,
				EVIDENCE_SEP, strlen(EVIDENCE_SEP));
		o += wsb__copy_clean(out->evidence + o,
				     sizeof(out->evidence) - o, ls->l[j].p,
				     ls->l[j].len);
	}
}

static void set_unknown(wsb_failure *out, const lines *ls)
{
	sv_strlcpy(out->code, UNKNOWN_CODE, sizeof(out->code));
	sv_strlcpy(out->cause, UNKNOWN_CAUSE, sizeof(out->cause));
	sv_strlcpy(out->fix, UNKNOWN_FIX, sizeof(out->fix));
	set_last_lines(out, ls);
}

void wsb_classify(const wsb_catalogue *c, const char *output, size_t len,
		  wsb_failure *out)
{
	lines ls = {NULL, 0};
	wsb__line hit;
	long idx = -1;

	memset(out, 0, sizeof(*out));
	if (collect_lines(&ls, output, len) < 0) {
		set_unknown(out, &ls);
		return;
	}
	if (c)
		idx = decide(c, &ls, &hit);
	if (idx < 0) {
		set_unknown(out, &ls);
	} else {
		const wsb__entry *e = &c->entries[idx];

		sv_strlcpy(out->code, e->code, sizeof(out->code));
		sv_strlcpy(out->cause, e->cause, sizeof(out->cause));
		sv_strlcpy(out->fix, e->fix, sizeof(out->fix));
		wsb__copy_clean(out->evidence, sizeof(out->evidence), hit.p,
				hit.len);
	}
	set_hresult(out, &ls, idx < 0 ? NULL : &hit);
	set_logs(out, &ls);
	free(ls.l);
}

int wsb__event_line(char *dst, size_t size, const char *provider, unsigned id,
		    uint32_t hresult)
{
	if (hresult != 0)
		return sv_snprintf(dst, size, "event %s %u 0x%08X", provider,
				   id, (unsigned)hresult);
	return sv_snprintf(dst, size, "event %s %u", provider, id);
}
