/*
 * test_secrets_cli.c - no secret ever leaves the process in clear: the
 * binary runs at the most verbose level, with a log file, through failures
 * (wrong passphrases, injected network faults, a wrong account key, a SAS
 * token with a bad signature, S3 credentials in the environment), and
 * then every byte it produced is searched for every secret, raw, base64-
 * and percent-encoded: stdout and stderr of each run (--json included),
 * 'jobs --json', 'jobs show --json' of every job, and every file in the
 * state directory (the log, jobs.db and its WAL, the cache, config.json).
 *
 * The Azure runs need Azurite: tests/cloud runs this program again under
 * azurite-run.sh, which sets SYSVAULT_AZURE_ENDPOINT and _KEY.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "vault_int.h"
#include "http.h"

#define PASS "Pass-phrase-never-to-be-seen-4711"
#define WRONG_PASS "Wrong-guess-that-is-also-secret-0815"
/* A well-formed but wrong account key (base64). */
#define BAD_KEY "c3NzZWNyZXQta2V5LXRoYXQtaXMtd3JvbmctZm9yLWF6dXJpdGUtdGVzdC0wMTIzNDU2Nzg5YWL7//76+fj39vU="
/* A SAS token whose signature is wrong; the sig value is percent-encoded
 * as Azure's tools write it, and its decoded form is a secret too. */
#define BAD_SIG_ENC "c2lnbmF0dXJlLW5vdC12YWxpZC1mb3ItdGhpcy10b2tlbg%2B%2F%3D"
#define BAD_SIG_DEC "c2lnbmF0dXJlLW5vdC12YWxpZC1mb3ItdGhpcy10b2tlbg+/="
#define BAD_SAS "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac" \
		"&se=2099-01-01T00:00:00Z&st=2020-01-01T00:00:00Z&spr=https,http" \
		"&sig=" BAD_SIG_ENC
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYsysvaultTESTKEY"
#define FAULTS "SYSVAULT_FAULTS=seed=5,fail=0.3,stall=2ms,backoff=1ms"

typedef struct env {
	char *dir;
	char *state;
	char *home_env;
	char *log;
	char *vault;
	char *src;
	sv_buf seen;       /* everything the binary printed */
	const char *azure; /* SYSVAULT_AZURE_ENDPOINT, or NULL */
	char container[32];
} env;

static env *g_env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	uint8_t r[6];
	char hex[13];

	if (!e || !(e->dir = sv_test_tmpdir("secrets")))
		return -1;
	e->state = cli_path(e->dir, "state");
	e->home_env = sv_aprintf("SYSVAULT_HOME=%s", e->state);
	e->log = cli_path(e->state, "sysvault.log");
	e->vault = cli_path(e->dir, "vault");
	e->src = cli_path(e->dir, "src");
	e->azure = getenv("SYSVAULT_AZURE_ENDPOINT");
	if (sv_fs_mkdir_p(e->state, 0) < 0)
		return -1;
	sv_buf_init(&e->seen, (size_t)1 << 30);
	if (vault__random(r, sizeof(r)) < 0)
		return -1;
	sv_hex_encode(hex, r, sizeof(r));
	sv_snprintf(e->container, sizeof(e->container), "sec-%s", hex);
	cli_env[0] = e->home_env;
	cli_env[1] = "SYSVAULT_SCRYPT_N=1024";
	cli_env[2] = NULL;
	g_env = e;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	cli_env[0] = NULL;
	sv_fs_remove_tree(e->dir);
	sv_buf_release(&e->seen);
	free(e->dir);
	free(e->state);
	free(e->home_env);
	free(e->log);
	free(e->vault);
	free(e->src);
	free(e);
	return 0;
}

/* ---- running ---- */

/* Runs sysvault at debug level with the log file, with extra environment
 * entries (NULL-terminated), keeping all it printed. Returns the exit
 * code; *out (when not NULL) gets a copy of stdout. */
