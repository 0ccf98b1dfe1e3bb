/*
 * sync.c - keeping the local cache in step with the vault: loading index
 * and point objects, finding packs an interrupted backup left unindexed,
 * and writing index objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_log.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

/* Objects loaded at once from a cloud vault (each may be an index of
 * several MiB in memory while it is decoded). */
#define SYNC_PARALLEL_MAX 4
/* Reloads of the index objects while a prune keeps replacing them. */
#define SYNC_STALE_TRIES 5

/* ---- index objects ---- */

static int cache_index(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		       const vault_index_pack *packs, uint32_t n)
{
	uint32_t i;
	int rc = vault__cache_begin(v->cache);

	for (i = 0; rc == 0 && i < n; i++) {
		rc = vault__cache_add_pack(v->cache, packs[i].pack_id, packs[i].pack_size,
					   packs[i].blobs, packs[i].count, 1);
		if (rc == 0)
			rc = vault__cache_mark_indexed(v->cache, packs[i].pack_id);
	}
	if (rc == 0)
		rc = vault__cache_add_index(v->cache, id);
	if (rc == 0)
		return vault__cache_commit(v->cache);
	vault__cache_rollback(v->cache);
	return rc;
}

int vault__index_load(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		      vault_index_pack **packs, uint32_t *npacks)
{
	sv_buf plain;
	int rc;

	*packs = NULL;
	*npacks = 0;
	sv_buf_init(&plain, VAULT_INDEX_MAX);
	rc = vault__load_object(v, &plain, "index", VAULT_OBJ_INDEX, id,
				VAULT_INDEX_MAX);
	if (rc == 0)
		rc = vault__index_decode(packs, npacks, plain.ptr, plain.len);
	sv_buf_release(&plain);
	return rc;
}

typedef struct sync_walk {
	struct vault *v;
	vault_sync_result *r;
	sv_mutex *lock;   /* the cache's one connection and r, for loaders */
	vault_idset seen; /* objects listed: what the cache may keep */
	int stale;        /* the cache knows an object no longer there */
} sync_walk;

/* ---- loading in parallel ---- */

/*
 * A sync first gathers the names of the objects the cache lacks from a
 * listing, then loads them: from a cloud vault up to SYNC_PARALLEL_MAX at
 * once (each load is requests that wait on the network), from a local one
 * one at a time, as before. A loader reads and decodes unlocked and holds
 * w->lock only to write the cache.
 */
typedef int (*sync_load_fn)(sync_walk *w, const char *name, uint64_t size);

typedef struct sync_jobs {
	sync_walk *w;
	sync_load_fn load;
	const char *dir;   /* "index", "points", or NULL for packs */
	char **names;
	uint64_t *sizes;
	size_t n, cap, next;
	int rc;
	char err[1024];
} sync_jobs;

static int jobs_push(sync_jobs *j, const char *name, uint64_t size)
{
	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;
		char **names = sv_realloc(j->names, cap * sizeof(*names));
		uint64_t *sizes = names ? sv_realloc(j->sizes, cap * sizeof(*sizes)) : NULL;

		if (names)
			j->names = names;
		if (!names || !sizes)
			return SV_ENOMEM;
		j->sizes = sizes;
		j->cap = cap;
	}
	if ((j->names[j->n] = sv_strdup(name)) == NULL)
		return SV_ENOMEM;
	j->sizes[j->n++] = size;
	return 0;
}

static void jobs_release(sync_jobs *j)
{
	while (j->n > 0)
		free(j->names[--j->n]);
	free(j->names);
	free(j->sizes);
}

/* Keeps the first failure of any loader (its message is thread-local). */
static void jobs_fail(sync_jobs *j, int rc)
{
	sv_mutex_lock(j->w->lock);
	if (!j->rc) {
		j->rc = rc;
		sv_strlcpy(j->err, sv_error_msg(), sizeof(j->err));
	}
	sv_mutex_unlock(j->w->lock);
}

static void jobs_main(void *arg)
{
	sync_jobs *j = arg;

	for (;;) {
		size_t i;
		int rc;

		sv_mutex_lock(j->w->lock);
		i = j->next++;
		rc = j->rc || i >= j->n;
		sv_mutex_unlock(j->w->lock);
		if (rc)
			return;
		if ((rc = j->load(j->w, j->names[i], j->sizes[i])) < 0)
			jobs_fail(j, rc);
	}
}

