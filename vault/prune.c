/*
 * prune.c - removing recovery points and the data no remaining point
 * needs, safely beside backups running on other machines.
 *
 * The order of writes, so that a crash at any moment leaves a vault that
 * `vault check` accepts and that holds everything a remaining point needs:
 *
 *   1. the point objects to delete (nothing refers to a point);
 *   2. new index objects for packs that stay, from index objects that
 *      also named packs that go;
 *   3. those old index objects (their packs that stay are named by 2);
 *   4. the packs that go (no index names them any more).
 *
 * Concurrency is by lock objects (docs/vault-format.md, "Locks"): prune
 * writes a "prune" lock, then looks for live "backup" locks; a backup
 * writes its lock, then looks for "prune" locks and waits. Whichever
 * writes second sees the other, so data is never removed under a running
 * backup: with a backup running, prune removes the points and leaves the
 * data for the next prune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_log.h"
#include "sv_time.h"
#include "vault_int.h"

/* ---- sets of ids ---- */

static size_t slot_of(const vault_idset *s, const uint8_t *id)
{
	uint64_t h;

	/* Ids are hashes or HMACs already: their bytes are the hash. */
	memcpy(&h, id, sizeof(h));
	return (size_t)h & (s->cap - 1);
}

static int is_empty(const uint8_t *slot)
{
	return memcmp(slot, vault__zero_id, VAULT_ID_LEN) == 0;
}

static void place(vault_idset *s, const uint8_t *id)
{
	size_t i = slot_of(s, id);

	while (!is_empty(s->slots[i]))
		i = (i + 1) & (s->cap - 1);
	memcpy(s->slots[i], id, VAULT_ID_LEN);
}

