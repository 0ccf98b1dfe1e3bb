#include "sv_test.h"
#include "vault_int.h"

#define NBLOBS 50

/* One chunk as the backup path hands it to the pack builder. */
typedef struct blob {
	uint8_t *raw;
	uint32_t raw_len;
	sv_buf stored;
	uint8_t flags;
	uint8_t id[VAULT_ID_LEN];
} blob;

typedef struct fixture {
	vault_master mk;
	blob b[NBLOBS];
} fixture;

/* A finished pack, copied out of its builder. */
typedef struct pack {
	uint8_t id[VAULT_ID_LEN];
	uint8_t *bytes;
	size_t len;
	vault_blob_entry *e;
	uint32_t count;
} pack;

static void master_init(vault_master *mk, uint8_t seed)
{
	size_t i;

	for (i = 0; i < VAULT_KEY_LEN; i++) {
		mk->data_key[i] = (uint8_t)(seed + 3 * i);
		mk->id_key[i] = (uint8_t)(seed ^ (5 * i));
	}
}

/* Kind 0: compressible text; 1: random with no zero byte; 2: tiny. */
static void blob_fill(blob *b, int kind, uint32_t i)
{
	static const char text[] = "C:\\Windows\\System32\\config\\SYSTEM ";
	uint32_t j;

	b->raw_len = kind == 0	 ? 1000 + 1200 * i
		     : kind == 1 ? 20000 + i
				 : 1 + i;
	b->raw = malloc(b->raw_len);
	assert_non_null(b->raw);
	if (kind == 1)
		sv_assert_ok(vault__random(b->raw, b->raw_len));
	for (j = 0; j < b->raw_len; j++) {
		if (kind == 0)
			b->raw[j] = (uint8_t)text[(j + i) % (sizeof(text) - 1)];
		else if (kind == 2)
			b->raw[j] = (uint8_t)(i * 31 + j);
		else if (b->raw[j] == 0)
			b->raw[j] = 1;
	}
}

static void blob_make(blob *b, const vault_master *mk, int kind, uint32_t i)
{
	int stored_raw = 0;

	blob_fill(b, kind, i);
	sv_buf_init(&b->stored, 1 << 22);
	sv_assert_ok(vault__compress(&b->stored, b->raw, b->raw_len, 3,
				     &stored_raw));
	b->flags = stored_raw ? 0 : VAULT_BLOB_ZSTD;
	if (stored_raw)
		sv_assert_ok(sv_buf_add(&b->stored, b->raw, b->raw_len));
	vault__chunk_id(b->id, mk->id_key, b->raw, b->raw_len);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	uint32_t i;

	master_init(&f->mk, 0x42);
	for (i = 0; i < NBLOBS; i++)
		blob_make(&f->b[i], &f->mk, (int)(i % 3), i);
	f->b[7].flags |= VAULT_BLOB_LIST;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	uint32_t i;

	for (i = 0; i < NBLOBS; i++) {
		free(f->b[i].raw);
		sv_buf_release(&f->b[i].stored);
	}
	free(f);
	return 0;
}

static void pack_build(pack *p, const fixture *f, uint32_t n)
{
	vault_pack_builder *pb = NULL;
	const vault_blob_entry *e;
	const uint8_t *bytes;
	uint32_t i;

	sv_assert_ok(vault__pack_new(&pb, &f->mk));
	assert_int_equal(vault__pack_size(pb), VAULT_PACK_HEAD_LEN);
	for (i = 0; i < n; i++) {
		const blob *b = &f->b[i];

		sv_assert_ok(vault__pack_add(pb, b->id, b->stored.ptr,
					     b->stored.len, b->raw_len,
					     b->flags));
	}
	assert_int_equal(vault__pack_count(pb), n);
	sv_assert_ok(
		vault__pack_finish(pb, p->id, &bytes, &p->len, &e, &p->count));
	p->bytes = malloc(p->len);
	memcpy(p->bytes, bytes, p->len);
	p->e = calloc(p->count + 1, sizeof(*e));
	memcpy(p->e, e, p->count * sizeof(*e));
	vault__pack_free(pb);
}

static void pack_release(pack *p)
{
	free(p->bytes);
	free(p->e);
}

