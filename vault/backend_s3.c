/*
 * backend_s3.c - a vault in an S3 bucket (scheme "s3"):
 * s3://<bucket>[/<prefix>].
 *
 * Object "data/ab/<hex>" is the key "<prefix>data/ab/<hex>". The service is
 * AWS (https://s3.<region>.amazonaws.com, virtual-host addressing) unless
 * an endpoint names another (an S3-compatible server, a sovereign region,
 * an emulator), which is addressed path-style; SYSVAULT_S3_PATH_STYLE=1 or
 * 0 overrides either choice. Requests are signed with SigV4 (sign.c) over
 * the real payload hash; credentials are "<access key id>:<secret>[:<session
 * token>]" from the vault_access, else AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. The secret and the token are
 * registered for redaction as soon as they are read.
 *
 * Write-once: PUT with If-None-Match: * (412 when the key is taken; then
 * the stored bytes are compared, since a retried upload may meet its own
 * earlier attempt). Servers that ignore that header (they overwrite) or
 * refuse it (501) are found by a probe before the first upload of a
 * session; with them every PUT is preceded by a HEAD, which protects
 * against everything but two writers racing for one name in the same
 * instant (docs/cloud.md). Every upload carries Content-MD5; a whole-object
 * download is checked against a plain (MD5) ETag.
 *
 * An object above S3_MULTIPART_MIN (a pack) goes as a multipart upload:
 * CreateMultipartUpload, its 5 MiB parts sent as many at once as the engine
 * has transfers (UploadPart, each with Content-MD5), then
 * CompleteMultipartUpload. Write-once: a HEAD first whatever the probe
 * found (a service may honour If-None-Match on PUT but not on the
 * completion), and If-None-Match: * on the completion where the service
 * takes the header. An upload that fails is aborted (AbortMultipartUpload),
 * so its parts are not kept. The ETag of such an object is not its MD5:
 * whole downloads of it are checked by the vault's own hashes.
 *
 * Thread-safe: the state is fixed at open, except three atomic flags.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sv_env.h"
#include "sv_log.h"
#include "sv_time.h"
#include "vault_int.h"

#define S3_LIST_PAGE 1000
/* A list page of 1000 keys is ~300 KiB of XML. */
#define S3_LIST_MAX ((size_t)16 << 20)
/* Room for one put to compare against (packs are ~16 MiB). */
#define S3_CMP_MAX ((size_t)1 << 30)
/* Tries of a PUT that met a concurrent conditional write (409). */
#define S3_CONFLICT_TRIES 5
/* Multipart: parts of S3_PART_SIZE (S3's smallest for every part but the
 * last), for objects of at least two parts; at most 10,000 parts. */
#define S3_PART_SIZE ((size_t)5 << 20)
#define S3_MULTIPART_MIN ((size_t)10 << 20)
#define S3_PARTS_MAX 10000
#define S3_ETAG_MAX 128
/* Keys of the conditional-write probe: outside the vault's names, which
 * list() skips. */
#define S3_PROBE_PREFIX "sysvault-probe-"
#define S3_EMPTY_SHA256                                                        \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* How the service treats If-None-Match: * on PUT. */
enum {
	COND_UNKNOWN,  /* not probed yet: HEAD first, send the header */
	COND_HONOURED, /* 412 when taken: the header alone suffices */
	COND_IGNORED,  /* overwrites: HEAD first */
	COND_REJECTED  /* 501 or 400 NotImplemented: HEAD, no header */
};

typedef struct s3_backend {
	vault_backend base;
	vault_http *http;
	char *origin; /* "https://host[:port]" requests go to */
	char *host;   /* the Host header (signed) */
	char *root; /* path before the key: "/<bucket>" or "" (+ endpoint's) */
	char *bucket;
	char *prefix; /* "" or ending with '/' */
	char *region;
	char *access_key;
	char *secret_key;
	char *token; /* session token, or NULL */
	unsigned list_page;
	atomic_int cond_put;
	atomic_int probing;
	atomic_int etag_md5; /* 0 once ETags proved not to be MD5s */
} s3_backend;

/* What the sign callback needs besides the request. */
typedef struct s3_sign {
	s3_backend *s;
	char *path; /* as sent */
	const char *query;
	char payload[65]; /* hex SHA-256 of the body */
} s3_sign;

/* ---- names ---- */

/* Object names are lower-case hex, letters and '/' (docs/vault-format.md);
 * anything else is refused before it reaches a URL. */
static int name_ok(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n >= VAULT_NAME_MAX || name[0] == '/' ||
	    name[n - 1] == '/' || strstr(name, "//"))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/'))
			return 0;
	}
	return 1;
}

static int check_name(const s3_backend *s, const char *name)
{
	if (name_ok(name))
		return 0;
	return sv_error_set(SV_EINVAL, "vault '%s': '%s' is not an object name",
			    s->base.url, name ? name : "(null)");
}

/* ---- requests ---- */

static void amz_date(char out[17], int64_t t)
{
	sv_tm tm;

	sv_time_to_tm(&tm, t);
	sv_snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", tm.year, tm.month,
		    tm.day, tm.hour, tm.min, tm.sec);
}

/* Adds x-amz-date and the SigV4 Authorization, fresh for each attempt. */
static int sign_request(void *ud, vault_http_req *req)
{
	s3_sign *g = ud;
	const s3_backend *s = g->s;
	char date[17];
	vault_sign_input in;
	sv_buf auth;
	int rc;

	/* S3 refuses a signature more than 15 minutes from its clock: the
	 * real one, even when a test moves sysvault's. */
	amz_date(date, sv_time_real());
	if ((rc = vault__http_req_header(req, "x-amz-date", "%s", date)) != 0)
		return rc;
	in.method = req->method;
	in.path = g->path;
	in.query = g->query;
	in.headers = (const char *const *)req->headers;
	in.nheaders = req->nheaders;
	in.content_length = strcmp(req->method, "PUT") == 0 ||
					    strcmp(req->method, "POST") == 0
				    ? req->body_len
				    : 0;
	sv_buf_init(&auth, 4096);
	if ((rc = vault__s3_authorization(&auth, s->access_key, s->secret_key,
					  s->region, date, &in, g->payload)) ==
	    0)
		rc = vault__http_req_header(req, "Authorization", "%s",
					    auth.ptr);
	sv_buf_release(&auth);
	return rc;
}

/* Builds the URL and signing path of the bucket (key NULL) or of one
 * object (key "" is allowed for the probe's raw names), with query (may be
 * NULL) and the body's hash; adds the headers every request signs. */
