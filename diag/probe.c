/*
 * probe.c - what both probe providers share: choosing one, running a
 * command with its output captured, and reading the outputs of the small
 * commands (tasklist, ps, reg, the probe scripts).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_proc.h"
#include "sv_time.h"

const diag__provider *diag__provider_detect(void)
{
	sv_service_info si;

	/* common/ knows which OS it was built for; diag asks it instead. */
	if (sv_service_query("RpcSs", &si) == SV_ENOTSUPPORTED) {
		sv_error_clear();
		return &diag__provider_posix;
	}
	sv_error_clear();
	return &diag__provider_windows;
}

void diag__output_init(diag__output *o)
{
	memset(o, 0, sizeof(*o));
	sv_buf_init(&o->text, DIAG__OUTPUT_MAX);
}

void diag__output_release(diag__output *o)
{
	sv_buf_release(&o->text);
}

static int on_line(void *ud, int stream, const char *line, size_t len)
{
	diag__output *o = ud;

	(void)stream;
	/* Past the maximum the rest is dropped: no probe needs more. */
	if (o->text.len + len + 1 < o->text.max) {
		sv_buf_add(&o->text, line, len);
		sv_buf_addc(&o->text, '\n');
	}
	return 0;
}

int diag__run_command(const char *const *argv, uint32_t timeout_ms,
		      diag__output *out)
{
	sv_proc_opts po;
	sv_proc_result res;
	int rc;

	memset(&po, 0, sizeof(po));
	memset(&res, 0, sizeof(res));
	po.argv = argv;
	po.timeout_ms = timeout_ms;
	po.on_line = on_line;
	po.ud = out;
	po.hard_kill = 1; /* read-only queries: nothing to stop politely */
	rc = sv_proc_run(&res, &po);
	out->exit_code = res.exited ? res.exit_code : -1;
	out->timed_out = res.timed_out;
	if (rc == 0 && !out->text.ptr)
		sv_buf_adds(&out->text, "");
	return rc;
}

/* The first lines of text, at most max bytes, for the evidence. */
static json_t *head_of(const char *text, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
			 text[n - 1] == ' '))
		n--;
	return json_stringn_nocheck(text, n);
}

int diag__run_into(const diag__provider *p, const char *const *argv,
		   uint32_t timeout_ms, diag__output *out, json_t *ev)
{
	int rc;

	sv_error_clear();
	rc = p->run(argv, timeout_ms, out);
	if (rc == SV_ENOTFOUND)
		sv_error_set(SV_ENOTFOUND, "'%s' is not available here",
			     argv[0]);
	if (rc < 0) {
		diag__ev_error(ev, "error", rc);
		return rc;
	}
	if (sv_json_set(ev, "exit_code", json_integer(out->exit_code)) < 0)
		return SV_ENOMEM;
	return 0;
}

/* Records the output's beginning in ev["output"] (a support engineer
 * reads it when the parser could not). */
static int keep_head(json_t *ev, const diag__output *out)
{
	const char *t = out->text.ptr ? out->text.ptr : "";
	json_t *h = head_of(t, out->text.len, 2000);

	return sv_json_set(ev, "output", h);
}

char *diag__system32(const diag__provider *p, const char *exe)
{
	char *root = p->env_get("SystemRoot");
	char *path;

	if (!root || !root[0]) {
		free(root);
		return sv_strdup(exe);
	}
	path = sv_aprintf("%s\\System32\\%s", root, exe);
	free(root);
	return path;
}

/* ---- parsers of small outputs ---- */

/* Calls fn for each line of text (without "\r\n"). */
typedef int (*line_fn)(void *ud, const char *line, size_t len);

static int each_line(const char *text, size_t len, line_fn fn, void *ud)
{
	size_t i = 0, start, end;
	int rc;

	while (i < len) {
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		end = i;
		if (end > start && text[end - 1] == '\r')
			end--;
		if ((rc = fn(ud, text + start, end - start)) != 0)
			return rc;
		if (i < len)
			i++;
	}
	return 0;
}

static int add_name(json_t *names, const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n > 260)
		return 0;
	return json_array_append_new(names, json_stringn(s, n)) ? SV_ENOMEM : 0;
}

