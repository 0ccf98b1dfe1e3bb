/*
 * test_wbadmin_sim.c - the wbadmin simulator as sysvault meets it: run
 * through the process runner, with its state in a private directory and
 * 4 MiB images.
 */
#include "sv_test.h"
#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_thread.h"
#include "sv_time.h"

#define NOW "1784372486" /* 2026-07-18 11:01:26 UTC */
#define SECTOR 4096

typedef struct fixture {
	char *dir;    /* everything lives here */
	char *target; /* the backup target */
	char *state;  /* WBADMIN_SIM_STATE */
	char *transcript;
	const char *machine;
} fixture;

typedef struct run_out {
	sv_buf out; /* stdout lines, each followed by '\n' */
	sv_buf err;
	sv_proc_result res;
	int rc;
	uint32_t timeout_ms; /* 0: two minutes */
	int saw_shadow;	     /* hang test: the job reached its wait */
	sv_mutex *lock;
} run_out;

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->dir = sv_test_tmpdir("wbsim");
	assert_non_null(fx->dir);
	fx->target = sv_path_join(fx->dir, "staging");
	fx->state = sv_path_join(fx->dir, "state");
	fx->transcript = sv_path_join(fx->dir, "transcript.txt");
	sv_assert_ok(sv_fs_mkdir_p(fx->target, 0));
	fx->machine = "SRV01";
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fixture *fx = *state;

	sv_fs_remove_tree(fx->dir);
	free(fx->dir);
	free(fx->target);
	free(fx->state);
	free(fx->transcript);
	free(fx);
	return 0;
}

static int on_line(void *ud, int stream, const char *line, size_t len)
{
	run_out *r = ud;
	sv_buf *b = stream == SV_PROC_STDOUT ? &r->out : &r->err;

	if (r->lock)
		sv_mutex_lock(r->lock);
	sv_buf_add(b, line, len);
	sv_buf_addc(b, '\n');
	if (strstr(b->ptr, "Creating a shadow copy"))
		r->saw_shadow = 1;
	if (r->lock)
		sv_mutex_unlock(r->lock);
	return 0;
}

/* Runs wbadmin with args (NULL-terminated) and extra "NAME=value" env
 * entries (NULL-terminated, may be NULL), which override the defaults. */
static void sim_run(run_out *r, const fixture *fx, const char *const *env,
		    const char *const *args)
{
	const char *argv[24], *envp[32];
	char *bin = sv_test_bin("wbadmin"), *e_machine, *e_state, *e_tr;
	sv_proc_opts o;
	int i, n = 0;

	e_machine = sv_aprintf("WBADMIN_SIM_MACHINE=%s", fx->machine);
	e_state = sv_aprintf("WBADMIN_SIM_STATE=%s", fx->state);
	e_tr = sv_aprintf("WBADMIN_SIM_TRANSCRIPT=%s", fx->transcript);
	envp[n++] = e_machine;
	envp[n++] = e_state;
	envp[n++] = e_tr;
	envp[n++] = "WBADMIN_SIM_SIZE=4M";
	envp[n++] = "WBADMIN_SIM_NOW=" NOW;
	envp[n++] = "WBADMIN_SIM_FAIL=";
	envp[n++] = "WBADMIN_SIM_LANG=";
	envp[n++] = "WBADMIN_SIM_DC=";
	for (i = 0; env && env[i]; i++)
		envp[n++] = env[i];
	envp[n] = NULL;
	argv[0] = bin;
	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	sv_buf_init(&r->out, (size_t)4 << 20);
	sv_buf_init(&r->err, (size_t)1 << 20);
	sv_buf_adds(&r->out, "");
	sv_buf_adds(&r->err, "");
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.env_set = envp;
	o.timeout_ms = r->timeout_ms ? r->timeout_ms : 120000;
	o.on_line = on_line;
	o.ud = r;
	r->rc = sv_proc_run(&r->res, &o);
	free(bin);
	free(e_machine);
	free(e_state);
	free(e_tr);
}

static void run_release(run_out *r)
{
	sv_buf_release(&r->out);
	sv_buf_release(&r->err);
}

static int exit_code(const run_out *r)
{
	assert_int_equal(r->rc, 0);
	assert_true(r->res.exited);
	return r->res.exit_code;
}

