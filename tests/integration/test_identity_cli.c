/*
 * test_identity_cli.c - credentials files, registration, renamed machines,
 * passphrase reset and the recovery-shell restore, through the binary.
 * The machine's names, its SMBIOS identity and its system root come from
 * the test hooks SYSVAULT_FAKE_MACHINE/_FQDN, SYSVAULT_FAKE_SMBIOS and
 * SYSVAULT_FAKE_SYSTEM_ROOT.
 */
#include "sv_test.h"
#include "sv_cli.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_path.h"
#include "sv_time.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

#define PASS "correct horse battery staple"
#define NEW_PASS "a brand new passphrase for the vault"

enum {
	ENV_HOME,
	ENV_SCRYPT,
	ENV_NAME,
	ENV_FQDN,
	ENV_SMBIOS,
	ENV_ROOT,
	ENV_NOW,
	ENV_END
};

typedef struct env {
	char *dir, *vault, *home, *creds, *pass, *new_pass, *src;
	char *vars[ENV_END];
} env;

static void set_var(env *e, int slot, const char *name, const char *value)
{
	free(e->vars[slot]);
	e->vars[slot] = sv_aprintf("%s=%s", name, value ? value : "");
	cli_env[slot] = e->vars[slot];
}

static char *in_dir(env *e, const char *leaf)
{
	return sv_path_join(e->dir, leaf);
}

static void write_file(const char *path, const char *text)
{
	sv_assert_ok(sv_fs_write_atomic(path, text, strlen(text), 1));
}

/* A system root on another volume than the test's directory, so that
 * restores into it are allowed. */
static const char *other_volume(const env *e)
{
#ifdef _WIN32
	return (e->dir[0] == 'C' || e->dir[0] == 'c') ? "Z:\\" : "C:\\windows";
#else
	(void)e;
	return "/proc";
#endif
}

static void set_home(env *e, const char *home)
{
	set_var(e, ENV_HOME, "SYSVAULT_HOME", home);
}

static void set_machine(env *e, const char *name, const char *fqdn)
{
	set_var(e, ENV_NAME, "SYSVAULT_FAKE_MACHINE", name);
	set_var(e, ENV_FQDN, "SYSVAULT_FAKE_FQDN", fqdn);
}

static void set_smbios(env *e, const char *fixture)
{
	char *p = sv_aprintf("%s%csmbios%c%s", SV_TEST_FIXTURES, SV_PATH_SEP,
			     SV_PATH_SEP, fixture);

	set_var(e, ENV_SMBIOS, "SYSVAULT_FAKE_SMBIOS", p);
	free(p);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));

	if (!e || !(e->dir = sv_test_tmpdir("ident")))
		return -1;
	e->vault = in_dir(e, "vault");
	e->home = in_dir(e, "home");
	e->creds = in_dir(e, "creds.json");
	e->pass = in_dir(e, "pass");
	e->new_pass = in_dir(e, "new-pass");
	e->src = in_dir(e, "src");
	write_file(e->pass, PASS "\n");
	write_file(e->new_pass, NEW_PASS "\n");
	sv_assert_ok(sv_fs_mkdir_p(e->src, 0));
	{
		char *f = sv_path_join(e->src, "system.dat");

		write_file(f, "the system state of SRV01, as a file\n");
		free(f);
	}
	set_home(e, e->home);
	set_var(e, ENV_SCRYPT, "SYSVAULT_SCRYPT_N", "1024");
	set_machine(e, "SRV01", "srv01.corp.example");
	set_smbios(e, "hyperv.bin");
	set_var(e, ENV_ROOT, "SYSVAULT_FAKE_SYSTEM_ROOT", other_volume(e));
	set_var(e, ENV_NOW, "SYSVAULT_FAKE_NOW", NULL);
	cli_env[ENV_END] = NULL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	int i;

	sv_fs_remove_tree(e->dir);
	for (i = 0; i < ENV_END; i++)
		free(e->vars[i]);
	memset(cli_env, 0, sizeof(cli_env));
	free(e->dir);
	free(e->vault);
	free(e->home);
	free(e->creds);
	free(e->pass);
	free(e->new_pass);
	free(e->src);
	free(e);
	return 0;
}

static void init_vault(env *e)
{
	const char *a[] = {
		"vault", "init", "--vault", e->vault, "--passphrase-file",
		e->pass, NULL};

	cli_check(a, 0, NULL);
}

