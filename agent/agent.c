/*
 * agent.c - option parsing, passphrase, vault opening and progress output
 * shared by the commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jobs.h"
#include "registration.h"
#include "throttle.h"
#include "sv_buf.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_time.h"

void sv_getopt_reset(void)
{
	optind = 0;
}

int sv_getopt(int argc, char **argv, const struct option *lo,
	      const sv_cmd_def *cmd)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, ":", lo, NULL);
	if (c == '?') {
		sv_cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		return '?';
	}
	if (c == ':') {
		sv_cmd_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	return c;
}

static int read_pass_file(char **out, const char *file)
{
	char *text = NULL;
	size_t len, n;
	int rc = sv_fs_read_all(&text, &len, file, 64 * 1024);

	if (rc < 0) {
		sv_error_prefix("cannot read the passphrase file");
		return rc;
	}
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	*out = text;
	return 0;
}

static int prompt(char **out, int confirm)
{
	char a[VAULT_PASSPHRASE_MAX + 2], b[VAULT_PASSPHRASE_MAX + 2];
	int rc;

	rc = sv_env_read_secret("Vault passphrase: ", a, sizeof(a));
	if (rc == SV_ENOTSUPPORTED)
		return sv_error_set(SV_EUSAGE,
				    "no passphrase: pass --passphrase-file <file> or set SYSVAULT_PASSPHRASE");
	if (rc == 0 && confirm) {
		rc = sv_env_read_secret("Repeat the passphrase: ", b, sizeof(b));
		if (rc == 0 && strcmp(a, b) != 0)
			rc = sv_error_set(SV_EUSAGE, "the two passphrases differ: nothing was changed");
	}
	if (rc == 0 && !(*out = sv_strdup(a)))
		rc = SV_ENOMEM;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	return rc;
}

int sv_agent_passphrase(char **out, const char *file, int confirm)
{
	char *env;
	int rc;

	*out = NULL;
	if (file)
		rc = read_pass_file(out, file);
	else if ((env = sv_env_get("SYSVAULT_PASSPHRASE")) != NULL) {
		*out = env;
		rc = 0;
	} else {
		rc = prompt(out, confirm);
	}
	if (rc == 0)
		sv_log_add_secret(*out);
	return rc;
}

int sv_agent_vault_url(const char **out, const char *opt)
{
	*out = opt ? opt : sv_agent_config("vault");
	if (*out)
		return 0;
	return sv_error_set(SV_EUSAGE,
			    "no vault given: pass --vault <dir> (or set \"vault\" in %s%cconfig.json)",
			    sv_agent_state_dir(), SV_PATH_SEP);
}

/* The bandwidth schedule of config.json ("throttle", cmd_throttle.c) for
 * the vault_access of this process's vault: *out NULL when none is set,
 * SV_EINVAL naming the field when it is malformed. The parsed copy lives as
 * long as the process, like the configuration it comes from (config.c). */
static int agent_throttle(const vault_throttle **out)
{
	static vault_throttle parsed;
	const json_t *j = sv_agent_config_json("throttle");
	int rc;

	*out = NULL;
	if (!j)
		return 0;
	if ((rc = vault_throttle_from_json(&parsed, j)) < 0)
		return rc;
	*out = &parsed;
	return 0;
}

void sv_agent_vault_access(vault_access *acc, const char *url)
{
	char host[256];

	acc->insecure = g_agent.insecure;
	/* sv_agent_open_vault refuses a malformed schedule before it gets
	 * here; elsewhere (register, credentials) it is said and skipped */
	if (agent_throttle(&acc->throttle) < 0)
		sv_log_warn("%s: transfers are not throttled", sv_error_msg());
	/* Said on every run, so that a lab setting never goes unnoticed. */
	if (g_agent.insecure &&
	    vault_endpoint_host(url, acc, host, sizeof(host)) == 0)
		sv_log_warn("TLS certificate verification is off for %s "
			    "(--insecure: for lab endpoints only)", host);
}

void sv_agent_job_vault(struct sv_agent_job *j, const vault *v)
{
	if (v)
		sv_json_set(j->details, "retries",
			    json_integer((json_int_t)vault_retries(v)));
	if (g_agent.insecure)
		sv_json_set(j->details, "insecure", json_true());
}

