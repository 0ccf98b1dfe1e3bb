/*
 * test_fault_cli.c - the vault over a bad network, through the binary:
 * with SYSVAULT_FAULTS failing a quarter of the requests (resets, 503s,
 * stalls, short answers), backups complete, check passes, restores are
 * bit-exact and the jobs count their retries; corrupted answers never
 * become a wrong file; a vault that never answers loses nothing.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"
#define VERSIONS 3

/* Mixed faults on a quarter of the requests, with short waits. */
#define BAD_NET "SYSVAULT_FAULTS=seed=7,fail=0.25,kinds=reset+503+stall+short," \
		"stall=5ms,backoff=1ms"

typedef struct env {
	char *dir;
	char *vault;
	char *home_env;
	char *home2_env;
	char *home3_env;
	const char *images;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("fault");
	if (!e || !e->dir)
		return -1;
	e->vault = cli_path(e->dir, "vault");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	e->home2_env = sv_aprintf("SYSVAULT_HOME=%s%cstate2", e->dir, SV_PATH_SEP);
	e->home3_env = sv_aprintf("SYSVAULT_HOME=%s%cstate3", e->dir, SV_PATH_SEP);
	e->images = getenv("SV_TEST_FAULT_IMAGES");
	cli_env_vault(e->home_env, "SYSVAULT_PASSPHRASE=" PASS);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	cli_env[3] = NULL;
	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->home_env);
	free(e->home2_env);
	free(e->home3_env);
	free(e);
	return 0;
}

/* ---- helpers ---- */

static void need_images(const env *e)
{
	if (!e->images) {
		print_message("skipped: SV_TEST_FAULT_IMAGES is not set (mkimage.py images)\n");
		skip();
	}
}

/* The faults of the following runs (NULL: none). */
static void faults(const char *spec)
{
	cli_env[3] = spec;
	cli_env[4] = NULL;
}

static char *image_dir(const env *e, int version)
{
	char name[16];

	snprintf(name, sizeof(name), "v%d", version);
	return cli_path(e->images, name);
}

static json_int_t field(const json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_integer(v))
		fail_msg("no integer '%s' in the output", key);
	return json_integer_value(v);
}

static json_t *backup(env *e, int version)
{
	char *src = image_dir(e, version);
	const char *a[] = { "--json", "backup", "--source-dir", src, "--vault",
			    e->vault, "--machine", "SRV-FAULT", NULL };
	json_t *j = cli_json(a, 0);

	free(src);
	return j;
}

/* The job's details as 'jobs show --json' prints them. */
static json_t *job_details(int64_t id)
{
	char num[32];
	const char *a[] = { "--json", "jobs", "show", num, NULL };
	json_t *j, *d;

	snprintf(num, sizeof(num), "%lld", (long long)id);
	j = cli_json(a, 0);
	d = json_object_get(j, "details");
	assert_non_null(d);
	json_incref(d);
	json_decref(j);
	return d;
}

/* Restores point into <dir>/<to> (threads as given); returns its JSON. */
static json_t *restore(env *e, const char *point, const char *to,
		       const char *threads)
{
	char *out = cli_path(e->dir, to);
	const char *a[] = { "--json", "restore", "--point", point, "--to", out,
			    "--vault", e->vault, "--threads", threads, NULL };
	json_t *j = cli_json(a, 0);

	free(out);
	return j;
}

static void restored_matches(env *e, const char *to, int version)
{
	char *src = image_dir(e, version), *a = cli_path(src, "image.vhdx");
	char *out = cli_path(e->dir, to), *b = cli_path(out, "image.vhdx");

	cli_same_file(a, b);
	free(src);
	free(a);
	free(out);
	free(b);
}

/* ---- tests ---- */

