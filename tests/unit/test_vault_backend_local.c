#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_thread.h"
#include "vault_int.h"

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

typedef struct fixture {
	char *dir;
	vault_backend *b;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || !(f->dir = sv_test_tmpdir("backend")))
		return -1;
	return vault__backend_local_open(&f->b, f->dir, 0) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *f = *state;

	if (f->b)
		f->b->ops->close(f->b);
	sv_fs_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static vault_backend *be(void **state)
{
	return ((fixture *)*state)->b;
}

/* "<dir>/<hex of 32 bytes of seed>" (dir "data" gives a pack name). */
static void object_name(char *dst, const char *dir, unsigned seed)
{
	uint8_t id[VAULT_ID_LEN];
	char hex[VAULT_HEX_ID_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(seed * 31u + i * 7u + (seed >> 8));
	sv_hex_encode(hex, id, sizeof(id));
	if (strcmp(dir, "data") == 0)
		snprintf(dst, VAULT_NAME_MAX, "data/%.2s/%s", hex, hex);
	else
		snprintf(dst, VAULT_NAME_MAX, "%s/%s", dir, hex);
}

static void assert_object_is(vault_backend *b, const char *name,
			     const char *want)
{
	sv_buf out;

	sv_buf_init(&out, 1 << 20);
	sv_assert_ok(b->ops->get(b, name, 0, UINT64_MAX, &out));
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.ptr, want, out.len);
	sv_buf_release(&out);
}

/* Writes a file under the vault root directly, as a crash or a user
 * might leave it. */
static void put_raw(void **state, const char *rel, const char *text)
{
	char *p = sv_path_join(((fixture *)*state)->dir, rel);
	char *d = sv_path_dirname(p);

	sv_assert_ok(sv_fs_mkdir_p(d, 0));
	sv_assert_ok(sv_fs_write_atomic(p, text, strlen(text), 0));
	free(d);
	free(p);
}

/* ---- list collection ---- */

#define MAX_SEEN 128

typedef struct seen {
	char names[MAX_SEEN][VAULT_NAME_MAX];
	uint64_t sizes[MAX_SEEN];
	int n;
	int stop_after; /* 0: never */
} seen;

static int collect(void *ud, const char *name, uint64_t size)
{
	seen *s = ud;

	assert_true(s->n < MAX_SEEN);
	sv_strlcpy(s->names[s->n], name, VAULT_NAME_MAX);
	s->sizes[s->n++] = size;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

static int has(const seen *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 1;
	return 0;
}

static void list(vault_backend *b, const char *prefix, seen *s)
{
	memset(s, 0, sizeof(*s));
	sv_assert_ok(b->ops->list(b, prefix, collect, s));
}

/* ---- tests ---- */

static void test_backend_local__put_get_stat_del_round_trip(void **state)
{
	vault_backend *b = be(state);
	char pack[VAULT_NAME_MAX];
	uint64_t size = 0;

	object_name(pack, "data", 1);
	assert_string_equal(b->ops->scheme, "file");
	assert_string_equal(b->url, ((fixture *)*state)->dir);
	sv_assert_ok(b->ops->put(b, "config", "{\"v\":1}", 7));
	sv_assert_ok(b->ops->put(b, pack, "pack bytes", 10));
	assert_object_is(b, "config", "{\"v\":1}");
	assert_object_is(b, pack, "pack bytes");
	sv_assert_ok(b->ops->stat(b, pack, &size));
	assert_true(size == 10);
	sv_assert_ok(b->ops->del(b, pack));
	assert_int_equal(b->ops->stat(b, pack, &size), SV_ENOTFOUND);
	sv_assert_ok(b->ops->del(b, pack)); /* missing is fine */
	sv_assert_ok(b->ops->put(b, pack, "", 0));
	assert_object_is(b, pack, "");
}

static void test_backend_local__put_is_write_once(void **state)
{
	vault_backend *b = be(state);
	char name[VAULT_NAME_MAX];

	object_name(name, "index", 2);
	sv_assert_ok(b->ops->put(b, name, "original", 8));
	assert_int_equal(b->ops->put(b, name, "imposter", 8), SV_EEXISTS);
	assert_non_null(strstr(sv_error_msg(), name));
	assert_int_equal(b->ops->put(b, name, "longer one", 10), SV_EEXISTS);
	assert_int_equal(b->ops->put(b, name, "orig", 4), SV_EEXISTS);
	assert_object_is(b, name, "original");
	/* A retried upload of the same bytes succeeds. */
	sv_assert_ok(b->ops->put(b, name, "original", 8));
	assert_object_is(b, name, "original");
}

static void test_backend_local__ranged_get(void **state)
{
	vault_backend *b = be(state);
	sv_buf out;

	sv_buf_init(&out, 1 << 20);
	sv_assert_ok(b->ops->put(b, "config", "0123456789", 10));
	sv_assert_ok(b->ops->get(b, "config", 2, 3, &out));
	sv_assert_ok(b->ops->get(b, "config", 8, UINT64_MAX, &out));
	sv_assert_ok(b->ops->get(b, "config", 10, 0, &out));
	sv_assert_ok(b->ops->get(b, "config", 10, UINT64_MAX, &out));
	assert_int_equal(out.len, 5); /* appended: "234" then "89" */
	assert_memory_equal(out.ptr, "23489", 5);
	assert_int_equal(b->ops->get(b, "config", 8, 3, &out), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "config"));
	assert_non_null(strstr(sv_error_msg(), "is truncated: expected at "
					       "least 11 bytes"));
	assert_int_equal(b->ops->get(b, "config", 11, UINT64_MAX, &out),
			 SV_ECORRUPT);
	assert_int_equal(b->ops->get(b, "config", UINT64_MAX - 1, 5, &out),
			 SV_EINVAL);
	assert_int_equal(out.len, 5); /* failures append nothing */
	sv_buf_release(&out);
}

