/*
 * test_vault_cli.c - the vault engine through the sysvault binary: init,
 * backup, points, restore, check, sync; round trips, bad input, corruption
 * and interrupted backups.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#define PASS "correct horse battery staple"

typedef struct env {
	char *dir;      /* everything of one test lives here */
	char *vault;
	char *src;
	char *out;
	char *home_env;
	char *vault_env;
} env;

static char *sub(const char *dir, const char *name)
{
	char *p = sv_path_join(dir, name);

	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("vault");
	if (!e->dir)
		return -1;
	e->vault = sub(e->dir, "vault");
	e->src = sub(e->dir, "src");
	e->out = sub(e->dir, "restored");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	sv_fs_mkdir_p(e->src, 0);
	cli_env[0] = e->home_env;
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_env[2] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[3] = NULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->src);
	free(e->out);
	free(e->home_env);
	free(e);
	return 0;
}

/* ---- helpers ---- */

static void write_file(const char *root, const char *rel, const void *data,
		       size_t n)
{
	char *p = sub(root, rel), *d = sv_path_dirname(p);

	sv_path_to_native(p);
	sv_path_to_native(d);
	sv_assert_ok(sv_fs_mkdir_p(d, 0));
	sv_assert_ok(sv_fs_write_atomic(p, data, n, 0));
	free(p);
	free(d);
}

/* Deterministic pseudo-random bytes (xorshift), some of them text-like. */
static void fill(uint8_t *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (i / 4096) % 3 == 0 ? (uint8_t)('a' + x % 8) : (uint8_t)x;
	}
}

static void expect(const char *const *args, int code, const char *in_stderr)
{
	cli_run r;

	cli_expect(&r, args, code, in_stderr);
	cli_done(&r);
}

static void init_vault(env *e)
{
	const char *a[] = { "vault", "init", "--vault", e->vault, NULL };

	expect(a, 0, NULL);
}

/* Backs up dir; returns the summary JSON (caller decrefs). */
static json_t *backup(env *e, const char *dir)
{
	const char *a[] = { "--json", "backup", "--source-dir", dir, "--vault",
			    e->vault, "--machine", "SRV-TEST", NULL };
	json_t *j = NULL;
	cli_run r;

	cli(&r, a);
	if (r.code != 0)
		fail_msg("backup failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "backup output"));
	cli_done(&r);
	return j;
}

static void restore(env *e, const char *point, const char *to)
{
	const char *a[] = { "restore", "--point", point, "--to", to, "--vault",
			    e->vault, NULL };

	expect(a, 0, NULL);
}

static void check_ok(env *e, const char *read_data)
{
	const char *a[] = { "vault", "check", read_data, "--vault", e->vault, NULL };
	const char *b[] = { "vault", "check", "--vault", e->vault, NULL };

	expect(read_data ? a : b, 0, NULL);
}

typedef struct cmp_ctx {
	const char *a;
	const char *b;
	int entries;
} cmp_ctx;

static void compare_trees(const char *a, const char *b);

static int cmp_entry(void *ud, const sv_dirent *de)
{
	cmp_ctx *c = ud;
	char *pa = sub(c->a, de->name), *pb = sub(c->b, de->name);
	char *da = NULL, *db = NULL;
	size_t la, lb;
	int is_dir = 0;

	c->entries++;
	if (sv_fs_stat(pb, &is_dir, NULL) < 0)
		fail_msg("'%s' is missing from the restore", pb);
	assert_int_equal(is_dir, de->is_dir);
	if (de->is_dir) {
		compare_trees(pa, pb);
	} else {
		sv_assert_ok(sv_fs_read_all(&da, &la, pa, (size_t)1 << 30));
		sv_assert_ok(sv_fs_read_all(&db, &lb, pb, (size_t)1 << 30));
		if (la != lb || memcmp(da, db, la) != 0)
			fail_msg("'%s' differs after restore", pb);
	}
	free(da);
	free(db);
	free(pa);
	free(pb);
	return 0;
}

static int count_entry(void *ud, const sv_dirent *de)
{
	(void)de;
	(*(int *)ud)++;
	return 0;
}

/* Byte-for-byte comparison of two trees, both ways. */
static void compare_trees(const char *a, const char *b)
{
	cmp_ctx c = { a, b, 0 };
	int nb = 0;

	sv_assert_ok(sv_fs_list_dir(a, cmp_entry, &c));
	sv_assert_ok(sv_fs_list_dir(b, count_entry, &nb));
	assert_int_equal(c.entries, nb);
}

typedef struct copy_ctx {
	const char *from;
	const char *to;
} copy_ctx;

static void copy_tree(const char *from, const char *to);

static int copy_entry(void *ud, const sv_dirent *de)
{
	copy_ctx *c = ud;
	char *a = sub(c->from, de->name), *b = sub(c->to, de->name), *data = NULL;
	size_t len;

	if (de->is_dir) {
		copy_tree(a, b);
	} else {
		sv_assert_ok(sv_fs_read_all(&data, &len, a, (size_t)1 << 30));
		sv_assert_ok(sv_fs_write_atomic(b, data, len, 0));
	}
	free(data);
	free(a);
	free(b);
	return 0;
}

static void copy_tree(const char *from, const char *to)
{
	copy_ctx c = { from, to };

	sv_assert_ok(sv_fs_mkdir_p(to, 0));
	sv_assert_ok(sv_fs_list_dir(from, copy_entry, &c));
}

static const char *point_of(json_t *summary)
{
	return json_string_value(json_object_get(summary, "point"));
}

static uint64_t field(json_t *j, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(j, k));
}

