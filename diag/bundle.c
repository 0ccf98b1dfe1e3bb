/*
 * bundle.c - the report as data: the evidence bundle written by
 * diag_save() and --json, read back by diag_load(), and judged by
 * diag_evaluate() from the evidence alone. A loaded bundle is untrusted
 * input (it comes from another machine): the reader accepts what it
 * understands and ignores the rest, and its verdicts are recomputed.
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_fs.h"

int diag__report_new(diag_report **out)
{
	diag_report *r = sv_calloc(1, sizeof(*r));
	size_t i;

	*out = NULL;
	if (!r)
		return SV_ENOMEM;
	for (i = 0; i < DIAG__NCHECKS; i++) {
		r->res[i].not_run = 1;
		r->res[i].verdict = DIAG_SKIP;
	}
	*out = r;
	return 0;
}

void diag_report_free(diag_report *r)
{
	size_t i;

	if (!r)
		return;
	diag__run_release(r->run);
	for (i = 0; i < DIAG__NCHECKS; i++) {
		json_decref(r->res[i].evidence);
		free(r->res[i].reason);
		free(r->res[i].fix);
	}
	free(r);
}

/* ---- verdicts ---- */

static void outcome_init(diag__outcome *o)
{
	o->verdict = DIAG_SKIP;
	sv_buf_init(&o->reason, 16384);
	sv_buf_init(&o->fix, 16384);
}

static void outcome_release(diag__outcome *o)
{
	sv_buf_release(&o->reason);
	sv_buf_release(&o->fix);
}

/* The verdict when the probe never produced evidence. */
static int judge_without_evidence(const diag__result *res, diag__outcome *o)
{
	if (res->skipped_by_user)
		diag__set(o, DIAG_SKIP, "skipped by --skip-check");
	else if (res->not_run)
		diag__set(o, DIAG_SKIP, "not run");
	else if (res->timed_out) {
		diag__set(o, DIAG_WARN,
			  "the probe did not finish within "
			  "%u ms",
			  (unsigned)res->timeout_ms);
		diag__set_fix(o,
			      "Run the preflight again; a probe that keeps "
			      "timing out points at an overloaded machine or "
			      "a hung component.");
	} else if (!res->evidence)
		diag__set(o, DIAG_SKIP, "no evidence");
	else
		return 0;
	return 1;
}

int diag__evaluate_one(const diag_report *r, size_t i, diag__result *res)
{
	const diag__check *c = &diag__checks[i];
	diag__judge j = {r->platform};
	diag__outcome o;
	int rc = 0;

	outcome_init(&o);
	if (!judge_without_evidence(res, &o))
		c->verdict(&j, res->evidence, &o);
	if (o.verdict == DIAG_FAIL && c->severity == DIAG_WARNING)
		o.verdict = DIAG_WARN;
	free(res->reason);
	free(res->fix);
	res->fix = NULL;
	res->verdict = o.verdict;
	res->reason = sv_buf_take(&o.reason);
	if (o.verdict == DIAG_WARN || o.verdict == DIAG_FAIL)
		res->fix = o.fix.len ? sv_buf_take(&o.fix) : sv_strdup(c->fix);
	if (!res->reason ||
	    ((o.verdict == DIAG_WARN || o.verdict == DIAG_FAIL) && !res->fix))
		rc = SV_ENOMEM;
	outcome_release(&o);
	return rc;
}

int diag_evaluate(diag_report *r, const char *const *skip)
{
	const char *const *s;
	size_t i;
	int k, rc;

	for (s = skip; s && *s; s++)
		if ((k = diag__check_index(*s)) < 0)
			return sv_error_set(SV_EINVAL,
					    "no check '%s' (the "
					    "checks are PF001 to PF%03d)",
					    *s, DIAG__NCHECKS);
		else
			r->res[k].skipped_by_user = 1;
	for (i = 0; i < DIAG__NCHECKS; i++)
		if ((rc = diag__evaluate_one(r, i, &r->res[i])) < 0)
			return rc;
	return 0;
}

int diag_exit_code(const diag_report *r)
{
	int code = 0;
	size_t i;

	for (i = 0; i < DIAG__NCHECKS; i++) {
		if (r->res[i].verdict == DIAG_FAIL)
			return 2;
		if (r->res[i].verdict == DIAG_WARN)
			code = 1;
	}
	return code;
}

