#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

#define VAULT_A                                                                \
	"aa00000000000000000000000000000000000000000000000000000000000001"
#define VAULT_B                                                                \
	"bb00000000000000000000000000000000000000000000000000000000000002"

typedef struct fixture {
	char *dir;
	char *path;
	vault_cache *c;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || !(f->dir = sv_test_tmpdir("cache")) ||
	    !(f->path = sv_path_join(f->dir, "vault.db")))
		return -1;
	return vault__cache_open(&f->c, f->path, VAULT_A) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *f = *state;

	vault__cache_close(f->c);
	sv_fs_remove_tree(f->dir);
	free(f->path);
	free(f->dir);
	free(f);
	return 0;
}

static vault_cache *cache(void **state)
{
	return ((fixture *)*state)->c;
}

/* A distinct 32-byte id for each (kind, n). */
static void make_id(uint8_t id[VAULT_ID_LEN], uint8_t kind, uint32_t n)
{
	uint32_t x = n * 2654435761u + kind;
	size_t i;

	for (i = 0; i < VAULT_ID_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		id[i] = (uint8_t)x;
	}
	id[0] = kind;
	memcpy(id + 1, &n, sizeof(n));
}

static void make_entry(vault_blob_entry *e, uint32_t n, uint32_t offset)
{
	make_id(e->id, 'c', n);
	e->offset = offset;
	e->length = 100 + n % 50;
	e->raw_length = 1000 + n;
	e->flags = (uint8_t)(n % 4);
}

static void assert_loc(vault_cache *c, const vault_blob_entry *e,
		       const uint8_t *pack_id)
{
	vault_blob_loc loc;

	memset(&loc, 0, sizeof(loc));
	sv_assert_ok(vault__cache_lookup(c, e->id, &loc));
	assert_memory_equal(loc.pack_id, pack_id, VAULT_ID_LEN);
	assert_int_equal(loc.offset, e->offset);
	assert_int_equal(loc.length, e->length);
	assert_int_equal(loc.raw_length, e->raw_length);
	assert_int_equal(loc.flags, e->flags);
}

static void assert_entry_equal(const vault_blob_entry *a,
			       const vault_blob_entry *b)
{
	assert_memory_equal(a->id, b->id, VAULT_ID_LEN);
	assert_int_equal(a->offset, b->offset);
	assert_int_equal(a->length, b->length);
	assert_int_equal(a->raw_length, b->raw_length);
	assert_int_equal(a->flags, b->flags);
}

/* A pack of n entries numbered first.., contiguous from offset 36. */
static void add_pack(vault_cache *c, uint32_t pack_n, uint32_t first,
		     uint32_t n, int indexed, vault_blob_entry *out)
{
	vault_blob_entry *e = calloc(n ? n : 1, sizeof(*e));
	uint8_t pack[VAULT_ID_LEN];
	uint32_t i, off = VAULT_PACK_HEAD_LEN;

	make_id(pack, 'p', pack_n);
	for (i = 0; i < n; i++) {
		make_entry(&e[i], first + i, off);
		off += e[i].length;
	}
	sv_assert_ok(vault__cache_add_pack(c, pack, off + 100, e, n, indexed));
	if (out)
		memcpy(out, e, n * sizeof(*e));
	free(e);
}

/* ---- tests ---- */

static void test_cache__add_and_lookup_round_trip(void **state)
{
	vault_cache *c = cache(state);
	vault_blob_entry e[3];
	uint8_t pack[VAULT_ID_LEN], other[VAULT_ID_LEN];
	vault_blob_loc loc;
	uint64_t packs, chunks, bytes;
	int i;

	add_pack(c, 1, 10, 3, 1, e);
	make_id(pack, 'p', 1);
	make_id(other, 'p', 2);
	for (i = 0; i < 3; i++)
		assert_loc(c, &e[i], pack);
	make_id(loc.pack_id, 'c', 99);
	assert_int_equal(vault__cache_lookup(c, loc.pack_id, &loc),
			 SV_ENOTFOUND);
	assert_int_equal(vault__cache_has_pack(c, pack), 1);
	assert_int_equal(vault__cache_has_pack(c, other), 0);
	sv_assert_ok(vault__cache_stats(c, &packs, &chunks, &bytes));
	assert_true(packs == 1 && chunks == 3);
	assert_true(bytes == VAULT_PACK_HEAD_LEN + e[0].length + e[1].length +
				     e[2].length + 100);
}

