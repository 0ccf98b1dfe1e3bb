#include "sv_test.h"
#include "sv_buf.h"
#include "sv_proc.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/types.h>
#endif
#include "sv_time.h"

typedef struct capture {
	sv_buf out;
	sv_buf err;
	int lines;
	int stop_after;   /* ask to stop after this many lines (0: never) */
	int stops;        /* on_stop calls */
} capture;

static int on_line(void *ud, int stream, const char *line, size_t len)
{
	capture *c = ud;
	sv_buf *b = stream == SV_PROC_STDOUT ? &c->out : &c->err;

	sv_buf_add(b, line, len);
	sv_buf_addc(b, '|');
	c->lines++;
	return c->stop_after && c->lines >= c->stop_after;
}

static void on_stop(void *ud)
{
	((capture *)ud)->stops++;
}

static int run(capture *c, sv_proc_result *res, uint32_t timeout_ms,
	       const char *const *args)
{
	const char *argv[16];
	char *child = sv_test_bin("sv_test_child");
	sv_proc_opts o;
	int i, rc;

	argv[0] = child;
	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = timeout_ms;
	o.grace_ms = 200;
	o.on_line = on_line;
	o.on_stop = on_stop;
	o.ud = c;
	sv_buf_init(&c->out, 1 << 20);
	sv_buf_init(&c->err, 1 << 20);
	rc = sv_proc_run(res, &o);
	free(child);
	return rc;
}

static void release(capture *c)
{
	sv_buf_release(&c->out);
	sv_buf_release(&c->err);
}

static void test_proc__captures_lines_and_exit_code(void **s)
{
	const char *args[] = { "print", "3", "line", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	sv_assert_ok(run(&c, &r, 10000, args));
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(c.out.ptr, "line 0|line 1|line 2|");
	release(&c);
}

static void test_proc__nonzero_exit_is_reported_not_an_error(void **s)
{
	const char *args[] = { "exit", "7", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	sv_assert_ok(run(&c, &r, 10000, args));
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 7);
	release(&c);
}

static void test_proc__stderr_and_crlf(void **s)
{
	const char *a1[] = { "stderr", "failure text", NULL };
	const char *a2[] = { "crlf", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	sv_assert_ok(run(&c, &r, 10000, a1));
	assert_string_equal(c.err.ptr, "failure text|");
	assert_null(c.out.ptr);
	release(&c);
	memset(&c, 0, sizeof(c));
	sv_assert_ok(run(&c, &r, 10000, a2));
	assert_string_equal(c.out.ptr, "a|b|c|");
	release(&c);
}

static void test_proc__arguments_arrive_intact(void **s)
{
	const char *args[] = { "echo-args", "a", "b c", "d\"e", "", "f\\\\g\\", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	sv_assert_ok(run(&c, &r, 10000, args));
	assert_string_equal(c.out.ptr, "a|b c|d\"e||f\\\\g\\|");
	release(&c);
}

static void test_proc__timeout_kills_sleeper(void **s)
{
	const char *args[] = { "sleep", "20000", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	assert_int_equal(run(&c, &r, 500, args), SV_ETIMEOUT);
	assert_true(r.timed_out);
	assert_false(r.exited);
	assert_int_equal(c.stops, 1);
	assert_true(r.elapsed_ms < 10000);
	assert_null(c.out.ptr);   /* it never woke */
	release(&c);
}

static void test_proc__callback_can_cancel(void **s)
{
	const char *args[] = { "print", "100000", "spam", NULL };
	capture c = { 0 };
	sv_proc_result r;

	(void)s;
	c.stop_after = 5;
	assert_int_equal(run(&c, &r, 30000, args), SV_ECANCELLED);
	assert_true(r.cancelled);
	assert_int_equal(c.stops, 1);
	release(&c);
}

static void test_proc__missing_program_is_not_found(void **s)
{
	const char *argv[] = { "sv-no-such-program-here", NULL };
	sv_proc_opts o;
	sv_proc_result r;

	(void)s;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	assert_int_equal(sv_proc_run(&r, &o), SV_ENOTFOUND);
	assert_non_null(strstr(sv_error_msg(), "sv-no-such-program-here"));
}

#ifndef _WIN32
static void test_proc__shell_prints_sleeps_and_fails(void **s)
{
	const char *argv[] = { "sh", "-c", "echo one; echo two >&2; exit 3", NULL };
	const char *slow[] = { "sh", "-c", "echo start; sleep 30; echo never", NULL };
	capture c = { 0 };
	sv_proc_opts o;
	sv_proc_result r;

	(void)s;
	memset(&o, 0, sizeof(o));
	sv_buf_init(&c.out, 4096);
	sv_buf_init(&c.err, 4096);
	o.argv = argv;
	o.on_line = on_line;
	o.ud = &c;
	sv_assert_ok(sv_proc_run(&r, &o));
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(c.out.ptr, "one|");
	assert_string_equal(c.err.ptr, "two|");
	sv_buf_reset(&c.out);
	o.argv = slow;
	o.timeout_ms = 300;
	assert_int_equal(sv_proc_run(&r, &o), SV_ETIMEOUT);
	assert_string_equal(c.out.ptr, "start|");
	release(&c);
}

static void test_proc__kill_reaches_grandchildren(void **s)
{
	const char *args[] = { "spawn-sleep", "20000", NULL };
	capture c = { 0 };
	sv_proc_result r;
	long pid;

	(void)s;
	assert_int_equal(run(&c, &r, 700, args), SV_ETIMEOUT);
	assert_non_null(c.out.ptr);
	assert_int_equal(sscanf(c.out.ptr, "grandchild %ld", &pid), 1);
	/* The grandchild was in the killed group: it no longer exists (or is
	 * a zombie reparented to init, which a signal 0 still finds briefly). */
	for (int i = 0; i < 50 && kill((pid_t)pid, 0) == 0; i++) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		f = fopen(path, "r");
		if (f && fscanf(f, "%*d %*s %c", &state) == 1 && state == 'Z') {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		if (i == 49)
			fail_msg("grandchild %ld survived the kill", pid);
		sv_time_sleep_ms(20);
	}
	release(&c);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc__captures_lines_and_exit_code),
		cmocka_unit_test(test_proc__nonzero_exit_is_reported_not_an_error),
		cmocka_unit_test(test_proc__stderr_and_crlf),
		cmocka_unit_test(test_proc__arguments_arrive_intact),
		cmocka_unit_test(test_proc__timeout_kills_sleeper),
		cmocka_unit_test(test_proc__callback_can_cancel),
		cmocka_unit_test(test_proc__missing_program_is_not_found),
#ifndef _WIN32
		cmocka_unit_test(test_proc__shell_prints_sleeps_and_fails),
		cmocka_unit_test(test_proc__kill_reaches_grandchildren),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
