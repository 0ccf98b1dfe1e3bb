/*
 * test_vault_backend_fault.c - the retry layer (backend.c) over the fault
 * wrapper (backend_fault.c) over a local directory: the faults are real
 * (the wrapper alone fails), and the retry layer hides them.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "vault_int.h"

#define NOBJ 40
#define OBJ_LEN 3000
#define BAD "seed=11,fail=0.4,kinds=reset+503+stall+short,stall=1ms,backoff=1ms"

typedef struct fixture {
	char *dir;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || !(f->dir = sv_test_tmpdir("fault")))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	sv_fs_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* local -> [faults] -> retry layer. */
static vault_backend *open_stack(void **state, const char *faults)
{
	vault_backend *leaf = NULL, *b = NULL;

	sv_assert_ok(
		vault__backend_local_open(&leaf, ((fixture *)*state)->dir, 0));
	sv_assert_ok(vault__backend_stack(&b, leaf, faults));
	return b;
}

/* Retries counted by the whole stack. */
static uint64_t retries(vault_backend *b)
{
	uint64_t n = 0;

	for (; b; b = b->inner)
		n += atomic_load(&b->retries);
	return n;
}

static void name_of(char *dst, unsigned i)
{
	uint8_t id[VAULT_ID_LEN];

	memset(id, 0, sizeof(id));
	id[0] = (uint8_t)(i * 37);
	id[1] = (uint8_t)i;
	vault__name_pack(dst, id);
}

static void bytes_of(uint8_t *buf, unsigned i)
{
	size_t k;

	for (k = 0; k < OBJ_LEN; k++)
		buf[k] = (uint8_t)(k * 7 + i * 13 + (k >> 8));
}

static int count_name(void *ud, const char *name, uint64_t size)
{
	unsigned *seen = ud;
	unsigned i;
	char want[VAULT_NAME_MAX];

	assert_int_equal(size, OBJ_LEN);
	for (i = 0; i < NOBJ; i++) {
		name_of(want, i);
		if (!strcmp(want, name)) {
			seen[i]++;
			return 0;
		}
	}
	fail_msg("unexpected object '%s'", name);
	return 0;
}

static void test_backend_fault__spec_is_parsed_strictly(void **state)
{
	static const char *bad[] = {
		"fail", "fail=", "=1", "fail=1.5", "fail=-1", "fail=x",
		"fail=10%%", "kinds=", "kinds=reset+boom", "kinds=reset+",
		"kinds=+503", "kinds=reset++503", "latency=5", "latency=5m",
		"stall=601s", "seed=-1", "seed=1x", "after=lots", "colour=red",
		"seed=1,,fail=0.1", "seed=1,", ",seed=1", "", NULL
	};
	unsigned backoff = 99;
	size_t i;

	(void)state;
	for (i = 0; bad[i]; i++) {
		if (vault__fault_spec_check(bad[i], &backoff) != SV_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(sv_error_msg(), "SYSVAULT_FAULTS"));
		assert_null(strchr(sv_error_msg(), '\n'));
	}
	sv_assert_ok(vault__fault_spec_check(
		"seed=7,fail=25%,kinds=reset+503+stall+short+corrupt,"
		"latency=0,stall=2s,after=1M,backoff=3ms",
		&backoff));
	assert_int_equal(backoff, 3);
	sv_assert_ok(vault__fault_spec_check("fail=0.25", &backoff));
	assert_int_equal(backoff, 0);
}

/* Every operation through 40 % failures: puts, full and ranged gets,
 * stats, listings (no name twice), deletes. */
static void test_backend_fault__retry_layer_hides_faults(void **state)
{
	vault_backend *b = open_stack(state, BAD);
	uint8_t data[OBJ_LEN];
	char name[VAULT_NAME_MAX];
	unsigned seen[NOBJ], i;
	uint64_t size;
	sv_buf out;

	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	assert_string_equal(b->ops->scheme, "fault");
	for (i = 0; i < NOBJ; i++) {
		name_of(name, i);
		bytes_of(data, i);
		sv_assert_ok(b->ops->put(b, name, data, sizeof(data)));
	}
	for (i = 0; i < NOBJ; i++) {
		name_of(name, i);
		bytes_of(data, i);
		sv_buf_reset(&out);
		sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, &out));
		assert_int_equal(out.len, OBJ_LEN);
		assert_memory_equal(out.ptr, data, OBJ_LEN);
		sv_buf_reset(&out);
		sv_assert_ok(b->ops->get(b, name, 100, 1000, &out));
		assert_int_equal(out.len, 1000);
		assert_memory_equal(out.ptr, data + 100, 1000);
		sv_assert_ok(b->ops->stat(b, name, &size));
		assert_int_equal(size, OBJ_LEN);
	}
	for (i = 0; i < 10; i++) {
		memset(seen, 0, sizeof(seen));
		sv_assert_ok(b->ops->list(b, "data/", count_name, seen));
		for (size = 0; size < NOBJ; size++)
			assert_int_equal(seen[size], 1);
	}
	for (i = 0; i < NOBJ; i++) {
		name_of(name, i);
		sv_assert_ok(b->ops->del(b, name));
		assert_int_equal(b->ops->stat(b, name, &size), SV_ENOTFOUND);
	}
	print_message("%llu retries\n", (unsigned long long)retries(b));
	assert_true(retries(b) > NOBJ / 2);
	sv_buf_release(&out);
	vault__backend_close(b);
}

