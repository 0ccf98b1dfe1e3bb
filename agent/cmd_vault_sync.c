/*
 * cmd_vault_sync.c - sysvault vault sync: rebuild the local cache from the
 * vault alone.
 */
#include <string.h>

#include "agent.h"

int cmd_vault_sync(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("vault sync");
	const char *url = NULL, *pass_file = NULL;
	vault_sync_result r;
	vault *v = NULL;
	int c, rc;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			return SV_EXIT_USAGE;
		if (c == 'v')
			url = optarg;
		else
			pass_file = optarg;
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_sync(v, 1, &r);
	vault_close(v);
	if (rc < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:I,s:I,s:I}",
						     "indexes", (json_int_t)r.indexes_loaded,
						     "points", (json_int_t)r.points_loaded,
						     "packs_unindexed", (json_int_t)r.packs_unindexed));
	printf("cache rebuilt: %llu index objects, %llu points, %llu packs not yet indexed\n",
	       (unsigned long long)r.indexes_loaded, (unsigned long long)r.points_loaded,
	       (unsigned long long)r.packs_unindexed);
	return SV_EXIT_OK;
}