/* ---- tests ---- */

static void make_tricky_tree(const char *src)
{
	uint8_t *buf = malloc(3 << 20);
	char deep[1024] = "deep";
	int i;

	fill(buf, 3 << 20, 1);
	write_file(src, "WindowsImageBackup/SRV01/MediaId", buf, 16);
	write_file(src, "WindowsImageBackup/SRV01/empty.xml", "", 0);
	write_file(src, "one-chunk.bin", buf, 16 << 10);
	write_file(src, "max-chunk.bin", buf + 7, 256 << 10);
	write_file(src, "big.bin", buf, 3 << 20);
	memset(buf, 0, 1 << 20);
	write_file(src, "zeros.bin", buf, 1 << 20);
	write_file(src, "Sauvegarde état/日本語/Ünïcödé.xml", "<x>é</x>", 9);
	for (i = 0; i < 20; i++)
		sv_strlcpy(deep + strlen(deep), "/level-directory", sizeof(deep) - strlen(deep));
	sv_strlcpy(deep + strlen(deep), "/leaf.txt", sizeof(deep) - strlen(deep));
	write_file(src, deep, "leaf", 4);
	free(buf);
}

static void test_vault_cli__round_trip_of_tricky_tree(void **state)
{
	env *e = *state;
	char *empty = sub(e->src, "Empty Dir");
	json_t *s;

	make_tricky_tree(e->src);
	sv_assert_ok(sv_fs_mkdir_p(empty, 0));
	init_vault(e);
	s = backup(e, e->src);
	assert_int_equal(field(s, "files"), 8);
	assert_true(field(s, "bytes_zero") >= (1 << 20));
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	check_ok(e, "--read-data");
	json_decref(s);
	free(empty);
}

static void test_vault_cli__second_backup_stores_little(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(8 << 20);
	json_t *s1, *s2;

	fill(buf, 8 << 20, 2);
	write_file(e->src, "image.vhdx", buf, 8 << 20);
	init_vault(e);
	s1 = backup(e, e->src);
	/* Next day: a few scattered in-place changes and a grown tail. */
	memset(buf + (1 << 20), 'x', 4096);
	memset(buf + (5 << 20), 'y', 8192);
	write_file(e->src, "image.vhdx", buf, 8 << 20);
	s2 = backup(e, e->src);
	assert_true(field(s2, "bytes_new") < field(s2, "bytes_read") / 10);
	restore(e, point_of(s1), e->out);
	json_decref(s1);
	json_decref(s2);
	free(buf);
}

