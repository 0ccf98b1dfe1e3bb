/*
 * fuzz_object.c - sealed objects: the input is opened as each kind under a
 * fixed master key (the seeds in corpus/object/ were sealed under it); an
 * index that opens is decoded too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAYLOAD_MAX ((size_t)1 << 20)

static void fuzz_master(vault_master *mk)
{
	size_t i;

	for (i = 0; i < VAULT_KEY_LEN; i++) {
		mk->data_key[i] = (uint8_t)i;
		mk->id_key[i] = (uint8_t)(VAULT_KEY_LEN + i);
	}
}

static void open_as(const vault_master *mk, int kind, const uint8_t *data,
		    size_t size)
{
	vault_index_pack *packs = NULL;
	uint32_t npacks = 0;
	sv_buf out;

	sv_buf_init(&out, PAYLOAD_MAX);
	if (vault__object_open(&out, mk, kind, data, size, PAYLOAD_MAX,
			       "fuzz") == 0) {
		if (out.len > PAYLOAD_MAX)
			abort();
		if (kind == VAULT_OBJ_INDEX &&
		    vault__index_decode(&packs, &npacks, out.ptr, out.len) == 0)
			vault__index_free(packs, npacks);
	}
	sv_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int kinds[] = {VAULT_OBJ_INDEX, VAULT_OBJ_POINT,
				    VAULT_OBJ_MACHINE, VAULT_OBJ_LOCK};
	vault_master mk;
	size_t i;

	fuzz_master(&mk);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		open_as(&mk, kinds[i], data, size);
	return 0;
}
