/*
 * sv_vdisk.h - the private staging disk: a dynamically expanding VHDX file
 * that Windows attaches as a local disk holding one GPT partition formatted
 * NTFS with the label SV_VDISK_LABEL, addressed only by its volume GUID path
 * (it gets no drive letter).
 *
 * Windows (sv_vdisk_win.c): VirtDisk (CreateVirtualDisk, OpenVirtualDisk,
 * AttachVirtualDisk, ...), the disk and volume IOCTLs, and format.com run
 * through sv_proc. Elsewhere (sv_vdisk_posix.c) every function returns
 * SV_ENOTSUPPORTED: the staging volume is a directory there.
 *
 * Paths are UTF-8. A volume is returned as its volume GUID path,
 * "\\?\Volume{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}\" (49 bytes), the form
 * that wbadmin accepts as -backupTarget.
 *
 * Attaching, detaching and growing need SeManageVolumePrivilege, which only
 * an elevated Administrator or LocalSystem holds; these functions enable it
 * in the process token and return SV_EACCESS, with a message saying to run
 * elevated, when the token lacks it. A system whose VirtDisk does not work
 * (Wine has only stubs) gives SV_ENOTSUPPORTED with a message naming the
 * function it lacks, before anything else is attempted.
 */
#ifndef SV_VDISK_H
#define SV_VDISK_H

#include <stddef.h>
#include <stdint.h>
#include "sv_error.h"

/* The label given to the staging volume (as Azure Backup's agent names it). */
#define SV_VDISK_LABEL "CBSSBVol"

/* Room for a volume GUID path and its NUL. */
#define SV_VDISK_VOLUME_MAX 64

/* Sizes are rounded up to a whole MiB and must lie in this range (the upper
 * bound is the VHDX format's limit). */
#define SV_VDISK_MIN_SIZE ((uint64_t)64 << 20)
#define SV_VDISK_MAX_SIZE ((uint64_t)64 << 40)

/*
 * Creates a new dynamically expanding VHDX at vhdx_path (whose name must end
 * in ".vhdx") with a virtual size of size_bytes; the file starts small and
 * grows as data is written. The disk is left blank and detached: the first
 * sv_vdisk_attach() partitions and formats it.
 *
 * Returns 0; SV_EEXISTS when a file is already there; SV_EINVAL for a bad
 * name or a size out of range; SV_ENOTFOUND when the directory is missing;
 * SV_ENOSPC, SV_EACCESS, SV_EIO from the file system; SV_ENOTSUPPORTED
 * without VirtDisk.
 */
int sv_vdisk_create(const char *vhdx_path, uint64_t size_bytes);

/*
 * Attaches the VHDX with no drive letter and a permanent lifetime (it stays
 * attached after this process exits, until sv_vdisk_detach() or a reboot),
 * and writes the volume GUID path of its partition into volume_out (n bytes,
 * SV_VDISK_VOLUME_MAX is enough).
 *
 * A blank disk is initialised on the way: GPT, one basic-data partition over
 * the whole disk, NTFS via "format.com /Q" labelled SV_VDISK_LABEL (a few
 * seconds; the call can take up to a minute while the new volume appears).
 * A partition with no file system (an earlier attach interrupted) is
 * formatted; a disk that grew while detached has its volume extended. An
 * existing NTFS volume is never formatted again. Attaching a disk that is
 * already attached is not an error: its volume is returned.
 *
 * Returns 0; SV_ENOTFOUND when vhdx_path does not exist; SV_EACCESS when the
 * process is not elevated; SV_EBUSY when another process holds the file;
 * SV_EINVAL when the file is not a virtual disk or volume_out is too small;
 * SV_ETIMEOUT when the volume does not appear; SV_EIO when initialising or
 * formatting fails; SV_ENOTSUPPORTED without VirtDisk.
 */
int sv_vdisk_attach(const char *vhdx_path, char *volume_out, size_t n);

/*
 * Detaches the VHDX. A disk that is not attached, or a file that does not
 * exist, is not an error: there is nothing to detach and 0 is returned.
 * Open handles on the volume (a running wbadmin) are cut off, so callers
 * detach only between runs.
 *
 * Returns 0; SV_EACCESS when the process is not elevated; SV_EBUSY, SV_EIO
 * from VirtDisk; SV_ENOTSUPPORTED without VirtDisk.
 */
int sv_vdisk_detach(const char *vhdx_path);

/*
 * Grows the VHDX to new_size (rounded up to a MiB) and, when it is
 * attached, its partition and NTFS volume with it. A size not larger than
 * the current one changes nothing and returns 0: disks only grow. The disk
 * is resized while attached where Windows allows it, otherwise detached,
 * resized and attached again (the volume GUID path stays the same); callers
 * expand only between runs. A detached disk gets its volume extended at its
 * next sv_vdisk_attach().
 *
 * If the file grew but its volume could not be extended, the error's
 * message says so and names the cure: the caller detaches, deletes and
 * re-creates the staging disk (it holds nothing that is not in the vault).
 * sv_vdisk_attach() fails the same way on a disk whose volume cannot follow
 * its size.
 *
 * Returns 0; SV_ENOTFOUND when vhdx_path does not exist; SV_EINVAL for a
 * size out of range; SV_ENOSPC when the host volume is full; SV_EACCESS when
 * the process is not elevated; SV_EIO; SV_ENOTSUPPORTED without VirtDisk.
 */
int sv_vdisk_expand(const char *vhdx_path, uint64_t new_size);

/*
 * Writes the volume GUID path of the attached VHDX into volume_out (n
 * bytes). Changes nothing.
 *
 * Returns 0; SV_ENOTFOUND when the file does not exist, the disk is not
 * attached, or it is attached but has no volume (not yet initialised: use
 * sv_vdisk_attach()); SV_EINVAL when volume_out is too small;
 * SV_ENOTSUPPORTED without VirtDisk.
 */
int sv_vdisk_volume(const char *vhdx_path, char *volume_out, size_t n);

#endif
