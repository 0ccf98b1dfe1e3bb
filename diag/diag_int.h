/*
 * diag_int.h - shared inside diag/: the probe provider, the table of
 * checks, evidence helpers and the parsers.
 */
#ifndef SV_DIAG_INT_H
#define SV_DIAG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "sv_buf.h"
#include "sv_json.h"
#include "sv_platform.h"

#define DIAG__NCHECKS 15
#define DIAG__BUNDLE_FORMAT "sysvault-preflight"
#define DIAG__BUNDLE_VERSION 1
#define DIAG__BUNDLE_MAX ((size_t)16 << 20)
/* Output kept from one command a probe runs. */
#define DIAG__OUTPUT_MAX ((size_t)1 << 20)
#define DIAG__GIB ((uint64_t)1 << 30)

/* ---- the probe provider ----
 *
 * Everything a probe learns about the machine comes through this table:
 * the platform layer of common/ (so that tests can put a fake machine
 * behind it), and the few facts that need a different command per OS
 * (the process list, VSS, the ESP, BitLocker, the time zone). Two
 * instances exist, chosen at run time by asking common/ whether Windows
 * services exist here; tests copy one and replace members.
 */
typedef struct diag__provider diag__provider;

/* What one command printed (stdout and stderr, lines joined by "\n"). */
typedef struct diag__output {
	sv_buf text;
	int exit_code;
	int timed_out;
} diag__output;

struct diag__provider {
	const char *platform; /* "windows" or "posix" */

	/* the platform layer */
	int (*service_query)(const char *name, sv_service_info *out);
	int (*acl_system_full_control)(const char *path, int *granted);
	int (*volume_query)(const char *path, sv_volume_info *out);
	int (*fs_stat)(const char *path, int *is_dir, uint64_t *size);
	int (*fs_attributes)(const char *path, unsigned *attrs);
	/* Creates and removes a small file in dir. */
	int (*write_probe)(const char *dir);
	int (*firmware_type)(sv_firmware_type *out);
	int (*smbios_read)(sv_smbios_info *out);
	int (*machine_name)(char *dst, size_t size);
	int (*machine_fqdn)(char *dst, size_t size);
	int (*os_version)(char *dst, size_t size);
	char *(*env_get)(const char *name);
	int64_t (*now)(void);
	/* Runs argv for at most timeout_ms; out->text must be initialised.
	 * SV_ENOTFOUND when the program does not exist, SV_ETIMEOUT (with
	 * out->timed_out) when it was killed. */
	int (*run)(const char *const *argv, uint32_t timeout_ms,
		   diag__output *out);

	/* what differs by OS; each fills ev or returns an sv_err */
	/* The system volume's root: "C:\" or "/". */
	int (*system_volume)(const diag__provider *p, char *dst, size_t size);
	/* Appends each running process's image name to names. */
	int (*process_list)(const diag__provider *p, uint32_t timeout_ms,
			    json_t *names, char *source, size_t source_size);
	/* `vssadmin list writers`: ev gets "writers" (or the failure). */
	int (*vss_writers)(const diag__provider *p, uint32_t timeout_ms,
			   json_t *ev);
	/* Shadow storage of volume ("C:\"): used/allocated/max bytes. */
	int (*shadow_storage)(const diag__provider *p, const char *volume,
			      uint32_t timeout_ms, json_t *ev);
	/* The EFI system partition: found, its volume, the lock probe. */
	int (*esp)(const diag__provider *p, uint32_t timeout_ms, json_t *ev);
	/* BitLocker lock status of volume ("C:\"). */
	int (*bitlocker)(const diag__provider *p, const char *volume,
			 uint32_t timeout_ms, json_t *ev);
	/* The configured time zone's name. */
	int (*time_zone)(const diag__provider *p, uint32_t timeout_ms,
			 char *dst, size_t size);
	/* Whether Data Deduplication is enabled on path's volume. */
	int (*dedup)(const diag__provider *p, const char *path,
		     uint32_t timeout_ms, json_t *ev);
};

extern const diag__provider diag__provider_windows;
extern const diag__provider diag__provider_posix;

/* The provider for this machine: Windows when the service manager
 * answers, POSIX when common/ says services do not exist here. */
const diag__provider *diag__provider_detect(void);

/* The `run` member of both instances: sv_proc_run, output captured. */
int diag__run_command(const char *const *argv, uint32_t timeout_ms,
		      diag__output *out);
/* The `write_probe` member of both instances: creates, writes and
 * removes a small file in dir. */
