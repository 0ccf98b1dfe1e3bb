/*
 * diag.h - the preflight: every known cause of a failed system-state backup,
 * checked before wbadmin runs (docs/preflight.md lists the checks).
 *
 * A run gathers evidence with one probe per check (each in its own thread,
 * each with its own time limit), then a verdict function per check turns
 * the evidence, and nothing else, into pass, warn, fail or skip with a
 * reason and a fix. The evidence is a JSON bundle that diag_save() writes
 * and diag_load() reads back, so that diag_evaluate() judges a machine's
 * bundle anywhere: on a support desk, or in the unit tests.
 *
 * diag needs nothing from the vault: the caller hands it a callback for the
 * connectivity and clock checks.
 */
#ifndef SV_DIAG_H
#define SV_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "sv_buf.h"
#include "sv_error.h"
#include "sv_json.h"

typedef enum diag_verdict {
	DIAG_PASS = 0,
	DIAG_SKIP = 1,
	DIAG_WARN = 2,
	DIAG_FAIL = 3
} diag_verdict;

/* What a failure of the check means for `sysvault backup`. A failing
 * warning-severity check is reported as DIAG_WARN. */
typedef enum diag_severity {
	DIAG_BLOCKING = 0,
	DIAG_WARNING = 1
} diag_severity;

/*
 * The vault, as the connectivity and clock checks see it. ping makes one
 * small authenticated request and returns 0, SV_EAUTH when the credentials
 * are rejected, SV_ENETWORK / SV_ETIMEOUT when the vault cannot be reached,
 * or another sv_err; it writes a one-line message into err (n bytes) on
 * failure and, when the answer carried an HTTP Date header, its time in
 * Unix seconds into *server_time (else 0). It is called from a probe
 * thread, at most twice per run, and must give up after timeout_ms: diag
 * stops waiting then, and a ping that never returns keeps ud in use.
 */
typedef struct diag_vault_cb {
	int (*ping)(void *ud, uint32_t timeout_ms, int64_t *server_time,
		    char *err, size_t n);
	void *ud;
} diag_vault_cb;

typedef struct diag_opts {
	/* wbadmin's path; NULL: $SYSVAULT_WBADMIN, else
	 * %SystemRoot%\System32\wbadmin.exe. */
	const char *wbadmin;
	/* The scratch folder; NULL: PF004 and PF005 skip. */
	const char *scratch_dir;
	/* Bytes of the last backup (for PF005); 0 when unknown. */
	uint64_t last_backup_bytes;
	/* NULL: PF011 and PF012 skip ("no vault configured"). */
	const diag_vault_cb *vault;
	/* What the registration recorded; NULL name: PF013 skips. */
	const char *registered_name;
	const char *registered_fqdn; /* NULL: not compared */
	int64_t credentials_expiry;  /* Unix seconds; 0: never expires */
	/* sysvault's version, reported by PF015. */
	const char *agent_version;
	/* Check ids not to run ("PF009"), NULL-terminated; each is recorded
	 * in the bundle as skipped by the administrator. */
	const char *const *skip;
	/* Run only the blocking checks (what `sysvault backup` does). */
	int blocking_only;
	/* Every probe's time limit in ms; 0: each probe's own (at most 8 s). */
	uint32_t timeout_ms;
} diag_opts;

/* One check's outcome, as read from a report. Strings and evidence belong
 * to the report. */
typedef struct diag_result {
	const char *id; /* "PF001" */
	const char *title;
	diag_severity severity;
	diag_verdict verdict;
	const char *reason;	/* one line: the evidence that decided */
	const char *fix;	/* what to do; NULL on pass and skip */
	const json_t *evidence; /* NULL when the check did not run */
	uint64_t elapsed_ms;
	int timed_out;
} diag_result;

typedef struct diag_report diag_report;

/* Runs every check (but those in opts->skip) on this machine and
 * evaluates them. *out is the caller's, freed with diag_report_free().
 * Returns SV_ENOMEM or SV_EINVAL (an unknown id in opts->skip); a check that
 * cannot look is a verdict, not an error. */
int diag_run(diag_report **out, const diag_opts *opts);

/* Writes the bundle: the JSON of diag_report_json(), crash-safe. */
int diag_save(const diag_report *r, const char *path);
/* Reads a bundle written by diag_save() (or --json output). SV_ECORRUPT
 * when it is not a preflight bundle; checks it does not know are ignored.
 * The verdicts stored in it are not trusted: call diag_evaluate(). */
int diag_load(diag_report **out, const char *path);
int diag_load_mem(diag_report **out, const char *text, size_t len);
/* Marks the checks in skip (NULL-terminated; NULL for none) as skipped by
 * the administrator, then judges every check from its evidence alone.
 * SV_EINVAL for an unknown id in skip. */
int diag_evaluate(diag_report *r, const char *const *skip);

/* 0 when every check passed or skipped, 1 with warnings only, 2 with any
 * failure: the exit code of `sysvault preflight`. */
int diag_exit_code(const diag_report *r);

/* The checks in table order. */
size_t diag_count(const diag_report *r);
int diag_result_at(const diag_report *r, size_t i, diag_result *out);

/* The report with every check's full evidence (the bundle); caller
 * json_decref()s. NULL on out-of-memory. */
json_t *diag_report_json(const diag_report *r);
/* The report as text: one line per check (id, verdict, title, short
 * evidence) and the fix under each warning and failure. width > 0 cuts
 * lines to that many columns (a terminal); 0 never cuts. */
int diag_report_text(const diag_report *r, sv_buf *out, unsigned width);

void diag_report_free(diag_report *r);

/* 1 when id names a check ("PF001".."PF015", any case), else 0. */
int diag_check_exists(const char *id);
const char *diag_verdict_name(diag_verdict v);

#endif
