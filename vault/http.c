/*
 * http.c - HTTP over libcurl's multi interface. The only file of the
 * project that includes libcurl; CURLcode becomes sv_err here.
 *
 * A vault_http is a transfer engine: one thread drives a multi handle
 * (curl_multi_perform / curl_multi_poll), callers in any thread submit a
 * request and block until it completes. The multi handle's connection and
 * DNS caches are shared by all transfers, and CURLMOPT_MAX_HOST_CONNECTIONS
 * caps the transfers that run at once (the others wait inside libcurl).
 *
 * The engine thread also owns what is shared by all transfers: the cancel
 * hook, checked every ENGINE_TICK_MS, and the throttle, a token bucket that
 * the read and write callbacks draw from and that pauses a transfer
 * (curl_easy_pause) when it runs dry. Stalls are detected with a low-speed
 * limit, never a total timeout (a 16 MiB pack on a slow link may rightly
 * take long, and queued transfers would count their wait against it). TLS
 * verification is always on unless the pool was made insecure on purpose.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "throttle.h"
#include "vault_int.h"

/* An error body is kept for messages only. */
#define HTTP_ERR_BODY_MAX ((size_t)64 << 10)
/* A server's Retry-After is honoured up to this. */
#define HTTP_HINT_MAX_MS 60000
/* The engine wakes at least this often: cancel within a second, and the
 * throttle schedule re-read every second. */
#define ENGINE_TICK_MS 100
#define SCHEDULE_EVERY_MS 1000
#define TRANSFERS_MAX 64

typedef struct http_slot {
	struct http_slot *next;
	CURL *curl;
} http_slot;

typedef struct xfer xfer;

struct vault_http {
	vault_http_opts o;
	CURLM *multi;
	sv_thread *engine;
	sv_mutex *lock;	 /* guards everything below */
	sv_cond *done;	 /* a transfer finished */
	http_slot *free; /* idle easy handles */
	xfer *queue;	 /* submitted, not yet given to libcurl */
	int quit;
	vault_http_cancel_fn cancel;
	void *cancel_ud;
	int cancelled; /* the hook said so; cleared when it is replaced */
	vault_throttle thr;
	int thr_changed;

	/* the engine thread's own */
	xfer *active;
	vault_bucket bucket;
	vault_throttle thr_now;
	uint64_t schedule_ms; /* when the rate was last chosen */
	int have_paused;
};

/* ASCII case-insensitive compare of n bytes (header names). */
static int ci_ncmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int x = (unsigned char)a[i], y = (unsigned char)b[i];

		x = x >= 'A' && x <= 'Z' ? x + 32 : x;
		y = y >= 'A' && y <= 'Z' ? y + 32 : y;
		if (x != y || !x)
			return x - y;
	}
	return 0;
}

/* ---- process-wide init ---- */

static atomic_int global_state; /* 0 not yet, 1 running, 2 done, 3 failed */

/* curl_global_init is not thread-safe before 7.84: the first caller runs it
 * while the others wait. */
static int global_init(void)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(&global_state, &expected, 1)) {
		CURLcode c = curl_global_init(CURL_GLOBAL_ALL);

		atomic_store(&global_state, c == CURLE_OK ? 2 : 3);
	}
	while (atomic_load(&global_state) == 1)
		sv_time_sleep_ms(1);
	if (atomic_load(&global_state) != 2)
		return sv_error_set(SV_ERROR, "cannot initialise libcurl");
	return 0;
}

/* ---- requests and responses ---- */

void vault__http_req_init(vault_http_req *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
}

void vault__http_req_release(vault_http_req *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

int vault__http_req_header(vault_http_req *r, const char *name, const char *fmt,
			   ...)
{
	sv_buf b;
	va_list ap;
	int rc;

	if (r->nheaders == VAULT_HTTP_MAX_HEADERS)
		return sv_error_set(SV_ENOMEM, "too many request headers");
	sv_buf_init(&b, 8192);
	va_start(ap, fmt);
	if ((rc = sv_buf_printf(&b, "%s: ", name)) == 0)
		rc = sv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0 && (r->headers[r->nheaders] = sv_buf_take(&b)) != NULL)
		r->nheaders++;
	else if (rc == 0)
		rc = SV_ENOMEM;
	sv_buf_release(&b);
	return rc;
}

