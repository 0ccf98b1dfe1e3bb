/*
 * registration.c - this machine's registration: the record in the vault
 * (machines/<id>), the record and the protected secrets in
 * <state>/registration/, opening the vault through them, and the identity
 * check every backup makes.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registration.h"
#include "sv_env.h"
#include "sv_fs.h"
#include "sv_json.h"
#include "sv_log.h"
#include "sv_path.h"
#include "sv_time.h"
#include "sv_version.h"

#define REG_DIR "registration"
#define REG_FILE "registration.json"
#define REG_SECRETS "secrets"
#define REG_MAX (64u << 10)

/* ---- identity and its test hooks ---- */

static void name_or_hook(char dst[256], const char *hook,
			 int (*probe)(char *, size_t))
{
	char *fake = sv_env_get(hook);

	if (fake && fake[0])
		sv_strlcpy(dst, fake, 256);
	else if (probe(dst, 256) < 0 || !dst[0])
		sv_strlcpy(dst, "unknown", 256);
	free(fake);
}

void sv_agent_machine_names(char name[256], char fqdn[256])
{
	name_or_hook(name, "SYSVAULT_FAKE_MACHINE", sv_machine_name);
	name_or_hook(fqdn, "SYSVAULT_FAKE_FQDN", sv_machine_fqdn);
}

int sv_agent_hardware(sv_smbios_info *out)
{
	char *fake = sv_env_get("SYSVAULT_FAKE_SMBIOS"), *blob = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!fake || !fake[0]) {
		free(fake);
		return sv_smbios_read(out);
	}
	rc = sv_fs_read_all(&blob, &len, fake, 1u << 20);
	if (rc == 0)
		rc = sv_smbios_parse_rsmb(out, (const uint8_t *)blob, len);
	if (rc < 0)
		sv_error_prefix("SYSVAULT_FAKE_SMBIOS '%s'", fake);
	free(blob);
	free(fake);
	return rc;
}

uint64_t sv_agent_scrypt_n(void)
{
	char *env = sv_env_get("SYSVAULT_SCRYPT_N");
	uint64_t n = 0;

	if (env && sv_parse_u64(&n, env) < 0)
		n = 0;
	free(env);
	return n;
}

/* ---- where the registration lives ---- */

static char *reg_path(const char *leaf)
{
	char *dir = sv_path_join(sv_agent_state_dir(), REG_DIR);
	char *p = dir && leaf ? sv_path_join(dir, leaf) : NULL;

	if (!leaf)
		return dir;
	free(dir);
	return p;
}

int sv_agent_registered(void)
{
	char *p = reg_path(REG_FILE);
	int rc = p ? sv_fs_stat(p, NULL, NULL) : SV_ENOMEM;

	free(p);
	return rc == 0;
}

int sv_agent_registration_load(json_t **out)
{
	char *p = reg_path(REG_FILE);
	int rc;

	*out = NULL;
	if (!p)
		return SV_ENOMEM;
	rc = sv_json_load_file(out, p, REG_MAX);
	if (rc == SV_ENOTFOUND)
		rc = sv_error_set(
			SV_ENOTFOUND,
			"this machine is not registered with a "
			"vault: run 'sysvault register --credentials <file>'");
	free(p);
	return rc;
}

/* ---- registering ---- */

json_t *sv_agent_hardware_json(void)
{
	sv_smbios_info hw;

	if (sv_agent_hardware(&hw) < 0) {
		sv_log_info("no hardware identity for the registration: %s",
			    sv_error_msg());
		return json_object();
	}
	return json_pack("{s:s,s:s,s:s}", "uuid", hw.uuid, "manufacturer",
			 hw.manufacturer, "product", hw.product);
}

/* The machine record (kind 'M'): who registered, when, on what hardware. */
static json_t *machine_record(const char *name, const char *fqdn,
			      const char *vid)
{
	char now[32], os[128] = "";

	sv_time_format_utc(now, sizeof(now), sv_time_now());
	if (sv_os_version(os, sizeof(os)) < 0)
		os[0] = '\0';
	return json_pack("{s:i,s:s,s:s,s:s,s:o,s:s,s:s,s:s}", "version", 1,
			 "machine", name, "fqdn", fqdn, "vault_id", vid,
			 "hardware", sv_agent_hardware_json(), "os", os,
			 "agent", SV_VERSION, "registered", now);
}

