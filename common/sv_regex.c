/*
 * sv_regex.c - sv_regex.h on PCRE2 (8-bit code units).
 *
 * Compiled with PCRE2_UTF | PCRE2_MATCH_INVALID_UTF: the subjects are
 * program output in whatever code page it came (wbadmin writes the OEM code
 * page), and an invalid byte must never turn into a match error. The match
 * context carries a match limit well below PCRE2's default so a pattern
 * that backtracks without bound fails fast with SV_ERROR instead of
 * stalling the caller. Compiled code and the match context are only read
 * by pcre2_match(); each call has its own match data, which is what makes
 * concurrent matching safe.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_regex.h"

/* Backtracking steps one match may take (PCRE2's default is 10 million). */
#define SV_REGEX_MATCH_LIMIT 1000000u
/* Heap for backtracking frames, in KiB (PCRE2's default is 20 MiB). */
#define SV_REGEX_HEAP_LIMIT 8192u

struct sv_regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
	unsigned groups;
};

typedef unsigned long long ull;

/* PCRE2's text for a negative error code. */
static void pcre_message(char *buf, size_t size, int err)
{
	if (pcre2_get_error_message(err, (PCRE2_UCHAR *)buf, size) < 0 &&
	    size > 0)
		sv_snprintf(buf, size, "PCRE2 error %d", err);
}

int sv_regex_new(sv_regex **out, const char *pattern, int flags)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	sv_regex *re = NULL;
	PCRE2_SIZE erroff = 0;
	char msg[256];
	int err = 0;

	*out = NULL;
	if (pattern == NULL)
		return sv_error_set(SV_EINVAL, "regex: no pattern");
	if (flags & SV_REGEX_CASELESS)
		opts |= PCRE2_CASELESS;
	re = sv_calloc(1, sizeof(*re));
	if (re == NULL)
		return SV_ENOMEM;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
				 opts, &err, &erroff, NULL);
	if (re->code == NULL) {
		free(re);
		if (err == PCRE2_ERROR_NOMEMORY)
			return sv_error_set(SV_ENOMEM, "regex: out of memory");
		pcre_message(msg, sizeof(msg), err);
		return sv_error_set(SV_EINVAL, "regex '%s': %s at offset %llu",
				    pattern, msg, (ull)erroff);
	}
	re->mctx = pcre2_match_context_create(NULL);
	if (re->mctx == NULL) {
		sv_regex_free(re);
		return sv_error_set(SV_ENOMEM, "regex: out of memory");
	}
	pcre2_set_match_limit(re->mctx, SV_REGEX_MATCH_LIMIT);
	pcre2_set_heap_limit(re->mctx, SV_REGEX_HEAP_LIMIT);
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->groups);
	*out = re;
	return 0;
}

void sv_regex_free(sv_regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re);
}

unsigned sv_regex_groups(const sv_regex *re)
{
	return re->groups;
}

/* Maps a negative pcre2_match() result to sv_err. */
static int match_error(int rc)
{
	char msg[256];

	if (rc == PCRE2_ERROR_NOMEMORY)
		return sv_error_set(SV_ENOMEM, "regex match: out of memory");
	pcre_message(msg, sizeof(msg), rc);
	return sv_error_set(SV_ERROR, "regex match gave up: %s", msg);
}

/* Fills m from the ovector of a successful match with rc pairs set. */
static void fill_match(sv_regex_span *m, const PCRE2_SIZE *ov, int rc)
{
	m->start = ov[0];
	/* \K inside a lookahead can put the end before the start. */
	m->end = ov[1] >= ov[0] ? ov[1] : ov[0];
	m->group_start = m->start;
	m->group_end = m->end;
	m->group = 0;
	if (rc >= 2 && ov[2] != PCRE2_UNSET && ov[3] >= ov[2]) {
		m->group_start = ov[2];
		m->group_end = ov[3];
		m->group = 1;
	}
}

int sv_regex_match(const sv_regex *re, const char *subject, size_t len,
		   sv_regex_span *m)
{
	pcre2_match_data *md;
	int rc;

	/* PCRE2 before 10.43 rejects a NULL subject even when empty. */
	if (subject == NULL) {
		if (len != 0)
			return sv_error_set(SV_EINVAL,
					    "regex match: no subject");
		subject = "";
	}
	md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (md == NULL)
		return sv_error_set(SV_ENOMEM, "regex match: out of memory");
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md,
			 re->mctx);
	if (rc >= 0) {
		/* rc == 0 means the ovector was too small: group 0 is set. */
		if (m)
			fill_match(m, pcre2_get_ovector_pointer(md),
				   rc == 0 ? 1 : rc);
		rc = 1;
	} else if (rc == PCRE2_ERROR_NOMATCH) {
		rc = 0;
	} else {
		rc = match_error(rc);
	}
	pcre2_match_data_free(md);
	return rc;
}

int sv_regex_match_copy(const sv_regex *re, const char *subject, size_t len,
			char *dst, size_t size)
{
	sv_regex_span m;
	size_t n;
	int rc;

	if (size == 0)
		return sv_error_set(SV_EINVAL, "regex copy: empty destination");
	dst[0] = '\0';
	rc = sv_regex_match(re, subject, len, &m);
	if (rc <= 0)
		return rc;
	n = m.group_end - m.group_start;
	if (n >= size)
		return sv_error_set(SV_EINVAL,
				    "regex copy: %llu bytes do not fit in %llu",
				    (ull)n, (ull)size);
	memcpy(dst, subject + m.group_start, n);
	dst[n] = '\0';
	return 1;
}
