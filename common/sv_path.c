/*
 * sv_path.c - UTF-8 path helpers, identical on every platform.
 */
#include <string.h>

#include "sv_buf.h"
#include "sv_path.h"

int sv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t len, k;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static int is_sep(char c)
{
	return c == '/' || c == '\\';
}

char *sv_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (is_sep(*b))
		b++;
	if (la == 0)
		return sv_strdup(b);
	if (is_sep(a[la - 1]))
		return sv_aprintf("%s%s", a, b);
	return sv_aprintf("%s%c%s", a, SV_PATH_SEP, b);
}

const char *sv_path_basename(const char *path)
{
	const char *last = path, *p;

	for (p = path; *p; p++)
		if (is_sep(*p))
			last = p + 1;
	return last;
}

char *sv_path_dirname(const char *path)
{
	const char *base = sv_path_basename(path);
	size_t n = (size_t)(base - path);

	while (n > 1 && is_sep(path[n - 1]))
		n--;
	if (n == 0)
		return sv_strdup(".");
	return sv_strndup(path, n);
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int sv_path_is_absolute(const char *path)
{
	if (is_sep(path[0]))
		return 1;
	return is_alpha(path[0]) && path[1] == ':';
}

/* DOS device names are reserved in every directory, with any extension. */
static int is_reserved_name(const char *c, size_t n)
{
	static const char *names[] = { "CON", "PRN", "AUX", "NUL", "CONIN$",
				       "CONOUT$" };
	size_t stem = 0, i;

	while (stem < n && c[stem] != '.')
		stem++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t k = strlen(names[i]), j;

		if (k != stem)
			continue;
		for (j = 0; j < k && (c[j] & ~0x20) == names[i][j]; j++)
			;
		if (j == k)
			return 1;
	}
	if (stem == 4 && c[3] >= '1' && c[3] <= '9') {
		char u0 = (char)(c[0] & ~0x20), u1 = (char)(c[1] & ~0x20),
		     u2 = (char)(c[2] & ~0x20);

		if ((u0 == 'C' && u1 == 'O' && u2 == 'M') ||
		    (u0 == 'L' && u1 == 'P' && u2 == 'T'))
			return 1;
	}
	return 0;
}

static int check_component(const char *rel, const char *c, size_t n)
{
	size_t i;

	if (n == 0)
		return sv_error_set(SV_EINVAL, "path '%s' has an empty component",
				    rel);
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
		return sv_error_set(SV_EINVAL,
				    "path '%s' contains '%.*s', which could escape the target",
				    rel, (int)n, c);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];

		if (ch < 0x20 || ch == 0x7F || ch == ':' || ch == '\\' ||
		    ch == '*' || ch == '?' || ch == '"' || ch == '<' ||
		    ch == '>' || ch == '|')
			return sv_error_set(SV_EINVAL,
					    "path '%s' contains a character not allowed in a file name (byte 0x%02x)",
					    rel, ch);
	}
	if (c[n - 1] == '.' || c[n - 1] == ' ')
		return sv_error_set(SV_EINVAL,
				    "path '%s' has a component ending in a dot or space",
				    rel);
	if (is_reserved_name(c, n))
		return sv_error_set(SV_EINVAL,
				    "path '%s' uses the reserved device name '%.*s'",
				    rel, (int)n, c);
	return 0;
}

int sv_path_check_relative(const char *rel)
{
	const char *p = rel;
	size_t len = strlen(rel);

	if (len == 0)
		return sv_error_set(SV_EINVAL, "empty path");
	if (!sv_utf8_valid(rel, len))
		return sv_error_set(SV_EINVAL, "path is not valid UTF-8");
	if (sv_path_is_absolute(rel))
		return sv_error_set(SV_EINVAL,
				    "path '%s' is absolute; only relative paths may be restored",
				    rel);
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int rc = check_component(rel, p, n);

		if (rc < 0)
			return rc;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

void sv_path_to_native(char *p)
{
	for (; *p; p++)
		if (is_sep(*p))
			*p = SV_PATH_SEP;
}
