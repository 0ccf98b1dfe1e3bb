/*
 * test_prune_cli.c - prune at the vault level and through the binary:
 * after a prune `vault check` passes and every remaining point restores
 * bit-exact; --dry-run deletes nothing; a failure injected at every
 * backend operation of a prune leaves a vault check accepts; a backup
 * running on another machine (its lock held) loses nothing; a machine
 * whose cache predates another's prune does not deduplicate against
 * deleted packs; a prune through the binary stops at a safe point on
 * `jobs cancel`, and one killed at any moment leaves a vault `vault check`
 * accepts, in both cases the next prune finishing the work.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_time.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"
#define SHARED_SIZE (600 * 1024)
#define OWN_SIZE (2 * 1024 * 1024)

static uint32_t g_shared = 0;   /* the seed of shared.bin */

typedef struct env {
	char *dir, *vpath, *src, *cache_a, *cache_b, *home;
	vault *a, *b;             /* two machines on one vault */
} env;

/* Incompressible bytes from a seed: each seed its own chunks. */
static char *content(uint32_t seed, size_t n)
{
	char *p = malloc(n);
	size_t i;

	seed = seed * 2654435761u + 1;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (char)(seed >> 23);
	}
	return p;
}

static void write_file(const char *dir, const char *name, uint32_t seed, size_t n)
{
	char *path = sv_path_join(dir, name), *data = content(seed, n);

	sv_assert_ok(sv_fs_write_atomic(path, data, n, 0));
	free(path);
	free(data);
}

static void check_file(const char *dir, const char *name, uint32_t seed, size_t n)
{
	char *path = sv_path_join(dir, name), *want = content(seed, n), *got = NULL;
	size_t len = 0;

	sv_assert_ok(sv_fs_read_all(&got, &len, path, n + 1));
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	free(path);
	free(want);
	free(got);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	vault_init_opts o = { 0 };

	e->dir = sv_test_tmpdir("prune");
	if (!e->dir)
		return -1;
	e->vpath = sv_path_join(e->dir, "vault");
	e->src = sv_path_join(e->dir, "src");
	e->cache_a = sv_path_join(e->dir, "cache-a");
	e->cache_b = sv_path_join(e->dir, "cache-b");
	e->home = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	cli_env_vault(e->home, "SYSVAULT_PASSPHRASE=" PASS);
	o.scrypt_n = 1024;
	sv_assert_ok(vault_init(e->vpath, NULL, PASS, &o, NULL));
	sv_assert_ok(vault_open(&e->a, e->vpath, NULL, PASS, e->cache_a));
	sv_assert_ok(vault_open(&e->b, e->vpath, NULL, PASS, e->cache_b));
	sv_assert_ok(sv_fs_mkdir_p(e->src, 0));
	g_shared = 0;
	write_file(e->src, "shared.bin", 0, SHARED_SIZE);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	vault_close(e->a);
	vault_close(e->b);
	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vpath);
	free(e->src);
	free(e->cache_a);
	free(e->cache_b);
	free(e->home);
	free(e);
	return 0;
}

/* Backs up src with own.bin made from seed; the point id goes to id. */
static void backup(vault *v, const char *src, const char *machine,
		   uint32_t seed, char id[65])
{
	vault_backup_opts o;
	vault_backup_result r;

	write_file(src, "own.bin", seed, OWN_SIZE);
	memset(&o, 0, sizeof(o));
	o.source_dir = src;
	o.machine = machine;
	o.threads = 2;
	sv_assert_ok(vault_backup(v, &o, &r));
	memcpy(id, r.point_id, 65);
}

static void restores(env *e, vault *v, const char *id, uint32_t seed)
{
	char *to = sv_path_join(e->dir, "restored");
	vault_restore_opts o;
	vault_restore_result r;

	sv_fs_remove_tree(to);
	memset(&o, 0, sizeof(o));
	o.point_id = id;
	o.target_dir = to;
	sv_assert_ok(vault_restore(v, &o, &r));
	check_file(to, "shared.bin", g_shared, SHARED_SIZE);
	check_file(to, "own.bin", seed, OWN_SIZE);
	sv_fs_remove_tree(to);
	free(to);
}

