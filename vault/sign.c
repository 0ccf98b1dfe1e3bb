/*
 * sign.c - request signatures of the cloud services: Azure Shared Key and
 * AWS Signature Version 4, plus the CRC-64/NVME upload checksum.
 *
 * Pure functions of their inputs (the caller supplies the date), so they
 * are tested against the services' published examples bit for bit. HMAC
 * and SHA-256 come from crypto.c.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sv_time.h"
#include "vault_int.h"

/* Headers of a request, split into lower-case name and trimmed value. */
typedef struct sign_hdr {
	char name[64];
	const char *value;
	size_t value_len;
} sign_hdr;

#define SIGN_MAX_HEADERS VAULT_HTTP_MAX_HEADERS
#define SIGN_MAX_PARAMS 16

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits "Name: value" into h; SV_EINVAL when malformed. */
static int split_header(sign_hdr *h, const char *line)
{
	const char *colon = strchr(line, ':'), *v, *end;
	size_t i, n;

	if (!colon || colon == line ||
	    (n = (size_t)(colon - line)) >= sizeof(h->name))
		return sv_error_set(SV_EINVAL, "bad request header");
	for (i = 0; i < n; i++) {
		char c = line[i];

		h->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	h->name[n] = '\0';
	for (v = colon + 1; is_space(*v); v++)
		;
	for (end = v + strlen(v); end > v && is_space(end[-1]); end--)
		;
	h->value = v;
	h->value_len = (size_t)(end - v);
	return 0;
}

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const sign_hdr *)a)->name, ((const sign_hdr *)b)->name);
}

/* The request's headers, parsed and sorted by name. */
static int sorted_headers(sign_hdr *out, size_t *n, const vault_sign_input *in)
{
	size_t i;
	int rc;

	if (in->nheaders > SIGN_MAX_HEADERS)
		return sv_error_set(SV_EINVAL, "too many request headers");
	for (i = 0; i < in->nheaders; i++)
		if ((rc = split_header(&out[i], in->headers[i])) != 0)
			return rc;
	qsort(out, in->nheaders, sizeof(*out), cmp_hdr);
	*n = in->nheaders;
	return 0;
}

static const sign_hdr *find_hdr(const sign_hdr *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

/* Appends the value with runs of inner whitespace folded to one space. */
static int add_folded(sv_buf *out, const char *v, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		if (is_space(v[i]) && i > 0 && is_space(v[i - 1]))
			continue;
		rc = sv_buf_addc(out, is_space(v[i]) ? ' ' : v[i]);
	}
	return rc;
}

/* ---- query strings ---- */

typedef struct sign_param {
	char *name;
	char *value;
} sign_param;

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* URL-decodes n bytes of s into a new string. */
static char *url_decode(const char *s, size_t n)
{
	char *d = sv_malloc(n + 1);
	size_t i, j = 0;

	if (!d)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_val(s[i + 1]) >= 0 &&
		    hex_val(s[i + 2]) >= 0) {
			d[j++] = (char)(hex_val(s[i + 1]) * 16 +
					hex_val(s[i + 2]));
			i += 2;
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	return d;
}

static void params_free(sign_param *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
}

static int cmp_param(const void *a, const void *b)
{
	const sign_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* Splits and URL-decodes query into p (sorted by name, then value);
 * lower: lower-case the names (Azure). */
static int parse_query(sign_param *p, size_t *n, const char *query, int lower)
{
	const char *s = query ? query : "", *amp, *eq;
	size_t k = 0;
	char *c;

	while (*s) {
		amp = strchr(s, '&');
		if (!amp)
			amp = s + strlen(s);
		eq = memchr(s, '=', (size_t)(amp - s));
		if (amp > s) {
			if (k == SIGN_MAX_PARAMS) {
				params_free(p, k);
				return sv_error_set(
					SV_EINVAL, "too many query parameters");
			}
			p[k].name =
				url_decode(s, (size_t)((eq ? eq : amp) - s));
			p[k].value =
				eq ? url_decode(eq + 1, (size_t)(amp - eq - 1))
				   : sv_strdup("");
			if (!p[k].name || !p[k].value) {
				params_free(p, k + 1);
				return SV_ENOMEM;
			}
			for (c = p[k].name; lower && *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + 32);
			k++;
		}
		s = *amp ? amp + 1 : amp;
	}
	qsort(p, k, sizeof(*p), cmp_param);
	*n = k;
	return 0;
}

/* ---- Azure Shared Key ---- */

/* The standard header lines, in the order of the string-to-sign. */
static const char *const azure_std[] = {
	"content-encoding",
	"content-language",
	"content-length",
	"content-md5",
	"content-type",
	"date",
	"if-modified-since",
	"if-match",
	"if-none-match",
	"if-unmodified-since",
	"range",
};

static int azure_std_lines(sv_buf *out, const sign_hdr *h, size_t n,
			   const vault_sign_input *in)
{
	const sign_hdr *f;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(azure_std) / sizeof(azure_std[0]) && !rc; i++) {
		if (strcmp(azure_std[i], "content-length") == 0) {
			if (in->content_length)
				rc = sv_buf_printf(
					out, "%llu",
					(unsigned long long)in->content_length);
		} else if (strcmp(azure_std[i], "date") == 0 &&
			   find_hdr(h, n, "x-ms-date")) {
			/* x-ms-date wins: the Date line stays empty */
		} else if ((f = find_hdr(h, n, azure_std[i])) != NULL) {
			rc = sv_buf_add(out, f->value, f->value_len);
		}
		if (rc == 0)
			rc = sv_buf_addc(out, '\n');
	}
	return rc;
}

