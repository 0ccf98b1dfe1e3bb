/*
 * xml.c - the little XML the storage services answer with (list pages,
 * error bodies): the text of one element, unescaped. Shared by the Azure
 * and S3 backends; their documents are flat enough that no full parser
 * (and no extra library) is needed.
 */
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

static const struct {
	const char *ent;
	char c;
} xml_ents[] = {{"&amp;", '&'},
		{"&lt;", '<'},
		{"&gt;", '>'},
		{"&quot;", '"'},
		{"&apos;", '\''}};

/* A numeric reference "&#39;" / "&#x27;" of an ASCII character at s:
 * its length, with the character in *c; 0 when s is not one. */
static size_t numeric_ref(const char *s, const char *end, char *c)
{
	const char *p = s + 2;
	int hex = 0;
	unsigned v = 0;

	if (end - s < 4 || s[1] != '#')
		return 0;
	if (*p == 'x' || *p == 'X') {
		hex = 1;
		p++;
	}
	for (; p < end && *p != ';' && v < 128; p++) {
		int d = *p >= '0' && *p <= '9'		? *p - '0'
			: hex && *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			: hex && *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
							: -1;

		if (d < 0)
			return 0;
		v = v * (hex ? 16u : 10u) + (unsigned)d;
	}
	if (p >= end || *p != ';' || v == 0 || v >= 128)
		return 0;
	*c = (char)v;
	return (size_t)(p - s) + 1;
}

/* The length of the entity at s, with its character in *c; 0 for a '&'
 * that starts none (kept as it is). */
static size_t entity(const char *s, const char *end, char *c)
{
	size_t i, n;

	for (i = 0; i < sizeof(xml_ents) / sizeof(xml_ents[0]); i++) {
		n = strlen(xml_ents[i].ent);
		if ((size_t)(end - s) >= n &&
		    strncmp(s, xml_ents[i].ent, n) == 0) {
			*c = xml_ents[i].c;
			return n;
		}
	}
	return numeric_ref(s, end, c);
}

const char *vault__xml_text(sv_buf *out, const char *p, const char *end,
			    const char *tag)
{
	char open[64], close[64], c;
	const char *s, *e;
	size_t k;

	sv_snprintf(open, sizeof(open), "<%s>", tag);
	sv_snprintf(close, sizeof(close), "</%s>", tag);
	if ((s = strstr(p, open)) == NULL || s >= end ||
	    (e = strstr(s, close)) == NULL || e > end)
		return NULL;
	sv_buf_reset(out);
	for (s += strlen(open); s < e; s++) {
		c = *s;
		if (*s == '&' && (k = entity(s, e, &c)) > 0)
			s += k - 1;
		if (sv_buf_addc(out, c) != 0)
			return NULL;
	}
	if (sv_buf_add(out, "", 0) != 0)
		return NULL;
	return e + strlen(close);
}
