/*
 * sv_platform.h - probes of the machine that the preflight, registration and
 * restore need. One header, one implementation per OS: sv_platform_win.c
 * and sv_platform_posix.c. Where a concept does not exist on the platform
 * the function returns SV_ENOTSUPPORTED with a message naming it.
 */
#ifndef SV_PLATFORM_H
#define SV_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include "sv_error.h"
#include "sv_buf.h"

/* ---- volumes ---- */

typedef enum sv_volume_type {
	SV_VOL_UNKNOWN = 0,
	SV_VOL_FIXED,
	SV_VOL_REMOVABLE,
	SV_VOL_REMOTE,
	SV_VOL_CDROM,
	SV_VOL_RAMDISK
} sv_volume_type;

typedef struct sv_volume_info {
	sv_volume_type type;
	char fs_name[32];     /* "NTFS", "ReFS", "ext4", "tmpfs" */
	int read_only;
	uint64_t free_bytes;  /* available to the caller */
	uint64_t total_bytes;
} sv_volume_info;

/* Free and total bytes of the volume holding path (path must exist). */
int sv_volume_space(const char *path, uint64_t *free_bytes,
		    uint64_t *total_bytes);
/* Type, file system, read-only flag and space of path's volume. */
int sv_volume_query(const char *path, sv_volume_info *out);
const char *sv_volume_type_name(sv_volume_type t);
/* *same = 1 when the existing paths a and b are on one volume (Windows:
 * the same volume mount point; POSIX: the same device). */
int sv_volume_same(const char *a, const char *b, int *same);
/* The directory the running system lives in: %SystemRoot% on Windows
 * ("X:\Windows" in WinRE), "/" elsewhere. */
int sv_system_root(char *dst, size_t size);

/* ---- services (Windows SCM) ---- */

typedef enum sv_service_state {
	SV_SVC_STOPPED = 1, SV_SVC_START_PENDING, SV_SVC_STOP_PENDING,
	SV_SVC_RUNNING, SV_SVC_CONTINUE_PENDING, SV_SVC_PAUSE_PENDING,
	SV_SVC_PAUSED
} sv_service_state;           /* = SERVICE_* current state values */

typedef enum sv_service_start {
	SV_START_BOOT = 0, SV_START_SYSTEM = 1, SV_START_AUTO = 2,
	SV_START_DEMAND = 3, SV_START_DISABLED = 4
} sv_service_start;           /* = SERVICE_*_START values */

typedef struct sv_service_info {
	sv_service_state state;
	sv_service_start start_type;
	int delayed_auto;         /* automatic (delayed start) */
} sv_service_info;

/* SV_ENOTFOUND when no service has that short name ("RpcSs"). */
int sv_service_query(const char *name, sv_service_info *out);
const char *sv_service_state_name(sv_service_state s);
const char *sv_service_start_name(sv_service_start s);

/* ---- ACLs ---- */

/* *granted = 1 when path's DACL gives S-1-5-18 (LocalSystem) full control
 * through an allow ACE (inherited or explicit) and no deny ACE removes it. */
int sv_acl_system_full_control(const char *path, int *granted);

/* ---- firmware and hardware identity ---- */

typedef enum sv_firmware_type {
	SV_FW_UNKNOWN = 0, SV_FW_BIOS = 1, SV_FW_UEFI = 2
} sv_firmware_type;

int sv_firmware_type_get(sv_firmware_type *out);
const char *sv_firmware_type_name(sv_firmware_type t);

typedef struct sv_smbios_info {
	char uuid[37];             /* SMBIOS type 1 UUID, lower-case, or "" */
	char manufacturer[128];    /* type 1 Manufacturer */
	char product[128];         /* type 1 Product Name (model) */
	char serial[128];          /* type 1 Serial Number */
	char chassis_asset_tag[128]; /* type 3 Asset Tag */
} sv_smbios_info;

/* Azure VMs carry this SMBIOS chassis asset tag. */
#define SV_AZURE_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"

/*
 * Parses a raw SMBIOS structure table (the bytes after the RawSMBIOSData
 * header on Windows, or Linux's /sys/firmware/dmi/tables/DMI). smbios_major/
 * minor decide the UUID byte order (2.6+: first three fields little-endian).
 * SV_ECORRUPT on a truncated or malformed table.
 */
int sv_smbios_parse(sv_smbios_info *out, const uint8_t *table, size_t len,
		    int smbios_major, int smbios_minor);
/* Parses the Windows RawSMBIOSData blob from GetSystemFirmwareTable('RSMB'):
 * 8-byte header (Used20CallingMethod, major, minor, DmiRevision, u32 Length)
 * then the table. */
int sv_smbios_parse_rsmb(sv_smbios_info *out, const uint8_t *blob, size_t len);
/* Reads this machine's SMBIOS data. */
int sv_smbios_read(sv_smbios_info *out);

/* ---- names ---- */

/* The computer's NetBIOS/host name and fully qualified DNS name (UTF-8). */
int sv_machine_name(char *dst, size_t size);
int sv_machine_fqdn(char *dst, size_t size);
/* "Windows 10.0.20348" / "Linux 6.1.0-..." */
int sv_os_version(char *dst, size_t size);

/* ---- secrets (DPAPI machine scope) ---- */

/* Seals data so only this machine can unseal it (CryptProtectData with
 * CRYPTPROTECT_LOCAL_MACHINE). Appends to out. SV_ENOTSUPPORTED on POSIX,
 * where callers store secrets in 0600 files in a 0700 directory. */
int sv_secret_protect(sv_buf *out, const void *data, size_t len);
/* SV_EAUTH when the blob was sealed elsewhere or was altered. */
int sv_secret_unprotect(sv_buf *out, const void *blob, size_t len);

/*
 * A secret kept in a file only this machine's administrators can use:
 * Windows seals it with sv_secret_protect() and writes the blob; POSIX
 * writes it 0600 into its directory, which must be 0700 and owned by the
 * caller. Crash-safe (sv_fs_write_atomic).
 */
int sv_secret_file_write(const char *path, const void *data, size_t len);
/* Reads it back into out. POSIX: SV_EACCESS when the file or its directory
 * is open to group or others or owned by someone else (nothing is read);
 * Windows: SV_EAUTH when it was sealed on another machine or altered. */
int sv_secret_file_read(sv_buf *out, const char *path, size_t max);

#endif
