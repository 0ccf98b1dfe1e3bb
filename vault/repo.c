/*
 * repo.c - creating and opening a vault: config, key files, and the sealed
 * object helpers the rest of the module shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_fs.h"
#include "sv_json.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_platform.h"
#include "sv_time.h"
#include "vault_int.h"

#define CONFIG_MAX (64u << 10)
#define KEYFILE_MAX (16u << 10)
#define KEY_AAD "sysvault-key-v1"
/* scrypt N=2^15, r=8, p=4: the CPU cost of N=2^17, p=1 in a quarter of its
 * memory (32 MiB, not 128 MiB), so that opening a vault fits the agent's
 * 64 MiB budget; see docs/vault-format.md. */
#define SCRYPT_DEFAULT_N (1u << 15)
#define SCRYPT_DEFAULT_P 4

static const char chunker_label[] = "sysvault-chunker-v1";

int vault_passphrase_check(const char *p)
{
	size_t i, n = strlen(p);

	if (n < VAULT_PASSPHRASE_MIN)
		return sv_error_set(SV_EINVAL,
				    "the passphrase is too short: use at least %d characters",
				    VAULT_PASSPHRASE_MIN);
	if (n > VAULT_PASSPHRASE_MAX)
		return sv_error_set(SV_EINVAL,
				    "the passphrase is too long: use at most %d characters",
				    VAULT_PASSPHRASE_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 32 || c > 126)
			return sv_error_set(SV_EINVAL,
					    "the passphrase may contain only printable ASCII characters "
					    "(letters, digits, punctuation and spaces; no accents or control characters)");
	}
	return 0;
}

/* ---- config ---- */

static int config_build(sv_buf *out, const char *id, const vault_init_opts *o)
{
	json_t *c = json_object(), *ch = json_object(), *co = json_object();
	char now[32];
	char *s = NULL;
	int rc = 0;

	sv_time_format_utc(now, sizeof(now), sv_time_now());
	rc |= sv_json_set(c, "format", json_string("sysvault"));
	rc |= sv_json_set(c, "version", json_integer(1));
	rc |= sv_json_set(c, "id", json_string(id));
	rc |= sv_json_set(c, "created", json_string(now));
	rc |= sv_json_set(ch, "algorithm", json_string("fastcdc-keyed"));
	rc |= sv_json_set(ch, "min", json_integer(o->chunk_min));
	rc |= sv_json_set(ch, "avg", json_integer(o->chunk_avg));
	rc |= sv_json_set(ch, "max", json_integer(o->chunk_max));
	rc |= sv_json_set(c, "chunker", json_incref(ch));
	rc |= sv_json_set(co, "algorithm", json_string("zstd"));
	rc |= sv_json_set(co, "level", json_integer(o->zstd_level));
	rc |= sv_json_set(c, "compression", json_incref(co));
	rc |= sv_json_set(c, "encryption", json_string("aes-256-gcm"));
	rc |= sv_json_set(c, "pack_target", json_integer(VAULT_PACK_TARGET));
	if (rc == 0 && (s = sv_json_dump(c, 1)) != NULL)
		rc = sv_buf_adds(out, s);
	else
		rc = SV_ENOMEM;
	free(s);
	json_decref(ch);
	json_decref(co);
	json_decref(c);
	return rc;
}

static int config_chunker(struct vault *v, const json_t *cfg)
{
	json_t *ch;
	const char *alg;
	uint64_t mn, avg, mx;
	vault_chunker *probe = NULL;
	int rc;

	if ((rc = sv_json_obj(cfg, "chunker", &ch)) < 0 ||
	    (rc = sv_json_str(ch, "algorithm", &alg)) < 0 ||
	    (rc = sv_json_u64(ch, "min", &mn)) < 0 ||
	    (rc = sv_json_u64(ch, "avg", &avg)) < 0 ||
	    (rc = sv_json_u64(ch, "max", &mx)) < 0)
		return rc;
	if (strcmp(alg, "fastcdc-keyed") != 0)
		return sv_error_set(SV_EINVAL, "unknown chunker '%s'", alg);
	if (mx > UINT32_MAX)
		return sv_error_set(SV_EINVAL, "chunker maximum too large");
	v->chunk.min_size = (uint32_t)mn;
	v->chunk.avg_size = (uint32_t)avg;
	v->chunk.max_size = (uint32_t)mx;
	rc = vault__chunker_new(&probe, &v->chunk, v->chunker_seed);
	vault__chunker_free(probe);
	return rc;
}

