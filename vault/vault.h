/*
 * vault.h - the public API of the vault module: a deduplicating,
 * compressing, encrypting store of recovery points. The format is
 * docs/vault-format.md.
 *
 * A vault handle is used from one thread at a time; each operation may use
 * several threads inside. Every function returns 0 or a negative sv_err with
 * the message set (sv_error.h).
 */
#ifndef SV_VAULT_H
#define SV_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "sv_error.h"
#include "sv_json.h"

typedef struct vault vault;

#define VAULT_PASSPHRASE_MIN 16
#define VAULT_PASSPHRASE_MAX 1024

/* Checks the passphrase rules (at least 16 characters, ASCII 32-126 only);
 * SV_EINVAL with the rule in the message. */
int vault_passphrase_check(const char *passphrase);

typedef struct vault_init_opts {
	uint32_t chunk_min;     /* 0: defaults 8 KiB / 32 KiB / 128 KiB */
	uint32_t chunk_avg;
	uint32_t chunk_max;
	int zstd_level;         /* 0: 1; -1..-7 are zstd's fast levels */
	uint64_t scrypt_n;      /* 0: 2^15 with p = 4 (tests use less) */
} vault_init_opts;

/*
 * How to reach a cloud vault, beyond its URL. A NULL (or 0) field falls
 * back to the environment: SYSVAULT_AZURE_ENDPOINT, SYSVAULT_AZURE_KEY,
 * SYSVAULT_AZURE_SAS for azure://; SYSVAULT_S3_ENDPOINT, SYSVAULT_S3_REGION,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for s3://. The whole struct may
 * be NULL. Local vaults ignore it.
 */
typedef struct vault_access {
	const char *endpoint;  /* "https://host[:port][/path]": sovereign
				  clouds, emulators, S3-compatible servers */
	const char *secret;    /* azure: the base64 account key, or a SAS
				  token ("sv=...&sig=...", a leading '?' is
				  allowed); s3: "<access key id>:<secret>" */
	const char *region;    /* s3 signing region */
	int insecure;          /* skip TLS verification (the caller warns) */
	unsigned transfers;    /* parallel transfers; 0: the default */
	/* the bandwidth schedule for all transfers (throttle.h, copied);
	 * NULL: unlimited. Local vaults are not throttled. */
	const struct vault_throttle *throttle;
} vault_access;

/* Creates a new vault at url (a directory for now). SV_EEXISTS when a vault
 * (a config object) is already there: nothing is overwritten. opts may be
 * NULL. */
int vault_init(const char *url, const vault_access *acc,
	       const char *passphrase,
	       const vault_init_opts *opts, char id_out[65]);

/*
 * Opens the vault at url with the passphrase (SV_EAUTH: "wrong passphrase
 * for this vault"), and its local cache in cache_dir (created 0700; the
 * file is <cache_dir>/<vault id>.db). The cache is brought up to date with
 * the vault's index and point objects.
 */
int vault_open(vault **out, const char *url, const vault_access *acc,
	       const char *passphrase,
	       const char *cache_dir);
void vault_close(vault *v);
const char *vault_id(const vault *v);
const char *vault_url(const vault *v);

/* One small request to the vault (its config object): 0 when it answers,
 * else the backend's error. *server_time gets the server's clock (HTTP
 * Date) where the backend has one, else 0. */
int vault_ping(vault *v, int64_t *server_time);

/* How many requests to the vault were repeated after a transient failure
 * (network errors, throttling, server errors) since it was opened. */
uint64_t vault_retries(const vault *v);

/* The host (and port) a cloud vault's requests go to, from acc's endpoint,
 * the environment or the service's default: "127.0.0.1:10000",
 * "acct.blob.core.windows.net". SV_EINVAL for a local vault, which has
 * none. */
int vault_endpoint_host(const char *url, const vault_access *acc, char *out,
			size_t n);

/* ---- progress and cancel ---- */

typedef struct vault_progress {
	const char *phase;        /* "scan", "backup", "restore", "check" */
	uint64_t files_done;
	uint64_t files_total;
	uint64_t bytes_done;      /* source bytes processed */
	uint64_t bytes_total;
	uint64_t bytes_new;       /* raw bytes of chunks not yet in the vault */
	uint64_t bytes_stored;    /* bytes written to the vault */
	const char *current;      /* file being processed, or NULL */
} vault_progress;

typedef void (*vault_progress_cb)(void *ud, const vault_progress *p);
/* Non-zero asks the operation to stop (it returns SV_ECANCELLED). */
typedef int (*vault_cancel_cb)(void *ud);

/* ---- backup ---- */

