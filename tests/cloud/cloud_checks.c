/*
 * cloud_checks.c - checks every cloud backend must pass the same way.
 */
#include "sv_test.h"
#include "cloud_checks.h"

void cloud_check_ranged_reads(vault_backend *b, const char *name,
			      const uint8_t *data, size_t len)
{
	uint64_t size;
	sv_buf out;

	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(b->ops->put(b, name, data, len));
	sv_assert_ok(b->ops->stat(b, name, &size));
	assert_int_equal(size, len);
	sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, &out));
	assert_int_equal(out.len, len);
	assert_memory_equal(out.ptr, data, len);
	sv_buf_reset(&out);
	sv_assert_ok(b->ops->get(b, name, 1000, 36, &out));
	assert_int_equal(out.len, 36);
	assert_memory_equal(out.ptr, data + 1000, 36);
	sv_buf_reset(&out);
	sv_assert_ok(b->ops->get(b, name, len - 10, UINT64_MAX, &out));
	assert_int_equal(out.len, 10);
	assert_memory_equal(out.ptr, data + len - 10, 10);
	sv_buf_reset(&out);
	/* exactly at the end: nothing, not an error */
	sv_assert_ok(b->ops->get(b, name, len, UINT64_MAX, &out));
	assert_int_equal(out.len, 0);
	/* past the end: truncated, and out untouched */
	assert_int_equal(b->ops->get(b, name, len - 5, 10, &out), SV_ECORRUPT);
	assert_int_equal(b->ops->get(b, name, len + 5, 1, &out), SV_ECORRUPT);
	assert_int_equal(out.len, 0);
	sv_buf_release(&out);
}

void cloud_check_missing_objects(vault_backend *b)
{
	uint64_t size;
	sv_buf out;

	sv_buf_init(&out, 1024);
	assert_int_equal(b->ops->stat(b, "config", &size), SV_ENOTFOUND);
	assert_int_equal(b->ops->get(b, "config", 0, UINT64_MAX, &out),
			 SV_ENOTFOUND);
	assert_int_equal(b->ops->get(b, "config", 0, 4, &out), SV_ENOTFOUND);
	sv_assert_ok(b->ops->del(b, "config"));
	assert_int_equal(b->ops->put(b, "../x", "a", 1), SV_EINVAL);
	assert_int_equal(b->ops->stat(b, "Config?a=b", &size), SV_EINVAL);
	sv_buf_release(&out);
}
