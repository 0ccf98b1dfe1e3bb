/*
 * cmd_cache.c - sysvault cache move <dir> [--wait] [--delete-old]
 *                                    [--skip-check PF004|PF005]
 *
 * "The cache" is the scratch folder (config "scratch", default
 * <state-dir>/Scratch): the staging volume wbadmin writes, tens of GB,
 * which is why an administrator moves it. The vault cache
 * (<state-dir>/cache, SQLite, rebuilt by `vault sync`) and the job store
 * stay with the state directory.
 *
 * The move runs as a job of kind "cache", alone: the job store refuses it
 * beside any running job (a backup, a seeding `vault copy`) and refuses
 * backups while it runs. The old folder is copied, never moved: the copy
 * is compared byte for byte before config.json names it, and the old one
 * is deleted only when asked.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "diag.h"
#include "job.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_platform.h"
#include "sv_time.h"
#include "sv_version.h"
#include "wsb.h"

#define COPY_BUF (1u << 20)
#define WAIT_POLL_MS 2000

typedef struct move {
	const char *from, *to;
	int created_to; /* the new folder is ours to remove on failure */
	uint64_t files, bytes;
	char *buf, *buf2;    /* COPY_BUF each */
	const char *skip[3]; /* --skip-check PF004 / PF005, NULL-ended */
} move;

/* ---- walking a tree ---- */

/* A directory's entries, read before anything is done with them. */
static int collect(void *ud, const sv_dirent *e)
{
	json_t *list = ud;

	if (e->is_link)
		return sv_error_set(
			SV_EINVAL,
			"'%s' is a link: the scratch folder holds only "
			"files and folders sysvault wrote; remove it first",
			e->name);
	return json_array_append_new(list,
				     json_pack("[s,b,I]", e->name, e->is_dir,
					       (json_int_t)e->size)) < 0
		       ? SV_ENOMEM
		       : 0;
}