static void test_cache__readding_a_pack_is_a_no_op(void **state)
{
	vault_cache *c = cache(state);
	vault_blob_entry first[2], again[3];
	uint8_t pack[VAULT_ID_LEN];
	vault_blob_loc loc;
	uint64_t packs, chunks, bytes;

	make_id(pack, 'p', 1);
	add_pack(c, 1, 10, 2, 0, first);
	add_pack(c, 1, 20, 3, 0, again);
	assert_loc(c, &first[0], pack);
	assert_int_equal(vault__cache_lookup(c, again[0].id, &loc),
			 SV_ENOTFOUND);
	sv_assert_ok(vault__cache_stats(c, &packs, &chunks, &bytes));
	assert_true(packs == 1 && chunks == 2);
}

static void test_cache__chunk_in_two_packs_keeps_the_first(void **state)
{
	vault_cache *c = cache(state);
	vault_blob_entry a, b;
	uint8_t pack1[VAULT_ID_LEN], pack2[VAULT_ID_LEN];

	make_id(pack1, 'p', 1);
	make_id(pack2, 'p', 2);
	make_entry(&a, 7, 36);
	b = a;
	b.offset = 500;
	sv_assert_ok(vault__cache_add_pack(c, pack1, 1000, &a, 1, 0));
	sv_assert_ok(vault__cache_add_pack(c, pack2, 2000, &b, 1, 0));
	assert_loc(c, &a, pack1);
	assert_int_equal(vault__cache_has_pack(c, pack2), 1);
}

typedef struct pack_seen {
	uint8_t ids[8][VAULT_ID_LEN];
	uint64_t sizes[8];
	int n;
	vault_cache *mark; /* marks each pack indexed from the callback */
} pack_seen;

static int collect_pack(void *ud, const uint8_t id[VAULT_ID_LEN], uint64_t size)
{
	pack_seen *s = ud;

	assert_true(s->n < 8);
	memcpy(s->ids[s->n], id, VAULT_ID_LEN);
	s->sizes[s->n++] = size;
	return s->mark ? vault__cache_mark_indexed(s->mark, id) : 0;
}

static void unindexed(vault_cache *c, pack_seen *s)
{
	memset(s, 0, sizeof(*s));
	sv_assert_ok(vault__cache_unindexed(c, collect_pack, s));
}

static void test_cache__mark_indexed_and_unindexed(void **state)
{
	vault_cache *c = cache(state);
	uint8_t p2[VAULT_ID_LEN], p3[VAULT_ID_LEN], p9[VAULT_ID_LEN];
	pack_seen s;

	make_id(p2, 'p', 2);
	make_id(p3, 'p', 3);
	make_id(p9, 'p', 9);
	add_pack(c, 1, 10, 2, 1, NULL);
	add_pack(c, 2, 20, 2, 0, NULL);
	add_pack(c, 3, 30, 2, 0, NULL);
	unindexed(c, &s);
	assert_int_equal(s.n, 2);
	sv_assert_ok(vault__cache_mark_indexed(c, p2));
	unindexed(c, &s);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.ids[0], p3, VAULT_ID_LEN);
	assert_true(s.sizes[0] > VAULT_PACK_HEAD_LEN);
	assert_int_equal(vault__cache_mark_indexed(c, p9), SV_ENOTFOUND);
	/* Found again in an index object: indexed now. */
	add_pack(c, 3, 30, 2, 1, NULL);
	unindexed(c, &s);
	assert_int_equal(s.n, 0);
}

