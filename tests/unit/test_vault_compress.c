/*
 * test_vault_compress.c - vault/compress.c: round trips, the "stored raw"
 * rule, and refusal of frames that are bad, truncated or of the wrong size.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_thread.h"
#include "vault_int.h"

#define TEXT_LEN 65536

/* Text-like data: words from a small vocabulary, deterministic. */
static void fill_text(uint8_t *dst, size_t n)
{
	static const char *words[] = {"backup ",    "system ", "state ",
				      "volume ",    "shadow ", "copy ",
				      "registry\n", "writer ", "boot "};
	uint32_t x = 12345;
	size_t i = 0;

	while (i < n) {
		const char *w;
		size_t len;

		x = x * 1103515245u + 12345u;
		w = words[(x >> 16) % 9];
		len = strlen(w);
		if (len > n - i)
			len = n - i;
		memcpy(dst + i, w, len);
		i += len;
	}
}

/* Compresses in and checks it decompresses back; returns the frame size,
 * or 0 when stored raw. */
static size_t round_trip(const uint8_t *in, size_t n)
{
	uint8_t *back = malloc(n ? n : 1);
	sv_buf frame;
	size_t got;
	int raw = -1;

	assert_non_null(back);
	sv_buf_init(&frame, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(sv_buf_adds(&frame, "head"));
	sv_assert_ok(vault__compress(&frame, in, n, 3, &raw));
	assert_true(raw == 0 || raw == 1);
	if (raw) {
		/* Nothing appended: the caller stores the raw bytes. */
		assert_int_equal(frame.len, 4);
	} else {
		assert_true(frame.len - 4 <= n - n / 32);
		sv_assert_ok(vault__decompress(back, n, frame.ptr + 4,
					       frame.len - 4));
		assert_memory_equal(back, in, n);
	}
	got = raw ? 0 : frame.len - 4;
	sv_buf_release(&frame);
	free(back);
	return got;
}

/* Compresses text into frame (which must not be stored raw). */
static void text_frame(sv_buf *frame, uint8_t *text)
{
	int raw = -1;

	fill_text(text, TEXT_LEN);
	sv_buf_init(frame, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(vault__compress(frame, text, TEXT_LEN, 3, &raw));
	assert_int_equal(raw, 0);
}

/* The size of a zstd frame header (RFC 8878 3.1.1.1): magic, descriptor,
 * window descriptor unless single-segment, dictionary id, content size. */
static size_t frame_header_len(const uint8_t *f)
{
	static const size_t dict_len[4] = {0, 1, 2, 4};
	static const size_t fcs_len[4] = {0, 2, 4, 8};
	unsigned fhd = f[4], single = (fhd >> 5) & 1;
	size_t fcs = fcs_len[fhd >> 6];

	if ((fhd >> 6) == 0 && single)
		fcs = 1;
	return 4 + 1 + !single + dict_len[fhd & 3] + fcs;
}

static void test_compress__text_round_trips_smaller(void **state)
{
	static uint8_t text[TEXT_LEN];
	size_t got;

	fill_text(text, sizeof(text));
	got = round_trip(text, sizeof(text));
	assert_true(got > 0 && got < sizeof(text) / 2);
}

static void test_compress__zeros_round_trip_tiny(void **state)
{
	static uint8_t zeros[262144];
	size_t got = round_trip(zeros, sizeof(zeros));

	assert_true(got > 0 && got < 100);
}

static void test_compress__random_is_stored_raw(void **state)
{
	static uint8_t data[65536];
	sv_buf out;
	int raw = -1;

	sv_assert_ok(vault__random(data, sizeof(data)));
	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(vault__compress(&out, data, sizeof(data), 3, &raw));
	assert_int_equal(raw, 1);
	assert_int_equal(out.len, 0);
	sv_buf_release(&out);
	assert_int_equal(round_trip(data, 1), 0);
	assert_int_equal(round_trip(data, 0), 0);
}

/* Sealed objects always hold a frame, even when it does not shrink. */
static void test_compress__always_makes_a_frame(void **state)
{
	static uint8_t data[5000], back[5000];
	size_t sizes[] = {0, 1, 100, 5000}, i;
	sv_buf frame;

	sv_assert_ok(vault__random(data, sizeof(data)));
	sv_buf_init(&frame, SV_BUF_DEFAULT_MAX);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		sv_buf_reset(&frame);
		sv_assert_ok(vault__compress_always(&frame, data, sizes[i], 3));
		assert_true(frame.len > sizes[i]);
		sv_assert_ok(vault__decompress(back, sizes[i], frame.ptr,
					       frame.len));
		assert_memory_equal(back, data, sizes[i]);
	}
	assert_int_equal(vault__compress_always(&frame, data, 10, 99),
			 SV_EINVAL);
	sv_buf_release(&frame);
}

static void test_compress__rejects_bad_level(void **state)
{
	sv_buf out;
	int raw = -1;

	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	assert_int_equal(vault__compress(&out, "abc", 3, 1000, &raw),
			 SV_EINVAL);
	assert_int_equal(out.len, 0);
	sv_buf_release(&out);
}

static void test_compress__wrong_raw_len_is_corrupt(void **state)
{
	static uint8_t text[TEXT_LEN], back[TEXT_LEN + 1];
	sv_buf frame;

	text_frame(&frame, text);
	assert_int_equal(
		vault__decompress(back, TEXT_LEN - 1, frame.ptr, frame.len),
		SV_ECORRUPT);
	assert_int_equal(
		vault__decompress(back, TEXT_LEN + 1, frame.ptr, frame.len),
		SV_ECORRUPT);
	assert_int_equal(vault__decompress(back, 0, frame.ptr, frame.len),
			 SV_ECORRUPT);
	sv_assert_ok(vault__decompress(back, TEXT_LEN, frame.ptr, frame.len));
	sv_buf_release(&frame);
}

static void test_compress__garbage_is_corrupt(void **state)
{
	static uint8_t text[TEXT_LEN], back[TEXT_LEN];
	uint8_t junk[256];
	sv_buf frame;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(vault__decompress(back, 100, junk, sizeof(junk)),
			 SV_ECORRUPT);
	assert_int_equal(vault__decompress(back, 100, junk, 0), SV_ECORRUPT);
	/* A valid frame whose first block has the reserved type, or with
	 * bytes after it. */
	text_frame(&frame, text);
	frame.ptr[frame_header_len((const uint8_t *)frame.ptr)] |= 0x06;
	assert_int_equal(
		vault__decompress(back, TEXT_LEN, frame.ptr, frame.len),
		SV_ECORRUPT);
	sv_buf_release(&frame);
	text_frame(&frame, text);
	sv_assert_ok(sv_buf_addc(&frame, 0));
	assert_int_equal(
		vault__decompress(back, TEXT_LEN, frame.ptr, frame.len),
		SV_ECORRUPT);
	sv_buf_release(&frame);
}

static void test_compress__truncated_frame_is_corrupt(void **state)
{
	static uint8_t text[TEXT_LEN], back[TEXT_LEN];
	sv_buf frame;
	size_t cut;

	text_frame(&frame, text);
	for (cut = 0; cut < frame.len; cut += 1 + cut / 3)
		assert_int_equal(
			vault__decompress(back, TEXT_LEN, frame.ptr, cut),
			SV_ECORRUPT);
	assert_int_equal(
		vault__decompress(back, TEXT_LEN, frame.ptr, frame.len - 1),
		SV_ECORRUPT);
	sv_buf_release(&frame);
}

typedef struct worker {
	const uint8_t *text;
	int failures;
} worker;

/* 1 when text compresses at level and comes back unchanged. */
static int text_round_trip_ok(sv_buf *frame, uint8_t *back, const uint8_t *text,
			      int level)
{
	int raw = 1;

	sv_buf_reset(frame);
	if (vault__compress(frame, text, TEXT_LEN, level, &raw) < 0 || raw)
		return 0;
	if (vault__decompress(back, TEXT_LEN, frame->ptr, frame->len) < 0)
		return 0;
	return memcmp(back, text, TEXT_LEN) == 0;
}

/* Round trips text 64 KiB at a time, with contexts shared between threads
 * through the slot list. */
static void worker_run(void *arg)
{
	worker *w = arg;
	uint8_t *back = malloc(TEXT_LEN);
	sv_buf frame;
	int i;

	sv_buf_init(&frame, SV_BUF_DEFAULT_MAX);
	for (i = 0; i < 50 && back; i++)
		if (!text_round_trip_ok(&frame, back, w->text, 1 + i % 5))
			w->failures++;
	if (!back)
		w->failures++;
	sv_buf_release(&frame);
	free(back);
}

static void test_compress__threads_round_trip(void **state)
{
	static uint8_t text[TEXT_LEN];
	worker w[4];
	sv_thread *t[4];
	int i;

	fill_text(text, sizeof(text));
	for (i = 0; i < 4; i++) {
		w[i].text = text;
		w[i].failures = 0;
		sv_assert_ok(sv_thread_start(&t[i], worker_run, &w[i]));
	}
	for (i = 0; i < 4; i++)
		sv_thread_join(t[i]);
	for (i = 0; i < 4; i++)
		assert_int_equal(w[i].failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compress__text_round_trips_smaller),
		cmocka_unit_test(test_compress__zeros_round_trip_tiny),
		cmocka_unit_test(test_compress__random_is_stored_raw),
		cmocka_unit_test(test_compress__always_makes_a_frame),
		cmocka_unit_test(test_compress__rejects_bad_level),
		cmocka_unit_test(test_compress__wrong_raw_len_is_corrupt),
		cmocka_unit_test(test_compress__garbage_is_corrupt),
		cmocka_unit_test(test_compress__truncated_frame_is_corrupt),
		cmocka_unit_test(test_compress__threads_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
