/*
 * sv_vdisk_win.c - the staging VHDX on Windows: VirtDisk to create, attach,
 * resize and detach it; the disk IOCTLs to bring it online, lay out one GPT
 * partition and grow it; the volume IOCTLs to find and extend its volume;
 * format.com (through sv_proc) for NTFS, since Windows has no documented
 * format API.
 *
 * Every public function first asks VirtDisk whether it works at all (see
 * vd_available()), so that a system with only stubs gets SV_ENOTSUPPORTED
 * instead of calling one.
 */
#include <windows.h>
#include <winioctl.h>
#include <virtdisk.h>
#include <objbase.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "sv_vdisk.h"
#include "sv_buf.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

/* ---- declarations mingw-w64's headers lack or get wrong ---- */

#ifndef VIRTUAL_STORAGE_TYPE_DEVICE_VHDX
#define VIRTUAL_STORAGE_TYPE_DEVICE_VHDX 3
#endif

/* virtdisk.h declares VIRTUAL_STORAGE_TYPE_VENDOR_MICROSOFT, but no mingw
 * import library defines it. */
static const GUID vd_vendor_microsoft = {
	0xec984aec, 0xa0f9, 0x47e9,
	{0x90, 0x1f, 0x71, 0x41, 0x5a, 0x66, 0x34, 0x5b}};

/* PARTITION_BASIC_DATA_GUID, missing from mingw's winioctl.h. */
static const GUID vd_basic_data = {
	0xebd0a0a2, 0xb9e5, 0x4433,
	{0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7}};

/* mingw-w64's CREATE_VIRTUAL_DISK_PARAMETERS lacks Version2's
 * PhysicalSectorSizeInBytes, which moves every later member; this is the
 * Windows SDK's layout, passed with a cast. */
typedef struct vd_create_params {
	CREATE_VIRTUAL_DISK_VERSION Version;
	struct {
		GUID UniqueId;
		ULONGLONG MaximumSize;
		ULONG BlockSizeInBytes;
		ULONG SectorSizeInBytes;
		ULONG PhysicalSectorSizeInBytes;
		PCWSTR ParentPath;
		PCWSTR SourcePath;
		OPEN_VIRTUAL_DISK_FLAG OpenFlags;
		VIRTUAL_STORAGE_TYPE ParentVirtualStorageType;
		VIRTUAL_STORAGE_TYPE SourceVirtualStorageType;
		GUID ResiliencyGuid;
	} Version2;
} vd_create_params;

/* IOCTL_DISK_GET/SET_DISK_ATTRIBUTES (Windows 7 and later), missing from
 * mingw's winioctl.h; layouts as in the Windows SDK. */
#ifndef IOCTL_DISK_GET_DISK_ATTRIBUTES
#define IOCTL_DISK_GET_DISK_ATTRIBUTES \
	CTL_CODE(IOCTL_DISK_BASE, 0x003c, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_DISK_SET_DISK_ATTRIBUTES \
	CTL_CODE(IOCTL_DISK_BASE, 0x003d, METHOD_BUFFERED, \
		 FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#endif
#define VD_DISK_ATTRIBUTE_OFFLINE 0x1ull
#define VD_DISK_ATTRIBUTE_READ_ONLY 0x2ull

typedef struct vd_get_disk_attributes {
	DWORD Version;
	DWORD Reserved1;
	DWORDLONG Attributes;
} vd_get_disk_attributes;

typedef struct vd_set_disk_attributes {
	DWORD Version;
	BOOLEAN Persist;
	BYTE Reserved1[3];
	DWORDLONG Attributes;
	DWORDLONG AttributesMask;
	DWORD Reserved2[4];
} vd_set_disk_attributes;

/* VirtDisk's own error codes, and two that OpenVirtualDisk documents;
 * all from the Windows SDK's winerror.h. */
#define VD_ERROR_PROVIDER_NOT_FOUND ((DWORD)0xC03A0014)
#define VD_ERROR_NOT_VIRTUAL_DISK ((DWORD)0xC03A0015)
#ifndef ERROR_UNSUPPORTED_COMPRESSION
#define ERROR_UNSUPPORTED_COMPRESSION 618L
#endif
#ifndef ERROR_FILE_SYSTEM_LIMITATION
#define ERROR_FILE_SYSTEM_LIMITATION 665L
#endif

/* ---- limits ---- */

#define VD_MIB ((uint64_t)1 << 20)
/* Partition table entries read back; a GPT has at most 128. */
#define VD_LAYOUT_ENTRIES 128
/* The backup GPT at the end of the disk: 128 entries of 128 bytes, plus
 * the header sector added at run time. */
#define VD_GPT_BACKUP_ENTRIES 16384
/* How long a new or re-attached volume may take to appear and mount. */
#define VD_VOLUME_WAIT_MS 60000
#define VD_VOLUME_POLL_MS 250
/* A quick NTFS format takes seconds; this only bounds a hang. */
#define VD_FORMAT_TIMEOUT_MS (10u * 60u * 1000u)

/* The prefix of a failure to make the volume as large as its grown disk:
 * the disk still works at its old size, and the cure is a new one. */
#define VD_REMEDY "the volume of '%s' cannot grow with its virtual disk " \
		  "(detach the disk, delete it and create it again)"

/* One operation on one VHDX. */
typedef struct vd_ctx {
	const char *path;          /* UTF-8, for messages */
	wchar_t *wpath;            /* full UTF-16 path */
	HANDLE vd;                 /* the open virtual disk, or NULL */
	wchar_t phys[MAX_PATH];    /* \\.\PhysicalDriveN once attached */
	DWORD disk;                /* N */
	wchar_t volume[MAX_PATH];  /* \\?\Volume{...}\ once found */
} vd_ctx;

/* ---- errors ---- */

static int vd_code(DWORD e)
{
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return SV_ENOTFOUND;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return SV_EEXISTS;
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
	case ERROR_WRITE_PROTECT:
		return SV_EACCESS;
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_BUSY:
		return SV_EBUSY;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return SV_ENOSPC;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return SV_ENOMEM;
	case ERROR_CALL_NOT_IMPLEMENTED:
	case VD_ERROR_PROVIDER_NOT_FOUND:
		return SV_ENOTSUPPORTED;
	case VD_ERROR_NOT_VIRTUAL_DISK:
	case ERROR_FILE_CORRUPT:
	case ERROR_INVALID_NAME:
	case ERROR_UNSUPPORTED_COMPRESSION:
	case ERROR_FILE_ENCRYPTED:
	case ERROR_FILE_SYSTEM_LIMITATION:
		return SV_EINVAL;
	case ERROR_TIMEOUT:
	case ERROR_SEM_TIMEOUT:
		return SV_ETIMEOUT;
	default:
		return SV_EIO;
	}
}

/* "<what> '<path>': <OS text>" for error e, a VirtDisk return value or a
 * GetLastError(). */
static int vd_fail(DWORD e, const char *what, const char *path)
{
	SetLastError(e);
	return sv_error_set_os(vd_code(e), "%s '%s'", what, path);
}

static int vd_fail_last(const char *what, const char *path)
{
	return vd_fail(GetLastError(), what, path);
}

/* ---- UTF-8 <-> UTF-16 ---- */

/* The full UTF-16 path of a UTF-8 path. VirtDisk is given the plain Win32
 * form: staging paths are short, and the \\?\ form buys nothing here. */
static int vd_wpath(wchar_t **out, const char *path)
{
	wchar_t *w = NULL, *full = NULL, *p;
	size_t n = strlen(path);
	DWORD len;
	int wn, rc = 0;

	*out = NULL;
	if (n == 0 || n >= INT_MAX / 2 || !sv_utf8_valid(path, n)) {
		rc = sv_error_set(SV_EINVAL, "'%s' is not a valid UTF-8 path",
				  path);
		goto done;
	}
	wn = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path,
				 (int)n + 1, NULL, 0);
	if (wn <= 0 || (w = sv_calloc((size_t)wn, sizeof(wchar_t))) == NULL) {
		rc = wn <= 0 ? sv_error_set(SV_EINVAL, "'%s' is not valid "
					    "UTF-8", path)
			     : SV_ENOMEM;
		goto done;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, (int)n + 1, w,
			    wn);
	for (p = w; *p != L'\0'; p++)
		if (*p == L'/')
			*p = L'\\';
	len = GetFullPathNameW(w, 0, NULL, NULL);
	if (len == 0 || (full = sv_calloc((size_t)len + 1,
					  sizeof(wchar_t))) == NULL) {
		rc = len == 0 ? vd_fail_last("cannot resolve", path)
			      : SV_ENOMEM;
		goto done;
	}
	if (GetFullPathNameW(w, len + 1, full, NULL) == 0) {
		rc = vd_fail_last("cannot resolve", path);
		goto done;
	}
	*out = full;
	full = NULL;
done:
	free(w);
	free(full);
	return rc;
}

