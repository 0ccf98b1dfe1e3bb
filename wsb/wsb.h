/*
 * wsb.h - Windows Server Backup as sysvault drives it: the wbadmin driver,
 * the parsing and classification of its output, the staging volume, and
 * the WindowsImageBackup layout. Facts: ../shared/WBADMIN.md.
 *
 * Every function returns 0 or a negative sv_err; a classified wbadmin
 * failure additionally fills a wsb_failure with a stable code and the fix.
 */
#ifndef SV_WSB_H
#define SV_WSB_H

#include <stddef.h>
#include <stdint.h>

#include "sv_error.h"
#include "sv_json.h"

/* ---- output parsing (parse.c, catalogue.c) ---- */

/* A version identifier "MM/DD/YYYY-HH:MM" (language-neutral, UTC). */
#define WSB_VERSION_LEN 16

typedef struct wsb_version {
	char id[WSB_VERSION_LEN + 1];   /* "06/30/2026-19:26" */
	char backup_time[64];           /* "Backup time:" value as printed */
	char target[256];               /* "Backup target:" value */
	char can_recover[256];
} wsb_version;

/* Parses `wbadmin get versions` output (CRLF or LF, any language: blocks
 * are found by the version identifier pattern). *out is allocated; caller
 * frees. Zero versions is not an error. */
int wsb_parse_versions(wsb_version **out, size_t *count, const char *text,
		       size_t len);

/* A failure classified by the error catalogue (wsb/errors.tsv). */
typedef struct wsb_failure {
	char code[48];       /* stable: "WSB_VSS_TIMEOUT", ... "WSB_UNKNOWN" */
	char cause[256];     /* one line */
	char fix[512];       /* what to do */
	char evidence[512];  /* the matching line or HRESULT */
	char logs[2][260];   /* log paths wbadmin named, if any */
	char hresult[11];    /* "0x800423F2" when one was seen, else "" */
} wsb_failure;

/* The catalogue, compiled once (thread-safe after wsb_catalogue_load). */
typedef struct wsb_catalogue wsb_catalogue;
int wsb_catalogue_load(wsb_catalogue **out);
void wsb_catalogue_free(wsb_catalogue *c);
/* Classifies the output lines of a failed run (NUL-separated or newline
 * separated text). HRESULT and event-id rules are tried before English
 * phrases; with no match, code is WSB_UNKNOWN and evidence holds the last
 * lines. Log paths named by wbadmin are extracted either way. */
void wsb_classify(const wsb_catalogue *c, const char *output, size_t len,
		  wsb_failure *out);
/* Visits every catalogue entry (for docs/errors.md and tests). */
typedef int (*wsb_entry_cb)(void *ud, const char *code, const char *cause,
			    const char *fix);
int wsb_catalogue_each(const wsb_catalogue *c, wsb_entry_cb cb, void *ud);

/* Progress seen in a line of `start systemstatebackup` output: returns 1
 * and fills *percent (0-100, or -1 when the line is a phase without a
 * number) for a progress line, else 0. Language-neutral where it can be. */
int wsb_parse_progress(const char *line, int *percent);

/* ---- the driver (driver.c) ---- */

typedef struct wsb_opts {
	const char *wbadmin;         /* the program: see wsb_wbadmin_path() */
	uint32_t phase_timeout_ms;   /* per wbadmin run; 0: 6 hours */
	const wsb_catalogue *catalogue;
	/* Non-zero asks to stop: the driver runs `wbadmin stop job -quiet`,
	 * then kills wbadmin's process tree. */
	int (*cancel)(void *ud);
	/* Each output line, with its percentage (-1 for a phase line, -2 for
	 * any other line). */
	void (*progress)(void *ud, int percent, const char *line);
	void *ud;
} wsb_opts;

/* The wbadmin to run: `configured` when given, else $SYSVAULT_WBADMIN,
 * else %SystemRoot%\System32\wbadmin.exe (wbadmin elsewhere). Caller
 * frees. */
