/*
 * test_vault_cli.c - the vault engine through the sysvault binary: init,
 * backup, points, restore, check, sync, copy, prune; round trips, bad
 * input, corruption, interrupted backups, copies and prunes.
 *
 * One set of cases for every kind of vault. Without SV_TEST_VAULT_BASE
 * each case's vault is a directory; with it (set by tests/cloud/
 * azurite-run.sh and s3-run.sh registrations, e.g.
 * "azure://devstoreaccount1/svcli" or "s3://svcli") it is
 * "<base>/<random>", reached with the endpoint and credentials those
 * scripts put in the environment. A new case goes into tests[] and runs
 * against all three: use e->vault as the URL, other_vault() for a second
 * one, and the obj_* helpers (the vault's backend, whatever it is) to look
 * at or damage objects. A case that needs the local file system calls
 * local_only().
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"
#include "vault_int.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#define PASS "correct horse battery staple"

typedef struct env {
	char *dir;      /* everything local of one test lives here */
	char *vault;    /* the vault's URL: a directory, or a cloud URL */
	int cloud;      /* the vault is not a directory */
	char *src;
	char *out;
	char *home_env;
	char *vault_env;
} env;

/* A vault URL in the target under test: <dir>/<tag>, or <base>/<random>-<tag>. */
static char *target_url(const env *e, const char *tag)
{
	const char *base = getenv("SV_TEST_VAULT_BASE");
	uint8_t r[6];
	char hex[13];

	if (!e->cloud)
		return cli_path(e->dir, tag);
	sv_assert_ok(vault__random(r, sizeof(r)));
	sv_hex_encode(hex, r, sizeof(r));
	return sv_aprintf("%s/%s-%s", base, hex, tag);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	const char *base = getenv("SV_TEST_VAULT_BASE");

	e->dir = sv_test_tmpdir("vault");
	if (!e->dir)
		return -1;
	e->cloud = base && base[0];
	e->vault = target_url(e, "vault");
	e->src = cli_path(e->dir, "src");
	e->out = cli_path(e->dir, "restored");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	sv_fs_mkdir_p(e->src, 0);
	cli_env_vault(e->home_env, "SYSVAULT_PASSPHRASE=" PASS);
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

/* A case that damages files behind the backend's back or limits file
 * sizes: local vaults only. */
#define local_only(e)                                                       \
	do {                                                                \
		if ((e)->cloud) {                                           \
			print_message("skipped: needs a local vault\n");   \
			skip();                                             \
		}                                                           \
	} while (0)

/* A second vault beside the case's own, in the same target. */
static char *other_vault(const env *e, const char *tag)
{
	return target_url(e, tag);
}

/* ---- objects, through the vault's own backend ---- */

static vault_backend *obj_open(const char *url, int create)
{
	vault_backend *b = NULL;

	sv_assert_ok(vault__backend_open(&b, url, NULL, create));
	return b;
}

typedef struct obj_first {
	char name[VAULT_NAME_MAX];
	uint64_t count;
} obj_first;

static int on_obj(void *ud, const char *name, uint64_t size)
{
	obj_first *f = ud;

	(void)size;
	if (!f->name[0])
		sv_strlcpy(f->name, name, sizeof(f->name));
	f->count++;
	return 0;
}

/* The first object under prefix ("data/", "index/"...); fails when none. */
static char *obj_first_name(const char *url, const char *prefix)
{
	vault_backend *b = obj_open(url, 0);
	obj_first f = { "", 0 };

	sv_assert_ok(b->ops->list(b, prefix, on_obj, &f));
	vault__backend_close(b);
	if (!f.name[0])
		fail_msg("no object under '%s' in %s", prefix, url);
	return sv_strdup(f.name);
}

/* How many objects the vault at url holds (0 when it does not exist). */
static uint64_t obj_count(const env *e, const char *url)
{
	vault_backend *b = NULL;
	obj_first f = { "", 0 };

	if (!e->cloud && sv_fs_stat(url, NULL, NULL) == SV_ENOTFOUND)
		return 0;
	b = obj_open(url, 0);
	sv_assert_ok(b->ops->list(b, "", on_obj, &f));
	vault__backend_close(b);
	return f.count;
}

static void obj_read(const char *url, const char *name, sv_buf *out)
{
	vault_backend *b = obj_open(url, 0);

	sv_buf_init(out, (size_t)1 << 30);
	sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, out));
	vault__backend_close(b);
}

/* Replaces an object (data NULL: removes it), as damage would. */
static void obj_replace(const char *url, const char *name, const void *data,
			size_t n)
{
	vault_backend *b = obj_open(url, 0);

	sv_assert_ok(b->ops->del(b, name));
	if (data)
		sv_assert_ok(b->ops->put(b, name, data, n));
	vault__backend_close(b);
}

static void obj_put(const char *url, const char *name, const void *data,
		    size_t n)
{
	vault_backend *b = obj_open(url, 1);

	sv_assert_ok(b->ops->put(b, name, data, n));
	vault__backend_close(b);
}

/* The part of an object name after its last '/'. */
static const char *leaf(const char *name)
{
	const char *s = strrchr(name, '/');

	return s ? s + 1 : name;
}

