/*
 * restore.c - writing a recovery point's files back, verified.
 *
 * Nothing is written until every path of the point has been checked (safe,
 * relative, not already present unless overwriting). Each file is written
 * under "<name>.sv-partial": chunks are fetched and verified (AEAD, then
 * HMAC id) by worker threads a batch at a time, and written in order by
 * this thread, which also computes the file's SHA-256. Only a file whose
 * hash matches the point is renamed into place; all-zero chunks become
 * holes.
 *
 * From a cloud vault, where a request costs a round trip, chunks that lie
 * back to back in one pack (as a file's new chunks do) are fetched as one
 * run: one ranged GET of up to RUN_MAX bytes, each blob then verified on
 * its own. The pool has at least one thread per transfer of the vault's
 * engine, since a fetch mostly waits on the network.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

#define BATCH 128
#define RUN_MAX ((uint64_t)1 << 20)
#define PARTIAL_SUFFIX ".sv-partial"

typedef struct fetch {
	vault_chunk_ref ref;
	uint64_t offset;     /* in the file */
	uint8_t *data;       /* plaintext, NULL for a zero chunk */
	vault_blob_loc loc;  /* where it is, when have_loc */
	int have_loc;
	int run;             /* fetches in the run this one starts; 0 inside */
	int rc;
	char err[512];
} fetch;

typedef struct pool {
	struct vault *v;
	sv_mutex *mu;
	sv_cond *cond;
	fetch *batch;
	fetch *spare;      /* the third batch buffer (see flush_batch) */
	int count, next, done, quit;
	uint64_t generation;
} pool;

static int fetch_one(struct vault *v, vault_cache_reader *cr,
		     vault_head_cache *hc, fetch *f)
{
	vault_blob_loc loc;
	char hex[VAULT_HEX_ID_LEN + 1];
	int rc;

	if (memcmp(f->ref.id, vault__zero_id, VAULT_ID_LEN) == 0)
		return 0;
	loc = f->loc;
	rc = f->have_loc ? 0 : vault__cache_reader_lookup(cr, f->ref.id, &loc);
	if (rc == SV_ENOTFOUND) {
		sv_hex_encode(hex, f->ref.id, VAULT_ID_LEN);
		return sv_error_set(SV_ECORRUPT,
				    "chunk %.16s is not in any index of the vault (missing data)",
				    hex);
	}
	if (rc < 0)
		return rc;
	if (loc.raw_length != f->ref.raw_length)
		return sv_error_set(SV_ECORRUPT, "chunk length differs between the point and the index");
	f->data = sv_malloc(loc.raw_length ? loc.raw_length : 1);
	if (!f->data)
		return SV_ENOMEM;
	return vault__read_blob(v, f->ref.id, &loc, f->data, hc);
}

/* Opens the k blobs of f, back to back in one pack whose head hc holds,
 * from one read of their span. */
static int fetch_span(struct vault *v, vault_head_cache *hc, fetch *f, int k)
{
	uint64_t start = f[0].loc.offset;
	uint64_t end = (uint64_t)f[k - 1].loc.offset + f[k - 1].loc.length;
	char name[VAULT_NAME_MAX];
	sv_buf span;
	int i, rc;

	vault__name_pack(name, f[0].loc.pack_id);
	sv_buf_init(&span, (size_t)(end - start));
	rc = v->be->ops->get(v->be, name, start, end - start, &span);
	for (i = 0; rc == 0 && i < k; i++) {
		vault_blob_entry e;

		if (f[i].loc.raw_length != f[i].ref.raw_length) {
			rc = sv_error_set(SV_ECORRUPT, "chunk length differs between the point and the index");
			break;
		}
		memcpy(e.id, f[i].ref.id, VAULT_ID_LEN);
		e.offset = f[i].loc.offset;
		e.length = f[i].loc.length;
		e.raw_length = f[i].loc.raw_length;
		e.flags = f[i].loc.flags;
		f[i].data = sv_malloc(e.raw_length ? e.raw_length : 1);
		rc = f[i].data ? vault__pack_open_blob(f[i].data, &v->mk, hc->head, &e,
						       (const uint8_t *)span.ptr +
							       (e.offset - start))
			       : SV_ENOMEM;
	}
	if (rc < 0 && rc != SV_ENOMEM)
		sv_error_prefix("pack %s", name);
	sv_buf_release(&span);
	return rc;
}

