/*
 * cmd_version.c - sysvault version [--json]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cmd.h"
#include "sv_buf.h"
#include "sv_json.h"
#include "sv_platform.h"
#include "sv_version.h"

static json_t *version_json(const char *os)
{
	json_t *v = json_object(), *libs = json_object();
	int rc = 0;

	if (!v || !libs) {
		json_decref(v);
		json_decref(libs);
		return NULL;
	}
	rc |= sv_json_set(v, "version", json_string(SV_VERSION));
	rc |= sv_json_set(v, "platform", json_string(SV_BUILD_PLATFORM));
	rc |= sv_json_set(v, "os", json_string(os));
	rc |= sv_json_set(libs, "openssl", json_string(SV_DEP_CRYPTO_VERSION));
	rc |= sv_json_set(libs, "libcurl", json_string(SV_DEP_CURL_VERSION));
	rc |= sv_json_set(libs, "sqlite", json_string(SV_DEP_SQLITE_VERSION));
	rc |= sv_json_set(libs, "pcre2", json_string(SV_DEP_PCRE2_VERSION));
	rc |= sv_json_set(libs, "zstd", json_string(SV_DEP_ZSTD_VERSION));
	rc |= sv_json_set(libs, "jansson", json_string(JANSSON_VERSION));
	rc |= sv_json_set(v, "libraries", libs);
	if (rc) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int cmd_version(int argc, char **argv)
{
	char os[128] = "unknown";

	(void)argv;
	if (argc > 1)
		return sv_cmd_usage_error(sv_cmd_find("version"),
					  "unexpected argument '%s'", argv[1]);
	if (sv_os_version(os, sizeof(os)) < 0)
		sv_strlcpy(os, "unknown", sizeof(os));
	if (!g_agent.json) {
		printf("sysvault %s (%s)\n", SV_VERSION, SV_BUILD_PLATFORM);
		printf("running on %s\n", os);
		printf("libraries: OpenSSL %s, libcurl %s, SQLite %s, PCRE2 %s, "
		       "zstd %s, jansson %s\n", SV_DEP_CRYPTO_VERSION,
		       SV_DEP_CURL_VERSION, SV_DEP_SQLITE_VERSION,
		       SV_DEP_PCRE2_VERSION, SV_DEP_ZSTD_VERSION, JANSSON_VERSION);
		return SV_EXIT_OK;
	}
	return sv_agent_print_json(version_json(os));
}
