/*
 * sim_cmd_versions.c - wbadmin get versions [-backupTarget:<t>]
 * [-machine:<name>], one block per remembered version in the shape of
 * WBADMIN.md; and wbadmin get items -version:<id>, the writers and
 * components of one version (no published output: plausible text).
 */
#include <stdlib.h>

#include "sim.h"

static void print_version(const sim_ctx *c, const char *target,
			  const sim_catalog *cat, const sim_version *v)
{
	char date[64], snap[37];

	sim_date_local(c, date, sizeof(date), v->t);
	sim_snapset(snap, cat->machine, v);
	sim_say(c, M_V_TIME, date, NULL);
	sim_say(c, M_V_TARGET, target, NULL);
	sim_say(c, M_V_ID, v->id, NULL);
	sim_say(c, M_V_CAN, NULL);
	sim_say(c, M_V_SNAP, snap, NULL);
	sim_line(c, "");
}

int sim_cmd_versions(sim_ctx *c)
{
	char *target = NULL, *mdir = NULL;
	sim_catalog cat;
	size_t i;
	int rc;

	if ((rc = sim_open_versions(c, &target, &mdir, &cat)) != 0)
		goto done;
	if (cat.n == 0)
		sim_say(c, M_NO_BACKUP, NULL);
	for (i = 0; i < cat.n; i++)
		print_version(c, target, &cat, &cat.v[i]);
done:
	sim_catalog_release(&cat);
	free(target);
	free(mdir);
	return rc;
}

int sim_cmd_items(sim_ctx *c)
{
	char *target = NULL, *mdir = NULL;
	sim_catalog cat;
	long k;
	size_t i;
	int rc;

	if (!c->o.version) {
		sim_say(c, M_SYNTAX, "-version", NULL);
		return SIM_EXIT_USAGE;
	}
	if ((rc = sim_open_versions(c, &target, &mdir, &cat)) != 0)
		goto done;
	if ((k = sim_catalog_find(&cat, c->o.version)) < 0) {
		sim_say(c, M_VERSION_NOT_FOUND, c->o.version, c->machine, NULL);
		rc = SIM_EXIT_NOTFOUND;
		goto done;
	}
	sim_say(c, M_ITEMS_APP, "System State", NULL);
	for (i = 0; i < sim_nwriters; i++)
		if (!sim_writers[i].dc_only || cat.v[k].dc)
			sim_say(c, M_ITEMS_COMPONENT, sim_writers[i].component,
				sim_writers[i].guid, NULL);
	sim_line(c, "");
done:
	sim_catalog_release(&cat);
	free(target);
	free(mdir);
	return rc;
}