/* Reads the header of the pack in bytes (len) from its last tail bytes. */
static int read_header(const fixture *f, const uint8_t *bytes, size_t len,
		       size_t tail, vault_blob_entry **e, uint32_t *count,
		       size_t *need)
{
	return vault__pack_read_header(e, count, need, &f->mk, bytes,
				       bytes + len - tail, tail, len);
}

static void entries_equal(const vault_blob_entry *a, const vault_blob_entry *b,
			  uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		assert_memory_equal(a[i].id, b[i].id, VAULT_ID_LEN);
		assert_int_equal(a[i].offset, b[i].offset);
		assert_int_equal(a[i].length, b[i].length);
		assert_int_equal(a[i].raw_length, b[i].raw_length);
		assert_int_equal(a[i].flags, b[i].flags);
	}
}

/* Opens blob i of the pack in bytes and compares it with the original. */
static int open_blob(const fixture *f, const uint8_t *bytes,
		     const vault_blob_entry *e, uint32_t i)
{
	uint8_t *out = malloc(e->raw_length + 1);
	int rc;

	rc = vault__pack_open_blob(out, &f->mk, bytes, e, bytes + e->offset);
	if (rc == 0)
		assert_memory_equal(out, f->b[i].raw, f->b[i].raw_len);
	free(out);
	return rc;
}

/* ------------------------------------------------------------------ */

static void test_pack__build_and_read_back(void **state)
{
	const fixture *f = *state;
	vault_blob_entry *e = NULL;
	uint8_t sum[VAULT_ID_LEN];
	uint32_t count = 0, i, zstd = 0;
	size_t need = 0;
	pack p;

	pack_build(&p, f, NBLOBS);
	assert_memory_equal(p.bytes, "SVP1", 4);
	vault__sha256(sum, p.bytes, p.len);
	assert_memory_equal(sum, p.id, VAULT_ID_LEN);
	/* A tail too short for the header: told how much is needed. */
	sv_assert_ok(read_header(f, p.bytes, p.len, 64, &e, &count, &need));
	assert_null(e);
	assert_int_equal(count, 0);
	assert_int_equal(need, 4 + (4 + NBLOBS * 45) + VAULT_TAG_LEN);
	sv_assert_ok(read_header(f, p.bytes, p.len, need, &e, &count, &need));
	assert_int_equal(need, 0);
	assert_int_equal(count, NBLOBS);
	entries_equal(e, p.e, NBLOBS);
	for (i = 0; i < count; i++) {
		assert_memory_equal(e[i].id, f->b[i].id, VAULT_ID_LEN);
		assert_int_equal(e[i].flags, f->b[i].flags);
		zstd += (e[i].flags & VAULT_BLOB_ZSTD) != 0;
		sv_assert_ok(open_blob(f, p.bytes, &e[i], i));
	}
	assert_true(zstd > 0 && zstd < NBLOBS); /* both kinds covered */
	free(e);
	pack_release(&p);
}

/* The bytes follow docs/vault-format.md, checked with the primitives. */
static void test_pack__matches_format(void **state)
{
	const fixture *f = *state;
	uint8_t key[VAULT_KEY_LEN], nonce[VAULT_NONCE_LEN], *plain;
	uint32_t hlen;
	size_t hoff;
	pack p;

	pack_build(&p, f, 3);
	sv_assert_ok(vault__hkdf(key, sizeof(key), f->mk.data_key,
				 VAULT_KEY_LEN, p.bytes + 4, VAULT_SALT_LEN,
				 "sysvault-pack-v1", 16));
	plain = malloc(p.len);
	assert_int_equal(p.e[0].offset, 36);
	vault__nonce(nonce, 36);
	sv_assert_ok(vault__gcm_open(plain, key, nonce, f->b[0].id, 32,
				     p.bytes + 36, p.e[0].length));
	assert_memory_equal(plain, f->b[0].stored.ptr, f->b[0].stored.len);
	hlen = (uint32_t)p.bytes[p.len - 4] | (uint32_t)p.bytes[p.len - 3] << 8;
	assert_int_equal(hlen, 4 + 3 * 45 + VAULT_TAG_LEN);
	hoff = p.len - 4 - hlen;
	assert_int_equal(hoff, p.e[2].offset + p.e[2].length);
	vault__nonce(nonce, hoff);
	sv_assert_ok(vault__gcm_open(plain, key, nonce, "SVP1-header", 11,
				     p.bytes + hoff, hlen));
	assert_int_equal(plain[0], 3);
	assert_memory_equal(plain + 4, f->b[0].id, 32);
	assert_int_equal(plain[4 + 32], 36);
	free(plain);
	pack_release(&p);
}

