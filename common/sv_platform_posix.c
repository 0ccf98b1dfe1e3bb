/*
 * sv_platform_posix.c - the machine probes of sv_platform.h on Linux and
 * other POSIX systems. Volumes, firmware, SMBIOS and names are real; the
 * Windows-only concepts (services, ACLs, DPAPI) return SV_ENOTSUPPORTED.
 */
#include "sv_platform.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sv_fs.h"
#include "sv_path.h"

#define MOUNTS_PATH "/proc/self/mounts"
#define MOUNTS_LINE_MAX ((size_t)1 << 20)
#define DMI_TABLE_PATH "/sys/firmware/dmi/tables/DMI"
#define DMI_ENTRY_PATH "/sys/firmware/dmi/tables/smbios_entry_point"
#define DMI_MAX ((size_t)1 << 20)
#define HOST_NAME_BUF 256   /* POSIX: host names are at most 255 bytes */

/* Copies src into dst or fails without writing a truncated name. */
static int copy_out(char *dst, size_t size, const char *src, const char *what)
{
	size_t n = strlen(src);

	if (dst == NULL || size == 0 || n >= size)
		return sv_error_set(SV_EINVAL,
				    "%s '%s' does not fit in %llu bytes", what,
				    src, (unsigned long long)size);
	memcpy(dst, src, n + 1);
	return 0;
}

/* ---- volumes ---- */

/* a * b, saturated: a file system cannot hold more than 2^64 bytes. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static int volume_statvfs(const char *path, struct statvfs *st)
{
	if (statvfs(path, st) != 0)
		return sv_error_set_errno(sv_err_from_errno(errno),
					  "statvfs '%s'", path);
	return 0;
}

static void space_from_statvfs(const struct statvfs *st, uint64_t *free_bytes,
			       uint64_t *total_bytes)
{
	uint64_t unit = st->f_frsize ? st->f_frsize : st->f_bsize;

	*free_bytes = mul_sat((uint64_t)st->f_bavail, unit);
	*total_bytes = mul_sat((uint64_t)st->f_blocks, unit);
}

int sv_volume_space(const char *path, uint64_t *free_bytes,
		    uint64_t *total_bytes)
{
	struct statvfs st;
	int rc;

	if ((rc = volume_statvfs(path, &st)) < 0)
		return rc;
	space_from_statvfs(&st, free_bytes, total_bytes);
	return 0;
}

/* The best mount so far for the path being looked up. */
typedef struct mount_match {
	size_t dir_len;     /* length of the matched mount point; 0 = none */
	int found;
	int read_only;
	char fs_name[32];
} mount_match;

/* Decodes the octal escapes (\040 space, \011 tab, \012 newline, \134
 * backslash) that the kernel writes in /proc/self/mounts, in place. */
static void mount_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Cuts the next space-separated field off *cursor; NULL at end of line. */
static char *next_field(char **cursor)
{
	char *start = *cursor, *end;

	while (*start == ' ' || *start == '\t')
		start++;
	if (*start == '\0' || *start == '\n')
		return NULL;
	end = start + strcspn(start, " \t\n");
	if (*end != '\0')
		*end++ = '\0';
	*cursor = end;
	return start;
}

static int options_have_ro(const char *opts)
{
	size_t n;

	while (*opts) {
		n = strcspn(opts, ",");
		if (n == 2 && opts[0] == 'r' && opts[1] == 'o')
			return 1;
		opts += n;
		if (*opts == ',')
			opts++;
	}
	return 0;
}

/* Whether mount point dir contains path (both absolute, no trailing '/'
 * except for "/" itself). */
static int mount_covers(const char *dir, size_t dir_len, const char *path)
{
	if (dir_len == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, dir_len) == 0 &&
	       (path[dir_len] == '\0' || path[dir_len] == '/');
}

/* Considers one line "device dir fstype options freq passno". A later line
 * for the same mount point wins: it was mounted over the earlier one. */
