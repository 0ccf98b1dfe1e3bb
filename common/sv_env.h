/*
 * sv_env.h - the process's surroundings: UTF-8 command line and
 * environment, the default state directory, the console.
 * sv_env_posix.c / sv_env_win.c.
 */
#ifndef SV_ENV_H
#define SV_ENV_H

#include <stddef.h>
#include <stdio.h>
#include "sv_error.h"

/* On Windows replaces *argv with the UTF-8 form of the wide command line
 * (GetCommandLineW) and returns its argc; elsewhere returns argc. The
 * strings live until the process exits. */
int sv_env_utf8_args(int argc, char ***argv);

/* The value of an environment variable in UTF-8, or NULL. Caller frees. */
char *sv_env_get(const char *name);

/* %ProgramData%\sysvault on Windows, /var/lib/sysvault elsewhere. Caller
 * frees. */
char *sv_env_default_state_dir(void);

/* 1 when f is an interactive terminal. */
int sv_env_isatty(FILE *f);

/* Prompts on the terminal and reads one line without echo into buf
 * (NUL-terminated, without the newline). SV_ENOTSUPPORTED when there is no
 * terminal; SV_EINVAL when the line does not fit. */
int sv_env_read_secret(const char *prompt, char *buf, size_t size);

/* Catches Ctrl-C / SIGINT / SIGTERM (console close on Windows) so that a
 * long operation can stop cleanly; sv_env_interrupted() then returns 1. */
void sv_env_catch_interrupt(void);
int sv_env_interrupted(void);
/* Sets the flag sv_env_interrupted() reads, as Ctrl-C would: for a cancel
 * that arrives another way (a job cancelled from another process).
 * Safe from any thread. */
void sv_env_request_interrupt(void);

#endif
