/*
 * main.c - sysvault's entry point: global options, the command table,
 * dispatch.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "sv_buf.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_env.h"


const sv_cmd_def sv_commands[] = {
	{ "help", cmd_help, "Show help for sysvault or one command",
	  "usage: sysvault help [<command>]\n"
	  "\n"
	  "Without a command, lists every command; with one, prints its help\n"
	  "(the same as 'sysvault <command> --help').\n" },
	{ "version", cmd_version, "Show the version and the libraries built in",
	  "usage: sysvault version [--json]\n"
	  "\n"
	  "Prints sysvault's version, the platform it was built for and the\n"
	  "versions of the libraries linked into it.\n" },
	{ "vault init", cmd_vault_init, "Create a new vault",
	  "usage: sysvault vault init --vault <dir> [--passphrase-file <file>]\n"
	  "                           [--chunk-size <avg>] [--compression-level <n>]\n"
	  "\n"
	  "Creates an empty vault. The passphrase (at least 16 characters,\n"
	  "printable ASCII) comes from --passphrase-file (first line),\n"
	  "$SYSVAULT_PASSPHRASE, or is asked twice on the terminal. Refuses to\n"
	  "touch a directory that already holds a vault. --chunk-size sets the\n"
	  "average chunk (a power of two; minimum a quarter, maximum four times\n"
	  "it; default 32K); --compression-level the zstd level (1 to 19, or\n"
	  "-1 to -7 for the faster levels; default 1).\n"
	  "Both are fixed for the life of the vault.\n" },
	{ "backup", cmd_backup, "Back up the system state into the vault",
	  "usage: sysvault backup [--vault <dir>] [--passphrase-file <file>]\n"
	  "                       [--scratch <dir>] [--wbadmin-timeout <duration>]\n"
	  "                       [--skip-check PF0xx]...\n"
	  "                       [--machine <name>] [--threads <n>] [--scheduled]\n"
	  "       sysvault backup --source-dir <dir> [...]\n"
	  "\n"
	  "Runs the blocking preflight checks (see 'sysvault preflight'; a\n"
	  "failure stops the backup with the check's evidence and fix;\n"
	  "--skip-check leaves one out), then\n"
	  "'wbadmin start systemstatebackup' onto the private staging\n"
	  "volume (a VHDX in the scratch folder; a directory where virtual disks\n"
	  "do not exist), checks that wbadmin really produced a new version,\n"
	  "then stores the newest WindowsImageBackup tree as one recovery point:\n"
	  "deduplicated, compressed, encrypted. wbadmin is found through\n"
	  "$SYSVAULT_WBADMIN, \"wsb.wbadmin\" in config.json, or\n"
	  "%SystemRoot%\\System32\\wbadmin.exe. A failure names its stable code\n"
	  "(docs/errors.md) and the fix. --wbadmin-timeout (default 6h) stops a\n"
	  "hung wbadmin; Ctrl-C cancels (exit code 4).\n"
	  "\n"
	  "With --source-dir, stores that directory tree instead of running\n"
	  "wbadmin. Prints a summary naming the job ('sysvault jobs'); progress\n"
	  "on a terminal, or JSON lines on stderr with --json. Only one backup\n"
	  "runs at a time; exit code 1 when it succeeded with a warning (the\n"
	  "staging volume could not be trimmed).\n"
	  "\n"
	  "On a registered machine the vault and its key come from the\n"
	  "registration. Every backup first compares this machine's name and\n"
	  "FQDN with the registration's and stops with MACHINE_RENAMED on a\n"
	  "change (fix: 'sysvault register' again).\n"
	  "\n"
	  "--scheduled marks the point as made by the schedule (else it is\n"
	  "ad-hoc; retention keeps ad-hoc points by the daily rule only). A\n"
	  "scheduled backup is skipped, with exit code 0, one line (with --json\n"
	  "{\"skipped\": true}) and no job, when a scheduled point of this\n"
	  "machine already exists in the current window: the local day, or\n"
	  "from the time of \"schedule\" in config.json to the same time the\n"
	  "next day. After a scheduled backup the saved retention\n"
	  "policy (see 'sysvault vault prune') is applied to this machine's\n"
	  "points as part of the same job; a failed prune makes the job\n"
	  "completed with warnings (exit code 1), never failed.\n" },
	{ "points", cmd_points, "List the recovery points in the vault",
	  "usage: sysvault points [--vault <dir>] [--passphrase-file <file>]\n"
	  "                       [--machine <name>] [--credentials <file>] [--json]\n"
	  "\n"
	  "Lists every machine's points, or one machine's with --machine (also an\n"
	  "old name of a renamed machine). --credentials reads the vault of a\n"
	  "credentials file with the passphrase, as a recovery shell does.\n" },
	{ "restore", cmd_restore, "Restore a recovery point into a directory",
	  "usage: sysvault restore --point <id>|latest --to <dir> [--overwrite]\n"
	  "                        [--apply [--authsysvol] [--reboot]]\n"
	  "                        [--vault <dir>] [--passphrase-file <file>]\n"
	  "                        [--machine <name>] [--threads <n>]\n"
	  "                        [--credentials <file>] [--allow-other-hardware]\n"
	  "\n"
	  "Writes every file of the point under <dir>. Every chunk and every\n"
	  "file's SHA-256 is verified before the file takes its name; existing\n"
	  "files are refused unless --overwrite. <id> is 'latest' or at least 8\n"
	  "hex digits of an id from 'sysvault points'.\n"
	  "\n"
	  "--apply then runs 'wbadmin start systemstaterecovery' on the restored\n"
	  "tree (-backupTarget:<dir>, the point's machine and version); with\n"
	  "--authsysvol for an authoritative SYSVOL restore (domain controllers,\n"
	  "in DSRM: the steps are printed), and never reboots unless --reboot.\n"
	  "--apply needs an empty (or new) --to directory: wbadmin reads the\n"
	  "catalogue of the tree it is given.\n"
	  "\n"
	  "On a registered machine 'latest' means this machine's newest point;\n"
	  "--machine <name> picks another machine's or an old name's (restore it\n"
	  "to an alternate location). From a recovery shell, --credentials <file>\n"
	  "and the passphrase are enough: nothing needs registering, and the\n"
	  "cache is kept in a temporary directory that is removed afterwards.\n"
	  "There, the target must not be on the system volume. With --apply or\n"
	  "--credentials, the point's hardware identity (SMBIOS UUID,\n"
	  "manufacturer, model) must match this machine's: Microsoft does not\n"
	  "recommend restoring system state to other hardware;\n"
	  "--allow-other-hardware restores anyway.\n" },
	{ "vault check", cmd_vault_check, "Verify the vault's structure and data",
	  "usage: sysvault vault check [--read-data[=<percent>]] [--vault <dir>]\n"
	  "                            [--passphrase-file <file>] [--json]\n"
	  "\n"
	  "Checks that every index and point opens and every chunk a point needs\n"
	  "is stored. --read-data also reads and decrypts every pack (or the\n"
	  "given percentage of them) and names each damaged one. Exit code 2 when\n"
	  "a problem is found.\n" },
	{ "vault sync", cmd_vault_sync, "Rebuild the local cache from the vault",
	  "usage: sysvault vault sync [--vault <dir>] [--passphrase-file <file>]\n"
	  "\n"
	  "Empties the local cache and rebuilds it from the vault's index, point\n"
	  "and pack objects alone.\n" },
	{ "preflight", cmd_preflight, "Check this machine before a system-state backup",
	  "usage: sysvault preflight [--json] [--save <file>] [--from <file>]\n"
	  "                          [--scratch <dir>] [--skip-check PF0xx]...\n"
	  "                          [--vault <url> [--passphrase-file <file>]]\n"
	  "\n"
	  "Checks every known cause of a failed system-state backup (PF001 to\n"
	  "PF015: Windows Server Backup, services, ACLs, the scratch folder,\n"
	  "free space, the EFI system partition, VSS writers, other backups,\n"
	  "BitLocker, the clock, the vault, the registration, Azure, versions)\n"
	  "and prints a verdict, the evidence and the fix for each. --json\n"
	  "prints every check's full evidence; --save writes that evidence\n"
	  "bundle to <file>; --from re-evaluates a saved bundle instead of\n"
	  "this machine. --scratch names the scratch folder (default: config\n"
	  "\"scratch\", else <state-dir>/Scratch). --skip-check leaves a check\n"
	  "out (repeatable). --vault also checks that the vault answers (PF012)\n"
	  "and that this machine's clock agrees with the vault's (PF011; cloud\n"
	  "vaults only: a local directory has no clock of its own).\n"
	  "Exit code 0 when every check passed or was\n"
	  "skipped, 1 with warnings only, 2 with any failure. docs/preflight.md\n"
	  "describes every check.\n" },
	{ "wsb versions", cmd_wsb_versions, "List the wbadmin versions on the staging volume",
	  "usage: sysvault wsb versions [--scratch <dir>] [--json]\n"
	  "\n"
	  "Runs 'wbadmin get versions' for the staging volume and lists the\n"
	  "version identifiers (normally one: older ones are trimmed after each\n"
	  "backup).\n" },
	{ "jobs", cmd_jobs, "List the jobs this machine ran and is running",
	  "usage: sysvault jobs [--json] [--limit <n>]\n"
	  "\n"
	  "Lists the newest jobs (default 20; --limit 0 lists all), newest first:\n"
	  "every backup, restore and vault check is a job with an id, a kind, a\n"
	  "state (queued, running, completed, completed_with_warnings, failed,\n"
	  "cancelled), its start and end, the bytes read and stored, and for a\n"
	  "failure a stable error code (WSB_* from wbadmin, PF0xx from a failed\n"
	  "preflight check, else the sysvault error name) and a one-line message.\n"
	  "A job whose process ended without finishing it (killed, machine\n"
	  "restarted) is failed with code INTERRUPTED the next time sysvault\n"
	  "opens the job list, as is a job still running after 30 days. Only one\n"
	  "backup runs at a time: a second one is refused naming the running job.\n"
	  "The jobs are kept in jobs.db in the state directory. Each job's end\n"
	  "is also one event in the Application log (syslog elsewhere), with\n"
	  "IDs 1000 to 1004 by outcome: docs/events.md.\n" },
	{ "jobs show", cmd_jobs_show, "Show one job in full",
	  "usage: sysvault jobs show <id> [--json]\n"
	  "\n"
	  "Prints everything recorded about the job, including its details: the\n"
	  "recovery point and wbadmin version of a backup, the preflight checks\n"
	  "skipped with --skip-check, the files a cancelled restore finished,\n"
	  "the requests to the vault repeated after network failures\n"
	  "(\"retries\"), \"insecure\" when it ran with --insecure,\n"
	  "and the job's own log file (<state-dir>/logs/job-<id>.log: its lines\n"
	  "at info level and above, secrets redacted).\n" },
	{ "jobs cancel", cmd_jobs_cancel, "Ask a running job to stop",
	  "usage: sysvault jobs cancel <id>\n"
	  "\n"
	  "Sets the job's cancel flag. The sysvault process running it notices\n"
	  "within 2 s, stops wbadmin (asking it first) or the transfer, records\n"
	  "the job as cancelled and exits with code 4, as after Ctrl-C. A\n"
	  "cancelled backup leaves no recovery point. A cancelled restore leaves\n"
	  "the files it restored completely (each one verified) and removes the\n"
	  "one it was writing; 'sysvault jobs show <id>' lists the finished files\n"
	  "(\"files_restored\" in the details). A vault check runs to its end.\n"
	  "A job that has already ended is refused: \"job N is not running\".\n" },
	{ "vault credentials", cmd_vault_credentials, "Issue a credentials file for registering or restoring",
	  "usage: sysvault vault credentials --vault <url> -o <file> [--secondary]\n"
	  "                                  [--days <n>] [--secret-file <file>]\n"
	  "                                  [--name <name>] [--tenant <id>]\n"
	  "                                  [--passphrase-file <file>]\n"
	  "\n"
	  "Writes a credentials file (JSON, private: 0600 or the owner only) that\n"
	  "lets a machine register with the vault ('sysvault register') or restore\n"
	  "from a recovery shell ('sysvault restore --credentials'). It names the\n"
	  "vault (id, --name, URL, endpoint), carries the secret this issuer\n"
	  "reaches a cloud vault with (--secret-file, else the environment:\n"
	  "SYSVAULT_AZURE_KEY / SYSVAULT_AZURE_SAS, AWS_ACCESS_KEY_ID and\n"
	  "AWS_SECRET_ACCESS_KEY; none for a local vault), the tenant, the region\n"
	  "role and when it was issued and expires (--days, 1 to 365, default\n"
	  "10). A tag made with the vault's key covers it all: issuing needs the\n"
	  "passphrase, and an edited file is refused. --secondary issues a file\n"
	  "for a secondary region: it can restore but never register.\n"
	  "docs/operations.md describes the format.\n" },
	{ "register", cmd_register, "Register this machine with a vault",
	  "usage: sysvault register --credentials <file> [--passphrase-file <file>]\n"
	  "                         [--force]\n"
	  "\n"
	  "Records this machine (name, FQDN, hardware identity) in the vault and in\n"
	  "the state directory, and keeps the vault's key and access secret on\n"
	  "this machine (DPAPI machine scope on Windows; a 0600 file in a 0700\n"
	  "directory elsewhere). From then on backup, points, restore and vault\n"
	  "check use the registration: no --vault, no passphrase. Refuses an\n"
	  "expired, altered or secondary-region credentials file, and a machine\n"
	  "already registered under its name unless --force. A renamed machine\n"
	  "registers again to clear MACHINE_RENAMED.\n" },
	{ "passphrase reset", cmd_passphrase_reset, "Set a new vault passphrase (registered machine only)",
	  "usage: sysvault passphrase reset [--passphrase-file <file>]\n"
	  "\n"
	  "On the registered machine, which keeps the vault's key, seals the key\n"
	  "under a new passphrase (from --passphrase-file, $SYSVAULT_PASSPHRASE,\n"
	  "or asked twice) and then removes the old key files: the old\n"
	  "passphrase stops working. The current passphrase is not needed. Any\n"
	  "other machine is refused: only the original machine can reset it.\n"
	  "Restoring elsewhere needs a credentials file and the current\n"
	  "passphrase; with any other passphrase nothing can be restored.\n" },
	{ "vault prune", cmd_vault_prune, "Delete the recovery points retention no longer keeps",
	  "usage: sysvault vault prune [--retain-daily <days>] [--retain-weekly <weeks>]\n"
	  "                            [--weekly-on <day>] [--retain-monthly <months>]\n"
	  "                            [--monthly-on <1-28|last>] [--retain-yearly <years>]\n"
	  "                            [--yearly-in <month>] [--save] [--dry-run]\n"
	  "                            [--machine <name>] [--vault <dir>]\n"
	  "                            [--passphrase-file <file>] [--json]\n"
	  "\n"
	  "Applies the retention policy (docs/operations.md, \"Retention\") to\n"
	  "each machine's points (only <name>'s with --machine), deletes the\n"
	  "points it no longer keeps, then the packs no remaining point needs.\n"
	  "Ranges: daily 7-9999 days (required), weekly 4-5163 weeks, monthly\n"
	  "3-1188 months, yearly 1-99 years; defaults Sunday, the 1st, January.\n"
	  "The options override the policy saved in config.json (\"retention\");\n"
	  "--save stores the result as that policy. --dry-run lists each point\n"
	  "that would go with the reason and the bytes that would be freed, and\n"
	  "changes nothing. Safe while other machines back up: their data stays\n"
	  "until a prune runs with no backup in progress (exit code 1 then).\n"
	  "A prune is a job ('sysvault jobs'); another prune running on any\n"
	  "machine makes this one stop before it changes anything (exit code 2).\n"
	  "'sysvault jobs cancel' stops it at a safe point (exit code 4); the\n"
	  "next prune finishes the work.\n" },
	/* Maintenance commands the Windows installer runs: no summary, so
	 * they stay out of the command list (docs/install.md). */
	{ "install-setup", cmd_install_setup, NULL,
	  "usage: sysvault install-setup\n"
	  "\n"
	  "Run by the Windows installer after it copied the files: adds the\n"
	  "folder of this sysvault.exe to the machine PATH and creates the state\n"
	  "directory with access for SYSTEM and Administrators only. Running it\n"
	  "again changes nothing. Needs an elevated prompt.\n" },
	{ "uninstall-cleanup", cmd_uninstall_cleanup, NULL,
	  "usage: sysvault uninstall-cleanup [--remove-state]\n"
	  "\n"
	  "Run by the Windows installer before it removes the files: deletes the\n"
	  "backup schedule's task (as 'sysvault schedule remove' does), detaches\n"
	  "the staging VHDX and removes this sysvault.exe's folder from the machine\n"
	  "PATH; with --remove-state (msiexec ... REMOVESTATE=1) also deletes the\n"
	  "state directory: jobs, configuration, cache and scratch. Every step is\n"
	  "tried; exit code 2 when one failed.\n" },
	{ "throttle set", cmd_throttle_set, "Limit the bandwidth of cloud vaults",
	  "usage: sysvault throttle set --work-hours <HH:MM-HH:MM> --work-rate <rate>\n"
	  "                             [--work-days <days>] [--off-rate <rate>]\n"
	  "\n"
	  "Limits the bandwidth that transfers to and from a cloud vault use\n"
	  "together: --work-rate during work hours, --off-rate (default\n"
	  "unlimited) at other times. Rates are bits per second with decimal\n"
	  "units: 200Kbps, 4Mbps, 1.5Gbps, or 'unlimited'. --work-days lists\n"
	  "days and ranges (default Mon-Fri; e.g. Sat,Sun or Mon-Wed,Fri).\n"
	  "--work-hours is local time, 24-hour; an end before the start runs\n"
	  "past midnight into the next day (22:00-06:00), 00:00-24:00 is the\n"
	  "whole day. The rate follows the clock while a backup or restore runs\n"
	  "(within a second of a boundary); a change applies from the next\n"
	  "command. Local vaults are never throttled. Stored under \"throttle\"\n"
	  "in config.json; see docs/transfer.md.\n" },
	{ "throttle show", cmd_throttle_show, "Show the bandwidth limit",
	  "usage: sysvault throttle show [--json]\n"
	  "\n"
	  "Prints the throttle schedule and whether work hours apply now.\n" },
	{ "throttle off", cmd_throttle_off, "Remove the bandwidth limit",
	  "usage: sysvault throttle off\n"
	  "\n"
	  "Removes the throttle: cloud transfers use the full bandwidth.\n" },
	{ "schedule set", cmd_schedule_set, "Back up the system state every day or on given days",
	  "usage: sysvault schedule set --daily <HH:MM> [--days Mon,Wed,...]\n"
	  "                             [--retain-daily <days>] [--retain-weekly <weeks>]\n"
	  "                             [--weekly-on <day>] [--retain-monthly <months>]\n"
	  "                             [--monthly-on <1-28|last>] [--retain-yearly <years>]\n"
	  "                             [--yearly-in <month>]\n"
	  "\n"
	  "Records the schedule in config.json (\"schedule\") and registers it with\n"
	  "the system, replacing an earlier one. The time is local, 24-hour;\n"
	  "--days (three-letter English names) limits it to those days.\n"
	  "On Windows a Task Scheduler task 'sysvault-backup' (registered with\n"
	  "'schtasks /Create /XML') runs 'sysvault backup --scheduled' as SYSTEM,\n"
	  "starts a missed run when the server is back (StartWhenAvailable) and\n"
	  "never starts a second run beside a running one. On Linux a systemd\n"
	  "timer and service (/etc/systemd/system/sysvault-backup.timer and\n"
	  ".service, Persistent=true) are written and enabled; where systemd is\n"
	  "not running, the cron line and the file it belongs in are printed.\n"
	  "A non-default --state-dir is passed on to the scheduled run. Needs an\n"
	  "elevated prompt (Administrators) or root.\n"
	  "\n"
	  "The retention options are those of 'sysvault vault prune' (ranges\n"
	  "there): given here, they are merged over the saved policy and saved\n"
	  "(\"retention\" in config.json) once the task is registered; every\n"
	  "scheduled backup applies that policy when it completes.\n" },
	{ "schedule show", cmd_schedule_show, "Show the schedule and the task that runs it",
	  "usage: sysvault schedule show [--json]\n"
	  "\n"
	  "Prints the schedule from config.json and whether the Task Scheduler\n"
	  "task or systemd timer exists (and the timer's state). Exit code 1 when\n"
	  "a schedule is set but the system has no task for it.\n" },
	{ "schedule remove", cmd_schedule_remove, "Remove the schedule and its task",
	  "usage: sysvault schedule remove [--json]\n"
	  "\n"
	  "Removes the Task Scheduler task or the systemd timer and service, then\n"
	  "the schedule in config.json. Nothing else changes: the vault and the\n"
	  "jobs stay.\n" },
	{ "cache move", cmd_cache_move, "Move the scratch folder (the staging volume) elsewhere",
	  "usage: sysvault cache move <dir> [--wait] [--delete-old]\n"
	  "                           [--skip-check PF004|PF005]...\n"
	  "\n"
	  "Moves the scratch folder (config \"scratch\", default\n"
	  "<state-dir>\\Scratch), which holds the staging volume wbadmin writes,\n"
	  "to <dir>: an absolute, new or empty folder. It checks <dir> with the\n"
	  "preflight's scratch-folder checks (PF004, PF005; --skip-check leaves\n"
	  "one out) and for room, detaches\n"
	  "the staging volume, copies the folder (never moves it), compares the\n"
	  "copy byte for byte with the original, then names <dir> in config.json\n"
	  "(one atomic write) and attaches the staging volume there. The move is a\n"
	  "job ('sysvault jobs'): it is refused while any job runs (a backup, a\n"
	  "seeding 'vault copy') unless --wait, which waits for them to end, and\n"
	  "backups are refused while it runs. A failure or a cancel leaves the\n"
	  "old folder in use and removes the partial copy. The old copy is kept\n"
	  "unless --delete-old, or you answer yes on a terminal. The vault cache\n"
	  "and the job store stay in the state directory.\n" },
	{ "vault copy", cmd_vault_copy, "Copy the vault to another location (resumable)",
	  "usage: sysvault vault copy --to <url> [--to-endpoint <url>]\n"
	  "                           [--to-secret-file <file>] [--to-region <region>]\n"
	  "                           [--vault <url>] [--passphrase-file <file>] [--json]\n"
	  "\n"
	  "Copies every object of the vault that the destination does not hold\n"
	  "yet: a directory, azure://<account>/<container>/<prefix> or\n"
	  "s3://<bucket>/<prefix> (docs/cloud.md), created when missing. Keys\n"
	  "and config go first, then the data packs, then the index objects, then\n"
	  "the recovery points: an interrupted copy never leaves a point whose\n"
	  "data is missing, and running the command again copies only what is\n"
	  "missing. Every pack, index and point is checked against its SHA-256\n"
	  "name before it is written; config and keys are read back. The copy is\n"
	  "the same vault (same id, same passphrase). A destination that holds\n"
	  "another vault is refused.\n"
	  "\n"
	  "The destination's endpoint, credentials and region come from\n"
	  "--to-endpoint, --to-secret-file (first line: the Azure account key or\n"
	  "SAS token, or \"<access key id>:<secret key>\" for S3) and --to-region,\n"
	  "else from the environment, as for the source. Ctrl-C or 'sysvault jobs\n"
	  "cancel' stops it (exit code 4); run it again to finish.\n" },
	{ NULL, NULL, NULL, NULL }
};

