/*
 * credentials.c - the vault credentials file: parsing (structure, forms,
 * expiry), its canonical bytes and the tag over them. The format is in
 * docs/operations.md ("Credentials and registration").
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_log.h"
#include "sv_time.h"

#define CRED_FORMAT "sysvault-credentials"
#define CRED_LABEL "sysvault-credentials-v1"
#define CRED_FIX "issue a new one with 'sysvault vault credentials'"

void sv_credentials_release(sv_credentials *c)
{
	if (!c)
		return;
	free(c->vault_name);
	free(c->url);
	free(c->endpoint);
	if (c->secret)
		memset(c->secret, 0, strlen(c->secret));
	free(c->secret);
	free(c->s3_region);
	free(c->tenant);
	memset(c, 0, sizeof(*c));
}

static int malformed(const char *fmt, ...) SV_PRINTF(1, 2);

static int malformed(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sv_error_set(SV_EINVAL, "malformed (%s): %s", why, CRED_FIX);
}

/* A string field: required ones must be non-empty; an optional one may be
 * missing, null or "" (all meaning none: *out stays NULL). */
static int cred_str(const json_t *o, const char *key, int required, char **out)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return malformed("field '%s' is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return malformed("field '%s' is not a string", key);
	s = json_string_value(v);
	if (!s[0] && required)
		return malformed("field '%s' is empty", key);
	if (s[0] && !(*out = sv_strdup(s)))
		return SV_ENOMEM;
	return 0;
}

static int cred_time(const json_t *o, const char *key, int64_t *out)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || sv_time_parse_utc(out, s) < 0)
		return malformed("field '%s' is not a UTC time like "
				 "2026-11-21T02:00:14Z",
				 key);
	return 0;
}

static int cred_hex(const json_t *o, const char *key, uint8_t *dst, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strlen(s) != 2 * n || sv_hex_decode(dst, n, s) < 0)
		return malformed("field '%s' is not %u hex digits", key,
				 (unsigned)(2 * n));
	return 0;
}

static int cred_header(const json_t *o)
{
	const char *fmt = json_string_value(json_object_get(o, "format"));
	json_t *ver = json_object_get(o, "version");

	if (!fmt || strcmp(fmt, CRED_FORMAT) != 0)
		return malformed("it is not a sysvault credentials file");
	if (!json_is_integer(ver))
		return malformed("field 'version' is missing");
	if (json_integer_value(ver) != 1)
		return sv_error_set(
			SV_ENOTSUPPORTED,
			"credentials format version %lld is newer than this "
			"sysvault understands (1): upgrade sysvault",
			(long long)json_integer_value(ver));
	return 0;
}

static int cred_region(const json_t *o, int *secondary)
{
	const char *r = json_string_value(json_object_get(o, "region"));

	if (r && !strcmp(r, "primary"))
		*secondary = 0;
	else if (r && !strcmp(r, "secondary"))
		*secondary = 1;
	else
		return malformed(
			"field 'region' is not \"primary\" or \"secondary\"");
	return 0;
}

static int cred_fields(sv_credentials *c, const json_t *o)
{
	uint8_t id[32];
	int rc;

	if ((rc = cred_header(o)) < 0 ||
	    (rc = cred_hex(o, "vault_id", id, sizeof(id))) < 0 ||
	    (rc = cred_str(o, "vault_name", 1, &c->vault_name)) < 0 ||
	    (rc = cred_str(o, "url", 1, &c->url)) < 0 ||
	    (rc = cred_str(o, "endpoint", 0, &c->endpoint)) < 0 ||
	    (rc = cred_str(o, "secret", 0, &c->secret)) < 0 ||
	    (rc = cred_str(o, "s3_region", 0, &c->s3_region)) < 0 ||
	    (rc = cred_str(o, "tenant", 0, &c->tenant)) < 0 ||
	    (rc = cred_region(o, &c->secondary)) < 0 ||
	    (rc = cred_time(o, "issued", &c->issued)) < 0 ||
	    (rc = cred_time(o, "expires", &c->expires)) < 0 ||
	    (rc = cred_hex(o, "tag", c->tag, sizeof(c->tag))) < 0)
		return rc;
	sv_hex_encode(c->vault_id, id, sizeof(id));
	if (!c->tenant && !(c->tenant = sv_strdup("")))
		return SV_ENOMEM;
	if (c->expires <= c->issued)
		return malformed("it expires before it was issued");
	return 0;
}

int sv_credentials_parse(sv_credentials *c, const char *text, size_t len,
			 int64_t now)
{
	json_t *o = NULL;
	char when[32];
	int rc;

	memset(c, 0, sizeof(*c));
	if (len > SV_CREDENTIALS_MAX)
		return malformed("larger than %u KiB",
				 SV_CREDENTIALS_MAX >> 10);
	rc = sv_json_parse(&o, text, len, "it");
	if (rc < 0) {
		rc = malformed("%s", sv_error_msg());
	} else if (!json_is_object(o)) {
		rc = malformed("it is not a JSON object");
	} else if ((rc = cred_fields(c, o)) == 0 && now >= c->expires) {
		sv_time_format_utc(when, sizeof(when), c->expires);
		rc = sv_error_set(SV_EAUTH, "expired on %s: %s", when,
				  CRED_FIX);
	}
	if (c->secret)
		sv_log_add_secret(c->secret);
	json_decref(o);
	if (rc < 0)
		sv_credentials_release(c);
	return rc;
}