static void test_pack__flipped_blob_byte_fails_only_that_blob(void **state)
{
	const fixture *f = *state;
	char hex[17];
	uint32_t k, i;
	pack p;

	pack_build(&p, f, NBLOBS);
	for (k = 0; k < NBLOBS; k += 7) {
		size_t at = p.e[k].offset + p.e[k].length / 2;

		p.bytes[at] ^= 0x10;
		for (i = 0; i < NBLOBS; i++) {
			if (i != k) {
				sv_assert_ok(open_blob(f, p.bytes, &p.e[i], i));
				continue;
			}
			assert_int_equal(open_blob(f, p.bytes, &p.e[i], i),
					 SV_ECORRUPT);
			sv_hex_encode(hex, p.e[k].id, 8);
			assert_non_null(strstr(sv_error_msg(), hex));
		}
		p.bytes[at] ^= 0x10;
	}
	pack_release(&p);
}

static void test_pack__flipped_header_byte_fails_header(void **state)
{
	const fixture *f = *state;
	vault_blob_entry *e = NULL;
	uint32_t count;
	size_t need, i, hoff;
	pack p;

	pack_build(&p, f, 4);
	hoff = p.e[3].offset + p.e[3].length;
	for (i = hoff; i < p.len; i++) {
		p.bytes[i] ^= 0x01;
		assert_int_equal(read_header(f, p.bytes, p.len, p.len, &e,
					     &count, &need),
				 SV_ECORRUPT);
		assert_null(e);
		p.bytes[i] ^= 0x01;
	}
	for (i = 0; i < VAULT_PACK_HEAD_LEN; i++) { /* magic and salt */
		p.bytes[i] ^= 0x80;
		assert_int_equal(read_header(f, p.bytes, p.len, p.len, &e,
					     &count, &need),
				 SV_ECORRUPT);
		p.bytes[i] ^= 0x80;
	}
	sv_assert_ok(read_header(f, p.bytes, p.len, p.len, &e, &count, &need));
	free(e);
	pack_release(&p);
}

static void test_pack__rejects_every_truncation(void **state)
{
	const fixture *f = *state;
	vault_blob_entry *e = NULL;
	uint32_t count;
	size_t need, n;
	pack p;
	int rc;

	pack_build(&p, f, 3);
	for (n = 4; n < p.len; n++) {
		rc = read_header(f, p.bytes, n, n, &e, &count, &need);
		assert_int_equal(rc, SV_ECORRUPT);
		assert_null(e);
	}
	assert_int_equal(read_header(f, p.bytes, p.len, 3, &e, &count, &need),
			 SV_EINVAL);
	pack_release(&p);
}

