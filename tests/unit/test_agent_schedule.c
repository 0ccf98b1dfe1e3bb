/*
 * test_agent_schedule.c - the schedule's text: option parsing, the
 * config.json value, the Task Scheduler XML checked against the rules of
 * Microsoft's published Task Scheduler schema (taskType, triggerBaseType,
 * calendarTriggerType, principalType, settingsType, actionsType/execType;
 * namespace http://schemas.microsoft.com/windows/2004/02/mit/task), the
 * UTF-16 file schtasks reads, the systemd units and the cron line.
 *
 * The XML is read by a small strict parser below: it rejects anything
 * that is not well-formed (unbalanced or crossed tags, a bare '&' or '<',
 * an unknown entity, an unquoted attribute, two roots, text outside the
 * root) and gives the tree the schema rules are then checked on.
 */
#include "sv_test.h"

#include "schedule.h"
#include "sv_buf.h"

#define TASK_NS "http://schemas.microsoft.com/windows/2004/02/mit/task"
#define MAX_KIDS 32
#define MAX_ATTRS 4

/* ---- a strict XML reader (enough of XML 1.0 for task definitions) ---- */

typedef struct node {
	char name[64];
	char attr_name[MAX_ATTRS][32];
	char *attr_value[MAX_ATTRS];
	int nattrs;
	struct node *kids[MAX_KIDS];
	int nkids;
	sv_buf text; /* character data, entities resolved */
} node;

static void node_free(node *n)
{
	int i;

	if (!n)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	for (i = 0; i < n->nattrs; i++)
		free(n->attr_value[i]);
	sv_buf_release(&n->text);
	free(n);
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
	       c == ':';
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

/* An entity at *p ('&'...';') into out; -1 when it is not one XML knows. */
static int entity(const char **p, sv_buf *out)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {
		{"&amp;", '&'},	 {"&lt;", '<'},	   {"&gt;", '>'},
		{"&quot;", '"'}, {"&apos;", '\''},
	};
	size_t i;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (!strncmp(*p, ents[i].name, strlen(ents[i].name))) {
			sv_buf_addc(out, ents[i].c);
			*p += strlen(ents[i].name);
			return 0;
		}
	return -1;
}

/* Character data or an attribute value up to stop; '<' never allowed. */
static int chars(const char **p, char stop, sv_buf *out)
{
	while (**p && **p != stop) {
		if (**p == '<' && stop != '<')
			return -1;
		if (**p == '&') {
			if (entity(p, out) < 0)
				return -1;
			continue;
		}
		sv_buf_addc(out, **p);
		(*p)++;
	}
	return **p == stop ? 0 : -1;
}

static int name(const char **p, char *out, size_t size)
{
	size_t n = 0;

	while (is_name_char(**p) && n + 1 < size)
		out[n++] = *(*p)++;
	out[n] = '\0';
	return n && !is_name_char(**p) ? 0 : -1;
}

static int attributes(const char **p, node *n)
{
	for (;;) {
		sv_buf v;
		char q;

		skip_ws(p);
		if (**p == '>' || **p == '/')
			return 0;
		if (n->nattrs == MAX_ATTRS ||
		    name(p, n->attr_name[n->nattrs], 32) < 0)
			return -1;
		skip_ws(p);
		if (*(*p)++ != '=')
			return -1;
		skip_ws(p);
		q = *(*p)++;
		if (q != '"' && q != '\'')
			return -1;
		sv_buf_init(&v, 1 << 20);
		if (chars(p, q, &v) < 0) {
			sv_buf_release(&v);
			return -1;
		}
		(*p)++;
		n->attr_value[n->nattrs++] = sv_buf_take(&v);
	}
}

static node *element(const char **p);

/* The content of n up to and including its end tag. */
static int content(const char **p, node *n)
{
	char end[64];

	for (;;) {
		if (chars(p, '<', &n->text) < 0)
			return -1;
		if ((*p)[1] == '/') {
			*p += 2;
			if (name(p, end, sizeof(end)) < 0 ||
			    strcmp(end, n->name))
				return -1; /* crossed or unbalanced tags */
			skip_ws(p);
			return *(*p)++ == '>' ? 0 : -1;
		}
		if (n->nkids == MAX_KIDS || !(n->kids[n->nkids] = element(p)))
			return -1;
		n->nkids++;
	}
}

