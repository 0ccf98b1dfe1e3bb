/*
 * check_wsb.c - the backup stack: Windows Server Backup installed (PF001),
 * the services it depends on (PF002), the VSS writers (PF008), and no other
 * backup running (PF009).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

/* ---- PF001: Windows Server Backup installed ---- */

static char *wbadmin_path(const diag__probe_ctx *c)
{
	char *env;

	if (c->in->wbadmin && c->in->wbadmin[0])
		return sv_strdup(c->in->wbadmin);
	env = c->p->env_get("SYSVAULT_WBADMIN");
	if (env && env[0])
		return env;
	free(env);
	return diag__system32(c->p, "wbadmin.exe");
}

int diag__probe_wsb(const diag__probe_ctx *c, json_t *ev)
{
	char *path = wbadmin_path(c);
	json_t *wb = NULL;
	int is_dir = 0, rc;

	if (!path || !(wb = json_pack("{s:s}", "path", path))) {
		free(path);
		return SV_ENOMEM;
	}
	sv_error_clear();
	rc = c->p->fs_stat(path, &is_dir, NULL);
	if (rc == 0 || rc == SV_ENOTFOUND)
		rc = sv_json_set(wb, "found", json_boolean(rc == 0 && !is_dir));
	else
		rc = diag__ev_error(wb, "error", rc);
	free(path);
	rc |= sv_json_set(ev, "wbadmin", wb);
	rc |= sv_json_set(ev, "wbengine", diag__ev_service(c->p, "wbengine"));
	return rc ? SV_ENOMEM : 0;
}

void diag__verdict_wsb(const diag__judge *j, const json_t *ev, diag__outcome *o)
{
	const json_t *wb = json_object_get(ev, "wbadmin");
	const json_t *eng = json_object_get(ev, "wbengine");
	const char *path = diag__ev_str(wb, "path");
	const char *ek = diag__ev_error_kind(eng, "error");
	const char *start = diag__ev_str(eng, "start_type");
	int found = diag__ev_bool(wb, "found", 0);

	(void)j;
	if (!json_is_object(ev) || !json_is_object(eng)) {
		diag__set(o, DIAG_SKIP, "no evidence");
	} else if (ek && !strcmp(ek, "unsupported")) {
		diag__set(o, DIAG_SKIP, "not Windows");
	} else if (!found && ek && !strcmp(ek, "not_found")) {
		diag__set(o, DIAG_FAIL,
			  "not installed: no wbadmin at %s and "
			  "no wbengine service",
			  path ? path : "?");
	} else if (ek && !strcmp(ek, "not_found")) {
		diag__set(o, DIAG_FAIL,
			  "the wbengine service (Block Level "
			  "Backup Engine) is not registered");
	} else if (!found && diag__ev_error_kind(wb, "error")) {
		diag__set(o, DIAG_WARN, "cannot look for wbadmin: %s",
			  diag__ev_error_msg(wb, "error"));
	} else if (!found) {
		diag__set(o, DIAG_FAIL, "wbadmin not found at %s",
			  path ? path : "?");
	} else if (ek) {
		diag__set(o, DIAG_WARN, "cannot query wbengine: %s",
			  diag__ev_error_msg(eng, "error"));
	} else if (start && !strcmp(start, "disabled")) {
		diag__set(o, DIAG_FAIL, "the wbengine service is disabled");
		diag__set_fix(o, "Set the Block Level Backup Engine service "
				 "back to manual start: sc config wbengine "
				 "start= demand");
	} else {
		diag__set(o, DIAG_PASS, "wbadmin at %s; wbengine %s, %s",
			  path ? path : "?",
			  diag__ev_str(eng, "state")
				  ? diag__ev_str(eng, "state")
				  : "?",
			  start ? start : "?");
	}
}

/* ---- PF002: dependent services ---- */

/* Microsoft's troubleshooting guide: these automatic and running, those
 * manual (or automatic) and not disabled. */
static const struct {
	const char *name;
	int must_run;
} services[] = {
	{"RpcSs", 1}, {"EventSystem", 1}, {"SENS", 1}, {"VSS", 0}, {"swprv", 0},
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

int diag__probe_services(const diag__probe_ctx *c, json_t *ev)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr)
		return SV_ENOMEM;
	for (i = 0; i < NSERVICES; i++)
		if (json_array_append_new(
			    arr, diag__ev_service(c->p, services[i].name))) {
			json_decref(arr);
			return SV_ENOMEM;
		}
	return sv_json_set(ev, "services", arr);
}

