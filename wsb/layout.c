/*
 * layout.c - the WindowsImageBackup tree wbadmin writes on its target:
 *
 *   WindowsImageBackup/<Machine>/Backup YYYY-MM-DD HHMMSS/   the image and XML
 *   WindowsImageBackup/<Machine>/Catalog/                    the catalogue
 *   WindowsImageBackup/<Machine>/MediaId, SPPMetadataCache/
 *
 * Only the newest Backup folder is current; older ones are not part of a
 * recovery point.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "wsb.h"

#define WIB "WindowsImageBackup"

typedef struct scan {
	wsb_layout *l;
	const char *want;    /* machine asked for, or NULL */
	int machines;
	int matched;
} scan;

static int on_machine(void *ud, const sv_dirent *e)
{
	scan *s = ud;

	if (!e->is_dir || e->name[0] == '.')
		return 0;
	s->machines++;
	if (!s->want || sv_ascii_caseeq(s->want, e->name)) {
		sv_strlcpy(s->l->machine, e->name, sizeof(s->l->machine));
		s->matched++;
	}
	return 0;
}

/* "Backup YYYY-MM-DD HHMMSS": the name sorts by time. */
static int is_backup_dir(const char *n)
{
	size_t i;

	if (strlen(n) != 24 || strncmp(n, "Backup ", 7) != 0)
		return 0;
	for (i = 7; i < 24; i++) {
		char c = n[i];

		if (i == 11 || i == 14) {
			if (c != '-')
				return 0;
		} else if (i == 17) {
			if (c != ' ')
				return 0;
		} else if (c < '0' || c > '9') {
			return 0;
		}
	}
	return 1;
}

static int on_backup(void *ud, const sv_dirent *e)
{
	wsb_layout *l = ud;

	if (e->is_dir && is_backup_dir(e->name) && strcmp(e->name, l->backup_dir) > 0)
		sv_strlcpy(l->backup_dir, e->name, sizeof(l->backup_dir));
	return 0;
}

/* "<SnapSet>_Writer<guid>.xml" -> the writer GUID. */
static int on_file(void *ud, const sv_dirent *e)
{
	wsb_layout *l = ud;
	const char *w = strstr(e->name, "_Writer");
	char **grown;
	size_t n;

	if (e->is_dir || !w || !sv_str_endswith(e->name, ".xml"))
		return 0;
	w += 7;
	n = strlen(w) - 4;
	if (n != 36)
		return 0;
	grown = sv_realloc(l->writers, (l->nwriters + 1) * sizeof(char *));
	if (!grown)
		return SV_ENOMEM;
	l->writers = grown;
	if (!(l->writers[l->nwriters] = sv_strndup(w, n)))
		return SV_ENOMEM;
	for (char *p = l->writers[l->nwriters]; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	if (!strcmp(l->writers[l->nwriters], WSB_NTDS_WRITER))
		l->domain_controller = 1;
	l->nwriters++;
	return 0;
}

static int find_machine(wsb_layout *l, const char *target, const char *machine)
{
	scan s = { l, machine, 0, 0 };
	char *wib = sv_path_join(target, WIB);
	int rc;

	if (!wib)
		return SV_ENOMEM;
	rc = sv_fs_list_dir(wib, on_machine, &s);
	if (rc == SV_ENOTFOUND)
		rc = sv_error_set(SV_ENOTFOUND, "no %s folder on '%s': wbadmin wrote nothing there",
				  WIB, target);
	else if (rc == 0 && s.matched == 0)
		rc = sv_error_set(SV_ENOTFOUND, "no backup of machine '%s' under '%s'",
				  machine ? machine : "(any)", wib);
	else if (rc == 0 && !machine && s.machines > 1)
		rc = sv_error_set(SV_EINVAL, "'%s' holds %d machines' backups: name the machine",
				  wib, s.machines);
	free(wib);
	return rc;
}

int wsb_layout_scan(wsb_layout *l, const char *target, const char *machine)
{
	char *mdir = NULL, *bdir = NULL, *rel;
	int rc;

	memset(l, 0, sizeof(*l));
	rc = find_machine(l, target, machine);
	if (rc < 0)
		return rc;
	rel = sv_aprintf("%s/%s", WIB, l->machine);
	mdir = rel ? sv_path_join(target, rel) : NULL;
	free(rel);
	if (!mdir)
		return SV_ENOMEM;
	sv_path_to_native(mdir);
	rc = sv_fs_list_dir(mdir, on_backup, l);
	if (rc == 0 && !l->backup_dir[0])
		rc = sv_error_set(SV_ENOTFOUND, "no 'Backup …' folder in '%s'", mdir);
	if (rc == 0 && !(bdir = sv_path_join(mdir, l->backup_dir)))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = sv_fs_list_dir(bdir, on_file, l);
	free(mdir);
	free(bdir);
	if (rc < 0)
		wsb_layout_release(l);
	return rc;
}

void wsb_layout_release(wsb_layout *l)
{
	size_t i;

	for (i = 0; i < l->nwriters; i++)
		free(l->writers[i]);
	free(l->writers);
	l->writers = NULL;
	l->nwriters = 0;
}

int wsb_layout_includes(const wsb_layout *l, const char *rel, int is_dir)
{
	size_t nw = strlen(WIB), nm = strlen(l->machine);
	const char *rest;

	if (!strcmp(rel, WIB))
		return is_dir;
	if (strncmp(rel, WIB, nw) != 0 || rel[nw] != '/')
		return 0;
	rest = rel + nw + 1;
	if (strncmp(rest, l->machine, nm) != 0 || (rest[nm] != '/' && rest[nm] != '\0'))
		return 0;
	if (rest[nm] == '\0')
		return is_dir;
	rest += nm + 1;
	if (is_backup_dir(rest) || (strncmp(rest, "Backup ", 7) == 0 && strchr(rest, '/'))) {
		size_t nb = strlen(l->backup_dir);

		return strncmp(rest, l->backup_dir, nb) == 0 &&
		       (rest[nb] == '\0' || rest[nb] == '/');
	}
	return rest[0] != '.';   /* the simulator's and tools' dot files stay out */
}

json_t *wsb_layout_json(const wsb_layout *l)
{
	json_t *o = json_object(), *w = json_array();
	size_t i;

	for (i = 0; w && i < l->nwriters; i++)
		json_array_append_new(w, json_string(l->writers[i]));
	if (!o || !w || sv_json_set(o, "machine", json_string(l->machine)) ||
	    sv_json_set(o, "backup_folder", json_string(l->backup_dir)) ||
	    sv_json_set(o, "writers", w) ||
	    sv_json_set(o, "domain_controller", json_boolean(l->domain_controller))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