#define assert_contains(buf, s)                                                \
	do {                                                                   \
		if (!strstr((buf).ptr, (s)))                                   \
			print_error("missing \"%s\" in:\n%s\n", (s),           \
				    (buf).ptr);                                \
		assert_non_null(strstr((buf).ptr, (s)));                       \
	} while (0)

static char *opt(const char *name, const char *value)
{
	return sv_aprintf("-%s:%s", name, value);
}

/* Backs up to fx->target with -quiet; returns the exit code. */
static int backup(const fixture *fx, const char *const *env, run_out *keep)
{
	char *t = opt("backupTarget", fx->target);
	const char *args[] = {"start", "systemstatebackup", t, "-quiet", NULL};
	run_out r;
	int code;

	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, env, args);
	code = exit_code(&r);
	if (keep)
		*keep = r;
	else
		run_release(&r);
	free(t);
	return code;
}

/* The version identifiers `get versions` lists. */
static int versions(const fixture *fx, char ids[][17], int max)
{
	char *t = opt("backupTarget", fx->target);
	const char *args[] = {"get", "versions", t, NULL};
	const char *p;
	run_out r;
	int n = 0;

	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, args);
	assert_int_equal(exit_code(&r), 0);
	for (p = r.out.ptr; (p = strstr(p, "Version identifier: ")) != NULL;
	     p += 20) {
		assert_true(n < max);
		memcpy(ids[n], p + 20, 16);
		ids[n++][16] = '\0';
	}
	run_release(&r);
	free(t);
	return n;
}

static char *machine_dir(const fixture *fx)
{
	char *wib = sv_path_join(fx->target, "WindowsImageBackup");
	char *m = sv_path_join(wib, fx->machine);

	free(wib);
	return m;
}

/* The names in dir that start with prefix; returns how many, the last one
 * (sorted) in *last when not NULL. */
typedef struct match {
	const char *prefix;
	int n;
	char last[512];
} match;

static int on_entry(void *ud, const sv_dirent *e)
{
	match *m = ud;

	if (!sv_str_startswith(e->name, m->prefix))
		return 0;
	m->n++;
	if (strcmp(e->name, m->last) > 0)
		sv_strlcpy(m->last, e->name, sizeof(m->last));
	return 0;
}

static int count_prefix(const char *dir, const char *prefix, char *last,
			size_t size)
{
	match m;

	memset(&m, 0, sizeof(m));
	m.prefix = prefix;
	if (sv_fs_list_dir(dir, on_entry, &m) < 0)
		return -1;
	if (last)
		sv_strlcpy(last, m.last, size);
	return m.n;
}

typedef struct find_ext {
	const char *ext;
	char name[256];
} find_ext;

static int on_ext(void *ud, const sv_dirent *e)
{
	find_ext *f = ud;

	if (sv_str_endswith(e->name, f->ext))
		sv_strlcpy(f->name, e->name, sizeof(f->name));
	return 0;
}

/* Path of the image in the newest Backup folder; caller frees. */
static char *image_path(const fixture *fx)
{
	char *mdir = machine_dir(fx), *folder, *img;
	char last[512];
	find_ext f = {".vhdx", ""};

	assert_int_equal(count_prefix(mdir, "Backup ", last, sizeof(last)), 1);
	folder = sv_path_join(mdir, last);
	sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
	assert_true(f.name[0] != '\0');
	img = sv_path_join(folder, f.name);
	free(folder);
	free(mdir);
	return img;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Hashes of every 4 KiB block of a file; caller frees. */
static uint64_t *block_hashes(const char *path, size_t *n)
{
	char *data = NULL;
	size_t len, i;
	uint64_t *h;

	sv_assert_ok(sv_fs_read_all(&data, &len, path, (size_t)64 << 20));
	*n = len / SECTOR;
	h = calloc(*n + 1, sizeof(*h));
	assert_non_null(h);
	for (i = 0; i < *n; i++)
		h[i] = fnv((const uint8_t *)data + i * SECTOR, SECTOR);
	free(data);
	return h;
}

static int recover(const fixture *fx, const char *id, run_out *keep,
		   const char *extra)
{
	char *v = opt("version", id), *t = opt("backupTarget", fx->target);
	char *m = opt("machine", fx->machine);
	const char *args[] = {
		"start", "systemstaterecovery", v, t, m, "-quiet", extra, NULL};
	run_out r;
	int code;

	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, args);
	code = exit_code(&r);
	if (keep)
		*keep = r;
	else
		run_release(&r);
	free(v);
	free(t);
	free(m);
	return code;
}

