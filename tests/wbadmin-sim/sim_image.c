/*
 * sim_image.c - the system-state image, with the content model of
 * ../../../shared/bench/mkimage.py: zero, text (registry/log-like), binary
 * (executable-like) and random (compressed payload) regions; each later
 * version rewrites, moves and zeroes about 3% of the previous one in 4 KiB
 * to 1 MiB extents and grows a log at the end.
 *
 * No version is ever held in memory. A version is a list of base regions
 * plus the ordered list of every mutation since version 1; the content of
 * any sector range is computed by finding the latest mutation that covers
 * it (a move reads the image as it was just before the move). Every sector
 * of a region or rewrite is generated from its own PRNG key, so any range
 * can be produced on its own and the bytes never depend on block size.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum { K_ZERO, K_TEXT, K_BINARY, K_RANDOM };
enum { OP_WRITE, OP_MOVE, OP_ZERO };

struct sim_region {
	uint64_t start; /* first sector */
	uint64_t seed;
	int kind;
};

struct sim_op {
	uint64_t off, n; /* sectors written */
	uint64_t src;	 /* OP_MOVE: first sector read */
	uint64_t seed;	 /* OP_WRITE: content key */
	int type, kind;
};

#define CHANGE_PERCENT 3
#define MAX_EXTENT 256 /* sectors: 1 MiB */
#define MAX_GROW 64    /* sectors */

uint64_t sim_mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* splitmix64 as a generator: one add and one mix per 64-bit word. */
static inline uint64_t next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? next64(s) % n : 0;
}

uint64_t sim_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void sim_guid(char dst[37], uint64_t a, uint64_t b)
{
	uint64_t s = sim_mix64(a) ^ b, hi = next64(&s), lo = next64(&s);
	uint8_t g[16];
	char hex[33];
	int i;

	for (i = 0; i < 8; i++) {
		g[i] = (uint8_t)(hi >> (8 * i));
		g[8 + i] = (uint8_t)(lo >> (8 * i));
	}
	g[6] = (uint8_t)((g[6] & 0x0f) | 0x40); /* version 4 */
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	sv_hex_encode(hex, g, 16);
	memcpy(dst, hex, 8);
	dst[8] = '-';
	memcpy(dst + 9, hex + 8, 4);
	dst[13] = '-';
	memcpy(dst + 14, hex + 12, 4);
	dst[18] = '-';
	memcpy(dst + 19, hex + 16, 4);
	dst[23] = '-';
	memcpy(dst + 24, hex + 20, 12);
	dst[36] = '\0';
}

/* ---- sector content ---- */

static const char *const words[] = {
	"HKLM",	       "SOFTWARE",   "Microsoft",  "Windows",  "CurrentVersion",
	"Component",   "Based",	     "Servicing",  "Packages", "Catalogs",
	"WinSxS",      "amd64",	     "x86",	   "neutral",  "10.0.20348",
	"Policy",      "Manifest",   "EventLog",   "System",   "Application",
	"Security",    "ObjectName", "ImagePath",  "Start",    "Type",
	"DisplayName", "ServiceDll", "Parameters", "Enum",     "Control",
	"Session",     "Manager"};
#define NWORDS (sizeof(words) / sizeof(words[0]))
#define SLACK 512 /* a generator may overrun its sector */

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t put_u32(uint8_t *p, uint32_t v)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)tmp[n - 1 - i];
	return n;
}

static void gen_random(uint8_t *out, uint64_t st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 8)
		put64(out + i, next64(&st));
}

/* Lines of 3 to 12 words and "=<number>\r\n", as mkimage.py's text. */
static void gen_text(uint8_t *out, uint64_t st)
{
	static size_t wlen[NWORDS];
	uint8_t tmp[SIM_SECTOR + SLACK];
	size_t pos = 0, w, i;

	if (!wlen[0])
		for (i = 0; i < NWORDS; i++)
			wlen[i] = strlen(words[i]);
	while (pos < SIM_SECTOR) {
		uint64_t r = next64(&st);
		size_t nw = 3 + (size_t)(r % 10);

		r >>= 8;
		for (i = 0; i < nw && pos < SIM_SECTOR; i++) {
			if (i > 0)
				tmp[pos++] = ' ';
			if (i % 8 == 7)
				r = next64(&st);
			w = (size_t)(r & 31) % NWORDS;
			r >>= 5;
			memcpy(tmp + pos, words[w], wlen[w]);
			pos += wlen[w];
		}
		tmp[pos++] = '=';
		pos += put_u32(tmp + pos, (uint32_t)next64(&st));
		tmp[pos++] = '\r';
		tmp[pos++] = '\n';
	}
	memcpy(out, tmp, SIM_SECTOR);
}

