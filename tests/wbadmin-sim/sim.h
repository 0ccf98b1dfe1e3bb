/*
 * sim.h - the wbadmin simulator's internal interface. The simulator speaks
 * the command lines of ../../../shared/WBADMIN.md well enough for sysvault's
 * wsb module and its tests to drive it like the real tool; README.md in this
 * directory lists what it does, its environment and its exit codes.
 *
 * Pieces: sim_main.c (command line, dispatch), sim_text.c (output, the
 * English and German texts, dates), sim_image.c (the deterministic image),
 * sim_tree.c (the WindowsImageBackup tree of one version: build, write,
 * verify), sim_catalog.c (the catalogue of versions kept on the target),
 * sim_state.c (the job marker and what the simulator remembers between
 * runs), sim_cmd_*.c (one file per command), sim_os_posix.c /
 * sim_os_win.c (console encoding, process id, crash).
 */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sv_buf.h"
#include "sv_error.h"

/* ---- exit codes (README.md) ---- */
enum {
	SIM_EXIT_OK = 0,
	SIM_EXIT_USAGE = 1,    /* command-line syntax error */
	SIM_EXIT_FAILED = 2,   /* the backup (or another operation) failed */
	SIM_EXIT_TARGET = 3,   /* the backup target was refused */
	SIM_EXIT_ACCESS = 4,   /* access denied (not elevated) */
	SIM_EXIT_MISMATCH = 5, /* recovery: the tree differs from the backup */
	SIM_EXIT_NOTFOUND = 6, /* no such version, target or machine */
	SIM_EXIT_STOPPED = 7,  /* the job was ended by "stop job" */
	SIM_EXIT_CANCELLED = 8 /* the prompt was not answered with yes */
};

#define SIM_SECTOR 4096u
#define SIM_BLOCK_SECTORS 1024u /* 4 MiB per generated block */
#define SIM_DEFAULT_SIZE ((uint64_t)64 << 20)
#define SIM_MIN_SIZE ((uint64_t)64 << 10)
#define SIM_MAX_SIZE ((uint64_t)1 << 40)
#define SIM_NAME_MAX 256 /* machine name, bytes */
#define SIM_ID_LEN 16	 /* "MM/DD/YYYY-HH:MM" */

/* ---- the run (one per process, built by sim_main.c) ---- */

typedef struct sim_opts {
	const char *backup_target;
	const char *machine;
	const char *version;
	const char *recovery_target;
	const char *keep_versions;
	int quiet, authsysvol, auto_reboot, delete_oldest, show_summary;
} sim_opts;

typedef struct sim_ctx {
	int german;	  /* WBADMIN_SIM_LANG=de */
	char *state_dir;  /* WBADMIN_SIM_STATE or <temp>/wbadmin-sim */
	char *transcript; /* WBADMIN_SIM_TRANSCRIPT: copy of the output */
	char machine[SIM_NAME_MAX]; /* -machine, else this machine's name */
	sim_opts o;
} sim_ctx;

typedef int (*sim_cmd_fn)(sim_ctx *c);

/* Commands: each returns the process exit code. */
int sim_cmd_backup(sim_ctx *c);
int sim_cmd_recover(sim_ctx *c);
int sim_cmd_versions(sim_ctx *c);
int sim_cmd_items(sim_ctx *c);
int sim_cmd_delete(sim_ctx *c);
int sim_cmd_status(sim_ctx *c);
int sim_cmd_stop(sim_ctx *c);

/* ---- output and texts (sim_text.c) ---- */

typedef enum sim_msg {
	M_BANNER1,
	M_BANNER2,
	M_SYNTAX,
	M_SYNTAX_HINT,
	M_START_BACKUP,
	M_RETRIEVING,
	M_WILL_BACKUP,
	M_PROMPT_BACKUP,
	M_YES_NO,
	M_SHADOW,
	M_SCANNING,
	M_FOUND,
	M_PROGRESS,
	M_BACKUP_OK,
	M_BACKUP_OK_AT,
	M_LOG_OK_COLON,
	M_SUMMARY,
	M_BACKUP_FAILED_AT,
	M_LOG_OK,
	M_LOG_FAIL,
	M_VSS_TIMEOUT,
	M_SHADOW_STORAGE,
	M_SHADOW_STORAGE2,
	M_EFI_LOCKED,
	M_EFI_DETAIL,
	M_ENUM_FAILED,
	M_INVALID_PATH1,
	M_INVALID_PATH2,
	M_CRITICAL,
	M_ACCESS_DENIED,
	M_STOPPED,
	M_CANCELLED,
	M_TARGET_MISSING,
	M_NO_BACKUP,
	M_VERSION_NOT_FOUND,
	M_V_TIME,
	M_V_TARGET,
	M_V_ID,
	M_V_CAN,
	M_V_SNAP,
	M_DELETE_PROMPT,
	M_DELETING,
	M_DELETE_OK,
	M_DELETE_NONE,
	M_REC_CHOSEN,
	M_REC_AUTHSYSVOL,
	M_REC_PROMPT,
	M_REC_START,
	M_REC_PROCESSING,
	M_REC_PROCESSED,
	M_REC_PROGRESS,
	M_REC_OK,
	M_REC_LOG_OK,
	M_REC_RESTART,
	M_REC_REBOOTING,
	M_REC_SUMMARY,
	M_REC_FAILED_AT,
	M_REC_LOG_FAIL,
	M_REC_DIFFERS,
	M_REC_MISSING,
	M_REC_EXTRA,
	M_REC_NOT_NEWEST,
	M_REC_CATALOG_BAD,
	M_REC_NO_SUMMARY,
	M_REC_AUTOREBOOT_ALT,
	M_STATUS_NONE,
	M_STATUS_RUNNING,
	M_STATUS_ENDED,
	M_STOP_PROMPT,
	M_STOP_NONE,
	M_STOP_STOPPING,
	M_STOP_DONE,
	M_ITEMS_APP,
	M_ITEMS_COMPONENT,
	M_BAD_VALUE,
	M_BAD_MACHINE,
	M_COUNT
} sim_msg;

