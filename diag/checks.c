/*
 * checks.c - the table of preflight checks. The ids are stable: scripts,
 * job records and --skip-check name them. docs/preflight.md describes each
 * row; keep the two together.
 */
#include <string.h>

#include "diag_int.h"

/* A probe's own limit: in-process questions answer in milliseconds, the
 * tools (tasklist, vssadmin, PowerShell) and the vault may take seconds. */
#define QUICK 5000u
#define TOOL 8000u

const diag__check diag__checks[DIAG__NCHECKS] = {
	{"PF001", "Windows Server Backup installed", DIAG_BLOCKING, QUICK,
	 diag__probe_wsb, diag__verdict_wsb,
	 "Install Windows Server Backup: Install-WindowsFeature -Name "
	 "Windows-Server-Backup (elevated PowerShell), or Server Manager > "
	 "Add Roles and Features > Features. If wbadmin lives elsewhere, "
	 "point SYSVAULT_WBADMIN (or \"wsb.wbadmin\" in config.json) at it."},
	{"PF002", "Backup services", DIAG_BLOCKING, QUICK, diag__probe_services,
	 diag__verdict_services,
	 "Set RpcSs, EventSystem and SENS to Automatic and start them; set "
	 "VSS and swprv to Manual: sc config <name> start= auto (or "
	 "demand), then sc start <name>."},
	{"PF003", "System Volume Information ACL", DIAG_BLOCKING, QUICK,
	 diag__probe_svi_acl, diag__verdict_svi_acl,
	 "Give SYSTEM full control back, from an elevated prompt: icacls "
	 "\"C:\\System Volume Information\" /grant *S-1-5-18:(OI)(CI)F, and "
	 "remove any deny entry for SYSTEM, Administrators or Everyone."},
	{"PF004", "Scratch folder usable", DIAG_BLOCKING, TOOL,
	 diag__probe_scratch, diag__verdict_scratch,
	 "Point the scratch folder (--scratch, or \"scratch\" in "
	 "config.json) at a plain folder on a local, fixed, NTFS volume: not "
	 "encrypted (EFS), compressed or sparse, not a junction, symbolic "
	 "link or mount point, not on a deduplicated volume, and writable "
	 "by SYSTEM. Create it if it does not exist."},
	{"PF005", "Scratch free space", DIAG_BLOCKING, QUICK,
	 diag__probe_scratch_space, diag__verdict_scratch_space,
	 "Free space on the scratch volume, or move the scratch folder to a "
	 "volume with at least 30 GiB free (or 10% of the last backup when "
	 "that is more)."},
	{"PF006", "System volume free space", DIAG_BLOCKING, TOOL,
	 diag__probe_system_space, diag__verdict_system_space,
	 "Free space on the system volume (Disk Cleanup, old logs and "
	 "installers); if the shadow storage is bounded, give it room: "
	 "vssadmin resize shadowstorage /for=C: /on=C: /maxsize=10%."},
	{"PF007", "EFI system partition", DIAG_BLOCKING, TOOL, diag__probe_esp,
	 diag__verdict_esp,
	 "Another process holds the EFI system partition (wbadmin then "
	 "fails with 0x8078011E): allow-list wbadmin and sysvault in "
	 "third-party security software, let other backup software finish, "
	 "and remove any drive letter given to the ESP (mountvol <X>: /d)."},
	{"PF008", "VSS writers stable", DIAG_BLOCKING, TOOL,
	 diag__probe_writers, diag__verdict_writers,
	 "Restart the service hosting each failed writer, then check that "
	 "'vssadmin list writers' shows every writer [1] Stable with no "
	 "error."},
	{"PF009", "No other backup running", DIAG_BLOCKING, TOOL,
	 diag__probe_other_backup, diag__verdict_other_backup,
	 "Let the other backup finish (or stop it) first, and schedule "
	 "backups apart. 'wbadmin get status' follows a running Windows "
	 "Server Backup job."},
	{"PF010", "BitLocker unlocked", DIAG_BLOCKING, TOOL,
	 diag__probe_bitlocker, diag__verdict_bitlocker,
	 "Unlock the volume: manage-bde -unlock C: -RecoveryPassword "
	 "<password> (or -Password), and turn on auto-unlock for it."},
	{"PF011", "Clock agrees with the vault", DIAG_BLOCKING, TOOL,
	 diag__probe_clock, diag__verdict_clock,
	 "Set the clock right: w32tm /resync /force. A domain member follows "
	 "its domain controller; the PDC emulator needs a reliable source "
	 "(w32tm /config /manualpeerlist:<ntp server> /syncfromflags:manual "
	 "/update). Check the time zone with tzutil /g."},
	{"PF012", "Vault reachable", DIAG_BLOCKING, TOOL, diag__probe_vault,
	 diag__verdict_vault,
	 "Check the vault URL, name resolution, the proxy and the firewall "
	 "(outbound HTTPS), then the credentials."},
	{"PF013", "Registration valid", DIAG_BLOCKING, QUICK,
	 diag__probe_registration, diag__verdict_registration,
	 "Register this machine again (sysvault register) or renew its "
	 "credentials."},
	{"PF014", "Not an Azure VM", DIAG_BLOCKING, QUICK, diag__probe_azure,
	 diag__verdict_azure,
	 "System-state backup is not supported on Azure virtual machines: "
	 "protect this machine with Azure Backup's VM backup instead."},
	{"PF015", "Agent and OS versions", DIAG_WARNING, QUICK,
	 diag__probe_versions, diag__verdict_versions,
	 "sysvault needs Windows Server 2012 or newer (VHDX staging "
	 "volumes): upgrade the OS."},
};

int diag__check_index(const char *id)
{
	int i;

	for (i = 0; id && i < DIAG__NCHECKS; i++)
		if (sv_ascii_caseeq(id, diag__checks[i].id))
			return i;
	return -1;
}

int diag_check_exists(const char *id)
{
	return diag__check_index(id) >= 0;
}

const char *diag_verdict_name(diag_verdict v)
{
	switch (v) {
	case DIAG_PASS:
		return "pass";
	case DIAG_SKIP:
		return "skip";
	case DIAG_WARN:
		return "warn";
	case DIAG_FAIL:
		return "fail";
	}
	return "unknown";
}
