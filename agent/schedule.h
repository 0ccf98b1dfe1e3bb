/*
 * schedule.h - when the scheduled system-state backup runs, and how the
 * operating system is told: a Task Scheduler task on Windows, a systemd
 * timer (or a cron line) elsewhere.
 *
 * schedule_xml.c is portable: parsing, the config.json shape, the Task
 * Scheduler XML, the systemd units and the cron line, all as text that the
 * unit tests read. schedule_win.c (schtasks) and schedule_posix.c
 * (systemd) register that text with the OS; CMake picks one.
 */
#ifndef SV_SCHEDULE_H
#define SV_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "sv_json.h"
#include "sv_time.h"

/* The task and unit name, on every platform. */
#define SV_SCHEDULE_NAME "sysvault-backup"
/* What the scheduled run executes after the program's path. */
#define SV_SCHEDULE_ARGS "backup --scheduled"
/* Task Scheduler stops a run after this long (its own default): a hung
 * run must not hold the schedule forever; an interrupted backup's packs
 * are reused by the next one. */
#define SV_SCHEDULE_TIME_LIMIT "PT72H"

/* Days as a bit set: bit 0 Sunday .. bit 6 Saturday (sv_tm.wday). */
#define SV_SCHEDULE_EVERY_DAY 0x7fu

typedef struct sv_schedule {
	int hour, min; /* local time */
	unsigned days; /* SV_SCHEDULE_EVERY_DAY for a daily schedule */
} sv_schedule;

/* "21:00" -> hour and minute; SV_EUSAGE naming the text otherwise. */
int sv_schedule_parse_time(sv_schedule *s, const char *hhmm);
/* "Mon,Wed" (three-letter English names, any case, any order) -> days;
 * SV_EUSAGE naming the bad day otherwise. */
int sv_schedule_parse_days(unsigned *days, const char *list);

/* The config.json value: {"time": "21:00", "days": ["Mon", "Wed"]}, the
 * days Monday first (all seven for a daily schedule). NULL on ENOMEM. */
json_t *sv_schedule_to_json(const sv_schedule *s);
/* Reads that value back; SV_EINVAL naming the bad field. */
int sv_schedule_from_json(sv_schedule *s, const json_t *v);

/*
 * What the scheduled run executes: the program's full path and its
 * arguments (SV_SCHEDULE_ARGS, preceded by --state-dir <dir> when
 * state_dir is not NULL).
 */
typedef struct sv_schedule_cmd {
	const char *exe;
	const char *state_dir; /* NULL: the default state directory */
} sv_schedule_cmd;

/*
 * The Task Scheduler task (schema 1.2, namespace
 * http://schemas.microsoft.com/windows/2004/02/mit/task) as UTF-8 text
 * with an encoding="UTF-16" declaration: a CalendarTrigger (ScheduleByDay
 * for every day, else ScheduleByWeek) starting on `today` at the local
 * time, the SYSTEM principal (S-1-5-18, HighestAvailable),
 * StartWhenAvailable, IgnoreNew, the time limit, and one Exec action.
 * Caller frees *out.
 */
int sv_schedule_task_xml(char **out, const sv_schedule *s,
			 const sv_schedule_cmd *c, const sv_tm *today);
/* UTF-8 -> UTF-16LE with a byte-order mark: what schtasks /XML reads.
 * SV_EINVAL for invalid UTF-8. Caller frees *out. */
int sv_schedule_utf16(char **out, size_t *len, const char *utf8);
/* The Windows command line for args (CommandLineToArgvW's quoting). */
char *sv_schedule_win_args(const sv_schedule_cmd *c);

/* systemd's OnCalendar= for the schedule: "Mon,Wed *-*-* 21:00:00". */
char *sv_schedule_oncalendar(const sv_schedule *s);
/* The two unit files' text (Type=oneshot service; timer with
 * Persistent=true, the equivalent of StartWhenAvailable). */
int sv_schedule_systemd_units(char **service, char **timer,
			      const sv_schedule *s, const sv_schedule_cmd *c);
/* The /etc/cron.d line (with the user field: root). */
char *sv_schedule_cron_line(const sv_schedule *s, const sv_schedule_cmd *c);

/* ---- the OS side: schedule_win.c / schedule_posix.c ---- */

/* This program's full path (caller frees), or NULL with the error set. */
char *sv_schedule_self_exe(void);

/*
 * Registers the schedule with the OS, replacing an earlier one, and adds
 * what it did to report (an object): "mechanism" (task_scheduler,
 * systemd, cron), the files written, "enabled", and for cron the
 * "cron_line" and "cron_file" the administrator installs. state_dir holds
 * the temporary XML on Windows.
 */
int sv_schedule_install(const sv_schedule *s, const sv_schedule_cmd *c,
			const char *state_dir, json_t *report);
/* Removes the task or units; absent ones are not an error. */
int sv_schedule_uninstall(json_t *report);
/* What the OS has registered: "mechanism", "installed" and whatever the
 * OS tells (next run, timer state). */
int sv_schedule_query(json_t *report);

#endif
