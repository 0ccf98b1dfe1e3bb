/*
 * registration.h - who this machine is to the vault: the credentials file
 * (`vault credentials`), the registration it turns into (`register`), the
 * machine identity each backup compares with it, and the test hooks that
 * stand in for the machine's names and firmware. Formats: docs/operations.md
 * ("Credentials and registration") and docs/vault-format.md (kind 'M').
 */
#ifndef SV_REGISTRATION_H
#define SV_REGISTRATION_H

#include <stdint.h>

#include "sv_buf.h"
#include "sv_platform.h"
#include "vault.h"

#define SV_CREDENTIALS_MAX (64u << 10)
#define SV_CREDENTIALS_DAYS 10

/* One credentials file. Strings are owned; NULL where the file has none. */
typedef struct sv_credentials {
	char vault_id[65];
	char *vault_name;
	char *url;
	char *endpoint;	 /* cloud endpoint override, or NULL */
	char *secret;	 /* the backend secret, or NULL (local vaults) */
	char *s3_region; /* S3 signing region, or NULL */
	char *tenant;	 /* "" when none was given */
	int secondary;	 /* region role: 0 primary, 1 secondary */
	int64_t issued;
	int64_t expires;
	uint8_t tag[32]; /* vault_auth_tag("credentials", canonical) */
} sv_credentials;

void sv_credentials_release(sv_credentials *c);

/*
 * Parses a credentials file's text: the structure, the fields' forms, and
 * the expiry against now. SV_EINVAL naming what is malformed; SV_EAUTH when
 * it expired. The tag is only checked by sv_credentials_verify(), once the
 * vault is open. Registers the secret for redaction.
 */
int sv_credentials_parse(sv_credentials *c, const char *text, size_t len,
			 int64_t now);
/* Reads and parses file; errors name the file and the fix. */
int sv_credentials_load(sv_credentials *c, const char *file);
/* The bytes the tag covers (docs/operations.md). */
int sv_credentials_canonical(sv_buf *out, const sv_credentials *c);
/* Computes c->tag under the open vault's key. */
int sv_credentials_sign(sv_credentials *c, const vault *v);
/* SV_EAUTH when c belongs to another vault or its tag does not match
 * (the file was edited). */
int sv_credentials_verify(const sv_credentials *c, const vault *v);
/* The file's JSON (with the tag); NULL on allocation failure. */
json_t *sv_credentials_json(const sv_credentials *c);

/* How to reach the vault of c. Borrows c's strings. */
void sv_credentials_access(vault_access *acc, const sv_credentials *c);

/* This machine's name and FQDN; SYSVAULT_FAKE_MACHINE and
 * SYSVAULT_FAKE_FQDN replace them (a test hook). Never fails: "unknown". */
void sv_agent_machine_names(char name[256], char fqdn[256]);
/* This machine's SMBIOS identity; SYSVAULT_FAKE_SMBIOS names a RawSMBIOSData
 * file to read instead (a test hook). */
int sv_agent_hardware(sv_smbios_info *out);
/* The same as the JSON a point and a machine record carry ({"uuid",
 * "manufacturer", "product"}); {} when it cannot be read. */
json_t *sv_agent_hardware_json(void);

/* 1 when this machine is registered (<state>/registration/registration.json
 * exists). */
int sv_agent_registered(void);

/* Loads the registration record (caller decrefs). SV_ENOTFOUND when this
 * machine is not registered. */
int sv_agent_registration_load(json_t **out);

/*
 * Registers this machine with the open vault v reached through c: writes
 * a machine record into the vault, then the master key and the backend
 * secret (protected) and the registration record into the state
 * directory. Refuses (SV_EEXISTS) when this machine is already registered
 * under its current name, unless force.
 */
int sv_agent_register(const sv_credentials *c, vault *v, int force,
		      json_t **record_out);
/* The refusals of sv_agent_register() that need no vault: a secondary-
 * region file, or this machine already registered under its name. */
int sv_agent_register_check(const sv_credentials *c, int force);

/* Opens the registered vault with the master key kept locally (no
 * passphrase); the cache is in <state>/cache. */
int sv_agent_open_registered(vault **out);

/* Fails with MACHINE_RENAMED when this machine's name or FQDN differs from
 * its registration's; 0 when they match or it is not registered. */
int sv_agent_identity_check(void);

/*
 * Opens the vault of a credentials file with the passphrase, without any
 * registration: the cache goes into a new temporary directory under the
 * state directory (*tmp_dir, which the caller removes with
 * sv_fs_remove_tree and frees, even on failure). The file's tag is verified
 * once the passphrase has opened the key.
 */
int sv_agent_open_credentials(vault **out, char **tmp_dir, const char *file,
			      const char *pass_file);

/* SYSVAULT_SCRYPT_N for test suites (a power of two >= 1024), else 0. */
uint64_t sv_agent_scrypt_n(void);

#endif
