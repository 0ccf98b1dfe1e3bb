/*
 * fuzz_list.c - chunk-list segments: decode, and a decoded segment must
 * encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vault_chunk_ref *refs = NULL;
	uint32_t count = 0;
	sv_buf b;

	if (vault__list_decode(&refs, &count, data, size) < 0)
		return 0;
	if (count > VAULT_LIST_SEGMENT_MAX)
		abort();
	sv_buf_init(&b, size);
	if (vault__list_encode(&b, refs, count) < 0 || b.len != size ||
	    memcmp(b.ptr, data, size) != 0)
		abort();
	sv_buf_release(&b);
	free(refs);
	return 0;
}
