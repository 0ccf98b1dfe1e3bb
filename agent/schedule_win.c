/*
 * schedule_win.c - the schedule on Windows: a Task Scheduler task
 * registered with `schtasks /Create /XML` from the UTF-16 XML that
 * schedule_xml.c writes, never with schtasks' locale-dependent /SD and
 * /ST flags.
 *
 * $SYSVAULT_SCHTASKS names the schtasks to run (a test hook); the default
 * is %SystemRoot%\System32\schtasks.exe.
 */
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "schedule.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_proc.h"

#define SCHTASKS_TIMEOUT_MS 60000
#define XML_FILE "schedule-task.xml"
#define EXE_MAX 32768

char *sv_schedule_self_exe(void)
{
	wchar_t *w = malloc(EXE_MAX * sizeof(wchar_t));
	DWORD n = w ? GetModuleFileNameW(NULL, w, EXE_MAX) : 0;
	char *out = NULL;
	int len;

	if (!w) {
		sv_error_set(SV_ENOMEM, "out of memory");
		return NULL;
	}
	if (n == 0 || n >= EXE_MAX) {
		sv_error_set_os(SV_EIO, "cannot find this program's path");
		free(w);
		return NULL;
	}
	len = WideCharToMultiByte(CP_UTF8, 0, w, (int)n, NULL, 0, NULL, NULL);
	if (len > 0 && (out = malloc((size_t)len + 1)) != NULL) {
		WideCharToMultiByte(CP_UTF8, 0, w, (int)n, out, len, NULL,
				    NULL);
		out[len] = '\0';
	} else {
		sv_error_set(SV_ENOMEM,
			     "cannot convert this program's path to UTF-8");
	}
	free(w);
	return out;
}

static char *schtasks_path(void)
{
	char *hook = sv_env_get("SYSVAULT_SCHTASKS"), *root, *p;

	if (hook && hook[0])
		return hook;
	free(hook);
	root = sv_env_get("SystemRoot");
	p = sv_aprintf("%s\\System32\\schtasks.exe",
		       root && root[0] ? root : "C:\\Windows");
	free(root);
	return p;
}

/* The output schtasks printed, kept for the error message. */
static int keep_lines(void *ud, int stream, const char *line, size_t len)
{
	sv_buf *out = ud;

	(void)stream;
	if (len && out->len < 512) {
		if (out->len)
			sv_buf_adds(out, " ");
		sv_buf_add(out, line, len);
	}
	return 0;
}

/* Runs schtasks with args (NULL-terminated, at most 8); *exit_code its
 * status and out its output on one line. */
static int schtasks(const char *const *args, int *exit_code, sv_buf *out)
{
	const char *argv[10];
	char *exe = schtasks_path();
	sv_proc_opts o;
	sv_proc_result r;
	int i, rc;

	if (!exe)
		return SV_ENOMEM;
	argv[0] = exe;
	for (i = 0; args[i] && i < 8; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = SCHTASKS_TIMEOUT_MS;
	o.on_line = keep_lines;
	o.ud = out;
	rc = sv_proc_run(&r, &o);
	if (rc < 0) {
		char *why = sv_strdup(sv_error_msg());

		rc = sv_error_set(rc, "cannot run '%s': %s", exe,
				  why ? why : "");
		free(why);
	} else
		*exit_code = r.exited ? r.exit_code : -1;
	free(exe);
	return rc;
}

static int write_xml(char **path, const sv_schedule *s,
		     const sv_schedule_cmd *c, const char *state_dir)
{
	char *xml = NULL, *utf16 = NULL;
	sv_tm today;
	size_t len = 0;
	SYSTEMTIME lt;
	int rc;

	/* The start date in local time, like the boundary's time of day. */
	GetLocalTime(&lt);
	memset(&today, 0, sizeof(today));
	today.year = lt.wYear;
	today.month = lt.wMonth;
	today.day = lt.wDay;
	rc = sv_schedule_task_xml(&xml, s, c, &today);
	if (rc == 0)
		rc = sv_schedule_utf16(&utf16, &len, xml);
	if (rc == 0 && !(*path = sv_path_join(state_dir, XML_FILE)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = sv_fs_mkdir_p(state_dir, 1);
	if (rc == 0)
		rc = sv_fs_write_atomic(*path, utf16, len, 1);
	free(xml);
	free(utf16);
	return rc;
}

int sv_schedule_install(const sv_schedule *s, const sv_schedule_cmd *c,
			const char *state_dir, json_t *report)
{
	char *path = NULL;
	sv_buf out;
	int code = 0, rc = write_xml(&path, s, c, state_dir);

	sv_buf_init(&out, 4096);
	if (rc == 0) {
		const char *args[] = {"/Create", "/TN", SV_SCHEDULE_NAME,
				      "/XML",	 path,	"/F",
				      NULL};

		rc = schtasks(args, &code, &out);
	}
	if (rc == 0 && code != 0)
		rc = sv_error_set(
			SV_ERROR,
			"schtasks /Create /XML '%s' failed (exit code %d): %s; "
			"run sysvault from an elevated prompt (Administrators)",
			path, code, out.len ? out.ptr : "no output");
	if (path) /* the task holds its own copy */
		sv_fs_remove(path);
	if (rc == 0) {
		sv_json_set(report, "mechanism", json_string("task_scheduler"));
		sv_json_set(report, "task", json_string(SV_SCHEDULE_NAME));
		sv_json_set(report, "enabled", json_true());
	}
	sv_buf_release(&out);
	free(path);
	return rc;
}

/* Whether the task exists: `schtasks /Query /XML` prints its definition.
 * Wine's /Query is a stub that prints nothing and answers 0, so the
 * output decides, not the exit code alone. */
static int task_exists(int *exists)
{
	const char *args[] = {"/Query", "/TN", SV_SCHEDULE_NAME, "/XML", NULL};
	sv_buf out;
	int code = 0, rc;

	sv_buf_init(&out, 4096);
	rc = schtasks(args, &code, &out);
	*exists = rc == 0 && code == 0 && out.len &&
		  strstr(out.ptr, "<Task") != NULL;
	sv_buf_release(&out);
	return rc;
}

/* /Delete answers non-zero for a task that does not exist: that one is
 * already removed. */
int sv_schedule_uninstall(json_t *report)
{
	const char *args[] = {"/Delete", "/TN", SV_SCHEDULE_NAME, "/F", NULL};
	sv_buf out;
	int code = 0, exists = 1, rc;

	sv_buf_init(&out, 4096);
	rc = schtasks(args, &code, &out);
	if (rc == 0 && code != 0 && (rc = task_exists(&exists)) == 0 && exists)
		rc = sv_error_set(
			SV_ERROR,
			"schtasks /Delete /TN %s failed (exit code %d): %s; "
			"run sysvault from an elevated prompt",
			SV_SCHEDULE_NAME, code,
			out.len ? out.ptr : "no output");
	if (rc == 0) {
		sv_json_set(report, "mechanism", json_string("task_scheduler"));
		sv_json_set(report, "task", json_string(SV_SCHEDULE_NAME));
		sv_json_set(report, "removed", json_boolean(code == 0));
	}
	sv_buf_release(&out);
	return rc;
}

int sv_schedule_query(json_t *report)
{
	int exists = 0, rc = task_exists(&exists);

	if (rc == 0) {
		sv_json_set(report, "mechanism", json_string("task_scheduler"));
		sv_json_set(report, "task", json_string(SV_SCHEDULE_NAME));
		sv_json_set(report, "installed", json_boolean(exists));
	}
	return rc;
}