static int entries(const char *dir, json_t **out)
{
	int rc;

	if (!(*out = json_array()))
		return SV_ENOMEM;
	rc = sv_fs_list_dir(dir, collect, *out);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

typedef int (*file_fn)(move *m, const char *src, const char *dst);

/* Calls fn for every file under from (dst the same path under to); with
 * mkdirs, creates the folders under to on the way. */
static int walk(move *m, const char *from, const char *to, int mkdirs,
		file_fn fn)
{
	json_t *list = NULL, *e;
	char *src, *dst;
	size_t i;
	int rc = entries(from, &list);

	json_array_foreach(list, i, e)
	{
		if (rc < 0)
			break;
		src = sv_path_join(from,
				   json_string_value(json_array_get(e, 0)));
		dst = sv_path_join(to, json_string_value(json_array_get(e, 0)));
		if (!src || !dst)
			rc = SV_ENOMEM;
		else if (!json_is_true(json_array_get(e, 1)))
			rc = fn(m, src, dst);
		else if (!mkdirs || (rc = sv_fs_mkdir_p(dst, 1)) == 0)
			rc = walk(m, src, dst, mkdirs, fn);
		free(src);
		free(dst);
	}
	json_decref(list);
	return rc;
}

static int add_size(move *m, const char *src, const char *dst)
{
	uint64_t size = 0;
	int rc = sv_fs_stat(src, NULL, &size);

	(void)dst;
	m->files++;
	m->bytes += size;
	return rc;
}

/* ---- copy and verify ---- */

static int check_cancel(void)
{
	return sv_env_interrupted()
		       ? sv_error_set(SV_ECANCELLED,
				      "the cache move was cancelled")
		       : 0;
}

static int copy_file(move *m, const char *src, const char *dst)
{
	sv_file *in = NULL, *out = NULL;
	size_t got = 1;
	int rc = sv_file_open(&in, src, SV_O_READ);

	if (rc == 0)
		rc = sv_file_open(&out, dst,
				  SV_O_WRITE | SV_O_CREATE | SV_O_EXCL |
					  SV_O_PRIVATE);
	while (rc == 0 && got && (rc = check_cancel()) == 0 &&
	       (rc = sv_file_read(in, m->buf, COPY_BUF, &got)) == 0 && got)
		rc = sv_file_write(out, m->buf, got);
	if (rc == 0)
		rc = sv_file_sync(out);
	sv_file_close(in);
	if (sv_file_close(out) < 0 && rc == 0)
		rc = sv_error_code();
	return rc;
}

/* Reads exactly what fits in buf, or up to the end. */
static int read_full(sv_file *f, char *buf, size_t *got)
{
	size_t n;
	int rc = 0;

	*got = 0;
	while (*got < COPY_BUF &&
	       (rc = sv_file_read(f, buf + *got, COPY_BUF - *got, &n)) == 0 &&
	       n)
		*got += n;
	return rc;
}

/* The copy is read back from disk and compared with the original. */
static int verify_file(move *m, const char *src, const char *dst)
{
	sv_file *a = NULL, *b = NULL;
	size_t na = 1, nb = 1;
	uint64_t at = 0;
	int rc = sv_file_open(&a, src, SV_O_READ);

	if (rc == 0)
		rc = sv_file_open(&b, dst, SV_O_READ);
	while (rc == 0 && na && (rc = check_cancel()) == 0 &&
	       (rc = read_full(a, m->buf, &na)) == 0 &&
	       (rc = read_full(b, m->buf2, &nb)) == 0) {
		if (na != nb || memcmp(m->buf, m->buf2, na))
			rc = sv_error_set(
				SV_ECORRUPT,
				"the copy '%s' differs from '%s' within bytes "
				"%llu..%llu: check the new volume (chkdsk) and "
				"move again",
				dst, src, (unsigned long long)at,
				(unsigned long long)(at + na));
		at += na;
	}
	sv_file_close(a);
	sv_file_close(b);
	return rc;
}

/* ---- the new folder ---- */

static int count_one(void *ud, const sv_dirent *e)
{
	(void)e;
	(*(int *)ud)++;
	return 1;
}

/* An absolute folder that is empty or new, apart from the old one. */
static int check_target(move *m, const sv_cmd_def *cmd)
{
	size_t nf = strlen(m->from), nt = strlen(m->to);
	int n = 0, rc;

	if (!sv_path_is_absolute(m->to))
		return sv_cmd_usage_error(
			cmd,
			"'%s' is not an absolute path: the scheduled backup "
			"runs from another folder",
			m->to);
	if ((nt >= nf && !strncmp(m->to, m->from, nf) &&
	     (!m->to[nf] || m->to[nf] == '/' || m->to[nf] == '\\')) ||
	    (nf > nt && !strncmp(m->from, m->to, nt) &&
	     (m->from[nt] == '/' || m->from[nt] == '\\')))
		return sv_cmd_usage_error(
			cmd,
			"'%s' and the scratch folder '%s' contain one another: "
			"choose a folder elsewhere",
			m->to, m->from);
	rc = sv_fs_list_dir(m->to, count_one, &n);
	if (rc == SV_ENOTFOUND)
		return 0;
	if (rc < 0)
		return sv_cmd_fail();
	if (n > 0)
		return sv_cmd_usage_error(
			cmd, "'%s' is not empty: name a new or empty folder",
			m->to);
	return 0;
}

/* The scratch-folder checks of the preflight (PF004 usable, PF005 free
 * space) on the new folder, and room for what is copied. */
static int preflight(move *m)
{
	const char *skip[16] = {"PF001", "PF002", "PF003", "PF006", "PF007",
				"PF008", "PF009", "PF010", "PF011", "PF012",
				"PF013", "PF014", "PF015", NULL};
	diag_report *rep = NULL;
	diag_result res;
	diag_opts d;
	uint64_t free_b = 0, total = 0;
	size_t i;
	int rc;

	memset(&d, 0, sizeof(d));
	d.scratch_dir = m->to;
	d.agent_version = SV_VERSION;
	skip[13] = m->skip[0]; /* --skip-check PF004 / PF005 */
	skip[14] = m->skip[0] ? m->skip[1] : NULL;
	d.skip = skip;
	rc = diag_run(&rep, &d);
	for (i = 0; rc == 0 && i < diag_count(rep); i++) {
		if (diag_result_at(rep, i, &res) < 0 ||
		    res.verdict != DIAG_FAIL)
			continue;
		rc = sv_error_set(
			SV_EINVAL,
			"'%s' cannot hold the scratch folder: preflight %s "
			"failed (%s): %s Fix: %s (or pass --skip-check %s if "
			"you know better)",
			m->to, res.id, res.title, res.reason,
			res.fix ? res.fix : "choose another folder", res.id);
	}
	diag_report_free(rep);
	if (rc == 0 && (rc = sv_volume_space(m->to, &free_b, &total)) == 0 &&
	    free_b < m->bytes) {
		char need[32], have[32];

		sv_format_size(need, sizeof(need), m->bytes);
		sv_format_size(have, sizeof(have), free_b);
		rc = sv_error_set(
			SV_ENOSPC,
			"'%s' has %s free; the scratch folder holds %s: "
			"free space there or choose another volume",
			m->to, have, need);
	}
	return rc;
}

/* ---- the job ---- */

/* Begins the job; with wait, waits for running jobs to end (Ctrl-C
 * stops waiting). */
static int begin(sv_agent_job *job, const move *m, int wait)
{
	int said = 0, rc;

	for (;;) {
		rc = sv_agent_job_start(
			job, "cache",
			json_pack("{s:s,s:s}", "from", m->from, "to", m->to));
		if (rc != SV_EBUSY || !wait)
			return rc;
		if (!said++)
			fprintf(stderr, "sysvault: %s; waiting\n",
				sv_error_msg());
		sv_env_catch_interrupt();
		sv_time_sleep_ms(WAIT_POLL_MS);
		if ((rc = check_cancel()) < 0)
			return rc;
	}
}

/* After a failure: the old folder in use again (its staging volume
 * attached if it was detached), the partial copy removed. Keeps the
 * error. */
static int fall_back(move *m, int detached, int rc)
{
	char *keep = sv_strdup(sv_error_msg()), *target = NULL;

	if (detached && wsb_staging_prepare(m->from, 0, &target) < 0)
		sv_log_warn("the staging volume in '%s' is not attached: "
			    "the next backup attaches it",
			    m->from);
	if (m->created_to)
		sv_fs_remove_tree(m->to);
	sv_error_set(rc, "%s", keep ? keep : "");
	free(keep);
	free(target);
	return rc;
}

/* Names the new folder in config.json and attaches the staging volume
 * there; if it cannot be attached, config.json names the old one again. */
static int switch_to(move *m, int had_old)
{
	const json_t *cur = sv_agent_config_json("scratch");
	json_t *prev = cur ? json_deep_copy(cur) : NULL;
	char *target = NULL, *why;
	int rc = sv_agent_config_set("scratch", json_string(m->to));

	if (rc == 0 && had_old &&
	    (rc = wsb_staging_prepare(m->to, 0, &target)) < 0) {
		why = sv_strdup(sv_error_msg());
		sv_agent_config_set("scratch", prev);
		prev = NULL;
		sv_error_set(rc,
			     "the copy at '%s' cannot be attached (%s): "
			     "'%s' stays in use",
			     m->to, why ? why : "", m->from);
		free(why);
	}
	json_decref(prev);
	free(target);
	return rc;
}

/* Checks, copies, verifies and switches; on failure the old folder is
 * in use again and the new copy removed. */
static int run(move *m, sv_agent_job *job)
{
	int had_old = sv_fs_stat(m->from, NULL, NULL) == 0, detached = 0;
	int rc;

	m->created_to = sv_fs_stat(m->to, NULL, NULL) == SV_ENOTFOUND;
	rc = sv_fs_mkdir_p(m->to, 1);
	if (rc == 0 && had_old)
		rc = walk(m, m->from, m->to, 0, add_size);
	if (rc == 0)
		rc = preflight(m);
	if (rc == 0 && had_old && (rc = wsb_staging_release(m->from)) == 0) {
		detached = 1;
		sv_log_info("copying %s to %s", m->from, m->to);
		rc = walk(m, m->from, m->to, 1, copy_file);
		if (rc == 0)
			rc = walk(m, m->from, m->to, 0, verify_file);
	}
	if (rc == 0)
		rc = switch_to(m, had_old);
	if (rc < 0)
		rc = fall_back(m, detached, rc);
	job->bytes_read = m->bytes;
	sv_json_set(job->details, "files", json_integer((json_int_t)m->files));
	return rc;
}

/* --delete-old, else a question on a terminal, else keep. */
static int delete_old(const move *m, int flag)
{
	char line[16];

	if (sv_fs_stat(m->from, NULL, NULL) != 0)
		return 0;
	if (!flag &&
	    (g_agent.json || !sv_env_isatty(stdin) || !sv_env_isatty(stdout)))
		return 0;
	if (!flag) {
		printf("Delete the old copy at '%s'? [y/N] ", m->from);
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) ||
		    (line[0] != 'y' && line[0] != 'Y'))
			return 0;
	}
	if (sv_fs_remove_tree(m->from) < 0) {
		fprintf(stderr,
			"sysvault: warning: the old copy was not deleted: %s\n",
			sv_error_msg());
		return 0;
	}
	return 1;
}

