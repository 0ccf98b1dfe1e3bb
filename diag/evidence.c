/*
 * evidence.c - building evidence as probes see it, and reading it back as
 * verdicts must: from a bundle that may come from anywhere, so that every
 * reader tolerates a missing field or a field of the wrong type.
 */
#include <stdarg.h>
#include <string.h>

#include "diag_int.h"

const char *diag__err_kind(int rc)
{
	switch (rc) {
	case SV_ENOTSUPPORTED:
		return "unsupported";
	case SV_ENOTFOUND:
		return "not_found";
	case SV_EACCESS:
		return "access_denied";
	case SV_ETIMEOUT:
		return "timeout";
	case SV_EBUSY:
		return "busy";
	case SV_EAUTH:
		return "auth";
	case SV_ENETWORK:
		return "network";
	case SV_ENOMEM:
		return "no_memory";
	case SV_EINVAL:
	case SV_ECORRUPT:
		return "invalid";
	default:
		return "error";
	}
}

int diag__ev_error(json_t *ev, const char *key, int rc)
{
	const char *msg = sv_error_msg();

	return sv_json_set(ev, key,
			   json_pack("{s:s,s:s}", "kind", diag__err_kind(rc),
				     "message", msg[0] ? msg : sv_err_str(rc)));
}

const char *diag__ev_error_kind(const json_t *ev, const char *key)
{
	const json_t *e = json_is_object(ev) ? json_object_get(ev, key) : NULL;

	if (!json_is_object(e))
		return NULL;
	return diag__ev_str(e, "kind") ? diag__ev_str(e, "kind") : "error";
}

const char *diag__ev_error_msg(const json_t *ev, const char *key)
{
	const json_t *e = json_is_object(ev) ? json_object_get(ev, key) : NULL;
	const char *m = json_is_object(e) ? diag__ev_str(e, "message") : NULL;

	return m ? m : "";
}

const char *diag__ev_str(const json_t *obj, const char *key)
{
	const json_t *v =
		json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int diag__ev_u64(const json_t *obj, const char *key, uint64_t *out)
{
	const json_t *v =
		json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	return 0;
}

int diag__ev_i64(const json_t *obj, const char *key, int64_t *out)
{
	const json_t *v =
		json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 1;
	}
	return 0;
}

int diag__ev_bool(const json_t *obj, const char *key, int dflt)
{
	const json_t *v =
		json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static const char *start_name(sv_service_start s)
{
	switch (s) {
	case SV_START_BOOT:
		return "boot";
	case SV_START_SYSTEM:
		return "system";
	case SV_START_AUTO:
		return "auto";
	case SV_START_DEMAND:
		return "demand";
	case SV_START_DISABLED:
		return "disabled";
	}
	return "unknown";
}

static const char *state_name(sv_service_state s)
{
	switch (s) {
	case SV_SVC_STOPPED:
		return "stopped";
	case SV_SVC_START_PENDING:
		return "start_pending";
	case SV_SVC_STOP_PENDING:
		return "stop_pending";
	case SV_SVC_RUNNING:
		return "running";
	case SV_SVC_CONTINUE_PENDING:
		return "continue_pending";
	case SV_SVC_PAUSE_PENDING:
		return "pause_pending";
	case SV_SVC_PAUSED:
		return "paused";
	}
	return "unknown";
}

json_t *diag__ev_service(const diag__provider *p, const char *name)
{
	sv_service_info si;
	json_t *o = json_pack("{s:s}", "name", name);
	int rc;

	if (!o)
		return NULL;
	sv_error_clear();
	rc = p->service_query(name, &si);
	if (rc < 0)
		rc = diag__ev_error(o, "error", rc);
	else
		rc = sv_json_set(o, "state",
				 json_string(state_name(si.state))) |
		     sv_json_set(o, "start_type",
				 json_string(start_name(si.start_type))) |
		     sv_json_set(o, "delayed_auto",
				 json_boolean(si.delayed_auto));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- outcomes ---- */

void diag__set(diag__outcome *o, diag_verdict v, const char *fmt, ...)
{
	va_list ap;

	o->verdict = v;
	sv_buf_reset(&o->reason);
	va_start(ap, fmt);
	sv_buf_vprintf(&o->reason, fmt, ap);
	va_end(ap);
}

void diag__set_fix(diag__outcome *o, const char *fmt, ...)
{
	va_list ap;

	sv_buf_reset(&o->fix);
	va_start(ap, fmt);
	sv_buf_vprintf(&o->fix, fmt, ap);
	va_end(ap);
}

int diag__judge_error(diag__outcome *o, const json_t *ev, const char *key,
		      const char *what)
{
	const char *kind = diag__ev_error_kind(ev, key);

	if (!json_is_object(ev)) {
		diag__set(o, DIAG_SKIP, "no evidence");
		return 1;
	}
	if (!kind)
		return 0;
	if (!strcmp(kind, "unsupported")) {
		diag__set(o, DIAG_SKIP, "not Windows");
	} else if (!strcmp(kind, "timeout")) {
		diag__set(o, DIAG_WARN, "%s timed out: %s", what,
			  diag__ev_error_msg(ev, key));
		diag__set_fix(o,
			      "Run the preflight again; a probe that keeps "
			      "timing out points at an overloaded machine or "
			      "a hung component.");
	} else if (!strcmp(kind, "access_denied")) {
		diag__set(o, DIAG_WARN, "cannot read %s (run elevated): %s",
			  what, diag__ev_error_msg(ev, key));
		diag__set_fix(o, "Run the preflight from an elevated prompt "
				 "(Administrator) or as SYSTEM, as scheduled "
				 "backups run.");
	} else {
		diag__set(o, DIAG_WARN, "cannot read %s: %s", what,
			  diag__ev_error_msg(ev, key));
		diag__set_fix(o, "See the check's evidence (sysvault preflight "
				 "--json) for the error.");
	}
	return 1;
}
