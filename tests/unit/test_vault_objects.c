#include "sv_test.h"
#include "vault_int.h"

/* A sealed object is only handed to callers that trust its bytes: every
 * damaged form must be refused with SV_ECORRUPT (or SV_EINVAL), never read
 * past its end (run these under ASan). */

static void master_init(vault_master *mk, uint8_t seed)
{
	size_t i;

	for (i = 0; i < VAULT_KEY_LEN; i++) {
		mk->data_key[i] = (uint8_t)(seed + i);
		mk->id_key[i] = (uint8_t)(seed * 7 + i);
	}
}

static void fill_text(uint8_t *p, size_t n)
{
	static const char words[] = "system state backup of a domain "
				    "controller, ";
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)words[i % (sizeof(words) - 1)];
}

static void fill_random(uint8_t *p, size_t n)
{
	sv_assert_ok(vault__random(p, n));
}

static void seal(sv_buf *out, const vault_master *mk, int kind, const void *p,
		 size_t n)
{
	sv_buf_init(out, 1 << 20);
	sv_assert_ok(vault__object_seal(out, mk, kind, p, n));
}

/* Opens a sealed object and returns the code; the plaintext is dropped. */
static int open_rc(const vault_master *mk, int kind, const void *s, size_t n)
{
	sv_buf out;
	int rc;

	sv_buf_init(&out, 1 << 20);
	rc = vault__object_open(&out, mk, kind, s, n, 1 << 20, "index/test");
	sv_buf_release(&out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Sealed objects                                                      */

static void round_trip(const vault_master *mk, int kind, const uint8_t *p,
		       size_t n)
{
	sv_buf s, out;

	seal(&s, mk, kind, p, n);
	assert_true(s.len >= 53);
	assert_memory_equal(s.ptr, "SVO1", 4);
	assert_int_equal((uint8_t)s.ptr[4], kind);
	sv_buf_init(&out, 1 << 20);
	sv_assert_ok(vault__object_open(&out, mk, kind, s.ptr, s.len, n,
					"points/test"));
	assert_int_equal(out.len, n);
	if (n)
		assert_memory_equal(out.ptr, p, n);
	sv_buf_release(&out);
	sv_buf_release(&s);
}

static void test_objects__round_trip(void **state)
{
	static const size_t sizes[] = {0, 1, 100, 4096, 70000};
	vault_master mk;
	uint8_t *p = malloc(70000);
	size_t i;

	(void)state;
	master_init(&mk, 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill_text(p, sizes[i]);
		round_trip(&mk, VAULT_OBJ_POINT, p, sizes[i]);
		fill_random(p, sizes[i]); /* does not shrink: still a frame */
		round_trip(&mk, VAULT_OBJ_INDEX, p, sizes[i]);
	}
	free(p);
}

static void test_objects__open_appends(void **state)
{
	vault_master mk;
	sv_buf s, out;

	(void)state;
	master_init(&mk, 2);
	seal(&s, &mk, VAULT_OBJ_MACHINE, "{\"a\":1}", 7);
	sv_buf_init(&out, 64);
	sv_assert_ok(sv_buf_adds(&out, "x="));
	sv_assert_ok(vault__object_open(&out, &mk, VAULT_OBJ_MACHINE, s.ptr,
					s.len, 7, "machines/x"));
	assert_string_equal(out.ptr, "x={\"a\":1}");
	sv_buf_release(&out);
	sv_buf_release(&s);
}

static void test_objects__same_payload_seals_differently(void **state)
{
	vault_master mk;
	sv_buf a, b;

	(void)state;
	master_init(&mk, 3);
	seal(&a, &mk, VAULT_OBJ_LOCK, "lock", 4);
	seal(&b, &mk, VAULT_OBJ_LOCK, "lock", 4);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.ptr + 5, b.ptr + 5, 32); /* salts */
	sv_buf_release(&a);
	sv_buf_release(&b);
}

static void test_objects__rejects_every_truncation(void **state)
{
	vault_master mk;
	sv_buf s;
	size_t n;
	int rc;

	(void)state;
	master_init(&mk, 4);
	seal(&s, &mk, VAULT_OBJ_INDEX, "SVI1\0\0\0\0", 8);
	for (n = 0; n < s.len; n++) {
		rc = open_rc(&mk, VAULT_OBJ_INDEX, s.ptr, n);
		assert_int_equal(rc, SV_ECORRUPT);
		assert_non_null(strstr(sv_error_msg(), "index/test"));
	}
	sv_buf_release(&s);
}

static void test_objects__rejects_every_bit_flip(void **state)
{
	vault_master mk;
	uint8_t *copy;
	sv_buf s;
	size_t i;

	(void)state;
	master_init(&mk, 5);
	seal(&s, &mk, VAULT_OBJ_POINT, "{\"version\":1}", 13);
	copy = malloc(s.len);
	for (i = 0; i < s.len; i++) {
		memcpy(copy, s.ptr, s.len);
		copy[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(open_rc(&mk, VAULT_OBJ_POINT, copy, s.len),
				 SV_ECORRUPT);
	}
	memcpy(copy, s.ptr, s.len);
	sv_assert_ok(open_rc(&mk, VAULT_OBJ_POINT, copy, s.len));
	free(copy);
	sv_buf_release(&s);
}

static void test_objects__rejects_wrong_kind(void **state)
{
	vault_master mk;
	sv_buf s;

	(void)state;
	master_init(&mk, 6);
	seal(&s, &mk, VAULT_OBJ_POINT, "{}", 2);
	assert_int_equal(open_rc(&mk, VAULT_OBJ_INDEX, s.ptr, s.len),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "index/test"));
	assert_non_null(strstr(sv_error_msg(), "kind 'P', expected 'I'"));
	/* Relabelling the kind byte breaks the tag (it is in the AAD). */
	s.ptr[4] = 'I';
	assert_int_equal(open_rc(&mk, VAULT_OBJ_INDEX, s.ptr, s.len),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "authentication failed"));
	sv_buf_release(&s);
}

