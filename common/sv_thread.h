/*
 * sv_thread.h - threads, mutexes and condition variables. pthreads in
 * sv_thread_posix.c; SRW locks and condition variables in sv_thread_win.c.
 */
#ifndef SV_THREAD_H
#define SV_THREAD_H

#include "sv_error.h"

typedef struct sv_thread sv_thread;
typedef struct sv_mutex sv_mutex;
typedef struct sv_cond sv_cond;

typedef void (*sv_thread_fn)(void *arg);

int sv_thread_start(sv_thread **out, sv_thread_fn fn, void *arg);
void sv_thread_join(sv_thread *t);   /* frees t */

int sv_mutex_new(sv_mutex **out);
void sv_mutex_free(sv_mutex *m);
void sv_mutex_lock(sv_mutex *m);
void sv_mutex_unlock(sv_mutex *m);

int sv_cond_new(sv_cond **out);
void sv_cond_free(sv_cond *c);
void sv_cond_wait(sv_cond *c, sv_mutex *m);
/* Returns 0 when signalled, SV_ETIMEOUT when ms passed. */
int sv_cond_timedwait(sv_cond *c, sv_mutex *m, unsigned ms);
void sv_cond_signal(sv_cond *c);
void sv_cond_broadcast(sv_cond *c);

/* Number of logical processors (at least 1). */
int sv_cpu_count(void);

#endif
