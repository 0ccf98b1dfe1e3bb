/*
 * backup.c - storing a tree as a recovery point.
 *
 * The pipeline, with bounded memory whatever the size of the tree:
 *
 *   reader thread   reads each file in 2 MiB segments and cuts chunks
 *                   (FastCDC); a chunk job points into its segment
 *   worker threads  for each chunk: all-zero test, chunk id (HMAC), lookup
 *                   in the cache, and zstd for chunks the cache lacks
 *   this thread     consumes the jobs in order: the file's SHA-256, its
 *                   chunk list, the dedup decision within the run, the pack
 *                   builder (encryption); a full pack is recorded in the
 *                   cache as unindexed and handed to
 *   uploader threads which write it to the backend.
 *
 * Then the index object naming every unindexed pack, then the point, last.
 * Jobs live in a ring of JOB_RING slots; at most MAX_SEGMENTS segments are
 * alive; one pack is built while others are being uploaded: one for a
 * local vault (the disk sets the pace), and for a cloud vault as many as
 * it has transfers, but no more than UPLOAD_BUDGET bytes of packs in
 * flight. Each is held in memory until the service confirms it (a retry
 * sends it again from its first byte), and the agent's peak RSS target of
 * 64 MiB leaves room for one 16 MiB pack beside the one being built.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"
#include "vault_walk.h"

#define SEGMENT_SIZE ((size_t)2 << 20)
#define MAX_SEGMENTS 3
#define JOB_RING 512
#define UPLOADS_MAX 16
#define UPLOAD_BUDGET ((uint64_t)16 << 20)

enum { JOB_CHUNK, JOB_FILE_START, JOB_FILE_END };

typedef struct segment {
	uint8_t *data;
	int refs;          /* jobs pointing into it, plus the reader's */
} segment;

typedef struct job {
	int kind;
	int done;
	size_t file;       /* index into the tree */
	segment *seg;
	const uint8_t *data;
	uint32_t len;
	int zero;
	int known;
	uint8_t id[VAULT_ID_LEN];
	uint8_t flags;
	sv_buf stored;     /* compressed bytes, or empty when raw */
} job;

typedef struct upload_item {
	vault_pack_builder *pb;
	uint8_t id[VAULT_ID_LEN];
	const uint8_t *bytes;
	size_t len;
} upload_item;

typedef struct pipeline {
	struct vault *v;
	const vault_backup_opts *o;
	vault_tree tree;
	vault_chunker *chunker;

	sv_mutex *mu;
	sv_cond *work;          /* workers: jobs to claim */
	sv_cond *done;          /* collector: the next job is done */
	sv_cond *space;         /* reader: a free slot or segment */
	sv_cond *upload_cv;     /* uploader and collector: the hand-off */
	segment *pool[MAX_SEGMENTS];   /* free segments, reused */
	int npool;
	size_t seg_size;        /* >= 2 x the largest chunk: a carried-over
				   tail always leaves room to find the cut */
	job *ring;
	uint64_t filled;        /* jobs written by the reader */
	uint64_t claimed;       /* jobs taken by workers */
	uint64_t consumed;      /* jobs consumed by the collector */
	int live_segments;
	int reader_done;
	int stop;               /* an error or a cancel: everyone leaves */
	int err_code;
	char err_msg[1024];

	/* uploader hand-off: finished packs, queued or being written */
	upload_item upq[UPLOADS_MAX];
	int nqueued;            /* in upq, not yet taken */
	int inflight;           /* queued plus being written */
	int max_inflight;
	int nuploaders;
	int uploader_quit;
	uint64_t packs_written;

	vault_backup_result *r;
	vault_lock *lock;       /* held while the backup runs (prune.c) */
} pipeline;

/* Records the first error (from any thread) and stops the pipeline. Call
 * with mu held. */
static void fail_locked(pipeline *pl, int code)
{
	if (!pl->err_code) {
		pl->err_code = code;
		sv_strlcpy(pl->err_msg, sv_error_msg(), sizeof(pl->err_msg));
	}
	pl->stop = 1;
	sv_cond_broadcast(pl->work);
	sv_cond_broadcast(pl->done);
	sv_cond_broadcast(pl->space);
	sv_cond_broadcast(pl->upload_cv);
}

static void fail(pipeline *pl, int code)
{
	sv_mutex_lock(pl->mu);
	fail_locked(pl, code);
	sv_mutex_unlock(pl->mu);
}