/* The wrapper alone does fail, and in every advertised way. */
static void test_backend_fault__wrapper_fails_for_real(void **state)
{
	vault_backend *leaf = NULL, *f = NULL;
	uint8_t data[OBJ_LEN];
	char name[VAULT_NAME_MAX];
	int net = 0, timeout = 0, shortread = 0, corrupt = 0, rc;
	unsigned i;
	sv_buf out;

	sv_assert_ok(
		vault__backend_local_open(&leaf, ((fixture *)*state)->dir, 0));
	sv_assert_ok(vault__backend_fault_wrap(
		&f, leaf,
		"seed=3,fail=0.5,kinds=reset+stall+short+corrupt,stall=1ms"));
	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	name_of(name, 1);
	bytes_of(data, 1);
	sv_assert_ok(leaf->ops->put(leaf, name, data, sizeof(data)));
	for (i = 0; i < 200; i++) {
		sv_buf_reset(&out);
		rc = f->ops->get(f, name, 0, 2000, &out);
		net += rc == SV_ENETWORK;
		timeout += rc == SV_ETIMEOUT;
		shortread += rc == 0 && out.len < 2000;
		corrupt += rc == 0 && out.len == 2000 &&
			   memcmp(out.ptr, data, 2000);
	}
	print_message("reset %d, stall %d, short %d, corrupt %d\n", net,
		      timeout, shortread, corrupt);
	assert_true(net > 0 && timeout > 0 && shortread > 0 && corrupt > 0);
	sv_buf_release(&out);
	vault__backend_close(f);
}

/* A put that meets other bytes under the name is refused, whatever the
 * retries; the stored object is left alone. */
static void test_backend_fault__other_bytes_stay_refused(void **state)
{
	vault_backend *b = open_stack(state, BAD);
	uint8_t a[OBJ_LEN], c[OBJ_LEN];
	char name[VAULT_NAME_MAX];
	sv_buf out;
	unsigned i;

	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	bytes_of(a, 1);
	bytes_of(c, 2);
	for (i = 0; i < 10; i++) {
		name_of(name, i);
		sv_assert_ok(b->ops->put(b, name, a, sizeof(a)));
		sv_assert_ok(b->ops->put(b, name, a, sizeof(a)));
		assert_int_equal(b->ops->put(b, name, c, sizeof(c)),
				 SV_EEXISTS);
		sv_buf_reset(&out);
		sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, &out));
		assert_memory_equal(out.ptr, a, sizeof(a));
	}
	sv_buf_release(&out);
	vault__backend_close(b);
}

/* A backend that never answers: bounded attempts, then the error. */
static void test_backend_fault__dead_backend_gives_up(void **state)
{
	vault_backend *b = open_stack(state, "fail=1,kinds=503,backoff=1ms");
	uint8_t data[16] = {0};
	char name[VAULT_NAME_MAX];
	uint64_t size;
	int rc;

	name_of(name, 3);
	rc = b->ops->put(b, name, data, sizeof(data));
	assert_int_equal(rc, SV_ENETWORK);
	assert_non_null(strstr(sv_error_msg(), "503"));
	assert_int_equal(retries(b), 9);
	assert_int_equal(b->ops->stat(b, name, &size), SV_ENETWORK);
	assert_int_equal(retries(b), 18);
	vault__backend_close(b);
}

/* The same seed and the same requests meet the same faults. */
static void test_backend_fault__same_seed_same_faults(void **state)
{
	vault_backend *clean = open_stack(state, NULL), *b;
	uint64_t counts[2];
	uint8_t data[OBJ_LEN];
	char name[VAULT_NAME_MAX];
	unsigned run, i;
	sv_buf out;

	sv_buf_init(&out, SV_BUF_DEFAULT_MAX);
	for (i = 0; i < NOBJ; i++) {
		name_of(name, i);
		bytes_of(data, i);
		sv_assert_ok(clean->ops->put(clean, name, data, sizeof(data)));
	}
	vault__backend_close(clean);
	for (run = 0; run < 2; run++) {
		b = open_stack(state, BAD);
		for (i = 0; i < 3 * NOBJ; i++) {
			name_of(name, i % NOBJ);
			sv_buf_reset(&out);
			sv_assert_ok(b->ops->get(b, name, 10, 500, &out));
		}
		counts[run] = retries(b);
		vault__backend_close(b);
	}
	assert_true(counts[0] > 0);
	assert_int_equal(counts[0], counts[1]);
	sv_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_fault__spec_is_parsed_strictly),
		cmocka_unit_test_setup_teardown(
			test_backend_fault__retry_layer_hides_faults, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_backend_fault__wrapper_fails_for_real, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_backend_fault__other_bytes_stay_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_backend_fault__dead_backend_gives_up, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_backend_fault__same_seed_same_faults, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
