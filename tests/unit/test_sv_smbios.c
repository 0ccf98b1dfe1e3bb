/*
 * test_sv_smbios.c - the SMBIOS table parser on the RawSMBIOSData fixtures
 * of tests/fixtures/smbios/ (built by make_fixtures.py there) and on small
 * tables built inline for the edge cases.
 */
#include "sv_test.h"
#include "sv_platform.h"

#define FIXTURE(name) SV_TEST_FIXTURES "/smbios/" name
#define FIXTURE_MAX ((size_t)1 << 20)

/* Reads a whole fixture; *out is freed by the caller. 0 when the file does
 * not exist (for optional fixtures), fails the test on any other error. */
static int fixture_load(uint8_t **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t got;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return 0;
	buf = malloc(FIXTURE_MAX);
	assert_non_null(buf);
	got = fread(buf, 1, FIXTURE_MAX, f);
	assert_int_equal(ferror(f), 0);
	assert_true(got < FIXTURE_MAX);
	fclose(f);
	*out = buf;
	*len = got;
	return 1;
}

static int parse_fixture(sv_smbios_info *info, const char *path)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	if (!fixture_load(&blob, &len, path))
		fail_msg("fixture missing: %s", path);
	rc = sv_smbios_parse_rsmb(info, blob, len);
	free(blob);
	return rc;
}

static int is_azure(const sv_smbios_info *info)
{
	return strcmp(info->chassis_asset_tag, SV_AZURE_ASSET_TAG) == 0;
}

/* ---- captured-style fixtures ---- */

static void test_smbios__hyperv_vm_fields(void **state)
{
	sv_smbios_info info;

	assert_int_equal(parse_fixture(&info, FIXTURE("hyperv.bin")), 0);
	assert_string_equal(info.manufacturer, "Microsoft Corporation");
	assert_string_equal(info.product, "Virtual Machine");
	assert_string_equal(info.serial, "0000-0017-4471-2096-1530-7832-58");
	/* SMBIOS 3.1: first three UUID fields stored little-endian. */
	assert_string_equal(info.uuid, "5c9e3a7f-1b2d-4e8a-9f60-2c71d4a8b913");
	assert_string_equal(info.chassis_asset_tag,
			    "0000-0000-0000-0000-0000-0000-00");
	assert_false(is_azure(&info));
}

static void test_smbios__azure_vm_detected_by_asset_tag(void **state)
{
	sv_smbios_info info;

	assert_int_equal(parse_fixture(&info, FIXTURE("azure.bin")), 0);
	assert_string_equal(info.manufacturer, "Microsoft Corporation");
	assert_string_equal(info.product, "Virtual Machine");
	assert_string_equal(info.uuid, "e1f6a2c4-7d3b-4f59-8a0e-6b2d9c41f7a8");
	assert_string_equal(info.chassis_asset_tag, SV_AZURE_ASSET_TAG);
	assert_true(is_azure(&info));
}

static void test_smbios__poweredge_2_4_uuid_in_byte_order(void **state)
{
	sv_smbios_info info;

	assert_int_equal(parse_fixture(&info, FIXTURE("poweredge.bin")), 0);
	assert_string_equal(info.manufacturer, "Dell Inc.");
	assert_string_equal(info.product, "PowerEdge 2950");
	assert_string_equal(info.serial, "7XQ1KS2");
	/* SMBIOS 2.4: the 16 bytes are taken in order ("LLED" = Dell). */
	assert_string_equal(info.uuid, "4c4c4544-0058-5110-8031-b7c04f4b5332");
	/* Stored space-padded; trailing spaces are trimmed. */
	assert_string_equal(info.chassis_asset_tag, "ACME-00417");
	assert_false(is_azure(&info));
}

/* A table captured from a real machine, present only when the fixture
 * script ran where /sys/firmware/dmi/tables/DMI was readable. */
