/*
 * sim_cmd_backup.c - wbadmin start systemstatebackup -backupTarget:<dir>
 * [-quiet]: writes the next version's tree, records it in the catalogue,
 * removes the previous "Backup ..." folder (older versions survive only in
 * the catalogue, as shadow copies do on a real target), and prints the
 * output of WBADMIN.md. WBADMIN_SIM_FAIL makes it fail as the real tool
 * does instead.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_time.h"

typedef enum fail_mode {
	F_NONE,
	F_VSS_TIMEOUT,
	F_SHADOW_STORAGE,
	F_EFI_LOCKED,
	F_CRITICAL,
	F_INVALID_PATH,
	F_ACCESS_DENIED,
	F_HANG,
	F_CRASH,
	F_UNKNOWN
} fail_mode;

static const char *const fail_names[] = {"",
					 "vss_timeout",
					 "shadow_storage",
					 "efi_locked",
					 "critical_volume",
					 "invalid_path",
					 "access_denied",
					 "hang",
					 "crash_midway"};

#define LOGDIR "C:\\Windows\\Logs\\WindowsServerBackup\\"

static fail_mode fail_from_env(void)
{
	char *s = sv_env_get("WBADMIN_SIM_FAIL");
	fail_mode m = F_UNKNOWN;
	size_t i;

	if (!s || !*s)
		m = F_NONE;
	for (i = 1; s && m == F_UNKNOWN && i < F_UNKNOWN; i++)
		if (!strcmp(s, fail_names[i]))
			m = (fail_mode)i;
	free(s);
	return m;
}

typedef struct backup_run {
	sim_ctx *c;
	int64_t t; /* start of the backup */
	uint64_t started_ms;
	uint64_t beat_ms;
	int next_pct; /* the next progress step to print */
	int writers;  /* writers in this version */
	int stopped;
} backup_run;

static void beat(backup_run *r)
{
	uint64_t now = sv_time_mono_ms();

	if (now - r->beat_ms >= 1000) {
		sim_job_beat(r->c);
		r->beat_ms = now;
	}
}

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
	backup_run *r = ud;
	int pct = total ? (int)(done * 100 / total) : 100;
	char num[8];

	beat(r);
	if (!sim_job_alive(r->c)) {
		r->stopped = 1;
		return 1;
	}
	if (pct < r->next_pct)
		return 0;
	pct -= pct % 10;
	sv_snprintf(num, sizeof(num), "%d", pct);
	sim_say(r->c, M_PROGRESS, num, sim_writers[pct * r->writers / 101].name,
		NULL);
	r->next_pct = pct + 10;
	return 0;
}

static void failed(const sim_ctx *c, int64_t t, sim_msg m1, sim_msg m2)
{
	sim_failure_summary(c, t, NULL, 0);
	sim_say(c, m1, NULL);
	if (m2 != M_COUNT)
		sim_say(c, m2, NULL);
}

/* Waits until "stop job" removes the marker; a kill ends it too. */
static int hang(backup_run *r)
{
	while (sim_job_alive(r->c)) {
		beat(r);
		sv_time_sleep_ms(100);
	}
	failed(r->c, r->t, M_STOPPED, M_COUNT);
	return SIM_EXIT_STOPPED;
}

static int base_size_from_env(const sim_ctx *c, uint64_t *out)
{
	char *s = sv_env_get("WBADMIN_SIM_SIZE");
	int rc = 0;

	*out = SIM_DEFAULT_SIZE;
	if (s && *s && sv_parse_size(out, s) < 0) {
		sim_say(c, M_BAD_VALUE, s, "WBADMIN_SIM_SIZE", NULL);
		rc = SIM_EXIT_USAGE;
	}
	if (*out < SIM_MIN_SIZE)
		*out = SIM_MIN_SIZE;
	if (*out > SIM_MAX_SIZE)
		*out = SIM_MAX_SIZE;
	free(s);
	return rc;
}

/* The next version: its number, and a time whose minute no remembered
 * version has (two backups in one minute still get distinct ids). */
