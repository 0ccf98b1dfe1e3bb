/*
 * test_events_cli.c - every job's end is one event, through the binary:
 * $SYSVAULT_EVENT_FILE receives the same line the system log gets, for a
 * completed, a failed, a preflight-stopped, an interrupted and a cancelled
 * backup (with the wbadmin simulator).
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

#define PASS "correct horse battery staple"

typedef struct env {
	char *dir, *vault, *events;
	char *state, *events_env, *wbadmin;
	cli_sim sim;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("events");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->vault = sv_path_join(e->dir, "vault");
	e->events = sv_path_join(e->dir, "events.log");
	e->state = sv_path_join(e->dir, "state");
	e->events_env = sv_aprintf("SYSVAULT_EVENT_FILE=%s", e->events);
	cli_sim_env(&e->sim, e->dir, e->state, e->wbadmin,
		    "SYSVAULT_PASSPHRASE=" PASS, "WBADMIN_SIM_SIZE=4M");
	cli_env[CLI_SIM_SLOTS] = e->events_env;
	cli_env[CLI_SIM_SLOTS + 1] = NULL;
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
	free(e->events);
	free(e->events_env);
	cli_sim_free(&e->sim);
	free(e->wbadmin);
	free(e);
	return 0;
}

/* The event file holds exactly `lines` lines, and the last one starts
 * with head and contains tail. */
static void expect_event(env *e, size_t lines, const char *head, const char *tail)
{
	char *text = NULL, *last, *p;
	size_t len, n = 0;

	sv_assert_ok(sv_fs_read_all(&text, &len, e->events, 1 << 20));
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	assert_true(len > 0 && text[len - 1] == '\n');
	text[len - 1] = '\0';
	last = strrchr(text, '\n');
	last = last ? last + 1 : text;
	if (n != lines || strncmp(last, head, strlen(head)) || !strstr(last, tail))
		fail_msg("expected event %zu \"%s...%s\", the file has %zu lines:\n%s", lines, head,
			 tail, n, text);
	free(text);
}

static void test_events_cli__completed_and_failed(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, NULL };

	cli_init_vault(e->vault);
	cli_check(a, 0, NULL);
	expect_event(e, 1, "job 1 backup completed (event 1000): ", "stored; code -: -");
	cli_sim_fail(&e->sim, "vss_timeout");
	cli_check(a, 2, "WSB_VSS_TIMEOUT");
	expect_event(e, 2, "job 2 backup failed (event 1002): ", "; code WSB_VSS_TIMEOUT: ");
}

#ifndef _WIN32
#include <unistd.h>

/* A scratch folder behind a symbolic link fails PF004 (test_jobs_cli.c). */
static void test_events_cli__preflight_failure(void **state)
{
	env *e = *state;
	char *real = sv_path_join(e->dir, "scratch-real"), *link = sv_path_join(e->dir, "scratch-link");
	const char *a[] = { "backup", CLI_HOST_SKIPS "--vault", e->vault, "--scratch", link, NULL };

	cli_init_vault(e->vault);
	sv_assert_ok(sv_fs_mkdir_p(real, 0));
	assert_int_equal(symlink(real, link), 0);
	cli_check(a, 2, "preflight PF004 failed");
	expect_event(e, 1, "job 1 backup failed a preflight check (event 1004): ",
		     "; code PF004: preflight PF004 failed");
	free(real);
	free(link);
}
#endif

/* The killed process writes nothing; the next one that opens the job
 * store writes the event for it. */
static void test_events_cli__interrupted_job_reported_by_next_process(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, "--wbadmin-timeout", "120s", NULL };
	const char *jobs[] = { "jobs", NULL };
	int is_dir = 0;
	uint64_t size = 0;
	cli_run r;

	cli_init_vault(e->vault);
	cli_sim_fail(&e->sim, "hang");
	cli_killed(&r, a, 3000);
	assert_int_equal(r.code, -1);
	cli_done(&r);
	cli_sim_fail(&e->sim, NULL);
	cli_stop_sim(e->wbadmin);
	assert_int_equal(sv_fs_stat(e->events, &is_dir, &size), SV_ENOTFOUND);
	cli_check(jobs, 0, NULL);
	expect_event(e, 1, "job 1 backup failed (event 1002): ",
		     "; code INTERRUPTED: interrupted: the sysvault process");
}

static void test_events_cli__cancelled(void **state)
{
	env *e = *state;
	const char *a[] = { "backup", CLI_SKIPS "--vault", e->vault, "--wbadmin-timeout", "120s", NULL };
	const char *cancel[] = { "jobs", "cancel", "1", NULL };
	const char *show[] = { "--json", "jobs", "show", "1", NULL };
	uint64_t until = sv_time_mono_ms() + 60000;
	int running = 0;
	cli_bg *bg;
	cli_run r;

	cli_init_vault(e->vault);
	cli_sim_fail(&e->sim, "hang");
	bg = cli_start(a);
	while (!running && sv_time_mono_ms() < until) {
		cli(&r, show);
		running = r.code == 0 && strstr(r.out.ptr, "\"running\"") != NULL;
		cli_done(&r);
		if (!running)
			sv_time_sleep_ms(200);
	}
	assert_true(running);
	sv_time_sleep_ms(1000);   /* let it reach wbadmin */
	cli_check(cancel, 0, NULL);
	cli_wait(bg, &r);
	assert_int_equal(r.code, 4);
	cli_done(&r);
	cli_sim_fail(&e->sim, NULL);
	expect_event(e, 1, "job 1 backup was cancelled (event 1003): ", "; code -: ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events_cli__completed_and_failed, setup, teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(test_events_cli__preflight_failure, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(test_events_cli__interrupted_job_reported_by_next_process,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_cli__cancelled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
