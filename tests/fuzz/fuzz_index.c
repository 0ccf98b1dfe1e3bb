/*
 * fuzz_index.c - index object payloads: decode, and a decoded index must
 * encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vault_index_pack *packs = NULL;
	uint32_t npacks = 0;
	sv_buf b;

	if (vault__index_decode(&packs, &npacks, data, size) < 0)
		return 0;
	sv_buf_init(&b, size);
	if (vault__index_encode(&b, packs, npacks) < 0 || b.len != size ||
	    memcmp(b.ptr, data, size) != 0)
		abort();
	sv_buf_release(&b);
	vault__index_free(packs, npacks);
	return 0;
}
