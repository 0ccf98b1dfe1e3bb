/*
 * report.c - the report as text: one line per check (id, verdict, title,
 * the evidence that decided), the fix under each warning and failure, and
 * a summary line.
 */
#include <string.h>

#include "diag_int.h"

#define TITLE_COL 31  /* the longest title */
#define FIX_INDENT 13 /* under the verdict column */
#define WRAP_DEFAULT 79

/* Appends s (n bytes), cut to fit the columns left; "..." marks a cut. */
static int add_cut(sv_buf *b, const char *s, size_t n, size_t room)
{
	if (room == 0 || n <= room)
		return sv_buf_add(b, s, n);
	if (room <= 3)
		return sv_buf_add(b, "...", room);
	/* Do not cut a UTF-8 sequence in two. */
	room -= 3;
	while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
		room--;
	return sv_buf_add(b, s, room) | sv_buf_adds(b, "...");
}

static const char *verdict_label(diag_verdict v)
{
	switch (v) {
	case DIAG_PASS:
		return "pass";
	case DIAG_SKIP:
		return "skip";
	case DIAG_WARN:
		return "WARN";
	case DIAG_FAIL:
		return "FAIL";
	}
	return "?";
}

/* One paragraph of the fix, word-wrapped at width, every line indented. */
static int add_paragraph(sv_buf *b, const char *s, size_t n, size_t width,
			 int first)
{
	size_t col, w, i = 0;
	int rc = 0;

	rc |= sv_buf_printf(b, "%*s%s", FIX_INDENT, "",
			    first ? "fix: " : "     ");
	col = FIX_INDENT + 5;
	while (i < n) {
		while (i < n && s[i] == ' ')
			i++;
		for (w = 0; i + w < n && s[i + w] != ' '; w++)
			;
		if (w == 0)
			break;
		if (col > FIX_INDENT + 5 && col + 1 + w > width) {
			rc |= sv_buf_printf(b, "\n%*s", FIX_INDENT + 5, "");
			col = FIX_INDENT + 5;
		} else if (col > FIX_INDENT + 5) {
			rc |= sv_buf_addc(b, ' ');
			col++;
		}
		rc |= sv_buf_add(b, s + i, w);
		col += w;
		i += w;
	}
	return rc | sv_buf_addc(b, '\n');
}

static int add_fix(sv_buf *b, const char *fix, size_t width)
{
	size_t n;
	int rc = 0, first = 1;

	while (*fix) {
		n = strcspn(fix, "\n");
		rc |= add_paragraph(b, fix, n, width, first);
		first = 0;
		fix += n;
		if (*fix == '\n')
			fix++;
	}
	return rc;
}

static int add_check(sv_buf *b, const diag_report *r, size_t i, unsigned width)
{
	const diag__check *c = &diag__checks[i];
	const diag__result *res = &r->res[i];
	const char *reason = res->reason ? res->reason : "";
	size_t used = 5 + 2 + 4 + 2 + TITLE_COL + 2;
	int rc;

	rc = sv_buf_printf(b, "%s  %s  %-*s  ", c->id,
			   verdict_label(res->verdict), TITLE_COL, c->title);
	rc |= add_cut(b, reason, strcspn(reason, "\n"),
		      width > used ? width - used
		      : width	   ? 1
				   : 0);
	rc |= sv_buf_addc(b, '\n');
	if (res->fix &&
	    (res->verdict == DIAG_FAIL || res->verdict == DIAG_WARN))
		rc |= add_fix(b, res->fix, width ? width : WRAP_DEFAULT);
	return rc ? SV_ENOMEM : 0;
}

int diag_report_text(const diag_report *r, sv_buf *out, unsigned width)
{
	size_t n[4] = {0, 0, 0, 0}, i;
	int rc = 0;

	for (i = 0; rc == 0 && i < DIAG__NCHECKS; i++) {
		n[r->res[i].verdict & 3]++;
		rc = add_check(out, r, i, width);
	}
	if (rc == 0)
		rc = sv_buf_printf(
			out,
			"%u pass, %u warn, %u fail, %u skip "
			"in %.1f s%s%s\n",
			(unsigned)n[DIAG_PASS], (unsigned)n[DIAG_WARN],
			(unsigned)n[DIAG_FAIL], (unsigned)n[DIAG_SKIP],
			(double)r->duration_ms / 1000.0,
			r->host[0] ? " on " : "", r->host);
	return rc;
}
