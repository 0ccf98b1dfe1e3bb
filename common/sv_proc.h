/*
 * sv_proc.h - run a child process, stream its output line by line, enforce
 * a timeout, honour cancel, and kill its whole tree.
 *
 * POSIX (sv_proc_posix.c): fork/exec in a new process group, pipes polled
 * with poll(); the group gets SIGTERM then SIGKILL. Windows
 * (sv_proc_win.c): CreateProcessW in a job object with
 * KILL_ON_JOB_CLOSE, pipes read by threads; TerminateJobObject kills the
 * tree. Lines are delivered without their "\n" or "\r\n"; a line longer
 * than SV_PROC_MAX_LINE is delivered in pieces.
 */
#ifndef SV_PROC_H
#define SV_PROC_H

#include <stdint.h>
#include "sv_error.h"

#define SV_PROC_MAX_LINE 8192

enum { SV_PROC_STDOUT = 1, SV_PROC_STDERR = 2 };

/* Called for every output line; a non-zero return asks for cancel. */
typedef int (*sv_proc_line_cb)(void *ud, int stream, const char *line,
			       size_t len);
/* Polled about every 100 ms; non-zero means stop the child (cancel). */
typedef int (*sv_proc_stop_cb)(void *ud);
/* Called once when the runner decides to stop the child (timeout or
 * cancel), before it kills: the place to ask the child to stop politely
 * (for wbadmin: "wbadmin stop job -quiet"). */
typedef void (*sv_proc_on_stop_cb)(void *ud);

typedef struct sv_proc_opts {
	const char *const *argv;     /* argv[0] is the program (path or name) */
	const char *cwd;             /* NULL: inherit */
	const char *const *env_set;  /* NULL-terminated "NAME=value", added */
	uint32_t timeout_ms;         /* 0: no limit */
	uint32_t grace_ms;           /* wait after on_stop before the kill */
	sv_proc_line_cb on_line;     /* NULL: output discarded */
	sv_proc_stop_cb should_stop;
	sv_proc_on_stop_cb on_stop;
	void *ud;
	int hard_kill;               /* stop with SIGKILL at once, no on_stop
					(Windows always ends the job object) */
} sv_proc_opts;

typedef struct sv_proc_result {
	int exited;          /* 1 when the child exited (itself, or after a
				polite stop it honoured) */
	int exit_code;       /* its exit status (valid when exited) */
	int timed_out;       /* killed because timeout_ms passed */
	int cancelled;       /* killed because should_stop/on_line asked */
	int term_signal;     /* POSIX: the signal that ended it, else 0 */
	uint64_t elapsed_ms;
} sv_proc_result;

/*
 * Runs the child to completion. Returns 0 when it was started and waited
 * for (inspect *res: a non-zero exit is not an error here), SV_ENOTFOUND
 * when the program does not exist, SV_EACCESS when it cannot be executed,
 * SV_ETIMEOUT / SV_ECANCELLED when it was killed (res is filled in too).
 */
int sv_proc_run(sv_proc_result *res, const sv_proc_opts *opts);

/* 1 when a process with this id exists (on POSIX also one owned by another
 * user), 0 when none does. */
int sv_proc_alive(int64_t pid);
/* This process's id. */
int64_t sv_proc_self(void);

#endif
