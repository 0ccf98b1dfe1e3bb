/*
 * schedule_xml.c - the schedule as text: parsing the options, the
 * config.json value, the Task Scheduler XML, the systemd units and the
 * cron line. Portable, so that every platform's tests read what Windows
 * and systemd will be given.
 *
 * The Task Scheduler XML never goes through schtasks' /SD /ST date flags:
 * those follow the machine's locale, the XML's dates do not.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "sv_buf.h"
#include "sv_path.h"

#define TEXT_MAX (1024 * 1024)
#define TASK_NS "http://schemas.microsoft.com/windows/2004/02/mit/task"

/* A text under construction whose first failed append sticks, so that
 * the builders below check once, at the end. */
typedef struct text {
	sv_buf b;
	int failed;
} text;

static void t_init(text *t)
{
	sv_buf_init(&t->b, TEXT_MAX);
	t->failed = 0;
}

static void t_adds(text *t, const char *s)
{
	if (!t->failed && sv_buf_adds(&t->b, s) < 0)
		t->failed = 1;
}

static void t_addc(text *t, char c)
{
	if (!t->failed && sv_buf_addc(&t->b, c) < 0)
		t->failed = 1;
}

static void t_printf(text *t, const char *fmt, ...) SV_PRINTF(2, 3);
static void t_printf(text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!t->failed && sv_buf_vprintf(&t->b, fmt, ap) < 0)
		t->failed = 1;
	va_end(ap);
}

/* The text (caller frees), or NULL when an append failed. */
static char *t_take(text *t)
{
	if (t->failed) {
		sv_buf_release(&t->b);
		sv_error_set(SV_ENOMEM,
			     "out of memory building the schedule's text");
		return NULL;
	}
	return sv_buf_take(&t->b);
}

/* Monday first: how people list them, and how config.json stores them. */
static const struct {
	const char *abbr, *xml;
	int wday;
} g_days[7] = {
	{"Mon", "Monday", 1},	{"Tue", "Tuesday", 2}, {"Wed", "Wednesday", 3},
	{"Thu", "Thursday", 4}, {"Fri", "Friday", 5},  {"Sat", "Saturday", 6},
	{"Sun", "Sunday", 0},
};

/* ---- parsing ---- */

static int two_digits(const char *p, int *out)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	*out = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

int sv_schedule_parse_time(sv_schedule *s, const char *hhmm)
{
	int h, m;

	if (strlen(hhmm) != 5 || hhmm[2] != ':' || two_digits(hhmm, &h) < 0 ||
	    two_digits(hhmm + 3, &m) < 0 || h > 23 || m > 59)
		return sv_error_set(SV_EUSAGE,
				    "'%s' is not a time of day: use HH:MM, "
				    "24-hour, local time (e.g. 21:00)",
				    hhmm);
	s->hour = h;
	s->min = m;
	return 0;
}

static int day_bit(const char *name, size_t n)
{
	int i;

	for (i = 0; n == 3 && i < 7; i++)
		if (sv_ascii_ncaseeq(name, g_days[i].abbr, 3))
			return 1 << g_days[i].wday;
	return 0;
}

int sv_schedule_parse_days(unsigned *days, const char *list)
{
	const char *p = list, *end;
	int bit;

	*days = 0;
	do {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		if (!(bit = day_bit(p, (size_t)(end - p))))
			return sv_error_set(SV_EUSAGE,
					    "'%.*s' in '%s' is not a day: use "
					    "Mon,Tue,Wed,Thu,Fri,Sat,Sun "
					    "separated by commas",
					    (int)(end - p), p, list);
		*days |= (unsigned)bit;
		p = end + 1;
	} while (*end);
	return 0;
}

/* ---- config.json ---- */

json_t *sv_schedule_to_json(const sv_schedule *s)
{
	char hhmm[8];
	json_t *days = json_array();
	int i;

	snprintf(hhmm, sizeof(hhmm), "%02d:%02d", s->hour, s->min);
	for (i = 0; days && i < 7; i++)
		if ((s->days & (1u << g_days[i].wday)) &&
		    json_array_append_new(days, json_string(g_days[i].abbr)) <
			    0) {
			json_decref(days);
			return NULL;
		}
	return days ? json_pack("{s:s,s:o}", "time", hhmm, "days", days) : NULL;
}

