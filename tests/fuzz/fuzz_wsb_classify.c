/*
 * fuzz_wsb_classify.c - classification of a failed wbadmin run (wsb/
 * catalogue.c) against the embedded catalogue, on arbitrary bytes. It must
 * never crash; it always names a code (a catalogue code or WSB_UNKNOWN),
 * and every field it fills is NUL-terminated, clean UTF-8; an HRESULT is
 * "" or "0x8" and seven upper-case hex digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once for the process, as the agent does. */
static wsb_catalogue *catalogue(void)
{
	static wsb_catalogue *c;

	if (c == NULL && wsb_catalogue_load(&c) != 0)
		abort();
	return c;
}

static void check_clean(const char *s, size_t size)
{
	char tmp[600];
	size_t n;

	if (!memchr(s, '\0', size))
		abort();
	n = strlen(s);
	if (n >= sizeof(tmp) || wsb__copy_clean(tmp, sizeof(tmp), s, n) != n ||
	    memcmp(tmp, s, n) != 0)
		abort();
}

static int known_code(const wsb_catalogue *c, const char *code)
{
	size_t i;

	if (strcmp(code, "WSB_UNKNOWN") == 0)
		return 1;
	for (i = 0; i < c->count; i++)
		if (strcmp(c->entries[i].code, code) == 0)
			return 1;
	return 0;
}

static void check_hresult(const char *hr)
{
	size_t i;

	if (!memchr(hr, '\0', 11))
		abort();
	if (hr[0] == '\0')
		return;
	if (strlen(hr) != 10 || strncmp(hr, "0x8", 3) != 0)
		abort();
	for (i = 3; i < 10; i++)
		if (!((hr[i] >= '0' && hr[i] <= '9') ||
		      (hr[i] >= 'A' && hr[i] <= 'F')))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const wsb_catalogue *c = catalogue();
	wsb_failure f;

	wsb_classify(c, (const char *)data, size, &f);
	check_clean(f.code, sizeof(f.code));
	if (!known_code(c, f.code))
		abort();
	check_clean(f.cause, sizeof(f.cause));
	check_clean(f.fix, sizeof(f.fix));
	check_clean(f.evidence, sizeof(f.evidence));
	check_clean(f.logs[0], sizeof(f.logs[0]));
	check_clean(f.logs[1], sizeof(f.logs[1]));
	check_hresult(f.hresult);
	if (f.cause[0] == '\0' || f.fix[0] == '\0')
		abort();
	return 0;
}
