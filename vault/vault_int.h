/*
 * vault_int.h - what the files of the vault module share. Nothing outside
 * vault/ includes this; the public API is vault.h. Functions here are named
 * vault__<area>_<verb>. Byte layouts are specified in docs/vault-format.md,
 * which is the reference: where this header and that document disagree,
 * the document wins and this header is the bug.
 */
#ifndef SV_VAULT_INT_H
#define SV_VAULT_INT_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sv_buf.h"
#include "sv_error.h"
#include "vault.h"

/* ------------------------------------------------------------------ */
/* Sizes                                                               */

#define VAULT_ID_LEN 32          /* chunk ids, pack ids, object ids */
#define VAULT_KEY_LEN 32
#define VAULT_MASTER_LEN 64      /* data key || id key */
#define VAULT_SALT_LEN 32
#define VAULT_TAG_LEN 16         /* AES-GCM tag */
#define VAULT_NONCE_LEN 12
#define VAULT_HEX_ID_LEN (2 * VAULT_ID_LEN)

/* The id of an all-zero chunk in chunk lists: 32 zero bytes. HMAC output
 * cannot be that in practice; such chunks are never stored. */
extern const uint8_t vault__zero_id[VAULT_ID_LEN];

/* ------------------------------------------------------------------ */
/* crypto.c - the one file that includes OpenSSL.                      */

typedef struct vault_master {
	uint8_t data_key[VAULT_KEY_LEN];   /* encrypts blobs and objects */
	uint8_t id_key[VAULT_KEY_LEN];     /* HMAC key for chunk ids, chunker seed */
} vault_master;

/* Fills buf with n cryptographically random bytes. */
int vault__random(void *buf, size_t n);

/* SHA-256 in one go, and streaming. */
void vault__sha256(uint8_t out[32], const void *data, size_t n);
typedef struct vault_sha256 vault_sha256;
int vault__sha256_new(vault_sha256 **out);
void vault__sha256_update(vault_sha256 *h, const void *data, size_t n);
void vault__sha256_final(vault_sha256 *h, uint8_t out[32]);  /* then reusable */
void vault__sha256_free(vault_sha256 *h);

/* HMAC-SHA256(key, data): the chunk id. Thread-safe. */
void vault__chunk_id(uint8_t out[VAULT_ID_LEN], const uint8_t key[VAULT_KEY_LEN],
		     const void *data, size_t n);

/* HMAC-SHA256 with a key of any length (request signing). */
int vault__hmac_sha256(uint8_t out[32], const void *key, size_t keylen,
		       const void *data, size_t n);
/* MD5 (Content-MD5 of uploads; not for security). */
int vault__md5(uint8_t out[16], const void *data, size_t n);

/* HKDF-SHA256 (RFC 5869) with salt and info, out_len <= 255*32. */
int vault__hkdf(uint8_t *out, size_t out_len, const uint8_t *ikm,
		size_t ikm_len, const uint8_t *salt, size_t salt_len,
		const void *info, size_t info_len);

/* scrypt (RFC 7914). SV_ENOMEM when the parameters need too much memory. */
int vault__scrypt(uint8_t *out, size_t out_len, const char *pass,
		  const uint8_t *salt, size_t salt_len, uint64_t n,
		  uint32_t r, uint32_t p);

/* AES-256-GCM. seal writes n bytes of ciphertext then the 16-byte tag into
 * out (out has room for n + 16). open checks the tag: SV_ECORRUPT when it
 * does not match (the message is set by the caller, which knows what the
 * data was). Thread-safe; contexts are cached per thread. */
int vault__gcm_seal(uint8_t *out, const uint8_t key[VAULT_KEY_LEN],
		    const uint8_t nonce[VAULT_NONCE_LEN], const void *aad,
		    size_t aad_len, const void *in, size_t n);
int vault__gcm_open(uint8_t *out, const uint8_t key[VAULT_KEY_LEN],
		    const uint8_t nonce[VAULT_NONCE_LEN], const void *aad,
		    size_t aad_len, const void *in, size_t n_with_tag);

/* The 12-byte nonce for counter value c: 4 zero bytes then c big-endian. */
void vault__nonce(uint8_t out[VAULT_NONCE_LEN], uint64_t c);

/* Base64 (standard alphabet, padded). decode: SV_EINVAL on bad input. */
int vault__b64_encode(sv_buf *out, const void *data, size_t n);
int vault__b64_decode(sv_buf *out, const char *text);