static void write_file(const char *root, const char *rel, const void *data,
		       size_t n)
{
	char *p = cli_path(root, rel), *d = sv_path_dirname(p);

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

/* Backs up dir into the vault at url; returns the summary JSON (caller
 * decrefs). */
static json_t *backup_to(const char *url, const char *dir)
{
	const char *a[] = { "--json", "backup", "--source-dir", dir, "--vault",
			    url, "--machine", "SRV-TEST", NULL };
	json_t *j = NULL;
	cli_run r;

	cli(&r, a);
	if (r.code != 0)
		fail_msg("backup failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "backup output"));
	cli_done(&r);
	return j;
}

static json_t *backup(env *e, const char *dir)
{
	return backup_to(e->vault, dir);
}

static void restore(env *e, const char *point, const char *to)
{
	const char *a[] = { "restore", "--point", point, "--to", to, "--vault",
			    e->vault, NULL };

	cli_check(a, 0, NULL);
}

static void check_ok(env *e, const char *read_data)
{
	const char *a[] = { "vault", "check", read_data, "--vault", e->vault, NULL };
	const char *b[] = { "vault", "check", "--vault", e->vault, NULL };

	cli_check(read_data ? a : b, 0, NULL);
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
	char *pa = cli_path(c->a, de->name), *pb = cli_path(c->b, de->name);
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

typedef struct upload_ctx {
	const char *from;
	const char *url;
	const char *rel; /* object name of from: "" or "data/10/" */
} upload_ctx;

static void upload_tree(const char *from, const char *url, const char *rel);

static int upload_entry(void *ud, const sv_dirent *de)
{
	upload_ctx *c = ud;
	char *a = cli_path(c->from, de->name), *data = NULL;
	char *name = sv_aprintf("%s%s", c->rel, de->name);
	size_t len;

	if (de->is_dir) {
		char *rel = sv_aprintf("%s/", name);

		upload_tree(a, c->url, rel);
		free(rel);
	} else if (strcmp(de->name, "README.md") != 0) {
		sv_assert_ok(sv_fs_read_all(&data, &len, a, (size_t)1 << 30));
		obj_put(c->url, name, data, len);
	}
	free(data);
	free(name);
	free(a);
	return 0;
}

/* Stores every file under from as an object of the vault at url (a vault
 * written elsewhere, brought into the target under test). */
static void upload_tree(const char *from, const char *url, const char *rel)
{
	upload_ctx c = { from, url, rel };

	sv_assert_ok(sv_fs_list_dir(from, upload_entry, &c));
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
	char *empty = cli_path(e->src, "Empty Dir");
	json_t *s;

	make_tricky_tree(e->src);
	sv_assert_ok(sv_fs_mkdir_p(empty, 0));
	cli_init_vault(e->vault);
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
	cli_init_vault(e->vault);
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
	cli_check(in, 0, NULL);
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
	cli_init_vault(e->vault);
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
	cli_check(a, 2, "at least 16 characters");
	assert_int_equal(obj_count(e, e->vault), 0);
	cli_env[1] = "SYSVAULT_PASSPHRASE=mot de passe très long";
	cli_check(a, 2, "printable ASCII");
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_init_vault(e->vault);
	cli_check(a, 2, "already exists");
	cli_env[1] = "SYSVAULT_PASSPHRASE=this is not the passphrase";
	cli_check(b, 2, "wrong passphrase for this vault");
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_check(b, 0, NULL);
}

static void test_vault_cli__usage_errors(void **state)
{
	env *e = *state;
	const char *a[] = { "restore", "--to", e->out, NULL };
	const char *b[] = { "backup", "--threads", "0", "--vault", e->vault, NULL };
	const char *c[] = { "points", "--vault", e->vault, NULL };
	const char *d[] = { "vault", "check", "--read-data=0", "--vault", e->vault, NULL };

	cli_check(a, 3, "--point");
	cli_check(b, 3, "--threads");
	cli_check(c, 2, "no vault at");
	cli_check(d, 3, "percentage");
}

/* Flips one bit of an object, as a disk or a bad copy would. */
static void obj_flip(const char *url, const char *name, uint64_t at)
{
	sv_buf b;

	obj_read(url, name, &b);
	assert_true(at < b.len);
	b.ptr[at] ^= 0x20;
	obj_replace(url, name, b.ptr, b.len);
	sv_buf_release(&b);
}

static void test_vault_cli__flipped_byte_is_named_never_restored(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(2 << 20);
	char *pack, *restored;
	json_t *s;

	fill(buf, 2 << 20, 3);
	write_file(e->src, "system.vhdx", buf, 2 << 20);
	cli_init_vault(e->vault);
	s = backup(e, e->src);
	pack = obj_first_name(e->vault, "data/");
	obj_flip(e->vault, pack, 200000);
	{
		const char *a[] = { "vault", "check", "--read-data", "--vault", e->vault, NULL };
		const char *b[] = { "restore", "--point", point_of(s), "--to", e->out,
				    "--vault", e->vault, NULL };

		cli_check(a, 2, leaf(pack));
		cli_check(b, 2, "system.vhdx' at offset");
	}
	restored = cli_path(e->out, "system.vhdx");
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
	char *pack, *obj;
	json_t *s;
	const char *chk[] = { "vault", "check", "--vault", e->vault, NULL };

	fill(buf, 1 << 20, 4);
	write_file(e->src, "f.bin", buf, 1 << 20);
	cli_init_vault(e->vault);
	s = backup(e, e->src);
	pack = obj_first_name(e->vault, "data/");
	obj_replace(e->vault, pack, NULL, 0);
	cli_check(chk, 2, "missing");
	{
		const char *b[] = { "restore", "--point", point_of(s), "--to", e->out,
				    "--vault", e->vault, NULL };
		cli_check(b, 2, "f.bin");
	}
	/* A truncated index object is named too. */
	obj = obj_first_name(e->vault, "index/");
	obj_replace(e->vault, obj, "SVO1I", 5);
	cli_check(chk, 2, leaf(obj));
	free(obj);
	/* A truncated point object is named too. */
	obj = obj_first_name(e->vault, "points/");
	obj_replace(e->vault, obj, "SVO1P", 5);
	cli_check(chk, 2, leaf(obj));
	free(obj);
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
	cli_init_vault(e->vault);
	s = backup(e, e->src);
	write_file(e->out, "a.txt", "old", 3);
	cli_check(a, 2, "already exists");
	cli_check(b, 0, NULL);
	compare_trees(e->src, e->out);
	json_decref(s);
}

static void test_vault_cli__sync_rebuilds_a_lost_cache(void **state)
{
	env *e = *state;
	char *state_dir = cli_path(e->dir, "state");
	const char *sync[] = { "vault", "sync", "--vault", e->vault, NULL };
	json_t *s;

	write_file(e->src, "a.txt", "data", 4);
	cli_init_vault(e->vault);
	s = backup(e, e->src);
	sv_assert_ok(sv_fs_remove_tree(state_dir));
	cli_check(sync, 0, NULL);
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
	uint8_t *buf;
	struct rlimit old, lim;
	const char *a[] = { "backup", "--source-dir", e->src, "--vault", e->vault, NULL };
	cli_run r;
	json_t *s;

	local_only(e);
	buf = malloc(4 << 20);
	fill(buf, 4 << 20, 5);
	write_file(e->src, "f.bin", buf, 4 << 20);
	cli_init_vault(e->vault);
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

/* Packs in the vault that no index object names yet (vault check). */
static uint64_t unindexed_packs(env *e)
{
	const char *a[] = { "--json", "vault", "check", "--vault", e->vault, NULL };
	json_t *j = NULL;
	uint64_t n;
	cli_run r;

	cli(&r, a);
	if (r.code != 0)
		fail_msg("vault check failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "check output"));
	n = field(j, "packs_unindexed");
	json_decref(j);
	cli_done(&r);
	return n;
}

static void test_vault_cli__killed_backups_never_break_the_vault(void **state)
{
	env *e = *state;
	/* a cloud emulator gets fewer rounds */
	const size_t mib = (size_t)1 << 20, total = 64 * mib;
	const size_t a_len = total / 4 * 3, b_len = total - a_len;
	const int rounds = e->cloud ? 8 : 20;
	uint8_t *buf = malloc(total);
	const char *a[] = { "backup", "--source-dir", e->src, "--vault", e->vault, NULL };
	uint64_t t0, full_ms;
	json_t *s;
	int i, killed = 0;

	fill(buf, total, 6);
	write_file(e->src, "a.vhdx", buf, a_len);
	write_file(e->src, "b.vhdx", buf + a_len, b_len);
	cli_init_vault(e->vault);
	json_decref(backup(e, e->src));
	/* Time a run like the ones to be killed (three quarters new data) to
	 * spread the kills over its whole length. */
	fill(buf, total, 99);
	write_file(e->src, "a.vhdx", buf, a_len);
	t0 = sv_time_mono_ms();
	s = backup(e, e->src);
	full_ms = sv_time_mono_ms() - t0;
	json_decref(s);
	for (i = 0; i < rounds; i++) {
		cli_run r;

		/* New data each round, so each run has packs to write. */
		fill(buf, total, 100 + (uint64_t)i);
		write_file(e->src, "a.vhdx", buf, a_len);
		cli_killed(&r, a, (unsigned)(full_ms * (uint64_t)(i + 1) / (uint64_t)(rounds + 1)));
		killed += r.code == -1;
		cli_done(&r);
		check_ok(e, NULL);
	}
	assert_true(killed >= rounds / 2);
	/* Killed two thirds through, a run has written packs but no index:
	 * the next run indexes and reuses them instead of storing again. */
	{
		unsigned pct = 66, step = 12;
		cli_run r;
		int k, cut, left = 0;

		/* A busy machine may finish sooner or later than the reference
		 * run: cut later when a cut run had written no pack yet,
		 * earlier when the run finished, until one leaves packs that
		 * no index names (new data each time). */
		for (k = 0; k < 10 && !left; k++) {
			fill(buf, total, 1000 + (uint64_t)k);
			write_file(e->src, "a.vhdx", buf, a_len);
			cli_killed(&r, a, (unsigned)(full_ms * pct / 100));
			cut = r.code == -1;
			if (!cut && r.code != 0)
				fail_msg("backup failed (%d): %s", r.code, r.err.ptr);
			cli_done(&r);
			left = cut && unindexed_packs(e) > 0;
			print_message("cut at %u%% of %llu ms: %s\n", pct,
				      (unsigned long long)full_ms,
				      !cut ? "finished" : left ? "packs left" : "no packs yet");
			if (!cut)
				pct = pct > step + 5 ? pct - step : 5;
			else if (!left)
				pct = pct + step < 98 ? pct + step : 98;
			step = step > 3 ? step * 3 / 4 : 3;
		}
		assert_true(left);
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
	v1 = cli_path(dir, "v1");
	v2 = cli_path(dir, "v2");
	cli_init_vault(e->vault);
	s1 = backup(e, v1);
	s2 = backup(e, v2);
	print_message("image: first backup stored %llu of %llu bytes; next day %llu new\n",
		      (unsigned long long)field(s1, "bytes_stored"),
		      (unsigned long long)field(s1, "bytes_read"),
		      (unsigned long long)field(s2, "bytes_new"));
	assert_true(field(s2, "bytes_new") < field(s2, "bytes_read") / 10);
	src1 = cli_path(e->dir, "r1");
	out2 = cli_path(e->dir, "r2");
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
	char *copy = other_vault(e, "fixture");
	const char *chk[] = { "vault", "check", "--read-data", "--vault", copy, NULL };
	const char *res[] = { "restore", "--point", "latest", "--to", e->out,
			      "--vault", copy, NULL };

	make_fixture_tree(e->src);
	if (make) {
		const char *in[] = { "vault", "init", "--vault", make, NULL };
		const char *bk[] = { "backup", "--source-dir", e->src, "--vault", make,
				     "--machine", "FIXTURE", NULL };

		cli_check(in, 0, NULL);
		cli_check(bk, 0, NULL);
		print_message("wrote the format fixture to %s\n", make);
	} else {
		char *fixture = sv_aprintf("%s/vault-v1", SV_TEST_FIXTURES);

		upload_tree(fixture, copy, "");
		cli_check(chk, 0, NULL);
		cli_check(res, 0, NULL);
		compare_trees(e->src, e->out);
		free(fixture);
	}
	free(copy);
}

/* The preflight reaches the vault (PF012) and, where the service has a
 * clock, compares it with this machine's (PF011: Date header). */
static void test_vault_cli__preflight_reaches_the_vault(void **state)
{
	env *e = *state;
	const char *pf[] = { "--json", "preflight", "--vault", e->vault,
			     "--skip-check", "PF009", NULL };
	json_t *rep = NULL, *c;
	cli_run r;
	size_t i;
	int found = 0;

	cli_init_vault(e->vault);
	cli(&r, pf);
	assert_true(r.code == 0 || r.code == 1 || r.code == 2);
	sv_assert_ok(sv_json_parse(&rep, r.out.ptr, r.out.len, "preflight"));
	json_array_foreach(json_object_get(rep, "checks"), i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		const char *v = json_string_value(json_object_get(c, "verdict"));
		const char *want = !strcmp(id, "PF011") && !e->cloud ? "skip" : "pass";

		if (strcmp(id, "PF011") != 0 && strcmp(id, "PF012") != 0)
			continue;
		found++;
		if (strncmp(v, want, strlen(want)) != 0)
			fail_msg("%s is %s, expected %s: %s", id, v, want, r.out.ptr);
	}
	assert_int_equal(found, 2);
	json_decref(rep);
	cli_done(&r);
}

/* ---- vault copy: from a local vault into the target under test ---- */

/* A local source vault holding one backup of e->src. */
static char *copy_source(env *e, json_t **summary)
{
	char *src = cli_path(e->dir, "source");
	const char *in[] = { "vault", "init", "--vault", src, NULL };

	cli_check(in, 0, NULL);
	*summary = backup_to(src, e->src);
	return src;
}

/* Options that name the destination's endpoint and credentials (cloud
 * targets): the environment's own are spoiled for the run, so the copy
 * can only succeed through the options. */
typedef struct copy_opts {
	const char *argv[8];
	char *secret_file;
	char *endpoint;
	const char *spoil[3];
} copy_opts;

static void copy_opts_init(env *e, copy_opts *co)
{
	const char *base = getenv("SV_TEST_VAULT_BASE");
	char *secret = NULL;
	int s3 = e->cloud && sv_str_startswith(base, "s3://");

	memset(co, 0, sizeof(*co));
	if (!e->cloud)
		return;
	if (s3) {
		secret = sv_aprintf("%s:%s\n", getenv("AWS_ACCESS_KEY_ID"),
				    getenv("AWS_SECRET_ACCESS_KEY"));
		co->endpoint = sv_strdup(getenv("SYSVAULT_S3_ENDPOINT"));
		co->spoil[0] = "AWS_SECRET_ACCESS_KEY=not-the-secret";
		co->spoil[1] = "SYSVAULT_S3_ENDPOINT=http://127.0.0.1:9";
	} else {
		secret = sv_aprintf("%s\n", getenv("SYSVAULT_AZURE_KEY"));
		co->endpoint = sv_strdup(getenv("SYSVAULT_AZURE_ENDPOINT"));
		co->spoil[0] = "SYSVAULT_AZURE_KEY=bm90IHRoZSBrZXk=";
		co->spoil[1] = "SYSVAULT_AZURE_ENDPOINT=http://127.0.0.1:9/x";
	}
	co->secret_file = cli_path(e->dir, "to-secret");
	sv_assert_ok(sv_fs_write_atomic(co->secret_file, secret, strlen(secret), 0));
	co->argv[0] = "--to-secret-file";
	co->argv[1] = co->secret_file;
	co->argv[2] = "--to-endpoint";
	co->argv[3] = co->endpoint;
	free(secret);
}

static void copy_opts_release(copy_opts *co)
{
	free(co->secret_file);
	free(co->endpoint);
}

/* Runs 'vault copy' from src into e->vault (killed after kill_ms when not
 * 0); fills r. */
static void run_copy(env *e, const char *src, unsigned kill_ms, cli_run *r)
{
	const char *a[20] = { "--json", "vault", "copy", "--vault", src, "--to",
			      e->vault };
	copy_opts co;
	int n = 7, i;

	copy_opts_init(e, &co);
	for (i = 0; co.argv[i]; i++)
		a[n++] = co.argv[i];
	a[n] = NULL;
	cli_env[3] = co.spoil[0];
	cli_env[4] = co.spoil[0] ? co.spoil[1] : NULL;
	cli_env[5] = NULL;
	if (kill_ms)
		cli_killed(r, a, kill_ms);
	else
		cli(r, a);
	cli_env[3] = NULL;
	copy_opts_release(&co);
}

/* A copy that must succeed; its JSON summary (caller decrefs). */
static json_t *copy_ok(env *e, const char *src)
{
	json_t *j = NULL;
	cli_run r;

	run_copy(e, src, 0, &r);
	if (r.code != 0)
		fail_msg("vault copy failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "copy output"));
	cli_done(&r);
	assert_int_equal(field(j, "copied") + field(j, "present"),
			 field(j, "objects"));
	return j;
}

static void test_vault_cli__copy_restores_bit_exact(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(3 << 20);
	json_t *s, *c1, *c2, *c3;
	char *src;

	fill(buf, 3 << 20, 7);
	write_file(e->src, "WindowsImageBackup/SRV/image.vhdx", buf, 3 << 20);
	write_file(e->src, "small.xml", "<x/>", 4);
	src = copy_source(e, &s);
	c1 = copy_ok(e, src);
	assert_int_equal(field(c1, "present"), 0);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	check_ok(e, "--read-data");
	/* the next day: only the new objects travel */
	memset(buf + (1 << 20), 'z', 100000);
	write_file(e->src, "WindowsImageBackup/SRV/image.vhdx", buf, 3 << 20);
	json_decref(s);
	s = backup_to(src, e->src);
	c2 = copy_ok(e, src);
	assert_true(field(c2, "copied") > 0);
	assert_true(field(c2, "present") >= field(c1, "objects"));
	c3 = copy_ok(e, src);
	assert_int_equal(field(c3, "copied"), 0);
	sv_assert_ok(sv_fs_remove_tree(e->out));
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	json_decref(s);
	free(src);
	free(buf);
}

/* The destination after an interrupted copy: a vault that checks clean,
 * or (before its config) not yet a vault at all. */
static void partial_copy_is_consistent(env *e)
{
	const char *chk[] = { "vault", "check", "--vault", e->vault, NULL };
	cli_run r;

	cli(&r, chk);
	if (r.code != 0 && !strstr(r.err.ptr, "no vault at"))
		fail_msg("an interrupted copy left a broken vault (%d): %s",
			 r.code, r.err.ptr);
	cli_done(&r);
}

static void test_vault_cli__interrupted_copy_resumes(void **state)
{
	env *e = *state;
	const size_t len = (size_t)40 << 20;   /* three packs */
	uint8_t *buf = malloc(len);
	json_t *s, *c;
	char *src, *timing;
	uint64_t t0, full_ms;
	int i, killed = 0;

	fill(buf, len, 8);
	write_file(e->src, "image.vhdx", buf, len);
	src = copy_source(e, &s);
#ifndef _WIN32
	if (!e->cloud) {
		/* Files above 1 MiB cannot be written: the first pack fails
		 * as on a full disk, after the config and keys. */
		struct rlimit old, lim;
		cli_run r;

		getrlimit(RLIMIT_FSIZE, &old);
		lim = old;
		lim.rlim_cur = 1 << 20;
		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &lim);
		run_copy(e, src, 0, &r);
		setrlimit(RLIMIT_FSIZE, &old);
		assert_int_equal(r.code, 2);
		cli_done(&r);
		partial_copy_is_consistent(e);
	}
#endif
	/* Time a whole copy elsewhere, then kill copies part way. */
	timing = other_vault(e, "timing");
	{
		char *keep = e->vault;

		e->vault = timing;
		t0 = sv_time_mono_ms();
		json_decref(copy_ok(e, src));
		full_ms = sv_time_mono_ms() - t0;
		e->vault = keep;
	}
	for (i = 1; i <= 3; i++) {
		cli_run r;

		run_copy(e, src, (unsigned)(full_ms * (uint64_t)i / 5), &r);
		killed += r.code == -1;
		cli_done(&r);
		partial_copy_is_consistent(e);
	}
	if (e->cloud)
		assert_true(killed >= 1);
	{
		/* Ctrl-C: a cancelled copy (exit code 4), or one that had
		 * already finished; what it copied stays usable. */
		const char *a[] = { "vault", "copy", "--vault", src, "--to",
				    e->vault, NULL };
		cli_run r;

		cli_env[3] = NULL;
		cli_interrupted(&r, a, (unsigned)(full_ms / 2));
		assert_true(r.code == 4 || r.code == 0);
		if (r.code == 4)
			assert_non_null(strstr(r.err.ptr, "cancelled"));
		cli_done(&r);
		partial_copy_is_consistent(e);
	}
	c = copy_ok(e, src);
	restore(e, point_of(s), e->out);
	compare_trees(e->src, e->out);
	check_ok(e, "--read-data");
	json_decref(c);
	json_decref(s);
	free(timing);
	free(src);
	free(buf);
}

static void test_vault_cli__copy_refuses_another_vault(void **state)
{
	env *e = *state;
	const char *none[] = { "vault", "copy", "--vault", e->vault, NULL };
	json_t *s;
	char *src;
	uint64_t before;
	cli_run r;

	write_file(e->src, "a.txt", "data", 4);
	src = copy_source(e, &s);
	cli_init_vault(e->vault);
	before = obj_count(e, e->vault);
	run_copy(e, src, 0, &r);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.ptr, "holds another vault"));
	/* one line */
	assert_string_equal(strchr(r.err.ptr, '\n'), "\n");
	cli_done(&r);
	assert_int_equal(obj_count(e, e->vault), before);
	cli_check(none, 3, "--to");
	{
		const char *self[] = { "vault", "copy", "--vault", src, "--to", src, NULL };

		cli_check(self, 2, "is the vault itself");
	}
	json_decref(s);
	free(src);
}

static void test_vault_cli__copy_never_spreads_a_damaged_object(void **state)
{
	env *e = *state;
	uint8_t *buf = malloc(1 << 20);
	json_t *s;
	char *src, *pack;
	cli_run r;

	fill(buf, 1 << 20, 9);
	write_file(e->src, "f.bin", buf, 1 << 20);
	src = copy_source(e, &s);
	pack = obj_first_name(src, "data/");
	obj_flip(src, pack, 1000);
	run_copy(e, src, 0, &r);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.ptr, leaf(pack)));
	assert_non_null(strstr(r.err.ptr, "not copied"));
	cli_done(&r);
	/* the copy stopped before anything that needs the pack */
	assert_int_equal(obj_count(e, e->vault) > 0, 1);
	partial_copy_is_consistent(e);
	{
		vault_backend *b = obj_open(e->vault, 0);
		uint64_t size;

		assert_int_equal(b->ops->stat(b, pack, &size), SV_ENOTFOUND);
		vault__backend_close(b);
	}
	json_decref(s);
	free(pack);
	free(src);
	free(buf);
}

/* ---- prune: points placed in time ---- */

#define DAY 86400

/* The runs' clock: SYSVAULT_FAKE_NOW (t; 0 the real clock), in UTC. */
static char g_now_env[64];

static void at(int64_t t)
{
	snprintf(g_now_env, sizeof(g_now_env), "SYSVAULT_FAKE_NOW=%lld", (long long)t);
	cli_env[3] = t ? g_now_env : NULL;
	cli_env[4] = t ? "TZ=UTC0" : NULL;
	cli_env[5] = NULL;
}

/* Noon (UTC) of a day long gone: each day's points sit at noon, so the
 * days retention counts are the same in any time zone near UTC. */
static int64_t noon_long_ago(void)
{
	return (sv_time_now() / DAY - 400) * DAY + DAY / 2;
}

/*
 * Retention counts days, so its cases move the runs' clock days apart
 * (SYSVAULT_FAKE_NOW). The cloud backends sign their requests with the
 * machine's real clock (sv_time_real), so the services, which refuse a
 * signature 15 minutes from their own clock, still accept them.
 */

/* A day's tree: base.bin (the same every day of a series) and daily.bin
 * (that day's own). */
static void make_day(const char *root, uint64_t series, size_t base_len,
		     int day, size_t daily_len)
{
	uint8_t *buf = malloc(base_len > daily_len ? base_len : daily_len);

	fill(buf, base_len, 7000 + series);
	write_file(root, "base.bin", buf, base_len);
	fill(buf, daily_len, 10000 + series * 100 + (uint64_t)day);
	write_file(root, "daily.bin", buf, daily_len);
	free(buf);
}

/* Object names with their sizes ("name size"), sorted. */
typedef struct obj_list {
	char **v;
	size_t n, cap;
} obj_list;

static void list_add(obj_list *l, char *entry)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = entry;
}

static int on_listed(void *ud, const char *name, uint64_t size)
{
	list_add(ud, sv_aprintf("%s %llu", name, (unsigned long long)size));
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every object under prefix, through the vault's backend. */
static void obj_list_of(const char *url, const char *prefix, obj_list *l)
{
	vault_backend *b = obj_open(url, 0);

	memset(l, 0, sizeof(*l));
	sv_assert_ok(b->ops->list(b, prefix, on_listed, l));
	vault__backend_close(b);
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_name);
}

static void obj_list_free(obj_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int obj_listed(const obj_list *l, const char *entry)
{
	return l->n && bsearch(&entry, l->v, l->n, sizeof(*l->v), by_name) != NULL;
}

static void obj_lists_equal(const obj_list *a, const obj_list *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!obj_listed(b, a->v[i]))
			fail_msg("object '%s' changed or went", a->v[i]);
	for (i = 0; i < b->n; i++)
		if (!obj_listed(a, b->v[i]))
			fail_msg("object '%s' appeared", b->v[i]);
}

/* The entries of after that before lacks. */
static void obj_list_new(const obj_list *before, const obj_list *after,
			 obj_list *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < after->n; i++)
		if (!obj_listed(before, after->v[i]))
			list_add(out, sv_strdup(after->v[i]));
}

