/*
 * sv_proc_posix.c - child processes on POSIX.
 *
 * The child runs in its own process group so that a timeout or cancel can
 * end everything it started (SIGTERM to the group, then SIGKILL). An exec
 * failure travels back over a close-on-exec pipe, so "program not found"
 * is an error of sv_proc_run() rather than an exit code of 127.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sv_buf.h"
#include "sv_proc.h"
#include "sv_time.h"

extern char **environ;

/* Splits a stream into lines for the callback. */
typedef struct line_splitter {
	int stream;
	char buf[SV_PROC_MAX_LINE];
	size_t len;
} line_splitter;

typedef struct run_state {
	const sv_proc_opts *opts;
	int stop_requested;
	line_splitter out, err;
} run_state;

static void deliver(run_state *st, line_splitter *ls)
{
	size_t n = ls->len;

	if (n > 0 && ls->buf[n - 1] == '\r')
		n--;
	ls->buf[n] = '\0';
	if (st->opts->on_line &&
	    st->opts->on_line(st->opts->ud, ls->stream, ls->buf, n))
		st->stop_requested = 1;
	ls->len = 0;
}

static void feed(run_state *st, line_splitter *ls, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			deliver(st, ls);
			continue;
		}
		ls->buf[ls->len++] = p[i];
		if (ls->len == sizeof(ls->buf) - 1)
			deliver(st, ls);
	}
}

static void child_exec(const sv_proc_opts *o, int out_fd, int err_fd,
		       int report_fd)
{
	int e, devnull = open("/dev/null", O_RDONLY);
	size_t i;

	setpgid(0, 0);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_fd, 1);
	dup2(err_fd, 2);
	for (i = 0; o->env_set && o->env_set[i]; i++)
		putenv((char *)(uintptr_t)o->env_set[i]);
	if (o->cwd && chdir(o->cwd) < 0)
		goto fail;
	execvp(o->argv[0], (char *const *)(uintptr_t)o->argv);
fail:
	e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		e = 0;
	_exit(127);
}

/* Returns the child's exec errno (0 when exec succeeded). */
static int exec_status(int report_fd)
{
	int e = 0;
	ssize_t r;

	do
		r = read(report_fd, &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof(e) ? e : 0;
}

static int spawn(pid_t *pid, const sv_proc_opts *o, int *out_r, int *err_r)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, pr[2] = { -1, -1 };
	int e, rc = 0;

	if (pipe(po) < 0 || pipe(pe) < 0 || pipe(pr) < 0) {
		rc = sv_error_set_errno(SV_EIO, "cannot create pipes for '%s'",
					o->argv[0]);
		goto done;
	}
	fcntl(pr[1], F_SETFD, FD_CLOEXEC);
	fcntl(po[0], F_SETFD, FD_CLOEXEC);
	fcntl(pe[0], F_SETFD, FD_CLOEXEC);
	*pid = fork();
	if (*pid < 0) {
		rc = sv_error_set_errno(SV_EIO, "cannot start '%s'", o->argv[0]);
		goto done;
	}
	if (*pid == 0)
		child_exec(o, po[1], pe[1], pr[1]);
	setpgid(*pid, *pid);
	close(pr[1]);
	pr[1] = -1;
	e = exec_status(pr[0]);
	if (e) {
		waitpid(*pid, NULL, 0);
		errno = e;
		rc = sv_error_set_errno(e == ENOENT ? SV_ENOTFOUND :
					e == EACCES ? SV_EACCESS : SV_EIO,
					"cannot run '%s'", o->argv[0]);
		goto done;
	}
	*out_r = po[0];
	*err_r = pe[0];
	po[0] = pe[0] = -1;
done:
	for (e = 0; e < 2; e++) {
		if (po[e] >= 0) close(po[e]);
		if (pe[e] >= 0) close(pe[e]);
		if (pr[e] >= 0) close(pr[e]);
	}
	return rc;
}