static int jobs_run(sync_jobs *j)
{
	sv_thread *t[SYNC_PARALLEL_MAX] = { NULL };
	unsigned k = vault__transfers(j->w->v), i, started = 0;
	int rc = 0;

	if (k > SYNC_PARALLEL_MAX)
		k = SYNC_PARALLEL_MAX;
	if (k > j->n)
		k = (unsigned)j->n;
	if (k <= 1) {
		jobs_main(j);
	} else {
		for (i = 0; i < k && rc == 0; i++)
			if ((rc = sv_thread_start(&t[i], jobs_main, j)) == 0)
				started++;
		if (rc < 0)
			jobs_fail(j, rc);
		for (i = 0; i < started; i++)
			sv_thread_join(t[i]);
	}
	if (j->rc)
		return sv_error_set(j->rc, "%s", j->err);
	return 0;
}

/* The listing callback: the names of objects the cache does not have. */
static int jobs_gather(void *ud, const char *name, uint64_t size)
{
	sync_jobs *j = ud;
	uint8_t id[VAULT_ID_LEN];
	int rc;

	if (j->dir ? vault__name_parse_object(id, name, j->dir) < 0
		   : vault__name_parse_pack(id, name) < 0)
		return 0;   /* not an object name: not ours to judge here */
	if (j->dir && (rc = vault__idset_add(&j->w->seen, id)) < 0)
		return rc;
	rc = !j->dir ? vault__cache_has_pack(j->w->v->cache, id)
	     : strcmp(j->dir, "index") == 0 ? vault__cache_has_index(j->w->v->cache, id)
					    : vault__cache_has_point(j->w->v->cache, id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	return jobs_push(j, name, size);
}

/* Lists prefix and loads what the cache lacks with load. */
static int sync_dir(sync_walk *w, const char *prefix, const char *dir,
		    sync_load_fn load)
{
	sync_jobs j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.w = w;
	j.load = load;
	j.dir = dir;
	rc = w->v->be->ops->list(w->v->be, prefix, jobs_gather, &j);
	if (rc == 0)
		rc = jobs_run(&j);
	jobs_release(&j);
	return rc;
}

static int sync_index(sync_walk *w, const char *name, uint64_t size)
{
	vault_index_pack *packs = NULL;
	uint8_t id[VAULT_ID_LEN];
	uint32_t n = 0;
	int rc;

	(void)size;
	if ((rc = vault__name_parse_object(id, name, "index")) < 0)
		return rc;
	rc = vault__index_load(w->v, id, &packs, &n);
	if (rc == SV_ENOTFOUND) {
		/* Listed, then replaced by a prune running meanwhile (on
		 * another machine): the listing is stale, not the vault. */
		sv_mutex_lock(w->lock);
		w->stale = 1;
		sv_mutex_unlock(w->lock);
		return 0;
	}
	if (rc == 0) {
		sv_mutex_lock(w->lock);
		rc = cache_index(w->v, id, packs, n);
		if (rc == 0)
			w->r->indexes_loaded++;
		sv_mutex_unlock(w->lock);
	}
	vault__index_free(packs, n);
	return rc;
}

/* ---- points ---- */

/* The summary kept in the cache for listing without loading the point. */
static int point_summary(char **out, const json_t *p, const char **machine,
			 int64_t *t)
{
	json_t *st, *sum = json_object();
	const char *time, *trigger = NULL;
	uint64_t files = 0, bytes = 0;
	int rc;

	*out = NULL;
	if ((rc = sv_json_str(p, "machine", machine)) < 0 ||
	    (rc = sv_json_str(p, "time", &time)) < 0 ||
	    (rc = sv_time_parse_utc(t, time)) < 0)
		goto done;
	if (sv_json_obj(p, "stats", &st) == 0) {
		sv_json_u64(st, "files", &files);
		sv_json_u64(st, "bytes", &bytes);
	}
	rc = sv_json_set(sum, "files", json_integer((json_int_t)files));
	if (rc == 0)
		rc = sv_json_set(sum, "bytes", json_integer((json_int_t)bytes));
	/* Retention needs it (vault_point_info.scheduled). */
	if (rc == 0 && sv_json_str(p, "trigger", &trigger) == 0)
		rc = sv_json_set(sum, "trigger", json_string(trigger));
	if (rc == 0 && !(*out = sv_json_dump(sum, 0)))
		rc = SV_ENOMEM;
done:
	json_decref(sum);
	return rc;
}

static int sync_point(sync_walk *w, const char *name, uint64_t size)
{
	uint8_t id[VAULT_ID_LEN];
	char hex[VAULT_HEX_ID_LEN + 1], *summary = NULL;
	const char *machine;
	json_t *p = NULL;
	int64_t t;
	int rc;

	(void)size;
	if ((rc = vault__name_parse_object(id, name, "points")) < 0)
		return rc;
	sv_hex_encode(hex, id, VAULT_ID_LEN);
	rc = vault_point_load(w->v, hex, &p);
	if (rc == SV_ENOTFOUND)
		return 0;   /* listed, then deleted by a prune meanwhile */
	if (rc == 0)
		rc = point_summary(&summary, p, &machine, &t);
	if (rc == 0) {
		sv_mutex_lock(w->lock);
		rc = vault__cache_add_point(w->v->cache, id, machine, t, summary);
		if (rc == 0)
			w->r->points_loaded++;
		sv_mutex_unlock(w->lock);
	}
	free(summary);
	json_decref(p);
	return rc;
}

/* ---- packs no index names (a full sync only) ---- */

static int read_pack_header(struct vault *v, const char *name, uint64_t size,
			    vault_blob_entry **entries, uint32_t *count)
{
	sv_buf head, tail;
	size_t want = 4096, need = 0;
	int rc;

	sv_buf_init(&head, VAULT_PACK_HEAD_LEN);
	sv_buf_init(&tail, (size_t)64 << 20);
	*entries = NULL;
	rc = v->be->ops->get(v->be, name, 0, VAULT_PACK_HEAD_LEN, &head);
	while (rc == 0) {
		if (want > size)
			want = (size_t)size;
		sv_buf_reset(&tail);
		rc = v->be->ops->get(v->be, name, size - want, want, &tail);
		if (rc == 0)
			rc = vault__pack_read_header(entries, count, &need, &v->mk,
						     (const uint8_t *)head.ptr,
						     (const uint8_t *)tail.ptr,
						     tail.len, size);
		if (rc < 0 || *entries || need <= want)
			break;
		want = need;
	}
	if (rc == 0 && !*entries)
		rc = sv_error_set(SV_ECORRUPT, "%s: header cannot be read", name);
	sv_buf_release(&head);
	sv_buf_release(&tail);
	return rc;
}

static int sync_pack(sync_walk *w, const char *name, uint64_t size)
{
	uint8_t id[VAULT_ID_LEN];
	vault_blob_entry *e = NULL;
	uint32_t n = 0;
	int rc;

	if ((rc = vault__name_parse_pack(id, name)) < 0)
		return rc;
	rc = read_pack_header(w->v, name, size, &e, &n);
	if (rc == SV_ENOTFOUND)
		return 0;   /* listed, then deleted by a prune meanwhile */
	if (rc == SV_ECORRUPT) {
		/* A damaged unindexed pack is left for `vault check`. */
		sv_log_warn("%s", sv_error_msg());
		free(e);
		return 0;
	}
	if (rc == 0) {
		sv_mutex_lock(w->lock);
		rc = vault__cache_add_pack(w->v->cache, id, size, e, n, 0);
		if (rc == 0)
			w->r->packs_unindexed++;
		sv_mutex_unlock(w->lock);
	}
	free(e);
	return rc;
}

/* An id the cache holds that the listing did not show: removed by a
 * prune (here or on another machine). */
static int note_gone(void *ud, const uint8_t id[VAULT_ID_LEN])
{
	sync_walk *w = ud;

	if (!vault__idset_has(&w->seen, id))
		w->stale = 1;
	return 0;
}

/* Index objects a prune replaced: the packs they named may be gone, so
 * the cache forgets every indexed pack and reloads the index objects
 * (chunks are never looked up in a pack that no longer exists). */
static int sync_indexes(sync_walk *w)
{
	int rc = sync_dir(w, "index/", "index", sync_index), tries = 0;

	if (rc == 0)
		rc = vault__cache_indexes(w->v->cache, note_gone, w);
	/* A prune still running may replace more while they are read. */
	while (rc == 0 && w->stale) {
		if (++tries > SYNC_STALE_TRIES)
			return sv_error_set(SV_EBUSY,
					    "index objects keep being replaced "
					    "by a prune: try again once it ends");
		sv_log_info("index objects were replaced by a prune: reloading them");
		w->stale = 0;
		rc = vault__cache_forget_indexed(w->v->cache);
		if (rc == 0)
			rc = sync_dir(w, "index/", "index", sync_index);
	}
	return rc;
}

static int drop_gone_point(void *ud, const uint8_t id[VAULT_ID_LEN],
			   const char *machine, int64_t time,
			   const char *summary)
{
	sync_walk *w = ud;

	(void)machine;
	(void)time;
	(void)summary;
	if (vault__idset_has(&w->seen, id))
		return 0;
	return vault__cache_del_point(w->v->cache, id);
}

static int sync_points(sync_walk *w)
{
	int rc;

	vault__idset_release(&w->seen);
	rc = sync_dir(w, "points/", "points", sync_point);
	if (rc == 0)
		rc = vault__cache_points(w->v->cache, drop_gone_point, w);
	return rc;
}

int vault_sync(vault *v, int full, vault_sync_result *r)
{
	vault_sync_result local;
	sync_walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.v = v;
	w.r = r ? r : &local;
	rc = sv_mutex_new(&w.lock);
	memset(w.r, 0, sizeof(*w.r));
	if (rc == 0 && full)
		rc = vault__cache_clear(v->cache);
	if (rc == 0)
		rc = sync_indexes(&w);
	if (rc == 0 && full)
		rc = sync_dir(&w, "data/", NULL, sync_pack);
	if (rc == 0)
		rc = sync_points(&w);
	vault__idset_release(&w.seen);
	sv_mutex_free(w.lock);
	if (rc < 0)
		sv_error_prefix("cannot synchronise the cache with vault '%s'",
				v->be->url);
	return rc;
}

/* ---- index writing and reconciliation ---- */

typedef struct pack_list {
	uint8_t (*ids)[VAULT_ID_LEN];
	uint64_t *sizes;
	uint32_t n, cap;
} pack_list;

static int collect_pack(void *ud, const uint8_t id[VAULT_ID_LEN], uint64_t size)
{
	pack_list *l = ud;

	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		void *ids = sv_realloc(l->ids, (size_t)cap * VAULT_ID_LEN);
		void *sizes = ids ? sv_realloc(l->sizes, (size_t)cap * sizeof(uint64_t)) : NULL;

		if (ids)
			l->ids = ids;
		if (!ids || !sizes)
			return SV_ENOMEM;
		l->sizes = sizes;
		l->cap = cap;
	}
	memcpy(l->ids[l->n], id, VAULT_ID_LEN);
	l->sizes[l->n++] = size;
	return 0;
}

