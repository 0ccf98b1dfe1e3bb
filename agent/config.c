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
#include "sv_json.h"
#include "sv_path.h"

static json_t *g_config;
static int g_loaded;

static void load(void)
{
	char *path = sv_path_join(sv_agent_state_dir(), "config.json");

	g_loaded = 1;
	if (path && sv_json_load_file(&g_config, path, 1 << 20) < 0)
		g_config = NULL;
	free(path);
}

const char *sv_agent_config(const char *key)
{
	const json_t *v;
	char part[64];
	const char *dot;

	if (!g_loaded)
		load();
	v = g_config;
	while (v && (dot = strchr(key, '.')) != NULL) {
		if ((size_t)(dot - key) >= sizeof(part))
			return NULL;
		memcpy(part, key, (size_t)(dot - key));
		part[dot - key] = '\0';
		v = json_object_get(v, part);
		key = dot + 1;
	}
	v = v ? json_object_get(v, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
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
