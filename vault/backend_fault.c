/*
 * backend_fault.c - a wrapper that makes any backend misbehave like a bad
 * network (scheme "fault"). A test tool: vault__backend_open() puts it
 * around the real backend only when SYSVAULT_FAULTS is set, and it warns
 * on every open.
 *
 * The spec is "key=value" pairs separated by commas:
 *   seed=<n>        the random seed (default 1)
 *   fail=<p>        the share of requests that fail: 0.25 or 25%
 *   kinds=<k>+<k>   reset, 503, stall, short, corrupt (default
 *                   reset+503+stall+short; corrupt is opt-in)
 *   latency=<d>     added to every request ("20ms", "1s")
 *   stall=<d>       how long a stalled request hangs (default 50ms)
 *   after=<size>    no faults until this many bytes went through
 *   backoff=<d>     the first retry delay of the resilience layer
 *
 * The failures are those of real services: a reset may come after the
 * server committed a put (so the object may or may not be there), a reset
 * during a get leaves part of the body behind, a short answer to a ranged
 * get holds fewer bytes than asked, a stall hangs and then times out, a
 * 503 does nothing. corrupt flips one byte of what a get returns.
 *
 * Deterministic: whether a request fails depends only on the seed, the
 * request (operation, name, range) and how many times that same request
 * was made before, not on thread timing (except with after=, which counts
 * bytes in arrival order).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_log.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

enum {
	FAULT_NONE = 0,
	FAULT_RESET = 1 << 0,
	FAULT_503 = 1 << 1,
	FAULT_STALL = 1 << 2,
	FAULT_SHORT = 1 << 3,
	FAULT_CORRUPT = 1 << 4
};

static const struct {
	const char *name;
	int kind;
} kind_names[] = {
	{"reset", FAULT_RESET},	    {"503", FAULT_503},
	{"stall", FAULT_STALL},	    {"short", FAULT_SHORT},
	{"corrupt", FAULT_CORRUPT},
};

#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))
#define SPEC_HINT "(e.g. SYSVAULT_FAULTS=seed=7,fail=0.25,kinds=reset+503)"

typedef struct fault_cfg {
	uint64_t seed;
	double fail;
	int kinds;
	unsigned latency_ms, stall_ms, backoff_ms;
	uint64_t after;
} fault_cfg;

/* How many times each request was seen: open addressing on its hash. */
typedef struct fault_seen {
	uint64_t *keys; /* 0: empty slot */
	uint32_t *counts;
	size_t cap, used;
} fault_seen;

typedef struct fault_backend {
	vault_backend base;
	vault_backend_ops ops; /* the inner backend's shape, our functions */
	vault_backend *in;
	fault_cfg cfg;
	sv_mutex *mu; /* guards seen */
	fault_seen seen;
	_Atomic uint64_t bytes; /* through the wrapper, for after= */
} fault_backend;

/* ---- the spec ---- */

/* "20ms", "1s", "0" into milliseconds. */
static int parse_ms(unsigned *out, const char *key, const char *v)
{
	char *end = NULL;
	unsigned long n = strtoul(v, &end, 10);

	if (end != v && v[0] >= '0' && v[0] <= '9' && n <= 600000) {
		if (!strcmp(end, "ms") || (n == 0 && !*end)) {
			*out = (unsigned)n;
			return 0;
		}
		if (!strcmp(end, "s") && n <= 600) {
			*out = (unsigned)n * 1000;
			return 0;
		}
	}
	return sv_error_set(SV_EINVAL,
			    "SYSVAULT_FAULTS: %s='%s' is not a duration "
			    "(write 20ms or 2s, at most 600s)",
			    key, v);
}

