/*
 * cmd_credentials.c - sysvault vault credentials --vault <url> -o <file>
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_time.h"

/* The first line of --secret-file. */
static int secret_from_file(char **out, const char *file)
{
	size_t len = 0;
	int rc = sv_fs_read_all(out, &len, file, 64 * 1024);

	if (rc < 0) {
		sv_error_prefix("cannot read the secret file");
		return rc;
	}
	(*out)[strcspn(*out, "\r\n")] = '\0';
	return 0;
}

/* The secret the issuer itself reaches the vault with, from the environment
 * the cloud backends read (vault.h, vault_access). */
static int secret_from_env(char **out, const char *url)
{
	char *a = NULL, *b = NULL;

	*out = NULL;
	if (sv_str_startswith(url, "azure://")) {
		if (!(*out = sv_env_get("SYSVAULT_AZURE_KEY")))
			*out = sv_env_get("SYSVAULT_AZURE_SAS");
	} else if (sv_str_startswith(url, "s3://")) {
		a = sv_env_get("AWS_ACCESS_KEY_ID");
		b = sv_env_get("AWS_SECRET_ACCESS_KEY");
		if (a && b && !(*out = sv_aprintf("%s:%s", a, b)))
			return SV_ENOMEM;
	} else {
		return 0; /* a local vault needs none */
	}
	free(a);
	free(b);
	if (!*out || !(*out)[0])
		return sv_error_set(
			SV_EUSAGE,
			"no secret for '%s': pass --secret-file "
			"<file> or set the variables the vault is reached with "
			"(README, \"Cloud vaults\")",
			url);
	return 0;
}

static char *env_opt(const char *url, const char *azure, const char *s3)
{
	if (sv_str_startswith(url, "azure://") && azure)
		return sv_env_get(azure);
	if (sv_str_startswith(url, "s3://") && s3)
		return sv_env_get(s3);
	return NULL;
}

/* Fills c from the options and the environment; the vault is opened with
 * the same access the file hands on, so a wrong secret fails here. */
static int fill(sv_credentials *c, const char *url, const char *secret_file,
		const char *name, const char *tenant, uint64_t days,
		int secondary)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->url = sv_strdup(url);
	c->vault_name = sv_strdup(name ? name : url);
	c->tenant = sv_strdup(tenant ? tenant : "");
	c->endpoint =
		env_opt(url, "SYSVAULT_AZURE_ENDPOINT", "SYSVAULT_S3_ENDPOINT");
	c->s3_region = env_opt(url, NULL, "SYSVAULT_S3_REGION");
	c->secondary = secondary;
	c->issued = sv_time_now();
	c->expires = c->issued + (int64_t)days * 86400;
	if (!c->url || !c->vault_name || !c->tenant)
		return SV_ENOMEM;
	if (secret_file && !sv_str_startswith(url, "azure://") &&
	    !sv_str_startswith(url, "s3://"))
		return sv_error_set(SV_EUSAGE,
				    "'%s' is a local vault: it needs no "
				    "--secret-file",
				    url);
	rc = secret_file ? secret_from_file(&c->secret, secret_file)
			 : secret_from_env(&c->secret, url);
	if (rc == 0 && c->secret)
		sv_log_add_secret(c->secret);
	return rc;
}

static int issue(sv_credentials *c, const char *pass_file, const char *out)
{
	vault_access acc;
	vault *v = NULL;
	json_t *j = NULL;
	char *pass = NULL, *cache = NULL, *text = NULL;
	int rc;

	sv_credentials_access(&acc, c);
	sv_agent_vault_access(&acc, c->url);
	if ((rc = sv_agent_passphrase(&pass, pass_file, 0)) < 0)
		goto done;
	if (!(cache = sv_path_join(sv_agent_state_dir(), "cache"))) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = sv_fs_mkdir_p(sv_agent_state_dir(), 1)) < 0 ||
	    (rc = vault_open(&v, c->url, &acc, pass, cache)) < 0)
		goto done;
	sv_strlcpy(c->vault_id, vault_id(v), sizeof(c->vault_id));
	if ((rc = sv_credentials_sign(c, v)) < 0)
		goto done;
	if (!(j = sv_credentials_json(c)) || !(text = sv_json_dump(j, 1))) {
		rc = SV_ENOMEM;
		goto done;
	}
	rc = sv_fs_write_atomic(out, text, strlen(text), 1);
	if (rc < 0)
		sv_error_prefix("cannot write the credentials file");
done:
	if (text)
		memset(text, 0, strlen(text));
	free(text);
	json_decref(j);
	vault_close(v);
	if (pass)
		memset(pass, 0, strlen(pass));
	free(pass);
	free(cache);
	return rc;
}

/* The one short option: "-o <file>" is "--output <file>" (sv_getopt
 * parses long options only). */
static void short_output(int argc, char **argv)
{
	static char output[] = "--output";
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "-o"))
			argv[i] = output;
}

int cmd_vault_credentials(int argc, char **argv)
{
	static const struct option lo[] = {
		{"vault", required_argument, NULL, 'v'},
		{"passphrase-file", required_argument, NULL, 'p'},
		{"secondary", no_argument, NULL, 'S'},
		{"days", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"secret-file", required_argument, NULL, 's'},
		{"name", required_argument, NULL, 'n'},
		{"tenant", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0}};
	const sv_cmd_def *cmd = sv_cmd_find("vault credentials");
	const char *url_opt = NULL, *url = NULL, *pass_file = NULL, *out = NULL;
	const char *secret_file = NULL, *name = NULL, *tenant = NULL;
	uint64_t days = SV_CREDENTIALS_DAYS;
	sv_credentials c;
	char when[32];
	int ch, rc, secondary = 0;

	memset(&c, 0, sizeof(c));
	short_output(argc, argv);
	while ((ch = sv_getopt(argc, argv, lo, cmd)) != -1) {
		switch (ch) {
		case 'v':
			url_opt = optarg;
			break;
		case 'p':
			pass_file = optarg;
			break;
		case 'S':
			secondary = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 't':
			tenant = optarg;
			break;
		case 'd':
			if (sv_parse_u64(&days, optarg) < 0 || days < 1 ||
			    days > 365)
				return sv_cmd_usage_error(
					cmd,
					"--days takes a number from 1 to 365");
			break;
		default:
			return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'",
					  argv[optind]);
	if (!out)
		return sv_cmd_usage_error(cmd, "-o <file> is required: where "
					       "to write the credentials");
	if ((rc = sv_agent_vault_url(&url, url_opt)) < 0 ||
	    (rc = fill(&c, url, secret_file, name, tenant, days, secondary)) <
		    0 ||
	    (rc = issue(&c, pass_file, out)) < 0) {
		sv_credentials_release(&c);
		return rc == SV_EUSAGE
			       ? sv_cmd_usage_error(cmd, "%s", sv_error_msg())
			       : sv_cmd_fail();
	}
	sv_time_format_utc(when, sizeof(when), c.expires);
	if (g_agent.json) {
		rc = sv_agent_print_json(json_pack(
			"{s:s,s:s,s:s,s:s}", "file", out, "vault_id",
			c.vault_id, "region",
			secondary ? "secondary" : "primary", "expires", when));
	} else {
		printf("wrote %s credentials for vault %s to %s; they expire "
		       "%s\n",
		       secondary ? "secondary-region" : "primary", c.vault_id,
		       out, when);
		printf("The file holds the vault's access secret: keep it as "
		       "safe as the passphrase.\n");
		rc = SV_EXIT_OK;
	}
	sv_credentials_release(&c);
	return rc;
}