static void test_objects__rejects_bad_magic(void **state)
{
	vault_master mk;
	sv_buf s;

	(void)state;
	master_init(&mk, 7);
	seal(&s, &mk, VAULT_OBJ_INDEX, "x", 1);
	s.ptr[0] = 'X';
	assert_int_equal(open_rc(&mk, VAULT_OBJ_INDEX, s.ptr, s.len),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "bad magic"));
	sv_buf_release(&s);
}

static void test_objects__rejects_another_master_key(void **state)
{
	vault_master mk, other;
	sv_buf s;

	(void)state;
	master_init(&mk, 8);
	master_init(&other, 9);
	seal(&s, &mk, VAULT_OBJ_MACHINE, "{}", 2);
	assert_int_equal(open_rc(&other, VAULT_OBJ_MACHINE, s.ptr, s.len),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(),
			       "authentication failed: the object was altered "
			       "or belongs to another vault"));
	/* Only the data key matters for objects. */
	memcpy(other.data_key, mk.data_key, VAULT_KEY_LEN);
	sv_assert_ok(open_rc(&other, VAULT_OBJ_MACHINE, s.ptr, s.len));
	sv_buf_release(&s);
}

static void test_objects__rejects_payload_over_max(void **state)
{
	vault_master mk;
	uint8_t p[1000];
	sv_buf s, out;

	(void)state;
	master_init(&mk, 10);
	fill_text(p, sizeof(p));
	seal(&s, &mk, VAULT_OBJ_POINT, p, sizeof(p));
	sv_buf_init(&out, 1 << 20);
	assert_int_equal(vault__object_open(&out, &mk, VAULT_OBJ_POINT, s.ptr,
					    s.len, 999, "points/big"),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "points/big"));
	assert_non_null(strstr(sv_error_msg(), "larger than"));
	assert_int_equal(out.len, 0);
	sv_assert_ok(vault__object_open(&out, &mk, VAULT_OBJ_POINT, s.ptr,
					s.len, 1000, "points/big"));
	sv_buf_release(&out);
	sv_buf_release(&s);
}

static void test_objects__seal_rejects_unknown_kind(void **state)
{
	vault_master mk;
	sv_buf s;

	(void)state;
	master_init(&mk, 11);
	sv_buf_init(&s, 1024);
	assert_int_equal(vault__object_seal(&s, &mk, 'X', "a", 1), SV_EINVAL);
	assert_int_equal(s.len, 0);
	sv_buf_release(&s);
}

/* ------------------------------------------------------------------ */
/* Pack headers                                                        */

static void make_entries(vault_blob_entry *e, uint32_t n)
{
	uint32_t i, off = VAULT_PACK_HEAD_LEN;

	memset(e, 0, n * sizeof(*e)); /* padding too: compared bytewise */
	for (i = 0; i < n; i++) {
		memset(e[i].id, (int)(i + 1), VAULT_ID_LEN);
		e[i].offset = off;
		e[i].raw_length = 1000 + i;
		e[i].flags = i % 3 == 0 ? 0 : VAULT_BLOB_ZSTD;
		if (i % 5 == 4)
			e[i].flags |= VAULT_BLOB_LIST;
		e[i].length = e[i].flags & VAULT_BLOB_ZSTD
				      ? 100 + i
				      : e[i].raw_length + VAULT_TAG_LEN;
		off += e[i].length;
	}
}