/* Fetches a run of k (1 for a lone chunk): the whole span in one request
 * when the pack's head is at hand, else the first blob (which reads the
 * head) and then the rest. A failure is recorded in every fetch of it. */
static void fetch_run(pool *p, vault_cache_reader *cr, vault_head_cache *hc,
		      fetch *f, int k)
{
	int i, rc;

	if (!cr)
		rc = sv_error_set(SV_EIO, "no cache connection for this thread");
	else if (k > 1 && hc->valid &&
		 memcmp(hc->pack_id, f->loc.pack_id, VAULT_ID_LEN) == 0)
		rc = fetch_span(p->v, hc, f, k);
	else if ((rc = fetch_one(p->v, cr, hc, f)) == 0 && k > 1)
		rc = fetch_span(p->v, hc, f + 1, k - 1);
	for (i = 0; rc < 0 && i < k; i++) {
		f[i].rc = rc;
		sv_strlcpy(f[i].err, sv_error_msg(), sizeof(f[i].err));
	}
}

/* Takes and runs fetches of the current batch until none is left. */
static void drain_batch(pool *p, vault_cache_reader *cr, vault_head_cache *hc)
{
	for (;;) {
		fetch *f;
		int k;

		if (p->next >= p->count)
			return;
		f = &p->batch[p->next];
		k = f->run > 1 ? f->run : 1;
		p->next += k;
		sv_mutex_unlock(p->mu);
		fetch_run(p, cr, hc, f, k);
		sv_mutex_lock(p->mu);
		p->done += k;
		if (p->done == p->count)
			sv_cond_broadcast(p->cond);
	}
}

static void pool_main(void *arg)
{
	pool *p = arg;
	vault_cache_reader *cr = NULL;
	vault_head_cache hc = { 0 };
	uint64_t seen = 0;

	if (vault__cache_reader_open(&cr, p->v->cache) < 0)
		sv_log_warn("restore worker without cache: %s", sv_error_msg());
	sv_mutex_lock(p->mu);
	while (!p->quit) {
		if (p->generation != seen && p->next < p->count) {
			seen = p->generation;
			drain_batch(p, cr, &hc);
			continue;
		}
		sv_cond_wait(p->cond, p->mu);
	}
	sv_mutex_unlock(p->mu);
	vault__cache_reader_close(cr);
}

/* Waits for the batch in flight, then hands the pool `next_batch` (count
 * entries); returns the finished batch and its size. */
static fetch *swap_batch(pool *p, fetch *next_batch, int count, int *done_n)
{
	fetch *finished;

	sv_mutex_lock(p->mu);
	while (p->done < p->count)
		sv_cond_wait(p->cond, p->mu);
	finished = p->batch;
	*done_n = p->count;
	p->batch = next_batch;
	p->count = count;
	p->next = 0;
	p->done = 0;
	p->generation++;
	sv_cond_broadcast(p->cond);
	sv_mutex_unlock(p->mu);
	return finished;
}

/* ---- one file ---- */

typedef struct file_ctx {
	struct vault *v;
	pool *p;
	const vault_restore_opts *o;
	vault_restore_result *r;
	const char *rel;
	sv_file *out;
	vault_sha256 *sha;
	uint64_t queued;      /* file offset of the next queued chunk */
	uint64_t written;     /* bytes verified and written */
	fetch *fill;          /* the batch being filled by this thread */
	int batch_n;
	int coalesce;         /* a cloud vault: join chunks into runs */
	int run_start;        /* index in fill of the open run, or -1 */
	uint64_t last_progress;
	uint64_t bytes_total;
	uint64_t files_total;
} file_ctx;

static const uint8_t zeros[64 << 10];

static void hash_zeros(vault_sha256 *sha, uint64_t left)
{
	while (left > 0) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);

		vault__sha256_update(sha, zeros, n);
		left -= n;
	}
}

/* Writes a fetched batch in order (freeing it); the first error wins. */
static int write_batch(file_ctx *fc, fetch *b, int n)
{
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		fetch *f = &b[i];

		if (rc == 0 && f->rc < 0) {
			rc = sv_error_set(f->rc, "cannot restore '%s' at offset %llu: %s",
					  fc->rel, (unsigned long long)f->offset, f->err);
		} else if (rc == 0 && f->data) {
			vault__sha256_update(fc->sha, f->data, f->ref.raw_length);
			rc = sv_file_pwrite(fc->out, f->data, f->ref.raw_length, f->offset);
		} else if (rc == 0) {
			hash_zeros(fc->sha, f->ref.raw_length);
		}
		if (rc == 0) {
			fc->written += f->ref.raw_length;
			fc->r->bytes += f->ref.raw_length;
		}
		free(f->data);
		memset(f, 0, sizeof(*f));
	}
	return rc;
}