static void test_backend_local__get_respects_buffer_limit(void **state)
{
	vault_backend *b = be(state);
	sv_buf out;

	sv_buf_init(&out, 4);
	sv_assert_ok(b->ops->put(b, "config", "0123456789", 10));
	assert_int_equal(b->ops->get(b, "config", 0, UINT64_MAX, &out),
			 SV_ENOMEM);
	sv_assert_ok(b->ops->get(b, "config", 6, UINT64_MAX, &out));
	assert_string_equal(out.ptr, "6789");
	sv_buf_release(&out);
}

static void test_backend_local__missing_object_is_not_found(void **state)
{
	vault_backend *b = be(state);
	char name[VAULT_NAME_MAX];
	uint64_t size;
	sv_buf out;

	object_name(name, "points", 3);
	sv_buf_init(&out, 1 << 20);
	assert_int_equal(b->ops->get(b, name, 0, UINT64_MAX, &out),
			 SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), name + 7));
	assert_int_equal(b->ops->get(b, "config", 0, 1, &out), SV_ENOTFOUND);
	assert_int_equal(b->ops->stat(b, name, &size), SV_ENOTFOUND);
	assert_int_equal(out.len, 0);
	sv_buf_release(&out);
}

static void test_backend_local__rejects_names_outside_the_format(void **state)
{
	vault_backend *b = be(state);
	char pack[VAULT_NAME_MAX];
	uint64_t size;

	object_name(pack, "data", 4);
	pack[5] = pack[5] == 'a' ? 'b' : 'a'; /* directory != id prefix */
	assert_int_equal(b->ops->put(b, "../escape", "x", 1), SV_EINVAL);
	assert_int_equal(b->ops->put(b, pack, "x", 1), SV_EINVAL);
	assert_int_equal(
		b->ops->put(b, "keys/ABCDEF0123456789abcdef0123456789", "x", 1),
		SV_EINVAL);
	assert_int_equal(b->ops->put(b, "keys/00", "x", 1), SV_EINVAL);
	assert_int_equal(b->ops->stat(b, "config.tmp-1234", &size), SV_EINVAL);
	assert_int_equal(b->ops->del(b, "data"), SV_EINVAL);
	assert_int_equal(b->ops->put(b, "", "x", 1), SV_EINVAL);
}

