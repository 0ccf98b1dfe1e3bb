/*
 * sv_oserr_win.c - the text of the last Windows error, for sv_error_set_os().
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "sv_error.h"

/* Longest system message kept, in UTF-16 units; every unit becomes at most
 * three UTF-8 bytes, so the conversion below always fits. */
#define OSERR_MAX_WCHARS 340

static int oserr_trim_char(char c)
{
	return c == '\r' || c == '\n' || c == '.' || c == ' ' || c == '\t';
}

/* The system's message for code in UTF-8, or "" when there is none. */
static void oserr_message(char *text, size_t size, DWORD code)
{
	wchar_t wmsg[OSERR_MAX_WCHARS + 1];
	DWORD n;
	int len;

	text[0] = '\0';
	n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
			   FORMAT_MESSAGE_IGNORE_INSERTS |
			   FORMAT_MESSAGE_MAX_WIDTH_MASK,
			   NULL, code, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT),
			   wmsg, OSERR_MAX_WCHARS + 1, NULL);
	if (n == 0 || n > OSERR_MAX_WCHARS)
		return;
	len = WideCharToMultiByte(CP_UTF8, 0, wmsg, (int)n, text,
				  (int)size - 1, NULL, NULL);
	if (len <= 0)
		return;
	while (len > 0 && oserr_trim_char(text[len - 1]))
		len--;
	text[len] = '\0';
}

void sv__os_error_text(char *buf, size_t size)
{
	DWORD code = GetLastError();
	char text[OSERR_MAX_WCHARS * 3 + 1];

	if (buf == NULL || size == 0)
		goto done;
	oserr_message(text, sizeof(text), code);
	if (text[0] != '\0')
		snprintf(buf, size, "%s (0x%08lx)", text, (unsigned long)code);
	else
		snprintf(buf, size, "Windows error 0x%08lx",
			 (unsigned long)code);
done:
	SetLastError(code);
}
