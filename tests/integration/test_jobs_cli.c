/*
 * test_jobs_cli.c - the job store through the binary, with the wbadmin
 * simulator: completed and failed jobs with their stable codes, skipped
 * preflight checks in the details, a killed backup found interrupted, the
 * one-backup lock, `jobs cancel` stopping a backup in the wbadmin phase
 * and during upload and a restore (which keeps and names the files it
 * finished), a job still running after 30 days failed regardless (an
 * injected clock), the log file of every job, and --json on every data
 * command.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "jobs.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"

typedef struct env {
	char *dir, *vault;
	char *state, *wbadmin;
	cli_sim sim;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("jobs");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->vault = sv_path_join(e->dir, "vault");
	e->state = sv_path_join(e->dir, "state");
	cli_sim_env(&e->sim, e->dir, e->state, e->wbadmin,
		    "SYSVAULT_PASSPHRASE=" PASS, "WBADMIN_SIM_SIZE=8M");
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->state);
	cli_sim_free(&e->sim);
	free(e->wbadmin);
	free(e);
	return 0;
}

/* `jobs show <id> --json`. */
static json_t *job(int64_t id)
{
	char num[32];
	const char *a[] = { "--json", "jobs", "show", num, NULL };

	snprintf(num, sizeof(num), "%lld", (long long)id);
	return cli_json(a, 0);
}

static const char *s(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));

	return v ? v : "";
}

static int64_t n(json_t *j, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(j, key));
}

static void assert_job(json_t *j, const char *state, const char *code)
{
	if (strcmp(s(j, "state"), state) || (code && strcmp(s(j, "error_code"), code))) {
		char *dump = sv_json_dump(j, 1);

		fail_msg("expected a %s job (%s): %s", state, code ? code : "no code", dump);
	}
}

/* The job's log file: named by `jobs show`, in <state>/logs, holding its
 * lines (with want, and the end line with end), never the passphrase. */
static void assert_log(json_t *j, const char *want, const char *end)
{
	char name[64], *text = NULL, *line;
	const char *path = s(j, "log");
	size_t len;

	snprintf(name, sizeof(name), "%clogs%cjob-%lld.log", SV_PATH_SEP, SV_PATH_SEP,
		 (long long)n(j, "id"));
	if (!sv_str_endswith(path, name))
		fail_msg("jobs show names the log '%s', expected .../state%s", path, name);
	assert_string_equal(s(json_object_get(j, "details"), "log"), path);
	sv_assert_ok(sv_fs_read_all(&text, &len, path, 16 << 20));
	if (!strstr(text, want))
		fail_msg("the job log lacks '%s':\n%s", want, text);
	line = sv_aprintf("info job %lld: %s", (long long)n(j, "id"), end);
	if (!strstr(text, line))
		fail_msg("the job log lacks '%s':\n%s", line, text);
	assert_null(strstr(text, PASS));
	free(line);
	free(text);
}

static void test_jobs_cli__completed_and_failed_backups(void **state)
{
	env *e = *state;
	const char *a[] = { "--json", "backup", CLI_SKIPS "--vault", e->vault, NULL };
	json_t *sum, *j;
	cli_run r;

	cli_init_vault(e->vault);
	sum = cli_json(a, 0);
	j = job(n(sum, "job"));
	assert_job(j, "completed", NULL);
	assert_string_equal(s(j, "kind"), "backup");
	assert_int_equal(n(j, "bytes_read"), n(sum, "bytes_read"));
	assert_true(n(j, "bytes_stored") > 0);
	assert_string_equal(s(json_object_get(j, "details"), "point"), s(sum, "point"));
	assert_log(j, "wbadmin: ", "completed");
	json_decref(j);
	json_decref(sum);

	cli_sim_fail(&e->sim, "vss_timeout");
	cli_expect(&r, a, 2, "WSB_VSS_TIMEOUT");
	cli_done(&r);
	j = cli_newest_job();
	assert_job(j, "failed", "WSB_VSS_TIMEOUT");
	assert_non_null(strstr(s(j, "message"), "Fix:"));
	assert_log(j, "0x800423F2", "failed WSB_VSS_TIMEOUT: ");
	assert_int_equal(n(j, "bytes_stored"), 0);
	json_decref(j);
	{
		const char *b[] = { "--json", "jobs", NULL };
		json_t *list = cli_json(b, 0);

		assert_int_equal(json_array_size(list), 2);
		json_decref(list);
	}
}