typedef struct vault_backup_opts {
	const char *source_dir;   /* the tree to store */
	const char *machine;      /* recorded in the point */
	const char *fqdn;
	json_t *meta;             /* extra fields merged into the point (wbadmin
				     version, writers, hardware); may be NULL */
	/* Which entries of the tree to store (rel is '/'-separated); NULL:
	 * everything. A directory left out is not descended into. */
	int (*include)(void *ud, const char *rel, int is_dir);
	void *include_ud;
	int threads;              /* 0: one per CPU */
	vault_progress_cb progress;
	vault_cancel_cb cancel;
	void *ud;
} vault_backup_opts;

typedef struct vault_backup_result {
	char point_id[65];
	uint64_t files;
	uint64_t bytes_read;      /* source bytes */
	uint64_t bytes_zero;      /* of which in all-zero chunks */
	uint64_t bytes_new;       /* raw bytes of new chunks */
	uint64_t bytes_stored;    /* pack bytes written */
	uint64_t chunks;
	uint64_t chunks_new;
	uint64_t packs_reused;    /* packs of an interrupted run indexed now */
	uint64_t elapsed_ms;
} vault_backup_result;

/* Stores the tree as a new recovery point. Writes packs, then the index,
 * then the point, last. */
int vault_backup(vault *v, const vault_backup_opts *o, vault_backup_result *r);

/* ---- points ---- */

typedef struct vault_point_info {
	char id[65];
	char machine[256];
	int64_t time;
	uint64_t files;
	uint64_t bytes;
	int scheduled;            /* the point's "trigger": 1 "scheduled" (or
				     absent: points older than the field),
				     0 "adhoc" */
} vault_point_info;

typedef int (*vault_point_list_cb)(void *ud, const vault_point_info *p);
/* Lists points, oldest first; machine NULL for all. */
int vault_points(vault *v, const char *machine, vault_point_list_cb cb,
		 void *ud);
/* Resolves "latest" (newest for machine, or overall when NULL) or a hex id
 * prefix of at least 8 digits into a full id. SV_ENOTFOUND / SV_EINVAL
 * (ambiguous prefix). */
int vault_point_resolve(vault *v, const char *spec, const char *machine,
			char id_out[65]);
/* Loads and decrypts a point object (the JSON of docs/vault-format.md). */
int vault_point_load(vault *v, const char *id, json_t **out);

/* ---- restore ---- */

typedef struct vault_restore_opts {
	const char *point_id;     /* full id (see vault_point_resolve) */
	const char *target_dir;
	int overwrite;            /* replace existing files */
	int threads;
	vault_progress_cb progress;
	vault_cancel_cb cancel;
	void *ud;
} vault_restore_opts;

typedef struct vault_restore_result {
	uint64_t files;
	uint64_t bytes;
	uint64_t elapsed_ms;
} vault_restore_result;

/*
 * Restores every file of the point under target_dir: refuses unsafe paths
 * before writing anything, refuses existing files unless overwrite, writes
 * each file under a temporary name, verifies every chunk (AEAD and id) and
 * the file's SHA-256, then renames it into place. A verification failure
 * is SV_ECORRUPT naming the file and the offset; no wrong file is left.
 */
int vault_restore(vault *v, const vault_restore_opts *o,
		  vault_restore_result *r);

/* ---- check and sync ---- */

typedef void (*vault_problem_cb)(void *ud, const char *object,
				 const char *problem);

typedef struct vault_check_opts {
	unsigned read_data_percent;   /* 0: structure only; 100: every pack */
	vault_problem_cb problem;
	vault_progress_cb progress;
	void *ud;
} vault_check_opts;

typedef struct vault_check_result {
	uint64_t packs;
	uint64_t packs_read;
	uint64_t packs_unindexed;
	uint64_t indexes;
	uint64_t points;
	uint64_t problems;
} vault_check_result;

/* Verifies the vault; each problem is reported through o->problem, and the
 * result is SV_ECORRUPT when there was any. */
int vault_check(vault *v, const vault_check_opts *o, vault_check_result *r);

typedef struct vault_sync_result {
	uint64_t indexes_loaded;
	uint64_t points_loaded;
	uint64_t packs_unindexed;
} vault_sync_result;

/* Rebuilds (full = 1) or refreshes the local cache from the vault alone. */
int vault_sync(vault *v, int full, vault_sync_result *r);

/* ---- keys, machines and tags (registration) ---- */

#define VAULT_MASTER_KEY_LEN 64

/* As vault_open(), with the master key itself instead of a passphrase (a
 * registered machine keeps it locally). A wrong key is found when the
 * first object fails to open (SV_ECORRUPT). */
