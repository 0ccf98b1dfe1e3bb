/*
 * sv_error.h - the one error type of sysvault.
 *
 * Functions return 0 on success or a negative sv_err code. The message that
 * explains the failure lives in a thread-local slot, set once where the
 * failure is detected by sv_error_set() and read at the top by the command
 * that reports it. Lower layers never overwrite a message set below them;
 * the top adds context with sv_error_prefix().
 */
#ifndef SV_ERROR_H
#define SV_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Codes are part of the ABI between modules; new codes go at the end. */
typedef enum sv_err {
	SV_OK = 0,
	SV_ERROR = -1,          /* unclassified failure */
	SV_ENOMEM = -2,         /* out of memory or a size limit overflowed */
	SV_EINVAL = -3,         /* bad argument or malformed input */
	SV_ENOTFOUND = -4,      /* the named object does not exist */
	SV_EEXISTS = -5,        /* the object exists and must not be replaced */
	SV_EIO = -6,            /* an OS read/write failed */
	SV_ECORRUPT = -7,       /* stored data failed verification */
	SV_EAUTH = -8,          /* wrong passphrase or rejected credentials */
	SV_ECANCELLED = -9,     /* stopped on request */
	SV_ENOSPC = -10,        /* no space left on the target */
	SV_ETIMEOUT = -11,      /* a time limit expired */
	SV_ENOTSUPPORTED = -12, /* the concept does not exist on this platform */
	SV_EACCESS = -13,       /* permission denied */
	SV_EBUSY = -14,         /* locked or in use by someone else */
	SV_ENETWORK = -15,      /* a network transfer failed */
	SV_EUSAGE = -16         /* wrong command line */
} sv_err;

#if defined(__MINGW32__)
/* mingw checks "printf" against msvcrt, which lacks %zu; sysvault builds
 * with __USE_MINGW_ANSI_STDIO, whose printf is C99. */
#define SV_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define SV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SV_PRINTF(f, a)
#endif
/* For functions taking a va_list: the format is checked at their callers. */
#define SV_VPRINTF(f) SV_PRINTF(f, 0)

/* Sets the thread's error to code with a formatted message; returns code. */
int sv_error_set(int code, const char *fmt, ...) SV_PRINTF(2, 3);
int sv_error_setv(int code, const char *fmt, va_list ap) SV_VPRINTF(2);

/* As sv_error_set(), then appends ": " and strerror(errno). */
int sv_error_set_errno(int code, const char *fmt, ...) SV_PRINTF(2, 3);

/*
 * As sv_error_set(), then appends ": " and the text of the last OS error:
 * GetLastError() on Windows, errno elsewhere.
 */
int sv_error_set_os(int code, const char *fmt, ...) SV_PRINTF(2, 3);

/* Prefixes the current message with "<context>: ". */
void sv_error_prefix(const char *fmt, ...) SV_PRINTF(1, 2);

/* The current message ("" when none) and code (0 when none). */
const char *sv_error_msg(void);
int sv_error_code(void);
void sv_error_clear(void);

/* A stable short name for a code: "SV_ENOTFOUND" -> "not found". */
const char *sv_err_str(int code);

/* Maps an errno value to the closest sv_err. */
int sv_err_from_errno(int e);

/* Platform: writes the last OS error's text into buf (sv_oserr_*.c). */
void sv__os_error_text(char *buf, size_t size);

#endif