int sv_schedule_from_json(sv_schedule *s, const json_t *v)
{
	const char *t = json_string_value(json_object_get(v, "time"));
	const json_t *days = json_object_get(v, "days");
	const char *d;
	size_t i;
	int bit;

	if (!t || sv_schedule_parse_time(s, t) < 0)
		return sv_error_set(
			SV_EINVAL,
			"config.json: \"schedule.time\" is not HH:MM: "
			"run 'sysvault schedule set' again");
	s->days = days ? 0 : SV_SCHEDULE_EVERY_DAY;
	json_array_foreach(days, i, v)
	{
		d = json_string_value(v);
		if (!d || !(bit = day_bit(d, strlen(d))))
			return sv_error_set(
				SV_EINVAL,
				"config.json: \"schedule.days\" holds "
				"'%s', not a day: run 'sysvault schedule set' "
				"again",
				d ? d : "a non-string");
		s->days |= (unsigned)bit;
	}
	if (!s->days)
		return sv_error_set(
			SV_EINVAL,
			"config.json: \"schedule.days\" is empty: run "
			"'sysvault schedule set' again");
	return 0;
}

/* ---- the command the scheduled run executes ---- */

/* One argument as CommandLineToArgvW reads it back: quoted when it holds
 * a space, a tab or a quote; backslashes doubled only before a quote. */
static void win_quote(text *b, const char *arg)
{
	size_t bs = 0;

	if (arg[0] && !strpbrk(arg, " \t\"")) {
		t_adds(b, arg);
		return;
	}
	t_addc(b, '"');
	for (; *arg; arg++) {
		if (*arg == '\\') {
			bs++;
			continue;
		}
		while (bs) {
			t_adds(b, *arg == '"' ? "\\\\" : "\\");
			bs--;
		}
		if (*arg == '"')
			t_adds(b, "\\\"");
		else
			t_addc(b, *arg);
	}
	for (; bs; bs--)
		t_adds(b, "\\\\"); /* before the closing quote */
	t_addc(b, '"');
}

char *sv_schedule_win_args(const sv_schedule_cmd *c)
{
	text b;

	t_init(&b);
	if (c->state_dir) {
		t_adds(&b, "--state-dir ");
		win_quote(&b, c->state_dir);
		t_addc(&b, ' ');
	}
	t_adds(&b, SV_SCHEDULE_ARGS);
	return t_take(&b);
}

/* ---- Task Scheduler XML ---- */

/* Text and attribute values: the five characters XML reserves. */
static void xml_escape(text *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			t_adds(b, "&amp;");
			break;
		case '<':
			t_adds(b, "&lt;");
			break;
		case '>':
			t_adds(b, "&gt;");
			break;
		case '"':
			t_adds(b, "&quot;");
			break;
		case '\'':
			t_adds(b, "&apos;");
			break;
		default:
			t_addc(b, *s);
		}
	}
}

static void xml_elem(text *b, const char *indent, const char *name,
		     const char *value)
{
	t_printf(b, "%s<%s>", indent, name);
	xml_escape(b, value);
	t_printf(b, "</%s>\n", name);
}

/* triggerBaseType's StartBoundary, then the calendar. The boundary has no
 * zone suffix: Task Scheduler reads it as local time. Enabled (default
 * true) is left out: the schema puts it before StartBoundary, Windows'
 * own exports after it, and only its absence fits both. */
static void xml_trigger(text *b, const sv_schedule *s, const sv_tm *today)
{
	int i;

	t_adds(b, "  <Triggers>\n    <CalendarTrigger>\n");
	t_printf(b,
		 "      "
		 "<StartBoundary>%04d-%02d-%02dT%02d:%02d:00</StartBoundary>\n",
		 today->year, today->month, today->day, s->hour, s->min);
	if (s->days == SV_SCHEDULE_EVERY_DAY) {
		t_adds(b, "      <ScheduleByDay>\n        "
			  "<DaysInterval>1</DaysInterval>\n"
			  "      </ScheduleByDay>\n");
	} else {
		t_adds(b, "      <ScheduleByWeek>\n        "
			  "<WeeksInterval>1</WeeksInterval>\n"
			  "        <DaysOfWeek>\n");
		for (i = 0; i < 7; i++)
			if (s->days & (1u << g_days[i].wday))
				t_printf(b, "          <%s />\n",
					 g_days[i].xml);
		t_adds(b, "        </DaysOfWeek>\n      </ScheduleByWeek>\n");
	}
	t_adds(b, "    </CalendarTrigger>\n  </Triggers>\n");
}