/* Wipes secrets (not optimised away). */
void vault__wipe(void *p, size_t n);

/* ------------------------------------------------------------------ */
/* compress.c - the one file that includes zstd.                       */

/* Compresses in into out (appends). *stored_raw = 1 when compression did
 * not save at least 1/32 of the size: then out receives nothing and the
 * caller stores the raw bytes. Thread-safe (context per thread). */
int vault__compress(sv_buf *out, const void *in, size_t n, int level,
		    int *stored_raw);
/* Always produces a zstd frame (for sealed objects), even when it does not
 * shrink the data. Appends to out. */
int vault__compress_always(sv_buf *out, const void *in, size_t n, int level);
/* Decompresses exactly raw_len bytes into out (room for raw_len):
 * SV_ECORRUPT when the frame is bad or the size differs. */
int vault__decompress(uint8_t *out, size_t raw_len, const void *in, size_t n);

/* ------------------------------------------------------------------ */
/* chunker.c - keyed FastCDC with normalised chunking.                 */

typedef struct vault_chunker_params {
	uint32_t min_size;   /* default 8 KiB */
	uint32_t avg_size;   /* default 32 KiB, a power of two */
	uint32_t max_size;   /* default 128 KiB */
} vault_chunker_params;

typedef struct vault_chunker vault_chunker;

/* The gear table is derived from seed (HMAC of a constant under the id key)
 * so that boundaries reveal nothing without the key. SV_EINVAL on bad
 * parameters (min < 64, avg not a power of two, not min < avg < max,
 * max > 4 MiB). */
int vault__chunker_new(vault_chunker **out, const vault_chunker_params *p,
		       const uint8_t seed[32]);
void vault__chunker_free(vault_chunker *c);
/*
 * Returns the length of the next chunk that starts at data[0], looking at
 * no more than n bytes. When n < max_size and the data is not the end of the
 * stream (more == 1), the answer may be "need more": returns 0. With
 * more == 0 the rest of the stream is n bytes and the result is > 0 for
 * n > 0. Stateless between calls: the caller keeps the stream position.
 */
size_t vault__chunker_next(const vault_chunker *c, const uint8_t *data,
			   size_t n, int more);

/* 1 when all n bytes are zero (fast, word at a time). */
int vault__is_zero(const void *data, size_t n);

/* ------------------------------------------------------------------ */
/* objects.c - sealed objects, pack headers, index and chunk-list codecs */

enum vault_object_kind {
	VAULT_OBJ_INDEX = 'I',
	VAULT_OBJ_POINT = 'P',
	VAULT_OBJ_MACHINE = 'M',
	VAULT_OBJ_LOCK = 'L'
};

/* Seals plaintext as an object of kind (format in docs/vault-format.md):
 * compresses with zstd, encrypts under a key derived from data_key and a
 * fresh salt. Appends to out. */
int vault__object_seal(sv_buf *out, const vault_master *mk, int kind,
		       const void *plain, size_t n);
/* Opens a sealed object of the expected kind; appends the plaintext to out
 * (at most max bytes). SV_ECORRUPT naming `what` when anything is wrong. */
int vault__object_open(sv_buf *out, const vault_master *mk, int kind,
		       const void *sealed, size_t n, size_t max,
		       const char *what);

/* One blob's entry in a pack header and in an index object. */
typedef struct vault_blob_entry {
	uint8_t id[VAULT_ID_LEN];
	uint32_t offset;     /* in the pack */
	uint32_t length;     /* stored bytes, tag included */
	uint32_t raw_length; /* plaintext bytes */
	uint8_t flags;       /* VAULT_BLOB_* */
} vault_blob_entry;

enum {
	VAULT_BLOB_ZSTD = 1 << 0,  /* compressed with zstd */
	VAULT_BLOB_LIST = 1 << 1   /* a chunk-list segment, not file data */
};

/* Encodes/decodes the plaintext of a pack header (entries in pack order). */
int vault__pack_header_encode(sv_buf *out, const vault_blob_entry *e,
			      uint32_t count);
int vault__pack_header_decode(vault_blob_entry **out, uint32_t *count,
			      const void *plain, size_t n);

/* One pack's part of an index object. */
typedef struct vault_index_pack {
	uint8_t pack_id[VAULT_ID_LEN];
	uint64_t pack_size;
	vault_blob_entry *blobs;
	uint32_t count;
} vault_index_pack;