static void test_fault_cli__backups_survive_a_bad_network(void **state)
{
	env *e = *state;
	const char *check[] = { "--json", "vault", "check", "--read-data",
				"--vault", e->vault, NULL };
	char points[VERSIONS][65], to[16];
	json_int_t retries = 0;
	json_t *j, *d;
	cli_run r;
	int i;

	need_images(e);
	faults(BAD_NET);
	cli_init_vault(e->vault);
	for (i = 0; i < VERSIONS; i++) {
		j = backup(e, i + 1);
		retries += field(j, "retries");
		snprintf(points[i], sizeof(points[i]), "%s",
			 json_string_value(json_object_get(j, "point")));
		d = job_details(field(j, "job"));
		assert_int_equal(field(d, "retries"), field(j, "retries"));
		json_decref(d);
		json_decref(j);
	}
	print_message("%d backups over a bad network: %lld retries\n", VERSIONS,
		      (long long)retries);
	assert_true(retries > 0);

	j = cli_json(check, 0);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_true(field(j, "retries") > 0);
	json_decref(j);

	for (i = 0; i < VERSIONS; i++) {
		snprintf(to, sizeof(to), "out%d", i + 1);
		j = restore(e, points[i], to, "4");
		assert_true(field(j, "retries") > 0);
		json_decref(j);
		restored_matches(e, to, i + 1);
	}

	/* Every run said that faults were on. */
	cli_expect(&r, check, 0, "SYSVAULT_FAULTS is set");
	cli_done(&r);
	/* And the vault is whole without them. */
	faults(NULL);
	j = cli_json(check, 0);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(field(j, "retries"), 0);
	assert_int_equal(field(j, "points"), VERSIONS);
	json_decref(j);
}

/* The same seed gives the same failures: single-threaded restores, each
 * from an empty state directory, make the same requests and meet the same
 * faults. */
static void test_fault_cli__faults_repeat_with_the_seed(void **state)
{
	env *e = *state;
	json_t *b, *r1, *r2;
	const char *point;

	need_images(e);
	cli_init_vault(e->vault);
	b = backup(e, 1);
	point = json_string_value(json_object_get(b, "point"));
	faults(BAD_NET);
	cli_env[0] = e->home2_env;
	r1 = restore(e, point, "first", "1");
	cli_env[0] = e->home3_env;
	r2 = restore(e, point, "second", "1");
	cli_env[0] = e->home_env;
	assert_true(field(r1, "retries") > 0);
	assert_int_equal(field(r1, "retries"), field(r2, "retries"));
	restored_matches(e, "first", 1);
	restored_matches(e, "second", 1);
	json_decref(b);
	json_decref(r1);
	json_decref(r2);
}

/* Flipped bytes in answers: the restore fails naming the damage, or
 * succeeds where the flips missed; a wrong file is never left. */
static void test_fault_cli__corrupt_answers_never_make_a_wrong_file(void **state)
{
	env *e = *state;
	char *out = cli_path(e->dir, "out"), *file = cli_path(out, "image.vhdx");
	const char *a[] = { "restore", "--point", "latest", "--to", out,
			    "--vault", e->vault, NULL };
	int is_dir = 0;
	json_t *b;
	cli_run r;

	need_images(e);
	cli_init_vault(e->vault);
	b = backup(e, 2);
	json_decref(b);
	faults("SYSVAULT_FAULTS=seed=3,fail=0.05,kinds=corrupt");
	cli(&r, a);
	print_message("restore with corrupted answers: exit %d: %s\n", r.code,
		      r.err.ptr);
	if (r.code == 0) {
		restored_matches(e, "out", 2);
	} else {
		assert_int_equal(r.code, 2);
		assert_int_equal(sv_fs_stat(file, &is_dir, NULL), SV_ENOTFOUND);
	}
	cli_done(&r);
	free(out);
	free(file);
}

/* The network dies after the first megabytes of a backup: the backup
 * fails after its retries, no point appears, the job records the retries;
 * the next backup uploads nothing again and restores right. */
static void test_fault_cli__dead_network_loses_nothing(void **state)
{
	env *e = *state;
	const char *points[] = { "--json", "points", "--vault", e->vault, NULL };
	const char *jobs[] = { "--json", "jobs", NULL };
	char *src = image_dir(e, 2);
	const char *a[] = { "backup", "--source-dir", src, "--vault", e->vault, NULL };
	json_t *b, *p, *list, *job;
	cli_run r;

	need_images(e);
	cli_init_vault(e->vault);
	b = backup(e, 1);
	json_decref(b);
	faults("SYSVAULT_FAULTS=fail=100%,kinds=reset+503,after=64K,backoff=1ms");
	cli_expect(&r, a, 2, "injected");
	cli_done(&r);
	faults(NULL);
	p = cli_json(points, 0);
	assert_int_equal(json_array_size(p), 1);
	list = cli_json(jobs, 0);
	job = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "failed");
	assert_true(field(json_object_get(job, "details"), "retries") > 0);
	b = backup(e, 2);
	/* The uploaded pack is reused, or was indexed already: an index put
	 * that "failed" with a reset may have been stored. */
	assert_true(field(b, "packs_reused") > 0 || field(b, "bytes_new") == 0);
	json_decref(restore(e, json_string_value(json_object_get(b, "point")),
			    "out", "4"));
	restored_matches(e, "out", 2);
	json_decref(b);
	json_decref(list);
	json_decref(p);
	free(src);
}

