/*
 * fuzz_wsb_versions.c - `wbadmin get versions` parsing and progress-line
 * recognition (wsb/parse.c) on arbitrary bytes. Every version found must
 * carry an identifier of the exact "MM/DD/YYYY-HH:MM" shape, and every
 * string must be NUL-terminated, clean UTF-8; a progress value is -1 or
 * 0..100.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NUL-terminated within size, and left alone by wsb__copy_clean (valid
 * UTF-8 without control characters). */
static void check_clean(const char *s, size_t size)
{
	char tmp[512];
	size_t n;

	if (!memchr(s, '\0', size))
		abort();
	n = strlen(s);
	if (n >= sizeof(tmp) || wsb__copy_clean(tmp, sizeof(tmp), s, n) != n ||
	    memcmp(tmp, s, n) != 0)
		abort();
}

static void check_version(const wsb_version *v)
{
	check_clean(v->id, sizeof(v->id));
	if (strlen(v->id) != WSB_VERSION_LEN ||
	    wsb__find_version_id(v->id, WSB_VERSION_LEN) != 0)
		abort();
	check_clean(v->backup_time, sizeof(v->backup_time));
	check_clean(v->target, sizeof(v->target));
	check_clean(v->can_recover, sizeof(v->can_recover));
}

static void check_progress(const char *text, size_t len)
{
	char line[1024];
	wsb__line l;
	size_t pos = 0;
	int percent;

	while (wsb__line_next(text, len, &pos, &l)) {
		size_t n = l.len < sizeof(line) ? l.len : sizeof(line) - 1;

		memcpy(line, l.p, n);
		line[n] = '\0';
		percent = -2;
		if (wsb_parse_progress(line, &percent) &&
		    (percent < -1 || percent > 100))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	wsb_version *v = NULL;
	size_t n = 0, i;

	if (wsb_parse_versions(&v, &n, text, size) == 0) {
		if (n > size / WSB_VERSION_LEN)
			abort();
		for (i = 0; i < n; i++)
			check_version(&v[i]);
	}
	free(v);
	check_progress(text, size);
	return 0;
}