/* ---- tests ---- */

static void test_wbadmin_sim__backup_writes_tree_and_prints_success(void **s)
{
	static const char *const top[] = {"Catalog/BackupGlobalCatalog",
					  "Catalog/GlobalCatalog", "MediaId"};
	fixture *fx = *s;
	char *mdir = machine_dir(fx), *p, *folder, last[512];
	uint64_t size = 0;
	run_out r;
	size_t i;

	assert_int_equal(backup(fx, NULL, &r), 0);
	assert_true(sv_str_startswith(r.out.ptr,
				      "wbadmin 1.0 - Backup command-line tool\n"
				      "(C) Copyright 2013 Microsoft "
				      "Corporation. All rights reserved.\n"
				      "\n"));
	assert_contains(r.out, "Starting to back up the system state [");
	assert_contains(r.out, "Creating a shadow copy of the volumes "
			       "specified for backup...");
	assert_contains(r.out, "Overall progress: 100% (");
	assert_contains(r.out, "\nThe backup operation successfully "
			       "completed.\n");
	assert_contains(r.out, "C:\\Windows\\Logs\\WindowsServerBackup\\"
			       "Backup-18-07-2026_");
	run_release(&r);

	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		p = sv_path_join(mdir, top[i]);
		sv_path_to_native(p);
		sv_assert_ok(sv_fs_stat(p, NULL, &size));
		free(p);
	}
	p = sv_path_join(mdir, "MediaId");
	sv_assert_ok(sv_fs_stat(p, NULL, &size));
	assert_int_equal(size, 16);
	free(p);
	p = sv_path_join(mdir, "SPPMetadataCache");
	assert_int_equal(count_prefix(p, "{", NULL, 0), 1);
	free(p);

	assert_int_equal(count_prefix(mdir, "Backup ", last, sizeof(last)), 1);
	assert_string_equal(last, "Backup 2026-07-18 110126");
	folder = sv_path_join(mdir, last);
	assert_int_equal(count_prefix(folder, "", NULL, 0), 10);
	assert_int_equal(count_prefix(folder, "BackupSpecs.xml", NULL, 0), 1);
	p = image_path(fx);
	sv_assert_ok(sv_fs_stat(p, NULL, &size));
	assert_int_equal(size, 4 << 20);
	free(p);
	{
		find_ext f = {"_Writere8132975-6f93-4464-a53e-1050253ae220.xml",
			      ""};

		sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
		assert_true(f.name[0] != '\0');
		f.ext = "_AdditionalFilesc3b9f3c7-5e52-4d5e-8b20-"
			"19adc95a34c7.xml";
		f.name[0] = '\0';
		sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
		assert_true(f.name[0] != '\0');
		f.ext = "_Writerb2014c9e-8711-4c5c-a5a9-3cf384484757.xml";
		f.name[0] = '\0';
		sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
		assert_true(f.name[0] == '\0'); /* no NTDS: not a DC */
	}
	free(folder);
	free(mdir);
}

static void test_wbadmin_sim__dc_backup_has_ntds_writer(void **s)
{
	const char *env[] = {"WBADMIN_SIM_DC=1", NULL};
	fixture *fx = *s;
	char *mdir = machine_dir(fx), *folder, last[512];
	find_ext f = {"_Writerb2014c9e-8711-4c5c-a5a9-3cf384484757.xml", ""};

	assert_int_equal(backup(fx, env, NULL), 0);
	assert_int_equal(count_prefix(mdir, "Backup ", last, sizeof(last)), 1);
	folder = sv_path_join(mdir, last);
	sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
	assert_true(f.name[0] != '\0');
	free(folder);
	free(mdir);
	{
		char *t = opt("backupTarget", fx->target);
		const char *args[] = {"get", "items",
				      "-version:07/18/2026-11:01", t, NULL};
		run_out r;

		memset(&r, 0, sizeof(r));
		sim_run(&r, fx, NULL, args);
		assert_int_equal(exit_code(&r), 0);
		assert_contains(r.out, "b2014c9e-8711-4c5c-a5a9-3cf384484757");
		run_release(&r);
		free(t);
	}
}