int vault__config_parse(struct vault *v, const char *text, size_t len)
{
	json_t *cfg = NULL, *co;
	const char *fmt, *id;
	uint64_t ver, target;
	int64_t level;
	int rc;

	rc = sv_json_parse(&cfg, text, len, "the vault's config");
	if (rc < 0)
		goto done;
	if ((rc = sv_json_str(cfg, "format", &fmt)) < 0 ||
	    (rc = sv_json_u64(cfg, "version", &ver)) < 0 ||
	    (rc = sv_json_str(cfg, "id", &id)) < 0)
		goto done;
	if (strcmp(fmt, "sysvault") != 0 || strlen(id) != VAULT_HEX_ID_LEN) {
		rc = sv_error_set(SV_EINVAL, "not a sysvault vault");
		goto done;
	}
	if (ver != 1) {
		rc = sv_error_set(SV_ENOTSUPPORTED,
				  "vault format version %llu is newer than this sysvault understands (1): upgrade sysvault",
				  (unsigned long long)ver);
		goto done;
	}
	sv_strlcpy(v->id, id, sizeof(v->id));
	if ((rc = sv_json_obj(cfg, "compression", &co)) < 0 ||
	    (rc = sv_json_i64(co, "level", &level)) < 0 ||
	    (rc = sv_json_u64(cfg, "pack_target", &target)) < 0)
		goto done;
	/* zstd levels: 1..19, and the "fast" levels -1..-7. */
	if (level < -7 || level == 0 || level > 19 || target < (1u << 20) ||
	    target > (256u << 20)) {
		rc = sv_error_set(SV_EINVAL, "config has out-of-range compression level or pack size");
		goto done;
	}
	v->zstd_level = (int)level;
	v->pack_target = target;
done:
	if (rc < 0 && v->be)
		sv_error_prefix("vault '%s'", v->be->url);
	json_decref(cfg);
	return rc;
}

/* ---- key files ---- */

static void key_aad(uint8_t aad[sizeof(KEY_AAD) - 1 + VAULT_HEX_ID_LEN],
		    const char *vault_id)
{
	memcpy(aad, KEY_AAD, sizeof(KEY_AAD) - 1);
	memcpy(aad + sizeof(KEY_AAD) - 1, vault_id, VAULT_HEX_ID_LEN);
}

static int b64_field(json_t *o, const char *key, const void *data, size_t n)
{
	sv_buf b;
	int rc;

	sv_buf_init(&b, 4096);
	rc = vault__b64_encode(&b, data, n);
	if (rc == 0)
		rc = sv_json_set(o, key, json_string(b.ptr));
	sv_buf_release(&b);
	return rc;
}

/* Builds a key file sealing mk under passphrase for vault_id. */
static int keyfile_build(sv_buf *out, const vault_master *mk,
			 const char *vault_id, const char *pass, uint64_t n)
{
	/* Cheap test keys (SYSVAULT_SCRYPT_N) keep p = 1. */
	uint32_t p = n == SCRYPT_DEFAULT_N ? SCRYPT_DEFAULT_P : 1;
	uint8_t salt[VAULT_SALT_LEN], nonce[VAULT_NONCE_LEN], kek[VAULT_KEY_LEN];
	uint8_t sealed[VAULT_MASTER_LEN + VAULT_TAG_LEN];
	uint8_t aad[sizeof(KEY_AAD) - 1 + VAULT_HEX_ID_LEN];
	json_t *k = json_object();
	char now[32], host[256] = "";
	char *s = NULL;
	int rc;

	if ((rc = vault__random(salt, sizeof(salt))) < 0 ||
	    (rc = vault__random(nonce, sizeof(nonce))) < 0 ||
	    (rc = vault__scrypt(kek, sizeof(kek), pass, salt, sizeof(salt), n, 8, p)) < 0)
		goto done;
	key_aad(aad, vault_id);
	rc = vault__gcm_seal(sealed, kek, nonce, aad, sizeof(aad), mk, VAULT_MASTER_LEN);
	if (rc < 0)
		goto done;
	sv_time_format_utc(now, sizeof(now), sv_time_now());
	sv_machine_name(host, sizeof(host));
	rc |= sv_json_set(k, "version", json_integer(1));
	rc |= sv_json_set(k, "kdf", json_string("scrypt"));
	rc |= sv_json_set(k, "n", json_integer((json_int_t)n));
	rc |= sv_json_set(k, "r", json_integer(8));
	rc |= sv_json_set(k, "p", json_integer(p));
	rc |= b64_field(k, "salt", salt, sizeof(salt));
	rc |= b64_field(k, "nonce", nonce, sizeof(nonce));
	rc |= b64_field(k, "sealed", sealed, sizeof(sealed));
	rc |= sv_json_set(k, "created", json_string(now));
	rc |= sv_json_set(k, "host", json_string(host));
	if (rc == 0 && (s = sv_json_dump(k, 1)) != NULL)
		rc = sv_buf_adds(out, s);
	else if (rc == 0)
		rc = SV_ENOMEM;
done:
	vault__wipe(kek, sizeof(kek));
	free(s);
	json_decref(k);
	return rc < 0 ? rc : 0;
}

