/*
 * sim_text.c - what the simulator prints: every line ends in CRLF, goes
 * through the console encoding of sim_os_*.c, and is copied to the
 * transcript file when WBADMIN_SIM_TRANSCRIPT names one. Texts come in
 * English (verbatim from WBADMIN.md where it quotes them) and in an
 * invented German; HRESULTs, version identifiers and file names are the
 * same in both. Placeholders are %1, %2, %3, as in FormatMessage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "sv_fs.h"
#include "sv_time.h"

typedef struct sim_texts {
	const char *en, *de;
} sim_texts;

#define LOGDIR "C:\\Windows\\Logs\\WindowsServerBackup\\"

/* clang-format off */
static const sim_texts texts[M_COUNT] = {
	[M_BANNER1] = { "wbadmin 1.0 - Backup command-line tool",
		"wbadmin 1.0 - Befehlszeilenprogramm für Sicherungen" },
	[M_BANNER2] = {
		"(C) Copyright 2013 Microsoft Corporation. All rights reserved.",
		"(C) Copyright 2013 Microsoft Corporation. Alle Rechte vorbehalten." },
	[M_SYNTAX] = {
		"ERROR - Command syntax incorrect. Error: %1. See the command syntax below.",
		"FEHLER - Falsche Befehlssyntax. Fehler: %1. Die Befehlssyntax wird unten angezeigt." },
	[M_SYNTAX_HINT] = { "Commands supported:", "Unterstützte Befehle:" },
	[M_START_BACKUP] = {
		"Starting to back up the system state [%1]...",
		"Die Sicherung des Systemstatus wird gestartet [%1]..." },
	[M_RETRIEVING] = { "Retrieving volume information...",
		"Volumeinformationen werden abgerufen..." },
	[M_WILL_BACKUP] = {
		"This will back up the system state from volume(s) System Reserved (100.00 MB),(C:), and associated system volumes to %1.",
		"Hiermit wird der Systemstatus von Volume(s) System-reserviert (100.00 MB),(C:) und den zugehörigen Systemvolumes auf %1 gesichert." },
	[M_PROMPT_BACKUP] = {
		"Do you want to start the backup operation?",
		"Möchten Sie den Sicherungsvorgang starten?" },
	[M_YES_NO] = { "[Y] Yes [N] No ", "[J] Ja [N] Nein " },
	[M_SHADOW] = {
		"Creating a shadow copy of the volumes specified for backup...",
		"Eine Schattenkopie der für die Sicherung angegebenen Volumes wird erstellt..." },
	[M_SCANNING] = { "Scanning the file system...",
		"Das Dateisystem wird durchsucht..." },
	[M_FOUND] = { "Found (%1) files.", "(%1) Dateien gefunden." },
	[M_PROGRESS] = {
		"Overall progress: %1% (Currently backing up files reported by '%2')",
		"Gesamtstatus: %1% (Aktuell werden die von '%2' gemeldeten Dateien gesichert)" },
	[M_BACKUP_OK] = { "The backup operation successfully completed.",
		"Der Sicherungsvorgang wurde erfolgreich abgeschlossen." },
	[M_BACKUP_OK_AT] = {
		"The backup of the system state successfully completed [%1].",
		"Die Sicherung des Systemstatus wurde erfolgreich abgeschlossen [%1]." },
	[M_LOG_OK_COLON] = { "Log of files successfully backed up:",
		"Protokoll der erfolgreich gesicherten Dateien:" },
	[M_SUMMARY] = { "Summary of backup:", "Zusammenfassung der Sicherung:" },
	[M_BACKUP_FAILED_AT] = { "Backup of system state failed [%1]",
		"Fehler bei der Sicherung des Systemstatus [%1]" },
	[M_LOG_OK] = { "Log of files successfully backed up",
		"Protokoll der erfolgreich gesicherten Dateien" },
	[M_LOG_FAIL] = { "Log of files for which backup failed",
		"Protokoll der Dateien, deren Sicherung fehlgeschlagen ist" },
	[M_VSS_TIMEOUT] = {
		"A Volume Shadow Copy Service operation failed: the writer's time-out expired between the Freeze and Thaw events. (0x800423F2)",
		"Fehler bei einem Vorgang des Volumeschattenkopie-Dienstes: Das Zeitlimit des Writers ist zwischen den Freeze- und Thaw-Ereignissen abgelaufen. (0x800423F2)" },
	[M_SHADOW_STORAGE] = {
		"Insufficient storage available to create either the shadow copy storage file or other shadow copy data. (0x8004231F)",
		"Zum Erstellen der Schattenkopie-Speicherdatei oder anderer Schattenkopiedaten ist nicht genügend Speicherplatz verfügbar. (0x8004231F)" },
	[M_SHADOW_STORAGE2] = {
		"There is insufficient disk space on volumes containing system files to create the shadow copy.",
		"Auf den Volumes mit Systemdateien ist nicht genügend Speicherplatz für die Schattenkopie vorhanden." },
	[M_EFI_LOCKED] = {
		"Windows Backup failed to get an exclusive lock on the EFI system partition (ESP). This may happen if another application is using files on the ESP. Please retry the operation. (0x8078011E)",
		"Die Windows-Sicherung konnte keine exklusive Sperre für die EFI-Systempartition (ESP) erhalten. Möglicherweise verwendet eine andere Anwendung Dateien auf der ESP. Wiederholen Sie den Vorgang. (0x8078011E)" },
	[M_EFI_DETAIL] = { "Detailed error: Access is denied. (0x80070005)",
		"Detaillierter Fehler: Zugriff verweigert. (0x80070005)" },
	[M_ENUM_FAILED] = { "Enumeration of the files failed.",
		"Fehler beim Auflisten der Dateien." },
	[M_INVALID_PATH1] = {
		"The filename, directory name, or volume label syntax is incorrect. HResult: 80780049 DetailedHResult: 8007007B",
		"Die Syntax für den Dateinamen, Verzeichnisnamen oder die Datenträgerbezeichnung ist falsch. HResult: 80780049 DetailedHResult: 8007007B" },
	[M_INVALID_PATH2] = {
		"The system writer reported an invalid path (0x18770). The path is named in the log %1.",
		"Der System Writer hat einen ungültigen Pfad gemeldet (0x18770). Der Pfad steht im Protokoll %1." },
	[M_CRITICAL] = { "ERROR - The location for backup is a critical volume.",
		"FEHLER - Der Speicherort für die Sicherung ist ein kritisches Volume." },
	[M_ACCESS_DENIED] = {
		"ERROR - Access is denied. Run wbadmin from an elevated command prompt as a member of the Administrators or Backup Operators group. (0x80070005)",
		"FEHLER - Zugriff verweigert. Führen Sie wbadmin an einer Eingabeaufforderung mit erhöhten Rechten als Mitglied der Gruppe Administratoren oder Sicherungs-Operatoren aus. (0x80070005)" },
	[M_STOPPED] = {
		"The backup operation was stopped before it completed. (0x800704C7)",
		"Der Sicherungsvorgang wurde vor dem Abschluss beendet. (0x800704C7)" },
	[M_CANCELLED] = { "The operation was canceled by the user.",
		"Der Vorgang wurde vom Benutzer abgebrochen." },
	[M_TARGET_MISSING] = {
		"ERROR - The backup storage location '%1' cannot be found. (0x80070003)",
		"FEHLER - Der Sicherungsspeicherort '%1' wurde nicht gefunden. (0x80070003)" },
	[M_NO_BACKUP] = { "No backup was found.",
		"Es wurde keine Sicherung gefunden." },
	[M_VERSION_NOT_FOUND] = {
		"ERROR - The backup version %1 was not found on the backup location for the computer '%2'.",
		"FEHLER - Die Sicherungsversion %1 wurde am Sicherungsspeicherort für den Computer '%2' nicht gefunden." },
	[M_V_TIME] = { "Backup time: %1", "Sicherungszeit: %1" },
	[M_V_TARGET] = { "Backup target: Fixed Disk labeled %1",
		"Sicherungsziel: Festplatte mit der Bezeichnung %1" },
	[M_V_ID] = { "Version identifier: %1", "Versions-ID: %1" },
	[M_V_CAN] = {
		"Can recover: Volume(s), File(s), Application(s), System State",
		"Wiederherstellbar: Volume(s), Datei(en), Anwendung(en), Systemstatus" },
	[M_V_SNAP] = { "Snapshot ID: {%1}", "Momentaufnahme-ID: {%1}" },
	[M_DELETE_PROMPT] = {
		"Do you want to delete the selected system state backups?",
		"Möchten Sie die ausgewählten Systemstatussicherungen löschen?" },
	[M_DELETING] = {
		"Deleting the system state backup from %1 (version %2)...",
		"Die Systemstatussicherung vom %1 (Version %2) wird gelöscht..." },
	[M_DELETE_OK] = {
		"The delete operation of the system state backups successfully completed. Deleted (%1) backup(s).",
		"Das Löschen der Systemstatussicherungen wurde erfolgreich abgeschlossen. Gelöscht: (%1) Sicherung(en)." },
	[M_DELETE_NONE] = {
		"There are no system state backups to delete.",
		"Es sind keine Systemstatussicherungen zu löschen vorhanden." },
	[M_REC_CHOSEN] = {
		"You have chosen to recover the system state from the backup taken on %1 (version %2).",
		"Sie haben die Wiederherstellung des Systemstatus aus der Sicherung vom %1 (Version %2) gewählt." },
	[M_REC_AUTHSYSVOL] = {
		"The SYSVOL folder will be recovered as authoritative.",
		"Der SYSVOL-Ordner wird autoritativ wiederhergestellt." },
	[M_REC_PROMPT] = {
		"Do you want to start the system state recovery operation?",
		"Möchten Sie die Wiederherstellung des Systemstatus starten?" },
	[M_REC_START] = {
		"Starting a system state recovery operation [%1]...",
		"Die Wiederherstellung des Systemstatus wird gestartet [%1]..." },
	[M_REC_PROCESSING] = {
		"Processing files for recovery. This might take a few minutes...",
		"Dateien für die Wiederherstellung werden verarbeitet. Dies kann einige Minuten dauern..." },
	[M_REC_PROCESSED] = { "Processed (%1) files.",
		"(%1) Dateien verarbeitet." },
	[M_REC_PROGRESS] = {
		"Recovering the files reported by '%1', copied (%2%).",
		"Die von '%1' gemeldeten Dateien werden wiederhergestellt, kopiert (%2%)." },
	[M_REC_OK] = {
		"The system state recovery operation successfully completed [%1].",
		"Die Wiederherstellung des Systemstatus wurde erfolgreich abgeschlossen [%1]." },
	[M_REC_LOG_OK] = { "Log of files successfully recovered:",
		"Protokoll der erfolgreich wiederhergestellten Dateien:" },
	[M_REC_RESTART] = {
		"Please restart the server to complete the system state recovery.",
		"Starten Sie den Server neu, um die Wiederherstellung des Systemstatus abzuschließen." },
	[M_REC_REBOOTING] = {
		"The server will now restart to complete the system state recovery.",
		"Der Server wird jetzt neu gestartet, um die Wiederherstellung des Systemstatus abzuschließen." },
	[M_REC_SUMMARY] = { "Summary of recovery:",
		"Zusammenfassung der Wiederherstellung:" },
	[M_REC_FAILED_AT] = { "System state recovery failed [%1]",
		"Fehler bei der Wiederherstellung des Systemstatus [%1]" },
	[M_REC_LOG_FAIL] = { "Log of files for which recovery failed",
		"Protokoll der Dateien, deren Wiederherstellung fehlgeschlagen ist" },
	[M_REC_DIFFERS] = {
		"ERROR - The backup file '%1' does not match version %2: it differs at offset %3. (0x80780046)",
		"FEHLER - Die Sicherungsdatei '%1' entspricht nicht der Version %2: Abweichung bei Offset %3. (0x80780046)" },
	[M_REC_MISSING] = {
		"ERROR - The backup file '%1' of version %2 is missing. (0x80070002)",
		"FEHLER - Die Sicherungsdatei '%1' der Version %2 fehlt. (0x80070002)" },
	[M_REC_EXTRA] = {
		"ERROR - The backup location holds '%1', which is not part of version %2. (0x80780046)",
		"FEHLER - Der Sicherungsspeicherort enthält '%1', das nicht zur Version %2 gehört. (0x80780046)" },
	[M_REC_NOT_NEWEST] = {
		"ERROR - The files of version %2 are not the newest on the backup location: '%1' is newer. (0x80780046)",
		"FEHLER - Die Dateien der Version %2 sind nicht die neuesten am Sicherungsspeicherort: '%1' ist neuer. (0x80780046)" },
	[M_REC_CATALOG_BAD] = {
		"ERROR - The backup catalog '%1' is corrupted. (0x80780046)",
		"FEHLER - Der Sicherungskatalog '%1' ist beschädigt. (0x80780046)" },
	[M_REC_NO_SUMMARY] = {
		"There is no system state recovery to summarize.",
		"Es gibt keine Wiederherstellung des Systemstatus, die zusammengefasst werden kann." },
	[M_REC_AUTOREBOOT_ALT] = {
		"ERROR - The -autoReboot parameter can only be used when recovering to the original location.",
		"FEHLER - Der Parameter -autoReboot kann nur bei der Wiederherstellung am ursprünglichen Speicherort verwendet werden." },
	[M_STATUS_NONE] = {
		"There is no backup or recovery operation currently running.",
		"Zurzeit wird kein Sicherungs- oder Wiederherstellungsvorgang ausgeführt." },
	[M_STATUS_RUNNING] = {
		"A backup of the system state is in progress. Waiting for it to end...",
		"Eine Sicherung des Systemstatus wird ausgeführt. Es wird auf das Ende gewartet..." },
	[M_STATUS_ENDED] = { "The backup operation has ended.",
		"Der Sicherungsvorgang ist beendet." },
	[M_STOP_PROMPT] = {
		"Do you want to stop the current backup or recovery operation?",
		"Möchten Sie den aktuellen Sicherungs- oder Wiederherstellungsvorgang beenden?" },
	[M_STOP_NONE] = {
		"There is no backup or recovery operation currently running.",
		"Zurzeit wird kein Sicherungs- oder Wiederherstellungsvorgang ausgeführt." },
	[M_STOP_STOPPING] = {
		"Stopping the current backup or recovery operation...",
		"Der aktuelle Sicherungs- oder Wiederherstellungsvorgang wird beendet..." },
	[M_STOP_DONE] = { "The operation was stopped.",
		"Der Vorgang wurde beendet." },
	[M_ITEMS_APP] = { "Application = %1", "Anwendung = %1" },
	[M_ITEMS_COMPONENT] = { "Component = %1 (Writer Id: {%2})",
		"Komponente = %1 (Writer-ID: {%2})" },
	[M_BAD_VALUE] = {
		"ERROR - The value '%1' of the parameter %2 is not valid.",
		"FEHLER - Der Wert '%1' des Parameters %2 ist ungültig." },
	[M_BAD_MACHINE] = {
		"ERROR - '%1' is not a valid computer name.",
		"FEHLER - '%1' ist kein gültiger Computername." },
};
/* clang-format on */