/* A tag over the vault's id under the key this machine keeps: it proves,
 * before anything is written, that the kept key is still the one the
 * passphrase opened at registration. */
static int key_check(const vault *v, char hex[65])
{
	uint8_t tag[32];
	int rc = vault_auth_tag(v, "key-check", vault_id(v),
				strlen(vault_id(v)), tag);

	if (rc == 0)
		sv_hex_encode(hex, tag, sizeof(tag));
	return rc;
}

/* The local record: the machine record plus how to reach the vault. */
static json_t *local_record(const json_t *machine, const sv_credentials *c,
			    const char *object_id, const vault *v)
{
	json_t *r = json_deep_copy(machine);
	char expires[32], check[65];
	int rc;

	if (!r || key_check(v, check) < 0) {
		json_decref(r);
		return NULL;
	}
	sv_time_format_utc(expires, sizeof(expires), c->expires);
	rc = sv_json_set(r, "vault_name", json_string(c->vault_name)) |
	     sv_json_set(r, "url", json_string(c->url)) |
	     sv_json_set(r, "endpoint",
			 c->endpoint ? json_string(c->endpoint) : json_null()) |
	     sv_json_set(r, "s3_region",
			 c->s3_region ? json_string(c->s3_region)
				      : json_null()) |
	     sv_json_set(r, "tenant", json_string(c->tenant)) |
	     sv_json_set(r, "machine_object", json_string(object_id)) |
	     sv_json_set(r, "key_check", json_string(check)) |
	     sv_json_set(r, "credentials_expires", json_string(expires));
	if (rc != 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/* The secrets: the master key and the backend secret, protected. */
static int write_secrets(const vault *v, const sv_credentials *c)
{
	uint8_t key[VAULT_MASTER_KEY_LEN];
	char hex[2 * VAULT_MASTER_KEY_LEN + 1];
	char *path = reg_path(REG_SECRETS), *text = NULL;
	json_t *s;
	int rc = SV_ENOMEM;

	vault_key_export(v, key);
	sv_hex_encode(hex, key, sizeof(key));
	s = json_pack("{s:i,s:s,s:o}", "version", 1, "master_key", hex,
		      "secret",
		      c->secret ? json_string(c->secret) : json_null());
	if (path && s && (text = sv_json_dump(s, 0)) != NULL)
		rc = sv_secret_file_write(path, text, strlen(text));
	if (text)
		memset(text, 0, strlen(text));
	memset(key, 0, sizeof(key));
	memset(hex, 0, sizeof(hex));
	free(text);
	json_decref(s);
	free(path);
	return rc;
}

/* Refuses a second registration under the same name (a renamed machine may
 * register again: that is the fix for MACHINE_RENAMED). */
static int already_registered(const char *name, int force)
{
	json_t *r = NULL;
	const char *old = NULL, *url = NULL;
	int rc = 0;

	if (force || !sv_agent_registered())
		return 0;
	if (sv_agent_registration_load(&r) < 0 ||
	    sv_json_str(r, "machine", &old) < 0)
		rc = sv_error_set(
			SV_EEXISTS,
			"this machine is already registered (its "
			"registration in '%s' does not read): pass --force to "
			"replace it",
			sv_agent_state_dir());
	else if (sv_ascii_caseeq(old, name) && sv_json_str(r, "url", &url) == 0)
		rc = sv_error_set(SV_EEXISTS,
				  "this machine is already registered as '%s' "
				  "with the vault at '%s': nothing was "
				  "changed; pass --force "
				  "to register it again",
				  old, url);
	json_decref(r);
	return rc;
}

int sv_agent_register_check(const sv_credentials *c, int force)
{
	char name[256], fqdn[256];

	if (c->secondary)
		return sv_error_set(
			SV_EAUTH,
			"a secondary-region credentials file can "
			"restore but never register: issue a primary one with "
			"'sysvault vault credentials --vault <url>'");
	sv_agent_machine_names(name, fqdn);
	return already_registered(name, force);
}

int sv_agent_register(const sv_credentials *c, vault *v, int force,
		      json_t **record_out)
{
	char name[256], fqdn[256], oid[65];
	char *dir = reg_path(NULL), *file = reg_path(REG_FILE);
	json_t *m = NULL, *local = NULL;
	char *text = NULL;
	int rc;

	*record_out = NULL;
	sv_agent_machine_names(name, fqdn);
	if (!dir || !file) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = sv_agent_register_check(c, force)) < 0)
		goto done;
	if (!(m = machine_record(name, fqdn, vault_id(v)))) {
		rc = SV_ENOMEM;
		goto done;
	}
	/* The vault first, the secrets next, the local record last: this
	 * machine counts as registered only once everything is in place. */
	if ((rc = vault_machine_store(v, m, oid)) < 0 ||
	    (rc = sv_fs_mkdir_p(dir, 1)) < 0 || (rc = write_secrets(v, c)) < 0)
		goto done;
	if (!(local = local_record(m, c, oid, v)) ||
	    !(text = sv_json_dump(local, 1))) {
		rc = SV_ENOMEM;
		goto done;
	}
	rc = sv_fs_write_atomic(file, text, strlen(text), 1);
	if (rc == 0) {
		*record_out = local;
		local = NULL;
	}
done:
	free(text);
	json_decref(local);
	json_decref(m);
	free(dir);
	free(file);
	return rc;
}