/* Encodes/decodes the plaintext of an index object. decode allocates
 * (*out)[i].blobs; free with vault__index_free(). */
int vault__index_encode(sv_buf *out, const vault_index_pack *packs,
			uint32_t npacks);
int vault__index_decode(vault_index_pack **out, uint32_t *npacks,
			const void *plain, size_t n);
void vault__index_free(vault_index_pack *packs, uint32_t npacks);

/* A chunk-list segment: (id, raw length) pairs of one file, in order. */
typedef struct vault_chunk_ref {
	uint8_t id[VAULT_ID_LEN];
	uint32_t raw_length;
} vault_chunk_ref;

#define VAULT_LIST_SEGMENT_MAX 4096   /* refs per segment blob */

int vault__list_encode(sv_buf *out, const vault_chunk_ref *refs,
		       uint32_t count);
int vault__list_decode(vault_chunk_ref **out, uint32_t *count,
		       const void *plain, size_t n);

/* ------------------------------------------------------------------ */
/* pack.c - building and reading packs.                                */

#define VAULT_PACK_TARGET (16u << 20)   /* close a pack past this size */

typedef struct vault_pack_builder vault_pack_builder;

/* A new pack with a fresh salt; the pack key is derived from mk. */
int vault__pack_new(vault_pack_builder **out, const vault_master *mk);
void vault__pack_free(vault_pack_builder *pb);
/* Encrypts one blob (already compressed or raw, per flags) into the pack.
 * id is the chunk id (the AAD). */
int vault__pack_add(vault_pack_builder *pb, const uint8_t id[VAULT_ID_LEN],
		    const void *stored, size_t n, uint32_t raw_length,
		    uint8_t flags);
/* Bytes so far and blob count. */
size_t vault__pack_size(const vault_pack_builder *pb);
uint32_t vault__pack_count(const vault_pack_builder *pb);
/* 1 when the pack already holds a blob with this id. */
int vault__pack_contains(const vault_pack_builder *pb,
			 const uint8_t id[VAULT_ID_LEN]);
/* Appends the sealed header and its length, computes the pack id. The
 * bytes and the entries stay owned by pb until vault__pack_free(). */
int vault__pack_finish(vault_pack_builder *pb, uint8_t id_out[VAULT_ID_LEN],
		       const uint8_t **bytes, size_t *len,
		       const vault_blob_entry **entries, uint32_t *count);

/* The pack's first bytes: magic "SVP1" then the 32-byte salt. */
#define VAULT_PACK_HEAD_LEN 36

/*
 * Reads a pack's header from its last bytes. tail holds the final tail_len
 * bytes of a pack of pack_size bytes (tail_len >= 4). When the header is
 * longer than the tail, sets *need to the tail length required and returns 0
 * with *entries NULL: call again with that many bytes. head is the pack's
 * first VAULT_PACK_HEAD_LEN bytes (it carries the salt). SV_ECORRUPT on a
 * bad length, magic, tag or entry (an entry outside the blob area, or
 * overlapping another). Caller frees *entries.
 */
int vault__pack_read_header(vault_blob_entry **entries, uint32_t *count,
			    size_t *need, const vault_master *mk,
			    const uint8_t head[VAULT_PACK_HEAD_LEN],
			    const uint8_t *tail, size_t tail_len,
			    uint64_t pack_size);
/*
 * Opens one blob read from a pack (the e->length bytes at e->offset) into
 * out (room for e->raw_length): decrypt with nonce = e->offset and AAD =
 * e->id, decompress when flagged, check HMAC(id key, plaintext) == e->id.
 * SV_ECORRUPT with a message naming the chunk id on any mismatch.
 */
int vault__pack_open_blob(uint8_t *out, const vault_master *mk,
			  const uint8_t head[VAULT_PACK_HEAD_LEN],
			  const vault_blob_entry *e, const uint8_t *stored);

/* ------------------------------------------------------------------ */
/* backend.c, backend_local.c - where objects live.                    */

typedef struct vault_backend vault_backend;

typedef int (*vault_list_cb)(void *ud, const char *name, uint64_t size);

/*
 * A backend stores named objects ("config", "data/ab/<hex>", ...). Every
 * operation is safe to call from several threads at once. Objects are
 * write-once: put() of an existing name returns SV_EEXISTS and leaves it
 * alone (except that a put of identical bytes may be reported as success,
 * which makes retries idempotent). Errors carry a message naming the object.
 */