static void report_problem(void *ud, const char *object, const char *problem)
{
	(void)ud;
	print_error("%s: %s\n", object, problem);
}

static void check_ok(vault *v)
{
	vault_check_opts o;
	vault_check_result r;

	memset(&o, 0, sizeof(o));
	o.read_data_percent = 100;
	o.problem = report_problem;
	sv_assert_ok(vault_check(v, &o, &r));
	assert_int_equal(r.problems, 0);
}

static int count_cb(void *ud, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	(*(int *)ud)++;
	return 0;
}

static int objects(vault *v, const char *prefix)
{
	int n = 0;

	sv_assert_ok(v->be->ops->list(v->be, prefix, count_cb, &n));
	return n;
}

static void prune(vault *v, const char *id1, const char *id2, int dry_run,
		  vault_prune_result *r)
{
	const char *ids[2] = { id1, id2 };
	vault_prune_opts o;

	memset(&o, 0, sizeof(o));
	o.points = ids;
	o.npoints = id2 ? 2 : 1;
	o.machine = "A";
	o.dry_run = dry_run;
	sv_assert_ok(vault_prune(v, &o, r));
}

static void test_prune__removes_unneeded_packs_and_keeps_the_rest(void **state)
{
	env *e = *state;
	char p[4][65];
	vault_prune_result r;
	int i, packs;

	for (i = 0; i < 4; i++)
		backup(e->a, e->src, "A", (uint32_t)i + 1, p[i]);
	packs = objects(e->a, "data/");
	assert_int_equal(packs, 4);

	/* A dry run says what would go and changes nothing. */
	prune(e->a, p[1], p[2], 1, &r);
	assert_int_equal(r.points_deleted, 2);
	assert_int_equal(r.packs_deleted, 2);
	assert_true(r.bytes_freed > 2 * OWN_SIZE);
	assert_int_equal(objects(e->a, "data/"), packs);
	assert_int_equal(objects(e->a, "points/"), 4);
	assert_int_equal(objects(e->a, "locks/"), 0);

	prune(e->a, p[1], p[2], 0, &r);
	assert_int_equal(r.packs_deleted, 2);
	assert_false(r.data_deferred);
	assert_int_equal(objects(e->a, "data/"), 2);
	assert_int_equal(objects(e->a, "points/"), 2);
	assert_int_equal(objects(e->a, "locks/"), 0);
	check_ok(e->a);
	restores(e, e->a, p[0], 1);
	restores(e, e->a, p[3], 4);

	/* The first pack holds shared.bin, which the last point needs, and
	 * the first point's own data: deleting that point repacks it. */
	prune(e->a, p[0], NULL, 1, &r);
	assert_int_equal(r.packs_repacked, 1);
	assert_int_equal(objects(e->a, "data/"), 2);
	prune(e->a, p[0], NULL, 0, &r);
	assert_int_equal(r.packs_repacked, 1);
	assert_int_equal(r.packs_partial, 0);
	assert_true(r.bytes_freed >= OWN_SIZE);
	assert_int_equal(objects(e->a, "data/"), 2);
	assert_int_equal(objects(e->a, "points/"), 1);
	check_ok(e->a);
	restores(e, e->a, p[3], 4);
	check_ok(e->b);   /* the other machine's cache follows */
	restores(e, e->b, p[3], 4);

	/* An unknown id changes nothing. */
	{
		const char *ids[1] = { p[1] };
		vault_prune_opts o = { .points = ids, .npoints = 1, .machine = "A" };

		assert_int_equal(vault_prune(e->a, &o, &r), SV_ENOTFOUND);
		assert_int_equal(objects(e->a, "points/"), 1);
	}
}

/* Machine B's cache still lists packs A's prune removed: its next backup
 * must store that data again rather than point at deleted packs. */
