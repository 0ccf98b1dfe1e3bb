/*
 * cmd_install.c - sysvault install-setup: run by the Windows installer
 * after it copied the files (packaging/windows/sysvault.wxs). Puts the
 * installation folder on the machine PATH and creates the state directory
 * readable only by SYSTEM and Administrators. Safe to run again.
 */
#include <stdlib.h>

#include "agent.h"
#include "install.h"

int cmd_install_setup(int argc, char **argv)
{
	const sv_cmd_def *cmd = sv_cmd_find("install-setup");
	const char *state = sv_agent_state_dir();
	char *dir = NULL;
	int rc;

	if (argc > 1)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[1]);
	rc = sv_install_exe_dir(&dir);
	if (rc == 0)
		rc = sv_install_path_add(dir);
	if (rc == 0)
		printf("machine PATH includes %s\n", dir);
	if (rc == 0 && state)
		rc = sv_install_secure_dir(state);
	if (rc == 0)
		printf("state directory %s: SYSTEM and Administrators only\n", state);
	free(dir);
	return rc < 0 ? sv_cmd_fail() : SV_EXIT_OK;
}
