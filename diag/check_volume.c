/*
 * check_volume.c - volumes and folders: the SYSTEM ACE on System Volume
 * Information (PF003), the scratch folder (PF004) and its free space
 * (PF005), the system volume's room for shadow copies (PF006), the EFI
 * system partition (PF007) and BitLocker (PF010).
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_fs.h"
#include "sv_path.h"

#define MIB ((uint64_t)1 << 20)

static void gib(char *dst, size_t size, uint64_t bytes)
{
	sv_format_size(dst, size, bytes);
}

/* ---- PF003: SYSTEM full control on System Volume Information ---- */

int diag__probe_svi_acl(const diag__probe_ctx *c, json_t *ev)
{
	char vol[64], *path = NULL;
	int granted = 0, rc;

	if ((rc = c->p->system_volume(c->p, vol, sizeof(vol))) < 0)
		return diag__ev_error(ev, "error", rc);
	if (!(path = sv_aprintf("%sSystem Volume Information", vol)))
		return SV_ENOMEM;
	rc = sv_json_set(ev, "path", json_string(path));
	sv_error_clear();
	if (rc == 0 &&
	    (rc = c->p->acl_system_full_control(path, &granted)) == 0)
		rc = sv_json_set(ev, "system_full_control",
				 json_boolean(granted));
	else if (rc != SV_ENOMEM)
		rc = diag__ev_error(ev, "error", rc);
	free(path);
	return rc;
}

void diag__verdict_svi_acl(const diag__judge *j, const json_t *ev,
			   diag__outcome *o)
{
	const char *path = diag__ev_str(ev, "path");
	const char *ek = diag__ev_error_kind(ev, "error");

	(void)j;
	path = path ? path : "System Volume Information";
	if (ek && !strcmp(ek, "not_found")) {
		diag__set(o, DIAG_WARN, "%s does not exist", path);
		diag__set_fix(o, "VSS creates the folder on an NTFS system "
				 "volume: check that the system volume is NTFS "
				 "and run 'vssadmin list shadowstorage'.");
	} else if (diag__judge_error(o, ev, "error", "its ACL")) {
		return;
	} else if (!diag__ev_bool(ev, "system_full_control", 0)) {
		diag__set(o, DIAG_FAIL,
			  "SYSTEM (S-1-5-18) lacks full control "
			  "on %s",
			  path);
	} else {
		diag__set(o, DIAG_PASS, "SYSTEM has full control on %s", path);
	}
}

/* ---- PF004: the scratch folder ---- */