/* ---- reader ---- */

/* Segments go back to the pool: no allocation (and no page faults) per
 * segment in the steady state. */
static void segment_unref_locked(pipeline *pl, segment *s)
{
	if (--s->refs > 0)
		return;
	pl->pool[pl->npool++] = s;
	pl->live_segments--;
	sv_cond_signal(pl->space);
}

/* Waits for a free job slot; returns NULL when the pipeline stops. */
static job *slot_wait(pipeline *pl)
{
	job *j = NULL;

	sv_mutex_lock(pl->mu);
	while (!pl->stop && pl->filled - pl->consumed >= JOB_RING)
		sv_cond_wait(pl->space, pl->mu);
	if (!pl->stop)
		j = &pl->ring[pl->filled % JOB_RING];
	sv_mutex_unlock(pl->mu);
	return j;
}

static int emit(pipeline *pl, int kind, size_t file, segment *s,
		const uint8_t *data, uint32_t len)
{
	job *j = slot_wait(pl);

	if (!j)
		return SV_ECANCELLED;
	memset(j, 0, offsetof(job, stored));
	j->kind = kind;
	j->file = file;
	j->seg = s;
	j->data = data;
	j->len = len;
	j->done = kind != JOB_CHUNK;
	sv_mutex_lock(pl->mu);
	if (s)
		s->refs++;
	pl->filled++;
	if (kind == JOB_CHUNK)
		sv_cond_signal(pl->work);
	else if (pl->filled == pl->consumed + 1)
		sv_cond_signal(pl->done);
	sv_mutex_unlock(pl->mu);
	return 0;
}

static int segment_new(pipeline *pl, segment **out)
{
	sv_mutex_lock(pl->mu);
	while (!pl->stop && pl->npool == 0)
		sv_cond_wait(pl->space, pl->mu);
	if (pl->stop) {
		sv_mutex_unlock(pl->mu);
		return SV_ECANCELLED;
	}
	*out = pl->pool[--pl->npool];
	(*out)->refs = 1;
	pl->live_segments++;
	sv_mutex_unlock(pl->mu);
	return 0;
}

static int read_full(sv_file *f, uint8_t *buf, size_t n, size_t *got, int *eof)
{
	size_t r;
	int rc;

	*got = 0;
	while (*got < n) {
		rc = sv_file_read(f, buf + *got, n - *got, &r);
		if (rc < 0)
			return rc;
		if (r == 0) {
			*eof = 1;
			break;
		}
		*got += r;
	}
	return 0;
}

static void segment_unref(pipeline *pl, segment *s)
{
	if (!s)
		return;
	sv_mutex_lock(pl->mu);
	segment_unref_locked(pl, s);
	sv_mutex_unlock(pl->mu);
}

/* Cuts the chunks of one open file into jobs. A chunk that may continue
 * past the end of a segment is carried to the start of the next one. */
static int read_file(pipeline *pl, size_t idx, sv_file *f)
{
	segment *s = NULL, *prev = NULL;
	const uint8_t *carry_src = NULL;
	size_t carry = 0, got, fill, pos, len;
	int eof = 0, rc = 0;

	while (rc == 0 && !eof) {
		if ((rc = segment_new(pl, &s)) < 0)
			break;
		if (carry)
			memcpy(s->data, carry_src, carry);
		segment_unref(pl, prev);
		prev = s;
		rc = read_full(f, s->data + carry, pl->seg_size - carry, &got, &eof);
		fill = carry + got;
		for (pos = 0; rc == 0 && pos < fill; pos += len) {
			len = vault__chunker_next(pl->chunker, s->data + pos,
						  fill - pos, !eof);
			if (len == 0)
				break;
			rc = emit(pl, JOB_CHUNK, idx, s, s->data + pos, (uint32_t)len);
		}
		carry = fill - pos;
		carry_src = s->data + pos;
		if (rc == 0 && !eof && carry >= pl->seg_size)
			rc = sv_error_set(SV_ERROR, "the chunker found no cut in %zu bytes",
					  carry);   /* cannot happen: seg_size >= 2 x max */
	}
	segment_unref(pl, prev);
	return rc;
}

