/*
 * state.c - where sysvault keeps its state on this machine.
 */
#include <stdlib.h>

#include "cmd.h"
#include "sv_env.h"

/* The global options of this run (main.c fills them in). */
sv_agent g_agent;

const char *sv_agent_state_dir(void)
{
	static char *resolved;

	if (g_agent.state_dir)
		return g_agent.state_dir;
	if (!resolved) {
		resolved = sv_env_get("SYSVAULT_HOME");
		if (!resolved || !resolved[0]) {
			free(resolved);
			resolved = sv_env_default_state_dir();
		}
	}
	return resolved;
}
