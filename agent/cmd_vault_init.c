/*
 * cmd_vault_init.c - sysvault vault init --vault <dir>
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "sv_buf.h"
#include "registration.h"
#include "sv_env.h"

int cmd_vault_init(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "compression-level", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("vault init");
	const char *url_opt = NULL, *pass_file = NULL, *url;
	vault_init_opts o;
	vault_access acc;
	char id[65], *pass = NULL;
	uint64_t avg = 0;
	long level = 0;
	char *end = NULL;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			return SV_EXIT_USAGE;
		if (c == 'v')
			url_opt = optarg;
		else if (c == 'p')
			pass_file = optarg;
		else if (c == 'c' && (sv_parse_size(&avg, optarg) < 0 || avg < 4096 ||
				      avg > (1u << 20) || (avg & (avg - 1))))
			return sv_cmd_usage_error(cmd, "--chunk-size takes a power of two from 4K to 1M");
		else if (c == 'l' && ((level = strtol(optarg, &end, 10)), !end || *end ||
				      level < -7 || level == 0 || level > 19))
			return sv_cmd_usage_error(cmd, "--compression-level takes a zstd level from 1 to 19, or -1 to -7 (faster)");
	}
	if (avg) {
		o.chunk_avg = (uint32_t)avg;
		o.chunk_min = (uint32_t)avg / 4;
		o.chunk_max = (uint32_t)avg * 4;
	}
	o.zstd_level = (int)level;
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	o.scrypt_n = sv_agent_scrypt_n();
	if ((rc = sv_agent_vault_url(&url, url_opt)) < 0)
		return sv_cmd_fail();
	memset(&acc, 0, sizeof(acc));
	sv_agent_vault_access(&acc, url);
	if ((rc = sv_agent_passphrase(&pass, pass_file, 1)) < 0 ||
	    (rc = vault_init(url, &acc, pass, &o, id)) < 0) {
		free(pass);
		return sv_cmd_fail();
	}
	free(pass);
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:s,s:s}", "vault", url, "id", id));
	printf("created vault %s at %s\n", id, url);
	printf("Keep the passphrase safe: without it nothing in this vault can be restored.\n");
	return SV_EXIT_OK;
}
