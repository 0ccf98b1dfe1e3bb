/*
 * vault_walk.h - the source tree of a backup (walk.c).
 */
#ifndef SV_VAULT_WALK_H
#define SV_VAULT_WALK_H

#include <stddef.h>
#include <stdint.h>

typedef struct vault_tree_entry {
	char *rel;        /* '/'-separated, relative to the root */
	int is_dir;
	uint64_t size;    /* at scan time */
} vault_tree_entry;

typedef struct vault_tree {
	vault_tree_entry *entries;   /* sorted by rel */
	size_t n, cap;
	uint64_t files;
	uint64_t bytes;
} vault_tree;

/* Lists root recursively. Links are skipped with a warning; a name that
 * could not be restored safely (sv_path_check_relative) is an error naming
 * it. include (may be NULL) chooses entries; a left-out directory is not
 * descended into. */
int vault__tree_scan(vault_tree *t, const char *root,
		     int (*include)(void *ud, const char *rel, int is_dir),
		     void *ud);
void vault__tree_free(vault_tree *t);

#endif
