/*
 * test_schedule_cli.c - schedule set, show and remove through the binary.
 *
 * Linux: the systemd units are written into a test directory
 * ($SYSVAULT_SYSTEMD_DIR) and a fake systemctl ($SYSVAULT_SYSTEMCTL, a
 * shell script) records what sysvault asks of it. Windows (under Wine):
 * the real `schtasks /Create /XML` of the Wine prefix is tried, and the
 * test prints what Wine does with it.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

typedef struct env {
	char *dir, *state, *home_env;
	char *units, *units_env, *ctl, *ctl_env, *ctl_log;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("schedule");
	if (!e->dir)
		return -1;
	e->state = sv_path_join(e->dir, "state");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s", e->state);
	e->units = sv_path_join(e->dir, "units");
	e->units_env = sv_aprintf("SYSVAULT_SYSTEMD_DIR=%s", e->units);
	e->ctl = sv_path_join(e->dir, "systemctl");
	e->ctl_env = sv_aprintf("SYSVAULT_SYSTEMCTL=%s", e->ctl);
	e->ctl_log = sv_path_join(e->dir, "systemctl.log");
	cli_env[0] = e->home_env;
	cli_env[1] = NULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->state);
	free(e->home_env);
	free(e->units);
	free(e->units_env);
	free(e->ctl);
	free(e->ctl_env);
	free(e->ctl_log);
	free(e);
	return 0;
}

/* config.json's text, or "" when there is none. */
static char *config_text(env *e)
{
	char *path = sv_path_join(e->state, "config.json"), *text = NULL;
	size_t len;

	if (sv_fs_read_all(&text, &len, path, 1 << 20) < 0)
		text = sv_strdup("");
	free(path);
	return text;
}

static void test_schedule_cli__bad_input_changes_nothing(void **state)
{
	env *e = *state;
	static const char *const bad[][8] = {
		{"schedule", "set", "--daily", "25:00", NULL},
		{"schedule", "set", "--daily", "21:00", "--days", "Mon,Funday"},
		{"schedule", "set", "--days", "Mon", NULL},
		{"schedule", "set", "--daily", "21:00", "extra", NULL},
		{"schedule", "show", "extra", NULL},
		{"--state-dir", "relative-state", "schedule", "set", "--daily",
		 "21:00", NULL},
		{"schedule", "set", "--daily", "21:00", "--retain-daily", "3",
		 NULL},
		{"schedule", "set", "--daily", "21:00", "--retain-weekly", "8",
		 NULL},
	};
	static const char *const why[] = {
		"'25:00' is not a time of day",
		"'Funday' in 'Mon,Funday' is not a day",
		"--daily HH:MM is required",
		"unexpected argument 'extra'",
		"unexpected argument 'extra'",
		"the state directory 'relative-state' is relative",
		"--retain-daily",
		"--retain-daily"};
	char *before = config_text(e), *after;
	size_t i;
	cli_run r;

	cli_env[1] = e->units_env;
	cli_env[2] = NULL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cli_expect(&r, bad[i], 3, why[i]);
		cli_done(&r);
	}
	after = config_text(e);
	assert_string_equal(before, after);
	assert_int_equal(sv_fs_stat(e->units, NULL, NULL), SV_ENOTFOUND);
	free(before);
	free(after);
}

#ifndef _WIN32
#include <sys/stat.h>

/* A systemctl that logs its arguments, answers is-active with "active",
 * and fails `enable` when the file <dir>/fail-enable exists. */
static void fake_systemctl(env *e)
{
	char *script = sv_aprintf("#!/bin/sh\n"
				  "echo \"$*\" >> '%s'\n"
				  "case \"$1\" in\n"
				  "  is-active) echo active ;;\n"
				  "  enable) [ -e '%s/fail-enable' ] && { echo "
				  "'Failed to enable' >&2; exit 1; } ;;\n"
				  "esac\n"
				  "exit 0\n",
				  e->ctl_log, e->dir);

	sv_assert_ok(sv_fs_write_atomic(e->ctl, script, strlen(script), 0));
	assert_int_equal(chmod(e->ctl, 0755), 0);
	free(script);
	cli_env[1] = e->units_env;
	cli_env[2] = e->ctl_env;
	cli_env[3] = NULL;
}