static const char global_usage[] =
	"usage: sysvault [--json] [--verbose] [--log-file <file>]\n"
	"                [--state-dir <dir>] [--insecure] <command> [<args>]\n";

const sv_cmd_def *sv_cmd_find(const char *name)
{
	const sv_cmd_def *c;

	for (c = sv_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int sv_cmd_usage_error(const sv_cmd_def *cmd, const char *fmt, ...)
{
	const char *nl;
	va_list ap;

	fputs("sysvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd) {
		nl = strchr(cmd->usage, '\n');
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - cmd->usage) : (int)strlen(cmd->usage),
			cmd->usage);
		fprintf(stderr, "Try 'sysvault %s --help'.\n", cmd->name);
	} else {
		fputs(global_usage, stderr);
		fputs("Try 'sysvault --help'.\n", stderr);
	}
	return SV_EXIT_USAGE;
}

int sv_cmd_fail(void)
{
	char *msg = sv_strdup(sv_error_msg());
	int code = sv_error_code();

	if (msg) {
		sv_redact(msg);
		fprintf(stderr, "sysvault: %s\n", msg[0] ? msg : sv_err_str(code));
		free(msg);
	}
	if (code == SV_ECANCELLED)
		return SV_EXIT_CANCELLED;
	if (code == SV_EUSAGE)
		return SV_EXIT_USAGE;
	return SV_EXIT_FAILURE;
}