static node *element(const char **p)
{
	node *n = calloc(1, sizeof(*n));

	sv_buf_init(&n->text, 1 << 20);
	if (*(*p)++ != '<' || name(p, n->name, sizeof(n->name)) < 0 ||
	    attributes(p, n) < 0)
		goto bad;
	if (**p == '/') {
		if ((*p)[1] != '>')
			goto bad;
		*p += 2;
		return n;
	}
	(*p)++;
	if (content(p, n) == 0)
		return n;
bad:
	node_free(n);
	return NULL;
}

/* The document: the declaration, one root element, nothing after it. */
static node *parse(const char *xml)
{
	const char *p = xml, *decl_end;
	node *root;

	if (strncmp(p, "<?xml ", 6) || !(decl_end = strstr(p, "?>")))
		return NULL;
	p = decl_end + 2;
	skip_ws(&p);
	if (!(root = element(&p)))
		return NULL;
	skip_ws(&p);
	if (*p) {
		node_free(root);
		return NULL;
	}
	return root;
}

static const char *attr(const node *n, const char *key)
{
	int i;

	for (i = 0; i < n->nattrs; i++)
		if (!strcmp(n->attr_name[i], key))
			return n->attr_value[i];
	return NULL;
}

static const node *kid(const node *n, const char *key)
{
	int i;

	for (i = 0; n && i < n->nkids; i++)
		if (!strcmp(n->kids[i]->name, key))
			return n->kids[i];
	return NULL;
}

static const char *kid_text(const node *n, const char *key)
{
	const node *k = kid(n, key);

	return k && k->text.ptr ? k->text.ptr : "";
}

/* ---- Microsoft's schema rules ---- */

/* xs:all: every child one of names[], none twice; required ones present. */
static void check_all(const node *n, const char *const *names,
		      const char *const *required)
{
	int i, j, k;

	for (i = 0; i < n->nkids; i++) {
		for (k = 0; names[k] && strcmp(names[k], n->kids[i]->name); k++)
			;
		if (!names[k])
			fail_msg("<%s> may not hold <%s>", n->name,
				 n->kids[i]->name);
		for (j = 0; j < i; j++)
			if (!strcmp(n->kids[j]->name, n->kids[i]->name))
				fail_msg("<%s> holds <%s> twice", n->name,
					 n->kids[i]->name);
	}
	for (k = 0; required && required[k]; k++)
		if (!kid(n, required[k]))
			fail_msg("<%s> lacks <%s>", n->name, required[k]);
}

/* xs:sequence: the children appear in the order of names[] (each at most
 * once), then whatever rest[] allows. */
static int check_sequence(const node *n, const char *const *order)
{
	int i = 0, k = 0;

	for (; i < n->nkids; i++) {
		while (order[k] && strcmp(order[k], n->kids[i]->name))
			k++;
		if (!order[k])
			return i; /* the first child past the sequence */
		k++;
	}
	return i;
}

static void check_bool(const node *settings, const char *key, const char *want)
{
	const char *v = kid_text(settings, key);

	if (strcmp(v, "true") && strcmp(v, "false"))
		fail_msg("<%s> is '%s', not an xs:boolean", key, v);
	if (want && strcmp(v, want))
		fail_msg("<%s> is %s, expected %s", key, v, want);
}

/* xs:duration as Task Scheduler uses it: P[nD][T[nH][nM][nS]]. */
static int is_duration(const char *s)
{
	int any = 0, in_time = 0;

	if (*s++ != 'P')
		return 0;
	while (*s) {
		if (*s == 'T' && !in_time) {
			in_time = 1;
			s++;
			continue;
		}
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		if (!strchr(in_time ? "HMS" : "YMWD", *s))
			return 0;
		s++;
		any = 1;
	}
	return any;
}