static char *read_text(const char *dir, const char *name)
{
	char *path = sv_path_join(dir, name), *text = NULL;
	size_t len;

	sv_assert_ok(sv_fs_read_all(&text, &len, path, 1 << 20));
	free(path);
	return text;
}

static void test_schedule_cli__systemd_set_show_remove(void **state)
{
	env *e = *state;
	const char *set[] = {"--json", "schedule", "set",     "--daily",
			     "21:00",  "--days",   "Wed,Mon", NULL};
	const char *show[] = {"--json", "schedule", "show", NULL};
	const char *rm[] = {"--json", "schedule", "remove", NULL};
	char *timer, *service, *log, *want;
	json_t *j;

	fake_systemctl(e);
	j = cli_json(set, 0);
	assert_string_equal(json_string_value(json_object_get(j, "mechanism")),
			    "systemd");
	assert_true(json_is_true(json_object_get(j, "enabled")));
	json_decref(j);

	timer = read_text(e->units, "sysvault-backup.timer");
	service = read_text(e->units, "sysvault-backup.service");
	assert_non_null(strstr(timer, "\nOnCalendar=Mon,Wed *-*-* 21:00:00\n"));
	assert_non_null(strstr(timer, "\nPersistent=true\n"));
	want = sv_aprintf("--state-dir \"%s\" backup --scheduled\n", e->state);
	assert_non_null(strstr(service, want));
	assert_non_null(strstr(service, "ExecStart=\"/")); /* the full path */
	free(want);
	log = read_text(e->dir, "systemctl.log");
	assert_string_equal(
		log, "daemon-reload\nenable --now sysvault-backup.timer\n");
	free(log);
	free(timer);
	free(service);

	/* The shape the retention side reads. */
	log = config_text(e);
	sv_assert_ok(sv_json_parse(&j, log, strlen(log), "config.json"));
	free(log);
	log = sv_json_dump(json_object_get(j, "schedule"), 0);
	assert_string_equal(log,
			    "{\"time\":\"21:00\",\"days\":[\"Mon\",\"Wed\"]}");
	free(log);
	json_decref(j);

	j = cli_json(show, 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "schedule"), "time")),
			    "21:00");
	assert_true(json_is_true(
		json_object_get(json_object_get(j, "system"), "installed")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "system"),
						  "timer_state")),
		"active");
	json_decref(j);

	j = cli_json(rm, 0);
	assert_true(json_is_true(json_object_get(j, "removed")));
	json_decref(j);
	assert_int_equal(sv_fs_stat(e->units, NULL, NULL), 0);
	{
		char *p = sv_path_join(e->units, "sysvault-backup.timer");

		assert_int_equal(sv_fs_stat(p, NULL, NULL), SV_ENOTFOUND);
		free(p);
	}
	log = read_text(e->dir, "systemctl.log");
	assert_non_null(strstr(
		log, "\ndisable --now sysvault-backup.timer\ndaemon-reload\n"));
	free(log);
	j = cli_json(show, 0);
	assert_true(json_is_null(json_object_get(j, "schedule")));
	assert_false(json_is_true(
		json_object_get(json_object_get(j, "system"), "installed")));
	json_decref(j);
}

/* A schedule asked for but missing from the system is a warning (exit 1);
 * a failed enable keeps the earlier setting. */
