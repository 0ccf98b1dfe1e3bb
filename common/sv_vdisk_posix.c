/*
 * sv_vdisk_posix.c - virtual disks are a Windows concern: here the staging
 * volume is a plain directory, and every function of sv_vdisk.h says so.
 */
#include "sv_vdisk.h"

static int vdisk_unsupported(const char *what)
{
	return sv_error_set(SV_ENOTSUPPORTED, "%s: virtual disks are a Windows "
			    "feature; elsewhere the staging volume is a "
			    "directory", what);
}

/* volume_out gets "" so that a caller that ignores the code reads no
 * garbage. */
static void vdisk_clear(char *volume_out, size_t n)
{
	if (volume_out != NULL && n > 0)
		volume_out[0] = '\0';
}

int sv_vdisk_create(const char *vhdx_path, uint64_t size_bytes)
{
	(void)vhdx_path;
	(void)size_bytes;
	return vdisk_unsupported("cannot create a virtual disk");
}

int sv_vdisk_attach(const char *vhdx_path, char *volume_out, size_t n)
{
	(void)vhdx_path;
	vdisk_clear(volume_out, n);
	return vdisk_unsupported("cannot attach a virtual disk");
}

int sv_vdisk_detach(const char *vhdx_path)
{
	(void)vhdx_path;
	return vdisk_unsupported("cannot detach a virtual disk");
}

int sv_vdisk_expand(const char *vhdx_path, uint64_t new_size)
{
	(void)vhdx_path;
	(void)new_size;
	return vdisk_unsupported("cannot expand a virtual disk");
}

int sv_vdisk_volume(const char *vhdx_path, char *volume_out, size_t n)
{
	(void)vhdx_path;
	vdisk_clear(volume_out, n);
	return vdisk_unsupported("no virtual disk volume");
}