static void xml_principal(text *b)
{
	t_adds(b, "  <Principals>\n    <Principal id=\"System\">\n"
		  "      <UserId>S-1-5-18</UserId>\n"
		  "      <RunLevel>HighestAvailable</RunLevel>\n"
		  "    </Principal>\n  </Principals>\n");
}

/* StartWhenAvailable: a run missed while the machine was off happens at
 * the next start. IgnoreNew: a run still going when the next is due
 * keeps going alone. A server on a UPS is still to be backed up. */
static void xml_settings(text *b)
{
	t_adds(b,
	       "  <Settings>\n"
	       "    "
	       "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
	       "    "
	       "<DisallowStartIfOnBatteries>false</"
	       "DisallowStartIfOnBatteries>\n"
	       "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
	       "    <AllowHardTerminate>true</AllowHardTerminate>\n"
	       "    <StartWhenAvailable>true</StartWhenAvailable>\n"
	       "    "
	       "<RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>\n"
	       "    <AllowStartOnDemand>true</AllowStartOnDemand>\n"
	       "    <Enabled>true</Enabled>\n"
	       "    <Hidden>false</Hidden>\n"
	       "    <RunOnlyIfIdle>false</RunOnlyIfIdle>\n"
	       "    <WakeToRun>false</WakeToRun>\n"
	       "    <ExecutionTimeLimit>" SV_SCHEDULE_TIME_LIMIT
	       "</ExecutionTimeLimit>\n"
	       "    <Priority>7</Priority>\n"
	       "  </Settings>\n");
}

static void xml_action(text *b, const sv_schedule_cmd *c, const char *args)
{
	t_adds(b, "  <Actions Context=\"System\">\n    <Exec>\n");
	xml_elem(b, "      ", "Command", c->exe);
	xml_elem(b, "      ", "Arguments", args);
	t_adds(b, "    </Exec>\n  </Actions>\n");
}

int sv_schedule_task_xml(char **out, const sv_schedule *s,
			 const sv_schedule_cmd *c, const sv_tm *today)
{
	char *args = sv_schedule_win_args(c);
	text b;

	*out = NULL;
	if (!args)
		return SV_ENOMEM;
	t_init(&b);
	t_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
		   "<Task version=\"1.2\" xmlns=\"" TASK_NS "\">\n"
		   "  <RegistrationInfo>\n"
		   "    <Author>sysvault</Author>\n"
		   "    <Description>sysvault: scheduled system-state backup "
		   "('sysvault schedule show'; change it with 'sysvault "
		   "schedule set')"
		   "</Description>\n"
		   "  </RegistrationInfo>\n");
	xml_trigger(&b, s, today);
	xml_principal(&b);
	xml_settings(&b);
	xml_action(&b, c, args);
	t_adds(&b, "</Task>\n");
	free(args);
	*out = t_take(&b);
	return *out ? 0 : SV_ENOMEM;
}

/* ---- UTF-16 ---- */

/* The code point at *p (valid UTF-8 already checked); advances *p. */
static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		cp = s[0];
		n = 1;
	} else if (s[0] < 0xe0) {
		cp = s[0] & 0x1f;
		n = 2;
	} else if (s[0] < 0xf0) {
		cp = s[0] & 0x0f;
		n = 3;
	} else {
		cp = s[0] & 0x07;
		n = 4;
	}
	for (int i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	*p = s + n;
	return cp;
}

static void put16(text *b, uint32_t u)
{
	t_addc(b, (char)(u & 0xff));
	t_addc(b, (char)(u >> 8));
}

int sv_schedule_utf16(char **out, size_t *len, const char *utf8)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t n = strlen(utf8);
	uint32_t cp;
	text b;

	*out = NULL;
	if (!sv_utf8_valid(utf8, n))
		return sv_error_set(SV_EINVAL,
				    "the task definition is not valid UTF-8");
	t_init(&b);
	put16(&b, 0xfeff);
	while (*p) {
		cp = utf8_next(&p);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put16(&b, 0xd800 | (cp >> 10));
			put16(&b, 0xdc00 | (cp & 0x3ff));
		} else {
			put16(&b, cp);
		}
	}
	*len = b.b.len;
	*out = t_take(&b);
	return *out ? 0 : SV_ENOMEM;
}

