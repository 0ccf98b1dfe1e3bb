/*
 * cmd_throttle.c - sysvault throttle set|show|off: the bandwidth schedule
 * of cloud vaults, kept under "throttle" in <state>/config.json and applied
 * by sv_agent_open_vault (docs/transfer.md).
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "sv_time.h"
#include "throttle.h"

/* The schedule in config.json: 0 with t->enabled 0 when none is set. */
static int load(vault_throttle *t)
{
	const json_t *j = sv_agent_config_json("throttle");

	memset(t, 0, sizeof(*t));
	return j ? vault_throttle_from_json(t, j) : 0;
}

typedef struct set_args {
	const char *days, *hours, *work, *off;
} set_args;

static int parse_set(set_args *a, const sv_cmd_def *cmd, int argc, char **argv)
{
	static const struct option lo[] = {
		{"work-days", required_argument, NULL, 'd'},
		{"work-hours", required_argument, NULL, 'h'},
		{"work-rate", required_argument, NULL, 'w'},
		{"off-rate", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0}};
	int c;

	memset(a, 0, sizeof(*a));
	a->days = "Mon-Fri";
	a->off = "unlimited";
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == 'd')
			a->days = optarg;
		else if (c == 'h')
			a->hours = optarg;
		else if (c == 'w')
			a->work = optarg;
		else if (c == 'o')
			a->off = optarg;
		else
			return SV_EXIT_USAGE;
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (!a->hours || !a->work)
		return sv_cmd_usage_error(
			cmd, "--work-hours and --work-rate are required");
	return 0;
}

int cmd_throttle_set(int argc, char **argv)
{
	const sv_cmd_def *cmd = sv_cmd_find("throttle set");
	vault_throttle t = {0};
	set_args a;
	json_t *j = NULL;
	int rc = parse_set(&a, cmd, argc, argv);

	if (rc != 0)
		return rc;
	t.enabled = 1;
	if (vault_throttle_parse_days(&t.days, "--work-days", a.days) < 0 ||
	    vault_throttle_parse_hours(&t.start_min, &t.end_min, "--work-hours",
				       a.hours) < 0 ||
	    vault_throttle_parse_rate(&t.work_bps, "--work-rate", a.work) < 0 ||
	    vault_throttle_parse_rate(&t.off_bps, "--off-rate", a.off) < 0)
		return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
	if (vault_throttle_to_json(&j, &t) < 0 ||
	    sv_agent_config_set("throttle", j) < 0)
		return sv_cmd_fail();
	return cmd_throttle_show(1, argv);
}

static json_t *show_json(const vault_throttle *t, int64_t local)
{
	char work[24], off[24];
	json_t *j = NULL;

	if (!t->enabled)
		return json_pack("{s:b}", "enabled", 0);
	if (vault_throttle_to_json(&j, t) < 0)
		return NULL;
	vault_throttle_format_rate(work, sizeof(work), t->work_bps);
	vault_throttle_format_rate(off, sizeof(off), t->off_bps);
	if (sv_json_set(j, "enabled", json_true()) ||
	    sv_json_set(j, "work_rate", json_string(work)) ||
	    sv_json_set(j, "off_rate", json_string(off)) ||
	    sv_json_set(j, "in_work_hours",
			json_boolean(vault_throttle_in_work(t, local))) ||
	    sv_json_set(j, "rate_now_bps",
			json_integer((json_int_t)vault_throttle_rate_at(
				t, local)))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static void show_text(const vault_throttle *t, int64_t local)
{
	char days[32], hours[12], work[24], off[24];

	if (!t->enabled) {
		printf("throttle: off (cloud transfers use the full "
		       "bandwidth)\n");
		return;
	}
	vault_throttle_format_days(days, sizeof(days), t->days);
	vault_throttle_format_hours(hours, sizeof(hours), t->start_min,
				    t->end_min);
	vault_throttle_format_rate(work, sizeof(work), t->work_bps);
	vault_throttle_format_rate(off, sizeof(off), t->off_bps);
	printf("throttle: on\n");
	printf("  work hours  %s %s (local time): %s\n", days, hours, work);
	printf("  other times %s\n", off);
	printf("  now         %s\n",
	       vault_throttle_in_work(t, local) ? "work hours" : "other times");
}

int cmd_throttle_show(int argc, char **argv)
{
	static const struct option lo[] = {{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("throttle show");
	vault_throttle t;
	int64_t now = sv_time_now(), local = now + sv_time_local_offset(now);

	if (argc > 1 && sv_getopt(argc, argv, lo, cmd) != -1)
		return SV_EXIT_USAGE;
	if (argc > 1 && optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (load(&t) < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(show_json(&t, local));
	show_text(&t, local);
	return SV_EXIT_OK;
}

int cmd_throttle_off(int argc, char **argv)
{
	const sv_cmd_def *cmd = sv_cmd_find("throttle off");

	if (argc > 1)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[1]);
	if (sv_agent_config_set("throttle", NULL) < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:b}", "enabled", 0));
	printf("throttle: off (cloud transfers use the full bandwidth)\n");
	return SV_EXIT_OK;
}
