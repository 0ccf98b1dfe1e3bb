/*
 * sv_platform_win.c - the machine probes of sv_platform.h on Windows:
 * volumes, services, ACLs, firmware, SMBIOS, names and DPAPI. The display
 * names of the enums are in sv_platform_names.c; the SMBIOS parser is in
 * sv_smbios.c.
 */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <wincrypt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "sv_platform.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"

/* 'RSMB' as GetSystemFirmwareTable() wants it. */
#define PLAT_RSMB ((DWORD)0x52534D42)

/* DPAPI's description of every blob this file seals. */
#define PLAT_SECRET_DESC L"sysvault"

/* ---- conversions ---- */

/* UTF-8 to a new UTF-16 string with '\\' separators. The paths here are
 * volume roots, targets and directories, which stay short, so no \\?\
 * prefix: several of these APIs want the plain Win32 form. */
static int plat_wide(wchar_t **out, const char *s)
{
	size_t n = strlen(s);
	wchar_t *p;
	int wn;

	*out = NULL;
	if (n >= INT_MAX / 2 || !sv_utf8_valid(s, n))
		return sv_error_set(SV_EINVAL, "'%s' is not valid UTF-8", s);
	wn = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n + 1,
				 NULL, 0);
	if (wn <= 0)
		return sv_error_set(SV_EINVAL, "'%s' is not valid UTF-8", s);
	if ((*out = sv_calloc((size_t)wn, sizeof(wchar_t))) == NULL)
		return SV_ENOMEM;
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n + 1, *out,
			    wn);
	for (p = *out; *p != L'\0'; p++)
		if (*p == L'/')
			*p = L'\\';
	return 0;
}

/* A UTF-16 string into dst as UTF-8; SV_EINVAL when it does not fit. */
static int plat_utf8(char *dst, size_t size, const wchar_t *w,
		     const char *what)
{
	int n;

	if (size == 0 || size > INT_MAX)
		return sv_error_set(SV_EINVAL, "no room for %s", what);
	dst[0] = '\0';
	n = WideCharToMultiByte(CP_UTF8, 0, w, -1, dst, (int)size, NULL, NULL);
	if (n <= 0) {
		dst[0] = '\0';
		return sv_error_set(SV_EINVAL, "%s does not fit in %d bytes",
				    what, (int)size);
	}
	return 0;
}

static int plat_path_code(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
	case ERROR_NOT_READY:
		return SV_ENOTFOUND;
	case ERROR_ACCESS_DENIED:
		return SV_EACCESS;
	default:
		return SV_EIO;
	}
}

/* "<what> '<path>': <OS text>" for error e. */
static int plat_path_fail(DWORD e, const char *what, const char *path)
{
	SetLastError(e);
	return sv_error_set_os(plat_path_code(e), "%s '%s'", what, path);
}

/* ---- volumes ---- */

/* The root of the volume holding path ("C:\", "\\server\share\",
 * "C:\mount\"); the path must exist. */
static int plat_volume_root(wchar_t *root, DWORD len, const char *path)
{
	wchar_t *w = NULL;
	int rc;

	if ((rc = plat_wide(&w, path)) != 0)
		goto done;
	if (GetFileAttributesW(w) == INVALID_FILE_ATTRIBUTES) {
		rc = plat_path_fail(GetLastError(), "cannot find", path);
		goto done;
	}
	if (!GetVolumePathNameW(w, root, len))
		rc = plat_path_fail(GetLastError(),
				    "cannot find the volume of", path);
done:
	free(w);
	return rc;
}

/* The volume root of path or, when it does not exist yet, of its nearest
 * existing parent. */
static int plat_volume_root_up(wchar_t *root, DWORD len, const char *path)
{
	char *p = sv_strdup(path), *up;
	int rc = p ? plat_volume_root(root, len, p) : SV_ENOMEM;

	while (rc == SV_ENOTFOUND && p) {
		up = sv_path_dirname(p);
		if (!up || !strcmp(up, p) || !strcmp(up, ".")) {
			free(up);
			break;
		}
		free(p);
		p = up;
		rc = plat_volume_root(root, len, p);
	}
	free(p);
	return rc;
}

int sv_volume_same(const char *a, const char *b, int *same)
{
	wchar_t ra[MAX_PATH + 1], rb[MAX_PATH + 1];
	int rc;

	*same = 0;
	if ((rc = plat_volume_root_up(ra, MAX_PATH + 1, a)) != 0 ||
	    (rc = plat_volume_root_up(rb, MAX_PATH + 1, b)) != 0)
		return rc;
	*same = _wcsicmp(ra, rb) == 0;
	return 0;
}

