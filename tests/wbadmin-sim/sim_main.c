/*
 * sim_main.c - the wbadmin simulator's command line: verbs, nouns and
 * option names are case-insensitive, options are "-name:value" or "-name"
 * ('/' works too), each command accepts only its own options. The banner
 * comes first on every command; a syntax error prints the real tool's
 * "ERROR - Command syntax incorrect" and the list of commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_path.h"
#include "sv_platform.h"

enum {
	O_TARGET = 1 << 0,
	O_MACHINE = 1 << 1,
	O_VERSION = 1 << 2,
	O_RECTARGET = 1 << 3,
	O_KEEP = 1 << 4,
	O_QUIET = 1 << 5,
	O_AUTHSYSVOL = 1 << 6,
	O_AUTOREBOOT = 1 << 7,
	O_OLDEST = 1 << 8,
	O_SUMMARY = 1 << 9
};

typedef struct sim_option {
	const char *name;
	unsigned flag;
	size_t value; /* offsetof the string in sim_opts, or flag */
	int has_value;
} sim_option;

#define STR(f) offsetof(sim_opts, f), 1
#define FLAG(f) offsetof(sim_opts, f), 0

static const sim_option options[] = {
	{"backupTarget", O_TARGET, STR(backup_target)},
	{"machine", O_MACHINE, STR(machine)},
	{"version", O_VERSION, STR(version)},
	{"recoveryTarget", O_RECTARGET, STR(recovery_target)},
	{"keepVersions", O_KEEP, STR(keep_versions)},
	{"quiet", O_QUIET, FLAG(quiet)},
	{"authsysvol", O_AUTHSYSVOL, FLAG(authsysvol)},
	{"autoReboot", O_AUTOREBOOT, FLAG(auto_reboot)},
	{"deleteOldest", O_OLDEST, FLAG(delete_oldest)},
	{"showsummary", O_SUMMARY, FLAG(show_summary)},
};

typedef struct sim_command {
	const char *verb, *noun;
	sim_cmd_fn fn;
	unsigned allowed;
	const char *summary;
} sim_command;

static const sim_command commands[] = {
	{"start", "systemstatebackup", sim_cmd_backup, O_TARGET | O_QUIET,
	 "Runs a system state backup."},
	{"start", "systemstaterecovery", sim_cmd_recover,
	 O_VERSION | O_TARGET | O_MACHINE | O_RECTARGET | O_AUTHSYSVOL |
		 O_AUTOREBOOT | O_QUIET | O_SUMMARY,
	 "Runs a system state recovery based on the supplied parameters."},
	{"get", "versions", sim_cmd_versions, O_TARGET | O_MACHINE,
	 "Lists details of backups that can be recovered."},
	{"get", "items", sim_cmd_items, O_VERSION | O_TARGET | O_MACHINE,
	 "Lists items contained in a backup."},
	{"get", "status", sim_cmd_status, 0,
	 "Reports the status of the currently running operation."},
	{"stop", "job", sim_cmd_stop, O_QUIET,
	 "Stops the currently running backup or recovery operation."},
	{"delete", "systemstatebackup", sim_cmd_delete,
	 O_KEEP | O_VERSION | O_OLDEST | O_TARGET | O_MACHINE | O_QUIET,
	 "Deletes one or more system state backups."},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int casecmp(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		int y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y)
			return 1;
	}
	return *a != *b;
}

static int syntax_error(const sim_ctx *c, const char *what)
{
	char line[160];
	size_t i, j;

	sim_say(c, M_SYNTAX, what, NULL);
	sim_line(c, "");
	sim_say(c, M_SYNTAX_HINT, NULL);
	sim_line(c, "");
	for (i = 0; i < NCOMMANDS; i++) {
		sv_snprintf(line, sizeof(line), "%s %s", commands[i].verb,
			    commands[i].noun);
		for (j = 0; line[j]; j++)
			if (line[j] >= 'a' && line[j] <= 'z')
				line[j] = (char)(line[j] - 32);
		sim_linef(c, "%-28s-- %s", line, commands[i].summary);
	}
	return SIM_EXIT_USAGE;
}

/* Parses one "-name[:value]" into c->o; returns the bit or 0. */
static unsigned parse_option(sim_ctx *c, const char *arg, unsigned allowed)
{
	const char *colon, *value;
	size_t i, n;

	if (arg[0] != '-' && arg[0] != '/')
		return 0;
	colon = strchr(arg, ':');
	n = colon ? (size_t)(colon - arg - 1) : strlen(arg + 1);
	value = colon ? colon + 1 : NULL;
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		const sim_option *o = &options[i];
		char name[32];

		if (n >= sizeof(name))
			continue;
		memcpy(name, arg + 1, n);
		name[n] = '\0';
		if (casecmp(name, o->name) != 0 || !(allowed & o->flag))
			continue;
		if (o->has_value != (value != NULL) ||
		    (value && value[0] == '\0'))
			return 0;
		if (o->has_value)
			*(const char **)((char *)&c->o + o->value) = value;
		else
			*(int *)((char *)&c->o + o->value) = 1;
		return o->flag;
	}
	return 0;
}