int diag__write_probe(const char *dir);
void diag__output_init(diag__output *o);
void diag__output_release(diag__output *o);
/* Runs argv through p->run and records a failure in ev ("error"), the
 * exit code and the first lines of output. Returns the run's code. */
int diag__run_into(const diag__provider *p, const char *const *argv,
		   uint32_t timeout_ms, diag__output *out, json_t *ev);
/* Records the beginning of out's text in ev["output"]. */
int diag__keep_output(json_t *ev, const diag__output *out);
/* %SystemRoot%\System32\<exe>, or exe alone without %SystemRoot%. */
char *diag__system32(const diag__provider *p, const char *exe);

/* ---- the parsers ---- */

/* `vssadmin list writers` output (any language: blocks are found by the
 * quoted name, the {GUID}s and the "[n]" state) into an array of
 * {name, id, instance_id, state, state_text, last_error}. */
int diag__vssadmin_parse_writers(json_t **out, const char *text, size_t len);
/* `vssadmin list shadowstorage /for=X:` output (English labels) into
 * {used_bytes, allocated_bytes, max_bytes | unbounded}; {"none": true}
 * when no association exists; SV_EINVAL when unreadable. */
int diag__vssadmin_parse_storage(json_t **out, const char *text, size_t len);
/* `tasklist /fo csv /nh` output: the first field of each row. */
int diag__parse_tasklist(json_t *names, const char *text, size_t len);
/* The lines of `ps -eo comm=`. */
int diag__parse_ps(json_t *names, const char *text, size_t len);
/* The value of "NAME=value" on its own line of a probe script's output,
 * copied into dst; SV_ENOTFOUND when absent. */
int diag__tagged_value(const char *text, size_t len, const char *name,
		       char *dst, size_t size);
/* The REG_SZ value of `reg query <key> /v <name>` output. */
int diag__parse_reg_sz(const char *text, size_t len, const char *name,
		       char *dst, size_t size);

/* ---- known backup software (backup_software.c) ---- */

typedef struct diag__software {
	const char *product;
	const char *kind;    /* "wsb", "job" (a backup is running), or
				"agent" (resident: may start one) */
	const char *pattern; /* PCRE2, caseless, on the image name */
} diag__software;

extern const diag__software diag__backup_software[];

/* The table compiled. Read-only once built: any thread may match. */
typedef struct diag__matcher diag__matcher;
/* SV_EINVAL when a pattern does not compile (a bug in the data). */
int diag__matcher_new(diag__matcher **out);
/* The first entry matching the whole image name, or NULL. */
const diag__software *diag__matcher_find(const diag__matcher *m,
					 const char *name, size_t len);
void diag__matcher_free(diag__matcher *m);

/* ---- evidence ---- */

/* ASCII case-insensitive comparisons (names, ids): 1 when equal. */

/* Stable names for the errors a probe records. */
const char *diag__err_kind(int rc);
/* {"kind": ..., "message": sv_error_msg()} as ev[key]. */
int diag__ev_error(json_t *ev, const char *key, int rc);
/* The "kind" of ev[key] when it is an error object, else NULL. */
const char *diag__ev_error_kind(const json_t *ev, const char *key);
const char *diag__ev_error_msg(const json_t *ev, const char *key);
/* Field readers that tolerate anything (a bundle is untrusted). */
const char *diag__ev_str(const json_t *obj, const char *key);
int diag__ev_u64(const json_t *obj, const char *key, uint64_t *out);
int diag__ev_i64(const json_t *obj, const char *key, int64_t *out);
int diag__ev_bool(const json_t *obj, const char *key, int dflt);
/* A service as evidence: {name, state, start_type, delayed_auto} or
 * {name, error}. */
json_t *diag__ev_service(const diag__provider *p, const char *name);

/* ---- the checks ---- */

/* What probes read: the caller's options, copied. */
typedef struct diag__inputs {
	char *wbadmin;
	char *scratch_dir;
	uint64_t last_backup_bytes;
	diag_vault_cb vault;
	int have_vault;
	char *registered_name;
	char *registered_fqdn;
	int64_t credentials_expiry;
	char *agent_version;
} diag__inputs;

typedef struct diag__probe_ctx {
	const diag__provider *p;
	const diag__inputs *in;
	uint32_t timeout_ms; /* this probe's limit */
} diag__probe_ctx;

/* What a verdict function decides. */
typedef struct diag__outcome {
	diag_verdict verdict;
	sv_buf reason; /* one line */
	sv_buf fix;    /* when set, replaces the table's fix */
} diag__outcome;