static int b64_exact(const json_t *k, const char *key, uint8_t *dst, size_t n)
{
	const char *text;
	sv_buf b;
	int rc;

	sv_buf_init(&b, 4096);
	rc = sv_json_str(k, key, &text);
	if (rc == 0)
		rc = vault__b64_decode(&b, text);
	if (rc == 0 && b.len != n)
		rc = sv_error_set(SV_EINVAL, "field '%s' has the wrong length", key);
	if (rc == 0)
		memcpy(dst, b.ptr, n);
	sv_buf_release(&b);
	return rc;
}

/* Opens one key file: 0 with mk filled, SV_EAUTH for a wrong passphrase,
 * SV_EINVAL for a malformed file. */
int vault__keyfile_open(vault_master *mk, const char *text, size_t len,
			const char *vault_id, const char *pass)
{
	uint8_t salt[VAULT_SALT_LEN], nonce[VAULT_NONCE_LEN], kek[VAULT_KEY_LEN];
	uint8_t sealed[VAULT_MASTER_LEN + VAULT_TAG_LEN];
	uint8_t aad[sizeof(KEY_AAD) - 1 + VAULT_HEX_ID_LEN];
	json_t *k = NULL;
	uint64_t n, r, p;
	const char *kdf;
	int rc;

	rc = sv_json_parse(&k, text, len, "key file");
	if (rc < 0)
		return rc;
	if ((rc = sv_json_str(k, "kdf", &kdf)) < 0 ||
	    (rc = sv_json_u64(k, "n", &n)) < 0 || (rc = sv_json_u64(k, "r", &r)) < 0 ||
	    (rc = sv_json_u64(k, "p", &p)) < 0 ||
	    (rc = b64_exact(k, "salt", salt, sizeof(salt))) < 0 ||
	    (rc = b64_exact(k, "nonce", nonce, sizeof(nonce))) < 0 ||
	    (rc = b64_exact(k, "sealed", sealed, sizeof(sealed))) < 0)
		goto done;
	if (strcmp(kdf, "scrypt") != 0 || n < (1u << 10) || n > (1u << 20) ||
	    (n & (n - 1)) != 0 || r < 1 || r > 32 || p < 1 || p > 16) {
		rc = sv_error_set(SV_EINVAL, "key file has unsupported KDF parameters");
		goto done;
	}
	rc = vault__scrypt(kek, sizeof(kek), pass, salt, sizeof(salt), n,
			   (uint32_t)r, (uint32_t)p);
	if (rc < 0)
		goto done;
	key_aad(aad, vault_id);
	rc = vault__gcm_open((uint8_t *)mk, kek, nonce, aad, sizeof(aad), sealed,
			     sizeof(sealed));
	if (rc == SV_ECORRUPT)
		rc = sv_error_set(SV_EAUTH, "wrong passphrase for this vault");
done:
	vault__wipe(kek, sizeof(kek));
	json_decref(k);
	return rc;
}

typedef struct key_search {
	struct vault *v;
	const char *pass;
	int opened;
	int tried;
	int malformed;
} key_search;

