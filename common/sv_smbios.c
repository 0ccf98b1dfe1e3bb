/*
 * sv_smbios.c - the portable SMBIOS structure-table parser behind
 * sv_smbios_parse() and sv_smbios_parse_rsmb() (sv_platform.h).
 *
 * The table comes from firmware, so nothing in it is trusted: every read is
 * bounds-checked against the table length and a malformed structure gives
 * SV_ECORRUPT with the byte offset where it starts. Strings are copied
 * bounded, reduced to printable ASCII and trimmed of trailing spaces, so the
 * result is safe to log, compare and put in JSON.
 *
 * Reference: DMTF DSP0134 (SMBIOS Reference Specification), sections 6.1
 * (structure header and string set), 7.2 (type 1), 7.4 (type 3).
 */
#include "sv_platform.h"

#include <string.h>

#define SMBIOS_HEADER_LEN 4u      /* type, length, handle (u16) */
#define SMBIOS_TYPE_SYSTEM 1u
#define SMBIOS_TYPE_CHASSIS 3u
#define SMBIOS_TYPE_END 127u

/* Type 1 System Information: offsets into the formatted area. */
#define SYS_OFF_MANUFACTURER 4u
#define SYS_OFF_PRODUCT 5u
#define SYS_OFF_SERIAL 7u
#define SYS_OFF_UUID 8u
#define SYS_UUID_LEN 16u

/* Type 3 System Enclosure or Chassis. */
#define CHASSIS_OFF_ASSET_TAG 8u

/* RawSMBIOSData as GetSystemFirmwareTable('RSMB') returns it. */
#define RSMB_HEADER_LEN 8u
#define RSMB_OFF_MAJOR 1u
#define RSMB_OFF_MINOR 2u
#define RSMB_OFF_LENGTH 4u

/* Sizes go into messages as unsigned long long: %zu is unknown to the
 * Microsoft printf format checking that mingw-w64 applies. */
typedef unsigned long long ull;

/* One structure of the table, located and validated. */
typedef struct smbios_struct {
	uint8_t type;
	uint8_t length;            /* of the formatted area, header included */
	const uint8_t *data;       /* the formatted area */
	const uint8_t *strings;    /* the string set, double NUL included */
	size_t strings_len;
} smbios_struct;

/* Reads the structure at *offset and advances *offset past its string set.
 * A type 127 structure is returned without looking at its string set: it
 * ends the walk, and some firmware omits the terminating NULs there. */
static int smbios_next(smbios_struct *s, const uint8_t *table, size_t len,
		       size_t *offset)
{
	size_t off = *offset;
	size_t i;

	if (len - off < SMBIOS_HEADER_LEN)
		return sv_error_set(SV_ECORRUPT,
			"SMBIOS structure at byte %llu: header runs past the "
			"end of the table (%llu bytes)", (ull)off, (ull)len);
	s->type = table[off];
	s->length = table[off + 1];
	s->data = table + off;
	if (s->length < SMBIOS_HEADER_LEN)
		return sv_error_set(SV_ECORRUPT,
			"SMBIOS structure at byte %llu (type %u): length %u is "
			"shorter than the 4-byte header", (ull)off,
			(unsigned)s->type, (unsigned)s->length);
	if (s->length > len - off)
		return sv_error_set(SV_ECORRUPT,
			"SMBIOS structure at byte %llu (type %u, length %u) "
			"runs past the end of the table (%llu bytes)", (ull)off,
			(unsigned)s->type, (unsigned)s->length, (ull)len);
	if (s->type == SMBIOS_TYPE_END) {
		s->strings = NULL;
		s->strings_len = 0;
		*offset = len;
		return 0;
	}
	for (i = off + s->length; i + 1 < len; i++)
		if (table[i] == 0 && table[i + 1] == 0)
			break;
	if (i + 1 >= len)
		return sv_error_set(SV_ECORRUPT,
			"SMBIOS structure at byte %llu (type %u): string set "
			"is not terminated by a double NUL before the end of "
			"the table (%llu bytes)", (ull)off, (unsigned)s->type,
			(ull)len);
	s->strings = table + off + s->length;
	s->strings_len = i + 2 - (off + s->length);
	*offset = i + 2;
	return 0;
}

/* Finds string number index (1-based) of s's string set; NULL when the
 * index is 0 ("no string") or beyond the strings present. */
static const uint8_t *smbios_string(const smbios_struct *s, unsigned index,
				    size_t *slen)
{
	const uint8_t *p = s->strings;
	const uint8_t *end = s->strings + s->strings_len;
	const uint8_t *nul;

	if (index == 0 || s->strings == NULL)
		return NULL;
	while (p < end && *p != 0) {
		nul = memchr(p, 0, (size_t)(end - p));
		if (nul == NULL)
			return NULL;   /* cannot happen: the set ends in NULs */
		if (--index == 0) {
			*slen = (size_t)(nul - p);
			return p;
		}
		p = nul + 1;
	}
	return NULL;
}

