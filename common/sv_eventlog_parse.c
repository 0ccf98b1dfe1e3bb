/*
 * sv_eventlog_parse.c - one Windows event, rendered as XML, to the three
 * facts sysvault needs: event ID, HRESULT and time. Portable, so that it is
 * tested on every platform.
 *
 * The input is what EvtRender(EvtRenderEventXml) produces, following the
 * Event schema (http://schemas.microsoft.com/win/2004/08/events/event):
 *
 *   <Event xmlns='...'><System><Provider Name='Microsoft-Windows-Backup' .../>
 *     <EventID>14</EventID> ... <TimeCreated SystemTime='2026-...Z'/> ...
 *   </System><EventData><Data Name='HRESULT'>0x0</Data> ...</EventData></Event>
 *
 * This is not a general XML parser: it scans, within bounds, for the few
 * elements above, unprefixed as EvtRender writes them, with attributes in
 * single or double quotes. Text content cannot contain a raw '<', so a
 * message quoted inside another data item can never be mistaken for an
 * element.
 */
#include <string.h>

#include "sv_buf.h"
#include "sv_eventlog.h"
#include "sv_time.h"

/* A piece of the input: n bytes at p, not NUL-terminated. */
typedef struct ev_span {
	const char *p;
	size_t n;
} ev_span;

static int ev_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first occurrence of needle in [from, end), or NULL. */
static const char *ev_find(const char *from, const char *end,
			   const char *needle)
{
	size_t n = strlen(needle);

	for (; from != NULL && (size_t)(end - from) >= n; from++) {
		from = memchr(from, needle[0], (size_t)(end - from) - n + 1);
		if (from == NULL)
			return NULL;
		if (memcmp(from, needle, n) == 0)
			return from;
	}
	return NULL;
}

/*
 * The next start tag "<name" (the name followed by a space, '>' or '/') in
 * [from, end): *tag gets what lies between the name and the closing '>',
 * *text the character data after it up to the next '<' (empty for "<x/>"),
 * *next where scanning for a following element resumes. Returns 1 when
 * found, 0 when not, -1 when the tag never closes.
 */
static int ev_element(const char *from, const char *end, const char *name,
		      ev_span *tag, ev_span *text, const char **next)
{
	size_t n = strlen(name);
	const char *s = from, *gt, *lt;

	while ((s = ev_find(s, end, "<")) != NULL) {
		s++;
		if ((size_t)(end - s) > n && memcmp(s, name, n) == 0 &&
		    (ev_space(s[n]) || s[n] == '>' || s[n] == '/'))
			break;
	}
	if (s == NULL)
		return 0;
	s += n;
	if ((gt = memchr(s, '>', (size_t)(end - s))) == NULL)
		return -1;
	tag->p = s;
	tag->n = (size_t)(gt - s);
	text->p = gt + 1;
	text->n = 0;
	if (tag->n > 0 && s[tag->n - 1] == '/') {
		tag->n--;
	} else {
		lt = memchr(gt + 1, '<', (size_t)(end - gt - 1));
		text->n = (size_t)((lt != NULL ? lt : end) - text->p);
	}
	*next = text->p + text->n;
	return 1;
}

/* The value of attribute name inside a start tag; 1 when found. */
static int ev_attr(const ev_span *tag, const char *name, ev_span *value)
{
	const char *end = tag->p + tag->n, *s = tag->p, *q;
	size_t n = strlen(name);
	char quote;

	while ((s = ev_find(s, end, name)) != NULL) {
		q = s + n;
		if (s > tag->p && ev_space(s[-1])) {
			while (q < end && ev_space(*q))
				q++;
			if (q < end && *q == '=')
				break;
		}
		s++;
	}
	if (s == NULL)
		return 0;
	for (q++; q < end && ev_space(*q); q++)
		;
	if (q >= end || (*q != '\'' && *q != '"'))
		return 0;
	quote = *q++;
	if ((s = memchr(q, quote, (size_t)(end - q))) == NULL)
		return 0;
	value->p = q;
	value->n = (size_t)(s - q);
	return 1;
}

static void ev_trim(ev_span *s)
{
	while (s->n > 0 && ev_space(s->p[0])) {
		s->p++;
		s->n--;
	}
	while (s->n > 0 && ev_space(s->p[s->n - 1]))
		s->n--;
}

static int ev_ieq(const ev_span *s, const char *lit)
{
	return s->n == strlen(lit) && sv_ascii_ncaseeq(s->p, lit, s->n);
}

/* "0x8078011E" (HexInt32), "2155348010" (UInt32) or "-2139619298"
 * (Int32, taken as its two's complement); 0 or -1. */
