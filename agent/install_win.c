/*
 * install_win.c - the machine PATH entry and the state directory's ACL,
 * for the installer's custom actions (wixl has no Environment or
 * LockPermissions support).
 */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <stdlib.h>
#include <wchar.h>

#include "install.h"
#include "sv_buf.h"
#include "sv_error.h"
#include "sv_fs.h"

#define ENV_KEY L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
/* The longest value Windows lets an environment variable have. */
#define PATH_MAX_CHARS 32767
/* Full control for SYSTEM and Administrators, inherited, nothing else. */
#define STATE_SDDL L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

static int to_wide(wchar_t **out, const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);

	*out = n > 0 ? sv_calloc((size_t)n, sizeof(wchar_t)) : NULL;
	if (n <= 0)
		return sv_error_set(SV_EINVAL, "'%s' is not valid UTF-8", s);
	if (!*out)
		return SV_ENOMEM;
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, *out, n);
	return 0;
}

/* The machine PATH (empty when unset) and its registry type. */
static int path_read(HKEY k, wchar_t **out, DWORD *type)
{
	DWORD size = 0;
	LSTATUS st = RegQueryValueExW(k, L"Path", NULL, type, NULL, &size);

	*out = NULL;
	if (st == ERROR_FILE_NOT_FOUND) {
		*type = REG_EXPAND_SZ;
		*out = sv_calloc(1, sizeof(wchar_t));
		return *out ? 0 : SV_ENOMEM;
	}
	if (st == ERROR_SUCCESS && !(*out = sv_calloc(size / sizeof(wchar_t) + 1, sizeof(wchar_t))))
		return SV_ENOMEM;
	if (st == ERROR_SUCCESS)
		st = RegQueryValueExW(k, L"Path", NULL, type, (BYTE *)*out, &size);
	if (st != ERROR_SUCCESS) {
		free(*out);
		*out = NULL;
		SetLastError((DWORD)st);
		return sv_error_set_os(SV_EIO, "cannot read the machine PATH");
	}
	return 0;
}

static int path_write(HKEY k, const wchar_t *v, DWORD type)
{
	size_t n = wcslen(v);
	LSTATUS st;

	if (n > PATH_MAX_CHARS)
		return sv_error_set(SV_EINVAL, "the machine PATH would be longer than %d "
				    "characters: remove unused entries from it first",
				    PATH_MAX_CHARS);
	st = RegSetValueExW(k, L"Path", 0, type, (const BYTE *)v,
			    (DWORD)((n + 1) * sizeof(wchar_t)));
	if (st != ERROR_SUCCESS) {
		SetLastError((DWORD)st);
		return sv_error_set_os(SV_EIO, "cannot write the machine PATH");
	}
	/* Explorer and services read the new value only when told. */
	SendMessageTimeoutW(HWND_BROADCAST, WM_SETTINGCHANGE, 0, (LPARAM)L"Environment",
			    SMTO_ABORTIFHUNG, 5000, NULL);
	return 0;
}

/* Whether the n characters at e name dir (case-insensitive; a trailing
 * backslash on either side does not count). */
static int same_dir(const wchar_t *e, size_t n, const wchar_t *dir)
{
	size_t d = wcslen(dir);

	while (n > 0 && e[n - 1] == L'\\')
		n--;
	while (d > 0 && dir[d - 1] == L'\\')
		d--;
	return n == d && n > 0 && _wcsnicmp(e, dir, n) == 0;
}

/* old without the entries equal to dir (and without empty entries),
 * then dir appended when add. Caller frees. */