/* Hands the filled batch to the pool and writes the one it finished, so
 * that fetching and writing overlap. */
static int flush_batch(file_ctx *fc)
{
	int n = 0;
	fetch *done = swap_batch(fc->p, fc->fill, fc->batch_n, &n);

	fc->fill = done;
	fc->batch_n = 0;
	fc->run_start = -1;
	return write_batch(fc, done, n);
}

/* Waits for the batch in flight and writes it (end of a file). On an
 * earlier error the batch is only freed. */
static int finish_batches(file_ctx *fc, int rc)
{
	int n = 0, i;
	fetch *done = swap_batch(fc->p, fc->p->spare, 0, &n);

	fc->p->spare = done;
	if (rc == 0)
		return write_batch(fc, done, n);
	for (i = 0; i < n; i++) {
		free(done[i].data);
		memset(&done[i], 0, sizeof(done[i]));
	}
	for (i = 0; i < fc->batch_n; i++)
		memset(&fc->fill[i], 0, sizeof(fc->fill[i]));
	fc->batch_n = 0;
	fc->run_start = -1;
	return rc;
}

static void progress(file_ctx *fc, int force)
{
	vault_progress pr;
	uint64_t now = sv_time_mono_ms();

	if (!fc->o->progress || (!force && now - fc->last_progress < 250))
		return;
	fc->last_progress = now;
	memset(&pr, 0, sizeof(pr));
	pr.phase = "restore";
	pr.files_done = fc->r->files;
	pr.files_total = fc->files_total;
	pr.bytes_done = fc->r->bytes;
	pr.bytes_total = fc->bytes_total;
	pr.current = fc->rel;
	fc->o->progress(fc->o->ud, &pr);
}

/* Finds where f's chunk is (from this thread's cache connection) and
 * joins it to the open run when it follows that run's last blob in the
 * same pack. A chunk not found is left to the fetch, which names it. */
static void join_run(file_ctx *fc, fetch *f)
{
	fetch *head, *last;
	int idx = (int)(f - fc->fill);

	f->run = 1;
	if (!fc->coalesce || memcmp(f->ref.id, vault__zero_id, VAULT_ID_LEN) == 0 ||
	    vault__cache_lookup(fc->v->cache, f->ref.id, &f->loc) != 0) {
		fc->run_start = -1;
		return;
	}
	f->have_loc = 1;
	head = fc->run_start >= 0 ? &fc->fill[fc->run_start] : NULL;
	last = idx > 0 ? f - 1 : NULL;
	if (head && last && last->have_loc &&
	    memcmp(last->loc.pack_id, f->loc.pack_id, VAULT_ID_LEN) == 0 &&
	    (uint64_t)last->loc.offset + last->loc.length == f->loc.offset &&
	    (uint64_t)f->loc.offset + f->loc.length - head->loc.offset <= RUN_MAX) {
		head->run++;
		f->run = 0;
		return;
	}
	fc->run_start = idx;
}

/* Reads one chunk-list segment and queues its chunks. */
static int restore_segment(file_ctx *fc, const char *hex)
{
	vault_chunk_ref *refs = NULL;
	vault_blob_loc loc;
	uint8_t id[VAULT_ID_LEN];
	uint32_t n = 0, i;
	int rc;

	if ((rc = sv_hex_decode(id, VAULT_ID_LEN, hex)) < 0)
		return SV_ECORRUPT;
	rc = vault__cache_lookup(fc->v->cache, id, &loc);
	if (rc == SV_ENOTFOUND)
		rc = sv_error_set(SV_ECORRUPT, "the chunk list %.16s of '%s' is missing from the vault",
				  hex, fc->rel);
	if (rc == 0)
		rc = vault__read_list(fc->v, id, &loc, &refs, &n);
	if (rc < 0 && rc != SV_ENOMEM && rc != SV_ECANCELLED)
		sv_error_prefix("cannot restore '%s' from offset %llu (its chunk list)",
				fc->rel, (unsigned long long)fc->queued);
	for (i = 0; rc == 0 && i < n; i++) {
		fetch *f = &fc->fill[fc->batch_n++];

		f->ref = refs[i];
		f->offset = fc->queued;
		fc->queued += refs[i].raw_length;
		join_run(fc, f);
		if (fc->batch_n == BATCH)
			rc = flush_batch(fc);
		progress(fc, 0);
	}
	free(refs);
	return rc;
}

