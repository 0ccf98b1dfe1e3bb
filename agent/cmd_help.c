/*
 * cmd_help.c - sysvault help [<command>]
 */
#include <string.h>

#include "cmd.h"

int cmd_help(int argc, char **argv)
{
	const sv_cmd_def *cmd;
	char name[128];

	if (argc < 2) {
		sv_print_command_list(stdout);
		return SV_EXIT_OK;
	}
	if (argc > 3)
		return sv_cmd_usage_error(sv_cmd_find("help"), "too many arguments");
	cmd = sv_cmd_find(argv[1]);
	if (!cmd && argc == 3 &&
	    snprintf(name, sizeof(name), "%s %s", argv[1], argv[2]) < (int)sizeof(name))
		cmd = sv_cmd_find(name);
	if (!cmd)
		return sv_cmd_usage_error(sv_cmd_find("help"), "unknown command '%s'",
					  argv[1]);
	sv_cmd_print_help(stdout, cmd);
	return SV_EXIT_OK;
}