static void
test_wbadmin_sim__second_backup_keeps_one_folder_two_versions(void **s)
{
	fixture *fx = *s;
	char ids[4][17], *mdir = machine_dir(fx), *img1, *img2;
	uint64_t *h1, *h2;
	size_t n1, n2, i, same = 0;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	img1 = image_path(fx);
	h1 = block_hashes(img1, &n1);
	assert_int_equal(backup(fx, NULL, NULL), 0); /* same clock */
	assert_int_equal(versions(fx, ids, 4), 2);
	assert_string_equal(ids[0], "07/18/2026-11:01");
	assert_string_equal(ids[1], "07/18/2026-11:02");
	assert_int_equal(count_prefix(mdir, "Backup ", NULL, 0), 1);
	img2 = image_path(fx);
	assert_string_not_equal(img1, img2);
	h2 = block_hashes(img2, &n2);
	assert_true(n2 >= n1);
	for (i = 0; i < n1; i++)
		same += h1[i] == h2[i];
	print_message("blocks shared by versions 1 and 2: %lu of %lu\n",
		      (unsigned long)same, (unsigned long)n1);
	assert_true(same * 100 >= n1 * 90);
	assert_true(same < n1 || n2 > n1);
	free(h1);
	free(h2);
	free(img1);
	free(img2);
	free(mdir);
}

static void test_wbadmin_sim__recovery_checks_bytes(void **s)
{
	fixture *fx = *s;
	char ids[4][17], *img;
	sv_file *f = NULL;
	uint8_t b;
	run_out r;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 4), 2);
	assert_int_equal(recover(fx, ids[1], &r, NULL), 0);
	assert_contains(r.out, "The system state recovery operation "
			       "successfully completed [");
	run_release(&r);
	/* the older version's files are gone from the target */
	assert_int_equal(recover(fx, ids[0], &r, NULL), 5);
	assert_contains(r.out, "Backup 2026-07-18 110226");
	run_release(&r);
	/* one flipped byte */
	img = image_path(fx);
	sv_assert_ok(sv_file_open(&f, img, SV_O_READ | SV_O_WRITE));
	sv_assert_ok(sv_file_pread(f, &b, 1, 1234567));
	b ^= 0x20;
	sv_assert_ok(sv_file_pwrite(f, &b, 1, 1234567));
	assert_int_equal(recover(fx, ids[1], &r, NULL), 5);
	assert_contains(r.out, sv_path_basename(img));
	assert_contains(r.out, "offset 1234567");
	run_release(&r);
	b ^= 0x20;
	sv_assert_ok(sv_file_pwrite(f, &b, 1, 1234567));
	/* a truncated image */
	sv_assert_ok(sv_file_truncate(f, 4 << 20));
	assert_int_equal(recover(fx, ids[1], &r, NULL), 5);
	assert_contains(r.out, "offset 4194304");
	run_release(&r);
	sv_file_close(f);
	free(img);
}

static void test_wbadmin_sim__recovery_refuses_extra_and_missing(void **s)
{
	fixture *fx = *s;
	char ids[2][17], *mdir = machine_dir(fx), *p;
	run_out r;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 2), 1);
	p = sv_path_join(mdir, "stray.txt");
	sv_assert_ok(sv_fs_write_atomic(p, "x", 1, 0));
	assert_int_equal(recover(fx, ids[0], &r, NULL), 5);
	assert_contains(r.out, "'stray.txt'");
	run_release(&r);
	sv_assert_ok(sv_fs_remove(p));
	free(p);
	p = sv_path_join(mdir, "MediaId");
	sv_assert_ok(sv_fs_remove(p));
	assert_int_equal(recover(fx, ids[0], &r, NULL), 5);
	assert_contains(r.out, "'MediaId'");
	run_release(&r);
	free(p);
	/* the catalogue has a checksum */
	p = sv_path_join(mdir, "Catalog");
	free(mdir);
	mdir = sv_path_join(p, "GlobalCatalog");
	{
		char *text = NULL, *v;
		size_t len;

		sv_assert_ok(sv_fs_read_all(&text, &len, mdir, 1 << 20));
		v = strstr(text, "version=1,");
		assert_non_null(v);
		v[8] = '2';
		sv_assert_ok(sv_fs_write_atomic(mdir, text, len, 0));
		free(text);
	}
	assert_int_equal(recover(fx, ids[0], &r, NULL), 5);
	assert_contains(r.out, "corrupted");
	run_release(&r);
	free(p);
	free(mdir);
}