static void test_prune__another_machine_notices_deleted_packs(void **state)
{
	env *e = *state;
	char p1[65], p2[65];
	vault_prune_result r;

	backup(e->b, e->src, "B", 7, p1);
	prune(e->a, p1, NULL, 0, &r);
	assert_true(r.packs_deleted >= 1);
	backup(e->b, e->src, "B", 7, p2);
	check_ok(e->b);
	restores(e, e->b, p2, 7);
}

/* ---- a backup on another machine while prune runs ---- */

typedef struct race {
	env *e;
	const char *victim;
	int done;
	vault_prune_result r;
} race;

/* Called by B's backup after its lock is taken, while it deduplicates
 * against the victim's chunks: A prunes the victim right then. */
static int prune_meanwhile(void *ud)
{
	race *x = ud;
	const char *ids[1] = { x->victim };
	vault_prune_opts o = { .points = ids, .npoints = 1, .machine = "A" };

	if (!x->done) {
		x->done = 1;
		sv_assert_ok(vault_prune(x->e->a, &o, &x->r));
	}
	return 0;
}

static void test_prune__concurrent_backup_loses_nothing(void **state)
{
	env *e = *state;
	char old[65], *src2 = sv_path_join(e->dir, "src2");
	vault_backup_opts o;
	vault_backup_result br;
	race x;

	memset(&x, 0, sizeof(x));
	backup(e->b, e->src, "B", 11, old);
	/* The new backup holds the old point's data, and more chunks than
	 * one progress step so that the pruning happens mid-way. */
	sv_assert_ok(sv_fs_mkdir_p(src2, 0));
	write_file(src2, "shared.bin", 0, SHARED_SIZE);
	write_file(src2, "zz-more.bin", 12, OWN_SIZE);
	write_file(src2, "own.bin", 11, OWN_SIZE);
	x.e = e;
	x.victim = old;
	memset(&o, 0, sizeof(o));
	o.source_dir = src2;
	o.machine = "B";
	o.threads = 1;
	o.cancel = prune_meanwhile;
	o.ud = &x;
	sv_assert_ok(vault_backup(e->b, &o, &br));
	assert_true(x.done);
	assert_true(x.r.data_deferred);
	assert_non_null(strstr(x.r.deferred_by, "B"));
	assert_int_equal(x.r.points_deleted, 1);
	check_ok(e->a);
	restores(e, e->a, br.point_id, 11);
	/* Later, with no backup running, a prune frees nothing the new point
	 * needs. */
	{
		vault_prune_opts none = { .machine = "A" };
		vault_prune_result r;

		sv_assert_ok(vault_prune(e->a, &none, &r));
		assert_false(r.data_deferred);
		check_ok(e->a);
		restores(e, e->b, br.point_id, 11);
	}
	sv_fs_remove_tree(src2);
	free(src2);
}

/* A second prune while one holds its lock is refused, naming it. */
static void test_prune__two_prunes_at_once_are_refused(void **state)
{
	env *e = *state;
	vault_prune_opts none = { .machine = "A" };
	vault_prune_result r;
	vault_lock other;
	char p[65];

	backup(e->b, e->src, "B", 21, p);
	sv_assert_ok(vault__lock_take(e->b, &other, "prune", "B"));
	assert_int_equal(vault_prune(e->a, &none, &r), SV_EBUSY);
	assert_non_null(strstr(sv_error_msg(), "another prune is running, on B"));
	vault__lock_release(e->b, &other);
	assert_int_equal(objects(e->a, "locks/"), 0);
	sv_assert_ok(vault_prune(e->a, &none, &r));
}

/* A backup that finds a prune's lock waits for it to go. */
typedef struct waiter {
	vault *holder;
	vault_lock *lock;
	int calls;
} waiter;

static int end_prune_while_waiting(void *ud)
{
	waiter *w = ud;

	if (w->calls++ == 0)
		vault__lock_release(w->holder, w->lock);
	return 0;
}

