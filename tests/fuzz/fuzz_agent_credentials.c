/*
 * fuzz_agent_credentials.c - the credentials file parser never crashes or
 * leaks, and whatever it accepts survives its own JSON round trip with the
 * same canonical bytes (the bytes the tag covers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registration.h"
#include "sv_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1795000000 /* 2026-11-18 */

static void canonical(sv_buf *b, const sv_credentials *c)
{
	sv_buf_init(b, 1u << 20);
	if (sv_credentials_canonical(b, c) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_credentials c, again;
	sv_buf a, b;
	json_t *j;
	char *text;

	if (sv_credentials_parse(&c, (const char *)data, size, NOW) < 0)
		return 0;
	j = sv_credentials_json(&c);
	text = j ? sv_json_dump(j, 0) : NULL;
	if (!text || sv_credentials_parse(&again, text, strlen(text), NOW) < 0)
		abort();
	canonical(&a, &c);
	canonical(&b, &again);
	if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0 ||
	    memcmp(c.tag, again.tag, sizeof(c.tag)) != 0)
		abort();
	sv_buf_release(&a);
	sv_buf_release(&b);
	sv_credentials_release(&again);
	sv_credentials_release(&c);
	free(text);
	json_decref(j);
	return 0;
}