int sv_system_root(char *dst, size_t size)
{
	wchar_t w[MAX_PATH + 1];
	UINT n = GetSystemWindowsDirectoryW(w, MAX_PATH + 1);

	if (n == 0 || n > MAX_PATH)
		return sv_error_set_os(SV_ERROR, "GetSystemWindowsDirectoryW failed");
	return plat_utf8(dst, size, w, "the Windows directory");
}

static int plat_space(const wchar_t *root, const char *path,
		      uint64_t *free_bytes, uint64_t *total_bytes)
{
	ULARGE_INTEGER avail, total;

	if (!GetDiskFreeSpaceExW(root, &avail, &total, NULL))
		return plat_path_fail(GetLastError(),
				      "cannot get the free space of", path);
	*free_bytes = avail.QuadPart;
	*total_bytes = total.QuadPart;
	return 0;
}

int sv_volume_space(const char *path, uint64_t *free_bytes,
		    uint64_t *total_bytes)
{
	wchar_t root[MAX_PATH + 1];
	int rc;

	*free_bytes = 0;
	*total_bytes = 0;
	if ((rc = plat_volume_root(root, MAX_PATH + 1, path)) != 0)
		return rc;
	return plat_space(root, path, free_bytes, total_bytes);
}

static sv_volume_type plat_volume_type(UINT t)
{
	switch (t) {
	case DRIVE_FIXED:
		return SV_VOL_FIXED;
	case DRIVE_REMOVABLE:
		return SV_VOL_REMOVABLE;
	case DRIVE_REMOTE:
		return SV_VOL_REMOTE;
	case DRIVE_CDROM:
		return SV_VOL_CDROM;
	case DRIVE_RAMDISK:
		return SV_VOL_RAMDISK;
	default:
		return SV_VOL_UNKNOWN;
	}
}

int sv_volume_query(const char *path, sv_volume_info *out)
{
	wchar_t root[MAX_PATH + 1];
	wchar_t fs[MAX_PATH + 1];
	DWORD flags = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = plat_volume_root(root, MAX_PATH + 1, path)) != 0)
		return rc;
	out->type = plat_volume_type(GetDriveTypeW(root));
	if (!GetVolumeInformationW(root, NULL, 0, NULL, NULL, &flags, fs,
				   MAX_PATH + 1))
		return plat_path_fail(GetLastError(),
				      "cannot query the volume of", path);
	if ((rc = plat_utf8(out->fs_name, sizeof(out->fs_name), fs,
			    "the file system name")) != 0)
		return rc;
	out->read_only = (flags & FILE_READ_ONLY_VOLUME) != 0;
	return plat_space(root, path, &out->free_bytes, &out->total_bytes);
}

/* ---- services ---- */

static int plat_service_open(SC_HANDLE scm, SC_HANDLE *svc, const char *name)
{
	wchar_t *w = NULL;
	DWORD e;
	int rc;

	if ((rc = plat_wide(&w, name)) != 0)
		return rc;
	*svc = OpenServiceW(scm, w, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
	free(w);
	if (*svc != NULL)
		return 0;
	e = GetLastError();
	if (e == ERROR_SERVICE_DOES_NOT_EXIST)
		return sv_error_set(SV_ENOTFOUND, "service '%s' is not "
				    "installed", name);
	if (e == ERROR_INVALID_NAME)
		return sv_error_set(SV_EINVAL, "'%s' is not a service name",
				    name);
	return sv_error_set_os(e == ERROR_ACCESS_DENIED ? SV_EACCESS : SV_ERROR,
			       "cannot open service '%s'", name);
}

static int plat_service_config(SC_HANDLE svc, const char *name,
			       sv_service_info *out)
{
	QUERY_SERVICE_CONFIGW *cfg = NULL;
	SERVICE_DELAYED_AUTO_START_INFO delayed;
	DWORD need = 0;
	int rc = 0;

	if (!QueryServiceConfigW(svc, NULL, 0, &need) &&
	    GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
		rc = sv_error_set_os(SV_ERROR, "QueryServiceConfigW('%s')", name);
		goto done;
	}
	if ((cfg = sv_malloc(need > 0 ? need : 1)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if (!QueryServiceConfigW(svc, cfg, need, &need)) {
		rc = sv_error_set_os(SV_ERROR, "QueryServiceConfigW('%s')", name);
		goto done;
	}
	out->start_type = (sv_service_start)cfg->dwStartType;
	/* Absent before Vista-era SCMs: then no service is delayed. */
	if (cfg->dwStartType == SERVICE_AUTO_START &&
	    QueryServiceConfig2W(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
				 (BYTE *)&delayed, sizeof(delayed), &need))
		out->delayed_auto = delayed.fDelayedAutostart != 0;
done:
	free(cfg);
	return rc;
}

int sv_service_query(const char *name, sv_service_info *out)
{
	SC_HANDLE scm = NULL, svc = NULL;
	SERVICE_STATUS_PROCESS st;
	DWORD need;
	int rc;

	memset(out, 0, sizeof(*out));
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL) {
		rc = sv_error_set_os(GetLastError() == ERROR_ACCESS_DENIED
					     ? SV_EACCESS : SV_ERROR,
				     "cannot connect to the service control "
				     "manager (OpenSCManagerW)");
		goto done;
	}
	if ((rc = plat_service_open(scm, &svc, name)) != 0)
		goto done;
	if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st,
				  sizeof(st), &need)) {
		rc = sv_error_set_os(SV_ERROR, "QueryServiceStatusEx('%s')",
				     name);
		goto done;
	}
	out->state = (sv_service_state)st.dwCurrentState;
	rc = plat_service_config(svc, name, out);
done:
	if (svc != NULL)
		CloseServiceHandle(svc);
	if (scm != NULL)
		CloseServiceHandle(scm);
	return rc;
}

