/*
 * objects.c - sealed objects and the codecs of the plaintexts the vault
 * stores: pack headers, index objects and chunk-list segments. Byte layouts
 * are those of docs/vault-format.md. Every decoder treats its input as
 * hostile: each read is bounds-checked, each count is checked against the
 * bytes that remain before anything is allocated, and trailing bytes are an
 * error.
 */
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

#define OBJ_MAGIC "SVO1"
#define OBJ_AAD_LEN 37 /* magic, kind, salt: authenticated */
#define OBJ_MIN_LEN (OBJ_AAD_LEN + VAULT_TAG_LEN)
#define OBJ_ZSTD_LEVEL 3
#define OBJ_INFO "sysvault-object-v1"

#define ENTRY_LEN 45		/* id, offset, length, raw_length, flags */
#define BLOB_RAW_MAX (4u << 20) /* the chunker's largest chunk */
#define BLOB_FLAGS (VAULT_BLOB_ZSTD | VAULT_BLOB_LIST)

#define INDEX_MAGIC "SVI1"
#define INDEX_PACK_LEN 44 /* pack id, u64 size, u32 count */
/* The smallest possible header after the blob area: u32 count, tag, and
 * the u32 header length at the very end. */
#define PACK_TAIL_MIN (4 + VAULT_TAG_LEN + 4)

#define LIST_MAGIC "SVL1"
#define LIST_REF_LEN 36

/* ------------------------------------------------------------------ */
/* Little-endian fields and a bounds-checked reader                    */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

typedef struct reader {
	const uint8_t *p;
	size_t left;
} reader;

/* Returns a pointer to the next n bytes and consumes them, or NULL when
 * fewer than n remain. */
static const uint8_t *rd_take(reader *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->left < n)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