static void test_prune__backup_waits_for_a_running_prune(void **state)
{
	env *e = *state;
	vault_backup_opts o;
	vault_backup_result r;
	vault_lock prune_lock;
	waiter w = { NULL, NULL, 0 };
	char *log = sv_path_join(e->dir, "log.txt"), *text = NULL;
	size_t len = 0;

	sv_assert_ok(sv_log_open_file(log));
	sv_assert_ok(vault__lock_take(e->a, &prune_lock, "prune", "A"));
	w.holder = e->a;
	w.lock = &prune_lock;
	write_file(e->src, "own.bin", 41, OWN_SIZE);
	memset(&o, 0, sizeof(o));
	o.source_dir = e->src;
	o.machine = "B";
	o.cancel = end_prune_while_waiting;
	o.ud = &w;
	sv_assert_ok(vault_backup(e->b, &o, &r));
	sv_log_close();
	sv_assert_ok(sv_fs_read_all(&text, &len, log, 1 << 20));
	assert_non_null(strstr(text, "waiting for the prune of A"));
	assert_int_equal(objects(e->b, "locks/"), 0);
	restores(e, e->b, r.point_id, 41);
	free(text);
	free(log);
}

/* ---- failures at every step ---- */

static vault_backend_ops g_faulty;
static const vault_backend_ops *g_real;
static int g_countdown;

static int fail_now(void)
{
	if (g_countdown-- == 0)
		return 1;
	return 0;
}

static int faulty_put(vault_backend *b, const char *name, const void *d, size_t n)
{
	if (fail_now())
		return sv_error_set(SV_EIO, "injected failure writing %s", name);
	return g_real->put(b, name, d, n);
}

static int faulty_del(vault_backend *b, const char *name)
{
	if (fail_now())
		return sv_error_set(SV_EIO, "injected failure deleting %s", name);
	return g_real->del(b, name);
}

/* A round of the step tests below, at fake time t: new shared data (the
 * first point's pack holds it and that point's own data, so deleting the
 * point repacks), then three points of A with own data seed.. seed+2. */
static void round_points(env *e, int64_t t, uint32_t shared, uint32_t seed,
			 char (*p)[65])
{
	int i;

	sv_time_set_fake(t);
	g_shared = shared;
	write_file(e->src, "shared.bin", g_shared, SHARED_SIZE);
	for (i = 0; i < 3; i++)
		backup(e->a, e->src, "A", seed + (uint32_t)i, p[i]);
}

static void test_prune__a_failure_at_any_step_leaves_a_sound_vault(void **state)
{
	env *e = *state;
	char p[3][65];
	vault_prune_result r;
	int64_t t0 = sv_time_now();
	int step, failed = 1;

	for (step = 0; failed; step++) {
		const char *ids[1];
		vault_prune_opts o;
		char gone[65];
		int rc;

		round_points(e, t0 + step * 7200, 1000u + (uint32_t)step,
			     (uint32_t)(100 * step), p);
		ids[0] = p[0];
		memset(&o, 0, sizeof(o));
		o.points = ids;
		o.npoints = 1;
		o.machine = "A";
		g_real = e->a->be->ops;
		g_faulty = *g_real;
		g_faulty.put = faulty_put;
		g_faulty.del = faulty_del;
		g_countdown = step;
		e->a->be->ops = &g_faulty;
		rc = vault_prune(e->a, &o, &r);
		e->a->be->ops = g_real;
		failed = rc < 0;
		if (rc == 0)
			assert_int_equal(r.packs_repacked, 1);
		assert_true(rc == 0 || strstr(sv_error_msg(), "injected"));
		/* Whatever happened: a sound vault, the other points whole. */
		check_ok(e->a);
		restores(e, e->a, p[1], (uint32_t)(100 * step + 1));
		restores(e, e->a, p[2], (uint32_t)(100 * step + 2));
		/* The next prune finishes the work, once a lock the failed
		 * one may have left (as a crash would) has expired. */
		{
			vault_prune_opts none = { .machine = "A" };

			sv_time_set_fake(t0 + step * 7200 + VAULT_LOCK_TTL + 60);
			sv_assert_ok(vault_prune(e->a, &none, &r));
		}
		check_ok(e->a);
		if (rc == 0)
			assert_int_equal(vault_point_resolve(e->a, p[0], NULL, gone), SV_ENOTFOUND);
		assert_true(step < 40);
	}
	sv_time_set_fake(0);
	assert_true(step > 4);   /* the prune did several writes */
}

