/*
 * sim_state.c - what the simulator keeps between runs in its state
 * directory (WBADMIN_SIM_STATE, else <temp>/wbadmin-sim):
 *
 *   last-target       the target of the last backup: the default of
 *                     commands run without -backupTarget
 *   last-recovery     the text -showsummary prints
 *   job-<pid>         exists while a backup runs; "stop job" removes it
 *   job-<pid>.beat    the job's monotonic clock (ms), renewed every second:
 *                     a job runs while its beat is fresh (a killed job's
 *                     beat goes stale within 3 s)
 *
 * and how a command finds WindowsImageBackup\<machine> on a target.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_time.h"

#define BEAT_FRESH_MS 3000
#define STATE_MAX ((size_t)1 << 20)

static char *state_file(const sim_ctx *c, const char *name)
{
	if (sv_fs_mkdir_p(c->state_dir, 0) < 0)
		return NULL;
	return sv_path_join(c->state_dir, name);
}

/* ---- targets and machine folders ---- */

static int ascii_casecmp(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y)
			return x - y;
	}
	return *a - *b;
}

typedef struct find_ud {
	const char *want;
	char *found;
} find_ud;

static int find_machine(void *ud, const sv_dirent *e)
{
	find_ud *f = ud;

	if (e->is_dir && ascii_casecmp(e->name, f->want) == 0) {
		f->found = sv_strdup(e->name);
		return 1;
	}
	return 0;
}

char *sim_machine_dir(const char *target, const char *machine)
{
	char *wib = sv_path_join(target, "WindowsImageBackup"), *p = NULL;
	find_ud f = {machine, NULL};

	if (!wib)
		return NULL;
	p = sv_path_join(wib, machine);
	if (p && sv_fs_stat(p, NULL, NULL) < 0 &&
	    sv_fs_list_dir(wib, find_machine, &f) > 0 && f.found) {
		free(p);
		p = sv_path_join(wib, f.found);
	}
	free(f.found);
	free(wib);
	return p;
}

char *sim_target(const sim_ctx *c)
{
	char *path, *text = NULL;
	size_t len;
	int is_dir = 0;

	if (c->o.backup_target) {
		text = sv_strdup(c->o.backup_target);
	} else if ((path = state_file(c, "last-target")) != NULL) {
		if (sv_fs_read_all(&text, &len, path, STATE_MAX) < 0)
			text = NULL;
		free(path);
	}
	if (!text) {
		sim_say(c, M_NO_BACKUP, NULL); /* no target known at all */
		return NULL;
	}
	if (sv_fs_stat(text, &is_dir, NULL) < 0 || !is_dir) {
		sim_say(c, M_TARGET_MISSING, text, NULL);
		free(text);
		return NULL;
	}
	return text;
}

int sim_open_versions(const sim_ctx *c, char **target, char **mdir,
		      sim_catalog *cat)
{
	int rc;

	sim_catalog_init(cat);
	*mdir = NULL;
	if (!(*target = sim_target(c)))
		return SIM_EXIT_NOTFOUND;
	if (!(*mdir = sim_machine_dir(*target, c->machine)))
		return SIM_EXIT_FAILED;
	rc = sim_catalog_load(cat, *mdir);
	if (rc == SV_ENOTFOUND) {
		sv_strlcpy(cat->machine, c->machine, sizeof(cat->machine));
		return 0;
	}
	if (rc < 0) {
		char *p = sv_path_join(*mdir, "Catalog");

		sim_say(c, M_REC_CATALOG_BAD, p ? p : *mdir, NULL);
		free(p);
		return SIM_EXIT_FAILED;
	}
	return 0;
}

void sim_remember_target(const sim_ctx *c, const char *target)
{
	char *path = state_file(c, "last-target");

	if (path)
		sv_fs_write_atomic(path, target, strlen(target), 0);
	free(path);
}

/* ---- the job marker ---- */

static char *job_file(const sim_ctx *c, const char *suffix)
{
	char name[64];

	sv_snprintf(name, sizeof(name), "job-%lu%s", sim_os_pid(), suffix);
	return state_file(c, name);
}

/* Written in place, fixed width, without a temp file: a listing of the
 * state directory never meets a file that vanishes under it. */