/* A cancel is not kept waiting behind the retry layer: with every request
 * failing once the vault is open, and a first delay of 5 s (doubling to
 * 10 s over ten attempts, some 40 s of waiting in all), a backup cancelled
 * with `jobs cancel` while it waits ends within a second or two, and its
 * job is "cancelled". */
static void test_fault_cli__cancel_ends_the_retry_waits(void **state)
{
	env *e = *state;
	char *src = cli_path(e->dir, "src"), *file = cli_path(src, "random");
	const char *a[] = { "backup", "--source-dir", src, "--vault", e->vault, NULL };
	char num[32];
	const char *cancel[] = { "jobs", "cancel", num, NULL };
	static uint32_t data[1 << 18];   /* 1 MiB */
	uint32_t x = 7;
	uint64_t start, took;
	json_t *j;
	cli_bg *bg;
	cli_run r;
	size_t i;

	cli_init_vault(e->vault);
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) { /* incompressible */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = x;
	}
	sv_assert_ok(sv_fs_write_atomic(file, data, sizeof(data), 0));
	faults("SYSVAULT_FAULTS=fail=100%,kinds=reset,after=16K,backoff=5s");
	bg = cli_start(a);
	snprintf(num, sizeof(num), "%lld", (long long)cli_wait_running("backup"));
	sv_time_sleep_ms(1500);   /* the data went; the index put is retried */
	start = sv_time_mono_ms();
	cli_expect(&r, cancel, 0, NULL);
	cli_done(&r);
	cli_wait(bg, &r);
	took = sv_time_mono_ms() - start;
	faults(NULL);
	if (r.code != 4)
		fail_msg("exit %d after jobs cancel (expected 4, cancelled): %s", r.code, r.err.ptr);
	assert_non_null(strstr(r.err.ptr, "cancelled"));
	cli_done(&r);
	/* A generous bound: the job's watcher sees the flag within 0.5 s, a
	 * retry wait notices within 0.1 s; the waits alone last some 40 s. */
	if (took > 6000)
		fail_msg("the cancelled backup ended %llu ms after jobs cancel",
			 (unsigned long long)took);
	j = cli_newest_job();
	assert_string_equal(json_string_value(json_object_get(j, "state")), "cancelled");
	json_decref(j);
	free(file);
	free(src);
}

static void test_fault_cli__malformed_spec_is_refused(void **state)
{
	env *e = *state;
	const char *a[] = { "vault", "init", "--vault", e->vault, NULL };
	static const struct {
		const char *spec;
		const char *says;
	} bad[] = {
		{ "SYSVAULT_FAULTS=fail=2", "fail='2'" },
		{ "SYSVAULT_FAULTS=fail=0.1,kinds=reset+fire", "'fire'" },
		{ "SYSVAULT_FAULTS=seed", "'seed' is not key=value" },
		{ "SYSVAULT_FAULTS=latency=20", "latency='20'" },
		{ "SYSVAULT_FAULTS=speed=1", "unknown key 'speed'" },
	};
	int is_dir = 0;
	size_t i;
	cli_run r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		faults(bad[i].spec);
		cli_expect(&r, a, 2, bad[i].says);
		/* One line, and nothing was created. */
		assert_ptr_equal(strchr(r.err.ptr, '\n'), r.err.ptr + r.err.len - 1);
		cli_done(&r);
		assert_int_equal(sv_fs_stat(e->vault, &is_dir, NULL), SV_ENOTFOUND);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fault_cli__backups_survive_a_bad_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_cli__faults_repeat_with_the_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_cli__corrupt_answers_never_make_a_wrong_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_cli__dead_network_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_cli__malformed_spec_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_cli__cancel_ends_the_retry_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
