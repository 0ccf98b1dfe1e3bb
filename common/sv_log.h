/*
 * sv_log.h - leveled logging to stderr and an optional file, with redaction
 * of registered secrets.
 *
 * Everything that reaches a log line or an error message printed by the
 * agent goes through sv_redact(): registered secrets (passphrases, account
 * keys, S3 secret keys) and the values of SAS "sig=" parameters and
 * "SharedKey account:signature" headers are replaced by "***".
 * Logging state is process-wide and guarded by a mutex.
 */
#ifndef SV_LOG_H
#define SV_LOG_H

#include <stddef.h>
#include "sv_error.h"

typedef enum sv_log_level {
	SV_LOG_ERROR = 0,
	SV_LOG_WARN = 1,
	SV_LOG_INFO = 2,
	SV_LOG_DEBUG = 3
} sv_log_level;

/* Messages above level are not written to stderr (the file gets DEBUG). */
void sv_log_set_level(sv_log_level level);
sv_log_level sv_log_get_level(void);

/* Appends log lines to path (created 0600). SV_EIO when it cannot open. */
int sv_log_open_file(const char *path);
void sv_log_close(void);

/* A second log file for one job's lines (info and above, redacted, with
 * a UTC stamp), beside --log-file; appended to. Replaces an
 * earlier one. SV_EIO when it cannot open. Open and close it while no
 * other thread logs. */
int sv_log_open_job_file(const char *path);
void sv_log_close_job_file(void);

/* Registers a secret (copied; strings shorter than 4 bytes are ignored). */
void sv_log_add_secret(const char *secret);
void sv_log_clear_secrets(void);

void sv_log(sv_log_level level, const char *fmt, ...) SV_PRINTF(2, 3);

#define sv_log_error(...) sv_log(SV_LOG_ERROR, __VA_ARGS__)
#define sv_log_warn(...) sv_log(SV_LOG_WARN, __VA_ARGS__)
#define sv_log_info(...) sv_log(SV_LOG_INFO, __VA_ARGS__)
#define sv_log_debug(...) sv_log(SV_LOG_DEBUG, __VA_ARGS__)

/* Replaces every secret in s (in place, NUL-terminated) by "***". */
void sv_redact(char *s);

#endif