const char *vault__http_req_get(const vault_http_req *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->nheaders; i++)
		if (ci_ncmp(r->headers[i], name, n) == 0 &&
		    r->headers[i][n] == ':')
			return r->headers[i] + n + 1 +
			       (r->headers[i][n + 1] == ' ');
	return NULL;
}

void vault__http_resp_init(vault_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	sv_buf_init(&r->err_body, HTTP_ERR_BODY_MAX);
	r->content_length = UINT64_MAX;
	r->retry_after_ms = -1;
}

void vault__http_resp_release(vault_http_resp *r)
{
	sv_buf_release(&r->err_body);
}

/* Clears what one answer left, keeping the error-body buffer. */
static void resp_clear(vault_http_resp *r)
{
	unsigned attempts = r->attempts;
	sv_buf body = r->err_body;

	memset(r, 0, sizeof(*r));
	r->err_body = body;
	sv_buf_reset(&r->err_body);
	r->content_length = UINT64_MAX;
	r->retry_after_ms = -1;
	r->attempts = attempts;
}

/* ---- callbacks (run on the engine thread) ---- */

struct xfer {
	xfer *next;
	vault_http *h;
	vault_http_req *req;
	vault_http_resp *resp;
	CURL *curl;
	size_t sent;	  /* upload position */
	size_t out_start; /* req->out->len before the transfer */
	int too_big;
	int paused;   /* by the throttle: waits for tokens */
	int finished; /* set last by the engine; then x is the caller's */
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	xfer *x = ud;
	size_t room = size * nitems, left = x->req->body_len - x->sent;
	size_t k = left < room ? left : room;

	if (k && x->h->bucket.rate) {
		k = vault__bucket_take(&x->h->bucket, k, sv_time_mono_ms());
		if (k == 0) {
			x->paused = 1;
			x->h->have_paused = 1;
			return CURL_READFUNC_PAUSE;
		}
	}
	if (k)
		memcpy(buf, (const char *)x->req->body + x->sent, k);
	x->sent += k;
	return k;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
	xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* A download takes the whole buffer from the bucket or pauses: libcurl
 * hands the same bytes again once unpaused. */
static int write_throttled(xfer *x, size_t n)
{
	if (!x->h->bucket.rate || n == 0 ||
	    vault__bucket_take_all(&x->h->bucket, n, sv_time_mono_ms()))
		return 0;
	x->paused = 1;
	x->h->have_paused = 1;
	return 1;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	xfer *x = ud;
	size_t n = size * nmemb;
	long st = x->resp->status;
	sv_buf *to = st >= 200 && st < 300 ? x->req->out : &x->resp->err_body;

	if (to == x->req->out && write_throttled(x, n))
		return CURL_WRITEFUNC_PAUSE;
	if (!to)
		return n;
	if (to == &x->resp->err_body) {
		/* keep the start of an error body, drop the rest */
		size_t room = to->max - to->len;

		sv_buf_add(to, data, n < room ? n : room);
		return n;
	}
	if (sv_buf_add(to, data, n) != 0) {
		x->too_big = 1;
		return 0;
	}
	return n;
}

/* Copies the trimmed value of a header line into dst. */
static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n && *v == ' ') {
		v++;
		n--;
	}
	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static int header_is(const char *line, size_t n, const char *name,
		     const char **value, size_t *vlen)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || ci_ncmp(line, name, k) != 0)
		return 0;
	*value = line + k + 1;
	*vlen = n - k - 1;
	return 1;
}

