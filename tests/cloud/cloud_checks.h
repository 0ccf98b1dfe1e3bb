/*
 * cloud_checks.h - checks every cloud backend (Azure, S3) must pass the
 * same way, shared by their tests against the emulators.
 */
#ifndef CLOUD_CHECKS_H
#define CLOUD_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include "vault_int.h"

/* Puts data (len bytes, len > 1036) as name, then reads it back whole,
 * in a range inside, up to the end, exactly at the end (nothing, not an
 * error) and past the end (SV_ECORRUPT, the buffer untouched). */
void cloud_check_ranged_reads(vault_backend *b, const char *name,
			      const uint8_t *data, size_t len);
/* A missing object is SV_ENOTFOUND to stat and get, deleting it
 * succeeds, and names that are not object names are SV_EINVAL. */
void cloud_check_missing_objects(vault_backend *b);

#endif