size_t diag_count(const diag_report *r)
{
	(void)r;
	return DIAG__NCHECKS;
}

int diag_result_at(const diag_report *r, size_t i, diag_result *out)
{
	const diag__result *res;

	if (i >= DIAG__NCHECKS)
		return sv_error_set(SV_EINVAL, "no check number %u",
				    (unsigned)i);
	res = &r->res[i];
	out->id = diag__checks[i].id;
	out->title = diag__checks[i].title;
	out->severity = diag__checks[i].severity;
	out->verdict = res->verdict;
	out->reason = res->reason ? res->reason : "";
	out->fix = res->fix;
	out->evidence = res->evidence;
	out->elapsed_ms = res->elapsed_ms;
	out->timed_out = res->timed_out;
	return 0;
}

/* ---- writing ---- */

static json_t *check_json(const diag_report *r, size_t i)
{
	const diag__result *res = &r->res[i];
	const diag__check *c = &diag__checks[i];
	json_t *o = json_object();
	int rc;

	if (!o)
		return NULL;
	rc = sv_json_set(o, "id", json_string(c->id)) |
	     sv_json_set(o, "title", json_string(c->title)) |
	     sv_json_set(o, "severity",
			 json_string(c->severity == DIAG_BLOCKING
					     ? "blocking"
					     : "warning")) |
	     sv_json_set(o, "verdict",
			 json_string(diag_verdict_name(res->verdict))) |
	     sv_json_set(o, "reason",
			 json_string(res->reason ? res->reason : "")) |
	     sv_json_set(o, "fix",
			 res->fix ? json_string(res->fix) : json_null()) |
	     sv_json_set(o, "elapsed_ms",
			 json_integer((json_int_t)res->elapsed_ms)) |
	     sv_json_set(o, "timeout_ms", json_integer(res->timeout_ms)) |
	     sv_json_set(o, "timed_out", json_boolean(res->timed_out)) |
	     sv_json_set(o, "skipped_by_user",
			 json_boolean(res->skipped_by_user)) |
	     sv_json_set(o, "not_run", json_boolean(res->not_run)) |
	     sv_json_set(o, "evidence",
			 res->evidence ? json_deep_copy(res->evidence)
				       : json_null());
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *summary_json(const diag_report *r)
{
	size_t n[4] = {0, 0, 0, 0}, i;

	for (i = 0; i < DIAG__NCHECKS; i++)
		n[r->res[i].verdict & 3]++;
	return json_pack("{s:I,s:I,s:I,s:I}", "pass", (json_int_t)n[DIAG_PASS],
			 "warn", (json_int_t)n[DIAG_WARN], "fail",
			 (json_int_t)n[DIAG_FAIL], "skip",
			 (json_int_t)n[DIAG_SKIP]);
}

json_t *diag_report_json(const diag_report *r)
{
	json_t *o = json_object(), *arr = json_array();
	size_t i;
	int rc;

	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		return NULL;
	}
	rc = sv_json_set(o, "format", json_string(DIAG__BUNDLE_FORMAT)) |
	     sv_json_set(o, "version", json_integer(DIAG__BUNDLE_VERSION)) |
	     sv_json_set(o, "created", json_string(r->created)) |
	     sv_json_set(o, "platform", json_string(r->platform)) |
	     sv_json_set(o, "host", json_string(r->host)) |
	     sv_json_set(o, "duration_ms",
			 json_integer((json_int_t)r->duration_ms)) |
	     sv_json_set(o, "exit_code", json_integer(diag_exit_code(r))) |
	     sv_json_set(o, "summary", summary_json(r));
	for (i = 0; rc == 0 && i < DIAG__NCHECKS; i++)
		if (json_array_append_new(arr, check_json(r, i)))
			rc = SV_ENOMEM;
	rc |= sv_json_set(o, "checks", arr);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int diag_save(const diag_report *r, const char *path)
{
	json_t *v = diag_report_json(r);
	char *text = v ? sv_json_dump(v, 1) : NULL;
	sv_buf b;
	int rc;

	json_decref(v);
	if (!text)
		return sv_error_set(SV_ENOMEM, "cannot build the preflight "
					       "bundle");
	sv_buf_init(&b, DIAG__BUNDLE_MAX);
	rc = sv_buf_adds(&b, text);
	if (rc == 0)
		rc = sv_buf_addc(&b, '\n');
	if (rc == 0)
		rc = sv_fs_write_atomic(path, b.ptr, b.len, 0);
	if (rc < 0)
		sv_error_prefix("cannot write the preflight bundle '%s'", path);
	sv_buf_release(&b);
	free(text);
	return rc;
}

/* ---- reading ---- */

static void copy_str(char *dst, size_t size, const json_t *o, const char *k)
{
	const char *s = diag__ev_str(o, k);

	if (s && strlen(s) < size)
		memcpy(dst, s, strlen(s) + 1);
	else
		dst[0] = '\0';
}

static void load_check(diag_report *r, json_t *c)
{
	const char *id = diag__ev_str(c, "id");
	json_t *ev = json_object_get(c, "evidence");
	int k = id ? diag__check_index(id) : -1;
	diag__result *res;
	uint64_t v;

	if (k < 0 || !r->res[k].not_run)
		return; /* unknown, or a second entry for the same id */
	res = &r->res[k];
	res->not_run = diag__ev_bool(c, "not_run", 0);
	res->timed_out = diag__ev_bool(c, "timed_out", 0);
	res->skipped_by_user = diag__ev_bool(c, "skipped_by_user", 0);
	if (diag__ev_u64(c, "elapsed_ms", &v))
		res->elapsed_ms = v;
	if (diag__ev_u64(c, "timeout_ms", &v) && v <= UINT32_MAX)
		res->timeout_ms = (uint32_t)v;
	if (json_is_object(ev))
		res->evidence = json_incref(ev);
	if (!res->evidence && !res->timed_out && !res->skipped_by_user)
		res->not_run = 1;
}

static int load_root(diag_report *r, json_t *root)
{
	const char *fmt = diag__ev_str(root, "format");
	json_t *checks = json_object_get(root, "checks"), *c;
	int64_t version = 0;
	uint64_t d;
	size_t i;

	if (!fmt || strcmp(fmt, DIAG__BUNDLE_FORMAT) != 0 ||
	    !json_is_array(checks))
		return sv_error_set(SV_ECORRUPT,
				    "not a preflight bundle (no "
				    "\"format\": \"%s\" with its checks)",
				    DIAG__BUNDLE_FORMAT);
	if (!diag__ev_i64(root, "version", &version) ||
	    version != DIAG__BUNDLE_VERSION)
		return sv_error_set(SV_ECORRUPT,
				    "preflight bundle version "
				    "%lld: this sysvault reads version %d",
				    (long long)version, DIAG__BUNDLE_VERSION);
	copy_str(r->platform, sizeof(r->platform), root, "platform");
	copy_str(r->created, sizeof(r->created), root, "created");
	copy_str(r->host, sizeof(r->host), root, "host");
	if (diag__ev_u64(root, "duration_ms", &d))
		r->duration_ms = d;
	json_array_foreach(checks, i, c) load_check(r, c);
	return 0;
}

int diag_load_mem(diag_report **out, const char *text, size_t len)
{
	diag_report *r = NULL;
	json_t *root = NULL;
	int rc;

	*out = NULL;
	if (len > DIAG__BUNDLE_MAX)
		return sv_error_set(SV_ECORRUPT,
				    "preflight bundle larger "
				    "than %u MiB",
				    (unsigned)(DIAG__BUNDLE_MAX >> 20));
	if ((rc = sv_json_parse(&root, text, len, "preflight bundle")) < 0)
		return rc == SV_EINVAL ? SV_ECORRUPT : rc;
	if ((rc = diag__report_new(&r)) == 0)
		rc = load_root(r, root);
	json_decref(root);
	if (rc < 0) {
		diag_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int diag_load(diag_report **out, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = sv_fs_read_all(&text, &len, path, DIAG__BUNDLE_MAX);
	if (rc == 0)
		rc = diag_load_mem(out, text, len);
	if (rc < 0)
		sv_error_prefix("preflight bundle '%s'", path);
	free(text);
	return rc;
}
