/*
 * sim_cmd_delete.c - wbadmin delete systemstatebackup {-keepVersions:N |
 * -version:<id> | -deleteOldest} [-backupTarget:<t>] [-machine:<name>]
 * [-quiet]: forgets versions; deleting the version whose "Backup ..."
 * folder is on the target removes the folder too.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_fs.h"
#include "sv_path.h"

/* Marks the versions to delete in del[]; returns the exit code. */
static int select_versions(const sim_ctx *c, const sim_catalog *cat, char *del)
{
	uint64_t keep;
	long k;
	size_t i;

	if (c->o.keep_versions) {
		if (sv_parse_u64(&keep, c->o.keep_versions) < 0 || keep == 0) {
			sim_say(c, M_BAD_VALUE, c->o.keep_versions,
				"-keepVersions", NULL);
			return SIM_EXIT_USAGE;
		}
		for (i = 0; keep < cat->n && i < cat->n - keep; i++)
			del[i] = 1;
	} else if (c->o.version) {
		if ((k = sim_catalog_find(cat, c->o.version)) < 0) {
			sim_say(c, M_VERSION_NOT_FOUND, c->o.version,
				c->machine, NULL);
			return SIM_EXIT_NOTFOUND;
		}
		del[k] = 1;
	} else if (cat->n > 0) {
		del[0] = 1;
	}
	return 0;
}

static int delete_marked(const sim_ctx *c, const char *mdir, sim_catalog *cat,
			 const char *del, size_t *count)
{
	char date[64], folder[40], *path;
	size_t i, j;

	*count = 0;
	for (i = 0, j = 0; i < cat->n; j++) {
		const sim_version *v = &cat->v[i];

		if (!del[j]) {
			i++;
			continue;
		}
		sim_date_local(c, date, sizeof(date), v->t);
		sim_say(c, M_DELETING, date, v->id, NULL);
		sim_folder_name(folder, sizeof(folder), v->t);
		if ((path = sv_path_join(mdir, folder)) != NULL)
			sv_fs_remove_tree(path);
		free(path);
		sim_catalog_remove(cat, i);
		(*count)++;
	}
	return sim_catalog_save(cat, mdir);
}

int sim_cmd_delete(sim_ctx *c)
{
	char *target = NULL, *mdir = NULL, *del = NULL, num[24];
	sim_catalog cat;
	size_t count = 0;
	int rc;

	if ((c->o.keep_versions != NULL) + (c->o.version != NULL) +
		    c->o.delete_oldest !=
	    1) {
		sim_say(c, M_SYNTAX, "-keepVersions | -version | -deleteOldest",
			NULL);
		return SIM_EXIT_USAGE;
	}
	if ((rc = sim_open_versions(c, &target, &mdir, &cat)) != 0)
		goto done;
	rc = SIM_EXIT_FAILED;
	if (!(del = sv_calloc(cat.n + 1, 1)))
		goto done;
	if ((rc = select_versions(c, &cat, del)) != 0)
		goto done;
	if (!memchr(del, 1, cat.n)) {
		sim_say(c, M_DELETE_NONE, NULL);
		goto done;
	}
	if (!c->o.quiet && !sim_confirm(c, M_DELETE_PROMPT)) {
		sim_say(c, M_CANCELLED, NULL);
		rc = SIM_EXIT_CANCELLED;
		goto done;
	}
	if (delete_marked(c, mdir, &cat, del, &count) < 0) {
		sim_linef(c, "ERROR - %s", sv_error_msg());
		rc = SIM_EXIT_FAILED;
		goto done;
	}
	sv_snprintf(num, sizeof(num), "%zu", count);
	sim_say(c, M_DELETE_OK, num, NULL);
done:
	free(del);
	sim_catalog_release(&cat);
	free(target);
	free(mdir);
	return rc;
}