static int check_cancel(file_ctx *fc)
{
	if (fc->o->cancel && fc->o->cancel(fc->o->ud))
		return sv_error_set(SV_ECANCELLED,
				    "restore cancelled: %llu files were restored completely before '%s'",
				    (unsigned long long)fc->r->files, fc->rel);
	return 0;
}

/* Writes the file's contents into fc->out and checks size and hash. */
static int restore_contents(file_ctx *fc, const json_t *f, uint64_t size,
			    const char *want_sha)
{
	json_t *lists, *l;
	uint8_t sum[32];
	char hex[65];
	size_t i;
	int rc = sv_json_arr(f, "lists", &lists);

	json_array_foreach(lists, i, l) {
		if (rc == 0)
			rc = check_cancel(fc);
		if (rc == 0)
			rc = restore_segment(fc, json_string_value(l));
	}
	if (rc == 0 && fc->batch_n)
		rc = flush_batch(fc);
	rc = finish_batches(fc, rc);
	if (rc < 0)
		return rc;
	if (fc->queued != size)
		return sv_error_set(SV_ECORRUPT,
				    "'%s' would be %llu bytes but the point says %llu: not restored",
				    fc->rel, (unsigned long long)fc->queued,
				    (unsigned long long)size);
	vault__sha256_final(fc->sha, sum);
	sv_hex_encode(hex, sum, sizeof(sum));
	if (strcmp(hex, want_sha) != 0)
		return sv_error_set(SV_ECORRUPT,
				    "'%s' failed verification: its SHA-256 differs from the one recorded at backup; not restored",
				    fc->rel);
	if ((rc = sv_file_truncate(fc->out, size)) < 0)
		return rc;
	return sv_file_sync(fc->out);
}

static int restore_file(file_ctx *fc, const json_t *f, const char *root)
{
	const char *rel, *sha;
	char *final = NULL, *tmp = NULL;
	uint64_t size;
	int rc;

	if ((rc = sv_json_str(f, "path", &rel)) < 0 ||
	    (rc = sv_json_u64(f, "size", &size)) < 0 ||
	    (rc = sv_json_str(f, "sha256", &sha)) < 0)
		return rc;
	fc->rel = rel;
	fc->queued = fc->written = 0;
	fc->batch_n = 0;
	fc->run_start = -1;
	final = sv_path_join(root, rel);
	tmp = final ? sv_aprintf("%s%s", final, PARTIAL_SUFFIX) : NULL;
	if (!tmp) {
		rc = SV_ENOMEM;
		goto done;
	}
	sv_path_to_native(final);
	sv_path_to_native(tmp);
	rc = sv_file_open(&fc->out, tmp, SV_O_WRITE | SV_O_CREATE | SV_O_TRUNC);
	if (rc == 0)
		rc = sv_file_set_sparse(fc->out);
	if (rc == 0)
		rc = restore_contents(fc, f, size, sha);
	if (sv_file_close(fc->out) < 0 && rc == 0)
		rc = sv_error_code();
	fc->out = NULL;
	if (rc == 0)
		rc = sv_fs_rename(tmp, final);
	if (rc < 0)
		sv_fs_remove(tmp);
	else
		fc->r->files++;
done:
	free(final);
	free(tmp);
	return rc;
}

/* ---- checks before anything is written ---- */

