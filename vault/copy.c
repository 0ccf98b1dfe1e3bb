/*
 * copy.c - copying a vault's objects into another location (another
 * directory, container or bucket), resumably.
 *
 * Objects go over in the order that keeps the destination consistent at
 * every instant: keys and config, then data packs, then index objects,
 * then points and machines. An index object names only packs already
 * there, a point only chunks already indexed there, so an interrupted
 * copy never leaves a point whose data is missing. The source is listed
 * the other way round (points first, packs after them): a backup that
 * runs meanwhile writes its packs before its point, so every point seen
 * has its packs seen too. Locks are never copied.
 *
 * Verification: every content-addressed object (data, index, points,
 * machines) is read from the source and its SHA-256 checked against its
 * name before it is written; the write-once put then stores exactly those
 * bytes (cloud backends send Content-MD5 and, on S3, the signed SHA-256 of
 * the body; the local one fsyncs and renames). Config and key files have
 * no hash in their names: they are read back from the destination and
 * compared byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sv_log.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

#define COPY_SMALL_MAX ((size_t)1 << 20) /* config and key files */
#define COPY_THREADS_MAX 32 /* objects in flight at most */

/* Kinds in the order they are written: the keys before the config, as
 * vault init does, so that a destination with a config always opens. */
enum { K_KEYS, K_CONFIG, K_DATA, K_INDEX, K_POINTS, K_MACHINES, K_COUNT };

static const char *const kind_prefix[K_COUNT] = {
	"keys/", "config", "data/", "index/", "points/", "machines/"};

/* The order the source is listed in: dependents before what they need. */
static const int list_order[K_COUNT] = {K_POINTS, K_MACHINES, K_INDEX,
					K_DATA,	  K_KEYS,     K_CONFIG};

typedef struct copy_obj {
	char *name;
	uint64_t size;
	int kind;
} copy_obj;

typedef struct copy_set {
	copy_obj *o;
	size_t n, cap;
	int kind; /* of the names being listed */
} copy_set;

typedef struct copy_ctx {
	struct vault *v;
	vault_backend *dst;
	const vault_copy_opts *o;
	vault_copy_result *r;
	copy_set src;
	copy_set have; /* at the destination, sorted by name */
	unsigned threads;
	/* The workers of one kind share these, under mu. */
	sv_mutex *mu;
	size_t next, end; /* objects [next, end) still to do */
	int failed;	  /* the first error; the others stop */
	char *err;	  /* its message (errors are per thread) */
	vault_progress p;
} copy_ctx;

/* ---- object sets ---- */

static int set_add(copy_set *s, const char *name, uint64_t size)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		copy_obj *o = sv_realloc(s->o, cap * sizeof(*o));

		if (!o)
			return SV_ENOMEM;
		s->o = o;
		s->cap = cap;
	}
	if ((s->o[s->n].name = sv_strdup(name)) == NULL)
		return SV_ENOMEM;
	s->o[s->n].size = size;
	s->o[s->n].kind = s->kind;
	s->n++;
	return 0;
}

static void set_free(copy_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->o[i].name);
	free(s->o);
	memset(s, 0, sizeof(*s));
}

static int on_name(void *ud, const char *name, uint64_t size)
{
	copy_set *s = ud;

	/* "config" as a prefix would also match "configx" */
	if (s->kind == K_CONFIG && strcmp(name, "config") != 0)
		return 0;
	return set_add(s, name, size);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const copy_obj *)a)->name, ((const copy_obj *)b)->name);
}

/* Kind order first, then names (packs in name order spread over the
 * data/xx directories evenly). */