static void mount_consider(mount_match *m, char *line, const char *path)
{
	char *cursor = line, *dir, *type, *opts;
	size_t dir_len;

	if (next_field(&cursor) == NULL ||
	    (dir = next_field(&cursor)) == NULL ||
	    (type = next_field(&cursor)) == NULL ||
	    (opts = next_field(&cursor)) == NULL)
		return;
	mount_unescape(dir);
	dir_len = strlen(dir);
	if (dir[0] != '/' || !mount_covers(dir, dir_len, path))
		return;
	if (m->found && dir_len < m->dir_len)
		return;
	m->found = 1;
	m->dir_len = dir_len;
	m->read_only = options_have_ro(opts);
	sv_strlcpy(m->fs_name, type, sizeof(m->fs_name));
}

/* Finds the mount holding real_path. Without /proc/self/mounts (POSIX
 * systems other than Linux) m->found stays 0 and that is not an error. */
static int mount_find(mount_match *m, const char *real_path)
{
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	f = fopen(MOUNTS_PATH, "r");
	if (f == NULL) {
		if (errno != ENOENT)
			rc = sv_error_set_errno(sv_err_from_errno(errno),
						"open '%s'", MOUNTS_PATH);
		goto done;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if ((size_t)n > MOUNTS_LINE_MAX) {
			rc = sv_error_set(SV_EIO, "'%s': line longer than %llu "
					  "bytes", MOUNTS_PATH,
					  (unsigned long long)MOUNTS_LINE_MAX);
			goto done;
		}
		mount_consider(m, line, real_path);
	}
	if (ferror(f))
		rc = sv_error_set_errno(SV_EIO, "read '%s'", MOUNTS_PATH);
done:
	free(line);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Removable media cannot be told cheaply from the mount table (it takes
 * /sys/block/<dev>/removable after resolving the device), so a local disk
 * file system is reported as SV_VOL_FIXED. */
static sv_volume_type volume_type_of(const char *fs)
{
	static const char *const remote[] = {
		"nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs",
		"9p", NULL };
	size_t i;

	for (i = 0; remote[i] != NULL; i++)
		if (strcmp(fs, remote[i]) == 0)
			return SV_VOL_REMOTE;
	if (strcmp(fs, "tmpfs") == 0 || strcmp(fs, "ramfs") == 0)
		return SV_VOL_RAMDISK;
	if (strcmp(fs, "iso9660") == 0 || strcmp(fs, "udf") == 0)
		return SV_VOL_CDROM;
	return SV_VOL_FIXED;
}

int sv_volume_query(const char *path, sv_volume_info *out)
{
	struct statvfs st;
	mount_match m;
	char *real = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	real = realpath(path, NULL);
	if (real == NULL) {
		rc = sv_error_set_errno(sv_err_from_errno(errno),
					"resolve '%s'", path);
		goto done;
	}
	if ((rc = volume_statvfs(real, &st)) < 0)
		goto done;
	space_from_statvfs(&st, &out->free_bytes, &out->total_bytes);
	out->read_only = (st.f_flag & ST_RDONLY) != 0;
	if ((rc = mount_find(&m, real)) < 0)
		goto done;
	out->type = SV_VOL_UNKNOWN;
	if (m.found) {
		sv_strlcpy(out->fs_name, m.fs_name, sizeof(out->fs_name));
		out->read_only |= m.read_only;
		out->type = volume_type_of(m.fs_name);
	}
done:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	free(real);
	return rc;
}

/* ---- Windows-only concepts ---- */

int sv_service_query(const char *name, sv_service_info *out)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	return sv_error_set(SV_ENOTSUPPORTED, "Windows services do not exist "
			    "on this platform (asked for '%s')",
			    name ? name : "");
}

int sv_acl_system_full_control(const char *path, int *granted)
{
	if (granted != NULL)
		*granted = 0;
	return sv_error_set(SV_ENOTSUPPORTED, "Windows ACLs and the "
			    "LocalSystem account do not exist on this "
			    "platform");
}

int sv_secret_protect(sv_buf *out, const void *data, size_t len)
{
	return sv_error_set(SV_ENOTSUPPORTED, "DPAPI does not exist on this "
			    "platform: keep secrets in a 0600 file in a 0700 "
			    "directory");
}

