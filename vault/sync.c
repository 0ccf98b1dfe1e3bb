/*
 * sync.c - keeping the local cache in step with the vault: loading index
 * and point objects, finding packs an interrupted backup left unindexed,
 * and writing index objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_log.h"
#include "sv_time.h"
#include "vault_int.h"

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

static int load_index(struct vault *v, const uint8_t id[VAULT_ID_LEN])
{
	vault_index_pack *packs = NULL;
	uint32_t n = 0;
	int rc = vault__index_load(v, id, &packs, &n);

	if (rc == 0)
		rc = cache_index(v, id, packs, n);
	vault__index_free(packs, n);
	return rc;
}

typedef struct sync_walk {
	struct vault *v;
	vault_sync_result *r;
	vault_idset seen;     /* objects listed: what the cache may keep */
	int stale;            /* the cache knows an object no longer there */
} sync_walk;

static int sync_index(void *ud, const char *name, uint64_t size)
{
	sync_walk *w = ud;
	uint8_t id[VAULT_ID_LEN];
	int rc;

	(void)size;
	if (vault__name_parse_object(id, name, "index") < 0)
		return 0;   /* not an object name: not ours to judge here */
	if ((rc = vault__idset_add(&w->seen, id)) < 0)
		return rc;
	rc = vault__cache_has_index(w->v->cache, id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = load_index(w->v, id);
	if (rc == 0)
		w->r->indexes_loaded++;
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

static int sync_point(void *ud, const char *name, uint64_t size)
{
	sync_walk *w = ud;
	uint8_t id[VAULT_ID_LEN];
	char hex[VAULT_HEX_ID_LEN + 1], *summary = NULL;
	const char *machine;
	json_t *p = NULL;
	int64_t t;
	int rc;

	(void)size;
	if (vault__name_parse_object(id, name, "points") < 0)
		return 0;
	if ((rc = vault__idset_add(&w->seen, id)) < 0)
		return rc;
	rc = vault__cache_has_point(w->v->cache, id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	sv_hex_encode(hex, id, VAULT_ID_LEN);
	rc = vault_point_load(w->v, hex, &p);
	if (rc == 0)
		rc = point_summary(&summary, p, &machine, &t);
	if (rc == 0)
		rc = vault__cache_add_point(w->v->cache, id, machine, t, summary);
	if (rc == 0)
		w->r->points_loaded++;
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

static int sync_pack(void *ud, const char *name, uint64_t size)
{
	sync_walk *w = ud;
	uint8_t id[VAULT_ID_LEN];
	vault_blob_entry *e = NULL;
	uint32_t n = 0;
	int rc;

	if (vault__name_parse_pack(id, name) < 0)
		return 0;
	rc = vault__cache_has_pack(w->v->cache, id);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = read_pack_header(w->v, name, size, &e, &n);
	if (rc == SV_ECORRUPT) {
		/* A damaged unindexed pack is left for `vault check`. */
		sv_log_warn("%s", sv_error_msg());
		free(e);
		return 0;
	}
	if (rc == 0)
		rc = vault__cache_add_pack(w->v->cache, id, size, e, n, 0);
	if (rc == 0)
		w->r->packs_unindexed++;
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
	int rc = w->v->be->ops->list(w->v->be, "index/", sync_index, w);

	if (rc == 0)
		rc = vault__cache_indexes(w->v->cache, note_gone, w);
	if (rc < 0 || !w->stale)
		return rc;
	sv_log_info("index objects were replaced by a prune: reloading them");
	w->stale = 0;
	rc = vault__cache_forget_indexed(w->v->cache);
	if (rc == 0)
		rc = w->v->be->ops->list(w->v->be, "index/", sync_index, w);
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
	rc = w->v->be->ops->list(w->v->be, "points/", sync_point, w);
	if (rc == 0)
		rc = vault__cache_points(w->v->cache, drop_gone_point, w);
	return rc;
}

int vault_sync(vault *v, int full, vault_sync_result *r)
{
	vault_sync_result local;
	sync_walk w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.v = v;
	w.r = r ? r : &local;
	memset(w.r, 0, sizeof(*w.r));
	if (full)
		rc = vault__cache_clear(v->cache);
	if (rc == 0)
		rc = sync_indexes(&w);
	if (rc == 0 && full)
		rc = v->be->ops->list(v->be, "data/", sync_pack, &w);
	if (rc == 0)
		rc = sync_points(&w);
	vault__idset_release(&w.seen);
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
