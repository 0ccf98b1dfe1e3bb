/*
 * check_machine.c - the machine and its vault: the clock against the
 * vault's (PF011), the vault reachable (PF012), the registration (PF013),
 * not an Azure VM (PF014), and the versions (PF015).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_time.h"

#define CLOCK_SKEW_MAX 300	    /* seconds: 5 minutes */
#define EXPIRY_WARN (7 * 24 * 3600) /* seconds before expiry */

/* Times from a bundle are untrusted: arithmetic only on plausible ones
 * (after 1970, before the year 36000). */
static int plausible(int64_t t)
{
	return t > 0 && t < ((int64_t)1 << 40);
}

/* One ping of the vault, as evidence. */
static int ping_vault(const diag__probe_ctx *c, json_t *ev)
{
	char err[512] = "";
	int64_t server = 0, before, after;
	uint64_t t0 = sv_time_mono_ms();
	int rc, r;

	before = c->p->now();
	r = c->in->vault.ping(c->in->vault.ud, c->timeout_ms, &server, err,
			      sizeof(err));
	after = c->p->now();
	rc = sv_json_set(ev, "ok", json_boolean(r == 0)) |
	     sv_json_set(ev, "local_before", json_integer(before)) |
	     sv_json_set(ev, "local_after", json_integer(after)) |
	     sv_json_set(ev, "latency_ms",
			 json_integer((json_int_t)(sv_time_mono_ms() - t0)));
	if (server != 0)
		rc |= sv_json_set(ev, "server_time", json_integer(server));
	if (r < 0)
		rc |= sv_json_set(ev, "error",
				  json_pack("{s:s,s:s}", "kind",
					    diag__err_kind(r), "message",
					    err[0] ? err : sv_err_str(r)));
	return rc ? SV_ENOMEM : 0;
}

/* ---- PF011: the clock ---- */

int diag__probe_clock(const diag__probe_ctx *c, json_t *ev)
{
	char tz[128] = "";
	json_t *t = json_object(), *ping;
	int rc;

	if (!t)
		return SV_ENOMEM;
	sv_error_clear();
	if ((rc = c->p->time_zone(c->p, c->timeout_ms, tz, sizeof(tz))) == 0)
		rc = sv_json_set(t, "name", json_string(tz));
	else if (rc != SV_ENOMEM)
		rc = diag__ev_error(t, "error", rc);
	rc |= sv_json_set(ev, "time_zone", t);
	rc |= sv_json_set(ev, "vault", json_boolean(c->in->have_vault));
	if (rc || !c->in->have_vault)
		return rc ? SV_ENOMEM : 0;
	if (!(ping = json_object()))
		return SV_ENOMEM;
	if ((rc = ping_vault(c, ping)) < 0) {
		json_decref(ping);
		return rc;
	}
	return sv_json_set(ev, "ping", ping);
}

/* "20 min 3 s" */
static void duration(char *dst, size_t size, int64_t s)
{
	if (s >= 3600)
		sv_snprintf(dst, size, "%lld h %lld min", (long long)(s / 3600),
			    (long long)(s % 3600 / 60));
	else if (s >= 60)
		sv_snprintf(dst, size, "%lld min %lld s", (long long)(s / 60),
			    (long long)(s % 60));
	else
		sv_snprintf(dst, size, "%lld s", (long long)s);
}

