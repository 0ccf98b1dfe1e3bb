/*
 * sv_test.c - helpers shared by the unit tests.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_time.h"

char *sv_test_tmpdir(const char *tag)
{
	static unsigned seq;
	char *base = sv_fs_temp_dir(), *name, *dir;

	name = sv_aprintf("svtest-%s-%llu-%u", tag,
			  (unsigned long long)sv_time_mono_ms(), ++seq);
	dir = base && name ? sv_path_join(base, name) : NULL;
	free(base);
	free(name);
	if (!dir || sv_fs_remove_tree(dir) < 0 || sv_fs_mkdir_p(dir, 1) < 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *sv_test_bin(const char *name)
{
	const char *dir = getenv("SV_TEST_BIN_DIR");
#ifdef _WIN32
	const char *ext = ".exe";
#else
	const char *ext = "";
#endif

	return sv_aprintf("%s%c%s%s", dir ? dir : ".", SV_PATH_SEP, name, ext);
}