static int read_one(pipeline *pl, size_t idx)
{
	char *path = sv_path_join(pl->o->source_dir, pl->tree.entries[idx].rel);
	sv_file *f = NULL;
	int rc;

	if (!path)
		return SV_ENOMEM;
	sv_path_to_native(path);
	rc = sv_file_open(&f, path, SV_O_READ);
	if (rc == 0)
		rc = emit(pl, JOB_FILE_START, idx, NULL, NULL, 0);
	if (rc == 0)
		rc = read_file(pl, idx, f);
	if (rc == 0)
		rc = emit(pl, JOB_FILE_END, idx, NULL, NULL, 0);
	sv_file_close(f);
	free(path);
	return rc;
}

static void reader_main(void *arg)
{
	pipeline *pl = arg;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < pl->tree.n; i++)
		if (!pl->tree.entries[i].is_dir)
			rc = read_one(pl, i);
	sv_mutex_lock(pl->mu);
	if (rc < 0 && rc != SV_ECANCELLED)
		fail_locked(pl, rc);
	pl->reader_done = 1;
	sv_cond_broadcast(pl->work);
	sv_cond_signal(pl->done);
	sv_mutex_unlock(pl->mu);
}

/* ---- workers ---- */

static int work_chunk(pipeline *pl, vault_cache_reader *cr, job *j)
{
	vault_blob_loc loc;
	int raw, rc;

	if (vault__is_zero(j->data, j->len)) {
		j->zero = 1;
		return 0;
	}
	vault__chunk_id(j->id, pl->v->mk.id_key, j->data, j->len);
	rc = vault__cache_reader_lookup(cr, j->id, &loc);
	if (rc == 0) {
		j->known = 1;
		return 0;
	}
	if (rc != SV_ENOTFOUND)
		return rc;
	sv_buf_init(&j->stored, (size_t)j->len + 1024);
	rc = vault__compress(&j->stored, j->data, j->len, pl->v->zstd_level, &raw);
	j->flags = raw ? 0 : VAULT_BLOB_ZSTD;
	return rc;
}

#define CLAIM_MAX 8   /* jobs a worker takes at once */

static void worker_main(void *arg)
{
	pipeline *pl = arg;
	vault_cache_reader *cr = NULL;
	job *mine[CLAIM_MAX];
	int rc = vault__cache_reader_open(&cr, pl->v->cache);

	sv_mutex_lock(pl->mu);
	if (rc < 0)
		fail_locked(pl, rc);
	for (;;) {
		int n = 0, i, wake = 0;

		while (!pl->stop && pl->claimed == pl->filled && !pl->reader_done)
			sv_cond_wait(pl->work, pl->mu);
		if (pl->stop || pl->claimed == pl->filled)
			break;
		while (n < CLAIM_MAX && pl->claimed < pl->filled) {
			job *j = &pl->ring[pl->claimed++ % JOB_RING];

			if (j->kind == JOB_CHUNK)
				mine[n++] = j;
		}
		sv_mutex_unlock(pl->mu);
		for (i = 0, rc = 0; i < n && rc == 0; i++)
			rc = work_chunk(pl, cr, mine[i]);
		sv_mutex_lock(pl->mu);
		if (rc < 0) {
			fail_locked(pl, rc);
			break;
		}
		for (i = 0; i < n; i++) {
			mine[i]->done = 1;
			wake |= mine[i] == &pl->ring[pl->consumed % JOB_RING];
		}
		if (wake)
			sv_cond_signal(pl->done);
	}
	sv_mutex_unlock(pl->mu);
	vault__cache_reader_close(cr);
}

/* ---- uploader ---- */

static void uploader_main(void *arg)
{
	pipeline *pl = arg;
	char name[VAULT_NAME_MAX];
	upload_item it;
	int rc;

	sv_mutex_lock(pl->mu);
	for (;;) {
		while (!pl->nqueued && !pl->uploader_quit)
			sv_cond_wait(pl->upload_cv, pl->mu);
		if (!pl->nqueued)
			break;
		it = pl->upq[--pl->nqueued];
		vault__name_pack(name, it.id);
		rc = 0;
		if (!pl->stop) {
			sv_mutex_unlock(pl->mu);
			rc = pl->v->be->ops->put(pl->v->be, name, it.bytes,
						 it.len);
			sv_mutex_lock(pl->mu);
		}
		vault__pack_free(it.pb);
		pl->inflight--;
		if (rc < 0)
			fail_locked(pl, rc);
		else if (!pl->stop)
			pl->packs_written++;
		sv_cond_broadcast(pl->upload_cv);
	}
	sv_mutex_unlock(pl->mu);
}