/* Constant data has no cut points: every chunk is as long as the largest
 * allowed, which with --chunk-size 1M is 4 MiB, larger than the reader's
 * usual segment. */
static void test_vault_cli__largest_chunks_of_constant_data(void **state)
{
	env *e = *state;
	const char *in[] = { "vault", "init", "--vault", e->vault, "--chunk-size", "1M", NULL };
	uint8_t *buf = malloc(10 << 20);
	json_t *s;

	memset(buf, 'A', 10 << 20);
	write_file(e->src, "constant.bin", buf, 10 << 20);
	expect(in, 0, NULL);
	s = backup(e, e->src);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	json_decref(s);
	free(buf);
}

static void test_vault_cli__latest_and_points_json(void **state)
{
	env *e = *state;
	const char *pa[] = { "--json", "points", "--vault", e->vault, NULL };
	json_t *s1, *s2, *list = NULL;
	cli_run r;

	write_file(e->src, "a.txt", "one", 3);
	init_vault(e);
	s1 = backup(e, e->src);
	sv_time_sleep_ms(1100);   /* points are ordered by their second */
	write_file(e->src, "a.txt", "two", 3);
	s2 = backup(e, e->src);
	cli(&r, pa);
	assert_int_equal(r.code, 0);
	sv_assert_ok(sv_json_parse(&list, r.out.ptr, r.out.len, "points"));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")),
			    point_of(s2));
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "machine")),
			    "SRV-TEST");
	restore(e, "latest", e->out);
	compare_trees(e->src, e->out);
	cli_done(&r);
	json_decref(list);
	json_decref(s1);
	json_decref(s2);
}

static void test_vault_cli__bad_passphrases_are_refused(void **state)
{
	env *e = *state;
	const char *a[] = { "vault", "init", "--vault", e->vault, NULL };
	const char *b[] = { "points", "--vault", e->vault, NULL };

	cli_env[1] = "SYSVAULT_PASSPHRASE=short";
	expect(a, 2, "at least 16 characters");
	assert_int_equal(sv_fs_stat(e->vault, NULL, NULL), SV_ENOTFOUND);
	cli_env[1] = "SYSVAULT_PASSPHRASE=mot de passe très long";
	expect(a, 2, "printable ASCII");
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	init_vault(e);
	expect(a, 2, "already exists");
	cli_env[1] = "SYSVAULT_PASSPHRASE=this is not the passphrase";
	expect(b, 2, "wrong passphrase for this vault");
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	expect(b, 0, NULL);
}

static void test_vault_cli__usage_errors(void **state)
{
	env *e = *state;
	const char *a[] = { "restore", "--to", e->out, NULL };
	const char *b[] = { "backup", "--threads", "0", "--vault", e->vault, NULL };
	const char *c[] = { "points", "--vault", e->vault, NULL };
	const char *d[] = { "vault", "check", "--read-data=0", "--vault", e->vault, NULL };

	expect(a, 3, "--point");
	expect(b, 3, "--threads");
	expect(c, 2, "no vault at");
	expect(d, 3, "percentage");
}

/* Finds one file under dir/prefix (first in listing order). */
typedef struct first_ctx {
	char name[256];
} first_ctx;

static int first_file(void *ud, const sv_dirent *de)
{
	first_ctx *f = ud;

	if (!f->name[0] && !de->is_dir)
		sv_strlcpy(f->name, de->name, sizeof(f->name));
	return 0;
}

static int first_dir(void *ud, const sv_dirent *de)
{
	first_ctx *f = ud;

	if (!f->name[0] && de->is_dir)
		sv_strlcpy(f->name, de->name, sizeof(f->name));
	return 0;
}