/* Backs up e->src and returns the data/ objects it wrote; *id gets the
 * point (caller frees). */
static void backup_packs(env *e, obj_list *packs, char **id)
{
	obj_list pre, post;
	json_t *s;

	obj_list_of(e->vault, "data/", &pre);
	s = backup(e, e->src);
	obj_list_of(e->vault, "data/", &post);
	obj_list_new(&pre, &post, packs);
	assert_true(packs->n >= 1);
	*id = sv_strdup(point_of(s));
	json_decref(s);
	obj_list_free(&pre);
	obj_list_free(&post);
}

/* `vault prune --retain-daily 7` (--dry-run when asked), which must
 * succeed; its JSON (caller decrefs). */
static json_t *prune_ok(env *e, int dry_run)
{
	const char *a[] = { "--json", "vault", "prune", "--vault", e->vault,
			    "--retain-daily", "7", dry_run ? "--dry-run" : NULL, NULL };
	json_t *j = NULL;
	cli_run r;

	cli(&r, a);
	if (r.code != 0)
		fail_msg("vault prune failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "prune output"));
	cli_done(&r);
	return j;
}

/* The ids of the vault's points, as `points --json` lists them. */
static void point_ids(env *e, obj_list *ids)
{
	const char *a[] = { "--json", "points", "--vault", e->vault, NULL };
	json_t *list = NULL, *p;
	size_t i;
	cli_run r;

	cli(&r, a);
	if (r.code != 0)
		fail_msg("points failed (%d): %s", r.code, r.err.ptr);
	sv_assert_ok(sv_json_parse(&list, r.out.ptr, r.out.len, "points"));
	memset(ids, 0, sizeof(*ids));
	json_array_foreach(list, i, p) {
		list_add(ids, sv_strdup(json_string_value(json_object_get(p, "id"))));
	}
	if (ids->n)
		qsort(ids->v, ids->n, sizeof(*ids->v), by_name);
	json_decref(list);
	cli_done(&r);
}

/* Restores point and compares it with the tree make_day() wrote. */
static void restores_day(env *e, const char *point, uint64_t series,
			 size_t base_len, int day, size_t daily_len)
{
	char *want = cli_path(e->dir, "expected");

	sv_fs_remove_tree(want);
	sv_fs_remove_tree(e->out);
	make_day(want, series, base_len, day, daily_len);
	restore(e, point, e->out);
	compare_trees(want, e->out);
	sv_fs_remove_tree(want);
	free(want);
}

/* Whether any of packs (from obj_list_of) is still in the vault. */
static int packs_present(env *e, const obj_list *packs, int all)
{
	obj_list now;
	size_t i, n = 0;

	obj_list_of(e->vault, "data/", &now);
	for (i = 0; i < packs->n; i++)
		n += obj_listed(&now, packs->v[i]);
	obj_list_free(&now);
	return all ? n == packs->n : n > 0;
}

static void test_vault_cli__prune_keeps_a_week_of_points(void **state)
{
	env *e = *state;
	enum { DAYS = 10, BASE = 1 << 20, DAILY = 64 << 10 };
	const int64_t t0 = noon_long_ago();
	obj_list packs[DAYS], before, after, ids;
	char *id[DAYS];
	json_t *j;
	int d;

	at(t0);
	cli_init_vault(e->vault);
	for (d = 0; d < DAYS; d++) {
		at(t0 + d * DAY);
		make_day(e->src, 1, BASE, d, DAILY);
		backup_packs(e, &packs[d], &id[d]);
	}
	/* Day 9: with a week's retention, the points of days 0 to 2 have
	 * expired (a point of day d is kept until day d + 7 begins). */
	at(t0 + 9 * DAY + 3600);
	obj_list_of(e->vault, "", &before);
	j = prune_ok(e, 1);
	assert_int_equal(field(j, "deleted"), 3);
	assert_int_equal(field(j, "kept"), 7);
	assert_true(field(j, "bytes_freed") >= DAILY);
	json_decref(j);
	obj_list_of(e->vault, "", &after);
	obj_lists_equal(&before, &after);
	obj_list_free(&before);
	obj_list_free(&after);

	j = prune_ok(e, 0);
	assert_int_equal(field(j, "deleted"), 3);
	json_decref(j);
	point_ids(e, &ids);
	assert_int_equal(ids.n, DAYS - 3);
	for (d = 0; d < DAYS; d++)
		assert_int_equal(obj_listed(&ids, id[d]), d >= 3);
	/* The packs of days 1 and 2 held only those days' data; day 0's
	 * also holds base.bin, and its unneeded share is too small to
	 * repack. */
	assert_false(packs_present(e, &packs[1], 0));
	assert_false(packs_present(e, &packs[2], 0));
	for (d = 3; d < DAYS; d++)
		assert_true(packs_present(e, &packs[d], 1));
	check_ok(e, "--read-data");
	for (d = 3; d < DAYS; d++)
		restores_day(e, id[d], 1, BASE, d, DAILY);
	/* Nothing more to do the same day. */
	obj_list_of(e->vault, "", &before);
	j = prune_ok(e, 0);
	assert_int_equal(field(j, "deleted"), 0);
	json_decref(j);
	obj_list_of(e->vault, "", &after);
	obj_lists_equal(&before, &after);
	for (d = 0; d < DAYS; d++) {
		obj_list_free(&packs[d]);
		free(id[d]);
	}
	obj_list_free(&before);
	obj_list_free(&after);
	obj_list_free(&ids);
}

static void test_vault_cli__prune_repacks_a_mostly_unneeded_pack(void **state)
{
	env *e = *state;
	enum { BASE = 128 << 10, OLD = 1 << 20, NEW = 64 << 10 };
	const int64_t t0 = noon_long_ago();
	obj_list p0, p5, before, after, added;
	char *id0, *id5;
	json_t *j;

	at(t0);
	cli_init_vault(e->vault);
	make_day(e->src, 2, BASE, 0, OLD);
	backup_packs(e, &p0, &id0);
	at(t0 + 5 * DAY);
	make_day(e->src, 2, BASE, 5, NEW);
	backup_packs(e, &p5, &id5);
	/* Day 8: day 0's point goes; its pack is mostly daily.bin of day 0,
	 * but day 5 still needs the base.bin it holds. */
	at(t0 + 8 * DAY + 3600);
	obj_list_of(e->vault, "data/", &before);
	j = prune_ok(e, 0);
	assert_int_equal(field(j, "deleted"), 1);
	assert_int_equal(field(j, "packs_repacked"), 1);
	assert_true(field(j, "bytes_freed") >= OLD / 2);
	json_decref(j);
	obj_list_of(e->vault, "data/", &after);
	obj_list_new(&before, &after, &added);
	assert_false(packs_present(e, &p0, 0));
	assert_true(packs_present(e, &p5, 1));
	assert_true(added.n >= 1);
	check_ok(e, "--read-data");
	restores_day(e, id5, 2, BASE, 5, NEW);
	{
		const char *a[] = { "restore", "--point", id0, "--to", e->out,
				    "--vault", e->vault, NULL };

		cli_check(a, 2, NULL);
	}
	obj_list_free(&p0);
	obj_list_free(&p5);
	obj_list_free(&before);
	obj_list_free(&after);
	obj_list_free(&added);
	free(id0);
	free(id5);
}

/* Round r of a series: points on days 0, 1 and 5 of its own span of time
 * (day 0's pack is repacked by a prune on day 8, day 1's deleted); the
 * id of day 5's point, which every prune of the round keeps. */
enum { SPAN = 20, R_BASE = 4 << 20, R_D0 = 3 << 20, R_D1 = 512 << 10, R_D5 = 128 << 10 };

static char *prune_round_points(env *e, int64_t t0, int r)
{
	const int64_t s = t0 + (int64_t)r * SPAN * DAY;
	static const int day[3] = { 0, 1, 5 };
	static const size_t len[3] = { R_D0, R_D1, R_D5 };
	obj_list packs;
	char *id = NULL;
	int i;

	for (i = 0; i < 3; i++) {
		free(id);
		at(s + day[i] * DAY);
		make_day(e->src, 100 + (uint64_t)r, R_BASE, day[i], len[i]);
		backup_packs(e, &packs, &id);
		obj_list_free(&packs);
	}
	at(s + 8 * DAY + 3600);
	return id;
}

/* The round's prune has done its work: only its day 5 point is left. */
static void prune_round_done(env *e, int r, const char *id5)
{
	obj_list ids;

	point_ids(e, &ids);
	assert_int_equal(ids.n, 1);
	assert_true(obj_listed(&ids, id5));
	obj_list_free(&ids);
	restores_day(e, id5, 100 + (uint64_t)r, R_BASE, 5, R_D5);
}

/* Whether a and b differ in anything but lock objects. */
static int differ_beyond_locks(const obj_list *a, const obj_list *b)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (!sv_str_startswith(a->v[i], "locks/") && !obj_listed(b, a->v[i]))
			return 1;
	for (i = 0; i < b->n; i++)
		if (!sv_str_startswith(b->v[i], "locks/") && !obj_listed(a, b->v[i]))
			return 1;
	return 0;
}