/* ---- writing ---- */

static void emit(const sim_ctx *c, FILE *f, const char *text)
{
	sv_buf b;
	sv_file *tf = NULL;

	sv_buf_init(&b, (size_t)1 << 20);
	if (sim_os_encode(&b, text, strlen(text)) < 0 ||
	    sv_buf_add(&b, "\r\n", 2) < 0)
		goto done;
	fwrite(b.ptr, 1, b.len, f);
	fflush(f);
	if (c->transcript &&
	    sv_file_open(&tf, c->transcript, SV_O_WRITE | SV_O_CREATE) == 0) {
		uint64_t end = 0;

		if (sv_file_size(tf, &end) == 0)
			sv_file_pwrite(tf, b.ptr, b.len, end);
		sv_file_close(tf);
	}
done:
	sv_buf_release(&b);
}

void sim_line(const sim_ctx *c, const char *text)
{
	emit(c, stdout, text);
}

void sim_eline(const sim_ctx *c, const char *text)
{
	emit(c, stderr, text);
}

void sim_linef(const sim_ctx *c, const char *fmt, ...)
{
	sv_buf b;
	va_list ap;

	sv_buf_init(&b, (size_t)1 << 20);
	va_start(ap, fmt);
	sv_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	sim_line(c, b.ptr ? b.ptr : "");
	sv_buf_release(&b);
}

