/*
 * sv_thread_posix.c - threads on pthreads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sv_buf.h"
#include "sv_thread.h"

struct sv_thread {
	pthread_t t;
	sv_thread_fn fn;
	void *arg;
};

struct sv_mutex {
	pthread_mutex_t m;
};

struct sv_cond {
	pthread_cond_t c;
};

static void *trampoline(void *p)
{
	sv_thread *t = p;

	t->fn(t->arg);
	return NULL;
}

int sv_thread_start(sv_thread **out, sv_thread_fn fn, void *arg)
{
	sv_thread *t = sv_calloc(1, sizeof(*t));
	int e;

	*out = NULL;
	if (!t)
		return SV_ENOMEM;
	t->fn = fn;
	t->arg = arg;
	e = pthread_create(&t->t, NULL, trampoline, t);
	if (e) {
		free(t);
		errno = e;
		return sv_error_set_errno(SV_ENOMEM, "cannot start a thread");
	}
	*out = t;
	return 0;
}

void sv_thread_join(sv_thread *t)
{
	if (!t)
		return;
	pthread_join(t->t, NULL);
	free(t);
}

int sv_mutex_new(sv_mutex **out)
{
	sv_mutex *m = sv_calloc(1, sizeof(*m));

	*out = m;
	if (!m)
		return SV_ENOMEM;
	pthread_mutex_init(&m->m, NULL);
	return 0;
}

void sv_mutex_free(sv_mutex *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

void sv_mutex_lock(sv_mutex *m)
{
	pthread_mutex_lock(&m->m);
}

void sv_mutex_unlock(sv_mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

int sv_cond_new(sv_cond **out)
{
	sv_cond *c = sv_calloc(1, sizeof(*c));
	pthread_condattr_t a;

	*out = c;
	if (!c)
		return SV_ENOMEM;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&c->c, &a);
	pthread_condattr_destroy(&a);
	return 0;
}

void sv_cond_free(sv_cond *c)
{
	if (!c)
		return;
	pthread_cond_destroy(&c->c);
	free(c);
}

void sv_cond_wait(sv_cond *c, sv_mutex *m)
{
	pthread_cond_wait(&c->c, &m->m);
}

int sv_cond_timedwait(sv_cond *c, sv_mutex *m, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_cond_timedwait(&c->c, &m->m, &ts) == ETIMEDOUT
		       ? SV_ETIMEOUT : 0;
}

void sv_cond_signal(sv_cond *c)
{
	pthread_cond_signal(&c->c);
}

void sv_cond_broadcast(sv_cond *c)
{
	pthread_cond_broadcast(&c->c);
}

int sv_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}
