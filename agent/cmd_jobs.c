/*
 * cmd_jobs.c - sysvault jobs [--limit N], jobs show <id>, jobs cancel <id>
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_fs.h"

static const char *str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "-";
}

static uint64_t num(const json_t *j, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(j, key));
}

static void print_row(const json_t *j)
{
	char rd[32], st[32];

	sv_format_size(rd, sizeof(rd), num(j, "bytes_read"));
	sv_format_size(st, sizeof(st), num(j, "bytes_stored"));
	printf("%6llu  %-8s %-24s %-21s %10s %10s  %s\n", (unsigned long long)num(j, "id"),
	       str(j, "kind"), str(j, "state"), str(j, "started"), rd, st,
	       str(j, "error_code"));
}

/* Parses the one positional <id>. */
static int job_id(const sv_cmd_def *cmd, int argc, char **argv, int64_t *id)
{
	static const struct option lo[] = { { NULL, 0, NULL, 0 } };
	uint64_t v;

	if (sv_getopt(argc, argv, lo, cmd) != -1)
		return SV_EXIT_USAGE;   /* no options: the usage error is printed */
	if (optind + 1 != argc)
		return sv_cmd_usage_error(cmd, "one job id is required");
	if (sv_parse_u64(&v, argv[optind]) < 0 || v < 1 || v > INT64_MAX)
		return sv_cmd_usage_error(cmd, "'%s' is not a job id", argv[optind]);
	*id = (int64_t)v;
	return 0;
}

/* "log": the job's log file, when it has one (jobs of older versions and
 * jobs whose log could not be opened do not). */
static void add_log(json_t *j, int64_t id)
{
	char *path = sv_agent_job_log_path(id);

	if (path && sv_fs_stat(path, NULL, NULL) == 0)
		sv_json_set(j, "log", json_string(path));
	free(path);
}

int cmd_jobs(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("jobs");
	sv_jobs *s = NULL;
	json_t *list = NULL, *j;
	uint64_t limit = 20;
	size_t i;
	int c, rc;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c != 'l' || sv_parse_u64(&limit, optarg) < 0 || limit > 1000000)
			return c == '?' ? SV_EXIT_USAGE :
			       sv_cmd_usage_error(cmd, "--limit takes a number (0: all)");
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	rc = sv_jobs_open(&s, sv_agent_state_dir());
	if (rc == 0)
		rc = sv_jobs_list(s, (unsigned)limit, &list);
	sv_jobs_close(s);
	if (rc < 0)
		return sv_cmd_fail();
	json_array_foreach(list, i, j)
		add_log(j, (int64_t)num(j, "id"));
	if (g_agent.json)
		return sv_agent_print_json(list);
	printf("%6s  %-8s %-24s %-21s %10s %10s  %s\n", "JOB", "KIND", "STATE", "STARTED",
	       "READ", "STORED", "CODE");
	json_array_foreach(list, i, j)
		print_row(j);
	json_decref(list);
	return SV_EXIT_OK;
}

static void print_job(const json_t *j)
{
	char *details = sv_json_dump(json_object_get(j, "details"), 1);

	printf("job %llu: %s, %s\n", (unsigned long long)num(j, "id"), str(j, "kind"),
	       str(j, "state"));
	printf("  started          %s (pid %llu)\n", str(j, "started"),
	       (unsigned long long)num(j, "pid"));
	printf("  ended            %s\n", str(j, "ended"));
	printf("  last heartbeat   %s\n", str(j, "heartbeat"));
	printf("  bytes read       %llu\n", (unsigned long long)num(j, "bytes_read"));
	printf("  bytes stored     %llu\n", (unsigned long long)num(j, "bytes_stored"));
	if (json_string_value(json_object_get(j, "error_code")))
		printf("  error code       %s\n", str(j, "error_code"));
	if (json_string_value(json_object_get(j, "message")))
		printf("  message          %s\n", str(j, "message"));
	if (json_is_true(json_object_get(j, "cancel_requested")))
		printf("  cancel requested\n");
	if (json_string_value(json_object_get(j, "log")))
		printf("  log              %s\n", str(j, "log"));
	printf("  details          %s\n", details ? details : "{}");
	free(details);
}

int cmd_jobs_show(int argc, char **argv)
{
	const sv_cmd_def *cmd = sv_cmd_find("jobs show");
	sv_jobs *s = NULL;
	json_t *j = NULL;
	int64_t id;
	int rc = job_id(cmd, argc, argv, &id);

	if (rc)
		return rc;
	rc = sv_jobs_open(&s, sv_agent_state_dir());
	if (rc == 0)
		rc = sv_jobs_get(s, id, &j);
	sv_jobs_close(s);
	if (rc < 0)
		return sv_cmd_fail();
	add_log(j, id);
	if (g_agent.json)
		return sv_agent_print_json(j);
	print_job(j);
	json_decref(j);
	return SV_EXIT_OK;
}

int cmd_jobs_cancel(int argc, char **argv)
{
	const sv_cmd_def *cmd = sv_cmd_find("jobs cancel");
	sv_jobs *s = NULL;
	int64_t id;
	int rc = job_id(cmd, argc, argv, &id);

	if (rc)
		return rc;
	rc = sv_jobs_open(&s, sv_agent_state_dir());
	if (rc == 0)
		rc = sv_jobs_cancel(s, id);
	sv_jobs_close(s);
	if (rc < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:I,s:b}", "job", (json_int_t)id,
						     "cancel_requested", 1));
	printf("cancel requested for job %lld: the process running it notices within "
	       "2 s and stops\n", (long long)id);
	return SV_EXIT_OK;
}
