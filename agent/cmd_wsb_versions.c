/*
 * cmd_wsb_versions.c - sysvault wsb versions [--json]: the versions wbadmin
 * keeps on the staging volume.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"

static json_t *versions_json(const wsb_version *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "version", v[i].id,
						     "backup_time", v[i].backup_time,
						     "target", v[i].target,
						     "can_recover", v[i].can_recover));
	return arr;
}

int cmd_wsb_versions(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "scratch", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("wsb versions");
	sv_wsb_args wa = { NULL, 0, NULL, NULL, NULL };
	wsb_version *v = NULL;
	char *scratch = NULL, *target = NULL;
	sv_wsb_ctx wc;
	size_t n = 0, i;
	int c, rc;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			return SV_EXIT_USAGE;
		wa.scratch = optarg;
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	scratch = sv_agent_scratch_dir(wa.scratch);
	rc = sv_agent_wsb_init(&wc, &wa);
	if (rc == 0)
		rc = scratch ? wsb_staging_prepare(scratch, 0, &target) : SV_ENOMEM;
	if (rc == 0)
		rc = wsb_versions(&wc.o, target, &v, &n);
	sv_agent_wsb_release(&wc);
	free(scratch);
	if (rc < 0) {
		free(target);
		free(v);
		return sv_cmd_fail();
	}
	if (g_agent.json) {
		rc = sv_agent_print_json(versions_json(v, n));
	} else {
		printf("staging volume %s: %zu version%s\n", target, n, n == 1 ? "" : "s");
		for (i = 0; i < n; i++)
			printf("  %s  %s\n", v[i].id, v[i].backup_time);
		rc = SV_EXIT_OK;
	}
	free(target);
	free(v);
	return rc;
}