static char *expand(const sim_ctx *c, sim_msg id, va_list ap)
{
	const char *tmpl = c->german ? texts[id].de : texts[id].en;
	const char *args[3] = {NULL, NULL, NULL}, *a, *p;
	sv_buf b;
	int n = 0;

	while (n < 3 && (a = va_arg(ap, const char *)) != NULL)
		args[n++] = a;
	sv_buf_init(&b, (size_t)1 << 20);
	sv_buf_adds(&b, "");
	for (p = tmpl; *p; p++) {
		if (p[0] == '%' && p[1] >= '1' && p[1] <= '3' &&
		    args[p[1] - '1']) {
			sv_buf_adds(&b, args[p[1] - '1']);
			p++;
		} else {
			sv_buf_addc(&b, *p);
		}
	}
	return sv_buf_take(&b);
}

char *sim_text(const sim_ctx *c, sim_msg id, ...)
{
	va_list ap;
	char *s;

	va_start(ap, id);
	s = expand(c, id, ap);
	va_end(ap);
	return s;
}

void sim_say(const sim_ctx *c, sim_msg id, ...)
{
	va_list ap;
	char *s;

	va_start(ap, id);
	s = expand(c, id, ap);
	va_end(ap);
	sim_line(c, s ? s : "");
	free(s);
}

