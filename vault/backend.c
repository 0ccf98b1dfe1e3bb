/*
 * backend.c - choosing a backend by URL, the resilience layer every
 * backend is wrapped in, and object names.
 *
 * The stack a vault talks to (docs/architecture.md, "Resilience"):
 *
 *   retry layer (here)  ->  [fault wrapper, SYSVAULT_FAULTS only]  ->
 *   backend (local, azure, s3; the cloud ones retry each HTTP request
 *   inside http.c)
 *
 * The retry layer repeats an operation that failed transiently
 * (SV_ENETWORK, SV_ETIMEOUT, a ranged get that came back short) with
 * exponential backoff and full jitter. Where the backend below already
 * retries each request (6 attempts in http.c), it adds one more round
 * only: at most 2 x 6 requests, not 10 x 6. Its waits are sliced so that
 * the running operation's cancel hook (vault__backend_set_cancel) ends
 * them within a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_env.h"
#include "sv_log.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

#define RETRY_ATTEMPTS 10     /* over a backend that does not retry */
#define RETRY_ATTEMPTS_HTTP 2 /* over one that retries in http.c */
#define RETRY_BASE_MS 200     /* first delay (SYSVAULT_FAULTS backoff=) */
#define RETRY_CAP_MS 10000    /* no single delay is longer */
#define RETRY_LIST_MAX ((size_t)1 << 30) /* names buffered by one list */
#define RETRY_SLICE_MS 100    /* a wait looks at the cancel hook this often */

typedef struct retry_backend {
	vault_backend base;
	vault_backend_ops ops; /* the inner backend's shape, our functions */
	vault_backend *in;
	unsigned attempts, base_ms;
	sv_mutex *lock;        /* guards the hook: set while workers run */
	vault_cancel_cb cancel;
	void *cancel_ud;
} retry_backend;

static int transient(int rc)
{
	return rc == SV_ENETWORK || rc == SV_ETIMEOUT;
}

/* A per-thread generator for the jitter (not for anything secret). */
static uint32_t jitter_draw(void)
{
	static _Thread_local uint64_t s;

	if (!s)
		s = sv_time_mono_ms() ^ (uint64_t)(uintptr_t)&s ^
		    0x9E3779B97F4A7C15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 16);
}

/* The delay before retry n (1-based): uniform in [0, min(cap, base*2^(n-1))]
 * ("full jitter": many clients failing together do not retry together). */
static unsigned backoff_ms(const retry_backend *r, unsigned n)
{
	uint64_t cap = r->base_ms;

	while (--n && cap < RETRY_CAP_MS)
		cap *= 2;
	if (cap > RETRY_CAP_MS)
		cap = RETRY_CAP_MS;
	return (unsigned)(jitter_draw() % (cap + 1));
}

/* Asks the running operation's cancel hook (called outside the lock: it
 * is the caller's code). */
static int cancelled(retry_backend *r)
{
	vault_cancel_cb cb;
	void *ud;

	sv_mutex_lock(r->lock);
	cb = r->cancel;
	ud = r->cancel_ud;
	sv_mutex_unlock(r->lock);
	return cb && cb(ud);
}

/* Waits ms before a retry in slices: 0, or SV_ECANCELLED as soon as the
 * operation is cancelled (a capped delay is 10 s, a cancel must not wait
 * for it). */
static int backoff_wait(retry_backend *r, unsigned ms)
{
	for (;;) {
		unsigned step = ms < RETRY_SLICE_MS ? ms : RETRY_SLICE_MS;

		if (cancelled(r))
			return sv_error_set(SV_ECANCELLED, "cancelled while "
					    "waiting to retry (%s)", r->base.url);
		if (!ms)
			return 0;
		sv_time_sleep_ms(step);
		ms -= step;
	}
}

/*
 * After attempt *n of an operation failed with *rc: 1 when another attempt
 * follows (counted, logged, waited for), 0 when *rc is the answer (made
 * SV_ECANCELLED when the operation was cancelled during the wait).
 */
static int again(retry_backend *r, int *rc, unsigned *n)
{
	unsigned wait;
	int crc;

	if (!transient(*rc) || *n >= r->attempts)
		return 0;
	wait = backoff_ms(r, *n);
	sv_log_info("%s; retry %u of %u in %u ms", sv_error_msg(), *n,
		    r->attempts - 1, wait);
	if ((crc = backoff_wait(r, wait)) != 0) {
		*rc = crc;
		return 0;
	}
	vault__backend_retried(&r->base, 1);
	(*n)++;
	return 1;
}