/* A UTF-16 string into dst as UTF-8; SV_EINVAL when it does not fit. */
static int vd_utf8(char *dst, size_t size, const wchar_t *w, const char *what)
{
	int n;

	if (size == 0 || size > INT_MAX)
		return sv_error_set(SV_EINVAL, "no room for %s", what);
	dst[0] = '\0';
	n = WideCharToMultiByte(CP_UTF8, 0, w, -1, dst, (int)size, NULL, NULL);
	if (n <= 0) {
		dst[0] = '\0';
		return sv_error_set(SV_EINVAL, "%s does not fit in %zu bytes",
				    what, size);
	}
	return 0;
}

/* ---- arguments ---- */

static void vd_clear(char *volume_out, size_t n)
{
	if (volume_out != NULL && n > 0)
		volume_out[0] = '\0';
}

/* size rounded up to a MiB, within SV_VDISK_MIN_SIZE..SV_VDISK_MAX_SIZE. */
static int vd_size(uint64_t *out, uint64_t size)
{
	if (size < SV_VDISK_MIN_SIZE || size > SV_VDISK_MAX_SIZE)
		return sv_error_set(SV_EINVAL, "a virtual disk of %llu bytes "
				    "is outside %llu..%llu",
				    (unsigned long long)size,
				    (unsigned long long)SV_VDISK_MIN_SIZE,
				    (unsigned long long)SV_VDISK_MAX_SIZE);
	*out = (size + VD_MIB - 1) & ~(VD_MIB - 1);
	return 0;
}

static int vd_check_name(const char *path)
{
	size_t n = strlen(path);
	const char *ext = n >= 5 ? path + n - 5 : "";

	if (ext[0] == '.' && (ext[1] | 0x20) == 'v' && (ext[2] | 0x20) == 'h' &&
	    (ext[3] | 0x20) == 'd' && (ext[4] | 0x20) == 'x')
		return 0;
	return sv_error_set(SV_EINVAL, "'%s': a VHDX file name must end in "
			    "'.vhdx'", path);
}

/* ---- the VirtDisk handle ---- */

static VIRTUAL_STORAGE_TYPE vd_vhdx_type(void)
{
	VIRTUAL_STORAGE_TYPE t;

	t.DeviceId = VIRTUAL_STORAGE_TYPE_DEVICE_VHDX;
	t.VendorId = vd_vendor_microsoft;
	return t;
}

static int vd_init(vd_ctx *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	if (path == NULL)
		return sv_error_set(SV_EINVAL, "no virtual disk path");
	return vd_wpath(&c->wpath, path);
}

static void vd_release(vd_ctx *c)
{
	if (c->vd != NULL && c->vd != INVALID_HANDLE_VALUE)
		CloseHandle(c->vd);
	c->vd = NULL;
	free(c->wpath);
	c->wpath = NULL;
}

