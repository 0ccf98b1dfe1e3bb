/*
 * walk.c - listing a source tree for a backup: every file and directory
 * below the root, as '/'-separated relative UTF-8 paths in a stable order.
 */
#include <stdlib.h>
#include <string.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_log.h"
#include "sv_path.h"
#include "vault_walk.h"

typedef struct walk_ctx {
	vault_tree *t;
	const char *root;
	int (*include)(void *ud, const char *rel, int is_dir);
	void *ud;
	const char *rel;   /* current directory, relative ("" at the root) */
	int rc;
} walk_ctx;

static int grow(vault_tree *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	vault_tree_entry *e = sv_realloc(t->entries, cap * sizeof(*e));

	if (!e)
		return SV_ENOMEM;
	t->entries = e;
	t->cap = cap;
	return 0;
}

static int add(vault_tree *t, char *rel, int is_dir, uint64_t size)
{
	if (t->n == t->cap && grow(t) < 0) {
		free(rel);
		return SV_ENOMEM;
	}
	t->entries[t->n].rel = rel;
	t->entries[t->n].is_dir = is_dir;
	t->entries[t->n].size = size;
	t->n++;
	return 0;
}

static int walk_dir(const walk_ctx *parent, const char *rel);

static int on_entry(void *ud, const sv_dirent *e)
{
	walk_ctx *w = ud;
	char *rel = w->rel[0] ? sv_aprintf("%s/%s", w->rel, e->name)
			      : sv_strdup(e->name);
	int rc;

	if (!rel)
		return SV_ENOMEM;
	if (w->include && !w->include(w->ud, rel, e->is_dir)) {
		free(rel);
		return 0;
	}
	if (e->is_link) {
		sv_log_warn("skipping '%s': links are not backed up", rel);
		free(rel);
		return 0;
	}
	rc = sv_path_check_relative(rel);
	if (rc < 0) {
		sv_error_prefix("cannot back up '%s' (rename it)", rel);
		free(rel);
		return rc;
	}
	if (add(w->t, rel, e->is_dir, e->size) < 0)
		return SV_ENOMEM;
	if (e->is_dir)
		return walk_dir(w, rel);
	return 0;
}

static int walk_dir(const walk_ctx *parent, const char *rel)
{
	walk_ctx w = *parent;
	char *abs = rel[0] ? sv_path_join(w.root, rel) : sv_strdup(w.root);
	int rc;

	w.rel = rel;
	if (!abs)
		return SV_ENOMEM;
	sv_path_to_native(abs);
	rc = sv_fs_list_dir(abs, on_entry, &w);
	free(abs);
	return rc;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const vault_tree_entry *)a)->rel,
		      ((const vault_tree_entry *)b)->rel);
}

int vault__tree_scan(vault_tree *t, const char *root,
		     int (*include)(void *ud, const char *rel, int is_dir),
		     void *ud)
{
	walk_ctx top = { t, root, include, ud, "", 0 };
	int is_dir = 0, rc;
	size_t i;

	memset(t, 0, sizeof(*t));
	rc = sv_fs_stat(root, &is_dir, NULL);
	if (rc == 0 && !is_dir)
		rc = sv_error_set(SV_EINVAL, "'%s' is not a directory", root);
	if (rc == 0)
		rc = walk_dir(&top, "");
	if (rc < 0) {
		vault__tree_free(t);
		return rc;
	}
	qsort(t->entries, t->n, sizeof(t->entries[0]), by_path);
	for (i = 0; i < t->n; i++) {
		if (t->entries[i].is_dir)
			continue;
		t->bytes += t->entries[i].size;
		t->files++;
	}
	return 0;
}

void vault__tree_free(vault_tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->entries[i].rel);
	free(t->entries);
	memset(t, 0, sizeof(*t));
}