static int grow_set(vault_idset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024, i;
	vault_idset bigger = {NULL, cap, s->n, s->has_zero};

	if (cap > 2 * VAULT_IDSET_MAX)
		return sv_error_set(SV_ENOMEM,
				    "more than %zu distinct ids: too many to "
				    "prune in one pass",
				    (size_t)VAULT_IDSET_MAX);
	bigger.slots = sv_calloc(cap, VAULT_ID_LEN);
	if (!bigger.slots)
		return SV_ENOMEM;
	for (i = 0; i < s->cap; i++)
		if (!is_empty(s->slots[i]))
			place(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
	return 0;
}

void vault__idset_release(vault_idset *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

int vault__idset_has(const vault_idset *s, const uint8_t id[VAULT_ID_LEN])
{
	size_t i;

	if (is_empty(id))
		return s->has_zero;
	if (s->cap == 0)
		return 0;
	for (i = slot_of(s, id); !is_empty(s->slots[i]);
	     i = (i + 1) & (s->cap - 1))
		if (memcmp(s->slots[i], id, VAULT_ID_LEN) == 0)
			return 1;
	return 0;
}

int vault__idset_add(vault_idset *s, const uint8_t id[VAULT_ID_LEN])
{
	int rc;

	if (is_empty(id)) {
		rc = !s->has_zero;
		s->has_zero = 1;
		return rc;
	}
	if (vault__idset_has(s, id))
		return 0;
	if (2 * (s->n + 1) > s->cap && (rc = grow_set(s)) < 0)
		return rc;
	place(s, id);
	s->n++;
	return 1;
}

/* ---- lock objects ---- */

#define LOCK_MAX 65536

/* A pack is repacked when at least 1/VAULT_REPACK_UNUSED of it is blobs
 * no remaining point needs. */
#define VAULT_REPACK_UNUSED 4

static int lock_write(struct vault *v, vault_lock *l)
{
	char name[VAULT_NAME_MAX], created[32], expires[32], hex[33];
	uint8_t rnd[16];
	int64_t now = sv_time_now();
	json_t *j = NULL;
	char *text = NULL;
	sv_buf sealed;
	int rc;

	sv_buf_init(&sealed, LOCK_MAX);
	sv_time_format_utc(created, sizeof(created), now);
	sv_time_format_utc(expires, sizeof(expires), now + VAULT_LOCK_TTL);
	rc = vault__random(rnd, sizeof(rnd));
	if (rc == 0 && !(j = json_pack("{s:s,s:s,s:s,s:s}", "kind", l->kind,
				       "machine", l->machine, "created",
				       created, "expires", expires)))
		rc = SV_ENOMEM;
	if (rc == 0 && !(text = sv_json_dump(j, 0)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = vault__object_seal(&sealed, &v->mk, VAULT_OBJ_LOCK, text,
					strlen(text));
	sv_hex_encode(hex, rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "locks/%s", hex);
	if (rc == 0)
		rc = v->be->ops->put(v->be, name, sealed.ptr, sealed.len);
	if (rc == 0) {
		sv_strlcpy(l->name, name, sizeof(l->name));
		l->expires = now + VAULT_LOCK_TTL;
		l->refreshed_ms = sv_time_mono_ms();
	}
	free(text);
	json_decref(j);
	sv_buf_release(&sealed);
	return rc;
}

int vault__lock_take(struct vault *v, vault_lock *l, const char *kind,
		     const char *machine)
{
	memset(l, 0, sizeof(*l));
	sv_strlcpy(l->kind, kind, sizeof(l->kind));
	sv_strlcpy(l->machine, machine ? machine : "", sizeof(l->machine));
	return lock_write(v, l);
}

int vault__lock_refresh(struct vault *v, vault_lock *l, int force)
{
	char old[VAULT_NAME_MAX];
	int rc;

	if (!l->name[0] || (!force && sv_time_mono_ms() - l->refreshed_ms <
					      VAULT_LOCK_REFRESH * 1000u))
		return 0;
	sv_strlcpy(old, l->name, sizeof(old));
	/* The new lock exists before the old one goes: never a moment
	 * without one. */
	rc = lock_write(v, l);
	if (rc == 0 && v->be->ops->del(v->be, old) < 0)
		sv_log_warn("cannot remove the old lock %s: %s", old,
			    sv_error_msg());
	return rc;
}

void vault__lock_release(struct vault *v, vault_lock *l)
{
	if (l->name[0] && v->be->ops->del(v->be, l->name) < 0)
		sv_log_warn(
			"cannot remove the lock %s (it expires by itself): %s",
			l->name, sv_error_msg());
	l->name[0] = '\0';
}

typedef struct name_list {
	char (*names)[VAULT_NAME_MAX];
	size_t n, cap;
} name_list;

static int collect_name(void *ud, const char *name, uint64_t size)
{
	name_list *l = ud;

	(void)size;
	if (strlen(name) >= VAULT_NAME_MAX)
		return 0; /* not a name we write */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = cap > ((size_t)1 << 24)
				  ? NULL
				  : sv_realloc(l->names, cap * VAULT_NAME_MAX);

		if (!p)
			return sv_error_set(SV_ENOMEM,
					    "too many objects to list");
		l->names = p;
		l->cap = cap;
	}
	sv_strlcpy(l->names[l->n++], name, VAULT_NAME_MAX);
	return 0;
}

/* Reads one lock object: its kind, machine, creation and expiry. */
static int lock_read(struct vault *v, const char *name, json_t **out,
		     int64_t *expires)
{
	sv_buf raw, plain;
	const char *e;
	int rc;

	*out = NULL;
	sv_buf_init(&raw, LOCK_MAX);
	sv_buf_init(&plain, LOCK_MAX);
	rc = v->be->ops->get(v->be, name, 0, UINT64_MAX, &raw);
	if (rc == 0)
		rc = vault__object_open(&plain, &v->mk, VAULT_OBJ_LOCK, raw.ptr,
					raw.len, LOCK_MAX, name);
	if (rc == 0)
		rc = sv_json_parse(out, plain.ptr, plain.len, name);
	if (rc == 0 && ((rc = sv_json_str(*out, "expires", &e)) < 0 ||
			(rc = sv_time_parse_utc(expires, e)) < 0)) {
		json_decref(*out);
		*out = NULL;
	}
	sv_buf_release(&raw);
	sv_buf_release(&plain);
	return rc;
}

/* Judges one listed lock: live and of kind (found), expired (removed when
 * asked), gone meanwhile or unreadable (ignored: it cannot be ours). */
static int lock_judge(struct vault *v, const char *name, const char *kind,
		      int remove_expired, int *found, char *holder, size_t n)
{
	const char *k = "", *m = "", *created = "";
	int64_t expires = 0;
	json_t *j = NULL;
	int rc = lock_read(v, name, &j, &expires);

	if (rc == SV_ENOTFOUND)
		return 0;
	if (rc == SV_ECORRUPT || rc == SV_EINVAL) {
		sv_log_warn("ignoring %s: %s", name, sv_error_msg());
		return 0;
	}
	if (rc < 0)
		return rc;
	sv_json_str(j, "kind", &k);
	sv_json_str(j, "machine", &m);
	sv_json_str(j, "created", &created);
	if (sv_time_now() >= expires) {
		if (remove_expired && v->be->ops->del(v->be, name) == 0)
			sv_log_info("removed the expired %s lock of %s (%s)", k,
				    m, name);
	} else if (strcmp(k, kind) == 0 && !*found) {
		*found = 1;
		snprintf(holder, n, "%s (lock written %s)", m, created);
	}
	json_decref(j);
	return 0;
}

int vault__lock_find(struct vault *v, const char *kind, const vault_lock *self,
		     int remove_expired, int *found, char *holder, size_t n)
{
	name_list l = {NULL, 0, 0};
	size_t i;
	int rc = v->be->ops->list(v->be, "locks/", collect_name, &l);

	*found = 0;
	if (n)
		holder[0] = '\0';
	for (i = 0; rc == 0 && i < l.n; i++)
		if (!self || strcmp(self->name, l.names[i]) != 0)
			rc = lock_judge(v, l.names[i], kind, remove_expired,
					found, holder, n);
	free(l.names);
	return rc;
}

/* ---- what the remaining points need ---- */

typedef struct pruner {
	struct vault *v;
	const vault_prune_opts *o;
	vault_prune_result *r;
	vault_lock lock;
	vault_idset doomed;	       /* point ids to delete */
	vault_idset used;	       /* chunk and segment ids still needed */
	vault_idset seen_packs;	       /* packs already judged */
	vault_idset gone_packs;	       /* packs to delete */
	uint8_t (*keep)[VAULT_ID_LEN]; /* points that stay */
	size_t nkeep, capkeep;
	uint8_t (*del_packs)[VAULT_ID_LEN];
	size_t ndel_packs, capdel_packs;
	uint8_t (*old_idx)[VAULT_ID_LEN]; /* index objects replaced */
	size_t nold_idx, capold_idx;
	uint8_t (*new_idx)[VAULT_ID_LEN];  /* index objects written */
	size_t nnew_idx, capnew_idx;
	vault_pack_builder *pb;            /* the repack's pack being built */
	vault_index_pack *fresh;           /* packs the repack wrote */
	size_t nfresh, capfresh;
} pruner;

/* A safe point: SV_ECANCELLED when the caller's cancel hook says stop.
 * The steps before this one left a vault `vault check` accepts. */
static int stop_here(pruner *pr)
{
	if (!pr->o->cancel || !pr->o->cancel(pr->o->ud))
		return 0;
	return sv_error_set(SV_ECANCELLED, "cancelled: run the prune again "
			    "to finish it");
}

/* Appends an id to a growable array of ids. */
static int push_id(uint8_t (**arr)[VAULT_ID_LEN], size_t *n, size_t *cap,
		   const uint8_t *id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		void *p = c > VAULT_IDSET_MAX
				  ? NULL
				  : sv_realloc(*arr, c * VAULT_ID_LEN);

		if (!p)
			return sv_error_set(
				SV_ENOMEM,
				"too many objects to prune in one pass");
		*arr = p;
		*cap = c;
	}
	memcpy((*arr)[(*n)++], id, VAULT_ID_LEN);
	return 0;
}

static int sort_point(void *ud, const vault_point_info *p)
{
	pruner *pr = ud;
	uint8_t id[VAULT_ID_LEN];

	if (sv_hex_decode(id, VAULT_ID_LEN, p->id) < 0)
		return 0;
	if (vault__idset_has(&pr->doomed, id)) {
		pr->r->points_deleted++;
		return 0;
	}
	return push_id(&pr->keep, &pr->nkeep, &pr->capkeep, id);
}

/* The points to delete, each of which must exist. */
static int take_doomed(pruner *pr)
{
	uint8_t id[VAULT_ID_LEN];
	size_t i;
	int rc;

	for (i = 0; i < pr->o->npoints; i++) {
		const char *hex = pr->o->points[i];

		if (strlen(hex) != VAULT_HEX_ID_LEN ||
		    sv_hex_decode(id, VAULT_ID_LEN, hex) < 0)
			return sv_error_set(
				SV_EINVAL,
				"'%s' is not a full recovery point id", hex);
		if ((rc = vault__cache_has_point(pr->v->cache, id)) < 0)
			return rc;
		if (rc == 0)
			return sv_error_set(
				SV_ENOTFOUND,
				"no recovery point %s in vault '%s'", hex,
				pr->v->be->url);
		if ((rc = vault__idset_add(&pr->doomed, id)) < 0)
			return rc;
	}
	return vault_points(pr->v, NULL, sort_point, pr);
}

/* Marks a chunk-list segment and, the first time, the chunks it lists. */
static int mark_segment(pruner *pr, const char *point, const char *hex)
{
	vault_chunk_ref *refs = NULL;
	vault_blob_loc loc;
	uint8_t id[VAULT_ID_LEN];
	uint32_t n = 0, i;
	int rc;

	if (sv_hex_decode(id, VAULT_ID_LEN, hex) < 0)
		return sv_error_set(SV_ECORRUPT,
				    "recovery point %s names a bad segment id",
				    point);
	rc = vault__idset_add(&pr->used, id);
	if (rc <= 0)
		return rc; /* seen already (points share most segments) */
	rc = vault__cache_lookup(pr->v->cache, id, &loc);
	if (rc == SV_ENOTFOUND)
		return sv_error_set(
			SV_ECORRUPT,
			"recovery point %s needs chunk %.16s, which no index "
			"names: run 'sysvault vault check'; nothing was pruned",
			point, hex);
	if (rc == 0)
		rc = vault__read_list(pr->v, id, &loc, &refs, &n);
	for (i = 0; rc >= 0 && i < n; i++)
		rc = vault__idset_add(&pr->used, refs[i].id);
	free(refs);
	return rc < 0 ? rc : 0;
}

static int mark_point(pruner *pr, const uint8_t id[VAULT_ID_LEN])
{
	char hex[VAULT_HEX_ID_LEN + 1];
	json_t *p = NULL, *files, *f, *l;
	size_t i, j;
	int rc;

	sv_hex_encode(hex, id, VAULT_ID_LEN);
	rc = vault_point_load(pr->v, hex, &p);
	if (rc == 0)
		rc = sv_json_arr(p, "files", &files);
	if (rc == 0) {
		json_array_foreach(files, i, f)
		{
			json_array_foreach(json_object_get(f, "lists"), j, l)
			{
				if (rc == 0)
					rc = mark_segment(pr, hex,
							  json_string_value(l));
			}
		}
	}
	json_decref(p);
	return rc;
}

static int mark_all(pruner *pr)
{
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < pr->nkeep; i++) {
		rc = stop_here(pr);
		if (rc == 0)
			rc = mark_point(pr, pr->keep[i]);
		if (rc == 0 && !pr->o->dry_run)
			rc = vault__lock_refresh(pr->v, &pr->lock, 0);
	}
	return rc;
}

/* ---- deleting ---- */

static int delete_points(pruner *pr)
{
	char name[VAULT_NAME_MAX];
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < pr->o->npoints; i++) {
		uint8_t id[VAULT_ID_LEN];

		if ((rc = stop_here(pr)) != 0)
			break;
		sv_hex_decode(id, VAULT_ID_LEN, pr->o->points[i]);
		vault__name_object(name, "points", id);
		rc = pr->v->be->ops->del(pr->v->be, name);
		if (rc == 0)
			rc = vault__cache_del_point(pr->v->cache, id);
	}
	return rc;
}