static void test_backend_local__list_by_prefix(void **state)
{
	vault_backend *b = be(state);
	char p1[VAULT_NAME_MAX], p2[VAULT_NAME_MAX], ix[VAULT_NAME_MAX];
	char key[VAULT_NAME_MAX], tmp[VAULT_NAME_MAX + 16], sub[16];
	seen s;

	object_name(p1, "data", 5);
	object_name(p2, "data", 6);
	object_name(ix, "index", 7);
	snprintf(key, sizeof(key), "keys/%032x", 0xabcu);
	sv_assert_ok(b->ops->put(b, p1, "one", 3));
	sv_assert_ok(b->ops->put(b, p2, "two!", 4));
	sv_assert_ok(b->ops->put(b, ix, "index", 5));
	sv_assert_ok(b->ops->put(b, key, "key", 3));
	sv_assert_ok(b->ops->put(b, "config", "cfg", 3));
	/* What a crash or a person may leave: none of it is an object. */
	snprintf(tmp, sizeof(tmp), "%s.tmp-0123abcd", p1);
	put_raw(state, tmp, "partial");
	put_raw(state, "config.tmp-99", "partial");
	put_raw(state, "README.txt", "hello");
	put_raw(state, "data/zz/notes", "foreign");
	put_raw(state, "index/short", "foreign");
	put_raw(state, "other/deep/thing", "foreign");

	list(b, "data/", &s);
	assert_int_equal(s.n, 2);
	assert_true(has(&s, p1) && has(&s, p2));
	assert_true(s.sizes[strcmp(s.names[0], p1) == 0 ? 0 : 1] == 3);
	list(b, "index/", &s);
	assert_int_equal(s.n, 1);
	assert_true(has(&s, ix));
	list(b, "", &s);
	assert_int_equal(s.n, 5);
	assert_true(has(&s, "config") && has(&s, key) && has(&s, ix));
	snprintf(sub, sizeof(sub), "data/%.2s/%.1s", p1 + 5, p1 + 8);
	list(b, sub, &s);
	assert_int_equal(s.n, 1);
	assert_true(has(&s, p1));
	list(b, "locks/", &s); /* no such directory yet */
	assert_int_equal(s.n, 0);
	list(b, "nothing/", &s);
	assert_int_equal(s.n, 0);
}

static void test_backend_local__list_stops_on_callback_result(void **state)
{
	vault_backend *b = be(state);
	char name[VAULT_NAME_MAX];
	seen s;
	unsigned i;

	for (i = 0; i < 5; i++) {
		object_name(name, "data", 100 + i);
		sv_assert_ok(b->ops->put(b, name, "x", 1));
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(b->ops->list(b, "data/", collect, &s), 42);
	assert_int_equal(s.n, 2);
}

static void test_backend_local__open_missing_dir_is_not_found(void **state)
{
	char *dir = sv_path_join(((fixture *)*state)->dir, "new/vault");
	vault_backend *b = NULL;

	assert_int_equal(vault__backend_local_open(&b, dir, 0), SV_ENOTFOUND);
	assert_null(b);
	assert_non_null(strstr(sv_error_msg(), "no vault at"));
	assert_non_null(strstr(sv_error_msg(), dir));
	sv_assert_ok(vault__backend_local_open(&b, dir, 1));
	assert_string_equal(b->url, dir);
	sv_assert_ok(b->ops->put(b, "config", "x", 1));
	b->ops->close(b);
	sv_assert_ok(vault__backend_local_open(&b, dir, 0));
	assert_object_is(b, "config", "x");
	b->ops->close(b);
	free(dir);
}

static void test_backend_local__removed_root_is_reported(void **state)
{
	char *dir = sv_path_join(((fixture *)*state)->dir, "gone");
	char name[VAULT_NAME_MAX];
	vault_backend *b = NULL;
	seen s;

	object_name(name, "data", 8);
	sv_assert_ok(vault__backend_local_open(&b, dir, 1));
	sv_assert_ok(sv_fs_remove_tree(dir));
	assert_int_equal(b->ops->put(b, name, "x", 1), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "no vault at"));
	assert_int_equal(sv_fs_stat(dir, NULL, NULL), SV_ENOTFOUND);
	assert_int_equal(b->ops->list(b, "data/", collect, &s), SV_ENOTFOUND);
	b->ops->close(b);
	free(dir);
}

/* A regular file where data/ should be: creating data/xx/ fails, on every
 * platform and for every user (root included). */
static void test_backend_local__blocked_directory_names_object(void **state)
{
	vault_backend *b = be(state);
	char name[VAULT_NAME_MAX];
	seen s;
	int rc, n = 0;
	char *data = sv_path_join(((fixture *)*state)->dir, "data");
	uint64_t size = 0;

	object_name(name, "data", 9);
	put_raw(state, "data", "not a directory");
	rc = b->ops->put(b, name, "pack", 4);
	assert_int_equal(rc, SV_EIO);
	assert_non_null(strstr(sv_error_msg(), name));
	sv_assert_ok(sv_fs_stat(data, &n, &size));
	assert_false(n);
	assert_true(size == 15);
	list(b, "", &s);
	assert_int_equal(s.n, 0);
	free(data);
}

