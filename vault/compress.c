/*
 * compress.c - zstd for chunks and objects. The only file of the project
 * that includes zstd.h; zstd's errors become sv_err codes here.
 *
 * Compression and decompression contexts are reused: a call borrows a slot
 * from a free list guarded by a mutex held for two pointer moves, and gives
 * it back. There are never more slots than calls that ran at the
 * same time; slots outlive the threads that made them (no per-thread
 * destructor needed) and stay reachable from the list (no leak reports).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "sv_thread.h"
#include "vault_int.h"

typedef struct zslot {
	struct zslot *next;
	ZSTD_CCtx *cctx; /* made on first compression */
	ZSTD_DCtx *dctx; /* made on first decompression */
} zslot;

static _Atomic(sv_mutex *) zslot_mutex; /* made on first use, never freed */
static zslot *zslot_free_list;		/* guarded by zslot_mutex */

/* The mutex guarding the free list. The first caller makes it; one that
 * loses the race to install its own frees it and uses the winner's. */
static sv_mutex *zslot_lock(void)
{
	sv_mutex *m = atomic_load_explicit(&zslot_mutex, memory_order_acquire);
	sv_mutex *mine = NULL;

	if (m || sv_mutex_new(&mine) < 0)
		return m;
	if (atomic_compare_exchange_strong(&zslot_mutex, &m, mine))
		return mine;
	sv_mutex_free(mine);
	return m;
}

/* Borrows a slot, making one when none is free; NULL with the error set. */
static zslot *zslot_get(void)
{
	sv_mutex *m = zslot_lock();
	zslot *s;

	if (!m)
		return NULL;
	sv_mutex_lock(m);
	s = zslot_free_list;
	if (s)
		zslot_free_list = s->next;
	sv_mutex_unlock(m);
	return s ? s : sv_calloc(1, sizeof(*s));
}

/* Gives a borrowed slot back (the mutex exists: zslot_get made it). */
static void zslot_put(zslot *s)
{
	sv_mutex *m = atomic_load_explicit(&zslot_mutex, memory_order_acquire);

	sv_mutex_lock(m);
	s->next = zslot_free_list;
	zslot_free_list = s;
	sv_mutex_unlock(m);
}

/* ------------------------------------------------------------------ */
/* Compression                                                         */

/*
 * The largest frame worth keeping for n raw bytes: it must save at least
 * 1/32 of n, i.e. 32 * (n - frame) >= n.
 */
static size_t worth_limit(size_t n)
{
	return n - (n / 32 + (n % 32 != 0));
}

static int level_check(int level)
{
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return sv_error_set(SV_EINVAL,
				    "zstd level %d is out of range (%d to %d)",
				    level, ZSTD_minCLevel(), ZSTD_maxCLevel());
	return 0;
}

/*
 * Appends the zstd frame of in to out, building it in at most cap bytes
 * reserved at the end of out. *fit = 0, and nothing is appended, when the
 * frame would be larger: zstd stops there, so with cap below the input
 * size no frame larger than the input is ever completed.
 *
 * zstd needs no help with incompressible data: at level 3 it recognises
 * random 64 KiB blocks at about 10 GB/s, faster than any entropy estimate
 * done here would run.
 */
static int compress_append(sv_buf *out, const void *in, size_t n, int level,
			   size_t cap, int *fit)
{
	zslot *s = NULL;
	size_t got;
	int rc;

	*fit = 0;
	rc = level_check(level);
	if (rc == 0)
		rc = sv_buf_reserve(out, cap);
	if (rc < 0)
		return rc;
	s = zslot_get();
	if (!s)
		return SV_ENOMEM;
	if (!s->cctx)
		s->cctx = ZSTD_createCCtx();
	if (!s->cctx) {
		rc = sv_error_set(SV_ENOMEM, "cannot create a zstd context");
		goto done;
	}
	got = ZSTD_compressCCtx(s->cctx, out->ptr + out->len, cap, in, n,
				level);
	if (ZSTD_isError(got)) {
		if (ZSTD_getErrorCode(got) != ZSTD_error_dstSize_tooSmall)
			rc = sv_error_set(SV_ERROR,
					  "zstd compression failed: %s",
					  ZSTD_getErrorName(got));
		goto done;
	}
	out->len += got;
	out->ptr[out->len] = '\0';
	*fit = 1;
done:
	zslot_put(s);
	return rc;
}

int vault__compress(sv_buf *out, const void *in, size_t n, int level,
		    int *stored_raw)
{
	int fit = 0, rc;

	rc = compress_append(out, in, n, level, worth_limit(n), &fit);
	*stored_raw = !fit;
	return rc;
}

int vault__compress_always(sv_buf *out, const void *in, size_t n, int level)
{
	size_t bound = ZSTD_compressBound(n);
	int fit = 0, rc;

	if (ZSTD_isError(bound))
		return sv_error_set(SV_ENOMEM,
				    "%zu bytes are too many for one zstd frame",
				    n);
	rc = compress_append(out, in, n, level, bound, &fit);
	if (rc == 0 && !fit)
		rc = sv_error_set(SV_ERROR, "zstd frame larger than its bound");
	return rc;
}

/* ------------------------------------------------------------------ */
/* Decompression                                                       */

/*
 * Checks that in is exactly one zstd frame declaring raw_len bytes of
 * content (the frame header's size must agree with the caller's, and
 * nothing may follow the frame).
 */
static int frame_check(size_t raw_len, const void *in, size_t n)
{
	size_t frame = ZSTD_findFrameCompressedSize(in, n);
	unsigned long long declared;

	if (ZSTD_isError(frame))
		return sv_error_set(SV_ECORRUPT, "bad zstd frame: %s",
				    ZSTD_getErrorName(frame));
	if (frame != n)
		return sv_error_set(
			SV_ECORRUPT,
			"zstd frame of %zu bytes followed by %zu more", frame,
			n - frame);
	declared = ZSTD_getFrameContentSize(in, n);
	if (declared == ZSTD_CONTENTSIZE_UNKNOWN ||
	    declared == ZSTD_CONTENTSIZE_ERROR)
		return sv_error_set(SV_ECORRUPT,
				    "zstd frame does not declare its size");
	if (declared != raw_len)
		return sv_error_set(SV_ECORRUPT,
				    "zstd frame holds %llu bytes, expected %zu",
				    declared, raw_len);
	return 0;
}

static int decompress_into(uint8_t *out, size_t raw_len, ZSTD_DCtx *dctx,
			   const void *in, size_t n)
{
	size_t got = ZSTD_decompressDCtx(dctx, out, raw_len, in, n);

	if (ZSTD_isError(got))
		return sv_error_set(SV_ECORRUPT, "bad zstd frame: %s",
				    ZSTD_getErrorName(got));
	if (got != raw_len)
		return sv_error_set(SV_ECORRUPT,
				    "zstd frame gave %zu bytes, expected %zu",
				    got, raw_len);
	return 0;
}

int vault__decompress(uint8_t *out, size_t raw_len, const void *in, size_t n)
{
	zslot *s = NULL;
	int rc = frame_check(raw_len, in, n);

	if (rc < 0)
		return rc;
	s = zslot_get();
	if (!s)
		return SV_ENOMEM;
	if (!s->dctx)
		s->dctx = ZSTD_createDCtx();
	if (!s->dctx)
		rc = sv_error_set(SV_ENOMEM, "cannot create a zstd context");
	else
		rc = decompress_into(out, raw_len, s->dctx, in, n);
	zslot_put(s);
	return rc;
}