static int azure_resource(sv_buf *out, const char *account,
			  const vault_sign_input *in)
{
	sign_param p[SIGN_MAX_PARAMS];
	size_t np = 0, i;
	int rc;

	if ((rc = sv_buf_printf(out, "/%s%s", account, in->path)) != 0 ||
	    (rc = parse_query(p, &np, in->query, 1)) != 0)
		return rc;
	for (i = 0; i < np && rc == 0; i++) {
		if (i > 0 && strcmp(p[i].name, p[i - 1].name) == 0)
			rc = sv_buf_printf(out, ",%s", p[i].value);
		else
			rc = sv_buf_printf(out, "\n%s:%s", p[i].name,
					   p[i].value);
	}
	params_free(p, np);
	return rc;
}

int vault__azure_string_to_sign(sv_buf *out, const char *account,
				const vault_sign_input *in)
{
	sign_hdr h[SIGN_MAX_HEADERS];
	size_t n = 0, i;
	int rc;

	if ((rc = sorted_headers(h, &n, in)) != 0 ||
	    (rc = sv_buf_printf(out, "%s\n", in->method)) != 0 ||
	    (rc = azure_std_lines(out, h, n, in)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if (strncmp(h[i].name, "x-ms-", 5) != 0)
			continue;
		if ((rc = sv_buf_printf(out, "%s:", h[i].name)) == 0 &&
		    (rc = add_folded(out, h[i].value, h[i].value_len)) == 0)
			rc = sv_buf_addc(out, '\n');
	}
	return rc ? rc : azure_resource(out, account, in);
}

int vault__azure_signature(sv_buf *out, const uint8_t *key, size_t keylen,
			   const char *account, const vault_sign_input *in)
{
	sv_buf sts;
	uint8_t mac[32];
	int rc;

	sv_buf_init(&sts, SV_BUF_DEFAULT_MAX);
	if ((rc = vault__azure_string_to_sign(&sts, account, in)) == 0 &&
	    (rc = vault__hmac_sha256(mac, key, keylen, sts.ptr, sts.len)) == 0)
		rc = vault__b64_encode(out, mac, sizeof(mac));
	sv_buf_release(&sts);
	return rc;
}

/* ---- AWS Signature Version 4 ---- */

/* RFC 3986 encoding as SigV4 wants it ('/' kept only in paths). */
static int aws_escape(sv_buf *out, const char *s)
{
	return vault__http_escape(out, s, 0);
}

static int hex_sha256(char hex[65], const void *data, size_t n)
{
	uint8_t d[32];

	vault__sha256(d, data, n);
	sv_hex_encode(hex, d, 32);
	return 0;
}

static int aws_query(sv_buf *out, const char *query)
{
	sign_param p[SIGN_MAX_PARAMS];
	size_t np = 0, i;
	int rc;

	if ((rc = parse_query(p, &np, query, 0)) != 0)
		return rc;
	/* Sorting by decoded name equals sorting by encoded name for the
	 * ASCII names S3 uses. */
	for (i = 0; i < np && rc == 0; i++) {
		if ((i > 0 && (rc = sv_buf_addc(out, '&')) != 0) ||
		    (rc = aws_escape(out, p[i].name)) != 0 ||
		    (rc = sv_buf_addc(out, '=')) != 0)
			break;
		rc = aws_escape(out, p[i].value);
	}
	params_free(p, np);
	return rc;
}

/* The canonical headers and the signed-headers list (appended to each). */
static int aws_headers(sv_buf *canon, sv_buf *names, const vault_sign_input *in)
{
	sign_hdr h[SIGN_MAX_HEADERS];
	size_t n = 0, i;
	int rc;

	if ((rc = sorted_headers(h, &n, in)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = sv_buf_printf(canon, "%s:", h[i].name)) != 0 ||
		    (rc = add_folded(canon, h[i].value, h[i].value_len)) != 0 ||
		    (rc = sv_buf_addc(canon, '\n')) != 0)
			break;
		rc = sv_buf_printf(names, "%s%s", i ? ";" : "", h[i].name);
	}
	return rc;
}

int vault__s3_canonical_request(sv_buf *out, const vault_sign_input *in,
				const char *payload_hash)
{
	sv_buf names;
	int rc;

	sv_buf_init(&names, 4096);
	if ((rc = sv_buf_printf(out, "%s\n%s\n", in->method, in->path)) == 0 &&
	    (rc = aws_query(out, in->query)) == 0 &&
	    (rc = sv_buf_addc(out, '\n')) == 0 &&
	    (rc = aws_headers(out, &names, in)) == 0)
		rc = sv_buf_printf(out, "\n%s\n%s", names.ptr ? names.ptr : "",
				   payload_hash);
	sv_buf_release(&names);
	return rc;
}