static void pack_list_free(pack_list *l)
{
	free(l->ids);
	free(l->sizes);
}

int vault__reconcile_unindexed(struct vault *v)
{
	pack_list l = { 0 };
	char name[VAULT_NAME_MAX];
	uint64_t size;
	uint32_t i;
	int rc = vault__cache_unindexed(v->cache, collect_pack, &l);

	for (i = 0; rc == 0 && i < l.n; i++) {
		vault__name_pack(name, l.ids[i]);
		rc = v->be->ops->stat(v->be, name, &size);
		if (rc == 0 && size == l.sizes[i])
			continue;
		if (rc == 0 || rc == SV_ENOTFOUND) {
			sv_log_info("forgetting %s: its upload never completed", name);
			rc = vault__cache_del_pack(v->cache, l.ids[i]);
		}
	}
	pack_list_free(&l);
	return rc;
}

static int mark_all(struct vault *v, const pack_list *l,
		    const uint8_t index_id[VAULT_ID_LEN])
{
	uint32_t i;
	int rc = vault__cache_begin(v->cache);

	for (i = 0; rc == 0 && i < l->n; i++)
		rc = vault__cache_mark_indexed(v->cache, l->ids[i]);
	if (rc == 0)
		rc = vault__cache_add_index(v->cache, index_id);
	if (rc == 0)
		return vault__cache_commit(v->cache);
	vault__cache_rollback(v->cache);
	return rc;
}