static int vd_exists(const vd_ctx *c, int *exists)
{
	DWORD e;

	*exists = GetFileAttributesW(c->wpath) != INVALID_FILE_ATTRIBUTES;
	if (*exists)
		return 0;
	e = GetLastError();
	if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
		return 0;
	return vd_fail(e, "cannot look for", c->path);
}

static int vd_require(const vd_ctx *c)
{
	int exists, rc;

	if ((rc = vd_exists(c, &exists)) != 0)
		return rc;
	if (!exists)
		return sv_error_set(SV_ENOTFOUND, "no virtual disk at '%s'",
				    c->path);
	return 0;
}

/*
 * Whether VirtDisk works here. Wine exports CreateVirtualDisk,
 * AttachVirtualDisk, GetVirtualDiskPhysicalPath and the rest as stubs that
 * end the process when called; only its OpenVirtualDisk is code, which
 * answers ERROR_CALL_NOT_IMPLEMENTED for VHDX (and ERROR_INVALID_PARAMETER
 * to version-2 parameters). A version-1, read-only open for information is
 * answered honestly everywhere: a handle or a file error on Windows, "not
 * implemented" without a virtual disk stack. want names the function the
 * caller was about to use.
 */
static int vd_available(const vd_ctx *c, const char *want)
{
	VIRTUAL_STORAGE_TYPE t = vd_vhdx_type();
	OPEN_VIRTUAL_DISK_PARAMETERS p;
	HANDLE h = NULL;
	DWORD e;

	memset(&p, 0, sizeof(p));
	p.Version = OPEN_VIRTUAL_DISK_VERSION_1;
	p.Version1.RWDepth = 0;   /* nothing opened for writing */
	e = OpenVirtualDisk(&t, c->wpath, VIRTUAL_DISK_ACCESS_GET_INFO,
			    OPEN_VIRTUAL_DISK_FLAG_NONE, &p, &h);
	if (e == ERROR_SUCCESS && h != NULL)
		CloseHandle(h);
	if (e != ERROR_CALL_NOT_IMPLEMENTED)
		return 0;
	return sv_error_set(SV_ENOTSUPPORTED, "virtual disks do not work on "
			    "this system (OpenVirtualDisk is not implemented), "
			    "so %s cannot be used for '%s'", want, c->path);
}

/* Enables SeManageVolumePrivilege in the process token; AttachVirtualDisk
 * and the disk IOCTLs need it. It stays enabled: the agent is the only
 * user of its token and only ever holds it when elevated. */
static int vd_enable_privilege(void)
{
	HANDLE tok = NULL;
	TOKEN_PRIVILEGES tp;
	DWORD e;
	int rc = 0;

	if (!OpenProcessToken(GetCurrentProcess(),
			      TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok))
		return sv_error_set_os(SV_EACCESS, "cannot open the process "
				       "token to enable "
				       "SeManageVolumePrivilege");
	memset(&tp, 0, sizeof(tp));
	tp.PrivilegeCount = 1;
	tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
	if (!LookupPrivilegeValueW(NULL, L"SeManageVolumePrivilege",
				   &tp.Privileges[0].Luid)) {
		rc = sv_error_set_os(SV_ERROR, "cannot look up "
				     "SeManageVolumePrivilege");
		goto done;
	}
	SetLastError(ERROR_SUCCESS);
	AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL);
	e = GetLastError();
	if (e == ERROR_NOT_ALL_ASSIGNED)
		rc = sv_error_set(SV_EACCESS, "the staging virtual disk needs "
				  "SeManageVolumePrivilege, which this process "
				  "does not hold: run sysvault elevated (as an "
				  "Administrator or as LocalSystem)");
	else if (e != ERROR_SUCCESS)
		rc = sv_error_set_os(SV_EACCESS, "cannot enable "
				     "SeManageVolumePrivilege (run sysvault "
				     "elevated)");
done:
	CloseHandle(tok);
	return rc;
}

/* Checks, privileges and opens: what every operation on an existing VHDX
 * does first. */