void sim_banner(const sim_ctx *c)
{
	sim_say(c, M_BANNER1, NULL);
	sim_say(c, M_BANNER2, NULL);
	sim_line(c, "");
}

int sim_confirm(const sim_ctx *c, sim_msg id)
{
	char answer[64];

	sim_say(c, id, NULL);
	sim_say(c, M_YES_NO, NULL);
	if (!fgets(answer, sizeof(answer), stdin))
		return 0;
	return answer[0] == 'y' || answer[0] == 'Y' ||
	       (c->german && (answer[0] == 'j' || answer[0] == 'J'));
}

/* ---- dates ---- */

static void local_tm(sv_tm *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm *lt = localtime(&tt);

	if (!lt) {
		sv_time_to_tm(out, t);
		return;
	}
	out->year = lt->tm_year + 1900;
	out->month = lt->tm_mon + 1;
	out->day = lt->tm_mday;
	out->hour = lt->tm_hour;
	out->min = lt->tm_min;
	out->sec = lt->tm_sec;
	out->wday = lt->tm_wday;
}

void sim_date_local(const sim_ctx *c, char *dst, size_t size, int64_t t)
{
	sv_tm tm;
	int h12;

	local_tm(&tm, t);
	if (c->german) {
		sv_snprintf(dst, size, "%02d.%02d.%04d %02d:%02d", tm.day,
			    tm.month, tm.year, tm.hour, tm.min);
		return;
	}
	h12 = tm.hour % 12 ? tm.hour % 12 : 12;
	sv_snprintf(dst, size, "%d/%d/%04d %d:%02d %s", tm.month, tm.day,
		    tm.year, h12, tm.min, tm.hour < 12 ? "AM" : "PM");
}

