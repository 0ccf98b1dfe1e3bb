/*
 * test_cache_cli.c - `sysvault cache move` through the binary, with the
 * wbadmin simulator: a move after a backup completes with a verified copy
 * that the next backup uses; a move is refused beside a running backup
 * (and waits for it with --wait) and beside a seeding `vault copy`; a
 * backup is refused while a move runs; a folder the preflight rejects is
 * refused.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "jobs.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

#ifndef _WIN32
#include <unistd.h>
#endif

#define PASS "correct horse battery staple"

/* cache move takes only PF004/PF005 to skip; the free space of the
 * machine the tests share must not decide these tests (backup passes
 * CLI_SKIPS, sv_cli.h). */
#define NO_SPACE "--skip-check", "PF005"

typedef struct env {
	char *dir, *state, *vault, *newdir;
	char *wbadmin;
	cli_sim sim;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("cache");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->state = sv_path_join(e->dir, "state");
	e->vault = sv_path_join(e->dir, "vault");
	e->newdir = sv_path_join(e->dir, "new scratch");
	cli_sim_env(&e->sim, e->dir, e->state, e->wbadmin,
		    "SYSVAULT_PASSPHRASE=" PASS, "WBADMIN_SIM_SIZE=4M");
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->state);
	free(e->vault);
	free(e->newdir);
	cli_sim_free(&e->sim);
	free(e->wbadmin);
	free(e);
	return 0;
}

static void backup(env *e)
{
	const char *a[] = {"backup", CLI_SKIPS "--vault",
			   e->vault, NULL};

	cli_check(a, 0, NULL);
}

/* config.json's "scratch", or "" (caller frees). */
static char *configured_scratch(env *e)
{
	char *path = sv_path_join(e->state, "config.json"), *out;
	json_t *j = NULL;
	const char *v;

	if (sv_json_load_file(&j, path, 1 << 20) < 0)
		j = NULL;
	v = json_string_value(json_object_get(j, "scratch"));
	out = sv_strdup(v ? v : "");
	json_decref(j);
	free(path);
	return out;
}

/* ---- comparing two trees ---- */

typedef struct cmp {
	const char *a, *b;
	int files;
} cmp;

static void compare_trees(const char *a, const char *b, int *files);

static int compare_entry(void *ud, const sv_dirent *e)
{
	cmp *c = ud;
	char *pa = sv_path_join(c->a, e->name),
	     *pb = sv_path_join(c->b, e->name);
	char *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;

	if (e->is_dir) {
		compare_trees(pa, pb, &c->files);
	} else {
		sv_assert_ok(sv_fs_read_all(&da, &la, pa, 64 << 20));
		if (sv_fs_read_all(&db, &lb, pb, 64 << 20) < 0)
			fail_msg("'%s' was not copied to '%s'", pa, pb);
		assert_int_equal(la, lb);
		assert_memory_equal(da, db, la);
		c->files++;
	}
	free(da);
	free(db);
	free(pa);
	free(pb);
	return 0;
}

static void compare_trees(const char *a, const char *b, int *files)
{
	cmp c = {a, b, 0};

	sv_assert_ok(sv_fs_list_dir(a, compare_entry, &c));
	*files += c.files;
}

/* ---- the tests ---- */

static void test_cache_cli__move_completes_with_a_verified_copy(void **state)
{
	env *e = *state;
	const char *move[] = {"--json",	 "cache",  "move",
			      e->newdir, NO_SPACE, NULL};
	char *old = sv_path_join(e->state, "Scratch"), *scratch;
	json_t *j;
	cli_run r;
	int files = 0;

	cli_init_vault(e->vault);
	backup(e);
	cli_expect(&r, move, 0, NULL);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "cache move"));
	cli_done(&r);
	assert_true(json_is_true(json_object_get(j, "verified")));
	assert_false(json_is_true(json_object_get(j, "old_deleted")));
	assert_true(json_integer_value(json_object_get(j, "files")) > 0);
	/* Copied, not moved: both trees hold the same bytes. */
	compare_trees(old, e->newdir, &files);
	assert_int_equal(files,
			 json_integer_value(json_object_get(j, "files")));
	json_decref(j);
	scratch = configured_scratch(e);
	assert_string_equal(scratch, e->newdir);
	free(scratch);
	j = cli_newest_job();
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
			    "cache");
	assert_string_equal(json_string_value(json_object_get(j, "state")),
			    "completed");
	json_decref(j);

	/* The next backup uses the new folder: the old one stays gone. */
	sv_assert_ok(sv_fs_remove_tree(old));
	backup(e);
	assert_int_equal(sv_fs_stat(old, NULL, NULL), SV_ENOTFOUND);
	free(old);
}