static char *some_pack(env *e)
{
	char *data = sub(e->vault, "data"), *d, *p;
	first_ctx f = { "" }, g = { "" };

	sv_assert_ok(sv_fs_list_dir(data, first_dir, &f));
	d = sub(data, f.name);
	sv_assert_ok(sv_fs_list_dir(d, first_file, &g));
	p = sub(d, g.name);
	free(data);
	free(d);
	return p;
}

static void flip_byte(const char *path, uint64_t at)
{
	sv_file *f = NULL;
	uint8_t b;

	sv_assert_ok(sv_file_open(&f, path, SV_O_READ | SV_O_WRITE));
	sv_assert_ok(sv_file_pread(f, &b, 1, at));
	b ^= 0x20;
	sv_assert_ok(sv_file_pwrite(f, &b, 1, at));
	sv_file_close(f);
}

static void test_vault_cli__flipped_byte_is_named_never_restored(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(2 << 20);
	char *pack, *restored;
	json_t *s;

	fill(buf, 2 << 20, 3);
	write_file(e->src, "system.vhdx", buf, 2 << 20);
	init_vault(e);
	s = backup(e, e->src);
	pack = some_pack(e);
	flip_byte(pack, 200000);
	{
		const char *a[] = { "vault", "check", "--read-data", "--vault", e->vault, NULL };
		const char *b[] = { "restore", "--point", point_of(s), "--to", e->out,
				    "--vault", e->vault, NULL };

		expect(a, 2, sv_path_basename(pack));
		expect(b, 2, "system.vhdx' at offset");
	}
	restored = sub(e->out, "system.vhdx");
	assert_int_equal(sv_fs_stat(restored, NULL, NULL), SV_ENOTFOUND);
	free(restored);
	free(pack);
	json_decref(s);
	free(buf);
}

static void test_vault_cli__missing_pack_and_truncated_objects(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(1 << 20);
	char *pack, *dir, *obj;
	first_ctx f = { "" };
	json_t *s;
	const char *chk[] = { "vault", "check", "--vault", e->vault, NULL };

	fill(buf, 1 << 20, 4);
	write_file(e->src, "f.bin", buf, 1 << 20);
	init_vault(e);
	s = backup(e, e->src);
	pack = some_pack(e);
	{
		char *moved = sub(e->dir, "moved-pack");

		sv_assert_ok(sv_fs_rename(pack, moved));
		free(moved);
	}
	expect(chk, 2, "missing");
	{
		const char *b[] = { "restore", "--point", point_of(s), "--to", e->out,
				    "--vault", e->vault, NULL };
		expect(b, 2, "f.bin");
	}
	/* A truncated index object is named too. */
	{
		char *idir = sub(e->vault, "index"), *iobj;
		first_ctx g = { "" };

		sv_assert_ok(sv_fs_list_dir(idir, first_file, &g));
		iobj = sub(idir, g.name);
		sv_assert_ok(sv_fs_write_atomic(iobj, "SVO1I", 5, 0));
		expect(chk, 2, g.name);
		free(iobj);
		free(idir);
	}
	/* A truncated point object is named too. */
	dir = sub(e->vault, "points");
	sv_assert_ok(sv_fs_list_dir(dir, first_file, &f));
	obj = sub(dir, f.name);
	sv_assert_ok(sv_fs_write_atomic(obj, "SVO1P", 5, 0));
	expect(chk, 2, f.name);
	free(obj);
	free(dir);
	free(pack);
	json_decref(s);
	free(buf);
}

static void test_vault_cli__existing_files_need_overwrite(void **state)
{
	env *e = *state;
	json_t *s;
	const char *a[] = { "restore", "--point", "latest", "--to", e->out,
			    "--vault", e->vault, NULL };
	const char *b[] = { "restore", "--point", "latest", "--to", e->out,
			    "--vault", e->vault, "--overwrite", NULL };

	write_file(e->src, "a.txt", "new", 3);
	init_vault(e);
	s = backup(e, e->src);
	write_file(e->out, "a.txt", "old", 3);
	expect(a, 2, "already exists");
	expect(b, 0, NULL);
	compare_trees(e->src, e->out);
	json_decref(s);
}