static void test_smbios__captured_host_table_parses(void **state)
{
	sv_smbios_info info;
	uint8_t *blob = NULL;
	size_t len = 0;

	if (!fixture_load(&blob, &len, FIXTURE("host.bin"))) {
		print_message("host.bin absent: make_fixtures.py ran where the "
			      "DMI table was not readable\n");
		skip();
	}
	sv_assert_ok(sv_smbios_parse_rsmb(&info, blob, len));
	free(blob);
	assert_true(info.manufacturer[0] != '\0' || info.product[0] != '\0' ||
		    info.uuid[0] != '\0');
}

/* ---- malformed fixtures ---- */

static void expect_corrupt(const char *path, const char *what,
			   const char *what2)
{
	sv_smbios_info info;

	memset(&info, 'x', sizeof(info));
	sv_error_clear();
	assert_int_equal(parse_fixture(&info, path), SV_ECORRUPT);
	assert_int_equal(sv_error_code(), SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), what));
	if (what2 != NULL)
		assert_non_null(strstr(sv_error_msg(), what2));
	/* Nothing half-parsed is left behind. */
	assert_string_equal(info.manufacturer, "");
	assert_string_equal(info.uuid, "");
}

static void test_smbios__truncated_structure_is_corrupt(void **state)
{
	/* Type 1 starts at byte 86 of the table, after type 0's 26-byte
	 * formatted area and its 60-byte string set. */
	expect_corrupt(FIXTURE("bad_truncated.bin"), "at byte 86 (type 1",
		       "runs past the end");
}

static void test_smbios__unterminated_strings_are_corrupt(void **state)
{
	expect_corrupt(FIXTURE("bad_unterminated.bin"), "not terminated",
		       "(type 1)");
}

static void test_smbios__length_below_header_is_corrupt(void **state)
{
	expect_corrupt(FIXTURE("bad_short_length.bin"), "at byte 86",
		       "length 2");
}

static void test_smbios__rsmb_length_past_blob_is_corrupt(void **state)
{
	expect_corrupt(FIXTURE("bad_rsmb_length.bin"), "table length", NULL);
}

/* ---- inline tables ---- */

/* Type 1 (SMBIOS 2.4 layout) with strings "Maker", "Model", "v1", "SN1". */
static const uint8_t system_table[] = {
	1, 0x1b, 0x01, 0x00, 1, 2, 3, 4,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	6, 0, 0,
	'M', 'a', 'k', 'e', 'r', 0, 'M', 'o', 'd', 'e', 'l', 0,
	'v', '1', 0, 'S', 'N', '1', 0, 0,
	127, 4, 0x02, 0x00, 0, 0,
};

static void test_smbios__uuid_order_follows_version(void **state)
{
	sv_smbios_info info;

	sv_assert_ok(sv_smbios_parse(&info, system_table, sizeof(system_table),
				     2, 5));
	assert_string_equal(info.uuid, "00112233-4455-6677-8899-aabbccddeeff");
	sv_assert_ok(sv_smbios_parse(&info, system_table, sizeof(system_table),
				     2, 6));
	assert_string_equal(info.uuid, "33221100-5544-7766-8899-aabbccddeeff");
	sv_assert_ok(sv_smbios_parse(&info, system_table, sizeof(system_table),
				     3, 0));
	assert_string_equal(info.uuid, "33221100-5544-7766-8899-aabbccddeeff");
	assert_string_equal(info.manufacturer, "Maker");
	assert_string_equal(info.product, "Model");
	assert_string_equal(info.serial, "SN1");
	assert_string_equal(info.chassis_asset_tag, "");
}

static void parse_with_uuid_fill(sv_smbios_info *info, uint8_t fill)
{
	uint8_t t[sizeof(system_table)];

	memcpy(t, system_table, sizeof(t));
	memset(t + 8, fill, 16);
	sv_assert_ok(sv_smbios_parse(info, t, sizeof(t), 3, 0));
}

static void test_smbios__uuid_all_zero_or_ff_is_absent(void **state)
{
	sv_smbios_info info;

	parse_with_uuid_fill(&info, 0x00);
	assert_string_equal(info.uuid, "");
	parse_with_uuid_fill(&info, 0xff);
	assert_string_equal(info.uuid, "");
	assert_string_equal(info.manufacturer, "Maker");
}

