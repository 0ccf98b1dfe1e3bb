/*
 * backend_local.c - a vault in a directory (scheme "file").
 *
 * An object "data/ab/<hex>" is the file <root>/data/ab/<hex>. Objects are
 * created write-once with sv_fs_create_atomic(): a temp file beside the
 * target, synced, then linked into place without replacing anything, then
 * the directory synced. A crash can leave "<name>.tmp-<random>" files
 * behind; list() never reports them. Only names of the grammar in
 * docs/vault-format.md are accepted, so no name can reach outside the root.
 *
 * Thread-safe: the only state is the root path, fixed at open.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_fs.h"
#include "sv_path.h"
#include "vault_int.h"

/* Bytes compared at a time when a put meets an existing object. */
#define LOCAL_CMP_CHUNK ((size_t)64 << 10)
/* How often a put retries when the object is not there after all: deleted
 * meanwhile, or a temp name taken by another thread writing the same
 * object (each such thread wins a temp name within a few tries). */
#define LOCAL_PUT_TRIES 8

/* ---- object names ---- */

static int is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

/* 1 when s is exactly n lower-case hex digits. */
static int is_hex_name(const char *s, size_t n)
{
	return strlen(s) == n && is_lower_hex(s, n);
}

/* The flat kinds: "<dir>/<hex>" with the hex length of each. */
static const struct {
	const char *dir;
	size_t hex_len;
} flat_kinds[] = {
	{"keys", 32},
	{"locks", 32},
	{"index", VAULT_HEX_ID_LEN},
	{"points", VAULT_HEX_ID_LEN},
	{"machines", VAULT_HEX_ID_LEN},
};

#define N_FLAT_KINDS (sizeof(flat_kinds) / sizeof(flat_kinds[0]))

/* "data/xx/<64 hex>" where xx are the id's first two digits. */
static int is_pack_name(const char *name)
{
	if (strncmp(name, "data/", 5) != 0 || !is_lower_hex(name + 5, 2) ||
	    name[7] != '/')
		return 0;
	return is_hex_name(name + 8, VAULT_HEX_ID_LEN) &&
	       memcmp(name + 5, name + 8, 2) == 0;
}

/* 1 when name is an object name of docs/vault-format.md. */
static int name_valid(const char *name)
{
	size_t i, len;

	if (strcmp(name, "config") == 0)
		return 1;
	for (i = 0; i < N_FLAT_KINDS; i++) {
		len = strlen(flat_kinds[i].dir);
		if (strncmp(name, flat_kinds[i].dir, len) == 0 &&
		    name[len] == '/')
			return is_hex_name(name + len + 1,
					   flat_kinds[i].hex_len);
	}
	return is_pack_name(name);
}

/* 1 when rel ("data", "data/ab", "keys", ...) is a directory that can hold
 * objects or their directories. */
static int dir_valid(const char *rel)
{
	size_t i;

	if (strcmp(rel, "data") == 0)
		return 1;
	if (strncmp(rel, "data/", 5) == 0)
		return is_hex_name(rel + 5, 2);
	for (i = 0; i < N_FLAT_KINDS; i++)
		if (strcmp(rel, flat_kinds[i].dir) == 0)
			return 1;
	return 0;
}

static int check_name(const vault_backend *b, const char *name)
{
	if (name && name_valid(name))
		return 0;
	return sv_error_set(SV_EINVAL, "vault '%s': '%s' is not an object name",
			    b->url, name ? name : "(null)");
}

/* ---- paths ---- */

/* <root><sep><rel> with rel's '/' turned into the platform separator, so
 * messages show one kind of separator. rel "" gives the root. */
static char *local_path(const vault_backend *b, const char *rel)
{
	char *p = sv_path_join(b->url, rel), *s;
	size_t skip;

	if (!p)
		return NULL;
	skip = strlen(p) - strlen(rel);
	for (s = p + skip; *s; s++)
		if (*s == '/')
			*s = SV_PATH_SEP;
	return p;
}

static int root_missing(const vault_backend *b)
{
	int is_dir = 0;

	if (sv_fs_stat(b->url, &is_dir, NULL) == 0 && is_dir)
		return 0;
	return sv_error_set(SV_ENOTFOUND, "no vault at '%s'", b->url);
}

/* ---- put ---- */

