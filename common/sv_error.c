/*
 * sv_error.c - the thread-local error slot.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sv_error.h"

#define SV_ERROR_MAX 1024

static _Thread_local struct {
	int code;
	char msg[SV_ERROR_MAX];
} err_slot;

int sv_error_setv(int code, const char *fmt, va_list ap)
{
	err_slot.code = code;
	if (vsnprintf(err_slot.msg, sizeof(err_slot.msg), fmt, ap) < 0)
		err_slot.msg[0] = '\0';
	return code;
}

int sv_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sv_error_setv(code, fmt, ap);
	va_end(ap);
	return code;
}

static void append(const char *text)
{
	size_t len = strlen(err_slot.msg);

	snprintf(err_slot.msg + len, sizeof(err_slot.msg) - len, ": %s", text);
}

int sv_error_set_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	sv_error_setv(code, fmt, ap);
	va_end(ap);
	append(strerror(saved));
	errno = saved;
	return code;
}

int sv_error_set_os(int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	sv__os_error_text(text, sizeof(text));
	va_start(ap, fmt);
	sv_error_setv(code, fmt, ap);
	va_end(ap);
	append(text);
	return code;
}

void sv_error_prefix(const char *fmt, ...)
{
	char old[SV_ERROR_MAX];
	size_t n, m;
	va_list ap;

	memcpy(old, err_slot.msg, sizeof(old));
	va_start(ap, fmt);
	if (vsnprintf(err_slot.msg, sizeof(err_slot.msg), fmt, ap) < 0)
		err_slot.msg[0] = '\0';
	va_end(ap);
	if (!old[0])
		return;
	n = strlen(err_slot.msg);
	m = strlen(old);
	if (n + 2 + m >= sizeof(err_slot.msg))
		m = n + 2 < sizeof(err_slot.msg) ? sizeof(err_slot.msg) - n - 3 : 0;
	if (n + 2 >= sizeof(err_slot.msg))
		return;
	memcpy(err_slot.msg + n, ": ", 2);
	memcpy(err_slot.msg + n + 2, old, m);
	err_slot.msg[n + 2 + m] = '\0';
}

const char *sv_error_msg(void)
{
	return err_slot.msg;
}

int sv_error_code(void)
{
	return err_slot.code;
}

void sv_error_clear(void)
{
	err_slot.code = 0;
	err_slot.msg[0] = '\0';
}

const char *sv_err_str(int code)
{
	switch (code) {
	case SV_OK: return "ok";
	case SV_ERROR: return "error";
	case SV_ENOMEM: return "out of memory";
	case SV_EINVAL: return "invalid input";
	case SV_ENOTFOUND: return "not found";
	case SV_EEXISTS: return "already exists";
	case SV_EIO: return "input/output error";
	case SV_ECORRUPT: return "corrupt data";
	case SV_EAUTH: return "authentication failed";
	case SV_ECANCELLED: return "cancelled";
	case SV_ENOSPC: return "no space left";
	case SV_ETIMEOUT: return "timed out";
	case SV_ENOTSUPPORTED: return "not supported on this platform";
	case SV_EACCESS: return "permission denied";
	case SV_EBUSY: return "busy";
	case SV_ENETWORK: return "network error";
	case SV_EUSAGE: return "usage error";
	default: return "unknown error";
	}
}

int sv_err_from_errno(int e)
{
	switch (e) {
	case 0: return SV_OK;
	case ENOMEM: return SV_ENOMEM;
	case EINVAL: return SV_EINVAL;
	case ENOENT: case ENOTDIR: return SV_ENOTFOUND;
	case EEXIST: return SV_EEXISTS;
	case EACCES: case EPERM: case EROFS: return SV_EACCESS;
	case ENOSPC: case EFBIG: return SV_ENOSPC;
#ifdef EDQUOT
	case EDQUOT: return SV_ENOSPC;
#endif
	case EBUSY: return SV_EBUSY;
	case ETIMEDOUT: return SV_ETIMEOUT;
	default: return SV_EIO;
	}
}