#ifndef _WIN32
#include <unistd.h>

static void test_jobs_cli__preflight_failure_and_skipped_checks(void **state)
{
	env *e = *state;
	char *real = sv_path_join(e->dir, "scratch-real"), *link = sv_path_join(e->dir, "scratch-link");
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, "--scratch", link, NULL };
	const char *b[] = { "backup", CLI_SKIPS "--vault", e->vault, "--scratch", link,
			    "--skip-check", "PF004", NULL };
	const char *host[] = { CLI_SKIPS NULL };
	size_t nskips = (sizeof(host) / sizeof(host[0]) - 1) / 2;
	json_t *j, *skipped;
	cli_run r;

	cli_init_vault(e->vault);
	sv_assert_ok(sv_fs_mkdir_p(real, 0));
	assert_int_equal(symlink(real, link), 0);
	cli_expect(&r, a, 2, "preflight PF004 failed");
	cli_done(&r);
	j = cli_newest_job();
	assert_job(j, "failed", "PF004");
	json_decref(j);
	cli_expect(&r, b, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "(job 2)"));
	cli_done(&r);
	j = cli_newest_job();
	assert_job(j, "completed", NULL);
	skipped = json_object_get(json_object_get(j, "details"), "skipped_checks");
	/* The job records every skipped check: the host's (CLI_SKIPS), then
	 * the administrator's PF004, in the order given. */
	assert_int_equal(json_array_size(skipped), nskips + 1);
	assert_string_equal(json_string_value(json_array_get(skipped, nskips)), "PF004");
	json_decref(j);
	free(real);
	free(link);
}
#endif

static void test_jobs_cli__killed_backup_is_interrupted(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault,
			    "--wbadmin-timeout", "120s", NULL };
	json_t *j;
	cli_run r;
	char pid[64];

	cli_init_vault(e->vault);
	cli_sim_fail(&e->sim, "hang");
	cli_killed(&r, a, 3000);
	assert_int_equal(r.code, -1);
	cli_done(&r);
	cli_sim_fail(&e->sim, NULL);
	cli_stop_sim(e->wbadmin);
	/* The next start of sysvault finds the job's process gone. */
	j = cli_newest_job();
	assert_job(j, "failed", "INTERRUPTED");
	snprintf(pid, sizeof(pid), "(pid %lld) ended without finishing", (long long)n(j, "pid"));
	assert_non_null(strstr(s(j, "message"), pid));
	assert_non_null(json_string_value(json_object_get(j, "ended")));
	json_decref(j);
}

static void test_jobs_cli__one_backup_at_a_time_and_cancel(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault,
			    "--wbadmin-timeout", "120s", NULL };
	char num[32], want[96];
	const char *cancel[] = { "jobs", "cancel", num, NULL };
	cli_bg *bg;
	json_t *j;
	cli_run r;
	uint64_t t0;
	int64_t id;

	cli_init_vault(e->vault);
	cli_sim_fail(&e->sim, "hang");
	bg = cli_start(a);
	id = cli_wait_running("backup");
	sv_time_sleep_ms(1000);   /* let it reach wbadmin */
	snprintf(want, sizeof(want), "a backup is already running: job %lld (pid", (long long)id);
	cli_expect(&r, a, 2, want);
	cli_done(&r);

	snprintf(num, sizeof(num), "%lld", (long long)id);
	cli_expect(&r, cancel, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "within 2 s"));
	cli_done(&r);
	t0 = sv_time_mono_ms();
	cli_wait(bg, &r);
	if (r.code != 4)
		fail_msg("exit %d after jobs cancel (expected 4): %s", r.code, r.err.ptr);
	assert_true(sv_time_mono_ms() - t0 < 20000);
	cli_done(&r);
	cli_sim_fail(&e->sim, NULL);
	j = job(id);
	assert_job(j, "cancelled", NULL);
	assert_true(json_is_true(json_object_get(j, "cancel_requested")));
	json_decref(j);
	snprintf(want, sizeof(want), "job %lld is not running", (long long)id);
	cli_expect(&r, cancel, 2, want);
	cli_done(&r);
	{
		const char *none[] = { "jobs", "show", "999", NULL };

		cli_expect(&r, none, 2, "no job 999");
		cli_done(&r);
	}
}

