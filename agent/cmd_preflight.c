/*
 * cmd_preflight.c - sysvault preflight [--json] [--save <file>]
 *                   [--from <file>] [--scratch <dir>] [--skip-check PF0xx]...
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "diag.h"
#include "job.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_version.h"

#define SKIP_MAX 32
#define TTY_WIDTH_DEFAULT 120

/* The terminal's width for the table: $COLUMNS, else a wide default. */
static unsigned tty_width(void)
{
	char *cols = sv_env_get("COLUMNS");
	uint64_t n = 0;

	if (!cols || sv_parse_u64(&n, cols) < 0 || n < 60 || n > 1000)
		n = TTY_WIDTH_DEFAULT;
	free(cols);
	return (unsigned)n;
}

static int print_text(const diag_report *r, const char *from)
{
	sv_buf b;
	int rc;

	sv_buf_init(&b, SV_BUF_DEFAULT_MAX);
	if (from)
		printf("Evaluated from the bundle '%s'.\n", from);
	rc = diag_report_text(r, &b, sv_env_isatty(stdout) ? tty_width() : 0);
	if (rc == 0)
		fputs(b.ptr, stdout);
	sv_buf_release(&b);
	return rc;
}

/* Runs the checks here, or re-evaluates a saved bundle. */
static int preflight(diag_report **r, const char *from, const char *scratch,
		     const char *const *skip, vault *v)
{
	diag_vault_cb cb = { sv_agent_ping_vault, v };
	diag_opts o;
	json_t *reg = NULL;
	char *dir = NULL;
	int rc;

	if (from) {
		rc = diag_load(r, from);
		if (rc == 0)
			rc = diag_evaluate(*r, skip);
		return rc;
	}
	memset(&o, 0, sizeof(o));
	if (!(dir = sv_agent_scratch_dir(scratch)))
		return SV_ENOMEM;
	o.wbadmin = sv_agent_config("wsb.wbadmin");
	o.scratch_dir = dir;
	o.agent_version = SV_VERSION;
	o.skip = skip;
	o.vault = v ? &cb : NULL; /* no vault: PF011 and PF012 skip */
	/* PF013 compares the registration's names with this machine's; the
	 * registration itself does not expire (only credentials files do). */
	if (sv_agent_registration_load(&reg) == 0) {
		o.registered_name = json_string_value(json_object_get(reg, "machine"));
		o.registered_fqdn = json_string_value(json_object_get(reg, "fqdn"));
	}
	rc = diag_run(r, &o);
	json_decref(reg);
	free(dir);
	return rc;
}

int cmd_preflight(int argc, char **argv)
{
	static const struct option lo[] = {
		{"save", required_argument, NULL, 's'},
		{"from", required_argument, NULL, 'f'},
		{"scratch", required_argument, NULL, 'd'},
		{"skip-check", required_argument, NULL, 'k'},
		{"vault", required_argument, NULL, 'v'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("preflight");
	const char *save = NULL, *from = NULL, *scratch = NULL;
	const char *url = NULL, *pass_file = NULL;
	vault *v = NULL;
	const char *skip[SKIP_MAX + 1];
	diag_report *r = NULL;
	size_t nskip = 0;
	int c, rc;

	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		if (c == '?')
			return SV_EXIT_USAGE;
		if (c == 's')
			save = optarg;
		else if (c == 'f')
			from = optarg;
		else if (c == 'd')
			scratch = optarg;
		else if (c == 'v')
			url = optarg;
		else if (c == 'p')
			pass_file = optarg;
		else if (!diag_check_exists(optarg))
			return sv_cmd_usage_error(cmd,
						  "--skip-check: no check "
						  "'%s' (PF001 to PF015)",
						  optarg);
		else if (nskip < SKIP_MAX)
			skip[nskip++] = optarg;
	}
	skip[nskip] = NULL;
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (from && scratch)
		return sv_cmd_usage_error(cmd,
					  "--from re-evaluates a saved "
					  "bundle: --scratch does not apply");
	if ((from && url) || (!url && pass_file))
		return sv_cmd_usage_error(cmd, "--vault goes with a check of this machine "
					  "(not --from); --passphrase-file goes with --vault");
	/* With a vault, PF011 compares the clock with the vault's and PF012
	 * makes one authenticated request. */
	rc = url ? sv_agent_open_vault(&v, url, pass_file) : 0;
	if (rc == 0)
		rc = preflight(&r, from, scratch, skip, v);
	if (rc == 0 && save)
		rc = diag_save(r, save);
	vault_close(v);
	if (rc < 0) {
		diag_report_free(r);
		return sv_cmd_fail();
	}
	if (g_agent.json)
		rc = sv_agent_print_json(diag_report_json(r)) == SV_EXIT_OK
			     ? 0
			     : SV_ENOMEM;
	else
		rc = print_text(r, from);
	c = diag_exit_code(r);
	diag_report_free(r);
	if (rc < 0)
		return sv_cmd_fail();
	return c == 2	? SV_EXIT_FAILURE
	       : c == 1 ? SV_EXIT_WARNINGS
			: SV_EXIT_OK;
}
