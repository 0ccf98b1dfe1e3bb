/*
 * parts.c - runs the parts of one object (Azure blocks, S3 multipart
 * parts) on several threads, so that one large upload uses all of the
 * engine's transfers. The parts point into the caller's buffer: running
 * them in parallel takes no more memory than sending the object whole.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "sv_thread.h"
#include "vault_int.h"

typedef struct parts {
	vault_part_fn fn;
	void *ud;
	size_t n;
	atomic_size_t next;
	atomic_int failed;
	sv_mutex *mu;
	int rc;	       /* the first failure, reported by the caller */
	char msg[512]; /* its message (the error slot is per thread) */
} parts;

/* Takes parts until none is left or one has failed: after a failure the
 * object cannot be committed, so the rest would be sent for nothing. */
static void take_parts(parts *p)
{
	size_t i;
	int rc;

	while (!atomic_load(&p->failed) &&
	       (i = atomic_fetch_add(&p->next, 1)) < p->n) {
		if ((rc = p->fn(p->ud, i)) == 0)
			continue;
		sv_mutex_lock(p->mu);
		if (p->rc == 0) {
			p->rc = rc;
			snprintf(p->msg, sizeof(p->msg), "%s", sv_error_msg());
		}
		sv_mutex_unlock(p->mu);
		atomic_store(&p->failed, 1);
	}
}

static void worker_main(void *arg)
{
	take_parts(arg);
}

int vault__parts_run(unsigned workers, size_t n, vault_part_fn fn, void *ud)
{
	sv_thread *t[VAULT_PARTS_WORKERS_MAX];
	parts p = {0};
	unsigned i, started = 0;
	int rc;

	p.fn = fn;
	p.ud = ud;
	p.n = n;
	atomic_init(&p.next, 0);
	atomic_init(&p.failed, 0);
	if ((rc = sv_mutex_new(&p.mu)) != 0)
		return rc;
	if (workers > VAULT_PARTS_WORKERS_MAX)
		workers = VAULT_PARTS_WORKERS_MAX;
	if (workers > n)
		workers = (unsigned)n;
	/* The calling thread is one of the workers; a thread that cannot be
	 * started only makes the upload slower. */
	for (i = 1; i < workers; i++)
		if (sv_thread_start(&t[started], worker_main, &p) == 0)
			started++;
	take_parts(&p);
	for (i = 0; i < started; i++)
		sv_thread_join(t[i]);
	sv_mutex_free(p.mu);
	if (p.rc != 0)
		return sv_error_set(p.rc, "%s", p.msg);
	return 0;
}
