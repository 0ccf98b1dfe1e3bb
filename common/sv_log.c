/*
 * sv_log.c - leveled logging with secret redaction.
 *
 * Each line is built in full, redacted, and written with one stdio call, so
 * lines from different threads never interleave (stdio locks each FILE).
 * Secrets are registered at startup, before any worker thread runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_log.h"
#include "sv_time.h"

#define MAX_SECRETS 32
#define MIN_SECRET 4

static struct {
	sv_log_level level;
	FILE *file;
	FILE *job;    /* the running job's own log: info and above */
	char *secrets[MAX_SECRETS];
	int nsecrets;
} g_log = { SV_LOG_WARN, NULL, NULL, { NULL }, 0 };

void sv_log_set_level(sv_log_level level)
{
	g_log.level = level;
}

sv_log_level sv_log_get_level(void)
{
	return g_log.level;
}

int sv_log_open_file(const char *path)
{
	FILE *f;

	sv_log_close();
	f = fopen(path, "a");
	if (!f)
		return sv_error_set_errno(SV_EIO, "cannot open log file '%s'", path);
	g_log.file = f;
	return 0;
}

void sv_log_close(void)
{
	if (g_log.file)
		fclose(g_log.file);
	g_log.file = NULL;
}

int sv_log_open_job_file(const char *path)
{
	FILE *f;

	sv_log_close_job_file();
	f = fopen(path, "a");
	if (!f)
		return sv_error_set_errno(SV_EIO, "cannot open the job log '%s'", path);
	g_log.job = f;
	return 0;
}

void sv_log_close_job_file(void)
{
	if (g_log.job)
		fclose(g_log.job);
	g_log.job = NULL;
}

void sv_log_add_secret(const char *secret)
{
	int i;

	if (!secret || strlen(secret) < MIN_SECRET)
		return;
	for (i = 0; i < g_log.nsecrets; i++)
		if (!strcmp(g_log.secrets[i], secret))
			return;
	if (g_log.nsecrets == MAX_SECRETS) {
		free(g_log.secrets[0]);
		memmove(g_log.secrets, g_log.secrets + 1,
			sizeof(g_log.secrets[0]) * (MAX_SECRETS - 1));
		g_log.nsecrets--;
	}
	g_log.secrets[g_log.nsecrets] = sv_strdup(secret);
	if (g_log.secrets[g_log.nsecrets])
		g_log.nsecrets++;
}

void sv_log_clear_secrets(void)
{
	int i;

	for (i = 0; i < g_log.nsecrets; i++)
		free(g_log.secrets[i]);
	g_log.nsecrets = 0;
}

/* Replaces s[at, at+n) with "***" in place (n >= 3 always shrinks or keeps). */
static void mask(char *s, size_t at, size_t n)
{
	size_t len = strlen(s);

	if (n < 3) {
		memset(s + at, '*', n);
		return;
	}
	memcpy(s + at, "***", 3);
	memmove(s + at + 3, s + at + n, len - at - n + 1);
}

static void redact_literal(char *s, const char *secret)
{
	size_t n = strlen(secret);
	char *p = s;

	while ((p = strstr(p, secret)) != NULL) {
		mask(s, (size_t)(p - s), n);
		p += 3;
	}
}

static int is_value_end(char c)
{
	return c == '\0' || c == '&' || c == ' ' || c == '"' || c == '\'' ||
	       c == ',' || c == '\r' || c == '\n' || c == '>' || c == '<';
}

/* Masks the value that follows each occurrence of key (e.g. "sig="). */
static void redact_after(char *s, const char *key)
{
	size_t klen = strlen(key);
	char *p = s;

	while ((p = strstr(p, key)) != NULL) {
		size_t at = (size_t)(p - s) + klen, n = 0;

		while (!is_value_end(s[at + n]))
			n++;
		if (n > 0 && strncmp(s + at, "***", n) != 0)
			mask(s, at, n);
		p = s + at;
	}
}

void sv_redact(char *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < g_log.nsecrets; i++)
		redact_literal(s, g_log.secrets[i]);
	redact_after(s, "sig=");
	redact_after(s, "Signature=");
	redact_after(s, "AccountKey=");
	redact_after(s, "SharedKey ");
}

static const char *level_name(sv_log_level level)
{
	static const char *names[] = { "error", "warning", "info", "debug" };

	return level <= SV_LOG_DEBUG ? names[level] : "log";
}

void sv_log(sv_log_level level, const char *fmt, ...)
{
	char stamp[32];
	sv_buf b;
	va_list ap;
	int rc;

	if (level > g_log.level && !g_log.file && !(g_log.job && level <= SV_LOG_INFO))
		return;
	sv_buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	rc = sv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0 && sv_buf_addc(&b, '\n') == 0) {
		sv_redact(b.ptr);
		if (level <= g_log.level)
			fprintf(stderr, "sysvault: %s: %s", level_name(level), b.ptr);
		sv_time_format_utc(stamp, sizeof(stamp), sv_time_now());
		if (g_log.file) {
			fprintf(g_log.file, "%s %s %s", stamp, level_name(level),
				b.ptr);
			fflush(g_log.file);
		}
		if (g_log.job && level <= SV_LOG_INFO) {
			fprintf(g_log.job, "%s %s %s", stamp, level_name(level), b.ptr);
			fflush(g_log.job);
		}
	}
	sv_buf_release(&b);
}
