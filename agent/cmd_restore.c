/*
 * cmd_restore.c - sysvault restore --point <id>|latest --to <dir>
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_env.h"

#define MAX_LISTED 1000   /* files named in a cancelled restore's job */

static int interrupted(void *ud)
{
	(void)ud;
	return sv_env_interrupted();
}

/* After a cancel: the files restored completely are the first r->files of
 * the point, in its order (restore writes one file at a time and renames
 * it into place only when it is whole and verified). */
static void record_restored(sv_agent_job *job, vault *v, const char *id,
			    const vault_restore_result *r)
{
	json_t *point = NULL, *files, *names = json_array();
	size_t i;

	sv_json_set(job->details, "files_restored_count", json_integer((json_int_t)r->files));
	if (vault_point_load(v, id, &point) < 0 || sv_json_arr(point, "files", &files) < 0) {
		json_decref(names);
		json_decref(point);
		return;
	}
	for (i = 0; names && i < r->files && i < json_array_size(files) && i < MAX_LISTED; i++)
		json_array_append(names, json_object_get(json_array_get(files, i), "path"));
	sv_json_set(job->details, "files_restored", names);
	if (r->files > MAX_LISTED)
		sv_json_set(job->details, "files_restored_truncated", json_true());
	json_decref(point);
}

static json_t *job_details(const char *spec, const char *to, int apply)
{
	return json_pack("{s:s,s:s,s:b}", "point", spec, "to", to, "apply", apply);
}

static int count_entry(void *ud, const sv_dirent *e)
{
	(void)e;
	(*(int *)ud)++;
	return 1;   /* one is enough */
}

/* 1 when dir does not exist or has no entries. */
static int dir_is_empty(const char *dir)
{
	int n = 0, rc = sv_fs_list_dir(dir, count_entry, &n);

	return rc == SV_ENOTFOUND || (rc >= 0 && n == 0);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "point", required_argument, NULL, 'P' },
		{ "to", required_argument, NULL, 't' },
		{ "overwrite", no_argument, NULL, 'o' },
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "machine", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'T' },
		{ "apply", no_argument, NULL, 'A' },
		{ "authsysvol", no_argument, NULL, 'Y' },
		{ "reboot", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("restore");
	const char *url = NULL, *pass_file = NULL, *spec = NULL, *machine = NULL;
	vault_restore_opts o;
	vault_restore_result r;
	vault *v = NULL;
	sv_agent_job job;
	int64_t job_id;
	char id[65] = "", size[32];
	uint64_t threads = 0, retries;
	int c, rc, apply = 0, authsysvol = 0, reboot = 0;

	memset(&o, 0, sizeof(o));
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		switch (c) {
		case 'P': spec = optarg; break;
		case 't': o.target_dir = optarg; break;
		case 'o': o.overwrite = 1; break;
		case 'v': url = optarg; break;
		case 'p': pass_file = optarg; break;
		case 'm': machine = optarg; break;
		case 'A': apply = 1; break;
		case 'Y': authsysvol = 1; break;
		case 'R': reboot = 1; break;
		case 'T':
			if (sv_parse_u64(&threads, optarg) < 0 || threads < 1 || threads > 64)
				return sv_cmd_usage_error(cmd, "--threads takes a number from 1 to 64");
			break;
		default: return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!spec || !o.target_dir)
		return sv_cmd_usage_error(cmd, "--point <id>|latest and --to <dir> are required");
	if ((authsysvol || reboot) && !apply)
		return sv_cmd_usage_error(cmd, "--authsysvol and --reboot go with --apply");
	/* wbadmin reads the catalogue and the newest Backup folder of the tree
	 * it is given: leftovers of another restore would mislead it. */
	if (apply && !dir_is_empty(o.target_dir))
		return sv_cmd_usage_error(cmd, "'%s' is not empty: restore into an empty "
					  "directory before --apply", o.target_dir);
	o.threads = (int)threads;
	o.progress = sv_agent_progress;
	o.point_id = id;
	o.cancel = interrupted;
	memset(&r, 0, sizeof(r));
	rc = sv_agent_job_start(&job, "restore", job_details(spec, o.target_dir, apply));
	if (rc < 0)
		return sv_cmd_fail();
	job_id = job.id;
	rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_point_resolve(v, spec, machine, id);
	if (rc == 0) {
		sv_json_set(job.details, "point", json_string(id));
		rc = vault_restore(v, &o, &r);
	}
	sv_agent_progress_done();
	if (rc == SV_ECANCELLED && id[0])
		record_restored(&job, v, id, &r);
	if (rc == 0 && apply)
		rc = sv_agent_apply(v, id, o.target_dir, authsysvol, reboot);
	job.bytes_read = r.bytes;
	sv_json_set(job.details, "files", json_integer((json_int_t)r.files));
	sv_agent_job_vault(&job, v);
	retries = v ? vault_retries(v) : 0;
	rc = sv_agent_job_end(&job, rc);
	vault_close(v);
	if (rc < 0)
		return sv_cmd_fail();
	if (g_agent.json)
		return sv_agent_print_json(json_pack("{s:s,s:s,s:b,s:I,s:I,s:f,s:I,s:I}", "point", id,
						     "to", o.target_dir, "applied", apply,
						     "files", (json_int_t)r.files,
						     "bytes", (json_int_t)r.bytes,
						     "seconds", (double)r.elapsed_ms / 1000.0,
						     "job", (json_int_t)job_id,
						     "retries", (json_int_t)retries));
	sv_format_size(size, sizeof(size), r.bytes);
	printf("restored point %s to %s: %llu files, %s, every file verified (job %lld, %llu retries)\n",
	       id, o.target_dir, (unsigned long long)r.files, size, (long long)job_id,
	       (unsigned long long)retries);
	if (apply)
		printf("wbadmin recovered the system state from it%s\n",
		       reboot ? "; the server restarts to finish" :
				"; restart the server to finish");
	return SV_EXIT_OK;
}
