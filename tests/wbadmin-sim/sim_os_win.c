/*
 * sim_os_win.c - the simulator's few platform needs on Windows: stdout in
 * binary mode (the texts carry their own CRLF), output in the OEM code
 * page when it goes to a pipe or file (as console programs such as wbadmin
 * write it) and in the console's code page on a console, cmd.exe's 9009
 * for a missing command, and an access violation's exit status for a
 * crash.
 */
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

void sim_os_init(void)
{
	_setmode(_fileno(stdout), _O_BINARY);
	_setmode(_fileno(stderr), _O_BINARY);
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
}

static UINT output_cp(void)
{
	DWORD mode;

	if (GetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), &mode))
		return GetConsoleOutputCP();
	return GetOEMCP();
}

int sim_os_encode(sv_buf *out, const char *text, size_t n)
{
	UINT cp = output_cp();
	wchar_t *w = NULL;
	int wn, an, rc = SV_ENOMEM;

	if (n == 0 || cp == CP_UTF8 || n > (1u << 20))
		return sv_buf_add(out, text, n);
	wn = MultiByteToWideChar(CP_UTF8, 0, text, (int)n, NULL, 0);
	if (wn <= 0 || !(w = sv_malloc((size_t)wn * sizeof(wchar_t))))
		goto done;
	MultiByteToWideChar(CP_UTF8, 0, text, (int)n, w, wn);
	an = WideCharToMultiByte(cp, 0, w, wn, NULL, 0, NULL, NULL);
	if (an <= 0 || (rc = sv_buf_reserve(out, (size_t)an + 1)) < 0)
		goto done;
	WideCharToMultiByte(cp, 0, w, wn, out->ptr + out->len, an, NULL, NULL);
	out->len += (size_t)an;
	out->ptr[out->len] = '\0';
	rc = 0;
done:
	free(w);
	return rc;
}

unsigned long sim_os_pid(void)
{
	return (unsigned long)GetCurrentProcessId();
}

int sim_os_not_found_code(void)
{
	return 9009;
}

void sim_os_crash(void)
{
	fflush(NULL);
	TerminateProcess(GetCurrentProcess(), 0xC0000005u);
	ExitProcess(0xC0000005u);
}