static void check_calendar(const node *cal)
{
	/* triggerBaseType's xs:sequence, then calendarTriggerType's. */
	static const char *const base[] = {
		"Enabled",    "StartBoundary",	    "EndBoundary",
		"Repetition", "ExecutionTimeLimit", "RandomDelay",
		NULL};
	static const char *const days[] = {"Sunday",	"Monday",   "Tuesday",
					   "Wednesday", "Thursday", "Friday",
					   "Saturday",	NULL};
	const char *sb = kid_text(cal, "StartBoundary");
	int first = check_sequence(cal, base);
	const node *sched;
	unsigned wi;

	/* Local time: no zone designator (a 'Z' or offset would pin it). */
	if (strlen(sb) != 19 || sb[4] != '-' || sb[7] != '-' || sb[10] != 'T' ||
	    sb[13] != ':' || sb[16] != ':')
		fail_msg("StartBoundary '%s' is not YYYY-MM-DDTHH:MM:SS local "
			 "time",
			 sb);
	/* calendarTriggerType: exactly one schedule, after the base elements.
	 */
	if (first != cal->nkids - 1)
		fail_msg("<CalendarTrigger> must end with exactly one schedule "
			 "element");
	sched = cal->kids[first];
	if (!strcmp(sched->name, "ScheduleByDay")) {
		check_all(sched, (const char *const[]){"DaysInterval", NULL},
			  NULL);
		assert_string_equal(kid_text(sched, "DaysInterval"), "1");
		return;
	}
	assert_string_equal(sched->name, "ScheduleByWeek");
	check_all(sched,
		  (const char *const[]){"WeeksInterval", "DaysOfWeek", NULL},
		  (const char *const[]){"DaysOfWeek", NULL});
	wi = (unsigned)strtoul(kid_text(sched, "WeeksInterval"), NULL, 10);
	assert_true(wi >= 1 && wi <= 52);
	check_all(kid(sched, "DaysOfWeek"), days, NULL);
	assert_true(kid(sched, "DaysOfWeek")->nkids > 0);
}

static void check_principal(const node *task, const char **id)
{
	const node *ps = kid(task, "Principals"), *p;

	assert_non_null(ps);
	assert_int_equal(ps->nkids, 1); /* the schema allows exactly one */
	p = ps->kids[0];
	assert_string_equal(p->name, "Principal");
	check_all(p,
		  (const char *const[]){"UserId", "LogonType", "GroupId",
					"DisplayName", "RunLevel",
					"ProcessTokenSidType",
					"RequiredPrivileges", NULL},
		  NULL);
	assert_string_equal(kid_text(p, "UserId"), "S-1-5-18"); /* SYSTEM */
	assert_string_equal(kid_text(p, "RunLevel"), "HighestAvailable");
	assert_non_null(*id = attr(p, "id"));
}

static void check_settings(const node *task)
{
	static const char *const names[] = {"AllowStartOnDemand",
					    "RestartOnFailure",
					    "MultipleInstancesPolicy",
					    "DisallowStartIfOnBatteries",
					    "StopIfGoingOnBatteries",
					    "AllowHardTerminate",
					    "StartWhenAvailable",
					    "NetworkProfileName",
					    "RunOnlyIfNetworkAvailable",
					    "WakeToRun",
					    "Enabled",
					    "Hidden",
					    "DeleteExpiredTaskAfter",
					    "IdleSettings",
					    "NetworkSettings",
					    "ExecutionTimeLimit",
					    "Priority",
					    "RunOnlyIfIdle",
					    "UseUnifiedSchedulingEngine",
					    "DisallowStartOnRemoteAppSession",
					    NULL};
	const node *s = kid(task, "Settings");

	assert_non_null(s);
	check_all(s, names, NULL);
	check_bool(s, "StartWhenAvailable", "true");
	check_bool(s, "DisallowStartIfOnBatteries", "false");
	check_bool(s, "StopIfGoingOnBatteries", "false");
	check_bool(s, "Enabled", "true");
	assert_string_equal(kid_text(s, "MultipleInstancesPolicy"),
			    "IgnoreNew");
	if (!is_duration(kid_text(s, "ExecutionTimeLimit")))
		fail_msg("ExecutionTimeLimit '%s' is not an xs:duration",
			 kid_text(s, "ExecutionTimeLimit"));
}

