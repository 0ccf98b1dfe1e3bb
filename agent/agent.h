/*
 * agent.h - what the commands share beyond the command table: option
 * parsing, the passphrase, opening the vault, progress output.
 */
#ifndef SV_AGENT_H
#define SV_AGENT_H

#include <getopt.h>

#include "cmd.h"
#include "vault.h"

/*
 * getopt_long over a command's arguments with sysvault's one-line errors:
 * returns the option's val, -1 at the end, or '?' after printing the usage
 * error (the command then returns SV_EXIT_USAGE). Positional arguments are
 * left in argv[optind..].
 */
int sv_getopt(int argc, char **argv, const struct option *lo,
	      const sv_cmd_def *cmd);
/* Resets the parser before a new argv is parsed. */
void sv_getopt_reset(void);

/* Reads the passphrase: from file (its first line), else
 * $SYSVAULT_PASSPHRASE, else a no-echo prompt on the terminal (asked twice
 * when confirm). Registers it as a secret for redaction. Caller frees. */
int sv_agent_passphrase(char **out, const char *file, int confirm);

/* A string setting from <state>/config.json by dotted key ("wsb.wbadmin"),
 * or NULL. */
const char *sv_agent_config(const char *key);
/* Any setting by dotted key (borrowed; valid until the next set), or NULL. */
const json_t *sv_agent_config_json(const char *key);
/* Sets (value, stolen) or removes (NULL) a setting and rewrites
 * config.json atomically (0600), re-reading the file first so that other
 * settings are kept; a file that does not parse is refused, not replaced. */
int sv_agent_config_set(const char *key, json_t *value);
/* "90s", "30m", "6h" or seconds -> milliseconds; SV_EUSAGE otherwise. */
int sv_agent_parse_duration(uint32_t *ms, const char *s);

/* The vault URL: the option, else "vault" in <state>/config.json. */
int sv_agent_vault_url(const char **out, const char *opt);

/* Opens the vault (url from sv_agent_vault_url) with the passphrase and
 * the cache in <state>/cache; without url_opt on a registered machine,
 * the registration's vault with the key kept locally (no passphrase). */
int sv_agent_open_vault(vault **out, const char *url_opt, const char *pass_file);

/* Adds the global switches to acc (its endpoint and secret filled in
 * first, the rest zero): the TLS switch of --insecure, with the warning it
 * owes on every run for a cloud vault ("warning: TLS certificate
 * verification is off for <host>"). */
void sv_agent_vault_access(vault_access *acc, const char *url);

struct sv_agent_job;
/* Adds what the vault connection went through to a job's details:
 * "retries" (requests repeated after transient failures; v may be NULL
 * when it never opened) and "insecure" when --insecure was given. */
void sv_agent_job_vault(struct sv_agent_job *j, const vault *v);

/* The preflight's vault callback (diag_vault_cb.ping) over vault_ping();
 * ud is the vault. Transfers give up on their own low-speed limit. */
int sv_agent_ping_vault(void *ud, uint32_t timeout_ms, int64_t *server_time,
			char *err, size_t n);

/* A progress callback for vault operations: a bar on a TTY, one JSON line
 * per second on stderr with --json, nothing otherwise. ud: NULL. */
void sv_agent_progress(void *ud, const vault_progress *p);
/* Ends the progress line on a TTY. */
void sv_agent_progress_done(void);
/* A cancel hook for vault operations (vault_cancel_cb): 1 once Ctrl-C, a
 * service stop or `sysvault jobs cancel` (through the job's watcher)
 * asked this process to stop. */
int sv_agent_cancelled(void *ud);

/* Prints a JSON value on stdout (pretty) and frees it; SV_EXIT_OK or the
 * failure exit code when v is NULL. */
int sv_agent_print_json(json_t *v);

#endif