/* How many packs may be in the uploaders' hands at once. */
static int uploads_allowed(const struct vault *v)
{
	uint64_t by_memory = UPLOAD_BUDGET / (v->pack_target ? v->pack_target
							     : VAULT_PACK_TARGET);
	unsigned n = vault__transfers(v);

	if (n == 0) /* a local vault: the disk, not latency, sets the pace */
		n = 1;
	if (n > by_memory)
		n = (unsigned)by_memory;
	if (n > UPLOADS_MAX)
		n = UPLOADS_MAX;
	return n ? (int)n : 1;
}

/* ---- collector: this thread ---- */

typedef struct collector {
	pipeline *pl;
	vault_pack_builder *pb;
	vault_sha256 *sha;
	vault_chunk_ref *refs;     /* the current chunk-list segment */
	uint32_t nrefs;
	uint64_t file_size;
	json_t *lists;             /* segment ids of the current file */
	json_t *files;
	uint64_t last_progress;
	uint64_t files_done;
} collector;

/* Seals the current pack, records it in the cache as unindexed, and hands
 * it to the uploaders (waiting while as many as allowed are in flight). */
static int pack_close(collector *c)
{
	pipeline *pl = c->pl;
	const vault_blob_entry *e;
	const uint8_t *bytes;
	uint8_t id[VAULT_ID_LEN];
	size_t len;
	uint32_t n;
	int rc;

	rc = vault__pack_finish(c->pb, id, &bytes, &len, &e, &n);
	if (rc == 0)
		rc = vault__cache_begin(pl->v->cache);
	if (rc == 0) {
		rc = vault__cache_add_pack(pl->v->cache, id, len, e, n, 0);
		rc = rc == 0 ? vault__cache_commit(pl->v->cache)
			     : (vault__cache_rollback(pl->v->cache), rc);
	}
	if (rc < 0)
		return rc;
	pl->r->bytes_stored += len;
	sv_mutex_lock(pl->mu);
	while (pl->inflight >= pl->max_inflight && !pl->stop)
		sv_cond_wait(pl->upload_cv, pl->mu);
	if (pl->stop) {
		sv_mutex_unlock(pl->mu);
		return SV_ECANCELLED;
	}
	pl->upq[pl->nqueued].pb = c->pb;
	memcpy(pl->upq[pl->nqueued].id, id, VAULT_ID_LEN);
	pl->upq[pl->nqueued].bytes = bytes;
	pl->upq[pl->nqueued].len = len;
	pl->nqueued++;
	pl->inflight++;
	c->pb = NULL;
	sv_cond_broadcast(pl->upload_cv);
	sv_mutex_unlock(pl->mu);
	return 0;
}

/* Stores one blob unless this run or the vault already has it. */
static int store_blob(collector *c, const uint8_t id[VAULT_ID_LEN],
		      const void *stored, size_t n, uint32_t raw_len,
		      uint8_t flags, int *added)
{
	vault_blob_loc loc;
	int rc;

	*added = 0;
	if (c->pb && vault__pack_contains(c->pb, id))
		return 0;
	rc = vault__cache_lookup(c->pl->v->cache, id, &loc);
	if (rc != SV_ENOTFOUND)
		return rc;
	if (!c->pb && (rc = vault__pack_new(&c->pb, &c->pl->v->mk)) < 0)
		return rc;
	rc = vault__pack_add(c->pb, id, stored, n, raw_len, flags);
	if (rc < 0)
		return rc;
	*added = 1;
	if (vault__pack_size(c->pb) >= c->pl->v->pack_target)
		return pack_close(c);
	return 0;
}

/* Stores the pending chunk references as one list segment blob. */
static int flush_refs(collector *c)
{
	uint8_t id[VAULT_ID_LEN];
	char hex[VAULT_HEX_ID_LEN + 1];
	sv_buf plain, packed;
	int raw, added, rc;

	if (c->nrefs == 0)
		return 0;
	sv_buf_init(&plain, (size_t)64 << 20);
	sv_buf_init(&packed, (size_t)64 << 20);
	rc = vault__list_encode(&plain, c->refs, c->nrefs);
	if (rc == 0) {
		vault__chunk_id(id, c->pl->v->mk.id_key, plain.ptr, plain.len);
		rc = vault__compress(&packed, plain.ptr, plain.len,
				     c->pl->v->zstd_level, &raw);
	}
	if (rc == 0)
		rc = store_blob(c, id, raw ? (const void *)plain.ptr : (const void *)packed.ptr,
				raw ? plain.len : packed.len, (uint32_t)plain.len,
				(uint8_t)(VAULT_BLOB_LIST | (raw ? 0 : VAULT_BLOB_ZSTD)),
				&added);
	if (rc == 0) {
		sv_hex_encode(hex, id, VAULT_ID_LEN);
		rc = json_array_append_new(c->lists, json_string(hex)) ? SV_ENOMEM : 0;
	}
	c->nrefs = 0;
	sv_buf_release(&plain);
	sv_buf_release(&packed);
	return rc;
}