static int retry_get(vault_backend *b, const char *name, uint64_t off,
		     uint64_t len, sv_buf *out);

/*
 * A put met an existing object: 0 when that object holds exactly these
 * bytes (our own earlier attempt whose answer was lost, or the same object
 * written before), else the SV_EEXISTS. Backends may report identical
 * bytes as success themselves; this makes it so for every backend.
 */
static int put_was_ours(vault_backend *b, const char *name, const void *data,
			size_t n)
{
	char msg[512];
	sv_buf have;
	int rc;

	sv_strlcpy(msg, sv_error_msg(), sizeof(msg));
	sv_buf_init(&have, n + 1);
	rc = retry_get(b, name, 0, UINT64_MAX, &have);
	if (rc == 0 && have.len == n && (n == 0 || !memcmp(have.ptr, data, n)))
		rc = 0;
	else if (rc == 0 || rc == SV_ENOMEM || rc == SV_ENOTFOUND)
		/* other bytes, more of them, or gone meanwhile */
		rc = sv_error_set(SV_EEXISTS, "%s", msg);
	sv_buf_release(&have);
	return rc;
}

static int retry_put(vault_backend *b, const char *name, const void *data,
		     size_t n)
{
	retry_backend *r = (retry_backend *)b;
	unsigned k = 1;
	int rc;

	do {
		rc = r->in->ops->put(r->in, name, data, n);
		if (rc == SV_EEXISTS)
			rc = put_was_ours(b, name, data, n);
	} while (again(r, &rc, &k));
	return rc;
}

/* Undoes what a failed get appended. */
static void get_undo(sv_buf *out, size_t start)
{
	out->len = start;
	if (out->ptr)
		out->ptr[start] = '\0';
}

static int retry_get(vault_backend *b, const char *name, uint64_t off,
		     uint64_t len, sv_buf *out)
{
	retry_backend *r = (retry_backend *)b;
	size_t start = out->len;
	unsigned k = 1;
	int rc;

	do {
		rc = r->in->ops->get(r->in, name, off, len, out);
		/* The contract is all of the range or an error: fewer bytes
		 * is a transfer cut short. */
		if (rc == 0 && len != UINT64_MAX && out->len - start < len)
			rc = sv_error_set(
				SV_ENETWORK,
				"vault '%s': get '%s' returned %zu of "
				"%llu bytes",
				b->url, name, out->len - start,
				(unsigned long long)len);
		if (rc < 0)
			get_undo(out, start);
	} while (again(r, &rc, &k));
	return rc;
}

static int retry_stat(vault_backend *b, const char *name, uint64_t *size)
{
	retry_backend *r = (retry_backend *)b;
	unsigned k = 1;
	int rc;

	do
		rc = r->in->ops->stat(r->in, name, size);
	while (again(r, &rc, &k));
	return rc;
}

/* A listing collected whole before the caller sees a name, so that a
 * listing retried after breaking off half-way reports no name twice. Each
 * entry: the size (8 bytes, native order), then the name and its NUL. */
static int list_collect(void *ud, const char *name, uint64_t size)
{
	sv_buf *names = ud;
	int rc = sv_buf_add(names, &size, sizeof(size));

	return rc ? rc : sv_buf_add(names, name, strlen(name) + 1);
}

static int list_deliver(const sv_buf *names, vault_list_cb cb, void *ud)
{
	size_t at = 0;
	uint64_t size;
	int rc = 0;

	while (rc == 0 && at < names->len) {
		memcpy(&size, names->ptr + at, sizeof(size));
		at += sizeof(size);
		rc = cb(ud, (const char *)names->ptr + at, size);
		at += strlen((const char *)names->ptr + at) + 1;
	}
	return rc;
}

static int retry_list(vault_backend *b, const char *prefix, vault_list_cb cb,
		      void *ud)
{
	retry_backend *r = (retry_backend *)b;
	unsigned k = 1;
	sv_buf names;
	int rc;

	sv_buf_init(&names, RETRY_LIST_MAX);
	do {
		sv_buf_reset(&names);
		rc = r->in->ops->list(r->in, prefix, list_collect, &names);
	} while (again(r, &rc, &k));
	if (rc == 0)
		rc = list_deliver(&names, cb, ud);
	sv_buf_release(&names);
	return rc;
}

