/*
 * backup_software.c - the processes that tell PF009 another backup is
 * running. THIS TABLE IS DATA: one row per process image, edited like a
 * configuration file. Each pattern is PCRE2, matched caselessly against the
 * whole image name as the process list gives it ("VeeamAgent.exe" from
 * tasklist, "restic" from ps, whose names stop at 15 characters).
 *
 * kind:
 *   wsb    Windows Server Backup itself: a job is in progress. Fails PF009.
 *   job    a process that exists only while another product backs up or
 *          takes a shadow copy. Fails PF009.
 *   agent  a resident service of another product: named in the evidence,
 *          not a failure (it may start a job; schedule around it).
 *
 * Add a row when a support case finds a product missing; keep the
 * pattern anchored (^...$) so that it names one image.
 */
#include <stdlib.h>

#include "diag_int.h"
#include "sv_regex.h"

/* clang-format off */
const diag__software diag__backup_software[] = {
	/* product                       kind     pattern */
	{ "Windows Server Backup",       "wsb",   "^wbadmin\\.exe$" },
	{ "Windows Server Backup",       "wsb",   "^wbengine\\.exe$" },
	{ "VSS (DiskShadow)",            "job",   "^diskshadow\\.exe$" },
	{ "VSS (VShadow)",               "job",   "^vshadow\\.exe$" },
	{ "Veeam",                       "job",   "^VeeamAgent(\\.exe)?$" },
	{ "Veeam Agent for Windows",     "agent", "^Veeam\\.EndPoint\\.Service\\.exe$" },
	{ "Veritas NetBackup",           "job",   "^bpbkar(32)?(\\.exe)?$" },
	{ "Veritas NetBackup",           "agent", "^bpinetd(\\.exe)?$" },
	{ "Veritas Backup Exec",         "agent", "^beremote\\.exe$" },
	{ "Commvault",                   "job",   "^clBackup(\\.exe)?$" },
	{ "Commvault",                   "agent", "^cvd(\\.exe)?$" },
	{ "IBM Storage Protect",         "job",   "^dsmc(\\.exe)?$" },
	{ "IBM Storage Protect",         "agent", "^dsmcad(\\.exe)?$" },
	{ "Macrium Reflect",             "job",   "^ReflectBin\\.exe$" },
	{ "Acronis",                     "agent", "^mms\\.exe$" },
	{ "Acronis True Image",          "job",   "^TrueImage(Cmd)?\\.exe$" },
	{ "Microsoft Azure Backup (MARS)", "agent", "^cbengine\\.exe$" },
	{ "System Center DPM",           "agent", "^DPMRA\\.exe$" },
	{ "AOMEI Backupper",             "job",   "^Backupper\\.exe$" },
	{ "AOMEI Backupper",             "agent", "^ABService\\.exe$" },
	{ "UrBackup",                    "agent", "^UrBackupClientBackend(\\.exe)?$" },
	{ "Bacula",                      "agent", "^bacula-fd(\\.exe)?$" },
	{ "Bareos",                      "agent", "^bareos-fd(\\.exe)?$" },
	{ "Duplicati",                   "agent", "^Duplicati\\.Server\\.exe$" },
	{ "Duplicati",                   "job",   "^Duplicati\\.CommandLine\\.exe$" },
	{ "restic",                      "job",   "^restic(\\.exe)?$" },
	{ "BorgBackup",                  "job",   "^borg(\\.exe)?$" },
	{ "duplicity",                   "job",   "^duplicity$" },
	{ NULL, NULL, NULL }
};
/* clang-format on */

#define SOFTWARE_MAX 256

struct diag__matcher {
	size_t n;
	sv_regex *re[SOFTWARE_MAX];
};

int diag__matcher_new(diag__matcher **out)
{
	diag__matcher *m;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!(m = sv_calloc(1, sizeof(*m))))
		return SV_ENOMEM;
	for (i = 0; diag__backup_software[i].pattern && i < SOFTWARE_MAX; i++) {
		rc = sv_regex_new(&m->re[i], diag__backup_software[i].pattern,
				  SV_REGEX_CASELESS);
		if (rc < 0) {
			sv_error_prefix("backup software pattern %u",
					(unsigned)i);
			diag__matcher_free(m);
			return rc;
		}
		m->n = i + 1;
	}
	*out = m;
	return 0;
}

const diag__software *diag__matcher_find(const diag__matcher *m,
					 const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (sv_regex_match(m->re[i], name, len, NULL) == 1)
			return &diag__backup_software[i];
	return NULL;
}

void diag__matcher_free(diag__matcher *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		sv_regex_free(m->re[i]);
	free(m);
}
