/*
 * test_vault_chunker.c - vault/chunker.c: parameter checks, the chunk size
 * limits, a frozen test vector (changing it is a vault format change),
 * resilience to insertions, streaming, and vault__is_zero().
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "vault_int.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define MAX_CHUNKS 4096

static const vault_chunker_params defaults = {16384, 65536, 262144};

/* xorshift64 (13, 7, 17) from seed; each state gives 8 bytes, LE. */
static void fill_xorshift(uint8_t *dst, size_t n, uint64_t seed)
{
	uint64_t x = seed;
	size_t i, j;

	for (i = 0; i < n; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (j = 0; j < 8 && i + j < n; j++)
			dst[i + j] = (uint8_t)(x >> (8 * j));
	}
}

static uint8_t *random_data(size_t n, uint64_t seed)
{
	uint8_t *d = malloc(n);

	assert_non_null(d);
	fill_xorshift(d, n, seed);
	return d;
}

static vault_chunker *chunker_with_seed(uint8_t first)
{
	vault_chunker *c = NULL;
	uint8_t seed[32];
	int i;

	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
	sv_assert_ok(vault__chunker_new(&c, &defaults, seed));
	return c;
}

/* Chunks all of data in one call each; fills ends[] with the chunk end
 * offsets and returns how many. */
static size_t chunk_all(const vault_chunker *c, const uint8_t *data, size_t n,
			size_t *ends)
{
	size_t pos = 0, count = 0, len;

	while (pos < n) {
		len = vault__chunker_next(c, data + pos, n - pos, 0);
		assert_true(len > 0 && len <= n - pos);
		assert_true(count < MAX_CHUNKS);
		pos += len;
		ends[count++] = pos;
	}
	return count;
}

/* ---- parameters ---- */

static void test_chunker__rejects_bad_parameters(void **state)
{
	const vault_chunker_params bad[] = {
		{63, 128, 256},		/* min < 64 */
		{16384, 65535, 262144}, /* avg not a power of two */
		{16384, 0, 262144},
		{65536, 65536, 262144},		/* min == avg */
		{131072, 65536, 262144},	/* min > avg */
		{16384, 65536, 65536},		/* avg == max */
		{16384, 65536, 4 * 1048576 + 1} /* max > 4 MiB */
	};
	const vault_chunker_params good[] = {{64, 128, 129},
					     {16384, 2097152, 4194304}};
	uint8_t seed[32] = {0};
	vault_chunker *c = (vault_chunker *)1;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vault__chunker_new(&c, &bad[i], seed),
				 SV_EINVAL);
		assert_null(c);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		sv_assert_ok(vault__chunker_new(&c, &good[i], seed));
		vault__chunker_free(c);
	}
	vault__chunker_free(NULL);
}

/* ---- chunk sizes and coverage ---- */

static void test_chunker__chunks_cover_input_within_limits(void **state)
{
	size_t n = 4 * MIB, ends[MAX_CHUNKS], count, i, start = 0, len;
	uint8_t *data = random_data(n, 42), *copy = malloc(n);
	vault_chunker *c = chunker_with_seed(0);

	assert_non_null(copy);
	count = chunk_all(c, data, n, ends);
	for (i = 0; i < count; i++) {
		len = ends[i] - start;
		if (i + 1 < count)
			assert_true(len >= defaults.min_size);
		assert_true(len <= defaults.max_size);
		memcpy(copy + start, data + start, len);
		start = ends[i];
	}
	assert_int_equal(start, n);
	assert_memory_equal(copy, data, n);
	free(copy);
	free(data);
	vault__chunker_free(c);
}