/* Copies src bounded into dst, printable ASCII only, trailing spaces cut. */
static void smbios_copy_clean(char *dst, size_t size, const uint8_t *src,
			      size_t n)
{
	size_t i;

	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* Copies the string whose index byte sits at offset field of s's formatted
 * area into dst; "" when the structure is too short to have that field or
 * the index names no string. */
static void smbios_field_string(char *dst, size_t size,
				const smbios_struct *s, unsigned field)
{
	const uint8_t *str;
	size_t slen = 0;

	dst[0] = '\0';
	if (s->length <= field)
		return;
	str = smbios_string(s, s->data[field], &slen);
	if (str != NULL)
		smbios_copy_clean(dst, size, str, slen);
}

static int uuid_all(const uint8_t *u, uint8_t value)
{
	size_t i;

	for (i = 0; i < SYS_UUID_LEN; i++)
		if (u[i] != value)
			return 0;
	return 1;
}

/* Formats the type 1 UUID as 8-4-4-4-12 lower-case hex. From SMBIOS 2.6 the
 * first three fields are stored little-endian (DSP0134 7.2.1); before that
 * the bytes are taken in order, as dmidecode does. */
static void smbios_format_uuid(char dst[37], const uint8_t *u, int le_fields)
{
	static const uint8_t order_le[SYS_UUID_LEN] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	uint8_t b;

	for (i = 0; i < SYS_UUID_LEN; i++) {
		b = u[le_fields ? order_le[i] : i];
		if (i == 4 || i == 6 || i == 8 || i == 10)
			dst[o++] = '-';
		dst[o++] = hex[b >> 4];
		dst[o++] = hex[b & 0x0f];
	}
	dst[o] = '\0';
}

static void smbios_take_system(sv_smbios_info *out, const smbios_struct *s,
			       int le_fields)
{
	const uint8_t *u = s->data + SYS_OFF_UUID;

	smbios_field_string(out->manufacturer, sizeof(out->manufacturer), s,
			    SYS_OFF_MANUFACTURER);
	smbios_field_string(out->product, sizeof(out->product), s,
			    SYS_OFF_PRODUCT);
	smbios_field_string(out->serial, sizeof(out->serial), s,
			    SYS_OFF_SERIAL);
	out->uuid[0] = '\0';
	if (s->length < SYS_OFF_UUID + SYS_UUID_LEN)
		return;   /* SMBIOS 2.0 type 1 has no UUID */
	if (uuid_all(u, 0x00) || uuid_all(u, 0xff))
		return;   /* "not present" / "not set" per DSP0134 7.2.1 */
	smbios_format_uuid(out->uuid, u, le_fields);
}

int sv_smbios_parse(sv_smbios_info *out, const uint8_t *table, size_t len,
		    int smbios_major, int smbios_minor)
{
	sv_smbios_info info;
	smbios_struct s;
	size_t off = 0;
	int le_fields, have_system = 0, have_chassis = 0, rc = 0;

	if (out == NULL || (table == NULL && len > 0)) {
		rc = sv_error_set(SV_EINVAL, "sv_smbios_parse: NULL argument");
		goto done;
	}
	memset(out, 0, sizeof(*out));
	memset(&info, 0, sizeof(info));
	le_fields = smbios_major > 2 ||
		    (smbios_major == 2 && smbios_minor >= 6);
	while (off < len) {
		if ((rc = smbios_next(&s, table, len, &off)) < 0)
			goto done;
		if (s.type == SMBIOS_TYPE_END)
			break;
		if (s.type == SMBIOS_TYPE_SYSTEM && !have_system) {
			smbios_take_system(&info, &s, le_fields);
			have_system = 1;
		} else if (s.type == SMBIOS_TYPE_CHASSIS && !have_chassis) {
			smbios_field_string(info.chassis_asset_tag,
				sizeof(info.chassis_asset_tag), &s,
				CHASSIS_OFF_ASSET_TAG);
			have_chassis = 1;
		}
	}
	*out = info;
done:
	return rc;
}

int sv_smbios_parse_rsmb(sv_smbios_info *out, const uint8_t *blob, size_t len)
{
	uint32_t table_len;
	int rc = 0;

	if (out == NULL || blob == NULL) {
		rc = sv_error_set(SV_EINVAL,
				  "sv_smbios_parse_rsmb: NULL argument");
		goto done;
	}
	memset(out, 0, sizeof(*out));
	if (len < RSMB_HEADER_LEN) {
		rc = sv_error_set(SV_ECORRUPT,
			"RawSMBIOSData of %llu bytes is shorter than its "
			"8-byte header", (ull)len);
		goto done;
	}
	table_len = (uint32_t)blob[RSMB_OFF_LENGTH] |
		    (uint32_t)blob[RSMB_OFF_LENGTH + 1] << 8 |
		    (uint32_t)blob[RSMB_OFF_LENGTH + 2] << 16 |
		    (uint32_t)blob[RSMB_OFF_LENGTH + 3] << 24;
	if (table_len > len - RSMB_HEADER_LEN) {
		rc = sv_error_set(SV_ECORRUPT,
			"RawSMBIOSData header at byte 4 gives a table length "
			"of %lu bytes but only %llu follow the header",
			(unsigned long)table_len, (ull)(len - RSMB_HEADER_LEN));
		goto done;
	}
	rc = sv_smbios_parse(out, blob + RSMB_HEADER_LEN, table_len,
			     blob[RSMB_OFF_MAJOR], blob[RSMB_OFF_MINOR]);
done:
	return rc;
}
