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
#include <time.h>

#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

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

/* A case's flags: FIXED_CLOCK runs it with sysvault's clock stopped at
 * the test's start (SYSVAULT_FAKE_NOW), so that two scheduled backups
 * fall in the same day whatever the time. BESIDE_BACKUP runs it while a
 * backup hangs in wbadmin (started before, waited for after: it must
 * end cancelled). */
#define FIXED_CLOCK 1
#define BESIDE_BACKUP 2

#define SCHEDULED "backup", "--scheduled", "--source-dir", "@RESTORE@", "--vault", "@VAULT@"
#define CREDS "--credentials", "@DIR@creds.json"

/*
 * The commands, run in this order with --json. section names the table
 * in docs/json.md (NULL: a step that only prepares state, e.g. a failed
 * job). Arguments starting with @VAULT@, @RESTORE@, @FIXTURES@ or @DIR@
 * are replaced by the test's vault, an empty restore target, the fixture
 * folder and a path in the test's directory; @JOB:<kind>@ by the id of
 * the newest job of that kind.
 */
static const struct json_case {
	const char *section;
	int code;
	int flags;
	const char *args[MAX_ARGS];
} cases[] = {
	{ "version", 0, 0, { "version" } },
	{ "vault init", 0, 0, { "vault", "init", "--vault", "@VAULT@" } },
	{ "backup", 0, 0, { "backup", SKIPS "--vault", "@VAULT@" } },
	{ NULL, 2, 0, { "backup", SKIPS "--vault", "@DIR@no-such-vault" } },
	{ "points", 0, 0, { "points", "--vault", "@VAULT@" } },
	{ "restore", 0, 0, { "restore", "--point", "latest", "--to", "@RESTORE@", "--vault", "@VAULT@" } },
	{ "vault check", 0, 0, { "vault", "check", "--vault", "@VAULT@" } },
	{ "vault sync", 0, 0, { "vault", "sync", "--vault", "@VAULT@" } },
	{ "vault copy", 0, 0, { "vault", "copy", "--to", "@DIR@copy", "--vault", "@VAULT@" } },
	{ "preflight", 0, 0, { "preflight", "--from", "@FIXTURES@preflight/healthy.json" } },
	{ "preflight", 2, 0, { "preflight", "--from", "@FIXTURES@preflight/esp-locked.json" } },
	{ "wsb versions", 0, 0, { "wsb", "versions" } },
	{ "jobs", 0, 0, { "jobs" } },
	{ "jobs show", 0, 0, { "jobs", "show", "1" } },
	{ "jobs show", 0, 0, { "jobs", "show", "2" } },
	{ "throttle show", 0, 0, { "throttle", "show" } },
	{ "throttle show", 0, 0, { "throttle", "set", "--work-hours", "08:00-18:00",
		  "--work-rate", "4Mbps", "--work-days", "Sat,Sun" } },
	{ "throttle show", 0, 0, { "throttle", "show" } },
	{ "throttle off", 0, 0, { "throttle", "off" } },
	{ "vault prune", 0, 0, { "vault", "prune", "--retain-daily", "7", "--retain-weekly", "4",
		  "--dry-run", "--vault", "@VAULT@" } },
	{ "vault prune", 0, 0, { "vault", "prune", "--retain-daily", "7", "--retain-monthly", "3",
		  "--monthly-on", "last", "--save", "--vault", "@VAULT@" } },
	{ "backup", 0, FIXED_CLOCK, { SCHEDULED } },
	{ "backup skipped", 0, FIXED_CLOCK, { SCHEDULED } },
	{ "jobs cancel", 0, BESIDE_BACKUP, { "jobs", "cancel", "@JOB:backup@" } },
	{ "cache move", 0, 0, { "cache", "move", "@DIR@scratch2", "--skip-check", "PF005" } },
	{ "vault credentials", 0, 0, { "vault", "credentials", "--vault", "@VAULT@", "-o",
		  "@DIR@creds.json", "--name", "fleet" } },
	{ "vault credentials", 0, 0, { "vault", "credentials", "--vault", "@VAULT@", "-o",
		  "@DIR@creds2.json", "--secondary", "--days", "1" } },
	{ "points", 0, 0, { "points", CREDS } },
	{ "restore", 0, 0, { "restore", CREDS, "--point", "latest", "--to", "@DIR@restored2" } },
	{ "register", 0, 0, { "register", CREDS } },
	{ "passphrase reset", 0, 0, { "passphrase", "reset", "--passphrase-file", "@DIR@new-pass" } },
	{ "schedule show", 0, 0, { "schedule", "show" } },
#ifndef _WIN32
	/* Wine's schtasks keeps tasks in the prefix every test shares, and
	 * what it does with /Create varies (test_schedule_cli.c): the task
	 * scheduler's side is tested there, not here. */
	{ "schedule set", 0, 0, { "schedule", "set", "--daily", "21:00", "--days", "Wed,Mon",
		  "--retain-daily", "14", "--retain-weekly", "5",
		  "--retain-yearly", "2" } },
	{ "schedule show", 0, 0, { "schedule", "show" } },
	{ "schedule remove", 0, 0, { "schedule", "remove" } },
#endif
	{ "jobs", 0, 0, { "jobs" } },
	{ "jobs show", 0, 0, { "jobs", "show", "@JOB:prune@" } },
	{ "jobs show", 0, 0, { "jobs", "show", "@JOB:cache@" } },
	{ "jobs show", 0, 0, { "jobs", "show", "@JOB:copy@" } },
	{ "jobs show", 0, 0, { "jobs", "show", "@JOB:backup@" } },
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

/* cli_env's slots. */
enum {
	ENV_HOME, ENV_PASS, ENV_WBADMIN, ENV_SIM_SIZE, ENV_SCRYPT, ENV_SIM_STATE,
	ENV_SIM_LANG, ENV_SMBIOS, ENV_ROOT, ENV_UNITS, ENV_CTL, ENV_NOW, ENV_FAIL,
	ENV_END
};

typedef struct env {
	char *dir, *vault, *restore;
	char *home_env, *wbadmin_env, *sim_env, *wbadmin;
	char *smbios_env, *root_env, *units_env, *ctl_env, *now_env;
} env;

static void write_file(const char *dir, const char *leaf, const char *text, int private)
{
	char *path = sv_path_join(dir, leaf);

	sv_assert_ok(sv_fs_write_atomic(path, text, strlen(text), private));
	free(path);
}

#ifndef _WIN32
#include <sys/stat.h>

/* A systemctl that answers is-active with "active" and does nothing else. */
static void fake_systemctl(const char *dir)
{
	char *path = sv_path_join(dir, "systemctl");

	write_file(dir, "systemctl",
		   "#!/bin/sh\ncase \"$1\" in is-active) echo active ;; esac\nexit 0\n", 0);
	assert_int_equal(chmod(path, 0755), 0);
	free(path);
}
#endif

/* The system root restores --credentials must stay out of: another
 * volume than the test's directory. */
static const char *other_volume(const char *dir)
{
#ifdef _WIN32
	return (dir[0] == 'C' || dir[0] == 'c') ? "Z:\\" : "C:\\windows";
#else
	(void)dir;
	return "/proc";
#endif
}

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
	/* A known hardware identity, which restore --credentials compares
	 * with the point's. */
	e->smbios_env = sv_aprintf("SYSVAULT_FAKE_SMBIOS=%s%csmbios%chyperv.bin",
				   SV_TEST_FIXTURES, SV_PATH_SEP, SV_PATH_SEP);
	e->root_env = sv_aprintf("SYSVAULT_FAKE_SYSTEM_ROOT=%s", other_volume(e->dir));
	e->units_env = sv_aprintf("SYSVAULT_SYSTEMD_DIR=%s%cunits", e->dir, SV_PATH_SEP);
	e->ctl_env = sv_aprintf("SYSVAULT_SYSTEMCTL=%s%csystemctl", e->dir, SV_PATH_SEP);
	e->now_env = sv_aprintf("SYSVAULT_FAKE_NOW=%lld", (long long)time(NULL));
	write_file(e->dir, "new-pass", "a new passphrase for the vault\n", 1);
#ifndef _WIN32
	fake_systemctl(e->dir);
#endif
	cli_env[ENV_HOME] = e->home_env;
	cli_env[ENV_PASS] = "SYSVAULT_PASSPHRASE=" PASS;
	cli_env[ENV_WBADMIN] = e->wbadmin_env;
	cli_env[ENV_SIM_SIZE] = "WBADMIN_SIM_SIZE=4M";
	cli_env[ENV_SCRYPT] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[ENV_SIM_STATE] = e->sim_env;
	cli_env[ENV_SIM_LANG] = "WBADMIN_SIM_LANG=";
	cli_env[ENV_SMBIOS] = e->smbios_env;
	cli_env[ENV_ROOT] = e->root_env;
	cli_env[ENV_UNITS] = e->units_env;
	cli_env[ENV_CTL] = e->ctl_env;
	cli_env[ENV_NOW] = "SYSVAULT_FAKE_NOW=";
	cli_env[ENV_FAIL] = "WBADMIN_SIM_FAIL=";
	cli_env[ENV_END] = NULL;
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
	free(e->smbios_env);
	free(e->root_env);
	free(e->units_env);
	free(e->ctl_env);
	free(e->now_env);
	memset(cli_env, 0, sizeof(cli_env));
	free(e);
	return 0;
}