static void test_chunker__end_of_stream_rules(void **state)
{
	vault_chunker *c = chunker_with_seed(0);
	uint8_t *data = random_data(MIB, 3), zeros[64] = {0};
	size_t len;

	assert_int_equal(vault__chunker_next(c, data, 0, 0), 0);
	assert_int_equal(vault__chunker_next(c, data, 1, 0), 1);
	assert_int_equal(vault__chunker_next(c, data, 16384, 0), 16384);
	assert_int_equal(vault__chunker_next(c, data, 16384, 1), 0);
	assert_int_equal(vault__chunker_next(c, data, 0, 1), 0);
	/* With max bytes or more, there is always an answer. */
	len = vault__chunker_next(c, data, MIB, 1);
	assert_true(len > 16384 && len <= 262144);
	assert_int_equal(vault__chunker_next(c, data, 262144, 1), len);
	/* Zeros never match a mask here: cut at max. */
	free(data);
	data = calloc(1, MIB);
	assert_non_null(data);
	assert_int_equal(vault__chunker_next(c, data, MIB, 1), 262144);
	assert_int_equal(vault__chunker_next(c, data, 100000, 0), 100000);
	assert_int_equal(vault__chunker_next(c, zeros, sizeof(zeros), 0), 64);
	free(data);
	vault__chunker_free(c);
}

/* ---- determinism and the frozen vector ---- */

static void test_chunker__same_seed_same_boundaries(void **state)
{
	size_t n = 2 * MIB, a[MAX_CHUNKS], b[MAX_CHUNKS], na, nb;
	uint8_t *data = random_data(n, 9);
	vault_chunker *c1 = chunker_with_seed(0), *c2 = chunker_with_seed(0);

	na = chunk_all(c1, data, n, a);
	nb = chunk_all(c2, data, n, b);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	free(data);
	vault__chunker_free(c1);
	vault__chunker_free(c2);
}

/*
 * Seed bytes 0..31, 1 MiB of fill_xorshift(seed 1), default parameters.
 * These offsets are the vault format: if this test fails, chunk ids of
 * existing vaults no longer match (cross-checked against an independent
 * straight-line implementation of docs/vault-format.md "Chunking").
 */