static void next_version(sim_version *v, const sim_catalog *cat, int64_t now)
{
	char *dc = sv_env_get("WBADMIN_SIM_DC");

	memset(v, 0, sizeof(*v));
	v->num = cat->next;
	v->t = now;
	if (cat->last_t && now / 60 <= cat->last_t / 60)
		v->t = (cat->last_t / 60 + 1) * 60 + (now % 60 + 60) % 60;
	v->dc = dc && !strcmp(dc, "1");
	sim_version_id(v->id, v->t);
	free(dc);
}

typedef struct prune_ud {
	const char *mdir, *keep;
} prune_ud;

static int prune_one(void *ud, const sv_dirent *e)
{
	prune_ud *p = ud;
	char *path;

	if (!e->is_dir || !sv_str_startswith(e->name, "Backup ") ||
	    !strcmp(e->name, p->keep))
		return 0;
	path = sv_path_join(p->mdir, e->name);
	if (path)
		sv_fs_remove_tree(path);
	free(path);
	return 0;
}

/* Loads (or starts) the catalogue of the machine folder. */
static int open_catalog(const sim_ctx *c, const char *mdir, sim_catalog *cat)
{
	int rc = sim_catalog_load(cat, mdir);

	if (rc == SV_ENOTFOUND) {
		sim_catalog_init(cat);
		sv_strlcpy(cat->machine, c->machine, sizeof(cat->machine));
		return base_size_from_env(c, &cat->base_size);
	}
	if (rc < 0) {
		char *p = sv_path_join(mdir, "Catalog");

		sim_say(c, M_REC_CATALOG_BAD, p ? p : mdir, NULL);
		free(p);
		return SIM_EXIT_FAILED;
	}
	return 0;
}

static void succeeded(const backup_run *r)
{
	int64_t end =
		r->t + (int64_t)((sv_time_mono_ms() - r->started_ms) / 1000);
	char date[64], stamp[32], *log;

	sim_say(r->c, M_BACKUP_OK, NULL);
	sim_date_local(r->c, date, sizeof(date), end);
	sim_say(r->c, M_BACKUP_OK_AT, date, NULL);
	sim_say(r->c, M_LOG_OK_COLON, NULL);
	sim_date_log(stamp, sizeof(stamp), r->t, '_');
	log = sv_aprintf(LOGDIR "Backup-%s.log", stamp);
	sim_line(r->c, log ? log : "");
	free(log);
}

/* Writes the tree and records the version; returns the exit code. */
static int write_version(backup_run *r, const char *target, const char *mdir,
			 sim_catalog *cat, const sim_version *v, fail_mode mode)
{
	sim_tree tree;
	prune_ud prune;
	char num[24];
	size_t i;
	int rc;

	if ((rc = sim_tree_init(&tree, cat->machine, cat->base_size, v)) < 0)
		goto io_error;
	for (i = 0; i < sim_nwriters; i++)
		r->writers += !sim_writers[i].dc_only || v->dc;
	sv_snprintf(num, sizeof(num), "%zu", tree.nfiles);
	sim_say(r->c, M_FOUND, num, NULL);
	if (mode == F_CRASH) {
		sim_tree_write(&tree, mdir,
			       sim_image_bytes(&tree.img) / 2 + 12345,
			       on_progress, r);
		sim_os_crash();
	}
	rc = sim_tree_write(&tree, mdir, 0, on_progress, r);
	if (rc == SV_ECANCELLED || r->stopped) {
		char *folder = sv_path_join(mdir, tree.folder);

		if (folder)
			sv_fs_remove_tree(folder);
		free(folder);
		sim_tree_release(&tree);
		failed(r->c, r->t, M_STOPPED, M_COUNT);
		return SIM_EXIT_STOPPED;
	}
	if (rc < 0 || (rc = sim_catalog_add(cat, v)) < 0)
		goto io_error;
	cat->next = v->num + 1;
	cat->last_t = v->t;
	if ((rc = sim_catalog_save(cat, mdir)) < 0)
		goto io_error;
	prune.mdir = mdir;
	prune.keep = tree.folder;
	sv_fs_list_dir(mdir, prune_one, &prune);
	sim_tree_release(&tree);
	sim_remember_target(r->c, target);
	succeeded(r);
	return SIM_EXIT_OK;
io_error:
	sim_tree_release(&tree);
	sim_failure_summary(r->c, r->t, NULL, 0);
	sim_linef(r->c, "ERROR - %s", sv_error_msg());
	return SIM_EXIT_FAILED;
}