static void put_len(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_pack__rejects_bad_length_field(void **state)
{
	static const uint32_t bad[] = {0, 19, 1000000, UINT32_MAX};
	const fixture *f = *state;
	vault_blob_entry *e = NULL;
	uint32_t count;
	size_t need, i;
	pack p;

	pack_build(&p, f, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_len(p.bytes + p.len - 4, bad[i]);
		assert_int_equal(
			read_header(f, p.bytes, p.len, 8, &e, &count, &need),
			SV_ECORRUPT);
		assert_int_equal(need, 0);
		assert_non_null(strstr(sv_error_msg(), "header length"));
	}
	pack_release(&p);
}

/* Seals header plaintext h into a pack of the given blob area size (blob
 * bytes are not needed to reach the header check). */
static uint8_t *pack_forge(const fixture *f, const uint8_t *h, size_t hn,
			   size_t area, size_t *len)
{
	uint8_t key[VAULT_KEY_LEN], nonce[VAULT_NONCE_LEN];
	uint8_t *p;

	*len = VAULT_PACK_HEAD_LEN + area + hn + VAULT_TAG_LEN + 4;
	p = calloc(1, *len);
	memcpy(p, "SVP1", 4);
	sv_assert_ok(vault__random(p + 4, VAULT_SALT_LEN));
	sv_assert_ok(vault__hkdf(key, sizeof(key), f->mk.data_key,
				 VAULT_KEY_LEN, p + 4, VAULT_SALT_LEN,
				 "sysvault-pack-v1", 16));
	vault__nonce(nonce, VAULT_PACK_HEAD_LEN + area);
	sv_assert_ok(vault__gcm_seal(p + VAULT_PACK_HEAD_LEN + area, key, nonce,
				     "SVP1-header", 11, h, hn));
	put_len(p + *len - 4, (uint32_t)(hn + VAULT_TAG_LEN));
	return p;
}

static void test_pack__rejects_hostile_header_count(void **state)
{
	const fixture *f = *state;
	uint8_t h[4 + 45] = {0xff, 0xff, 0xff, 0xff}, *p;
	vault_blob_entry *e = NULL;
	uint32_t count;
	size_t need, len;

	/* Authentic (sealed with the right key) but claims 2^32-1 entries:
	 * refused from the size of the plaintext, nothing allocated for them.
	 */
	p = pack_forge(f, h, sizeof(h), 0, &len);
	assert_int_equal(read_header(f, p, len, len, &e, &count, &need),
			 SV_ECORRUPT);
	assert_null(e);
	free(p);
	/* One entry that does not end where the header starts. */
	memset(h, 0, sizeof(h));
	h[0] = 1;
	h[4 + 32] = 36;
	h[4 + 36] = 16 + 10;
	h[4 + 40] = 10;
	p = pack_forge(f, h, sizeof(h), 27, &len);
	assert_int_equal(read_header(f, p, len, len, &e, &count, &need),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "header starts"));
	free(p);
	p = pack_forge(f, h, sizeof(h), 26, &len);
	sv_assert_ok(read_header(f, p, len, len, &e, &count, &need));
	assert_int_equal(count, 1);
	free(e);
	free(p);
}

static void test_pack__same_blobs_differ_by_salt(void **state)
{
	const fixture *f = *state;
	pack a, b;

	pack_build(&a, f, 10);
	pack_build(&b, f, 10);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.bytes + 4, b.bytes + 4, VAULT_SALT_LEN);
	assert_memory_not_equal(a.bytes + 36, b.bytes + 36, 16);
	assert_memory_not_equal(a.id, b.id, VAULT_ID_LEN);
	entries_equal(a.e, b.e, 10);
	pack_release(&a);
	pack_release(&b);
}

static void test_pack__contains(void **state)
{
	const fixture *f = *state;
	vault_pack_builder *pb = NULL;
	uint8_t ids[600][VAULT_ID_LEN], other[VAULT_ID_LEN];
	uint32_t i;

	sv_assert_ok(vault__random(ids, sizeof(ids)));
	sv_assert_ok(vault__random(other, sizeof(other)));
	sv_assert_ok(vault__pack_new(&pb, &f->mk));
	assert_int_equal(vault__pack_contains(pb, ids[0]), 0);
	for (i = 0; i < 600; i++) {
		sv_assert_ok(vault__pack_add(pb, ids[i], "x", 1, 1, 0));
		assert_int_equal(vault__pack_contains(pb, ids[i]), 1);
	}
	for (i = 0; i < 600; i++)
		assert_int_equal(vault__pack_contains(pb, ids[i]), 1);
	assert_int_equal(vault__pack_contains(pb, other), 0);
	assert_int_equal(vault__pack_count(pb), 600);
	assert_int_equal(vault__pack_size(pb), 36 + 600 * 17);
	vault__pack_free(pb);
}