void sv_cmd_print_help(FILE *f, const sv_cmd_def *cmd)
{
	fputs(cmd->usage, f);
	fputs("\nGlobal options: --json, --verbose, --log-file <file>, "
	      "--state-dir <dir>, --insecure\n", f);
}

int sv_cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

void sv_print_command_list(FILE *f)
{
	const sv_cmd_def *c;

	fputs(global_usage, f);
	fputs("\nsysvault protects the system state of Windows Server machines:\n"
	      "it drives Windows Server Backup onto a private staging volume,\n"
	      "then deduplicates, compresses, encrypts and uploads the result\n"
	      "into a vault (local disk, Azure Blob Storage, S3).\n\n"
	      "Commands:\n", f);
	for (c = sv_commands; c->name; c++)
		if (c->summary)
			fprintf(f, "  %-20s %s\n", c->name, c->summary);
	fputs("\nGlobal options:\n"
	      "  --json               print data as JSON on stdout\n"
	      "  --verbose, -v        more detail on stderr (repeat for debug)\n"
	      "  --log-file <file>    also write a detailed log to <file>\n"
	      "  --state-dir <dir>    state directory (default: $SYSVAULT_HOME,\n"
	      "                       else %ProgramData%\\sysvault on Windows,\n"
	      "                       /var/lib/sysvault elsewhere)\n"
	      "  --insecure           do not verify the TLS certificate of a cloud\n"
	      "                       vault (lab endpoints only; warns every run)\n"
	      "\nExit codes: 0 ok, 1 warnings, 2 failure, 3 usage error, 4 cancelled.\n"
	      "Run 'sysvault <command> --help' for a command's options.\n", f);
}