static void test_cache__unindexed_callback_may_write(void **state)
{
	vault_cache *c = cache(state);
	pack_seen s;

	add_pack(c, 1, 10, 2, 0, NULL);
	add_pack(c, 2, 20, 2, 0, NULL);
	add_pack(c, 3, 30, 2, 0, NULL);
	memset(&s, 0, sizeof(s));
	s.mark = c;
	sv_assert_ok(vault__cache_unindexed(c, collect_pack, &s));
	assert_int_equal(s.n, 3);
	unindexed(c, &s);
	assert_int_equal(s.n, 0);
}

static void test_cache__pack_blobs_in_offset_order(void **state)
{
	vault_cache *c = cache(state);
	vault_blob_entry e[4], *got = NULL;
	uint8_t pack[VAULT_ID_LEN], none[VAULT_ID_LEN];
	uint32_t count = 99, i;

	make_id(pack, 'p', 5);
	make_id(none, 'p', 6);
	for (i = 0; i < 4; i++)
		make_entry(&e[i], 40 + i, 36 + 200 * (3 - i)); /* reversed */
	sv_assert_ok(vault__cache_add_pack(c, pack, 1000, e, 4, 0));
	sv_assert_ok(vault__cache_pack_blobs(c, pack, &got, &count));
	assert_int_equal(count, 4);
	for (i = 0; i < 4; i++)
		assert_entry_equal(&got[i], &e[3 - i]);
	free(got);
	got = NULL;
	assert_int_equal(vault__cache_pack_blobs(c, none, &got, &count),
			 SV_ENOTFOUND);
	assert_null(got);
	assert_int_equal(count, 0);
	sv_assert_ok(vault__cache_add_pack(c, none, 36, NULL, 0, 0));
	sv_assert_ok(vault__cache_pack_blobs(c, none, &got, &count));
	assert_int_equal(count, 0);
	free(got);
}

static void test_cache__del_pack_forgets_pack_and_blobs(void **state)
{
	vault_cache *c = cache(state);
	vault_blob_entry e1[3], e2[2], *got = NULL;
	uint8_t p1[VAULT_ID_LEN], p2[VAULT_ID_LEN];
	uint64_t packs, chunks, bytes;
	vault_blob_loc loc;
	uint32_t count = 0;
	pack_seen s;

	make_id(p1, 'p', 1);
	make_id(p2, 'p', 2);
	add_pack(c, 1, 10, 3, 0, e1);
	add_pack(c, 2, 20, 2, 0, e2);
	sv_assert_ok(vault__cache_del_pack(c, p1));
	sv_assert_ok(vault__cache_del_pack(c, p1)); /* already gone */
	assert_int_equal(vault__cache_has_pack(c, p1), 0);
	assert_int_equal(vault__cache_lookup(c, e1[0].id, &loc), SV_ENOTFOUND);
	assert_int_equal(vault__cache_pack_blobs(c, p1, &got, &count),
			 SV_ENOTFOUND);
	assert_loc(c, &e2[1], p2);
	unindexed(c, &s);
	assert_int_equal(s.n, 1);
	sv_assert_ok(vault__cache_stats(c, &packs, &chunks, &bytes));
	assert_true(packs == 1 && chunks == 2);
	/* The upload is retried: the pack can be recorded again. */
	add_pack(c, 1, 10, 3, 0, NULL);
	assert_loc(c, &e1[2], p1);
}

static void test_cache__index_ids(void **state)
{
	vault_cache *c = cache(state);
	uint8_t id[VAULT_ID_LEN];

	make_id(id, 'i', 1);
	assert_int_equal(vault__cache_has_index(c, id), 0);
	sv_assert_ok(vault__cache_add_index(c, id));
	sv_assert_ok(vault__cache_add_index(c, id));
	assert_int_equal(vault__cache_has_index(c, id), 1);
}