/* "0.25" or "25%" into [0, 1]. */
static int parse_share(double *out, const char *v)
{
	char *end = NULL;
	double d = strtod(v, &end);

	if (end != v && v[0] >= '0' && v[0] <= '9') {
		if (!strcmp(end, "%"))
			d /= 100.0;
		else if (*end)
			d = -1;
		if (d >= 0 && d <= 1) {
			*out = d;
			return 0;
		}
	}
	return sv_error_set(SV_EINVAL,
			    "SYSVAULT_FAULTS: fail='%s' is not a share of "
			    "requests (write 0.25 or 25%%)",
			    v);
}

/* "reset+503" into flags; every '+' needs a kind on both sides. */
static int parse_kinds(int *out, const char *v)
{
	const char *p = v;
	size_t i, n;

	*out = 0;
	for (;;) {
		n = strcspn(p, "+");
		for (i = 0; i < N_KINDS; i++)
			if (strlen(kind_names[i].name) == n &&
			    !strncmp(p, kind_names[i].name, n))
				break;
		if (i == N_KINDS)
			return sv_error_set(
				SV_EINVAL,
				"SYSVAULT_FAULTS: unknown fault kind "
				"'%.*s' in kinds=%s (use reset, 503, "
				"stall, short, corrupt joined by '+')",
				(int)n, p, v);
		*out |= kind_names[i].kind;
		p += n;
		if (*p == '\0')
			return 0;
		p++;
	}
}

static int parse_pair(fault_cfg *c, const char *key, const char *v)
{
	if (!strcmp(key, "seed"))
		return sv_parse_u64(&c->seed, v) < 0
			       ? sv_error_set(SV_EINVAL,
					      "SYSVAULT_FAULTS: seed='%s' is "
					      "not a number",
					      v)
			       : 0;
	if (!strcmp(key, "fail"))
		return parse_share(&c->fail, v);
	if (!strcmp(key, "kinds"))
		return parse_kinds(&c->kinds, v);
	if (!strcmp(key, "latency"))
		return parse_ms(&c->latency_ms, key, v);
	if (!strcmp(key, "stall"))
		return parse_ms(&c->stall_ms, key, v);
	if (!strcmp(key, "backoff"))
		return parse_ms(&c->backoff_ms, key, v);
	if (!strcmp(key, "after"))
		return sv_parse_size(&c->after, v) < 0
			       ? sv_error_set(SV_EINVAL,
					      "SYSVAULT_FAULTS: after='%s' is "
					      "not a size (e.g. 64K, 2M)",
					      v)
			       : 0;
	return sv_error_set(SV_EINVAL,
			    "SYSVAULT_FAULTS: unknown key '%s' (keys: seed, "
			    "fail, kinds, latency, stall, after, backoff)",
			    key);
}

static int parse_spec(fault_cfg *c, const char *spec)
{
	char *copy = sv_strdup(spec), *p, *item, *eq;
	int rc = copy ? 0 : SV_ENOMEM;

	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->stall_ms = 50;
	c->kinds = FAULT_RESET | FAULT_503 | FAULT_STALL | FAULT_SHORT;
	/* Every comma separates two pairs: "a=1," and ",a=1" are refused. */
	for (p = copy; rc == 0 && p;) {
		item = p;
		p = strchr(p, ',');
		if (p)
			*p++ = '\0';
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			rc = sv_error_set(SV_EINVAL,
					  "SYSVAULT_FAULTS: '%s' is not "
					  "key=value " SPEC_HINT,
					  item);
			break;
		}
		*eq = '\0';
		rc = parse_pair(c, item, eq + 1);
	}
	free(copy);
	return rc;
}

int vault__fault_spec_check(const char *spec, unsigned *backoff_ms)
{
	fault_cfg c;
	int rc = parse_spec(&c, spec);

	if (rc == 0 && backoff_ms)
		*backoff_ms = c.backoff_ms;
	return rc;
}