/* Reads what is available on fd; returns 0 at EOF (fd closed). */
static int pump(run_state *st, line_splitter *ls, int *fd)
{
	char chunk[4096];
	ssize_t r = read(*fd, chunk, sizeof(chunk));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (r <= 0) {
		if (ls->len)
			deliver(st, ls);
		close(*fd);
		*fd = -1;
		return 0;
	}
	feed(st, ls, chunk, (size_t)r);
	return 1;
}

static void poll_pipes(run_state *st, int *fds)
{
	struct pollfd p[2];
	int n = 0, i;

	for (i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		p[n].fd = fds[i];
		p[n].events = POLLIN;
		p[n].revents = 0;
		n++;
	}
	if (n == 0) {
		sv_time_sleep_ms(20);
		return;
	}
	if (poll(p, (nfds_t)n, 20) <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (p[i].fd == fds[0])
			pump(st, &st->out, &fds[0]);
		else
			pump(st, &st->err, &fds[1]);
	}
}

/* Asks politely, waits grace_ms, then kills the whole process group. */
static void stop_child(run_state *st, pid_t pid, int *fds, int *status)
{
	uint64_t until;

	if (st->opts->hard_kill) {
		kill(-pid, SIGKILL);
		waitpid(pid, status, 0);
		return;
	}
	if (st->opts->on_stop)
		st->opts->on_stop(st->opts->ud);
	kill(-pid, SIGTERM);
	until = sv_time_mono_ms() + st->opts->grace_ms;
	while (sv_time_mono_ms() < until) {
		if (waitpid(pid, status, WNOHANG) == pid) {
			kill(-pid, SIGKILL);   /* grandchildren too */
			return;
		}
		poll_pipes(st, fds);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, status, 0);
}

static void drain(run_state *st, int *fds)
{
	uint64_t until = sv_time_mono_ms() + 2000;

	/* A grandchild may hold the pipes open: do not wait for it forever. */
	while ((fds[0] >= 0 || fds[1] >= 0) && sv_time_mono_ms() < until)
		poll_pipes(st, fds);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

static int wait_child(run_state *st, sv_proc_result *res, pid_t pid,
		      int *fds, uint64_t start)
{
	const sv_proc_opts *o = st->opts;
	int status = 0;

	for (;;) {
		poll_pipes(st, fds);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (o->should_stop && o->should_stop(o->ud))
			st->stop_requested = 1;
		if (o->timeout_ms &&
		    sv_time_mono_ms() - start >= o->timeout_ms) {
			res->timed_out = 1;
			stop_child(st, pid, fds, &status);
			break;
		}
		if (st->stop_requested) {
			res->cancelled = 1;
			stop_child(st, pid, fds, &status);
			break;
		}
	}
	drain(st, fds);
	res->elapsed_ms = sv_time_mono_ms() - start;
	if (WIFEXITED(status)) {
		/* Also after a polite stop that the child honoured. */
		res->exited = 1;
		res->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
	}
	if (res->timed_out)
		return sv_error_set(SV_ETIMEOUT, "'%s' did not finish within %u s and was stopped",
				    o->argv[0], o->timeout_ms / 1000);
	if (res->cancelled)
		return sv_error_set(SV_ECANCELLED, "'%s' was cancelled", o->argv[0]);
	return 0;
}

int sv_proc_run(sv_proc_result *res, const sv_proc_opts *opts)
{
	run_state st;
	pid_t pid = -1;
	int fds[2] = { -1, -1 };
	uint64_t start = sv_time_mono_ms();
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	st.opts = opts;
	st.out.stream = SV_PROC_STDOUT;
	st.err.stream = SV_PROC_STDERR;
	if (!opts->argv || !opts->argv[0])
		return sv_error_set(SV_EINVAL, "no program to run");
	rc = spawn(&pid, opts, &fds[0], &fds[1]);
	if (rc < 0)
		return rc;
	return wait_child(&st, res, pid, fds, start);
}

int sv_proc_alive(int64_t pid)
{
	if (pid <= 0 || (int64_t)(pid_t)pid != pid)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int64_t sv_proc_self(void)
{
	return (int64_t)getpid();
}