#ifndef _WIN32
static int count_entries(void *ud, const sv_dirent *e)
{
	(void)e;
	(*(int *)ud)++;
	return 0;
}

static void test_backend_local__read_only_vault_names_object(void **state)
{
	fixture *f = *state;
	vault_backend *b = f->b;
	char name[VAULT_NAME_MAX];
	int n = 0, rc;

	if (geteuid() == 0) {
		print_message("skipped: running as root, which ignores the "
			      "read-only mode (see blocked_directory_names_"
			      "object for a check that holds for root)\n");
		return;
	}
	object_name(name, "index", 10);
	assert_int_equal(chmod(f->dir, 0555), 0);
	rc = b->ops->put(b, "config", "x", 1);
	assert_int_equal(rc, SV_EACCESS);
	assert_non_null(strstr(sv_error_msg(), "'config'"));
	rc = b->ops->put(b, name, "x", 1);
	assert_int_equal(rc, SV_EACCESS);
	assert_non_null(strstr(sv_error_msg(), name));
	assert_int_equal(chmod(f->dir, 0755), 0);
	sv_assert_ok(sv_fs_list_dir(f->dir, count_entries, &n));
	assert_int_equal(n, 0);
}
#endif

/* ---- threads ---- */

#define THREADS 4
#define PER_THREAD 40

typedef struct worker {
	vault_backend *b;
	unsigned first; /* seed of its first object */
	int rc;
	char msg[256];
} worker;

static void put_many(void *arg)
{
	worker *w = arg;
	char name[VAULT_NAME_MAX], body[64];
	unsigned i;

	for (i = 0; i < PER_THREAD && w->rc == 0; i++) {
		object_name(name, i % 2 ? "data" : "index", w->first + i);
		snprintf(body, sizeof(body), "object %u", w->first + i);
		w->rc = w->b->ops->put(w->b, name, body, strlen(body));
	}
	if (w->rc)
		sv_strlcpy(w->msg, sv_error_msg(), sizeof(w->msg));
}

static void run_workers(vault_backend *b, int same_objects)
{
	worker w[THREADS];
	sv_thread *t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].b = b;
		w[i].first =
			same_objects ? 1000 : 1000 + (unsigned)i * PER_THREAD;
		sv_assert_ok(sv_thread_start(&t[i], put_many, &w[i]));
	}
	for (i = 0; i < THREADS; i++)
		sv_thread_join(t[i]);
	for (i = 0; i < THREADS; i++) {
		if (w[i].rc)
			print_error("worker %d: %s\n", i, w[i].msg);
		assert_int_equal(w[i].rc, 0);
	}
}

static void check_workers_output(vault_backend *b, unsigned count)
{
	char name[VAULT_NAME_MAX], body[64];
	unsigned i;
	seen s;

	for (i = 0; i < count; i++) {
		object_name(name, i % PER_THREAD % 2 ? "data" : "index",
			    1000 + i);
		snprintf(body, sizeof(body), "object %u", 1000 + i);
		assert_object_is(b, name, body);
	}
	list(b, "index/", &s);
	assert_int_equal(s.n, (int)count / 2);
}

static void
test_backend_local__concurrent_puts_of_different_objects(void **state)
{
	run_workers(be(state), 0);
	check_workers_output(be(state), THREADS * PER_THREAD);
}

static void test_backend_local__concurrent_puts_of_same_objects(void **state)
{
	run_workers(be(state), 1);
	check_workers_output(be(state), PER_THREAD);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_backend_local__put_get_stat_del_round_trip),
		T(test_backend_local__put_is_write_once),
		T(test_backend_local__ranged_get),
		T(test_backend_local__get_respects_buffer_limit),
		T(test_backend_local__missing_object_is_not_found),
		T(test_backend_local__rejects_names_outside_the_format),
		T(test_backend_local__list_by_prefix),
		T(test_backend_local__list_stops_on_callback_result),
		T(test_backend_local__open_missing_dir_is_not_found),
		T(test_backend_local__removed_root_is_reported),
		T(test_backend_local__blocked_directory_names_object),
#ifndef _WIN32
		T(test_backend_local__read_only_vault_names_object),
#endif
		T(test_backend_local__concurrent_puts_of_different_objects),
		T(test_backend_local__concurrent_puts_of_same_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
