/*
 * staging.c - the private staging volume wbadmin writes to ("CBSSBVol").
 *
 * On Windows a dynamically expanding VHDX in the scratch folder, created
 * once, attached without a drive letter and addressed by its volume GUID
 * path, reused by every backup. Where virtual disks do not exist the
 * staging volume is a directory in the scratch folder.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_vdisk.h"
#include "wsb.h"

#define VHDX_NAME "CBSSBVol_sysvault.vhdx"
#define DIR_NAME "CBSSBVol"
/* A dynamically expanding VHDX only takes what wbadmin writes: the size
 * is a ceiling, not an allocation. */
#define DEFAULT_MAX ((uint64_t)512 << 30)

static int prepare_vhdx(const char *vhdx, uint64_t max_bytes, char **target)
{
	char volume[512];
	int rc = sv_fs_stat(vhdx, NULL, NULL);

	if (rc == SV_ENOTFOUND) {
		sv_log_info("creating the staging disk %s", vhdx);
		rc = sv_vdisk_create(vhdx, max_bytes);
	}
	if (rc == 0)
		rc = sv_vdisk_attach(vhdx, volume, sizeof(volume));
	if (rc == 0 && !(*target = sv_strdup(volume)))
		rc = SV_ENOMEM;
	return rc;
}

int wsb_staging_prepare(const char *scratch, uint64_t max_bytes, char **target)
{
	char *vhdx = NULL, *dir = NULL;
	char probe[512];
	int rc;

	*target = NULL;
	if (max_bytes == 0)
		max_bytes = DEFAULT_MAX;
	if ((rc = sv_fs_mkdir_p(scratch, 1)) < 0)
		return rc;
	/* Virtual disks exist where sv_vdisk_volume() does not say
	 * "not supported". */
	vhdx = sv_path_join(scratch, VHDX_NAME);
	if (!vhdx)
		return SV_ENOMEM;
	rc = sv_vdisk_volume(vhdx, probe, sizeof(probe));
	if (rc != SV_ENOTSUPPORTED) {
		rc = prepare_vhdx(vhdx, max_bytes, target);
		if (rc != SV_ENOTSUPPORTED) {
			free(vhdx);
			return rc;
		}
		sv_log_warn("%s; using a staging directory instead", sv_error_msg());
	}
	free(vhdx);
	dir = sv_path_join(scratch, DIR_NAME);
	if (!dir)
		return SV_ENOMEM;
	rc = sv_fs_mkdir_p(dir, 1);
	if (rc == 0)
		*target = dir;
	else
		free(dir);
	return rc;
}

int wsb_staging_release(const char *scratch)
{
	char *vhdx = sv_path_join(scratch, VHDX_NAME);
	int rc;

	if (!vhdx)
		return SV_ENOMEM;
	rc = sv_vdisk_detach(vhdx);
	free(vhdx);
	return rc == SV_ENOTSUPPORTED ? 0 : rc;
}