/* ---- a job still running after 30 days ---- */

static void noop_cancel(void *ud)
{
	(void)ud;
}

/* The job is begun here, by this live process, on an injected clock: it
 * started 30 days and 10 s before T and its heartbeat is fresh at T. */
static void test_jobs_cli__running_after_30_days_is_failed(void **state)
{
	env *e = *state;
	const int64_t T = 1900000000;
	char *home = sv_path_join(e->dir, "state"), fake[64], beat[32];
	const char *list[] = { "--json", "jobs", NULL };
	sv_jobs *st = NULL;
	sv_jobs_watch *w = NULL;
	uint64_t until;
	json_t *j = NULL, *arr;
	int64_t id;

	sv_time_set_fake(T - SV_JOB_MAX_AGE_S - 10);
	sv_assert_ok(sv_jobs_open(&st, home));
	sv_assert_ok(sv_jobs_begin(st, "backup", NULL, &id));
	sv_time_set_fake(T - 5);
	sv_assert_ok(sv_jobs_watch_start(&w, home, id, noop_cancel, NULL));
	sv_time_format_utc(beat, sizeof(beat), T - 5);
	for (until = sv_time_mono_ms() + 60000; sv_time_mono_ms() < until; sv_time_sleep_ms(200)) {
		json_decref(j);
		sv_assert_ok(sv_jobs_get(st, id, &j));
		if (!strcmp(s(j, "heartbeat"), beat))
			break;
	}
	assert_string_equal(s(j, "heartbeat"), beat);
	json_decref(j);

	/* 20 s before T the job is 30 days minus 10 s old: still running. */
	snprintf(fake, sizeof(fake), "SYSVAULT_FAKE_NOW=%lld", (long long)(T - 20));
	cli_env[CLI_SIM_SLOTS] = fake;
	cli_env[CLI_SIM_SLOTS + 1] = NULL;
	arr = cli_json(list, 0);
	assert_job(json_array_get(arr, 0), "running", NULL);
	json_decref(arr);
	/* At T it is 30 days and 10 s old: failed, though its process lives
	 * and beats. */
	snprintf(fake, sizeof(fake), "SYSVAULT_FAKE_NOW=%lld", (long long)T);
	arr = cli_json(list, 0);
	j = json_array_get(arr, 0);
	assert_job(j, "failed", "INTERRUPTED");
	assert_non_null(strstr(s(j, "message"), "still running after 30 days"));
	json_decref(arr);
	cli_env[CLI_SIM_SLOTS] = NULL;
	sv_jobs_watch_stop(w);
	sv_jobs_close(st);
	sv_time_set_fake(0);
	free(home);
}

/* ---- cancel during upload and during a restore ---- */

/* Deterministic incompressible bytes (xorshift64). */
static void fill(char *buf, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (char)(x >> 24);
	}
}

static void write_file(const char *dir, const char *name, size_t size, uint64_t seed)
{
	char *path = sv_path_join(dir, name), *buf = malloc(size);
	sv_file *f = NULL;

	fill(buf, size, seed);
	sv_assert_ok(sv_file_open(&f, path, SV_O_WRITE | SV_O_CREATE | SV_O_TRUNC));
	sv_assert_ok(sv_file_write(f, buf, size));
	sv_assert_ok(sv_file_close(f));
	free(buf);
	free(path);
}

/* Waits (at most 120 s) until ready(ud), then cancels the newest job (of
 * kind) and returns the background run's result. */