void diag__verdict_clock(const diag__judge *j, const json_t *ev,
			 diag__outcome *o)
{
	const json_t *ping = json_object_get(ev, "ping");
	const json_t *tz = json_object_get(ev, "time_zone");
	const char *zone = diag__ev_str(tz, "name");
	int64_t before = 0, after = 0, server = 0, skew;
	char d[48];

	(void)j;
	if (!json_is_object(ev) || !diag__ev_bool(ev, "vault", 0)) {
		diag__set(o, DIAG_SKIP, "no vault configured");
		return;
	}
	if (!diag__ev_bool(ping, "ok", 0)) {
		diag__set(o, DIAG_SKIP, "the vault did not answer (see PF012)");
		return;
	}
	if (!diag__ev_i64(ping, "server_time", &server) ||
	    !diag__ev_i64(ping, "local_before", &before) ||
	    !diag__ev_i64(ping, "local_after", &after) || !plausible(server) ||
	    !plausible(before) || !plausible(after)) {
		diag__set(o, DIAG_SKIP,
			  "the vault's answer had no Date header");
		return;
	}
	/* The Date header was written between the two local readings. */
	skew = (before + after) / 2 - server;
	duration(d, sizeof(d), skew < 0 ? -skew : skew);
	if (skew > CLOCK_SKEW_MAX || skew < -CLOCK_SKEW_MAX)
		diag__set(o, DIAG_FAIL,
			  "this clock is %s %s the vault's "
			  "(more than 5 min)",
			  d, skew < 0 ? "behind" : "ahead of");
	else if (!zone || !zone[0])
		diag__set(o, DIAG_WARN,
			  "within %s of the vault; no time zone "
			  "set%s%s",
			  d, diag__ev_error_msg(tz, "error")[0] ? ": " : "",
			  diag__ev_error_msg(tz, "error"));
	else
		diag__set(o, DIAG_PASS, "within %s of the vault; time zone %s",
			  d, zone);
	if (o->verdict == DIAG_WARN)
		diag__set_fix(o, "Set the time zone: tzutil /s \"<zone>\" "
				 "(tzutil /l lists them).");
}

/* ---- PF012: the vault reachable ---- */

int diag__probe_vault(const diag__probe_ctx *c, json_t *ev)
{
	if (sv_json_set(ev, "vault", json_boolean(c->in->have_vault)))
		return SV_ENOMEM;
	return c->in->have_vault ? ping_vault(c, ev) : 0;
}

void diag__verdict_vault(const diag__judge *j, const json_t *ev,
			 diag__outcome *o)
{
	const char *ek = diag__ev_error_kind(ev, "error");
	const char *msg = diag__ev_error_msg(ev, "error");
	uint64_t ms = 0;

	(void)j;
	diag__ev_u64(ev, "latency_ms", &ms);
	if (!json_is_object(ev) || !diag__ev_bool(ev, "vault", 0)) {
		diag__set(o, DIAG_SKIP, "no vault configured");
	} else if (diag__ev_bool(ev, "ok", 0)) {
		diag__set(o, DIAG_PASS, "answered in %llu ms",
			  (unsigned long long)ms);
	} else if (ek && !strcmp(ek, "auth")) {
		diag__set(o, DIAG_FAIL, "credentials rejected: %s", msg);
		diag__set_fix(o,
			      "The vault refused this machine's "
			      "credentials: renew them (a new SAS token or "
			      "access key in the credentials file) and check "
			      "that the account still has access.");
	} else if (ek && !strcmp(ek, "timeout")) {
		diag__set(o, DIAG_WARN, "no answer in time: %s", msg);
	} else {
		diag__set(o, DIAG_FAIL, "unreachable: %s",
			  msg[0] ? msg : "no answer");
	}
}

/* ---- PF013: the registration ---- */

static int name_into(json_t *ev, const char *key, const char *err_key,
		     int (*fn)(char *, size_t))
{
	char name[256];
	int rc;

	sv_error_clear();
	if ((rc = fn(name, sizeof(name))) == 0)
		return sv_json_set(ev, key, json_string(name));
	return diag__ev_error(ev, err_key, rc);
}