static int s3_prepare(s3_backend *s, vault_http_req *r, s3_sign *g,
		      const char *key, const char *query)
{
	sv_buf path, url;
	int rc;

	sv_buf_init(&path, 8192);
	sv_buf_init(&url, 16384);
	g->s = s;
	g->query = query;
	if (!g->payload[0]) {
		uint8_t d[32];

		vault__sha256(d, r->body ? r->body : "",
			      r->body ? r->body_len : 0);
		sv_hex_encode(g->payload, d, sizeof(d));
	}
	if ((rc = sv_buf_adds(&path, s->root)) != 0 ||
	    ((key || !s->root[0]) && (rc = sv_buf_addc(&path, '/')) != 0) ||
	    (key && ((rc = vault__http_escape(&path, s->prefix, 1)) != 0 ||
		     (rc = vault__http_escape(&path, key, 1)) != 0)))
		goto done;
	rc = sv_buf_printf(&url, "%s%s%s%s", s->origin, path.ptr,
			   query ? "?" : "", query ? query : "");
	if (rc == 0 && ((r->url = sv_buf_take(&url)) == NULL ||
			(g->path = sv_buf_take(&path)) == NULL))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = vault__http_req_header(r, "Host", "%s", s->host);
	if (rc == 0)
		rc = vault__http_req_header(r, "x-amz-content-sha256", "%s",
					    g->payload);
	if (rc == 0 && s->token)
		rc = vault__http_req_header(r, "x-amz-security-token", "%s",
					    s->token);
done:
	sv_buf_release(&path);
	sv_buf_release(&url);
	return rc;
}

/* The service's error code (S3 sends it in the XML body; a HEAD has none). */
static void error_code(vault_http_resp *resp)
{
	sv_buf code;

	if (resp->error_code[0] || resp->err_body.len == 0)
		return;
	sv_buf_init(&code, 256);
	if (sv_buf_add(&resp->err_body, "", 0) == 0 &&
	    vault__xml_text(&code, resp->err_body.ptr,
			    resp->err_body.ptr + resp->err_body.len, "Code"))
		sv_strlcpy(resp->error_code, code.ptr,
			   sizeof(resp->error_code));
	sv_buf_release(&code);
}

/* Sends a prepared request (fixed headers are those added so far). */
static int s3_send(s3_backend *s, vault_http_req *r, s3_sign *g,
		   vault_http_resp *resp)
{
	int rc;

	r->nfixed = r->nheaders;
	rc = vault__http_send(s->http, r, resp, sign_request, g);
	if (rc == SV_EAUTH) /* a transfer fails so only on TLS verification */
		rc = vault__backend_tls_untrusted(&s->base);
	if (resp->attempts > 1)
		vault__backend_retried(&s->base, resp->attempts - 1);
	if (rc == 0)
		error_code(resp);
	return rc;
}

static void sign_release(s3_sign *g)
{
	free(g->path);
	g->path = NULL;
}

/* ---- errors ---- */

static int is_code(const vault_http_resp *resp, const char *code)
{
	return strcmp(resp->error_code, code) == 0;
}

/* Credential errors some of which come as 400, not 403 (ExpiredToken,
 * InvalidToken). */
static int auth_code(const vault_http_resp *resp)
{
	static const char *const codes[] = {
		"SignatureDoesNotMatch", "InvalidAccessKeyId",
		"ExpiredToken",		 "TokenRefreshRequired",
		"InvalidToken",		 "RequestTimeTooSkewed",
		"AccessDenied"};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (is_code(resp, codes[i]))
			return 1;
	return 0;
}

/* A refusal of the credentials: one line naming the bucket and the fix. */
static int auth_fail(const s3_backend *s, const vault_http_resp *resp)
{
	const char *why;

	if (is_code(resp, "SignatureDoesNotMatch"))
		why = "the signature does not match (SignatureDoesNotMatch): "
		      "check the secret access key";
	else if (is_code(resp, "InvalidAccessKeyId"))
		why = "the access key id is unknown to this service "
		      "(InvalidAccessKeyId): check the access key id and the "
		      "endpoint";
	else if (is_code(resp, "ExpiredToken") ||
		 is_code(resp, "TokenRefreshRequired") ||
		 is_code(resp, "InvalidToken"))
		why = "the session token has expired or is invalid: get new "
		      "temporary credentials (AWS_SESSION_TOKEN)";
	else if (is_code(resp, "RequestTimeTooSkewed"))
		why = "this machine's clock differs from the service's by more "
		      "than 15 minutes (RequestTimeTooSkewed): correct the "
		      "clock (w32tm /resync)";
	else if (is_code(resp, "AccessDenied"))
		why = "access denied (AccessDenied): the credentials need "
		      "s3:ListBucket, s3:GetObject, s3:PutObject and "
		      "s3:DeleteObject on it";
	else
		why = "the credentials were refused: check the access key id, "
		      "the secret and their permissions";
	return sv_error_set(SV_EAUTH, "vault '%s': S3 refused bucket '%s': %s",
			    s->base.url, s->bucket, why);
}

/* The bucket lives in another region than the one requests are signed
 * for: name it when the service did. */
static int region_fail(const s3_backend *s, const vault_http_resp *resp)
{
	sv_buf region;
	const char *b = resp->err_body.ptr;
	int rc;

	sv_buf_init(&region, 256);
	if (b && vault__xml_text(&region, b, b + resp->err_body.len, "Region"))
		rc = sv_error_set(SV_EINVAL,
				  "vault '%s': bucket '%s' is in region '%s', "
				  "not '%s': set SYSVAULT_S3_REGION=%s (or the "
				  "vault's region)",
				  s->base.url, s->bucket, region.ptr, s->region,
				  region.ptr);
	else
		rc = sv_error_set(SV_EINVAL,
				  "vault '%s': bucket '%s' is not in region "
				  "'%s' (HTTP %ld %s): set SYSVAULT_S3_REGION "
				  "to the bucket's region",
				  s->base.url, s->bucket, s->region,
				  resp->status, resp->error_code);
	sv_buf_release(&region);
	return rc;
}

static int no_bucket(const s3_backend *s)
{
	return sv_error_set(SV_ENOTFOUND,
			    "vault '%s': bucket '%s' does not exist at %s: "
			    "check the name and the endpoint ('sysvault vault "
			    "init' creates it)",
			    s->base.url, s->bucket, s->origin);
}

/* The error of an unexpected answer: the code follows the status and the
 * service's error code, the message names the object and the fix. */
static int s3_fail(const s3_backend *s, const char *op, const char *name,
		   const vault_http_resp *resp)
{
	int code;

	if (resp->status == 401 || resp->status == 403 || auth_code(resp))
		return auth_fail(s, resp);
	if (resp->status == 301 || is_code(resp, "PermanentRedirect") ||
	    is_code(resp, "AuthorizationHeaderMalformed"))
		return region_fail(s, resp);
	if (is_code(resp, "NoSuchBucket"))
		return no_bucket(s);
	switch (resp->status) {
	case 404:
		code = SV_ENOTFOUND;
		break;
	case 409:
	case 412:
		code = SV_EEXISTS;
		break;
	default:
		code = resp->status >= 500 || resp->status == 408 ||
				       resp->status == 429
			       ? SV_ENETWORK
			       : SV_EIO;
		break;
	}
	return sv_error_set(code, "vault '%s': %s '%s' failed: HTTP %ld%s%s%s",
			    s->base.url, op, name, resp->status,
			    resp->error_code[0] ? " (" : "", resp->error_code,
			    resp->error_code[0] ? ")" : "");
}

