/*
 * sv_json.c - jansson at its edge: parse errors and field access as sv_err.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_json.h"

int sv_json_parse(json_t **out, const char *text, size_t len,
		  const char *what)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v)
		return sv_error_set(SV_EINVAL, "%s is not valid JSON (line %d, column %d): %s",
				    what, jerr.line, jerr.column, jerr.text);
	*out = v;
	return 0;
}

int sv_json_load_file(json_t **out, const char *path, size_t max)
{
	char *text = NULL, *what = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = sv_fs_read_all(&text, &len, path, max);
	if (rc < 0)
		goto done;
	what = sv_aprintf("'%s'", path);
	if (!what) {
		rc = SV_ENOMEM;
		goto done;
	}
	rc = sv_json_parse(out, text, len, what);
done:
	free(text);
	free(what);
	return rc;
}

char *sv_json_dump(const json_t *v, int pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
	char *s;

	flags |= pretty ? JSON_INDENT(2) : JSON_COMPACT;
	s = json_dumps(v, flags);
	if (!s)
		sv_error_set(SV_ENOMEM, "cannot serialise JSON");
	return s;
}

static int field(const json_t *obj, const char *key, json_t **out,
		 const char *type)
{
	*out = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!*out)
		return sv_error_set(SV_EINVAL, "field '%s' is missing or not %s",
				    key, type);
	return 0;
}

static int bad(const char *key, const char *type)
{
	return sv_error_set(SV_EINVAL, "field '%s' is missing or not %s", key,
			    type);
}

int sv_json_str(const json_t *obj, const char *key, const char **out)
{
	json_t *v;

	if (field(obj, key, &v, "a string") < 0 || !json_is_string(v))
		return bad(key, "a string");
	*out = json_string_value(v);
	return 0;
}

int sv_json_str_opt(const json_t *obj, const char *key, const char *def,
		    const char **out)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return bad(key, "a string");
	*out = json_string_value(v);
	return 0;
}

int sv_json_u64(const json_t *obj, const char *key, uint64_t *out)
{
	json_t *v;

	if (field(obj, key, &v, "a non-negative integer") < 0 ||
	    !json_is_integer(v) || json_integer_value(v) < 0)
		return bad(key, "a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int sv_json_i64(const json_t *obj, const char *key, int64_t *out)
{
	json_t *v;

	if (field(obj, key, &v, "an integer") < 0 || !json_is_integer(v))
		return bad(key, "an integer");
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int sv_json_bool(const json_t *obj, const char *key, int *out)
{
	json_t *v;

	if (field(obj, key, &v, "true or false") < 0 || !json_is_boolean(v))
		return bad(key, "true or false");
	*out = json_is_true(v);
	return 0;
}

int sv_json_obj(const json_t *obj, const char *key, json_t **out)
{
	if (field(obj, key, out, "an object") < 0 || !json_is_object(*out))
		return bad(key, "an object");
	return 0;
}

int sv_json_arr(const json_t *obj, const char *key, json_t **out)
{
	if (field(obj, key, out, "an array") < 0 || !json_is_array(*out))
		return bad(key, "an array");
	return 0;
}

int sv_json_set(json_t *obj, const char *key, json_t *v)
{
	if (!v || json_object_set_new(obj, key, v) != 0)
		return sv_error_set(SV_ENOMEM, "cannot build JSON field '%s'", key);
	return 0;
}