static int consume_chunk(collector *c, job *j)
{
	vault_backup_result *r = c->pl->r;
	int added = 0, rc = 0;

	vault__sha256_update(c->sha, j->data, j->len);
	c->file_size += j->len;
	r->bytes_read += j->len;
	r->chunks++;
	if (j->zero) {
		r->bytes_zero += j->len;
		memcpy(c->refs[c->nrefs].id, vault__zero_id, VAULT_ID_LEN);
	} else {
		if (!j->known)
			rc = store_blob(c, j->id,
					j->stored.len ? (const void *)j->stored.ptr : (const void *)j->data,
					j->stored.len ? j->stored.len : j->len,
					j->len, j->flags, &added);
		memcpy(c->refs[c->nrefs].id, j->id, VAULT_ID_LEN);
	}
	if (added) {
		r->bytes_new += j->len;
		r->chunks_new++;
	}
	c->refs[c->nrefs++].raw_length = j->len;
	if (rc == 0 && c->nrefs == VAULT_LIST_SEGMENT_MAX)
		rc = flush_refs(c);
	return rc;
}

static int file_end(collector *c, size_t idx)
{
	uint8_t sum[32];
	char hex[65];
	json_t *f = json_object();
	int rc = flush_refs(c);

	vault__sha256_final(c->sha, sum);
	sv_hex_encode(hex, sum, sizeof(sum));
	if (rc == 0)
		rc = sv_json_set(f, "path", json_string(c->pl->tree.entries[idx].rel));
	if (rc == 0)
		rc = sv_json_set(f, "size", json_integer((json_int_t)c->file_size));
	if (rc == 0)
		rc = sv_json_set(f, "sha256", json_string(hex));
	if (rc == 0) {
		rc = sv_json_set(f, "lists", c->lists);
		c->lists = NULL;
	}
	if (rc == 0)
		rc = json_array_append(c->files, f) ? SV_ENOMEM : 0;
	json_decref(f);
	c->files_done++;
	c->pl->r->files++;
	return rc;
}

static int consume(collector *c, job *j)
{
	switch (j->kind) {
	case JOB_FILE_START:
		c->file_size = 0;
		c->nrefs = 0;
		json_decref(c->lists);
		c->lists = json_array();
		return c->lists ? 0 : SV_ENOMEM;
	case JOB_FILE_END:
		return file_end(c, j->file);
	default:
		return consume_chunk(c, j);
	}
}

static void report(collector *c, int force)
{
	pipeline *pl = c->pl;
	vault_progress p;
	uint64_t now = sv_time_mono_ms();

	if (!pl->o->progress || (!force && now - c->last_progress < 250))
		return;
	c->last_progress = now;
	memset(&p, 0, sizeof(p));
	p.phase = "backup";
	p.files_done = c->files_done;
	p.files_total = pl->tree.files;
	p.bytes_done = pl->r->bytes_read;
	p.bytes_total = pl->tree.bytes;
	p.bytes_new = pl->r->bytes_new;
	p.bytes_stored = pl->r->bytes_stored;
	pl->o->progress(pl->o->ud, &p);
}

/* Rewrites the backup's lock object before it expires (a failure is
 * retried next time; point_write refuses to commit under a lapsed lock). */
static void keep_lock(pipeline *pl)
{
	if (pl->lock && vault__lock_refresh(pl->v, pl->lock, 0) < 0)
		sv_log_warn("cannot refresh the backup's vault lock: %s",
			    sv_error_msg());
}

/* Waits for the next job in order; NULL when everything is consumed or
 * the pipeline stopped. */