static int g_cancel_after;   /* safe points passed before the cancel */

static int cancel_countdown(void *ud)
{
	(void)ud;
	return g_cancel_after-- <= 0;
}

/* A cancel at each safe point in turn: the prune stops there with
 * SV_ECANCELLED, no index object or pack has changed (a rewrite under way
 * is taken back), the vault is sound, and the next prune finishes. */
static void test_prune__a_cancel_at_any_safe_point(void **state)
{
	env *e = *state;
	char p[3][65];
	vault_prune_result r;
	int64_t t0 = sv_time_now();
	int step, cancelled = 1;

	for (step = 0; cancelled; step++) {
		const char *ids[2];
		vault_prune_opts o = { .points = ids, .npoints = 1, .machine = "A",
				       .cancel = cancel_countdown };
		vault_prune_opts none = { .machine = "A" };
		vault_prune_opts rest = { .npoints = 2, .machine = "A" };
		char gone[65];
		uint64_t done;
		int rc, packs, indexes;

		round_points(e, t0 + step * 7200, 2000u + (uint32_t)step,
			     (uint32_t)(100 * step), p);
		ids[0] = p[0];
		packs = objects(e->a, "data/");
		indexes = objects(e->a, "index/");
		g_cancel_after = step;
		rc = vault_prune(e->a, &o, &r);
		cancelled = rc == SV_ECANCELLED;
		assert_true(rc == 0 || cancelled);
		done = cancelled ? 0 : r.packs_deleted + r.packs_repacked;
		if (cancelled) {
			assert_non_null(strstr(sv_error_msg(), "run the prune again"));
			assert_int_equal(objects(e->a, "data/"), packs);
			assert_int_equal(objects(e->a, "index/"), indexes);
		}
		check_ok(e->a);
		restores(e, e->a, p[1], (uint32_t)(100 * step + 1));
		/* Its lock is gone: the next prune runs at once, for the point
		 * when the cancel came before it went. */
		if (vault_point_resolve(e->a, p[0], NULL, gone) == 0)
			o.cancel = NULL;
		sv_assert_ok(vault_prune(e->a, o.cancel ? &none : &o, &r));
		assert_int_equal(vault_point_resolve(e->a, p[0], NULL, gone), SV_ENOTFOUND);
		check_ok(e->a);
		/* The data of p[0] went, in one prune or the other. */
		assert_int_equal(done + r.packs_deleted + r.packs_repacked, 1);
		/* The next round starts with no points: as many safe points. */
		ids[0] = p[1];
		ids[1] = p[2];
		rest.points = ids;
		sv_assert_ok(vault_prune(e->a, &rest, &r));
		assert_true(step < 100);
	}
	sv_time_set_fake(0);
	assert_true(step > 4);   /* several safe points */
}