int diag__probe_registration(const diag__probe_ctx *c, json_t *ev)
{
	const diag__inputs *in = c->in;
	int rc;

	if (!in->registered_name)
		return sv_json_set(ev, "registered", json_false());
	rc = sv_json_set(ev, "registered", json_true()) |
	     sv_json_set(ev, "registered_name",
			 json_string(in->registered_name)) |
	     sv_json_set(ev, "now", json_integer(c->p->now()));
	if (in->registered_fqdn)
		rc |= sv_json_set(ev, "registered_fqdn",
				  json_string(in->registered_fqdn));
	rc |= sv_json_set(ev, "credentials_expiry",
			  in->credentials_expiry
				  ? json_integer(in->credentials_expiry)
				  : json_null());
	rc |= name_into(ev, "machine_name", "machine_name_error",
			c->p->machine_name);
	if (in->registered_fqdn)
		rc |= name_into(ev, "machine_fqdn", "machine_fqdn_error",
				c->p->machine_fqdn);
	return rc ? SV_ENOMEM : 0;
}

static int names_match(const json_t *ev, diag__outcome *o)
{
	const char *rn = diag__ev_str(ev, "registered_name");
	const char *mn = diag__ev_str(ev, "machine_name");
	const char *rf = diag__ev_str(ev, "registered_fqdn");
	const char *mf = diag__ev_str(ev, "machine_fqdn");

	if (!mn) {
		diag__set(o, DIAG_WARN, "cannot read this machine's name: %s",
			  diag__ev_error_msg(ev, "machine_name_error"));
		return 0;
	}
	if (!rn || !sv_ascii_caseeq(rn, mn)) {
		diag__set(o, DIAG_FAIL,
			  "this machine is '%s' but the vault "
			  "knows it as '%s'",
			  mn, rn ? rn : "?");
		return 0;
	}
	if (rf && mf && !sv_ascii_caseeq(rf, mf)) {
		diag__set(o, DIAG_FAIL,
			  "this machine's FQDN is '%s' but "
			  "'%s' was registered",
			  mf, rf);
		return 0;
	}
	if (rf && !mf) {
		diag__set(o, DIAG_WARN, "cannot read this machine's FQDN: %s",
			  diag__ev_error_msg(ev, "machine_fqdn_error"));
		return 0;
	}
	return 1;
}

void diag__verdict_registration(const diag__judge *j, const json_t *ev,
				diag__outcome *o)
{
	int64_t exp = 0, now = 0;
	char when[32];

	(void)j;
	if (!json_is_object(ev) || !diag__ev_bool(ev, "registered", 0)) {
		diag__set(o, DIAG_SKIP, "not registered");
		return;
	}
	if (!names_match(ev, o)) {
		if (o->verdict == DIAG_FAIL)
			diag__set_fix(o,
				      "This machine was renamed, or this "
				      "is another machine: register it again "
				      "(sysvault register), or restore only "
				      "on the machine the points belong to.");
		return;
	}
	diag__ev_i64(ev, "now", &now);
	if (!diag__ev_i64(ev, "credentials_expiry", &exp) || exp <= 0 ||
	    !plausible(now) || !plausible(exp)) {
		diag__set(o, DIAG_PASS,
			  "registered as %s; credentials do not "
			  "expire",
			  diag__ev_str(ev, "registered_name"));
		return;
	}
	sv_time_format_utc(when, sizeof(when), exp);
	if (exp <= now) {
		diag__set(o, DIAG_FAIL, "the credentials expired on %s", when);
		diag__set_fix(o, "Issue new credentials for this machine and "
				 "install them (the credentials file in the "
				 "state directory).");
	} else if (exp - now < EXPIRY_WARN) {
		diag__set(o, DIAG_WARN, "the credentials expire on %s", when);
		diag__set_fix(o,
			      "Renew this machine's credentials before "
			      "%s.",
			      when);
	} else {
		diag__set(o, DIAG_PASS,
			  "registered as %s; credentials valid "
			  "until %s",
			  diag__ev_str(ev, "registered_name"), when);
	}
}

/* ---- PF014: not an Azure VM ---- */