/* Writes one line (UTF-8 text, "\r\n" appended) to stdout, converted to the
 * console's code page on Windows, and to the transcript file if any. */
void sim_line(const sim_ctx *c, const char *text);
void sim_linef(const sim_ctx *c, const char *fmt, ...) SV_PRINTF(2, 3);
/* The same on stderr. */
void sim_eline(const sim_ctx *c, const char *text);
/* Prints message id in the run's language with %1, %2, %3 replaced by the
 * NULL-terminated string arguments. */
void sim_say(const sim_ctx *c, sim_msg id, ...);
/* Formats message id into a new string (caller frees). */
char *sim_text(const sim_ctx *c, sim_msg id, ...);
/* The banner and the blank line after it. */
void sim_banner(const sim_ctx *c);
/* Asks the yes/no question of message id on stdin; 1 for yes. */
int sim_confirm(const sim_ctx *c, sim_msg id);

/* Dates: local time as the locale shows it ("7/18/2026 11:01 AM" or
 * "18.07.2026 11:01"), and the "18-07-2026 11-01-26" of log names. */
void sim_date_local(const sim_ctx *c, char *dst, size_t size, int64_t t);
void sim_date_log(char *dst, size_t size, int64_t t, char sep);
/* "MM/DD/YYYY-HH:MM" in UTC: the version identifier. */
void sim_version_id(char dst[SIM_ID_LEN + 1], int64_t t);
/* "Backup YYYY-MM-DD HHMMSS" in UTC. */
void sim_folder_name(char *dst, size_t size, int64_t t);

/* Prints the failure summary block (shape of KB968247) for time t; err_log
 * receives the error log path when not NULL (size 260). */
void sim_failure_summary(const sim_ctx *c, int64_t t, char *err_log,
			 size_t size);

/* ---- the image (sim_image.c) ---- */

typedef struct sim_region sim_region;
typedef struct sim_op sim_op;

/* Version `version` of the image of one machine: a base image seeded by the
 * machine name (base_size bytes, rounded up to 4 KiB), mutated by about 3%
 * once per later version. Holds only the description, never the bytes. */
typedef struct sim_image {
	uint64_t sectors; /* size of this version in 4 KiB sectors */
	uint64_t base_sectors;
	uint64_t seed;
	sim_region *regions;
	size_t nregions;
	sim_op *ops;
	size_t nops;
} sim_image;

int sim_image_init(sim_image *im, const char *machine, uint64_t base_size,
		   uint32_t version);
void sim_image_release(sim_image *im);
/* Fills buf with count sectors starting at sector first (must lie inside
 * the image). */
void sim_image_fill(const sim_image *im, uint64_t first, size_t count,
		    uint8_t *buf);
static inline uint64_t sim_image_bytes(const sim_image *im)
{
	return im->sectors * SIM_SECTOR;
}

/* Hashes and generators shared with the tree. */
uint64_t sim_hash(const void *p, size_t n, uint64_t h); /* FNV-1a 64 */
uint64_t sim_mix64(uint64_t x);				/* splitmix64 */
/* A random-looking but deterministic GUID, lower case, no braces. */
void sim_guid(char dst[37], uint64_t a, uint64_t b);

/* ---- versions and the catalogue (sim_catalog.c) ---- */

typedef struct sim_version {
	uint32_t num; /* 1, 2, ... per machine on one target */
	int64_t t;    /* backup start, Unix seconds */
	int dc;	      /* domain controller: NTDS writer included */
	char id[SIM_ID_LEN + 1];
} sim_version;

/* Catalog/GlobalCatalog of one machine folder: the versions the target
 * remembers. Updated by every backup and delete; protected by a checksum. */
typedef struct sim_catalog {
	char machine[SIM_NAME_MAX]; /* the name the images are seeded with */
	uint64_t base_size; /* image size of version 1 of this lineage */
	uint32_t next;	    /* number of the next version */
	int64_t last_t;	    /* time of the newest version ever made */
	sim_version *v;	    /* oldest first */
	size_t n;
} sim_catalog;