static int vd_open(vd_ctx *c, int privileged, const char *want)
{
	VIRTUAL_STORAGE_TYPE t = vd_vhdx_type();
	OPEN_VIRTUAL_DISK_PARAMETERS p;
	DWORD e;
	int rc;

	if ((rc = vd_available(c, want)) != 0)
		return rc;
	if (privileged && (rc = vd_enable_privilege()) != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.Version = OPEN_VIRTUAL_DISK_VERSION_2;
	e = OpenVirtualDisk(&t, c->wpath, VIRTUAL_DISK_ACCESS_NONE,
			    OPEN_VIRTUAL_DISK_FLAG_NONE, &p, &c->vd);
	if (e != ERROR_SUCCESS) {
		c->vd = NULL;
		return vd_fail(e, "cannot open the virtual disk", c->path);
	}
	return 0;
}

/* The disk's physical path while attached; the VirtDisk error otherwise. */
static DWORD vd_physical_path(vd_ctx *c)
{
	ULONG size = sizeof(c->phys);

	memset(c->phys, 0, sizeof(c->phys));
	return GetVirtualDiskPhysicalPath(c->vd, &size, c->phys);
}

/* GetVirtualDiskPhysicalPath succeeds exactly when the disk is attached
 * (its documented condition; the buffer is always large enough), which
 * also fills c->phys for what follows. */
static void vd_is_attached(vd_ctx *c, int *attached)
{
	*attached = vd_physical_path(c) == ERROR_SUCCESS;
}

static int vd_virtual_size(vd_ctx *c, uint64_t *size)
{
	GET_VIRTUAL_DISK_INFO info;
	ULONG n = sizeof(info), used = 0;
	DWORD e;

	memset(&info, 0, sizeof(info));
	info.Version = GET_VIRTUAL_DISK_INFO_SIZE;
	e = GetVirtualDiskInformation(c->vd, &n, &info, &used);
	if (e != ERROR_SUCCESS)
		return vd_fail(e, "cannot read the size of the virtual disk",
			       c->path);
	*size = info.Size.VirtualSize;
	return 0;
}

static int vd_attach_disk(vd_ctx *c)
{
	ATTACH_VIRTUAL_DISK_FLAG flags = (ATTACH_VIRTUAL_DISK_FLAG)(
		ATTACH_VIRTUAL_DISK_FLAG_NO_DRIVE_LETTER |
		ATTACH_VIRTUAL_DISK_FLAG_PERMANENT_LIFETIME);
	ATTACH_VIRTUAL_DISK_PARAMETERS p;
	DWORD e;

	memset(&p, 0, sizeof(p));
	p.Version = ATTACH_VIRTUAL_DISK_VERSION_1;
	e = AttachVirtualDisk(c->vd, NULL, flags, 0, &p, NULL);
	if (e != ERROR_SUCCESS)
		return vd_fail(e, "cannot attach the virtual disk", c->path);
	return 0;
}

static int vd_detach_disk(vd_ctx *c)
{
	DWORD e = DetachVirtualDisk(c->vd, DETACH_VIRTUAL_DISK_FLAG_NONE, 0);

	if (e != ERROR_SUCCESS)
		return vd_fail(e, "cannot detach the virtual disk", c->path);
	return 0;
}

/* ---- the disk ---- */

static int vd_ioctl(HANDLE h, DWORD code, void *in, DWORD in_n, void *out,
		    DWORD out_n, const char *what, const char *path)
{
	DWORD ret = 0;

	if (!DeviceIoControl(h, code, in, in_n, out, out_n, &ret, NULL))
		return vd_fail_last(what, path);
	return 0;
}

/* Finds the attached disk's number (c->disk) and path (c->phys). */
static int vd_find_disk(vd_ctx *c)
{
	STORAGE_DEVICE_NUMBER num;
	HANDLE h;
	DWORD e;
	int rc;

	if ((e = vd_physical_path(c)) != ERROR_SUCCESS)
		return vd_fail(e, "cannot find the disk of the virtual disk",
			       c->path);
	h = CreateFileW(c->phys, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
			OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return vd_fail_last("cannot open the disk of", c->path);
	memset(&num, 0, sizeof(num));
	rc = vd_ioctl(h, IOCTL_STORAGE_GET_DEVICE_NUMBER, NULL, 0, &num,
		      sizeof(num), "cannot number the disk of", c->path);
	CloseHandle(h);
	c->disk = num.DeviceNumber;
	return rc;
}

static int vd_open_disk(const vd_ctx *c, HANDLE *out)
{
	*out = CreateFileW(c->phys, GENERIC_READ | GENERIC_WRITE,
			   FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
			   OPEN_EXISTING, 0, NULL);
	if (*out == INVALID_HANDLE_VALUE) {
		*out = NULL;
		return vd_fail_last("cannot open the disk of", c->path);
	}
	return 0;
}

/* Clears the offline and read-only attributes that a SAN policy may put on
 * a newly attached disk. */
static int vd_disk_online(HANDLE disk, const char *path)
{
	vd_get_disk_attributes get;
	vd_set_disk_attributes set;
	int rc;

	memset(&get, 0, sizeof(get));
	if ((rc = vd_ioctl(disk, IOCTL_DISK_GET_DISK_ATTRIBUTES, NULL, 0, &get,
			   sizeof(get), "cannot read the attributes of the "
			   "disk of", path)) != 0)
		return rc;
	if ((get.Attributes & (VD_DISK_ATTRIBUTE_OFFLINE |
			       VD_DISK_ATTRIBUTE_READ_ONLY)) == 0)
		return 0;
	memset(&set, 0, sizeof(set));
	set.Version = sizeof(set);
	set.Persist = TRUE;
	set.AttributesMask = VD_DISK_ATTRIBUTE_OFFLINE |
			     VD_DISK_ATTRIBUTE_READ_ONLY;
	if ((rc = vd_ioctl(disk, IOCTL_DISK_SET_DISK_ATTRIBUTES, &set,
			   sizeof(set), NULL, 0, "cannot bring online the "
			   "disk of", path)) != 0)
		return rc;
	return vd_ioctl(disk, IOCTL_DISK_UPDATE_PROPERTIES, NULL, 0, NULL, 0,
			"cannot refresh the disk of", path);
}

/* The partition table (caller frees). */
static int vd_layout(HANDLE disk, DRIVE_LAYOUT_INFORMATION_EX **out,
		     const char *path)
{
	size_t size = sizeof(DRIVE_LAYOUT_INFORMATION_EX) +
		      (VD_LAYOUT_ENTRIES - 1) *
			      sizeof(PARTITION_INFORMATION_EX);
	DRIVE_LAYOUT_INFORMATION_EX *l;
	int rc;

	*out = NULL;
	if ((l = sv_calloc(1, size)) == NULL)
		return SV_ENOMEM;
	rc = vd_ioctl(disk, IOCTL_DISK_GET_DRIVE_LAYOUT_EX, NULL, 0, l,
		      (DWORD)size, "cannot read the partition table of the "
		      "disk of", path);
	if (rc != 0) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

static uint64_t vd_align_up(uint64_t v)
{
	return (v + VD_MIB - 1) & ~(VD_MIB - 1);
}

static uint64_t vd_align_down(uint64_t v)
{
	return v & ~(VD_MIB - 1);
}

/* A new, empty GPT on a RAW disk. */
static int vd_create_gpt(HANDLE disk, const char *path)
{
	CREATE_DISK cd;
	int rc;

	memset(&cd, 0, sizeof(cd));
	cd.PartitionStyle = PARTITION_STYLE_GPT;
	cd.Gpt.MaxPartitionCount = VD_LAYOUT_ENTRIES;
	if (FAILED(CoCreateGuid(&cd.Gpt.DiskId)))
		return sv_error_set(SV_ERROR, "CoCreateGuid failed");
	if ((rc = vd_ioctl(disk, IOCTL_DISK_CREATE_DISK, &cd, sizeof(cd), NULL,
			   0, "cannot initialise the disk of", path)) != 0)
		return rc;
	return vd_ioctl(disk, IOCTL_DISK_UPDATE_PROPERTIES, NULL, 0, NULL, 0,
			"cannot refresh the disk of", path);
}

/* One basic-data partition over the usable space of an empty GPT,
 * MiB-aligned. */
static int vd_create_partition(HANDLE disk,
			       const DRIVE_LAYOUT_INFORMATION_EX *cur,
			       const char *path)
{
	DRIVE_LAYOUT_INFORMATION_EX l;
	PARTITION_INFORMATION_EX *p = &l.PartitionEntry[0];
	uint64_t start, end;
	int rc;

	start = vd_align_up((uint64_t)cur->Gpt.StartingUsableOffset.QuadPart);
	end = vd_align_down((uint64_t)cur->Gpt.StartingUsableOffset.QuadPart +
			    (uint64_t)cur->Gpt.UsableLength.QuadPart);
	if (end <= start + VD_MIB)
		return sv_error_set(SV_EIO, "the disk of '%s' has no room for "
				    "a partition", path);
	memset(&l, 0, sizeof(l));
	l.PartitionStyle = PARTITION_STYLE_GPT;
	l.PartitionCount = 1;
	l.Gpt = cur->Gpt;
	p->PartitionStyle = PARTITION_STYLE_GPT;
	p->StartingOffset.QuadPart = (LONGLONG)start;
	p->PartitionLength.QuadPart = (LONGLONG)(end - start);
	p->PartitionNumber = 1;
	p->RewritePartition = TRUE;
	p->Gpt.PartitionType = vd_basic_data;
	if (FAILED(CoCreateGuid(&p->Gpt.PartitionId)))
		return sv_error_set(SV_ERROR, "CoCreateGuid failed");
	wcsncpy(p->Gpt.Name, L"" SV_VDISK_LABEL, 35);
	if ((rc = vd_ioctl(disk, IOCTL_DISK_SET_DRIVE_LAYOUT_EX, &l, sizeof(l),
			   NULL, 0, "cannot partition the disk of", path)) != 0)
		return rc;
	return vd_ioctl(disk, IOCTL_DISK_UPDATE_PROPERTIES, NULL, 0, NULL, 0,
			"cannot refresh the disk of", path);
}

/* The partition sysvault made: the last one on the disk. */
static PARTITION_INFORMATION_EX *
vd_last_partition(DRIVE_LAYOUT_INFORMATION_EX *l)
{
	PARTITION_INFORMATION_EX *last = NULL;
	DWORD i;

	for (i = 0; i < l->PartitionCount && i < VD_LAYOUT_ENTRIES; i++) {
		if (l->PartitionEntry[i].PartitionNumber == 0)
			continue;
		if (last == NULL ||
		    l->PartitionEntry[i].StartingOffset.QuadPart >
			    last->StartingOffset.QuadPart)
			last = &l->PartitionEntry[i];
	}
	return last;
}

/*
 * After the virtual disk grew, the GPT still ends where the disk used to:
 * its header records the last usable sector. Writing the table back, with
 * the usable length the disk now has, moves the backup GPT to the new end.
 */
static int vd_gpt_follow_disk(HANDLE disk, DRIVE_LAYOUT_INFORMATION_EX *l,
			      const char *path)
{
	DISK_GEOMETRY_EX geo;
	uint64_t first, backup, len;
	DWORD i, size;
	int rc;

	memset(&geo, 0, sizeof(geo));
	if ((rc = vd_ioctl(disk, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, NULL, 0,
			   &geo, sizeof(geo), "cannot read the size of the "
			   "disk of", path)) != 0)
		return rc;
	first = (uint64_t)l->Gpt.StartingUsableOffset.QuadPart;
	backup = VD_GPT_BACKUP_ENTRIES + geo.Geometry.BytesPerSector;
	len = (uint64_t)geo.DiskSize.QuadPart;
	if (len <= first + backup ||
	    len - backup - first <= (uint64_t)l->Gpt.UsableLength.QuadPart)
		return 0;   /* nothing gained */
	l->Gpt.UsableLength.QuadPart = (LONGLONG)(len - backup - first);
	for (i = 0; i < l->PartitionCount && i < VD_LAYOUT_ENTRIES; i++)
		l->PartitionEntry[i].RewritePartition = FALSE;
	size = (DWORD)(sizeof(*l) + (l->PartitionCount > 0
					     ? l->PartitionCount - 1 : 0) *
					    sizeof(PARTITION_INFORMATION_EX));
	if ((rc = vd_ioctl(disk, IOCTL_DISK_SET_DRIVE_LAYOUT_EX, l, size, NULL,
			   0, "cannot rewrite the partition table of the "
			   "disk of", path)) != 0)
		return rc;
	return vd_ioctl(disk, IOCTL_DISK_UPDATE_PROPERTIES, NULL, 0, NULL, 0,
			"cannot refresh the disk of", path);
}

/* Grows the last partition into the free space after it, if there is more
 * than a MiB of it. */
static int vd_grow_partition(HANDLE disk, const char *path)
{
	DRIVE_LAYOUT_INFORMATION_EX *l = NULL;
	PARTITION_INFORMATION_EX *p;
	DISK_GROW_PARTITION g;
	uint64_t end, usable_end;
	int rc;

	if ((rc = vd_layout(disk, &l, path)) != 0)
		goto done;
	if (l->PartitionStyle != PARTITION_STYLE_GPT ||
	    (p = vd_last_partition(l)) == NULL)
		goto done;   /* not a layout this file made: leave it */
	if ((rc = vd_gpt_follow_disk(disk, l, path)) != 0)
		goto done;
	free(l);
	l = NULL;
	if ((rc = vd_layout(disk, &l, path)) != 0 ||
	    (p = vd_last_partition(l)) == NULL)
		goto done;
	end = (uint64_t)p->StartingOffset.QuadPart +
	      (uint64_t)p->PartitionLength.QuadPart;
	usable_end = (uint64_t)l->Gpt.StartingUsableOffset.QuadPart +
		     (uint64_t)l->Gpt.UsableLength.QuadPart;
	usable_end = vd_align_down(usable_end);
	if (usable_end <= end + VD_MIB)
		goto done;
	memset(&g, 0, sizeof(g));
	g.PartitionNumber = p->PartitionNumber;
	g.BytesToGrow.QuadPart = (LONGLONG)(usable_end - end);
	if ((rc = vd_ioctl(disk, IOCTL_DISK_GROW_PARTITION, &g, sizeof(g),
			   NULL, 0, "cannot grow the partition of", path)) != 0)
		goto done;
	rc = vd_ioctl(disk, IOCTL_DISK_UPDATE_PROPERTIES, NULL, 0, NULL, 0,
		      "cannot refresh the disk of", path);
done:
	free(l);
	return rc;
}

/* Online, partitioned, and its partition as large as the disk allows. */
static int vd_prepare_disk(vd_ctx *c)
{
	DRIVE_LAYOUT_INFORMATION_EX *l = NULL;
	HANDLE disk = NULL;
	int rc;

	if ((rc = vd_open_disk(c, &disk)) != 0 ||
	    (rc = vd_disk_online(disk, c->path)) != 0 ||
	    (rc = vd_layout(disk, &l, c->path)) != 0)
		goto done;
	if (l->PartitionStyle == PARTITION_STYLE_RAW) {
		free(l);
		l = NULL;
		if ((rc = vd_create_gpt(disk, c->path)) != 0 ||
		    (rc = vd_layout(disk, &l, c->path)) != 0)
			goto done;
	}
	if (l->PartitionStyle == PARTITION_STYLE_GPT && l->PartitionCount == 0)
		rc = vd_create_partition(disk, l, c->path);
	else if ((rc = vd_grow_partition(disk, c->path)) != 0)
		sv_error_prefix(VD_REMEDY, c->path);
done:
	free(l);
	if (disk != NULL)
		CloseHandle(disk);
	return rc;
}

/* ---- the volume ---- */

/* 1 when the volume (a GUID path with its trailing '\') lies entirely on
 * disk number disk. */
static int vd_volume_is_on(const wchar_t *volume, DWORD disk)
{
	wchar_t dev[MAX_PATH];
	VOLUME_DISK_EXTENTS ext;
	size_t n = wcslen(volume);
	DWORD ret = 0;
	HANDLE h;
	BOOL ok;

	if (n < 2 || n >= MAX_PATH)
		return 0;
	memcpy(dev, volume, (n - 1) * sizeof(wchar_t));   /* drop the '\' */
	dev[n - 1] = L'\0';
	h = CreateFileW(dev, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
			OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	memset(&ext, 0, sizeof(ext));
	ok = DeviceIoControl(h, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, NULL, 0,
			     &ext, sizeof(ext), &ret, NULL);
	CloseHandle(h);
	return ok && ext.NumberOfDiskExtents == 1 &&
	       ext.Extents[0].DiskNumber == disk;
}

/* Looks once through the system's volumes for the one on c->disk. */
static int vd_scan_volumes(vd_ctx *c, int *found)
{
	wchar_t name[MAX_PATH];
	HANDLE f;

	*found = 0;
	f = FindFirstVolumeW(name, MAX_PATH);
	if (f == INVALID_HANDLE_VALUE)
		return vd_fail_last("cannot list the volumes to find that of",
				    c->path);
	do {
		if (vd_volume_is_on(name, c->disk)) {
			memcpy(c->volume, name, sizeof(name));
			*found = 1;
			break;
		}
	} while (FindNextVolumeW(f, name, MAX_PATH));
	FindVolumeClose(f);
	return 0;
}

/* The file system on c->volume: *raw when there is none, *ntfs when it is
 * NTFS. Fails with the error GetVolumeInformationW gave otherwise. */
static DWORD vd_volume_fs(const vd_ctx *c, int *raw, int *ntfs)
{
	wchar_t fs[MAX_PATH + 1];
	DWORD e;

	*raw = *ntfs = 0;
	if (GetVolumeInformationW(c->volume, NULL, 0, NULL, NULL, NULL, fs,
				  MAX_PATH + 1)) {
		*raw = wcscmp(fs, L"RAW") == 0;
		*ntfs = wcscmp(fs, L"NTFS") == 0;
		return ERROR_SUCCESS;
	}
	e = GetLastError();
	if (e == ERROR_UNRECOGNIZED_VOLUME) {
		*raw = 1;
		return ERROR_SUCCESS;
	}
	return e;
}

/* Waits until the volume on c->disk exists and is mounted (its file
 * system, if any, recognised): a new partition or a re-attached disk takes
 * a moment to surface. */
static int vd_wait_volume(vd_ctx *c, int *raw, int *ntfs)
{
	uint64_t deadline = sv_time_mono_ms() + VD_VOLUME_WAIT_MS;
	DWORD e = ERROR_SUCCESS;
	int found = 0, rc;

	for (;;) {
		if ((rc = vd_scan_volumes(c, &found)) != 0)
			return rc;
		if (found && (e = vd_volume_fs(c, raw, ntfs)) == ERROR_SUCCESS)
			return 0;
		if (sv_time_mono_ms() >= deadline)
			break;
		sv_time_sleep_ms(VD_VOLUME_POLL_MS);
	}
	if (found)
		return vd_fail(e == ERROR_SUCCESS ? ERROR_NOT_READY : e,
			       "the volume of the virtual disk is not ready",
			       c->path);
	return sv_error_set(SV_ETIMEOUT, "no volume appeared on the disk of "
			    "'%s' within %d s", c->path,
			    VD_VOLUME_WAIT_MS / 1000);
}

/* Keeps format.com's last non-empty line for the error message. */
static int vd_format_line(void *ud, int stream, const char *line, size_t len)
{
	char *last = ud;

	(void)stream;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len > 0) {
		if (len > 255)
			len = 255;
		memcpy(last, line, len);
		last[len] = '\0';
	}
	return 0;
}

/* "<system directory>\format.com", new UTF-8. */
static int vd_format_exe(char **out)
{
	wchar_t dir[MAX_PATH];
	char dir8[MAX_PATH * 3];
	UINT n = GetSystemDirectoryW(dir, MAX_PATH);
	int rc;

	*out = NULL;
	if (n == 0 || n >= MAX_PATH)
		return sv_error_set_os(SV_ERROR, "GetSystemDirectoryW failed");
	rc = vd_utf8(dir8, sizeof(dir8), dir, "the system directory");
	if (rc != 0)
		return rc;
	if ((*out = sv_path_join(dir8, "format.com")) == NULL)
		return SV_ENOMEM;
	return 0;
}

/* format.com <volume> /FS:NTFS /Q /Y /V:<label>. */
static int vd_format(const vd_ctx *c)
{
	char volume[SV_VDISK_VOLUME_MAX * 3], last[256] = "", *exe = NULL;
	const char *argv[7];
	sv_proc_opts o;
	sv_proc_result res;
	int rc;

	if ((rc = vd_utf8(volume, sizeof(volume), c->volume, "the volume "
			  "path")) != 0 ||
	    (rc = vd_format_exe(&exe)) != 0)
		goto done;
	argv[0] = exe;
	argv[1] = volume;
	argv[2] = "/FS:NTFS";
	argv[3] = "/Q";
	argv[4] = "/Y";
	argv[5] = "/V:" SV_VDISK_LABEL;
	argv[6] = NULL;
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.argv = argv;
	o.timeout_ms = VD_FORMAT_TIMEOUT_MS;
	o.on_line = vd_format_line;
	o.ud = last;
	if ((rc = sv_proc_run(&res, &o)) != 0) {
		sv_error_prefix("cannot format the volume %s of '%s'", volume,
				c->path);
		goto done;
	}
	if (!res.exited || res.exit_code != 0)
		rc = sv_error_set(SV_EIO, "format.com %s failed (exit code "
				  "%d): %s", volume, res.exit_code,
				  last[0] != '\0' ? last : "no output");
done:
	free(exe);
	return rc;
}

/* Extends the NTFS volume to the size of its (grown) partition. */
static int vd_extend_volume(const vd_ctx *c)
{
	wchar_t dev[MAX_PATH];
	NTFS_VOLUME_DATA_BUFFER nv;
	GET_LENGTH_INFORMATION len;
	LONGLONG sectors, cluster;
	size_t n = wcslen(c->volume);
	HANDLE h;
	int rc;

	if (n < 2 || n >= MAX_PATH)
		return sv_error_set(SV_EINVAL, "bad volume path");
	memcpy(dev, c->volume, (n - 1) * sizeof(wchar_t));
	dev[n - 1] = L'\0';
	h = CreateFileW(dev, GENERIC_READ | GENERIC_WRITE,
			FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
			0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return vd_fail_last("cannot open the volume of", c->path);
	memset(&nv, 0, sizeof(nv));
	memset(&len, 0, sizeof(len));
	if ((rc = vd_ioctl(h, FSCTL_GET_NTFS_VOLUME_DATA, NULL, 0, &nv,
			   sizeof(nv), "cannot read the NTFS data of the "
			   "volume of", c->path)) != 0 ||
	    (rc = vd_ioctl(h, IOCTL_DISK_GET_LENGTH_INFO, NULL, 0, &len,
			   sizeof(len), "cannot read the length of the volume "
			   "of", c->path)) != 0 ||
	    nv.BytesPerSector == 0)
		goto done;
	/* NTFS keeps its backup boot sector past the sectors it reports, and
	 * takes the new count as the partition's. */
	sectors = len.Length.QuadPart / (LONGLONG)nv.BytesPerSector;
	cluster = (LONGLONG)(nv.BytesPerCluster / nv.BytesPerSector);
	if (sectors > nv.NumberSectors.QuadPart + cluster)
		rc = vd_ioctl(h, FSCTL_EXTEND_VOLUME, &sectors, sizeof(sectors),
			      NULL, 0, "cannot extend the volume of", c->path);
done:
	CloseHandle(h);
	return rc;
}

/* The volume found, formatted if blank, as large as its partition. */
static int vd_prepare_volume(vd_ctx *c)
{
	int raw = 0, ntfs = 0, rc;

	if ((rc = vd_wait_volume(c, &raw, &ntfs)) != 0)
		return rc;
	if (raw) {
		if ((rc = vd_format(c)) != 0 ||
		    (rc = vd_wait_volume(c, &raw, &ntfs)) != 0)
			return rc;
		if (!ntfs)
			return sv_error_set(SV_EIO, "format.com succeeded but "
					    "the volume of '%s' is not NTFS",
					    c->path);
		return 0;
	}
	if (!ntfs)
		return sv_error_set(SV_EIO, "the volume of '%s' holds a file "
				    "system other than NTFS; delete the "
				    "virtual disk and create it again",
				    c->path);
	if ((rc = vd_extend_volume(c)) != 0)
		sv_error_prefix(VD_REMEDY, c->path);
	return rc;
}

/* ---- public ---- */

int sv_vdisk_create(const char *vhdx_path, uint64_t size_bytes)
{
	VIRTUAL_STORAGE_TYPE t = vd_vhdx_type();
	vd_create_params p;
	HANDLE h = NULL;
	vd_ctx c;
	uint64_t size = 0;
	int exists, rc;
	DWORD e;

	if ((rc = vd_init(&c, vhdx_path)) != 0 ||
	    (rc = vd_check_name(vhdx_path)) != 0 ||
	    (rc = vd_size(&size, size_bytes)) != 0 ||
	    (rc = vd_exists(&c, &exists)) != 0)
		goto done;
	if (exists) {
		rc = sv_error_set(SV_EEXISTS, "'%s' already exists", vhdx_path);
		goto done;
	}
	if ((rc = vd_available(&c, "CreateVirtualDisk")) != 0)
		goto done;
	memset(&p, 0, sizeof(p));
	p.Version = CREATE_VIRTUAL_DISK_VERSION_2;
	p.Version2.MaximumSize = size;   /* block and sector sizes: defaults */
	e = CreateVirtualDisk(&t, c.wpath, VIRTUAL_DISK_ACCESS_NONE, NULL,
			      CREATE_VIRTUAL_DISK_FLAG_NONE, 0,
			      (PCREATE_VIRTUAL_DISK_PARAMETERS)(void *)&p, NULL,
			      &h);
	if (e != ERROR_SUCCESS) {
		/* Never remove a file someone else created meanwhile. */
		if (e != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS)
			DeleteFileW(c.wpath);
		rc = vd_fail(e, "cannot create the virtual disk", vhdx_path);
		goto done;
	}
	CloseHandle(h);
done:
	vd_release(&c);
	return rc;
}

int sv_vdisk_attach(const char *vhdx_path, char *volume_out, size_t n)
{
	vd_ctx c;
	int attached = 0, rc;

	vd_clear(volume_out, n);
	if ((rc = vd_init(&c, vhdx_path)) != 0 || (rc = vd_require(&c)) != 0 ||
	    (rc = vd_open(&c, 1, "AttachVirtualDisk")) != 0)
		goto done;
	vd_is_attached(&c, &attached);
	if (!attached && (rc = vd_attach_disk(&c)) != 0)
		goto done;
	if ((rc = vd_find_disk(&c)) != 0 || (rc = vd_prepare_disk(&c)) != 0 ||
	    (rc = vd_prepare_volume(&c)) != 0)
		goto done;
	rc = vd_utf8(volume_out, n, c.volume, "the volume path");
done:
	vd_release(&c);
	return rc;
}

int sv_vdisk_detach(const char *vhdx_path)
{
	vd_ctx c;
	int exists = 0, attached = 0, rc;

	if ((rc = vd_init(&c, vhdx_path)) != 0 ||
	    (rc = vd_exists(&c, &exists)) != 0 || !exists)
		goto done;
	if ((rc = vd_open(&c, 1, "DetachVirtualDisk")) != 0)
		goto done;
	vd_is_attached(&c, &attached);
	if (attached)
		rc = vd_detach_disk(&c);
done:
	vd_release(&c);
	return rc;
}

/* ResizeVirtualDisk, on line if Windows allows it, else with the disk
 * detached for the moment (and attached again). */
static int vd_resize(vd_ctx *c, uint64_t size, int attached)
{
	RESIZE_VIRTUAL_DISK_PARAMETERS p;
	DWORD e;
	int rc;

	memset(&p, 0, sizeof(p));
	p.Version = RESIZE_VIRTUAL_DISK_VERSION_1;
	p.Version1.NewSize = size;
	e = ResizeVirtualDisk(c->vd, RESIZE_VIRTUAL_DISK_FLAG_NONE, &p, NULL);
	if (e != ERROR_SUCCESS && attached) {
		if ((rc = vd_detach_disk(c)) != 0)
			return rc;
		e = ResizeVirtualDisk(c->vd, RESIZE_VIRTUAL_DISK_FLAG_NONE, &p,
				      NULL);
		if ((rc = vd_attach_disk(c)) != 0 && e == ERROR_SUCCESS)
			return rc;
	}
	if (e != ERROR_SUCCESS)
		return vd_fail(e, "cannot resize the virtual disk", c->path);
	return 0;
}

int sv_vdisk_expand(const char *vhdx_path, uint64_t new_size)
{
	vd_ctx c;
	uint64_t size = 0, cur = 0;
	int attached = 0, rc;

	if ((rc = vd_init(&c, vhdx_path)) != 0 ||
	    (rc = vd_size(&size, new_size)) != 0 ||
	    (rc = vd_require(&c)) != 0 ||
	    (rc = vd_open(&c, 1, "ResizeVirtualDisk")) != 0 ||
	    (rc = vd_virtual_size(&c, &cur)) != 0 || size <= cur)
		goto done;
	vd_is_attached(&c, &attached);
	if ((rc = vd_resize(&c, size, attached)) != 0 || !attached)
		goto done;
	if ((rc = vd_find_disk(&c)) == 0 && (rc = vd_prepare_disk(&c)) == 0)
		rc = vd_prepare_volume(&c);
done:
	vd_release(&c);
	return rc;
}

int sv_vdisk_volume(const char *vhdx_path, char *volume_out, size_t n)
{
	vd_ctx c;
	int attached = 0, found = 0, rc;

	vd_clear(volume_out, n);
	if ((rc = vd_init(&c, vhdx_path)) != 0 || (rc = vd_require(&c)) != 0 ||
	    (rc = vd_open(&c, 0, "GetVirtualDiskPhysicalPath")) != 0)
		goto done;
	vd_is_attached(&c, &attached);
	if (!attached) {
		rc = sv_error_set(SV_ENOTFOUND, "'%s' is not attached",
				  vhdx_path);
		goto done;
	}
	if ((rc = vd_find_disk(&c)) != 0 ||
	    (rc = vd_scan_volumes(&c, &found)) != 0)
		goto done;
	if (!found) {
		rc = sv_error_set(SV_ENOTFOUND, "'%s' is attached but has no "
				  "volume yet", vhdx_path);
		goto done;
	}
	rc = vd_utf8(volume_out, n, c.volume, "the volume path");
done:
	vd_release(&c);
	return rc;
}
