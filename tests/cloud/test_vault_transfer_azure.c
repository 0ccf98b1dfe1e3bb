/*
 * test_vault_transfer_azure.c - the vault's use of the transfer engine
 * against Azurite, through the vault API: a backup of several packs and
 * its restore with four transfers (restore joins neighbouring chunks into
 * one ranged read), a damaged byte inside such a read found and the file
 * not left behind, cancel reaching backup and restore, and a new cache
 * filled from several index and point objects loaded at once.
 *
 * Run by azurite-run.sh (SYSVAULT_AZURE_ENDPOINT / SYSVAULT_AZURE_KEY);
 * without them the test says why and exits 77 (skipped).
 */
#include <stdatomic.h>

#include "sv_test.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"
#define SKIP_CODE 77
#define DATA_LEN ((size_t)40 << 20) /* three packs */

typedef struct env {
	char *dir, *src, *cache, *url;
	vault *v;
} env;

/* Incompressible, reproducible bytes. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	vault_init_opts io = {0};
	vault_access acc = {0};
	uint8_t r[6], *data;
	char hex[13], id[65], *file;

	e->dir = sv_test_tmpdir("transfer");
	e->src = sv_path_join(e->dir, "src");
	e->cache = sv_path_join(e->dir, "cache");
	sv_assert_ok(vault__random(r, sizeof(r)));
	sv_hex_encode(hex, r, sizeof(r));
	e->url = sv_aprintf("azure://devstoreaccount1/xf-%s/v", hex);
	sv_assert_ok(sv_fs_mkdir_p(e->src, 0));
	data = malloc(DATA_LEN);
	fill(data, DATA_LEN, 7);
	file = sv_path_join(e->src, "image.bin");
	sv_assert_ok(sv_fs_write_atomic(file, data, DATA_LEN, 0));
	free(file);
	free(data);
	io.scrypt_n = 1024;
	acc.transfers = 4;
	sv_assert_ok(vault_init(e->url, &acc, PASS, &io, id));
	sv_assert_ok(vault_open(&e->v, e->url, &acc, PASS, e->cache));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	vault_close(e->v);
	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->src);
	free(e->cache);
	free(e->url);
	free(e);
	return 0;
}

static void backup(env *e, vault_backup_result *r)
{
	vault_backup_opts o = {0};

	o.source_dir = e->src;
	o.machine = "SRV-XFER";
	sv_assert_ok(vault_backup(e->v, &o, r));
}

static int restore(env *e, const char *point, const char *to)
{
	vault_restore_opts o = {0};
	vault_restore_result r;

	o.point_id = point;
	o.target_dir = to;
	return vault_restore(e->v, &o, &r);
}

static void assert_same(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	size_t xn = 0, yn = 0;

	sv_assert_ok(sv_fs_read_all(&x, &xn, a, DATA_LEN + 1));
	sv_assert_ok(sv_fs_read_all(&y, &yn, b, DATA_LEN + 1));
	assert_int_equal(xn, yn);
	assert_true(memcmp(x, y, xn) == 0);
	free(x);
	free(y);
}

static void test_transfer__backup_and_restore_with_four_transfers(void **state)
{
	env *e = *state;
	vault_backup_result r;
	char *to = sv_path_join(e->dir, "out");
	char *a = sv_path_join(e->src, "image.bin");
	char *b = sv_path_join(to, "image.bin");

	assert_int_equal(vault__transfers(e->v), 4);
	backup(e, &r);
	assert_true(r.bytes_stored >= DATA_LEN);
	sv_assert_ok(restore(e, r.point_id, to));
	assert_same(a, b);
	free(to);
	free(a);
	free(b);
}

typedef struct first_pack {
	char name[VAULT_NAME_MAX];
	uint64_t size;
} first_pack;

static int pick_pack(void *ud, const char *name, uint64_t size)
{
	first_pack *p = ud;

	if (!p->name[0] || size > p->size) {
		sv_strlcpy(p->name, name, sizeof(p->name));
		p->size = size;
	}
	return 0;
}

/* Flips one byte in the middle of the largest pack (rewritten in place:
 * delete, then put the damaged bytes under the same name). */