static const json_t *find_service(const json_t *arr, const char *name)
{
	size_t i;
	const json_t *s;

	json_array_foreach(arr, i, s)
	{
		const char *n = diag__ev_str(s, "name");

		if (n && sv_ascii_caseeq(n, name))
			return s;
	}
	return NULL;
}

/* The lists a verdict is built from. */
typedef struct svc_findings {
	sv_buf missing, stopped, wrong_start, disabled, unreadable;
	size_t unsupported;
} svc_findings;

static void svc_add(sv_buf *b, const char *name)
{
	sv_buf_printf(b, "%s%s", b->len ? ", " : "", name);
}

static void svc_judge_one(svc_findings *f, const json_t *s, size_t i)
{
	const char *name = services[i].name;
	const char *ek = diag__ev_error_kind(s, "error");
	const char *st = diag__ev_str(s, "state");
	const char *start = diag__ev_str(s, "start_type");

	if (!s)
		svc_add(&f->unreadable, name);
	else if (ek && !strcmp(ek, "unsupported"))
		f->unsupported++;
	else if (ek && !strcmp(ek, "not_found"))
		svc_add(&f->missing, name);
	else if (ek || !st || !start)
		svc_add(&f->unreadable, name);
	else if (!strcmp(start, "disabled"))
		svc_add(&f->disabled, name);
	else if (services[i].must_run && strcmp(start, "auto") != 0)
		svc_add(&f->wrong_start, name);
	else if (services[i].must_run && strcmp(st, "running") != 0)
		svc_add(&f->stopped, name);
}

static void svc_fix(diag__outcome *o, const svc_findings *f)
{
	sv_buf_reset(&o->fix);
	if (f->missing.len)
		sv_buf_printf(&o->fix,
			      "Not installed: %s. These services "
			      "are part of Windows: repair the installation "
			      "(DISM /Online /Cleanup-Image /RestoreHealth, "
			      "then sfc /scannow).\n",
			      f->missing.ptr);
	if (f->disabled.len)
		sv_buf_printf(&o->fix,
			      "Disabled: %s. For RpcSs, EventSystem "
			      "and SENS: sc config <name> start= auto; for VSS "
			      "and swprv: sc config <name> start= demand.\n",
			      f->disabled.ptr);
	if (f->wrong_start.len)
		sv_buf_printf(&o->fix,
			      "Not automatic: %s. Run sc config "
			      "<name> start= auto, then sc start <name>.\n",
			      f->wrong_start.ptr);
	if (f->stopped.len)
		sv_buf_printf(&o->fix,
			      "Stopped: %s. Run sc start <name> and "
			      "look in the System event log for why it "
			      "stopped.\n",
			      f->stopped.ptr);
	if (o->fix.len && o->fix.ptr[o->fix.len - 1] == '\n')
		o->fix.ptr[--o->fix.len] = '\0';
}

static void svc_reason(diag__outcome *o, const svc_findings *f)
{
	sv_buf *r = &o->reason;

	sv_buf_reset(r);
	if (f->missing.len)
		sv_buf_printf(r, "missing: %s", f->missing.ptr);
	if (f->disabled.len)
		sv_buf_printf(r, "%sdisabled: %s", r->len ? "; " : "",
			      f->disabled.ptr);
	if (f->wrong_start.len)
		sv_buf_printf(r, "%snot automatic: %s", r->len ? "; " : "",
			      f->wrong_start.ptr);
	if (f->stopped.len)
		sv_buf_printf(r, "%sstopped: %s", r->len ? "; " : "",
			      f->stopped.ptr);
	if (f->unreadable.len)
		sv_buf_printf(r, "%scannot query: %s", r->len ? "; " : "",
			      f->unreadable.ptr);
}