static int by_kind(const void *a, const void *b)
{
	const copy_obj *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Lists the source's objects, dependents first, then sorts them into the
 * order they are written in. */
static int list_source(copy_ctx *c)
{
	vault_backend *be = c->v->be;
	int i, rc = 0;

	for (i = 0; i < K_COUNT && rc == 0; i++) {
		c->src.kind = list_order[i];
		rc = be->ops->list(be, kind_prefix[c->src.kind], on_name,
				   &c->src);
	}
	if (rc == 0 && c->src.n)
		qsort(c->src.o, c->src.n, sizeof(*c->src.o), by_kind);
	return rc;
}

static int on_dst_name(void *ud, const char *name, uint64_t size)
{
	return set_add(ud, name, size);
}

static const copy_obj *have(const copy_ctx *c, const char *name)
{
	copy_obj key = {NULL, 0, 0};
	const copy_obj *hit;

	if (!c->have.n || (key.name = sv_strdup(name)) == NULL)
		return NULL;
	hit = bsearch(&key, c->have.o, c->have.n, sizeof(*c->have.o), by_name);
	free(key.name);
	return hit;
}

/* ---- the destination ---- */

/* The id in a config's JSON, or "" (caller frees). */
static char *config_id(const sv_buf *cfg)
{
	json_t *j = NULL;
	const char *id = "";
	char *out;

	if (sv_json_parse(&j, cfg->ptr, cfg->len, "the destination's config") ==
	    0)
		sv_json_str(j, "id", &id);
	out = sv_strdup(id ? id : "");
	json_decref(j);
	return out;
}

/* An object of the source, by name. */
static const copy_obj *in_source(const copy_ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->src.n; i++)
		if (strcmp(c->src.o[i].name, name) == 0)
			return &c->src.o[i];
	return NULL;
}

/* No config: empty, or the key files of a copy of this vault that was
 * interrupted before its config (key names are 128 random bits). */
static int check_no_config(const copy_ctx *c, const char *dst_url)
{
	size_t i;

	for (i = 0; i < c->have.n; i++)
		if (!sv_str_startswith(c->have.o[i].name, "keys/") ||
		    !in_source(c, c->have.o[i].name))
			return sv_error_set(SV_EEXISTS,
					    "'%s' holds objects but no vault "
					    "config ('%s'): copy into an empty "
					    "location",
					    dst_url, c->have.o[i].name);
	return 0;
}

/* The destination must be empty, or hold this same vault (a copy made
 * before, complete or not). */
static int check_destination(copy_ctx *c, const char *dst_url)
{
	vault_backend *d = c->dst;
	sv_buf cfg;
	char *id = NULL;
	int rc;

	if (!have(c, "config"))
		return check_no_config(c, dst_url);
	sv_buf_init(&cfg, COPY_SMALL_MAX);
	if ((rc = d->ops->get(d, "config", 0, UINT64_MAX, &cfg)) == 0 &&
	    (id = config_id(&cfg)) == NULL)
		rc = SV_ENOMEM;
	if (rc == 0 && strcmp(id, c->v->id) != 0)
		rc = sv_error_set(SV_EEXISTS,
				  "'%s' holds another vault (id %.16s...), not "
				  "a copy of %.16s...: copy into an empty "
				  "location",
				  dst_url, id[0] ? id : "unreadable", c->v->id);
	free(id);
	sv_buf_release(&cfg);
	return rc;
}

/* What the destination holds, sorted by name. */
static int list_destination(copy_ctx *c)
{
	int rc = c->dst->ops->list(c->dst, "", on_dst_name, &c->have);

	if (rc == 0 && c->have.n)
		qsort(c->have.o, c->have.n, sizeof(*c->have.o), by_name);
	return rc;
}

/* ---- one object ---- */

/* Content-addressed objects: the SHA-256 of the bytes is the name's id. */
static int verify_hash(const copy_obj *ob, const sv_buf *data)
{
	uint8_t id[VAULT_ID_LEN], sum[32];
	int rc;

	if (ob->kind == K_DATA)
		rc = vault__name_parse_pack(id, ob->name);
	else
		rc = vault__name_parse_object(id, ob->name,
					      ob->kind == K_INDEX ? "index"
					      : ob->kind == K_POINTS
						      ? "points"
						      : "machines");
	if (rc != 0)
		return sv_error_set(SV_ECORRUPT,
				    "source object '%s' has a malformed name",
				    ob->name);
	vault__sha256(sum, data->ptr, data->len);
	if (memcmp(sum, id, sizeof(id)) != 0)
		return sv_error_set(SV_ECORRUPT,
				    "source object '%s' is damaged (its "
				    "contents do not match its name): it was "
				    "not copied; run 'sysvault vault check' on "
				    "the source",
				    ob->name);
	return 0;
}

