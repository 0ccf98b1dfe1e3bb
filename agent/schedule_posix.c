/*
 * schedule_posix.c - the schedule on Linux: a systemd service + timer
 * pair in /etc/systemd/system, enabled with systemctl when systemd is the
 * running init; elsewhere the cron line to install, printed, not written
 * (a crontab is the administrator's file).
 *
 * Test hooks (documented in docs/operations.md): $SYSVAULT_SYSTEMD_DIR
 * replaces /etc/systemd/system; $SYSVAULT_SYSTEMCTL names the systemctl
 * to run. With the directory hook alone, systemctl is never run: units
 * outside systemd's search path mean nothing to it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schedule.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_proc.h"

#define UNIT_DIR "/etc/systemd/system"
#define CRON_FILE "/etc/cron.d/" SV_SCHEDULE_NAME
#define SYSTEMCTL_TIMEOUT_MS 60000

char *sv_schedule_self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0) {
		sv_error_set_errno(
			SV_EIO,
			"cannot find this program's path (/proc/self/exe)");
		return NULL;
	}
	buf[n] = '\0';
	return sv_strdup(buf);
}

/* Where the units go (units 0: no systemd, the cron line instead) and
 * which systemctl enables them (NULL: none is run). */
typedef struct sys {
	char *dir, *systemctl;
	int units;
} sys;

static int sys_init(sys *y)
{
	char *dir = sv_env_get("SYSVAULT_SYSTEMD_DIR");
	int is_dir = 0, booted;

	y->systemctl = sv_env_get("SYSVAULT_SYSTEMCTL");
	if (dir && dir[0]) {
		y->dir = dir;
		y->units = 1;
		return 0;
	}
	free(dir);
	/* systemd is the running init when /run/systemd/system exists (what
	 * sd_booted() asks). */
	booted =
		sv_fs_stat("/run/systemd/system", &is_dir, NULL) == 0 && is_dir;
	y->units = booted || y->systemctl;
	if (booted && !y->systemctl && !(y->systemctl = sv_strdup("systemctl")))
		return SV_ENOMEM;
	return (y->dir = sv_strdup(UNIT_DIR)) ? 0 : SV_ENOMEM;
}

static void sys_release(sys *y)
{
	free(y->dir);
	free(y->systemctl);
}

static int keep_line(void *ud, int stream, const char *line, size_t len)
{
	sv_buf *out = ud;

	(void)stream;
	if (out && !out->len) /* the first line is the answer */
		sv_buf_add(out, line, len);
	return 0;
}

/* Runs `systemctl <a> [<b> [<c>]]`; *exit_code its status; out (may be
 * NULL) gets its first output line. */
static int systemctl(const sys *y, const char *a, const char *b, const char *c,
		     sv_buf *out, int *exit_code)
{
	const char *argv[] = {y->systemctl, a, b, c, NULL};
	sv_proc_opts o;
	sv_proc_result r;
	int rc;

	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.timeout_ms = SYSTEMCTL_TIMEOUT_MS;
	o.on_line = keep_line;
	o.ud = out;
	rc = sv_proc_run(&r, &o);
	if (rc < 0) {
		char *why = sv_strdup(sv_error_msg());

		rc = sv_error_set(rc, "cannot run '%s %s': %s", y->systemctl, a,
				  why ? why : "");
		free(why);
		return rc;
	}
	*exit_code = r.exited ? r.exit_code : -1;
	return 0;
}

static int systemctl_ok(const sys *y, const char *a, const char *b,
			const char *c)
{
	int code = 0, rc = systemctl(y, a, b, c, NULL, &code);

	if (rc == 0 && code != 0)
		rc = sv_error_set(
			SV_ERROR,
			"'systemctl %s%s%s%s%s' failed (exit code %d): see "
			"'journalctl -xe'",
			a, b ? " " : "", b ? b : "", c ? " " : "", c ? c : "",
			code);
	return rc;
}

static int write_unit(const char *dir, const char *name, const char *text,
		      json_t *files)
{
	char *path = sv_path_join(dir, name);
	int rc = path ? sv_fs_mkdir_p(dir, 0) : SV_ENOMEM;

	if (rc == 0)
		rc = sv_fs_write_atomic(path, text, strlen(text), 0);
	if (rc == 0)
		json_array_append_new(files, json_string(path));
	free(path);
	return rc;
}

static int install_cron(const sv_schedule *s, const sv_schedule_cmd *c,
			json_t *report)
{
	char *line = sv_schedule_cron_line(s, c);

	if (!line)
		return SV_ENOMEM;
	sv_json_set(report, "mechanism", json_string("cron"));
	sv_json_set(report, "enabled", json_false());
	sv_json_set(report, "cron_line", json_string(line));
	sv_json_set(report, "cron_file", json_string(CRON_FILE));
	free(line);
	return 0;
}

