/*
 * cmd_backup.c - sysvault backup --source-dir <dir>
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"
#include "jobs.h"
#include "retention.h"
#include "diag.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_platform.h"
#include "registration.h"

/* What the job records before the work: the mode and the checks skipped. */
static json_t *job_details(const vault_backup_opts *o, const char *const *skips)
{
	json_t *d = json_object(), *arr = json_array();
	int i;

	for (i = 0; arr && skips[i]; i++)
		json_array_append_new(arr, json_string(skips[i]));
	if (!d || sv_json_set(d, "mode", json_string(o->source_dir ? "source_dir" :
						       "system_state")) ||
	    (o->source_dir && sv_json_set(d, "source_dir", json_string(o->source_dir))) ||
	    sv_json_set(d, "machine", json_string(o->machine)) ||
	    sv_json_set(d, "trigger", json_incref(json_object_get(o->meta, "trigger"))) ||
	    sv_json_set(d, "skipped_checks", arr)) {
		json_decref(d);
		return NULL;
	}
	return d;
}

/* What the job records after a successful backup. */
static void job_result(sv_agent_job *job, const vault_backup_result *r,
		       const char *version)
{
	job->bytes_read = r->bytes_read;
	job->bytes_stored = r->bytes_stored;
	sv_json_set(job->details, "point", json_string(r->point_id));
	sv_json_set(job->details, "files", json_integer((json_int_t)r->files));
	if (version[0])
		sv_json_set(job->details, "wbadmin_version", json_string(version));
}

static void print_summary(const vault_backup_result *r, int64_t job,
			  uint64_t retries)
{
	char read[32], added[32], stored[32];
	double secs = (double)r->elapsed_ms / 1000.0;
	double dedup = r->bytes_read ? 100.0 * (1.0 - (double)r->bytes_new /
						(double)r->bytes_read) : 0;
	double comp = r->bytes_new ? 100.0 * (1.0 - (double)r->bytes_stored /
					      (double)r->bytes_new) : 0;

	sv_format_size(read, sizeof(read), r->bytes_read);
	sv_format_size(added, sizeof(added), r->bytes_new);
	sv_format_size(stored, sizeof(stored), r->bytes_stored);
	printf("recovery point %s (job %lld)\n", r->point_id, (long long)job);
	printf("  files            %llu\n", (unsigned long long)r->files);
	printf("  bytes read       %s\n", read);
	printf("  new data         %s (dedup %.1f%%)\n", added, dedup);
	printf("  stored           %s (compression %.1f%%)\n", stored, comp);
	printf("  duration         %.1f s (%.1f MiB/s)\n", secs,
	       secs > 0 ? (double)r->bytes_read / 1048576.0 / secs : 0);
	printf("  retries          %llu\n", (unsigned long long)retries);
}

static json_t *summary_json(const vault_backup_result *r)
{
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
			 "point", r->point_id, "files", (json_int_t)r->files,
			 "bytes_read", (json_int_t)r->bytes_read,
			 "bytes_zero", (json_int_t)r->bytes_zero,
			 "bytes_new", (json_int_t)r->bytes_new,
			 "bytes_stored", (json_int_t)r->bytes_stored,
			 "chunks", (json_int_t)r->chunks,
			 "chunks_new", (json_int_t)r->chunks_new,
			 "packs_reused", (json_int_t)r->packs_reused,
			 "seconds", (double)r->elapsed_ms / 1000.0);
}