static job *next_done(pipeline *pl, collector *c)
{
	job *j = NULL;

	sv_mutex_lock(pl->mu);
	for (;;) {
		if (pl->stop)
			break;
		if (pl->consumed < pl->filled &&
		    pl->ring[pl->consumed % JOB_RING].done) {
			j = &pl->ring[pl->consumed % JOB_RING];
			break;
		}
		if (pl->reader_done && pl->consumed == pl->filled)
			break;
		if (sv_cond_timedwait(pl->done, pl->mu, 200) == SV_ETIMEOUT) {
			sv_mutex_unlock(pl->mu);
			report(c, 0);
			keep_lock(pl);
			if (pl->o->cancel && pl->o->cancel(pl->o->ud))
				fail(pl, sv_error_set(SV_ECANCELLED, "backup cancelled"));
			sv_mutex_lock(pl->mu);
		}
	}
	sv_mutex_unlock(pl->mu);
	return j;
}

static void release(pipeline *pl, job *j)
{
	sv_buf_release(&j->stored);
	sv_mutex_lock(pl->mu);
	if (j->seg)
		segment_unref_locked(pl, j->seg);
	pl->consumed++;
	sv_cond_signal(pl->space);
	sv_mutex_unlock(pl->mu);
}

static int collect(collector *c)
{
	pipeline *pl = c->pl;
	uint64_t n = 0;
	job *j;
	int rc;

	while ((j = next_done(pl, c)) != NULL) {
		rc = consume(c, j);
		release(pl, j);
		if (rc < 0) {
			fail(pl, rc);
			break;
		}
		if ((++n & 63) == 0) {
			report(c, 0);
			keep_lock(pl);
			if (pl->o->cancel && pl->o->cancel(pl->o->ud))
				fail(pl, sv_error_set(SV_ECANCELLED, "backup cancelled"));
		}
	}
	if (!pl->stop && c->pb && vault__pack_count(c->pb) > 0)
		if ((rc = pack_close(c)) < 0)
			fail(pl, rc);
	return pl->err_code;
}

/* ---- the point ---- */

static int point_stats(json_t *p, const vault_backup_result *r)
{
	json_t *st = json_object();
	int rc = 0;

	rc |= sv_json_set(st, "files", json_integer((json_int_t)r->files));
	rc |= sv_json_set(st, "bytes", json_integer((json_int_t)r->bytes_read));
	rc |= sv_json_set(st, "zero_bytes", json_integer((json_int_t)r->bytes_zero));
	rc |= sv_json_set(st, "new_bytes", json_integer((json_int_t)r->bytes_new));
	rc |= sv_json_set(st, "stored_bytes", json_integer((json_int_t)r->bytes_stored));
	rc |= sv_json_set(p, "stats", st);
	return rc ? SV_ENOMEM : 0;
}

static int point_build(json_t **out, pipeline *pl, json_t *files, int64_t t)
{
	const vault_backup_opts *o = pl->o;
	json_t *p = json_object(), *dirs = json_array();
	char when[32];
	size_t i;
	int rc = 0;

	sv_time_format_utc(when, sizeof(when), t);
	for (i = 0; i < pl->tree.n; i++)
		if (pl->tree.entries[i].is_dir)
			rc |= json_array_append_new(dirs, json_string(pl->tree.entries[i].rel));
	rc |= sv_json_set(p, "version", json_integer(1));
	rc |= sv_json_set(p, "machine", json_string(o->machine ? o->machine : ""));
	rc |= sv_json_set(p, "fqdn", json_string(o->fqdn ? o->fqdn : ""));
	rc |= sv_json_set(p, "time", json_string(when));
	rc |= sv_json_set(p, "source", json_string(o->source_dir));
	if (o->meta && json_object_update_missing(p, o->meta) != 0)
		rc = SV_ENOMEM;
	rc |= sv_json_set(p, "files", json_incref(files));
	rc |= sv_json_set(p, "dirs", json_incref(dirs));
	rc |= point_stats(p, pl->r);
	json_decref(dirs);
	if (rc) {
		json_decref(p);
		return sv_error_set(SV_ENOMEM, "cannot build the recovery point");
	}
	*out = p;
	return 0;
}