/* A computer name: UTF-8 without control characters or path syntax. */
static int machine_ok(const char *m)
{
	size_t n = strlen(m), i;

	if (n == 0 || n >= SIM_NAME_MAX || !sv_utf8_valid(m, n) ||
	    !strcmp(m, ".") || !strcmp(m, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x20 || strchr("\\/:*?\"<>|", m[i]))
			return 0;
	return 1;
}

static int pick_machine(sim_ctx *c)
{
	char *env = NULL;
	const char *m = c->o.machine;

	if (!m) {
		env = sv_env_get("WBADMIN_SIM_MACHINE");
		if (!env || !*env) {
			free(env);
			env = sv_env_get("COMPUTERNAME");
		}
		if (env && *env)
			m = env;
	}
	if (m)
		sv_strlcpy(c->machine, m, sizeof(c->machine));
	else if (sv_machine_name(c->machine, sizeof(c->machine)) < 0)
		sv_strlcpy(c->machine, "localhost", sizeof(c->machine));
	free(env);
	if (!machine_ok(c->machine)) {
		sim_say(c, M_BAD_MACHINE, c->machine, NULL);
		return SIM_EXIT_USAGE;
	}
	return 0;
}

static void ctx_init(sim_ctx *c)
{
	char *lang = sv_env_get("WBADMIN_SIM_LANG"), *tmp;

	memset(c, 0, sizeof(*c));
	c->german = lang && (lang[0] == 'd' || lang[0] == 'D') &&
		    (lang[1] == 'e' || lang[1] == 'E');
	free(lang);
	c->state_dir = sv_env_get("WBADMIN_SIM_STATE");
	if (!c->state_dir || !*c->state_dir) {
		free(c->state_dir);
		tmp = sv_fs_temp_dir();
		c->state_dir = tmp ? sv_path_join(tmp, "wbadmin-sim") : NULL;
		free(tmp);
	}
	c->transcript = sv_env_get("WBADMIN_SIM_TRANSCRIPT");
	if (c->transcript && !*c->transcript) {
		free(c->transcript);
		c->transcript = NULL;
	}
}

/* WBADMIN_SIM_FAIL=not_installed: what cmd.exe says for a missing tool. */
static int not_installed(const sim_ctx *c)
{
	sim_eline(c, "'wbadmin' is not recognized as an internal or external "
		     "command,");
	sim_eline(c, "operable program or batch file.");
	return sim_os_not_found_code();
}

static const sim_command *find_command(int argc, char **argv)
{
	size_t i;

	if (argc < 3)
		return NULL;
	for (i = 0; i < NCOMMANDS; i++)
		if (!casecmp(argv[1], commands[i].verb) &&
		    !casecmp(argv[2], commands[i].noun))
			return &commands[i];
	return NULL;
}

/* The first word of a command line that names no command. */
static const char *bad_word(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return "(none)";
	for (i = 0; i < NCOMMANDS; i++)
		if (!casecmp(argv[1], commands[i].verb))
			return argc < 3 ? argv[1] : argv[2];
	return argv[1];
}

static int run(sim_ctx *c, int argc, char **argv)
{
	const sim_command *cmd = find_command(argc, argv);
	char *fail = sv_env_get("WBADMIN_SIM_FAIL");
	unsigned seen = 0, bit;
	int i, missing = fail && !strcmp(fail, "not_installed");

	free(fail);
	if (missing && cmd && cmd->fn == sim_cmd_backup)
		return not_installed(c);
	sim_banner(c);
	if (!cmd)
		return syntax_error(c, bad_word(argc, argv));
	for (i = 3; i < argc; i++) {
		bit = parse_option(c, argv[i], cmd->allowed);
		if (!bit || (seen & bit))
			return syntax_error(c, argv[i]);
		seen |= bit;
	}
	if (!c->state_dir)
		return SIM_EXIT_FAILED;
	if ((i = pick_machine(c)) != 0)
		return i;
	return cmd->fn(c);
}

int main(int argc, char **argv)
{
	sim_ctx c;
	int rc;

	sim_os_init();
	argc = sv_env_utf8_args(argc, &argv);
	ctx_init(&c);
	rc = run(&c, argc, argv);
	free(c.state_dir);
	free(c.transcript);
	return rc;
}