static void test_schedule_cli__failures_keep_the_earlier_schedule(void **state)
{
	env *e = *state;
	const char *first[] = {"schedule", "set", "--daily", "03:15", NULL};
	const char *second[] = {"schedule", "set", "--daily", "22:00",
				"--days",   "Fri", "--retain-daily", "30", NULL};
	const char *show[] = {"schedule", "show", NULL};
	char *flag = sv_path_join(e->dir, "fail-enable"), *before, *after,
	     *timer;
	cli_run r;

	fake_systemctl(e);
	cli_expect(&r, first, 0, NULL);
	assert_non_null(strstr(r.out.ptr,
			       "scheduled: every day at 03:15 (local time)"));
	cli_done(&r);
	before = config_text(e);
	sv_assert_ok(sv_fs_write_atomic(flag, "", 0, 0));
	cli_expect(&r, second, 2,
		   "'systemctl enable --now sysvault-backup.timer' failed "
		   "(exit code 1)");
	cli_done(&r);
	after = config_text(e);
	assert_string_equal(before, after);
	timer = read_text(e->units, "sysvault-backup.timer");
	assert_non_null(strstr(timer, "\nOnCalendar=*-*-* 03:15:00\n"));
	free(timer);

	/* The timer removed by hand: show says so and how to repair it. */
	timer = sv_path_join(e->units, "sysvault-backup.timer");
	sv_assert_ok(sv_fs_remove(timer));
	cli_expect(&r, show, 1, "run 'sysvault schedule set' again");
	assert_non_null(strstr(r.out.ptr, "schedule: every day at 03:15"));
	cli_done(&r);
	free(flag);
	free(before);
	free(after);
	free(timer);
}

/* Retention given with the schedule is merged over the saved policy and
 * saved with it; scheduled backups apply it. */
static void test_schedule_cli__retention_is_saved_with_the_schedule(void **state)
{
	env *e = *state;
	const char *first[] = {"schedule", "set", "--daily", "21:00",
			       "--retain-daily", "30", "--retain-weekly", "8",
			       NULL};
	const char *second[] = {"schedule", "set", "--daily", "22:00",
				"--retain-daily", "14", NULL};
	const char *plain[] = {"schedule", "set", "--daily", "23:00", NULL};
	char *path = sv_path_join(e->state, "config.json");
	json_t *cfg = NULL, *ret;
	cli_run r;
	size_t i;

	fake_systemctl(e);
	for (i = 0; i < 3; i++) {
		cli_expect(&r, i == 0 ? first : i == 1 ? second : plain, 0, NULL);
		cli_done(&r);
	}
	sv_assert_ok(sv_json_load_file(&cfg, path, 1 << 20));
	ret = json_object_get(cfg, "retention");
	assert_int_equal(json_integer_value(json_object_get(ret, "daily")), 14);
	assert_int_equal(json_integer_value(json_object_get(ret, "weekly")), 8);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(cfg, "schedule"), "time")),
			    "23:00");
	json_decref(cfg);
	free(path);
}

/* The installer's uninstall-cleanup removes the schedule the way
 * `schedule remove` does: the units go, the timer is disabled. */
static void test_schedule_cli__uninstall_cleanup_removes_it(void **state)
{
	env *e = *state;
	const char *set[] = {"schedule", "set", "--daily", "21:00", NULL};
	const char *clean[] = {"uninstall-cleanup", NULL};
	char *timer = sv_path_join(e->units, "sysvault-backup.timer"), *log;
	cli_run r;

	fake_systemctl(e);
	cli_expect(&r, set, 0, NULL);
	cli_done(&r);
	assert_int_equal(sv_fs_stat(timer, NULL, NULL), 0);
	cli_expect(&r, clean, 0, NULL);
	assert_non_null(strstr(r.out.ptr, "2 systemd unit file(s) of sysvault-backup removed"));
	cli_done(&r);
	assert_int_equal(sv_fs_stat(timer, NULL, NULL), SV_ENOTFOUND);
	log = read_text(e->dir, "systemctl.log");
	assert_non_null(strstr(log, "\ndisable --now sysvault-backup.timer\n"));
	free(log);
	free(timer);
}
#else

/* The task as the Task Scheduler stored it, or NULL. Wine keeps it as
 * UTF-8 text in %SystemRoot%\System32\Tasks; Windows as UTF-16, readable
 * by administrators only. */
static char *stored_task(void)
{
	char *root = getenv("SystemRoot") ? sv_strdup(getenv("SystemRoot"))
					  : sv_strdup("C:\\windows");
	char *path = sv_aprintf("%s\\System32\\Tasks\\sysvault-backup", root),
	     *text = NULL;
	size_t len;

	if (sv_fs_read_all(&text, &len, path, 1 << 20) < 0)
		text = NULL;
	free(path);
	free(root);
	return text;
}