static void test_vault_cli__sync_rebuilds_a_lost_cache(void **state)
{
	env *e = *state;
	char *state_dir = sub(e->dir, "state");
	const char *sync[] = { "vault", "sync", "--vault", e->vault, NULL };
	json_t *s;

	write_file(e->src, "a.txt", "data", 4);
	init_vault(e);
	s = backup(e, e->src);
	sv_assert_ok(sv_fs_remove_tree(state_dir));
	expect(sync, 0, NULL);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	/* A bare machine: no state at all, only the vault and passphrase. */
	sv_assert_ok(sv_fs_remove_tree(state_dir));
	sv_assert_ok(sv_fs_remove_tree(e->out));
	restore(e, "latest", e->out);
	compare_trees(e->src, e->out);
	free(state_dir);
	json_decref(s);
}

#ifndef _WIN32
static void test_vault_cli__write_failure_leaves_vault_usable(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(4 << 20);
	struct rlimit old, lim;
	const char *a[] = { "backup", "--source-dir", e->src, "--vault", e->vault, NULL };
	cli_run r;
	json_t *s;

	fill(buf, 4 << 20, 5);
	write_file(e->src, "f.bin", buf, 4 << 20);
	init_vault(e);
	/* Files larger than 1 MiB cannot be written: the pack write fails
	 * as it would on a full disk. */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 1 << 20;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	cli(&r, a);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.ptr, "sysvault: "));
	cli_done(&r);
	check_ok(e, NULL);
	s = backup(e, e->src);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	json_decref(s);
	free(buf);
}
#endif

static void test_vault_cli__killed_backups_never_break_the_vault(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(64 << 20);
	const char *a[] = { "backup", "--source-dir", e->src, "--vault", e->vault, NULL };
	uint64_t t0, full_ms;
	json_t *s;
	int i, killed = 0;

	fill(buf, 64 << 20, 6);
	write_file(e->src, "a.vhdx", buf, 48 << 20);
	write_file(e->src, "b.vhdx", buf + (48 << 20), 16 << 20);
	init_vault(e);
	json_decref(backup(e, e->src));
	/* Time a run like the ones to be killed (48 MiB of new data) to spread
	 * the kills over its whole length. */
	fill(buf, 64 << 20, 99);
	write_file(e->src, "a.vhdx", buf, 48 << 20);
	t0 = sv_time_mono_ms();
	s = backup(e, e->src);
	full_ms = sv_time_mono_ms() - t0;
	json_decref(s);
	for (i = 0; i < 20; i++) {
		cli_run r;

		/* New data each round, so each run has packs to write. */
		fill(buf, 64 << 20, 100 + (uint64_t)i);
		write_file(e->src, "a.vhdx", buf, 48 << 20);
		cli_killed(&r, a, (unsigned)(full_ms * (uint64_t)(i + 1) / 21));
		killed += r.code == -1;
		cli_done(&r);
		check_ok(e, NULL);
	}
	assert_true(killed >= 10);
	/* Killed two thirds through, a run has written packs but no index:
	 * the next run indexes and reuses them instead of storing again. */
	{
		static const unsigned frac[] = { 66, 55, 45 };   /* percent */
		cli_run r;
		int k, was_killed = 0;

		/* A busy machine may finish sooner or later than the reference
		 * run: try a little earlier (with new data) until a run is
		 * really cut. */
		for (k = 0; k < 3 && !was_killed; k++) {
			fill(buf, 64 << 20, 1000 + (uint64_t)k);
			write_file(e->src, "a.vhdx", buf, 48 << 20);
			cli_killed(&r, a, (unsigned)(full_ms * frac[k] / 100));
			was_killed = r.code == -1;
			cli_done(&r);
		}
		assert_true(was_killed);
	}
	s = backup(e, e->src);
	assert_true(field(s, "packs_reused") > 0);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	check_ok(e, "--read-data");
	json_decref(s);
	free(buf);
}

