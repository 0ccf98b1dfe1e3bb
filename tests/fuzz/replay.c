/*
 * replay.c - runs a fuzz target over every file of the corpus directories
 * named on the command line, so that ctest replays each corpus as a plain
 * test on every platform (no libFuzzer needed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct replay {
	const char *dir;
	unsigned files;
} replay;

static int one(void *ud, const sv_dirent *e)
{
	replay *r = ud;
	char *path, *data = NULL;
	size_t len;
	int rc;

	if (e->is_dir)
		return 0;
	path = sv_path_join(r->dir, e->name);
	if (!path)
		return SV_ENOMEM;
	rc = sv_fs_read_all(&data, &len, path, 64u << 20);
	if (rc == 0) {
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		r->files++;
	}
	free(data);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		replay r = { argv[i], 0 };

		if (sv_fs_list_dir(argv[i], one, &r) < 0) {
			fprintf(stderr, "replay: %s\n", sv_error_msg());
			return 1;
		}
		if (r.files == 0) {
			fprintf(stderr, "replay: corpus '%s' is empty\n", argv[i]);
			return 1;
		}
		printf("replayed %u inputs from %s\n", r.files, argv[i]);
	}
	return argc > 1 ? 0 : 2;
}
