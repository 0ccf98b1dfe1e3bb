/*
 * sv_fs.h - files and directories, by UTF-8 path. POSIX in sv_fs_posix.c,
 * Windows (wide-char APIs, \\?\ long paths) in sv_fs_win.c.
 */
#ifndef SV_FS_H
#define SV_FS_H

#include <stddef.h>
#include <stdint.h>
#include "sv_error.h"

typedef struct sv_file sv_file;

enum {
	SV_O_READ = 1 << 0,
	SV_O_WRITE = 1 << 1,
	SV_O_CREATE = 1 << 2,   /* create if missing */
	SV_O_EXCL = 1 << 3,     /* with CREATE: fail with SV_EEXISTS if present */
	SV_O_TRUNC = 1 << 4,
	SV_O_PRIVATE = 1 << 5   /* new file readable by owner only (0600) */
};

/* Opens path; *out owned by caller, closed with sv_file_close(). */
int sv_file_open(sv_file **out, const char *path, int flags);
/* Reads up to n bytes; *got is 0 at end of file. */
int sv_file_read(sv_file *f, void *buf, size_t n, size_t *got);
/* Reads exactly n bytes at offset; SV_ECORRUPT if the file is shorter. */
int sv_file_pread(sv_file *f, void *buf, size_t n, uint64_t offset);
/* Writes all n bytes; SV_ENOSPC when the volume is full. */
int sv_file_write(sv_file *f, const void *buf, size_t n);
int sv_file_pwrite(sv_file *f, const void *buf, size_t n, uint64_t offset);
int sv_file_sync(sv_file *f);
int sv_file_size(sv_file *f, uint64_t *size);
/* Sets the size (extends with a hole where the file system allows). */
int sv_file_truncate(sv_file *f, uint64_t size);
/* Marks the file sparse (no-op where files are sparse by default). */
int sv_file_set_sparse(sv_file *f);
/* Closes; returns the error of a failed final flush. NULL is allowed. */
int sv_file_close(sv_file *f);

/*
 * Crash-safe replace: writes data to "<path>.tmp-<random>" opened
 * exclusively, syncs it, renames it over path, syncs the directory.
 * On failure the old file (if any) is intact and the temp file removed.
 */
int sv_fs_write_atomic(const char *path, const void *data, size_t len,
		       int private_mode);

/* Crash-safe create: as sv_fs_write_atomic() but SV_EEXISTS (leaving the
 * existing file alone) when path exists. */
int sv_fs_create_atomic(const char *path, const void *data, size_t len);

/* Reads a whole file (at most max bytes, else SV_ENOMEM); caller frees. The
 * buffer is NUL-terminated after len bytes. */
int sv_fs_read_all(char **out, size_t *len, const char *path, size_t max);

/* Creates path and its parents (0700 when private_mode, else 0755). */
int sv_fs_mkdir_p(const char *path, int private_mode);
/* 0 if exists; SV_ENOTFOUND if not. is_dir may be NULL. */
int sv_fs_stat(const char *path, int *is_dir, uint64_t *size);
int sv_fs_remove(const char *path);        /* file or empty directory */
int sv_fs_remove_tree(const char *path);   /* recursive; missing is ok */
int sv_fs_rename(const char *from, const char *to);   /* replaces */
int sv_fs_sync_dir(const char *dir);

/* Directory listing: cb is called for each entry except "." and "..";
 * a non-zero return from cb stops the walk and is returned. */
typedef struct sv_dirent {
	const char *name;   /* UTF-8 */
	int is_dir;
	int is_link;        /* symlink or reparse point */
	uint64_t size;
} sv_dirent;
typedef int (*sv_dir_cb)(void *ud, const sv_dirent *e);
int sv_fs_list_dir(const char *path, sv_dir_cb cb, void *ud);

/* File attribute flags (Windows FILE_ATTRIBUTE_* meaning). */
enum {
	SV_ATTR_DIRECTORY = 1 << 0,
	SV_ATTR_READONLY = 1 << 1,
	SV_ATTR_COMPRESSED = 1 << 2,
	SV_ATTR_ENCRYPTED = 1 << 3,
	SV_ATTR_SPARSE = 1 << 4,
	SV_ATTR_REPARSE = 1 << 5,   /* reparse point (symlink on POSIX) */
	SV_ATTR_OFFLINE = 1 << 6
};
/* The attribute flags of path (does not follow a final link). */
int sv_fs_attributes(const char *path, unsigned *attrs);

/* The directory for temporary files ($TMPDIR, GetTempPathW), caller frees. */
char *sv_fs_temp_dir(void);

#endif
