/*
 * sv_env_posix.c - command line, environment and terminal on POSIX.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sv_buf.h"
#include "sv_env.h"

int sv_env_utf8_args(int argc, char ***argv)
{
	(void)argv;   /* POSIX command lines are already bytes; UTF-8 expected */
	return argc;
}

char *sv_env_get(const char *name)
{
	const char *v = getenv(name);

	return v ? sv_strdup(v) : NULL;
}

char *sv_env_default_state_dir(void)
{
	return sv_strdup("/var/lib/sysvault");
}

int sv_env_isatty(FILE *f)
{
	return isatty(fileno(f));
}

int sv_env_read_secret(const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	size_t n;
	int rc = 0;

	if (!tty)
		return sv_error_set(SV_ENOTSUPPORTED, "no terminal to ask on");
	fputs(prompt, tty);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (!fgets(buf, (int)size, tty))
		rc = sv_error_set(SV_EINVAL, "no input");
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (rc < 0)
		return rc;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n + 1 == size)
		return sv_error_set(SV_EINVAL, "input longer than %zu bytes", size - 1);
	return 0;
}

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

void sv_env_catch_interrupt(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int sv_env_interrupted(void)
{
	return g_interrupted != 0;
}

void sv_env_request_interrupt(void)
{
	g_interrupted = 1;
}