static void test_prune__cli_dry_run_then_prune(void **state)
{
	env *e = *state;
	char p[3][65];
	cli_run r;
	json_t *j;
	int i;

	for (i = 0; i < 3; i++)
		backup(e->a, e->src, "A", (uint32_t)(50 + i), p[i]);
	{
		const char *a[] = { "vault", "prune", "--vault", e->vpath, NULL };

		cli_expect(&r, a, 3, "no retention policy");
		cli_done(&r);
	}
	{
		const char *a[] = { "vault", "prune", "--vault", e->vpath,
				    "--retain-daily", "3", NULL };

		cli_expect(&r, a, 3, "--retain-daily takes a number of days from 7 to 9999");
		cli_done(&r);
	}
	{
		/* Everything is from "now": a week's policy keeps it all. */
		const char *a[] = { "--json", "vault", "prune", "--vault", e->vpath,
				    "--retain-daily", "7", "--dry-run", NULL };

		j = cli_json(a, 0);
		assert_int_equal(json_integer_value(json_object_get(j, "deleted")), 0);
		assert_int_equal(json_array_size(json_object_get(j, "points")), 3);
		json_decref(j);
	}
	{
		/* Ten days later the daily rule lets all but the newest go
		 * (the newest stays: never prune to zero). */
		char now[64];
		const char *a[] = { "--json", "vault", "prune", "--vault", e->vpath,
				    "--retain-daily", "7", "--dry-run", NULL };
		const char *b[] = { "--json", "vault", "prune", "--vault", e->vpath,
				    "--retain-daily", "7", "--save", NULL };
		int before = objects(e->a, "data/");

		snprintf(now, sizeof(now), "SYSVAULT_FAKE_NOW=%lld",
			 (long long)(sv_time_now() + 10 * 86400));
		cli_env[3] = now;
		cli_env[4] = NULL;
		j = cli_json(a, 0);
		assert_int_equal(json_integer_value(json_object_get(j, "deleted")), 2);
		assert_true(json_integer_value(json_object_get(j, "bytes_freed")) > 0);
		assert_int_equal(objects(e->a, "data/"), before);
		assert_int_equal(objects(e->a, "points/"), 3);
		json_decref(j);
		j = cli_json(b, 0);
		assert_int_equal(json_integer_value(json_object_get(j, "deleted")), 2);
		json_decref(j);
		cli_env[3] = NULL;
		assert_int_equal(objects(e->a, "points/"), 1);
		assert_true(objects(e->a, "data/") < before);
	}
	{
		/* The saved policy is used without options. */
		const char *a[] = { "vault", "prune", "--vault", e->vpath, "--dry-run", NULL };

		cli_expect(&r, a, 0, NULL);
		assert_non_null(strstr(r.out.ptr, "would delete 0 of 1"));
		cli_done(&r);
	}
	check_ok(e->a);
	/* The three share a second: which one the floor keeps is the order of
	 * the listing; it restores whole. */
	for (i = 0; i < 3; i++) {
		char id[65];

		if (vault_point_resolve(e->a, p[i], NULL, id) == 0)
			restores(e, e->a, p[i], (uint32_t)(50 + i));
	}
}

/* Every request of the binary's prunes below waits this long, so that
 * they take seconds: time to cancel or kill them midway. */
#define SLOW "SYSVAULT_FAULTS=latency=150ms"
#define DAY 86400

/* n points of machine A a minute apart, from t0 (the newest is the one a
 * daily policy keeps); ids to p. */
static void points_at(env *e, int64_t t0, int n, char (*p)[65])
{
	int i;

	for (i = 0; i < n; i++) {
		sv_time_set_fake(t0 + i * 60);
		backup(e->a, e->src, "A", (uint32_t)(700 + i), p[i]);
	}
	sv_time_set_fake(0);
}

/* The binary's `vault check` passes, the in-process full read too, and
 * the newest point restores. */
static void sound(env *e, const char *newest, uint32_t seed)
{
	const char *a[] = { "vault", "check", "--vault", e->vpath, NULL };
	cli_run r;

	cli_expect(&r, a, 0, NULL);
	cli_done(&r);
	check_ok(e->a);
	restores(e, e->a, newest, seed);
}

/* A prune of all but the newest, as seen at fake time now. */
static void prune_cli(const env *e, int64_t now, int expect_code)
{
	char fake[64];
	const char *a[] = { "vault", "prune", "--vault", e->vpath,
			    "--retain-daily", "7", NULL };
	cli_run r;

	snprintf(fake, sizeof(fake), "SYSVAULT_FAKE_NOW=%lld", (long long)now);
	cli_env[3] = fake;
	cli_env[4] = NULL;
	cli(&r, a);
	cli_env[3] = NULL;
	if (r.code != expect_code)
		fail_msg("vault prune: exit %d (expected %d): %s", r.code,
			 expect_code, r.err.ptr);
	cli_done(&r);
}

