/*
 * test_vault_crypto.c - vault/crypto.c against published known answers
 * (FIPS 180-2, RFC 5869, RFC 7914, the GCM specification, RFC 4648), values
 * computed with the openssl command line, tampering, and threads.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_thread.h"
#include "vault_int.h"

/* Decodes a hex literal of exactly n bytes. */
static void hex(uint8_t *dst, size_t n, const char *text)
{
	assert_int_equal(strlen(text), 2 * n);
	assert_int_equal(sv_hex_decode(dst, n, text), 0);
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	char text[1024];

	assert_true(2 * n < sizeof(text));
	sv_hex_encode(text, got, n);
	assert_string_equal(text, want);
}

static void key_0_to_31(uint8_t key[32])
{
	int i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
}

/* ---- SHA-256 ---- */

static void test_crypto__sha256_abc(void **state)
{
	uint8_t d[32];

	vault__sha256(d, "abc", 3);
	assert_hex(d, 32,
		   "ba7816bf8f01cfea414140de5dae2223"
		   "b00361a396177a9cb410ff61f20015ad");
	vault__sha256(d, "", 0);
	assert_hex(d, 32,
		   "e3b0c44298fc1c149afbf4c8996fb924"
		   "27ae41e4649b934ca495991b7852b855");
}

static void test_crypto__sha256_streaming_matches_oneshot(void **state)
{
	static uint8_t data[10000];
	uint8_t one[32], two[32];
	vault_sha256 *h = NULL;
	size_t i, splits[] = {0, 1, 63, 64, 65, 4097, 9999, 10000};

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	vault__sha256(one, data, sizeof(data));
	sv_assert_ok(vault__sha256_new(&h));
	/* The same context is reused after each final. */
	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		vault__sha256_update(h, data, splits[i]);
		vault__sha256_update(h, data + splits[i],
				     sizeof(data) - splits[i]);
		vault__sha256_final(h, two);
		assert_memory_equal(one, two, 32);
	}
	vault__sha256_update(h, "a", 1);
	vault__sha256_update(h, "bc", 2);
	vault__sha256_final(h, two);
	vault__sha256(one, "abc", 3);
	assert_memory_equal(one, two, 32);
	vault__sha256_free(h);
	vault__sha256_free(NULL);
}

/* ---- chunk ids (HMAC-SHA256) ---- */

/* Expected values from (K = the key bytes 00..1f in hex):
 *   printf '<data>' | openssl dgst -sha256 -mac HMAC -macopt hexkey:K
 */
static void test_crypto__chunk_id_known_answer(void **state)
{
	const char *fox = "The quick brown fox jumps over the lazy dog";
	uint8_t key[32], id[32];

	key_0_to_31(key);
	vault__chunk_id(id, key, fox, strlen(fox));
	assert_hex(id, 32,
		   "f87ad256151fc7b4c5dffa4adb3ebe91"
		   "1a8eeb8a8ebdee3c2a4a8e5f5ec02c32");
	vault__chunk_id(id, key, "", 0);
	assert_hex(id, 32,
		   "d38b42096d80f45f826b44a9d5607de7"
		   "2496a415d3f4a1a8c88e3bb9da8dc1cb");
}

/* Contexts keep the last key: switching keys back and forth must rekey. */
static void test_crypto__chunk_id_follows_key_changes(void **state)
{
	uint8_t k1[32], k2[32], a1[32], b1[32], a2[32];

	key_0_to_31(k1);
	memcpy(k2, k1, 32);
	k2[31] ^= 1;
	vault__chunk_id(a1, k1, "data", 4);
	vault__chunk_id(b1, k2, "data", 4);
	vault__chunk_id(a2, k1, "data", 4);
	assert_memory_equal(a1, a2, 32);
	assert_memory_not_equal(a1, b1, 32);
	assert_memory_not_equal(a1, vault__zero_id, 32);
}

/* ---- key derivation ---- */

static void test_crypto__hkdf_rfc5869_case1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];
	size_t i;

	memset(ikm, 0x0b, sizeof(ikm));
	for (i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	sv_assert_ok(vault__hkdf(okm, sizeof(okm), ikm, sizeof(ikm), salt,
				 sizeof(salt), info, sizeof(info)));
	assert_hex(okm, sizeof(okm),
		   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
		   "2d56ecc4c5bf34007208d5b887185865");
}

