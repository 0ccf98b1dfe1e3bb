/*
 * backend_azure.c - a vault in an Azure Blob Storage container (scheme
 * "azure"): azure://<account>/<container>/<prefix>.
 *
 * Object "data/ab/<hex>" is the block blob "<prefix>data/ab/<hex>". The
 * service is https://<account>.blob.core.windows.net unless
 * SYSVAULT_AZURE_ENDPOINT names another (a sovereign cloud, or the
 * emulator's path-style "http://127.0.0.1:10000/devstoreaccount1").
 * Credentials: SYSVAULT_AZURE_KEY (the account key, base64; requests are
 * signed with Shared Key) or SYSVAULT_AZURE_SAS (a SAS token appended to
 * every URL). Both are registered as secrets so that no log or message
 * shows them, and no URL in a message carries its query.
 *
 * Write-once: Put Blob with If-None-Match: * (409 BlobAlreadyExists when
 * the name is taken; then the stored bytes are compared, since a retried
 * upload may meet its own earlier attempt). Every upload carries
 * Content-MD5; a whole-blob download is checked against the stored MD5.
 * The container is created on first use.
 *
 * An object larger than AZ_BLOCK_MIN (a pack) is sent as 4 MiB blocks, as
 * many at once as the engine has transfers (Put Block), then committed
 * with Put Block List under If-None-Match: *. Each block carries its own
 * Content-MD5; the blob gets no whole-object MD5 (computing one would
 * hash every pack twice), so a whole download of it is checked by the
 * vault's own hashes only -- as every pack's content already is. The
 * blocks point into the caller's buffer, so a pack uses all transfers
 * without more memory. The block ids are fixed-length
 * base64 of a random per-upload nonce and the block number, so attempts
 * never mix; the blocks of an upload that is never committed are
 * discarded by the service after 7 days.
 *
 * Thread-safe: the state is fixed at open; the connection pool has its own
 * lock.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sv_env.h"
#include "sv_log.h"
#include "sv_time.h"
#include "vault_int.h"

#define AZ_VERSION "2021-08-06"
#define AZ_LIST_PAGE 5000
/* A list page of 5000 names is ~2 MiB of XML. */
#define AZ_LIST_MAX ((size_t)32 << 20)
/* Room for one put to compare against (packs are ~16 MiB). */
#define AZ_CMP_MAX ((size_t)1 << 30)
#define AZ_KEY_MAX 128
/* Block uploads: objects above AZ_BLOCK_MIN go as AZ_BLOCK_SIZE blocks (a
 * 16 MiB pack is four, one per default transfer). Put Block List takes up
 * to 50,000 blocks: 195 GiB at this size, far above any vault object. */
#define AZ_BLOCK_SIZE ((size_t)4 << 20)
#define AZ_BLOCK_MIN ((size_t)8 << 20)
#define AZ_BLOCKS_MAX 50000
/* A block id: base64 of an 8-byte nonce and a 4-byte block number. */
#define AZ_BLOCK_NONCE 8
#define AZ_BLOCK_ID_LEN 16

typedef struct azure_backend {
	vault_backend base;
	vault_http *http;
	char *endpoint;	       /* no trailing '/' */
	const char *base_path; /* path part of endpoint ("" or "/acct") */
	char *account;
	char *container;
	char *prefix; /* "" or ending with '/' */
	char *sas;    /* query without '?', or NULL */
	uint8_t key[AZ_KEY_MAX];
	size_t keylen;
	atomic_int container_ready;
} azure_backend;

/* What the sign callback needs besides the request. */
typedef struct az_sign {
	azure_backend *a;
	char *path; /* as sent */
	const char *query;
} az_sign;

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

static int check_name(const azure_backend *a, const char *name)
{
	if (name_ok(name))
		return 0;
	return sv_error_set(SV_EINVAL, "vault '%s': '%s' is not an object name",
			    a->base.url, name ? name : "(null)");
}

/* ---- requests ---- */

