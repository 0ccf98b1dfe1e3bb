/*
 * sv_json.h - JSON through jansson. jansson's json_t is sysvault's JSON value
 * type everywhere (config, vault objects' metadata, --json output, evidence
 * bundles); this header is the one place that includes <jansson.h>, and
 * adds parsing and typed field access that report failures as sv_err.
 */
#ifndef SV_JSON_H
#define SV_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sv_error.h"

/* Parses text (len bytes, need not be NUL-terminated). `what` names the
 * input in the error ("config", "credentials file 'x.json'"). SV_EINVAL
 * with line and column on malformed JSON. Caller json_decref()s *out. */
int sv_json_parse(json_t **out, const char *text, size_t len,
		  const char *what);
/* Reads and parses a file of at most max bytes. */
int sv_json_load_file(json_t **out, const char *path, size_t max);
/* Serialises v (compact, or indented when pretty), keys in insertion order.
 * Caller frees; NULL on out-of-memory. */
char *sv_json_dump(const json_t *v, int pretty);

/* Typed field access on an object. Each returns 0, or SV_EINVAL with
 * "<what>: field 'key' is missing or not a <type>". Strings point into obj. */
int sv_json_str(const json_t *obj, const char *key, const char **out);
int sv_json_u64(const json_t *obj, const char *key, uint64_t *out);
int sv_json_i64(const json_t *obj, const char *key, int64_t *out);
int sv_json_bool(const json_t *obj, const char *key, int *out);
int sv_json_obj(const json_t *obj, const char *key, json_t **out);
int sv_json_arr(const json_t *obj, const char *key, json_t **out);
/* Optional string: *out = def when the key is absent; SV_EINVAL when present
 * with another type. */
int sv_json_str_opt(const json_t *obj, const char *key, const char *def,
		    const char **out);

/* Sets a field, stealing the reference; returns SV_ENOMEM if v is NULL or
 * the set fails (and drops v). Lets builders chain without leaks. */
int sv_json_set(json_t *obj, const char *key, json_t *v);

#endif
