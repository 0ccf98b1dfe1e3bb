/*
 * cmd_points.c - sysvault points [--machine <name>] [--credentials <file>]
 * [--json]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_time.h"

static int add_point(void *ud, const vault_point_info *p)
{
	char when[32];
	json_t *o;

	sv_time_format_utc(when, sizeof(when), p->time);
	o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", p->id, "machine", p->machine,
		      "time", when, "files", (json_int_t)p->files,
		      "bytes", (json_int_t)p->bytes);
	if (!o || json_array_append_new(ud, o))
		return sv_error_set(SV_ENOMEM, "out of memory listing points");
	return 0;
}

static void print_table(json_t *arr)
{
	json_t *p;
	size_t i;
	char size[32];

	printf("%-16s  %-20s  %-24s  %6s  %12s\n", "ID", "TIME (UTC)", "MACHINE",
	       "FILES", "SIZE");
	json_array_foreach(arr, i, p) {
		sv_format_size(size, sizeof(size),
			       (uint64_t)json_integer_value(json_object_get(p, "bytes")));
		printf("%-16.16s  %-20s  %-24s  %6lld  %12s\n",
		       json_string_value(json_object_get(p, "id")),
		       json_string_value(json_object_get(p, "time")),
		       json_string_value(json_object_get(p, "machine")),
		       (long long)json_integer_value(json_object_get(p, "files")), size);
	}
	if (json_array_size(arr) == 0)
		printf("(no recovery points)\n");
}

/* Removes the temporary cache; a failure leaves only a cache behind and
 * does not replace the command's own error. */
static void remove_quietly(const char *dir, int rc)
{
	char keep[1024];

	sv_strlcpy(keep, sv_error_msg(), sizeof(keep));
	sv_fs_remove_tree(dir);
	if (rc < 0)
		sv_error_set(rc, "%s", keep);
}

int cmd_points(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "machine", required_argument, NULL, 'm' },
		{ "credentials", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("points");
	const char *url = NULL, *pass_file = NULL, *machine = NULL, *creds = NULL;
	char *tmp_state = NULL;
	json_t *arr = json_array();
	vault *v = NULL;
	int c, rc;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?') {
			json_decref(arr);
			return SV_EXIT_USAGE;
		}
		if (c == 'v')
			url = optarg;
		else if (c == 'p')
			pass_file = optarg;
		else if (c == 'c')
			creds = optarg;
		else
			machine = optarg;
	}
	if (optind < argc) {
		json_decref(arr);
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	}
	if (creds)
		rc = sv_agent_open_credentials(&v, &tmp_state, creds, pass_file);
	else
		rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_points(v, machine, add_point, arr);
	vault_close(v);
	if (tmp_state)
		remove_quietly(tmp_state, rc);
	free(tmp_state);
	if (rc < 0) {
		json_decref(arr);
		return sv_cmd_fail();
	}
	if (g_agent.json)
		return sv_agent_print_json(arr);
	print_table(arr);
	json_decref(arr);
	return SV_EXIT_OK;
}