int vault__s3_string_to_sign(sv_buf *out, const char *amz_date,
			     const char *region, const vault_sign_input *in,
			     const char *payload_hash)
{
	sv_buf canon;
	char hex[65];
	int rc;

	if (strlen(amz_date) != 16)
		return sv_error_set(SV_EINVAL, "bad x-amz-date '%s'", amz_date);
	sv_buf_init(&canon, SV_BUF_DEFAULT_MAX);
	if ((rc = vault__s3_canonical_request(&canon, in, payload_hash)) == 0) {
		hex_sha256(hex, canon.ptr, canon.len);
		rc = sv_buf_printf(out,
				   "AWS4-HMAC-SHA256\n%s\n%.8s/%s/s3/"
				   "aws4_request\n%s",
				   amz_date, amz_date, region, hex);
	}
	sv_buf_release(&canon);
	return rc;
}

/* kSigning = HMAC chain from "AWS4" + secret over date, region, s3,
 * aws4_request. */
static int aws_signing_key(uint8_t key[32], const char *secret,
			   const char *date8, const char *region)
{
	const char *steps[] = {NULL, region, "s3", "aws4_request"};
	char date[9];
	sv_buf k0;
	size_t i;
	int rc;

	memcpy(date, date8, 8);
	date[8] = '\0';
	steps[0] = date;
	sv_buf_init(&k0, 1024);
	if ((rc = sv_buf_printf(&k0, "AWS4%s", secret)) == 0)
		rc = vault__hmac_sha256(key, k0.ptr, k0.len, date, 8);
	for (i = 1; i < 4 && rc == 0; i++)
		rc = vault__hmac_sha256(key, key, 32, steps[i],
					strlen(steps[i]));
	vault__wipe(k0.ptr, k0.len);
	sv_buf_release(&k0);
	return rc;
}

int vault__s3_authorization(sv_buf *out, const char *access_key,
			    const char *secret_key, const char *region,
			    const char *amz_date, const vault_sign_input *in,
			    const char *payload_hash)
{
	sv_buf sts, canon, names;
	uint8_t key[32], sig[32];
	char hex[65];
	int rc;

	sv_buf_init(&sts, SV_BUF_DEFAULT_MAX);
	sv_buf_init(&canon, SV_BUF_DEFAULT_MAX);
	sv_buf_init(&names, 4096);
	if ((rc = vault__s3_string_to_sign(&sts, amz_date, region, in,
					   payload_hash)) != 0 ||
	    (rc = aws_headers(&canon, &names, in)) != 0 ||
	    (rc = aws_signing_key(key, secret_key, amz_date, region)) != 0 ||
	    (rc = vault__hmac_sha256(sig, key, 32, sts.ptr, sts.len)) != 0)
		goto done;
	sv_hex_encode(hex, sig, 32);
	rc = sv_buf_printf(out,
			   "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/s3/"
			   "aws4_request, SignedHeaders=%s, Signature=%s",
			   access_key, amz_date, region, names.ptr, hex);
done:
	vault__wipe(key, sizeof(key));
	sv_buf_release(&sts);
	sv_buf_release(&canon);
	sv_buf_release(&names);
	return rc;
}

/* ---- CRC-64/NVME ---- */

#define CRC64_POLY 0x9A6C9329AC4BC9B5ull /* reflected */

uint64_t vault__crc64nvme(uint64_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC64_POLY & (0 - (crc & 1)));
	}
	return ~crc;
}

void vault__crc64_b64(char out[13], uint64_t crc)
{
	uint8_t le[8];
	sv_buf b;
	int i;

	for (i = 0; i < 8; i++)
		le[i] = (uint8_t)(crc >> (8 * i));
	sv_buf_init(&b, 64);
	out[0] = '\0';
	if (vault__b64_encode(&b, le, sizeof(le)) == 0)
		sv_strlcpy(out, b.ptr, 13);
	sv_buf_release(&b);
}

/* ---- dates ---- */

void vault__http_date(char *dst, size_t size, int64_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	sv_tm tm;

	sv_time_to_tm(&tm, t);
	sv_snprintf(dst, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		    days[tm.wday % 7], tm.day, months[(tm.month + 11) % 12],
		    tm.year, tm.hour, tm.min, tm.sec);
}

int vault__http_date_parse(int64_t *out, const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4] = "";
	const char *m;
	sv_tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) < 29 || s[3] != ',' ||
	    sscanf(s + 5, "%2d %3s %4d %2d:%2d:%2d GMT%n", &tm.day, mon, &tm.year,
		   &tm.hour, &tm.min, &tm.sec, &n) != 6 || n == 0 ||
	    !(m = strstr(months, mon)) || (m - months) % 3 != 0 || mon[0] == '\0')
		return sv_error_set(SV_EINVAL, "'%s' is not an HTTP date", s);
	tm.month = (int)((m - months) / 3) + 1;
	*out = sv_time_from_tm(&tm);
	return 0;
}
