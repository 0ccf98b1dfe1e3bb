/*
 * sv_platform_names.c - display names for the enums of sv_platform.h, the
 * same on every platform.
 */
#include "sv_platform.h"

const char *sv_volume_type_name(sv_volume_type t)
{
	switch (t) {
	case SV_VOL_FIXED:
		return "fixed";
	case SV_VOL_REMOVABLE:
		return "removable";
	case SV_VOL_REMOTE:
		return "remote";
	case SV_VOL_CDROM:
		return "cdrom";
	case SV_VOL_RAMDISK:
		return "ramdisk";
	case SV_VOL_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *sv_service_state_name(sv_service_state s)
{
	switch (s) {
	case SV_SVC_STOPPED:
		return "stopped";
	case SV_SVC_START_PENDING:
		return "start pending";
	case SV_SVC_STOP_PENDING:
		return "stop pending";
	case SV_SVC_RUNNING:
		return "running";
	case SV_SVC_CONTINUE_PENDING:
		return "continue pending";
	case SV_SVC_PAUSE_PENDING:
		return "pause pending";
	case SV_SVC_PAUSED:
		return "paused";
	}
	return "unknown";
}

/* The words of the Services console ("Manual", not "demand"). */
const char *sv_service_start_name(sv_service_start s)
{
	switch (s) {
	case SV_START_BOOT:
		return "boot";
	case SV_START_SYSTEM:
		return "system";
	case SV_START_AUTO:
		return "automatic";
	case SV_START_DEMAND:
		return "manual";
	case SV_START_DISABLED:
		return "disabled";
	}
	return "unknown";
}

const char *sv_firmware_type_name(sv_firmware_type t)
{
	switch (t) {
	case SV_FW_BIOS:
		return "BIOS";
	case SV_FW_UEFI:
		return "UEFI";
	case SV_FW_UNKNOWN:
		break;
	}
	return "unknown";
}