static int header_rc(const void *p, size_t n)
{
	vault_blob_entry *e = NULL;
	uint32_t c = 7;
	int rc = vault__pack_header_decode(&e, &c, p, n);

	if (rc < 0) {
		assert_null(e);
		assert_int_equal(c, 0);
	}
	free(e);
	return rc;
}

static void test_objects__pack_header_round_trip(void **state)
{
	vault_blob_entry in[6], *out = NULL;
	uint32_t count;
	sv_buf b;

	(void)state;
	make_entries(in, 6);
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__pack_header_encode(&b, in, 6));
	assert_int_equal(b.len, 4 + 6 * 45);
	assert_int_equal((uint8_t)b.ptr[0], 6);
	sv_assert_ok(vault__pack_header_decode(&out, &count, b.ptr, b.len));
	assert_int_equal(count, 6);
	assert_memory_equal(out, in, sizeof(in));
	free(out);
	sv_buf_reset(&b);
	sv_assert_ok(vault__pack_header_encode(&b, NULL, 0));
	sv_assert_ok(vault__pack_header_decode(&out, &count, b.ptr, b.len));
	assert_int_equal(count, 0);
	free(out);
	sv_buf_release(&b);
}

static void test_objects__pack_header_rejects_every_truncation(void **state)
{
	vault_blob_entry in[3];
	sv_buf b;
	size_t n;

	(void)state;
	make_entries(in, 3);
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__pack_header_encode(&b, in, 3));
	for (n = 0; n < b.len; n++)
		assert_int_equal(header_rc(b.ptr, n), SV_ECORRUPT);
	sv_assert_ok(sv_buf_addc(&b, 0)); /* a trailing byte */
	assert_int_equal(header_rc(b.ptr, b.len), SV_ECORRUPT);
	sv_buf_release(&b);
}

/* Encodes in, lets edit damage entry k, and returns the decode result. */
static int header_edit_rc(void (*edit)(vault_blob_entry *), uint32_t k)
{
	vault_blob_entry in[4];
	sv_buf b;
	int rc;

	make_entries(in, 4);
	edit(&in[k]);
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__pack_header_encode(&b, in, 4));
	rc = header_rc(b.ptr, b.len);
	sv_buf_release(&b);
	return rc;
}

static void edit_flags(vault_blob_entry *e)
{
	e->flags |= 0x04;
}

static void edit_short(vault_blob_entry *e)
{
	e->length = 15;
}

static void edit_raw_huge(vault_blob_entry *e)
{
	e->raw_length = (4u << 20) + 1;
}

static void edit_offset(vault_blob_entry *e)
{
	e->offset += 1;
}

static void edit_raw_mismatch(vault_blob_entry *e)
{
	e->flags = 0;
	e->length = e->raw_length + VAULT_TAG_LEN + 1;
}

static void test_objects__pack_header_rejects_bad_entries(void **state)
{
	uint32_t k;

	(void)state;
	for (k = 0; k < 4; k++) {
		assert_int_equal(header_edit_rc(edit_flags, k), SV_ECORRUPT);
		assert_non_null(strstr(sv_error_msg(), "flag"));
		assert_int_equal(header_edit_rc(edit_short, k), SV_ECORRUPT);
		assert_int_equal(header_edit_rc(edit_raw_huge, k), SV_ECORRUPT);
		assert_int_equal(header_edit_rc(edit_offset, k), SV_ECORRUPT);
		assert_int_equal(header_edit_rc(edit_raw_mismatch, k),
				 SV_ECORRUPT);
	}
}

static void test_objects__pack_header_rejects_hostile_count(void **state)
{
	uint8_t p[4 + 45] = {0xff, 0xff, 0xff, 0xff};

	(void)state;
	assert_int_equal(header_rc(p, sizeof(p)), SV_ECORRUPT);
	p[3] = 0;
	p[2] = 0;
	p[1] = 0;
	p[0] = 2; /* two entries in room for one */
	assert_int_equal(header_rc(p, sizeof(p)), SV_ECORRUPT);
}

/* ------------------------------------------------------------------ */
/* Index objects                                                       */