static void test_smbios__string_index_past_end_is_empty(void **state)
{
	sv_smbios_info info;
	uint8_t t[sizeof(system_table)];

	memcpy(t, system_table, sizeof(t));
	t[4] = 9;     /* manufacturer: only 4 strings exist */
	t[5] = 0;     /* product: index 0 means "no string" */
	t[7] = 5;     /* serial: one past the last */
	sv_assert_ok(sv_smbios_parse(&info, t, sizeof(t), 3, 0));
	assert_string_equal(info.manufacturer, "");
	assert_string_equal(info.product, "");
	assert_string_equal(info.serial, "");
}

static void test_smbios__strings_cleaned(void **state)
{
	/* Type 3 with an asset tag holding a control byte, a high byte and
	 * trailing spaces; manufacturer string index 1 is "Acme". */
	static const uint8_t t[] = {
		3, 0x15, 0x03, 0x00, 1, 0x03, 0, 0, 2,
		3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0,
		'A', 'c', 'm', 'e', 0,
		'T', 0x07, 'a', 'g', 0xc3, 0xa9, ' ', ' ', 0, 0,
	};
	sv_smbios_info info;

	sv_assert_ok(sv_smbios_parse(&info, t, sizeof(t), 3, 0));
	assert_string_equal(info.chassis_asset_tag, "T?ag??");
}

static void test_smbios__long_string_is_truncated(void **state)
{
	uint8_t t[4 + 1 + 300 + 2];
	sv_smbios_info info;

	memset(t, 0, sizeof(t));
	t[0] = 1;
	t[1] = 5;        /* type 1 of SMBIOS 2.0 up to Manufacturer only */
	t[4] = 1;
	memset(t + 5, 'A', 300);
	sv_assert_ok(sv_smbios_parse(&info, t, sizeof(t), 2, 0));
	assert_int_equal(strlen(info.manufacturer),
			 sizeof(info.manufacturer) - 1);
	/* Fields beyond the structure's length read as absent. */
	assert_string_equal(info.product, "");
	assert_string_equal(info.serial, "");
	assert_string_equal(info.uuid, "");
}

static void test_smbios__short_chassis_has_no_asset_tag(void **state)
{
	/* Type 3 of length 8 ends before the Asset Tag field at offset 8.
	 * Its first string begins with '!' (33) and 33 strings follow, so
	 * reading offset 8 as an index would find string 33, "tag". */
	static const uint8_t head[] = { 3, 8, 0x03, 0x00, 1, 0x03, 1, 1 };
	uint8_t t[sizeof(head) + 2 + 31 * 2 + 4 + 1];
	size_t o = sizeof(head), i;
	sv_smbios_info info;

	memcpy(t, head, sizeof(head));
	memcpy(t + o, "!", 2);
	o += 2;
	for (i = 0; i < 31; i++, o += 2)
		memcpy(t + o, "s", 2);
	memcpy(t + o, "tag", 4);
	o += 4;
	t[o++] = 0;
	assert_int_equal(o, sizeof(t));
	sv_assert_ok(sv_smbios_parse(&info, t, sizeof(t), 3, 0));
	assert_string_equal(info.chassis_asset_tag, "");
}

static void test_smbios__stops_at_end_of_table(void **state)
{
	/* After type 127 comes junk that would be corrupt if walked. */
	static const uint8_t t[] = {
		127, 4, 0x00, 0x00, 0, 0,
		1, 0xff, 0xff, 0xff, 0xff,
	};
	sv_smbios_info info;

	sv_assert_ok(sv_smbios_parse(&info, t, sizeof(t), 3, 0));
	assert_string_equal(info.manufacturer, "");
}

static void test_smbios__first_system_structure_wins(void **state)
{
	uint8_t t[2 * sizeof(system_table)];
	size_t body = sizeof(system_table) - 6;   /* without type 127 */
	sv_smbios_info info;

	memcpy(t, system_table, body);
	memcpy(t + body, system_table, sizeof(system_table));
	t[body + 4 + 0] = 2;   /* second copy: manufacturer = "Model" */
	sv_assert_ok(sv_smbios_parse(&info, t, body + sizeof(system_table), 3,
				     0));
	assert_string_equal(info.manufacturer, "Maker");
}