/* Takes the global options out of argv wherever they stand before "--".
 * Returns the new argc, or -1 after printing a usage error. */
static int take_global_options(int argc, char **argv)
{
	int i, n = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[n++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--json")) {
			g_agent.json = 1;
		} else if (!strcmp(a, "--insecure")) {
			g_agent.insecure = 1;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			g_agent.verbose++;
		} else if (!strcmp(a, "--log-file") || !strcmp(a, "--state-dir")) {
			if (i + 1 >= argc) {
				sv_cmd_usage_error(NULL, "option '%s' needs a value", a);
				return -1;
			}
			if (a[2] == 'l')
				g_agent.log_file = argv[++i];
			else
				g_agent.state_dir = argv[++i];
		} else if (!strncmp(a, "--log-file=", 11)) {
			g_agent.log_file = a + 11;
		} else if (!strncmp(a, "--state-dir=", 12)) {
			g_agent.state_dir = a + 12;
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	return n;
}

/* Finds the command named by argv[1] (or argv[1] argv[2]); *words is how
 * many words its name took. */
static const sv_cmd_def *lookup(int argc, char **argv, int *words)
{
	const sv_cmd_def *c;
	char two[128];

	if (argc >= 3 && snprintf(two, sizeof(two), "%s %s", argv[1], argv[2]) <
			 (int)sizeof(two) && (c = sv_cmd_find(two)) != NULL) {
		*words = 2;
		return c;
	}
	*words = 1;
	return sv_cmd_find(argv[1]);
}

static int setup_logging(void)
{
	sv_log_set_level(g_agent.verbose >= 2 ? SV_LOG_DEBUG :
			 g_agent.verbose == 1 ? SV_LOG_INFO : SV_LOG_WARN);
	if (g_agent.log_file && sv_log_open_file(g_agent.log_file) < 0)
		return sv_cmd_fail();
	return 0;
}

int main(int argc, char **argv)
{
	const sv_cmd_def *cmd;
	int words, rc;

	argc = sv_env_utf8_args(argc, &argv);
	argc = take_global_options(argc, argv);
	if (argc < 0)
		return SV_EXIT_USAGE;
	if (argc < 2) {
		sv_print_command_list(stderr);
		return SV_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		sv_print_command_list(stdout);
		return SV_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	if (argv[1][0] == '-')
		return sv_cmd_usage_error(NULL, "unknown option '%s'", argv[1]);
	cmd = lookup(argc, argv, &words);
	if (!cmd)
		return sv_cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
	rc = setup_logging();
	if (rc)
		return rc;
	if (sv_cmd_wants_help(argc - words, argv + words)) {
		sv_cmd_print_help(stdout, cmd);
		return SV_EXIT_OK;
	}
	rc = cmd->fn(argc - words, argv + words);
	sv_log_close();
	return rc;
}