/* Keeps the current message under another code: SV_EEXISTS from put()
 * must mean that the object exists, SV_ENOTFOUND that the vault does not. */
static int recode(int code)
{
	char msg[512];

	sv_strlcpy(msg, sv_error_msg(), sizeof(msg));
	return sv_error_set(code, "%s", msg);
}

/* Syncs every directory from the parent of rel up to the root, so that the
 * directories just created for rel survive a crash. */
static int sync_ancestors(const vault_backend *b, const char *rel)
{
	char *dir = sv_strdup(rel), *slash, *path = NULL;
	int rc = dir ? 0 : SV_ENOMEM;

	while (rc == 0) {
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			dir[0] = '\0';
		if ((path = local_path(b, dir)) == NULL) {
			rc = SV_ENOMEM;
			break;
		}
		rc = sv_fs_sync_dir(path);
		free(path);
		if (!slash)
			break;
	}
	free(dir);
	return rc;
}

/* Creates the directories an object lives in ("data/ab"), not the root:
 * a vanished root is reported, never silently made again. */
static int make_parents(const vault_backend *b, const char *name)
{
	const char *slash = strrchr(name, '/');
	char *rel = NULL, *path = NULL;
	int rc;

	if ((rc = root_missing(b)) != 0)
		return rc;
	if (!slash) /* the root is there: nothing to create */
		return sv_error_set(SV_EIO, "vault '%s': cannot create '%s'",
				    b->url, name);
	rel = sv_strndup(name, (size_t)(slash - name));
	path = rel ? local_path(b, rel) : NULL;
	if (!path) {
		rc = SV_ENOMEM;
		goto done;
	}
	/* The root is there, so "exists" or "not found" from mkdir means a
	 * file where a directory belongs: a damaged vault, not a missing one.
	 */
	rc = sv_fs_mkdir_p(path, 0);
	if (rc == SV_EEXISTS || rc == SV_ENOTFOUND)
		rc = recode(SV_EIO);
	if (rc == 0)
		rc = sync_ancestors(b, rel);
done:
	free(rel);
	free(path);
	return rc;
}

/* Writes the object, creating its directory when that is missing. */
static int create_object(const vault_backend *b, const char *name,
			 const char *path, const void *data, size_t n)
{
	int rc = sv_fs_create_atomic(path, data, n);

	if (rc == SV_ENOTFOUND) {
		rc = make_parents(b, name);
		if (rc == 0)
			rc = sv_fs_create_atomic(path, data, n);
	}
	if (rc < 0 && rc != SV_EEXISTS)
		sv_error_prefix("cannot store '%s' in vault '%s'", name,
				b->url);
	return rc;
}

/* *equal = 1 when the first n bytes of f are data (read a chunk at a time). */
static int same_bytes(sv_file *f, const uint8_t *data, size_t n, int *equal)
{
	uint8_t *buf = sv_malloc(LOCAL_CMP_CHUNK);
	size_t off = 0, k;
	int rc = buf ? 0 : SV_ENOMEM;

	*equal = 1;
	while (rc == 0 && off < n && *equal) {
		k = n - off < LOCAL_CMP_CHUNK ? n - off : LOCAL_CMP_CHUNK;
		rc = sv_file_pread(f, buf, k, off);
		if (rc == 0 && memcmp(buf, data + off, k) != 0)
			*equal = 0;
		off += k;
	}
	free(buf);
	return rc;
}

/*
 * An object of this name exists: 0 when it holds exactly these bytes (a
 * retried upload), SV_EEXISTS when it differs, SV_ENOTFOUND when it is not
 * there after all (deleted meanwhile, or a temp name collided).
 */
static int check_existing(const vault_backend *b, const char *name,
			  const char *path, const void *data, size_t n)
{
	sv_file *f = NULL;
	uint64_t size = 0;
	int rc, equal = 0;

	if ((rc = sv_file_open(&f, path, SV_O_READ)) != 0)
		goto done;
	if ((rc = sv_file_size(f, &size)) != 0)
		goto done;
	if (size == (uint64_t)n && (rc = same_bytes(f, data, n, &equal)) != 0)
		goto done;
	if (!equal)
		rc = sv_error_set(
			SV_EEXISTS,
			"object '%s' already exists in vault '%s' "
			"with different contents; it was left as it is",
			name, b->url);
done:
	sv_file_close(f);
	return rc;
}