static void cancel_when(cli_bg *bg, const char *kind, int (*ready)(void *), void *ud, cli_run *r)
{
	uint64_t until = sv_time_mono_ms() + 120000;
	char num[32];
	const char *cancel[] = { "--json", "jobs", "cancel", num, NULL };
	json_t *j;
	int64_t id = 0;

	while (sv_time_mono_ms() < until && !ready(ud))
		sv_time_sleep_ms(20);
	j = cli_newest_job();
	assert_string_equal(s(j, "kind"), kind);
	id = n(j, "id");
	json_decref(j);
	snprintf(num, sizeof(num), "%lld", (long long)id);
	j = cli_json(cancel, 0);
	assert_int_equal(n(j, "job"), id);
	assert_true(json_is_true(json_object_get(j, "cancel_requested")));
	json_decref(j);
	cli_wait(bg, r);
	if (r->code != 4)
		fail_msg("exit %d after jobs cancel (expected 4): %s", r->code, r->err.ptr);
}

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sv_thread.h"

/* A source file that never ends: a FIFO fed 64 KiB every 50 ms by a
 * thread until the reader goes away. The backup has uploaded the files
 * before it and cannot finish: a cancel lands in the upload, always. */
typedef struct slow_source {
	char *path;
	volatile int quit;
} slow_source;

static void feed(void *arg)
{
	slow_source *ss = arg;
	char buf[65536];
	int fd = open(ss->path, O_WRONLY), i = 0;

	while (fd >= 0 && !ss->quit) {
		fill(buf, sizeof(buf), (uint64_t)++i);
		if (write(fd, buf, sizeof(buf)) < 0)
			break;   /* EPIPE: the backup closed it */
		sv_time_sleep_ms(50);
	}
	if (fd >= 0)
		close(fd);
}

/* 1 when a pack has reached the vault (data/<xx>/<pack>). */
static int any_file(void *ud, const sv_dirent *d)
{
	(void)ud;
	return d->is_dir ? 0 : 1;
}

static int has_pack(void *ud, const sv_dirent *d)
{
	char *sub;
	int rc;

	if (!d->is_dir)
		return 0;
	sub = sv_path_join(ud, d->name);
	rc = sv_fs_list_dir(sub, any_file, NULL);
	free(sub);
	return rc == 1;
}

static int upload_started(void *ud)
{
	env *e = ud;
	char *data = sv_path_join(e->vault, "data");
	int rc = sv_fs_list_dir(data, has_pack, data);

	free(data);
	return rc == 1;
}

static void test_jobs_cli__cancel_during_upload(void **state)
{
	env *e = *state;
	char *src = sv_path_join(e->dir, "src");
	const char *bk[] = { "backup", "--source-dir", src, "--vault", e->vault, NULL };
	const char *pts[] = { "--json", "points", "--vault", e->vault, NULL };
	slow_source ss;
	sv_thread *t = NULL;
	json_t *j;
	cli_run r;
	int fd;

	cli_init_vault(e->vault);
	signal(SIGPIPE, SIG_IGN);
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	write_file(src, "a-big", 40u << 20, 1);
	ss.path = sv_path_join(src, "m-slow");
	ss.quit = 0;
	assert_int_equal(mkfifo(ss.path, 0600), 0);
	sv_assert_ok(sv_thread_start(&t, feed, &ss));

	cancel_when(cli_start(bk), "backup", upload_started, e, &r);
	assert_non_null(strstr(r.err.ptr, "cancelled"));
	cli_done(&r);
	/* Unblock the feeder if the backup never opened the FIFO. */
	ss.quit = 1;
	fd = open(ss.path, O_RDONLY | O_NONBLOCK);
	sv_thread_join(t);
	if (fd >= 0)
		close(fd);
	j = cli_newest_job();
	assert_job(j, "cancelled", NULL);
	json_decref(j);
	j = cli_json(pts, 0);
	assert_int_equal(json_array_size(j), 0);   /* no recovery point */
	json_decref(j);
	free(ss.path);
	free(src);
}
#endif

/* A restore of many small files, each synced: still going when the
 * first ones are done. */
#define RESTORE_FILES 20000

static int finished_one(void *ud, const sv_dirent *d)
{
	(void)ud;
	return !sv_str_endswith(d->name, ".sv-partial");
}

static int restore_started(void *ud)
{
	return sv_fs_list_dir(ud, finished_one, NULL) == 1;
}

static int no_partial(void *ud, const sv_dirent *d)
{
	(void)ud;
	if (sv_str_endswith(d->name, ".sv-partial"))
		fail_msg("a cancelled restore left '%s'", d->name);
	return 0;
}