typedef struct point_seen {
	int64_t times[8];
	char machines[8][16];
	char summaries[8][32];
	int n;
	vault_cache *del; /* deletes each point from the callback */
} point_seen;

static int collect_point(void *ud, const uint8_t id[VAULT_ID_LEN],
			 const char *machine, int64_t time, const char *summary)
{
	point_seen *s = ud;

	assert_true(s->n < 8);
	s->times[s->n] = time;
	sv_strlcpy(s->machines[s->n], machine, sizeof(s->machines[0]));
	sv_strlcpy(s->summaries[s->n++], summary, sizeof(s->summaries[0]));
	return s->del ? vault__cache_del_point(s->del, id) : 0;
}

static void test_cache__points_ordered_by_time(void **state)
{
	vault_cache *c = cache(state);
	uint8_t p1[VAULT_ID_LEN], p2[VAULT_ID_LEN], p3[VAULT_ID_LEN];
	point_seen s;

	make_id(p1, 'P', 1);
	make_id(p2, 'P', 2);
	make_id(p3, 'P', 3);
	sv_assert_ok(vault__cache_add_point(c, p1, "SRV01", 1800000000,
					    "{\"n\":1}"));
	sv_assert_ok(vault__cache_add_point(c, p2, "SRV02", 1700000000,
					    "{\"n\":2}"));
	sv_assert_ok(vault__cache_add_point(c, p3, "SRV01", 1750000000,
					    "{\"n\":3}"));
	assert_int_equal(vault__cache_has_point(c, p2), 1);
	memset(&s, 0, sizeof(s));
	sv_assert_ok(vault__cache_points(c, collect_point, &s));
	assert_int_equal(s.n, 3);
	assert_true(s.times[0] == 1700000000 && s.times[1] == 1750000000 &&
		    s.times[2] == 1800000000);
	assert_string_equal(s.machines[0], "SRV02");
	assert_string_equal(s.summaries[2], "{\"n\":1}");
	sv_assert_ok(vault__cache_del_point(c, p2));
	assert_int_equal(vault__cache_has_point(c, p2), 0);
	memset(&s, 0, sizeof(s));
	s.del = c; /* prune everything while walking */
	sv_assert_ok(vault__cache_points(c, collect_point, &s));
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	sv_assert_ok(vault__cache_points(c, collect_point, &s));
	assert_int_equal(s.n, 0);
}

static void test_cache__other_vault_id_empties_the_cache(void **state)
{
	fixture *f = *state;
	vault_blob_entry e[1];
	uint8_t pack[VAULT_ID_LEN], point[VAULT_ID_LEN];
	vault_blob_loc loc;

	make_id(pack, 'p', 1);
	make_id(point, 'P', 1);
	add_pack(f->c, 1, 10, 1, 1, e);
	sv_assert_ok(vault__cache_add_point(f->c, point, "SRV01", 1, "{}"));
	vault__cache_close(f->c);
	f->c = NULL;
	sv_assert_ok(vault__cache_open(&f->c, f->path, VAULT_A));
	assert_loc(f->c, &e[0], pack);
	vault__cache_close(f->c);
	f->c = NULL;
	sv_assert_ok(vault__cache_open(&f->c, f->path, VAULT_B));
	assert_int_equal(vault__cache_lookup(f->c, e[0].id, &loc),
			 SV_ENOTFOUND);
	assert_int_equal(vault__cache_has_pack(f->c, pack), 0);
	assert_int_equal(vault__cache_has_point(f->c, point), 0);
}

static void test_cache__clear_empties_every_table(void **state)
{
	vault_cache *c = cache(state);
	uint8_t idx[VAULT_ID_LEN], point[VAULT_ID_LEN];
	uint64_t packs, chunks, bytes;

	make_id(idx, 'i', 1);
	make_id(point, 'P', 1);
	add_pack(c, 1, 10, 5, 1, NULL);
	sv_assert_ok(vault__cache_add_index(c, idx));
	sv_assert_ok(vault__cache_add_point(c, point, "SRV01", 1, "{}"));
	sv_assert_ok(vault__cache_clear(c));
	sv_assert_ok(vault__cache_stats(c, &packs, &chunks, &bytes));
	assert_true(packs == 0 && chunks == 0 && bytes == 0);
	assert_int_equal(vault__cache_has_index(c, idx), 0);
	assert_int_equal(vault__cache_has_point(c, point), 0);
}