/* ---- ACLs ---- */

/* The SIDs in LocalSystem's token whose deny ACEs apply to it. */
static const WELL_KNOWN_SID_TYPE plat_system_groups[] = {
	WinLocalSystemSid, WinWorldSid, WinBuiltinAdministratorsSid,
	WinAuthenticatedUserSid,
};

/* The file rights of an ACE mask, generic rights mapped to specific ones. */
static ACCESS_MASK plat_file_rights(ACCESS_MASK m)
{
	GENERIC_MAPPING gm = {FILE_GENERIC_READ, FILE_GENERIC_WRITE,
			      FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS};

	MapGenericMask(&m, &gm);
	return m & FILE_ALL_ACCESS;
}

/* 1 when sid is LocalSystem (only_system) or one of the SIDs in its
 * token. */
static int plat_sid_is_system(PSID sid, int only_system)
{
	BYTE buf[SECURITY_MAX_SID_SIZE];
	DWORD size;
	size_t i, n = only_system ? 1 : sizeof(plat_system_groups) /
					 sizeof(plat_system_groups[0]);

	for (i = 0; i < n; i++) {
		size = sizeof(buf);
		if (CreateWellKnownSid(plat_system_groups[i], NULL, buf, &size) &&
		    EqualSid(sid, buf))
			return 1;
	}
	return 0;
}

/* ORs the rights that the DACL's effective ACEs allow LocalSystem and deny
 * it. Inherit-only ACEs apply to children, not to the object. */
static void plat_acl_walk(PACL dacl, ACCESS_MASK *allowed, ACCESS_MASK *denied)
{
	ACL_SIZE_INFORMATION info;
	ACE_HEADER *ace;
	DWORD i;

	*allowed = *denied = 0;
	if (!GetAclInformation(dacl, &info, sizeof(info), AclSizeInformation))
		return;
	for (i = 0; i < info.AceCount; i++) {
		if (!GetAce(dacl, i, (void **)&ace) ||
		    (ace->AceFlags & INHERIT_ONLY_ACE))
			continue;
		if (ace->AceType == ACCESS_ALLOWED_ACE_TYPE) {
			ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)ace;

			if (plat_sid_is_system(&a->SidStart, 1))
				*allowed |= plat_file_rights(a->Mask);
		} else if (ace->AceType == ACCESS_DENIED_ACE_TYPE) {
			ACCESS_DENIED_ACE *d = (ACCESS_DENIED_ACE *)ace;

			if (plat_sid_is_system(&d->SidStart, 0))
				*denied |= plat_file_rights(d->Mask);
		}
	}
}

/* The decision on a DACL already read; shared with the unit tests, which
 * build DACLs in memory where the file system would not keep them. */
int sv__acl_dacl_system_full_control(PACL dacl, int *granted);

int sv__acl_dacl_system_full_control(PACL dacl, int *granted)
{
	ACCESS_MASK allowed, denied;

	if (dacl == NULL) {   /* no DACL: everyone has full control */
		*granted = 1;
		return 0;
	}
	if (!IsValidAcl(dacl)) {
		*granted = 0;
		return sv_error_set(SV_EINVAL, "invalid ACL");
	}
	plat_acl_walk(dacl, &allowed, &denied);
	*granted = (allowed & FILE_ALL_ACCESS) == FILE_ALL_ACCESS &&
		   (denied & FILE_ALL_ACCESS) == 0;
	return 0;
}