static int run(env *e, const char *const *extra, const char *const *args,
	       char **out)
{
	const char *argv[40] = { "-v", "-v", "--log-file", e->log };
	size_t n = 4, i, k = 2;
	cli_run r;

	for (i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	for (i = 0; extra && extra[i] && k < 15; i++)
		cli_env[k++] = extra[i];
	cli_env[k] = NULL;
	cli(&r, argv);
	cli_env[2] = NULL;
	sv_assert_ok(sv_buf_add(&e->seen, r.out.ptr, r.out.len));
	sv_assert_ok(sv_buf_add(&e->seen, r.err.ptr, r.err.len));
	if (out)
		*out = sv_strdup(r.out.ptr);
	print_message("  exit %d: %s", r.code, r.err.len ? r.err.ptr : "\n");
	i = (size_t)r.code;
	cli_done(&r);
	return (int)i;
}

/* A run that must end with code and say in_output (stdout or stderr). */
static void expect(env *e, const char *const *extra, const char *const *args,
		   int code, const char *in_output)
{
	size_t before = e->seen.len;
	int rc = run(e, extra, args, NULL);

	if (rc != code)
		fail_msg("%s %s: exit %d, expected %d", args[1], args[2], rc, code);
	if (in_output && !strstr((const char *)e->seen.ptr + before, in_output))
		fail_msg("%s %s: '%s' not in its output", args[1], args[2], in_output);
}

/* ---- collecting what the binary left behind ---- */

static int collect_file(void *ud, const sv_dirent *de);

static void collect_dir(char *dir)
{
	sv_assert_ok(sv_fs_list_dir(dir, collect_file, dir));
}

static int collect_file(void *ud, const sv_dirent *de)
{
	char *p = cli_path(ud, de->name), *data = NULL;
	size_t len = 0;

	if (de->is_dir) {
		collect_dir(p);
	} else {
		sv_assert_ok(sv_fs_read_all(&data, &len, p, (size_t)1 << 30));
		sv_assert_ok(sv_buf_add(&g_env->seen, data, len));
		free(data);
	}
	free(p);
	return 0;
}

/* 'jobs --json' and 'jobs show <id> --json' of every job. */
static void collect_jobs(env *e)
{
	const char *list[] = { "--json", "jobs", "--limit", "0", NULL };
	char *out = NULL, num[32];
	json_t *jobs = NULL, *job;
	size_t i;

	assert_int_equal(run(e, NULL, list, &out), 0);
	sv_assert_ok(sv_json_parse(&jobs, out, strlen(out), "jobs"));
	assert_true(json_array_size(jobs) >= 4);
	json_array_foreach(jobs, i, job) {
		const char *show[] = { "--json", "jobs", "show", num, NULL };

		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(json_object_get(job, "id")));
		assert_int_equal(run(e, NULL, show, NULL), 0);
	}
	json_decref(jobs);
	free(out);
}

/* ---- searching ---- */

static int contains(const sv_buf *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; n && i + n <= hay->len; i++)
		if (hay->ptr[i] == (uint8_t)needle[0] &&
		    !memcmp(hay->ptr + i, needle, n))
			return 1;
	return 0;
}

/* Fails when secret, its base64 or its percent-encoding was seen. */
static void never_seen(const env *e, const char *what, const char *secret)
{
	sv_buf b64, pct;

	sv_buf_init(&b64, SV_BUF_DEFAULT_MAX);
	sv_buf_init(&pct, SV_BUF_DEFAULT_MAX);
	sv_assert_ok(vault__b64_encode(&b64, secret, strlen(secret)));
	sv_assert_ok(vault__http_escape(&pct, secret, 0));
	if (contains(&e->seen, secret))
		fail_msg("%s appears in clear in the output or the state directory", what);
	if (contains(&e->seen, (const char *)b64.ptr))
		fail_msg("%s appears base64-encoded", what);
	if (contains(&e->seen, (const char *)pct.ptr))
		fail_msg("%s appears percent-encoded", what);
	sv_buf_release(&b64);
	sv_buf_release(&pct);
}

/* ---- the runs ---- */