static int local_put(vault_backend *b, const char *name, const void *data,
		     size_t n)
{
	char *path = NULL;
	int rc, tries;

	if ((rc = check_name(b, name)) != 0)
		return rc;
	if ((path = local_path(b, name)) == NULL)
		return SV_ENOMEM;
	for (tries = 0; tries < LOCAL_PUT_TRIES; tries++) {
		rc = create_object(b, name, path, data, n);
		if (rc != SV_EEXISTS)
			goto done;
		rc = check_existing(b, name, path, data, n);
		if (rc != SV_ENOTFOUND)
			goto done;
	}
	rc = sv_error_set(SV_EIO,
			  "cannot store '%s' in vault '%s': it keeps "
			  "appearing and disappearing",
			  name, b->url);
done:
	free(path);
	return rc;
}

/* ---- get, stat, del ---- */

/* How many bytes a get of (off, len) reads from an object of size bytes. */
static int get_range(const vault_backend *b, const char *name, uint64_t size,
		     uint64_t off, uint64_t len, size_t *n)
{
	uint64_t want;

	if (len == UINT64_MAX)
		want = off <= size ? size - off : 0;
	else if (off > UINT64_MAX - len)
		return sv_error_set(SV_EINVAL, "vault '%s': bad range for '%s'",
				    b->url, name);
	else
		want = len;
	if (off > size || want > size - off)
		return sv_error_set(SV_ECORRUPT,
				    "object '%s' in vault '%s' is truncated: "
				    "expected at least %llu bytes, found %llu",
				    name, b->url,
				    (unsigned long long)(off + want),
				    (unsigned long long)size);
	if (want > SIZE_MAX)
		return sv_error_set(SV_ENOMEM, "object '%s' is too large",
				    name);
	*n = (size_t)want;
	return 0;
}

