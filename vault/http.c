/*
 * http.c - synchronous HTTP over libcurl's easy interface. The only file of
 * the project that includes libcurl; CURLcode becomes sv_err here.
 *
 * A vault_http is a pool of easy handles on a free list (like crypto.c's
 * slots): a request borrows one, so connections are reused across requests
 * of any thread, and each handle serves one thread at a time. Stalls are
 * detected with a low-speed limit, never a total timeout (a 16 MiB pack on
 * a slow link may rightly take long). TLS verification is always on unless
 * the pool was made insecure on purpose.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "sv_thread.h"
#include "sv_time.h"
#include "vault_int.h"

/* An error body is kept for messages only. */
#define HTTP_ERR_BODY_MAX ((size_t)64 << 10)
/* A server's Retry-After is honoured up to this. */
#define HTTP_HINT_MAX_MS 60000

typedef struct http_slot {
	struct http_slot *next;
	CURL *curl;
} http_slot;

struct vault_http {
	vault_http_opts o;
	sv_mutex *lock; /* guards free */
	http_slot *free;
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

/* ---- pool ---- */

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
	if (!h->o.max_attempts)
		h->o.max_attempts = 6;
	if (!h->o.backoff_ms)
		h->o.backoff_ms = 250;
	if (!h->o.backoff_max_ms)
		h->o.backoff_max_ms = 15000;
	if (!h->o.low_speed_bytes)
		h->o.low_speed_bytes = 1024;
	if (!h->o.low_speed_secs)
		h->o.low_speed_secs = 60;
	if (!h->o.connect_secs)
		h->o.connect_secs = 30;
	if ((rc = sv_mutex_new(&h->lock)) != 0) {
		free(h);
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
	while ((s = h->free) != NULL) {
		h->free = s->next;
		curl_easy_cleanup(s->curl);
		free(s);
	}
	sv_mutex_free(h->lock);
	free(h);
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

/* ---- callbacks ---- */

typedef struct xfer {
	vault_http_req *req;
	vault_http_resp *resp;
	size_t sent;	  /* upload position */
	size_t out_start; /* req->out->len before the transfer */
	int too_big;
} xfer;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	xfer *x = ud;
	size_t room = size * nitems, left = x->req->body_len - x->sent;
	size_t k = left < room ? left : room;

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

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	xfer *x = ud;
	size_t n = size * nmemb;
	long st = x->resp->status;
	sv_buf *to = st >= 200 && st < 300 ? x->req->out : &x->resp->err_body;

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
	if (strcmp(req->method, "PUT") == 0) {
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
			struct curl_slist *hdrs)
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
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->o.low_speed_bytes);
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

int vault__http_perform(vault_http *h, vault_http_req *req,
			vault_http_resp *resp)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	http_slot *s = NULL;
	xfer x = {req, resp, 0, req->out ? req->out->len : 0, 0};
	curl_off_t cl = -1;
	CURLcode cc;
	int rc = 0;

	resp_clear(resp);
	if ((s = slot_get(h)) == NULL)
		return sv_error_code() ? sv_error_code() : SV_ENOMEM;
	if ((hdrs = header_list(req)) == NULL) {
		rc = sv_error_set(SV_ENOMEM, "out of memory for headers");
		goto done;
	}
	curl_easy_reset(s->curl); /* keeps the live connections */
	set_options(h, s->curl, &x, errbuf, hdrs);
	if (set_method(s->curl, req, &x)) {
		rc = sv_error_set(SV_ERROR, "libcurl refused an option");
		goto done;
	}
	cc = curl_easy_perform(s->curl);
	if (cc != CURLE_OK) {
		rc = classify(cc, req, errbuf, x.too_big);
		goto done;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(s->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
			      &cl) == CURLE_OK &&
	    cl >= 0)
		resp->content_length = (uint64_t)cl;
done:
	curl_slist_free_all(hdrs);
	if (rc != 0 && req->out) {
		req->out->len = x.out_start;
		if (req->out->ptr)
			req->out->ptr[req->out->len] = '\0';
	}
	slot_put(h, s);
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
		if (n < h->o.max_attempts)
			sv_time_sleep_ms(vault__http_backoff(
				&h->o, n, rc == 0 ? resp->retry_after_ms : -1));
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