int vault_open_key(vault **out, const char *url, const vault_access *acc,
		   const uint8_t key[VAULT_MASTER_KEY_LEN],
		   const char *cache_dir);
/* Copies the open vault's master key out; the caller wipes it. */
void vault_key_export(const vault *v, uint8_t key[VAULT_MASTER_KEY_LEN]);

/* Seals the master key under a new passphrase in a new key file, then
 * removes every older key file: the old passphrase stops working. The new
 * file is durable before an old one is removed. scrypt_n 0: the default. */
int vault_passphrase_reset(vault *v, const char *new_passphrase,
			   uint64_t scrypt_n);

/* Stores a machine record (kind 'M', docs/vault-format.md) and returns
 * its object id. */
int vault_machine_store(vault *v, const json_t *record, char id_out[65]);

/* HMAC-SHA256 over data under a key derived from the master key for one
 * purpose ("credentials"): only a holder of the key can make or check it. */
int vault_auth_tag(const vault *v, const char *purpose, const void *data,
		   size_t n, uint8_t tag[32]);
/* ---- prune ---- */

typedef struct vault_prune_opts {
	const char *const *points;  /* full ids of the points to delete */
	size_t npoints;
	const char *machine;        /* named in the prune's lock object */
	int dry_run;                /* compute the result; change nothing */
	vault_cancel_cb cancel;     /* looked at between steps; may be NULL */
	void *ud;
} vault_prune_opts;

typedef struct vault_prune_result {
	uint64_t points_deleted;
	uint64_t packs_deleted;     /* packs no remaining point needs */
	uint64_t bytes_freed;       /* their bytes */
	uint64_t indexes_written;   /* index objects rewritten without them */
	uint64_t packs_repacked;    /* packs a quarter or more unneeded: their
				       needed blobs moved to new packs */
	uint64_t packs_partial;     /* packs kept whole, partly unneeded */
	uint64_t bytes_reclaimable; /* the unneeded blobs' bytes in those */
	int data_deferred;          /* a backup was running: the points went,
				       the data stays for the next prune */
	char deferred_by[320];      /* that backup's machine and start */
} vault_prune_result;

/*
 * Deletes the points, then every pack no remaining point needs, rewriting
 * the index objects that named them (new index objects first, then the
 * old ones, then the packs: a crash at any moment leaves a vault that
 * `vault check` accepts). A pack some remaining point still uses is kept
 * whole when less than a quarter of it is unneeded, else its needed blobs
 * are copied (verified) into new packs, named by the new index objects,
 * and it goes. Holds a "prune" lock object meanwhile; when a backup holds
 * a live lock (another machine backing up), only the points go; another
 * prune's live lock: SV_EBUSY before anything changes. Unknown ids:
 * SV_ENOTFOUND before anything changes. With dry_run nothing changes and
 * r says what would happen. The local cache follows. o->cancel is asked
 * between steps (between points, and between index objects while they
 * are rewritten, whose writes are then taken back); once old index
 * objects and packs are being deleted the prune runs to its end. A
 * cancelled prune returns SV_ECANCELLED and the next one finishes it.
 */
int vault_prune(vault *v, const vault_prune_opts *o, vault_prune_result *r);
/* ---- copy ---- */

typedef struct vault_copy_opts {
	vault_progress_cb progress; /* phase "copy": files are objects */
	vault_cancel_cb cancel;
	void *ud;
} vault_copy_opts;

typedef struct vault_copy_result {
	uint64_t objects;         /* in the source (locks are never copied) */
	uint64_t objects_copied;  /* written to the destination now */
	uint64_t objects_present; /* there already (an earlier copy) */
	uint64_t bytes_copied;
	uint64_t retries;         /* repeated requests to the destination */
	uint64_t elapsed_ms;
} vault_copy_result;

/*
 * Copies every object of v that dst_url (opened with dst_acc; NULL: the
 * environment) does not hold yet, creating the destination's directory,
 * container or bucket when missing: keys and config, then data packs, then
 * index objects, then points and machines, so that an interrupted copy
 * never leaves a point whose data is missing; running it again copies
 * only what is missing. Content-addressed objects are checked against
 * their names before they are written, config and keys read back.
 * Up to dst_acc->transfers objects (default 4) travel at once, all of one
 * kind before the next kind starts.
 * SV_EEXISTS when the destination holds another vault (or objects that are
 * no vault); SV_ECORRUPT when a source object does not match its name (it
 * is not copied) or the destination holds a damaged one; SV_ECANCELLED.
 * r may be NULL.
 */
int vault_copy(vault *v, const char *dst_url, const vault_access *dst_acc,
	       const vault_copy_opts *o, vault_copy_result *r);

#endif