int sv_schedule_install(const sv_schedule *s, const sv_schedule_cmd *c,
			const char *state_dir, json_t *report)
{
	char *service = NULL, *timer = NULL;
	json_t *files = json_array();
	sys y = {NULL, NULL, 0};
	int rc = files ? sys_init(&y) : SV_ENOMEM;

	(void)state_dir;
	if (rc == 0 && !y.units) {
		rc = install_cron(s, c, report);
		goto done;
	}
	if (rc == 0)
		rc = sv_schedule_systemd_units(&service, &timer, s, c);
	if (rc == 0)
		rc = write_unit(y.dir, SV_SCHEDULE_NAME ".service", service,
				files);
	if (rc == 0)
		rc = write_unit(y.dir, SV_SCHEDULE_NAME ".timer", timer, files);
	if (rc == 0 && y.systemctl)
		rc = systemctl_ok(&y, "daemon-reload", NULL, NULL);
	if (rc == 0 && y.systemctl)
		rc = systemctl_ok(&y, "enable", "--now",
				  SV_SCHEDULE_NAME ".timer");
	if (rc == 0) {
		sv_json_set(report, "mechanism", json_string("systemd"));
		sv_json_set(report, "enabled",
			    json_boolean(y.systemctl != NULL));
		sv_json_set(report, "files", json_incref(files));
	}
done:
	json_decref(files);
	free(service);
	free(timer);
	sys_release(&y);
	return rc;
}

/* A unit file's path under the unit directory; caller frees. */
static char *unit_path(const sys *y, const char *suffix)
{
	return sv_aprintf("%s/" SV_SCHEDULE_NAME "%s", y->dir, suffix);
}

static int remove_units(const sys *y, json_t *removed)
{
	static const char *const suffixes[] = {".timer", ".service"};
	char *path;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < 2; i++) {
		if (!(path = unit_path(y, suffixes[i])))
			return SV_ENOMEM;
		if (sv_fs_stat(path, NULL, NULL) == 0 &&
		    (rc = sv_fs_remove(path)) == 0)
			json_array_append_new(removed, json_string(path));
		free(path);
	}
	return rc;
}

int sv_schedule_uninstall(json_t *report)
{
	json_t *removed = json_array();
	sys y = {NULL, NULL, 0};
	int code, rc = removed ? sys_init(&y) : SV_ENOMEM;

	if (rc == 0 && !y.units) {
		sv_json_set(report, "mechanism", json_string("cron"));
		sv_json_set(report, "cron_file", json_string(CRON_FILE));
		sv_json_set(
			report, "cron_file_exists",
			json_boolean(sv_fs_stat(CRON_FILE, NULL, NULL) == 0));
		goto done;
	}
	/* A timer that is not loaded makes disable fail: that is "absent". */
	if (rc == 0 && y.systemctl)
		rc = systemctl(&y, "disable", "--now",
			       SV_SCHEDULE_NAME ".timer", NULL, &code);
	if (rc == 0)
		rc = remove_units(&y, removed);
	if (rc == 0 && y.systemctl)
		rc = systemctl_ok(&y, "daemon-reload", NULL, NULL);
	if (rc == 0) {
		sv_json_set(report, "mechanism", json_string("systemd"));
		sv_json_set(report, "removed", json_incref(removed));
	}
done:
	json_decref(removed);
	sys_release(&y);
	return rc;
}

int sv_schedule_query(json_t *report)
{
	sys y = {NULL, NULL, 0};
	char *timer = NULL;
	sv_buf out;
	int code = 0, rc = sys_init(&y);

	sv_buf_init(&out, 256);
	if (rc == 0 && !y.units) {
		sv_json_set(report, "mechanism", json_string("cron"));
		sv_json_set(report, "cron_file", json_string(CRON_FILE));
		sv_json_set(
			report, "installed",
			json_boolean(sv_fs_stat(CRON_FILE, NULL, NULL) == 0));
		goto done;
	}
	if (rc == 0 && !(timer = unit_path(&y, ".timer")))
		rc = SV_ENOMEM;
	if (rc < 0)
		goto done;
	sv_json_set(report, "mechanism", json_string("systemd"));
	sv_json_set(report, "timer", json_string(timer));
	sv_json_set(report, "installed",
		    json_boolean(sv_fs_stat(timer, NULL, NULL) == 0));
	/* is-active answers "inactive" with a non-zero status: not an error. */
	if (y.systemctl &&
	    systemctl(&y, "is-active", SV_SCHEDULE_NAME ".timer", NULL, &out,
		      &code) == 0 &&
	    out.len)
		sv_json_set(report, "timer_state", json_string(out.ptr));
done:
	sv_buf_release(&out);
	free(timer);
	sys_release(&y);
	return rc;
}