int sv_secret_unprotect(sv_buf *out, const void *blob, size_t len)
{
	return sv_error_set(SV_ENOTSUPPORTED, "DPAPI does not exist on this "
			    "platform: keep secrets in a 0600 file in a 0700 "
			    "directory");
}

/* A directory or file holding secrets must be ours and closed to group
 * and others: anything wider and the secret may already have leaked. */
static int secret_mode_check(const char *path, int want_dir)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return sv_error_set_errno(errno == ENOENT ? SV_ENOTFOUND : SV_EIO,
					  "'%s'", path);
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return sv_error_set(SV_EACCESS, "'%s' is not a %s: refusing to keep "
				    "secrets there", path, want_dir ? "directory" : "file");
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid())
		return sv_error_set(SV_EACCESS, "'%s' is open to other users (mode "
				    "%04o, owner %lu): it must be %s and yours; fix it with "
				    "'chmod %s' after checking nobody copied it", path,
				    (unsigned)(st.st_mode & 07777), (unsigned long)st.st_uid,
				    want_dir ? "0700" : "0600", want_dir ? "700" : "600");
	return 0;
}

static int secret_dir_check(const char *path)
{
	char *dir = sv_path_dirname(path);
	int rc = dir ? secret_mode_check(dir, 1) : SV_ENOMEM;

	free(dir);
	return rc;
}

int sv_secret_file_write(const char *path, const void *data, size_t len)
{
	int rc = secret_dir_check(path);

	if (rc == 0)
		rc = sv_fs_write_atomic(path, data, len, 1);
	return rc;
}

int sv_secret_file_read(sv_buf *out, const char *path, size_t max)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = secret_dir_check(path)) < 0 || (rc = secret_mode_check(path, 0)) < 0)
		return rc;
	rc = sv_fs_read_all(&text, &len, path, max);
	if (rc == 0)
		rc = sv_buf_add(out, text, len);
	if (text)
		memset(text, 0, len);
	free(text);
	return rc;
}

/* ---- firmware ---- */

int sv_firmware_type_get(sv_firmware_type *out)
{
#ifdef __linux__
	struct stat st;

	*out = SV_FW_UNKNOWN;
	/* Without sysfs (some containers) the question cannot be answered. */
	if (stat("/sys/firmware", &st) != 0)
		return sv_error_set_errno(SV_ENOTSUPPORTED, "cannot tell the "
					  "firmware type: '/sys/firmware'");
	/* The kernel creates /sys/firmware/efi only when booted by UEFI. */
	*out = stat("/sys/firmware/efi", &st) == 0 ? SV_FW_UEFI : SV_FW_BIOS;
	return 0;
#else
	*out = SV_FW_UNKNOWN;
	return sv_error_set(SV_ENOTSUPPORTED, "the firmware type is only "
			    "known on Linux among POSIX systems");
#endif
}

/* ---- SMBIOS ---- */

/* Reads one DMI file; a file that cannot be read (no DMI in a container,
 * not root) means SMBIOS is not available here. */
static int dmi_read(char **out, size_t *len, const char *path)
{
	char why[512];
	int rc = sv_fs_read_all(out, len, path, DMI_MAX);

	if (rc == SV_ENOTFOUND || rc == SV_EACCESS || rc == SV_EIO) {
		sv_strlcpy(why, sv_error_msg(), sizeof(why));
		rc = sv_error_set(SV_ENOTSUPPORTED, "SMBIOS is not readable "
				  "here: '%s': %s", path, why);
	}
	return rc;
}

/* The SMBIOS version from the entry point: "_SM3_" (64-bit, version at
 * bytes 7 and 8) or "_SM_" (32-bit, bytes 6 and 7). */
static int dmi_version(const uint8_t *ep, size_t len, int *major, int *minor)
{
	if (len >= 9 && memcmp(ep, "_SM3_", 5) == 0) {
		*major = ep[7];
		*minor = ep[8];
		return 0;
	}
	if (len >= 8 && memcmp(ep, "_SM_", 4) == 0) {
		*major = ep[6];
		*minor = ep[7];
		return 0;
	}
	return sv_error_set(SV_ECORRUPT, "'%s': no _SM_ or _SM3_ anchor in "
			    "%llu bytes", DMI_ENTRY_PATH,
			    (unsigned long long)len);
}