static wchar_t *path_edit(const wchar_t *old, const wchar_t *dir, int add, int *changed)
{
	size_t cap = wcslen(old) + wcslen(dir) + 2, len = 0, n;
	wchar_t *out = sv_calloc(cap, sizeof(wchar_t));
	const wchar_t *p = old;
	int found = 0;

	if (!out)
		return NULL;
	while (*p) {
		n = wcscspn(p, L";");
		if (same_dir(p, n, dir))
			found = 1;
		if (n > 0 && (add || !same_dir(p, n, dir))) {
			if (len)
				out[len++] = L';';
			wmemcpy(out + len, p, n);
			len += n;
		}
		p += n + (p[n] == L';');
	}
	if (add && !found) {
		if (len)
			out[len++] = L';';
		wmemcpy(out + len, dir, wcslen(dir));
		len += wcslen(dir);
	}
	out[len] = L'\0';
	*changed = add ? !found : found;
	return out;
}

static int path_change(const char *dir, int add)
{
	wchar_t *wdir = NULL, *old = NULL, *nw = NULL;
	HKEY k = NULL;
	DWORD type = REG_EXPAND_SZ;
	int changed = 0, rc = to_wide(&wdir, dir);
	LSTATUS st;

	if (rc == 0) {
		st = RegOpenKeyExW(HKEY_LOCAL_MACHINE, ENV_KEY, 0, KEY_QUERY_VALUE | KEY_SET_VALUE, &k);
		if (st != ERROR_SUCCESS) {
			SetLastError((DWORD)st);
			rc = sv_error_set_os(st == ERROR_ACCESS_DENIED ? SV_EACCESS : SV_EIO,
					     "cannot open the machine environment: run as an "
					     "administrator");
		}
	}
	if (rc == 0)
		rc = path_read(k, &old, &type);
	if (rc == 0 && !(nw = path_edit(old, wdir, add, &changed)))
		rc = SV_ENOMEM;
	if (rc == 0 && changed)
		rc = path_write(k, nw, type == REG_SZ ? REG_SZ : REG_EXPAND_SZ);
	if (k)
		RegCloseKey(k);
	free(wdir);
	free(old);
	free(nw);
	return rc;
}

int sv_install_path_add(const char *dir)
{
	return path_change(dir, 1);
}

int sv_install_path_remove(const char *dir)
{
	return path_change(dir, 0);
}

int sv_install_secure_dir(const char *dir)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	BOOL present = FALSE, defaulted = FALSE;
	PACL dacl = NULL;
	wchar_t *w = NULL;
	DWORD err;
	int rc = sv_fs_mkdir_p(dir, 1);

	if (rc == 0)
		rc = to_wide(&w, dir);
	if (rc == 0 && (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
				STATE_SDDL, SDDL_REVISION_1, &sd, NULL) ||
			!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)))
		rc = sv_error_set_os(SV_ERROR, "cannot build the state directory's ACL");
	if (rc == 0) {
		err = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION |
					    PROTECTED_DACL_SECURITY_INFORMATION,
					    NULL, NULL, dacl, NULL);
		if (err != ERROR_SUCCESS) {
			SetLastError(err);
			rc = sv_error_set_os(err == ERROR_ACCESS_DENIED ? SV_EACCESS : SV_EIO,
					     "cannot set the ACL of '%s' (SYSTEM and Administrators "
					     "only): run as an administrator", dir);
		}
	}
	LocalFree(sd);
	free(w);
	return rc;
}

int sv_install_exe_dir(char **out)
{
	wchar_t w[MAX_PATH * 4];
	DWORD n = GetModuleFileNameW(NULL, w, (DWORD)(sizeof(w) / sizeof(w[0])));
	int len;

	*out = NULL;
	if (n == 0 || n >= sizeof(w) / sizeof(w[0]))
		return sv_error_set_os(SV_EIO, "cannot find sysvault.exe's own path");
	while (n > 0 && w[n - 1] != L'\\')
		n--;
	if (n > 0)
		n--;   /* the separator */
	w[n] = L'\0';
	len = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	if (len <= 0 || !(*out = sv_calloc((size_t)len, 1)))
		return SV_ENOMEM;
	WideCharToMultiByte(CP_UTF8, 0, w, -1, *out, len, NULL, NULL);
	return 0;
}
