/*
 * cmd_passphrase.c - sysvault passphrase reset
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"

static int reset(const char *pass_file)
{
	vault *v = NULL;
	char *pass = NULL;
	int rc;

	if (!sv_agent_registered())
		return sv_error_set(
			SV_EAUTH, "only the machine registered with the vault "
				  "can reset its passphrase (it keeps the "
				  "vault's key), and "
				  "this machine is not registered: run "
				  "'sysvault passphrase "
				  "reset' on the original machine. Elsewhere "
				  "nothing can be "
				  "restored without the current passphrase");
	rc = sv_agent_open_registered(&v);
	if (rc == 0)
		rc = sv_agent_passphrase(&pass, pass_file, 1);
	if (rc == 0)
		rc = vault_passphrase_reset(v, pass, sv_agent_scrypt_n());
	if (pass)
		memset(pass, 0, strlen(pass));
	free(pass);
	vault_close(v);
	return rc;
}

int cmd_passphrase_reset(int argc, char **argv)
{
	static const struct option lo[] = {
		{"passphrase-file", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("passphrase reset");
	const char *pass_file = NULL;
	int ch;

	while ((ch = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (ch != 'p')
			return SV_EXIT_USAGE;
		pass_file = optarg;
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (reset(pass_file) < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:b}", "reset", 1));
	printf("the vault's passphrase was reset: the old passphrase no longer "
	       "opens it\n");
	printf("Restoring on any other machine now needs the new passphrase "
	       "(and a credentials file).\n");
	return SV_EXIT_OK;
}