/* What a verdict function may know besides the evidence: the bundle's
 * own header. */
typedef struct diag__judge {
	const char *platform;
} diag__judge;

typedef int (*diag__probe_fn)(const diag__probe_ctx *c, json_t *ev);
typedef void (*diag__verdict_fn)(const diag__judge *j, const json_t *ev,
				 diag__outcome *o);

typedef struct diag__check {
	const char *id;
	const char *title;
	diag_severity severity;
	uint32_t timeout_ms;
	diag__probe_fn probe;
	diag__verdict_fn verdict;
	const char *fix;
} diag__check;

extern const diag__check diag__checks[DIAG__NCHECKS];
/* The index of id in diag__checks (any case), or -1. */
int diag__check_index(const char *id);

/* Sets the outcome: verdict and a printf-formatted reason. */
void diag__set(diag__outcome *o, diag_verdict v, const char *fmt, ...)
	SV_PRINTF(3, 4);
/* Replaces the fix text. */
void diag__set_fix(diag__outcome *o, const char *fmt, ...) SV_PRINTF(2, 3);
/* The common first steps of a verdict: NULL evidence, an unsupported
 * platform. Returns 1 when it decided. */
int diag__judge_error(diag__outcome *o, const json_t *ev, const char *key,
		      const char *what);

/* Probes and verdicts, by check (check_*.c). */
int diag__probe_wsb(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_wsb(const diag__judge *j, const json_t *ev,
		       diag__outcome *o);
int diag__probe_services(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_services(const diag__judge *j, const json_t *ev,
			    diag__outcome *o);
int diag__probe_svi_acl(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_svi_acl(const diag__judge *j, const json_t *ev,
			   diag__outcome *o);
int diag__probe_scratch(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_scratch(const diag__judge *j, const json_t *ev,
			   diag__outcome *o);
int diag__probe_scratch_space(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_scratch_space(const diag__judge *j, const json_t *ev,
				 diag__outcome *o);
int diag__probe_system_space(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_system_space(const diag__judge *j, const json_t *ev,
				diag__outcome *o);
int diag__probe_esp(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_esp(const diag__judge *j, const json_t *ev,
		       diag__outcome *o);
int diag__probe_writers(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_writers(const diag__judge *j, const json_t *ev,
			   diag__outcome *o);
int diag__probe_other_backup(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_other_backup(const diag__judge *j, const json_t *ev,
				diag__outcome *o);
int diag__probe_bitlocker(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_bitlocker(const diag__judge *j, const json_t *ev,
			     diag__outcome *o);
int diag__probe_clock(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_clock(const diag__judge *j, const json_t *ev,
			 diag__outcome *o);
int diag__probe_vault(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_vault(const diag__judge *j, const json_t *ev,
			 diag__outcome *o);
int diag__probe_registration(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_registration(const diag__judge *j, const json_t *ev,
				diag__outcome *o);
int diag__probe_azure(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_azure(const diag__judge *j, const json_t *ev,
			 diag__outcome *o);
int diag__probe_versions(const diag__probe_ctx *c, json_t *ev);
void diag__verdict_versions(const diag__judge *j, const json_t *ev,
			    diag__outcome *o);

/* ---- the report ---- */

typedef struct diag__result {
	json_t *evidence; /* NULL when the check did not run */
	uint64_t elapsed_ms;
	uint32_t timeout_ms;
	int timed_out;	     /* the probe overran its limit */
	int skipped_by_user; /* --skip-check */
	int not_run;	     /* blocking_only left it out */
	diag_verdict verdict;
	char *reason;
	char *fix;
} diag__result;

struct diag__run;

struct diag_report {
	struct diag__run *run; /* kept while abandoned probes may run */
	char platform[16];     /* "windows", "posix", or "" */
	char created[32];      /* UTC, "2026-11-21T02:00:14Z" */
	char host[256];
	uint64_t duration_ms;
	diag__result res[DIAG__NCHECKS];
};

/* Drops the report's reference to its run, joining the abandoned probe
 * threads that have ended since. */
void diag__run_release(struct diag__run *r);
/* An empty report (every check not run). */
int diag__report_new(diag_report **out);
/* Runs the checks with provider p (diag_run() with the detected one). */
int diag__run_with(diag_report **out, const diag_opts *opts,
		   const diag__provider *p);
/* Judges one check from its evidence. */
int diag__evaluate_one(const diag_report *r, size_t i, diag__result *res);

#endif
