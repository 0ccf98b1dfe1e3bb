/*
 * sim_catalog.c - Catalog/GlobalCatalog: the versions one machine folder
 * remembers (older versions live as shadow copies on a real target; here
 * only their record survives). Text with CRLF, one "key=value" a line, and
 * a closing FNV-1a checksum so that a changed byte is noticed:
 *
 *   WBADMIN-SIM GlobalCatalog 1
 *   machine=SRV01
 *   base-size=67108864
 *   next-version=3
 *   last-time=1784372486
 *   version=1,1784372486,0,07/18/2026-11:01
 *   checksum=0123456789abcdef
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_fs.h"
#include "sv_path.h"

#define MAGIC "WBADMIN-SIM GlobalCatalog 1"
#define CATALOG_MAX ((size_t)16 << 20)

void sim_catalog_init(sim_catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
	cat->next = 1;
}

void sim_catalog_release(sim_catalog *cat)
{
	free(cat->v);
	sim_catalog_init(cat);
}

int sim_catalog_add(sim_catalog *cat, const sim_version *v)
{
	sim_version *p;
	size_t n;

	if (sv_add_size(&n, cat->n, 1) < 0 || sv_mul_size(&n, n, sizeof(*p)))
		return SV_ENOMEM;
	p = sv_realloc(cat->v, n);
	if (!p)
		return SV_ENOMEM;
	cat->v = p;
	cat->v[cat->n++] = *v;
	return 0;
}

void sim_catalog_remove(sim_catalog *cat, size_t i)
{
	if (i >= cat->n)
		return;
	memmove(&cat->v[i], &cat->v[i + 1], (cat->n - i - 1) * sizeof(*cat->v));
	cat->n--;
}

long sim_catalog_find(const sim_catalog *cat, const char *id)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->v[i].id, id) == 0)
			return (long)i;
	return -1;
}

static char *catalog_path(const char *mdir)
{
	char *dir = sv_path_join(mdir, "Catalog"), *p;

	p = dir ? sv_path_join(dir, "GlobalCatalog") : NULL;
	free(dir);
	return p;
}

int sim_catalog_save(const sim_catalog *cat, const char *mdir)
{
	char *path = catalog_path(mdir), *dir = NULL;
	sv_buf b;
	size_t i;
	int rc = SV_ENOMEM;

	sv_buf_init(&b, CATALOG_MAX);
	if (!path)
		goto done;
	sv_buf_printf(&b,
		      MAGIC "\r\nmachine=%s\r\nbase-size=%" PRIu64
			    "\r\nnext-version=%" PRIu32 "\r\nlast-time=%" PRId64
			    "\r\n",
		      cat->machine, cat->base_size, cat->next, cat->last_t);
	for (i = 0; i < cat->n; i++)
		sv_buf_printf(&b, "version=%" PRIu32 ",%" PRId64 ",%d,%s\r\n",
			      cat->v[i].num, cat->v[i].t, cat->v[i].dc,
			      cat->v[i].id);
	if ((rc = sv_buf_printf(
		     &b, "checksum=%016" PRIx64 "\r\n",
		     sim_hash(b.ptr, b.len, 0xcbf29ce484222325ull))) < 0)
		goto done;
	dir = sv_path_dirname(path);
	if (!dir || (rc = sv_fs_mkdir_p(dir, 0)) < 0)
		goto done;
	rc = sv_fs_write_atomic(path, b.ptr, b.len, 0);
done:
	free(path);
	free(dir);
	sv_buf_release(&b);
	return rc;
}

static int parse_i64(int64_t *out, const char *s)
{
	uint64_t u;
	int neg = *s == '-';

	if (sv_parse_u64(&u, s + neg) < 0 || u > INT64_MAX)
		return SV_ECORRUPT;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

static int parse_version(sim_version *v, char *val)
{
	char *f[4], *p = val;
	uint64_t num;
	int i;

	for (i = 0; i < 4; i++) {
		f[i] = p;
		p = i < 3 ? strchr(p, ',') : NULL;
		if (i < 3 && !p)
			return SV_ECORRUPT;
		if (p)
			*p++ = '\0';
	}
	memset(v, 0, sizeof(*v));
	if (sv_parse_u64(&num, f[0]) < 0 || num == 0 || num > UINT32_MAX ||
	    parse_i64(&v->t, f[1]) < 0 ||
	    (strcmp(f[2], "0") && strcmp(f[2], "1")) ||
	    strlen(f[3]) != SIM_ID_LEN)
		return SV_ECORRUPT;
	v->num = (uint32_t)num;
	v->dc = f[2][0] == '1';
	memcpy(v->id, f[3], SIM_ID_LEN + 1);
	return 0;
}

static int parse_line(sim_catalog *cat, char *line)
{
	char *val = strchr(line, '=');
	uint64_t u;
	sim_version v;

	if (!val)
		return SV_ECORRUPT;
	*val++ = '\0';
	if (!strcmp(line, "machine")) {
		if (sv_strlcpy(cat->machine, val, SIM_NAME_MAX) >= SIM_NAME_MAX)
			return SV_ECORRUPT;
	} else if (!strcmp(line, "base-size")) {
		if (sv_parse_u64(&cat->base_size, val) < 0)
			return SV_ECORRUPT;
	} else if (!strcmp(line, "next-version")) {
		if (sv_parse_u64(&u, val) < 0 || u == 0 || u > UINT32_MAX)
			return SV_ECORRUPT;
		cat->next = (uint32_t)u;
	} else if (!strcmp(line, "last-time")) {
		return parse_i64(&cat->last_t, val);
	} else if (!strcmp(line, "version")) {
		if (parse_version(&v, val) < 0)
			return SV_ECORRUPT;
		return sim_catalog_add(cat, &v);
	} else {
		return SV_ECORRUPT;
	}
	return 0;
}

/* Checks the final "checksum=" line against the bytes before it and cuts
 * it off. */