static void test_vault_cli__killed_prunes_never_break_the_vault(void **state)
{
	env *e = *state;
	const int rounds = e->cloud ? 4 : 6;
	const int64_t t0 = noon_long_ago();
	const char *a[] = { "vault", "prune", "--vault", e->vault,
			    "--retain-daily", "7", NULL };
	uint64_t t, full_ms, lo = 0, hi;
	json_t *j;
	char *id5;
	int r, midway = 0;

	at(t0);
	cli_init_vault(e->vault);
	/* Time a whole prune to spread the kills over its length. */
	id5 = prune_round_points(e, t0, 0);
	t = sv_time_mono_ms();
	j = prune_ok(e, 0);
	full_ms = sv_time_mono_ms() - t;
	hi = full_ms * 2;
	assert_int_equal(field(j, "packs_repacked"), 1);
	json_decref(j);
	prune_round_done(e, 0, id5);
	free(id5);
	/* Kills spread over the run, then (until one has) aimed between the
	 * latest that changed nothing and the earliest that was too late,
	 * for a prune cut in the middle of its work. */
	for (r = 1; r <= rounds || (!midway && r <= rounds + 10); r++) {
		uint64_t ms = r <= rounds ? full_ms * (uint64_t)r / (uint64_t)(rounds + 1)
					  : (lo + hi) / 2;
		int64_t when;
		obj_list before, after;
		const char *what;
		cli_run k;

		id5 = prune_round_points(e, t0, r);
		when = t0 + (int64_t)r * SPAN * DAY + 8 * DAY + 3600;
		obj_list_of(e->vault, "", &before);
		cli_killed(&k, a, (unsigned)(ms ? ms : 1));
		if (k.code != -1 && k.code != 0)
			fail_msg("vault prune failed (%d): %s", k.code, k.err.ptr);
		obj_list_of(e->vault, "", &after);
		if (k.code == 0) {
			what = "finished";
			hi = ms < hi ? ms : hi;
		} else if (!differ_beyond_locks(&before, &after)) {
			what = "killed before deleting anything";
			lo = ms > lo ? ms : lo;
		} else {
			what = "killed part way";
			midway++;
		}
		print_message("prune killed at %llu of %llu ms: %s\n",
			      (unsigned long long)ms, (unsigned long long)full_ms, what);
		cli_done(&k);
		obj_list_free(&before);
		obj_list_free(&after);
		check_ok(e, NULL);
		/* Once the dead prune's lock has expired, the next one
		 * finishes the work. */
		at(when + VAULT_LOCK_TTL + 60);
		json_decref(prune_ok(e, 0));
		check_ok(e, NULL);
		prune_round_done(e, r, id5);
		free(id5);
	}
	assert_true(midway >= 1);
	check_ok(e, "--read-data");
}