int sv_smbios_read(sv_smbios_info *out)
{
	char *entry = NULL, *table = NULL;
	size_t entry_len = 0, table_len = 0;
	int major = 0, minor = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dmi_read(&table, &table_len, DMI_TABLE_PATH)) < 0)
		goto done;
	if ((rc = dmi_read(&entry, &entry_len, DMI_ENTRY_PATH)) < 0)
		goto done;
	rc = dmi_version((const uint8_t *)entry, entry_len, &major, &minor);
	if (rc < 0)
		goto done;
	rc = sv_smbios_parse(out, (const uint8_t *)table, table_len, major,
			     minor);
done:
	free(entry);
	free(table);
	return rc;
}

/* ---- names ---- */

static int host_name(char buf[HOST_NAME_BUF])
{
	if (gethostname(buf, HOST_NAME_BUF) != 0)
		return sv_error_set_errno(SV_EIO, "gethostname");
	buf[HOST_NAME_BUF - 1] = '\0';
	if (buf[0] == '\0')
		return sv_error_set(SV_ENOTFOUND, "this machine has no host "
				    "name");
	return 0;
}

int sv_machine_name(char *dst, size_t size)
{
	char name[HOST_NAME_BUF];
	int rc;

	if ((rc = host_name(name)) < 0)
		return rc;
	name[strcspn(name, ".")] = '\0';
	return copy_out(dst, size, name, "host name");
}

/* Whether canon names this host: "<short>" or "<short>.<domain>". A host
 * listed on the localhost line of /etc/hosts resolves to "localhost",
 * which is no name for this machine. */
static int canon_names_host(const char *canon, const char *host)
{
	size_t n = strcspn(host, ".");

	return strncasecmp(canon, host, n) == 0 &&
	       (canon[n] == '\0' || canon[n] == '.');
}

int sv_machine_fqdn(char *dst, size_t size)
{
	char name[HOST_NAME_BUF];
	struct addrinfo hints, *res = NULL;
	const char *fqdn;
	int rc;

	if ((rc = host_name(name)) < 0)
		goto done;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	fqdn = name;
	if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL &&
	    canon_names_host(res->ai_canonname, name))
		fqdn = res->ai_canonname;
	rc = copy_out(dst, size, fqdn, "FQDN");
done:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

/* The device of path or, when it does not exist yet, of its nearest
 * existing parent. */
static int volume_device(const char *path, dev_t *dev)
{
	char *p = sv_strdup(path), *up;
	struct stat st;
	int rc = p ? SV_ENOTFOUND : SV_ENOMEM;

	while (p && rc == SV_ENOTFOUND) {
		if (stat(p, &st) == 0) {
			*dev = st.st_dev;
			rc = 0;
		} else if (errno != ENOENT || !strcmp(p, "/") || !strcmp(p, ".")) {
			rc = sv_error_set_errno(SV_EIO, "'%s'", path);
		} else {
			up = sv_path_dirname(p);
			free(p);
			p = up;
			rc = p ? SV_ENOTFOUND : SV_ENOMEM;
		}
	}
	free(p);
	return rc;
}

int sv_volume_same(const char *a, const char *b, int *same)
{
	dev_t da, db;
	int rc;

	*same = 0;
	if ((rc = volume_device(a, &da)) < 0 || (rc = volume_device(b, &db)) < 0)
		return rc;
	*same = da == db;
	return 0;
}

int sv_system_root(char *dst, size_t size)
{
	return copy_out(dst, size, "/", "system root");
}

int sv_os_version(char *dst, size_t size)
{
	struct utsname u;
	int n;

	if (uname(&u) != 0)
		return sv_error_set_errno(SV_EIO, "uname");
	if (dst == NULL || size == 0)
		return sv_error_set(SV_EINVAL, "sv_os_version: no buffer");
	n = snprintf(dst, size, "%s %s", u.sysname, u.release);
	if (n < 0 || (size_t)n >= size)
		return sv_error_set(SV_EINVAL,
				    "OS version '%s %s' does not fit in %llu "
				    "bytes", u.sysname, u.release,
				    (unsigned long long)size);
	return 0;
}