static void test_jobs_cli__cancel_during_restore(void **state)
{
	env *e = *state;
	char *src = sv_path_join(e->dir, "src"), *to = sv_path_join(e->dir, "restored"), *a, *b;
	const char *bk[] = { "backup", "--source-dir", src, "--vault", e->vault, NULL };
	const char *rs[] = { "restore", "--point", "latest", "--to", to, "--vault", e->vault,
			     "--threads", "1", NULL };
	char name[32];
	json_t *j, *files, *f;
	cli_run r;
	size_t i;

	cli_init_vault(e->vault);
	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	for (i = 0; i < RESTORE_FILES; i++) {
		snprintf(name, sizeof(name), "f-%05zu", i);
		write_file(src, name, 1024, (uint64_t)i + 7);
	}
	cli_expect(&r, bk, 0, NULL);
	cli_done(&r);
	cancel_when(cli_start(rs), "restore", restore_started, to, &r);
	/* It says which: how many, and the file it stopped at. */
	assert_non_null(strstr(r.err.ptr, "files were restored completely before"));
	cli_done(&r);
	j = cli_newest_job();
	assert_job(j, "cancelled", NULL);
	files = json_object_get(json_object_get(j, "details"), "files_restored");
	assert_true(json_array_size(files) >= 1);
	assert_true(n(json_object_get(j, "details"), "files_restored_count") < RESTORE_FILES);
	json_array_foreach(files, i, f) {
		a = sv_path_join(src, json_string_value(f));
		b = sv_path_join(to, json_string_value(f));
		cli_same_file(a, b);
		free(a);
		free(b);
	}
	sv_assert_ok(sv_fs_list_dir(to, no_partial, NULL));
	json_decref(j);
	free(src);
	free(to);
}

/* ---- --json on every data command ---- */

static void test_jobs_cli__json_on_every_data_command(void **state)
{
	env *e = *state;
	char *src = sv_path_join(e->dir, "src"), *to = sv_path_join(e->dir, "to");
	char *file = sv_path_join(src, "f");
	const char *const cmds[][16] = {
		{ "--json", "version", NULL },
		{ "--json", "vault", "init", "--vault", e->vault, NULL },
		{ "--json", "backup", "--source-dir", src, "--vault", e->vault, NULL },
		{ "--json", "backup", CLI_SKIPS "--vault", e->vault, NULL },
		{ "--json", "points", "--vault", e->vault, NULL },
		{ "--json", "restore", "--point", "latest", "--to", to, "--vault", e->vault, NULL },
		{ "--json", "vault", "check", "--vault", e->vault, NULL },
		{ "--json", "vault", "sync", "--vault", e->vault, NULL },
		{ "--json", "wsb", "versions", NULL },
		{ "--json", "jobs", NULL },
		{ "--json", "jobs", "show", "1", NULL },
		{ "--json", "schedule", "show", NULL },
		{ "--json", "preflight", NULL },
	};
	json_t *j;
	cli_run r;
	size_t i;

	sv_assert_ok(sv_fs_mkdir_p(src, 0));
	sv_assert_ok(sv_fs_write_atomic(file, "data", 4, 0));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		cli(&r, cmds[i]);
		/* preflight judges this machine: any verdict, but JSON. */
		if (r.code != 0 && strcmp(cmds[i][1], "preflight"))
			fail_msg("sysvault %s %s exited %d: %s", cmds[i][1], cmds[i][2] ? cmds[i][2] : "",
				 r.code, r.err.ptr);
		if (sv_json_parse(&j, r.out.ptr, r.out.len, "stdout") < 0)
			fail_msg("sysvault %s %s --json printed no JSON: %s", cmds[i][1],
				 cmds[i][2] ? cmds[i][2] : "", r.out.ptr);
		json_decref(j);
		cli_done(&r);
	}
	free(src);
	free(to);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jobs_cli__completed_and_failed_backups, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_jobs_cli__preflight_failure_and_skipped_checks, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_jobs_cli__killed_backup_is_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_cli__one_backup_at_a_time_and_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_cli__running_after_30_days_is_failed, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_jobs_cli__cancel_during_upload, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_jobs_cli__cancel_during_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_cli__json_on_every_data_command, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
