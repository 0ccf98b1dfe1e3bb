/*
 * fuzz_smbios.c - the SMBIOS parser on arbitrary firmware bytes, read as a
 * Windows RawSMBIOSData blob and as a bare table in both UUID byte orders.
 * It must never crash, and whatever it accepts must be NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sv_platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

static void check(const sv_smbios_info *info)
{
	check_terminated(info->uuid, sizeof(info->uuid));
	check_terminated(info->manufacturer, sizeof(info->manufacturer));
	check_terminated(info->product, sizeof(info->product));
	check_terminated(info->serial, sizeof(info->serial));
	check_terminated(info->chassis_asset_tag,
			 sizeof(info->chassis_asset_tag));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_smbios_info info;

	if (sv_smbios_parse_rsmb(&info, data, size) == 0)
		check(&info);
	if (sv_smbios_parse(&info, data, size, 3, 0) == 0)
		check(&info);
	if (sv_smbios_parse(&info, data, size, 2, 4) == 0)
		check(&info);
	return 0;
}