/* Whether obj's key is the string value. */
static int is(const json_t *obj, const char *key, const char *value)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v && !strcmp(v, value);
}

/* The id of the newest job of kind, from `sysvault --json jobs`. */
static char *newest_job(const char *kind)
{
	const char *args[] = { "--json", "jobs", NULL };
	json_t *list = NULL, *j;
	char *id = NULL;
	cli_run r;
	size_t i;

	cli_expect(&r, args, 0, NULL);
	sv_assert_ok(sv_json_parse(&list, r.out.ptr, r.out.len, "jobs"));
	json_array_foreach(list, i, j) {
		if (is(j, "kind", kind)) {
			id = sv_aprintf("%lld", (long long)json_integer_value(
							json_object_get(j, "id")));
			break;
		}
	}
	if (!id)
		fail_msg("no %s job in `sysvault jobs`", kind);
	json_decref(list);
	cli_done(&r);
	return id;
}

/* Starts a backup that hangs in wbadmin and waits until its job runs. */
static cli_bg *start_hanging_backup(const env *e)
{
	static const char *args[] = { "backup", SKIPS "--vault", NULL, NULL };
	uint64_t until = sv_time_mono_ms() + 60000;
	const char *running[] = { "--json", "jobs", "--limit", "1", NULL };
	int up = 0;
	cli_bg *bg;
	cli_run r;

	args[sizeof(args) / sizeof(args[0]) - 2] = e->vault;
	cli_env[ENV_FAIL] = "WBADMIN_SIM_FAIL=hang";
	bg = cli_start(args);
	while (!up && sv_time_mono_ms() < until) {
		json_t *jobs = NULL, *newest;

		cli_expect(&r, running, 0, NULL);
		sv_assert_ok(sv_json_parse(&jobs, r.out.ptr, r.out.len, "jobs"));
		newest = json_array_get(jobs, 0);
		up = is(newest, "kind", "backup") && is(newest, "state", "running");
		json_decref(jobs);
		cli_done(&r);
		if (!up)
			sv_time_sleep_ms(200);
	}
	cli_env[ENV_FAIL] = "WBADMIN_SIM_FAIL=";
	if (!up)
		fail_msg("the hanging backup did not start within 60 s");
	return bg;
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
	if (!strncmp(a, "@JOB:", 5)) {
		char kind[32];

		cell(kind, sizeof(kind), a + 5, a + strlen(a) - 1);
		return newest_job(kind);
	}
	return sv_strdup(a);
}