static void damage_a_pack(env *e)
{
	vault_backend *be = NULL;
	first_pack p = {"", 0};
	sv_buf bytes;

	sv_assert_ok(vault__backend_open(&be, e->url, NULL, 0));
	sv_assert_ok(be->ops->list(be, "data/", pick_pack, &p));
	assert_true(p.size > (1u << 20));
	sv_buf_init(&bytes, (size_t)p.size + 1);
	sv_assert_ok(be->ops->get(be, p.name, 0, UINT64_MAX, &bytes));
	bytes.ptr[bytes.len / 2] ^= 0x40;
	sv_assert_ok(be->ops->del(be, p.name));
	sv_assert_ok(be->ops->put(be, p.name, bytes.ptr, bytes.len));
	sv_buf_release(&bytes);
	vault__backend_close(be);
}

static void test_transfer__damage_inside_a_joined_read_is_found(void **state)
{
	env *e = *state;
	vault_backup_result r;
	char *to = sv_path_join(e->dir, "out");
	char *b = sv_path_join(to, "image.bin");
	int is_dir = 0;
	uint64_t size = 0;

	backup(e, &r);
	damage_a_pack(e);
	assert_int_equal(restore(e, r.point_id, to), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "image.bin"));
	assert_int_equal(sv_fs_stat(b, &is_dir, &size), SV_ENOTFOUND);
	free(to);
	free(b);
}

/* Says stop on its nth question (asked by the pipeline's threads and the
 * transfer engine's). */
typedef struct stopper {
	atomic_int asked;
	int at;
} stopper;

static int stop_at(void *ud)
{
	stopper *s = ud;

	return atomic_fetch_add(&s->asked, 1) + 1 >= s->at;
}

static void test_transfer__cancel_stops_backup_and_restore(void **state)
{
	env *e = *state;
	vault_backup_opts bo = {0};
	vault_restore_opts ro = {0};
	vault_backup_result br;
	vault_restore_result rr;
	stopper s;
	char *to = sv_path_join(e->dir, "out");

	atomic_init(&s.asked, 0);
	s.at = 3;
	bo.source_dir = e->src;
	bo.machine = "SRV-XFER";
	bo.cancel = stop_at;
	bo.ud = &s;
	assert_int_equal(vault_backup(e->v, &bo, &br), SV_ECANCELLED);
	backup(e, &br); /* the engine takes requests again afterwards */
	atomic_store(&s.asked, 0);
	ro.point_id = br.point_id;
	ro.target_dir = to;
	ro.cancel = stop_at;
	ro.ud = &s;
	assert_int_equal(vault_restore(e->v, &ro, &rr), SV_ECANCELLED);
	free(to);
}

static int count_point(void *ud, const vault_point_info *p)
{
	(void)p;
	(*(int *)ud)++;
	return 0;
}

static void test_transfer__new_cache_loads_objects_in_parallel(void **state)
{
	env *e = *state;
	vault_backup_result r;
	vault_sync_result sr;
	vault *v2 = NULL;
	char *note = sv_path_join(e->src, "note.txt");
	char *cache2 = sv_path_join(e->dir, "cache2");
	int i, points = 0;

	for (i = 0; i < 5; i++) { /* five points, five indexes */
		char text[64];
		int n = snprintf(text, sizeof(text), "backup number %d\n", i);

		sv_assert_ok(sv_fs_write_atomic(note, text, (size_t)n, 0));
		backup(e, &r);
	}
	sv_assert_ok(vault_open(&v2, e->url, NULL, PASS, cache2));
	sv_assert_ok(vault_points(v2, NULL, count_point, &points));
	assert_int_equal(points, 5);
	sv_assert_ok(vault_sync(v2, 1, &sr));
	assert_int_equal(sr.indexes_loaded, 5);
	assert_int_equal(sr.points_loaded, 5);
	assert_int_equal(sr.packs_unindexed, 0);
	vault_close(v2);
	free(note);
	free(cache2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_transfer__backup_and_restore_with_four_transfers,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_transfer__damage_inside_a_joined_read_is_found,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_transfer__cancel_stops_backup_and_restore, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_transfer__new_cache_loads_objects_in_parallel,
			setup, teardown),
	};
	char *ep = sv_env_get("SYSVAULT_AZURE_ENDPOINT");

	if (!ep || !ep[0]) {
		fprintf(stderr,
			"SKIPPED: SYSVAULT_AZURE_ENDPOINT is not set: run "
			"this test through tests/cloud/azurite-run.sh\n");
		free(ep);
		return SKIP_CODE;
	}
	free(ep);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
