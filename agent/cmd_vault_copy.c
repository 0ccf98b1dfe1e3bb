/*
 * cmd_vault_copy.c - sysvault vault copy --to <url> [--to-endpoint <url>]
 *                    [--to-secret-file <file>] [--to-region <region>]
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jobs.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_log.h"

#define SECRET_FILE_MAX (64 * 1024)

static int interrupted(void *ud)
{
	(void)ud;
	return sv_env_interrupted();
}

/* The first line of the secret file, registered as a secret at once. */
static int read_secret(char **out, const char *file)
{
	char *text = NULL;
	size_t len;
	int rc = sv_fs_read_all(&text, &len, file, SECRET_FILE_MAX);

	*out = NULL;
	if (rc < 0) {
		sv_error_prefix("cannot read the secret file");
		return rc;
	}
	text[strcspn(text, "\r\n")] = '\0';
	if (!text[0]) {
		free(text);
		return sv_error_set(SV_EUSAGE,
				    "the secret file '%s' is empty: put the "
				    "destination's key on its first line",
				    file);
	}
	sv_log_add_secret(text);
	*out = text;
	return 0;
}

static int print_result(const char *to, const vault_copy_result *r,
			int64_t job_id)
{
	char size[32];

	if (g_agent.json)
		return sv_agent_print_json(json_pack(
			"{s:s,s:I,s:I,s:I,s:I,s:f,s:I}", "to", to, "objects",
			(json_int_t)r->objects, "copied",
			(json_int_t)r->objects_copied, "present",
			(json_int_t)r->objects_present, "bytes",
			(json_int_t)r->bytes_copied, "seconds",
			(double)r->elapsed_ms / 1000.0, "job",
			(json_int_t)job_id));
	sv_format_size(size, sizeof(size), r->bytes_copied);
	printf("copied %llu of %llu objects (%s) to %s, %llu already there, "
	       "every one verified (job %lld)\n",
	       (unsigned long long)r->objects_copied,
	       (unsigned long long)r->objects, size, to,
	       (unsigned long long)r->objects_present, (long long)job_id);
	return SV_EXIT_OK;
}

int cmd_vault_copy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "to-endpoint", required_argument, NULL, 'e' },
		{ "to-secret-file", required_argument, NULL, 's' },
		{ "to-region", required_argument, NULL, 'r' },
		{ "vault", required_argument, NULL, 'v' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const sv_cmd_def *cmd = sv_cmd_find("vault copy");
	const char *url = NULL, *pass_file = NULL, *secret_file = NULL;
	const char *to = NULL;
	vault_access acc;
	vault_copy_opts o;
	vault_copy_result r;
	char *secret = NULL;
	vault *v = NULL;
	sv_agent_job job;
	int64_t job_id;
	int c, rc;

	memset(&acc, 0, sizeof(acc));
	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	while ((c = sv_getopt(argc, argv, lo, cmd)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'e': acc.endpoint = optarg; break;
		case 's': secret_file = optarg; break;
		case 'r': acc.region = optarg; break;
		case 'v': url = optarg; break;
		case 'p': pass_file = optarg; break;
		default: return SV_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return sv_cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!to || !to[0])
		return sv_cmd_usage_error(cmd, "--to <url> is required: where the copy goes");
	if (secret_file && read_secret(&secret, secret_file) < 0)
		return sv_cmd_fail();
	acc.secret = secret;
	/* --insecure and the throttle apply to the destination too. */
	sv_agent_vault_access(&acc, to);
	o.progress = sv_agent_progress;
	o.cancel = interrupted;
	rc = sv_agent_job_start(&job, "copy", json_pack("{s:s}", "to", to));
	if (rc < 0) {
		free(secret);
		return sv_cmd_fail();
	}
	job_id = job.id;
	rc = sv_agent_open_vault(&v, url, pass_file);
	if (rc == 0)
		rc = vault_copy(v, to, &acc, &o, &r);
	sv_agent_progress_done();
	job.bytes_read = r.bytes_copied;
	job.bytes_stored = r.bytes_copied;
	sv_json_set(job.details, "copied", json_integer((json_int_t)r.objects_copied));
	sv_json_set(job.details, "present", json_integer((json_int_t)r.objects_present));
	sv_agent_job_vault(&job, v);
	rc = sv_agent_job_end(&job, rc);
	vault_close(v);
	if (secret)
		memset(secret, 0, strlen(secret));
	free(secret);
	if (rc < 0)
		return sv_cmd_fail();
	return print_result(to, &r, job_id);
}