static void test_chunker__fixed_vector_freezes_format(void **state)
{
	static const size_t want[10] = {27079,	108631, 198899, 284519, 365713,
					431935, 497955, 565606, 632080, 684562};
	size_t ends[MAX_CHUNKS], count, i;
	uint8_t *data = random_data(MIB, 1);
	vault_chunker *c = chunker_with_seed(0);

	count = chunk_all(c, data, MIB, ends);
	assert_true(count >= 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(ends[i], want[i]);
	assert_int_equal(count, 15);
	free(data);
	vault__chunker_free(c);
}

static void test_chunker__seed_changes_boundaries(void **state)
{
	size_t n = MIB, a[MAX_CHUNKS], b[MAX_CHUNKS], na, nb, i, same = 0;
	uint8_t *data = random_data(n, 1);
	vault_chunker *c1 = chunker_with_seed(0), *c2 = chunker_with_seed(1);

	na = chunk_all(c1, data, n, a);
	nb = chunk_all(c2, data, n, b);
	for (i = 0; i + 1 < na && i + 1 < nb; i++)
		same += a[i] == b[i];
	assert_true(same < 2);
	free(data);
	vault__chunker_free(c1);
	vault__chunker_free(c2);
}

/* ---- shift resilience ---- */

/* Chunk ids of data under a fixed id key; returns the count. */
static size_t chunk_ids(const vault_chunker *c, const uint8_t *data, size_t n,
			uint8_t (*ids)[VAULT_ID_LEN])
{
	static size_t ends[MAX_CHUNKS];
	uint8_t key[VAULT_KEY_LEN];
	size_t count = chunk_all(c, data, n, ends), i, start = 0;

	memset(key, 0x5a, sizeof(key));
	for (i = 0; i < count; i++) {
		vault__chunk_id(ids[i], key, data + start, ends[i] - start);
		start = ends[i];
	}
	return count;
}

static void test_chunker__insertion_changes_only_nearby_chunks(void **state)
{
	static uint8_t a[MAX_CHUNKS][VAULT_ID_LEN], b[MAX_CHUNKS][VAULT_ID_LEN];
	size_t n = 4 * MIB, na, nb, i, j, shared = 0;
	uint8_t *data = random_data(n, 5), *edited = malloc(n + 100);
	vault_chunker *c = chunker_with_seed(0);

	assert_non_null(edited);
	memcpy(edited, data, 1000);
	memset(edited + 1000, 'x', 100);
	memcpy(edited + 1100, data + 1000, n - 1000);
	na = chunk_ids(c, data, n, a);
	nb = chunk_ids(c, edited, n + 100, b);
	for (i = 0; i < nb; i++)
		for (j = 0; j < na; j++)
			if (memcmp(b[i], a[j], VAULT_ID_LEN) == 0) {
				shared++;
				break;
			}
	assert_true(shared * 10 >= nb * 9);
	assert_true(shared + 3 >= nb);
	free(edited);
	free(data);
	vault__chunker_free(c);
}

/* ---- streaming ---- */

/*
 * A caller with a growing window: it starts with little data and adds an
 * odd-sized piece whenever the chunker asks for more.
 */
static size_t chunk_streaming(const vault_chunker *c, const uint8_t *data,
			      size_t n, size_t *ends)
{
	static const size_t pieces[] = {1, 4099, 777, 65537, 12345, 300001};
	size_t pos = 0, avail = 0, count = 0, k = 0, len;

	while (pos < n) {
		len = vault__chunker_next(c, data + pos, avail - pos,
					  avail < n);
		if (len == 0) {
			assert_true(avail < n);
			avail += pieces[k++ % 6];
			if (avail > n)
				avail = n;
			continue;
		}
		assert_true(len <= avail - pos && count < MAX_CHUNKS);
		pos += len;
		ends[count++] = pos;
	}
	return count;
}

static void test_chunker__streaming_matches_one_call(void **state)
{
	size_t n = 3 * MIB + 12345, a[MAX_CHUNKS], b[MAX_CHUNKS], na, nb;
	uint8_t *data = random_data(n, 11);
	vault_chunker *c = chunker_with_seed(7);

	na = chunk_all(c, data, n, a);
	nb = chunk_streaming(c, data, n, b);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	free(data);
	vault__chunker_free(c);
}

static void test_chunker__average_size_near_avg(void **state)
{
	size_t n = 8 * MIB, ends[MAX_CHUNKS], count, mean;
	uint8_t *data = random_data(n, 77);
	vault_chunker *c = chunker_with_seed(3);

	count = chunk_all(c, data, n, ends);
	mean = n / count;
	assert_true(mean >= defaults.avg_size / 2);
	assert_true(mean <= defaults.avg_size / 2 * 3);
	free(data);
	vault__chunker_free(c);
}

/* ---- is_zero ---- */

static void test_chunker__is_zero_cases(void **state)
{
	static uint8_t buf[4096 + 7];
	size_t lens[] = {1, 7, 8, 9, 63, 64, 65, 127, 1000, 4096 + 7};
	size_t i;

	assert_true(vault__is_zero(buf, 0));
	assert_true(vault__is_zero(buf, sizeof(buf)));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = lens[i];

		assert_true(vault__is_zero(buf + 1, n - 1));
		buf[n - 1] = 1; /* last byte */
		assert_false(vault__is_zero(buf, n));
		assert_true(vault__is_zero(buf, n - 1));
		buf[n - 1] = 0;
		buf[0] = 0x80; /* first byte */
		assert_false(vault__is_zero(buf, n));
		buf[0] = 0;
		buf[n / 2] = 0x10; /* middle */
		assert_false(vault__is_zero(buf, n));
		buf[n / 2] = 0;
		assert_true(vault__is_zero(buf, n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunker__rejects_bad_parameters),
		cmocka_unit_test(
			test_chunker__chunks_cover_input_within_limits),
		cmocka_unit_test(test_chunker__end_of_stream_rules),
		cmocka_unit_test(test_chunker__same_seed_same_boundaries),
		cmocka_unit_test(test_chunker__fixed_vector_freezes_format),
		cmocka_unit_test(test_chunker__seed_changes_boundaries),
		cmocka_unit_test(
			test_chunker__insertion_changes_only_nearby_chunks),
		cmocka_unit_test(test_chunker__streaming_matches_one_call),
		cmocka_unit_test(test_chunker__average_size_near_avg),
		cmocka_unit_test(test_chunker__is_zero_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