static int check_sum(char *text, size_t len)
{
	char *p, want[17];
	size_t body;

	if (len < 28 || memcmp(text + len - 2, "\r\n", 2) != 0)
		return SV_ECORRUPT;
	text[len - 2] = '\0';
	p = strrchr(text, '\n');
	if (!p || strncmp(p + 1, "checksum=", 9) != 0)
		return SV_ECORRUPT;
	body = (size_t)(p + 1 - text);
	sv_snprintf(want, sizeof(want), "%016" PRIx64,
		    sim_hash(text, body, 0xcbf29ce484222325ull));
	if (strcmp(p + 10, want) != 0)
		return SV_ECORRUPT;
	p[1] = '\0';
	return 0;
}

int sim_catalog_load(sim_catalog *cat, const char *mdir)
{
	char *path = catalog_path(mdir), *text = NULL, *line, *end;
	size_t len;
	int rc;

	sim_catalog_init(cat);
	if (!path)
		return SV_ENOMEM;
	if ((rc = sv_fs_stat(path, NULL, NULL)) < 0)
		goto done;
	rc = SV_ECORRUPT;
	if (sv_fs_read_all(&text, &len, path, CATALOG_MAX) < 0 ||
	    strlen(text) != len || check_sum(text, len) < 0 ||
	    !sv_str_startswith(text, MAGIC "\r\n"))
		goto bad;
	for (line = text + strlen(MAGIC) + 2; *line; line = end + 2) {
		end = strstr(line, "\r\n");
		if (!end)
			goto bad;
		*end = '\0';
		if (parse_line(cat, line) < 0)
			goto bad;
	}
	if (!cat->machine[0] || !cat->base_size)
		goto bad;
	rc = 0;
	goto done;
bad:
	sim_catalog_release(cat);
	rc = sv_error_set(SV_ECORRUPT, "the catalog '%s' is corrupted", path);
done:
	free(path);
	free(text);
	return rc;
}
