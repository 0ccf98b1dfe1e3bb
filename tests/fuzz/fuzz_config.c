/*
 * fuzz_config.c - the vault config parser never crashes or leaks.
 */
#include <stdint.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault v;

	memset(&v, 0, sizeof(v));
	vault__config_parse(&v, (const char *)data, size);
	return 0;
}