static void on_retry_after(vault_http_resp *r, const char *v, size_t n,
			   int64_t scale)
{
	char num[32];
	uint64_t val;

	copy_value(num, sizeof(num), v, n);
	if (sv_parse_u64(&val, num) == 0 && val < (uint64_t)HTTP_HINT_MAX_MS)
		r->retry_after_ms = (int64_t)val * scale;
	else if (sv_parse_u64(&val, num) == 0)
		r->retry_after_ms = HTTP_HINT_MAX_MS;
}

static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
	xfer *x = ud;
	vault_http_resp *r = x->resp;
	size_t n = size * nitems, vlen;
	const char *v;

	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', n);

		resp_clear(r); /* a new answer (after 100 Continue) */
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if (header_is(line, n, "etag", &v, &vlen)) {
		copy_value(r->etag, sizeof(r->etag), v, vlen);
	} else if (header_is(line, n, "date", &v, &vlen)) {
		copy_value(r->date, sizeof(r->date), v, vlen);
	} else if (header_is(line, n, "x-ms-error-code", &v, &vlen)) {
		copy_value(r->error_code, sizeof(r->error_code), v, vlen);
	} else if (header_is(line, n, "content-range", &v, &vlen)) {
		copy_value(r->content_range, sizeof(r->content_range), v, vlen);
	} else if (header_is(line, n, "content-md5", &v, &vlen)) {
		copy_value(r->content_md5, sizeof(r->content_md5), v, vlen);
	} else if (header_is(line, n, "retry-after", &v, &vlen)) {
		on_retry_after(r, v, vlen, 1000);
	} else if (header_is(line, n, "x-ms-retry-after-ms", &v, &vlen)) {
		on_retry_after(r, v, vlen, 1);
	}
	return n;
}

/* ---- one attempt ---- */

static int set_method(CURL *c, vault_http_req *req, xfer *x)
{
	if (strcmp(req->method, "GET") == 0)
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	if (strcmp(req->method, "HEAD") == 0)
		return curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
	if (strcmp(req->method, "PUT") == 0 ||
	    strcmp(req->method, "POST") == 0) {
		/* A POST with a body (S3's CompleteMultipartUpload) is sent
		 * as an upload under its own verb. */
		if (req->method[1] == 'O')
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		return curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
					(curl_off_t)req->body_len) != CURLE_OK;
	}
	return curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method) !=
	       CURLE_OK;
}

static struct curl_slist *header_list(const vault_http_req *req)
{
	struct curl_slist *l = NULL, *t;
	size_t i;

	/* An empty Expect: saves the 100-continue round trip per PUT. */
	if ((l = curl_slist_append(NULL, "Expect:")) == NULL)
		return NULL;
	for (i = 0; i < req->nheaders; i++) {
		if ((t = curl_slist_append(l, req->headers[i])) == NULL) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	return l;
}

static void set_options(vault_http *h, CURL *c, xfer *x, char *errbuf,
			struct curl_slist *hdrs, long low_speed)
{
	curl_easy_setopt(c, CURLOPT_URL, x->req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_secs);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, low_speed);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->o.low_speed_secs);
	curl_easy_setopt(c, CURLOPT_SSL_OPTIONS,
			 (long)CURLSSLOPT_REVOKE_BEST_EFFORT);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->o.insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->o.insecure ? 0L : 2L);
}

/* CURLcode -> sv_err, once, here. */
static int classify(CURLcode cc, const vault_http_req *req, const char *err,
		    int too_big)
{
	char *pub = vault__http_url_public(req->url);
	const char *u = pub ? pub : "(url)";
	const char *text = err[0] ? err : curl_easy_strerror(cc);
	int code;

	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		code = SV_ETIMEOUT;
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		code = SV_EINVAL;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		code = SV_EAUTH; /* not retried: the peer is not who it says */
		break;
	case CURLE_OUT_OF_MEMORY:
		code = SV_ENOMEM;
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		code = SV_ECANCELLED;
		text = "cancelled";
		break;
	case CURLE_WRITE_ERROR:
		code = too_big ? SV_ENOMEM : SV_ENETWORK;
		break;
	default:
		code = SV_ENETWORK;
		break;
	}
	if (too_big)
		text = "the answer is larger than expected";
	sv_error_set(code, "%s %s: %s", req->method, u, text);
	free(pub);
	return code;
}

