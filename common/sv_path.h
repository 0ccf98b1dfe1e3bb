/*
 * sv_path.h - UTF-8 path helpers. Paths are UTF-8 everywhere inside
 * sysvault; the platform files convert at the OS call. '/' and '\\' are both
 * separators on input; sv_path_join() uses the platform's separator.
 */
#ifndef SV_PATH_H
#define SV_PATH_H

#include <stddef.h>
#include "sv_error.h"

#ifdef _WIN32
#define SV_PATH_SEP '\\'
#else
#define SV_PATH_SEP '/'
#endif

/* 1 when s holds n bytes of valid UTF-8 without overlongs or surrogates. */
int sv_utf8_valid(const char *s, size_t n);

/* Joins a and b with one separator; caller frees. NULL on ENOMEM. */
char *sv_path_join(const char *a, const char *b);

/* The last component ("" for a trailing separator); points into path. */
const char *sv_path_basename(const char *path);

/* The directory part, newly allocated ("." when none). */
char *sv_path_dirname(const char *path);

/* 1 when path is absolute: "/x", "\\x", "C:\\x", "C:x", "\\\\server\\share". */
int sv_path_is_absolute(const char *path);

/*
 * Checks that rel is a safe relative path to create under a restore root:
 * valid UTF-8, '/'-separated, non-empty components, none "." or "..",
 * not absolute, no drive letter, no ':' (alternate data streams), no '\\',
 * no control characters, no component with a trailing dot or space, no
 * reserved DOS device name (CON, NUL, COM1...). Returns 0 or SV_EINVAL with a
 * message naming the component.
 */
int sv_path_check_relative(const char *rel);

/* Converts every '/' and '\\' in p to the platform separator, in place. */
void sv_path_to_native(char *p);

#endif
