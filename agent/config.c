/*
 * config.c - <state-dir>/config.json: settings an administrator (or a later
 * `sysvault register`) writes, read once per process.
 *
 *   {"vault": "D:\\vault", "scratch": "E:\\sysvault\\Scratch",
 *    "wsb": {"wbadmin": "C:\\Windows\\System32\\wbadmin.exe", "timeout": "6h"}}
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

#define CONFIG_MAX (1 << 20)

static json_t *g_config;
static int g_loaded;

static char *config_path(void)
{
	return sv_path_join(sv_agent_state_dir(), "config.json");
}

static void load(void)
{
	char *path = config_path();

	g_loaded = 1;
	if (path && sv_json_load_file(&g_config, path, CONFIG_MAX) < 0)
		g_config = NULL;
	free(path);
}

/* The object holding the last part of a dotted key, and that part; with
 * create, missing objects on the way are added. NULL when absent. */
static json_t *walk(json_t *v, const char **key, int create)
{
	char part[64];
	const char *dot;

	while (v && (dot = strchr(*key, '.')) != NULL) {
		json_t *next;

		if ((size_t)(dot - *key) >= sizeof(part))
			return NULL;
		memcpy(part, *key, (size_t)(dot - *key));
		part[dot - *key] = '\0';
		next = json_object_get(v, part);
		if (!json_is_object(next)) {
			if (!create || json_object_set_new(v, part, json_object()) < 0)
				return NULL;
			next = json_object_get(v, part);
		}
		v = next;
		*key = dot + 1;
	}
	return json_is_object(v) ? v : NULL;
}

const json_t *sv_agent_config_json(const char *key)
{
	json_t *obj;

	if (!g_loaded)
		load();
	obj = walk(g_config, &key, 0);
	return obj ? json_object_get(obj, key) : NULL;
}

const char *sv_agent_config(const char *key)
{
	const json_t *v = sv_agent_config_json(key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int sv_agent_config_set(const char *key, json_t *value)
{
	json_t *root = NULL, *obj;
	char *path = config_path(), *text = NULL;
	int rc;

	if (!path) {
		rc = SV_ENOMEM;
		goto done;
	}
	/* Start from the file as it is now (another process may have changed
	 * it); a file that does not parse is the administrator's to fix, not
	 * ours to overwrite. */
	rc = sv_json_load_file(&root, path, CONFIG_MAX);
	if (rc == SV_ENOTFOUND) {
		root = json_object();
		rc = root ? 0 : SV_ENOMEM;
	} else if (rc == 0 && !json_is_object(root)) {
		rc = sv_error_set(SV_EINVAL, "'%s' is not a JSON object: fix or remove it", path);
	} else if (rc < 0) {
		char *why = sv_strdup(sv_error_msg());

		rc = sv_error_set(rc, "%s: fix or remove the file",
				  why ? why : path);
		free(why);
	}
	if (rc < 0)
		goto done;
	if ((obj = walk(root, &key, value != NULL)) == NULL) {
		rc = value ? SV_ENOMEM : 0;   /* removing from nothing */
		goto done;
	}
	if (value) {
		rc = json_object_set(obj, key, value) < 0 ? SV_ENOMEM : 0;
	} else {
		json_object_del(obj, key);
	}
	if (rc == 0 && (text = sv_json_dump(root, 1)) == NULL)
		rc = SV_ENOMEM;
	if (rc == 0 && (rc = sv_fs_mkdir_p(sv_agent_state_dir(), 1)) == 0)
		rc = sv_fs_write_atomic(path, text, strlen(text), 1);
	if (rc == 0) {
		json_decref(g_config);
		g_config = root;
		g_loaded = 1;
		root = NULL;
	}
done:
	json_decref(value);
	json_decref(root);
	free(text);
	free(path);
	return rc;
}

int sv_agent_parse_duration(uint32_t *ms, const char *s)
{
	uint64_t n, mult = 1000;
	size_t len = strlen(s);
	char num[32];

	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's': mult = 1000; num[--len] = '\0'; break;
	case 'm': mult = 60000; num[--len] = '\0'; break;
	case 'h': mult = 3600000; num[--len] = '\0'; break;
	default: break;
	}
	if (sv_parse_u64(&n, num) < 0 || n == 0 || n > UINT32_MAX / mult)
		goto bad;
	*ms = (uint32_t)(n * mult);
	return 0;
bad:
	return sv_error_set(SV_EUSAGE, "'%s' is not a duration (examples: 90s, 30m, 6h)", s);
}