int sv_acl_system_full_control(const char *path, int *granted)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	wchar_t *w = NULL;
	DWORD e;
	int rc;

	*granted = 0;
	if ((rc = plat_wide(&w, path)) != 0)
		goto done;
	e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
				  NULL, NULL, &dacl, NULL, &sd);
	if (e != ERROR_SUCCESS) {
		rc = plat_path_fail(e, "cannot read the ACL of", path);
		goto done;
	}
	rc = sv__acl_dacl_system_full_control(dacl, granted);
	if (rc != 0)
		sv_error_prefix("'%s'", path);
done:
	if (sd != NULL)
		LocalFree(sd);
	free(w);
	return rc;
}

/* ---- firmware ---- */

typedef BOOL(WINAPI *plat_get_firmware_type_fn)(PFIRMWARE_TYPE);

/* GetFirmwareType() where kernel32 has it (Windows 8 and later). */
static sv_firmware_type plat_firmware_from_api(void)
{
	HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
	plat_get_firmware_type_fn fn = NULL;
	FIRMWARE_TYPE t = FirmwareTypeUnknown;

	if (k32 != NULL)
		fn = (plat_get_firmware_type_fn)(void (*)(void))GetProcAddress(
			k32, "GetFirmwareType");
	if (fn == NULL || !fn(&t))
		return SV_FW_UNKNOWN;
	if (t == FirmwareTypeUefi)
		return SV_FW_UEFI;
	if (t == FirmwareTypeBios)
		return SV_FW_BIOS;
	return SV_FW_UNKNOWN;
}

int sv_firmware_type_get(sv_firmware_type *out)
{
	DWORD e;

	*out = plat_firmware_from_api();
	if (*out != SV_FW_UNKNOWN)
		return 0;
	/* The older test: on BIOS machines reading any UEFI variable fails
	 * with ERROR_INVALID_FUNCTION; on UEFI it fails otherwise (no such
	 * variable, or the privilege is not held). */
	GetFirmwareEnvironmentVariableW(
		L"", L"{00000000-0000-0000-0000-000000000000}", NULL, 0);
	e = GetLastError();
	if (e == ERROR_INVALID_FUNCTION) {
		*out = SV_FW_BIOS;
		return 0;
	}
	if (e == ERROR_CALL_NOT_IMPLEMENTED || e == ERROR_NOT_SUPPORTED)
		return sv_error_set_os(SV_ENOTSUPPORTED, "GetFirmwareType and "
				       "GetFirmwareEnvironmentVariableW cannot "
				       "tell the firmware type");
	*out = SV_FW_UEFI;
	return 0;
}

/* ---- SMBIOS ---- */