static void make_index(vault_index_pack *p, vault_blob_entry *e)
{
	memset(p, 0, 3 * sizeof(*p));
	make_entries(e, 5);
	memset(p[0].pack_id, 0xa0, VAULT_ID_LEN);
	p[0].blobs = e;
	p[0].count = 3;
	p[0].pack_size = e[2].offset + e[2].length + 24;
	memset(p[1].pack_id, 0xa1, VAULT_ID_LEN); /* no entries */
	p[1].pack_size = 60;
	memset(p[2].pack_id, 0xa2, VAULT_ID_LEN);
	p[2].blobs = e;
	p[2].count = 5;
	p[2].pack_size = 1u << 24;
}

static int index_rc(const void *p, size_t n)
{
	vault_index_pack *packs = NULL;
	uint32_t np = 9;
	int rc = vault__index_decode(&packs, &np, p, n);

	if (rc < 0) {
		assert_null(packs);
		assert_int_equal(np, 0);
	}
	vault__index_free(packs, np);
	return rc;
}

static void test_objects__index_round_trip(void **state)
{
	vault_index_pack in[3], *out = NULL;
	vault_blob_entry e[5];
	uint32_t np, i;
	sv_buf b;

	(void)state;
	make_index(in, e);
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__index_encode(&b, in, 3));
	assert_int_equal(b.len, 8 + 3 * 44 + 8 * 45);
	assert_memory_equal(b.ptr, "SVI1", 4);
	sv_assert_ok(vault__index_decode(&out, &np, b.ptr, b.len));
	assert_int_equal(np, 3);
	for (i = 0; i < 3; i++) {
		assert_memory_equal(out[i].pack_id, in[i].pack_id, 32);
		assert_true(out[i].pack_size == in[i].pack_size);
		assert_int_equal(out[i].count, in[i].count);
		if (in[i].count)
			assert_memory_equal(out[i].blobs, in[i].blobs,
					    in[i].count * sizeof(e[0]));
	}
	vault__index_free(out, np);
	vault__index_free(NULL, 0);
	sv_buf_release(&b);
}

static void test_objects__index_rejects_every_truncation(void **state)
{
	vault_index_pack in[3];
	vault_blob_entry e[5];
	sv_buf b;
	size_t n;

	(void)state;
	make_index(in, e);
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__index_encode(&b, in, 3));
	for (n = 0; n < b.len; n++)
		assert_int_equal(index_rc(b.ptr, n), SV_ECORRUPT);
	sv_assert_ok(sv_buf_addc(&b, 0));
	assert_int_equal(index_rc(b.ptr, b.len), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "trailing"));
	sv_buf_release(&b);
}

static void test_objects__index_rejects_hostile_counts(void **state)
{
	uint8_t p[8 + 44 + 45] = "SVI1\xff\xff\xff\xff";

	(void)state;
	assert_int_equal(index_rc(p, sizeof(p)), SV_ECORRUPT);
	memcpy(p + 4, "\x01\0\0\0", 4);
	memset(p + 8 + 40, 0xff, 4); /* the pack claims 2^32-1 blobs */
	assert_int_equal(index_rc(p, sizeof(p)), SV_ECORRUPT);
}

static void test_objects__index_rejects_blobs_outside_pack(void **state)
{
	vault_index_pack in[3];
	vault_blob_entry e[5];
	sv_buf b;

	(void)state;
	make_index(in, e);
	in[0].pack_size -= 1; /* no room left for the smallest header */
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__index_encode(&b, in, 3));
	assert_int_equal(index_rc(b.ptr, b.len), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "past a pack"));
	sv_buf_reset(&b);
	make_index(in, e);
	in[1].pack_size = 59; /* smaller than any pack, even an empty one */
	sv_assert_ok(vault__index_encode(&b, in, 3));
	assert_int_equal(index_rc(b.ptr, b.len), SV_ECORRUPT);
	sv_buf_reset(&b);
	make_index(in, e);
	e[1].offset = e[0].offset; /* overlapping blobs */
	sv_assert_ok(vault__index_encode(&b, in, 3));
	assert_int_equal(index_rc(b.ptr, b.len), SV_ECORRUPT);
	sv_buf_release(&b);
}

static void test_objects__index_encode_rejects_bad_entry(void **state)
{
	vault_index_pack in[3];
	vault_blob_entry e[5];
	sv_buf b;

	(void)state;
	make_index(in, e);
	e[1].flags = 0x80;
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(sv_buf_adds(&b, "keep"));
	assert_int_equal(vault__index_encode(&b, in, 3), SV_EINVAL);
	assert_string_equal(b.ptr, "keep");
	sv_buf_release(&b);
}

