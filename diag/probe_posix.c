/*
 * probe_posix.c - the probe provider on Linux and other POSIX systems.
 * The platform layer answers for itself (services and ACLs say
 * "unsupported"); the Windows-only facts here do the same, and the process
 * list and the time zone come from ps(1) and date(1).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_time.h"

static int posix_system_volume(const diag__provider *p, char *dst, size_t size)
{
	(void)p;
	return sv_snprintf(dst, size, "/");
}

static int posix_process_list(const diag__provider *p, uint32_t timeout_ms,
			      json_t *names, char *source, size_t source_size)
{
	static const char *const argv[] = {"ps", "-eo", "comm=", NULL};
	diag__output out;
	int rc;

	sv_strlcpy(source, "ps -eo comm=", source_size);
	diag__output_init(&out);
	rc = p->run(argv, timeout_ms, &out);
	if (rc == 0 && out.exit_code != 0)
		rc = sv_error_set(SV_ERROR, "ps exited with code %d",
				  out.exit_code);
	if (rc == 0)
		rc = diag__parse_ps(names, out.text.ptr, out.text.len);
	diag__output_release(&out);
	return rc;
}

static int posix_unsupported(const char *what)
{
	return sv_error_set(SV_ENOTSUPPORTED, "%s exists only on Windows",
			    what);
}

static int posix_vss_writers(const diag__provider *p, uint32_t timeout_ms,
			     json_t *ev)
{
	return posix_unsupported("the Volume Shadow Copy Service");
}

static int posix_shadow_storage(const diag__provider *p, const char *volume,
				uint32_t timeout_ms, json_t *ev)
{
	return posix_unsupported("shadow copy storage");
}

static int posix_esp(const diag__provider *p, uint32_t timeout_ms, json_t *ev)
{
	return posix_unsupported("the EFI system partition lock probe");
}

static int posix_bitlocker(const diag__provider *p, const char *volume,
			   uint32_t timeout_ms, json_t *ev)
{
	return posix_unsupported("BitLocker");
}

static int posix_dedup(const diag__provider *p, const char *path,
		       uint32_t timeout_ms, json_t *ev)
{
	return posix_unsupported("Data Deduplication");
}

/* "CET +0100": the zone's abbreviation and offset, as date(1) has them
 * from $TZ or /etc/localtime. */
static int posix_time_zone(const diag__provider *p, uint32_t timeout_ms,
			   char *dst, size_t size)
{
	static const char *const argv[] = {"date", "+%Z %z", NULL};
	diag__output out;
	size_t n;
	int rc;

	diag__output_init(&out);
	rc = p->run(argv, timeout_ms, &out);
	if (rc == 0 && out.exit_code != 0)
		rc = sv_error_set(SV_ERROR, "date exited with code %d",
				  out.exit_code);
	if (rc == 0) {
		n = strcspn(out.text.ptr, "\r\n");
		if (n >= size)
			n = size - 1;
		memcpy(dst, out.text.ptr, n);
		dst[n] = '\0';
	}
	diag__output_release(&out);
	return rc;
}

const diag__provider diag__provider_posix = {
	"posix",
	sv_service_query,
	sv_acl_system_full_control,
	sv_volume_query,
	sv_fs_stat,
	sv_fs_attributes,
	diag__write_probe,
	sv_firmware_type_get,
	sv_smbios_read,
	sv_machine_name,
	sv_machine_fqdn,
	sv_os_version,
	sv_env_get,
	sv_time_now,
	diag__run_command,
	posix_system_volume,
	posix_process_list,
	posix_vss_writers,
	posix_shadow_storage,
	posix_esp,
	posix_bitlocker,
	posix_time_zone,
	posix_dedup,
};
