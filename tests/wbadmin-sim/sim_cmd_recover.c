/*
 * sim_cmd_recover.c - wbadmin start systemstaterecovery -version:<id>
 * [-backupTarget:<t>] [-machine:<name>] [-recoveryTarget:<dir>]
 * [-authsysvol] [-autoReboot] [-quiet], and -showsummary alone.
 *
 * Nothing is recovered: the command checks that the tree under
 * <t>/WindowsImageBackup/<machine> is byte for byte the one the backup of
 * that version wrote (regenerated, streaming), and says so. The texts are
 * plausible, not published ones.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_fs.h"
#include "sv_time.h"

#define LOGDIR "C:\\Windows\\Logs\\WindowsServerBackup\\"

/* Prints a line and keeps it for -showsummary. */
static void keep(const sim_ctx *c, sv_buf *sum, char *line)
{
	sim_line(c, line ? line : "");
	if (line) {
		sv_buf_adds(sum, line);
		sv_buf_addc(sum, '\n');
	}
	free(line);
}

static int show_summary(sim_ctx *c)
{
	char *text, *p, *nl;

	if (c->o.version || c->o.backup_target || c->o.machine ||
	    c->o.recovery_target || c->o.authsysvol || c->o.auto_reboot) {
		sim_say(c, M_SYNTAX, "-showsummary", NULL);
		return SIM_EXIT_USAGE;
	}
	if (!(text = sim_summary_load(c))) {
		sim_say(c, M_REC_NO_SUMMARY, NULL);
		return SIM_EXIT_NOTFOUND;
	}
	for (p = text; *p; p = nl + 1) {
		if (!(nl = strchr(p, '\n')))
			break;
		*nl = '\0';
		sim_line(c, p);
	}
	free(text);
	return SIM_EXIT_OK;
}

static void report_ok(const sim_ctx *c, const sim_version *v, sv_buf *sum)
{
	char date[64], stamp[32];
	size_t i;

	for (i = 0; i < sim_nwriters; i++)
		if (!sim_writers[i].dc_only || v->dc)
			sim_say(c, M_REC_PROGRESS, sim_writers[i].name, "100",
				NULL);
	sim_date_local(c, date, sizeof(date), sim_now());
	keep(c, sum, sim_text(c, M_REC_OK, date, NULL));
	keep(c, sum, sim_text(c, M_REC_LOG_OK, NULL));
	sim_date_log(stamp, sizeof(stamp), sim_now(), '_');
	keep(c, sum, sv_aprintf(LOGDIR "SystemStateRestore-%s.log", stamp));
	if (c->o.auto_reboot)
		keep(c, sum, sim_text(c, M_REC_REBOOTING, NULL));
	else if (!c->o.recovery_target)
		keep(c, sum, sim_text(c, M_REC_RESTART, NULL));
}

static void report_diff(const sim_ctx *c, const sim_diff *d, const char *id,
			sv_buf *sum)
{
	char date[64], stamp[32], off[24];

	sim_date_local(c, date, sizeof(date), sim_now());
	keep(c, sum, sim_text(c, M_REC_SUMMARY, NULL));
	keep(c, sum, sim_text(c, M_REC_FAILED_AT, date, NULL));
	sv_snprintf(off, sizeof(off), "%llu", (unsigned long long)d->offset);
	keep(c, sum, sim_text(c, (sim_msg)d->kind, d->rel, id, off, NULL));
	keep(c, sum, sim_text(c, M_REC_LOG_FAIL, NULL));
	sim_date_log(stamp, sizeof(stamp), sim_now(), ' ');
	keep(c, sum,
	     sv_aprintf("'" LOGDIR "SystemStateRestore_Error %s.log'", stamp));
}

/* Checks the tree of version v under mdir; returns the exit code. */
static int check(sim_ctx *c, const char *mdir, const sim_catalog *cat,
		 const sim_version *v, sv_buf *sum)
{
	char date[64], num[24];
	sim_diff d;
	sim_tree t;
	int rc;

	sim_date_local(c, date, sizeof(date), sim_now());
	keep(c, sum, sim_text(c, M_REC_START, date, NULL));
	sim_say(c, M_REC_PROCESSING, NULL);
	if ((rc = sim_tree_init(&t, cat->machine, cat->base_size, v)) < 0 ||
	    (rc = sim_tree_verify(&t, mdir, &d)) < 0) {
		sim_tree_release(&t);
		sim_linef(c, "ERROR - %s", sv_error_msg());
		return SIM_EXIT_FAILED;
	}
	sv_snprintf(num, sizeof(num), "%zu", t.nfiles);
	sim_say(c, M_REC_PROCESSED, num, NULL);
	if (d.kind) {
		report_diff(c, &d, v->id, sum);
		rc = SIM_EXIT_MISMATCH;
	} else {
		report_ok(c, v, sum);
		rc = SIM_EXIT_OK;
	}
	sim_tree_release(&t);
	return rc;
}

static int recover(sim_ctx *c, const char *mdir, const sim_catalog *cat,
		   const sim_version *v)
{
	char date[64];
	sv_buf sum;
	int rc;

	sv_buf_init(&sum, (size_t)1 << 20);
	sim_say(c, M_RETRIEVING, NULL);
	sim_date_local(c, date, sizeof(date), v->t);
	keep(c, &sum, sim_text(c, M_REC_CHOSEN, date, v->id, NULL));
	if (c->o.authsysvol)
		keep(c, &sum, sim_text(c, M_REC_AUTHSYSVOL, NULL));
	if (!c->o.quiet && !sim_confirm(c, M_REC_PROMPT)) {
		sim_say(c, M_CANCELLED, NULL);
		sv_buf_release(&sum);
		return SIM_EXIT_CANCELLED;
	}
	if (c->o.recovery_target &&
	    sv_fs_mkdir_p(c->o.recovery_target, 0) < 0) {
		sim_linef(c, "ERROR - %s", sv_error_msg());
		sv_buf_release(&sum);
		return SIM_EXIT_FAILED;
	}
	rc = check(c, mdir, cat, v, &sum);
	sim_summary_save(c, sum.ptr ? sum.ptr : "");
	sv_buf_release(&sum);
	return rc;
}

int sim_cmd_recover(sim_ctx *c)
{
	char *target = NULL, *mdir = NULL;
	sim_catalog cat;
	long k;
	int rc;

	if (c->o.show_summary)
		return show_summary(c);
	if (!c->o.version) {
		sim_say(c, M_SYNTAX, "-version", NULL);
		return SIM_EXIT_USAGE;
	}
	if (c->o.auto_reboot && c->o.recovery_target) {
		sim_say(c, M_REC_AUTOREBOOT_ALT, NULL);
		return SIM_EXIT_USAGE;
	}
	if ((rc = sim_open_versions(c, &target, &mdir, &cat)) != 0) {
		rc = rc == SIM_EXIT_FAILED ? SIM_EXIT_MISMATCH : rc;
		goto done;
	}
	if ((k = sim_catalog_find(&cat, c->o.version)) < 0) {
		sim_say(c, M_VERSION_NOT_FOUND, c->o.version, c->machine, NULL);
		rc = SIM_EXIT_NOTFOUND;
		goto done;
	}
	rc = recover(c, mdir, &cat, &cat.v[k]);
done:
	sim_catalog_release(&cat);
	free(target);
	free(mdir);
	return rc;
}