/* ---- deciding ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* FNV-1a over the request's identity. */
static uint64_t request_key(int op, const char *name, uint64_t off,
			    uint64_t len)
{
	uint64_t h = 0xcbf29ce484222325ull, parts[2] = {off, len};
	const unsigned char *p = (const unsigned char *)name;
	size_t i;

	h = (h ^ (uint64_t)op) * 0x100000001b3ull;
	for (; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	for (i = 0; i < sizeof(parts); i++)
		h = (h ^ ((const unsigned char *)parts)[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static int seen_grow(fault_seen *s)
{
	fault_seen n = {NULL, NULL, s->cap ? s->cap * 2 : 1024, 0};
	size_t i, j;

	n.keys = sv_calloc(n.cap, sizeof(*n.keys));
	n.counts = sv_calloc(n.cap, sizeof(*n.counts));
	if (!n.keys || !n.counts) {
		free(n.keys);
		free(n.counts);
		return SV_ENOMEM;
	}
	for (i = 0; i < s->cap; i++) {
		if (!s->keys[i])
			continue;
		for (j = s->keys[i] & (n.cap - 1); n.keys[j];
		     j = (j + 1) & (n.cap - 1))
			;
		n.keys[j] = s->keys[i];
		n.counts[j] = s->counts[i];
		n.used++;
	}
	free(s->keys);
	free(s->counts);
	*s = n;
	return 0;
}

/* How many times key was seen before (then counts this time). When memory
 * runs out the count stays 0: faults stay random, only less repeatable. */
static uint32_t seen_bump(fault_backend *f, uint64_t key)
{
	fault_seen *s = &f->seen;
	uint32_t n = 0;
	size_t j;

	sv_mutex_lock(f->mu);
	if (s->used * 2 < s->cap || seen_grow(s) == 0) {
		for (j = key & (s->cap - 1); s->keys[j] && s->keys[j] != key;
		     j = (j + 1) & (s->cap - 1))
			;
		if (!s->keys[j]) {
			s->keys[j] = key;
			s->used++;
		}
		n = s->counts[j]++;
	}
	sv_mutex_unlock(f->mu);
	return n;
}

/* The n-th enabled kind. */
static int nth_kind(int kinds, unsigned n)
{
	size_t i;

	for (i = 0; i < N_KINDS; i++)
		if ((kinds & kind_names[i].kind) && n-- == 0)
			return kind_names[i].kind;
	return FAULT_NONE;
}

static unsigned popcount(int kinds)
{
	unsigned n = 0;

	for (; kinds; kinds &= kinds - 1)
		n++;
	return n;
}

/* Whether this request fails and how; *rng is its own random stream for
 * the details (committed or not, how short). allowed: the kinds that make
 * sense for the operation. Sleeps the latency first. */
static int pick(fault_backend *f, int op, const char *name, uint64_t off,
		uint64_t len, int allowed, uint64_t *rng)
{
	uint64_t key = request_key(op, name, off, len);
	int kinds = f->cfg.kinds & allowed;
	double r;

	*rng = f->cfg.seed ^ key ^ ((uint64_t)seen_bump(f, key) << 32);
	splitmix(rng);
	if (f->cfg.latency_ms)
		sv_time_sleep_ms(f->cfg.latency_ms);
	r = (double)(splitmix(rng) >> 11) / 9007199254740992.0;
	if (!kinds || r >= f->cfg.fail || atomic_load(&f->bytes) < f->cfg.after)
		return FAULT_NONE;
	return nth_kind(kinds, (unsigned)(splitmix(rng) % popcount(kinds)));
}

static void count_bytes(fault_backend *f, uint64_t n)
{
	atomic_fetch_add(&f->bytes, n);
}

/* The error of an injected failure that did not reach the inner backend
 * (or did, and then the answer was lost). */
static int injected(fault_backend *f, int kind, const char *op,
		    const char *name)
{
	if (kind == FAULT_STALL) {
		sv_time_sleep_ms(f->cfg.stall_ms);
		return sv_error_set(SV_ETIMEOUT,
				    "vault '%s': %s '%s': no answer for %u ms "
				    "(injected stall)",
				    f->base.url, op, name, f->cfg.stall_ms);
	}
	if (kind == FAULT_503)
		return sv_error_set(SV_ENETWORK,
				    "vault '%s': %s '%s' failed: HTTP 503 "
				    "(ServerBusy, injected)",
				    f->base.url, op, name);
	return sv_error_set(SV_ENETWORK,
			    "vault '%s': %s '%s': connection reset by peer "
			    "(injected)",
			    f->base.url, op, name);
}

/* ---- operations ---- */

static int fault_put(vault_backend *b, const char *name, const void *data,
		     size_t n)
{
	fault_backend *f = (fault_backend *)b;
	uint64_t rng;
	int kind = pick(f, 'p', name, 0, n, ~FAULT_CORRUPT, &rng), rc;

	/* A reset or stall may come after the server stored the object. */
	if (kind == FAULT_NONE ||
	    ((kind & (FAULT_RESET | FAULT_STALL | FAULT_SHORT)) &&
	     (splitmix(&rng) & 1))) {
		rc = f->in->ops->put(f->in, name, data, n);
		count_bytes(f, n);
		if (rc < 0 || kind == FAULT_NONE)
			return rc;
	}
	return injected(f, kind == FAULT_SHORT ? FAULT_RESET : kind, "put",
			name);
}

/* Keeps a random prefix of the bytes appended since start. */
static size_t cut_short(sv_buf *out, size_t start, uint64_t *rng)
{
	size_t got = out->len - start, keep = got ? splitmix(rng) % got : 0;

	out->len = start + keep;
	out->ptr[out->len] = '\0';
	return keep;
}

/* What a get answers for a fault that lets the inner get run. */
static int get_damaged(fault_backend *f, int kind, const char *name,
		       uint64_t len, sv_buf *out, size_t start, uint64_t *rng)
{
	size_t got = out->len - start, keep;

	if (kind == FAULT_CORRUPT) {
		if (got)
			out->ptr[start + splitmix(rng) % got] ^=
				(uint8_t)(1u << (splitmix(rng) % 8));
		return 0;
	}
	keep = cut_short(out, start, rng);
	if (kind == FAULT_SHORT && len != UINT64_MAX)
		return 0; /* a ranged answer with fewer bytes than asked */
	return sv_error_set(SV_ENETWORK,
			    "vault '%s': get '%s': connection closed after %zu "
			    "of %zu bytes (injected)",
			    f->base.url, name, keep, got);
}

static int fault_get(vault_backend *b, const char *name, uint64_t off,
		     uint64_t len, sv_buf *out)
{
	fault_backend *f = (fault_backend *)b;
	size_t start = out->len;
	uint64_t rng;
	int kind = pick(f, 'g', name, off, len, ~0, &rng), rc;

	if (kind == FAULT_503 || kind == FAULT_STALL ||
	    (kind == FAULT_RESET && (splitmix(&rng) & 1)))
		return injected(f, kind, "get", name);
	rc = f->in->ops->get(f->in, name, off, len, out);
	count_bytes(f, out->len - start);
	if (rc < 0 || kind == FAULT_NONE)
		return rc;
	return get_damaged(f, kind, name, len, out, start, &rng);
}

static int fault_stat(vault_backend *b, const char *name, uint64_t *size)
{
	fault_backend *f = (fault_backend *)b;
	uint64_t rng;
	int kind = pick(f, 's', name, 0, 0, ~FAULT_CORRUPT, &rng);

	if (kind != FAULT_NONE)
		return injected(f, kind, "stat", name);
	return f->in->ops->stat(f->in, name, size);
}

/* A listing that breaks off after a few names. */
typedef struct list_cut {
	vault_list_cb cb;
	void *ud;
	uint64_t left;
	int cut;
} list_cut;

static int list_cut_cb(void *ud, const char *name, uint64_t size)
{
	list_cut *l = ud;

	if (l->left == 0) {
		l->cut = 1;
		return 1;
	}
	l->left--;
	return l->cb(l->ud, name, size);
}

static int fault_list(vault_backend *b, const char *prefix, vault_list_cb cb,
		      void *ud)
{
	fault_backend *f = (fault_backend *)b;
	uint64_t rng;
	int kind = pick(f, 'l', prefix, 0, 0, ~FAULT_CORRUPT, &rng), rc;
	list_cut l = {cb, ud, 0, 0};

	if (kind == FAULT_NONE)
		return f->in->ops->list(f->in, prefix, cb, ud);
	if (kind != FAULT_RESET && kind != FAULT_SHORT)
		return injected(f, kind, "list", prefix);
	/* The connection drops after some names were delivered. */
	l.left = splitmix(&rng) % 8;
	rc = f->in->ops->list(f->in, prefix, list_cut_cb, &l);
	if (rc < 0 || (rc != 0 && !l.cut))
		return rc;
	return injected(f, FAULT_RESET, "list", prefix);
}

static int fault_del(vault_backend *b, const char *name)
{
	fault_backend *f = (fault_backend *)b;
	uint64_t rng;
	int kind = pick(f, 'd', name, 0, 0, ~FAULT_CORRUPT, &rng), rc;

	/* As for a put: a reset or stall may come after the removal. */
	if (kind == FAULT_NONE ||
	    ((kind & (FAULT_RESET | FAULT_STALL | FAULT_SHORT)) &&
	     (splitmix(&rng) & 1))) {
		rc = f->in->ops->del(f->in, name);
		if (rc < 0 || kind == FAULT_NONE)
			return rc;
	}
	return injected(f, kind == FAULT_SHORT ? FAULT_RESET : kind, "delete",
			name);
}

static int fault_server_time(vault_backend *b, int64_t *t)
{
	fault_backend *f = (fault_backend *)b;
	uint64_t rng;
	int kind = pick(f, 't', "", 0, 0, ~FAULT_CORRUPT, &rng);

	if (kind != FAULT_NONE)
		return injected(f, kind, "ping", "config");
	return f->in->ops->server_time(f->in, t);
}

static void fault_close(vault_backend *b)
{
	fault_backend *f = (fault_backend *)b;

	vault__backend_close(f->in);
	sv_mutex_free(f->mu);
	free(f->seen.keys);
	free(f->seen.counts);
	free(f->base.url);
	free(f);
}

static const vault_backend_ops fault_ops = {
	.scheme = "fault",
	.put = fault_put,
	.get = fault_get,
	.stat = fault_stat,
	.list = fault_list,
	.del = fault_del,
	.close = fault_close,
	.server_time = fault_server_time,
};

int vault__backend_fault_wrap(vault_backend **out, vault_backend *inner,
			      const char *spec)
{
	fault_backend *f = NULL;
	int rc;

	*out = NULL;
	if ((f = sv_calloc(1, sizeof(*f))) == NULL)
		return SV_ENOMEM;
	if ((rc = parse_spec(&f->cfg, spec)) != 0 ||
	    (rc = sv_mutex_new(&f->mu)) != 0 ||
	    (f->base.url = sv_strdup(inner->url)) == NULL) {
		sv_mutex_free(f->mu);
		free(f);
		return rc ? rc : SV_ENOMEM;
	}
	f->ops = fault_ops;
	if (!inner->ops->server_time)
		f->ops.server_time = NULL;
	f->base.ops = &f->ops;
	f->base.inner = inner;
	f->in = inner;
	sv_log_warn("SYSVAULT_FAULTS is set: %.0f%% of the requests to vault "
		    "'%s' fail on purpose (a test tool; unset it for real use)",
		    f->cfg.fail * 100.0, inner->url);
	*out = &f->base;
	return 0;
}
