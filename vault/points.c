/*
 * points.c - listing, resolving and loading recovery points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_path.h"
#include "vault_int.h"

/* Checks what a restore relies on before anything is written: file
 * entries with safe relative paths, sizes, hashes and segment ids. */
int vault__point_validate(const json_t *p, const char *what)
{
	json_t *files, *f, *dirs, *d, *lists, *l;
	const char *path, *sha;
	uint64_t size;
	size_t i, j;
	int rc;

	if ((rc = sv_json_arr(p, "files", &files)) < 0)
		goto bad;
	json_array_foreach(files, i, f) {
		if ((rc = sv_json_str(f, "path", &path)) < 0 ||
		    (rc = sv_json_u64(f, "size", &size)) < 0 ||
		    (rc = sv_json_str(f, "sha256", &sha)) < 0 ||
		    (rc = sv_json_arr(f, "lists", &lists)) < 0)
			goto bad;
		if ((rc = sv_path_check_relative(path)) < 0)
			goto bad;
		if (strlen(sha) != 64)
			goto malformed;
		json_array_foreach(lists, j, l) {
			if (!json_is_string(l) || strlen(json_string_value(l)) != 64)
				goto malformed;
		}
	}
	if (sv_json_arr(p, "dirs", &dirs) == 0) {
		json_array_foreach(dirs, i, d) {
			if (!json_is_string(d))
				goto malformed;
			if ((rc = sv_path_check_relative(json_string_value(d))) < 0)
				goto bad;
		}
	}
	return 0;
malformed:
	rc = sv_error_set(SV_ECORRUPT, "malformed file entry");
bad:
	sv_error_prefix("recovery point %s is refused", what);
	return SV_ECORRUPT;
}

int vault_point_load(vault *v, const char *id_hex, json_t **out)
{
	uint8_t id[VAULT_ID_LEN];
	sv_buf plain;
	int rc;

	*out = NULL;
	if (sv_hex_decode(id, VAULT_ID_LEN, id_hex) < 0)
		return sv_error_set(SV_EINVAL, "'%s' is not a recovery point id", id_hex);
	sv_buf_init(&plain, VAULT_POINT_MAX);
	rc = vault__load_object(v, &plain, "points", VAULT_OBJ_POINT, id, VAULT_POINT_MAX);
	if (rc == 0)
		rc = sv_json_parse(out, plain.ptr, plain.len, "recovery point");
	if (rc == SV_EINVAL)
		rc = SV_ECORRUPT;
	if (rc == 0 && (rc = vault__point_validate(*out, id_hex)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
	sv_buf_release(&plain);
	return rc;
}

typedef struct list_ctx {
	const char *machine;
	vault_point_list_cb cb;
	void *ud;
} list_ctx;

static int list_one(void *ud, const uint8_t id[VAULT_ID_LEN],
		    const char *machine, int64_t time, const char *summary)
{
	list_ctx *c = ud;
	vault_point_info info;
	json_t *s = NULL;

	if (c->machine && strcmp(c->machine, machine) != 0)
		return 0;
	memset(&info, 0, sizeof(info));
	sv_hex_encode(info.id, id, VAULT_ID_LEN);
	sv_strlcpy(info.machine, machine, sizeof(info.machine));
	info.time = time;
	info.scheduled = 1;   /* points older than the field: as scheduled */
	if (summary && sv_json_parse(&s, summary, strlen(summary), "summary") == 0) {
		const char *trigger;

		sv_json_u64(s, "files", &info.files);
		sv_json_u64(s, "bytes", &info.bytes);
		if (sv_json_str(s, "trigger", &trigger) == 0)
			info.scheduled = strcmp(trigger, "adhoc") != 0;
	}
	json_decref(s);
	return c->cb(c->ud, &info);
}

int vault_points(vault *v, const char *machine, vault_point_list_cb cb,
		 void *ud)
{
	list_ctx c = { machine, cb, ud };

	return vault__cache_points(v->cache, list_one, &c);
}

typedef struct resolve_ctx {
	const char *spec;
	int latest;
	char found[65];
	int matches;
} resolve_ctx;

static int resolve_one(void *ud, const vault_point_info *p)
{
	resolve_ctx *c = ud;

	if (c->latest) {
		memcpy(c->found, p->id, sizeof(c->found));   /* oldest first */
		c->matches = 1;
	} else if (strncmp(p->id, c->spec, strlen(c->spec)) == 0) {
		memcpy(c->found, p->id, sizeof(c->found));
		c->matches++;
	}
	return 0;
}

int vault_point_resolve(vault *v, const char *spec, const char *machine,
			char id_out[65])
{
	resolve_ctx c;
	size_t i, n = strlen(spec);
	int rc;

	memset(&c, 0, sizeof(c));
	c.spec = spec;
	c.latest = strcmp(spec, "latest") == 0;
	if (!c.latest) {
		for (i = 0; i < n; i++)
			if (!strchr("0123456789abcdef", spec[i]))
				break;
		if (n < 8 || n > 64 || i < n)
			return sv_error_set(SV_EINVAL,
					    "'%s' is not a recovery point: give 'latest' or at least 8 hex digits of an id from 'sysvault points'",
					    spec);
	}
	rc = vault_points(v, machine, resolve_one, &c);
	if (rc < 0)
		return rc;
	if (c.matches == 0)
		return sv_error_set(SV_ENOTFOUND, "no recovery point %s%s%s in vault '%s'",
				    c.latest ? "at all" : spec,
				    machine ? " for machine " : "", machine ? machine : "",
				    v->be->url);
	if (c.matches > 1)
		return sv_error_set(SV_EINVAL, "'%s' matches %d recovery points: give more digits",
				    spec, c.matches);
	memcpy(id_out, c.found, 65);
	return 0;
}
