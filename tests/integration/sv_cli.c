/*
 * sv_cli.c - running the sysvault binary from integration tests.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_thread.h"
#include "sv_time.h"

const char *cli_env[16];

static int collect(void *ud, int stream, const char *line, size_t len)
{
	cli_run *r = ud;
	sv_buf *b = stream == SV_PROC_STDOUT ? &r->out : &r->err;

	sv_buf_add(b, line, len);
	sv_buf_addc(b, '\n');
	return 0;
}

static char *sysvault_exe(void)
{
	const char *env = getenv("SYSVAULT_EXE");

	return env ? sv_strdup(env) : sv_test_bin("../../agent/sysvault");
}

static int past_deadline(void *ud)
{
	cli_run *r = ud;

	return r->kill_at && sv_time_mono_ms() >= r->kill_at;
}

static void run(cli_run *r, const char *const *args, unsigned kill_after_ms,
		int hard)
{
	const char *argv[40];
	char *exe = sysvault_exe();
	sv_proc_opts o;
	sv_proc_result res;
	int i;

	argv[0] = exe;
	for (i = 0; args[i] && i < 38; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env_set = cli_env;
	o.timeout_ms = 600000;
	o.on_line = collect;
	o.should_stop = past_deadline;
	o.hard_kill = hard;
	o.grace_ms = hard ? 0 : 60000;
	o.ud = r;
	r->kill_at = kill_after_ms ? sv_time_mono_ms() + kill_after_ms : 0;
	sv_buf_init(&r->out, 16 << 20);
	sv_buf_init(&r->err, 16 << 20);
	sv_buf_adds(&r->out, "");
	sv_buf_adds(&r->err, "");
	sv_proc_run(&res, &o);
	/* A polite stop that sysvault honoured still ends in an exit code. */
	r->code = res.exited ? res.exit_code : res.term_signal == 0 && !hard ? -2 : -1;
	free(exe);
}

void cli(cli_run *r, const char *const *args)
{
	run(r, args, 0, 1);
}

void cli_killed(cli_run *r, const char *const *args, unsigned kill_after_ms)
{
	run(r, args, kill_after_ms, 1);
}

void cli_interrupted(cli_run *r, const char *const *args,
		     unsigned interrupt_after_ms)
{
	run(r, args, interrupt_after_ms, 0);
}

void cli_done(cli_run *r)
{
	sv_buf_release(&r->out);
	sv_buf_release(&r->err);
}

struct cli_bg {
	sv_thread *thread;
	const char *const *args;
	cli_run r;
};

static void bg_main(void *arg)
{
	cli_bg *bg = arg;

	run(&bg->r, bg->args, 0, 1);
}

cli_bg *cli_start(const char *const *args)
{
	cli_bg *bg = calloc(1, sizeof(*bg));

	assert_non_null(bg);
	bg->args = args;
	sv_assert_ok(sv_thread_start(&bg->thread, bg_main, bg));
	return bg;
}

void cli_wait(cli_bg *bg, cli_run *r)
{
	sv_thread_join(bg->thread);
	*r = bg->r;
	free(bg);
}

void cli_expect(cli_run *r, const char *const *args, int code,
		const char *in_stderr)
{
	cli(r, args);
	if (r->code != code)
		fail_msg("exit %d (expected %d)\nstdout: %s\nstderr: %s", r->code,
			 code, r->out.ptr, r->err.ptr);
	if (in_stderr && !strstr(r->err.ptr, in_stderr))
		fail_msg("stderr lacks '%s': %s", in_stderr, r->err.ptr);
}

char *cli_path(const char *dir, const char *name)
{
	char *p = sv_path_join(dir, name);

	assert_non_null(p);
	return p;
}

void cli_env_vault(const char *home_env, const char *pass_env)
{
	cli_env[0] = home_env;
	cli_env[1] = pass_env;
	cli_env[2] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[CLI_VAULT_SLOTS] = NULL;
}

void cli_check(const char *const *args, int code, const char *in_stderr)
{
	cli_run r;

	cli_expect(&r, args, code, in_stderr);
	cli_done(&r);
}