typedef struct vault_backend_ops {
	const char *scheme;   /* "file", "azure", "s3", "fault" */
	int (*put)(vault_backend *b, const char *name, const void *data,
		   size_t n);
	/* Reads len bytes at off (len == UINT64_MAX: to the end) and appends
	 * them to out. SV_ENOTFOUND for a missing object; SV_ECORRUPT when the
	 * object is shorter than off + len. */
	int (*get)(vault_backend *b, const char *name, uint64_t off,
		   uint64_t len, sv_buf *out);
	/* SV_ENOTFOUND when missing. */
	int (*stat)(vault_backend *b, const char *name, uint64_t *size);
	/* Calls cb for every object whose name starts with prefix, in no
	 * particular order; a non-zero cb result stops and is returned. */
	int (*list)(vault_backend *b, const char *prefix, vault_list_cb cb,
		    void *ud);
	/* Removes an object; a missing one is not an error. */
	int (*del)(vault_backend *b, const char *name);
	void (*close)(vault_backend *b);
	/* The service's clock (its HTTP Date), from one small request; NULL
	 * where the backend has no clock of its own (a local directory). */
	int (*server_time)(vault_backend *b, int64_t *unix_time);
} vault_backend_ops;

struct vault_backend {
	const vault_backend_ops *ops;
	char *url;        /* for messages, with no secret in it */
	_Atomic uint64_t retries; /* requests repeated after a transient
				     failure (vault__backend_retried) */
	vault_backend *inner; /* the backend a wrapper (retry layer, fault
				 injection) forwards to; NULL for a leaf */
	struct vault_http *http;  /* a cloud backend's transfer engine (set by
				     the backend), NULL for a local one */
};

/* Counts n repeated requests (HTTP attempts after the first, operations
 * retried by the resilience layer); reported by vault_retries(). Safe from
 * any thread. */
void vault__backend_retried(vault_backend *b, unsigned n);
/* Gives the retry layer b (a vault's top backend; anything else is left
 * alone) the running operation's cancel hook, or with NULL takes it
 * away: a wait between attempts then ends with SV_ECANCELLED within a
 * second of the hook saying so. */
void vault__backend_set_cancel(vault_backend *b, vault_cancel_cb cancel,
			       void *ud);

/* Rewrites the current error of a transfer refused because the server's
 * TLS certificate is not trusted (SV_EAUTH from vault__http_send) into one
 * line naming the fix; returns SV_EAUTH. */
int vault__backend_tls_untrusted(const vault_backend *b);

/* Opens the backend for url: a directory path, "file://<path>" or
 * "azure://<account>/<container>/<prefix>". create: make the root (the
 * container) if missing. */
int vault__backend_open(vault_backend **out, const char *url,
			const vault_access *acc, int create);
void vault__backend_close(vault_backend *b);
/* What vault__backend_open does once the backend is open: wraps leaf
 * (taken; closed on failure) in the fault wrapper when faults is a
 * SYSVAULT_FAULTS spec (NULL or "": none), then in the retry layer. */
int vault__backend_stack(vault_backend **out, vault_backend *leaf,
			 const char *faults);
/* The local-directory backend (backend_local.c). */
int vault__backend_local_open(vault_backend **out, const char *dir,
			      int create);
/* An Azure Blob container (backend_azure.c): url is
 * "azure://<account>/<container>[/<prefix>]"; the endpoint and credentials
 * come from acc, else the environment (SYSVAULT_AZURE_ENDPOINT,
 * SYSVAULT_AZURE_KEY or SYSVAULT_AZURE_SAS). create: make the container if missing. SV_EAUTH
 * without credentials, SV_EINVAL for a malformed url. */
int vault__backend_azure_open(vault_backend **out, const char *url,
			      const vault_access *acc, int create);

/* The fault-injecting wrapper (backend_fault.c; a test tool, selected by
 * SYSVAULT_FAULTS whose syntax that file describes). spec_check: SV_EINVAL
 * with a one-line message for a malformed spec; *backoff_ms gets its
 * backoff= (0 when absent). wrap: takes inner (closed with the wrapper;
 * left to the caller on failure) and warns that faults are on. */
int vault__fault_spec_check(const char *spec, unsigned *backoff_ms);
int vault__backend_fault_wrap(vault_backend **out, vault_backend *inner,
			      const char *spec);