/* Runs one case; returns the problems found. */
static int run_case(const env *e, const struct json_case *jc)
{
	char *args[MAX_ARGS + 2] = { "--json" }, command[512] = "";
	const section *sec = jc->section ? doc_section(jc->section) : NULL;
	cli_bg *bg = jc->flags & BESIDE_BACKUP ? start_hanging_backup(e) : NULL;
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
	if (jc->flags & FIXED_CLOCK)
		cli_env[ENV_NOW] = e->now_env;
	cli_expect(&r, (const char *const *)args, jc->code, NULL);
	cli_env[ENV_NOW] = "SYSVAULT_FAKE_NOW=";
	if (bg) {
		cli_run b;

		cli_wait(bg, &b);
		if (b.code != 4)
			fail_msg("the backup beside `%s` exited %d, not 4 (cancelled): %s",
				 command, b.code, b.err.ptr);
		cli_done(&b);
	}
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

/* Each documented command is run here, so a section cannot go stale;
 * those run on POSIX only are checked there. */
static void test_json_cli__every_documented_command_is_run(void **state)
{
#ifdef _WIN32
	static const char *const posix_only = "schedule set, schedule remove";
#else
	static const char *const posix_only = "";
#endif
	size_t i, k;

	(void)state;
	load_doc();
	for (i = 0; i < g_ndoc; i++) {
		for (k = 0; k < NCASES; k++)
			if (cases[k].section && !strcmp(cases[k].section, g_doc[i].name))
				break;
		if (k == NCASES && !in_list(g_doc[i].name, posix_only))
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
