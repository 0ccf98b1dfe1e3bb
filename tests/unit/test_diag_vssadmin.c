/*
 * test_diag_vssadmin.c - reading `vssadmin list writers` (any language)
 * and `vssadmin list shadowstorage`.
 */
#include "sv_test.h"

#include "diag_int.h"

static const char english[] =
	"vssadmin 1.1 - Volume Shadow Copy Service administrative command-line "
	"tool\r\n"
	"(C) Copyright 2001-2013 Microsoft Corp.\r\n"
	"\r\n"
	"Writer name: 'Task Scheduler Writer'\r\n"
	"   Writer Id: {d61d61c8-d73a-4eee-8cdd-f6f9786b7124}\r\n"
	"   Writer Instance Id: {1bddd48e-5052-49db-9b07-b96f96727e6b}\r\n"
	"   State: [1] Stable\r\n"
	"   Last error: No error\r\n"
	"\r\n"
	"Writer name: 'System Writer'\r\n"
	"   Writer Id: {e8132975-6f93-4464-a53e-1050253ae220}\r\n"
	"   Writer Instance Id: {7848396d-00b1-47cd-8ba9-769b7ce402d2}\r\n"
	"   State: [9] Failed\r\n"
	"   Last error: Timed out\r\n"
	"\r\n"
	"Writer name: 'Microsoft Exchange Writer'\r\n"
	"   Writer Id: {76fe1ac4-15f7-4bcd-987e-8e1acb462fb7}\r\n"
	"   Writer Instance Id: {5ab00a9c-1b5c-4e2e-8e3c-0e1a6e2b4a33}\r\n"
	"   State: [5] Waiting for completion\r\n"
	"   Last error: No error\r\n";

/* German output: every label translated, an apostrophe-free name. */
static const char german[] =
	"vssadmin 1.1 - Verwaltungsbefehlszeilenprogramm des "
	"Volumeschattenkopie-Dienstes\r\n"
	"(C) Copyright 2001-2013 Microsoft Corp.\r\n"
	"\r\n"
	"Verfassername: 'System Writer'\r\n"
	"   Verfasser-ID: {e8132975-6f93-4464-a53e-1050253ae220}\r\n"
	"   Verfasserinstanz-ID: {7848396d-00b1-47cd-8ba9-769b7ce402d2}\r\n"
	"   Status: [1] Stabil\r\n"
	"   Letzter Fehler: Kein Fehler\r\n";

/* French: the label itself holds an apostrophe. */
static const char french[] =
	"Nom de l'enregistreur : 'Registry Writer'\n"
	"   Id de l'enregistreur : {afbab4a2-367d-4d15-a586-71dbb18f8485}\n"
	"   Id de l'instance de l'enregistreur : "
	"{ebaa8b2d-1bd4-4c6a-b3a4-7c4a0c5a5d0d}\n"
	"   \xc3\x89tat : [1] Stable\n"
	"   Derni\xe8re erreur : Pas d'erreur\n";

static json_t *parse(const char *text)
{
	json_t *w = NULL;

	sv_assert_ok(diag__vssadmin_parse_writers(&w, text, strlen(text)));
	assert_true(json_is_array(w));
	return w;
}

static const char *str(const json_t *w, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(w, i), key));
}

static json_int_t num(const json_t *w, size_t i, const char *key)
{
	return json_integer_value(json_object_get(json_array_get(w, i), key));
}

static void test_diag_vssadmin__reads_english_writers(void **s)
{
	json_t *w = parse(english);

	(void)s;
	assert_int_equal(json_array_size(w), 3);
	assert_string_equal(str(w, 0, "name"), "Task Scheduler Writer");
	assert_string_equal(str(w, 0, "id"),
			    "{d61d61c8-d73a-4eee-8cdd-f6f9786b7124}");
	assert_string_equal(str(w, 0, "instance_id"),
			    "{1bddd48e-5052-49db-9b07-b96f96727e6b}");
	assert_int_equal(num(w, 0, "state"), 1);
	assert_string_equal(str(w, 0, "state_text"), "Stable");
	assert_string_equal(str(w, 0, "last_error"), "No error");
	assert_string_equal(str(w, 1, "name"), "System Writer");
	assert_int_equal(num(w, 1, "state"), 9);
	assert_string_equal(str(w, 1, "last_error"), "Timed out");
	assert_int_equal(num(w, 2, "state"), 5);
	assert_string_equal(str(w, 2, "state_text"), "Waiting for completion");
	json_decref(w);
}

static void test_diag_vssadmin__reads_localised_writers(void **s)
{
	json_t *w = parse(german);

	(void)s;
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(str(w, 0, "name"), "System Writer");
	assert_int_equal(num(w, 0, "state"), 1);
	assert_string_equal(str(w, 0, "last_error"), "Kein Fehler");
	json_decref(w);
	w = parse(french);
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(str(w, 0, "name"), "Registry Writer");
	assert_string_equal(str(w, 0, "id"),
			    "{afbab4a2-367d-4d15-a586-71dbb18f8485}");
	assert_int_equal(num(w, 0, "state"), 1);
	/* Latin-1 from the OEM code page is not UTF-8: replaced, kept. */
	assert_non_null(str(w, 0, "last_error"));
	json_decref(w);
}

