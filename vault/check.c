/*
 * check.c - verifying a vault: every index and point object opens and
 * matches its name, every pack an index names exists with its size, every
 * chunk a point needs is named by an index, and (with read_data) every
 * byte of the chosen packs decrypts and matches its id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_log.h"
#include "vault_int.h"

typedef struct pack_rec {
	uint8_t id[VAULT_ID_LEN];
	uint64_t size;        /* as listed in the backend */
	int listed;
	int indexed;
} pack_rec;

typedef struct checker {
	struct vault *v;
	const vault_check_opts *o;
	vault_check_result *r;
	pack_rec *packs;
	size_t n, cap;
	int sorted;
} checker;

static void problem(checker *c, const char *object, const char *fmt, ...)
	SV_PRINTF(3, 4);

static void problem(checker *c, const char *object, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->r->problems++;
	if (c->o->problem)
		c->o->problem(c->o->ud, object, msg);
}

static int by_id(const void *a, const void *b)
{
	return memcmp(((const pack_rec *)a)->id, ((const pack_rec *)b)->id,
		      VAULT_ID_LEN);
}

static pack_rec *find_pack(checker *c, const uint8_t id[VAULT_ID_LEN])
{
	pack_rec key;

	if (c->n == 0)
		return NULL;
	if (!c->sorted) {
		qsort(c->packs, c->n, sizeof(pack_rec), by_id);
		c->sorted = 1;
	}
	memcpy(key.id, id, VAULT_ID_LEN);
	return bsearch(&key, c->packs, c->n, sizeof(pack_rec), by_id);
}

static int on_pack(void *ud, const char *name, uint64_t size)
{
	checker *c = ud;
	pack_rec *p;

	uint8_t id[VAULT_ID_LEN];

	if (vault__name_parse_pack(id, name) < 0)
		return 0;   /* not a pack name: not ours to judge */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;

		p = sv_realloc(c->packs, cap * sizeof(*p));
		if (!p)
			return SV_ENOMEM;
		c->packs = p;
		c->cap = cap;
	}
	p = &c->packs[c->n];
	memset(p, 0, sizeof(*p));
	memcpy(p->id, id, VAULT_ID_LEN);
	p->size = size;
	p->listed = 1;
	c->n++;
	c->r->packs++;
	c->sorted = 0;
	return 0;
}

/* ---- index objects ---- */

static void check_index_packs(checker *c, const char *name,
			      const vault_index_pack *ip, uint32_t n)
{
	char pname[VAULT_NAME_MAX];
	uint32_t i;

	for (i = 0; i < n; i++) {
		pack_rec *p = find_pack(c, ip[i].pack_id);

		vault__name_pack(pname, ip[i].pack_id);
		if (!p)
			problem(c, pname, "missing: named by %s", name);
		else if (p->size != ip[i].pack_size)
			problem(c, pname, "is %llu bytes but %s says %llu (truncated or replaced)",
				(unsigned long long)p->size, name,
				(unsigned long long)ip[i].pack_size);
		else
			p->indexed = 1;
	}
}

static int on_index(void *ud, const char *name, uint64_t size)
{
	checker *c = ud;
	vault_index_pack *ip = NULL;
	uint8_t id[VAULT_ID_LEN];
	uint32_t n = 0;
	int rc;

	(void)size;
	if (vault__name_parse_object(id, name, "index") < 0)
		return 0;
	c->r->indexes++;
	rc = vault__index_load(c->v, id, &ip, &n);
	if (rc == 0)
		check_index_packs(c, name, ip, n);
	else if (rc == SV_ECORRUPT || rc == SV_EINVAL)
		problem(c, name, "%s", sv_error_msg());
	vault__index_free(ip, n);
	return (rc == SV_ECORRUPT || rc == SV_EINVAL) ? 0 : rc;
}

/* ---- points ---- */

/* Checks that a blob is in the cache, in a pack some index names. */
static int check_ref(checker *c, const char *point, const char *path,
		     const uint8_t id[VAULT_ID_LEN], vault_blob_loc *loc)
{
	char hex[VAULT_HEX_ID_LEN + 1];
	pack_rec *p;
	int rc = vault__cache_lookup(c->v->cache, id, loc);

	if (rc != 0 && rc != SV_ENOTFOUND)
		return rc;
	sv_hex_encode(hex, id, VAULT_ID_LEN);
	p = rc == 0 ? find_pack(c, loc->pack_id) : NULL;
	if (!p || !p->indexed) {
		problem(c, point, "'%s' needs chunk %.16s, which no index names in an existing pack",
			path, hex);
		return 1;
	}
	return 0;
}

