/*
 * job.h - the jobs the agent runs across modules (job_*.c).
 */
#ifndef SV_JOB_H
#define SV_JOB_H

#include "jobs.h"
#include "vault.h"
#include "wsb.h"

/* How the command line configured Windows Server Backup. */
typedef struct sv_wsb_args {
	const char *scratch;     /* --scratch, else config "scratch", else
				    <state>/Scratch */
	uint32_t timeout_ms;     /* --wbadmin-timeout, else config wsb.timeout */
	const char *const *skip_checks;  /* --skip-check PF0xx, NULL-terminated */
	vault *vault;            /* for the preflight's vault checks */
	sv_agent_job *job;       /* the job warnings go to, or NULL */
} sv_wsb_args;

/* The scratch folder (caller frees). */
char *sv_agent_scratch_dir(const char *opt);

/* Driver options from the arguments and config.json, with what they
 * point to. */
typedef struct sv_wsb_ctx {
	wsb_opts o;
	wsb_catalogue *catalogue;
	char *wbadmin;
} sv_wsb_ctx;

int sv_agent_wsb_init(sv_wsb_ctx *c, const sv_wsb_args *a);
void sv_agent_wsb_release(sv_wsb_ctx *c);

/*
 * The system-state backup: staging volume, `wbadmin start
 * systemstatebackup`, then the newest WindowsImageBackup tree into the
 * vault as one recovery point (bo supplies machine, threads, progress),
 * then the staging volume trimmed to the newest version. Ctrl-C / SIGTERM
 * cancel it (wbadmin is asked to stop first).
 */
int sv_agent_backup_system_state(vault *v, const sv_wsb_args *a,
				 vault_backup_opts *bo, vault_backup_result *r,
				 char version[WSB_VERSION_LEN + 1]);

/* Runs `wbadmin start systemstaterecovery -version:<the point's> -backupTarget:
 * <restored> -machine:<the point's> -quiet [-authsysvol] [-autoReboot]`
 * on a restored tree; prints the DSRM steps first for a domain controller
 * restored without --authsysvol. */
int sv_agent_apply(vault *v, const char *point_id, const char *restored,
		   int authsysvol, int reboot);

#endif
