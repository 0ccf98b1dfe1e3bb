/*
 * sv_regex.h - regular expressions (PCRE2 syntax, UTF-8). sv_regex.c is the
 * one file of sysvault that includes pcre2.h; PCRE2's errors become sv_err
 * there.
 *
 * Patterns are compiled in UTF mode. Subjects may hold any bytes: invalid
 * UTF-8 in a subject is never an error, it simply cannot be part of a match
 * of a UTF-8 character. A compiled sv_regex is read-only, so any number of
 * threads may match with it at once (each match allocates its own state).
 */
#ifndef SV_REGEX_H
#define SV_REGEX_H

#include <stddef.h>
#include "sv_error.h"

typedef struct sv_regex sv_regex;

enum {
	SV_REGEX_CASELESS = 1 << 0 /* Unicode case folding */
};

/* Compiles pattern (NUL-terminated UTF-8) with SV_REGEX_* flags. *out is
 * owned by the caller and freed with sv_regex_free(). SV_EINVAL with PCRE2's
 * message and the offset in the pattern when it does not compile; SV_ENOMEM. */
int sv_regex_new(sv_regex **out, const char *pattern, int flags);

/* Frees re; NULL is allowed. */
void sv_regex_free(sv_regex *re);

/* The number of capture groups of the pattern. */
unsigned sv_regex_groups(const sv_regex *re);

/* Where a match lies, as byte offsets into the subject. */
typedef struct sv_regex_span {
	size_t start, end;  /* the whole match: [start, end) */
	size_t group_start; /* group 1 when it took part in the match, */
	size_t group_end;   /* else the whole match */
	int group;	    /* 1 when group 1 took part, else 0 */
} sv_regex_span;

/*
 * Searches subject[0, len) (need not be NUL-terminated; may hold NULs) for
 * the first match. Returns 1 and fills *m (when m is not NULL) on a match,
 * 0 when there is none, SV_ERROR when the match gave up (PCRE2's match,
 * depth or heap limit: a pattern that backtracks without bound), SV_ENOMEM.
 */
int sv_regex_match(const sv_regex *re, const char *subject, size_t len,
		   sv_regex_span *m);

/*
 * As sv_regex_match(), then copies group 1 (or the whole match when the
 * pattern has no group or it did not take part) into dst, NUL-terminated.
 * When it does not fit, dst holds "" and SV_EINVAL is returned; with no
 * match, dst holds "" and 0 is returned.
 */
int sv_regex_match_copy(const sv_regex *re, const char *subject, size_t len,
			char *dst, size_t size);

#endif