static int ev_u32(const ev_span *in, uint32_t *out)
{
	ev_span s = *in;
	uint64_t v = 0, max = 0xffffffffu;
	int base = 10, neg = 0, d;
	size_t i = 0;

	ev_trim(&s);
	if (s.n > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (s.n > 1 && s.p[0] == '-') {
		neg = 1;
		max = 0x80000000u;
		i = 1;
	}
	if (i == s.n || s.n - i > 10)
		return -1;
	for (; i < s.n; i++) {
		d = base == 16 ? sv_hex_digit(s.p[i])
			       : (s.p[i] >= '0' && s.p[i] <= '9' ? s.p[i] - '0'
								 : -1);
		if (d < 0 || (v = v * (uint64_t)base + (uint64_t)d) > max)
			return -1;
	}
	*out = neg ? (uint32_t)(0u - (uint32_t)v) : (uint32_t)v;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS[.fraction]Z" to Unix seconds; 0 or -1. */
static int ev_time(const ev_span *in, int64_t *out)
{
	ev_span s = *in;
	char buf[21];
	size_t i = 19;

	ev_trim(&s);
	if (s.n < 20 || s.p[s.n - 1] != 'Z')
		return -1;
	if (s.p[i] == '.') {
		for (i++; i < s.n - 1; i++)
			if (s.p[i] < '0' || s.p[i] > '9')
				return -1;
	}
	if (i != s.n - 1)
		return -1;
	memcpy(buf, s.p, 19);
	buf[19] = 'Z';
	buf[20] = '\0';
	if (sv_time_parse_utc(out, buf) != 0) {
		sv_error_clear();
		return -1;
	}
	return 0;
}

/* The text of the first <Data> item named HRESULT in [from, end);
 * 1 found, 0 not, -1 malformed. */
static int ev_hresult_item(const char *from, const char *end, ev_span *text)
{
	ev_span tag, name;
	const char *next;
	int rc;

	while ((rc = ev_element(from, end, "Data", &tag, text, &next)) == 1) {
		if (ev_attr(&tag, "Name", &name) && ev_ieq(&name, "HRESULT"))
			return 1;
		from = next;
	}
	return rc;
}

/* [*from, *end) narrowed to the content of element name, when present. */
static int ev_section(const char **from, const char **end, const char *name)
{
	char close[32];
	ev_span tag, text;
	const char *next, *stop;
	int rc;

	if ((rc = ev_element(*from, *end, name, &tag, &text, &next)) != 1)
		return rc;
	if (strlen(name) + 4 > sizeof(close))
		return -1;
	close[0] = '<';
	close[1] = '/';
	memcpy(close + 2, name, strlen(name));
	close[strlen(name) + 2] = '>';
	close[strlen(name) + 3] = '\0';
	stop = ev_find(text.p, *end, close);
	*from = text.p;
	if (stop != NULL)
		*end = stop;
	return 1;
}

static int ev_system(const char *from, const char *end, uint32_t *event_id,
		     int64_t *when)
{
	ev_span tag, text, value;
	const char *next;

	if (ev_section(&from, &end, "System") != 1)
		return sv_error_set(SV_ECORRUPT, "event XML has no System "
				    "element");
	if (ev_element(from, end, "EventID", &tag, &text, &next) != 1 ||
	    ev_u32(&text, event_id) != 0 || *event_id > 0xffff)
		return sv_error_set(SV_ECORRUPT, "event XML has no valid "
				    "System/EventID");
	if (ev_element(from, end, "TimeCreated", &tag, &text, &next) != 1 ||
	    !ev_attr(&tag, "SystemTime", &value) || ev_time(&value, when) != 0)
		return sv_error_set(SV_ECORRUPT, "event %u has no valid "
				    "System/TimeCreated/@SystemTime",
				    (unsigned)*event_id);
	return 0;
}

static int ev_data(const char *from, const char *end, uint32_t event_id,
		   uint32_t *hresult)
{
	ev_span text;
	int found = 0;

	if (ev_section(&from, &end, "EventData") == 1)
		found = ev_hresult_item(from, end, &text);
	if (found == 1) {
		if (ev_u32(&text, hresult) != 0)
			return sv_error_set(SV_ECORRUPT, "event %u has a "
					    "malformed HRESULT '%.*s'",
					    (unsigned)event_id,
					    text.n > 40 ? 40 : (int)text.n,
					    text.p);
		return 0;
	}
	/* Event 4 means success whatever its data; for the others the
	 * outcome is in the HRESULT, and it is never guessed. */
	if (event_id == SV_WSB_EVENT_SUCCEEDED) {
		*hresult = 0;
		return 0;
	}
	return sv_error_set(SV_ECORRUPT, "event %u has no HRESULT data item",
			    (unsigned)event_id);
}

int sv_eventlog_parse_xml(const char *xml, uint32_t *event_id,
			  uint32_t *hresult, int64_t *when)
{
	const char *end;
	int rc;

	*event_id = 0;
	*hresult = 0;
	*when = 0;
	end = memchr(xml, '\0', SV_EVENTLOG_XML_MAX + 1);
	if (end == NULL) {
		rc = sv_error_set(SV_EINVAL, "event XML is longer than %zu "
				  "bytes", SV_EVENTLOG_XML_MAX);
		goto done;
	}
	if ((rc = ev_system(xml, end, event_id, when)) != 0)
		goto done;
	rc = ev_data(xml, end, *event_id, hresult);
done:
	if (rc != 0) {
		*event_id = 0;
		*hresult = 0;
		*when = 0;
	}
	return rc;
}