static int try_key(void *ud, const char *name, uint64_t size)
{
	key_search *ks = ud;
	sv_buf text;
	int rc;

	if (ks->opened || size > KEYFILE_MAX)
		return 0;
	sv_buf_init(&text, KEYFILE_MAX);
	rc = ks->v->be->ops->get(ks->v->be, name, 0, UINT64_MAX, &text);
	if (rc == 0) {
		ks->tried++;
		rc = vault__keyfile_open(&ks->v->mk, text.ptr, text.len, ks->v->id, ks->pass);
		if (rc == 0)
			ks->opened = 1;
		else if (rc == SV_EINVAL)
			ks->malformed++;
		if (rc != 0)
			sv_log_info("key '%s' did not open: %s", name, sv_error_msg());
		rc = (rc == SV_EAUTH || rc == SV_EINVAL) ? 0 : rc;
	}
	sv_buf_release(&text);
	return rc;
}

static int open_master(struct vault *v, const char *pass)
{
	key_search ks = { v, pass, 0, 0, 0 };
	int rc = v->be->ops->list(v->be, "keys/", try_key, &ks);

	if (rc < 0)
		return rc;
	if (ks.opened)
		return 0;
	if (ks.tried == 0)
		return sv_error_set(SV_ECORRUPT, "vault '%s' has no key files: it cannot be opened",
				    v->be->url);
	if (ks.malformed == ks.tried)
		return sv_error_set(SV_ECORRUPT, "vault '%s': every key file is malformed",
				    v->be->url);
	return sv_error_set(SV_EAUTH, "wrong passphrase for this vault ('%s')",
			    v->be->url);
}

/* ---- init and open ---- */

static void fill_defaults(vault_init_opts *o, const vault_init_opts *in)
{
	memset(o, 0, sizeof(*o));
	if (in)
		*o = *in;
	/* 32 KiB chunks and zstd level 1: measured in docs/performance.md
	 * ("Choosing the defaults"). */
	if (!o->chunk_avg) {
		o->chunk_min = 8u << 10;
		o->chunk_avg = 32u << 10;
		o->chunk_max = 128u << 10;
	}
	if (!o->zstd_level)
		o->zstd_level = 1;
	if (!o->scrypt_n)
		o->scrypt_n = SCRYPT_DEFAULT_N;
}

static int write_key(vault_backend *be, const vault_master *mk,
		     const char *id, const char *pass, uint64_t n)
{
	uint8_t kid[16];
	char hex[33], name[VAULT_NAME_MAX];
	sv_buf kf;
	int rc;

	sv_buf_init(&kf, KEYFILE_MAX);
	rc = vault__random(kid, sizeof(kid));
	if (rc == 0)
		rc = keyfile_build(&kf, mk, id, pass, n);
	if (rc == 0) {
		sv_hex_encode(hex, kid, sizeof(kid));
		snprintf(name, sizeof(name), "keys/%s", hex);
		rc = be->ops->put(be, name, kf.ptr, kf.len);
	}
	sv_buf_release(&kf);
	return rc;
}

int vault_init(const char *url, const vault_access *acc, const char *pass,
	       const vault_init_opts *in, char id_out[65])
{
	vault_init_opts o;
	vault_backend *be = NULL;
	vault_master mk;
	uint8_t rid[VAULT_ID_LEN];
	char id[VAULT_HEX_ID_LEN + 1];
	uint64_t size;
	sv_buf cfg;
	int rc;

	fill_defaults(&o, in);
	sv_buf_init(&cfg, CONFIG_MAX);
	if ((rc = vault_passphrase_check(pass)) < 0 ||
	    (rc = vault__backend_open(&be, url, acc, 1)) < 0)
		goto done;
	rc = be->ops->stat(be, "config", &size);
	if (rc == 0) {
		rc = sv_error_set(SV_EEXISTS,
				  "a vault already exists at '%s': nothing was changed",
				  url);
		goto done;
	}
	if (rc != SV_ENOTFOUND)
		goto done;
	if ((rc = vault__random(&mk, sizeof(mk))) < 0 ||
	    (rc = vault__random(rid, sizeof(rid))) < 0)
		goto done;
	sv_hex_encode(id, rid, sizeof(rid));
	/* The key first, the config last: a vault exists once config does. */
	if ((rc = write_key(be, &mk, id, pass, o.scrypt_n)) < 0 ||
	    (rc = config_build(&cfg, id, &o)) < 0 ||
	    (rc = be->ops->put(be, "config", cfg.ptr, cfg.len)) < 0)
		goto done;
	if (id_out)
		memcpy(id_out, id, sizeof(id));
done:
	vault__wipe(&mk, sizeof(mk));
	sv_buf_release(&cfg);
	vault__backend_close(be);
	return rc;
}