/* ---- using the registration ---- */

static int read_secrets(uint8_t key[VAULT_MASTER_KEY_LEN], char **secret)
{
	char *path = reg_path(REG_SECRETS);
	json_t *s = NULL;
	const char *hex = NULL, *sec = NULL;
	sv_buf b;
	int rc;

	*secret = NULL;
	sv_buf_init(&b, REG_MAX);
	rc = path ? sv_secret_file_read(&b, path, REG_MAX) : SV_ENOMEM;
	if (rc == 0)
		rc = sv_json_parse(&s, b.ptr, b.len,
				   "the registration's secrets");
	if (rc == 0 && (sv_json_str(s, "master_key", &hex) < 0 ||
			strlen(hex) != 2 * VAULT_MASTER_KEY_LEN ||
			sv_hex_decode(key, VAULT_MASTER_KEY_LEN, hex) < 0))
		rc = sv_error_set(SV_ECORRUPT, "'%s' holds no master key",
				  path);
	if (rc == 0 && sv_json_str_opt(s, "secret", NULL, &sec) == 0 && sec) {
		if (!(*secret = sv_strdup(sec)))
			rc = SV_ENOMEM;
		else
			sv_log_add_secret(*secret);
	}
	if (rc < 0 && rc != SV_ENOMEM)
		sv_error_prefix(
			"cannot use this machine's registration (register it "
			"again with 'sysvault register --credentials <file> "
			"--force')");
	if (b.ptr)
		memset(b.ptr, 0, b.len);
	sv_buf_release(&b);
	json_decref(s);
	free(path);
	return rc;
}

/* The vault at the registered URL must be the registered one (not a vault
 * created anew there), and the kept key the registered key. */
static int same_vault(const vault *v, const json_t *r)
{
	const char *id = json_string_value(json_object_get(r, "vault_id"));
	const char *want = json_string_value(json_object_get(r, "key_check"));
	char check[65];
	int rc;

	if (!id || strcmp(id, vault_id(v)) != 0)
		return sv_error_set(
			SV_EAUTH,
			"the vault at '%s' is not the one registered "
			"(id %.16s..., registered %.16s...): register again "
			"with "
			"'sysvault register --credentials <file> --force'",
			vault_url(v), vault_id(v), id ? id : "?");
	if ((rc = key_check(v, check)) < 0)
		return rc;
	if (!want || strcmp(want, check) != 0)
		return sv_error_set(
			SV_EAUTH,
			"the key kept in '%s' is not the key "
			"registered: register again with 'sysvault register "
			"--credentials <file> --force'",
			sv_agent_state_dir());
	return 0;
}

