/*
 * cmd_schedule.c - sysvault schedule set --daily HH:MM [--days Mon,Wed],
 * schedule show, schedule remove.
 *
 * config.json keeps what the administrator asked for,
 * {"schedule": {"time": "21:00", "days": ["Mon", "Wed"]}}; the OS keeps
 * the task or timer that acts on it (schedule.h).
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "retention.h"
#include "schedule.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_path.h"

/* The state directory the scheduled run must use: NULL when it is the
 * default one, which the run finds by itself. */
static char *explicit_state_dir(void)
{
	char *def = sv_env_default_state_dir();
	const char *cur = sv_agent_state_dir();
	char *out = def && !strcmp(def, cur) ? NULL : sv_strdup(cur);

	free(def);
	return out;
}

static void print_days(const json_t *sched)
{
	const json_t *days = json_object_get(sched, "days"), *d;
	size_t i;

	if (json_array_size(days) == 7) {
		fputs("every day", stdout);
		return;
	}
	json_array_foreach(days, i, d)
		printf("%s%s", i ? "," : "", json_string_value(d));
}

static void print_installed(const json_t *sched, const json_t *rep)
{
	const char *mech = json_string_value(json_object_get(rep, "mechanism"));
	const json_t *f;
	size_t i;

	printf("scheduled: ");
	print_days(sched);
	printf(" at %s (local time)\n",
	       json_string_value(json_object_get(sched, "time")));
	if (!strcmp(mech, "cron")) {
		printf("systemd is not running on this machine: put this line "
		       "in %s\n%s\n",
		       json_string_value(json_object_get(rep, "cron_file")),
		       json_string_value(json_object_get(rep, "cron_line")));
		return;
	}
	if (!strcmp(mech, "task_scheduler")) {
		printf("Task Scheduler task '%s' runs "
		       "'sysvault " SV_SCHEDULE_ARGS "' as SYSTEM;\n"
		       "a run missed while the server was off starts when it "
		       "is back\n",
		       json_string_value(json_object_get(rep, "task")));
		return;
	}
	json_array_foreach(json_object_get(rep, "files"), i, f)
		printf("wrote %s\n", json_string_value(f));
	printf(json_is_true(json_object_get(rep, "enabled"))
		       ? "timer enabled; a run missed while the machine was "
			 "off starts when it is back\n"
		       : "the timer was not enabled (the unit directory is a "
			 "test directory)\n");
}

/* After a failed install: the system's task or timer as it was (the
 * earlier schedule, or none), as far as the system lets us. */
static void restore(const json_t *prev, const sv_schedule_cmd *c)
{
	json_t *ignored = json_object();
	sv_schedule s;

	if (!ignored)
		return;
	if (!prev)
		sv_schedule_uninstall(ignored);
	else if (sv_schedule_from_json(&s, prev) == 0)
		sv_schedule_install(&s, c, sv_agent_state_dir(), ignored);
	json_decref(ignored);
}

/* Registers s with the OS after recording it in config.json; a failure
 * puts the earlier setting back. */
static int install(const sv_schedule *s, json_t *report)
{
	const json_t *cur = sv_agent_config_json("schedule");
	json_t *prev = cur ? json_deep_copy(cur) : NULL;
	sv_schedule_cmd c = {NULL, NULL};
	char *exe = sv_schedule_self_exe(), *dir = explicit_state_dir();
	int rc = exe ? 0 : SV_EIO;

	c.exe = exe;
	c.state_dir = dir;
	if (rc == 0 && dir && !sv_path_is_absolute(dir))
		rc = sv_error_set(
			SV_EUSAGE,
			"the state directory '%s' is relative: give it as an "
			"absolute path (the scheduled run starts in another "
			"folder)",
			dir);
	if (rc == 0)
		rc = sv_agent_config_set("schedule", sv_schedule_to_json(s));
	if (rc == 0 && (rc = sv_schedule_install(s, &c, sv_agent_state_dir(),
						 report)) < 0) {
		char *why = sv_strdup(sv_error_msg());

		restore(prev, &c);
		sv_agent_config_set("schedule", prev);
		prev = NULL;
		sv_error_set(rc, "%s", why ? why : "");
		free(why);
	}
	json_decref(prev);
	free(exe);
	free(dir);
	return rc;
}

/* The retention options given with the schedule, merged over the saved
 * policy and checked before anything is registered; *given 0 when there
 * were none (the saved policy, if any, stays as it is). */
static int retention_merged(sv_retention *out, const sv_retention *given)
{
	int found = 0, rc;

	sv_retention_init(out);
	if (!given->set)
		return 0;
	if ((rc = sv_retention_load(out, &found)) < 0)
		return rc;
	sv_retention_merge(out, given);
	return sv_retention_validate(out);
}