void diag__verdict_services(const diag__judge *j, const json_t *ev,
			    diag__outcome *o)
{
	const json_t *arr = json_object_get(ev, "services");
	svc_findings f;
	size_t i;

	(void)j;
	if (!json_is_array(arr)) {
		diag__set(o, DIAG_SKIP, "no evidence");
		return;
	}
	memset(&f, 0, sizeof(f));
	sv_buf_init(&f.missing, 4096);
	sv_buf_init(&f.stopped, 4096);
	sv_buf_init(&f.wrong_start, 4096);
	sv_buf_init(&f.disabled, 4096);
	sv_buf_init(&f.unreadable, 4096);
	for (i = 0; i < NSERVICES; i++)
		svc_judge_one(&f, find_service(arr, services[i].name), i);
	if (f.unsupported == NSERVICES) {
		diag__set(o, DIAG_SKIP, "not Windows");
	} else if (f.missing.len || f.disabled.len || f.wrong_start.len ||
		   f.stopped.len) {
		o->verdict = DIAG_FAIL;
		svc_reason(o, &f);
		svc_fix(o, &f);
	} else if (f.unreadable.len) {
		o->verdict = DIAG_WARN;
		svc_reason(o, &f);
	} else {
		diag__set(o, DIAG_PASS,
			  "RpcSs, EventSystem, SENS automatic "
			  "and running; VSS, swprv not disabled");
	}
	sv_buf_release(&f.missing);
	sv_buf_release(&f.stopped);
	sv_buf_release(&f.wrong_start);
	sv_buf_release(&f.disabled);
	sv_buf_release(&f.unreadable);
}

/* ---- PF008: VSS writers ---- */

int diag__probe_writers(const diag__probe_ctx *c, json_t *ev)
{
	int rc;

	sv_error_clear();
	rc = c->p->vss_writers(c->p, c->timeout_ms, ev);
	if (rc < 0 && rc != SV_ENOMEM)
		rc = diag__ev_error(ev, "error", rc);
	return rc;
}

/* English last-error texts (VSS's own wording); any one of them seen
 * means the output is English and "No error" can be trusted. */
static const char *const english_errors[] = {
	"No error",	    "Unexpected error",
	"Retryable error",  "Non-retryable error",
	"Timed out",	    "Inconsistent shadow copy",
	"Out of resources", "Writer not responding",
	"Writer error",	    NULL};

static int is_english_error(const char *s)
{
	size_t i;

	for (i = 0; s && english_errors[i]; i++)
		if (sv_ascii_caseeq(s, english_errors[i]))
			return 1;
	return 0;
}

/* The service whose restart brings a writer back (Microsoft's list of
 * in-box writers). */
static const char *writer_service(const char *writer)
{
	static const struct {
		const char *writer, *service;
	} map[] = {
		{"System Writer", "CryptSvc"},
		{"Registry Writer", "VSS"},
		{"COM+ REGDB Writer", "VSS"},
		{"ASR Writer", "VSS"},
		{"Shadow Copy Optimization Writer", "VSS"},
		{"WMI Writer", "Winmgmt"},
		{"NTDS", "NTDS"},
		{"DFS Replication service writer", "DFSR"},
		{"FRS Writer", "NtFrs"},
		{"IIS Config Writer", "AppHostSvc"},
		{"IIS Metabase Writer", "IISADMIN"},
		{"Microsoft Hyper-V VSS Writer", "vmms"},
		{"Certificate Authority", "CertSvc"},
		{"Dhcp Jet Writer", "DHCPServer"},
		{"Cluster Database", "ClusSvc"},
		{"BITS Writer", "BITS"},
		{"Task Scheduler Writer", "Schedule"},
		{"SqlServerWriter", "SQLWriter"},
		{"WIDWriter", "WIDWriter"},
	};
	size_t i;

	for (i = 0; writer && i < sizeof(map) / sizeof(map[0]); i++)
		if (sv_ascii_caseeq(writer, map[i].writer))
			return map[i].service;
	return NULL;
}

typedef struct writer_findings {
	sv_buf failed, waiting, services;
	size_t count;
} writer_findings;