/* An S3 bucket (backend_s3.c): url is "s3://<bucket>[/<prefix>]"; the
 * endpoint, region and credentials come from acc, else the environment
 * (SYSVAULT_S3_ENDPOINT, SYSVAULT_S3_REGION, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); SYSVAULT_S3_PATH_STYLE=1/0
 * chooses the addressing. create: make the bucket if missing. SV_EAUTH
 * without credentials, SV_EINVAL for a malformed url. */
int vault__backend_s3_open(vault_backend **out, const char *url,
			   const vault_access *acc, int create);

/* xml.c: the text between <tag> and </tag> at or after p (before end),
 * unescaped into out (reset first). Returns the position after the close
 * tag, or NULL when there is no such element. */
const char *vault__xml_text(sv_buf *out, const char *p, const char *end,
			    const char *tag);

/* Object names. dst has room for VAULT_NAME_MAX bytes. */
#define VAULT_NAME_MAX 96
void vault__name_pack(char *dst, const uint8_t id[VAULT_ID_LEN]);
void vault__name_object(char *dst, const char *dir,
			const uint8_t id[VAULT_ID_LEN]);
/* The inverse: the id in "data/<xx>/<hex>" (xx its first two digits) or
 * "<dir>/<hex>"; SV_EINVAL for any other name. */
int vault__name_parse_pack(uint8_t id[VAULT_ID_LEN], const char *name);
int vault__name_parse_object(uint8_t id[VAULT_ID_LEN], const char *name,
			     const char *dir);

/* ------------------------------------------------------------------ */
/* cache.c - the local SQLite cache (the one file that includes SQLite). */

typedef struct vault_cache vault_cache;

/* Where a stored chunk is. */
typedef struct vault_blob_loc {
	uint8_t pack_id[VAULT_ID_LEN];
	uint32_t offset;
	uint32_t length;
	uint32_t raw_length;
	uint8_t flags;
} vault_blob_loc;

/*
 * Opens (creating) the cache database at path for the vault vault_id (hex),
 * WAL mode, synchronous=NORMAL. A cache that belongs to another vault id is
 * emptied first. SV_EIO with SQLite's message on failure.
 */
int vault__cache_open(vault_cache **out, const char *path,
		      const char *vault_id);
void vault__cache_close(vault_cache *c);
/* Empties every table (the start of a rebuild). */
int vault__cache_clear(vault_cache *c);

/* Transactions batch the inserts of one pack or one index object. */
int vault__cache_begin(vault_cache *c);
int vault__cache_commit(vault_cache *c);
int vault__cache_rollback(vault_cache *c);

/* Records a pack and its blobs; indexed = 0 for a pack not yet named by an
 * index object. Re-adding a known pack is a no-op. */
int vault__cache_add_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN],
			  uint64_t size, const vault_blob_entry *e,
			  uint32_t count, int indexed);
int vault__cache_mark_indexed(vault_cache *c,
			      const uint8_t pack_id[VAULT_ID_LEN]);
/* Calls cb(ud, pack_id, size) for each pack with indexed = 0. */
typedef int (*vault_pack_cb)(void *ud, const uint8_t pack_id[VAULT_ID_LEN],
			     uint64_t size);
int vault__cache_unindexed(vault_cache *c, vault_pack_cb cb, void *ud);
/* Blobs of one pack, in offset order; caller frees *out. */
int vault__cache_pack_blobs(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN],
			    vault_blob_entry **out, uint32_t *count);
/* Forgets a pack and its blobs (a pack whose upload never completed, or a
 * pack removed by prune). */
int vault__cache_del_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN]);
/* 1 when the pack is known (indexed or not). */
int vault__cache_has_pack(vault_cache *c, const uint8_t pack_id[VAULT_ID_LEN]);

/* Index objects already loaded. */
int vault__cache_has_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN]);
int vault__cache_add_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN]);

/* Looks a chunk up: 0 and *loc filled, or SV_ENOTFOUND. */
int vault__cache_lookup(vault_cache *c, const uint8_t id[VAULT_ID_LEN],
			vault_blob_loc *loc);

/*
 * A read-only connection for lookups from a worker thread (WAL lets it run
 * beside the writer). Sees what the writer has committed.
 */