int diag__probe_azure(const diag__probe_ctx *c, json_t *ev)
{
	sv_smbios_info si;
	int rc;

	sv_error_clear();
	if ((rc = c->p->smbios_read(&si)) < 0)
		return diag__ev_error(ev, "error", rc);
	return sv_json_set(ev, "manufacturer", json_string(si.manufacturer)) |
	       sv_json_set(ev, "product", json_string(si.product)) |
	       sv_json_set(ev, "chassis_asset_tag",
			   json_string(si.chassis_asset_tag)) |
	       sv_json_set(ev, "uuid", json_string(si.uuid));
}

void diag__verdict_azure(const diag__judge *j, const json_t *ev,
			 diag__outcome *o)
{
	const char *tag = diag__ev_str(ev, "chassis_asset_tag");
	const char *man = diag__ev_str(ev, "manufacturer");
	const char *prod = diag__ev_str(ev, "product");
	const char *ek = diag__ev_error_kind(ev, "error");

	(void)j;
	if (ek && !strcmp(ek, "unsupported")) {
		diag__set(o, DIAG_SKIP, "%s", diag__ev_error_msg(ev, "error"));
	} else if (diag__judge_error(o, ev, "error", "SMBIOS")) {
		return;
	} else if (tag && !strcmp(tag, SV_AZURE_ASSET_TAG)) {
		diag__set(o, DIAG_FAIL,
			  "an Azure VM (SMBIOS chassis asset "
			  "tag %s)",
			  tag);
	} else {
		diag__set(o, DIAG_PASS, "%s %s, not an Azure VM",
			  man && man[0] ? man : "unknown maker",
			  prod && prod[0] ? prod : "unknown model");
	}
}

/* ---- PF015: versions ---- */

int diag__probe_versions(const diag__probe_ctx *c, json_t *ev)
{
	char os[256];
	int rc;

	rc = sv_json_set(ev, "agent_version",
			 c->in->agent_version
				 ? json_string(c->in->agent_version)
				 : json_null());
	sv_error_clear();
	if (rc == 0 && (rc = c->p->os_version(os, sizeof(os))) == 0)
		rc = sv_json_set(ev, "os", json_string(os));
	else if (rc != SV_ENOMEM)
		rc = diag__ev_error(ev, "os_error", rc);
	return rc;
}

/* "Windows 10.0.20348" -> 20348, else 0. */
static unsigned windows_build(const char *os)
{
	const char *p;
	uint64_t b = 0;

	if (!os || !sv_str_startswith(os, "Windows ") ||
	    !(p = strrchr(os, '.')))
		return 0;
	return sv_parse_u64(&b, p + 1) == 0 && b < 1000000 ? (unsigned)b : 0;
}

static const char *server_name(unsigned build)
{
	switch (build) {
	case 9200:
		return "Windows Server 2012";
	case 9600:
		return "Windows Server 2012 R2";
	case 14393:
		return "Windows Server 2016";
	case 17763:
		return "Windows Server 2019";
	case 20348:
		return "Windows Server 2022";
	case 26100:
		return "Windows Server 2025";
	default:
		return NULL;
	}
}

void diag__verdict_versions(const diag__judge *j, const json_t *ev,
			    diag__outcome *o)
{
	const char *os = diag__ev_str(ev, "os");
	const char *agent = diag__ev_str(ev, "agent_version");
	unsigned build = windows_build(os);
	const char *name = server_name(build);

	(void)j;
	if (!os) {
		diag__set(o, DIAG_SKIP, "OS version unknown%s%s",
			  diag__ev_error_msg(ev, "os_error")[0] ? ": " : "",
			  diag__ev_error_msg(ev, "os_error"));
	} else if (build && build < 9200) {
		diag__set(o, DIAG_FAIL, "%s is older than Windows Server 2012",
			  os);
	} else {
		diag__set(o, DIAG_PASS, "sysvault %s on %s%s%s%s",
			  agent ? agent : "(version unknown)", os,
			  name ? " (" : "", name ? name : "", name ? ")" : "");
	}
}
