/*
 * fuzz_point.c - the recovery point checks never crash or leak, and never
 * accept a path that could escape the restore target.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sv_path.h"
#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *p = NULL, *files, *f;
	size_t i;

	if (sv_json_parse(&p, (const char *)data, size, "point") < 0)
		return 0;
	if (vault__point_validate(p, "fuzz") == 0) {
		files = json_object_get(p, "files");
		json_array_foreach(files, i, f) {
			const char *path = json_string_value(json_object_get(f, "path"));

			if (!path || sv_path_check_relative(path) != 0)
				abort();
		}
	}
	json_decref(p);
	return 0;
}