static json_t *attr_names(unsigned a)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{SV_ATTR_DIRECTORY, "directory"},
		{SV_ATTR_READONLY, "readonly"},
		{SV_ATTR_COMPRESSED, "compressed"},
		{SV_ATTR_ENCRYPTED, "encrypted"},
		{SV_ATTR_SPARSE, "sparse"},
		{SV_ATTR_REPARSE, "reparse_point"},
		{SV_ATTR_OFFLINE, "offline"},
	};
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < sizeof(names) / sizeof(names[0]); i++)
		if ((a & names[i].bit) &&
		    json_array_append_new(arr, json_string(names[i].name))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *volume_json(const sv_volume_info *vi)
{
	return json_pack(
		"{s:s,s:s,s:b,s:I,s:I}", "type", sv_volume_type_name(vi->type),
		"fs", vi->fs_name, "read_only", vi->read_only, "free_bytes",
		(json_int_t)(vi->free_bytes & INT64_MAX), "total_bytes",
		(json_int_t)(vi->total_bytes & INT64_MAX));
}

/* The folder exists: what its volume, attributes and a write say. */
static int scratch_details(const diag__probe_ctx *c, const char *path,
			   json_t *ev)
{
	sv_volume_info vi;
	unsigned attrs = 0;
	json_t *dd = json_object();
	int rc = 0, r;

	sv_error_clear();
	if ((r = c->p->volume_query(path, &vi)) == 0)
		rc |= sv_json_set(ev, "volume", volume_json(&vi));
	else
		rc |= diag__ev_error(ev, "volume_error", r);
	sv_error_clear();
	if ((r = c->p->fs_attributes(path, &attrs)) == 0)
		rc |= sv_json_set(ev, "attributes", attr_names(attrs));
	else
		rc |= diag__ev_error(ev, "attributes_error", r);
	sv_error_clear();
	if ((r = c->p->write_probe(path)) == 0)
		rc |= sv_json_set(ev, "writable", json_true());
	else
		rc |= sv_json_set(ev, "writable", json_false()) |
		      diag__ev_error(ev, "write_error", r);
	sv_error_clear();
	if (!dd)
		return SV_ENOMEM;
	if ((r = c->p->dedup(c->p, path, c->timeout_ms, dd)) < 0)
		rc |= diag__ev_error(dd, "error", r);
	rc |= sv_json_set(ev, "dedup", dd);
	return rc ? SV_ENOMEM : 0;
}

/* The nearest existing folder at or above path (the scratch folder may
 * not exist before the first backup creates it); caller frees. NULL with
 * the error set when none can be found. */
static char *existing_ancestor(const diag__probe_ctx *c, const char *path,
			       int *rc)
{
	char *cur = sv_strdup(path), *up;
	int is_dir = 0, depth;

	for (depth = 0; cur && depth < 64; depth++) {
		sv_error_clear();
		*rc = c->p->fs_stat(cur, &is_dir, NULL);
		if (*rc != SV_ENOTFOUND)
			break;
		up = sv_path_dirname(cur);
		if (!up || !strcmp(up, cur)) {
			free(up);
			break;
		}
		free(cur);
		cur = up;
	}
	if (!cur)
		*rc = SV_ENOMEM;
	if (*rc < 0) {
		free(cur);
		return NULL;
	}
	return cur;
}

int diag__probe_scratch(const diag__probe_ctx *c, json_t *ev)
{
	const char *path = c->in->scratch_dir;
	char *anc = NULL;
	int is_dir = 0, rc;

	if (!path)
		return sv_json_set(ev, "configured", json_false());
	rc = sv_json_set(ev, "configured", json_true()) |
	     sv_json_set(ev, "path", json_string(path));
	if (rc)
		return SV_ENOMEM;
	if (!(anc = existing_ancestor(c, path, &rc)))
		return rc == SV_ENOMEM ? rc : diag__ev_error(ev, "error", rc);
	rc = sv_json_set(ev, "exists", json_boolean(!strcmp(anc, path)));
	if (rc == 0 && strcmp(anc, path) != 0)
		rc = sv_json_set(ev, "existing_parent", json_string(anc));
	if (rc == 0 && (rc = c->p->fs_stat(anc, &is_dir, NULL)) == 0)
		rc = sv_json_set(ev, "is_dir", json_boolean(is_dir));
	else if (rc != SV_ENOMEM)
		rc = diag__ev_error(ev, "error", rc);
	if (rc == 0 && is_dir)
		rc = scratch_details(c, anc, ev);
	free(anc);
	return rc;
}

static void problem(sv_buf *b, const char *what)
{
	sv_buf_printf(b, "%s%s", b->len ? "; " : "", what);
}

static void scratch_volume_problems(const diag__judge *j, const json_t *ev,
				    sv_buf *p, sv_buf *unknown)
{
	const json_t *vol = json_object_get(ev, "volume");
	const char *type = diag__ev_str(vol, "type");
	const char *fs = diag__ev_str(vol, "fs");
	char line[128];

	if (!json_is_object(vol)) {
		problem(unknown, "volume unreadable");
		return;
	}
	if (type && strcmp(type, "fixed") != 0) {
		sv_snprintf(line, sizeof(line),
			    "on a %s volume (must be a "
			    "local fixed disk)",
			    type);
		problem(p, line);
	}
	if (diag__ev_bool(vol, "read_only", 0))
		problem(p, "read-only volume");
	if (j->platform && !strcmp(j->platform, "windows") && fs &&
	    !sv_ascii_caseeq(fs, "NTFS")) {
		sv_snprintf(line, sizeof(line),
			    "file system %s (must be "
			    "NTFS)",
			    fs[0] ? fs : "unknown");
		problem(p, line);
	}
}

static void scratch_problems(const diag__judge *j, const json_t *ev, sv_buf *p,
			     sv_buf *unknown)
{
	static const char *const bad[] = {"encrypted", "compressed",
					  "sparse",    "reparse_point",
					  "offline",   NULL};
	const json_t *attrs = json_object_get(ev, "attributes"), *a;
	const json_t *dd = json_object_get(ev, "dedup");
	size_t i, k;

	scratch_volume_problems(j, ev, p, unknown);
	json_array_foreach(attrs, i,
			   a) for (k = 0; bad[k];
				   k++) if (json_is_string(a) &&
					    !strcmp(json_string_value(a),
						    bad[k])) problem(p, bad[k]);
	if (!json_is_array(attrs))
		problem(unknown, "attributes unreadable");
	if (!diag__ev_bool(ev, "writable", 0)) {
		problem(p, "not writable");
		if (diag__ev_error_msg(ev, "write_error")[0])
			sv_buf_printf(p, " (%s)",
				      diag__ev_error_msg(ev, "write_error"));
	}
	if (diag__ev_bool(dd, "enabled", 0))
		problem(p, "deduplicated volume");
}

void diag__verdict_scratch(const diag__judge *j, const json_t *ev,
			   diag__outcome *o)
{
	const char *path = diag__ev_str(ev, "path"), *parent;
	sv_buf p, unknown;

	if (json_is_object(ev) && !diag__ev_bool(ev, "configured", 1)) {
		diag__set(o, DIAG_SKIP, "no scratch folder configured");
		return;
	}
	if (diag__judge_error(o, ev, "error", "the scratch folder"))
		return;
	path = path ? path : "?";
	parent = diag__ev_str(ev, "existing_parent");
	if (!diag__ev_bool(ev, "is_dir", 0)) {
		diag__set(o, DIAG_FAIL, "%s is not a folder",
			  parent ? parent : path);
		return;
	}
	sv_buf_init(&p, 8192);
	sv_buf_init(&unknown, 1024);
	scratch_problems(j, ev, &p, &unknown);
	if (p.len)
		diag__set(o, DIAG_FAIL, "%s: %s", parent ? parent : path,
			  p.ptr);
	else if (unknown.len)
		diag__set(o, DIAG_WARN, "%s: %s", parent ? parent : path,
			  unknown.ptr);
	else if (!diag__ev_bool(ev, "exists", 0) || parent) {
		diag__set(o, DIAG_WARN,
			  "%s does not exist yet (the first "
			  "backup creates it; %s is usable)",
			  path, parent ? parent : "its parent");
		diag__set_fix(o,
			      "Nothing is wrong with where it will be: "
			      "create it now (mkdir \"%s\") or let the first "
			      "backup do it.",
			      path);
	} else {
		const json_t *vol = json_object_get(ev, "volume");
		const char *type = diag__ev_str(vol, "type");
		const char *fs = diag__ev_str(vol, "fs");

		diag__set(o, DIAG_PASS, "%s: %s %s volume, writable, plain "
			  "folder", path, type ? type : "?", fs ? fs : "?");
	}
	sv_buf_release(&p);
	sv_buf_release(&unknown);
}

/* ---- PF005: scratch free space ---- */

#define SCRATCH_FLOOR (30 * DIAG__GIB)

int diag__probe_scratch_space(const diag__probe_ctx *c, json_t *ev)
{
	const char *path = c->in->scratch_dir;
	sv_volume_info vi;
	char *anc;
	int rc;

	if (!path)
		return sv_json_set(ev, "configured", json_false());
	rc = sv_json_set(ev, "configured", json_true()) |
	     sv_json_set(ev, "path", json_string(path)) |
	     sv_json_set(ev, "last_backup_bytes",
			 json_integer((json_int_t)(c->in->last_backup_bytes &
						   INT64_MAX)));
	if (rc)
		return SV_ENOMEM;
	if (!(anc = existing_ancestor(c, path, &rc)))
		return rc == SV_ENOMEM ? rc : diag__ev_error(ev, "error", rc);
	sv_error_clear();
	rc = c->p->volume_query(anc, &vi);
	free(anc);
	if (rc < 0)
		return diag__ev_error(ev, "error", rc);
	return sv_json_set(
		       ev, "free_bytes",
		       json_integer((json_int_t)(vi.free_bytes & INT64_MAX))) |
	       sv_json_set(
		       ev, "total_bytes",
		       json_integer((json_int_t)(vi.total_bytes & INT64_MAX)));
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void diag__verdict_scratch_space(const diag__judge *j, const json_t *ev,
				 diag__outcome *o)
{
	const char *ek = diag__ev_error_kind(ev, "error");
	uint64_t free_b = 0, last = 0, need, least;
	char f[32], n[32], l[32];

	(void)j;
	if (json_is_object(ev) && !diag__ev_bool(ev, "configured", 1)) {
		diag__set(o, DIAG_SKIP, "no scratch folder configured");
		return;
	}
	if (ek && !strcmp(ek, "not_found")) {
		diag__set(o, DIAG_SKIP,
			  "the scratch folder does not exist "
			  "(see PF004)");
		return;
	}
	if (diag__judge_error(o, ev, "error", "the free space"))
		return;
	if (!diag__ev_u64(ev, "free_bytes", &free_b)) {
		diag__set(o, DIAG_SKIP, "no evidence");
		return;
	}
	diag__ev_u64(ev, "last_backup_bytes", &last);
	need = max_u64(last / 10, SCRATCH_FLOOR);
	least = max_u64(last / 20, SCRATCH_FLOOR);
	gib(f, sizeof(f), free_b);
	gib(n, sizeof(n), need);
	gib(l, sizeof(l), least);
	if (free_b >= need)
		diag__set(o, DIAG_PASS, "%s free (needs %s)", f, n);
	else if (free_b >= least)
		diag__set(o, DIAG_WARN,
			  "%s free: below the %s recommended "
			  "(10%% of the last backup), above the %s minimum",
			  f, n, l);
	else
		diag__set(o, DIAG_FAIL, "%s free: needs at least %s", f, l);
}

/* ---- PF006: system volume room for shadow copies ---- */

/* VSS's smallest shadow storage area. */
#define VSS_MIN_STORAGE (320 * MIB)

int diag__probe_system_space(const diag__probe_ctx *c, json_t *ev)
{
	char vol[64];
	sv_volume_info vi;
	json_t *st = json_object();
	int rc;

	if (!st)
		return SV_ENOMEM;
	if ((rc = c->p->system_volume(c->p, vol, sizeof(vol))) < 0) {
		json_decref(st);
		return diag__ev_error(ev, "error", rc);
	}
	rc = sv_json_set(ev, "volume", json_string(vol));
	sv_error_clear();
	if (rc == 0 && (rc = c->p->volume_query(vol, &vi)) == 0)
		rc = sv_json_set(ev, "free_bytes",
				 json_integer((json_int_t)(vi.free_bytes &
							   INT64_MAX))) |
		     sv_json_set(ev, "total_bytes",
				 json_integer((json_int_t)(vi.total_bytes &
							   INT64_MAX)));
	else if (rc != SV_ENOMEM)
		rc = diag__ev_error(ev, "error", rc);
	sv_error_clear();
	if (rc == 0 &&
	    (rc = c->p->shadow_storage(c->p, vol, c->timeout_ms, st)) < 0 &&
	    rc != SV_ENOMEM)
		rc = diag__ev_error(st, "error", rc);
	if (rc == 0)
		return sv_json_set(ev, "shadow_storage", st);
	json_decref(st);
	return rc;
}

/* A short description of the shadow storage, and whether its bound is
 * too small (1 below the minimum, 2 below 1 GiB). */
static int storage_note(const json_t *st, char *dst, size_t size)
{
	uint64_t used = 0, max = 0;
	char u[32], m[32];

	if (diag__ev_bool(st, "none", 0)) {
		sv_snprintf(dst, size, "; no shadow storage yet");
		return 0;
	}
	if (!diag__ev_u64(st, "used_bytes", &used)) {
		dst[0] = '\0';
		return 0;
	}
	gib(u, sizeof(u), used);
	if (diag__ev_bool(st, "unbounded", 0) ||
	    !diag__ev_u64(st, "max_bytes", &max)) {
		sv_snprintf(dst, size, "; shadow storage %s used, unbounded",
			    u);
		return 0;
	}
	gib(m, sizeof(m), max);
	sv_snprintf(dst, size, "; shadow storage %s used of at most %s", u, m);
	return max < VSS_MIN_STORAGE ? 1 : max < DIAG__GIB ? 2 : 0;
}

void diag__verdict_system_space(const diag__judge *j, const json_t *ev,
				diag__outcome *o)
{
	const char *vol = diag__ev_str(ev, "volume");
	uint64_t free_b = 0;
	char f[32], note[160];
	int bound;

	(void)j;
	if (diag__judge_error(o, ev, "error", "the system volume"))
		return;
	if (!diag__ev_u64(ev, "free_bytes", &free_b)) {
		diag__set(o, DIAG_SKIP, "no evidence");
		return;
	}
	vol = vol ? vol : "the system volume";
	gib(f, sizeof(f), free_b);
	bound = storage_note(json_object_get(ev, "shadow_storage"), note,
			     sizeof(note));
	if (free_b < DIAG__GIB)
		diag__set(o, DIAG_FAIL, "%s has %s free (needs 1 GiB)%s", vol,
			  f, note);
	else if (bound == 1)
		diag__set(o, DIAG_FAIL,
			  "%s: the shadow storage bound is "
			  "below VSS's 320 MiB minimum%s",
			  vol, note);
	else if (free_b < 5 * DIAG__GIB || bound == 2)
		diag__set(o, DIAG_WARN, "%s has %s free%s", vol, f, note);
	else
		diag__set(o, DIAG_PASS, "%s has %s free%s", vol, f, note);
}

/* ---- PF007: the EFI system partition ---- */

int diag__probe_esp(const diag__probe_ctx *c, json_t *ev)
{
	sv_firmware_type fw = SV_FW_UNKNOWN;
	json_t *esp = json_object();
	int rc;

	if (!esp)
		return SV_ENOMEM;
	sv_error_clear();
	if ((rc = c->p->firmware_type(&fw)) < 0)
		rc = diag__ev_error(ev, "firmware_error", rc);
	rc |= sv_json_set(ev, "firmware",
			  json_string(sv_firmware_type_name(fw)));
	if (rc || fw == SV_FW_BIOS) {
		json_decref(esp);
		return rc ? SV_ENOMEM : 0;
	}
	sv_error_clear();
	if ((rc = c->p->esp(c->p, c->timeout_ms, esp)) < 0 && rc != SV_ENOMEM)
		rc = diag__ev_error(esp, "error", rc);
	if (rc == 0)
		return sv_json_set(ev, "esp", esp);
	json_decref(esp);
	return rc;
}

static void esp_lock_verdict(const json_t *esp, const char *vol,
			     diag__outcome *o)
{
	const char *lock = diag__ev_str(esp, "lock");
	int64_t e = 0;

	diag__ev_i64(esp, "win32_error", &e);
	if (lock && !strcmp(lock, "ok"))
		diag__set(o, DIAG_PASS,
			  "ESP %s present; exclusive lock "
			  "taken and released",
			  vol);
	else if (lock && (!strcmp(lock, "locked") ||
			  (!strcmp(lock, "open_failed") && e == 32)))
		diag__set(o, DIAG_FAIL,
			  "ESP %s is locked by another process "
			  "(Windows error %lld)",
			  vol, (long long)e);
	else if (lock && !strcmp(lock, "open_failed") && e == 5)
		diag__set(o, DIAG_WARN,
			  "cannot open the ESP %s to probe its "
			  "lock (access denied: run elevated)",
			  vol);
	else
		diag__set(o, DIAG_WARN,
			  "ESP %s present; its lock could not "
			  "be probed (%s%s%s)",
			  vol, lock ? lock : "no answer",
			  diag__ev_str(esp, "lock_error") ? ": " : "",
			  diag__ev_str(esp, "lock_error")
				  ? diag__ev_str(esp, "lock_error")
				  : "");
}

void diag__verdict_esp(const diag__judge *j, const json_t *ev, diag__outcome *o)
{
	const char *fw = diag__ev_str(ev, "firmware");
	const json_t *esp = json_object_get(ev, "esp");
	const char *vol = diag__ev_str(esp, "volume");

	(void)j;
	if (!json_is_object(ev)) {
		diag__set(o, DIAG_SKIP, "no evidence");
	} else if (fw && !strcmp(fw, "BIOS")) {
		diag__set(o, DIAG_SKIP,
			  "BIOS firmware: no EFI system "
			  "partition");
	} else if (diag__judge_error(o, esp, "error", "the ESP")) {
		return;
	} else if (json_is_boolean(json_object_get(esp, "found")) &&
		   !diag__ev_bool(esp, "found", 0)) {
		diag__set(o, fw && !strcmp(fw, "UEFI") ? DIAG_FAIL : DIAG_WARN,
			  "no EFI system partition found (firmware %s)",
			  fw ? fw : "unknown");
		diag__set_fix(o, "A UEFI machine boots from an EFI system "
				 "partition: check the boot disk with diskpart "
				 "(list partition) and 'bcdedit /enum "
				 "{bootmgr}'.");
	} else {
		esp_lock_verdict(esp, vol ? vol : "", o);
	}
}

/* ---- PF010: BitLocker ---- */

int diag__probe_bitlocker(const diag__probe_ctx *c, json_t *ev)
{
	char vol[64];
	sv_volume_info vi;
	json_t *v, *bl = json_object();
	int rc;

	if (!bl)
		return SV_ENOMEM;
	if ((rc = c->p->system_volume(c->p, vol, sizeof(vol))) < 0) {
		json_decref(bl);
		return diag__ev_error(ev, "error", rc);
	}
	v = json_pack("{s:s}", "path", vol);
	sv_error_clear();
	if (v && (rc = c->p->volume_query(vol, &vi)) == 0)
		rc = sv_json_set(v, "fs", json_string(vi.fs_name));
	else if (v)
		rc = diag__ev_error(v, "error", rc);
	rc |= sv_json_set(ev, "volume", v);
	sv_error_clear();
	if (rc == 0 &&
	    (rc = c->p->bitlocker(c->p, vol, c->timeout_ms, bl)) < 0 &&
	    rc != SV_ENOMEM)
		rc = diag__ev_error(bl, "error", rc);
	if (rc == 0)
		return sv_json_set(ev, "bitlocker", bl);
	json_decref(bl);
	return rc;
}

void diag__verdict_bitlocker(const diag__judge *j, const json_t *ev,
			     diag__outcome *o)
{
	const json_t *bl = json_object_get(ev, "bitlocker");
	const json_t *vol = json_object_get(ev, "volume");
	const char *path = diag__ev_str(vol, "path");
	const char *fs = diag__ev_str(vol, "fs");
	const char *ek = diag__ev_error_kind(bl, "error");
	int64_t lock = -1, prot = -1;

	(void)j;
	path = path ? path : "the system volume";
	diag__ev_i64(bl, "lock_status", &lock);
	diag__ev_i64(bl, "protection_status", &prot);
	if (!json_is_object(ev) || !json_is_object(bl))
		diag__set(o, DIAG_SKIP, "no evidence");
	else if (ek && !strcmp(ek, "unsupported"))
		diag__set(o, DIAG_SKIP, "not Windows");
	else if (lock == 1)
		diag__set(o, DIAG_FAIL, "%s is locked by BitLocker", path);
	else if (lock == 0)
		diag__set(o, DIAG_PASS,
			  "%s unlocked (BitLocker protection "
			  "%s)",
			  path, prot == 1 ? "on" : "off");
	else if (!diag__ev_bool(bl, "installed", 1))
		diag__set(o, DIAG_PASS,
			  "BitLocker not installed: %s cannot "
			  "be locked",
			  path);
	else if (!diag__ev_bool(bl, "encryptable", 1))
		diag__set(o, DIAG_PASS, "%s is not a BitLocker volume", path);
	else if (fs && fs[0])
		/* A locked volume cannot tell its file system. */
		diag__set(o, DIAG_PASS,
			  "%s readable (%s), so not locked; "
			  "BitLocker status unavailable: %s",
			  path, fs, diag__ev_error_msg(bl, "error"));
	else
		diag__set(o, DIAG_WARN, "cannot tell whether %s is locked: %s",
			  path, diag__ev_error_msg(bl, "error"));
}