/* A backup of another machine (its own state directory) while a prune
 * runs: the prune may leave data for later, never take what the backup
 * uses; the backup holds the data of the points being pruned. */
static void test_vault_cli__backup_beside_a_prune_loses_nothing(void **state)
{
	env *e = *state;
	const int64_t t0 = noon_long_ago();
	const unsigned delay_ms[] = { 0, 30, 80 };
	const char *pa[] = { "--json", "vault", "prune", "--vault", e->vault,
			     "--retain-daily", "7", NULL };
	char *two = cli_path(e->dir, "machine-two"), *src2 = cli_path(e->dir, "src-two");
	const char *bk[] = { "--state-dir", two, "--json", "backup", "--source-dir",
			     src2, "--vault", e->vault, "--machine", "SRV-TWO", NULL };
	int r;

	at(t0);
	cli_init_vault(e->vault);
	for (r = 0; r < 3; r++) {
		cli_bg *bg;
		cli_run pr, br;
		json_t *s = NULL;
		char *id5 = prune_round_points(e, t0, r);
		uint8_t *buf = malloc(R_D1);

		/* The other machine's tree: day 0's data of this round, being
		 * pruned, and its own. */
		sv_fs_remove_tree(src2);
		make_day(src2, 100 + (uint64_t)r, R_BASE, 0, R_D0);
		fill(buf, R_D1, 50000 + (uint64_t)r);
		write_file(src2, "own.bin", buf, R_D1);
		bg = cli_start(pa);
		sv_time_sleep_ms(delay_ms[r]);
		cli(&br, bk);
		cli_wait(bg, &pr);
		if (br.code != 0)
			fail_msg("backup beside a prune failed (%d): %s", br.code, br.err.ptr);
		if (pr.code != 0 && pr.code != 1)
			fail_msg("prune beside a backup failed (%d): %s", pr.code, pr.err.ptr);
		print_message("round %d: prune exited %d\n", r, pr.code);
		sv_assert_ok(sv_json_parse(&s, br.out.ptr, br.out.len, "backup output"));
		cli_done(&pr);
		cli_done(&br);
		check_ok(e, "--read-data");
		sv_fs_remove_tree(e->out);
		restore(e, point_of(s), e->out);
		compare_trees(src2, e->out);
		/* Later, with no backup running, a prune frees what is left
		 * and nothing the other machine's point needs. */
		json_decref(prune_ok(e, 0));
		check_ok(e, "--read-data");
		sv_fs_remove_tree(e->out);
		restore(e, point_of(s), e->out);
		compare_trees(src2, e->out);
		restores_day(e, id5, 100 + (uint64_t)r, R_BASE, 5, R_D5);
		json_decref(s);
		free(id5);
		free(buf);
	}
	free(two);
	free(src2);
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
		cmocka_unit_test_setup_teardown(test_vault_cli__preflight_reaches_the_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__copy_restores_bit_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__interrupted_copy_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__copy_refuses_another_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__copy_never_spreads_a_damaged_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__prune_keeps_a_week_of_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__prune_repacks_a_mostly_unneeded_pack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__killed_prunes_never_break_the_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_cli__backup_beside_a_prune_loses_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