static void issue(env *e, const char *out, const char *days, int secondary)
{
	const char *a[] = {"vault",
			   "credentials",
			   "--vault",
			   e->vault,
			   "--passphrase-file",
			   e->pass,
			   "-o",
			   out,
			   "--days",
			   days,
			   "--name",
			   "fleet",
			   secondary ? "--secondary" : NULL,
			   NULL};

	cli_check(a, 0, NULL);
}

static void do_register(env *e, int code, const char *in_stderr)
{
	const char *a[] = {"register",		"--credentials", e->creds,
			   "--passphrase-file", e->pass,	 NULL};

	cli_check(a, code, in_stderr);
}

/* A backup with neither --vault nor a passphrase: the registration's. */
static json_t *backup_registered(env *e)
{
	const char *a[] = {"--json", "backup", "--source-dir", e->src, NULL};

	return cli_json(a, 0);
}

static int registered(env *e)
{
	char *p = sv_aprintf("%s%cregistration%cregistration.json", e->home,
			     SV_PATH_SEP, SV_PATH_SEP);
	int rc = sv_fs_stat(p, NULL, NULL);

	free(p);
	return rc == 0;
}

/* Edits one field of a credentials file, keeping everything else. */
static void edit_field(const char *from, const char *to, const char *key,
		       const char *value)
{
	json_t *j = NULL;
	char *text;

	sv_assert_ok(sv_json_load_file(&j, from, 1 << 16));
	json_object_set_new(j, key, json_string(value));
	text = sv_json_dump(j, 1);
	write_file(to, text);
	free(text);
	json_decref(j);
}

static void test_identity_cli__credentials_refused(void **state)
{
	env *e = *state;
	char *tampered = in_dir(e, "tampered.json"),
	     *bad = in_dir(e, "bad.json");
	char *secondary = in_dir(e, "secondary.json"), *now = NULL;
	const char *reg_tampered[] = {"register", "--credentials",
				      tampered,	  "--passphrase-file",
				      e->pass,	  NULL};
	const char *reg_bad[] = {"register", "--credentials", bad, NULL};
	const char *reg_secondary[] = {"register", "--credentials",
				       secondary,  "--passphrase-file",
				       e->pass,	   NULL};

	init_vault(e);
	issue(e, e->creds, "1", 0);
	issue(e, secondary, "10", 1);
#ifndef _WIN32
	{
		struct stat st;

		assert_int_equal(stat(e->creds, &st), 0);
		assert_int_equal(st.st_mode & 077, 0);
	}
#endif
	/* Pushing the expiry out breaks the tag. */
	edit_field(e->creds, tampered, "expires", "2099-01-01T00:00:00Z");
	cli_check(reg_tampered, 2, "was altered after it was issued");
	write_file(bad,
		   "{\"format\": \"sysvault-credentials\", \"version\": 1}");
	cli_check(reg_bad, 2, "malformed (field 'vault_id' is not 64 hex digits)");
	cli_check(reg_secondary, 2, "can restore but never register");
	/* Two days on, the one-day file has expired. */
	now = sv_aprintf("%lld", (long long)(sv_time_now() + 2 * 86400));
	set_var(e, ENV_NOW, "SYSVAULT_FAKE_NOW", now);
	do_register(e, 2, "expired on");
	set_var(e, ENV_NOW, "SYSVAULT_FAKE_NOW", NULL);
	assert_false(registered(e));
	do_register(e, 0, NULL);
	assert_true(registered(e));
	free(now);
	free(tampered);
	free(bad);
	free(secondary);
}

static int64_t count_points(const char *machine)
{
	const char *a[] = {"--json", "points", "--machine", machine, NULL};
	json_t *p = cli_json(a, 0);
	int64_t n = (int64_t)json_array_size(p);

	json_decref(p);
	return n;
}

#ifndef _WIN32
/* Changes the first digit of the master key kept in the (0600, plain on
 * POSIX) secrets file. */
static void flip_key(const char *secrets)
{
	json_t *j = NULL;
	char *key, *text;

	sv_assert_ok(sv_json_load_file(&j, secrets, 1 << 16));
	key = strdup(json_string_value(json_object_get(j, "master_key")));
	key[0] = key[0] == '0' ? '1' : '0';
	json_object_set_new(j, "master_key", json_string(key));
	text = sv_json_dump(j, 0);
	write_file(secrets, text);
	free(text);
	free(key);
	json_decref(j);
}
#endif

