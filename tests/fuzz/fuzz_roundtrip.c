/*
 * fuzz_roundtrip.c - the path every chunk of a backup takes, on arbitrary
 * input: chunk (fixed seed, small sizes so that inputs give many chunks),
 * then for each chunk compress -> seal (nonce from its offset, AAD = its
 * id) -> open -> decompress. Every chunk must come back byte for byte, a
 * damaged seal must not open, and asking for "more" must never change a
 * boundary already found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const vault_chunker_params fuzz_params = {64, 256, 1024};

/* Seed bytes 0..31, the same for every run; made once, kept. */
static const vault_chunker *fuzz_chunker(void)
{
	static vault_chunker *c;
	uint8_t seed[32];
	size_t i;

	if (c)
		return c;
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)i;
	if (vault__chunker_new(&c, &fuzz_params, seed) < 0)
		abort();
	return c;
}

static void fuzz_key(uint8_t key[VAULT_KEY_LEN], uint8_t first)
{
	size_t i;

	for (i = 0; i < VAULT_KEY_LEN; i++)
		key[i] = (uint8_t)(first + i);
}

/* Seals stored (n bytes) and opens it again; the result must match, and a
 * flipped bit must be refused. */
static void seal_open(const uint8_t *stored, size_t n, uint64_t offset,
		      const uint8_t id[VAULT_ID_LEN])
{
	uint8_t key[VAULT_KEY_LEN], nonce[VAULT_NONCE_LEN];
	uint8_t *sealed = malloc(n + VAULT_TAG_LEN), *back = malloc(n + 1);

	if (!sealed || !back)
		abort();
	fuzz_key(key, 0);
	vault__nonce(nonce, offset);
	if (vault__gcm_seal(sealed, key, nonce, id, VAULT_ID_LEN, stored, n) <
		    0 ||
	    vault__gcm_open(back, key, nonce, id, VAULT_ID_LEN, sealed,
			    n + VAULT_TAG_LEN) < 0 ||
	    memcmp(back, stored, n) != 0)
		abort();
	sealed[offset % (n + VAULT_TAG_LEN)] ^= 1;
	if (vault__gcm_open(back, key, nonce, id, VAULT_ID_LEN, sealed,
			    n + VAULT_TAG_LEN) != SV_ECORRUPT)
		abort();
	free(sealed);
	free(back);
}

static void one_chunk(const uint8_t *chunk, size_t n, uint64_t offset)
{
	uint8_t id_key[VAULT_KEY_LEN], id[VAULT_ID_LEN];
	uint8_t *back = malloc(n + 1);
	sv_buf frame;
	int raw = -1;

	if (!back)
		abort();
	fuzz_key(id_key, VAULT_KEY_LEN);
	vault__chunk_id(id, id_key, chunk, n);
	sv_buf_init(&frame, n + 64);
	if (vault__compress(&frame, chunk, n, 3, &raw) < 0)
		abort();
	if (raw) {
		if (frame.len != 0)
			abort();
		seal_open(chunk, n, offset, id);
	} else {
		if (frame.len > n - n / 32)
			abort();
		seal_open((const uint8_t *)frame.ptr, frame.len, offset, id);
		if (vault__decompress(back, n, frame.ptr, frame.len) < 0 ||
		    memcmp(back, chunk, n) != 0)
			abort();
	}
	sv_buf_release(&frame);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const vault_chunker *c = fuzz_chunker();
	size_t pos = 0, len, early;

	while (pos < size) {
		len = vault__chunker_next(c, data + pos, size - pos, 0);
		early = vault__chunker_next(c, data + pos, size - pos, 1);
		if (len == 0 || len > size - pos ||
		    len > fuzz_params.max_size ||
		    (len < fuzz_params.min_size && len != size - pos) ||
		    (early != 0 && early != len))
			abort();
		one_chunk(data + pos, len, pos);
		pos += len;
	}
	return 0;
}