/* ---- repacking ---- */

/* Uploads the pack being built and remembers it for the new index. */
static int flush_pack(pruner *pr)
{
	const vault_blob_entry *e;
	const uint8_t *bytes;
	vault_index_pack *f;
	char name[VAULT_NAME_MAX];
	size_t len;
	uint32_t n;
	int rc = 0;

	if (!pr->pb || vault__pack_count(pr->pb) == 0)
		return 0;
	if (pr->nfresh == pr->capfresh) {
		size_t cap = pr->capfresh ? pr->capfresh * 2 : 8;

		f = cap > VAULT_IDSET_MAX ? NULL
					  : sv_realloc(pr->fresh, cap * sizeof(*f));
		if (!f)
			return SV_ENOMEM;
		pr->fresh = f;
		pr->capfresh = cap;
	}
	f = &pr->fresh[pr->nfresh];
	memset(f, 0, sizeof(*f));
	rc = vault__pack_finish(pr->pb, f->pack_id, &bytes, &len, &e, &n);
	if (rc == 0) {
		vault__name_pack(name, f->pack_id);
		rc = pr->v->be->ops->put(pr->v->be, name, bytes, len);
	}
	if (rc == 0 && !(f->blobs = sv_calloc(n, sizeof(*e))))
		rc = SV_ENOMEM;
	if (rc == 0) {
		memcpy(f->blobs, e, n * sizeof(*e));
		f->count = n;
		f->pack_size = len;
		pr->nfresh++;
		pr->r->bytes_freed -= len < pr->r->bytes_freed ? len : pr->r->bytes_freed;
	}
	vault__pack_free(pr->pb);
	pr->pb = NULL;
	return rc;
}