static void local_runs(env *e)
{
	const char *good[] = { "SYSVAULT_PASSPHRASE=" PASS, NULL };
	const char *wrong[] = { "SYSVAULT_PASSPHRASE=" WRONG_PASS, NULL };
	const char *faulty[] = { "SYSVAULT_PASSPHRASE=" PASS, FAULTS, NULL };
	const char *init[] = { "--json", "vault", "init", "--vault", e->vault, NULL };
	const char *backup[] = { "--json", "backup", "--source-dir", e->src,
				 "--vault", e->vault, NULL };
	const char *points[] = { "--json", "points", "--vault", e->vault, NULL };
	char *out = cli_path(e->dir, "out");
	const char *restore[] = { "--json", "restore", "--point", "latest", "--to",
				  out, "--vault", e->vault, NULL };
	const char *check[] = { "--json", "vault", "check", "--read-data",
				"--vault", e->vault, NULL };
	uint8_t data[300000];
	char *f = cli_path(e->src, "file.bin");
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	sv_assert_ok(sv_fs_mkdir_p(e->src, 0));
	sv_assert_ok(sv_fs_write_atomic(f, data, sizeof(data), 0));
	free(f);
	expect(e, faulty, init, 0, NULL);
	expect(e, faulty, backup, 0, "retry");
	expect(e, faulty, check, 0, "\"retries\"");
	expect(e, wrong, points, 2, "wrong passphrase");
	expect(e, wrong, backup, 2, "wrong passphrase");
	expect(e, wrong, restore, 2, "wrong passphrase");
	expect(e, good, points, 0, NULL);
	free(out);
}

/* S3 credentials in the environment, for a vault that cannot be reached
 * (or, where the s3 backend is not built, is refused). */
static void s3_runs(env *e)
{
	const char *extra[] = { "SYSVAULT_PASSPHRASE=" PASS,
				"AWS_ACCESS_KEY_ID=AKIASYSVAULTTEST0001",
				"AWS_SECRET_ACCESS_KEY=" S3_SECRET,
				"SYSVAULT_S3_ENDPOINT=http://127.0.0.1:9",
				"SYSVAULT_S3_REGION=us-east-1", NULL };
	const char *points[] = { "--json", "points", "--vault",
				 "s3://sysvault-test/prefix", NULL };

	expect(e, extra, points, 2, NULL);
}

static void azure_runs(env *e)
{
	char *url = sv_aprintf("azure://devstoreaccount1/%s/v", e->container);
	const char *good[] = { "SYSVAULT_PASSPHRASE=" PASS, NULL };
	const char *faulty[] = { "SYSVAULT_PASSPHRASE=" PASS, FAULTS, NULL };
	const char *bad_key[] = { "SYSVAULT_PASSPHRASE=" PASS,
				  "SYSVAULT_AZURE_KEY=" BAD_KEY, NULL };
	const char *bad_sas[] = { "SYSVAULT_PASSPHRASE=" PASS, "SYSVAULT_AZURE_KEY=",
				  "SYSVAULT_AZURE_SAS=" BAD_SAS, NULL };
	const char *wrong[] = { "SYSVAULT_PASSPHRASE=" WRONG_PASS, FAULTS, NULL };
	const char *init[] = { "--json", "vault", "init", "--vault", url, NULL };
	const char *backup[] = { "--json", "backup", "--source-dir", e->src,
				 "--vault", url, NULL };
	const char *check[] = { "--json", "vault", "check", "--vault", url, NULL };

	expect(e, bad_key, init, 2, "403");
	expect(e, bad_sas, init, 2, "403");
	expect(e, good, init, 0, NULL);
	expect(e, faulty, backup, 0, "retries");
	expect(e, bad_key, backup, 2, "403");
	expect(e, bad_sas, check, 2, "403");
	expect(e, wrong, check, 2, "wrong passphrase");
	free(url);
}

static void test_secrets_cli__never_in_output_jobs_or_files(void **state)
{
	env *e = *state;
	const char *key = getenv("SYSVAULT_AZURE_KEY");

	local_runs(e);
	s3_runs(e);
	if (e->azure)
		azure_runs(e);
	else
		print_message("SYSVAULT_AZURE_ENDPOINT is not set: the Azure runs "
			      "are left to the cloud test\n");
	collect_jobs(e);
	collect_dir(e->state);
	/* The search works: what the runs printed is there. */
	assert_true(contains(&e->seen, "wrong passphrase"));
	assert_true(contains(&e->seen, "SYSVAULT_FAULTS is set"));
	assert_true(contains(&e->seen, "\"retries\""));
	never_seen(e, "the passphrase", PASS);
	never_seen(e, "a wrong passphrase", WRONG_PASS);
	never_seen(e, "a wrong account key", BAD_KEY);
	never_seen(e, "a SAS signature", BAD_SIG_ENC);
	never_seen(e, "a SAS signature (decoded)", BAD_SIG_DEC);
	never_seen(e, "the S3 secret key", S3_SECRET);
	if (e->azure && key)
		never_seen(e, "the account key", key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_secrets_cli__never_in_output_jobs_or_files,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