static void test_cache__rollback_discards_a_transaction(void **state)
{
	vault_cache *c = cache(state);
	uint8_t pack[VAULT_ID_LEN];

	make_id(pack, 'p', 1);
	sv_assert_ok(vault__cache_rollback(c)); /* none open: fine */
	sv_assert_ok(vault__cache_begin(c));
	add_pack(c, 1, 10, 3, 0, NULL);
	assert_int_equal(vault__cache_has_pack(c, pack), 1);
	sv_assert_ok(vault__cache_rollback(c));
	assert_int_equal(vault__cache_has_pack(c, pack), 0);
	assert_true(vault__cache_commit(c) < 0); /* nothing to commit */
}

typedef struct reader_job {
	vault_cache_reader *r;
	const uint8_t *id;
	vault_blob_loc loc;
	int rc;
} reader_job;

static void reader_lookup(void *arg)
{
	reader_job *j = arg;

	j->rc = vault__cache_reader_lookup(j->r, j->id, &j->loc);
}

/* The lookup runs in a thread of its own, as a worker's would. */
static int lookup_in_thread(vault_cache_reader *r, const uint8_t *id,
			    vault_blob_loc *loc)
{
	reader_job j;
	sv_thread *t = NULL;

	memset(&j, 0, sizeof(j));
	j.r = r;
	j.id = id;
	sv_assert_ok(sv_thread_start(&t, reader_lookup, &j));
	sv_thread_join(t);
	*loc = j.loc;
	return j.rc;
}

static void test_cache__reader_sees_committed_inserts_only(void **state)
{
	vault_cache *c = cache(state);
	vault_cache_reader *r = NULL;
	vault_blob_entry e[2];
	uint8_t pack[VAULT_ID_LEN];
	vault_blob_loc loc;

	make_id(pack, 'p', 1);
	add_pack(c, 1, 10, 1, 1, e);
	sv_assert_ok(vault__cache_reader_open(&r, c));
	sv_assert_ok(lookup_in_thread(r, e[0].id, &loc));
	assert_memory_equal(loc.pack_id, pack, VAULT_ID_LEN);
	sv_assert_ok(vault__cache_begin(c));
	add_pack(c, 2, 20, 1, 0, &e[1]);
	assert_int_equal(lookup_in_thread(r, e[1].id, &loc), SV_ENOTFOUND);
	sv_assert_ok(vault__cache_commit(c));
	sv_assert_ok(lookup_in_thread(r, e[1].id, &loc));
	assert_int_equal(loc.offset, e[1].offset);
	assert_int_equal(loc.raw_length, e[1].raw_length);
	vault__cache_reader_close(r);
}

static void test_cache__corrupt_file_is_reported(void **state)
{
	fixture *f = *state;
	char garbage[8192];
	vault_cache *c = NULL;
	size_t i;

	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	vault__cache_close(f->c);
	f->c = NULL;
	sv_assert_ok(sv_fs_remove_tree(f->dir));
	sv_assert_ok(sv_fs_mkdir_p(f->dir, 1));
	sv_assert_ok(sv_fs_write_atomic(f->path, garbage, sizeof(garbage), 0));
	assert_int_equal(vault__cache_open(&c, f->path, VAULT_A), SV_ECORRUPT);
	assert_null(c);
	assert_non_null(strstr(sv_error_msg(), "vault sync"));
	assert_non_null(strstr(sv_error_msg(), f->path));
}