static void test_vault_cli__system_state_image(void **state)
{
	env *e = *state;
	const char *dir = getenv("SV_TEST_IMAGES");
	char *v1, *v2, *src1, *src2, *out2;
	json_t *s1, *s2;

	if (!dir) {
		print_message("skipped: SV_TEST_IMAGES is not set (mkimage.py images)\n");
		skip();
	}
	v1 = sub(dir, "v1");
	v2 = sub(dir, "v2");
	init_vault(e);
	s1 = backup(e, v1);
	s2 = backup(e, v2);
	print_message("image: first backup stored %llu of %llu bytes; next day %llu new\n",
		      (unsigned long long)field(s1, "bytes_stored"),
		      (unsigned long long)field(s1, "bytes_read"),
		      (unsigned long long)field(s2, "bytes_new"));
	assert_true(field(s2, "bytes_new") < field(s2, "bytes_read") / 10);
	src1 = sub(e->dir, "r1");
	out2 = sub(e->dir, "r2");
	restore(e, point_of(s1), src1);
	restore(e, point_of(s2), out2);
	compare_trees(v1, src1);
	compare_trees(v2, out2);
	check_ok(e, "--read-data");
	free(v1);
	free(v2);
	free(src1);
	free(out2);
	(void)src2;
	json_decref(s1);
	json_decref(s2);
}

/* The tree stored in tests/fixtures/vault-v1 (by format version 1). */
static void make_fixture_tree(const char *root)
{
	uint8_t *buf = malloc(300000);

	fill(buf, 300000, 42);
	memset(buf + 100000, 0, 70000);
	write_file(root, "WindowsImageBackup/FIXTURE/MediaId", buf, 16);
	write_file(root, "WindowsImageBackup/FIXTURE/Backup 2026-11-21 020014/image.vhdx",
		   buf, 300000);
	write_file(root, "WindowsImageBackup/FIXTURE/Catalog/GlobalCatalog", "", 0);
	write_file(root, "Données/état.xml", "<état/>", 9);
	free(buf);
}

/*
 * A vault written by format version 1 must open, check and restore with
 * every later build. SV_MAKE_VAULT_FIXTURE=<dir> writes it instead (once,
 * when the format is created; never to change it).
 */
static void test_vault_cli__format_v1_fixture_restores(void **state)
{
	env *e = *state;
	const char *make = getenv("SV_MAKE_VAULT_FIXTURE");
	char *copy = sub(e->dir, "fixture");
	const char *chk[] = { "vault", "check", "--read-data", "--vault", copy, NULL };
	const char *res[] = { "restore", "--point", "latest", "--to", e->out,
			      "--vault", copy, NULL };

	make_fixture_tree(e->src);
	if (make) {
		const char *in[] = { "vault", "init", "--vault", make, NULL };
		const char *bk[] = { "backup", "--source-dir", e->src, "--vault", make,
				     "--machine", "FIXTURE", NULL };

		expect(in, 0, NULL);
		expect(bk, 0, NULL);
		print_message("wrote the format fixture to %s\n", make);
	} else {
		char *fixture = sv_aprintf("%s/vault-v1", SV_TEST_FIXTURES);

		copy_tree(fixture, copy);
		expect(chk, 0, NULL);
		expect(res, 0, NULL);
		compare_trees(e->src, e->out);
		free(fixture);
	}
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vault_cli__round_trip_of_tricky_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__second_backup_stores_little, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__largest_chunks_of_constant_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__latest_and_points_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__bad_passphrases_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__flipped_byte_is_named_never_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__missing_pack_and_truncated_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__existing_files_need_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__sync_rebuilds_a_lost_cache, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_vault_cli__write_failure_leaves_vault_usable, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_vault_cli__killed_backups_never_break_the_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__system_state_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__format_v1_fixture_restores, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
