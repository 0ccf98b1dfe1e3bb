/*
 * test_json_cli.c - docs/json.md is the contract of every data command's
 * --json output, and this test reads it: it runs each command in the
 * table below, then checks the output against the command's table in the
 * document both ways (every required field present with its type, every
 * field printed documented, enumerated values among those listed).
 *
 * Adding a command: one line in `cases` and a section in docs/json.md
 * whose table follows a "<!-- json: <name> -->" line.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"

#define PASS "correct horse battery staple"

/* Wine lacks the wbengine and VSS services the preflight rightly wants
 * (see test_wsb_cli.c); the free space on the test machine's disk (PF005)
 * and another wbadmin on it (PF009) are not what this test is about. */
#define HOST_SKIPS "--skip-check", "PF005", "--skip-check", "PF009",
#ifdef _WIN32
#define SKIPS "--skip-check", "PF001", "--skip-check", "PF002", HOST_SKIPS
#else
#define SKIPS HOST_SKIPS
#endif

#define MAX_ARGS 16

/*
 * The commands, run in this order with --json. section names the table
 * in docs/json.md (NULL: a step that only prepares state, e.g. a failed
 * job). Arguments starting with @VAULT@, @RESTORE@, @FIXTURES@ or @DIR@
 * are replaced by the test's vault, an empty restore target, the fixture
 * folder and a path in the test's directory.
 */