/* ---- systemd and cron ---- */

char *sv_schedule_oncalendar(const sv_schedule *s)
{
	text b;
	int i, first = 1;

	t_init(&b);
	for (i = 0; s->days != SV_SCHEDULE_EVERY_DAY && i < 7; i++) {
		if (!(s->days & (1u << g_days[i].wday)))
			continue;
		t_printf(&b, "%s%s", first ? "" : ",", g_days[i].abbr);
		first = 0;
	}
	t_printf(&b, "%s*-*-* %02d:%02d:00", first ? "" : " ", s->hour, s->min);
	return t_take(&b);
}

/* One ExecStart= word: double-quoted, with systemd's specifiers (%) and
 * variables ($) kept literal. */
static void unit_quote(text *b, const char *arg)
{
	t_addc(b, '"');
	for (; *arg; arg++) {
		if (*arg == '"' || *arg == '\\')
			t_addc(b, '\\');
		if (*arg == '%' || *arg == '$')
			t_addc(b, *arg);
		t_addc(b, *arg);
	}
	t_addc(b, '"');
}

static char *service_text(const sv_schedule_cmd *c)
{
	text b;

	t_init(&b);
	t_adds(&b,
	       "# Written by 'sysvault schedule set'; removed by 'sysvault "
	       "schedule remove'.\n"
	       "[Unit]\nDescription=sysvault scheduled system-state backup\n"
	       "Wants=network-online.target\nAfter=network-online.target\n\n"
	       "[Service]\nType=oneshot\nExecStart=");
	unit_quote(&b, c->exe);
	if (c->state_dir) {
		t_adds(&b, " --state-dir ");
		unit_quote(&b, c->state_dir);
	}
	t_adds(&b, " " SV_SCHEDULE_ARGS "\n");
	return t_take(&b);
}

/* Persistent=true is the timer's StartWhenAvailable: a run missed while
 * the machine was off happens when it is back. */
static char *timer_text(const sv_schedule *s)
{
	char *cal = sv_schedule_oncalendar(s);
	char *t = cal ? sv_aprintf("# Written by 'sysvault schedule set'; "
				   "removed by "
				   "'sysvault schedule remove'.\n"
				   "[Unit]\nDescription=sysvault scheduled "
				   "system-state backup\n\n"
				   "[Timer]\nOnCalendar=%s\nPersistent=true\n"
				   "Unit=" SV_SCHEDULE_NAME ".service\n\n"
				   "[Install]\nWantedBy=timers.target\n",
				   cal)
		      : NULL;

	free(cal);
	return t;
}

int sv_schedule_systemd_units(char **service, char **timer,
			      const sv_schedule *s, const sv_schedule_cmd *c)
{
	*service = service_text(c);
	*timer = timer_text(s);
	if (*service && *timer)
		return 0;
	free(*service);
	free(*timer);
	*service = *timer = NULL;
	return SV_ENOMEM;
}

/* One word for /bin/sh, single-quoted; '%' escaped because cron turns a
 * bare one into a newline. */
static void sh_quote(text *b, const char *arg)
{
	t_addc(b, '\'');
	for (; *arg; arg++) {
		if (*arg == '\'')
			t_adds(b, "'\\''");
		else if (*arg == '%')
			t_adds(b, "\\%");
		else
			t_addc(b, *arg);
	}
	t_addc(b, '\'');
}

char *sv_schedule_cron_line(const sv_schedule *s, const sv_schedule_cmd *c)
{
	text b;
	int i, first = 1;

	t_init(&b);
	t_printf(&b, "%d %d * * ", s->min, s->hour);
	for (i = 0; i < 7; i++) {
		if (s->days == SV_SCHEDULE_EVERY_DAY || !(s->days & (1u << i)))
			continue;
		t_printf(&b, "%s%d", first ? "" : ",", i);
		first = 0;
	}
	t_adds(&b, first ? "* root " : " root ");
	sh_quote(&b, c->exe);
	if (c->state_dir) {
		t_adds(&b, " --state-dir ");
		sh_quote(&b, c->state_dir);
	}
	t_adds(&b, " " SV_SCHEDULE_ARGS);
	return t_take(&b);
}