static void test_wbadmin_sim__recovery_options_and_summary(void **s)
{
	fixture *fx = *s;
	char ids[2][17], *alt = sv_path_join(fx->dir, "alt"), *rt;
	const char *sum[] = {"start", "systemstaterecovery", "-showsummary",
			     NULL};
	run_out r;

	rt = opt("recoveryTarget", alt);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, sum);
	assert_int_equal(exit_code(&r), 6);
	run_release(&r);
	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 2), 1);
	assert_int_equal(recover(fx, ids[0], &r, "-authsysvol"), 0);
	assert_contains(r.out, "authoritative");
	run_release(&r);
	assert_int_equal(recover(fx, ids[0], &r, "-autoReboot"), 0);
	run_release(&r);
	{
		char *v = opt("version", ids[0]);
		const char *args[] = {"start", "systemstaterecovery", v,
				      rt,      "-autoReboot",	      "-quiet",
				      NULL};

		memset(&r, 0, sizeof(r));
		sim_run(&r, fx, NULL, args);
		assert_int_equal(exit_code(&r), 1);
		assert_contains(r.out, "-autoReboot");
		run_release(&r);
		free(v);
	}
	assert_int_equal(recover(fx, ids[0], &r, rt), 0);
	run_release(&r);
	assert_int_equal(recover(fx, "01/01/2020-00:00", &r, NULL), 6);
	run_release(&r);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, sum);
	assert_int_equal(exit_code(&r), 0);
	assert_contains(r.out, ids[0]);
	assert_contains(r.out, "successfully completed");
	run_release(&r);
	free(rt);
	free(alt);
}

typedef struct fail_case {
	const char *mode;
	int code;
	const char *text[3];
} fail_case;

static void test_wbadmin_sim__failures_leave_no_version(void **s)
{
	static const fail_case cases[] = {
		{"vss_timeout",
		 2,
		 {"0x800423F2",
		  "the writer's time-out "
		  "expired between the Freeze and Thaw events",
		  "Backup of system state failed ["}},
		{"shadow_storage",
		 2,
		 {"0x8004231F",
		  "insufficient disk "
		  "space on volumes containing system files",
		  "Log of files for which backup failed"}},
		{"efi_locked",
		 2,
		 {"0x8078011E",
		  "failed to get an exclusive "
		  "lock on the EFI system partition",
		  "0x80070005"}},
		{"critical_volume",
		 3,
		 {"ERROR - The location for backup is a critical volume.", NULL,
		  NULL}},
		{"invalid_path",
		 2,
		 {"HResult: 80780049 DetailedHResult: "
		  "8007007B",
		  "system writer reported an invalid path "
		  "(0x18770)",
		  "SystemStateBackup_Error "}},
		{"access_denied", 4, {"0x80070005", "elevated", NULL}},
	};
	fixture *fx = *s;
	char ids[4][17], env0[64];
	const char *env[] = {env0, NULL};
	size_t i, j;
	run_out r;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sv_snprintf(env0, sizeof(env0), "WBADMIN_SIM_FAIL=%s",
			    cases[i].mode);
		assert_int_equal(backup(fx, env, &r), cases[i].code);
		for (j = 0; j < 3 && cases[i].text[j]; j++)
			assert_contains(r.out, cases[i].text[j]);
		assert_null(strstr(r.out.ptr, "successfully completed"));
		run_release(&r);
		assert_int_equal(versions(fx, ids, 4), 1);
	}
	/* not installed: cmd.exe's message on stderr, no banner */
	sv_snprintf(env0, sizeof(env0), "WBADMIN_SIM_FAIL=not_installed");
	assert_int_not_equal(backup(fx, env, &r), 0);
#ifdef _WIN32
	assert_int_equal(r.res.exit_code, 9009);
#else
	assert_int_equal(r.res.exit_code, 127);
#endif
	assert_contains(r.err, "'wbadmin' is not recognized as an internal "
			       "or external command,");
	assert_string_equal(r.out.ptr, "");
	run_release(&r);
	assert_int_equal(versions(fx, ids, 4), 1);
	/* an unknown mode is refused */
	sv_snprintf(env0, sizeof(env0), "WBADMIN_SIM_FAIL=bogus");
	assert_int_equal(backup(fx, env, NULL), 1);
	assert_int_equal(versions(fx, ids, 4), 1);
}