int sv_agent_open_registered(vault **out)
{
	uint8_t key[VAULT_MASTER_KEY_LEN];
	vault_access acc;
	json_t *r = NULL;
	const char *url = NULL;
	char *secret = NULL, *cache = NULL;
	int rc;

	*out = NULL;
	memset(&acc, 0, sizeof(acc));
	if ((rc = sv_agent_registration_load(&r)) < 0 ||
	    (rc = sv_json_str(r, "url", &url)) < 0 ||
	    (rc = read_secrets(key, &secret)) < 0)
		goto done;
	sv_json_str_opt(r, "endpoint", NULL, &acc.endpoint);
	sv_json_str_opt(r, "s3_region", NULL, &acc.region);
	acc.secret = secret;
	sv_agent_vault_access(&acc, url);
	if (!(cache = sv_path_join(sv_agent_state_dir(), "cache")))
		rc = SV_ENOMEM;
	else
		rc = vault_open_key(out, url, &acc, key, cache);
	if (rc == 0)
		rc = same_vault(*out, r);
	if (rc < 0 && rc != SV_ENOMEM)
		sv_error_prefix("cannot open the vault this machine is "
				"registered with");
	if (rc < 0) {
		vault_close(*out);
		*out = NULL;
	}
done:
	memset(key, 0, sizeof(key));
	if (secret)
		memset(secret, 0, strlen(secret));
	free(secret);
	free(cache);
	json_decref(r);
	return rc;
}

int sv_agent_identity_check(void)
{
	char name[256], fqdn[256];
	const char *old_name = NULL, *old_fqdn = NULL;
	json_t *r = NULL;
	int rc;

	if (!sv_agent_registered())
		return 0;
	sv_agent_machine_names(name, fqdn);
	rc = sv_agent_registration_load(&r);
	if (rc == 0 && ((rc = sv_json_str(r, "machine", &old_name)) < 0 ||
			(rc = sv_json_str(r, "fqdn", &old_fqdn)) < 0))
		sv_error_prefix("the registration in '%s' does not read",
				sv_agent_state_dir());
	if (rc == 0 && (!sv_ascii_caseeq(name, old_name) ||
			!sv_ascii_caseeq(fqdn, old_fqdn)))
		rc = sv_error_set(
			SV_ERROR,
			"MACHINE_RENAMED: this machine was registered "
			"as '%s' (%s) and is now '%s' (%s): backups stop so "
			"that "
			"the new name does not continue the old name's points. "
			"Fix: "
			"run 'sysvault register --credentials <file>' again; "
			"the "
			"old points stay reachable with --machine %s",
			old_name, old_fqdn, name, fqdn, old_name);
	json_decref(r);
	return rc;
}

/* ---- the recovery shell: a credentials file and nothing else ---- */

/* A new directory for one run's cache, inside the (private) state
 * directory rather than a shared temporary folder that others can write.
 * Removed by the caller when the command ends. */
static int new_temp_state(char **out)
{
	uint64_t seed = sv_time_mono_ms() ^ ((uint64_t)sv_time_now() << 20);
	char *leaf = sv_aprintf("restore-%016llx", (unsigned long long)seed);
	char *dir = leaf ? sv_path_join(sv_agent_state_dir(), leaf) : NULL;
	int rc = dir ? sv_fs_stat(dir, NULL, NULL) : SV_ENOMEM;

	free(leaf);
	if (rc == 0)
		rc = sv_error_set(SV_EEXISTS,
				  "'%s' already exists: another restore is "
				  "running; try again",
				  dir);
	else if (rc == SV_ENOTFOUND)
		rc = sv_fs_mkdir_p(dir, 1);
	if (rc < 0) {
		free(dir);
		return rc;
	}
	*out = dir;
	return 0;
}

int sv_agent_open_credentials(vault **out, char **tmp_dir, const char *file,
			      const char *pass_file)
{
	sv_credentials c;
	vault_access acc;
	char *pass = NULL;
	int rc;

	*out = NULL;
	*tmp_dir = NULL;
	if ((rc = sv_credentials_load(&c, file)) < 0)
		return rc;
	sv_credentials_access(&acc, &c);
	sv_agent_vault_access(&acc, c.url);
	rc = sv_agent_passphrase(&pass, pass_file, 0);
	if (rc == 0)
		rc = sv_fs_mkdir_p(sv_agent_state_dir(), 1);
	if (rc == 0)
		rc = new_temp_state(tmp_dir);
	if (rc == 0)
		rc = vault_open(out, c.url, &acc, pass, *tmp_dir);
	if (rc == SV_EAUTH)
		sv_error_prefix(
			"the passphrase does not open this vault: nothing can "
			"be "
			"restored without the vault's current passphrase");
	if (rc == 0 && (rc = sv_credentials_verify(&c, *out)) < 0) {
		sv_error_prefix("credentials file '%s'", file);
		vault_close(*out);
		*out = NULL;
	}
	if (pass)
		memset(pass, 0, strlen(pass));
	free(pass);
	sv_credentials_release(&c);
	return rc;
}