/* Random runs, a repeated opcode byte, zero padding between functions. */
static void gen_binary(uint8_t *out, uint64_t st)
{
	static const uint8_t opcodes[5] = {0x48, 0x89, 0x8B, 0xE8, 0xCC};
	uint8_t tmp[SIM_SECTOR + SLACK];
	size_t pos = 0, run, i;

	while (pos < SIM_SECTOR) {
		uint64_t r = next64(&st);

		run = 16 + (size_t)(r % 241);
		for (i = 0; i < run; i += 8)
			put64(tmp + pos + i, next64(&st));
		pos += run;
		run = 8 + (size_t)((r >> 16) % 89);
		memset(tmp + pos, opcodes[(r >> 32) % 5], run);
		pos += run;
		run = (size_t)((r >> 40) % 65);
		memset(tmp + pos, 0, run);
		pos += run;
	}
	memcpy(out, tmp, SIM_SECTOR);
}

static void gen_sector(uint8_t *out, int kind, uint64_t seed, uint64_t idx)
{
	uint64_t key = sim_mix64(seed ^ sim_mix64(idx));

	switch (kind) {
	case K_TEXT:
		gen_text(out, key);
		break;
	case K_BINARY:
		gen_binary(out, key);
		break;
	case K_RANDOM:
		gen_random(out, key, SIM_SECTOR);
		break;
	default:
		memset(out, 0, SIM_SECTOR);
	}
}

/* Sector 0: the VHDX file type identifier, the same in every version. */
static void gen_header(uint8_t *out)
{
	static const char creator[] = "Microsoft Windows 10.0.20348.0";
	size_t i;

	memset(out, 0, SIM_SECTOR);
	memcpy(out, "vhdxfile", 8);
	for (i = 0; creator[i]; i++)
		out[8 + 2 * i] = (uint8_t)creator[i];
}

/* ---- building the description ---- */

