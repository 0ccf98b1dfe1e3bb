/*
 * cmd_vault_prune.c - sysvault vault prune [retention options] [--dry-run]
 *                     [--machine <name>] [--save]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jobs.h"
#include "retention.h"
#include "sv_platform.h"

/* The saved policy with the command line's fields over it. */
static int policy(sv_retention *pol, const sv_retention *flags,
		  const sv_cmd_def *cmd)
{
	int found = 0;

	if (sv_retention_load(pol, &found) < 0)
		return sv_cmd_fail();
	if (!found && !flags->set)
		return sv_cmd_usage_error(
			cmd,
			"no retention policy: give --retain-daily <days> (and "
			"the other --retain options), or save one with --save");
	sv_retention_merge(pol, flags);
	if (sv_retention_validate(pol) < 0)
		return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
	return SV_EXIT_OK;
}

static json_t *job_details(const sv_retention *pol, const char *machine,
			   int dry_run)
{
	return json_pack("{s:o,s:s?,s:b}", "retention",
			 sv_retention_to_json(pol), "machine", machine,
			 "dry_run", dry_run);
}

static int run(const sv_retention *pol, const char *url, const char *pass_file,
	       const char *machine, int dry_run)
{
	char self[256];
	sv_prune_report rep;
	sv_agent_job job;
	vault *v = NULL;
	json_t *out = NULL;
	int rc;

	memset(&rep, 0, sizeof(rep));
	if (sv_machine_name(self, sizeof(self)) < 0)
		sv_strlcpy(self, "unknown", sizeof(self));
	if (sv_agent_job_start(&job, "prune",
			       job_details(pol, machine, dry_run)) < 0)
		return sv_cmd_fail();
	rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = sv_agent_prune(v, pol, machine, self, dry_run, &rep);
	if (rc == 0) {
		job.bytes_stored = rep.r.bytes_freed;
		sv_json_set(job.details, "result",
			    sv_prune_report_json(&rep, dry_run));
		if (rep.r.data_deferred)
			sv_agent_job_warn(&job,
					  "data left for the next prune: a "
					  "backup from %s is running",
					  rep.r.deferred_by);
	}
	if (rc == 0 && g_agent.json &&
	    !(out = sv_prune_report_json(&rep, dry_run)))
		rc = SV_ENOMEM;
	if (out)
		json_object_set_new(out, "job", json_integer(job.id));
	rc = sv_agent_job_end(&job, rc);
	vault_close(v);
	if (rc < 0) {
		sv_prune_report_release(&rep);
		json_decref(out);
		return sv_cmd_fail();
	}
	if (out)
		rc = sv_agent_print_json(out);
	else
		sv_prune_report_print(&rep, dry_run);
	if (rc == SV_EXIT_OK && rep.r.data_deferred)
		rc = SV_EXIT_WARNINGS;
	sv_prune_report_release(&rep);
	return rc;
}

int cmd_vault_prune(int argc, char **argv)
{
	static const struct option own[] = {
		{"vault", required_argument, NULL, 'v'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"machine", required_argument, NULL, 'm'},
		{"dry-run", no_argument, NULL, 'n'},
		{"save", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("vault prune");
	const char *url = NULL, *pass_file = NULL, *machine = NULL;
	sv_retention flags, pol;
	struct option lo[16];
	int dry_run = 0, save = 0, c, rc;

	sv_retention_init(&flags);
	if (sv_retention_longopts(lo, 16, own) < 0)
		return sv_cmd_fail();
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if ((rc = sv_retention_option(&flags, c, optarg)) < 0)
			return sv_cmd_usage_error(cmd, "%s", sv_error_msg());
		if (rc > 0)
			continue;
		switch (c) {
		case 'v':
			url = optarg;
			break;
		case 'p':
			pass_file = optarg;
			break;
		case 'm':
			machine = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 's':
			save = 1;
			break;
		default:
			return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (save && !flags.set)
		return sv_cmd_usage_error(
			cmd, "--save needs the retention options to save");
	if ((rc = policy(&pol, &flags, cmd)) != SV_EXIT_OK)
		return rc;
	if (save && sv_retention_save(&pol) < 0)
		return sv_cmd_fail();
	return run(&pol, url, pass_file, machine, dry_run);
}
