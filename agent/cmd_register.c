/*
 * cmd_register.c - sysvault register --credentials <file> [--force]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "sv_fs.h"
#include "sv_path.h"

static int open_with(vault **v, const sv_credentials *c, const char *pass_file)
{
	vault_access acc;
	char *pass = NULL, *cache = sv_path_join(sv_agent_state_dir(), "cache");
	int rc = cache ? 0 : SV_ENOMEM;

	sv_credentials_access(&acc, c);
	sv_agent_vault_access(&acc, c->url);
	if (rc == 0)
		rc = sv_agent_passphrase(&pass, pass_file, 0);
	if (rc == 0)
		rc = sv_fs_mkdir_p(sv_agent_state_dir(), 1);
	if (rc == 0)
		rc = vault_open(v, c->url, &acc, pass, cache);
	if (pass)
		memset(pass, 0, strlen(pass));
	free(pass);
	free(cache);
	return rc;
}

static void print_record(const json_t *r)
{
	printf("registered this machine as %s (%s) with vault %.16s... at %s\n",
	       json_string_value(json_object_get(r, "machine")),
	       json_string_value(json_object_get(r, "fqdn")),
	       json_string_value(json_object_get(r, "vault_id")),
	       json_string_value(json_object_get(r, "url")));
	printf("backup, points, restore and vault check now need neither "
	       "--vault nor the passphrase\n");
}

int cmd_register(int argc, char **argv)
{
	static const struct option lo[] = {
		{"credentials", required_argument, NULL, 'c'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("register");
	const char *file = NULL, *pass_file = NULL;
	sv_credentials c;
	json_t *rec = NULL;
	vault *v = NULL;
	int ch, rc, force = 0;

	while ((ch = sv_getopt(argc, argv, lo, cmd)) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'p':
			pass_file = optarg;
			break;
		case 'f':
			force = 1;
			break;
		default:
			return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (!file)
		return sv_cmd_usage_error(
			cmd, "--credentials <file> is required (from 'sysvault "
			     "vault credentials')");
	if ((rc = sv_credentials_load(&c, file)) < 0)
		return sv_cmd_fail();
	/* Refusals that need no passphrase come before it is asked for. */
	rc = sv_agent_register_check(&c, force);
	if (rc == 0)
		rc = open_with(&v, &c, pass_file);
	if (rc == 0 && (rc = sv_credentials_verify(&c, v)) < 0)
		sv_error_prefix("credentials file '%s'", file);
	if (rc == 0)
		rc = sv_agent_register(&c, v, force, &rec);
	vault_close(v);
	sv_credentials_release(&c);
	if (rc < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(rec);
	print_record(rec);
	json_decref(rec);
	return SV_EXIT_OK;
}
