/*
 * fuzz_pack_header.c - pack headers: the input is decoded as a header
 * plaintext, then read as a whole pack sealed under a fixed master key
 * (header from the tail, asking for more when the first tail is short), and
 * every blob it lists is opened. The seed packs in corpus/pack_header/ were
 * sealed under this key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIRST_TAIL 64

static void fuzz_master(vault_master *mk)
{
	size_t i;

	for (i = 0; i < VAULT_KEY_LEN; i++) {
		mk->data_key[i] = (uint8_t)i;
		mk->id_key[i] = (uint8_t)(VAULT_KEY_LEN + i);
	}
}

/* A decoded header must encode back to the same bytes. */
static void as_plaintext(const uint8_t *data, size_t size)
{
	vault_blob_entry *e = NULL;
	uint32_t count = 0;
	sv_buf b;

	if (vault__pack_header_decode(&e, &count, data, size) < 0)
		return;
	sv_buf_init(&b, size);
	if (vault__pack_header_encode(&b, e, count) < 0 || b.len != size ||
	    memcmp(b.ptr, data, size) != 0)
		abort();
	sv_buf_release(&b);
	free(e);
}

static void open_blobs(const vault_master *mk, const uint8_t *pack,
		       const vault_blob_entry *e, uint32_t count)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		uint8_t *out = malloc(e[i].raw_length ? e[i].raw_length : 1);

		if (!out)
			return;
		vault__pack_open_blob(out, mk, pack, &e[i], pack + e[i].offset);
		free(out);
	}
}

static void as_pack(const uint8_t *data, size_t size)
{
	vault_blob_entry *e = NULL;
	vault_master mk;
	uint32_t count = 0;
	size_t tail = size < FIRST_TAIL ? size : FIRST_TAIL, need = 0;

	if (size < VAULT_PACK_HEAD_LEN)
		return;
	fuzz_master(&mk);
	if (vault__pack_read_header(&e, &count, &need, &mk, data,
				    data + size - tail, tail, size) < 0)
		return;
	if (need) {
		if (need > size || e)
			abort();
		if (vault__pack_read_header(&e, &count, &need, &mk, data,
					    data + size - need, need, size) < 0)
			return;
	}
	open_blobs(&mk, data, e, count);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_plaintext(data, size);
	as_pack(data, size);
	return 0;
}
