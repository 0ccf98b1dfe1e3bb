/*
 * cmd_vault_check.c - sysvault vault check [--read-data[=<percent>]]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jobs.h"
#include "sv_buf.h"

static void on_problem(void *ud, const char *object, const char *problem)
{
	json_t *arr = ud;

	if (g_agent.json)
		json_array_append_new(arr, json_pack("{s:s,s:s}", "object", object,
						     "problem", problem));
	else
		fprintf(stderr, "sysvault: problem: %s %s\n", object, problem);
}

int cmd_vault_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "read-data", optional_argument, NULL, 'r' },
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("vault check");
	const char *url = NULL, *pass_file = NULL;
	vault_check_opts o;
	vault_check_result r;
	json_t *problems = json_array();
	vault *v = NULL;
	sv_agent_job job;
	int64_t job_id;
	uint64_t pct, retries;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			goto usage;
		if (c == 'v')
			url = optarg;
		else if (c == 'p')
			pass_file = optarg;
		else if (!optarg)
			o.read_data_percent = 100;
		else if (sv_parse_u64(&pct, optarg) < 0 || pct < 1 || pct > 100) {
			sv_cmd_usage_error(cmd, "--read-data takes a percentage from 1 to 100");
			goto usage;
		} else
			o.read_data_percent = (unsigned)pct;
	}
	if (optind < argc) {
		sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	o.problem = on_problem;
	o.ud = problems;
	memset(&r, 0, sizeof(r));
	rc = sv_agent_job_start(&job, "check", json_pack("{s:i}", "read_data_percent",
							  (int)o.read_data_percent));
	if (rc < 0) {
		json_decref(problems);
		return sv_cmd_fail();
	}
	job_id = job.id;
	rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_check(v, &o, &r);
	if (rc == 0 || rc == SV_ECORRUPT)
		sv_json_set(job.details, "problems", json_integer((json_int_t)json_array_size(problems)));
	sv_agent_job_vault(&job, v);
	retries = v ? vault_retries(v) : 0;
	rc = sv_agent_job_end(&job, rc);
	vault_close(v);
	if (rc < 0 && rc != SV_ECORRUPT) {
		json_decref(problems);
		return sv_cmd_fail();
	}
	if (g_agent.json) {
		sv_agent_print_json(json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "ok", rc == 0,
					      "job", (json_int_t)job_id,
					      "packs", (json_int_t)r.packs,
					      "packs_read", (json_int_t)r.packs_read,
					      "packs_unindexed", (json_int_t)r.packs_unindexed,
					      "indexes", (json_int_t)r.indexes,
					      "points", (json_int_t)r.points,
					      "retries", (json_int_t)retries,
					      "problems", problems));
	} else {
		json_decref(problems);
		printf("job %lld: %llu packs (%llu read, %llu not yet indexed), %llu index objects, %llu points, %llu retries: %s\n",
		       (long long)job_id,
		       (unsigned long long)r.packs, (unsigned long long)r.packs_read,
		       (unsigned long long)r.packs_unindexed, (unsigned long long)r.indexes,
		       (unsigned long long)r.points, (unsigned long long)retries,
		       rc == 0 ? "no problems" : "PROBLEMS FOUND");
	}
	if (rc < 0)
		return sv_cmd_fail();
	return SV_EXIT_OK;
usage:
	json_decref(problems);
	return SV_EXIT_USAGE;
}
