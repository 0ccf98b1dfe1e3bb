/*
 * pack.c - building packs in memory and reading them back (layout in
 * docs/vault-format.md): "SVP1", a 32-byte salt, the sealed blobs, the
 * sealed header listing them, the header's length. Each pack has its own
 * key (HKDF of the data key and the pack's random salt) and every nonce is
 * the offset of what it seals, so no nonce repeats under one key.
 */
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

#define PACK_MAGIC "SVP1"
#define PACK_INFO "sysvault-pack-v1"
#define HEADER_AAD "SVP1-header"
#define BLOB_RAW_MAX (4u << 20) /* the chunker's largest chunk */
#define BLOB_FLAGS (VAULT_BLOB_ZSTD | VAULT_BLOB_LIST)
/* u32 count and the tag: the smallest sealed header. */
#define HEADER_MIN (4 + VAULT_TAG_LEN)
/* A pack closes once it passes VAULT_PACK_TARGET; one this large means the
 * caller never closed it. Offsets are u32, so this also keeps them valid. */
#define PACK_MAX ((size_t)1 << 30)

struct vault_pack_builder {
	uint8_t key[VAULT_KEY_LEN]; /* the pack key; wiped on free */
	sv_buf bytes;		    /* the pack as it grows */
	vault_blob_entry *entries;
	uint32_t count;
	uint32_t cap;
	/* Open-addressing set over entries: slot = entry index + 1, 0 free. */
	uint32_t *slots;
	uint32_t nslots; /* a power of two, or 0 */
	int finished;
	uint8_t id[VAULT_ID_LEN];
};

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int pack_key(uint8_t key[VAULT_KEY_LEN], const vault_master *mk,
		    const uint8_t head[VAULT_PACK_HEAD_LEN])
{
	return vault__hkdf(key, VAULT_KEY_LEN, mk->data_key, VAULT_KEY_LEN,
			   head + 4, VAULT_SALT_LEN, PACK_INFO,
			   sizeof(PACK_INFO) - 1);
}

/* ------------------------------------------------------------------ */
/* The id set: chunk ids are HMAC outputs, so their first bytes are     */
/* already uniformly spread and serve as the hash.                      */

static uint32_t set_home(const uint8_t id[VAULT_ID_LEN], uint32_t nslots)
{
	return get_u32(id) & (nslots - 1);
}

static uint32_t set_find(const vault_pack_builder *pb,
			 const uint8_t id[VAULT_ID_LEN])
{
	uint32_t i, s;

	if (!pb->nslots)
		return 0;
	for (i = set_home(id, pb->nslots);; i = (i + 1) & (pb->nslots - 1)) {
		s = pb->slots[i];
		if (!s || memcmp(pb->entries[s - 1].id, id, VAULT_ID_LEN) == 0)
			return s;
	}
}

static void set_put(uint32_t *slots, uint32_t nslots,
		    const uint8_t id[VAULT_ID_LEN], uint32_t slot)
{
	uint32_t i = set_home(id, nslots);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = slot;
}