static void print_result(const move *m, int64_t job, int deleted)
{
	char size[32];

	sv_format_size(size, sizeof(size), m->bytes);
	if (g_agent.json) {
		sv_agent_print_json(json_pack(
			"{s:s,s:s,s:I,s:I,s:b,s:b,s:I}", "from", m->from, "to",
			m->to, "files", (json_int_t)m->files, "bytes",
			(json_int_t)m->bytes, "verified", 1, "old_deleted",
			deleted, "job", (json_int_t)job));
		return;
	}
	printf("scratch folder moved to %s: %llu files, %s, copy verified (job "
	       "%lld)\n",
	       m->to, (unsigned long long)m->files, size, (long long)job);
	if (deleted)
		printf("the old copy at %s was deleted\n", m->from);
	else if (sv_fs_stat(m->from, NULL, NULL) == 0)
		printf("the old copy stays at %s: delete it when you no longer "
		       "need it\n",
		       m->from);
}

int cmd_cache_move(int argc, char **argv)
{
	static const struct option lo[] = {
		{"wait", no_argument, NULL, 'w'},
		{"delete-old", no_argument, NULL, 'd'},
		{"skip-check", required_argument, NULL, 'K'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("cache move");
	char *from = NULL;
	sv_agent_job job;
	move m;
	int64_t id = 0;
	const char *skips[3] = {NULL, NULL, NULL};
	int c, rc, wait = 0, del = 0, deleted, nskip = 0;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == 'w')
			wait = 1;
		else if (c == 'd')
			del = 1;
		else if (c == 'K' && nskip < 2 &&
			 sv_ascii_caseeq(optarg, "PF004"))
			skips[nskip++] = "PF004";
		else if (c == 'K' && nskip < 2 &&
			 sv_ascii_caseeq(optarg, "PF005"))
			skips[nskip++] = "PF005";
		else if (c == 'K')
			return sv_cmd_usage_error(
				cmd, "--skip-check takes PF004 or PF005 (the "
				     "scratch-folder checks)");
		else
			return SV_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return sv_cmd_usage_error(
			cmd, "one folder is required: the new scratch folder");
	memset(&m, 0, sizeof(m));
	if (!(from = sv_agent_scratch_dir(NULL)))
		return sv_cmd_fail();
	m.from = from;
	m.to = argv[optind];
	memcpy(m.skip, skips, sizeof(m.skip));
	if ((rc = check_target(&m, cmd)) != 0) {
		free(from);
		return rc;
	}
	m.buf = sv_malloc(COPY_BUF);
	m.buf2 = sv_malloc(COPY_BUF);
	rc = m.buf && m.buf2 ? begin(&job, &m, wait) : SV_ENOMEM;
	if (rc == 0) {
		id = job.id;
		rc = sv_agent_job_end(&job, run(&m, &job));
	}
	free(m.buf);
	free(m.buf2);
	if (rc < 0) {
		free(from);
		return sv_cmd_fail();
	}
	deleted = delete_old(&m, del);
	print_result(&m, id, deleted);
	free(from);
	return SV_EXIT_OK;
}