int sv_agent_open_vault(vault **out, const char *url_opt, const char *pass_file)
{
	const char *url;
	char *pass = NULL, *cache = NULL;
	const vault_throttle *thr;
	vault_access acc;
	int rc;

	*out = NULL;
	if ((rc = agent_throttle(&thr)) < 0)
		return rc;
	/* A registered machine keeps the key: no URL, no passphrase. */
	if (!url_opt && sv_agent_registered())
		return sv_agent_open_registered(out);
	rc = sv_agent_vault_url(&url, url_opt);
	memset(&acc, 0, sizeof(acc));
	if (rc == 0)
		sv_agent_vault_access(&acc, url);
	if (rc == 0)
		rc = sv_agent_passphrase(&pass, pass_file, 0);
	if (rc == 0 && !(cache = sv_path_join(sv_agent_state_dir(), "cache")))
		rc = SV_ENOMEM;
	if (rc == 0)
		rc = sv_fs_mkdir_p(sv_agent_state_dir(), 1);
	if (rc == 0)
		rc = vault_open(out, url, &acc, pass, cache);
	if (pass)
		memset(pass, 0, strlen(pass));
	free(pass);
	free(cache);
	return rc;
}

int sv_agent_ping_vault(void *ud, uint32_t timeout_ms, int64_t *server_time,
			char *err, size_t n)
{
	int rc = vault_ping(ud, server_time);

	(void)timeout_ms;
	if (rc < 0) {
		char *msg = sv_strdup(sv_error_msg());

		if (msg)
			sv_redact(msg);
		snprintf(err, n, "%s", msg ? msg : "");
		free(msg);
	}
	return rc;
}

/* ---- progress ---- */

static struct {
	uint64_t start_ms;
	uint64_t last_ms;
	int on_tty;
	int drawn;
} g_prog;

static void progress_tty(const vault_progress *p, double secs)
{
	char done[32], total[32];
	double rate = secs > 0 ? (double)p->bytes_done / secs : 0;
	double eta = rate > 0 && p->bytes_total > p->bytes_done
			     ? (double)(p->bytes_total - p->bytes_done) / rate : 0;
	double dedup = p->bytes_done ? 100.0 * (1.0 - (double)p->bytes_new /
						(double)p->bytes_done) : 0;

	sv_format_size(done, sizeof(done), p->bytes_done);
	sv_format_size(total, sizeof(total), p->bytes_total);
	fprintf(stderr, "\r%s: %s / %s  %.1f MiB/s  ETA %02d:%02d  dedup %.0f%%   ",
		p->phase, done, total, rate / 1048576.0, (int)(eta / 60),
		(int)eta % 60, dedup);
	g_prog.drawn = 1;
}

static void progress_json(const vault_progress *p, double secs)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "phase", p->phase,
			      "files_done", (json_int_t)p->files_done,
			      "files_total", (json_int_t)p->files_total,
			      "bytes_done", (json_int_t)p->bytes_done,
			      "bytes_total", (json_int_t)p->bytes_total,
			      "bytes_new", (json_int_t)p->bytes_new,
			      "bytes_stored", (json_int_t)p->bytes_stored,
			      "elapsed", secs);
	char *s = o ? sv_json_dump(o, 0) : NULL;

	if (s)
		fprintf(stderr, "%s\n", s);
	free(s);
	json_decref(o);
}

void sv_agent_progress(void *ud, const vault_progress *p)
{
	uint64_t now = sv_time_mono_ms();

	(void)ud;
	if (!g_prog.start_ms) {
		g_prog.start_ms = now;
		g_prog.on_tty = sv_env_isatty(stderr);
	}
	if (g_prog.on_tty) {
		progress_tty(p, (double)(now - g_prog.start_ms) / 1000.0);
	} else if (g_agent.json && now - g_prog.last_ms >= 1000) {
		g_prog.last_ms = now;
		progress_json(p, (double)(now - g_prog.start_ms) / 1000.0);
	}
}

void sv_agent_progress_done(void)
{
	if (g_prog.drawn)
		fputc('\n', stderr);
	g_prog.drawn = 0;
}

int sv_agent_cancelled(void *ud)
{
	(void)ud;
	return sv_env_interrupted();
}

int sv_agent_print_json(json_t *v)
{
	char *s = v ? sv_json_dump(v, 1) : NULL;

	json_decref(v);
	if (!s)
		return sv_cmd_fail();
	printf("%s\n", s);
	free(s);
	return SV_EXIT_OK;
}