static void test_crypto__hkdf_rejects_bad_lengths(void **state)
{
	uint8_t ikm[32] = {1}, out[32];

	assert_int_equal(vault__hkdf(out, 0, ikm, 32, NULL, 0, NULL, 0),
			 SV_EINVAL);
	assert_int_equal(
		vault__hkdf(out, 255 * 32 + 1, ikm, 32, NULL, 0, NULL, 0),
		SV_EINVAL);
	assert_int_equal(vault__hkdf(out, 32, ikm, 0, NULL, 0, NULL, 0),
			 SV_EINVAL);
}

static void test_crypto__scrypt_rfc7914_vector(void **state)
{
	uint8_t out[64];

	sv_assert_ok(vault__scrypt(out, sizeof(out), "password",
				   (const uint8_t *)"NaCl", 4, 1024, 8, 16));
	assert_hex(out, sizeof(out),
		   "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e7737663"
		   "4b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d"
		   "8360cbdfa2cc0640");
}

static void test_crypto__scrypt_refuses_bad_or_huge_parameters(void **state)
{
	uint8_t out[32], salt[32] = {0};

	/* 2^22 * 8 * 128 bytes = 4 GiB: refused before allocating. */
	assert_int_equal(vault__scrypt(out, 32, "passphrase", salt, 32,
				       (uint64_t)1 << 22, 8, 1),
			 SV_ENOMEM);
	assert_int_equal(vault__scrypt(out, 32, "passphrase", salt, 32,
				       UINT64_MAX / 2 + 1, 32, 16),
			 SV_ENOMEM);
	assert_int_equal(
		vault__scrypt(out, 32, "passphrase", salt, 32, 1000, 8, 1),
		SV_EINVAL);
	assert_int_equal(
		vault__scrypt(out, 32, "passphrase", salt, 32, 1024, 0, 1),
		SV_EINVAL);
	assert_int_equal(
		vault__scrypt(out, 32, "passphrase", salt, 32, 1024, 8, 0),
		SV_EINVAL);
}

/* ---- AES-256-GCM ---- */

/* The GCM specification (McGrew & Viega), test case 16: 256-bit key, 60
 * bytes of plaintext, 20 bytes of AAD. */
#define TC16_K                                                                 \
	"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define TC16_P                                                                 \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"             \
	"8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"             \
	"ba637b39"
#define TC16_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define TC16_IV "cafebabefacedbaddecaf888"
#define TC16_CT                                                                \
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"             \
	"2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"             \
	"bcc9f662"                                                             \
	"76fc6ece0f4e1768cddf8853bb2d551b"

typedef struct gcm_case {
	uint8_t key[32], nonce[12], aad[20], plain[60], sealed[76];
} gcm_case;

static void gcm_case_load(gcm_case *c)
{
	hex(c->key, 32, TC16_K);
	hex(c->nonce, 12, TC16_IV);
	hex(c->aad, 20, TC16_A);
	hex(c->plain, 60, TC16_P);
	hex(c->sealed, 76, TC16_CT);
}

static void test_crypto__gcm_spec_test_case_16(void **state)
{
	gcm_case c;
	uint8_t out[76], back[60];

	gcm_case_load(&c);
	sv_assert_ok(
		vault__gcm_seal(out, c.key, c.nonce, c.aad, 20, c.plain, 60));
	assert_memory_equal(out, c.sealed, 76);
	sv_assert_ok(
		vault__gcm_open(back, c.key, c.nonce, c.aad, 20, c.sealed, 76));
	assert_memory_equal(back, c.plain, 60);
}

/* Test case 13: zero key and nonce, nothing to encrypt: only a tag. */
static void test_crypto__gcm_spec_test_case_13_empty(void **state)
{
	uint8_t key[32] = {0}, nonce[12] = {0}, tag[16], none[1];

	sv_assert_ok(vault__gcm_seal(tag, key, nonce, NULL, 0, NULL, 0));
	assert_hex(tag, 16, "530f8afbc74536b9a963b4f1c4cb738b");
	sv_assert_ok(vault__gcm_open(none, key, nonce, NULL, 0, tag, 16));
	tag[0] ^= 1;
	assert_int_equal(vault__gcm_open(none, key, nonce, NULL, 0, tag, 16),
			 SV_ECORRUPT);
}

static void test_crypto__gcm_round_trip_sizes(void **state)
{
	static uint8_t plain[70000], sealed[70016], back[70000];
	size_t sizes[] = {0, 1, 15, 16, 17, 4096, 65536, 70000}, i, j;
	uint8_t key[32], nonce[12];

	key_0_to_31(key);
	for (j = 0; j < sizeof(plain); j++)
		plain[j] = (uint8_t)(j ^ (j >> 8));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vault__nonce(nonce, i);
		sv_assert_ok(vault__gcm_seal(sealed, key, nonce, "id", 2, plain,
					     sizes[i]));
		sv_assert_ok(vault__gcm_open(back, key, nonce, "id", 2, sealed,
					     sizes[i] + 16));
		assert_memory_equal(back, plain, sizes[i]);
	}
}

