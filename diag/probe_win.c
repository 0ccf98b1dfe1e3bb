/*
 * probe_win.c - the probe provider on Windows. The platform layer of
 * common/ answers the questions it has APIs for; the facts it has none for
 * come from the system's own tools, run with a time limit and read by
 * language-neutral anchors:
 *
 *   processes        tasklist /fo csv /nh (first CSV field)
 *   VSS writers      vssadmin list writers ({GUID}s, "[n]" states)
 *   shadow storage   vssadmin list shadowstorage /for=C:
 *   time zone        reg query ...\TimeZoneInformation /v TimeZoneKeyName
 *   ESP, BitLocker,  small PowerShell scripts (-EncodedCommand) that print
 *   deduplication    "SV_NAME=value" lines: Get-Partition and an exclusive
 *                    FSCTL_LOCK_VOLUME released at once; WMI
 *                    Win32_EncryptableVolume.GetLockStatus; Get-DedupVolume
 *
 * This file is portable C: the provider is chosen at run time, and tests
 * run it on any OS with a fake `run`.
 */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_time.h"

#define TAG_MAX 512

static int win_system_volume(const diag__provider *p, char *dst, size_t size)
{
	char *drive = p->env_get("SystemDrive");
	int rc;

	/* "C:" is the only shape Windows gives it; anything else falls back
	 * to the default rather than probing an unexpected path. */
	if (drive && strlen(drive) == 2 && drive[1] == ':')
		rc = sv_snprintf(dst, size, "%s\\", drive);
	else
		rc = sv_snprintf(dst, size, "C:\\");
	free(drive);
	return rc;
}