static int retry_del(vault_backend *b, const char *name)
{
	retry_backend *r = (retry_backend *)b;
	unsigned k = 1;
	int rc;

	do
		rc = r->in->ops->del(r->in, name);
	while (again(r, &rc, &k));
	return rc;
}

static int retry_server_time(vault_backend *b, int64_t *t)
{
	retry_backend *r = (retry_backend *)b;
	unsigned k = 1;
	int rc;

	do
		rc = r->in->ops->server_time(r->in, t);
	while (again(r, &rc, &k));
	return rc;
}

static void retry_close(vault_backend *b)
{
	retry_backend *r = (retry_backend *)b;

	vault__backend_close(r->in);
	sv_mutex_free(r->lock);
	free(r->base.url);
	free(r);
}

/* The scheme is the wrapped backend's (set at wrap time). */
static const vault_backend_ops retry_ops = {
	.put = retry_put,
	.get = retry_get,
	.stat = retry_stat,
	.list = retry_list,
	.del = retry_del,
	.close = retry_close,
	.server_time = retry_server_time,
};

/* 1 when the backend retries each request itself (the HTTP ones). */
static int retries_inside(const vault_backend *b)
{
	return strcmp(b->ops->scheme, "file") != 0 &&
	       strcmp(b->ops->scheme, "fault") != 0;
}

/* Wraps in (taken, closed on failure) in the retry layer. */
static int retry_wrap(vault_backend **out, vault_backend *in, unsigned base_ms)
{
	retry_backend *r = sv_calloc(1, sizeof(*r));

	if (!r || (r->base.url = sv_strdup(in->url)) == NULL ||
	    sv_mutex_new(&r->lock) != 0) {
		if (r)
			free(r->base.url);
		free(r);
		vault__backend_close(in);
		return SV_ENOMEM;
	}
	r->ops = retry_ops;
	r->ops.scheme = in->ops->scheme;
	if (!in->ops->server_time)
		r->ops.server_time = NULL;
	r->base.ops = &r->ops;
	r->base.inner = in;
	r->in = in;
	r->attempts = retries_inside(in) ? RETRY_ATTEMPTS_HTTP : RETRY_ATTEMPTS;
	r->base_ms = base_ms ? base_ms : RETRY_BASE_MS;
	*out = &r->base;
	return 0;
}

static int open_leaf(vault_backend **out, const char *url,
		     const vault_access *acc, int create)
{
	if (sv_str_startswith(url, "file://"))
		return vault__backend_local_open(out, url + 7, create);
	if (sv_str_startswith(url, "azure://"))
		return vault__backend_azure_open(out, url, acc, create);
	if (sv_str_startswith(url, "s3://"))
		return vault__backend_s3_open(out, url, acc, create);
	if (strstr(url, "://"))
		return sv_error_set(SV_EINVAL,
				    "vault '%s': unsupported scheme (use a "
				    "directory path, azure:// or s3://)",
				    url);
	return vault__backend_local_open(out, url, create);
}

int vault__backend_open(vault_backend **out, const char *url,
			const vault_access *acc, int create)
{
	vault_backend *leaf = NULL;
	char *faults = sv_env_get("SYSVAULT_FAULTS");
	int rc;

	*out = NULL;
	if (!url || !url[0]) {
		rc = sv_error_set(SV_EINVAL,
				  "no vault given: pass --vault <dir>");
		goto done;
	}
	/* A malformed spec stops before the vault is touched. */
	if (faults && faults[0] &&
	    (rc = vault__fault_spec_check(faults, NULL)) != 0)
		goto done;
	if ((rc = open_leaf(&leaf, url, acc, create)) == 0)
		rc = vault__backend_stack(out, leaf, faults);
done:
	free(faults);
	return rc;
}

int vault__backend_stack(vault_backend **out, vault_backend *leaf,
			 const char *faults)
{
	vault_backend *mid = leaf;
	unsigned base_ms = 0;
	int rc;

	*out = NULL;
	if (faults && faults[0] &&
	    ((rc = vault__fault_spec_check(faults, &base_ms)) != 0 ||
	     (rc = vault__backend_fault_wrap(&mid, leaf, faults)) != 0)) {
		vault__backend_close(leaf);
		return rc;
	}
	return retry_wrap(out, mid, base_ms);
}

