/*
 * sv_env_win.c - command line, environment and console on Windows: the
 * wide-char forms converted to UTF-8 at this edge.
 */
#include <windows.h>
#include <shellapi.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_env.h"

static char *to_utf8(const wchar_t *w)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s;

	if (n <= 0)
		return NULL;
	s = sv_malloc((size_t)n);
	if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0) {
		free(s);
		return NULL;
	}
	return s;
}

static wchar_t *to_wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0)
		return NULL;
	w = sv_malloc((size_t)n * sizeof(wchar_t));
	if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
		free(w);
		return NULL;
	}
	return w;
}

int sv_env_utf8_args(int argc, char ***argv)
{
	wchar_t **wargv;
	char **out;
	int n, i;

	SetConsoleOutputCP(CP_UTF8);
	wargv = CommandLineToArgvW(GetCommandLineW(), &n);
	if (!wargv)
		return argc;
	out = sv_calloc((size_t)n + 1, sizeof(char *));
	for (i = 0; out && i < n; i++) {
		out[i] = to_utf8(wargv[i]);
		if (!out[i]) {
			out = NULL;   /* keep the ANSI argv rather than half of one */
			break;
		}
	}
	LocalFree(wargv);
	if (!out)
		return argc;
	*argv = out;
	return n;
}

char *sv_env_get(const char *name)
{
	wchar_t *wname = to_wide(name), *val = NULL;
	DWORD n;
	char *s = NULL;

	if (!wname)
		return NULL;
	n = GetEnvironmentVariableW(wname, NULL, 0);
	if (n > 0 && (val = sv_malloc((size_t)n * sizeof(wchar_t))) != NULL &&
	    GetEnvironmentVariableW(wname, val, n) < n)
		s = to_utf8(val);
	free(val);
	free(wname);
	return s;
}

char *sv_env_default_state_dir(void)
{
	char *pd = sv_env_get("ProgramData");
	char *dir = sv_aprintf("%s\\sysvault", pd ? pd : "C:\\ProgramData");

	free(pd);
	return dir;
}

int sv_env_isatty(FILE *f)
{
	return _isatty(_fileno(f));
}

int sv_env_read_secret(const char *prompt, char *buf, size_t size)
{
	HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
	wchar_t wbuf[1024];
	DWORD mode, got = 0;
	char *s;
	int rc = 0;

	if (in == INVALID_HANDLE_VALUE || !GetConsoleMode(in, &mode))
		return sv_error_set(SV_ENOTSUPPORTED, "no console to ask on");
	fputs(prompt, stderr);
	fflush(stderr);
	SetConsoleMode(in, mode & ~(DWORD)ENABLE_ECHO_INPUT);
	if (!ReadConsoleW(in, wbuf, (DWORD)(sizeof(wbuf) / sizeof(wbuf[0]) - 1),
			  &got, NULL))
		rc = sv_error_set_os(SV_EIO, "cannot read from the console");
	SetConsoleMode(in, mode);
	fputc('\n', stderr);
	if (rc < 0)
		return rc;
	while (got > 0 && (wbuf[got - 1] == L'\n' || wbuf[got - 1] == L'\r'))
		got--;
	wbuf[got] = 0;
	s = to_utf8(wbuf);
	if (!s)
		return sv_error_set(SV_EINVAL, "the input is not valid text");
	if (strlen(s) >= size)
		rc = sv_error_set(SV_EINVAL, "input longer than %zu bytes", size - 1);
	else
		sv_strlcpy(buf, s, size);
	SecureZeroMemory(wbuf, sizeof(wbuf));
	free(s);
	return rc;
}

static volatile LONG g_interrupted;

static BOOL WINAPI on_ctrl(DWORD type)
{
	(void)type;
	InterlockedExchange(&g_interrupted, 1);
	return TRUE;   /* handled: the operation stops on its own */
}

void sv_env_catch_interrupt(void)
{
	SetConsoleCtrlHandler(on_ctrl, TRUE);
}

int sv_env_interrupted(void)
{
	return InterlockedCompareExchange(&g_interrupted, 0, 0) != 0;
}

void sv_env_request_interrupt(void)
{
	InterlockedExchange(&g_interrupted, 1);
}