static int point_write(pipeline *pl, json_t *files)
{
	json_t *p = NULL, *sum = NULL;
	uint8_t id[VAULT_ID_LEN];
	char *text = NULL, *stext = NULL;
	int64_t t = sv_time_now();
	const char *trigger;
	int rc = 0;

	/* A prune elsewhere may have judged this backup's data unneeded once
	 * its lock expired: committing a point on top of that could lose it. */
	if (pl->lock && t >= pl->lock->expires)
		return sv_error_set(SV_EBUSY, "the backup's vault lock expired at "
				    "a time it could not be refreshed; run the "
				    "backup again");
	rc = point_build(&p, pl, files, t);
	if (rc == 0 && !(text = sv_json_dump(p, 0)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = vault__store_object(pl->v, "points", VAULT_OBJ_POINT, text,
					 strlen(text), id);
	if (rc == 0) {
		sum = json_pack("{s:I,s:I}", "files", (json_int_t)pl->r->files,
				"bytes", (json_int_t)pl->r->bytes_read);
		if (sum && pl->o->meta &&
		    sv_json_str(pl->o->meta, "trigger", &trigger) == 0)
			json_object_set_new(sum, "trigger", json_string(trigger));
		stext = sum ? sv_json_dump(sum, 0) : NULL;
		rc = stext ? vault__cache_add_point(pl->v->cache, id,
						    pl->o->machine ? pl->o->machine : "",
						    t, stext)
			   : SV_ENOMEM;
	}
	if (rc == 0)
		sv_hex_encode(pl->r->point_id, id, VAULT_ID_LEN);
	free(text);
	free(stext);
	json_decref(sum);
	json_decref(p);
	return rc;
}

/* ---- setup and teardown ---- */

static int pipeline_init(pipeline *pl, struct vault *v,
			 const vault_backup_opts *o, vault_backup_result *r)
{
	int rc;

	memset(pl, 0, sizeof(*pl));
	pl->v = v;
	pl->o = o;
	pl->r = r;
	if ((rc = vault__tree_scan(&pl->tree, o->source_dir, o->include, o->include_ud)) < 0 ||
	    (rc = vault__chunker_new(&pl->chunker, &v->chunk, v->chunker_seed)) < 0 ||
	    (rc = sv_mutex_new(&pl->mu)) < 0 || (rc = sv_cond_new(&pl->work)) < 0 ||
	    (rc = sv_cond_new(&pl->done)) < 0 || (rc = sv_cond_new(&pl->space)) < 0 ||
	    (rc = sv_cond_new(&pl->upload_cv)) < 0)
		return rc;
	pl->seg_size = SEGMENT_SIZE;
	if (pl->seg_size < 2 * (size_t)v->chunk.max_size)
		pl->seg_size = 2 * (size_t)v->chunk.max_size;
	for (pl->npool = 0; pl->npool < MAX_SEGMENTS; pl->npool++) {
		segment *sg = sv_calloc(1, sizeof(*sg));

		if (!sg || !(sg->data = sv_malloc(pl->seg_size))) {
			free(sg);
			return SV_ENOMEM;
		}
		pl->pool[pl->npool] = sg;
	}
	pl->max_inflight = uploads_allowed(v);
	pl->nuploaders = pl->max_inflight;
	pl->ring = sv_calloc(JOB_RING, sizeof(job));
	return pl->ring ? 0 : SV_ENOMEM;
}

static void pipeline_release(pipeline *pl)
{
	uint64_t s;

	if (pl->ring) {
		for (s = pl->consumed; s < pl->filled; s++) {
			job *j = &pl->ring[s % JOB_RING];

			sv_buf_release(&j->stored);
			if (j->seg)
				segment_unref_locked(pl, j->seg);
		}
		for (s = 0; s < JOB_RING; s++)
			sv_buf_release(&pl->ring[s].stored);
	}
	free(pl->ring);
	while (pl->npool > 0) {
		segment *sg = pl->pool[--pl->npool];

		free(sg->data);
		free(sg);
	}
	while (pl->nqueued > 0)
		vault__pack_free(pl->upq[--pl->nqueued].pb);
	sv_cond_free(pl->work);
	sv_cond_free(pl->done);
	sv_cond_free(pl->space);
	sv_cond_free(pl->upload_cv);
	sv_mutex_free(pl->mu);
	vault__chunker_free(pl->chunker);
	vault__tree_free(&pl->tree);
}

static int collector_init(collector *c, pipeline *pl)
{
	memset(c, 0, sizeof(*c));
	c->pl = pl;
	c->files = json_array();
	c->refs = sv_calloc(VAULT_LIST_SEGMENT_MAX, sizeof(vault_chunk_ref));
	if (!c->files || !c->refs)
		return SV_ENOMEM;
	return vault__sha256_new(&c->sha);
}

static void collector_release(collector *c)
{
	vault__pack_free(c->pb);
	vault__sha256_free(c->sha);
	free(c->refs);
	json_decref(c->lists);
	json_decref(c->files);
}

/* Runs the threads to the end; returns the first error. */
static int run(pipeline *pl, collector *c, int nworkers)
{
	sv_thread *reader = NULL, *uploaders[UPLOADS_MAX] = { NULL };
	sv_thread *workers[64] = { NULL };
	int i, rc = 0;

	for (i = 0; rc == 0 && i < pl->nuploaders; i++)
		rc = sv_thread_start(&uploaders[i], uploader_main, pl);
	for (i = 0; rc == 0 && i < nworkers; i++)
		rc = sv_thread_start(&workers[i], worker_main, pl);
	if (rc == 0)
		rc = sv_thread_start(&reader, reader_main, pl);
	if (rc < 0)
		fail(pl, rc);
	else
		collect(c);
	sv_mutex_lock(pl->mu);
	while (pl->inflight > 0 && !pl->stop)
		sv_cond_wait(pl->upload_cv, pl->mu);
	if (pl->err_code)
		pl->stop = 1;
	pl->uploader_quit = 1;
	sv_cond_broadcast(pl->upload_cv);
	sv_cond_broadcast(pl->work);
	sv_cond_broadcast(pl->space);
	sv_mutex_unlock(pl->mu);
	sv_thread_join(reader);
	for (i = 0; i < nworkers; i++)
		sv_thread_join(workers[i]);
	for (i = 0; i < pl->nuploaders; i++)
		sv_thread_join(uploaders[i]);
	if (pl->err_code)
		return sv_error_set(pl->err_code, "%s", pl->err_msg);
	return 0;
}

/* Takes the backup's lock object, waits while another machine prunes,
 * then brings the cache up to date: what a prune removed before the lock
 * was taken must not be deduplicated against. */
static int backup_lock(struct vault *v, const vault_backup_opts *o,
		       vault_lock *l)
{
	char holder[320];
	int found = 0;
	int rc = vault__lock_take(v, l, "backup", o->machine ? o->machine : "");

	while (rc == 0) {
		rc = vault__lock_find(v, "prune", NULL, 1, &found, holder,
				      sizeof(holder));
		if (rc < 0 || !found)
			break;
		sv_log_info("waiting for the prune of %s to end", holder);
		if (o->cancel && o->cancel(o->ud)) {
			rc = sv_error_set(SV_ECANCELLED, "backup cancelled");
			break;
		}
		sv_time_sleep_ms(5000);
		rc = vault__lock_refresh(v, l, 0);
	}
	if (rc == 0)
		rc = vault_sync(v, 0, NULL);
	return rc;
}

int vault_backup(vault *v, const vault_backup_opts *o, vault_backup_result *r)
{
	vault_lock lock;
	pipeline pl;
	collector c;
	uint64_t start = sv_time_mono_ms(), indexed = 0;
	int nworkers = o->threads > 0 ? o->threads : sv_cpu_count();
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	if (nworkers > 64)
		nworkers = 64;
	memset(&lock, 0, sizeof(lock));
	rc = pipeline_init(&pl, v, o, r);
	if (rc == 0)
		rc = collector_init(&c, &pl);
	/* A cancel reaches every step (a retry's wait ends with it): what is
	 * uploaded by then the next backup reuses, and a lock whose release
	 * it cut short goes stale as after a crash. */
	vault__cancel_begin(v, o->cancel, o->ud);
	if (rc == 0 && (rc = backup_lock(v, o, &lock)) == 0)
		pl.lock = &lock;
	if (rc == 0)
		rc = vault__reconcile_unindexed(v);
	if (rc == 0)
		rc = run(&pl, &c, nworkers);
	if (rc == 0)
		rc = vault__write_index(v, &indexed);
	if (rc == 0)
		rc = point_write(&pl, c.files);
	if (rc == 0 && indexed > pl.packs_written)
		r->packs_reused = indexed - pl.packs_written;
	r->elapsed_ms = sv_time_mono_ms() - start;
	if (rc == 0)
		report(&c, 1);
	collector_release(&c);
	pipeline_release(&pl);
	vault__lock_release(v, &lock);
	vault__cancel_end(v);
	return rc;
}