static void
test_identity_cli__register_once_then_no_vault_no_passphrase(void **state)
{
	env *e = *state;
	const char *force[] = {
		"register", "--credentials", e->creds, "--passphrase-file",
		e->pass,    "--force",	     NULL};
	const char *points[] = {"--json", "points", NULL};
	const char *check[] = {"vault", "check", NULL};
	json_t *b, *p;

	init_vault(e);
	issue(e, e->creds, "10", 0);
	do_register(e, 0, NULL);
	do_register(e, 2, "already registered as 'SRV01'");
	cli_check(force, 0, NULL);
	b = backup_registered(e);
	assert_int_equal(json_integer_value(json_object_get(b, "files")), 1);
	p = cli_json(points, 0);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(p, 0), "machine")),
			    "SRV01");
	cli_check(check, 0, NULL);
#ifndef _WIN32
	{
		/* A key file others can read is refused, not used. */
		char *secrets = sv_aprintf("%s/registration/secrets", e->home);
		const char *a[] = {"backup", "--source-dir", e->src, NULL};
		const char *with_pass[] = {"--json",
					   "points",
					   "--vault",
					   e->vault,
					   "--passphrase-file",
					   e->pass,
					   NULL};

		assert_int_equal(chmod(secrets, 0644), 0);
		cli_check(a, 2, "is open to other users");
		assert_int_equal(chmod(secrets, 0600), 0);
		/* A kept key that changed is refused before anything is
		 * written. */
		flip_key(secrets);
		cli_check(a, 2, "is not the key registered");
		json_decref(p);
		p = cli_json(with_pass, 0);
		assert_int_equal(json_array_size(p), 1);
		free(secrets);
	}
#endif
	json_decref(b);
	json_decref(p);
}

static void
test_identity_cli__renamed_machine_stops_then_new_chain(void **state)
{
	env *e = *state;
	const char *backup[] = {"backup", "--source-dir", e->src, NULL};
	const char *jobs[] = {"--json", "jobs", "--limit", "1", NULL};
	char *alt = in_dir(e, "alt");
	const char *restore_old[] = {"restore", "--machine", "SRV01", "--point",
				     "latest",	"--to",	     alt,     NULL};
	json_t *b, *j;

	init_vault(e);
	issue(e, e->creds, "10", 0);
	do_register(e, 0, NULL);
	json_decref(backup_registered(e));
	set_machine(e, "SRV02", "srv02.corp.example");
	cli_check(backup, 2,
	    "MACHINE_RENAMED: this machine was registered as 'SRV01' "
	    "(srv01.corp.example) and is now 'SRV02' (srv02.corp.example)");
	j = cli_json(jobs, 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(j, 0), "error_code")),
			    "MACHINE_RENAMED");
	json_decref(j);
	/* A changed FQDN alone counts too. */
	set_machine(e, "SRV01", "srv01.other.example");
	cli_check(backup, 2, "MACHINE_RENAMED");
	set_machine(e, "SRV02", "srv02.corp.example");
	do_register(e, 0, NULL);
	b = backup_registered(e);
	/* The new name's first point: a new chain, but no new data. */
	assert_int_equal(json_integer_value(json_object_get(b, "bytes_new")),
			 0);
	assert_int_equal(count_points("SRV01"), 1);
	assert_int_equal(count_points("SRV02"), 1);
	cli_check(restore_old, 0, NULL);
	{
		char *f = sv_path_join(alt, "system.dat"), *text = NULL;
		size_t len = 0;

		sv_assert_ok(sv_fs_read_all(&text, &len, f, 1024));
		assert_string_equal(text,
				    "the system state of SRV01, as a file\n");
		free(text);
		free(f);
	}
	json_decref(b);
	free(alt);
}

static int count_files(void *ud, const sv_dirent *d)
{
	if (!d->is_dir)
		++*(int *)ud;
	return 0;
}

