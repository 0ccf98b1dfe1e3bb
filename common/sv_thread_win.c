/*
 * sv_thread_win.c - threads, slim reader/writer locks used as mutexes, and
 * condition variables on Windows.
 */
#include <windows.h>
#include <process.h>
#include <errno.h>
#include <stdlib.h>

#include "sv_thread.h"
#include "sv_buf.h"

struct sv_thread {
	HANDLE h;
	sv_thread_fn fn;
	void *arg;
};

struct sv_mutex {
	SRWLOCK lock;
};

struct sv_cond {
	CONDITION_VARIABLE cv;
};

static unsigned __stdcall thread_main(void *p)
{
	sv_thread *t = p;

	t->fn(t->arg);
	return 0;
}

int sv_thread_start(sv_thread **out, sv_thread_fn fn, void *arg)
{
	sv_thread *t = NULL;
	uintptr_t h;
	int rc = 0;

	*out = NULL;
	t = sv_calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	t->fn = fn;
	t->arg = arg;
	/* _beginthreadex rather than CreateThread so that the C runtime's
	 * per-thread state is set up for the thread. */
	h = _beginthreadex(NULL, 0, thread_main, t, 0, NULL);
	if (h == 0) {
		rc = sv_error_set_errno(errno == EAGAIN ? SV_ENOMEM : SV_ERROR,
					"cannot start a thread");
		goto done;
	}
	t->h = (HANDLE)h;
	*out = t;
	t = NULL;
done:
	free(t);
	return rc;
}

void sv_thread_join(sv_thread *t)
{
	if (t == NULL)
		return;
	WaitForSingleObject(t->h, INFINITE);
	CloseHandle(t->h);
	free(t);
}

int sv_mutex_new(sv_mutex **out)
{
	*out = sv_calloc(1, sizeof(**out));
	if (*out == NULL)
		return SV_ENOMEM;
	InitializeSRWLock(&(*out)->lock);
	return 0;
}

/* SRW locks need no destruction. */
void sv_mutex_free(sv_mutex *m)
{
	free(m);
}

void sv_mutex_lock(sv_mutex *m)
{
	AcquireSRWLockExclusive(&m->lock);
}

void sv_mutex_unlock(sv_mutex *m)
{
	ReleaseSRWLockExclusive(&m->lock);
}

int sv_cond_new(sv_cond **out)
{
	*out = sv_calloc(1, sizeof(**out));
	if (*out == NULL)
		return SV_ENOMEM;
	InitializeConditionVariable(&(*out)->cv);
	return 0;
}

void sv_cond_free(sv_cond *c)
{
	free(c);
}

void sv_cond_wait(sv_cond *c, sv_mutex *m)
{
	SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0);
}

int sv_cond_timedwait(sv_cond *c, sv_mutex *m, unsigned ms)
{
	/* INFINITE is (DWORD)-1: a caller asking for that many milliseconds
	 * gets one less rather than no limit. */
	DWORD wait = ms == INFINITE ? INFINITE - 1 : (DWORD)ms;

	if (SleepConditionVariableSRW(&c->cv, &m->lock, wait, 0))
		return 0;
	if (GetLastError() == ERROR_TIMEOUT)
		return SV_ETIMEOUT;
	return sv_error_set_os(SV_ERROR, "waiting on a condition variable");
}

void sv_cond_signal(sv_cond *c)
{
	WakeConditionVariable(&c->cv);
}

void sv_cond_broadcast(sv_cond *c)
{
	WakeAllConditionVariable(&c->cv);
}

int sv_cpu_count(void)
{
	DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
	SYSTEM_INFO si;

	if (n == 0) {
		GetSystemInfo(&si);
		n = si.dwNumberOfProcessors;
	}
	if (n == 0)
		return 1;
	return n > 4096 ? 4096 : (int)n;
}