json_t *cli_json(const char *const *args, int code)
{
	json_t *j = NULL;
	cli_run r;

	cli_expect(&r, args, code, NULL);
	if (sv_json_parse(&j, r.out.ptr, r.out.len, "sysvault output") < 0)
		fail_msg("%s %s: not JSON: %s (stderr: %s)", args[0],
			 args[1] ? args[1] : "", r.out.ptr, r.err.ptr);
	cli_done(&r);
	return j;
}

void cli_init_vault(const char *vault)
{
	const char *a[] = { "vault", "init", "--vault", vault, NULL };

	cli_check(a, 0, NULL);
}

void cli_same_file(const char *a, const char *b)
{
	char *da = NULL, *db = NULL;
	size_t la = 0, lb = 0;

	sv_assert_ok(sv_fs_read_all(&da, &la, a, (size_t)1 << 30));
	sv_assert_ok(sv_fs_read_all(&db, &lb, b, (size_t)1 << 30));
	if (la != lb || memcmp(da, db, la) != 0)
		fail_msg("'%s' differs from '%s'", b, a);
	free(da);
	free(db);
}

void cli_sim_env(cli_sim *s, const char *dir, const char *state,
		 const char *wbadmin, const char *pass_env,
		 const char *size_env)
{
	memset(s, 0, sizeof(*s));
	s->home_env = sv_aprintf("SYSVAULT_HOME=%s", state);
	s->wbadmin_env = sv_aprintf("SYSVAULT_WBADMIN=%s", wbadmin);
	s->sim_env = sv_aprintf("WBADMIN_SIM_STATE=%s%csim", dir, SV_PATH_SEP);
	cli_env[0] = s->home_env;
	cli_env[1] = pass_env;
	cli_env[2] = s->wbadmin_env;
	cli_env[3] = size_env;
	cli_env[4] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[5] = s->sim_env;
	cli_env[6] = "WBADMIN_SIM_LANG=";
	cli_env[CLI_SIM_SLOTS] = NULL;
	cli_sim_fail(s, NULL);
}

void cli_sim_fail(cli_sim *s, const char *mode)
{
	free(s->fail_env);
	s->fail_env = sv_aprintf("WBADMIN_SIM_FAIL=%s", mode ? mode : "");
	cli_env[7] = s->fail_env;
}

void cli_sim_free(cli_sim *s)
{
	free(s->home_env);
	free(s->wbadmin_env);
	free(s->sim_env);
	free(s->fail_env);
	memset(s, 0, sizeof(*s));
}

void cli_stop_sim(const char *wbadmin)
{
	const char *argv[] = { wbadmin, "stop", "job", "-quiet", NULL };
	sv_proc_opts o;
	sv_proc_result res;

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env_set = cli_env;
	o.timeout_ms = 30000;
	sv_proc_run(&res, &o);
}

json_t *cli_newest_job(void)
{
	const char *a[] = { "--json", "jobs", "--limit", "1", NULL };
	json_t *list = NULL, *j;
	cli_run r;

	cli_expect(&r, a, 0, NULL);
	sv_assert_ok(sv_json_parse(&list, r.out.ptr, r.out.len, "jobs --json"));
	cli_done(&r);
	j = json_incref(json_array_get(list, 0));
	json_decref(list);
	return j;
}

int64_t cli_wait_running(const char *kind)
{
	uint64_t until = sv_time_mono_ms() + 60000;
	int64_t id = 0;
	json_t *j;

	while (!id && sv_time_mono_ms() < until) {
		const char *state, *k;

		j = cli_newest_job();
		state = json_string_value(json_object_get(j, "state"));
		k = json_string_value(json_object_get(j, "kind"));
		if (state && k && !strcmp(state, "running") && !strcmp(k, kind))
			id = (int64_t)json_integer_value(json_object_get(j, "id"));
		json_decref(j);
		if (!id)
			sv_time_sleep_ms(100);
	}
	if (!id)
		fail_msg("no running %s job within 60 s", kind);
	return id;
}
