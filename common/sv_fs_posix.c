/*
 * sv_fs_posix.c - files and directories on POSIX.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "sv_buf.h"
#include "sv_fs.h"
#include "sv_path.h"

struct sv_file {
	int fd;
	char *path;   /* for messages */
};

static int fail(const char *what, const char *path)
{
	return sv_error_set_errno(sv_err_from_errno(errno), "cannot %s '%s'",
				  what, path);
}

int sv_file_open(sv_file **out, const char *path, int flags)
{
	int oflags = O_CLOEXEC, fd;
	mode_t mode = (flags & SV_O_PRIVATE) ? 0600 : 0644;
	sv_file *f;

	*out = NULL;
	if ((flags & SV_O_READ) && (flags & SV_O_WRITE))
		oflags |= O_RDWR;
	else if (flags & SV_O_WRITE)
		oflags |= O_WRONLY;
	else
		oflags |= O_RDONLY;
	if (flags & SV_O_CREATE)
		oflags |= O_CREAT;
	if (flags & SV_O_EXCL)
		oflags |= O_EXCL;
	if (flags & SV_O_TRUNC)
		oflags |= O_TRUNC;
	fd = open(path, oflags, mode);
	if (fd < 0)
		return fail("open", path);
	f = sv_calloc(1, sizeof(*f));
	if (!f || !(f->path = sv_strdup(path))) {
		free(f);
		close(fd);
		return SV_ENOMEM;
	}
	f->fd = fd;
	*out = f;
	return 0;
}

int sv_file_read(sv_file *f, void *buf, size_t n, size_t *got)
{
	ssize_t r;

	do
		r = read(f->fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail("read", f->path);
	*got = (size_t)r;
	return 0;
}

int sv_file_pread(sv_file *f, void *buf, size_t n, uint64_t offset)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = pread(f->fd, p, n, (off_t)offset);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail("read", f->path);
		if (r == 0)
			return sv_error_set(SV_ECORRUPT,
					    "'%s' ends before offset %llu",
					    f->path,
					    (unsigned long long)offset + n);
		p += r;
		n -= (size_t)r;
		offset += (uint64_t)r;
	}
	return 0;
}

int sv_file_write(sv_file *f, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t r = write(f->fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail("write", f->path);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int sv_file_pwrite(sv_file *f, const void *buf, size_t n, uint64_t offset)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t r = pwrite(f->fd, p, n, (off_t)offset);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail("write", f->path);
		p += r;
		n -= (size_t)r;
		offset += (uint64_t)r;
	}
	return 0;
}

int sv_file_sync(sv_file *f)
{
	if (fsync(f->fd) < 0)
		return fail("flush", f->path);
	return 0;
}

int sv_file_size(sv_file *f, uint64_t *size)
{
	struct stat st;

	if (fstat(f->fd, &st) < 0)
		return fail("stat", f->path);
	*size = (uint64_t)st.st_size;
	return 0;
}

int sv_file_truncate(sv_file *f, uint64_t size)
{
	if (ftruncate(f->fd, (off_t)size) < 0)
		return fail("resize", f->path);
	return 0;
}

int sv_file_set_sparse(sv_file *f)
{
	(void)f;   /* POSIX files are sparse wherever the file system allows */
	return 0;
}

int sv_file_close(sv_file *f)
{
	int rc = 0;

	if (!f)
		return 0;
	if (close(f->fd) < 0)
		rc = fail("close", f->path);
	free(f->path);
	free(f);
	return rc;
}

int sv_fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);

	if (fd < 0)
		return fail("open directory", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int rc = fail("flush directory", dir);

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* A name unique to this process and thread: the pid, the address of a
 * thread-local (different in every live thread), a per-thread counter and
 * the clock. A collision is still harmless: the exclusive create fails and
 * the caller reports it. */
static char *temp_name(const char *path)
{
	static _Thread_local unsigned counter;
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull ^
	    (uint64_t)(uintptr_t)&counter * 0xC2B2AE3D27D4EB4Full ^
	    (uint64_t)ts.tv_nsec ^ ((uint64_t)++counter << 40);
	return sv_aprintf("%s.tmp-%016llx", path, (unsigned long long)x);
}

/* Writes data to a fresh temp file next to path; *tmp_out owned by caller. */
static int write_temp(char **tmp_out, const char *path, const void *data,
		      size_t len, int private_mode)
{
	int flags = SV_O_WRITE | SV_O_CREATE | SV_O_EXCL |
		    (private_mode ? SV_O_PRIVATE : 0);
	sv_file *f = NULL;
	char *tmp = temp_name(path);
	int rc;

	*tmp_out = NULL;
	if (!tmp)
		return SV_ENOMEM;
	rc = sv_file_open(&f, tmp, flags);
	if (rc < 0) {
		free(tmp);
		return rc;
	}
	rc = sv_file_write(f, data, len);
	if (rc == 0)
		rc = sv_file_sync(f);
	if (sv_file_close(f) < 0 && rc == 0)
		rc = sv_error_code();
	if (rc < 0) {
		unlink(tmp);
		free(tmp);
		return rc;
	}
	*tmp_out = tmp;
	return 0;
}

static int finish(const char *path, char *tmp, int rc)
{
	char *dir = NULL;

	if (rc == 0) {
		dir = sv_path_dirname(path);
		rc = dir ? sv_fs_sync_dir(dir) : SV_ENOMEM;
	} else {
		unlink(tmp);
	}
	free(dir);
	free(tmp);
	return rc;
}

int sv_fs_write_atomic(const char *path, const void *data, size_t len,
		       int private_mode)
{
	char *tmp = NULL;
	int rc = write_temp(&tmp, path, data, len, private_mode);

	if (rc < 0)
		return rc;
	if (rename(tmp, path) < 0)
		rc = fail("replace", path);
	return finish(path, tmp, rc);
}

int sv_fs_create_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = NULL;
	int rc = write_temp(&tmp, path, data, len, 0);

	if (rc < 0)
		return rc;
	/* link() fails with EEXIST instead of replacing: write-once. */
	if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			rc = sv_error_set(SV_EEXISTS, "'%s' already exists", path);
		else
			rc = fail("create", path);
	}
	if (unlink(tmp) < 0 && rc == 0)
		rc = fail("remove", tmp);
	if (rc == 0)
		return finish(path, tmp, 0);
	free(tmp);
	return rc;
}