void sim_job_beat(const sim_ctx *c)
{
	char *path = job_file(c, ".beat"), now[24];
	sv_file *f = NULL;

	sv_snprintf(now, sizeof(now), "%020" PRIu64, sv_time_mono_ms());
	if (path && sv_file_open(&f, path, SV_O_WRITE | SV_O_CREATE) == 0)
		sv_file_pwrite(f, now, 20, 0);
	sv_file_close(f);
	free(path);
}

int sim_job_begin(const sim_ctx *c, const char *what)
{
	char *path = job_file(c, ""), *text;
	int rc = SV_ENOMEM;

	text = sv_aprintf("pid=%lu\r\noperation=%s\r\n", sim_os_pid(), what);
	if (path && text)
		rc = sv_fs_write_atomic(path, text, strlen(text), 0);
	free(path);
	free(text);
	sim_job_beat(c);
	return rc;
}

int sim_job_alive(const sim_ctx *c)
{
	char *path = job_file(c, "");
	int alive = path && sv_fs_stat(path, NULL, NULL) == 0;

	free(path);
	return alive;
}

void sim_job_end(const sim_ctx *c)
{
	char *a = job_file(c, ""), *b = job_file(c, ".beat");

	if (a)
		sv_fs_remove(a);
	if (b)
		sv_fs_remove(b);
	free(a);
	free(b);
}

typedef struct jobs_ud {
	const sim_ctx *c;
	int running;
	int stop;
} jobs_ud;

/* 1 when the beat file holds a time less than BEAT_FRESH_MS ago. */
static int beat_fresh(const char *path)
{
	uint64_t ms = 0, now = sv_time_mono_ms();
	char *text = NULL;
	size_t len;
	int fresh = 0;

	if (sv_fs_read_all(&text, &len, path, 64) == 0 && len == 20 &&
	    sv_parse_u64(&ms, text) == 0)
		fresh = now < ms || now - ms <= BEAT_FRESH_MS;
	free(text);
	return fresh;
}

/* A job runs while its beat is fresh (even after "stop job" removed its
 * marker: it is still ending). Stale beats are of killed jobs. */
static int each_job(void *ud, const sv_dirent *e)
{
	jobs_ud *j = ud;
	char *path;

	if (e->is_dir || !sv_str_startswith(e->name, "job-"))
		return 0;
	path = sv_path_join(j->c->state_dir, e->name);
	if (!path)
		return 0;
	if (sv_str_endswith(e->name, ".beat")) {
		if (beat_fresh(path))
			j->running++;
		else if (j->stop)
			sv_fs_remove(path);
	} else if (j->stop) {
		sv_fs_remove(path);
	}
	free(path);
	return 0;
}

/* Lists the state directory; a listing that meets a file renamed or
 * removed under it (another run's atomic write) is tried again. */
static int scan_jobs(jobs_ud *j)
{
	int tries, stop = j->stop;

	for (tries = 0; tries < 20; tries++) {
		j->running = 0;
		j->stop = stop;
		if (sv_fs_list_dir(j->c->state_dir, each_job, j) == 0)
			return j->running;
		if (sv_fs_stat(j->c->state_dir, NULL, NULL) < 0)
			return 0;
		sv_time_sleep_ms(10);
	}
	return j->running;
}

int sim_jobs_running(const sim_ctx *c)
{
	jobs_ud j = {c, 0, 0};

	return scan_jobs(&j);
}

int sim_jobs_stop(const sim_ctx *c)
{
	jobs_ud j = {c, 0, 1};

	return scan_jobs(&j);
}

/* ---- -showsummary ---- */

int sim_summary_save(const sim_ctx *c, const char *text)
{
	char *path = state_file(c, "last-recovery");
	int rc = path ? sv_fs_write_atomic(path, text, strlen(text), 0)
		      : SV_ENOMEM;

	free(path);
	return rc;
}

char *sim_summary_load(const sim_ctx *c)
{
	char *path = state_file(c, "last-recovery"), *text = NULL;
	size_t len;

	if (path && sv_fs_read_all(&text, &len, path, STATE_MAX) < 0)
		text = NULL;
	free(path);
	return text;
}

/* ---- the clock ---- */

int64_t sim_now(void)
{
	char *s = sv_env_get("WBADMIN_SIM_NOW");
	uint64_t v;
	int64_t t = sv_time_now();

	if (s && *s && sv_parse_u64(&v, s) == 0 && v <= INT64_MAX)
		t = (int64_t)v;
	free(s);
	return t;
}