/* What happens after the shadow copy, by failure mode. */
static int after_shadow(backup_run *r, const char *target, const char *mdir,
			sim_catalog *cat, const sim_version *v, fail_mode mode)
{
	char errlog[260];

	switch (mode) {
	case F_VSS_TIMEOUT:
		failed(r->c, r->t, M_VSS_TIMEOUT, M_COUNT);
		return SIM_EXIT_FAILED;
	case F_SHADOW_STORAGE:
		failed(r->c, r->t, M_SHADOW_STORAGE, M_SHADOW_STORAGE2);
		return SIM_EXIT_FAILED;
	case F_EFI_LOCKED:
		failed(r->c, r->t, M_EFI_LOCKED, M_EFI_DETAIL);
		return SIM_EXIT_FAILED;
	case F_HANG:
		return hang(r);
	default:
		break;
	}
	sim_say(r->c, M_SCANNING, NULL);
	if (mode == F_INVALID_PATH) {
		sim_failure_summary(r->c, r->t, errlog, sizeof(errlog));
		sim_say(r->c, M_ENUM_FAILED, NULL);
		sim_say(r->c, M_INVALID_PATH1, NULL);
		sim_say(r->c, M_INVALID_PATH2, errlog, NULL);
		return SIM_EXIT_FAILED;
	}
	return write_version(r, target, mdir, cat, v, mode);
}

static int run_backup(backup_run *r, const char *target, const char *mdir,
		      fail_mode mode)
{
	sim_catalog cat;
	sim_version v;
	char date[64];
	int rc;

	if ((rc = open_catalog(r->c, mdir, &cat)) != 0)
		return rc;
	next_version(&v, &cat, sim_now());
	r->t = v.t;
	sim_date_local(r->c, date, sizeof(date), r->t);
	sim_say(r->c, M_START_BACKUP, date, NULL);
	sim_say(r->c, M_RETRIEVING, NULL);
	sim_say(r->c, M_WILL_BACKUP, target, NULL);
	if (!r->c->o.quiet && !sim_confirm(r->c, M_PROMPT_BACKUP)) {
		sim_say(r->c, M_CANCELLED, NULL);
		rc = SIM_EXIT_CANCELLED;
		goto done;
	}
	sim_job_begin(r->c, "backup");
	r->beat_ms = sv_time_mono_ms();
	sim_say(r->c, M_SHADOW, NULL);
	rc = after_shadow(r, target, mdir, &cat, &v, mode);
	sim_job_end(r->c);
done:
	sim_catalog_release(&cat);
	return rc;
}

int sim_cmd_backup(sim_ctx *c)
{
	fail_mode mode = fail_from_env();
	backup_run r;
	char *mdir = NULL;
	const char *target = c->o.backup_target;
	int is_dir = 0, rc;

	if (mode == F_UNKNOWN) {
		char *s = sv_env_get("WBADMIN_SIM_FAIL");

		sim_say(c, M_BAD_VALUE, s ? s : "", "WBADMIN_SIM_FAIL", NULL);
		free(s);
		return SIM_EXIT_USAGE;
	}
	if (mode == F_ACCESS_DENIED) {
		sim_say(c, M_ACCESS_DENIED, NULL);
		return SIM_EXIT_ACCESS;
	}
	if (!target) {
		sim_say(c, M_SYNTAX, "-backupTarget", NULL);
		return SIM_EXIT_USAGE;
	}
	if (sv_fs_stat(target, &is_dir, NULL) < 0 || !is_dir) {
		sim_say(c, M_TARGET_MISSING, target, NULL);
		return SIM_EXIT_TARGET;
	}
	if (mode == F_CRITICAL) {
		sim_say(c, M_CRITICAL, NULL);
		return SIM_EXIT_TARGET;
	}
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.started_ms = sv_time_mono_ms();
	if (!(mdir = sim_machine_dir(target, c->machine)) ||
	    sv_fs_mkdir_p(mdir, 0) < 0) {
		sim_linef(c, "ERROR - %s", sv_error_msg());
		free(mdir);
		return SIM_EXIT_FAILED;
	}
	rc = run_backup(&r, target, mdir, mode);
	free(mdir);
	return rc;
}