static void test_crypto__gcm_tampering_is_corrupt(void **state)
{
	gcm_case c;
	uint8_t bad[76], out[60], nonce[12], aad[20], key[32];

	gcm_case_load(&c);
	memcpy(bad, c.sealed, 76);
	bad[10] ^= 0x04; /* a ciphertext bit */
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 20, bad, 76),
		SV_ECORRUPT);
	/* Unauthenticated plaintext is not handed out. */
	assert_true(vault__is_zero(out, sizeof(out)));
	memcpy(bad, c.sealed, 76);
	bad[75] ^= 0x80; /* a tag bit */
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 20, bad, 76),
		SV_ECORRUPT);
	memcpy(aad, c.aad, 20);
	aad[0] ^= 1;
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, aad, 20, c.sealed, 76),
		SV_ECORRUPT);
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 19, c.sealed, 76),
		SV_ECORRUPT);
	memcpy(nonce, c.nonce, 12);
	nonce[11] ^= 1;
	assert_int_equal(
		vault__gcm_open(out, c.key, nonce, c.aad, 20, c.sealed, 76),
		SV_ECORRUPT);
	memcpy(key, c.key, 32);
	key[0] ^= 1;
	assert_int_equal(
		vault__gcm_open(out, key, c.nonce, c.aad, 20, c.sealed, 76),
		SV_ECORRUPT);
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 20, c.sealed, 75),
		SV_ECORRUPT);
	assert_int_equal(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 20, c.sealed, 15),
		SV_ECORRUPT);
	/* The context recovers: the genuine data still opens. */
	sv_assert_ok(
		vault__gcm_open(out, c.key, c.nonce, c.aad, 20, c.sealed, 76));
	assert_memory_equal(out, c.plain, 60);
}

static void test_crypto__nonce_is_zeros_then_big_endian(void **state)
{
	uint8_t n[12];

	vault__nonce(n, 0x0102030405060708ull);
	assert_hex(n, 12, "000000000102030405060708");
	vault__nonce(n, 36);
	assert_hex(n, 12, "000000000000000000000024");
}

/* ---- base64 ---- */

static void test_crypto__b64_rfc4648_vectors(void **state)
{
	const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *text[] = {"",	  "Zg==",     "Zm8=",	 "Zm9v",
			      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	sv_buf b;
	size_t i;

	sv_buf_init(&b, 1024);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		sv_buf_reset(&b);
		sv_assert_ok(vault__b64_encode(&b, plain[i], strlen(plain[i])));
		assert_int_equal(b.len, strlen(text[i]));
		assert_string_equal(b.ptr, text[i]);
		sv_buf_reset(&b);
		sv_assert_ok(vault__b64_decode(&b, text[i]));
		assert_int_equal(b.len, strlen(plain[i]));
		assert_string_equal(b.ptr, plain[i]);
	}
	sv_buf_release(&b);
}