static void test_diag_vssadmin__localised_stable_writers_pass(void **s)
{
	json_t *ev = json_object();
	diag__judge j = {"windows"};
	diag__outcome o;

	(void)s;
	json_object_set_new(ev, "writers", parse(german));
	o.verdict = DIAG_SKIP;
	sv_buf_init(&o.reason, 4096);
	sv_buf_init(&o.fix, 4096);
	diag__verdict_writers(&j, ev, &o);
	assert_int_equal(o.verdict, DIAG_PASS);
	assert_non_null(strstr(o.reason.ptr, "not in English"));
	sv_buf_release(&o.reason);
	sv_buf_release(&o.fix);
	json_decref(ev);
}

static void test_diag_vssadmin__error_output_has_no_writers(void **s)
{
	json_t *w = parse("vssadmin 1.1 - Volume Shadow Copy Service\r\n"
			  "Error: You don't have the correct permissions to "
			  "run this command.  Please run this utility from a "
			  "command window that has elevated administrator "
			  "privileges.\r\n");

	(void)s;
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
	w = parse("");
	assert_int_equal(json_array_size(w), 0);
	json_decref(w);
}

static void test_diag_vssadmin__truncated_block_keeps_what_it_has(void **s)
{
	static const char cut[] =
		"Writer name: 'System Writer'\n"
		"   Writer Id: {e8132975-6f93-4464-a53e-1050253ae220}\n"
		"   State: [1";
	json_t *w = parse(cut);

	(void)s;
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(str(w, 0, "name"), "System Writer");
	assert_null(json_object_get(json_array_get(w, 0), "state"));
	json_decref(w);
}

static void test_diag_vssadmin__reads_bounded_storage(void **s)
{
	static const char out[] =
		"vssadmin 1.1 - Volume Shadow Copy Service administrative "
		"command-line tool\r\n"
		"(C) Copyright 2001-2013 Microsoft Corp.\r\n\r\n"
		"Shadow Copy Storage association\r\n"
		"   For volume: "
		"(C:)\\\\?\\Volume{5a1c3f2e-0d4b-4e8a-9c71-2b6f0e9d8a13}\\\r\n"
		"   Shadow Copy Storage volume: "
		"(C:)\\\\?\\Volume{5a1c3f2e-0d4b-4e8a-9c71-2b6f0e9d8a13}\\\r\n"
		"   Used Shadow Copy Storage space: 2.06 GB (1%)\r\n"
		"   Allocated Shadow Copy Storage space: 2.5 GB (1%)\r\n"
		"   Maximum Shadow Copy Storage space: 11.8 GB (8%)\r\n";
	json_t *st = NULL;

	(void)s;
	sv_assert_ok(diag__vssadmin_parse_storage(&st, out, strlen(out)));
	assert_int_equal(json_integer_value(json_object_get(st, "used_bytes")),
			 (json_int_t)(2.06 * 1073741824.0));
	assert_int_equal(
		json_integer_value(json_object_get(st, "allocated_bytes")),
		(json_int_t)5 << 29);
	assert_int_equal(json_integer_value(json_object_get(st, "max_bytes")),
			 (json_int_t)(11.8 * 1073741824.0));
	assert_true(json_is_false(json_object_get(st, "unbounded")));
	json_decref(st);
}

static void test_diag_vssadmin__reads_unbounded_and_comma_storage(void **s)
{
	static const char out[] =
		"   Used Shadow Copy Storage space: 512 MB (0%)\n"
		"   Allocated Shadow Copy Storage space: 1,5 GB (1%)\n"
		"   Maximum Shadow Copy Storage space: UNBOUNDED (100%)\n";
	json_t *st = NULL;

	(void)s;
	sv_assert_ok(diag__vssadmin_parse_storage(&st, out, strlen(out)));
	assert_int_equal(json_integer_value(json_object_get(st, "used_bytes")),
			 (json_int_t)512 << 20);
	assert_int_equal(
		json_integer_value(json_object_get(st, "allocated_bytes")),
		(json_int_t)3 << 29);
	assert_true(json_is_true(json_object_get(st, "unbounded")));
	assert_null(json_object_get(st, "max_bytes"));
	json_decref(st);
}

static void test_diag_vssadmin__no_storage_and_garbage(void **s)
{
	static const char none[] =
		"vssadmin 1.1 - Volume Shadow Copy Service administrative "
		"command-line tool\r\n"
		"\r\nNo items found that satisfy the query.\r\n";
	static const char junk[] = "Error: Invalid option value.\r\n";
	static const char bad_size[] =
		"   Used Shadow Copy Storage space: lots (1%)\n";
	json_t *st = NULL;

	(void)s;
	sv_assert_ok(diag__vssadmin_parse_storage(&st, none, strlen(none)));
	assert_true(json_is_true(json_object_get(st, "none")));
	json_decref(st);
	assert_int_equal(diag__vssadmin_parse_storage(&st, junk, strlen(junk)),
			 SV_EINVAL);
	assert_null(st);
	assert_int_equal(
		diag__vssadmin_parse_storage(&st, bad_size, strlen(bad_size)),
		SV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_vssadmin__reads_english_writers),
		cmocka_unit_test(test_diag_vssadmin__reads_localised_writers),
		cmocka_unit_test(
			test_diag_vssadmin__localised_stable_writers_pass),
		cmocka_unit_test(
			test_diag_vssadmin__error_output_has_no_writers),
		cmocka_unit_test(
			test_diag_vssadmin__truncated_block_keeps_what_it_has),
		cmocka_unit_test(test_diag_vssadmin__reads_bounded_storage),
		cmocka_unit_test(
			test_diag_vssadmin__reads_unbounded_and_comma_storage),
		cmocka_unit_test(test_diag_vssadmin__no_storage_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
