/*
 * fuzz_keyfile.c - the key file parser never crashes, leaks, or opens a
 * file with the wrong passphrase.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VAULT_ID "5e1f0a7d3c2b4a69887766554433221100ffeeddccbbaa998877665544332211"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vault_master mk;

	/* The corpus uses n = 1024; larger work factors make the fuzzer
	 * slow, not wrong, and the parser caps them at 2^20. */
	memset(&mk, 0, sizeof(mk));
	if (vault__keyfile_open(&mk, (const char *)data, size, VAULT_ID,
				"fuzzing passphrase, sixteen+") == 0 &&
	    size > 0 && data[0] != '{')
		abort();   /* only a JSON key file can ever open */
	return 0;
}