static int sign_request(void *ud, vault_http_req *req)
{
	az_sign *s = ud;
	const azure_backend *a = s->a;
	char date[40];
	vault_sign_input in;
	sv_buf sig;
	int rc;

	/* The service checks the date against its own clock (15 minutes):
	 * the real one, even when a test moves sysvault's. */
	vault__http_date(date, sizeof(date), sv_time_real());
	if ((rc = vault__http_req_header(req, "x-ms-date", "%s", date)) != 0 ||
	    a->keylen == 0)
		return rc;
	in.method = req->method;
	in.path = s->path;
	in.query = s->query;
	in.headers = (const char *const *)req->headers;
	in.nheaders = req->nheaders;
	in.content_length = strcmp(req->method, "PUT") == 0 ? req->body_len : 0;
	sv_buf_init(&sig, 1024);
	if ((rc = vault__azure_signature(&sig, a->key, a->keylen, a->account,
					 &in)) == 0)
		rc = vault__http_req_header(req, "Authorization",
					    "SharedKey %s:%s", a->account,
					    sig.ptr);
	sv_buf_release(&sig);
	return rc;
}

/* Builds the URL and signing path of the container (blob NULL) or of one
 * blob, with query (may be NULL); adds x-ms-version. */
static int az_prepare(azure_backend *a, vault_http_req *r, az_sign *s,
		      const char *blob, const char *query)
{
	sv_buf path, url;
	int rc;

	sv_buf_init(&path, 8192);
	sv_buf_init(&url, 16384);
	s->a = a;
	s->query = query;
	if ((rc = sv_buf_printf(&path, "%s/%s", a->base_path, a->container)) ||
	    (blob && ((rc = sv_buf_addc(&path, '/')) ||
		      (rc = vault__http_escape(&path, a->prefix, 1)) ||
		      (rc = vault__http_escape(&path, blob, 1)))))
		goto done;
	rc = sv_buf_printf(&url, "%s%s", a->endpoint,
			   path.ptr + strlen(a->base_path));
	if (rc == 0 && (query || a->sas))
		rc = sv_buf_printf(&url, "?%s%s%s", query ? query : "",
				   query && a->sas ? "&" : "",
				   a->sas ? a->sas : "");
	if (rc == 0 && ((r->url = sv_buf_take(&url)) == NULL ||
			(s->path = sv_buf_take(&path)) == NULL))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = vault__http_req_header(r, "x-ms-version", AZ_VERSION);
done:
	sv_buf_release(&path);
	sv_buf_release(&url);
	return rc;
}

/* Sends a prepared request (fixed headers are those added so far). */
static int az_send(azure_backend *a, vault_http_req *r, az_sign *s,
		   vault_http_resp *resp)
{
	int rc;

	r->nfixed = r->nheaders;
	rc = vault__http_send(a->http, r, resp, sign_request, s);
	if (rc == SV_EAUTH) /* a transfer fails so only on TLS verification */
		rc = vault__backend_tls_untrusted(&a->base);
	if (resp->attempts > 1)
		vault__backend_retried(&a->base, resp->attempts - 1);
	return rc;
}

/* The error of an unexpected answer: the code follows the status, the
 * message names the object and the service's error code. */
static int az_fail(const azure_backend *a, const char *op, const char *name,
		   const vault_http_resp *resp)
{
	int code;

	switch (resp->status) {
	case 401:
	case 403:
		code = SV_EAUTH;
		break;
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
			    a->base.url, op, name, resp->status,
			    resp->error_code[0] ? " (" : "", resp->error_code,
			    resp->error_code[0] ? ")" : "");
}

static void sign_release(az_sign *s)
{
	free(s->path);
	s->path = NULL;
}

/* ---- container ---- */