static void test_pack__rejects_bad_adds(void **state)
{
	const fixture *f = *state;
	vault_pack_builder *pb = NULL;
	const vault_blob_entry *e;
	const uint8_t *bytes;
	uint8_t id[VAULT_ID_LEN] = {1}, pid[VAULT_ID_LEN];
	uint32_t count;
	size_t len;

	sv_assert_ok(vault__pack_new(&pb, &f->mk));
	assert_int_equal(vault__pack_add(pb, id, "abc", 3, 4, 0), SV_EINVAL);
	assert_int_equal(vault__pack_add(pb, id, "abc", 3, 3, 0x04), SV_EINVAL);
	assert_int_equal(vault__pack_add(pb, id, "abc", 3, (4u << 20) + 1,
					 VAULT_BLOB_ZSTD),
			 SV_EINVAL);
	assert_int_equal(vault__pack_count(pb), 0);
	sv_assert_ok(vault__pack_finish(pb, pid, &bytes, &len, &e, &count));
	assert_int_equal(count, 0);
	assert_int_equal(len, 36 + 4 + 16 + 4);
	assert_int_equal(vault__pack_add(pb, id, "abc", 3, 3, 0), SV_EINVAL);
	/* finish again: the same pack */
	sv_assert_ok(vault__pack_finish(pb, pid, &bytes, &len, &e, &count));
	assert_int_equal(len, 36 + 4 + 16 + 4);
	vault__pack_free(pb);
	vault__pack_free(NULL);
}

static void test_pack__open_blob_rejects_wrong_entries(void **state)
{
	const fixture *f = *state;
	vault_blob_entry e;
	uint32_t z = 0;
	uint8_t *out;
	pack p, q;

	pack_build(&p, f, NBLOBS);
	while (!(p.e[z].flags & VAULT_BLOB_ZSTD))
		z++;
	e = p.e[z];
	e.id[5] ^= 1; /* another chunk's id: AAD */
	assert_int_equal(open_blob(f, p.bytes, &e, z), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "authentication failed"));
	e = p.e[z];
	e.raw_length += 1; /* frame holds another size */
	assert_int_equal(open_blob(f, p.bytes, &e, z), SV_ECORRUPT);
	e = p.e[z];
	e.flags = 0; /* raw but length disagrees */
	assert_int_equal(open_blob(f, p.bytes, &e, z), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "bad entry"));
	e = p.e[z];
	e.offset += 1; /* nonce differs; same stored bytes */
	out = malloc(e.raw_length);
	assert_int_equal(vault__pack_open_blob(out, &f->mk, p.bytes, &e,
					       p.bytes + p.e[z].offset),
			 SV_ECORRUPT);
	/* The right entry and bytes, but the head of another pack (salt). */
	pack_build(&q, f, NBLOBS);
	assert_int_equal(vault__pack_open_blob(out, &f->mk, q.bytes, &p.e[z],
					       p.bytes + p.e[z].offset),
			 SV_ECORRUPT);
	free(out);
	pack_release(&q);
	pack_release(&p);
}

static void test_pack__open_blob_checks_content_id(void **state)
{
	const fixture *f = *state;
	vault_pack_builder *pb = NULL;
	const vault_blob_entry *e;
	const uint8_t *bytes;
	uint8_t pid[VAULT_ID_LEN], wrong[VAULT_ID_LEN], out[8];
	uint32_t count;
	size_t len;

	memset(wrong, 0x77, sizeof(wrong));
	sv_assert_ok(vault__pack_new(&pb, &f->mk));
	sv_assert_ok(vault__pack_add(pb, wrong, "content", 7, 7, 0));
	sv_assert_ok(vault__pack_finish(pb, pid, &bytes, &len, &e, &count));
	memset(out, 0x55, sizeof(out));
	assert_int_equal(vault__pack_open_blob(out, &f->mk, bytes, &e[0],
					       bytes + e[0].offset),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "7777777777777777"));
	assert_non_null(strstr(sv_error_msg(), "does not match its id"));
	assert_memory_equal(out, "\0\0\0\0\0\0\0", 7); /* nothing left */
	vault__pack_free(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack__build_and_read_back),
		cmocka_unit_test(test_pack__matches_format),
		cmocka_unit_test(
			test_pack__flipped_blob_byte_fails_only_that_blob),
		cmocka_unit_test(test_pack__flipped_header_byte_fails_header),
		cmocka_unit_test(test_pack__rejects_every_truncation),
		cmocka_unit_test(test_pack__rejects_bad_length_field),
		cmocka_unit_test(test_pack__rejects_hostile_header_count),
		cmocka_unit_test(test_pack__same_blobs_differ_by_salt),
		cmocka_unit_test(test_pack__contains),
		cmocka_unit_test(test_pack__rejects_bad_adds),
		cmocka_unit_test(test_pack__open_blob_rejects_wrong_entries),
		cmocka_unit_test(test_pack__open_blob_checks_content_id),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