/* Checks a task definition; returns the tree for more checks. */
static node *check_task(const char *xml)
{
	static const char *const task_kids[] = {
		"RegistrationInfo", "Triggers", "Settings", "Data",
		"Principals",	    "Actions",	NULL};
	node *t = parse(xml);
	const node *trig, *acts, *exec;
	const char *principal = NULL, *v;

	if (!t)
		fail_msg("the task XML is not well-formed:\n%s", xml);
	assert_string_equal(t->name, "Task");
	assert_non_null(attr(t, "xmlns"));
	assert_string_equal(attr(t, "xmlns"), TASK_NS);
	assert_non_null(v = attr(t, "version"));
	assert_true(!strcmp(v, "1.2") || !strcmp(v, "1.3") ||
		    !strcmp(v, "1.4"));
	check_all(t, task_kids,
		  (const char *const[]){"Actions", "Triggers", "Principals",
					"Settings", NULL});
	check_all(kid(t, "RegistrationInfo"),
		  (const char *const[]){"URI", "SecurityDescriptor", "Source",
					"Date", "Author", "Version",
					"Description", "Documentation", NULL},
		  NULL);
	trig = kid(t, "Triggers");
	assert_int_equal(trig->nkids, 1);
	assert_string_equal(trig->kids[0]->name, "CalendarTrigger");
	check_calendar(trig->kids[0]);
	check_principal(t, &principal);
	check_settings(t);
	acts = kid(t, "Actions");
	/* keyref ContextKeyRef: the actions' context names the principal. */
	assert_non_null(attr(acts, "Context"));
	assert_string_equal(attr(acts, "Context"), principal);
	assert_int_equal(acts->nkids, 1);
	exec = acts->kids[0];
	assert_string_equal(exec->name, "Exec");
	assert_int_equal(
		check_sequence(exec,
			       (const char *const[]){"Command", "Arguments",
						     "WorkingDirectory", NULL}),
		exec->nkids);
	assert_true(strlen(kid_text(exec, "Command")) > 0);
	return t;
}

/* ---- the tests ---- */

static const sv_tm g_today = {2026, 11, 22, 0, 0, 0, 0};

static char *task_xml(const char *time, const char *days,
		      const sv_schedule_cmd *c)
{
	sv_schedule s = {0, 0, SV_SCHEDULE_EVERY_DAY};
	char *xml = NULL;

	sv_assert_ok(sv_schedule_parse_time(&s, time));
	if (days)
		sv_assert_ok(sv_schedule_parse_days(&s.days, days));
	sv_assert_ok(sv_schedule_task_xml(&xml, &s, c, &g_today));
	return xml;
}

static void test_schedule__task_xml_daily_follows_the_schema(void **state)
{
	sv_schedule_cmd c = {"C:\\Program Files\\sysvault\\sysvault.exe", NULL};
	char *xml = task_xml("21:00", NULL, &c);
	node *t = check_task(xml);
	const node *cal = kid(t, "Triggers")->kids[0];

	(void)state;
	assert_string_equal(kid_text(cal, "StartBoundary"),
			    "2026-11-22T21:00:00");
	assert_non_null(kid(cal, "ScheduleByDay"));
	assert_string_equal(kid_text(kid(kid(t, "Actions"), "Exec"), "Command"),
			    c.exe);
	assert_string_equal(
		kid_text(kid(kid(t, "Actions"), "Exec"), "Arguments"),
		"backup --scheduled");
	assert_non_null(strstr(xml, "encoding=\"UTF-16\""));
	node_free(t);
	free(xml);
}

static void test_schedule__task_xml_weekly_names_the_days(void **state)
{
	sv_schedule_cmd c = {"C:\\sysvault.exe", NULL};
	char *xml = task_xml("06:05", "wed,Mon,SUN", &c);
	node *t = check_task(xml);
	const node *week = kid(kid(t, "Triggers")->kids[0], "ScheduleByWeek");
	const node *days = kid(week, "DaysOfWeek");

	(void)state;
	assert_non_null(week);
	assert_int_equal(days->nkids, 3);
	assert_non_null(kid(days, "Monday"));
	assert_non_null(kid(days, "Wednesday"));
	assert_non_null(kid(days, "Sunday"));
	assert_null(kid(days, "Tuesday"));
	assert_string_equal(kid_text(week, "WeeksInterval"), "1");
	assert_string_equal(
		kid_text(kid(t, "Triggers")->kids[0], "StartBoundary"),
		"2026-11-22T06:05:00");
	node_free(t);
	free(xml);
}