void sim_date_log(char *dst, size_t size, int64_t t, char sep)
{
	sv_tm tm;

	local_tm(&tm, t);
	sv_snprintf(dst, size, "%02d-%02d-%04d%c%02d-%02d-%02d", tm.day,
		    tm.month, tm.year, sep, tm.hour, tm.min, tm.sec);
}

void sim_version_id(char dst[SIM_ID_LEN + 1], int64_t t)
{
	sv_tm tm;

	sv_time_to_tm(&tm, t);
	sv_snprintf(dst, SIM_ID_LEN + 1, "%02d/%02d/%04d-%02d:%02d",
		    tm.month % 100, tm.day % 100, tm.year % 10000,
		    tm.hour % 100, tm.min % 100);
}

void sim_folder_name(char *dst, size_t size, int64_t t)
{
	sv_tm tm;

	sv_time_to_tm(&tm, t);
	sv_snprintf(dst, size, "Backup %04d-%02d-%02d %02d%02d%02d", tm.year,
		    tm.month, tm.day, tm.hour, tm.min, tm.sec);
}

void sim_failure_summary(const sim_ctx *c, int64_t t, char *err_log,
			 size_t size)
{
	char date[64], stamp[32], *ok = NULL, *bad = NULL;

	sim_date_local(c, date, sizeof(date), t);
	sim_date_log(stamp, sizeof(stamp), t, ' ');
	ok = sv_aprintf("'" LOGDIR "SystemStateBackup %s.log'", stamp);
	bad = sv_aprintf("'" LOGDIR "SystemStateBackup_Error %s.log'", stamp);
	sim_say(c, M_SUMMARY, NULL);
	sim_say(c, M_BACKUP_FAILED_AT, date, NULL);
	sim_say(c, M_LOG_OK, NULL);
	sim_line(c, ok ? ok : "");
	sim_say(c, M_LOG_FAIL, NULL);
	sim_line(c, bad ? bad : "");
	if (err_log && bad)
		sv_strlcpy(err_log, bad, size);
	free(ok);
	free(bad);
}