static void writer_judge_one(writer_findings *f, const json_t *w, int english)
{
	const char *name = diag__ev_str(w, "name");
	const char *text = diag__ev_str(w, "state_text");
	const char *err = diag__ev_str(w, "last_error");
	const char *svc;
	int64_t st = -1;
	sv_buf *b = NULL;

	diag__ev_i64(w, "state", &st);
	name = name ? name : "?";
	if (st < 0 || st == 0 || st >= 6)
		b = &f->failed;
	else if (st >= 2)
		b = &f->waiting;
	else if (english && err && !sv_ascii_caseeq(err, "No error"))
		b = &f->failed;
	if (!b)
		return;
	sv_buf_printf(b, "%s'%s' [%lld] %s%s%s", b->len ? ", " : "", name,
		      (long long)st, text ? text : "",
		      err && english ? ", last error: " : "",
		      err && english ? err : "");
	svc = writer_service(name);
	if (b == &f->failed && svc &&
	    !strstr(f->services.ptr ? f->services.ptr : "", svc))
		sv_buf_printf(&f->services, "%s%s", f->services.len ? ", " : "",
			      svc);
}

static void writers_fix(diag__outcome *o, const writer_findings *f)
{
	diag__set_fix(o,
		      "Retry after the machine is quieter (a writer that "
		      "timed out needs CPU, memory and I/O); finish or stop "
		      "other backup software. Restart the service that hosts "
		      "each failed writer%s%s%s, then check that "
		      "'vssadmin list writers' shows every writer as [1] "
		      "Stable with no error. An invalid-path System Writer "
		      "error (0x80780049 / 0x8007007B) needs the bad service "
		      "ImagePath fixed (KB4053355).",
		      f->services.len ? " (here: " : "",
		      f->services.len ? f->services.ptr : "",
		      f->services.len ? ")" : "");
}