/* Config and key files: read back and compared. */
static int verify_readback(copy_ctx *c, const copy_obj *ob, const sv_buf *data)
{
	sv_buf back;
	int rc;

	sv_buf_init(&back, data->len + 1);
	rc = c->dst->ops->get(c->dst, ob->name, 0, UINT64_MAX, &back);
	if (rc == 0 &&
	    (back.len != data->len || memcmp(back.ptr, data->ptr, back.len)))
		rc = sv_error_set(SV_ECORRUPT,
				  "'%s' at the destination differs from the "
				  "source after copying: the destination "
				  "does not store what it is given",
				  ob->name);
	sv_buf_release(&back);
	return rc;
}

/* Copies one object; *bytes gets its size. Runs on several threads. */
static int copy_one(copy_ctx *c, const copy_obj *ob, uint64_t *bytes)
{
	vault_backend *s = c->v->be;
	int small = ob->kind == K_CONFIG || ob->kind == K_KEYS;
	sv_buf data;
	int rc;

	if (ob->size > (small ? COPY_SMALL_MAX : SIZE_MAX / 2))
		return sv_error_set(SV_ECORRUPT,
				    "source object '%s' is too large (%llu "
				    "bytes)",
				    ob->name, (unsigned long long)ob->size);
	sv_buf_init(&data, (size_t)ob->size + 1);
	rc = s->ops->get(s, ob->name, 0, UINT64_MAX, &data);
	if (rc == 0 && !small)
		rc = verify_hash(ob, &data);
	if (rc == 0)
		rc = c->dst->ops->put(c->dst, ob->name, data.ptr, data.len);
	if (rc == 0 && small)
		rc = verify_readback(c, ob, &data);
	*bytes = data.len;
	sv_buf_release(&data);
	return rc;
}

/* An object the destination already has: same size, or it is damaged. */
static int check_present(const copy_obj *ob, const copy_obj *there)
{
	if (there->size == ob->size)
		return 0;
	return sv_error_set(SV_ECORRUPT,
			    "'%s' at the destination has %llu bytes, the "
			    "source's %llu: the destination is damaged; check "
			    "it with 'sysvault vault check'",
			    ob->name, (unsigned long long)there->size,
			    (unsigned long long)ob->size);
}

/* The next object of the current kind for a worker, or NULL when done or
 * stopped. */
static const copy_obj *take(copy_ctx *c)
{
	const copy_obj *ob = NULL;

	sv_mutex_lock(c->mu);
	if (!c->failed && c->next < c->end)
		ob = &c->src.o[c->next++];
	sv_mutex_unlock(c->mu);
	return ob;
}

/* Records one object's outcome (and reports progress) under the lock. */
static void done(copy_ctx *c, const copy_obj *ob, int rc, int copied,
		 uint64_t bytes)
{
	sv_mutex_lock(c->mu);
	if (rc != 0 && !c->failed) {
		c->failed = rc;
		c->err = sv_strdup(sv_error_msg());
	} else if (rc == 0) {
		if (copied) {
			c->r->objects_copied++;
			c->r->bytes_copied += bytes;
			c->p.bytes_stored += bytes;
		} else {
			c->r->objects_present++;
		}
		c->p.files_done++;
		c->p.bytes_done += ob->size;
		c->p.current = ob->name;
		if (c->o && c->o->progress)
			c->o->progress(c->o->ud, &c->p);
	}
	sv_mutex_unlock(c->mu);
}

static int cancelled(copy_ctx *c)
{
	if (!c->o || !c->o->cancel || !c->o->cancel(c->o->ud))
		return 0;
	return sv_error_set(SV_ECANCELLED,
			    "copy cancelled: run it again to finish (what was "
			    "copied stays)");
}