/*
 * Wine: what `schtasks /Create /XML` does with the task sysvault writes.
 * Wine 8.0 accepts the file (exit 0) and stores the definition, keeping
 * RegistrationInfo and Settings (StartWhenAvailable) but not the
 * CalendarTrigger, the principal or the Exec action, which its task
 * scheduler does not implement; its /Query is a stub (no output, exit 0),
 * so `schedule show` reports the task as not registered; /Delete works.
 */
static void test_schedule_cli__wine_schtasks(void **state)
{
	env *e = *state;
	const char *set[] = {"--json", "schedule", "set",     "--daily",
			     "21:00",  "--days",   "Mon,Wed", NULL};
	const char *show[] = {"--json", "schedule", "show", NULL};
	const char *rm[] = {"--json", "schedule", "remove", NULL};
	char *before = config_text(e), *after, *task;
	json_t *j;
	cli_run r;

	cli(&r, set);
	print_message("wine: schtasks /Create /XML through 'schedule set': "
		      "exit %d\n%s%s",
		      r.code, r.out.ptr ? r.out.ptr : "",
		      r.err.ptr ? r.err.ptr : "");
	if (r.code != 0) {
		/* Refused: one line naming schtasks, and nothing recorded. */
		assert_int_equal(r.code, 2);
		assert_non_null(strstr(r.err.ptr, "schtasks"));
		cli_done(&r);
		after = config_text(e);
		assert_string_equal(before, after);
		free(after);
		free(before);
		return;
	}
	sv_assert_ok(sv_json_parse(&j, r.out.ptr, r.out.len, "schedule set"));
	assert_string_equal(json_string_value(json_object_get(j, "mechanism")),
			    "task_scheduler");
	json_decref(j);
	cli_done(&r);
	task = stored_task();
	print_message("wine: the task as stored:\n%s\n",
		      task ? task : "(not readable)");
	if (task && strstr(task, "<Task"))
		assert_non_null(strstr(
			task, "<StartWhenAvailable>true</StartWhenAvailable>"));
	free(task);

	cli(&r, show);
	print_message(
		"wine: schtasks /Query through 'schedule show': exit %d\n%s%s",
		r.code, r.out.ptr ? r.out.ptr : "", r.err.ptr ? r.err.ptr : "");
	assert_true(r.code == 0 || r.code == 1);
	cli_done(&r);

	j = cli_json(rm, 0);
	assert_true(json_is_true(
		json_object_get(json_object_get(j, "system"), "removed")));
	json_decref(j);
	task = stored_task();
	assert_null(task);
	j = cli_json(rm, 0); /* nothing left to remove is not an error */
	assert_false(json_is_true(
		json_object_get(json_object_get(j, "system"), "removed")));
	assert_false(json_is_true(json_object_get(j, "removed")));
	json_decref(j);
	free(before);
}

/* The installer's uninstall-cleanup deletes the task `schedule set`
 * registered (Wine's /Delete works), and says there is none after. */
static void test_schedule_cli__uninstall_cleanup_removes_it(void **state)
{
	const char *set[] = {"schedule", "set", "--daily", "21:00", NULL};
	const char *clean[] = {"uninstall-cleanup", NULL};
	char *task;
	cli_run r;

	(void)state;
	cli(&r, set);
	if (r.code != 0) {   /* refused by this Wine: see wine_schtasks */
		cli_done(&r);
		skip();
	}
	cli_done(&r);
	cli(&r, clean);
	if (r.code != 0 || !strstr(r.out.ptr, "deleted the scheduled task sysvault-backup"))
		fail_msg("uninstall-cleanup: exit %d: %s%s", r.code, r.out.ptr, r.err.ptr);
	cli_done(&r);
	task = stored_task();
	assert_null(task);
	cli(&r, clean);
	assert_non_null(strstr(r.out.ptr, "there is no scheduled task sysvault-backup"));
	cli_done(&r);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__bad_input_changes_nothing, setup,
			teardown),
#ifndef _WIN32
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__systemd_set_show_remove, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__failures_keep_the_earlier_schedule,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__retention_is_saved_with_the_schedule,
			setup, teardown),
#else
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__wine_schtasks, setup, teardown),
#endif
		cmocka_unit_test_setup_teardown(
			test_schedule_cli__uninstall_cleanup_removes_it, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