static int check_segment(checker *c, const char *point, const char *path,
			 const char *hex)
{
	vault_chunk_ref *refs = NULL;
	vault_blob_loc loc;
	uint8_t id[VAULT_ID_LEN];
	uint32_t n = 0, i;
	int rc;

	if (sv_hex_decode(id, VAULT_ID_LEN, hex) < 0)
		return 0;
	rc = check_ref(c, point, path, id, &loc);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = vault__read_list(c->v, id, &loc, &refs, &n);
	if (rc == SV_ECORRUPT || rc == SV_ENOTFOUND) {
		problem(c, point, "the chunk list of '%s' cannot be read: %s", path,
			sv_error_msg());
		rc = 0;
	}
	for (i = 0; rc >= 0 && i < n; i++)
		if (memcmp(refs[i].id, vault__zero_id, VAULT_ID_LEN) != 0)
			rc = check_ref(c, point, path, refs[i].id, &loc);
	free(refs);
	return rc < 0 ? rc : 0;
}

static int on_point(void *ud, const char *name, uint64_t size)
{
	checker *c = ud;
	json_t *p = NULL, *files, *f, *lists, *l;
	uint8_t id[VAULT_ID_LEN];
	size_t i, j;
	int rc;

	(void)size;
	if (vault__name_parse_object(id, name, "points") < 0)
		return 0;
	c->r->points++;
	rc = vault_point_load(c->v, name + 7, &p);
	if (rc == SV_ECORRUPT || rc == SV_EINVAL || rc == SV_ENOTFOUND) {
		problem(c, name, "%s", sv_error_msg());
		return 0;
	}
	if (rc < 0)
		return rc;
	sv_json_arr(p, "files", &files);
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));

		lists = json_object_get(f, "lists");
		json_array_foreach(lists, j, l) {
			if (rc == 0)
				rc = check_segment(c, name, path, json_string_value(l));
		}
	}
	json_decref(p);
	return rc;
}

/* ---- reading packs ---- */

static void read_pack(checker *c, const pack_rec *p)
{
	char name[VAULT_NAME_MAX];
	vault_blob_entry *e = NULL;
	uint8_t sum[32], *plain = NULL;
	uint32_t n = 0, i;
	size_t need = 0;
	sv_buf bytes;
	int rc;

	vault__name_pack(name, p->id);
	sv_buf_init(&bytes, (size_t)p->size + 1);
	rc = c->v->be->ops->get(c->v->be, name, 0, UINT64_MAX, &bytes);
	if (rc < 0) {
		problem(c, name, "cannot be read: %s", sv_error_msg());
		goto done;
	}
	c->r->packs_read++;
	vault__sha256(sum, bytes.ptr, bytes.len);
	if (memcmp(sum, p->id, VAULT_ID_LEN) != 0)
		problem(c, name, "is damaged: its contents do not match its name");
	if (bytes.len < VAULT_PACK_HEAD_LEN + 4 ||
	    vault__pack_read_header(&e, &n, &need, &c->v->mk, (const uint8_t *)bytes.ptr,
				    (const uint8_t *)bytes.ptr, bytes.len, bytes.len) < 0 || !e) {
		problem(c, name, "its header cannot be read: %s", sv_error_msg());
		goto done;
	}
	for (i = 0; i < n; i++) {
		uint8_t *q = sv_realloc(plain, e[i].raw_length ? e[i].raw_length : 1);

		if (!q)
			break;
		plain = q;
		if (vault__pack_open_blob(plain, &c->v->mk, (const uint8_t *)bytes.ptr, &e[i],
					  (const uint8_t *)bytes.ptr + e[i].offset) < 0)
			problem(c, name, "blob %u at offset %u is damaged: %s", i,
				e[i].offset, sv_error_msg());
	}
done:
	free(plain);
	free(e);
	sv_buf_release(&bytes);
}

/* Deterministic sample: a pack is read when its first id bytes fall in
 * the first `percent` of the id space. */
static int chosen(const pack_rec *p, unsigned percent)
{
	uint32_t x = (uint32_t)p->id[0] << 8 | p->id[1];

	return percent >= 100 || x < (uint32_t)(65536u * percent / 100u);
}

int vault_check(vault *v, const vault_check_opts *o, vault_check_result *r)
{
	checker c;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.o = o;
	c.r = r;
	rc = vault_sync(v, 0, NULL);
	if (rc == 0)
		rc = v->be->ops->list(v->be, "data/", on_pack, &c);
	if (rc == 0)
		rc = v->be->ops->list(v->be, "index/", on_index, &c);
	if (rc == 0)
		rc = v->be->ops->list(v->be, "points/", on_point, &c);
	for (i = 0; rc == 0 && i < c.n; i++) {
		if (!c.packs[i].indexed)
			r->packs_unindexed++;
		if (o->read_data_percent && chosen(&c.packs[i], o->read_data_percent))
			read_pack(&c, &c.packs[i]);
	}
	free(c.packs);
	if (rc == 0 && r->problems)
		rc = sv_error_set(SV_ECORRUPT, "vault '%s' has %llu problem%s",
				  v->be->url, (unsigned long long)r->problems,
				  r->problems == 1 ? "" : "s");
	return rc;
}
