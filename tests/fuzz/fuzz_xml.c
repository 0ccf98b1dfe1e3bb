/*
 * fuzz_xml.c - the element reader of the storage services' answers
 * (vault/xml.c), walked the way the Azure and S3 list pages and error
 * bodies are read: nothing it returns may be longer than its input or
 * lie outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vault_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every <item> element's fields, as list_page() reads them. */
static void walk(const char *xml, size_t n, const char *item,
		 const char *const *fields, size_t nfields)
{
	char open[32], close[32];
	const char *p = xml, *end;
	sv_buf v;
	size_t i;

	snprintf(open, sizeof(open), "<%s>", item);
	snprintf(close, sizeof(close), "</%s>", item);
	sv_buf_init(&v, n + 1);
	while ((p = strstr(p, open)) != NULL &&
	       (end = strstr(p, close)) != NULL) {
		for (i = 0; i < nfields; i++) {
			const char *after =
				vault__xml_text(&v, p, end, fields[i]);

			if (after && (after < xml || after > xml + n ||
				      v.len > (size_t)(end - p)))
				abort();
		}
		p = end;
	}
	sv_buf_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const s3[] = {"Key", "Size", "ETag"};
	static const char *const az[] = {"Name", "Content-Length"};
	static const char *const top[] = {"Code", "Region", "IsTruncated",
					  "NextContinuationToken",
					  "NextMarker"};
	char *xml = malloc(size + 1);

	if (!xml)
		return 0;
	memcpy(xml, data, size);
	xml[size] = '\0';
	walk(xml, size, "Contents", s3, 3);
	walk(xml, size, "Blob", az, 2);
	{
		sv_buf v;
		size_t i;

		sv_buf_init(&v, size + 1);
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if (vault__xml_text(&v, xml, xml + size, top[i]) &&
			    v.len > size)
				abort();
		sv_buf_release(&v);
	}
	free(xml);
	return 0;
}
