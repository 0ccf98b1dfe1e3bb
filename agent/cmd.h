/*
 * cmd.h - the subcommands of sysvault and what they share.
 *
 * Each command lives in its own cmd_*.c, parses its options, calls one
 * library function and prints. The table of commands is in main.c.
 */
#ifndef SV_CMD_H
#define SV_CMD_H

#include <stdio.h>

#include "sv_error.h"

/* Exit codes: part of the CLI contract, documented in README.md. */
enum {
	SV_EXIT_OK = 0,
	SV_EXIT_WARNINGS = 1,
	SV_EXIT_FAILURE = 2,
	SV_EXIT_USAGE = 3,
	SV_EXIT_CANCELLED = 4
};

/*
 * Process-wide state, set once by main() from the global options before a
 * command runs, and read by commands. Nothing else in sysvault is global.
 */
typedef struct sv_agent {
	int json;              /* --json: data as JSON on stdout */
	int verbose;           /* --verbose, repeatable */
	const char *log_file;  /* --log-file */
	const char *state_dir; /* --state-dir, SYSVAULT_HOME, or the default */
	int insecure;          /* --insecure: no TLS verification (warned) */
} sv_agent;

extern sv_agent g_agent;

typedef int (*sv_cmd_fn)(int argc, char **argv);

typedef struct sv_cmd_def {
	const char *name;     /* may be two words: "vault init" */
	sv_cmd_fn fn;
	const char *summary;  /* one line for the command list; NULL: not listed */
	const char *usage;    /* full --help text */
} sv_cmd_def;

/* The command table (main.c). */
extern const sv_cmd_def sv_commands[];
const sv_cmd_def *sv_cmd_find(const char *name);

/* Prints "sysvault: <msg>" and the command's usage line to stderr; returns
 * SV_EXIT_USAGE. */
int sv_cmd_usage_error(const sv_cmd_def *cmd, const char *fmt, ...)
	SV_PRINTF(2, 3);
/* Reports the current sv_error (redacted) on stderr; returns the exit code
 * that fits its sv_err code (cancelled -> 4, usage -> 3, else 2). */
int sv_cmd_fail(void);
/* Prints a command's full help to f. */
void sv_cmd_print_help(FILE *f, const sv_cmd_def *cmd);
/* 1 when argv holds -h or --help before any "--". */
int sv_cmd_wants_help(int argc, char **argv);

/* Prints the global usage and the list of commands to f. */
void sv_print_command_list(FILE *f);
/* The state directory: --state-dir, else $SYSVAULT_HOME, else the platform
 * default. Computed once; never NULL after a successful call. */
const char *sv_agent_state_dir(void);

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_vault_init(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_points(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_vault_check(int argc, char **argv);
int cmd_vault_sync(int argc, char **argv);
int cmd_wsb_versions(int argc, char **argv);
int cmd_preflight(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_jobs_show(int argc, char **argv);
int cmd_jobs_cancel(int argc, char **argv);
int cmd_vault_credentials(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_passphrase_reset(int argc, char **argv);
int cmd_vault_prune(int argc, char **argv);
int cmd_install_setup(int argc, char **argv);
int cmd_uninstall_cleanup(int argc, char **argv);
int cmd_throttle_set(int argc, char **argv);
int cmd_throttle_show(int argc, char **argv);
int cmd_throttle_off(int argc, char **argv);
int cmd_schedule_set(int argc, char **argv);
int cmd_schedule_show(int argc, char **argv);
int cmd_schedule_remove(int argc, char **argv);
int cmd_cache_move(int argc, char **argv);
int cmd_vault_copy(int argc, char **argv);

#endif