typedef struct vault_cache_reader vault_cache_reader;
int vault__cache_reader_open(vault_cache_reader **out, vault_cache *c);
int vault__cache_reader_lookup(vault_cache_reader *r,
			       const uint8_t id[VAULT_ID_LEN],
			       vault_blob_loc *loc);
void vault__cache_reader_close(vault_cache_reader *r);

/* Recovery points known locally (summary JSON as written by the caller). */
int vault__cache_add_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN],
			   const char *machine, int64_t time,
			   const char *summary_json);
int vault__cache_has_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN]);
typedef int (*vault_point_cb)(void *ud, const uint8_t point_id[VAULT_ID_LEN],
			      const char *machine, int64_t time,
			      const char *summary_json);
/* Points ordered by time, oldest first. */
int vault__cache_points(vault_cache *c, vault_point_cb cb, void *ud);
int vault__cache_del_point(vault_cache *c, const uint8_t point_id[VAULT_ID_LEN]);

/* Counts for status output. */
int vault__cache_stats(vault_cache *c, uint64_t *packs, uint64_t *chunks,
		       uint64_t *stored_bytes);

/* ------------------------------------------------------------------ */
/* repo.c - an open vault.                                             */

struct vault {
	vault_backend *be;
	vault_cache *cache;
	vault_master mk;
	vault_chunker_params chunk;
	int zstd_level;
	uint64_t pack_target;
	uint8_t chunker_seed[32];
	char id[VAULT_HEX_ID_LEN + 1];
	char *cache_path;
};

/* Parsers of the plaintext objects (fuzzed in tests/fuzz/). */
/* The config JSON into v (id, compression, pack size; not the chunker,
 * which needs the master key). SV_EINVAL / SV_ENOTSUPPORTED naming what. */
int vault__config_parse(struct vault *v, const char *text, size_t len);
/* A key file: 0 with mk filled, SV_EAUTH for a wrong passphrase, SV_EINVAL
 * for a malformed file. */
int vault__keyfile_open(vault_master *mk, const char *text, size_t len,
			const char *vault_id, const char *pass);
/* What a restore relies on in a point's JSON: safe relative paths, sizes,
 * hashes, segment ids. SV_ECORRUPT naming the point (what). */
int vault__point_validate(const json_t *p, const char *what);

/* Largest plaintexts accepted when reading index and point objects. */
#define VAULT_INDEX_MAX ((size_t)512 << 20)
#define VAULT_POINT_MAX ((size_t)64 << 20)

/* Reads, verifies and decodes the index object id (sync.c); free *packs
 * with vault__index_free(). */
int vault__index_load(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		      vault_index_pack **packs, uint32_t *npacks);

/* Reads, verifies (SHA-256 = name) and opens a sealed object by id. */
int vault__load_object(struct vault *v, sv_buf *plain, const char *dir,
		       int kind, const uint8_t id[VAULT_ID_LEN], size_t max);
/* Seals plain as kind and stores it as <dir>/<sha256>; id_out gets the id. */
int vault__store_object(struct vault *v, const char *dir, int kind,
			const void *plain, size_t n,
			uint8_t id_out[VAULT_ID_LEN]);
/* The first bytes (magic and salt) of the pack read last, so that reading
 * several blobs of one pack costs one request each, not two. */
typedef struct vault_head_cache {
	int valid;
	uint8_t pack_id[VAULT_ID_LEN];
	uint8_t head[VAULT_PACK_HEAD_LEN];
} vault_head_cache;

/* Reads one stored blob (chunk or list segment) into out (room for
 * loc->raw_length), verified. hc may be NULL. */
int vault__read_blob(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		     const vault_blob_loc *loc, uint8_t *out,
		     vault_head_cache *hc);

/* Reads and decodes the chunk-list segment id stored at loc; caller frees
 * *refs. */
int vault__read_list(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		     const vault_blob_loc *loc, vault_chunk_ref **refs,
		     uint32_t *count);

/* Ensures every pack the cache lists as unindexed still exists in the
 * backend (drops the ones that do not: an interrupted upload). */
int vault__reconcile_unindexed(struct vault *v);

/* Writes one index object naming every unindexed pack, then marks them
 * indexed. *packs gets how many it named (0: nothing written). */
int vault__write_index(struct vault *v, uint64_t *packs);

/* ------------------------------------------------------------------ */
/* prune.c - sets of ids, lock objects, removing unneeded data.        */