static int ensure_container(azure_backend *a)
{
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	if (atomic_load(&a->container_ready))
		return 0;
	vault__http_req_init(&r, "PUT");
	vault__http_resp_init(&resp);
	if ((rc = az_prepare(a, &r, &s, NULL, "restype=container")) == 0 &&
	    (rc = az_send(a, &r, &s, &resp)) == 0 && resp.status != 201 &&
	    resp.status != 409)
		rc = az_fail(a, "create container", a->container, &resp);
	if (rc == 0)
		atomic_store(&a->container_ready, 1);
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- stat, get ---- */

static int az_stat(vault_backend *b, const char *name, uint64_t *size)
{
	azure_backend *a = (azure_backend *)b;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	if ((rc = check_name(a, name)) != 0)
		return rc;
	vault__http_req_init(&r, "HEAD");
	vault__http_resp_init(&resp);
	if ((rc = az_prepare(a, &r, &s, name, NULL)) != 0 ||
	    (rc = az_send(a, &r, &s, &resp)) != 0)
		goto done;
	if (resp.status == 404)
		rc = sv_error_set(SV_ENOTFOUND,
				  "object '%s' not found in vault '%s'", name,
				  a->base.url);
	else if (resp.status != 200 || resp.content_length == UINT64_MAX)
		rc = az_fail(a, "stat", name, &resp);
	else if (size)
		*size = resp.content_length;
done:
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* One HEAD of the config object; its Date header is Azure's clock. */
static int az_server_time(vault_backend *b, int64_t *t)
{
	azure_backend *a = (azure_backend *)b;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	*t = 0;
	vault__http_req_init(&r, "HEAD");
	vault__http_resp_init(&resp);
	if ((rc = az_prepare(a, &r, &s, "config", NULL)) != 0 ||
	    (rc = az_send(a, &r, &s, &resp)) != 0)
		goto done;
	if (resp.status != 200 && resp.status != 404)
		rc = az_fail(a, "reach", "config", &resp);
	else if (resp.date[0])
		rc = vault__http_date_parse(t, resp.date);
done:
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

static int truncated(const azure_backend *a, const char *name, uint64_t want,
		     uint64_t size)
{
	return sv_error_set(SV_ECORRUPT,
			    "object '%s' in vault '%s' is truncated: expected "
			    "at least %llu bytes, found %llu",
			    name, a->base.url, (unsigned long long)want,
			    (unsigned long long)size);
}

/* A get that needs no bytes, or that the service answered 416: only the
 * size decides. */
static int get_by_size(azure_backend *a, const char *name, uint64_t off,
		       uint64_t len)
{
	uint64_t size = 0, end = len == UINT64_MAX ? off : off + len;
	int rc = az_stat(&a->base, name, &size);

	if (rc == 0 && size < end)
		rc = truncated(a, name, end, size);
	return rc;
}

/* The whole blob arrived: check it against the MD5 stored with it. */
static int check_md5(const azure_backend *a, const char *name,
		     const vault_http_resp *resp, const void *data, size_t n)
{
	uint8_t md5[16];
	sv_buf b64;
	int rc;

	if (!resp->content_md5[0])
		return 0;
	sv_buf_init(&b64, 64);
	if ((rc = vault__md5(md5, data, n)) == 0 &&
	    (rc = vault__b64_encode(&b64, md5, sizeof(md5))) == 0 &&
	    strcmp(b64.ptr, resp->content_md5) != 0)
		rc = sv_error_set(SV_ECORRUPT,
				  "object '%s' in vault '%s' does not match "
				  "its stored MD5",
				  name, a->base.url);
	sv_buf_release(&b64);
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

static int get_answer(azure_backend *a, const char *name, uint64_t off,
		      uint64_t len, const vault_http_resp *resp, sv_buf *out,
		      size_t start)
{
	size_t got = out->len - start;

	if (resp->status == 404)
		return sv_error_set(SV_ENOTFOUND,
				    "object '%s' not found in vault '%s'", name,
				    a->base.url);
	if (resp->status == 416)
		return get_by_size(a, name, off, len);
	if (resp->status != 200 && resp->status != 206)
		return az_fail(a, "get", name, resp);
	if (len != UINT64_MAX && got != len)
		return truncated(a, name, off + len, off + got);
	if (resp->status == 200 && off == 0)
		return check_md5(a, name, resp, out->ptr + start, got);
	return 0;
}

static int az_get(vault_backend *b, const char *name, uint64_t off,
		  uint64_t len, sv_buf *out)
{
	azure_backend *a = (azure_backend *)b;
	size_t start = out->len;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	if ((rc = check_name(a, name)) != 0)
		return rc;
	if (len != UINT64_MAX && off > UINT64_MAX - len)
		return sv_error_set(SV_EINVAL, "vault '%s': bad range for '%s'",
				    a->base.url, name);
	if (len == 0)
		return get_by_size(a, name, off, len);
	vault__http_req_init(&r, "GET");
	vault__http_resp_init(&resp);
	r.out = out;
	if ((rc = az_prepare(a, &r, &s, name, NULL)) == 0 &&
	    (rc = add_range(&r, off, len)) == 0 &&
	    (rc = az_send(a, &r, &s, &resp)) == 0)
		rc = get_answer(a, name, off, len, &resp, out, start);
	if (rc != 0) {
		out->len = start;
		if (out->ptr)
			out->ptr[start] = '\0';
	}
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- put ---- */

/* The name is taken: 0 when it holds exactly these bytes. */
static int compare_existing(azure_backend *a, const char *name,
			    const void *data, size_t n)
{
	uint64_t size = 0;
	sv_buf got;
	int rc;

	if ((rc = az_stat(&a->base, name, &size)) != 0)
		return rc;
	sv_buf_init(&got, AZ_CMP_MAX);
	if (size == n && n > 0 &&
	    (rc = az_get(&a->base, name, 0, UINT64_MAX, &got)) != 0)
		goto done;
	if (size != n || (n > 0 && memcmp(got.ptr, data, n) != 0))
		rc = sv_error_set(SV_EEXISTS,
				  "object '%s' already exists in vault '%s' "
				  "with different contents; it was left as "
				  "it is",
				  name, a->base.url);
done:
	sv_buf_release(&got);
	return rc;
}

static int put_once(azure_backend *a, const char *name, const void *data,
		    size_t n, const char *md5, vault_http_resp *resp)
{
	vault_http_req r;
	az_sign s = {0};
	int rc;

	vault__http_req_init(&r, "PUT");
	r.body = data;
	r.body_len = n;
	if ((rc = az_prepare(a, &r, &s, name, NULL)) == 0 &&
	    (rc = vault__http_req_header(&r, "x-ms-blob-type", "BlockBlob")) ==
		    0 &&
	    (rc = vault__http_req_header(&r, "If-None-Match", "*")) == 0 &&
	    (rc = vault__http_req_header(&r, "Content-MD5", "%s", md5)) == 0 &&
	    (rc = vault__http_req_header(&r, "Content-Type",
					 "application/octet-stream")) == 0)
		rc = az_send(a, &r, &s, resp);
	sign_release(&s);
	vault__http_req_release(&r);
	return rc;
}

/* ---- block uploads ---- */

typedef struct az_blocks {
	azure_backend *a;
	const char *name;
	const uint8_t *data;
	size_t n;
	size_t nblocks;
	uint8_t nonce[AZ_BLOCK_NONCE];
	atomic_int no_container; /* a block met ContainerNotFound */
} az_blocks;

/* The id of block i (AZ_BLOCK_ID_LEN base64 characters). Every block of a
 * blob must have an id of the same length. */
static int block_id(sv_buf *out, const az_blocks *u, size_t i)
{
	uint8_t raw[AZ_BLOCK_NONCE + 4];

	memcpy(raw, u->nonce, AZ_BLOCK_NONCE);
	raw[AZ_BLOCK_NONCE] = (uint8_t)(i >> 24);
	raw[AZ_BLOCK_NONCE + 1] = (uint8_t)(i >> 16);
	raw[AZ_BLOCK_NONCE + 2] = (uint8_t)(i >> 8);
	raw[AZ_BLOCK_NONCE + 3] = (uint8_t)i;
	sv_buf_reset(out);
	return vault__b64_encode(out, raw, sizeof(raw));
}

static int md5_b64(sv_buf *out, const void *data, size_t n)
{
	uint8_t digest[16];
	int rc;

	sv_buf_reset(out);
	if ((rc = vault__md5(digest, data, n)) == 0)
		rc = vault__b64_encode(out, digest, sizeof(digest));
	return rc;
}

/* Put Block for block i; a retried attempt re-sends it from its first
 * byte (vault__http_send). Runs on several threads at once. */
static int put_block(void *ud, size_t i)
{
	az_blocks *u = ud;
	azure_backend *a = u->a;
	size_t off = i * AZ_BLOCK_SIZE;
	size_t len = u->n - off < AZ_BLOCK_SIZE ? u->n - off : AZ_BLOCK_SIZE;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	sv_buf id, q, md5;
	int rc;

	sv_buf_init(&id, 64);
	sv_buf_init(&q, 256);
	sv_buf_init(&md5, 64);
	vault__http_req_init(&r, "PUT");
	vault__http_resp_init(&resp);
	r.body = u->data + off;
	r.body_len = len;
	if ((rc = block_id(&id, u, i)) != 0 ||
	    (rc = md5_b64(&md5, r.body, len)) != 0 ||
	    (rc = sv_buf_adds(&q, "comp=block&blockid=")) != 0 ||
	    (rc = vault__http_escape(&q, id.ptr, 0)) != 0 ||
	    (rc = az_prepare(a, &r, &s, u->name, q.ptr)) != 0 ||
	    (rc = vault__http_req_header(&r, "Content-MD5", "%s", md5.ptr)) !=
		    0 ||
	    (rc = az_send(a, &r, &s, &resp)) != 0)
		goto done;
	if (resp.status == 404 &&
	    strcmp(resp.error_code, "ContainerNotFound") == 0)
		atomic_store(&u->no_container, 1);
	if (resp.status != 201)
		rc = az_fail(a, "put block of", u->name, &resp);
done:
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	sv_buf_release(&id);
	sv_buf_release(&q);
	sv_buf_release(&md5);
	return rc;
}

/* The body of Put Block List: every block, in order. */
static int block_list_xml(sv_buf *xml, const az_blocks *u)
{
	sv_buf id;
	size_t i;
	int rc;

	sv_buf_init(&id, 64);
	rc = sv_buf_adds(xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
			      "<BlockList>");
	for (i = 0; rc == 0 && i < u->nblocks; i++)
		if ((rc = block_id(&id, u, i)) == 0)
			rc = sv_buf_printf(xml, "<Latest>%s</Latest>", id.ptr);
	if (rc == 0)
		rc = sv_buf_adds(xml, "</BlockList>");
	sv_buf_release(&id);
	return rc;
}

/* Put Block List under If-None-Match: * (write-once, as Put Blob). It
 * replaces the blob's properties, so the content type is set here. */
static int commit_blocks(az_blocks *u, vault_http_resp *resp)
{
	azure_backend *a = u->a;
	vault_http_req r;
	az_sign s = {0};
	sv_buf xml, xml_md5;
	int rc;

	sv_buf_init(&xml, (size_t)AZ_BLOCKS_MAX * 40 + 128);
	sv_buf_init(&xml_md5, 64);
	vault__http_req_init(&r, "PUT");
	if ((rc = block_list_xml(&xml, u)) != 0 ||
	    (rc = md5_b64(&xml_md5, xml.ptr, xml.len)) != 0)
		goto done;
	r.body = xml.ptr;
	r.body_len = xml.len;
	if ((rc = az_prepare(a, &r, &s, u->name, "comp=blocklist")) == 0 &&
	    (rc = vault__http_req_header(&r, "If-None-Match", "*")) == 0 &&
	    (rc = vault__http_req_header(&r, "Content-MD5", "%s",
					 xml_md5.ptr)) == 0 &&
	    (rc = vault__http_req_header(&r, "Content-Type",
					 "application/xml")) == 0 &&
	    (rc = vault__http_req_header(&r, "x-ms-blob-content-type",
					 "application/octet-stream")) == 0)
		rc = az_send(a, &r, &s, resp);
done:
	sign_release(&s);
	vault__http_req_release(&r);
	sv_buf_release(&xml);
	sv_buf_release(&xml_md5);
	return rc;
}

/* Sends the blocks (creating the container when a block finds it gone)
 * and commits them; resp holds the commit's answer. */
static int put_blocks(azure_backend *a, const char *name, const void *data,
		      size_t n, vault_http_resp *resp)
{
	az_blocks u;
	unsigned workers = vault__http_transfers(a->http);
	int rc;

	memset(&u, 0, sizeof(u));
	u.a = a;
	u.name = name;
	u.data = data;
	u.n = n;
	u.nblocks = (n + AZ_BLOCK_SIZE - 1) / AZ_BLOCK_SIZE;
	atomic_init(&u.no_container, 0);
	if ((rc = vault__random(u.nonce, sizeof(u.nonce))) != 0)
		return rc;
	rc = vault__parts_run(workers, u.nblocks, put_block, &u);
	if (rc != 0 && atomic_load(&u.no_container)) {
		atomic_store(&a->container_ready, 0);
		atomic_store(&u.no_container, 0);
		if ((rc = ensure_container(a)) == 0)
			rc = vault__parts_run(workers, u.nblocks, put_block,
					      &u);
	}
	if (rc == 0)
		rc = commit_blocks(&u, resp);
	return rc;
}

/* Whether n bytes go as blocks: a large object, more than one transfer
 * to spread it over, and few enough blocks for one block list. */
static int use_blocks(const azure_backend *a, size_t n)
{
	return n > AZ_BLOCK_MIN && vault__http_transfers(a->http) > 1 &&
	       n / AZ_BLOCK_SIZE < AZ_BLOCKS_MAX;
}

/* Put Blob with the object's MD5, creating the container when it is
 * gone. */
static int put_whole(azure_backend *a, const char *name, const void *data,
		     size_t n, vault_http_resp *resp)
{
	sv_buf md5;
	int rc, tries;

	sv_buf_init(&md5, 64);
	if ((rc = md5_b64(&md5, data, n)) != 0)
		goto done;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = put_once(a, name, data, n, md5.ptr, resp)) != 0)
			goto done;
		if (resp->status != 404 ||
		    strcmp(resp->error_code, "ContainerNotFound") != 0)
			break;
		atomic_store(&a->container_ready, 0);
		if ((rc = ensure_container(a)) != 0)
			goto done;
	}
done:
	sv_buf_release(&md5);
	return rc;
}

static int az_put(vault_backend *b, const char *name, const void *data,
		  size_t n)
{
	azure_backend *a = (azure_backend *)b;
	vault_http_resp resp;
	int rc;

	if ((rc = check_name(a, name)) != 0)
		return rc;
	vault__http_resp_init(&resp);
	rc = use_blocks(a, n) ? put_blocks(a, name, data, n, &resp)
			      : put_whole(a, name, data, n, &resp);
	if (rc == 0 && (resp.status == 409 || resp.status == 412))
		rc = compare_existing(a, name, data, n);
	else if (rc == 0 && resp.status != 201)
		rc = az_fail(a, "put", name, &resp);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- del ---- */

static int az_del(vault_backend *b, const char *name)
{
	azure_backend *a = (azure_backend *)b;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	if ((rc = check_name(a, name)) != 0)
		return rc;
	vault__http_req_init(&r, "DELETE");
	vault__http_resp_init(&resp);
	if ((rc = az_prepare(a, &r, &s, name, NULL)) == 0 &&
	    (rc = az_send(a, &r, &s, &resp)) == 0 && resp.status != 202 &&
	    resp.status != 200 && resp.status != 404)
		rc = az_fail(a, "delete", name, &resp);
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

/* ---- list ---- */

typedef struct az_list {
	azure_backend *a;
	vault_list_cb cb;
	void *ud;
} az_list;

/* Calls back for each <Blob> of one page. */
static int list_page(az_list *l, const char *xml)
{
	const char *p = xml, *end;
	sv_buf name, len;
	uint64_t size;
	size_t pl = strlen(l->a->prefix);
	int rc = 0;

	sv_buf_init(&name, 4096);
	sv_buf_init(&len, 64);
	while (rc == 0 && (p = strstr(p, "<Blob>")) != NULL) {
		if ((end = strstr(p, "</Blob>")) == NULL)
			break;
		if (vault__xml_text(&name, p, end, "Name") &&
		    vault__xml_text(&len, p, end, "Content-Length") &&
		    sv_parse_u64(&size, len.ptr) == 0 &&
		    strncmp(name.ptr, l->a->prefix, pl) == 0 &&
		    name_ok(name.ptr + pl))
			rc = l->cb(l->ud, name.ptr + pl, size);
		p = end;
	}
	sv_buf_release(&name);
	sv_buf_release(&len);
	return rc;
}

/* The query of one list page. */
static int list_query(sv_buf *q, const azure_backend *a, const char *prefix,
		      const char *marker)
{
	int rc;

	sv_buf_reset(q);
	if ((rc = sv_buf_printf(q,
				"restype=container&comp=list&maxresults=%d"
				"&prefix=",
				AZ_LIST_PAGE)) != 0 ||
	    (rc = vault__http_escape(q, a->prefix, 0)) != 0 ||
	    (rc = vault__http_escape(q, prefix, 0)) != 0)
		return rc;
	if (marker[0] && ((rc = sv_buf_adds(q, "&marker=")) != 0 ||
			  (rc = vault__http_escape(q, marker, 0)) != 0))
		return rc;
	return 0;
}

static int list_one(az_list *l, const char *prefix, sv_buf *marker, sv_buf *q,
		    sv_buf *xml)
{
	azure_backend *a = l->a;
	vault_http_req r;
	vault_http_resp resp;
	az_sign s = {0};
	int rc;

	vault__http_req_init(&r, "GET");
	vault__http_resp_init(&resp);
	sv_buf_reset(xml);
	r.out = xml;
	if ((rc = list_query(q, a, prefix, marker->ptr ? marker->ptr : "")) ||
	    (rc = az_prepare(a, &r, &s, NULL, q->ptr)) ||
	    (rc = az_send(a, &r, &s, &resp)))
		goto done;
	if (resp.status == 404 &&
	    strcmp(resp.error_code, "ContainerNotFound") == 0) {
		sv_buf_reset(marker); /* no container: nothing stored */
		goto done;
	}
	if (resp.status != 200) {
		rc = az_fail(a, "list", prefix, &resp);
		goto done;
	}
	if ((rc = sv_buf_add(xml, "", 0)) == 0 &&
	    (rc = list_page(l, xml->ptr)) == 0 &&
	    !vault__xml_text(marker, xml->ptr, xml->ptr + xml->len, "NextMarker"))
		sv_buf_reset(marker); /* "<NextMarker />": the last page */
done:
	sign_release(&s);
	vault__http_req_release(&r);
	vault__http_resp_release(&resp);
	return rc;
}

static int az_list_objects(vault_backend *b, const char *prefix,
			   vault_list_cb cb, void *ud)
{
	az_list l = {(azure_backend *)b, cb, ud};
	sv_buf marker, q, xml;
	int rc;

	sv_buf_init(&marker, 4096);
	sv_buf_init(&q, 16384);
	sv_buf_init(&xml, AZ_LIST_MAX);
	do {
		rc = list_one(&l, prefix ? prefix : "", &marker, &q, &xml);
	} while (rc == 0 && marker.len > 0);
	sv_buf_release(&marker);
	sv_buf_release(&q);
	sv_buf_release(&xml);
	return rc;
}

/* ---- open, close ---- */

static void az_close(vault_backend *b)
{
	azure_backend *a = (azure_backend *)b;

	if (!a)
		return;
	vault__http_free(a->http);
	vault__wipe(a->key, sizeof(a->key));
	if (a->sas)
		vault__wipe(a->sas, strlen(a->sas));
	free(a->sas);
	free(a->endpoint);
	free(a->account);
	free(a->container);
	free(a->prefix);
	free(a->base.url);
	free(a);
}

static const vault_backend_ops azure_ops = {
	.scheme = "azure",
	.put = az_put,
	.get = az_get,
	.stat = az_stat,
	.list = az_list_objects,
	.del = az_del,
	.close = az_close,
	.server_time = az_server_time,
};

/* Container names: 3-63 of [a-z0-9-]. */
static int container_ok(const char *c)
{
	size_t i, n = strlen(c);

	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') ||
		      (c[i] >= '0' && c[i] <= '9') || c[i] == '-'))
			return 0;
	return n >= 3 && n <= 63;
}

/* Splits "<account>/<container>[/<prefix>]" (after "azure://"). */
static int parse_url(azure_backend *a, const char *rest, const char *url)
{
	const char *s1 = strchr(rest, '/'), *s2, *p;
	size_t pl;

	if (!s1 || s1 == rest)
		goto bad;
	s2 = strchr(s1 + 1, '/');
	a->account = sv_strndup(rest, (size_t)(s1 - rest));
	a->container = s2 ? sv_strndup(s1 + 1, (size_t)(s2 - s1 - 1))
			  : sv_strdup(s1 + 1);
	for (p = s2 ? s2 : ""; *p == '/'; p++)
		;
	pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	a->prefix = pl ? sv_aprintf("%.*s/", (int)pl, p) : sv_strdup("");
	if (!a->account || !a->container || !a->prefix)
		return SV_ENOMEM;
	if (container_ok(a->container))
		return 0;
bad:
	return sv_error_set(SV_EINVAL,
			    "vault '%s': expected azure://<account>/"
			    "<container>/<prefix> with a container name of "
			    "3-63 lower-case letters, digits and '-'",
			    url);
}

/* The endpoint and the path part of it (the emulator's "/<account>"). */
static int set_endpoint(azure_backend *a, const vault_access *acc)
{
	char *env = acc && acc->endpoint ? sv_strdup(acc->endpoint)
					 : sv_env_get("SYSVAULT_AZURE_ENDPOINT");
	const char *host, *path;
	size_t n;

	if (env && env[0])
		a->endpoint = env;
	else {
		free(env);
		a->endpoint = sv_aprintf("https://%s.blob.core.windows.net",
					 a->account);
	}
	if (!a->endpoint)
		return SV_ENOMEM;
	n = strlen(a->endpoint);
	while (n && a->endpoint[n - 1] == '/')
		a->endpoint[--n] = '\0';
	host = strstr(a->endpoint, "://");
	if (!host)
		return sv_error_set(SV_EINVAL,
				    "endpoint '%s' is not a URL (expected https://host[:port][/path])",
				    a->endpoint);
	path = strchr(host + 3, '/');
	a->base_path = path ? path : a->endpoint + n;
	return 0;
}

/* Registers the signature of a SAS token as a secret. */
static void add_sas_secret(const char *sas)
{
	const char *sig = strstr(sas, "sig=");
	char *v;

	sv_log_add_secret(sas);
	if (!sig)
		return;
	sig += 4;
	v = sv_strndup(sig, strcspn(sig, "&"));
	if (v)
		sv_log_add_secret(v);
	free(v);
}

/* A SAS token rather than an account key: it has a signature field. */
static int is_sas(const char *s)
{
	return s[0] == '?' || strstr(s, "sig=") != NULL;
}

static int set_credentials(azure_backend *a, const vault_access *acc)
{
	char *key = NULL, *sas = NULL;

	if (acc && acc->secret && acc->secret[0]) {
		if (is_sas(acc->secret))
			sas = sv_strdup(acc->secret);
		else
			key = sv_strdup(acc->secret);
		if (!key && !sas)
			return SV_ENOMEM;
	} else {
		key = sv_env_get("SYSVAULT_AZURE_KEY");
		sas = sv_env_get("SYSVAULT_AZURE_SAS");
	}
	sv_buf raw;
	int rc = 0;

	sv_buf_init(&raw, AZ_KEY_MAX);
	if (key && key[0]) {
		sv_log_add_secret(key);
		if (vault__b64_decode(&raw, key) != 0 || raw.len == 0)
			rc = sv_error_set(SV_EAUTH,
					  "vault '%s': the account key is not "
					  "base64 (copy it again from the "
					  "storage account's access keys)",
					  a->base.url);
		else {
			memcpy(a->key, raw.ptr, raw.len);
			a->keylen = raw.len;
		}
	} else if (sas && sas[0]) {
		a->sas = sv_strdup(sas[0] == '?' ? sas + 1 : sas);
		rc = a->sas ? 0 : SV_ENOMEM;
		if (a->sas)
			add_sas_secret(a->sas);
	} else {
		rc = sv_error_set(SV_EAUTH,
				  "vault '%s': no credentials: set "
				  "SYSVAULT_AZURE_KEY (account key) or "
				  "SYSVAULT_AZURE_SAS (SAS token)",
				  a->base.url);
	}
	if (raw.ptr)
		vault__wipe(raw.ptr, raw.len);
	sv_buf_release(&raw);
	if (key)
		vault__wipe(key, strlen(key));
	if (sas)
		vault__wipe(sas, strlen(sas));
	free(key);
	free(sas);
	return rc;
}

int vault__backend_azure_open(vault_backend **out, const char *url,
			      const vault_access *acc, int create)
{
	azure_backend *a = NULL;
	vault_http_opts ho = { 0 };
	int rc;

	*out = NULL;
	if ((a = sv_calloc(1, sizeof(*a))) == NULL)
		return SV_ENOMEM;
	a->base.ops = &azure_ops;
	if ((a->base.url = sv_strdup(url)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = parse_url(a, url + strlen("azure://"), url)) != 0 ||
	    (rc = set_endpoint(a, acc)) != 0 ||
	    (rc = set_credentials(a, acc)) != 0 ||
	    (rc = vault__backend_engine(&a->base, &a->http, acc, &ho)) != 0)
		goto done;
	if (create && (rc = ensure_container(a)) != 0)
		goto done;
	*out = &a->base;
done:
	if (rc != 0)
		az_close(&a->base);
	return rc;
}