static void test_wbadmin_sim__crash_midway_then_backup_succeeds(void **s)
{
	const char *env[] = {"WBADMIN_SIM_FAIL=crash_midway", NULL};
	fixture *fx = *s;
	char *t = opt("backupTarget", fx->target), ids[4][17];
	char *mdir = machine_dir(fx), *img;
	const char *args[] = {"start", "systemstatebackup", t, "-quiet", NULL};
	uint64_t size = 0;
	run_out r;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, env, args);
	assert_int_equal(r.rc, 0);
#ifdef _WIN32
	assert_true(r.res.exited);
	assert_int_equal((unsigned)r.res.exit_code, 0xC0000005u);
#else
	assert_false(r.res.exited);
	assert_int_not_equal(r.res.term_signal, 0);
#endif
	assert_null(strstr(r.out.ptr, "successfully completed"));
	run_release(&r);
	assert_int_equal(versions(fx, ids, 4), 1);
	assert_int_equal(count_prefix(mdir, "Backup ", NULL, 0), 2);
	{
		char last[512], *folder;
		find_ext f = {".vhdx", ""};

		count_prefix(mdir, "Backup ", last, sizeof(last));
		folder = sv_path_join(mdir, last);
		sv_assert_ok(sv_fs_list_dir(folder, on_ext, &f));
		img = sv_path_join(folder, f.name);
		sv_assert_ok(sv_fs_stat(img, NULL, &size));
		assert_true(size > 0 && size < (4 << 20));
		assert_int_equal(count_prefix(folder, "", NULL, 0), 1);
		free(img);
		free(folder);
	}
	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 4), 2);
	assert_int_equal(count_prefix(mdir, "Backup ", NULL, 0), 1);
	assert_int_equal(recover(fx, ids[1], NULL, NULL), 0);
	free(mdir);
	free(t);
}

typedef struct hang_job {
	const fixture *fx;
	run_out r;
} hang_job;

static void hang_thread(void *arg)
{
	hang_job *h = arg;
	const char *env[] = {"WBADMIN_SIM_FAIL=hang", NULL};
	char *t = opt("backupTarget", h->fx->target);
	const char *args[] = {"start", "systemstatebackup", t, "-quiet", NULL};

	sim_run(&h->r, h->fx, env, args);
	free(t);
}

static int hang_waiting(hang_job *h)
{
	int seen;

	sv_mutex_lock(h->r.lock);
	seen = h->r.saw_shadow;
	sv_mutex_unlock(h->r.lock);
	return seen;
}

static void test_wbadmin_sim__hang_ends_on_stop_job(void **s)
{
	fixture *fx = *s;
	const char *stop[] = {"stop", "job", "-quiet", NULL};
	const char *status[] = {"get", "status", NULL};
	hang_job h;
	sv_thread *th = NULL;
	uint64_t t0, stopped_at;
	char ids[4][17];
	run_out r;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	memset(&h, 0, sizeof(h));
	h.fx = fx;
	sv_assert_ok(sv_mutex_new(&h.r.lock));
	sv_assert_ok(sv_thread_start(&th, hang_thread, &h));
	t0 = sv_time_mono_ms();
	while (!hang_waiting(&h) && sv_time_mono_ms() - t0 < 30000)
		sv_time_sleep_ms(50);
	assert_true(hang_waiting(&h));
	sv_time_sleep_ms(500); /* it waits, it does not finish */
	/* get status waits for the job */
	memset(&r, 0, sizeof(r));
	r.timeout_ms = 1500;
	sim_run(&r, fx, NULL, status);
	assert_true(r.res.timed_out);
	assert_contains(r.out, "in progress");
	run_release(&r);
	stopped_at = sv_time_mono_ms();
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, stop);
	assert_int_equal(exit_code(&r), 0);
	assert_contains(r.out, "stopped");
	run_release(&r);
	sv_thread_join(th);
	print_message("the hung job ended %llu ms after stop job started\n",
		      (unsigned long long)(sv_time_mono_ms() - stopped_at));
	assert_true(sv_time_mono_ms() - stopped_at < 10000);
	assert_int_equal(exit_code(&h.r), 7);
	assert_contains(h.r.out, "0x800704C7");
	assert_contains(h.r.out, "Backup of system state failed [");
	sv_mutex_free(h.r.lock);
	run_release(&h.r);
	assert_int_equal(versions(fx, ids, 4), 1);
	/* nothing runs any more */
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, status);
	assert_int_equal(exit_code(&r), 0);
	assert_contains(r.out, "no backup or recovery operation");
	run_release(&r);
}