static void test_cache__unwritable_location_is_an_error(void **state)
{
	fixture *f = *state;
	char *path = sv_path_join(f->path, "nested.db"); /* under a file */
	vault_cache *c = NULL;
	int rc;

	rc = vault__cache_open(&c, path, VAULT_A);
	assert_int_equal(rc, SV_EIO);
	assert_null(c);
	assert_non_null(strstr(sv_error_msg(), "nested.db"));
	free(path);
}

/* ---- volume ---- */

#define BULK_CHUNKS 100000u
#define BULK_PER_PACK 1000u

static void print_rate(const char *what, unsigned n, uint64_t ms)
{
	print_message("%s: %u in %llu ms (%.0f per second, %.2f us each)\n",
		      what, n, (unsigned long long)ms,
		      ms ? n * 1000.0 / (double)ms : 0.0,
		      n ? ms * 1000.0 / n : 0.0);
}

static void test_cache__hundred_thousand_inserts_and_lookups(void **state)
{
	vault_cache *c = cache(state);
	vault_cache_reader *r = NULL;
	vault_blob_entry e;
	vault_blob_loc loc;
	uint64_t t0, packs, chunks, bytes;
	uint32_t i;

	t0 = sv_time_mono_ms();
	sv_assert_ok(vault__cache_begin(c));
	for (i = 0; i < BULK_CHUNKS / BULK_PER_PACK; i++)
		add_pack(c, i, i * BULK_PER_PACK, BULK_PER_PACK, 1, NULL);
	sv_assert_ok(vault__cache_commit(c));
	print_rate("inserts (one transaction)", BULK_CHUNKS,
		   sv_time_mono_ms() - t0);

	t0 = sv_time_mono_ms();
	for (i = 0; i < BULK_CHUNKS; i++) {
		make_entry(&e, (i * 7919u) % BULK_CHUNKS, 0);
		sv_assert_ok(vault__cache_lookup(c, e.id, &loc));
	}
	print_rate("lookups (hits, random order)", BULK_CHUNKS,
		   sv_time_mono_ms() - t0);

	t0 = sv_time_mono_ms();
	for (i = 0; i < BULK_CHUNKS; i++) {
		make_entry(&e, BULK_CHUNKS + i, 0);
		assert_int_equal(vault__cache_lookup(c, e.id, &loc),
				 SV_ENOTFOUND);
	}
	print_rate("lookups (misses)", BULK_CHUNKS, sv_time_mono_ms() - t0);

	sv_assert_ok(vault__cache_reader_open(&r, c));
	t0 = sv_time_mono_ms();
	for (i = 0; i < BULK_CHUNKS; i++) {
		make_entry(&e, (i * 7919u) % BULK_CHUNKS, 0);
		sv_assert_ok(vault__cache_reader_lookup(r, e.id, &loc));
	}
	print_rate("reader lookups (hits)", BULK_CHUNKS,
		   sv_time_mono_ms() - t0);
	vault__cache_reader_close(r);

	sv_assert_ok(vault__cache_stats(c, &packs, &chunks, &bytes));
	assert_true(packs == BULK_CHUNKS / BULK_PER_PACK);
	assert_true(chunks == BULK_CHUNKS);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cache__add_and_lookup_round_trip),
		T(test_cache__readding_a_pack_is_a_no_op),
		T(test_cache__chunk_in_two_packs_keeps_the_first),
		T(test_cache__mark_indexed_and_unindexed),
		T(test_cache__unindexed_callback_may_write),
		T(test_cache__pack_blobs_in_offset_order),
		T(test_cache__del_pack_forgets_pack_and_blobs),
		T(test_cache__index_ids),
		T(test_cache__points_ordered_by_time),
		T(test_cache__other_vault_id_empties_the_cache),
		T(test_cache__clear_empties_every_table),
		T(test_cache__rollback_discards_a_transaction),
		T(test_cache__reader_sees_committed_inserts_only),
		T(test_cache__corrupt_file_is_reported),
		T(test_cache__unwritable_location_is_an_error),
		T(test_cache__hundred_thousand_inserts_and_lookups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