/* Runs a tool from System32 and returns its output in out. */
static int win_tool(const diag__provider *p, const char *exe,
		    const char *const *args, uint32_t timeout_ms,
		    diag__output *out)
{
	const char *argv[12];
	char *path = diag__system32(p, exe);
	size_t i;
	int rc;

	if (!path)
		return SV_ENOMEM;
	argv[0] = path;
	for (i = 0; args[i] && i + 2 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	rc = p->run(argv, timeout_ms, out);
	if (rc == SV_ENOTFOUND)
		sv_error_set(SV_ENOTFOUND, "'%s' is not available here", path);
	free(path);
	return rc;
}

static int win_process_list(const diag__provider *p, uint32_t timeout_ms,
			    json_t *names, char *source, size_t source_size)
{
	static const char *const args[] = {"/fo", "csv", "/nh", NULL};
	diag__output out;
	int rc;

	sv_strlcpy(source, "tasklist /fo csv /nh", source_size);
	diag__output_init(&out);
	rc = win_tool(p, "tasklist.exe", args, timeout_ms, &out);
	if (rc == 0 && out.exit_code != 0)
		rc = sv_error_set(SV_ERROR, "tasklist exited with code %d",
				  out.exit_code);
	if (rc == 0)
		rc = diag__parse_tasklist(names, out.text.ptr, out.text.len);
	diag__output_release(&out);
	return rc;
}

static int win_vss_writers(const diag__provider *p, uint32_t timeout_ms,
			   json_t *ev)
{
	static const char *const args[] = {"list", "writers", NULL};
	diag__output out;
	json_t *writers = NULL;
	int rc;

	diag__output_init(&out);
	rc = win_tool(p, "vssadmin.exe", args, timeout_ms, &out);
	if (rc < 0)
		goto done;
	rc = sv_json_set(ev, "exit_code", json_integer(out.exit_code));
	if (rc == 0)
		rc = diag__vssadmin_parse_writers(&writers, out.text.ptr,
						  out.text.len);
	if (rc == 0)
		rc = sv_json_set(ev, "writers", writers);
	/* No writer at all: keep what vssadmin said instead (an error such
	 * as "you don't have the correct permissions"). */
	if (rc == 0 && (out.exit_code != 0 ||
			json_array_size(json_object_get(ev, "writers")) == 0))
		rc = diag__keep_output(ev, &out);
done:
	diag__output_release(&out);
	return rc;
}

static int win_shadow_storage(const diag__provider *p, const char *volume,
			      uint32_t timeout_ms, json_t *ev)
{
	char for_arg[16];
	const char *args[] = {"list", "shadowstorage", for_arg, NULL};
	diag__output out;
	json_t *st = NULL;
	int rc;

	if (strlen(volume) < 2 || volume[1] != ':')
		return sv_error_set(SV_EINVAL, "'%s' is not a drive", volume);
	sv_snprintf(for_arg, sizeof(for_arg), "/for=%c:", volume[0]);
	diag__output_init(&out);
	rc = win_tool(p, "vssadmin.exe", args, timeout_ms, &out);
	if (rc == 0 && diag__vssadmin_parse_storage(&st, out.text.ptr,
						    out.text.len) == 0) {
		rc = json_object_update(ev, st) ? SV_ENOMEM : 0;
		json_decref(st);
	} else if (rc == 0) {
		rc = sv_error_set(SV_EINVAL,
				  "vssadmin list shadowstorage: "
				  "output not understood (exit code %d)",
				  out.exit_code);
		diag__keep_output(ev, &out);
	}
	diag__output_release(&out);
	return rc;
}

/* ---- PowerShell ---- */

static void b64_encode(sv_buf *b, const unsigned char *s, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				"qrstuvwxyz0123456789+/";
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		sv_buf_addc(b, t[v >> 18 & 63]);
		sv_buf_addc(b, t[v >> 12 & 63]);
		sv_buf_addc(b, t[v >> 6 & 63]);
		sv_buf_addc(b, t[v & 63]);
	}
	if (i < n) {
		v = (unsigned)s[i] << 16 |
		    (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		sv_buf_addc(b, t[v >> 18 & 63]);
		sv_buf_addc(b, t[v >> 12 & 63]);
		sv_buf_addc(b, i + 1 < n ? t[v >> 6 & 63] : '=');
		sv_buf_addc(b, '=');
	}
}

/* -EncodedCommand takes base64 of UTF-16LE; the scripts are ASCII. Passing
 * them this way avoids every quoting rule of the command line. */
static char *encode_script(const char *script)
{
	size_t n = strlen(script), i;
	unsigned char *wide = NULL;
	sv_buf b;
	char *s = NULL;

	sv_buf_init(&b, 64 * 1024);
	if (n > 16 * 1024 || !(wide = sv_malloc(2 * n + 1)))
		goto done;
	for (i = 0; i < n; i++) {
		wide[2 * i] = (unsigned char)script[i];
		wide[2 * i + 1] = 0;
	}
	b64_encode(&b, wide, 2 * n);
	s = sv_buf_take(&b);
done:
	free(wide);
	sv_buf_release(&b);
	return s;
}

static int win_powershell(const diag__provider *p, const char *script,
			  uint32_t timeout_ms, diag__output *out)
{
	const char *args[] = {
		"-NoProfile", "-NonInteractive", "-ExecutionPolicy",
		"Bypass",     "-EncodedCommand", NULL,
		NULL};
	char *enc = encode_script(script);
	int is_dir, rc;
	const char *exe = "WindowsPowerShell\\v1.0\\powershell.exe";
	char *path = diag__system32(p, exe);

	if (!enc || !path) {
		rc = SV_ENOMEM;
		goto done;
	}
	args[5] = enc;
	/* Some installations (and Wine) have powershell.exe in System32. */
	if (p->fs_stat(path, &is_dir, NULL) != 0)
		exe = "powershell.exe";
	sv_error_clear();
	rc = win_tool(p, exe, args, timeout_ms, out);
done:
	free(enc);
	free(path);
	return rc;
}

/* The ESP: the partition of the EFI system GPT type, its volume, then an
 * exclusive lock taken and released at once, as wbadmin will want it. */
static const char esp_script[] =
	"$ErrorActionPreference = 'Stop'\n"
	"try {\n"
	"  $p = @(Get-Partition | Where-Object { $_.GptType -eq "
	"'{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}' })\n"
	"} catch { 'SV_ESP=error ' + $_.Exception.Message; exit 0 }\n"
	"'SV_ESP=' + $p.Count\n"
	"if ($p.Count -eq 0) { exit 0 }\n"
	"$v = @($p[0].AccessPaths | Where-Object { $_ -like '\\\\?\\Volume*' "
	"})[0]\n"
	"'SV_ESP_VOLUME=' + $v\n"
	"if (-not $v) { exit 0 }\n"
	"try {\n"
	"Add-Type -TypeDefinition @'\n"
	"using System;\n"
	"using System.Runtime.InteropServices;\n"
	"public static class SvEspProbe {\n"
	"  [DllImport(\"kernel32.dll\", SetLastError = true, CharSet = "
	"CharSet.Unicode)]\n"
	"  static extern IntPtr CreateFileW(string n, uint a, uint s, IntPtr "
	"sa, uint c, uint f, IntPtr t);\n"
	"  [DllImport(\"kernel32.dll\", SetLastError = true)]\n"
	"  static extern bool DeviceIoControl(IntPtr h, uint code, IntPtr i, "
	"uint il, IntPtr o, uint ol, out uint r, IntPtr ov);\n"
	"  [DllImport(\"kernel32.dll\")]\n"
	"  static extern bool CloseHandle(IntPtr h);\n"
	"  public static string Probe(string vol) {\n"
	"    IntPtr h = CreateFileW(vol, 0xC0000000, 3, IntPtr.Zero, 3, 0, "
	"IntPtr.Zero);\n"
	"    if (h == new IntPtr(-1)) return \"open \" + "
	"Marshal.GetLastWin32Error();\n"
	"    uint r; string s;\n"
	"    if (DeviceIoControl(h, 0x90018, IntPtr.Zero, 0, IntPtr.Zero, 0, "
	"out r, IntPtr.Zero)) {\n"
	"      DeviceIoControl(h, 0x9001C, IntPtr.Zero, 0, IntPtr.Zero, 0, out "
	"r, IntPtr.Zero);\n"
	"      s = \"ok\";\n"
	"    } else s = \"locked \" + Marshal.GetLastWin32Error();\n"
	"    CloseHandle(h);\n"
	"    return s;\n"
	"  }\n"
	"}\n"
	"'@\n"
	"'SV_ESP_LOCK=' + [SvEspProbe]::Probe($v.TrimEnd('\\'))\n"
	"} catch { 'SV_ESP_LOCK=error ' + $_.Exception.Message }\n";

/* Reads "SV_ESP..." lines into ev: found, volume, lock, win32_error. */
static int esp_from_output(json_t *ev, const diag__output *out)
{
	char v[TAG_MAX], vol[TAG_MAX], lock[TAG_MAX];
	const char *t = out->text.ptr;
	size_t n = out->text.len;
	uint64_t count = 0;
	int rc = 0;

	if (diag__tagged_value(t, n, "SV_ESP", v, sizeof(v)) != 0) {
		diag__keep_output(ev, out);
		return sv_error_set(SV_ERROR,
				    "the ESP probe script gave no "
				    "answer (PowerShell exit code %d)",
				    out->exit_code);
	}
	if (sv_str_startswith(v, "error ")) {
		diag__keep_output(ev, out);
		return sv_error_set(SV_ERROR, "Get-Partition failed: %s",
				    v + 6);
	}
	if (sv_parse_u64(&count, v) < 0)
		return sv_error_set(SV_ERROR, "the ESP probe printed '%s'", v);
	rc |= sv_json_set(ev, "found", json_boolean(count > 0));
	if (count == 0)
		return rc ? SV_ENOMEM : 0;
	if (diag__tagged_value(t, n, "SV_ESP_VOLUME", vol, sizeof(vol)) == 0 &&
	    vol[0])
		rc |= sv_json_set(ev, "volume", json_string(vol));
	if (diag__tagged_value(t, n, "SV_ESP_LOCK", lock, sizeof(lock)) != 0)
		rc |= sv_json_set(ev, "lock", json_string("not_probed"));
	else if (!strcmp(lock, "ok"))
		rc |= sv_json_set(ev, "lock", json_string("ok"));
	else if (sv_str_startswith(lock, "locked ") ||
		 sv_str_startswith(lock, "open ")) {
		uint64_t e = 0;
		const char *num = strchr(lock, ' ') + 1;

		sv_parse_u64(&e, num);
		rc |= sv_json_set(
			ev, "lock",
			json_string(lock[0] == 'l' ? "locked" : "open_failed"));
		rc |= sv_json_set(ev, "win32_error",
				  json_integer((json_int_t)e));
	} else {
		rc |= sv_json_set(ev, "lock", json_string("error"));
		rc |= sv_json_set(ev, "lock_error",
				  json_string(sv_str_startswith(lock, "error ")
						      ? lock + 6
						      : lock));
	}
	return rc ? SV_ENOMEM : 0;
}

static int win_esp(const diag__provider *p, uint32_t timeout_ms, json_t *ev)
{
	diag__output out;
	int rc;

	diag__output_init(&out);
	rc = win_powershell(p, esp_script, timeout_ms, &out);
	if (rc == 0)
		rc = esp_from_output(ev, &out);
	diag__output_release(&out);
	return rc;
}

/* BitLocker: WMI's lock status (0 unlocked, 1 locked). The namespace is
 * absent where BitLocker is not installed. */
static const char bitlocker_head[] =
	"$ErrorActionPreference = 'Stop'\n"
	"try {\n"
	"  $v = Get-CimInstance -Namespace "
	"'root/cimv2/Security/MicrosoftVolumeEncryption' -ClassName "
	"Win32_EncryptableVolume -Filter \"DriveLetter='";
static const char bitlocker_tail[] =
	"'\"\n"
	"} catch { 'SV_BL=error ' + $_.Exception.NativeErrorCode + ' ' + "
	"$_.Exception.Message; exit 0 }\n"
	"if (-not $v) { 'SV_BL=none'; exit 0 }\n"
	"$l = Invoke-CimMethod -InputObject $v -MethodName GetLockStatus\n"
	"'SV_BL=' + $l.LockStatus\n"
	"'SV_BL_PROTECTION=' + $v.ProtectionStatus\n";

static int bitlocker_from_output(json_t *ev, const diag__output *out)
{
	char v[TAG_MAX], prot[64];
	uint64_t n;
	int rc = 0;

	if (diag__tagged_value(out->text.ptr, out->text.len, "SV_BL", v,
			       sizeof(v)) != 0) {
		diag__keep_output(ev, out);
		return sv_error_set(SV_ERROR,
				    "the BitLocker probe script gave "
				    "no answer (PowerShell exit code %d)",
				    out->exit_code);
	}
	if (!strcmp(v, "none"))
		return sv_json_set(ev, "encryptable", json_false());
	if (sv_str_startswith(v, "error InvalidNamespace") ||
	    sv_str_startswith(v, "error InvalidClass"))
		return sv_json_set(ev, "installed", json_false());
	if (sv_str_startswith(v, "error AccessDenied"))
		return sv_error_set(SV_EACCESS, "WMI BitLocker status: %s",
				    v + 6);
	if (sv_str_startswith(v, "error "))
		return sv_error_set(SV_ERROR, "WMI BitLocker status: %s",
				    v + 6);
	if (sv_parse_u64(&n, v) < 0)
		return sv_error_set(SV_ERROR,
				    "the BitLocker probe printed "
				    "'%s'",
				    v);
	rc |= sv_json_set(ev, "lock_status", json_integer((json_int_t)n));
	if (diag__tagged_value(out->text.ptr, out->text.len, "SV_BL_PROTECTION",
			       prot, sizeof(prot)) == 0 &&
	    sv_parse_u64(&n, prot) == 0)
		rc |= sv_json_set(ev, "protection_status",
				  json_integer((json_int_t)n));
	return rc ? SV_ENOMEM : 0;
}

static int win_bitlocker(const diag__provider *p, const char *volume,
			 uint32_t timeout_ms, json_t *ev)
{
	char drive[3], *script = NULL;
	diag__output out;
	int rc;

	if (strlen(volume) < 2 || volume[1] != ':' ||
	    !((volume[0] >= 'A' && volume[0] <= 'Z') ||
	      (volume[0] >= 'a' && volume[0] <= 'z')))
		return sv_error_set(SV_EINVAL, "'%s' is not a drive", volume);
	drive[0] = volume[0];
	drive[1] = ':';
	drive[2] = '\0';
	diag__output_init(&out);
	rc = sv_json_set(ev, "drive", json_string(drive));
	if (rc == 0 && !(script = sv_aprintf("%s%s%s", bitlocker_head, drive,
					     bitlocker_tail)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = win_powershell(p, script, timeout_ms, &out);
	if (rc == 0)
		rc = bitlocker_from_output(ev, &out);
	free(script);
	diag__output_release(&out);
	return rc;
}

static const char dedup_head[] =
	"$ErrorActionPreference = 'Stop'\n"
	"try {\n"
	"  $d = @(Get-DedupVolume | Where-Object { $_.Volume -eq '";
static const char dedup_tail[] =
	"' -and $_.Enabled })\n"
	"  'SV_DEDUP=' + $d.Count\n"
	"} catch { 'SV_DEDUP=error ' + $_.Exception.Message }\n";

/* Data Deduplication: without its service it cannot be on; with it, ask
 * its module about the scratch folder's drive. */
static int win_dedup(const diag__provider *p, const char *path,
		     uint32_t timeout_ms, json_t *ev)
{
	char drive[3], v[TAG_MAX], *script = NULL;
	sv_service_info si;
	diag__output out;
	uint64_t n = 0;
	int rc;

	rc = p->service_query("ddpsvc", &si);
	if (rc == SV_ENOTFOUND) {
		sv_error_clear();
		return sv_json_set(ev, "installed", json_false()) |
		       sv_json_set(ev, "enabled", json_false());
	}
	if (rc < 0)
		return rc;
	if (strlen(path) < 2 || path[1] != ':' ||
	    !((path[0] >= 'A' && path[0] <= 'Z') ||
	      (path[0] >= 'a' && path[0] <= 'z')))
		return sv_error_set(SV_ENOTSUPPORTED,
				    "'%s' has no drive "
				    "letter to ask Data Deduplication about",
				    path);
	drive[0] = path[0];
	drive[1] = ':';
	drive[2] = '\0';
	if (!(script = sv_aprintf("%s%s%s", dedup_head, drive, dedup_tail)))
		return SV_ENOMEM;
	diag__output_init(&out);
	rc = win_powershell(p, script, timeout_ms, &out);
	if (rc == 0 && (diag__tagged_value(out.text.ptr, out.text.len,
					   "SV_DEDUP", v, sizeof(v)) != 0 ||
			sv_parse_u64(&n, v) < 0))
		rc = sv_error_set(SV_ERROR, "Get-DedupVolume: %s",
				  v[0] ? v : "no answer");
	if (rc == 0)
		rc = sv_json_set(ev, "installed", json_true()) |
		     sv_json_set(ev, "enabled", json_boolean(n > 0));
	free(script);
	diag__output_release(&out);
	return rc;
}

static int win_time_zone(const diag__provider *p, uint32_t timeout_ms,
			 char *dst, size_t size)
{
	static const char *const args[] = {
		"query",
		"HKLM\\SYSTEM\\CurrentControlSet\\Control\\"
		"TimeZoneInformation",
		"/v", "TimeZoneKeyName", NULL};
	diag__output out;
	int rc;

	diag__output_init(&out);
	rc = win_tool(p, "reg.exe", args, timeout_ms, &out);
	if (rc == 0 && diag__parse_reg_sz(out.text.ptr, out.text.len,
					  "TimeZoneKeyName", dst, size) != 0)
		rc = sv_error_set(SV_ENOTFOUND,
				  "no TimeZoneKeyName in the "
				  "registry (reg exit code %d)",
				  out.exit_code);
	diag__output_release(&out);
	return rc;
}

const diag__provider diag__provider_windows = {
	"windows",
	sv_service_query,
	sv_acl_system_full_control,
	sv_volume_query,
	sv_fs_stat,
	sv_fs_attributes,
	diag__write_probe,
	sv_firmware_type_get,
	sv_smbios_read,
	sv_machine_name,
	sv_machine_fqdn,
	sv_os_version,
	sv_env_get,
	sv_time_now,
	diag__run_command,
	win_system_volume,
	win_process_list,
	win_vss_writers,
	win_shadow_storage,
	win_esp,
	win_bitlocker,
	win_time_zone,
	win_dedup,
};