int cmd_backup(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "source-dir", required_argument, NULL, 's' },
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "machine", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 't' },
		{ "scratch", required_argument, NULL, 'S' },
		{ "wbadmin-timeout", required_argument, NULL, 'W' },
		{ "skip-check", required_argument, NULL, 'K' },
		{ "scheduled", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("backup");
	const char *url = NULL, *pass_file = NULL;
	char machine[256] = "", fqdn[256] = "";
	vault_backup_opts o;
	vault_backup_result r;
	vault *v = NULL;
	sv_wsb_args wa = { NULL, 0, NULL, NULL, NULL };
	sv_agent_job job;
	int64_t job_id;
	int warned;
	uint64_t retries;
	const char *skips[16];
	int nskips = 0;
	char version[WSB_VERSION_LEN + 1] = "";
	uint64_t threads = 0;
	int scheduled = 0, c, rc;
	char skip[256];

	memset(&o, 0, sizeof(o));
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		switch (c) {
		case 's': o.source_dir = optarg; break;
		case 'v': url = optarg; break;
		case 'p': pass_file = optarg; break;
		case 'm': sv_strlcpy(machine, optarg, sizeof(machine)); break;
		case 't':
			if (sv_parse_u64(&threads, optarg) < 0 || threads < 1 || threads > 64)
				return sv_cmd_usage_error(cmd, "--threads takes a number from 1 to 64");
			break;
		case 'S': wa.scratch = optarg; break;
		case 'D': scheduled = 1; break;
		case 'K':
			if (nskips == 15 || !diag_check_exists(optarg))
				return sv_cmd_usage_error(cmd, "--skip-check takes a check id from 'sysvault preflight' (PF001..PF015), at most 15 times");
			skips[nskips++] = optarg;
			break;
		case 'W':
			if (sv_agent_parse_duration(&wa.timeout_ms, optarg) < 0)
				return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
			break;
		default: return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	{
		char name[256];

		sv_agent_machine_names(name, fqdn);
		if (!machine[0])
			sv_strlcpy(machine, name, sizeof(machine));
	}
	skips[nskips] = NULL;
	wa.skip_checks = skips;
	o.machine = machine;
	o.fqdn = fqdn;
	o.threads = (int)threads;
	o.progress = sv_agent_progress;
	o.cancel = sv_agent_cancelled;
	o.meta = json_pack("{s:s}", "trigger", scheduled ? "scheduled" : "adhoc");
	/* A skipped scheduled run leaves no job: nothing was attempted. */
	rc = scheduled ? sv_agent_open_vault(&v, url, pass_file) : 0;
	if (rc == 0 && scheduled &&
	    (rc = sv_agent_scheduled_done(v, machine, skip, sizeof(skip))) > 0) {
		vault_close(v);
		json_decref(o.meta);
		if (g_agent.json)
			return sv_agent_print_json(json_pack("{s:b,s:s}", "skipped", 1,
							     "message", skip));
		printf("%s\n", skip);
		return SV_EXIT_OK;
	}
	if (sv_agent_job_start(&job, "backup", job_details(&o, skips)) < 0) {
		vault_close(v);
		json_decref(o.meta);
		return sv_cmd_fail();
	}
	job_id = job.id;
	/* Every backup, scheduled or not, stops on a renamed machine. */
	if (rc == 0)
		rc = sv_agent_identity_check();
	if (rc == 0 && !v)
		rc = sv_agent_open_vault(&v, url, pass_file);
	/* A tree of files records the hardware it came from, as a system-state
	 * point does. */
	if (rc == 0 && o.source_dir &&
	    (!o.meta || json_object_set_new(o.meta, "hardware",
					    sv_agent_hardware_json()) < 0))
		rc = SV_ENOMEM;
	if (rc == 0 && o.source_dir)
		rc = vault_backup(v, &o, &r);
	else if (rc == 0) {
		wa.vault = v;
		wa.job = &job;
		rc = sv_agent_backup_system_state(v, &wa, &o, &r, version);
	}
	sv_agent_progress_done();
	if (rc == 0)
		job_result(&job, &r, version);
	if (rc == 0 && scheduled)
		sv_agent_prune_after_backup(v, machine, &job);
	sv_agent_job_vault(&job, v);
	retries = v ? vault_retries(v) : 0;
	warned = job.warning != NULL;
	rc = sv_agent_job_end(&job, rc);
	vault_close(v);
	json_decref(o.meta);
	if (rc < 0)
		return sv_cmd_fail();
	if (g_agent.json) {
		json_t *j = summary_json(&r);

		if (j && version[0])
			json_object_set_new(j, "wbadmin_version", json_string(version));
		if (j)
			json_object_set_new(j, "job", json_integer(job_id));
		if (j)
			json_object_set_new(j, "retries", json_integer((json_int_t)retries));
		rc = sv_agent_print_json(j);
		return rc == SV_EXIT_OK && warned ? SV_EXIT_WARNINGS : rc;
	}
	if (version[0])
		printf("system state backed up by wbadmin as version %s\n", version);
	print_summary(&r, job_id, retries);
	return warned ? SV_EXIT_WARNINGS : SV_EXIT_OK;
}
