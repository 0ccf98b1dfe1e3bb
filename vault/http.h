/*
 * http.h - HTTP requests for the cloud backends (http.c, the one file that
 * includes libcurl), and the request signers (sign.c). Internal to vault/.
 *
 * A request is built by the backend (method, URL, fixed headers, body),
 * then vault__http_send() runs it: each attempt truncates the headers back
 * to the fixed ones, calls the backend's sign callback (which adds the date
 * and the authorisation), performs the transfer and classifies the outcome.
 * Transport errors and 408/429/500/502/503/504 are retried with exponential
 * backoff and jitter, honouring Retry-After / x-ms-retry-after-ms.
 *
 * A vault_http is a transfer engine (docs/transfer.md): one thread runs up
 * to `transfers` requests at once over reused connections, callers in any
 * thread block in vault__http_perform until theirs is done. The engine
 * applies one bandwidth limit to all of them and a cancel hook.
 */
#ifndef SV_VAULT_HTTP_H
#define SV_VAULT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "sv_buf.h"
#include "throttle.h"

#define VAULT_HTTP_MAX_HEADERS 24

typedef struct vault_http_req {
	const char *method; /* "GET", "PUT", "HEAD", "DELETE", "POST" */
	char *url;	    /* owned; may carry a SAS query (never shown) */
	char *headers[VAULT_HTTP_MAX_HEADERS]; /* "Name: value", owned */
	size_t nheaders;
	size_t nfixed;	  /* headers kept between attempts */
	const void *body; /* uploaded when method is "PUT" or "POST" */
	size_t body_len;
	sv_buf *out; /* 2xx response body goes here (may be NULL) */
} vault_http_req;

typedef struct vault_http_resp {
	long status;
	uint64_t content_length; /* UINT64_MAX when not sent */
	int64_t retry_after_ms;	 /* -1 when not sent */
	char etag[128];
	char date[64];
	char error_code[64]; /* x-ms-error-code */
	char content_range[96];
	char content_md5[40];
	sv_buf err_body;   /* body of a non-2xx answer (bounded) */
	unsigned attempts; /* how many tries vault__http_send made */
} vault_http_resp;

/* Limits and switches of a connection pool. */
typedef struct vault_http_opts {
	int insecure;		 /* skip TLS verification (warned by caller) */
	unsigned max_attempts;	 /* default 6 */
	unsigned backoff_ms;	 /* first retry delay, default 250 */
	unsigned backoff_max_ms; /* default 15000 */
	long low_speed_bytes;	 /* stall: below this many bytes/s ... */
	long low_speed_secs;	 /* ... for this long (default 1024, 60) */
	long connect_secs;	 /* default 30 */
	unsigned transfers;	 /* at once; 0: vault__http_default_transfers */
} vault_http_opts;

typedef struct vault_http vault_http;

/* A pool of reusable connections (thread-safe). opts may be NULL. Runs
 * curl_global_init once per process. */
int vault__http_new(vault_http **out, const vault_http_opts *opts);
void vault__http_free(vault_http *h);

/* Transfers run at once when none is asked for: clamp(2 x CPUs, 4, 16).
 * A transfer mostly waits on the network, so it is the link's latency,
 * not the CPU count, that asks for more; the CPUs bound how fast packs are
 * built and verified, and beyond 16 a single host gains little while each
 * transfer may hold a 16 MiB pack in memory. */
unsigned vault__http_default_transfers(void);
/* The pool's number of parallel transfers. */
unsigned vault__http_transfers(const vault_http *h);

/* Non-zero asks to stop: in-flight transfers are aborted and new ones
 * refused with SV_ECANCELLED. Called from the engine thread about every
 * 100 ms; keep it cheap and thread-safe. */
typedef int (*vault_http_cancel_fn)(void *ud);
/* Sets (or with NULL clears) the cancel hook, and forgets an earlier
 * cancel. */
void vault__http_set_cancel(vault_http *h, vault_http_cancel_fn cb, void *ud);
/* 1 once the hook has asked to stop. */
int vault__http_cancelled(vault_http *h);
/* The bandwidth schedule shared by all transfers (copied; NULL or not
 * enabled: unlimited). Takes effect within a second, also mid-transfer. */
void vault__http_set_throttle(vault_http *h, const vault_throttle *t);