/* ---- the engine thread ---- */

/* Hands x back to its caller; x must not be touched afterwards. */
static void finish(vault_http *h, xfer *x, CURLcode result)
{
	xfer **pp;

	for (pp = &h->active; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	curl_multi_remove_handle(h->multi, x->curl);
	sv_mutex_lock(h->lock);
	x->result = result;
	x->finished = 1;
	sv_cond_broadcast(h->done);
	sv_mutex_unlock(h->lock);
}

static void finish_all(vault_http *h, CURLcode result)
{
	while (h->active)
		finish(h, h->active, result);
}

/* Moves newly submitted transfers into the multi handle. */
static void admit(vault_http *h, xfer *q)
{
	while (q) {
		xfer *next = q->next;

		q->next = h->active;
		h->active = q;
		if (curl_multi_add_handle(h->multi, q->curl) != CURLM_OK)
			finish(h, q, CURLE_OUT_OF_MEMORY);
		q = next;
	}
}

/* Local time from the injectable clock: the schedule is in wall time. */
static int64_t local_now(void)
{
	int64_t t = sv_time_now();

	return t + sv_time_local_offset(t);
}

/* Re-reads the schedule (at least every second, and at once after a
 * change) and sets the bucket's rate. The stall limit of new transfers
 * follows the schedule's lowest rate (low_speed_locked). */
static void throttle_tick(vault_http *h, uint64_t now)
{
	int changed;

	sv_mutex_lock(h->lock);
	changed = h->thr_changed;
	if (changed)
		h->thr_now = h->thr;
	h->thr_changed = 0;
	sv_mutex_unlock(h->lock);
	if (changed || now - h->schedule_ms >= SCHEDULE_EVERY_MS) {
		uint64_t bps = vault_throttle_rate_at(&h->thr_now, local_now());

		h->schedule_ms = now;
		if (bps / 8 != h->bucket.rate)
			vault__bucket_set_rate(&h->bucket, bps / 8, now);
	}
}

/* Resumes paused transfers once tokens are back, starting with a
 * different one each time so that none is starved. */
static void unpause(vault_http *h, uint64_t now)
{
	xfer *x, *first;

	if (!h->have_paused || vault__bucket_wait_ms(&h->bucket, now) > 0)
		return;
	h->have_paused = 0;
	first = h->active;
	if (first && first->next) { /* rotate: the head goes last */
		xfer **pp = &h->active;

		h->active = first->next;
		while (*pp)
			pp = &(*pp)->next;
		*pp = first;
		first->next = NULL;
	}
	for (x = h->active; x; x = x->next)
		if (x->paused) {
			x->paused = 0;
			curl_easy_pause(x->curl, CURLPAUSE_CONT);
		}
}

/* Collects the transfers libcurl has finished. */
static void reap(vault_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
				  (char **)&x);
		if (x)
			finish(h, x, m->data.result);
	}
}

/* Asks the caller's cancel hook (outside the lock: it is the caller's
 * code); a yes sticks until the hook is replaced. */
static int cancel_check(vault_http *h)
{
	vault_http_cancel_fn cb;
	void *ud;
	int yes;

	sv_mutex_lock(h->lock);
	cb = h->cancel;
	ud = h->cancel_ud;
	yes = h->cancelled;
	sv_mutex_unlock(h->lock);
	if (yes || !cb || !cb(ud))
		return yes;
	sv_mutex_lock(h->lock);
	if (h->cancel == cb && h->cancel_ud == ud)
		h->cancelled = 1;
	sv_mutex_unlock(h->lock);
	return 1;
}