static void test_wbadmin_sim__lines_end_in_crlf(void **s)
{
	fixture *fx = *s;
	char *text = NULL, ids[2][17];
	size_t len, i, lines = 0;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 2), 1);
	sv_assert_ok(sv_fs_read_all(&text, &len, fx->transcript, 1 << 20));
	assert_true(len > 0);
	for (i = 0; i < len; i++) {
		if (text[i] == '\n') {
			assert_true(i > 0 && text[i - 1] == '\r');
			lines++;
		}
		if (text[i] == '\r')
			assert_true(i + 1 < len && text[i + 1] == '\n');
	}
	assert_true(lines > 20);
	assert_true(text[len - 1] == '\n');
	free(text);
}

static void test_wbadmin_sim__machine_name_with_space_and_accent(void **s)
{
	fixture *fx = *s;
	char ids[2][17], *mdir, last[512];

	fx->machine = "Srv Caf\xc3\xa9 01";
	assert_int_equal(backup(fx, NULL, NULL), 0);
	mdir = machine_dir(fx);
	assert_int_equal(count_prefix(mdir, "Backup ", last, sizeof(last)), 1);
	assert_int_equal(versions(fx, ids, 2), 1);
	assert_int_equal(recover(fx, ids[0], NULL, NULL), 0);
	free(mdir);
}

static void test_wbadmin_sim__same_machine_and_version_same_bytes(void **s)
{
	fixture *fx = *s, other = *fx;
	char *a, *b, *da = NULL, *db = NULL;
	size_t la, lb;

	assert_int_equal(backup(fx, NULL, NULL), 0);
	other.target = sv_path_join(fx->dir, "staging2");
	sv_assert_ok(sv_fs_mkdir_p(other.target, 0));
	assert_int_equal(backup(&other, NULL, NULL), 0);
	a = image_path(fx);
	b = image_path(&other);
	assert_string_equal(sv_path_basename(a), sv_path_basename(b));
	sv_assert_ok(sv_fs_read_all(&da, &la, a, 8 << 20));
	sv_assert_ok(sv_fs_read_all(&db, &lb, b, 8 << 20));
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(da);
	free(db);
	free(b);
	free(other.target);
	/* another machine: another image */
	other.target = sv_path_join(fx->dir, "staging3");
	other.machine = "SRV02";
	sv_assert_ok(sv_fs_mkdir_p(other.target, 0));
	assert_int_equal(backup(&other, NULL, NULL), 0);
	b = image_path(&other);
	sv_assert_ok(sv_fs_read_all(&da, &la, a, 8 << 20));
	sv_assert_ok(sv_fs_read_all(&db, &lb, b, 8 << 20));
	assert_true(la != lb || memcmp(da, db, la) != 0);
	free(da);
	free(db);
	free(a);
	free(b);
	free(other.target);
}

static void test_wbadmin_sim__german_output_keeps_identifiers(void **s)
{
	const char *env[] = {"WBADMIN_SIM_LANG=de", NULL};
	fixture *fx = *s;
	char *t = opt("backupTarget", fx->target);
	const char *args[] = {"get", "versions", t, NULL};
	run_out r;

	assert_int_equal(backup(fx, env, &r), 0);
	assert_contains(r.out, "wbadmin 1.0 - Befehlszeilenprogramm");
	assert_null(strstr(r.out.ptr, "successfully completed"));
	run_release(&r);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, env, args);
	assert_int_equal(exit_code(&r), 0);
	assert_contains(r.out, "07/18/2026-11:01");
	assert_null(strstr(r.out.ptr, "Version identifier"));
	run_release(&r);
	free(t);
}

static void test_wbadmin_sim__syntax_errors(void **s)
{
	fixture *fx = *s;
	const char *bad_verb[] = {"frobnicate", "now", NULL};
	const char *bad_opt[] = {"get", "versions", "-bogus:1", NULL};
	const char *no_target[] = {"start", "systemstatebackup", "-quiet",
				   NULL};
	const char *mixed_case[] = {"GET", "Versions", NULL};
	run_out r;

	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, bad_verb);
	assert_int_equal(exit_code(&r), 1);
	assert_contains(r.out,
			"ERROR - Command syntax incorrect. Error: frobnicate.");
	run_release(&r);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, bad_opt);
	assert_int_equal(exit_code(&r), 1);
	assert_contains(r.out, "Error: -bogus:1.");
	run_release(&r);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, no_target);
	assert_int_equal(exit_code(&r), 1);
	run_release(&r);
	/* no backup yet, no remembered target */
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, mixed_case);
	assert_int_equal(exit_code(&r), 6);
	run_release(&r);
	assert_int_equal(backup(fx, NULL, NULL), 0);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, mixed_case); /* the last target */
	assert_int_equal(exit_code(&r), 0);
	assert_contains(r.out, "Version identifier: 07/18/2026-11:01");
	run_release(&r);
}

