/*
 * sv_cli.h - running the sysvault binary from integration tests.
 */
#ifndef SV_CLI_H
#define SV_CLI_H

#include <stdint.h>

#include "sv_buf.h"
#include "sv_json.h"

/* Preflight checks that judge the machine the tests run on, not the
 * test's own setup, for an argument list (trailing comma included):
 *   { "backup", CLI_SKIPS "--vault", v, NULL }
 * PF005 (scratch free space >= 30 GiB) and PF009 (no other wbadmin
 * process) read the host, whose disk may be nearly full and whose other
 * test runs start simulated wbadmins; under Wine the wbengine and VSS
 * services (PF001, PF002) are missing too. Tests of those checks use
 * evidence bundles (test_preflight_cli.c) and leave these out. */
#define CLI_HOST_SKIPS "--skip-check", "PF005", "--skip-check", "PF009",
#ifdef _WIN32
#define CLI_SKIPS "--skip-check", "PF001", "--skip-check", "PF002", \
	CLI_HOST_SKIPS
#else
#define CLI_SKIPS CLI_HOST_SKIPS
#endif

typedef struct cli_run {
	sv_buf out;
	sv_buf err;
	int code;       /* exit code; -1 when killed */
	uint64_t kill_at;   /* internal: monotonic ms of the kill, 0 none */
} cli_run;

/* Environment entries ("NAME=value") added to every run; NULL-terminated,
 * at most 15. */
extern const char *cli_env[16];

/* Runs sysvault with args (NULL-terminated); fills r (release with
 * cli_done). */
void cli(cli_run *r, const char *const *args);
/* As cli(), but kills the process (SIGKILL / job termination) after
 * kill_after_ms; r->code is -1 when it was killed. */
void cli_killed(cli_run *r, const char *const *args, unsigned kill_after_ms);
/* As cli(), but after interrupt_after_ms sends the polite stop (SIGTERM /
 * Ctrl-Break-like job stop on Windows) and waits up to 60 s for sysvault
 * to finish by itself. */
void cli_interrupted(cli_run *r, const char *const *args,
		     unsigned interrupt_after_ms);
void cli_done(cli_run *r);
/* Runs sysvault and fails the test unless it exits with code and (when
 * in_stderr is not NULL) its stderr contains in_stderr. The caller
 * releases r with cli_done(). */
void cli_expect(cli_run *r, const char *const *args, int code,
		const char *in_stderr);

/* dir/name; fails the test when out of memory. The caller frees it. */
char *cli_path(const char *dir, const char *name);
/* Fills cli_env[0] to [CLI_VAULT_SLOTS - 1] for vault commands without
 * the simulator: home_env ("SYSVAULT_HOME=..."), pass_env
 * ("SYSVAULT_PASSPHRASE=...") and a cheap scrypt; cli_env[CLI_VAULT_SLOTS]
 * is NULL, for the test's own entries after them. */
#define CLI_VAULT_SLOTS 3
void cli_env_vault(const char *home_env, const char *pass_env);

/* cli_expect() for a run whose output is not needed: fails the test
 * unless sysvault exits with code (and stderr contains in_stderr, when
 * given), then releases the run. */
void cli_check(const char *const *args, int code, const char *in_stderr);
/* cli_expect() for a --json run: fails the test unless sysvault exits
 * with code and prints JSON; returns it (the caller decrefs). */
json_t *cli_json(const char *const *args, int code);
/* `sysvault vault init --vault <vault>`, which must succeed; the
 * passphrase comes from the environment (cli_env). */
void cli_init_vault(const char *vault);
/* Fails the test unless files a and b (up to 1 GiB) hold the same
 * bytes: a restore's output against its source. */
void cli_same_file(const char *a, const char *b);

/* The environment of backups through the wbadmin simulator, owned by
 * the test: cli_sim_env() fills cli_env[0] to [CLI_SIM_SLOTS - 1] with
 * SYSVAULT_HOME=<state>, the passphrase entry pass_env
 * ("SYSVAULT_PASSPHRASE=..."), SYSVAULT_WBADMIN=<wbadmin>, the image
 * size entry size_env ("WBADMIN_SIM_SIZE=4M"), a cheap scrypt,
 * WBADMIN_SIM_STATE=<dir>/sim, the simulator's English output and no
 * injected failure; cli_env[CLI_SIM_SLOTS] is NULL, for the test's own
 * entries after them. */
#define CLI_SIM_SLOTS 8
typedef struct cli_sim {
	char *home_env, *wbadmin_env, *sim_env, *fail_env;
} cli_sim;
void cli_sim_env(cli_sim *s, const char *dir, const char *state,
		 const char *wbadmin, const char *pass_env,
		 const char *size_env);
/* Sets WBADMIN_SIM_FAIL (a failure the simulator injects) to mode; NULL
 * for none. */
void cli_sim_fail(cli_sim *s, const char *mode);
void cli_sim_free(cli_sim *s);

/* Ends a simulated wbadmin (the program at wbadmin, run with cli_env)
 * that a killed sysvault left hanging: `wbadmin stop job -quiet`. */
void cli_stop_sim(const char *wbadmin);

/* A run in the background: cli_start() returns at once (args and their
 * strings must outlive it, and cli_env must not change until the process
 * has started); cli_wait() waits for it and fills r like cli(). */
typedef struct cli_bg cli_bg;
cli_bg *cli_start(const char *const *args);
void cli_wait(cli_bg *bg, cli_run *r);

/* The newest job as `sysvault --json jobs --limit 1` prints it, NULL when
 * there is none; the caller releases it. */
json_t *cli_newest_job(void);
/* Waits (up to 60 s, else fails the test) until the newest job is a
 * running one of kind; returns its id. */
int64_t cli_wait_running(const char *kind);

#endif
