#include "sv_test.h"

#include "agent.h"
#include "sv_fs.h"
#include "sv_path.h"

static char *g_dir;

static int setup(void **s)
{
	(void)s;
	g_dir = sv_test_tmpdir("config");
	g_agent.state_dir = g_dir;
	return g_dir ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	g_agent.state_dir = NULL;
	sv_fs_remove_tree(g_dir);
	free(g_dir);
	return 0;
}

static void write_config(const char *text)
{
	char *path = sv_path_join(g_dir, "config.json");

	sv_assert_ok(sv_fs_write_atomic(path, text, strlen(text), 1));
	free(path);
}

static json_t *read_config(void)
{
	char *path = sv_path_join(g_dir, "config.json");
	json_t *v = NULL;

	sv_assert_ok(sv_json_load_file(&v, path, 1 << 20));
	free(path);
	return v;
}

/* A set keeps what another process wrote since this one read the file,
 * creates the objects on a dotted path, and a removal leaves the rest. */
static void test_config__set_keeps_other_settings(void **s)
{
	json_t *v;

	(void)s;
	write_config("{\"vault\":\"D:\\\\vault\",\"wsb\":{\"timeout\":\"6h\"}}");
	sv_assert_ok(sv_agent_config_set("throttle.work.rate", json_string("4Mbps")));
	assert_string_equal(sv_agent_config("throttle.work.rate"), "4Mbps");
	assert_string_equal(sv_agent_config("wsb.timeout"), "6h");

	write_config("{\"vault\":\"E:\\\\other\",\"throttle\":{\"work\":{\"rate\":\"4Mbps\"}}}");
	sv_assert_ok(sv_agent_config_set("scratch", json_string("E:\\scratch")));
	v = read_config();
	assert_string_equal(json_string_value(json_object_get(v, "vault")), "E:\\other");
	assert_string_equal(json_string_value(json_object_get(v, "scratch")), "E:\\scratch");
	json_decref(v);

	sv_assert_ok(sv_agent_config_set("throttle", NULL));
	assert_null(sv_agent_config_json("throttle"));
	assert_string_equal(sv_agent_config("scratch"), "E:\\scratch");
	sv_assert_ok(sv_agent_config_set("not.there", NULL));
}

/* A config.json that does not parse is the administrator's: it is left
 * byte for byte and the error names it. */
static void test_config__malformed_file_is_refused_not_replaced(void **s)
{
	char *path = sv_path_join(g_dir, "config.json"), *text = NULL;
	size_t len;

	(void)s;
	write_config("{\"vault\": \"D:\\\\vault\",");
	assert_int_equal(sv_agent_config_set("scratch", json_string("x")), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "config.json"));
	sv_assert_ok(sv_fs_read_all(&text, &len, path, 1 << 20));
	assert_string_equal(text, "{\"vault\": \"D:\\\\vault\",");
	free(text);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config__set_keeps_other_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config__malformed_file_is_refused_not_replaced, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