/* ------------------------------------------------------------------ */
/* Chunk-list segments                                                 */

static int list_rc(const void *p, size_t n)
{
	vault_chunk_ref *refs = NULL;
	uint32_t c = 5;
	int rc = vault__list_decode(&refs, &c, p, n);

	if (rc < 0) {
		assert_null(refs);
		assert_int_equal(c, 0);
	}
	free(refs);
	return rc;
}

static void test_objects__list_round_trip(void **state)
{
	vault_chunk_ref *in = calloc(VAULT_LIST_SEGMENT_MAX, sizeof(*in));
	vault_chunk_ref *out = NULL;
	uint32_t i, count;
	sv_buf b;

	(void)state;
	for (i = 0; i < VAULT_LIST_SEGMENT_MAX; i++) {
		fill_random(in[i].id, VAULT_ID_LEN);
		in[i].raw_length = 16384 + i;
	}
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__list_encode(&b, in, VAULT_LIST_SEGMENT_MAX));
	assert_int_equal(b.len, 8 + 36 * VAULT_LIST_SEGMENT_MAX);
	sv_assert_ok(vault__list_decode(&out, &count, b.ptr, b.len));
	assert_int_equal(count, VAULT_LIST_SEGMENT_MAX);
	assert_memory_equal(out, in, count * sizeof(*in));
	free(out);
	sv_buf_reset(&b);
	assert_int_equal(vault__list_encode(&b, in, VAULT_LIST_SEGMENT_MAX + 1),
			 SV_EINVAL);
	assert_int_equal(b.len, 0);
	free(in);
	sv_buf_release(&b);
}

static void test_objects__list_rejects_every_truncation(void **state)
{
	vault_chunk_ref in[3];
	sv_buf b;
	size_t n;

	(void)state;
	memset(in, 0x5a, sizeof(in));
	sv_buf_init(&b, 1 << 20);
	sv_assert_ok(vault__list_encode(&b, in, 3));
	for (n = 0; n < b.len; n++)
		assert_int_equal(list_rc(b.ptr, n), SV_ECORRUPT);
	sv_assert_ok(list_rc(b.ptr, b.len));
	sv_assert_ok(sv_buf_addc(&b, 0));
	assert_int_equal(list_rc(b.ptr, b.len), SV_ECORRUPT);
	sv_buf_release(&b);
}

static void test_objects__list_rejects_count_over_max(void **state)
{
	size_t n = 8 + 36 * (size_t)(VAULT_LIST_SEGMENT_MAX + 1);
	uint8_t *p = calloc(1, n);

	(void)state;
	memcpy(p, "SVL1\x01\x10\0\0", 8); /* 4097 */
	assert_int_equal(list_rc(p, n), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "limit"));
	memcpy(p, "SVL1\xff\xff\xff\xff", 8);
	assert_int_equal(list_rc(p, n), SV_ECORRUPT);
	memcpy(p, "SVL2\0\0\0\0", 8);
	assert_int_equal(list_rc(p, 8), SV_ECORRUPT);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objects__round_trip),
		cmocka_unit_test(test_objects__open_appends),
		cmocka_unit_test(test_objects__same_payload_seals_differently),
		cmocka_unit_test(test_objects__rejects_every_truncation),
		cmocka_unit_test(test_objects__rejects_every_bit_flip),
		cmocka_unit_test(test_objects__rejects_wrong_kind),
		cmocka_unit_test(test_objects__rejects_bad_magic),
		cmocka_unit_test(test_objects__rejects_another_master_key),
		cmocka_unit_test(test_objects__rejects_payload_over_max),
		cmocka_unit_test(test_objects__seal_rejects_unknown_kind),
		cmocka_unit_test(test_objects__pack_header_round_trip),
		cmocka_unit_test(
			test_objects__pack_header_rejects_every_truncation),
		cmocka_unit_test(test_objects__pack_header_rejects_bad_entries),
		cmocka_unit_test(
			test_objects__pack_header_rejects_hostile_count),
		cmocka_unit_test(test_objects__index_round_trip),
		cmocka_unit_test(test_objects__index_rejects_every_truncation),
		cmocka_unit_test(test_objects__index_rejects_hostile_counts),
		cmocka_unit_test(
			test_objects__index_rejects_blobs_outside_pack),
		cmocka_unit_test(test_objects__index_encode_rejects_bad_entry),
		cmocka_unit_test(test_objects__list_round_trip),
		cmocka_unit_test(test_objects__list_rejects_every_truncation),
		cmocka_unit_test(test_objects__list_rejects_count_over_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