static void
test_identity_cli__passphrase_reset_on_registered_machine_only(void **state)
{
	env *e = *state;
	char *other = in_dir(e, "other-home");
	const char *reset[] = {"passphrase", "reset", "--passphrase-file",
			       e->new_pass, NULL};
	const char *old_pass[] = {"points", "--vault",
				  e->vault, "--passphrase-file",
				  e->pass,  NULL};
	const char *new_pass[] = {"points",    "--vault",
				  e->vault,    "--passphrase-file",
				  e->new_pass, NULL};

	init_vault(e);
	issue(e, e->creds, "10", 0);
	set_home(e, other);
	cli_check(reset, 2,
	    "only the machine registered with the vault can reset its "
	    "passphrase");
	set_home(e, e->home);
	do_register(e, 0, NULL);
	json_decref(backup_registered(e));
	cli_check(reset, 0, NULL);
	/* The new key file replaced the old one. */
	{
		char *keys = sv_path_join(e->vault, "keys");
		int files = 0;

		sv_assert_ok(sv_fs_list_dir(keys, count_files, &files));
		assert_int_equal(files, 1);
		free(keys);
	}
	set_home(e, other);
	cli_check(old_pass, 2, "wrong passphrase");
	cli_check(new_pass, 0, NULL);
	/* The registered machine still needs no passphrase at all. */
	set_home(e, e->home);
	json_decref(backup_registered(e));
	free(other);
}

static void restore_args(const char **a, env *e, const char *to,
			 const char *pass, const char *extra)
{
	const char *args[] = {
		"restore", "--credentials", e->creds, "--passphrase-file",
		pass,	   "--point",	    "latest", "--to",
		to,	   extra,	    NULL};

	memcpy(a, args, sizeof(args));
}

/* Directories other than the job logs (logs/job-<id>.log stay with the
 * job store: they are the record of what ran). */
static int count_dirs(void *ud, const sv_dirent *d)
{
	if (d->is_dir && strcmp(d->name, "logs") != 0)
		++*(int *)ud;
	return 0;
}

static void test_identity_cli__bare_machine_restore(void **state)
{
	env *e = *state;
	char *bare = in_dir(e, "bare-home"), *to = in_dir(e, "restored");
	char *to2 = in_dir(e, "restored2"), *to3 = in_dir(e, "restored3");
	const char *a[11];
	int entries = 0;

	init_vault(e);
	issue(e, e->creds, "10", 0);
	do_register(e, 0, NULL);
	json_decref(backup_registered(e));
	/* A recovery shell: no registration, no state, another name. */
	set_home(e, bare);
	set_machine(e, "MINWINPC", "minwinpc");
	restore_args(a, e, to, e->new_pass, NULL);
	cli_check(a, 2,
	    "nothing can be restored without the vault's current passphrase");
	set_smbios(e, "poweredge.bin");
	restore_args(a, e, to, e->pass, NULL);
	cli_check(a, 2,
	    "Microsoft does not recommend restoring system state to other "
	    "hardware");
	restore_args(a, e, to2, e->pass, "--allow-other-hardware");
	cli_check(a, 0, NULL);
	set_smbios(e, "hyperv.bin");
	restore_args(a, e, to, e->pass, NULL);
	cli_check(a, 0, NULL);
	{
		char *f = sv_path_join(to, "system.dat"), *text = NULL;
		size_t len = 0;

		sv_assert_ok(sv_fs_read_all(&text, &len, f, 1024));
		assert_string_equal(text,
				    "the system state of SRV01, as a file\n");
		free(text);
		free(f);
	}
	/* The system volume is refused, for a plain restore and for --apply. */
	set_var(e, ENV_ROOT, "SYSVAULT_FAKE_SYSTEM_ROOT", e->dir);
	restore_args(a, e, to3, e->pass, NULL);
	cli_check(a, 2, "is on the system volume");
	restore_args(a, e, to3, e->pass, "--apply");
	cli_check(a, 2, "is on the system volume");
	assert_int_equal(sv_fs_stat(to3, NULL, NULL), SV_ENOTFOUND);
	/* The temporary caches are gone: only the job store and its logs
	 * are left. */
	sv_assert_ok(sv_fs_list_dir(bare, count_dirs, &entries));
	assert_int_equal(entries, 0);
	free(bare);
	free(to);
	free(to2);
	free(to3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_identity_cli__credentials_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_identity_cli__register_once_then_no_vault_no_passphrase,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_identity_cli__renamed_machine_stops_then_new_chain,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_identity_cli__passphrase_reset_on_registered_machine_only,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_identity_cli__bare_machine_restore, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