static int poll_ms(vault_http *h, uint64_t now)
{
	uint64_t w = h->have_paused ? vault__bucket_wait_ms(&h->bucket, now)
				    : ENGINE_TICK_MS;

	return (int)(w < 1 ? 1 : w > ENGINE_TICK_MS ? ENGINE_TICK_MS : w);
}

static void engine_main(void *arg)
{
	vault_http *h = arg;

	for (;;) {
		uint64_t now = sv_time_mono_ms();
		xfer *q;
		int quit, running = 0;

		sv_mutex_lock(h->lock);
		q = h->queue;
		h->queue = NULL;
		quit = h->quit;
		sv_mutex_unlock(h->lock);
		admit(h, q);
		if (cancel_check(h))
			finish_all(h, CURLE_ABORTED_BY_CALLBACK);
		if (quit && !h->active)
			break;
		throttle_tick(h, now);
		unpause(h, now);
		curl_multi_perform(h->multi, &running);
		reap(h);
		curl_multi_poll(h->multi, NULL, 0,
				poll_ms(h, sv_time_mono_ms()), NULL);
	}
}

/* ---- pool ---- */

unsigned vault__http_default_transfers(void)
{
	int n = 2 * sv_cpu_count();

	return (unsigned)(n < 4 ? 4 : n > 16 ? 16 : n);
}

static void set_defaults(vault_http_opts *o)
{
	if (!o->max_attempts)
		o->max_attempts = 6;
	if (!o->backoff_ms)
		o->backoff_ms = 250;
	if (!o->backoff_max_ms)
		o->backoff_max_ms = 15000;
	if (!o->low_speed_bytes)
		o->low_speed_bytes = 1024;
	if (!o->low_speed_secs)
		o->low_speed_secs = 60;
	if (!o->connect_secs)
		o->connect_secs = 30;
	if (!o->transfers)
		o->transfers = vault__http_default_transfers();
	if (o->transfers > TRANSFERS_MAX)
		o->transfers = TRANSFERS_MAX;
}

static int multi_new(vault_http *h)
{
	if ((h->multi = curl_multi_init()) == NULL)
		return sv_error_set(SV_ENOMEM,
				    "cannot create the transfer engine");
	/* N transfers at once to the one host a vault lives on; the rest
	 * wait in libcurl's queue, and finished connections stay cached */
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)h->o.transfers);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)h->o.transfers);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->o.transfers);
	return 0;
}