int sv_smbios_read(sv_smbios_info *out)
{
	uint8_t *blob = NULL;
	UINT n, got;
	int rc;

	memset(out, 0, sizeof(*out));
	n = GetSystemFirmwareTable(PLAT_RSMB, 0, NULL, 0);
	if (n == 0) {
		rc = sv_error_set_os(SV_ENOTSUPPORTED, "GetSystemFirmwareTable"
				     "('RSMB') gives no SMBIOS data");
		goto done;
	}
	if ((blob = sv_malloc(n)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	got = GetSystemFirmwareTable(PLAT_RSMB, 0, blob, n);
	if (got == 0 || got > n) {
		rc = sv_error_set_os(SV_ENOTSUPPORTED, "GetSystemFirmwareTable"
				     "('RSMB') failed");
		goto done;
	}
	rc = sv_smbios_parse_rsmb(out, blob, got);
done:
	free(blob);
	return rc;
}

/* ---- names ---- */

static int plat_computer_name(char *dst, size_t size, COMPUTER_NAME_FORMAT f)
{
	wchar_t *w = NULL;
	DWORD n = 0;
	int rc;

	if (!GetComputerNameExW(f, NULL, &n) && GetLastError() != ERROR_MORE_DATA)
		return sv_error_set_os(SV_ERROR, "GetComputerNameExW failed");
	if ((w = sv_calloc((size_t)n + 1, sizeof(wchar_t))) == NULL)
		return SV_ENOMEM;
	if (!GetComputerNameExW(f, w, &n))
		rc = sv_error_set_os(SV_ERROR, "GetComputerNameExW failed");
	else
		rc = plat_utf8(dst, size, w, "the computer name");
	free(w);
	return rc;
}

int sv_machine_name(char *dst, size_t size)
{
	int rc = plat_computer_name(dst, size, ComputerNamePhysicalNetBIOS);

	if (rc == 0 && dst[0] != '\0')
		return 0;
	if (rc == SV_EINVAL)
		return rc;
	rc = plat_computer_name(dst, size, ComputerNameNetBIOS);
	if (rc == 0 && dst[0] == '\0')
		rc = sv_error_set(SV_ERROR, "the computer has no name");
	return rc;
}

int sv_machine_fqdn(char *dst, size_t size)
{
	int rc = plat_computer_name(dst, size,
				    ComputerNamePhysicalDnsFullyQualified);

	if (rc == 0 && dst[0] != '\0')
		return 0;
	if (rc == SV_EINVAL)
		return rc;
	/* Not in a DNS domain and no primary DNS suffix: the plain name. */
	return sv_machine_name(dst, size);
}

typedef LONG(WINAPI *plat_rtl_get_version_fn)(RTL_OSVERSIONINFOW *);

/* RtlGetVersion, unlike GetVersionExW, is not shimmed to the version in
 * the program's manifest. */
int sv_os_version(char *dst, size_t size)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
	plat_rtl_get_version_fn fn = NULL;
	RTL_OSVERSIONINFOW v;

	memset(&v, 0, sizeof(v));
	v.dwOSVersionInfoSize = sizeof(v);
	if (ntdll != NULL)
		fn = (plat_rtl_get_version_fn)(void (*)(void))GetProcAddress(
			ntdll, "RtlGetVersion");
	if (fn == NULL || fn(&v) != 0)
		return sv_error_set(SV_ENOTSUPPORTED, "RtlGetVersion is not "
				    "available");
	return sv_snprintf(dst, size, "Windows %lu.%lu.%lu",
			   (unsigned long)v.dwMajorVersion,
			   (unsigned long)v.dwMinorVersion,
			   (unsigned long)v.dwBuildNumber);
}

/* ---- secrets ---- */

int sv_secret_protect(sv_buf *out, const void *data, size_t len)
{
	DATA_BLOB in, sealed = {0, NULL};
	int rc;

	if (len > MAXDWORD)
		return sv_error_set(SV_EINVAL, "secret too large to seal");
	in.cbData = (DWORD)len;
	in.pbData = (BYTE *)(uintptr_t)data;
	if (!CryptProtectData(&in, PLAT_SECRET_DESC, NULL, NULL, NULL,
			      CRYPTPROTECT_LOCAL_MACHINE |
			      CRYPTPROTECT_UI_FORBIDDEN, &sealed))
		return sv_error_set_os(GetLastError() == ERROR_CALL_NOT_IMPLEMENTED
					       ? SV_ENOTSUPPORTED : SV_ERROR,
				       "cannot seal a secret with "
				       "CryptProtectData");
	rc = sv_buf_add(out, sealed.pbData, sealed.cbData);
	LocalFree(sealed.pbData);
	return rc;
}

int sv_secret_unprotect(sv_buf *out, const void *blob, size_t len)
{
	DATA_BLOB in, plain = {0, NULL};
	int rc;

	if (len > MAXDWORD)
		return sv_error_set(SV_EAUTH, "sealed secret too large");
	in.cbData = (DWORD)len;
	in.pbData = (BYTE *)(uintptr_t)blob;
	if (!CryptUnprotectData(&in, NULL, NULL, NULL, NULL,
				CRYPTPROTECT_UI_FORBIDDEN, &plain))
		return sv_error_set_os(SV_EAUTH, "cannot unseal a secret (it "
				       "was sealed on another machine or "
				       "altered)");
	rc = sv_buf_add(out, plain.pbData, plain.cbData);
	SecureZeroMemory(plain.pbData, plain.cbData);
	LocalFree(plain.pbData);
	return rc;
}

int sv_secret_file_write(const char *path, const void *data, size_t len)
{
	sv_buf sealed;
	int rc;

	sv_buf_init(&sealed, SIZE_MAX / 2);
	rc = sv_secret_protect(&sealed, data, len);
	if (rc == 0)
		rc = sv_fs_write_atomic(path, sealed.ptr, sealed.len, 1);
	sv_buf_release(&sealed);
	return rc;
}

int sv_secret_file_read(sv_buf *out, const char *path, size_t max)
{
	char *blob = NULL;
	size_t len = 0;
	int rc = sv_fs_read_all(&blob, &len, path, max + 4096);

	if (rc == 0)
		rc = sv_secret_unprotect(out, blob, len);
	free(blob);
	return rc;
}
