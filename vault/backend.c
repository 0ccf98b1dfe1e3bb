/*
 * backend.c - choosing a backend by URL, and object names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int vault__backend_open(vault_backend **out, const char *url,
			const vault_access *acc, int create)
{
	*out = NULL;
	if (!url || !url[0])
		return sv_error_set(SV_EINVAL, "no vault given: pass --vault <dir>");
	if (sv_str_startswith(url, "file://"))
		return vault__backend_local_open(out, url + 7, create);
	if (sv_str_startswith(url, "azure://"))
		return vault__backend_azure_open(out, url, acc, create);
	if (sv_str_startswith(url, "s3://"))
		return vault__backend_s3_open(out, url, acc, create);
	if (strstr(url, "://"))
		return sv_error_set(SV_EINVAL,
				    "vault '%s': unsupported scheme (use a directory path, azure:// or s3://)",
				    url);
	return vault__backend_local_open(out, url, create);
}

void vault__backend_retried(vault_backend *b, unsigned n)
{
	if (n)
		atomic_fetch_add(&b->retries, n);
}

uint64_t vault_retries(const vault *v)
{
	return atomic_load(&((vault_backend *)v->be)->retries);
}

void vault__backend_close(vault_backend *b)
{
	if (b)
		b->ops->close(b);
}

void vault__name_pack(char *dst, const uint8_t id[VAULT_ID_LEN])
{
	char hex[VAULT_HEX_ID_LEN + 1];

	sv_hex_encode(hex, id, VAULT_ID_LEN);
	snprintf(dst, VAULT_NAME_MAX, "data/%.2s/%s", hex, hex);
}

void vault__name_object(char *dst, const char *dir,
			const uint8_t id[VAULT_ID_LEN])
{
	char hex[VAULT_HEX_ID_LEN + 1];

	sv_hex_encode(hex, id, VAULT_ID_LEN);
	snprintf(dst, VAULT_NAME_MAX, "%s/%s", dir, hex);
}

int vault__name_parse_pack(uint8_t id[VAULT_ID_LEN], const char *name)
{
	if (strlen(name) != 8 + VAULT_HEX_ID_LEN || strncmp(name, "data/", 5) != 0 ||
	    name[7] != '/' || strncmp(name + 5, name + 8, 2) != 0)
		return SV_EINVAL;
	return sv_hex_decode(id, VAULT_ID_LEN, name + 8);
}

int vault__name_parse_object(uint8_t id[VAULT_ID_LEN], const char *name,
			     const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(name, dir, n) != 0 || name[n] != '/')
		return SV_EINVAL;
	return sv_hex_decode(id, VAULT_ID_LEN, name + n + 1);
}