static int not_found(const s3_backend *s, const char *name)
{
	return sv_error_set(SV_ENOTFOUND, "object '%s' not found in vault '%s'",
			    name, s->base.url);
}

/* ---- bucket ---- */

static int create_bucket(s3_backend *s)
{
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	char *body = NULL;
	int rc;

	vault__http_req_init(&r, "PUT");
	vault__http_resp_init(&resp);
	/* us-east-1 is the default location and refuses to be named. */
	if (strcmp(s->region, "us-east-1") != 0) {
		body = sv_aprintf(
			"<CreateBucketConfiguration xmlns=\"http://s3."
			"amazonaws.com/doc/2006-03-01/\"><Location"
			"Constraint>%s</LocationConstraint></Create"
			"BucketConfiguration>",
			s->region);
		if (!body) {
			rc = SV_ENOMEM;
			goto done;
		}
		r.body = body;
		r.body_len = strlen(body);
	}
	if ((rc = s3_prepare(s, &r, &g, NULL, NULL)) != 0 ||
	    (rc = s3_send(s, &r, &g, &resp)) != 0)
		goto done;
	if (resp.status == 409 && is_code(&resp, "BucketAlreadyExists"))
		rc = sv_error_set(SV_EEXISTS,
				  "vault '%s': the bucket name '%s' is taken "
				  "by another account: choose another name",
				  s->base.url, s->bucket);
	else if (resp.status != 200 && resp.status != 409)
		rc = s3_fail(s, "create bucket", s->bucket, &resp);
done:
	free(body);
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* Makes the bucket when it does not exist (vault init, a copy's
 * destination). */
static int ensure_bucket(s3_backend *s)
{
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	int rc;

	vault__http_req_init(&r, "HEAD");
	vault__http_resp_init(&resp);
	if ((rc = s3_prepare(s, &r, &g, NULL, NULL)) != 0 ||
	    (rc = s3_send(s, &r, &g, &resp)) != 0)
		goto done;
	if (resp.status == 404)
		rc = create_bucket(s);
	else if (resp.status != 200)
		rc = s3_fail(s, "open bucket", s->bucket, &resp);
done:
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- stat ---- */

static int s3_stat(vault_backend *b, const char *name, uint64_t *size)
{
	s3_backend *s = (s3_backend *)b;
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	int rc;

	if ((rc = check_name(s, name)) != 0)
		return rc;
	vault__http_req_init(&r, "HEAD");
	vault__http_resp_init(&resp);
	if ((rc = s3_prepare(s, &r, &g, name, NULL)) != 0 ||
	    (rc = s3_send(s, &r, &g, &resp)) != 0)
		goto done;
	if (resp.status == 404)
		rc = not_found(s, name);
	else if (resp.status != 200 || resp.content_length == UINT64_MAX)
		rc = s3_fail(s, "stat", name, &resp);
	else if (size)
		*size = resp.content_length;
done:
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* One HEAD of the config object; its Date header is the service's clock. */
static int s3_server_time(vault_backend *b, int64_t *t)
{
	s3_backend *s = (s3_backend *)b;
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	int rc;

	*t = 0;
	vault__http_req_init(&r, "HEAD");
	vault__http_resp_init(&resp);
	if ((rc = s3_prepare(s, &r, &g, "config", NULL)) != 0 ||
	    (rc = s3_send(s, &r, &g, &resp)) != 0)
		goto done;
	if (resp.status != 200 && resp.status != 404)
		rc = s3_fail(s, "reach", "config", &resp);
	else if (resp.date[0])
		rc = vault__http_date_parse(t, resp.date);
done:
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- get ---- */

static int truncated(const s3_backend *s, const char *name, uint64_t want,
		     uint64_t size)
{
	return sv_error_set(SV_ECORRUPT,
			    "object '%s' in vault '%s' is truncated: expected "
			    "at least %llu bytes, found %llu",
			    name, s->base.url, (unsigned long long)want,
			    (unsigned long long)size);
}

/* A get that needs no bytes, or that the service answered 416: only the
 * size decides. */
static int get_by_size(s3_backend *s, const char *name, uint64_t off,
		       uint64_t len)
{
	uint64_t size = 0, end = len == UINT64_MAX ? off : off + len;
	int rc = s3_stat(&s->base, name, &size);

	if (rc == 0 && size < end)
		rc = truncated(s, name, end, size);
	return rc;
}

static int add_range(vault_http_req *r, uint64_t off, uint64_t len)
{
	if (off == 0 && len == UINT64_MAX)
		return 0;
	if (len == UINT64_MAX)
		return vault__http_req_header(r, "Range", "bytes=%llu-",
					      (unsigned long long)off);
	return vault__http_req_header(r, "Range", "bytes=%llu-%llu",
				      (unsigned long long)off,
				      (unsigned long long)(off + len - 1));
}

/* A server that ignored the Range sent the whole object: keep the part
 * asked for. */
static int keep_range(const s3_backend *s, const char *name, sv_buf *out,
		      size_t start, uint64_t off, uint64_t len)
{
	size_t got = out->len - start;
	uint64_t want = len == UINT64_MAX ? got - (off < got ? off : got) : len;

	if (off > got || want > got - off)
		return truncated(s, name, off + want, got);
	memmove(out->ptr + start, out->ptr + start + off, (size_t)want);
	out->len = start + (size_t)want;
	out->ptr[out->len] = '\0';
	return 0;
}

static int get_answer(s3_backend *s, const char *name, uint64_t off,
		      uint64_t len, const vault_http_resp *resp, sv_buf *out,
		      size_t start)
{
	size_t got = out->len - start;
	int ranged = off != 0 || len != UINT64_MAX;
	int rc;

	if (resp->status == 404 && is_code(resp, "NoSuchBucket"))
		return no_bucket(s);
	if (resp->status == 404)
		return not_found(s, name);
	if (resp->status == 416)
		return get_by_size(s, name, off, len);
	if (resp->status != 200 && resp->status != 206)
		return s3_fail(s, "get", name, resp);
	if (resp->status == 200 && resp->content_length != UINT64_MAX &&
	    got != resp->content_length)
		return truncated(s, name, resp->content_length, got);
	if (resp->status == 200 && ranged &&
	    (rc = keep_range(s, name, out, start, off, len)) != 0)
		return rc;
	got = out->len - start;
	if (len != UINT64_MAX && got != len)
		return truncated(s, name, off + len, off + got);
	return 0;
}

/* One GET into out (appended at start); the answer stays in resp. */
static int get_once(s3_backend *s, const char *name, uint64_t off, uint64_t len,
		    sv_buf *out, vault_http_resp *resp)
{
	size_t start = out->len;
	vault_http_req r;
	s3_sign g = {0};
	int rc;

	vault__http_req_init(&r, "GET");
	r.out = out;
	if ((rc = s3_prepare(s, &r, &g, name, NULL)) == 0 &&
	    (rc = add_range(&r, off, len)) == 0 &&
	    (rc = s3_send(s, &r, &g, resp)) == 0)
		rc = get_answer(s, name, off, len, resp, out, start);
	sign_release(&g);
	vault__http_req_release(&r);
	return rc;
}

/* 1 when the ETag is a plain MD5 (32 hex digits, no "-<parts>") that
 * differs from the bytes' MD5; 0 when it matches or says nothing. */
static int etag_differs(const vault_http_resp *resp, const void *data, size_t n)
{
	char tag[40], hex[33];
	const char *e = resp->etag;
	uint8_t md5[16];
	size_t len;

	if (*e == 'W' && e[1] == '/')
		e += 2;
	if (*e == '"')
		e++;
	len = strcspn(e, "\"");
	if (len != 32 || e[len] == '\0' || strchr(e, '-'))
		return 0;
	memcpy(tag, e, 32);
	tag[32] = '\0';
	if (vault__md5(md5, data, n) != 0)
		return 0;
	sv_hex_encode(hex, md5, sizeof(md5));
	return !sv_ascii_caseeq(tag, hex);
}

/*
 * A whole object whose ETag disagrees with its MD5: read it again. Equal
 * bytes twice mean that this bucket's ETags are not MD5s (server-side
 * encryption with KMS or customer keys), not damage in transit: the
 * vault's own hashes still check every object, so the check is dropped.
 */
static int recheck_whole(s3_backend *s, const char *name, sv_buf *out,
			 size_t start)
{
	vault_http_resp resp;
	sv_buf again;
	size_t got = out->len - start;
	int rc;

	sv_buf_init(&again, out->max);
	vault__http_resp_init(&resp);
	if ((rc = get_once(s, name, 0, UINT64_MAX, &again, &resp)) != 0)
		goto done;
	if (!etag_differs(&resp, again.ptr, again.len)) {
		out->len = start;
		rc = sv_buf_add(out, again.ptr, again.len);
	} else if (again.len == got &&
		   memcmp(again.ptr, out->ptr + start, got) == 0) {
		atomic_store(&s->etag_md5, 0);
		sv_log_info("vault '%s': ETags are not MD5 digests here "
			    "(server-side encryption?): whole-object reads are "
			    "checked by the vault's own hashes only",
			    s->base.url);
	} else {
		rc = sv_error_set(SV_ECORRUPT,
				  "object '%s' in vault '%s' arrived damaged "
				  "twice (its MD5 differs from its ETag): "
				  "check the network path to the service",
				  name, s->base.url);
	}
done:
	sv_buf_release(&again);
	vault__http_resp_release(&resp);
	return rc;
}

static int s3_get(vault_backend *b, const char *name, uint64_t off,
		  uint64_t len, sv_buf *out)
{
	s3_backend *s = (s3_backend *)b;
	size_t start = out->len;
	vault_http_resp resp;
	int rc;

	if ((rc = check_name(s, name)) != 0)
		return rc;
	if (len != UINT64_MAX && off > UINT64_MAX - len)
		return sv_error_set(SV_EINVAL, "vault '%s': bad range for '%s'",
				    s->base.url, name);
	if (len == 0)
		return get_by_size(s, name, off, len);
	vault__http_resp_init(&resp);
	rc = get_once(s, name, off, len, out, &resp);
	if (rc == 0 && off == 0 && len == UINT64_MAX &&
	    atomic_load(&s->etag_md5) &&
	    /* An empty object leaves out without a buffer. */
	    etag_differs(&resp, out->ptr ? out->ptr + start : "",
			 out->len - start))
		rc = recheck_whole(s, name, out, start);
	if (rc != 0) {
		out->len = start;
		if (out->ptr)
			out->ptr[start] = '\0';
	}
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- put ---- */

/* The name is taken: 0 when it holds exactly these bytes. */
static int compare_existing(s3_backend *s, const char *name, const void *data,
			    size_t n)
{
	uint64_t size = 0;
	sv_buf got;
	int rc;

	if ((rc = s3_stat(&s->base, name, &size)) != 0)
		return rc;
	sv_buf_init(&got, S3_CMP_MAX);
	if (size == n && n > 0 &&
	    (rc = s3_get(&s->base, name, 0, UINT64_MAX, &got)) != 0)
		goto done;
	if (size != n || (n > 0 && memcmp(got.ptr, data, n) != 0))
		rc = sv_error_set(SV_EEXISTS,
				  "object '%s' already exists in vault '%s' "
				  "with different contents; it was left as "
				  "it is",
				  name, s->base.url);
done:
	sv_buf_release(&got);
	return rc;
}

/* The MD5 of a body, base64 for Content-MD5. */
static int content_md5(char out[32], const void *data, size_t n)
{
	uint8_t digest[16];
	sv_buf b64;
	int rc;

	sv_buf_init(&b64, 64);
	if ((rc = vault__md5(digest, data, n)) == 0 &&
	    (rc = vault__b64_encode(&b64, digest, sizeof(digest))) == 0)
		sv_strlcpy(out, b64.ptr, 32);
	sv_buf_release(&b64);
	return rc;
}

/* One PUT of key (a vault name, or the probe's); cond: send
 * If-None-Match: *. */
static int put_once(s3_backend *s, const char *key, const void *data, size_t n,
		    int cond, vault_http_resp *resp)
{
	vault_http_req r;
	s3_sign g = {0};
	char md5[32];
	int rc;

	vault__http_req_init(&r, "PUT");
	r.body = data;
	r.body_len = n;
	if ((rc = content_md5(md5, data, n)) == 0 &&
	    (rc = s3_prepare(s, &r, &g, key, NULL)) == 0 &&
	    (!cond ||
	     (rc = vault__http_req_header(&r, "If-None-Match", "*")) == 0) &&
	    (rc = vault__http_req_header(&r, "Content-MD5", "%s", md5)) == 0 &&
	    (rc = vault__http_req_header(&r, "Content-Type",
					 "application/octet-stream")) == 0)
		rc = s3_send(s, &r, &g, resp);
	sign_release(&g);
	vault__http_req_release(&r);
	return rc;
}

static int refuses_condition(const vault_http_resp *resp)
{
	return resp->status == 501 ||
	       (resp->status == 400 && is_code(resp, "NotImplemented"));
}

static void del_raw(s3_backend *s, const char *key);

/* Two conditional PUTs of one new key tell how the service treats
 * If-None-Match; the key is removed again. */
static int probe(s3_backend *s, int *mode)
{
	vault_http_resp resp;
	uint8_t rnd[8];
	char key[64], hex[17];
	int rc;

	vault__http_resp_init(&resp);
	if ((rc = vault__random(rnd, sizeof(rnd))) != 0)
		goto done;
	sv_hex_encode(hex, rnd, sizeof(rnd));
	sv_snprintf(key, sizeof(key), S3_PROBE_PREFIX "%s", hex);
	if ((rc = put_once(s, key, "", 0, 1, &resp)) != 0)
		goto done;
	if (refuses_condition(&resp)) {
		*mode = COND_REJECTED;
		goto done;
	}
	if (resp.status != 200)
		rc = s3_fail(s, "put", key, &resp);
	else if ((rc = put_once(s, key, "", 0, 1, &resp)) == 0)
		*mode = resp.status == 412 || resp.status == 409 ? COND_HONOURED
			: resp.status == 200			 ? COND_IGNORED
								 : COND_UNKNOWN;
	del_raw(s, key);
done:
	vault__http_resp_release(&resp);
	return rc;
}

/* How to write once here; the first caller probes, the others meanwhile
 * take the safe way (HEAD first). */
static int cond_mode(s3_backend *s, int *mode)
{
	int expected = 0, rc;

	*mode = atomic_load(&s->cond_put);
	if (*mode != COND_UNKNOWN ||
	    !atomic_compare_exchange_strong(&s->probing, &expected, 1))
		return 0;
	rc = probe(s, mode);
	if (rc == 0 && *mode != COND_UNKNOWN) {
		atomic_store(&s->cond_put, *mode);
		if (*mode != COND_HONOURED)
			sv_log_info("vault '%s': the service does not honour "
				    "If-None-Match on PUT: every write is "
				    "checked with a HEAD first",
				    s->base.url);
	}
	atomic_store(&s->probing, 0);
	return rc;
}

/* The HEAD before a PUT where the header alone does not protect: 1 when
 * the name is taken (then *rc is the comparison's result). */
static int taken(s3_backend *s, const char *name, const void *data, size_t n,
		 int *rc)
{
	*rc = s3_stat(&s->base, name, NULL);
	if (*rc == SV_ENOTFOUND) {
		*rc = 0;
		return 0;
	}
	if (*rc == 0)
		*rc = compare_existing(s, name, data, n);
	return 1;
}

/* ---- multipart uploads ---- */

typedef struct s3_parts {
	s3_backend *s;
	const char *name;
	const uint8_t *data;
	size_t n;
	size_t nparts;
	char *upload_id; /* URL-encoded, for queries */
	char (*etags)[S3_ETAG_MAX];
} s3_parts;

/* "partNumber=<i+1>&uploadId=<id>" for part i, or "uploadId=<id>". */
static int part_query(sv_buf *q, const s3_parts *u, size_t i, int part)
{
	sv_buf_reset(q);
	if (part)
		return sv_buf_printf(q, "partNumber=%zu&uploadId=%s", i + 1,
				     u->upload_id);
	return sv_buf_printf(q, "uploadId=%s", u->upload_id);
}

/* A request of the upload (with query) and its answer; out may be NULL. */
static int mp_request(s3_parts *u, const char *method, const char *query,
		      const void *body, size_t len, const char *const *hdrs,
		      sv_buf *out, vault_http_resp *resp)
{
	vault_http_req r;
	s3_sign g = {0};
	int rc;

	vault__http_req_init(&r, method);
	r.body = body;
	r.body_len = len;
	r.out = out;
	rc = s3_prepare(u->s, &r, &g, u->name, query);
	for (; rc == 0 && hdrs && hdrs[0]; hdrs += 2)
		rc = vault__http_req_header(&r, hdrs[0], "%s", hdrs[1]);
	if (rc == 0)
		rc = s3_send(u->s, &r, &g, resp);
	sign_release(&g);
	vault__http_req_release(&r);
	return rc;
}

static int mp_create(s3_parts *u)
{
	const char *hdrs[] = {"Content-Type", "application/octet-stream", NULL};
	vault_http_resp resp;
	sv_buf xml, id, q;
	int rc;

	sv_buf_init(&xml, 64 * 1024);
	sv_buf_init(&id, 2048);
	sv_buf_init(&q, 4096);
	vault__http_resp_init(&resp);
	if ((rc = mp_request(u, "POST", "uploads", "", 0, hdrs, &xml,
			     &resp)) != 0)
		goto done;
	if (resp.status != 200 || sv_buf_add(&xml, "", 0) != 0 ||
	    !vault__xml_text(&id, xml.ptr, xml.ptr + xml.len, "UploadId") ||
	    id.len == 0) {
		rc = s3_fail(u->s, "start multipart upload of", u->name, &resp);
		goto done;
	}
	if ((rc = vault__http_escape(&q, id.ptr, 0)) == 0 &&
	    (u->upload_id = sv_buf_take(&q)) == NULL)
		rc = SV_ENOMEM;
done:
	sv_buf_release(&xml);
	sv_buf_release(&id);
	sv_buf_release(&q);
	vault__http_resp_release(&resp);
	return rc;
}

/* UploadPart for part i; a retried attempt re-sends it whole
 * (vault__http_send). Runs on several threads at once. */
static int put_part(void *ud, size_t i)
{
	s3_parts *u = ud;
	size_t off = i * S3_PART_SIZE;
	size_t len = u->n - off < S3_PART_SIZE ? u->n - off : S3_PART_SIZE;
	char md5[32];
	const char *hdrs[] = {"Content-MD5", md5, NULL};
	vault_http_resp resp;
	sv_buf q;
	int rc;

	sv_buf_init(&q, 4096);
	vault__http_resp_init(&resp);
	if ((rc = content_md5(md5, u->data + off, len)) != 0 ||
	    (rc = part_query(&q, u, i, 1)) != 0 ||
	    (rc = mp_request(u, "PUT", q.ptr, u->data + off, len, hdrs, NULL,
			     &resp)) != 0)
		goto done;
	if (resp.status != 200 || !resp.etag[0])
		rc = s3_fail(u->s, "put part of", u->name, &resp);
	else
		sv_strlcpy(u->etags[i], resp.etag, S3_ETAG_MAX);
done:
	sv_buf_release(&q);
	vault__http_resp_release(&resp);
	return rc;
}

/* The body of CompleteMultipartUpload: every part, in order. */
static int complete_xml(sv_buf *xml, const s3_parts *u)
{
	size_t i;
	int rc = sv_buf_adds(xml, "<CompleteMultipartUpload>");

	for (i = 0; rc == 0 && i < u->nparts; i++)
		rc = sv_buf_printf(xml,
				   "<Part><PartNumber>%zu</PartNumber>"
				   "<ETag>%s</ETag></Part>",
				   i + 1, u->etags[i]);
	if (rc == 0)
		rc = sv_buf_adds(xml, "</CompleteMultipartUpload>");
	return rc;
}

/* CompleteMultipartUpload, with If-None-Match: * when cond. S3 may answer
 * 200 and put an error in the body (the completion failed after the
 * status was sent): that is a failure too. */
static int mp_complete(s3_parts *u, int cond, vault_http_resp *resp)
{
	const char *hdrs[] = {"Content-Type", "application/xml",
			      cond ? "If-None-Match" : NULL, "*", NULL};
	sv_buf xml, q, out;
	int rc;

	sv_buf_init(&xml, (size_t)S3_PARTS_MAX * 200 + 64);
	sv_buf_init(&q, 4096);
	sv_buf_init(&out, 64 * 1024);
	if ((rc = complete_xml(&xml, u)) == 0 &&
	    (rc = part_query(&q, u, 0, 0)) == 0 &&
	    (rc = mp_request(u, "POST", q.ptr, xml.ptr, xml.len, hdrs, &out,
			     resp)) == 0 &&
	    resp->status == 200 && sv_buf_add(&out, "", 0) == 0 &&
	    strstr(out.ptr, "<Error>"))
		rc = sv_error_set(SV_ENETWORK,
				  "vault '%s': completing the upload of '%s' "
				  "failed after the service accepted it",
				  u->s->base.url, u->name);
	sv_buf_release(&xml);
	sv_buf_release(&q);
	sv_buf_release(&out);
	return rc;
}

/* AbortMultipartUpload: the parts sent so far are dropped. Best effort
 * (the error being reported is the one that led here); a lifecycle rule
 * for incomplete uploads cleans up what this cannot reach. */
static void mp_abort(s3_parts *u)
{
	vault_http_resp resp;
	sv_buf q;

	sv_buf_init(&q, 4096);
	vault__http_resp_init(&resp);
	if (part_query(&q, u, 0, 0) == 0 &&
	    mp_request(u, "DELETE", q.ptr, NULL, 0, NULL, NULL, &resp) == 0 &&
	    resp.status != 204 && resp.status != 200 && resp.status != 404)
		sv_log_warn("vault '%s': could not abort the upload of '%s' "
			    "(HTTP %ld): its parts stay until the bucket's "
			    "lifecycle rule removes them",
			    u->s->base.url, u->name, resp.status);
	sv_buf_release(&q);
	vault__http_resp_release(&resp);
}

/* Sends the parts and completes the upload; resp holds the completion's
 * answer. The upload is aborted unless it completed. */
static int mp_upload(s3_parts *u, int mode, vault_http_resp *resp)
{
	unsigned workers = vault__http_transfers(u->s->http);
	int rc;

	if ((rc = mp_create(u)) != 0)
		return rc;
	rc = vault__parts_run(workers, u->nparts, put_part, u);
	if (rc == 0)
		rc = mp_complete(u, mode != COND_REJECTED, resp);
	if (rc == 0 && refuses_condition(resp)) {
		atomic_store(&u->s->cond_put, COND_REJECTED);
		rc = mp_complete(u, 0, resp);
	}
	if (rc == 0 && resp->status != 200)
		mp_abort(u);
	else if (rc != 0) {
		/* the abort's own failure must not replace the error */
		char *msg = sv_strdup(sv_error_msg());

		mp_abort(u);
		sv_error_set(rc, "%s", msg ? msg : "out of memory");
		free(msg);
	}
	return rc;
}

static int put_multipart(s3_backend *s, const char *name, const void *data,
			 size_t n, int mode)
{
	s3_parts u;
	vault_http_resp resp;
	int rc;

	memset(&u, 0, sizeof(u));
	u.s = s;
	u.name = name;
	u.data = data;
	u.n = n;
	u.nparts = (n + S3_PART_SIZE - 1) / S3_PART_SIZE;
	/* Whatever the PUT probe found, look first: the completion's
	 * condition is not probed. */
	if (taken(s, name, data, n, &rc))
		return rc;
	if ((u.etags = sv_calloc(u.nparts, sizeof(*u.etags))) == NULL)
		return SV_ENOMEM;
	vault__http_resp_init(&resp);
	rc = mp_upload(&u, mode, &resp);
	if (rc == 0 && resp.status == 412)
		rc = compare_existing(s, name, data, n);
	else if (rc == 0 && resp.status == 409 &&
		 is_code(&resp, "ConditionalRequestConflict"))
		/* another writer of this name right now: transient, and the
		 * next attempt's HEAD settles it */
		rc = sv_error_set(SV_ENETWORK,
				  "vault '%s': another upload of '%s' was "
				  "completing at the same time; try again",
				  s->base.url, name);
	else if (rc == 0 && resp.status != 200)
		rc = s3_fail(s, "complete the upload of", name, &resp);
	vault__http_resp_release(&resp);
	free(u.upload_id);
	free(u.etags);
	return rc;
}

/* Whether n bytes go as a multipart upload: two parts at least, more
 * than one transfer to spread them over, at most S3_PARTS_MAX parts. */
static int use_multipart(const s3_backend *s, size_t n)
{
	return n >= S3_MULTIPART_MIN && vault__http_transfers(s->http) > 1 &&
	       n / S3_PART_SIZE < S3_PARTS_MAX;
}

static int s3_put(vault_backend *b, const char *name, const void *data,
		  size_t n)
{
	s3_backend *s = (s3_backend *)b;
	vault_http_resp resp;
	int rc, mode, tries;

	if ((rc = check_name(s, name)) != 0 || (rc = cond_mode(s, &mode)) != 0)
		return rc;
	if (use_multipart(s, n))
		return put_multipart(s, name, data, n, mode);
	vault__http_resp_init(&resp);
	for (tries = 1;; tries++) {
		if (mode != COND_HONOURED && taken(s, name, data, n, &rc))
			break;
		if ((rc = put_once(s, name, data, n, mode != COND_REJECTED,
				   &resp)) != 0)
			break;
		if (resp.status == 200)
			break;
		if (resp.status == 412) {
			rc = compare_existing(s, name, data, n);
			break;
		}
		if (refuses_condition(&resp) && mode != COND_REJECTED) {
			mode = COND_REJECTED;
			atomic_store(&s->cond_put, mode);
			continue;
		}
		/* another writer of this name right now: ask again */
		if (resp.status == 409 &&
		    is_code(&resp, "ConditionalRequestConflict") &&
		    tries < S3_CONFLICT_TRIES) {
			sv_time_sleep_ms(100u << tries);
			continue;
		}
		rc = s3_fail(s, "put", name, &resp);
		break;
	}
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- del ---- */

static int del_key(s3_backend *s, const char *key)
{
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	int rc;

	vault__http_req_init(&r, "DELETE");
	vault__http_resp_init(&resp);
	if ((rc = s3_prepare(s, &r, &g, key, NULL)) == 0 &&
	    (rc = s3_send(s, &r, &g, &resp)) == 0 && resp.status != 204 &&
	    resp.status != 200 && resp.status != 404)
		rc = s3_fail(s, "delete", key, &resp);
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* The probe's key: a failure to remove it is only logged (a bucket that
 * forbids deletes keeps one empty object outside the vault's names). */
static void del_raw(s3_backend *s, const char *key)
{
	if (del_key(s, key) != 0)
		sv_log_info("vault '%s': could not remove the probe object "
			    "'%s%s': %s",
			    s->base.url, s->prefix, key, sv_error_msg());
}

static int s3_del(vault_backend *b, const char *name)
{
	s3_backend *s = (s3_backend *)b;
	int rc;

	if ((rc = check_name(s, name)) != 0)
		return rc;
	return del_key(s, name);
}

/* ---- list (ListObjectsV2) ---- */

typedef struct s3_list {
	s3_backend *s;
	vault_list_cb cb;
	void *ud;
} s3_list;

/* Calls back for each <Contents> of one page. */
static int list_page(s3_list *l, const char *xml)
{
	const char *p = xml, *end;
	sv_buf key, len;
	uint64_t size;
	size_t pl = strlen(l->s->prefix);
	int rc = 0;

	sv_buf_init(&key, 4096);
	sv_buf_init(&len, 64);
	while (rc == 0 && (p = strstr(p, "<Contents>")) != NULL) {
		if ((end = strstr(p, "</Contents>")) == NULL)
			break;
		if (vault__xml_text(&key, p, end, "Key") &&
		    vault__xml_text(&len, p, end, "Size") &&
		    sv_parse_u64(&size, len.ptr) == 0 &&
		    strncmp(key.ptr, l->s->prefix, pl) == 0 &&
		    name_ok(key.ptr + pl))
			rc = l->cb(l->ud, key.ptr + pl, size);
		p = end;
	}
	sv_buf_release(&key);
	sv_buf_release(&len);
	return rc;
}

/* The query of one list page (parameters in any order: the signer sorts
 * them). */
static int list_query(sv_buf *q, const s3_backend *s, const char *prefix,
		      const char *token)
{
	int rc;

	sv_buf_reset(q);
	if ((rc = sv_buf_printf(q, "list-type=2&max-keys=%u&prefix=",
				s->list_page)) != 0 ||
	    (rc = vault__http_escape(q, s->prefix, 0)) != 0 ||
	    (rc = vault__http_escape(q, prefix, 0)) != 0)
		return rc;
	if (token[0] && ((rc = sv_buf_adds(q, "&continuation-token=")) != 0 ||
			 (rc = vault__http_escape(q, token, 0)) != 0))
		return rc;
	return 0;
}

/* The token of the next page into token, or empty after the last. */
static void next_token(sv_buf *token, const sv_buf *xml)
{
	sv_buf flag;
	const char *end = xml->ptr + xml->len;

	sv_buf_init(&flag, 64);
	if (!vault__xml_text(&flag, xml->ptr, end, "IsTruncated") ||
	    strcmp(flag.ptr, "true") != 0 ||
	    !vault__xml_text(token, xml->ptr, end, "NextContinuationToken"))
		sv_buf_reset(token);
	sv_buf_release(&flag);
}

static int list_one(s3_list *l, const char *prefix, sv_buf *token, sv_buf *q,
		    sv_buf *xml)
{
	s3_backend *s = l->s;
	vault_http_req r;
	vault_http_resp resp;
	s3_sign g = {0};
	int rc;

	vault__http_req_init(&r, "GET");
	vault__http_resp_init(&resp);
	sv_buf_reset(xml);
	r.out = xml;
	if ((rc = list_query(q, s, prefix, token->ptr ? token->ptr : "")) ||
	    (rc = s3_prepare(s, &r, &g, NULL, q->ptr)) ||
	    (rc = s3_send(s, &r, &g, &resp)))
		goto done;
	if (resp.status == 404 && is_code(&resp, "NoSuchBucket")) {
		sv_buf_reset(token); /* no bucket: nothing stored */
		goto done;
	}
	if (resp.status != 200) {
		rc = s3_fail(s, "list", prefix, &resp);
		goto done;
	}
	if ((rc = sv_buf_add(xml, "", 0)) == 0 &&
	    (rc = list_page(l, xml->ptr)) == 0)
		next_token(token, xml);
done:
	sign_release(&g);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

static int s3_list_objects(vault_backend *b, const char *prefix,
			   vault_list_cb cb, void *ud)
{
	s3_list l = {(s3_backend *)b, cb, ud};
	sv_buf token, q, xml;
	int rc;

	sv_buf_init(&token, 4096);
	sv_buf_init(&q, 16384);
	sv_buf_init(&xml, S3_LIST_MAX);
	do {
		rc = list_one(&l, prefix ? prefix : "", &token, &q, &xml);
	} while (rc == 0 && token.len > 0);
	sv_buf_release(&token);
	sv_buf_release(&q);
	sv_buf_release(&xml);
	return rc;
}

/* ---- open, close ---- */

static void wipe_free(char *p)
{
	if (p)
		vault__wipe(p, strlen(p));
	free(p);
}

static void s3_close(vault_backend *b)
{
	s3_backend *s = (s3_backend *)b;

	if (!s)
		return;
	vault__http_free(s->http);
	wipe_free(s->secret_key);
	wipe_free(s->token);
	free(s->access_key);
	free(s->origin);
	free(s->host);
	free(s->root);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->base.url);
	free(s);
}

static const vault_backend_ops s3_ops = {
	.scheme = "s3",
	.put = s3_put,
	.get = s3_get,
	.stat = s3_stat,
	.list = s3_list_objects,
	.del = s3_del,
	.close = s3_close,
	.server_time = s3_server_time,
};

/* Bucket names: 3-63 of [a-z0-9.-], a letter or digit at each end. */
static int bucket_ok(const char *c)
{
	size_t i, n = strlen(c);

	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') ||
		      (c[i] >= '0' && c[i] <= '9') || c[i] == '-' ||
		      c[i] == '.'))
			return 0;
	return n >= 3 && n <= 63 && c[0] != '-' && c[0] != '.' &&
	       c[n - 1] != '-' && c[n - 1] != '.';
}

/* Splits "<bucket>[/<prefix>]" (after "s3://"). */
static int parse_url(s3_backend *s, const char *rest, const char *url)
{
	const char *sl = strchr(rest, '/'), *p;
	size_t pl;

	s->bucket =
		sl ? sv_strndup(rest, (size_t)(sl - rest)) : sv_strdup(rest);
	for (p = sl ? sl : ""; *p == '/'; p++)
		;
	pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	s->prefix = pl ? sv_aprintf("%.*s/", (int)pl, p) : sv_strdup("");
	if (!s->bucket || !s->prefix)
		return SV_ENOMEM;
	if (bucket_ok(s->bucket))
		return 0;
	return sv_error_set(SV_EINVAL,
			    "vault '%s': expected s3://<bucket>/<prefix> with "
			    "a bucket name of 3-63 lower-case letters, digits, "
			    "'.' and '-'",
			    url);
}

/* SYSVAULT_S3_PATH_STYLE=1/0, else path-style for an endpoint of one's
 * own and for dotted buckets (a wildcard certificate covers one label),
 * virtual-host for AWS. */
static int path_style(const s3_backend *s, int have_endpoint, int *out)
{
	char *v = sv_env_get("SYSVAULT_S3_PATH_STYLE");
	int rc = 0;

	if (!v || !v[0])
		*out = have_endpoint || strchr(s->bucket, '.') != NULL;
	else if (strcmp(v, "1") == 0 || strcmp(v, "0") == 0)
		*out = v[0] == '1';
	else
		rc = sv_error_set(
			SV_EINVAL,
			"SYSVAULT_S3_PATH_STYLE is '%s': set it to 1 "
			"(path-style) or 0 (virtual-host), or unset it",
			v);
	free(v);
	return rc;
}

/* origin, host and root from the endpoint ("scheme://host[:port][/path]")
 * and the addressing style. */
static int set_address(s3_backend *s, const char *ep, int path)
{
	const char *host = strstr(ep, "://"), *slash;
	size_t hl, bl;

	if (!host || host == ep || !host[3] || host[3] == '/')
		return sv_error_set(SV_EINVAL,
				    "endpoint '%s' is not a URL (expected "
				    "https://host[:port][/path])",
				    ep);
	host += 3;
	slash = strchr(host, '/');
	hl = slash ? (size_t)(slash - host) : strlen(host);
	bl = slash ? strlen(slash) : 0;
	while (bl && slash[bl - 1] == '/')
		bl--;
	if (path) {
		s->host = sv_strndup(host, hl);
		s->root = sv_aprintf("%.*s/%s", (int)bl, slash ? slash : "",
				     s->bucket);
	} else {
		s->host = sv_aprintf("%s.%.*s", s->bucket, (int)hl, host);
		s->root = sv_strndup(slash ? slash : "", bl);
	}
	if (!s->host || !s->root)
		return SV_ENOMEM;
	s->origin = sv_aprintf("%.*s%s", (int)(host - ep), ep, s->host);
	return s->origin ? 0 : SV_ENOMEM;
}

/* A field of acc, else the environment variable (caller frees). */
static char *setting(const char *given, const char *env)
{
	return given && given[0] ? sv_strdup(given) : sv_env_get(env);
}

static int set_endpoint(s3_backend *s, const vault_access *acc)
{
	char *ep = setting(acc ? acc->endpoint : NULL, "SYSVAULT_S3_ENDPOINT");
	char *def = NULL;
	int path = 0, rc;

	s->region = setting(acc ? acc->region : NULL, "SYSVAULT_S3_REGION");
	if (!s->region || !s->region[0]) {
		free(s->region);
		s->region = sv_strdup("us-east-1");
	}
	if (!s->region)
		rc = SV_ENOMEM;
	else if ((rc = path_style(s, ep && ep[0], &path)) == 0) {
		/* AWS's China regions live under their own domain. */
		if (!ep || !ep[0])
			def = sv_aprintf(
				"https://s3.%s.amazonaws.com%s", s->region,
				sv_str_startswith(s->region, "cn-") ? ".cn"
								    : "");
		rc = def || (ep && ep[0]) ? set_address(s, def ? def : ep, path)
					  : SV_ENOMEM;
	}
	free(ep);
	free(def);
	return rc;
}

static int no_credentials(const s3_backend *s)
{
	return sv_error_set(SV_EAUTH,
			    "vault '%s': no S3 credentials: set "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
			    "give a secret \"<access key id>:<secret key>\"",
			    s->base.url);
}

/* "<access key id>:<secret>[:<session token>]" */
static int split_secret(s3_backend *s, const char *secret)
{
	const char *c1 = strchr(secret, ':'), *c2;

	sv_log_add_secret(secret);
	if (!c1 || c1 == secret || !c1[1])
		return sv_error_set(SV_EAUTH,
				    "vault '%s': the S3 secret must be "
				    "\"<access key id>:<secret key>\"",
				    s->base.url);
	c2 = strchr(c1 + 1, ':');
	s->access_key = sv_strndup(secret, (size_t)(c1 - secret));
	s->secret_key = c2 ? sv_strndup(c1 + 1, (size_t)(c2 - c1 - 1))
			   : sv_strdup(c1 + 1);
	if (c2 && c2[1])
		s->token = sv_strdup(c2 + 1);
	return s->access_key && s->secret_key && (!c2 || !c2[1] || s->token)
		       ? 0
		       : SV_ENOMEM;
}

static int set_credentials(s3_backend *s, const vault_access *acc)
{
	int rc;

	if (acc && acc->secret && acc->secret[0])
		rc = split_secret(s, acc->secret);
	else {
		s->access_key = sv_env_get("AWS_ACCESS_KEY_ID");
		s->secret_key = sv_env_get("AWS_SECRET_ACCESS_KEY");
		s->token = sv_env_get("AWS_SESSION_TOKEN");
		if (s->token && !s->token[0]) {
			free(s->token);
			s->token = NULL;
		}
		rc = 0;
	}
	if (s->secret_key && s->secret_key[0])
		sv_log_add_secret(s->secret_key);
	if (s->token)
		sv_log_add_secret(s->token);
	if (rc == 0 && (!s->access_key || !s->access_key[0] || !s->secret_key ||
			!s->secret_key[0]))
		rc = no_credentials(s);
	return rc;
}

/* SYSVAULT_S3_LIST_PAGE: keys per list request (1-1000), for tests of
 * paging. */
static int set_list_page(s3_backend *s)
{
	char *v = sv_env_get("SYSVAULT_S3_LIST_PAGE");
	uint64_t n = S3_LIST_PAGE;
	int rc = 0;

	if (v && v[0] && (sv_parse_u64(&n, v) != 0 || n < 1 || n > 1000))
		rc = sv_error_set(SV_EINVAL,
				  "SYSVAULT_S3_LIST_PAGE is '%s': give 1 to "
				  "1000, or unset it",
				  v);
	s->list_page = (unsigned)n;
	free(v);
	return rc;
}

int vault__backend_s3_open(vault_backend **out, const char *url,
			   const vault_access *acc, int create)
{
	s3_backend *s = NULL;
	vault_http_opts ho = {0};
	int rc;

	*out = NULL;
	if ((s = sv_calloc(1, sizeof(*s))) == NULL)
		return SV_ENOMEM;
	s->base.ops = &s3_ops;
	atomic_store(&s->etag_md5, 1);
	if ((s->base.url = sv_strdup(url)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	ho.insecure = acc ? acc->insecure : 0;
	if ((rc = parse_url(s, url + strlen("s3://"), url)) != 0 ||
	    (rc = set_endpoint(s, acc)) != 0 ||
	    (rc = set_credentials(s, acc)) != 0 ||
	    (rc = set_list_page(s)) != 0 ||
	    (rc = vault__backend_engine(&s->base, &s->http, acc, &ho)) != 0)
		goto done;
	if (create && (rc = ensure_bucket(s)) != 0)
		goto done;
	*out = &s->base;
done:
	if (rc != 0)
		s3_close(&s->base);
	return rc;
}