static int grow_ops(sim_image *im, size_t *cap)
{
	size_t ncap;
	sim_op *p;

	if (im->nops < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	p = sv_realloc(im->ops, ncap * sizeof(*p));
	if (!p)
		return SV_ENOMEM;
	im->ops = p;
	*cap = ncap;
	return 0;
}

static int build_base(sim_image *im)
{
	uint64_t st = im->seed ^ 0x62617365ull, pos = 0, n;
	size_t cap = 0;
	sim_region *p;
	int r;

	while (pos < im->base_sectors) {
		if (im->nregions == cap) {
			cap = cap ? cap * 2 : 64;
			p = sv_realloc(im->regions, cap * sizeof(*p));
			if (!p)
				return SV_ENOMEM;
			im->regions = p;
		}
		r = (int)below(&st, 100);
		p = &im->regions[im->nregions++];
		p->kind = r < 18   ? K_ZERO
			  : r < 40 ? K_TEXT
			  : r < 78 ? K_BINARY
				   : K_RANDOM;
		p->start = pos;
		p->seed = next64(&st);
		n = 16 + below(&st, 2033);
		pos += n;
	}
	return 0;
}

/* Appends the mutations that turn the current version into the next. */
static int mutate(sim_image *im, uint32_t version, size_t *cap)
{
	uint64_t st = sim_mix64(im->seed ^ ((uint64_t)version << 32));
	uint64_t size = im->sectors, budget, done = 0, nmax, grow;
	sim_op *op;
	int r;

	budget = size * CHANGE_PERCENT / 100;
	if (budget == 0)
		budget = 1;
	nmax = budget < MAX_EXTENT ? budget : MAX_EXTENT;
	if (nmax > size - 1)
		nmax = size - 1;
	while (done < budget) {
		if (grow_ops(im, cap) < 0)
			return SV_ENOMEM;
		op = &im->ops[im->nops++];
		op->n = 1 + below(&st, nmax);
		op->off = 1 + below(&st, size - op->n); /* never sector 0 */
		r = (int)below(&st, 100);
		op->type = r < 70 ? OP_WRITE : r < 85 ? OP_MOVE : OP_ZERO;
		op->kind = K_TEXT + (int)below(&st, 3);
		op->src = 1 + below(&st, size - op->n);
		op->seed = next64(&st);
		done += op->n;
	}
	/* Log files grew: at most 1% of the image, at most 256 KiB. */
	grow = size / 100 < MAX_GROW ? size / 100 : MAX_GROW;
	if (grow_ops(im, cap) < 0)
		return SV_ENOMEM;
	op = &im->ops[im->nops++];
	op->off = size;
	op->n = 1 + below(&st, grow ? grow : 1);
	op->type = OP_WRITE;
	op->kind = K_TEXT;
	op->src = 0;
	op->seed = next64(&st);
	im->sectors += op->n;
	return 0;
}

int sim_image_init(sim_image *im, const char *machine, uint64_t base_size,
		   uint32_t version)
{
	size_t cap = 0;
	uint32_t v;
	int rc;

	memset(im, 0, sizeof(*im));
	if (base_size < SIM_MIN_SIZE)
		base_size = SIM_MIN_SIZE;
	im->base_sectors = (base_size + SIM_SECTOR - 1) / SIM_SECTOR;
	im->sectors = im->base_sectors;
	im->seed = sim_mix64(
		sim_hash(machine, strlen(machine), 0xcbf29ce484222325ull));
	if ((rc = build_base(im)) < 0)
		goto fail;
	for (v = 2; v <= version; v++)
		if ((rc = mutate(im, v, &cap)) < 0)
			goto fail;
	return 0;
fail:
	sim_image_release(im);
	return rc;
}

void sim_image_release(sim_image *im)
{
	free(im->regions);
	free(im->ops);
	memset(im, 0, sizeof(*im));
}

/* ---- producing bytes ---- */

static void fill_base(const sim_image *im, uint64_t s, uint64_t n, uint8_t *buf)
{
	size_t lo = 0, hi = im->nregions, mid;

	while (hi - lo > 1) { /* last region starting <= s */
		mid = lo + (hi - lo) / 2;
		if (im->regions[mid].start <= s)
			lo = mid;
		else
			hi = mid;
	}
	for (; n > 0; n--, s++, buf += SIM_SECTOR) {
		const sim_region *r;

		while (lo + 1 < im->nregions && im->regions[lo + 1].start <= s)
			lo++;
		r = &im->regions[lo];
		if (s == 0)
			gen_header(buf);
		else if (s >= im->base_sectors)
			memset(buf, 0, SIM_SECTOR); /* not reached */
		else
			gen_sector(buf, r->kind, r->seed, s - r->start);
	}
}

/* The content of sectors [s, s+n) as it was before op number top. */
static void fill_ops(const sim_image *im, size_t top, uint64_t s, uint64_t n,
		     uint8_t *buf)
{
	while (n > 0) {
		const sim_op *op = NULL;
		uint64_t a, b, k;
		size_t i = top;

		while (i > 0) {
			i--;
			if (im->ops[i].off < s + n &&
			    s < im->ops[i].off + im->ops[i].n) {
				op = &im->ops[i];
				break;
			}
		}
		if (!op) {
			fill_base(im, s, n, buf);
			return;
		}
		a = op->off > s ? op->off : s;
		b = op->off + op->n < s + n ? op->off + op->n : s + n;
		if (a > s)
			fill_ops(im, i, s, a - s, buf);
		if (op->type == OP_ZERO) {
			memset(buf + (a - s) * SIM_SECTOR, 0,
			       (size_t)(b - a) * SIM_SECTOR);
		} else if (op->type == OP_MOVE) {
			fill_ops(im, i, op->src + (a - op->off), b - a,
				 buf + (a - s) * SIM_SECTOR);
		} else {
			for (k = a; k < b; k++)
				gen_sector(buf + (k - s) * SIM_SECTOR, op->kind,
					   op->seed, k - op->off);
		}
		/* Later ops do not touch [s, s+n): continue right of op i. */
		buf += (b - s) * SIM_SECTOR;
		n = s + n - b;
		s = b;
		top = i;
	}
}

void sim_image_fill(const sim_image *im, uint64_t first, size_t count,
		    uint8_t *buf)
{
	fill_ops(im, im->nops, first, count, buf);
}
