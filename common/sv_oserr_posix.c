/*
 * sv_oserr_posix.c - the last OS error is errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sv_error.h"

void sv__os_error_text(char *buf, size_t size)
{
	int saved = errno;

	snprintf(buf, size, "%s", strerror(saved));
	errno = saved;
}