static void test_crypto__b64_rejects_invalid_text(void **state)
{
	const char *bad[] = {
		"Zg=",	  "Zg",	      "Z",    "Zm9v ", " Zm9v",	 "Zm9v\n",
		"Zm\n9v", "Zg==Zg==", "Z===", "====",  "Zm9-",	 "Zm9_",
		"Zg=a",	  "=Zm9",     "Zh==", "Zm9=",  "Zm9\x80"};
	sv_buf b;
	size_t i;

	sv_buf_init(&b, 1024);
	sv_assert_ok(sv_buf_adds(&b, "kept"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vault__b64_decode(&b, bad[i]) != SV_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(b.ptr, "kept");
	}
	sv_buf_release(&b);
}

static void test_crypto__b64_round_trip_binary(void **state)
{
	uint8_t data[300];
	sv_buf text, back;
	size_t n, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(255 - i);
	sv_buf_init(&text, 4096);
	sv_buf_init(&back, 4096);
	for (n = 0; n <= sizeof(data); n += 1 + n / 7) {
		sv_buf_reset(&text);
		sv_buf_reset(&back);
		sv_assert_ok(vault__b64_encode(&text, data, n));
		sv_assert_ok(vault__b64_decode(&back, text.ptr));
		assert_int_equal(back.len, n);
		assert_memory_equal(back.ptr, data, n);
	}
	sv_buf_release(&text);
	sv_buf_release(&back);
}

/* ---- random, wipe, zero id ---- */

static void test_crypto__random_wipe_and_zero_id(void **state)
{
	uint8_t a[64] = {0}, b[64] = {0};

	sv_assert_ok(vault__random(a, sizeof(a)));
	sv_assert_ok(vault__random(b, sizeof(b)));
	sv_assert_ok(vault__random(b, 0));
	assert_memory_not_equal(a, b, sizeof(a));
	vault__wipe(a, sizeof(a));
	assert_true(vault__is_zero(a, sizeof(a)));
	vault__wipe(NULL, 0);
	assert_true(vault__is_zero(vault__zero_id, VAULT_ID_LEN));
}

/* ---- threads ---- */

#define WORK_ITEMS 64
#define WORK_LEN 8192

typedef struct work {
	const uint8_t *data; /* WORK_ITEMS * WORK_LEN */
	uint8_t keys[2][32];
	uint8_t ids[WORK_ITEMS][32];
	uint8_t tags[WORK_ITEMS][16];
	int failures;
} work;

/* Chunk ids under alternating keys and a GCM seal/open of each item. */
static void work_run(void *arg)
{
	work *w = arg;
	uint8_t *sealed = malloc(WORK_LEN + 16), *back = malloc(WORK_LEN);
	uint8_t nonce[12];
	int round, i;

	for (round = 0; round < 4 && sealed && back; round++) {
		for (i = 0; i < WORK_ITEMS; i++) {
			const uint8_t *d = w->data + (size_t)i * WORK_LEN;
			const uint8_t *k = w->keys[i & 1];

			vault__chunk_id(w->ids[i], k, d, WORK_LEN);
			vault__nonce(nonce, (uint64_t)i);
			if (vault__gcm_seal(sealed, k, nonce, w->ids[i], 32, d,
					    WORK_LEN) < 0 ||
			    vault__gcm_open(back, k, nonce, w->ids[i], 32,
					    sealed, WORK_LEN + 16) < 0 ||
			    memcmp(back, d, WORK_LEN) != 0)
				w->failures++;
			memcpy(w->tags[i], sealed + WORK_LEN, 16);
		}
	}
	if (!sealed || !back)
		w->failures++;
	free(sealed);
	free(back);
}

static void test_crypto__threads_agree_with_one_thread(void **state)
{
	uint8_t *data = malloc((size_t)WORK_ITEMS * WORK_LEN);
	work *w = calloc(5, sizeof(*w));
	sv_thread *t[4];
	int i;

	assert_non_null(data);
	assert_non_null(w);
	sv_assert_ok(vault__random(data, (size_t)WORK_ITEMS * WORK_LEN));
	for (i = 0; i < 5; i++) {
		w[i].data = data;
		key_0_to_31(w[i].keys[0]);
		memset(w[i].keys[1], 0xa5, 32);
	}
	work_run(&w[4]);
	for (i = 0; i < 4; i++)
		sv_assert_ok(sv_thread_start(&t[i], work_run, &w[i]));
	for (i = 0; i < 4; i++)
		sv_thread_join(t[i]);
	for (i = 0; i < 5; i++)
		assert_int_equal(w[i].failures, 0);
	for (i = 0; i < 4; i++) {
		assert_memory_equal(w[i].ids, w[4].ids, sizeof(w[4].ids));
		assert_memory_equal(w[i].tags, w[4].tags, sizeof(w[4].tags));
	}
	free(w);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto__sha256_abc),
		cmocka_unit_test(test_crypto__sha256_streaming_matches_oneshot),
		cmocka_unit_test(test_crypto__chunk_id_known_answer),
		cmocka_unit_test(test_crypto__chunk_id_follows_key_changes),
		cmocka_unit_test(test_crypto__hkdf_rfc5869_case1),
		cmocka_unit_test(test_crypto__hkdf_rejects_bad_lengths),
		cmocka_unit_test(test_crypto__scrypt_rfc7914_vector),
		cmocka_unit_test(
			test_crypto__scrypt_refuses_bad_or_huge_parameters),
		cmocka_unit_test(test_crypto__gcm_spec_test_case_16),
		cmocka_unit_test(test_crypto__gcm_spec_test_case_13_empty),
		cmocka_unit_test(test_crypto__gcm_round_trip_sizes),
		cmocka_unit_test(test_crypto__gcm_tampering_is_corrupt),
		cmocka_unit_test(test_crypto__nonce_is_zeros_then_big_endian),
		cmocka_unit_test(test_crypto__b64_rfc4648_vectors),
		cmocka_unit_test(test_crypto__b64_rejects_invalid_text),
		cmocka_unit_test(test_crypto__b64_round_trip_binary),
		cmocka_unit_test(test_crypto__random_wipe_and_zero_id),
		cmocka_unit_test(test_crypto__threads_agree_with_one_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