static int local_get(vault_backend *b, const char *name, uint64_t off,
		     uint64_t len, sv_buf *out)
{
	sv_file *f = NULL;
	char *path = NULL;
	uint64_t size = 0;
	size_t n = 0;
	int rc;

	if ((rc = check_name(b, name)) != 0)
		goto done;
	if ((path = local_path(b, name)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if ((rc = sv_file_open(&f, path, SV_O_READ)) != 0 ||
	    (rc = sv_file_size(f, &size)) != 0 ||
	    (rc = get_range(b, name, size, off, len, &n)) != 0 ||
	    (rc = sv_buf_reserve(out, n)) != 0 ||
	    (rc = sv_file_pread(f, out->ptr + out->len, n, off)) != 0)
		goto done;
	out->len += n;
	out->ptr[out->len] = '\0';
done:
	sv_file_close(f);
	free(path);
	return rc;
}

static int local_stat(vault_backend *b, const char *name, uint64_t *size)
{
	char *path = NULL;
	int rc, is_dir = 0;

	if ((rc = check_name(b, name)) != 0)
		return rc;
	if ((path = local_path(b, name)) == NULL)
		return SV_ENOMEM;
	rc = sv_fs_stat(path, &is_dir, size);
	if (rc == 0 && is_dir)
		rc = sv_error_set(SV_ENOTFOUND,
				  "'%s' is a directory, not an object", path);
	free(path);
	return rc;
}

/*
 * The directory is not synced after a removal: an object that comes back
 * after a crash is harmless (an unreferenced pack is found again by the
 * next backup or check; a stale lock carries its own time).
 */
static int local_del(vault_backend *b, const char *name)
{
	char *path = NULL;
	int rc;

	if ((rc = check_name(b, name)) != 0)
		return rc;
	if ((path = local_path(b, name)) == NULL)
		return SV_ENOMEM;
	rc = sv_fs_remove(path);
	if (rc == SV_ENOTFOUND)
		rc = 0;
	free(path);
	return rc;
}

/* ---- list ---- */

typedef struct list_walk {
	const vault_backend *b;
	const char *prefix;
	vault_list_cb cb;
	void *ud;
	int stopped; /* cb asked to stop: its result is passed on as is */
} list_walk;

/* One directory being listed: rel is its path below the root ("" = root). */
typedef struct list_dir {
	list_walk *w;
	const char *rel;
} list_dir;

static int walk_dir(list_walk *w, const char *rel);

/* A directory that vanished while listing (a kind with no object yet, or
 * removed meanwhile) holds nothing, unless it is the root. */
static int walk_missing(list_walk *w, int rc)
{
	if (rc != SV_ENOTFOUND || w->stopped)
		return rc;
	return root_missing(w->b);
}

/* 1 when names below directory rel can start with the prefix. */
static int dir_may_match(const char *rel, const char *prefix)
{
	size_t rl = strlen(rel), pl = strlen(prefix);

	if (pl <= rl)
		return strncmp(rel, prefix, pl) == 0;
	return strncmp(prefix, rel, rl) == 0 && prefix[rl] == '/';
}

static int walk_entry(void *ud, const sv_dirent *e)
{
	list_dir *d = ud;
	char child[VAULT_NAME_MAX];
	size_t rl = strlen(d->rel), nl = strlen(e->name);
	int rc;

	/* Longer than any object name, or a link: not ours. */
	if (e->is_link || rl + 1 + nl + 1 > sizeof(child))
		return 0;
	memcpy(child, d->rel, rl);
	if (rl)
		child[rl++] = '/';
	memcpy(child + rl, e->name, nl + 1);
	if (e->is_dir) {
		if (!dir_valid(child) || !dir_may_match(child, d->w->prefix))
			return 0;
		return walk_missing(d->w, walk_dir(d->w, child));
	}
	if (strstr(e->name, ".tmp-") || !name_valid(child) ||
	    !sv_str_startswith(child, d->w->prefix))
		return 0;
	if ((rc = d->w->cb(d->w->ud, child, e->size)) != 0)
		d->w->stopped = 1;
	return rc;
}

static int walk_dir(list_walk *w, const char *rel)
{
	list_dir d = {w, rel};
	char *path = local_path(w->b, rel);
	int rc;

	if (!path)
		return SV_ENOMEM;
	rc = sv_fs_list_dir(path, walk_entry, &d);
	free(path);
	return rc;
}

/* The directory part of prefix without its last '/' ("data/ab/12" ->
 * "data/ab"; "index" -> ""). */
static char *prefix_dir(const char *prefix)
{
	const char *slash = strrchr(prefix, '/');

	return sv_strndup(prefix, slash ? (size_t)(slash - prefix) : 0);
}

static int local_list(vault_backend *b, const char *prefix, vault_list_cb cb,
		      void *ud)
{
	list_walk w = {b, prefix ? prefix : "", cb, ud, 0};
	char *rel = prefix_dir(w.prefix);
	int rc = 0;

	if (!rel)
		return SV_ENOMEM;
	/* A prefix inside no object directory matches nothing. */
	if (rel[0] && !dir_valid(rel))
		goto done;
	rc = walk_missing(&w, walk_dir(&w, rel));
done:
	free(rel);
	return rc;
}

/* ---- open, close ---- */

static void local_close(vault_backend *b)
{
	if (!b)
		return;
	free(b->url);
	free(b);
}

static const vault_backend_ops local_ops = {
	.scheme = "file",
	.put = local_put,
	.get = local_get,
	.stat = local_stat,
	.list = local_list,
	.del = local_del,
	.close = local_close,
	.server_time = NULL,   /* a directory has no clock of its own */
};

int vault__backend_local_open(vault_backend **out, const char *dir, int create)
{
	vault_backend *b = NULL;
	int rc, is_dir = 0;

	*out = NULL;
	if (!dir || !dir[0])
		return sv_error_set(SV_EINVAL, "no vault directory given");
	if (create && (rc = sv_fs_mkdir_p(dir, 1)) != 0)
		return rc;
	rc = sv_fs_stat(dir, &is_dir, NULL);
	if (rc == SV_ENOTFOUND || (rc == 0 && !is_dir))
		return sv_error_set(SV_ENOTFOUND, "no vault at '%s'%s", dir,
				    rc == 0 ? " (not a directory)" : "");
	if (rc != 0)
		return rc;
	if ((b = sv_calloc(1, sizeof(*b))) == NULL ||
	    (b->url = sv_strdup(dir)) == NULL) {
		free(b);
		return SV_ENOMEM;
	}
	b->ops = &local_ops;
	*out = b;
	return 0;
}
