/*
 * test_vault_hostile.c - recovery points whose names try to escape the
 * restore target are refused by `sysvault restore` before anything is
 * written. The hostile points are sealed with the vault's own key (as an
 * attacker holding the passphrase, or a bug, could), so only the path
 * checks stand between them and the file system.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "vault_int.h"

#define PASS "correct horse battery staple"

static int count_entries(void *ud, const sv_dirent *de)
{
	(void)de;
	(*(int *)ud)++;
	return 0;
}

static int entries(const char *dir)
{
	int n = 0;

	sv_assert_ok(sv_fs_list_dir(dir, count_entries, &n));
	return n;
}

/* Stores a point with one file at `path` (and a dir entry `dir` when not
 * NULL); returns its id. */
static void store_point(vault *v, const char *path, const char *dir,
			char id_out[65])
{
	json_t *p = json_pack("{s:i,s:s,s:s,s:s,s:[{s:s,s:i,s:s,s:[]}],s:[]}",
			      "version", 1, "machine", "EVIL", "fqdn", "evil",
			      "time", "2026-11-21T02:00:14Z", "files", "path", path,
			      "size", 0, "sha256",
			      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			      "lists", "dirs");
	uint8_t id[VAULT_ID_LEN];
	char *text;

	assert_non_null(p);
	if (dir)
		json_array_append_new(json_object_get(p, "dirs"), json_string(dir));
	text = sv_json_dump(p, 0);
	sv_assert_ok(vault__store_object(v, "points", VAULT_OBJ_POINT, text,
					 strlen(text), id));
	sv_hex_encode(id_out, id, VAULT_ID_LEN);
	free(text);
	json_decref(p);
}

static void test_vault_hostile__escaping_names_are_refused(void **s)
{
	static const char *bad[] = {
		"../escaped.txt", "a/../../escaped.txt", "/tmp/escaped.txt",
		"C:\\Windows\\escaped.txt", "C:escaped.txt", "ok.txt:stream",
		"a\\..\\..\\escaped.txt", "CON", "dir/NUL.txt", "trailing. ", NULL
	};
	char *dir = sv_test_tmpdir("hostile"), *vpath, *cache, *to, *home;
	vault *v = NULL;
	char id[65];
	int i, before;

	(void)s;
	vpath = sv_path_join(dir, "vault");
	cache = sv_path_join(dir, "cache");
	to = sv_path_join(dir, "out");
	home = sv_aprintf("SYSVAULT_HOME=%s", dir);
	cli_env_vault(home, "SYSVAULT_PASSPHRASE=" PASS);
	{
		vault_init_opts o = { 0 };

		o.scrypt_n = 1024;
		sv_assert_ok(vault_init(vpath, NULL, PASS, &o, NULL));
	}
	sv_assert_ok(vault_open(&v, vpath, NULL, PASS, cache));
	{
		/* The job store (jobs.db in the state directory) exists before
		 * the count: a refused restore is still a job. */
		const char *a[] = { "jobs", NULL };
		cli_run r;

		cli(&r, a);
		assert_int_equal(r.code, 0);
		cli_done(&r);
	}
	{
		/* So does the folder of the job logs (logs/job-<id>.log). */
		char *logs = sv_path_join(dir, "logs");

		sv_assert_ok(sv_fs_mkdir_p(logs, 1));
		free(logs);
	}
	for (i = 0; bad[i]; i++) {
		const char *a[] = { "restore", "--point", id, "--to", to,
				    "--vault", vpath, NULL };
		cli_run r;

		store_point(v, bad[i], NULL, id);
		before = entries(dir);
		cli(&r, a);
		if (r.code != 2 || !strstr(r.err.ptr, "refused"))
			fail_msg("path '%s': exit %d, stderr %s", bad[i], r.code, r.err.ptr);
		assert_int_equal(entries(dir), before);   /* nothing created */
		assert_int_equal(sv_fs_stat(to, NULL, NULL), SV_ENOTFOUND);
		cli_done(&r);
	}
	/* A hostile directory entry is refused as well. */
	{
		const char *a[] = { "restore", "--point", id, "--to", to,
				    "--vault", vpath, NULL };
		cli_run r;

		store_point(v, "fine.txt", "../../escaped-dir", id);
		cli(&r, a);
		assert_int_equal(r.code, 2);
		assert_non_null(strstr(r.err.ptr, "refused"));
		assert_int_equal(sv_fs_stat(to, NULL, NULL), SV_ENOTFOUND);
		cli_done(&r);
	}
	vault_close(v);
	sv_fs_remove_tree(dir);
	free(dir);
	free(vpath);
	free(cache);
	free(to);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vault_hostile__escaping_names_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