int sv_credentials_load(sv_credentials *c, const char *file)
{
	char *text = NULL;
	size_t len = 0;
	int rc = sv_fs_read_all(&text, &len, file, SV_CREDENTIALS_MAX);

	memset(c, 0, sizeof(*c));
	if (rc == SV_ENOMEM)
		rc = malformed("larger than %u KiB", SV_CREDENTIALS_MAX >> 10);
	if (rc == 0)
		rc = sv_credentials_parse(c, text, len, sv_time_now());
	if (rc < 0)
		sv_error_prefix("credentials file '%s'", file);
	if (text)
		memset(text, 0, len);
	free(text);
	return rc;
}

static int add_field(sv_buf *out, const char *s)
{
	int rc = sv_buf_adds(out, s ? s : "");

	return rc < 0 ? rc : sv_buf_addc(out, '\0');
}

int sv_credentials_canonical(sv_buf *out, const sv_credentials *c)
{
	char issued[32], expires[32];
	int rc;

	sv_time_format_utc(issued, sizeof(issued), c->issued);
	sv_time_format_utc(expires, sizeof(expires), c->expires);
	if ((rc = add_field(out, CRED_LABEL)) < 0 ||
	    (rc = add_field(out, c->vault_id)) < 0 ||
	    (rc = add_field(out, c->vault_name)) < 0 ||
	    (rc = add_field(out, c->url)) < 0 ||
	    (rc = add_field(out, c->endpoint)) < 0 ||
	    (rc = add_field(out, c->secret)) < 0 ||
	    (rc = add_field(out, c->s3_region)) < 0 ||
	    (rc = add_field(out, c->tenant)) < 0 ||
	    (rc = add_field(out, c->secondary ? "secondary" : "primary")) < 0 ||
	    (rc = add_field(out, issued)) < 0 ||
	    (rc = add_field(out, expires)) < 0)
		return rc;
	return 0;
}

static int compute_tag(const sv_credentials *c, const vault *v, uint8_t tag[32])
{
	sv_buf b;
	int rc;

	sv_buf_init(&b, 2 * SV_CREDENTIALS_MAX);
	rc = sv_credentials_canonical(&b, c);
	if (rc == 0)
		rc = vault_auth_tag(v, "credentials", b.ptr, b.len, tag);
	if (b.ptr)
		memset(b.ptr, 0, b.len);
	sv_buf_release(&b);
	return rc;
}

int sv_credentials_sign(sv_credentials *c, const vault *v)
{
	return compute_tag(c, v, c->tag);
}

int sv_credentials_verify(const sv_credentials *c, const vault *v)
{
	uint8_t tag[32];
	unsigned diff = 0;
	size_t i;
	int rc;

	if (strcmp(c->vault_id, vault_id(v)) != 0)
		return sv_error_set(SV_EAUTH,
				    "it was issued for vault %.16s..., not for "
				    "vault %.16s... at '%s': %s",
				    c->vault_id, vault_id(v), vault_url(v),
				    CRED_FIX);
	if ((rc = compute_tag(c, v, tag)) < 0)
		return rc;
	for (i = 0; i < sizeof(tag); i++)
		diff |= (unsigned)(tag[i] ^ c->tag[i]);
	if (diff)
		return sv_error_set(SV_EAUTH,
				    "it was altered after it was issued (its "
				    "tag does not match its contents): %s",
				    CRED_FIX);
	return 0;
}

static json_t *opt_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *sv_credentials_json(const sv_credentials *c)
{
	char issued[32], expires[32], tag[65];

	sv_time_format_utc(issued, sizeof(issued), c->issued);
	sv_time_format_utc(expires, sizeof(expires), c->expires);
	sv_hex_encode(tag, c->tag, sizeof(c->tag));
	return json_pack(
		"{s:s,s:i,s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s,s:s,s:s}",
		"format", CRED_FORMAT, "version", 1, "vault_id", c->vault_id,
		"vault_name", c->vault_name, "url", c->url, "endpoint",
		opt_string(c->endpoint), "secret", opt_string(c->secret),
		"s3_region", opt_string(c->s3_region), "tenant",
		c->tenant ? c->tenant : "", "region",
		c->secondary ? "secondary" : "primary", "issued", issued,
		"expires", expires, "tag", tag);
}

void sv_credentials_access(vault_access *acc, const sv_credentials *c)
{
	memset(acc, 0, sizeof(*acc));
	acc->endpoint = c->endpoint;
	acc->secret = c->secret;
	acc->region = c->s3_region;
}