/* A path with '&', '<', quotes and spaces stays well-formed and comes
 * back from the XML unchanged; the state directory is quoted as
 * CommandLineToArgvW reads it (a trailing backslash doubled). */
static void test_schedule__task_xml_escapes_the_path(void **state)
{
	sv_schedule_cmd c = {"D:\\R&D <tools>\\it's \"here\"\\sysvault.exe",
			     "E:\\sysvault state\\"};
	char *xml = task_xml("00:00", "Sat", &c);
	node *t = check_task(xml);
	const node *exec = kid(kid(t, "Actions"), "Exec");

	(void)state;
	assert_null(strstr(xml, "R&D"));
	assert_non_null(strstr(xml, "R&amp;D &lt;tools&gt;"));
	assert_string_equal(kid_text(exec, "Command"), c.exe);
	assert_string_equal(
		kid_text(exec, "Arguments"),
		"--state-dir \"E:\\sysvault state\\\\\" backup --scheduled");
	node_free(t);
	free(xml);
}

/* The validator itself refuses what schtasks would refuse. */
static void test_schedule__validator_rejects_broken_xml(void **state)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?>\n<Task><A></B></Task>",
		"<?xml version=\"1.0\"?>\n<Task>R&D</Task>",
		"<?xml version=\"1.0\"?>\n<Task a=b></Task>",
		"<?xml version=\"1.0\"?>\n<Task></Task><Task></Task>",
		"<?xml version=\"1.0\"?>\n<Task>&nbsp;</Task>",
		"<?xml version=\"1.0\"?>\n<Task><A><B></A></B></Task>",
		"<Task></Task>",
	};
	size_t i;
	node *n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = parse(bad[i]);
		if (n)
			fail_msg("accepted: %s", bad[i]);
	}
	assert_non_null(n = parse("<?xml version=\"1.0\"?>\n<Task "
				  "a='&lt;'><B/>x &amp; y</Task>"));
	assert_string_equal(attr(n, "a"), "<");
	assert_string_equal(n->text.ptr, "x & y");
	node_free(n);
}

static void test_schedule__utf16_has_a_bom_and_surrogates(void **state)
{
	/* "Aé€𝄞" */
	const char *in = "A\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
	static const unsigned char want[] = {0xff, 0xfe, 'A',  0,
					     0xe9, 0,	 0xac, 0x20,
					     0x34, 0xd8, 0x1e, 0xdd};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	sv_assert_ok(sv_schedule_utf16(&out, &len, in));
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	free(out);
	assert_int_equal(sv_schedule_utf16(&out, &len, "bad \xff"), SV_EINVAL);
	assert_null(out);
}

static void test_schedule__parse_rejects_bad_times_and_days(void **state)
{
	static const char *const times[] = {
		"24:00", "9:00", "21:60", "21-00", "", "21:00:00", "ab:cd"};
	static const char *const days[] = {"",	     "Mon,", "Mon,,Wed",
					   "Monday", "Xyz",  "Mo"};
	sv_schedule s;
	unsigned d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		assert_int_equal(sv_schedule_parse_time(&s, times[i]),
				 SV_EUSAGE);
		assert_non_null(strstr(sv_error_msg(), "HH:MM"));
	}
	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		assert_int_equal(sv_schedule_parse_days(&d, days[i]),
				 SV_EUSAGE);
		assert_non_null(strstr(sv_error_msg(), "Mon,Tue,Wed"));
	}
	sv_assert_ok(sv_schedule_parse_time(&s, "00:59"));
	assert_int_equal(s.hour, 0);
	assert_int_equal(s.min, 59);
	sv_assert_ok(sv_schedule_parse_days(&d, "sun,SAT,Fri"));
	assert_int_equal(d, (1u << 0) | (1u << 6) | (1u << 5));
}