static void test_wbadmin_sim__prompt_without_quiet_cancels(void **s)
{
	fixture *fx = *s;
	char *t = opt("backupTarget", fx->target), ids[2][17];
	const char *args[] = {"start", "systemstatebackup", t, NULL};
	run_out r;

	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, args); /* stdin is empty */
	assert_int_equal(exit_code(&r), 8);
	assert_contains(r.out, "Do you want to start the backup operation?");
	run_release(&r);
	assert_int_equal(versions(fx, ids, 2), 0);
	free(t);
}

static void test_wbadmin_sim__delete_forgets_versions(void **s)
{
	fixture *fx = *s;
	char *t = opt("backupTarget", fx->target), ids[8][17], *v;
	const char *keep[] = {"delete",		 "systemstatebackup",
			      "-keepVersions:2", t,
			      "-quiet",		 NULL};
	const char *oldest[] = {"delete",	 "systemstatebackup",
				"-deleteOldest", t,
				"-quiet",	 NULL};
	const char *both[] = {"delete",
			      "systemstatebackup",
			      "-deleteOldest",
			      "-keepVersions:1",
			      t,
			      "-quiet",
			      NULL};
	const char *zero[] = {"delete",		 "systemstatebackup",
			      "-keepVersions:0", t,
			      "-quiet",		 NULL};
	run_out r;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 8), 4);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, keep);
	assert_int_equal(exit_code(&r), 0);
	run_release(&r);
	assert_int_equal(versions(fx, ids, 8), 2);
	assert_string_equal(ids[0], "07/18/2026-11:03");
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, oldest);
	assert_int_equal(exit_code(&r), 0);
	run_release(&r);
	assert_int_equal(versions(fx, ids, 8), 1);
	/* the current version still recovers */
	assert_int_equal(recover(fx, ids[0], NULL, NULL), 0);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, both);
	assert_int_equal(exit_code(&r), 1);
	run_release(&r);
	memset(&r, 0, sizeof(r));
	sim_run(&r, fx, NULL, zero);
	assert_int_equal(exit_code(&r), 1);
	run_release(&r);
	/* versions go on from the last number after a delete */
	v = opt("version", ids[0]);
	{
		const char *one[] = {
			"delete", "systemstatebackup", v, t, "-quiet", NULL};

		memset(&r, 0, sizeof(r));
		sim_run(&r, fx, NULL, one);
		assert_int_equal(exit_code(&r), 0);
		run_release(&r);
	}
	assert_int_equal(versions(fx, ids, 8), 0);
	assert_int_equal(backup(fx, NULL, NULL), 0);
	assert_int_equal(versions(fx, ids, 8), 1);
	assert_string_equal(ids[0], "07/18/2026-11:05");
	assert_int_equal(recover(fx, ids[0], NULL, NULL), 0);
	free(v);
	free(t);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_wbadmin_sim__backup_writes_tree_and_prints_success),
		T(test_wbadmin_sim__dc_backup_has_ntds_writer),
		T(test_wbadmin_sim__second_backup_keeps_one_folder_two_versions),
		T(test_wbadmin_sim__recovery_checks_bytes),
		T(test_wbadmin_sim__recovery_refuses_extra_and_missing),
		T(test_wbadmin_sim__recovery_options_and_summary),
		T(test_wbadmin_sim__failures_leave_no_version),
		T(test_wbadmin_sim__crash_midway_then_backup_succeeds),
		T(test_wbadmin_sim__hang_ends_on_stop_job),
		T(test_wbadmin_sim__lines_end_in_crlf),
		T(test_wbadmin_sim__machine_name_with_space_and_accent),
		T(test_wbadmin_sim__same_machine_and_version_same_bytes),
		T(test_wbadmin_sim__german_output_keeps_identifiers),
		T(test_wbadmin_sim__syntax_errors),
		T(test_wbadmin_sim__prompt_without_quiet_cancels),
		T(test_wbadmin_sim__delete_forgets_versions),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