static int remove_cache_files(const char *path)
{
	static const char *suffix[] = { "", "-wal", "-shm" };
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < 3; i++) {
		char *p = sv_aprintf("%s%s", path, suffix[i]);

		if (!p)
			return SV_ENOMEM;
		rc = sv_fs_remove(p);
		if (rc == SV_ENOTFOUND)
			rc = 0;
		free(p);
	}
	return rc;
}

static int open_cache(struct vault *v, const char *cache_dir)
{
	char *name = sv_aprintf("%s.db", v->id);
	int rc;

	v->cache_path = name ? sv_path_join(cache_dir, name) : NULL;
	free(name);
	if (!v->cache_path)
		return SV_ENOMEM;
	rc = sv_fs_mkdir_p(cache_dir, 1);
	if (rc == 0)
		rc = vault__cache_open(&v->cache, v->cache_path, v->id);
	if (rc == SV_ECORRUPT) {
		/* The cache holds nothing the vault does not: start it anew. */
		sv_log_warn("%s; rebuilding it from the vault", sv_error_msg());
		vault__cache_close(v->cache);
		v->cache = NULL;
		if ((rc = remove_cache_files(v->cache_path)) == 0)
			rc = vault__cache_open(&v->cache, v->cache_path, v->id);
	}
	return rc;
}

static void derive_seed(struct vault *v)
{
	vault__chunk_id(v->chunker_seed, v->mk.id_key, chunker_label,
			sizeof(chunker_label) - 1);
}

/* Opens with the passphrase (key NULL) or with the master key itself. */
static int open_vault(vault **out, const char *url, const vault_access *acc,
		      const char *pass, const uint8_t *key, const char *cache_dir)
{
	struct vault *v = sv_calloc(1, sizeof(*v));
	json_t *cfgj = NULL;
	sv_buf cfg;
	int rc;

	*out = NULL;
	sv_buf_init(&cfg, CONFIG_MAX);
	if (!v)
		return SV_ENOMEM;
	if ((rc = vault__backend_open(&v->be, url, acc, 0)) < 0)
		goto done;
	rc = v->be->ops->get(v->be, "config", 0, UINT64_MAX, &cfg);
	if (rc == SV_ENOTFOUND)
		rc = sv_error_set(SV_ENOTFOUND,
				  "no vault at '%s' (create one with 'sysvault vault init')",
				  url);
	/* config first (the key files are bound to its id), then the master
	 * key, then the chunker (its table is derived from the key). */
	if (rc < 0 || (rc = vault__config_parse(v, cfg.ptr, cfg.len)) < 0 ||
	    (rc = key ? 0 : open_master(v, pass)) < 0)
		goto done;
	if (key)
		memcpy(&v->mk, key, VAULT_MASTER_LEN);
	derive_seed(v);
	if ((rc = sv_json_parse(&cfgj, cfg.ptr, cfg.len, "config")) < 0 ||
	    (rc = config_chunker(v, cfgj)) < 0 ||
	    (rc = open_cache(v, cache_dir)) < 0 ||
	    (rc = vault_sync(v, 0, NULL)) < 0)
		goto done;
	*out = v;
	v = NULL;
done:
	json_decref(cfgj);
	sv_buf_release(&cfg);
	vault_close(v);
	return rc;
}

int vault_open(vault **out, const char *url, const vault_access *acc,
	       const char *pass, const char *cache_dir)
{
	return open_vault(out, url, acc, pass, NULL, cache_dir);
}

int vault_open_key(vault **out, const char *url, const vault_access *acc,
		   const uint8_t key[VAULT_MASTER_KEY_LEN], const char *cache_dir)
{
	return open_vault(out, url, acc, NULL, key, cache_dir);
}