static int rd_u32(reader *r, uint32_t *v)
{
	const uint8_t *p = rd_take(r, 4);

	if (!p)
		return -1;
	*v = get_u32(p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Blob entries (pack headers and index objects)                       */

static void entry_put(uint8_t *p, const vault_blob_entry *e)
{
	memcpy(p, e->id, VAULT_ID_LEN);
	put_u32(p + 32, e->offset);
	put_u32(p + 36, e->length);
	put_u32(p + 40, e->raw_length);
	p[44] = e->flags;
}

static void entry_get(vault_blob_entry *e, const uint8_t *p)
{
	memcpy(e->id, p, VAULT_ID_LEN);
	e->offset = get_u32(p + 32);
	e->length = get_u32(p + 36);
	e->raw_length = get_u32(p + 40);
	e->flags = p[44];
}

/* What is wrong with one entry on its own, or NULL. A blob stored raw is the
 * chunk itself, so its stored length is exactly raw_length plus the tag. */
static const char *entry_problem(const vault_blob_entry *e)
{
	if (e->flags & ~BLOB_FLAGS)
		return "unknown flag bits";
	if (e->length < VAULT_TAG_LEN)
		return "stored length shorter than a tag";
	if (e->raw_length > BLOB_RAW_MAX)
		return "raw length over 4 MiB";
	if (!(e->flags & VAULT_BLOB_ZSTD) &&
	    (uint64_t)e->length != (uint64_t)e->raw_length + VAULT_TAG_LEN)
		return "uncompressed blob whose stored length is not its raw "
		       "length plus the tag";
	return NULL;
}

/* Reads count entries (the caller has checked that r holds them) into a
 * fresh array. Entries must be valid, in offset order, from
 * VAULT_PACK_HEAD_LEN on, and not overlap; with contiguous set, each must
 * start where the previous one ended. *end receives the end of the last. */
static int entries_read(vault_blob_entry **out, reader *r, uint32_t count,
			int contiguous, uint64_t *end, const char *what)
{
	vault_blob_entry *e = sv_calloc(count ? count : 1, sizeof(*e));
	uint64_t next = VAULT_PACK_HEAD_LEN;
	const char *bad = NULL;
	uint32_t i;

	if (!e)
		return SV_ENOMEM;
	for (i = 0; i < count && !bad; i++) {
		entry_get(&e[i], rd_take(r, ENTRY_LEN));
		bad = entry_problem(&e[i]);
		if (!bad &&
		    (contiguous ? e[i].offset != next : e[i].offset < next))
			bad = contiguous
				      ? "not contiguous with the previous blob"
				      : "out of order or overlapping";
		next = (uint64_t)e[i].offset + e[i].length;
	}
	if (bad) {
		free(e);
		return sv_error_set(SV_ECORRUPT, "%s: entry %u: %s", what,
				    i - 1, bad);
	}
	*out = e;
	*end = next;
	return 0;
}

/* Checks that r holds count records of rec bytes (exact: and nothing
 * more) before anything is allocated for them. */
static int count_fits(const reader *r, uint64_t count, size_t rec, int exact,
		      const char *what)
{
	uint64_t have = r->left / rec;

	if (count > have || (exact && (count != have || r->left % rec)))
		return sv_error_set(
			SV_ECORRUPT,
			"%s: %llu entries do not match the %zu bytes "
			"that remain",
			what, (unsigned long long)count, r->left);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pack header                                                         */

int vault__pack_header_encode(sv_buf *out, const vault_blob_entry *e,
			      uint32_t count)
{
	size_t n;
	uint8_t *p;
	uint32_t i;
	int rc;

	if (sv_mul_size(&n, count, ENTRY_LEN) < 0 || sv_add_size(&n, n, 4) < 0)
		return sv_error_set(SV_ENOMEM, "pack header: %u entries",
				    count);
	rc = sv_buf_reserve(out, n);
	if (rc < 0)
		return rc;
	p = (uint8_t *)out->ptr + out->len;
	put_u32(p, count);
	for (i = 0; i < count; i++)
		entry_put(p + 4 + (size_t)i * ENTRY_LEN, &e[i]);
	out->len += n;
	out->ptr[out->len] = '\0';
	return 0;
}

int vault__pack_header_decode(vault_blob_entry **out, uint32_t *count,
			      const void *plain, size_t n)
{
	reader r = {plain, n};
	uint64_t end;
	uint32_t c;
	int rc;

	*out = NULL;
	*count = 0;
	if (rd_u32(&r, &c) < 0)
		return sv_error_set(
			SV_ECORRUPT,
			"pack header: %zu bytes, too short for a count", n);
	rc = count_fits(&r, c, ENTRY_LEN, 1, "pack header");
	if (rc == 0)
		rc = entries_read(out, &r, c, 1, &end, "pack header");
	if (rc == 0)
		*count = c;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Index objects                                                       */

static int index_put_pack(sv_buf *out, const vault_index_pack *p)
{
	uint8_t head[INDEX_PACK_LEN], ent[ENTRY_LEN];
	const char *bad;
	uint32_t i;
	int rc;

	memcpy(head, p->pack_id, VAULT_ID_LEN);
	put_u64(head + 32, p->pack_size);
	put_u32(head + 40, p->count);
	rc = sv_buf_add(out, head, sizeof(head));
	for (i = 0; i < p->count && rc == 0; i++) {
		bad = entry_problem(&p->blobs[i]);
		if (bad)
			return sv_error_set(SV_EINVAL, "index: entry %u: %s", i,
					    bad);
		entry_put(ent, &p->blobs[i]);
		rc = sv_buf_add(out, ent, sizeof(ent));
	}
	return rc;
}

int vault__index_encode(sv_buf *out, const vault_index_pack *packs,
			uint32_t npacks)
{
	uint8_t head[8];
	size_t start = out->len;
	uint32_t i;
	int rc;

	memcpy(head, INDEX_MAGIC, 4);
	put_u32(head + 4, npacks);
	rc = sv_buf_add(out, head, sizeof(head));
	for (i = 0; i < npacks && rc == 0; i++)
		rc = index_put_pack(out, &packs[i]);
	if (rc < 0 && out->ptr) {
		out->len = start;
		out->ptr[start] = '\0';
	}
	return rc;
}

/* One pack of an index: its entries must lie in the blob area, before the
 * smallest possible header (so a pack is at least 60 bytes, even with no
 * entries). */
static int index_get_pack(vault_index_pack *p, reader *r, uint32_t i)
{
	const uint8_t *h = rd_take(r, INDEX_PACK_LEN);
	uint64_t end;
	int rc;

	if (!h)
		return sv_error_set(SV_ECORRUPT, "index: pack %u is truncated",
				    i);
	memcpy(p->pack_id, h, VAULT_ID_LEN);
	p->pack_size = get_u64(h + 32);
	p->count = get_u32(h + 40);
	rc = count_fits(r, p->count, ENTRY_LEN, 0, "index");
	if (rc == 0)
		rc = entries_read(&p->blobs, r, p->count, 0, &end, "index");
	if (rc < 0) {
		p->count = 0;
		return rc;
	}
	if (p->pack_size < VAULT_PACK_HEAD_LEN + PACK_TAIL_MIN ||
	    end > p->pack_size - PACK_TAIL_MIN)
		return sv_error_set(SV_ECORRUPT,
				    "index: pack %u: blobs end at %llu, past a "
				    "pack of %llu bytes",
				    i, (unsigned long long)end,
				    (unsigned long long)p->pack_size);
	return 0;
}

int vault__index_decode(vault_index_pack **out, uint32_t *npacks,
			const void *plain, size_t n)
{
	reader r = {plain, n};
	vault_index_pack *packs = NULL;
	const uint8_t *magic = rd_take(&r, 4);
	uint32_t np = 0, i;
	int rc;

	*out = NULL;
	*npacks = 0;
	if (!magic || memcmp(magic, INDEX_MAGIC, 4) != 0 || rd_u32(&r, &np) < 0)
		return sv_error_set(SV_ECORRUPT,
				    "index: bad magic or truncated");
	rc = count_fits(&r, np, INDEX_PACK_LEN, 0, "index");
	if (rc < 0)
		return rc;
	packs = sv_calloc(np ? np : 1, sizeof(*packs));
	if (!packs)
		return SV_ENOMEM;
	for (i = 0; i < np && rc == 0; i++)
		rc = index_get_pack(&packs[i], &r, i);
	if (rc == 0 && r.left)
		rc = sv_error_set(SV_ECORRUPT, "index: %zu trailing bytes",
				  r.left);
	if (rc < 0)
		goto done;
	*out = packs;
	*npacks = np;
	packs = NULL;
done:
	vault__index_free(packs, np);
	return rc;
}

void vault__index_free(vault_index_pack *packs, uint32_t npacks)
{
	uint32_t i;

	if (!packs)
		return;
	for (i = 0; i < npacks; i++)
		free(packs[i].blobs);
	free(packs);
}

/* ------------------------------------------------------------------ */
/* Chunk-list segments                                                 */

int vault__list_encode(sv_buf *out, const vault_chunk_ref *refs, uint32_t count)
{
	uint8_t *p;
	uint32_t i;
	int rc;

	if (count > VAULT_LIST_SEGMENT_MAX)
		return sv_error_set(
			SV_EINVAL,
			"chunk list: %u references, a segment holds "
			"at most %u",
			count, VAULT_LIST_SEGMENT_MAX);
	rc = sv_buf_reserve(out, 8 + (size_t)count * LIST_REF_LEN);
	if (rc < 0)
		return rc;
	p = (uint8_t *)out->ptr + out->len;
	memcpy(p, LIST_MAGIC, 4);
	put_u32(p + 4, count);
	for (i = 0, p += 8; i < count; i++, p += LIST_REF_LEN) {
		memcpy(p, refs[i].id, VAULT_ID_LEN);
		put_u32(p + 32, refs[i].raw_length);
	}
	out->len += 8 + (size_t)count * LIST_REF_LEN;
	out->ptr[out->len] = '\0';
	return 0;
}

int vault__list_decode(vault_chunk_ref **out, uint32_t *count,
		       const void *plain, size_t n)
{
	reader r = {plain, n};
	const uint8_t *magic = rd_take(&r, 4), *p;
	vault_chunk_ref *refs;
	uint32_t c = 0, i;
	int rc;

	*out = NULL;
	*count = 0;
	if (!magic || memcmp(magic, LIST_MAGIC, 4) != 0 || rd_u32(&r, &c) < 0)
		return sv_error_set(SV_ECORRUPT,
				    "chunk list: bad magic or truncated");
	if (c > VAULT_LIST_SEGMENT_MAX)
		return sv_error_set(SV_ECORRUPT,
				    "chunk list: %u references, over the limit "
				    "of %u",
				    c, VAULT_LIST_SEGMENT_MAX);
	rc = count_fits(&r, c, LIST_REF_LEN, 1, "chunk list");
	if (rc < 0)
		return rc;
	refs = sv_calloc(c ? c : 1, sizeof(*refs));
	if (!refs)
		return SV_ENOMEM;
	for (i = 0; i < c; i++) {
		p = rd_take(&r, LIST_REF_LEN);
		memcpy(refs[i].id, p, VAULT_ID_LEN);
		refs[i].raw_length = get_u32(p + 32);
	}
	*out = refs;
	*count = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sealed objects                                                      */

static int obj_kind_ok(int kind)
{
	return kind == VAULT_OBJ_INDEX || kind == VAULT_OBJ_POINT ||
	       kind == VAULT_OBJ_MACHINE || kind == VAULT_OBJ_LOCK;
}

static int obj_key(uint8_t key[VAULT_KEY_LEN], const vault_master *mk,
		   const uint8_t salt[VAULT_SALT_LEN], int kind)
{
	uint8_t info[sizeof(OBJ_INFO)];

	memcpy(info, OBJ_INFO, sizeof(OBJ_INFO) - 1);
	info[sizeof(OBJ_INFO) - 1] = (uint8_t)kind;
	return vault__hkdf(key, VAULT_KEY_LEN, mk->data_key, VAULT_KEY_LEN,
			   salt, VAULT_SALT_LEN, info, sizeof(info));
}

/* Encrypts the frame z into out after the 37 authenticated bytes aad. */
static int obj_append(sv_buf *out, const uint8_t aad[OBJ_AAD_LEN],
		      const uint8_t key[VAULT_KEY_LEN], const sv_buf *z)
{
	uint8_t nonce[VAULT_NONCE_LEN], *p;
	size_t total;
	int rc;

	if (sv_add_size(&total, z->len, OBJ_MIN_LEN) < 0)
		return sv_error_set(SV_ENOMEM, "sealed object too large");
	rc = sv_buf_reserve(out, total);
	if (rc < 0)
		return rc;
	p = (uint8_t *)out->ptr + out->len;
	memcpy(p, aad, OBJ_AAD_LEN);
	vault__nonce(nonce, 0);
	rc = vault__gcm_seal(p + OBJ_AAD_LEN, key, nonce, aad, OBJ_AAD_LEN,
			     z->ptr, z->len);
	if (rc < 0)
		return rc;
	out->len += total;
	out->ptr[out->len] = '\0';
	return 0;
}

int vault__object_seal(sv_buf *out, const vault_master *mk, int kind,
		       const void *plain, size_t n)
{
	uint8_t aad[OBJ_AAD_LEN], key[VAULT_KEY_LEN] = {0};
	size_t zmax;
	sv_buf z;
	int rc;

	sv_buf_init(&z, 0);
	if (!obj_kind_ok(kind)) {
		rc = sv_error_set(SV_EINVAL, "sealed object: unknown kind %d",
				  kind);
		goto done;
	}
	/* Room for zstd's worst case (n + n/256 + a little). */
	if (sv_add_size(&zmax, n, (n >> 7) + 4096) < 0) {
		rc = sv_error_set(SV_ENOMEM, "sealed object: %zu bytes", n);
		goto done;
	}
	sv_buf_init(&z, zmax);
	memcpy(aad, OBJ_MAGIC, 4);
	aad[4] = (uint8_t)kind;
	rc = vault__random(aad + 5, VAULT_SALT_LEN);
	if (rc == 0)
		rc = obj_key(key, mk, aad + 5, kind);
	if (rc == 0)
		rc = vault__compress_always(&z, plain, n, OBJ_ZSTD_LEVEL);
	if (rc == 0)
		rc = obj_append(out, aad, key, &z);
done:
	vault__wipe(key, sizeof(key));
	if (z.ptr)
		vault__wipe(z.ptr, z.len);
	sv_buf_release(&z);
	return rc;
}

/*
 * The decompressed size a zstd frame declares in its header (RFC 8878,
 * 3.1.1.1), so that the payload can be bounded before it is decompressed.
 * Objects are always written as single frames that declare their size; a
 * frame that does not is refused. vault__decompress() then checks that the
 * frame really holds that many bytes.
 */
static int frame_content_size(uint64_t *size, const uint8_t *f, size_t n)
{
	static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	static const uint8_t did_len[4] = {0, 1, 2, 4};
	static const uint8_t fcs_len[4] = {0, 2, 4, 8};
	size_t pos, len, i;
	uint8_t fhd;

	if (n < 5 || memcmp(f, magic, 4) != 0)
		return -1;
	fhd = f[4];
	len = fcs_len[fhd >> 6];
	if (len == 0 && (fhd & 0x20))
		len = 1; /* single segment: a 1-byte size */
	pos = 5 + ((fhd & 0x20) ? 0 : 1) + did_len[fhd & 3];
	if (len == 0 || (fhd & 0x08) || n < pos + len)
		return -1; /* no size, reserved bit, or truncated */
	*size = 0;
	for (i = 0; i < len; i++)
		*size |= (uint64_t)f[pos + i] << (8 * i);
	if (len == 2)
		*size += 256;
	return 0;
}

/* Decompresses the authenticated frame z (zn bytes) into out, at most max
 * bytes. */
static int obj_inflate(sv_buf *out, const uint8_t *z, size_t zn, size_t max,
		       const char *what)
{
	uint64_t size;
	int rc;

	if (frame_content_size(&size, z, zn) < 0)
		return sv_error_set(SV_ECORRUPT,
				    "%s: the payload is not a zstd frame that "
				    "declares its size",
				    what);
	if (size > max)
		return sv_error_set(
			SV_ECORRUPT,
			"%s: the payload of %llu bytes is larger than "
			"the limit of %zu bytes",
			what, (unsigned long long)size, max);
	rc = sv_buf_reserve(out, (size_t)size);
	if (rc < 0)
		return rc;
	rc = vault__decompress((uint8_t *)out->ptr + out->len, (size_t)size, z,
			       zn);
	if (rc < 0) {
		sv_error_prefix("%s", what);
		return rc;
	}
	out->len += (size_t)size;
	out->ptr[out->len] = '\0';
	return 0;
}

/* Checks the parts of a sealed object that can be checked before its tag. */
static int obj_check_head(const uint8_t *s, size_t n, int kind,
			  const char *what)
{
	if (n < OBJ_MIN_LEN)
		return sv_error_set(SV_ECORRUPT,
				    "%s: truncated: %zu bytes, a sealed object "
				    "has at least %d",
				    what, n, OBJ_MIN_LEN);
	if (memcmp(s, OBJ_MAGIC, 4) != 0)
		return sv_error_set(SV_ECORRUPT,
				    "%s: not a sealed object (bad magic)",
				    what);
	if (s[4] != kind && s[4] > 0x20 && s[4] < 0x7f)
		return sv_error_set(
			SV_ECORRUPT,
			"%s: a sealed object of kind '%c', expected "
			"'%c'",
			what, s[4], kind);
	if (s[4] != kind)
		return sv_error_set(SV_ECORRUPT,
				    "%s: a sealed object of kind 0x%02x, "
				    "expected '%c'",
				    what, s[4], kind);
	return 0;
}

int vault__object_open(sv_buf *out, const vault_master *mk, int kind,
		       const void *sealed, size_t n, size_t max,
		       const char *what)
{
	const uint8_t *s = sealed;
	uint8_t key[VAULT_KEY_LEN] = {0}, nonce[VAULT_NONCE_LEN], *z = NULL;
	size_t zn = 0;
	int rc;

	rc = obj_check_head(s, n, kind, what);
	if (rc == 0)
		rc = obj_key(key, mk, s + 5, kind);
	if (rc < 0)
		goto done;
	zn = n - OBJ_MIN_LEN;
	z = sv_malloc(zn);
	if (!z) {
		rc = SV_ENOMEM;
		goto done;
	}
	vault__nonce(nonce, 0);
	rc = vault__gcm_open(z, key, nonce, s, OBJ_AAD_LEN, s + OBJ_AAD_LEN,
			     n - OBJ_AAD_LEN);
	if (rc == SV_ECORRUPT)
		rc = sv_error_set(SV_ECORRUPT,
				  "%s: authentication failed: the object was "
				  "altered or belongs to another vault",
				  what);
	if (rc < 0)
		goto done;
	rc = obj_inflate(out, z, zn, max, what);
done:
	vault__wipe(key, sizeof(key));
	if (z)
		vault__wipe(z, zn);
	free(z);
	return rc;
}