void sim_catalog_init(sim_catalog *cat);
void sim_catalog_release(sim_catalog *cat);
/* Loads mdir/Catalog/GlobalCatalog: SV_ENOTFOUND when absent, SV_ECORRUPT
 * when malformed or its checksum fails. */
int sim_catalog_load(sim_catalog *cat, const char *mdir);
int sim_catalog_save(const sim_catalog *cat, const char *mdir);
int sim_catalog_add(sim_catalog *cat, const sim_version *v);
void sim_catalog_remove(sim_catalog *cat, size_t i);
/* Index of the version with identifier id, or -1. */
long sim_catalog_find(const sim_catalog *cat, const char *id);

/* ---- the tree of one version (sim_tree.c) ---- */

typedef struct sim_file {
	char *rel;    /* relative to the machine folder, '/' */
	int is_image; /* content from the image generator */
	sv_buf data;  /* otherwise the whole content */
} sim_file;

typedef struct sim_tree {
	char folder[40]; /* "Backup YYYY-MM-DD HHMMSS" */
	char snapset[37];
	sim_image img;
	sim_file *files; /* in write and check order */
	size_t nfiles;
} sim_tree;

/* Builds the expected content of every file of version v (all but
 * Catalog/GlobalCatalog) for machine on a target holding base_size. */
int sim_tree_init(sim_tree *t, const char *machine, uint64_t base_size,
		  const sim_version *v);
void sim_tree_release(sim_tree *t);

/* Called between blocks while the image is written; a non-zero return
 * stops the write (the job was stopped). */
typedef int (*sim_progress_fn)(void *ud, uint64_t done, uint64_t total);

/* Writes the tree under mdir. stop_after, when non-zero, ends the image
 * after that many bytes and writes nothing else (the crash). Returns 0,
 * SV_ECANCELLED when progress asked to stop, or an I/O error. */
int sim_tree_write(const sim_tree *t, const char *mdir, uint64_t stop_after,
		   sim_progress_fn progress, void *ud);

/* A difference between the tree on disk and the expected one. */
typedef struct sim_diff {
	int kind; /* 0 none, M_REC_DIFFERS, M_REC_MISSING,
		     M_REC_EXTRA, M_REC_NOT_NEWEST */
	char rel[512];
	uint64_t offset;
} sim_diff;

/* Compares mdir with the expected tree, streaming; fills *d with the first
 * difference (files in tree order, then unexpected entries). */
int sim_tree_verify(const sim_tree *t, const char *mdir, sim_diff *d);

/* Names of the VSS writers of a version, for XML and `get items`. */
typedef struct sim_writer {
	const char *guid, *name, *component;
	int dc_only;
} sim_writer;
extern const sim_writer sim_writers[];
extern const size_t sim_nwriters;

/* ---- what the simulator remembers (sim_state.c) ---- */

/* <target>/WindowsImageBackup/<machine>, found case-insensitively; newly
 * allocated. */
char *sim_machine_dir(const char *target, const char *machine);
/* The target a command names, else the last one a backup used. NULL with a
 * message printed when neither exists. Caller frees. */
char *sim_target(const sim_ctx *c);
void sim_remember_target(const sim_ctx *c, const char *target);

/* Job marker: <state>/job-<pid> exists while a backup runs; "stop job"
 * removes every marker; a running job polls its own. <state>/job-<pid>.beat
 * holds a monotonic timestamp renewed every second. */
int sim_job_begin(const sim_ctx *c, const char *what);
int sim_job_alive(const sim_ctx *c); /* 0 when stopped */
void sim_job_beat(const sim_ctx *c);
void sim_job_end(const sim_ctx *c);
/* Number of running jobs (fresh beats); stop removes every marker (and
 * stale beats) and returns the number still running. */
int sim_jobs_running(const sim_ctx *c);
int sim_jobs_stop(const sim_ctx *c);

/* The summary -showsummary prints, kept as lines of text. */
int sim_summary_save(const sim_ctx *c, const char *text);
char *sim_summary_load(const sim_ctx *c);

/* Finds the target (-backupTarget or the last one), the machine folder and
 * loads its catalogue (empty when there is none). Returns 0 or the exit
 * code after printing why. *target and *mdir are the caller's to free. */
int sim_open_versions(const sim_ctx *c, char **target, char **mdir,
		      sim_catalog *cat);
/* The snapshot set GUID of a version (file names, "Snapshot ID:"). */
void sim_snapset(char dst[37], const char *machine, const sim_version *v);

/* Current time for a backup: WBADMIN_SIM_NOW or the clock. */
int64_t sim_now(void);

/* ---- platform (sim_os_posix.c, sim_os_win.c) ---- */

void sim_os_init(void);
/* Appends the UTF-8 text converted for the console or pipe (the OEM code
 * page on Windows; unchanged elsewhere). */
int sim_os_encode(sv_buf *out, const char *text, size_t n);
unsigned long sim_os_pid(void);
/* The exit code of cmd.exe (9009) or a POSIX shell (127) for a missing
 * command. */
int sim_os_not_found_code(void);
/* Ends the process the way a crash does. */
void sim_os_crash(void);

#endif