void vault_key_export(const vault *v, uint8_t key[VAULT_MASTER_KEY_LEN])
{
	memcpy(key, &v->mk, VAULT_MASTER_LEN);
}

void vault_close(vault *v)
{
	if (!v)
		return;
	vault__cache_close(v->cache);
	vault__backend_close(v->be);
	vault__wipe(&v->mk, sizeof(v->mk));
	free(v->cache_path);
	free(v);
}

int vault_ping(vault *v, int64_t *server_time)
{
	uint64_t size;

	*server_time = 0;
	if (v->be->ops->server_time)
		return v->be->ops->server_time(v->be, server_time);
	return v->be->ops->stat(v->be, "config", &size);
}

const char *vault_id(const vault *v)
{
	return v->id;
}

const char *vault_url(const vault *v)
{
	return v->be->url;
}

/* ---- sealed objects ---- */

int vault__load_object(struct vault *v, sv_buf *plain, const char *dir,
		       int kind, const uint8_t id[VAULT_ID_LEN], size_t max)
{
	char name[VAULT_NAME_MAX];
	uint8_t sum[32];
	sv_buf raw;
	int rc;

	vault__name_object(name, dir, id);
	sv_buf_init(&raw, max + 1024);
	rc = v->be->ops->get(v->be, name, 0, UINT64_MAX, &raw);
	if (rc < 0)
		goto done;
	vault__sha256(sum, raw.ptr, raw.len);
	if (memcmp(sum, id, sizeof(sum)) != 0) {
		rc = sv_error_set(SV_ECORRUPT,
				  "%s is damaged: its contents do not match its name", name);
		goto done;
	}
	rc = vault__object_open(plain, &v->mk, kind, raw.ptr, raw.len, max, name);
done:
	sv_buf_release(&raw);
	return rc;
}

int vault__store_object(struct vault *v, const char *dir, int kind,
			const void *plain, size_t n,
			uint8_t id_out[VAULT_ID_LEN])
{
	char name[VAULT_NAME_MAX];
	sv_buf sealed;
	int rc;

	sv_buf_init(&sealed, SIZE_MAX / 2);
	rc = vault__object_seal(&sealed, &v->mk, kind, plain, n);
	if (rc == 0) {
		vault__sha256(id_out, sealed.ptr, sealed.len);
		vault__name_object(name, dir, id_out);
		rc = v->be->ops->put(v->be, name, sealed.ptr, sealed.len);
	}
	sv_buf_release(&sealed);
	return rc;
}

static int pack_head(struct vault *v, const char *name,
		     const uint8_t pack_id[VAULT_ID_LEN], vault_head_cache *hc,
		     uint8_t head[VAULT_PACK_HEAD_LEN])
{
	sv_buf b;
	int rc;

	if (hc && hc->valid && !memcmp(hc->pack_id, pack_id, VAULT_ID_LEN)) {
		memcpy(head, hc->head, VAULT_PACK_HEAD_LEN);
		return 0;
	}
	sv_buf_init(&b, VAULT_PACK_HEAD_LEN);
	rc = v->be->ops->get(v->be, name, 0, VAULT_PACK_HEAD_LEN, &b);
	if (rc == 0) {
		memcpy(head, b.ptr, VAULT_PACK_HEAD_LEN);
		if (hc) {
			memcpy(hc->pack_id, pack_id, VAULT_ID_LEN);
			memcpy(hc->head, head, VAULT_PACK_HEAD_LEN);
			hc->valid = 1;
		}
	}
	sv_buf_release(&b);
	return rc;
}

int vault__read_blob(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		     const vault_blob_loc *loc, uint8_t *out,
		     vault_head_cache *hc)
{
	char name[VAULT_NAME_MAX];
	uint8_t head[VAULT_PACK_HEAD_LEN];
	vault_blob_entry e;
	sv_buf blob;
	int rc;

	vault__name_pack(name, loc->pack_id);
	sv_buf_init(&blob, (size_t)loc->length);
	memcpy(e.id, id, VAULT_ID_LEN);
	e.offset = loc->offset;
	e.length = loc->length;
	e.raw_length = loc->raw_length;
	e.flags = loc->flags;
	rc = pack_head(v, name, loc->pack_id, hc, head);
	if (rc == 0)
		rc = v->be->ops->get(v->be, name, loc->offset, loc->length, &blob);
	if (rc == 0)
		rc = vault__pack_open_blob(out, &v->mk, head, &e,
					   (const uint8_t *)blob.ptr);
	if (rc < 0 && rc != SV_ENOMEM)
		sv_error_prefix("pack %s", name);
	sv_buf_release(&blob);
	return rc;
}