static void test_prune__cli_cancel_stops_at_a_safe_point(void **state)
{
	env *e = *state;
	char p[10][65], fake[64], num[32];
	const char *a[] = { "vault", "prune", "--vault", e->vpath,
			    "--retain-daily", "7", NULL };
	const char *cancel[] = { "jobs", "cancel", num, NULL };
	int64_t t0 = sv_time_now();
	cli_bg *bg;
	cli_run r;
	json_t *j;
	int before;

	points_at(e, t0, 10, p);
	before = objects(e->a, "data/");
	snprintf(fake, sizeof(fake), "SYSVAULT_FAKE_NOW=%lld", (long long)(t0 + 10 * DAY));
	cli_env[3] = fake;
	cli_env[4] = SLOW;
	cli_env[5] = NULL;
	bg = cli_start(a);
	snprintf(num, sizeof(num), "%lld", (long long)cli_wait_running("prune"));
	cli_expect(&r, cancel, 0, NULL);
	cli_done(&r);
	cli_wait(bg, &r);
	cli_env[3] = NULL;
	if (r.code != 4)
		fail_msg("vault prune: exit %d after jobs cancel (expected 4): %s",
			 r.code, r.err.ptr);
	assert_non_null(strstr(r.err.ptr, "run the prune again"));
	cli_done(&r);
	j = cli_newest_job();
	assert_string_equal(json_string_value(json_object_get(j, "state")), "cancelled");
	json_decref(j);
	/* Stopped between steps: nothing half-done, and the next prune
	 * (its lock released, so at once) deletes the rest. */
	assert_true(objects(e->a, "points/") > 1);
	sound(e, p[9], 709);
	prune_cli(e, t0 + 10 * DAY, 0);
	assert_int_equal(objects(e->a, "points/"), 1);
	assert_true(objects(e->a, "data/") < before);
	sound(e, p[9], 709);
}

/* Killed at several moments (lock, points, index rewrite, deletion): each
 * time the vault is sound; the next prune, once the dead one's lock has
 * expired, finishes the work. */
static void test_prune__cli_killed_at_any_moment_leaves_a_sound_vault(void **state)
{
	static const unsigned kill_ms[] = { 300, 900, 1600, 2400, 3500, 5000 };
	env *e = *state;
	char p[12][65], fake[64];
	const char *a[] = { "vault", "prune", "--vault", e->vpath,
			    "--retain-daily", "7", NULL };
	int64_t t0 = sv_time_now(), now = t0 + 10 * DAY;
	int before, killed = 0;
	size_t k;
	cli_run r;

	points_at(e, t0, 12, p);
	before = objects(e->a, "data/");
	for (k = 0; k < sizeof(kill_ms) / sizeof(kill_ms[0]); k++) {
		now += VAULT_LOCK_TTL + 60;
		snprintf(fake, sizeof(fake), "SYSVAULT_FAKE_NOW=%lld", (long long)now);
		cli_env[3] = fake;
		cli_env[4] = SLOW;
		cli_env[5] = NULL;
		cli_killed(&r, a, kill_ms[k]);
		cli_env[3] = NULL;
		if (r.code != -1 && r.code != 0)
			fail_msg("vault prune: exit %d: %s", r.code, r.err.ptr);
		killed += r.code == -1;
		cli_done(&r);
		sound(e, p[11], 711);
	}
	assert_true(killed > 0);
	prune_cli(e, now + VAULT_LOCK_TTL + 60, 0);
	assert_int_equal(objects(e->a, "points/"), 1);
	assert_true(objects(e->a, "data/") < before);
	sound(e, p[11], 711);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prune__removes_unneeded_packs_and_keeps_the_rest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__another_machine_notices_deleted_packs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__concurrent_backup_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__two_prunes_at_once_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__backup_waits_for_a_running_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__a_failure_at_any_step_leaves_a_sound_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__a_cancel_at_any_safe_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__cli_dry_run_then_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__cli_cancel_stops_at_a_safe_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune__cli_killed_at_any_moment_leaves_a_sound_vault, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