static void test_cache_cli__refused_during_a_backup_then_waits(void **state)
{
	env *e = *state;
	const char *hang[] = {"backup", CLI_SKIPS "--vault",
			      e->vault, "--wbadmin-timeout",	  "120s",
			      NULL};
	const char *move[] = {"cache", "move", e->newdir, NO_SPACE, NULL};
	const char *wait[] = {"cache",	"move",	  e->newdir,
			      "--wait", NO_SPACE, NULL};
	char num[32], want[96], *scratch;
	const char *cancel[] = {"jobs", "cancel", num, NULL};
	cli_bg *bg, *mv;
	cli_run r;
	int64_t id;

	cli_init_vault(e->vault);
	backup(e);
	cli_sim_fail(&e->sim, "hang");
	bg = cli_start(hang);
	id = cli_wait_running("backup");
	snprintf(want, sizeof(want), "job %lld (backup, pid", (long long)id);
	cli_expect(&r, move, 2, want);
	assert_non_null(strstr(r.err.ptr, "--wait"));
	cli_done(&r);
	assert_int_equal(sv_fs_stat(e->newdir, NULL, NULL), SV_ENOTFOUND);
	scratch = configured_scratch(e);
	assert_string_equal(scratch, "");
	free(scratch);

	/* --wait: the move starts once the backup has ended. */
	mv = cli_start(wait);
	sv_time_sleep_ms(2500);
	snprintf(num, sizeof(num), "%lld", (long long)id);
	cli_check(cancel, 0, NULL);
	cli_wait(bg, &r);
	assert_int_equal(r.code, 4);
	cli_done(&r);
	cli_sim_fail(&e->sim, NULL);
	cli_wait(mv, &r);
	if (r.code != 0)
		fail_msg("cache move --wait exited %d: %s", r.code, r.err.ptr);
	assert_non_null(strstr(r.err.ptr, "waiting"));
	assert_non_null(strstr(r.out.ptr, "copy verified"));
	cli_done(&r);
	scratch = configured_scratch(e);
	assert_string_equal(scratch, e->newdir);
	free(scratch);
}

/* A seeding copy (a running `vault copy` job) keeps the move out, and a
 * running move keeps backups out. The jobs are begun here, owned by this
 * live process, as the other commands would begin them. */
static void test_cache_cli__refused_beside_a_seeding_copy(void **state)
{
	env *e = *state;
	const char *move[] = {"cache", "move", e->newdir, NO_SPACE, NULL};
	const char *bk[] = {"backup", CLI_SKIPS "--vault",
			    e->vault, NULL};
	sv_job_end done = {SV_JOB_COMPLETED, NULL, NULL, NULL, 0, 0};
	sv_jobs *s = NULL;
	int64_t id;
	char want[64];
	cli_run r;

	cli_init_vault(e->vault);
	sv_assert_ok(sv_jobs_open(&s, e->state));
	sv_assert_ok(sv_jobs_begin(s, "copy", NULL, &id));
	snprintf(want, sizeof(want), "job %lld (copy, pid", (long long)id);
	cli_expect(&r, move, 2, want);
	cli_done(&r);
	assert_int_equal(sv_fs_stat(e->newdir, NULL, NULL), SV_ENOTFOUND);
	sv_assert_ok(sv_jobs_finish(s, id, &done));

	sv_assert_ok(sv_jobs_begin(s, "cache", NULL, &id));
	cli_expect(&r, bk, 2, "the scratch folder is being moved");
	cli_done(&r);
	sv_assert_ok(sv_jobs_finish(s, id, &done));
	sv_jobs_close(s);
	cli_check(move, 0, NULL);
}

static void test_cache_cli__bad_targets_are_refused(void **state)
{
	env *e = *state;
	char *inside = sv_path_join(e->state, "Scratch"),
	     *full = sv_path_join(e->dir, "full");
	char *file = sv_path_join(full, "x");
	const char *rel[] = {"cache", "move", "relative", NULL};
	const char *in[] = {"cache", "move", inside, NULL};
	const char *nonempty[] = {"cache", "move", full, NULL};
	const char *none[] = {"cache", "move", NULL};
	const char *pf9[] = {"cache",	     "move",  e->newdir,
			     "--skip-check", "PF009", NULL};
	cli_run r;

	sv_assert_ok(sv_fs_mkdir_p(full, 0));
	sv_assert_ok(sv_fs_write_atomic(file, "x", 1, 0));
	cli_expect(&r, rel, 3, "not an absolute path");
	cli_done(&r);
	cli_expect(&r, in, 3, "contain one another");
	cli_done(&r);
	cli_expect(&r, nonempty, 3, "is not empty");
	cli_done(&r);
	cli_expect(&r, none, 3, "one folder is required");
	cli_done(&r);
	cli_expect(&r, pf9, 3, "--skip-check takes PF004 or PF005");
	cli_done(&r);
#ifndef _WIN32
	{
		/* PF004: a link is no place for the staging volume. */
		char *real = sv_path_join(e->dir, "real"),
		     *link = sv_path_join(e->dir, "link");
		const char *ln[] = {"cache", "move", link, NO_SPACE, NULL};

		sv_assert_ok(sv_fs_mkdir_p(real, 0));
		assert_int_equal(symlink(real, link), 0);
		cli_expect(&r, ln, 2, "preflight PF004 failed");
		cli_done(&r);
		free(real);
		free(link);
	}
#endif
	{
		char *scratch = configured_scratch(e);

		assert_string_equal(scratch, "");
		free(scratch);
	}
	free(inside);
	free(full);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_cache_cli__move_completes_with_a_verified_copy,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cache_cli__refused_during_a_backup_then_waits,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cache_cli__refused_beside_a_seeding_copy, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_cache_cli__bad_targets_are_refused, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