int vault__read_list(struct vault *v, const uint8_t id[VAULT_ID_LEN],
		     const vault_blob_loc *loc, vault_chunk_ref **refs,
		     uint32_t *count)
{
	uint8_t *plain = sv_malloc(loc->raw_length ? loc->raw_length : 1);
	int rc = plain ? vault__read_blob(v, id, loc, plain, NULL) : SV_ENOMEM;

	*refs = NULL;
	*count = 0;
	if (rc == 0)
		rc = vault__list_decode(refs, count, plain, loc->raw_length);
	free(plain);
	return rc;
}

/* ---- passphrase reset, machine records, authentication tags ---- */

typedef struct key_names {
	char (*names)[VAULT_NAME_MAX];
	size_t count;
	size_t cap;
} key_names;

static int collect_key(void *ud, const char *name, uint64_t size)
{
	key_names *k = ud;
	void *grown;

	(void)size;
	if (k->count == k->cap) {
		if (k->cap >= 4096)
			return sv_error_set(SV_ENOMEM, "too many key files in the vault");
		grown = sv_realloc(k->names, (k->cap ? k->cap * 2 : 8) * sizeof(*k->names));
		if (!grown)
			return SV_ENOMEM;
		k->names = grown;
		k->cap = k->cap ? k->cap * 2 : 8;
	}
	sv_strlcpy(k->names[k->count++], name, VAULT_NAME_MAX);
	return 0;
}

int vault_passphrase_reset(vault *v, const char *new_pass, uint64_t scrypt_n)
{
	key_names old = { NULL, 0, 0 };
	size_t i;
	int rc;

	if ((rc = vault_passphrase_check(new_pass)) < 0)
		return rc;
	/* The names first: the key written next must not be among those
	 * removed. The new key is durable before any old one goes, so a crash
	 * in between leaves both passphrases working. */
	rc = v->be->ops->list(v->be, "keys/", collect_key, &old);
	if (rc == 0)
		rc = write_key(v->be, &v->mk, v->id, new_pass,
			       scrypt_n ? scrypt_n : SCRYPT_DEFAULT_N);
	for (i = 0; rc == 0 && i < old.count; i++)
		rc = v->be->ops->del(v->be, old.names[i]);
	if (rc < 0 && i > 0)
		sv_error_prefix("the new key file was written but an old one remains");
	free(old.names);
	return rc;
}

int vault_machine_store(vault *v, const json_t *record, char id_out[65])
{
	uint8_t id[VAULT_ID_LEN];
	char *text = sv_json_dump(record, 0);
	int rc;

	if (!text)
		return SV_ENOMEM;
	rc = vault__store_object(v, "machines", VAULT_OBJ_MACHINE, text, strlen(text), id);
	if (rc == 0)
		sv_hex_encode(id_out, id, sizeof(id));
	free(text);
	return rc;
}

int vault_auth_tag(const vault *v, const char *purpose, const void *data,
		   size_t n, uint8_t tag[32])
{
	static const char label[] = "sysvault-tag-v1:";
	uint8_t key[VAULT_KEY_LEN], info[128];
	size_t plen = strlen(purpose);
	int rc;

	if (plen > sizeof(info) - (sizeof(label) - 1))
		return sv_error_set(SV_EINVAL, "tag purpose too long");
	memcpy(info, label, sizeof(label) - 1);
	memcpy(info + sizeof(label) - 1, purpose, plen);
	/* The whole master key: a tag then also vouches for the data key. */
	rc = vault__hkdf(key, sizeof(key), (const uint8_t *)&v->mk, VAULT_MASTER_LEN,
			 NULL, 0, info, sizeof(label) - 1 + plen);
	if (rc == 0)
		rc = vault__hmac_sha256(tag, key, sizeof(key), data, n);
	vault__wipe(key, sizeof(key));
	return rc;
}
