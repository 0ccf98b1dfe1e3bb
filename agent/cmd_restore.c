/*
 * cmd_restore.c - sysvault restore --point <id>|latest --to <dir>, on a
 * registered machine or from a recovery shell with --credentials.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_env.h"
#include "sv_log.h"
#include "sv_platform.h"
#include "registration.h"

#define MAX_LISTED 1000   /* files named in a cancelled restore's job */

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

static int same_hardware(const json_t *hw, const sv_smbios_info *here)
{
	const char *uuid = json_string_value(json_object_get(hw, "uuid"));
	const char *mf = json_string_value(json_object_get(hw, "manufacturer"));
	const char *model = json_string_value(json_object_get(hw, "product"));

	return uuid && mf && model && sv_ascii_caseeq(uuid, here->uuid) &&
	       !strcmp(mf, here->manufacturer) && !strcmp(model, here->product);
}

/* The point's hardware (SMBIOS UUID, manufacturer, model) against this
 * machine's: Microsoft does not support restoring system state to other
 * hardware, so a mismatch needs the administrator's word. */
static int hardware_guard(vault *v, const char *id, int allow)
{
	json_t *point = NULL, *hw;
	sv_smbios_info here;
	char why[256];
	int rc = vault_point_load(v, id, &point);

	hw = rc == 0 ? json_object_get(point, "hardware") : NULL;
	if (rc < 0 || !json_string_value(json_object_get(hw, "uuid"))) {
		if (rc == 0)
			sv_log_warn("point %.16s records no hardware identity: not compared", id);
		json_decref(point);
		return rc;
	}
	if ((rc = sv_agent_hardware(&here)) < 0) {
		sv_strlcpy(why, sv_error_msg(), sizeof(why));
		rc = allow ? 0 : sv_error_set(SV_EINVAL, "cannot read this machine's hardware "
					      "identity to compare it with the point's (%s): pass "
					      "--allow-other-hardware if this is the same machine", why);
	} else if (!same_hardware(hw, &here) && !allow) {
		rc = sv_error_set(SV_EINVAL, "point %.16s was taken on other hardware (%s %s, "
				  "SMBIOS UUID %s) than this machine (%s %s, %s): Microsoft does "
				  "not recommend restoring system state to other hardware; pass "
				  "--allow-other-hardware to restore anyway", id,
				  json_string_value(json_object_get(hw, "manufacturer")),
				  json_string_value(json_object_get(hw, "product")),
				  json_string_value(json_object_get(hw, "uuid")),
				  here.manufacturer, here.product, here.uuid);
	} else if (!same_hardware(hw, &here)) {
		sv_log_warn("restoring point %.16s of other hardware (%s) at the "
			    "administrator's request", id,
			    json_string_value(json_object_get(hw, "uuid")));
	}
	json_decref(point);
	return rc;
}

/* A recovery shell restores onto a data volume: never onto the volume the
 * running system lives on (WinRE's X:, the system volume in DSRM).
 * SYSVAULT_FAKE_SYSTEM_ROOT names another directory as the system's (a
 * test hook). */
static int volume_guard(const char *to)
{
	char root[1024], *fake = sv_env_get("SYSVAULT_FAKE_SYSTEM_ROOT");
	int same = 0, rc = 0;

	if (fake && fake[0])
		sv_strlcpy(root, fake, sizeof(root));
	else
		rc = sv_system_root(root, sizeof(root));
	free(fake);
	if (rc == 0)
		rc = sv_volume_same(to, root, &same);
	if (rc == 0 && same)
		rc = sv_error_set(SV_EINVAL, "'%s' is on the system volume (the one holding "
				  "'%s'): restore to another volume, such as a data disk or a "
				  "USB disk", to, root);
	return rc;
}

/* The registered machine's own points by default; all machines' from a
 * recovery shell (pick one with --machine). */
static const char *default_machine(json_t **reg, const char *opt, int creds)
{
	if (opt || creds || !sv_agent_registered() || sv_agent_registration_load(reg) < 0)
		return opt;
	return json_string_value(json_object_get(*reg, "machine"));
}

/* The recovery shell's temporary cache goes when the command ends; the
 * command's own error (if any) is the one reported. */
static void remove_temp_state(char *dir, int rc)
{
	char keep[1024];

	if (!dir)
		return;
	sv_strlcpy(keep, sv_error_msg(), sizeof(keep));
	if (sv_fs_remove_tree(dir) < 0)
		sv_log_warn("could not remove the temporary cache '%s': %s", dir,
			    sv_error_msg());
	if (rc < 0)
		sv_error_set(rc, "%s", keep);
	free(dir);
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
		{ "credentials", required_argument, NULL, 'C' },
		{ "allow-other-hardware", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("restore");
	const char *url = NULL, *pass_file = NULL, *spec = NULL, *machine = NULL;
	const char *creds = NULL;
	char *tmp_state = NULL;
	json_t *reg = NULL;
	int other_hw = 0;
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
		case 'C': creds = optarg; break;
		case 'H': other_hw = 1; break;
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
	if (creds && url)
		return sv_cmd_usage_error(cmd, "--credentials names the vault: leave out --vault");
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
	o.cancel = sv_agent_cancelled;
	memset(&r, 0, sizeof(r));
	rc = sv_agent_job_start(&job, "restore", job_details(spec, o.target_dir, apply));
	if (rc < 0)
		return sv_cmd_fail();
	job_id = job.id;
	machine = default_machine(&reg, machine, creds != NULL);
	rc = creds ? volume_guard(o.target_dir) : 0;
	if (rc == 0 && creds)
		rc = sv_agent_open_credentials(&v, &tmp_state, creds, pass_file);
	else if (rc == 0)
		rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_point_resolve(v, spec, machine, id);
	if (rc == 0 && (apply || creds))
		rc = hardware_guard(v, id, other_hw);
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
	json_decref(reg);
	remove_temp_state(tmp_state, rc);
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
