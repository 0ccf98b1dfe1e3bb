/*
 * fuzz_diag_vssadmin.c - the readers of the tools' output on arbitrary
 * bytes: `vssadmin list writers` (then judged as PF008 would),
 * `vssadmin list shadowstorage`, tasklist CSV, ps, reg and the probe
 * scripts' tagged lines. Whatever they accept must have the shape the
 * verdicts expect.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void writers(const char *text, size_t size)
{
	json_t *w = NULL, *ev, *one;
	diag__judge j = {"windows"};
	diag__outcome o;
	size_t i;

	if (diag__vssadmin_parse_writers(&w, text, size) < 0)
		return;
	json_array_foreach(
		w, i, one) if (!json_is_string(json_object_get(one, "name")))
		abort();
	ev = json_object();
	json_object_set_new(ev, "writers", w);
	o.verdict = DIAG_SKIP;
	sv_buf_init(&o.reason, 16384);
	sv_buf_init(&o.fix, 16384);
	diag__verdict_writers(&j, ev, &o);
	if (json_array_size(w) > 0 && o.verdict == DIAG_SKIP)
		abort();
	sv_buf_release(&o.reason);
	sv_buf_release(&o.fix);
	json_decref(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	json_t *st = NULL, *names = json_array();
	char v[64];

	writers(text, size);
	if (diag__vssadmin_parse_storage(&st, text, size) == 0 &&
	    !json_is_object(st))
		abort();
	json_decref(st);
	diag__parse_tasklist(names, text, size);
	diag__parse_ps(names, text, size);
	json_decref(names);
	if (diag__tagged_value(text, size, "SV_ESP", v, sizeof(v)) == 0 &&
	    !memchr(v, '\0', sizeof(v)))
		abort();
	if (diag__parse_reg_sz(text, size, "TimeZoneKeyName", v, sizeof(v)) ==
		    0 &&
	    !memchr(v, '\0', sizeof(v)))
		abort();
	return 0;
}