static void test_schedule__config_value_round_trips(void **state)
{
	sv_schedule s = {21, 0, 0}, back;
	json_t *j, *bad;
	char *text;

	(void)state;
	sv_assert_ok(sv_schedule_parse_days(&s.days, "Wed,Mon"));
	j = sv_schedule_to_json(&s);
	text = sv_json_dump(j, 0);
	assert_string_equal(text,
			    "{\"time\":\"21:00\",\"days\":[\"Mon\",\"Wed\"]}");
	sv_assert_ok(sv_schedule_from_json(&back, j));
	assert_int_equal(back.hour, 21);
	assert_int_equal(back.days, s.days);
	free(text);
	json_decref(j);
	bad = json_pack("{s:s,s:[s]}", "time", "21:00", "days", "Funday");
	assert_int_equal(sv_schedule_from_json(&back, bad), SV_EINVAL);
	assert_non_null(strstr(sv_error_msg(), "Funday"));
	json_decref(bad);
	bad = json_pack("{s:s}", "time", "7pm");
	assert_int_equal(sv_schedule_from_json(&back, bad), SV_EINVAL);
	json_decref(bad);
	/* Without "days": every day. */
	bad = json_pack("{s:s}", "time", "07:30");
	sv_assert_ok(sv_schedule_from_json(&back, bad));
	assert_int_equal(back.days, SV_SCHEDULE_EVERY_DAY);
	json_decref(bad);
}

static void test_schedule__systemd_units(void **state)
{
	sv_schedule daily = {21, 0, SV_SCHEDULE_EVERY_DAY}, some = {4, 30, 0};
	sv_schedule_cmd c = {"/opt/sys vault/sysvault",
			     "/var/lib/sv 100%$HOME"};
	char *service = NULL, *timer = NULL, *cal;

	(void)state;
	cal = sv_schedule_oncalendar(&daily);
	assert_string_equal(cal, "*-*-* 21:00:00");
	free(cal);
	sv_assert_ok(sv_schedule_parse_days(&some.days, "Sun,Wed,Mon"));
	cal = sv_schedule_oncalendar(&some);
	assert_string_equal(cal, "Mon,Wed,Sun *-*-* 04:30:00");
	free(cal);
	sv_assert_ok(sv_schedule_systemd_units(&service, &timer, &some, &c));
	assert_non_null(strstr(
		timer, "\n[Timer]\nOnCalendar=Mon,Wed,Sun *-*-* 04:30:00\n"));
	assert_non_null(strstr(timer, "\nPersistent=true\n"));
	assert_non_null(strstr(timer, "\nUnit=sysvault-backup.service\n"));
	assert_non_null(strstr(timer, "\nWantedBy=timers.target\n"));
	assert_non_null(strstr(service, "\nType=oneshot\n"));
	/* Specifiers and variables stay literal. */
	assert_non_null(strstr(
		service, "\nExecStart=\"/opt/sys vault/sysvault\" --state-dir "
			 "\"/var/lib/sv 100%%$$HOME\" backup --scheduled\n"));
	free(service);
	free(timer);
}

static void test_schedule__cron_line(void **state)
{
	sv_schedule daily = {21, 0, SV_SCHEDULE_EVERY_DAY}, some = {4, 5, 0};
	sv_schedule_cmd c = {"/usr/sbin/sysvault", NULL},
			odd = {"/opt/it's 50%/sysvault", "/s"};
	char *line;

	(void)state;
	line = sv_schedule_cron_line(&daily, &c);
	assert_string_equal(
		line,
		"0 21 * * * root '/usr/sbin/sysvault' backup --scheduled");
	free(line);
	sv_assert_ok(sv_schedule_parse_days(&some.days, "Sat,Mon"));
	line = sv_schedule_cron_line(&some, &odd);
	assert_string_equal(
		line,
		"5 4 * * 1,6 root '/opt/it'\\''s 50\\%/sysvault' --state-dir "
		"'/s' backup --scheduled");
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_schedule__task_xml_daily_follows_the_schema),
		cmocka_unit_test(test_schedule__task_xml_weekly_names_the_days),
		cmocka_unit_test(test_schedule__task_xml_escapes_the_path),
		cmocka_unit_test(test_schedule__validator_rejects_broken_xml),
		cmocka_unit_test(test_schedule__utf16_has_a_bom_and_surrogates),
		cmocka_unit_test(
			test_schedule__parse_rejects_bad_times_and_days),
		cmocka_unit_test(test_schedule__config_value_round_trips),
		cmocka_unit_test(test_schedule__systemd_units),
		cmocka_unit_test(test_schedule__cron_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