static int precheck(const json_t *point, const char *root, int overwrite)
{
	json_t *files, *f;
	const char *rel;
	char *path;
	size_t i;
	int is_dir, rc;

	if ((rc = sv_json_arr(point, "files", &files)) < 0)
		return rc;
	json_array_foreach(files, i, f) {
		if ((rc = sv_json_str(f, "path", &rel)) < 0)
			return rc;
		path = sv_path_join(root, rel);
		if (!path)
			return SV_ENOMEM;
		sv_path_to_native(path);
		rc = sv_fs_stat(path, &is_dir, NULL);
		if (rc == 0 && (is_dir || !overwrite))
			rc = sv_error_set(SV_EEXISTS,
					  "'%s' already exists: restore into an empty directory, or pass --overwrite",
					  path);
		else
			rc = 0;
		free(path);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int make_dirs(const json_t *point, const char *root)
{
	json_t *files, *dirs, *e;
	char *path, *dir;
	size_t i;
	int rc = sv_fs_mkdir_p(root, 0);

	if (rc == 0 && sv_json_arr(point, "dirs", &dirs) == 0) {
		json_array_foreach(dirs, i, e) {
			if (!(path = sv_path_join(root, json_string_value(e))))
				return SV_ENOMEM;
			sv_path_to_native(path);
			rc = sv_fs_mkdir_p(path, 0);
			free(path);
			if (rc < 0)
				return rc;
		}
	}
	if (rc == 0 && (rc = sv_json_arr(point, "files", &files)) == 0) {
		json_array_foreach(files, i, e) {
			const char *rel = json_string_value(json_object_get(e, "path"));

			path = sv_path_join(root, rel);
			dir = path ? sv_path_dirname(path) : NULL;
			free(path);
			if (!dir)
				return SV_ENOMEM;
			sv_path_to_native(dir);
			rc = sv_fs_mkdir_p(dir, 0);
			free(dir);
			if (rc < 0)
				return rc;
		}
	}
	return rc;
}

/* ---- the whole restore ---- */

static int pool_start(pool *p, struct vault *v, sv_thread **threads, int n)
{
	int i, rc;

	memset(p, 0, sizeof(*p));
	p->v = v;
	if ((rc = sv_mutex_new(&p->mu)) < 0 || (rc = sv_cond_new(&p->cond)) < 0)
		return rc;
	p->batch = sv_calloc(BATCH, sizeof(fetch));
	p->spare = sv_calloc(BATCH, sizeof(fetch));
	if (!p->batch || !p->spare)
		return SV_ENOMEM;
	for (i = 0; i < n; i++)
		if ((rc = sv_thread_start(&threads[i], pool_main, p)) < 0)
			return rc;
	return 0;
}

static void pool_stop(pool *p, sv_thread **threads, int n)
{
	int i;

	if (p->mu) {
		sv_mutex_lock(p->mu);
		p->quit = 1;
		sv_cond_broadcast(p->cond);
		sv_mutex_unlock(p->mu);
	}
	for (i = 0; i < n; i++)
		sv_thread_join(threads[i]);
	free(p->batch);
	free(p->spare);
	sv_cond_free(p->cond);
	sv_mutex_free(p->mu);
}

static int restore_all(file_ctx *fc, const json_t *point, const char *root)
{
	json_t *files, *f, *st;
	size_t i;
	int rc = sv_json_arr(point, "files", &files);

	fc->files_total = json_array_size(files);
	if (sv_json_obj(point, "stats", &st) == 0)
		sv_json_u64(st, "bytes", &fc->bytes_total);
	json_array_foreach(files, i, f) {
		if (rc == 0)
			rc = restore_file(fc, f, root);
	}
	if (rc == 0)
		progress(fc, 1);
	return rc;
}

int vault_restore(vault *v, const vault_restore_opts *o,
		  vault_restore_result *r)
{
	sv_thread *threads[64] = { NULL };
	json_t *point = NULL;
	file_ctx fc;
	pool p;
	uint64_t start = sv_time_mono_ms();
	int n = o->threads > 0 ? o->threads : sv_cpu_count();
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&fc, 0, sizeof(fc));
	memset(&p, 0, sizeof(p));
	if ((unsigned)n < vault__transfers(v))
		n = (int)vault__transfers(v);
	n = n < 1 ? 1 : n > 64 ? 64 : n;
	rc = vault_point_load(v, o->point_id, &point);
	if (rc == 0)
		rc = precheck(point, o->target_dir, o->overwrite);
	if (rc == 0)
		rc = make_dirs(point, o->target_dir);
	if (rc == 0)
		rc = pool_start(&p, v, threads, n);
	if (rc == 0)
		rc = vault__sha256_new(&fc.sha);
	if (rc == 0 && !(fc.fill = sv_calloc(BATCH, sizeof(fetch))))
		rc = SV_ENOMEM;
	if (rc == 0) {
		fc.v = v;
		fc.p = &p;
		fc.o = o;
		fc.r = r;
		fc.coalesce = vault__transfers(v) > 0;
		fc.run_start = -1;
		vault__cancel_begin(v, o->cancel, o->ud);
		rc = restore_all(&fc, point, o->target_dir);
		vault__cancel_end(v);
	}
	pool_stop(&p, threads, n);
	free(fc.fill);
	vault__sha256_free(fc.sha);
	json_decref(point);
	r->elapsed_ms = sv_time_mono_ms() - start;
	return rc;
}