int cmd_schedule_set(int argc, char **argv)
{
	static const struct option own[] = {
		{"daily", required_argument, NULL, 'd'},
		{"days", required_argument, NULL, 'D'},
		{NULL, 0, NULL, 0}};
	/* The retention options of `vault prune`: the policy is stored beside
	 * the schedule, and each scheduled backup applies it. */
	struct option lo[32];
	const sv_cmd_def *cmd = sv_cmd_find("schedule set");
	sv_schedule s = {-1, -1, SV_SCHEDULE_EVERY_DAY};
	sv_retention given, policy;
	json_t *report = NULL, *sched = NULL;
	int c, r, rc;

	sv_retention_init(&given);
	if (sv_retention_longopts(lo, sizeof(lo) / sizeof(lo[0]), own) < 0)
		return sv_cmd_fail();
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if ((r = sv_retention_option(&given, c, optarg)) < 0)
			return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
		if (r > 0)
			continue;
		switch (c) {
		case 'd':
			if (sv_schedule_parse_time(&s, optarg) < 0)
				return sv_cmd_usage_error(cmd, "%s",
							  sv_error_msg());
			break;
		case 'D':
			if (sv_schedule_parse_days(&s.days, optarg) < 0)
				return sv_cmd_usage_error(cmd, "%s",
							  sv_error_msg());
			break;
		default:
			return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (s.hour < 0)
		return sv_cmd_usage_error(
			cmd, "--daily HH:MM is required (e.g. --daily 21:00)");
	if ((rc = retention_merged(&policy, &given)) == SV_EUSAGE)
		return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
	if (rc < 0)
		return sv_cmd_fail();
	if (!(report = json_object()) || !(sched = sv_schedule_to_json(&s)))
		rc = SV_ENOMEM;
	else
		rc = install(&s, report);
	/* Saved once the task exists: a failed registration changes nothing. */
	if (rc == 0 && given.set) {
		rc = sv_retention_save(&policy);
		if (rc == 0)
			rc = sv_json_set(report, "retention",
					 sv_retention_to_json(&policy));
	}
	if (rc < 0) {
		json_decref(report);
		json_decref(sched);
		return sv_cmd_fail();
	}
	json_object_set_new(report, "schedule", sched);
	if (g_agent.json)
		return sv_agent_print_json(report);
	print_installed(sched, report);
	json_decref(report);
	return SV_EXIT_OK;
}

static void print_state(const json_t *sched, const json_t *sys)
{
	const char *mech = json_string_value(json_object_get(sys, "mechanism"));
	int installed = json_is_true(json_object_get(sys, "installed"));
	const char *state =
		json_string_value(json_object_get(sys, "timer_state"));

	if (!sched) {
		printf("no schedule: set one with 'sysvault schedule set "
		       "--daily HH:MM'\n");
	} else {
		printf("schedule: ");
		print_days(sched);
		printf(" at %s (local time)\n",
		       json_string_value(json_object_get(sched, "time")));
	}
	if (!strcmp(mech, "task_scheduler"))
		printf("Task Scheduler task '%s': %s\n",
		       json_string_value(json_object_get(sys, "task")),
		       installed ? "registered" : "not registered");
	else if (!strcmp(mech, "systemd"))
		printf("systemd timer %s: %s%s%s\n",
		       json_string_value(json_object_get(sys, "timer")),
		       installed ? "installed" : "not installed",
		       state ? ", " : "", state ? state : "");
	else
		printf("cron file %s: %s\n",
		       json_string_value(json_object_get(sys, "cron_file")),
		       installed ? "present" : "absent");
}

int cmd_schedule_show(int argc, char **argv)
{
	static const struct option lo[] = {{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("schedule show");
	const json_t *sched;
	json_t *sys, *out;
	sv_schedule s;
	int missing, rc;

	if (sv_getopt(argc, argv, lo, cmd) != -1)
		return SV_EXIT_USAGE;
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	sched = sv_agent_config_json("schedule");
	sys = json_object();
	rc = sys ? 0 : SV_ENOMEM;
	if (rc == 0 && sched)
		rc = sv_schedule_from_json(&s, sched);
	if (rc == 0)
		rc = sv_schedule_query(sys);
	if (rc < 0) {
		json_decref(sys);
		return sv_cmd_fail();
	}
	/* Asked for but not registered (removed by hand, another state
	 * directory's task): a warning that says how to repair it. */
	missing = sched && !json_is_true(json_object_get(sys, "installed")) &&
		  strcmp(json_string_value(json_object_get(sys, "mechanism")),
			 "cron");
	if (missing)
		fprintf(stderr, "sysvault: warning: the schedule is set in "
				"config.json but the "
				"system has no task for it: run 'sysvault "
				"schedule set' again\n");
	if (g_agent.json) {
		out = json_pack("{s:O?,s:o}", "schedule", sched, "system", sys);
		rc = sv_agent_print_json(out);
		return rc == SV_EXIT_OK && missing ? SV_EXIT_WARNINGS : rc;
	}
	print_state(sched, sys);
	json_decref(sys);
	return missing ? SV_EXIT_WARNINGS : SV_EXIT_OK;
}

int cmd_schedule_remove(int argc, char **argv)
{
	static const struct option lo[] = {{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("schedule remove");
	json_t *sys;
	int had, rc;

	if (sv_getopt(argc, argv, lo, cmd) != -1)
		return SV_EXIT_USAGE;
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	had = sv_agent_config_json("schedule") != NULL;
	sys = json_object();
	rc = sys ? sv_schedule_uninstall(sys) : SV_ENOMEM;
	if (rc == 0 && had)
		rc = sv_agent_config_set("schedule", NULL);
	if (rc < 0) {
		json_decref(sys);
		return sv_cmd_fail();
	}
	if (g_agent.json)
		return sv_agent_print_json(
			json_pack("{s:b,s:o}", "removed", had, "system", sys));
	if (!strcmp(json_string_value(json_object_get(sys, "mechanism")),
		    "cron"))
		printf("systemd is not running here: delete the sysvault line "
		       "from %s%s\n",
		       json_string_value(json_object_get(sys, "cron_file")),
		       json_is_true(json_object_get(sys, "cron_file_exists"))
			       ? ""
			       : " (the file does not exist)");
	printf(had ? "schedule removed\n" : "there was no schedule\n");
	json_decref(sys);
	return SV_EXIT_OK;
}