int sv_fs_read_all(char **out, size_t *len, const char *path, size_t max)
{
	sv_file *f = NULL;
	sv_buf b;
	char chunk[65536];
	size_t got = 0;
	int rc;

	*out = NULL;
	*len = 0;
	sv_buf_init(&b, max);
	rc = sv_file_open(&f, path, SV_O_READ);
	while (rc == 0) {
		rc = sv_file_read(f, chunk, sizeof(chunk), &got);
		if (rc < 0 || got == 0)
			break;
		rc = sv_buf_add(&b, chunk, got);
		if (rc < 0)
			sv_error_set(SV_ENOMEM, "'%s' is larger than %zu bytes",
				     path, max);
	}
	sv_file_close(f);
	if (rc < 0) {
		sv_buf_release(&b);
		return rc;
	}
	*len = b.len;
	*out = sv_buf_take(&b);
	return *out ? 0 : SV_ENOMEM;
}

int sv_fs_mkdir_p(const char *path, int private_mode)
{
	mode_t mode = private_mode ? 0700 : 0755;
	char *p = sv_strdup(path), *s;
	int rc = 0;

	if (!p)
		return SV_ENOMEM;
	for (s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = fail("create directory", p);
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == 0) {
		struct stat st;

		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			rc = sv_error_set(SV_EEXISTS, "'%s' exists and is not a directory",
					  path);
	}
	free(p);
	return rc;
}

int sv_fs_stat(const char *path, int *is_dir, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return fail("find", path);
	if (is_dir)
		*is_dir = S_ISDIR(st.st_mode);
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

int sv_fs_remove(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return fail("remove", path);
	if (S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path))
		return fail("remove", path);
	return 0;
}

static int remove_entry(void *ud, const sv_dirent *e)
{
	char *child = sv_path_join(*(const char **)ud, e->name);
	int rc;

	if (!child)
		return SV_ENOMEM;
	rc = (e->is_dir && !e->is_link) ? sv_fs_remove_tree(child)
					: sv_fs_remove(child);
	free(child);
	return rc;
}

int sv_fs_remove_tree(const char *path)
{
	struct stat st;
	int rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : fail("remove", path);
	if (!S_ISDIR(st.st_mode))
		return sv_fs_remove(path);
	rc = sv_fs_list_dir(path, remove_entry, &path);
	return rc < 0 ? rc : sv_fs_remove(path);
}

int sv_fs_rename(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return sv_error_set_errno(sv_err_from_errno(errno),
					  "cannot rename '%s' to '%s'", from, to);
	return 0;
}

int sv_fs_list_dir(const char *path, sv_dir_cb cb, void *ud)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return fail("list directory", path);
	while (rc == 0) {
		sv_dirent e;
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = fail("list directory", path);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;   /* removed since readdir(): not there */
			rc = fail("stat an entry of", path);
			break;
		}
		e.name = de->d_name;
		e.is_link = S_ISLNK(st.st_mode);
		e.is_dir = S_ISDIR(st.st_mode);
		e.size = (uint64_t)st.st_size;
		rc = cb(ud, &e);
	}
	closedir(d);
	return rc;
}

int sv_fs_attributes(const char *path, unsigned *attrs)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return fail("stat", path);
	*attrs = 0;
	if (S_ISDIR(st.st_mode))
		*attrs |= SV_ATTR_DIRECTORY;
	if (S_ISLNK(st.st_mode))
		*attrs |= SV_ATTR_REPARSE;
	if (!(st.st_mode & 0222))
		*attrs |= SV_ATTR_READONLY;
	if (S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size)
		*attrs |= SV_ATTR_SPARSE;
	return 0;
}

char *sv_fs_temp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return sv_strdup(t && *t ? t : "/tmp");
}
