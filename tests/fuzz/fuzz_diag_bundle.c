/*
 * fuzz_diag_bundle.c - the preflight bundle reader and every verdict on
 * arbitrary bytes. A bundle comes from another machine: whatever it holds,
 * loading, judging and printing it must not crash, and an accepted bundle
 * must give a verdict and a reason for every check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(diag_report *r)
{
	diag_result res;
	json_t *j;
	sv_buf b;
	size_t i;
	int code;

	if (diag_evaluate(r, NULL) < 0)
		return;
	for (i = 0; i < diag_count(r); i++) {
		if (diag_result_at(r, i, &res) < 0 || !res.reason)
			abort();
		if (res.verdict > DIAG_FAIL)
			abort();
		if ((res.verdict == DIAG_FAIL || res.verdict == DIAG_WARN) &&
		    !res.fix)
			abort();
	}
	code = diag_exit_code(r);
	if (code < 0 || code > 2)
		abort();
	j = diag_report_json(r);
	json_decref(j);
	sv_buf_init(&b, SV_BUF_DEFAULT_MAX);
	diag_report_text(r, &b, 80);
	sv_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	diag_report *r = NULL;

	if (diag_load_mem(&r, (const char *)data, size) == 0)
		check(r);
	diag_report_free(r);
	return 0;
}