static const struct json_case {
	const char *section;
	int code;
	const char *args[MAX_ARGS];
} cases[] = {
	{ "version", 0, { "version" } },
	{ "vault init", 0, { "vault", "init", "--vault", "@VAULT@" } },
	{ "backup", 0, { "backup", SKIPS "--vault", "@VAULT@" } },
	{ NULL, 2, { "backup", SKIPS "--vault", "@DIR@no-such-vault" } },
	{ "points", 0, { "points", "--vault", "@VAULT@" } },
	{ "restore", 0, { "restore", "--point", "latest", "--to", "@RESTORE@", "--vault", "@VAULT@" } },
	{ "vault check", 0, { "vault", "check", "--vault", "@VAULT@" } },
	{ "vault sync", 0, { "vault", "sync", "--vault", "@VAULT@" } },
	{ "preflight", 0, { "preflight", "--from", "@FIXTURES@preflight/healthy.json" } },
	{ "preflight", 2, { "preflight", "--from", "@FIXTURES@preflight/esp-locked.json" } },
	{ "wsb versions", 0, { "wsb", "versions" } },
	{ "jobs", 0, { "jobs" } },
	{ "jobs show", 0, { "jobs", "show", "1" } },
	{ "jobs show", 0, { "jobs", "show", "2" } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- docs/json.md ---- */

#define MAX_SECTIONS 64
#define MAX_FIELDS 96

typedef struct field {
	char path[128];
	char type[160];
	int required;
} field;

typedef struct section {
	char name[64];
	field f[MAX_FIELDS];
	size_t n;
} section;

static section g_doc[MAX_SECTIONS];
static size_t g_ndoc;

/* Copies the trimmed [s, e) into out without backticks. */
static void cell(char *out, size_t size, const char *s, const char *e)
{
	size_t n = 0;

	while (s < e && (*s == ' ' || *s == '`'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '`'))
		e--;
	while (s < e && n + 1 < size)
		out[n++] = *s++;
	out[n] = '\0';
}

/* A table row "| `path` | type | yes | meaning |" of section sec. */
static void parse_row(section *sec, const char *line, const char *end)
{
	const char *bar[5];
	const char *p = line;
	char req[8];
	field *f;
	int i;

	for (i = 0; i < 5 && (p = memchr(p, '|', (size_t)(end - p))) != NULL; i++)
		bar[i] = p++;
	if (i < 4)
		fail_msg("docs/json.md, section '%s': malformed row: %.*s", sec->name,
			 (int)(end - line), line);
	if (sec->n == MAX_FIELDS)
		fail_msg("docs/json.md, section '%s': more than %d fields", sec->name, MAX_FIELDS);
	f = &sec->f[sec->n++];
	cell(f->path, sizeof(f->path), bar[0] + 1, bar[1]);
	cell(f->type, sizeof(f->type), bar[1] + 1, bar[2]);
	cell(req, sizeof(req), bar[2] + 1, bar[3]);
	if (strcmp(req, "yes") && strcmp(req, "no"))
		fail_msg("docs/json.md, field '%s': Req. must be yes or no, not '%s'", f->path, req);
	f->required = !strcmp(req, "yes");
}

static void load_doc(void)
{
	static const char mark[] = "<!-- json: ";
	char *path = sv_path_join(SV_SOURCE_DIR, "docs/json.md"), *text = NULL;
	const char *line, *end;
	section *cur = NULL;
	size_t len;

	sv_assert_ok(sv_fs_read_all(&text, &len, path, 1 << 20));
	for (line = text; line < text + len; line = end + 1) {
		if (!(end = memchr(line, '\n', (size_t)(text + len - line))))
			end = text + len;
		if (!strncmp(line, mark, sizeof(mark) - 1)) {
			assert_true(g_ndoc < MAX_SECTIONS);
			cur = &g_doc[g_ndoc++];
			const char *close = strstr(line, " -->");

			cell(cur->name, sizeof(cur->name), line + sizeof(mark) - 1,
			     close && close < end ? close : end);
		} else if (cur && !strncmp(line, "| `", 3)) {
			parse_row(cur, line, end);
		} else if (cur && line[0] != '|' && cur->n > 0) {
			cur = NULL;   /* the table ended */
		}
	}
	free(text);
	free(path);
	assert_true(g_ndoc > 0);
}

static const section *doc_section(const char *name)
{
	size_t i;

	for (i = 0; i < g_ndoc; i++)
		if (!strcmp(g_doc[i].name, name))
			return &g_doc[i];
	return NULL;
}

static const field *doc_field(const section *sec, const char *path)
{
	size_t i;

	for (i = 0; i < sec->n; i++)
		if (!strcmp(sec->f[i].path, path))
			return &sec->f[i];
	return NULL;
}

/* ---- checking one output ---- */

typedef struct check {
	const section *sec;
	const char *command;
	int errors;
} check;

static void problem(check *c, const char *path, const char *what)
{
	print_error("docs/json.md section '%s' vs `sysvault --json %s`: %s: %s\n",
		    c->sec->name, c->command, path, what);
	c->errors++;
}

/* Whether v is one of the comma-separated words in list. */
static int in_list(const char *v, const char *list)
{
	size_t n = strlen(v);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncmp(p, v, n) && (p[n] == ',' || p[n] == '\0' || p[n] == ' '))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* Whether v has the type alt (one alternative of a Type cell). */
static int type_is(const json_t *v, const char *alt)
{
	if (!strcmp(alt, "any"))
		return 1;
	if (!strcmp(alt, "string"))
		return json_is_string(v);
	if (!strncmp(alt, "one of ", 7))
		return json_is_string(v) && in_list(json_string_value(v), alt + 7);
	if (!strcmp(alt, "integer"))
		return json_is_integer(v);
	if (!strcmp(alt, "number"))
		return json_is_number(v);
	if (!strcmp(alt, "boolean"))
		return json_is_boolean(v);
	if (!strcmp(alt, "null"))
		return json_is_null(v);
	if (!strcmp(alt, "object") || !strcmp(alt, "free object"))
		return json_is_object(v);
	if (!strcmp(alt, "array"))
		return json_is_array(v);
	fail_msg("docs/json.md: unknown type '%s'", alt);
	return 0;
}

/* The alternative of type that v matches, copied into out; 0 if none. */
static int match_type(const json_t *v, const char *type, char *out, size_t size)
{
	const char *p = type, *sep;

	for (;;) {
		sep = strstr(p, " or ");
		cell(out, size, p, sep ? sep : p + strlen(p));
		if (type_is(v, out))
			return 1;
		if (!sep)
			return 0;
		p = sep + 4;
	}
}

static void check_node(check *c, json_t *v, const char *path);

static void child_path(char *out, size_t size, const char *parent, const char *key)
{
	if (!strcmp(parent, "."))
		snprintf(out, size, "%s", key);
	else if (!strcmp(key, "[]"))
		snprintf(out, size, "%s[]", parent);
	else
		snprintf(out, size, "%s.%s", parent, key);
}

/* Every required field documented directly under path is in obj. */
static void check_required(check *c, const json_t *obj, const char *path)
{
	char want[160];
	size_t i;

	for (i = 0; i < c->sec->n; i++) {
		const char *p = c->sec->f[i].path, *key = strrchr(p, '.');

		key = key ? key + 1 : p;
		if (!c->sec->f[i].required || !strcmp(p, ".") || strstr(key, "[]"))
			continue;
		child_path(want, sizeof(want), path, key);
		if (!strcmp(want, p) && !json_object_get(obj, key))
			problem(c, p, "documented as required but missing");
	}
}

static void check_node(check *c, json_t *v, const char *path)
{
	const field *f = doc_field(c->sec, path);
	char alt[160], sub[160];
	const char *key;
	json_t *x;
	size_t i;

	if (!f) {
		problem(c, path, "printed but not documented");
		return;
	}
	if (!match_type(v, f->type, alt, sizeof(alt))) {
		char *dump = json_dumps(v, JSON_ENCODE_ANY);

		problem(c, path, "does not match its documented type");
		print_error("    type '%s', value %s\n", f->type, dump ? dump : "?");
		free(dump);
		return;
	}
	if (!strcmp(alt, "object")) {
		json_object_foreach(v, key, x) {
			child_path(sub, sizeof(sub), path, key);
			check_node(c, x, sub);
		}
		check_required(c, v, path);
	} else if (!strcmp(alt, "array")) {
		child_path(sub, sizeof(sub), path, "[]");
		json_array_foreach(v, i, x)
			check_node(c, x, sub);
	}
}

/* ---- running the commands ---- */

typedef struct env {
	char *dir, *vault, *restore;
	char *home_env, *wbadmin_env, *sim_env, *wbadmin;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	e->dir = sv_test_tmpdir("json");
	e->wbadmin = sv_test_bin("wbadmin");
	if (!e->dir || !e->wbadmin)
		return -1;
	e->vault = sv_path_join(e->dir, "vault");
	e->restore = sv_path_join(e->dir, "restored");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s%cstate", e->dir, SV_PATH_SEP);
	e->wbadmin_env = sv_aprintf("SYSVAULT_WBADMIN=%s", e->wbadmin);
	e->sim_env = sv_aprintf("WBADMIN_SIM_STATE=%s%csim", e->dir, SV_PATH_SEP);
	cli_env[0] = e->home_env;
	cli_env[1] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_env[2] = e->wbadmin_env;
	cli_env[3] = "WBADMIN_SIM_SIZE=4M";
	cli_env[4] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[5] = e->sim_env;
	cli_env[6] = "WBADMIN_SIM_LANG=";
	cli_env[7] = NULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	sv_fs_remove_tree(e->dir);
	free(e->dir);
	free(e->vault);
	free(e->restore);
	free(e->home_env);
	free(e->wbadmin_env);
	free(e->sim_env);
	free(e->wbadmin);
	free(e);
	return 0;
}

/* a with its placeholder replaced; caller frees. */
static char *expand(const env *e, const char *a)
{
	if (!strcmp(a, "@VAULT@"))
		return sv_strdup(e->vault);
	if (!strcmp(a, "@RESTORE@"))
		return sv_strdup(e->restore);
	if (!strncmp(a, "@FIXTURES@", 10))
		return sv_path_join(SV_TEST_FIXTURES, a + 10);
	if (!strncmp(a, "@DIR@", 5))
		return sv_path_join(e->dir, a + 5);
	return sv_strdup(a);
}

/* Runs one case; returns the problems found. */
static int run_case(const env *e, const struct json_case *jc)
{
	char *args[MAX_ARGS + 2] = { "--json" }, command[512] = "";
	const section *sec = jc->section ? doc_section(jc->section) : NULL;
	check c = { sec, command, 0 };
	json_t *out = NULL;
	cli_run r;
	size_t i, n = 0;

	for (i = 0; i < MAX_ARGS && jc->args[i]; i++) {
		args[i + 1] = expand(e, jc->args[i]);
		n += (size_t)snprintf(command + n, n < sizeof(command) ? sizeof(command) - n : 0,
				      "%s%s", i ? " " : "", args[i + 1]);
	}
	if (jc->section && !sec)
		fail_msg("docs/json.md has no table for '%s' (a '<!-- json: %s -->' line)",
			 jc->section, jc->section);
	cli_expect(&r, (const char *const *)args, jc->code, NULL);
	if (sec) {
		if (sv_json_parse(&out, r.out.ptr, r.out.len, "stdout") < 0)
			fail_msg("`sysvault --json %s` printed no JSON: %s", command, sv_error_msg());
		check_node(&c, out, ".");
	}
	json_decref(out);
	cli_done(&r);
	for (i = 1; args[i]; i++)
		free(args[i]);
	return c.errors;
}

static void test_json_cli__every_command_matches_docs(void **state)
{
	int errors = 0;
	size_t i;

	load_doc();
	for (i = 0; i < NCASES; i++)
		errors += run_case(*state, &cases[i]);
	assert_int_equal(errors, 0);
}

/* Each documented command is run here, so a section cannot go stale. */
static void test_json_cli__every_documented_command_is_run(void **state)
{
	size_t i, k;

	(void)state;
	load_doc();
	for (i = 0; i < g_ndoc; i++) {
		for (k = 0; k < NCASES; k++)
			if (cases[k].section && !strcmp(cases[k].section, g_doc[i].name))
				break;
		if (k == NCASES)
			fail_msg("docs/json.md documents '%s' but test_json_cli.c does not run it",
				 g_doc[i].name);
		if (!doc_field(&g_doc[i], "."))
			fail_msg("docs/json.md, section '%s': no row for the whole output ('.')",
				 g_doc[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_cli__every_command_matches_docs,
						setup, teardown),
		cmocka_unit_test(test_json_cli__every_documented_command_is_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