/* A tasklist CSV row: "image","pid","session","#","mem". The first field
 * is quoted; quotes inside are doubled. */
static int tasklist_row(void *ud, const char *line, size_t len)
{
	char name[261];
	size_t i = 1, n = 0;

	if (len < 2 || line[0] != '"')
		return 0;
	while (i < len && n + 1 < sizeof(name)) {
		if (line[i] == '"') {
			if (i + 1 < len && line[i + 1] == '"') {
				name[n++] = '"';
				i += 2;
				continue;
			}
			return add_name(ud, name, n);
		}
		name[n++] = line[i++];
	}
	return 0;
}

int diag__parse_tasklist(json_t *names, const char *text, size_t len)
{
	return each_line(text, len, tasklist_row, names);
}

static int ps_row(void *ud, const char *line, size_t len)
{
	return add_name(ud, line, len);
}

int diag__parse_ps(json_t *names, const char *text, size_t len)
{
	return each_line(text, len, ps_row, names);
}

typedef struct tag_find {
	const char *name;
	size_t name_len;
	char *dst;
	size_t size;
	int found;
} tag_find;

static int tag_line(void *ud, const char *line, size_t len)
{
	tag_find *t = ud;
	size_t n;

	if (len <= t->name_len || memcmp(line, t->name, t->name_len) != 0 ||
	    line[t->name_len] != '=')
		return 0;
	n = len - t->name_len - 1;
	if (n >= t->size)
		n = t->size - 1;
	memcpy(t->dst, line + t->name_len + 1, n);
	t->dst[n] = '\0';
	t->found = 1;
	return 1;
}

int diag__tagged_value(const char *text, size_t len, const char *name,
		       char *dst, size_t size)
{
	tag_find t = {name, strlen(name), dst, size, 0};

	if (size == 0)
		return SV_EINVAL;
	dst[0] = '\0';
	each_line(text, len, tag_line, &t);
	return t.found ? 0 : SV_ENOTFOUND;
}

/* "    Name    REG_SZ    value": the fields are separated by runs of
 * spaces (four in practice); the value may itself hold spaces. */
static int reg_line(void *ud, const char *line, size_t len)
{
	tag_find *t = ud;
	const char *p = line, *end = line + len, *v;
	size_t n;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) <= t->name_len ||
	    !sv_ascii_ncaseeq(p, t->name, t->name_len))
		return 0;
	p += t->name_len;
	if (*p != ' ' && *p != '\t')
		return 0;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 6 || memcmp(p, "REG_SZ", 6) != 0)
		return 0;
	p += 6;
	v = p;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	n = (size_t)(end - v);
	if (n >= t->size)
		n = t->size - 1;
	memcpy(t->dst, v, n);
	t->dst[n] = '\0';
	t->found = 1;
	return 1;
}

int diag__parse_reg_sz(const char *text, size_t len, const char *name,
		       char *dst, size_t size)
{
	tag_find t = {name, strlen(name), dst, size, 0};

	if (size == 0)
		return SV_EINVAL;
	dst[0] = '\0';
	each_line(text, len, reg_line, &t);
	return t.found ? 0 : SV_ENOTFOUND;
}

int diag__keep_output(json_t *ev, const diag__output *out)
{
	return keep_head(ev, out);
}

int diag__write_probe(const char *dir)
{
	char name[64];
	char *path = NULL;
	sv_file *f = NULL;
	int rc, rc2;

	/* Unique enough: one probe per run, and EXCL refuses a clash. */
	sv_snprintf(name, sizeof(name), ".sysvault-preflight-%llu-%lx",
		    (unsigned long long)sv_time_mono_ms(),
		    (unsigned long)((uintptr_t)&name & 0xffffff));
	if (!(path = sv_path_join(dir, name)))
		return SV_ENOMEM;
	rc = sv_file_open(&f, path, SV_O_WRITE | SV_O_CREATE | SV_O_EXCL);
	if (rc == 0)
		rc = sv_file_write(f, "sysvault", 8);
	if (f) {
		rc2 = sv_file_close(f);
		if (rc == 0)
			rc = rc2;
		rc2 = sv_fs_remove(path);
		if (rc == 0)
			rc = rc2;
	}
	free(path);
	return rc;
}