int vault__http_new(vault_http **out, const vault_http_opts *opts)
{
	vault_http *h = NULL;
	int rc;

	*out = NULL;
	if ((rc = global_init()) != 0)
		return rc;
	if ((h = sv_calloc(1, sizeof(*h))) == NULL)
		return SV_ENOMEM;
	if (opts)
		h->o = *opts;
	set_defaults(&h->o);
	vault__bucket_init(&h->bucket, 0, sv_time_mono_ms());
	if ((rc = sv_mutex_new(&h->lock)) != 0 ||
	    (rc = sv_cond_new(&h->done)) != 0 || (rc = multi_new(h)) != 0 ||
	    (rc = sv_thread_start(&h->engine, engine_main, h)) != 0) {
		vault__http_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void vault__http_free(vault_http *h)
{
	http_slot *s;

	if (!h)
		return;
	if (h->engine) {
		sv_mutex_lock(h->lock);
		h->quit = 1;
		sv_mutex_unlock(h->lock);
		curl_multi_wakeup(h->multi);
		sv_thread_join(h->engine);
	}
	while ((s = h->free) != NULL) {
		h->free = s->next;
		curl_easy_cleanup(s->curl);
		free(s);
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	sv_cond_free(h->done);
	sv_mutex_free(h->lock);
	free(h);
}

unsigned vault__http_transfers(const vault_http *h)
{
	return h->o.transfers;
}

void vault__http_set_cancel(vault_http *h, vault_http_cancel_fn cb, void *ud)
{
	sv_mutex_lock(h->lock);
	h->cancel = cb;
	h->cancel_ud = ud;
	h->cancelled = 0;
	sv_mutex_unlock(h->lock);
}

int vault__http_cancelled(vault_http *h)
{
	int yes;

	sv_mutex_lock(h->lock);
	yes = h->cancelled;
	sv_mutex_unlock(h->lock);
	return yes;
}

void vault__http_set_throttle(vault_http *h, const vault_throttle *t)
{
	sv_mutex_lock(h->lock);
	memset(&h->thr, 0, sizeof(h->thr));
	if (t)
		h->thr = *t;
	h->thr_changed = 1;
	sv_mutex_unlock(h->lock);
	curl_multi_wakeup(h->multi);
}

static http_slot *slot_get(vault_http *h)
{
	http_slot *s;

	sv_mutex_lock(h->lock);
	s = h->free;
	if (s)
		h->free = s->next;
	sv_mutex_unlock(h->lock);
	if (s)
		return s;
	if ((s = sv_calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->curl = curl_easy_init()) == NULL) {
		free(s);
		sv_error_set(SV_ENOMEM, "cannot create an HTTP handle");
		return NULL;
	}
	return s;
}

static void slot_put(vault_http *h, http_slot *s)
{
	sv_mutex_lock(h->lock);
	s->next = h->free;
	h->free = s;
	sv_mutex_unlock(h->lock);
}

/* The stall limit: a throttled transfer gets its share of the slowest
 * rate of the schedule, and must not be taken for a stalled one. */
static long low_speed_locked(const vault_http *h)
{
	uint64_t lo = (uint64_t)h->o.low_speed_bytes, r;

	if (!h->thr.enabled)
		return (long)lo;
	r = h->thr.work_bps && h->thr.off_bps
		    ? (h->thr.work_bps < h->thr.off_bps ? h->thr.work_bps
							: h->thr.off_bps)
		    : h->thr.work_bps | h->thr.off_bps;
	r = r / 8 / h->o.transfers / 8;
	if (r && r < lo)
		lo = r;
	return (long)(lo ? lo : 1);
}

/* Queues x for the engine and waits until it is finished. */
static int submit_wait(vault_http *h, xfer *x)
{
	sv_mutex_lock(h->lock);
	if (h->cancelled) {
		sv_mutex_unlock(h->lock);
		return sv_error_set(SV_ECANCELLED, "cancelled");
	}
	x->next = h->queue;
	h->queue = x;
	sv_mutex_unlock(h->lock);
	curl_multi_wakeup(h->multi);
	sv_mutex_lock(h->lock);
	while (!x->finished)
		sv_cond_wait(h->done, h->lock);
	sv_mutex_unlock(h->lock);
	return 0;
}

static int perform_on(vault_http *h, http_slot *s, xfer *x,
		      struct curl_slist *hdrs)
{
	curl_off_t cl = -1;
	long low_speed;
	int rc;

	sv_mutex_lock(h->lock);
	low_speed = low_speed_locked(h);
	sv_mutex_unlock(h->lock);
	curl_easy_reset(s->curl);
	set_options(h, s->curl, x, x->errbuf, hdrs, low_speed);
	if (set_method(s->curl, x->req, x))
		return sv_error_set(SV_ERROR, "libcurl refused an option");
	if ((rc = submit_wait(h, x)) != 0)
		return rc;
	if (x->result != CURLE_OK)
		return classify(x->result, x->req, x->errbuf, x->too_big);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &cl) == CURLE_OK &&
	    cl >= 0)
		x->resp->content_length = (uint64_t)cl;
	return 0;
}

int vault__http_perform(vault_http *h, vault_http_req *req,
			vault_http_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	http_slot *s = NULL;
	xfer *x = NULL;
	int rc = 0;

	resp_clear(resp);
	if ((x = sv_calloc(1, sizeof(*x))) == NULL)
		return SV_ENOMEM;
	x->h = h;
	x->req = req;
	x->resp = resp;
	x->out_start = req->out ? req->out->len : 0;
	if ((s = slot_get(h)) == NULL) {
		rc = sv_error_code() ? sv_error_code() : SV_ENOMEM;
		goto done;
	}
	x->curl = s->curl;
	if ((hdrs = header_list(req)) == NULL) {
		rc = sv_error_set(SV_ENOMEM, "out of memory for headers");
		goto done;
	}
	rc = perform_on(h, s, x, hdrs);
done:
	curl_slist_free_all(hdrs);
	if (rc != 0 && req->out) {
		req->out->len = x->out_start;
		if (req->out->ptr)
			req->out->ptr[req->out->len] = '\0';
	}
	if (s)
		slot_put(h, s);
	free(x);
	return rc;
}

/* ---- retries ---- */

int vault__http_retryable(long status)
{
	return status == 408 || status == 429 || status == 500 ||
	       status == 502 || status == 503 || status == 504;
}

static int transport_retryable(int rc)
{
	return rc == SV_ENETWORK || rc == SV_ETIMEOUT;
}

unsigned vault__http_backoff(const vault_http_opts *o, unsigned n,
			     int64_t hint_ms)
{
	uint64_t cap = o->backoff_ms, r = 0;

	while (n-- > 1 && cap < o->backoff_max_ms)
		cap *= 2;
	if (cap > o->backoff_max_ms)
		cap = o->backoff_max_ms;
	/* full jitter: uniform in [cap/2, cap] keeps a floor under it */
	if (vault__random(&r, sizeof(r)) != 0)
		r = 0;
	cap = cap / 2 + (cap ? r % (cap / 2 + 1) : 0);
	if (hint_ms >= 0 && (uint64_t)hint_ms > cap)
		cap = (uint64_t)hint_ms;
	return (unsigned)cap;
}

/* Sleeps before a retry, in steps, so that a cancel is not kept waiting
 * behind a long Retry-After. Returns rc, or SV_ECANCELLED. */
static int backoff_sleep(vault_http *h, unsigned ms, int rc)
{
	while (ms > 0) {
		unsigned step = ms < ENGINE_TICK_MS ? ms : ENGINE_TICK_MS;

		if (vault__http_cancelled(h))
			return sv_error_set(SV_ECANCELLED, "cancelled");
		sv_time_sleep_ms(step);
		ms -= step;
	}
	return rc;
}

int vault__http_send(vault_http *h, vault_http_req *req, vault_http_resp *resp,
		     vault_http_sign_fn sign, void *ud)
{
	size_t out_start = req->out ? req->out->len : 0;
	unsigned n;
	int rc = 0;

	for (n = 1; n <= h->o.max_attempts; n++) {
		while (req->nheaders > req->nfixed)
			free(req->headers[--req->nheaders]);
		if (req->out)
			req->out->len = out_start;
		if (sign && (rc = sign(ud, req)) != 0)
			return rc;
		resp->attempts = n;
		rc = vault__http_perform(h, req, resp);
		if (rc == 0 && !vault__http_retryable(resp->status))
			return 0;
		if (rc != 0 && !transport_retryable(rc))
			return rc;
		if (n < h->o.max_attempts &&
		    (rc = backoff_sleep(
			     h,
			     vault__http_backoff(&h->o, n,
						 rc == 0 ? resp->retry_after_ms
							 : -1),
			     rc)) == SV_ECANCELLED)
			return rc;
	}
	return rc;
}

/* ---- URLs ---- */

char *vault__http_url_public(const char *url)
{
	const char *q = strchr(url, '?');

	return q ? sv_strndup(url, (size_t)(q - url)) : sv_strdup(url);
}

int vault__http_escape(sv_buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || (keep_slash && c == '/'))
			rc = sv_buf_addc(out, (char)c);
		else
			rc = sv_buf_printf(out, "%%%c%c", hex[c >> 4],
					   hex[c & 15]);
	}
	if (rc == 0 && !out->ptr)
		rc = sv_buf_add(out, "", 0);
	return rc;
}