static void worker(void *arg)
{
	copy_ctx *c = arg;
	const copy_obj *ob, *there;
	uint64_t bytes;
	int rc;

	while ((ob = take(c)) != NULL) {
		bytes = 0;
		there = have(c, ob->name);
		if ((rc = cancelled(c)) == 0)
			rc = there ? check_present(ob, there)
				   : copy_one(c, ob, &bytes);
		done(c, ob, rc, !there, bytes);
	}
}

/* The objects [lo, hi) (one kind) on the worker threads. */
static int copy_kind(copy_ctx *c, size_t lo, size_t hi)
{
	sv_thread *t[COPY_THREADS_MAX];
	unsigned i, n = 0;
	int rc = 0;

	c->next = lo;
	c->end = hi;
	for (i = 0; i < c->threads && i < hi - lo; i++) {
		if ((rc = sv_thread_start(&t[n], worker, c)) != 0)
			break;
		n++;
	}
	if (n == 0 && rc == 0)
		worker(c);
	for (i = 0; i < n; i++)
		sv_thread_join(t[i]);
	if (c->failed)
		return sv_error_set(c->failed, "%s", c->err ? c->err : "");
	return rc;
}

/* Kind after kind: everything of one kind is at the destination before
 * the next kind starts. */
static int copy_all(copy_ctx *c)
{
	size_t i, lo = 0;
	int rc = 0;

	c->p.phase = "copy";
	for (i = 0; i < c->src.n; i++) {
		c->p.files_total++;
		c->p.bytes_total += c->src.o[i].size;
	}
	c->r->objects = c->src.n;
	for (i = 1; i <= c->src.n && rc == 0; i++) {
		if (i < c->src.n && c->src.o[i].kind == c->src.o[lo].kind)
			continue;
		rc = copy_kind(c, lo, i);
		lo = i;
	}
	return rc;
}

/* Objects in flight: the transfer count asked for the destination, else
 * the source's engine's count (a cloud source), else the engine's default
 * -- the same count a backup or restore uses. */
static unsigned copy_threads(const struct vault *v, const vault_access *dst)
{
	unsigned n = vault__transfers(v);

	if (dst && dst->transfers)
		return dst->transfers;
	return n ? n : vault__http_default_transfers();
}

int vault_copy(vault *v, const char *dst_url, const vault_access *dst_acc,
	       const vault_copy_opts *o, vault_copy_result *r)
{
	copy_ctx c;
	vault_copy_result scratch;
	uint64_t t0 = sv_time_mono_ms();
	int rc;

	memset(&c, 0, sizeof(c));
	if (!r)
		r = &scratch;
	memset(r, 0, sizeof(*r));
	c.v = v;
	c.o = o;
	c.r = r;
	c.threads = copy_threads(v, dst_acc);
	if (c.threads > COPY_THREADS_MAX)
		c.threads = COPY_THREADS_MAX;
	if (!dst_url || !dst_url[0])
		return sv_error_set(SV_EINVAL,
				    "no destination given for the copy");
	if (strcmp(dst_url, v->be->url) == 0)
		return sv_error_set(SV_EINVAL,
				    "'%s' is the vault itself: copy to another "
				    "location",
				    dst_url);
	if ((rc = sv_mutex_new(&c.mu)) == 0 &&
	    (rc = vault__backend_open(&c.dst, dst_url, dst_acc, 1)) == 0 &&
	    (rc = list_destination(&c)) == 0 && (rc = list_source(&c)) == 0 &&
	    (rc = check_destination(&c, dst_url)) == 0)
		rc = copy_all(&c);
	if (rc != 0 && rc != SV_ECANCELLED)
		sv_error_prefix("copy to '%s'", dst_url);
	r->retries = c.dst ? atomic_load(&c.dst->retries) : 0;
	r->elapsed_ms = sv_time_mono_ms() - t0;
	vault__backend_close(c.dst);
	sv_mutex_free(c.mu);
	free(c.err);
	set_free(&c.src);
	set_free(&c.have);
	return rc;
}
