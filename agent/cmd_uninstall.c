/*
 * cmd_uninstall.c - sysvault uninstall-cleanup [--remove-state]: run by
 * the Windows installer before it removes the files. Deletes the backup
 * schedule's task, detaches the staging VHDX (else its file stays locked),
 * takes the installation folder off
 * the machine PATH, and with --remove-state (the installer's REMOVESTATE=1)
 * deletes the state directory. Every step is tried; any failure is
 * reported and makes the exit code 2.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "install.h"
#include "job.h"
#include "schedule.h"
#include "sv_fs.h"
#include "wsb.h"

/* Reports a failed step on stderr, else prints done (when not NULL);
 * returns 1 when it failed. */
static int step(int rc, const char *done)
{
	if (rc == SV_ENOTSUPPORTED)
		return 0;   /* not a Windows installation: nothing to undo */
	if (rc < 0) {
		fprintf(stderr, "sysvault: %s\n", sv_error_msg());
		return 1;
	}
	if (done)
		printf("%s\n", done);
	return 0;
}

/* The backup schedule's task (Windows) or timer units (systemd), removed
 * as `sysvault schedule remove` removes them: schedule.h alone knows
 * their name and how. config.json keeps the setting, as it keeps the rest
 * of the state directory. */
static int untask(void)
{
	json_t *r = json_object(), *removed;
	const char *how;
	int rc = r ? sv_schedule_uninstall(r) : SV_ENOMEM;

	how = rc == 0 ? json_string_value(json_object_get(r, "mechanism")) : NULL;
	removed = json_object_get(r, "removed");
	if (how && !strcmp(how, "task_scheduler"))
		printf("%s scheduled task %s\n",
		       json_is_true(removed) ? "deleted the" : "there is no",
		       SV_SCHEDULE_NAME);
	else if (how && !strcmp(how, "systemd"))
		printf("%zu systemd unit file(s) of %s removed\n",
		       json_array_size(removed), SV_SCHEDULE_NAME);
	else if (how)   /* cron: the line is the administrator's to delete */
		printf("no systemd here: delete the sysvault line from %s if "
		       "you added one\n",
		       json_string_value(json_object_get(r, "cron_file")));
	json_decref(r);
	return rc;
}

static int unpath(void)
{
	char *dir = NULL;
	int rc = sv_install_exe_dir(&dir);

	if (rc == 0)
		rc = sv_install_path_remove(dir);
	free(dir);
	return rc;
}

int cmd_uninstall_cleanup(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "remove-state", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("uninstall-cleanup");
	const char *state = sv_agent_state_dir();
	char *scratch = NULL;
	int c, remove_state = 0, failed = 0;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			return SV_EXIT_USAGE;
		remove_state = 1;
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!(scratch = sv_agent_scratch_dir(NULL)))
		return sv_cmd_fail();
	failed += step(untask(), NULL);
	failed += step(wsb_staging_release(scratch), "staging volume released (a VHDX is detached)");
	failed += step(unpath(), "installation folder removed from the machine PATH");
	if (remove_state)
		failed += step(sv_fs_remove_tree(state), "state directory removed");
	free(scratch);
	return failed ? SV_EXIT_FAILURE : SV_EXIT_OK;
}
