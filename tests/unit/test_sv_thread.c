#include "sv_test.h"
#include "sv_thread.h"

typedef struct shared {
	sv_mutex *m;
	sv_cond *c;
	int counter;
	int ready;
} shared;

static void add_many(void *arg)
{
	shared *sh = arg;
	int i;

	for (i = 0; i < 100000; i++) {
		sv_mutex_lock(sh->m);
		sh->counter++;
		sv_mutex_unlock(sh->m);
	}
}

static void signal_ready(void *arg)
{
	shared *sh = arg;

	sv_mutex_lock(sh->m);
	sh->ready = 1;
	sv_cond_signal(sh->c);
	sv_mutex_unlock(sh->m);
}

static void test_thread__mutex_serialises_increments(void **s)
{
	shared sh = { 0 };
	sv_thread *t[4];
	int i;

	(void)s;
	sv_assert_ok(sv_mutex_new(&sh.m));
	for (i = 0; i < 4; i++)
		sv_assert_ok(sv_thread_start(&t[i], add_many, &sh));
	for (i = 0; i < 4; i++)
		sv_thread_join(t[i]);
	assert_int_equal(sh.counter, 400000);
	sv_mutex_free(sh.m);
}

static void test_thread__condition_wakes_and_times_out(void **s)
{
	shared sh = { 0 };
	sv_thread *t;

	(void)s;
	sv_assert_ok(sv_mutex_new(&sh.m));
	sv_assert_ok(sv_cond_new(&sh.c));
	sv_mutex_lock(sh.m);
	assert_int_equal(sv_cond_timedwait(sh.c, sh.m, 20), SV_ETIMEOUT);
	sv_assert_ok(sv_thread_start(&t, signal_ready, &sh));
	while (!sh.ready)
		sv_cond_wait(sh.c, sh.m);
	sv_mutex_unlock(sh.m);
	sv_thread_join(t);
	assert_true(sv_cpu_count() >= 1);
	sv_cond_free(sh.c);
	sv_mutex_free(sh.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread__mutex_serialises_increments),
		cmocka_unit_test(test_thread__condition_wakes_and_times_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