void vault__http_req_init(vault_http_req *r, const char *method);
void vault__http_req_release(vault_http_req *r);
/* Appends "name: value"; SV_ENOMEM when full. */
int vault__http_req_header(vault_http_req *r, const char *name, const char *fmt,
			   ...) SV_PRINTF(3, 4);
/* The value of header name (case-insensitive) or NULL. */
const char *vault__http_req_get(const vault_http_req *r, const char *name);

void vault__http_resp_init(vault_http_resp *r);
void vault__http_resp_release(vault_http_resp *r);

/* One attempt. 0 when an HTTP answer arrived (any status, in resp);
 * SV_ENETWORK / SV_ETIMEOUT for transport failures, SV_ENOMEM when the
 * body exceeded req->out's maximum, SV_EINVAL for a bad URL. */
int vault__http_perform(vault_http *h, vault_http_req *req,
			vault_http_resp *resp);

/* Called before each attempt, after the headers were cut back to nfixed. */
typedef int (*vault_http_sign_fn)(void *ud, vault_http_req *req);

/* 1 for statuses worth retrying (408, 429, 500, 502, 503, 504). */
int vault__http_retryable(long status);

/* Runs req with retries (see above). 0 when an answer that is not
 * retryable arrived, or the last retryable answer once attempts ran out
 * (the caller judges resp->status); a transport error code when the last
 * attempt failed in transport. req->out is cut back before each retry. */
int vault__http_send(vault_http *h, vault_http_req *req, vault_http_resp *resp,
		     vault_http_sign_fn sign, void *ud);

/* The delay before retry number n (1-based): exponential, full jitter,
 * at least the server's hint when given (>= 0). */
unsigned vault__http_backoff(const vault_http_opts *o, unsigned n,
			     int64_t hint_ms);

/* url without its query string, for messages. Caller frees. */
char *vault__http_url_public(const char *url);

/* Percent-encodes s into out: unreserved characters kept, and '/' kept
 * when keep_slash. */
int vault__http_escape(sv_buf *out, const char *s, int keep_slash);

/* ------------------------------------------------------------------ */
/* sign.c                                                              */

/* What a signer needs of a request. */
typedef struct vault_sign_input {
	const char *method;
	const char *path;  /* as sent: percent-encoded, starts with '/' */
	const char *query; /* without '?', NULL or "" when none */
	const char *const *headers; /* "Name: value" */
	size_t nheaders;
	uint64_t content_length;
} vault_sign_input;

/* Azure Shared Key: the string-to-sign (appended to out). */
int vault__azure_string_to_sign(sv_buf *out, const char *account,
				const vault_sign_input *in);
/* Base64(HMAC-SHA256(key, string-to-sign)) into out (appended). */
int vault__azure_signature(sv_buf *out, const uint8_t *key, size_t keylen,
			   const char *account, const vault_sign_input *in);

/* AWS SigV4 for S3. amz_date is "YYYYMMDDTHHMMSSZ"; the headers must
 * include host, x-amz-date and x-amz-content-sha256 (payload_hash). */
int vault__s3_canonical_request(sv_buf *out, const vault_sign_input *in,
				const char *payload_hash);
int vault__s3_string_to_sign(sv_buf *out, const char *amz_date,
			     const char *region, const vault_sign_input *in,
			     const char *payload_hash);
/* The value of the Authorization header (appended to out). */
int vault__s3_authorization(sv_buf *out, const char *access_key,
			    const char *secret_key, const char *region,
			    const char *amz_date, const vault_sign_input *in,
			    const char *payload_hash);

/* CRC-64/NVME: crc = vault__crc64nvme(0, ...) to start, then chain. */
uint64_t vault__crc64nvme(uint64_t crc, const void *data, size_t n);
/* Base64 of the 8 little-endian bytes (x-ms-content-crc64), 13 bytes. */
void vault__crc64_b64(char out[13], uint64_t crc);

/* "Mon, 01 Jan 2024 00:00:00 GMT" for t (dst >= 30 bytes). */
void vault__http_date(char *dst, size_t size, int64_t t);
/* Parses an IMF-fixdate ("Sun, 22 Nov 2026 01:00:00 GMT"); SV_EINVAL
 * otherwise. */
int vault__http_date_parse(int64_t *out, const char *s);

#endif