int vault__write_index(struct vault *v, uint64_t *packs_out)
{
	pack_list l = { 0 };
	vault_index_pack *ip = NULL;
	uint8_t index_id[VAULT_ID_LEN];
	uint32_t i;
	sv_buf plain;
	int rc;

	*packs_out = 0;
	sv_buf_init(&plain, VAULT_INDEX_MAX);
	rc = vault__cache_unindexed(v->cache, collect_pack, &l);
	if (rc < 0 || l.n == 0)
		goto done;
	ip = sv_calloc(l.n, sizeof(*ip));
	if (!ip) {
		rc = SV_ENOMEM;
		goto done;
	}
	for (i = 0; rc == 0 && i < l.n; i++) {
		memcpy(ip[i].pack_id, l.ids[i], VAULT_ID_LEN);
		ip[i].pack_size = l.sizes[i];
		rc = vault__cache_pack_blobs(v->cache, l.ids[i], &ip[i].blobs, &ip[i].count);
	}
	if (rc == 0)
		rc = vault__index_encode(&plain, ip, l.n);
	if (rc == 0)
		rc = vault__store_object(v, "index", VAULT_OBJ_INDEX, plain.ptr,
					 plain.len, index_id);
	if (rc == 0)
		rc = mark_all(v, &l, index_id);
	if (rc == 0)
		*packs_out = l.n;
done:
	if (ip)
		vault__index_free(ip, l.n);
	pack_list_free(&l);
	sv_buf_release(&plain);
	return rc;
}