/* Copies one blob (verified on the way) into the pack being built. */
static int copy_blob(pruner *pr, const uint8_t *pack, size_t size,
		     const vault_blob_entry *e)
{
	uint8_t *plain = NULL, flags = e->flags;
	const void *stored;
	size_t n = e->raw_length;
	int raw = 1, rc = 0;
	sv_buf z;

	sv_buf_init(&z, (size_t)e->raw_length + 4096);
	if ((uint64_t)e->offset + e->length > size)
		rc = sv_error_set(SV_ECORRUPT, "an index names a blob past the end of its pack");
	if (rc == 0 && !(plain = sv_malloc(n ? n : 1)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = vault__pack_open_blob(plain, &pr->v->mk, pack, e, pack + e->offset);
	if (rc == 0 && (flags & VAULT_BLOB_ZSTD))
		rc = vault__compress(&z, plain, n, pr->v->zstd_level, &raw);
	stored = raw ? (const void *)plain : (const void *)z.ptr;
	n = raw ? n : z.len;
	flags = raw ? (uint8_t)(flags & ~VAULT_BLOB_ZSTD) : flags;
	if (rc == 0 && !pr->pb)
		rc = vault__pack_new(&pr->pb, &pr->v->mk);
	if (rc == 0 && !vault__pack_contains(pr->pb, e->id))
		rc = vault__pack_add(pr->pb, e->id, stored, n, e->raw_length, flags);
	if (rc == 0 && vault__pack_size(pr->pb) >= pr->v->pack_target)
		rc = flush_pack(pr);
	free(plain);
	sv_buf_release(&z);
	return rc;
}

/* Moves the needed blobs of a mostly unneeded pack into a new pack; the
 * old one then goes like a wholly unneeded one. */
static int repack(pruner *pr, const vault_index_pack *ip, uint64_t unused)
{
	char name[VAULT_NAME_MAX];
	uint8_t sum[32];
	uint32_t i;
	sv_buf bytes;
	int rc = 0;

	pr->r->packs_repacked++;
	if (pr->o->dry_run) {
		pr->r->bytes_freed += unused;
		return 0;
	}
	pr->r->bytes_freed += ip->pack_size;
	vault__name_pack(name, ip->pack_id);
	sv_buf_init(&bytes, (size_t)ip->pack_size + 1);
	rc = pr->v->be->ops->get(pr->v->be, name, 0, UINT64_MAX, &bytes);
	if (rc == 0) {
		vault__sha256(sum, bytes.ptr, bytes.len);
		if (memcmp(sum, ip->pack_id, VAULT_ID_LEN) != 0 ||
		    bytes.len < VAULT_PACK_HEAD_LEN)
			rc = sv_error_set(SV_ECORRUPT, "%s is damaged: its contents do not match its name; nothing was deleted",
					  name);
	}
	for (i = 0; rc == 0 && i < ip->count; i++)
		if (vault__idset_has(&pr->used, ip->blobs[i].id))
			rc = copy_blob(pr, (const uint8_t *)bytes.ptr, bytes.len,
				       &ip->blobs[i]);
	sv_buf_release(&bytes);
	return rc;
}

/* ---- judging packs ---- */

static int mark_gone(pruner *pr, const vault_index_pack *ip)
{
	int rc = vault__idset_add(&pr->gone_packs, ip->pack_id);

	if (rc >= 0)
		rc = push_id(&pr->del_packs, &pr->ndel_packs,
			     &pr->capdel_packs, ip->pack_id);
	return rc;
}

/* Judges a pack the first time an index names it: gone when no blob in
 * it is needed; repacked when a quarter or more of it is unneeded; else
 * kept whole (its unneeded blobs counted as reclaimable). */
static int judge_pack(pruner *pr, const vault_index_pack *ip)
{
	uint64_t unused = 0;
	uint32_t i, needed = 0;
	int rc = vault__idset_add(&pr->seen_packs, ip->pack_id);

	if (rc <= 0)
		return rc;
	for (i = 0; i < ip->count; i++) {
		if (vault__idset_has(&pr->used, ip->blobs[i].id))
			needed++;
		else
			unused += ip->blobs[i].length;
	}
	if (needed > 0 && unused * VAULT_REPACK_UNUSED < ip->pack_size) {
		if (unused) {
			pr->r->packs_partial++;
			pr->r->bytes_reclaimable += unused;
		}
		return 0;
	}
	if (needed > 0)
		rc = repack(pr, ip, unused);
	else {
		pr->r->packs_deleted++;
		pr->r->bytes_freed += ip->pack_size;
	}
	return rc < 0 ? rc : mark_gone(pr, ip);
}

/* Writes an index object naming the packs of ip that stay (n of them)
 * and the packs the repack wrote from this index's packs (fresh[from..]). */
static int write_kept(pruner *pr, vault_index_pack *ip, uint32_t n,
		      size_t from)
{
	vault_index_pack *kept = sv_calloc(n + pr->nfresh - from + 1, sizeof(*kept));
	uint8_t id[VAULT_ID_LEN];
	uint32_t i, k = 0;
	size_t j;
	sv_buf plain;
	int rc = kept ? 0 : SV_ENOMEM;

	sv_buf_init(&plain, VAULT_INDEX_MAX);
	for (i = 0; rc == 0 && i < n; i++)
		if (!vault__idset_has(&pr->gone_packs, ip[i].pack_id))
			kept[k++] = ip[i]; /* borrowed blobs: not freed here */
	for (j = from; rc == 0 && j < pr->nfresh; j++)
		kept[k++] = pr->fresh[j];
	if (rc == 0 && k > 0 && !pr->o->dry_run) {
		rc = vault__index_encode(&plain, kept, k);
		if (rc == 0)
			rc = vault__store_object(pr->v, "index",
						 VAULT_OBJ_INDEX, plain.ptr,
						 plain.len, id);
		if (rc == 0)
			rc = push_id(&pr->new_idx, &pr->nnew_idx,
				     &pr->capnew_idx, id);
		if (rc == 0)
			pr->r->indexes_written++;
	}
	free(kept);
	sv_buf_release(&plain);
	return rc;
}

static int prune_index(pruner *pr, const uint8_t id[VAULT_ID_LEN])
{
	vault_index_pack *ip = NULL;
	uint32_t n = 0, i, gone = 0;
	size_t from = pr->nfresh;
	int rc = vault__index_load(pr->v, id, &ip, &n);

	for (i = 0; rc == 0 && i < n; i++)
		rc = judge_pack(pr, &ip[i]);
	if (rc == 0)
		rc = flush_pack(pr); /* each index's repack in its own packs */
	for (i = 0; rc == 0 && i < n; i++)
		gone += vault__idset_has(&pr->gone_packs, ip[i].pack_id);
	if (rc == 0 && gone > 0)
		rc = write_kept(pr, ip, n, from);
	if (rc == 0 && gone > 0)
		rc = push_id(&pr->old_idx, &pr->nold_idx, &pr->capold_idx, id);
	if (rc == 0 && !pr->o->dry_run)
		rc = vault__lock_refresh(pr->v, &pr->lock, 0);
	vault__index_free(ip, n);
	return rc;
}

/* A cancelled rewrite takes back what it wrote (the new index objects,
 * then the packs of the repack; nothing else names those), so that the
 * next prune finds the index objects as they were and does the rewrite
 * once, not twice. Not cancellable itself; an object left behind by a
 * failure here is one a crash would leave, and `vault check` accepts. */
static void undo_rewrite(pruner *pr)
{
	char name[VAULT_NAME_MAX];
	size_t i;

	vault__cancel_end(pr->v);
	for (i = 0; i < pr->nnew_idx; i++) {
		vault__name_object(name, "index", pr->new_idx[i]);
		if (pr->v->be->ops->del(pr->v->be, name) < 0)
			sv_log_warn("cancelled prune: %s", sv_error_msg());
	}
	for (i = 0; i < pr->nfresh; i++) {
		vault__name_pack(name, pr->fresh[i].pack_id);
		if (pr->v->be->ops->del(pr->v->be, name) < 0)
			sv_log_warn("cancelled prune: %s", sv_error_msg());
	}
}

static int prune_indexes(pruner *pr)
{
	name_list l = {NULL, 0, 0};
	uint8_t id[VAULT_ID_LEN];
	size_t i;
	int rc = pr->v->be->ops->list(pr->v->be, "index/", collect_name, &l);

	for (i = 0; rc == 0 && i < l.n; i++)
		if ((rc = stop_here(pr)) == 0 &&
		    vault__name_parse_object(id, l.names[i], "index") == 0)
			rc = prune_index(pr, id);
	free(l.names);
	if (rc == SV_ECANCELLED && !pr->o->dry_run) {
		char msg[512];

		sv_strlcpy(msg, sv_error_msg(), sizeof(msg));
		undo_rewrite(pr);
		rc = sv_error_set(SV_ECANCELLED, "%s", msg);
	}
	return rc;
}

/* The cache learns the result in one transaction, once the vault has
 * it all: after a crash or a failure before that, the next sync sees the
 * index objects that went and reloads them (sync.c). */
static int update_cache(pruner *pr)
{
	vault_cache *c = pr->v->cache;
	size_t i;
	int rc = vault__cache_begin(c);

	for (i = 0; rc == 0 && i < pr->nold_idx; i++)
		rc = vault__cache_del_index(c, pr->old_idx[i]);
	for (i = 0; rc == 0 && i < pr->ndel_packs; i++)
		rc = vault__cache_del_pack(c, pr->del_packs[i]);
	/* After the old packs' chunks are forgotten: they point here now. */
	for (i = 0; rc == 0 && i < pr->nfresh; i++)
		rc = vault__cache_add_pack(c, pr->fresh[i].pack_id,
					   pr->fresh[i].pack_size,
					   pr->fresh[i].blobs,
					   pr->fresh[i].count, 1);
	for (i = 0; rc == 0 && i < pr->nnew_idx; i++)
		rc = vault__cache_add_index(c, pr->new_idx[i]);
	if (rc == 0)
		return vault__cache_commit(c);
	vault__cache_rollback(c);
	return rc;
}

/* Steps 3 and 4: old index objects, then the packs only they named. */
static int delete_data(pruner *pr)
{
	char name[VAULT_NAME_MAX];
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < pr->nold_idx; i++) {
		vault__name_object(name, "index", pr->old_idx[i]);
		rc = pr->v->be->ops->del(pr->v->be, name);
	}
	for (i = 0; rc == 0 && i < pr->ndel_packs; i++) {
		vault__name_pack(name, pr->del_packs[i]);
		rc = pr->v->be->ops->del(pr->v->be, name);
	}
	return rc == 0 ? update_cache(pr) : rc;
}

/* ---- the whole prune ---- */

/* Takes the prune lock; a live backup lock elsewhere defers the data.
 * Two prunes at once are refused (both may refuse: run it again). */
static int prune_lock(pruner *pr)
{
	char other[320];
	int found = 0;
	int rc = vault__lock_take(pr->v, &pr->lock, "prune",
				  pr->o->machine ? pr->o->machine : "");

	if (rc == 0)
		rc = vault__lock_find(pr->v, "prune", &pr->lock, 0, &found,
				      other, sizeof(other));
	if (rc == 0 && found)
		return sv_error_set(SV_EBUSY,
				    "another prune is running, on %s: run this "
				    "one when it has ended",
				    other);
	if (rc == 0)
		rc = vault__lock_find(pr->v, "backup", &pr->lock, 1, &found,
				      pr->r->deferred_by,
				      sizeof(pr->r->deferred_by));
	if (rc == 0 && found)
		pr->r->data_deferred = 1;
	return rc;
}

/* The lock must still be live when data goes: a backup that began after
 * it lapsed did not wait for this prune. */
static int lock_still_held(pruner *pr)
{
	int rc = vault__lock_refresh(pr->v, &pr->lock, 0);

	if (rc == 0 && sv_time_now() >= pr->lock.expires)
		rc = sv_error_set(SV_EBUSY,
				  "the prune's vault lock expired before the "
				  "data could be removed; run the prune again");
	return rc;
}

static void pruner_release(pruner *pr)
{
	vault__idset_release(&pr->doomed);
	vault__idset_release(&pr->used);
	vault__idset_release(&pr->seen_packs);
	vault__idset_release(&pr->gone_packs);
	free(pr->keep);
	free(pr->del_packs);
	free(pr->old_idx);
	free(pr->new_idx);
	vault__pack_free(pr->pb);
	vault__index_free(pr->fresh, (uint32_t)pr->nfresh);
}

/* The steps, with a cancel looked at between them (stop_here) and inside
 * the long ones; the deletion of old index objects and packs (steps 3
 * and 4) is not cancelled: half of it would leave packs no index names,
 * which a backup would index again. */
static int run_prune(pruner *pr)
{
	int rc = pr->o->dry_run ? 0 : prune_lock(pr);

	if (rc == 0 && (rc = stop_here(pr)) == 0)
		rc = vault_sync(pr->v, 0, NULL);
	if (rc == 0 && (rc = stop_here(pr)) == 0)
		rc = take_doomed(pr);
	if (rc == 0 && !pr->r->data_deferred)
		rc = mark_all(pr);
	if (rc == 0 && !pr->o->dry_run)
		rc = delete_points(pr);
	if (rc < 0 || pr->r->data_deferred)
		return rc;
	rc = prune_indexes(pr);
	vault__cancel_end(pr->v);
	if (rc == 0 && !pr->o->dry_run)
		rc = lock_still_held(pr);
	if (rc == 0 && !pr->o->dry_run)
		rc = delete_data(pr);
	return rc;
}

int vault_prune(vault *v, const vault_prune_opts *o, vault_prune_result *r)
{
	pruner pr;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&pr, 0, sizeof(pr));
	pr.v = v;
	pr.o = o;
	pr.r = r;
	vault__cancel_begin(v, o->cancel, o->ud);
	rc = run_prune(&pr);
	vault__cancel_end(v);
	vault__lock_release(v, &pr.lock);
	pruner_release(&pr);
	if (rc < 0)
		sv_error_prefix("cannot prune vault '%s'", v->be->url);
	return rc;
}