/* The last non-empty line of text (vssadmin ends with its error). */
static const char *last_line(const char *text, int *n)
{
	const char *end = text + strlen(text), *start;

	while (end > text &&
	       (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	*n = (int)(end - start);
	return start;
}

static void writers_empty(const json_t *ev, diag__outcome *o)
{
	const char *out = diag__ev_str(ev, "output");
	const char *line = "";
	int64_t code = 0;
	int n = 0;

	diag__ev_i64(ev, "exit_code", &code);
	if (out)
		line = last_line(out, &n);
	if (code != 0)
		diag__set(o, DIAG_WARN,
			  "vssadmin failed (exit code %lld)%s%.*s",
			  (long long)code, n ? ": " : "", n, line);
	else
		diag__set(o, DIAG_WARN, "vssadmin listed no writers");
	diag__set_fix(o,
		      "Run 'vssadmin list writers' from an elevated "
		      "prompt; if it fails too, check that the VSS service is "
		      "not disabled (PF002) and restart it (sc stop VSS, sc "
		      "start VSS).");
}

void diag__verdict_writers(const diag__judge *j, const json_t *ev,
			   diag__outcome *o)
{
	const json_t *arr = json_object_get(ev, "writers"), *w;
	const char *ek = diag__ev_error_kind(ev, "error");
	writer_findings f;
	int english = 0;
	size_t i;

	(void)j;
	if (ek && !strcmp(ek, "not_found")) {
		diag__set(o, DIAG_SKIP, "vssadmin not available: %s",
			  diag__ev_error_msg(ev, "error"));
		return;
	}
	if (diag__judge_error(o, ev, "error", "the VSS writers"))
		return;
	if (json_array_size(arr) == 0) {
		writers_empty(ev, o);
		return;
	}
	json_array_foreach(arr, i, w) english |=
		is_english_error(diag__ev_str(w, "last_error"));
	memset(&f, 0, sizeof(f));
	sv_buf_init(&f.failed, 8192);
	sv_buf_init(&f.waiting, 8192);
	sv_buf_init(&f.services, 1024);
	json_array_foreach(arr, i, w) writer_judge_one(&f, w, english);
	if (f.failed.len) {
		diag__set(o, DIAG_FAIL, "failed: %s", f.failed.ptr);
		writers_fix(o, &f);
	} else if (f.waiting.len) {
		diag__set(o, DIAG_WARN,
			  "busy (another shadow copy in "
			  "progress?): %s",
			  f.waiting.ptr);
		diag__set_fix(o, "Wait for the running backup or shadow copy "
				 "to finish, then run the preflight again.");
	} else {
		diag__set(o, DIAG_PASS, "%u writers stable%s",
			  (unsigned)json_array_size(arr),
			  english ? ", no last error"
				  : " (last errors not read: output "
				    "not in English)");
	}
	sv_buf_release(&f.failed);
	sv_buf_release(&f.waiting);
	sv_buf_release(&f.services);
}

/* ---- PF009: no other backup running ---- */

int diag__probe_other_backup(const diag__probe_ctx *c, json_t *ev)
{
	json_t *names = json_array();
	char source[64] = "";
	int rc;

	if (!names)
		return SV_ENOMEM;
	sv_error_clear();
	rc = c->p->process_list(c->p, c->timeout_ms, names, source,
				sizeof(source));
	if (sv_json_set(ev, "source", json_string(source)))
		rc = SV_ENOMEM;
	if (rc < 0 && rc != SV_ENOMEM) {
		json_decref(names);
		rc = diag__ev_error(ev, "error", rc);
	} else if (rc == 0) {
		rc = sv_json_set(ev, "processes", names);
	} else {
		json_decref(names);
	}
	if (rc == 0)
		rc = sv_json_set(ev, "wbengine",
				 diag__ev_service(c->p, "wbengine"));
	return rc;
}

typedef struct backup_findings {
	sv_buf running, agents;
	int wsb;
} backup_findings;

static void backup_scan(backup_findings *f, const diag__matcher *m,
			const json_t *names)
{
	const json_t *v;
	const diag__software *sw;
	sv_buf *b;
	size_t i;

	json_array_foreach(names, i, v)
	{
		if (!json_is_string(v))
			continue;
		sw = diag__matcher_find(m, json_string_value(v),
					json_string_length(v));
		if (!sw)
			continue;
		b = !strcmp(sw->kind, "agent") ? &f->agents : &f->running;
		f->wsb |= !strcmp(sw->kind, "wsb");
		if (b->len > 1024)
			continue;
		sv_buf_printf(b, "%s%s (%s)", b->len ? ", " : "", sw->product,
			      json_string_value(v));
	}
}

static void backup_decide(diag__outcome *o, const backup_findings *f,
			  const json_t *ev)
{
	const json_t *eng = json_object_get(ev, "wbengine");
	const char *st = diag__ev_str(eng, "state");
	size_t n = json_array_size(json_object_get(ev, "processes"));

	if (f->running.len) {
		diag__set(o, DIAG_FAIL, "%s running: %s",
			  f->wsb ? "a backup is" : "another backup is",
			  f->running.ptr);
	} else if (st && !strcmp(st, "running")) {
		diag__set(o, DIAG_WARN,
			  "the wbengine service is running: a "
			  "Windows Server Backup job is in progress or has "
			  "just ended");
	} else if (diag__ev_error_kind(ev, "error")) {
		diag__set(o, DIAG_WARN, "cannot list the processes: %s",
			  diag__ev_error_msg(ev, "error"));
		diag__set_fix(o, "Check by hand that no other backup runs "
				 "(Task Manager, or 'wbadmin get status').");
	} else if (n == 0) {
		diag__set(o, DIAG_WARN,
			  "the process list (%s) came back "
			  "empty",
			  diag__ev_str(ev, "source")
				  ? diag__ev_str(ev, "source")
				  : "?");
		diag__set_fix(o, "Check by hand that no other backup runs "
				 "(Task Manager, or 'wbadmin get status').");
	} else {
		diag__set(o, DIAG_PASS, "none among %u processes%s%s",
			  (unsigned)n, f->agents.len ? "; resident: " : "",
			  f->agents.len ? f->agents.ptr : "");
	}
}

void diag__verdict_other_backup(const diag__judge *j, const json_t *ev,
				diag__outcome *o)
{
	diag__matcher *m = NULL;
	backup_findings f;

	(void)j;
	if (!json_is_object(ev)) {
		diag__set(o, DIAG_SKIP, "no evidence");
		return;
	}
	if (diag__matcher_new(&m) < 0) {
		diag__set(o, DIAG_WARN,
			  "the backup software table does not "
			  "compile: %s",
			  sv_error_msg());
		return;
	}
	memset(&f, 0, sizeof(f));
	sv_buf_init(&f.running, 4096);
	sv_buf_init(&f.agents, 4096);
	backup_scan(&f, m, json_object_get(ev, "processes"));
	backup_decide(o, &f, ev);
	sv_buf_release(&f.running);
	sv_buf_release(&f.agents);
	diag__matcher_free(m);
}