char *wsb_wbadmin_path(const char *configured);

typedef struct wsb_backup_result {
	char version[WSB_VERSION_LEN + 1];  /* the new version identifier */
	wsb_failure failure;                /* when the result is SV_ERROR */
	int exit_code;
} wsb_backup_result;

/*
 * Runs `wbadmin start systemstatebackup -backupTarget:<target> -quiet` and
 * decides success from evidence that does not depend on language: exit code
 * 0, a version identifier in `get versions` that was not there before, and
 * (on Windows) the Microsoft-Windows-Backup completion event with HRESULT 0.
 * A classified failure returns SV_ERROR with r->failure filled and the
 * message "<code>: <cause> Fix: <fix>"; a timeout SV_ETIMEOUT
 * (WSB_TIMEOUT), a cancel SV_ECANCELLED.
 */
int wsb_backup(const wsb_opts *o, const char *target, wsb_backup_result *r);

/* `wbadmin get versions -backupTarget:<target>`; caller frees *out. */
int wsb_versions(const wsb_opts *o, const char *target, wsb_version **out,
		 size_t *count);

/* `wbadmin delete systemstatebackup -keepVersions:<keep> ... -quiet`. */
int wsb_trim(const wsb_opts *o, const char *target, unsigned keep);

typedef struct wsb_recover_opts {
	const char *version;      /* the version identifier */
	const char *target;       /* -backupTarget: the restored tree's root */
	const char *machine;      /* -machine: */
	int authsysvol;           /* -authsysvol (domain controllers, DSRM) */
	int reboot;               /* -autoReboot */
} wsb_recover_opts;

/* Runs `wbadmin start systemstaterecovery ... -quiet`; failures are
 * classified like backups. */
int wsb_recover(const wsb_opts *o, const wsb_recover_opts *ro,
		wsb_failure *failure);

/* ---- the staging volume (staging.c) ---- */

/*
 * Makes the staging volume ready and returns the wbadmin target for it:
 * on Windows the VHDX <scratch>/CBSSBVol_sysvault.vhdx, created once
 * (dynamically expanding, max_bytes; 0: 512 GiB), attached without a drive
 * letter and
 * addressed by its volume GUID path; where virtual disks do not exist, the
 * directory <scratch>/CBSSBVol. Caller frees *target.
 */
int wsb_staging_prepare(const char *scratch, uint64_t max_bytes,
			char **target);
/* Detaches the staging VHDX (cache move, uninstall); a directory: no-op. */
int wsb_staging_release(const char *scratch);

/* ---- the WindowsImageBackup layout (layout.c) ---- */

#define WSB_NTDS_WRITER "b2014c9e-8711-4c5c-a5a9-3cf384484757"

typedef struct wsb_layout {
	char machine[256];        /* the folder under WindowsImageBackup */
	char backup_dir[320];     /* "Backup YYYY-MM-DD HHMMSS" (newest) */
	char **writers;           /* writer GUIDs from _Writer<GUID>.xml */
	size_t nwriters;
	int domain_controller;    /* the NTDS writer took part */
} wsb_layout;

/* Finds WindowsImageBackup/<machine> under target (machine NULL: the only
 * one there) and its newest Backup folder. SV_ENOTFOUND naming what is
 * missing. */
int wsb_layout_scan(wsb_layout *out, const char *target, const char *machine);
void wsb_layout_release(wsb_layout *l);
/* 1 when rel (a '/'-separated path under target) belongs in a recovery
 * point of this layout: the machine's catalogue, MediaId, SPPMetadataCache
 * and the newest Backup folder, but not older Backup folders, other
 * machines, or anything outside WindowsImageBackup. */
int wsb_layout_includes(const wsb_layout *l, const char *rel, int is_dir);
/* The layout as JSON for the recovery point: machine, backup folder,
 * writers, domain_controller. */
json_t *wsb_layout_json(const wsb_layout *l);

#endif
