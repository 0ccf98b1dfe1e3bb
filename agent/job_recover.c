/*
 * job_recover.c - handing a restored WindowsImageBackup tree to
 * `wbadmin start systemstaterecovery`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "job.h"
#include "sv_buf.h"

static const char dsrm_steps[] =
	"This recovery point is of a domain controller. Active Directory is\n"
	"restored in Directory Services Restore Mode (DSRM):\n"
	"  1. bcdedit /set safeboot dsrepair, then restart the server;\n"
	"  2. sign in with the DSRM administrator password;\n"
	"  3. sysvault restore --point <id> --to <dir> --apply --authsysvol\n"
	"     (-authsysvol makes the SYSVOL restore authoritative; omit it\n"
	"     to let SYSVOL replicate from the other domain controllers);\n"
	"  4. bcdedit /deletevalue safeboot, then restart the server.\n";

typedef struct point_facts {
	const char *version;
	const char *machine;
	int dc;
} point_facts;

static int facts(point_facts *f, json_t *point)
{
	json_t *w = json_object_get(point, "wsb");

	memset(f, 0, sizeof(*f));
	if (sv_json_str(point, "wbadmin_version", &f->version) < 0 || !w ||
	    sv_json_str(w, "machine", &f->machine) < 0)
		return sv_error_set(SV_EINVAL,
				    "this recovery point was not made by wbadmin (no version identifier): "
				    "it can be restored as files but not applied");
	f->dc = json_is_true(json_object_get(w, "domain_controller"));
	return 0;
}

int sv_agent_apply(vault *v, const char *point_id, const char *restored,
		   int authsysvol, int reboot)
{
	sv_wsb_args wa = { NULL, 0, NULL, NULL, NULL };
	wsb_recover_opts ro;
	wsb_failure failure;
	sv_wsb_ctx wc;
	json_t *p = NULL;
	point_facts f;
	int rc;

	memset(&wc, 0, sizeof(wc));
	rc = vault_point_load(v, point_id, &p);
	if (rc == 0)
		rc = facts(&f, p);
	if (rc == 0 && f.dc && !authsysvol)
		fputs(dsrm_steps, stderr);
	if (rc == 0)
		rc = sv_agent_wsb_init(&wc, &wa);
	if (rc == 0) {
		ro.version = f.version;
		ro.target = restored;
		ro.machine = f.machine;
		ro.authsysvol = authsysvol;
		ro.reboot = reboot;
		rc = wsb_recover(&wc.o, &ro, &failure);
	}
	sv_agent_wsb_release(&wc);
	json_decref(p);
	return rc;
}