/* Keeps the set at most half full. */
static int set_grow(vault_pack_builder *pb)
{
	uint32_t n = pb->nslots ? pb->nslots * 2 : 256, i, *slots;

	if ((uint64_t)pb->count * 2 < pb->nslots)
		return 0;
	if (pb->nslots > UINT32_MAX / 4)
		return sv_error_set(SV_ENOMEM, "pack: too many blobs");
	slots = sv_calloc(n, sizeof(*slots));
	if (!slots)
		return SV_ENOMEM;
	for (i = 0; i < pb->count; i++)
		set_put(slots, n, pb->entries[i].id, i + 1);
	free(pb->slots);
	pb->slots = slots;
	pb->nslots = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building                                                            */

int vault__pack_new(vault_pack_builder **out, const vault_master *mk)
{
	vault_pack_builder *pb = sv_calloc(1, sizeof(*pb));
	uint8_t head[VAULT_PACK_HEAD_LEN];
	int rc;

	*out = NULL;
	if (!pb)
		return SV_ENOMEM;
	sv_buf_init(&pb->bytes, PACK_MAX);
	memcpy(head, PACK_MAGIC, 4);
	rc = vault__random(head + 4, VAULT_SALT_LEN);
	if (rc == 0)
		rc = pack_key(pb->key, mk, head);
	if (rc == 0)
		rc = sv_buf_add(&pb->bytes, head, sizeof(head));
	if (rc < 0) {
		vault__pack_free(pb);
		return rc;
	}
	*out = pb;
	return 0;
}

void vault__pack_free(vault_pack_builder *pb)
{
	if (!pb)
		return;
	vault__wipe(pb->key, sizeof(pb->key));
	sv_buf_release(&pb->bytes);
	free(pb->entries);
	free(pb->slots);
	free(pb);
}

static int add_check(const vault_pack_builder *pb, size_t n,
		     uint32_t raw_length, uint8_t flags)
{
	if (pb->finished)
		return sv_error_set(SV_EINVAL, "pack: add after finish");
	if ((flags & ~BLOB_FLAGS) || raw_length > BLOB_RAW_MAX ||
	    (!(flags & VAULT_BLOB_ZSTD) && n != raw_length))
		return sv_error_set(SV_EINVAL,
				    "pack: bad blob (%zu bytes stored, %u raw, "
				    "flags 0x%02x)",
				    n, raw_length, flags);
	if (n > PACK_MAX - VAULT_TAG_LEN ||
	    pb->bytes.len > PACK_MAX - VAULT_TAG_LEN - n)
		return sv_error_set(SV_ENOMEM,
				    "pack: over %zu bytes (never closed?)",
				    PACK_MAX);
	return 0;
}

static int entries_grow(vault_pack_builder *pb)
{
	vault_blob_entry *e;
	uint32_t cap;

	if (pb->count < pb->cap)
		return 0;
	cap = pb->cap ? pb->cap * 2 : 64;
	e = sv_realloc(pb->entries, (size_t)cap * sizeof(*e));
	if (!e)
		return SV_ENOMEM;
	pb->entries = e;
	pb->cap = cap;
	return 0;
}

int vault__pack_add(vault_pack_builder *pb, const uint8_t id[VAULT_ID_LEN],
		    const void *stored, size_t n, uint32_t raw_length,
		    uint8_t flags)
{
	uint8_t nonce[VAULT_NONCE_LEN];
	size_t off = pb->bytes.len, len = n + VAULT_TAG_LEN;
	vault_blob_entry *e;
	int rc;

	rc = add_check(pb, n, raw_length, flags);
	if (rc == 0)
		rc = entries_grow(pb);
	if (rc == 0)
		rc = set_grow(pb);
	if (rc == 0)
		rc = sv_buf_reserve(&pb->bytes, len);
	if (rc < 0)
		return rc;
	vault__nonce(nonce, off);
	rc = vault__gcm_seal((uint8_t *)pb->bytes.ptr + off, pb->key, nonce, id,
			     VAULT_ID_LEN, stored, n);
	if (rc < 0)
		return rc;
	pb->bytes.len += len;
	pb->bytes.ptr[pb->bytes.len] = '\0';
	e = &pb->entries[pb->count];
	memset(e, 0, sizeof(*e)); /* padding too: entries get compared */
	memcpy(e->id, id, VAULT_ID_LEN);
	e->offset = (uint32_t)off;
	e->length = (uint32_t)len;
	e->raw_length = raw_length;
	e->flags = flags;
	if (!set_find(pb, id))
		set_put(pb->slots, pb->nslots, id, pb->count + 1);
	pb->count++;
	return 0;
}

size_t vault__pack_size(const vault_pack_builder *pb)
{
	return pb->bytes.len;
}

uint32_t vault__pack_count(const vault_pack_builder *pb)
{
	return pb->count;
}

int vault__pack_contains(const vault_pack_builder *pb,
			 const uint8_t id[VAULT_ID_LEN])
{
	return set_find(pb, id) != 0;
}

/* Seals the header plaintext h at the end of the pack, then its length. */
static int seal_header(vault_pack_builder *pb, const sv_buf *h)
{
	uint8_t nonce[VAULT_NONCE_LEN], *p;
	size_t off = pb->bytes.len, len = h->len + VAULT_TAG_LEN;
	int rc;

	if (len > UINT32_MAX || off > PACK_MAX)
		return sv_error_set(SV_ENOMEM, "pack: header too large");
	rc = sv_buf_reserve(&pb->bytes, len + 4);
	if (rc < 0)
		return rc;
	p = (uint8_t *)pb->bytes.ptr + off;
	vault__nonce(nonce, off);
	rc = vault__gcm_seal(p, pb->key, nonce, HEADER_AAD,
			     sizeof(HEADER_AAD) - 1, h->ptr, h->len);
	if (rc < 0)
		return rc;
	put_u32(p + len, (uint32_t)len);
	pb->bytes.len += len + 4;
	pb->bytes.ptr[pb->bytes.len] = '\0';
	return 0;
}

int vault__pack_finish(vault_pack_builder *pb, uint8_t id_out[VAULT_ID_LEN],
		       const uint8_t **bytes, size_t *len,
		       const vault_blob_entry **entries, uint32_t *count)
{
	sv_buf h;
	int rc = 0;

	sv_buf_init(&h, PACK_MAX);
	if (!pb->finished) {
		rc = vault__pack_header_encode(&h, pb->entries, pb->count);
		if (rc == 0)
			rc = seal_header(pb, &h);
		if (rc < 0)
			goto done;
		vault__sha256(pb->id, pb->bytes.ptr, pb->bytes.len);
		pb->finished = 1;
	}
	memcpy(id_out, pb->id, VAULT_ID_LEN);
	*bytes = (const uint8_t *)pb->bytes.ptr;
	*len = pb->bytes.len;
	*entries = pb->entries;
	*count = pb->count;
done:
	sv_buf_release(&h);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Checks the header length field against the pack size: the header must
 * fit between the pack's first 36 bytes and its last 4. */
static int header_len(uint32_t *hlen, const uint8_t *tail, size_t tail_len,
		      uint64_t pack_size)
{
	*hlen = get_u32(tail + tail_len - 4);
	if (pack_size < VAULT_PACK_HEAD_LEN + HEADER_MIN + 4)
		return sv_error_set(SV_ECORRUPT,
				    "pack: %llu bytes, too small to be a pack",
				    (unsigned long long)pack_size);
	if (*hlen < HEADER_MIN || *hlen > pack_size - VAULT_PACK_HEAD_LEN - 4)
		return sv_error_set(
			SV_ECORRUPT,
			"pack: header length %u does not fit a pack "
			"of %llu bytes",
			*hlen, (unsigned long long)pack_size);
	return 0;
}

/* Decrypts the sealed header (hlen bytes at hdr, at offset hoff). */
static int header_open(uint8_t *plain, const vault_master *mk,
		       const uint8_t head[VAULT_PACK_HEAD_LEN],
		       const uint8_t *hdr, uint32_t hlen, uint64_t hoff)
{
	uint8_t key[VAULT_KEY_LEN], nonce[VAULT_NONCE_LEN];
	int rc;

	rc = pack_key(key, mk, head);
	if (rc == 0) {
		vault__nonce(nonce, hoff);
		rc = vault__gcm_open(plain, key, nonce, HEADER_AAD,
				     sizeof(HEADER_AAD) - 1, hdr, hlen);
	}
	if (rc == SV_ECORRUPT)
		rc = sv_error_set(
			SV_ECORRUPT,
			"pack header: authentication failed: the pack "
			"was altered or belongs to another vault");
	vault__wipe(key, sizeof(key));
	return rc;
}

/* Decodes the header and checks that the blobs end where it starts. */
static int header_decode(vault_blob_entry **entries, uint32_t *count,
			 const uint8_t *plain, size_t n, uint64_t hoff)
{
	vault_blob_entry *e = NULL;
	uint64_t end = VAULT_PACK_HEAD_LEN;
	uint32_t c = 0;
	int rc;

	rc = vault__pack_header_decode(&e, &c, plain, n);
	if (rc < 0)
		return rc;
	if (c)
		end = (uint64_t)e[c - 1].offset + e[c - 1].length;
	if (end != hoff) {
		free(e);
		return sv_error_set(
			SV_ECORRUPT,
			"pack header: blobs end at %llu, the header "
			"starts at %llu",
			(unsigned long long)end, (unsigned long long)hoff);
	}
	*entries = e;
	*count = c;
	return 0;
}

int vault__pack_read_header(vault_blob_entry **entries, uint32_t *count,
			    size_t *need, const vault_master *mk,
			    const uint8_t head[VAULT_PACK_HEAD_LEN],
			    const uint8_t *tail, size_t tail_len,
			    uint64_t pack_size)
{
	uint8_t *plain = NULL;
	uint32_t hlen = 0;
	uint64_t hoff;
	int rc;

	*entries = NULL;
	*count = 0;
	*need = 0;
	if (tail_len < 4 || tail_len > pack_size)
		return sv_error_set(SV_EINVAL,
				    "pack: a tail of %zu bytes for a pack of "
				    "%llu bytes",
				    tail_len, (unsigned long long)pack_size);
	if (memcmp(head, PACK_MAGIC, 4) != 0)
		return sv_error_set(SV_ECORRUPT, "pack: bad magic");
	rc = header_len(&hlen, tail, tail_len, pack_size);
	if (rc < 0)
		return rc;
	if ((size_t)hlen + 4 > tail_len) {
		*need = (size_t)hlen + 4;
		return 0;
	}
	hoff = pack_size - 4 - hlen;
	plain = sv_malloc(hlen - VAULT_TAG_LEN);
	if (!plain)
		return SV_ENOMEM;
	rc = header_open(plain, mk, head, tail + tail_len - 4 - hlen, hlen,
			 hoff);
	if (rc == 0)
		rc = header_decode(entries, count, plain, hlen - VAULT_TAG_LEN,
				   hoff);
	free(plain);
	return rc;
}

/* Checks an entry before its bytes are trusted to fit out. */
static int blob_check(const vault_blob_entry *e, const char *hex)
{
	if ((e->flags & ~BLOB_FLAGS) || e->length < VAULT_TAG_LEN ||
	    e->raw_length > BLOB_RAW_MAX ||
	    (!(e->flags & VAULT_BLOB_ZSTD) &&
	     (uint64_t)e->length != (uint64_t)e->raw_length + VAULT_TAG_LEN))
		return sv_error_set(
			SV_ECORRUPT,
			"chunk %s: bad entry (%u bytes stored, %u raw, "
			"flags 0x%02x)",
			hex, e->length, e->raw_length, e->flags);
	return 0;
}

/* Decrypts the blob into out (raw), or into a scratch buffer that it then
 * decompresses into out (zstd). */
static int blob_decrypt(uint8_t *out, const uint8_t key[VAULT_KEY_LEN],
			const vault_blob_entry *e, const uint8_t *stored,
			const char *hex)
{
	uint8_t nonce[VAULT_NONCE_LEN], *z = NULL;
	size_t zn = e->length - VAULT_TAG_LEN;
	int rc;

	if ((e->flags & VAULT_BLOB_ZSTD) && !(z = sv_malloc(zn)))
		return SV_ENOMEM;
	vault__nonce(nonce, e->offset);
	rc = vault__gcm_open(z ? z : out, key, nonce, e->id, VAULT_ID_LEN,
			     stored, e->length);
	if (rc == SV_ECORRUPT)
		rc = sv_error_set(SV_ECORRUPT,
				  "chunk %s: authentication failed: the pack "
				  "was altered or the entry is wrong",
				  hex);
	if (rc == 0 && z) {
		rc = vault__decompress(out, e->raw_length, z, zn);
		if (rc == SV_ECORRUPT)
			sv_error_prefix("chunk %s", hex);
	}
	free(z);
	return rc;
}

int vault__pack_open_blob(uint8_t *out, const vault_master *mk,
			  const uint8_t head[VAULT_PACK_HEAD_LEN],
			  const vault_blob_entry *e, const uint8_t *stored)
{
	uint8_t key[VAULT_KEY_LEN] = {0}, id[VAULT_ID_LEN];
	char hex[17];
	int rc;

	sv_hex_encode(hex, e->id, 8);
	rc = blob_check(e, hex);
	if (rc < 0)
		return rc; /* out may not have room for e->raw_length */
	if (memcmp(head, PACK_MAGIC, 4) != 0)
		rc = sv_error_set(SV_ECORRUPT, "chunk %s: bad pack magic", hex);
	if (rc == 0)
		rc = pack_key(key, mk, head);
	if (rc == 0)
		rc = blob_decrypt(out, key, e, stored, hex);
	vault__wipe(key, sizeof(key));
	if (rc == 0) {
		vault__chunk_id(id, mk->id_key, out, e->raw_length);
		if (memcmp(id, e->id, VAULT_ID_LEN) != 0)
			rc = sv_error_set(
				SV_ECORRUPT,
				"chunk %s: the content does not match "
				"its id",
				hex);
	}
	if (rc < 0) /* no unverified plaintext is left behind */
		memset(out, 0, e->raw_length);
	return rc;
}