/* A set of 32-byte ids (chunk, pack, object ids), open addressing; grows
 * to at most VAULT_IDSET_MAX entries (SV_ENOMEM past it). */
#define VAULT_IDSET_MAX ((size_t)1 << 27)
typedef struct vault_idset {
	uint8_t (*slots)[VAULT_ID_LEN];
	size_t cap, n;
	int has_zero;      /* the all-zero id, which marks empty slots */
} vault_idset;

void vault__idset_release(vault_idset *s);
/* 1 when added, 0 when it was there already, or SV_ENOMEM. */
int vault__idset_add(vault_idset *s, const uint8_t id[VAULT_ID_LEN]);
int vault__idset_has(const vault_idset *s, const uint8_t id[VAULT_ID_LEN]);

/*
 * Lock objects (locks/<hex 16 random bytes>, kind 'L'): a backup holds one
 * of kind "backup" while it runs, a prune one of kind "prune". Each
 * expires VAULT_LOCK_TTL seconds after it was written; the holder writes a
 * fresh one every VAULT_LOCK_REFRESH seconds. docs/vault-format.md.
 */
#define VAULT_LOCK_TTL 1800
#define VAULT_LOCK_REFRESH 300
typedef struct vault_lock {
	char name[VAULT_NAME_MAX];   /* "" when none is held */
	char kind[16];
	char machine[256];
	int64_t expires;             /* sv_time_now() clock */
	uint64_t refreshed_ms;       /* monotonic, of the last write */
} vault_lock;

/* Writes a new lock object of kind for machine. */
int vault__lock_take(struct vault *v, vault_lock *l, const char *kind,
		     const char *machine);
/* Writes a fresh lock object and removes the previous one when
 * VAULT_LOCK_REFRESH seconds have passed (force: now). */
int vault__lock_refresh(struct vault *v, vault_lock *l, int force);
/* Removes the lock object (errors are logged: it expires anyway). */
void vault__lock_release(struct vault *v, vault_lock *l);
/* Looks for a live lock of kind held by someone else than self (self may
 * be NULL): *found = 1 and holder gets "<machine> since <time>". Expired
 * locks are removed when remove_expired. */
int vault__lock_find(struct vault *v, const char *kind, const vault_lock *self,
		     int remove_expired, int *found, char *holder, size_t n);

/* Cache additions for prune and for noticing what another machine pruned. */
typedef int (*vault_id_cb)(void *ud, const uint8_t id[VAULT_ID_LEN]);
int vault__cache_indexes(vault_cache *c, vault_id_cb cb, void *ud);
int vault__cache_del_index(vault_cache *c, const uint8_t index_id[VAULT_ID_LEN]);
/* Forgets every index object and every indexed pack with its chunks (an
 * index disappeared: it is reloaded from the vault); unindexed packs stay. */
int vault__cache_forget_indexed(vault_cache *c);
/* transfer.c - how an operation drives a cloud backend's engine. */

struct vault_http_opts;
/* A cloud backend's transfer engine (http.h), made from acc (its TLS
 * switch, transfer count and throttle; acc may be NULL) over opts' other
 * settings, and recorded in b->http so that operations find it under the
 * retry layer. The backend owns *out (vault__http_free in its close). */
int vault__backend_engine(vault_backend *b, struct vault_http **out,
			  const vault_access *acc, struct vault_http_opts *opts);

/* How many transfers of v may run at once: the engine's count for a cloud
 * vault, 0 for a local one (its operations keep their own threading). */
unsigned vault__transfers(const struct vault *v);
/* Routes an operation's cancel hook to the engine (in-flight transfers
 * are aborted within a second) and to the retry layer (its waits end
 * within a second); vault__cancel_end clears it. */
void vault__cancel_begin(struct vault *v, vault_cancel_cb cancel, void *ud);
void vault__cancel_end(struct vault *v);

/* parts.c - the parts of one object uploaded at once. */

#define VAULT_PARTS_WORKERS_MAX 32
/* Sends part i of an object; 0 or an error (set with sv_error_set). */
typedef int (*vault_part_fn)(void *ud, size_t i);
/* Runs fn for parts 0..n-1 on up to `workers` threads (the caller's
 * included), each taking the next part not yet sent; stops taking parts
 * after the first failure and returns it, with its message, once all
 * threads are done. */
int vault__parts_run(unsigned workers, size_t n, vault_part_fn fn, void *ud);

#endif