static void test_smbios__header_past_end_is_corrupt(void **state)
{
	static const uint8_t t[] = { 0, 4, 0, 0, 0, 0, 1, 0x1b };
	sv_smbios_info info;

	assert_int_equal(sv_smbios_parse(&info, t, sizeof(t), 3, 0),
			 SV_ECORRUPT);
	assert_non_null(strstr(sv_error_msg(), "at byte 6"));
}

static void test_smbios__rsmb_short_or_huge_header(void **state)
{
	static const uint8_t shorter[] = { 0, 3, 1, 0, 0 };
	static const uint8_t huge[] = { 0, 3, 1, 0, 0xff, 0xff, 0xff, 0xff,
					127, 4, 0, 0, 0, 0 };
	static const uint8_t empty[] = { 0, 3, 1, 0, 0, 0, 0, 0 };
	sv_smbios_info info;

	assert_int_equal(sv_smbios_parse_rsmb(&info, shorter, sizeof(shorter)),
			 SV_ECORRUPT);
	assert_int_equal(sv_smbios_parse_rsmb(&info, huge, sizeof(huge)),
			 SV_ECORRUPT);
	sv_assert_ok(sv_smbios_parse_rsmb(&info, empty, sizeof(empty)));
	assert_string_equal(info.uuid, "");
}

static void test_smbios__null_arguments_rejected(void **state)
{
	sv_smbios_info info;

	assert_int_equal(sv_smbios_parse(NULL, system_table,
					 sizeof(system_table), 3, 0),
			 SV_EINVAL);
	assert_int_equal(sv_smbios_parse(&info, NULL, 4, 3, 0), SV_EINVAL);
	assert_int_equal(sv_smbios_parse_rsmb(&info, NULL, 8), SV_EINVAL);
}

/* Every prefix of a valid blob either parses or is SV_ECORRUPT: none reads
 * past its end (run under the sanitizer build to make that visible). */
static void test_smbios__every_truncation_is_safe(void **state)
{
	uint8_t *blob = NULL, *copy = NULL;
	size_t len = 0, cut;
	sv_smbios_info info;
	int rc;

	assert_true(fixture_load(&blob, &len, FIXTURE("hyperv.bin")));
	for (cut = 8; cut < len; cut++) {
		/* Exact size, so a read past the end is a heap overflow. */
		copy = malloc(cut > 8 ? cut - 8 : 1);
		assert_non_null(copy);
		memcpy(copy, blob + 8, cut - 8);
		rc = sv_smbios_parse(&info, copy, cut - 8, 3, 1);
		assert_true(rc == 0 || rc == SV_ECORRUPT);
		free(copy);
	}
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smbios__hyperv_vm_fields),
		cmocka_unit_test(test_smbios__azure_vm_detected_by_asset_tag),
		cmocka_unit_test(test_smbios__poweredge_2_4_uuid_in_byte_order),
		cmocka_unit_test(test_smbios__captured_host_table_parses),
		cmocka_unit_test(test_smbios__truncated_structure_is_corrupt),
		cmocka_unit_test(test_smbios__unterminated_strings_are_corrupt),
		cmocka_unit_test(test_smbios__length_below_header_is_corrupt),
		cmocka_unit_test(test_smbios__rsmb_length_past_blob_is_corrupt),
		cmocka_unit_test(test_smbios__uuid_order_follows_version),
		cmocka_unit_test(test_smbios__uuid_all_zero_or_ff_is_absent),
		cmocka_unit_test(test_smbios__string_index_past_end_is_empty),
		cmocka_unit_test(test_smbios__strings_cleaned),
		cmocka_unit_test(test_smbios__long_string_is_truncated),
		cmocka_unit_test(test_smbios__short_chassis_has_no_asset_tag),
		cmocka_unit_test(test_smbios__stops_at_end_of_table),
		cmocka_unit_test(test_smbios__first_system_structure_wins),
		cmocka_unit_test(test_smbios__header_past_end_is_corrupt),
		cmocka_unit_test(test_smbios__rsmb_short_or_huge_header),
		cmocka_unit_test(test_smbios__null_arguments_rejected),
		cmocka_unit_test(test_smbios__every_truncation_is_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