void vault__backend_set_cancel(vault_backend *b, vault_cancel_cb cancel,
			       void *ud)
{
	retry_backend *r = (retry_backend *)b;

	if (!b || b->ops->put != retry_put)
		return;
	sv_mutex_lock(r->lock);
	r->cancel = cancel;
	r->cancel_ud = ud;
	sv_mutex_unlock(r->lock);
}

void vault__backend_retried(vault_backend *b, unsigned n)
{
	if (n)
		atomic_fetch_add(&b->retries, n);
}

uint64_t vault_retries(const vault *v)
{
	vault_backend *b;
	uint64_t n = 0;

	for (b = v->be; b; b = b->inner)
		n += atomic_load(&b->retries);
	return n;
}

/* The endpoint URL of a cloud vault, as its backend will choose it. */
static char *endpoint_of(const char *url, const vault_access *acc)
{
	const char *acct = url + strlen("azure://");

	if (acc && acc->endpoint)
		return sv_strdup(acc->endpoint);
	if (sv_str_startswith(url, "azure://")) {
		char *env = sv_env_get("SYSVAULT_AZURE_ENDPOINT");

		return env ? env
			   : sv_aprintf("https://%.*s.blob.core.windows.net",
					(int)strcspn(acct, "/"), acct);
	}
	if (sv_str_startswith(url, "s3://")) {
		char *env = sv_env_get("SYSVAULT_S3_ENDPOINT");

		return env ? env : sv_strdup("https://s3.amazonaws.com");
	}
	return NULL;
}

int vault_endpoint_host(const char *url, const vault_access *acc, char *out,
			size_t n)
{
	char *ep =
		url && strstr(url, "://") && !sv_str_startswith(url, "file://")
			? endpoint_of(url, acc)
			: NULL;
	const char *host = ep ? strstr(ep, "://") : NULL;

	if (!host) {
		free(ep);
		return sv_error_set(SV_EINVAL, "vault '%s' has no endpoint",
				    url ? url : "");
	}
	host += 3;
	snprintf(out, n, "%.*s", (int)strcspn(host, "/?"), host);
	free(ep);
	return 0;
}

int vault__backend_tls_untrusted(const vault_backend *b)
{
	char msg[512];

	sv_strlcpy(msg, sv_error_msg(), sizeof(msg));
	return sv_error_set(SV_EAUTH,
			    "vault '%s': %s: the server's TLS certificate is "
			    "not trusted: install the CA that signed it on "
			    "this machine, or pass --insecure for a lab "
			    "endpoint",
			    b->url, msg);
}

void vault__backend_close(vault_backend *b)
{
	if (b)
		b->ops->close(b);
}

void vault__name_pack(char *dst, const uint8_t id[VAULT_ID_LEN])
{
	char hex[VAULT_HEX_ID_LEN + 1];

	sv_hex_encode(hex, id, VAULT_ID_LEN);
	snprintf(dst, VAULT_NAME_MAX, "data/%.2s/%s", hex, hex);
}

void vault__name_object(char *dst, const char *dir,
			const uint8_t id[VAULT_ID_LEN])
{
	char hex[VAULT_HEX_ID_LEN + 1];

	sv_hex_encode(hex, id, VAULT_ID_LEN);
	snprintf(dst, VAULT_NAME_MAX, "%s/%s", dir, hex);
}

int vault__name_parse_pack(uint8_t id[VAULT_ID_LEN], const char *name)
{
	if (strlen(name) != 8 + VAULT_HEX_ID_LEN ||
	    strncmp(name, "data/", 5) != 0 || name[7] != '/' ||
	    strncmp(name + 5, name + 8, 2) != 0)
		return SV_EINVAL;
	return sv_hex_decode(id, VAULT_ID_LEN, name + 8);
}

int vault__name_parse_object(uint8_t id[VAULT_ID_LEN], const char *name,
			     const char *dir)
{
	size_t n = strlen(dir);

	if (strncmp(name, dir, n) != 0 || name[n] != '/')
		return SV_EINVAL;
	return sv_hex_decode(id, VAULT_ID_LEN, name + n + 1);
}
