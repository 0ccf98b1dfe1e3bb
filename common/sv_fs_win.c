/*
 * sv_fs_win.c - files and directories on Windows.
 *
 * Paths arrive as UTF-8 and are converted once, by fs_wpath(), to absolute
 * UTF-16 paths with the \\?\ prefix, so that paths longer than MAX_PATH work
 * and no component is reinterpreted by the Win32 name rules after the full
 * path has been computed.
 */
#include <windows.h>
#include <winioctl.h>
#include <ntsecapi.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "sv_fs.h"
#include "sv_buf.h"
#include "sv_path.h"

struct sv_file {
	HANDLE h;
	uint64_t pos;   /* offset of the next sv_file_read/write */
	char *path;     /* UTF-8, for messages */
};

/* The largest single ReadFile/WriteFile request. */
#define FS_IO_CHUNK ((DWORD)1 << 30)

/* ---- errors ---- */

static int fs_code(DWORD e)
{
	switch (e) {
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return SV_ENOSPC;
	case ERROR_ACCESS_DENIED:
	case ERROR_WRITE_PROTECT:
	case ERROR_PRIVILEGE_NOT_HELD:
		return SV_EACCESS;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_NET_NAME:
		return SV_ENOTFOUND;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return SV_EEXISTS;
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
		return SV_EBUSY;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return SV_ENOMEM;
	case ERROR_INVALID_NAME:
		return SV_EINVAL;
	default:
		return SV_EIO;
	}
}

/* Sets the error for the failed OS call: "<what> '<path>': <OS text>". */
static int fs_fail(DWORD e, const char *what, const char *path)
{
	SetLastError(e);
	return sv_error_set_os(fs_code(e), "%s '%s'", what, path);
}

static int fs_fail_last(const char *what, const char *path)
{
	return fs_fail(GetLastError(), what, path);
}

/* ---- UTF-8 <-> UTF-16 ---- */

/* Converts n bytes of UTF-8 (n < INT_MAX) to a new NUL-terminated UTF-16
 * string; SV_EINVAL on invalid UTF-8. */
static int fs_wide(wchar_t **out, const char *s, size_t n)
{
	wchar_t *w = NULL;
	int wn = 0;
	size_t bytes;
	int rc = 0;

	*out = NULL;
	if (n > INT_MAX / 2 || !sv_utf8_valid(s, n)) {
		rc = sv_error_set(SV_EINVAL, "path is not valid UTF-8");
		goto done;
	}
	if (n > 0) {
		wn = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s,
					 (int)n, NULL, 0);
		if (wn <= 0) {
			rc = sv_error_set(SV_EINVAL, "path is not valid UTF-8");
			goto done;
		}
	}
	if ((rc = sv_mul_size(&bytes, (size_t)wn + 1, sizeof(wchar_t))) != 0)
		goto done;
	if ((w = sv_malloc(bytes)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	if (wn > 0)
		MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n, w,
				    wn);
	w[wn] = L'\0';
	*out = w;
	w = NULL;
done:
	free(w);
	return rc;
}

/* Converts a NUL-terminated UTF-16 string to new UTF-8; SV_EINVAL for
 * unpaired surrogates. */
static int fs_utf8(char **out, const wchar_t *w)
{
	char *s = NULL;
	int n;
	int rc = 0;

	*out = NULL;
	n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0,
				NULL, NULL);
	if (n <= 0) {
		rc = sv_error_set(SV_EINVAL, "a name is not valid UTF-16");
		goto done;
	}
	if ((s = sv_malloc((size_t)n)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n, NULL,
			    NULL);
	*out = s;
	s = NULL;
done:
	free(s);
	return rc;
}

/* A new string: prefix followed by src. */
static int fs_wconcat(wchar_t **out, const wchar_t *prefix, const wchar_t *src)
{
	size_t plen = wcslen(prefix), slen = wcslen(src), n, bytes;

	*out = NULL;
	if (sv_add_size(&n, plen, slen) != 0 || sv_add_size(&n, n, 1) != 0 ||
	    sv_mul_size(&bytes, n, sizeof(wchar_t)) != 0)
		return SV_ENOMEM;
	if ((*out = sv_malloc(bytes)) == NULL)
		return SV_ENOMEM;
	memcpy(*out, prefix, plen * sizeof(wchar_t));
	memcpy(*out + plen, src, (slen + 1) * sizeof(wchar_t));
	return 0;
}

/* GetFullPathNameW into a new buffer: resolves relative paths against the
 * current directory and folds "." / ".." and repeated separators, which the
 * \\?\ form would otherwise pass to the file system verbatim. */
static int fs_full_path(wchar_t **out, const wchar_t *w, const char *path)
{
	wchar_t *full = NULL;
	DWORD n, got;
	int rc = 0;

	*out = NULL;
	n = GetFullPathNameW(w, 0, NULL, NULL);
	if (n == 0) {
		rc = fs_fail_last("cannot resolve path", path);
		goto done;
	}
	if ((full = sv_calloc((size_t)n + 1, sizeof(wchar_t))) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	got = GetFullPathNameW(w, n + 1, full, NULL);
	if (got == 0 || got > n) {
		rc = fs_fail_last("cannot resolve path", path);
		goto done;
	}
	*out = full;
	full = NULL;
done:
	free(full);
	return rc;
}

/*
 * The one path conversion of this file: UTF-8 to an absolute UTF-16 path
 * with '\\' separators and the \\?\ (or \\?\UNC\) prefix. Paths already in
 * the \\?\ or \\.\ namespace are kept as they are.
 */
static int fs_wpath(wchar_t **out, const char *path)
{
	wchar_t *w = NULL, *full = NULL, *p;
	int rc = 0;

	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		rc = sv_error_set(SV_EINVAL, "empty path");
		goto done;
	}
	if ((rc = fs_wide(&w, path, strlen(path))) != 0)
		goto done;
	for (p = w; *p != L'\0'; p++)
		if (*p == L'/')
			*p = L'\\';
	if (wcsncmp(w, L"\\\\?\\", 4) == 0 || wcsncmp(w, L"\\\\.\\", 4) == 0) {
		*out = w;
		w = NULL;
		goto done;
	}
	if ((rc = fs_full_path(&full, w, path)) != 0)
		goto done;
	if (wcsncmp(full, L"\\\\?\\", 4) == 0 ||
	    wcsncmp(full, L"\\\\.\\", 4) == 0) {
		*out = full;   /* a device name such as NUL */
		full = NULL;
	} else if (wcsncmp(full, L"\\\\", 2) == 0) {
		rc = fs_wconcat(out, L"\\\\?\\UNC\\", full + 2);
	} else {
		rc = fs_wconcat(out, L"\\\\?\\", full);
	}
done:
	free(w);
	free(full);
	return rc;
}

/* Joins a wide directory path and a name with one '\\'. */
static int fs_wjoin(wchar_t **out, const wchar_t *dir, const wchar_t *name)
{
	size_t dlen = wcslen(dir), nlen = wcslen(name), n, bytes;
	int sep = dlen > 0 && dir[dlen - 1] != L'\\';

	*out = NULL;
	if (sv_add_size(&n, dlen, nlen) != 0 || sv_add_size(&n, n, 2) != 0 ||
	    sv_mul_size(&bytes, n, sizeof(wchar_t)) != 0)
		return SV_ENOMEM;
	if ((*out = sv_malloc(bytes)) == NULL)
		return SV_ENOMEM;
	memcpy(*out, dir, dlen * sizeof(wchar_t));
	if (sep)
		(*out)[dlen++] = L'\\';
	memcpy(*out + dlen, name, (nlen + 1) * sizeof(wchar_t));
	return 0;
}

/* ---- open files ---- */

static DWORD fs_disposition(int flags)
{
	if (flags & SV_O_CREATE) {
		if (flags & SV_O_EXCL)
			return CREATE_NEW;
		return (flags & SV_O_TRUNC) ? CREATE_ALWAYS : OPEN_ALWAYS;
	}
	return (flags & SV_O_TRUNC) ? TRUNCATE_EXISTING : OPEN_EXISTING;
}

/*
 * SV_O_PRIVATE uses the default security: the files it is meant for live in
 * the agent's state directory, whose ACL (SYSTEM and Administrators only) is
 * set by the installer and inherited by everything created inside it.
 */
int sv_file_open(sv_file **out, const char *path, int flags)
{
	sv_file *f = NULL;
	wchar_t *wpath = NULL;
	DWORD access = 0;
	int rc = 0;

	*out = NULL;
	if (flags & SV_O_READ)
		access |= GENERIC_READ;
	if (flags & (SV_O_WRITE | SV_O_TRUNC))
		access |= GENERIC_WRITE;
	if (access == 0)
		access = GENERIC_READ;
	if ((rc = fs_wpath(&wpath, path)) != 0)
		goto done;
	if ((f = sv_calloc(1, sizeof(*f))) == NULL ||
	    (f->path = sv_strdup(path)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	/* Sharing everything, delete included, gives POSIX semantics: an open
	 * file can still be renamed over or removed by others. */
	f->h = CreateFileW(wpath, access,
			   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
			   NULL, fs_disposition(flags), FILE_ATTRIBUTE_NORMAL,
			   NULL);
	if (f->h == INVALID_HANDLE_VALUE) {
		rc = fs_fail_last("cannot open", path);
		goto done;
	}
	*out = f;
	f = NULL;
done:
	if (f != NULL) {
		free(f->path);
		free(f);
	}
	free(wpath);
	return rc;
}

static void fs_overlapped(OVERLAPPED *ov, uint64_t offset)
{
	memset(ov, 0, sizeof(*ov));
	ov->Offset = (DWORD)(offset & 0xffffffffu);
	ov->OffsetHigh = (DWORD)(offset >> 32);
}

/* One ReadFile at offset; *got is 0 at end of file. */
static int fs_read_at(sv_file *f, void *buf, size_t n, uint64_t offset,
		      size_t *got)
{
	OVERLAPPED ov;
	DWORD want = n > FS_IO_CHUNK ? FS_IO_CHUNK : (DWORD)n, did = 0;

	*got = 0;
	fs_overlapped(&ov, offset);
	if (!ReadFile(f->h, buf, want, &did, &ov)) {
		if (GetLastError() == ERROR_HANDLE_EOF)
			return 0;
		return fs_fail_last("cannot read", f->path);
	}
	*got = did;
	return 0;
}

int sv_file_read(sv_file *f, void *buf, size_t n, size_t *got)
{
	int rc = fs_read_at(f, buf, n, f->pos, got);

	if (rc == 0)
		f->pos += *got;
	return rc;
}

int sv_file_pread(sv_file *f, void *buf, size_t n, uint64_t offset)
{
	size_t done = 0, got;
	int rc;

	while (done < n) {
		rc = fs_read_at(f, (char *)buf + done, n - done,
				offset + done, &got);
		if (rc != 0)
			return rc;
		if (got == 0)
			return sv_error_set(SV_ECORRUPT,
					    "'%s' ends before offset %llu",
					    f->path,
					    (unsigned long long)(offset + n));
		done += got;
	}
	return 0;
}

int sv_file_pwrite(sv_file *f, const void *buf, size_t n, uint64_t offset)
{
	OVERLAPPED ov;
	size_t done = 0;
	DWORD want, did;

	while (done < n) {
		want = n - done > FS_IO_CHUNK ? FS_IO_CHUNK : (DWORD)(n - done);
		fs_overlapped(&ov, offset + done);
		did = 0;
		if (!WriteFile(f->h, (const char *)buf + done, want, &did, &ov))
			return fs_fail_last("cannot write", f->path);
		if (did == 0)
			return fs_fail(ERROR_HANDLE_DISK_FULL, "cannot write",
				       f->path);
		done += did;
	}
	return 0;
}

int sv_file_write(sv_file *f, const void *buf, size_t n)
{
	int rc = sv_file_pwrite(f, buf, n, f->pos);

	if (rc == 0)
		f->pos += n;
	return rc;
}

int sv_file_sync(sv_file *f)
{
	if (!FlushFileBuffers(f->h))
		return fs_fail_last("cannot flush", f->path);
	return 0;
}

int sv_file_size(sv_file *f, uint64_t *size)
{
	LARGE_INTEGER li;

	*size = 0;
	if (!GetFileSizeEx(f->h, &li))
		return fs_fail_last("cannot get the size of", f->path);
	*size = (uint64_t)li.QuadPart;
	return 0;
}

int sv_file_truncate(sv_file *f, uint64_t size)
{
	FILE_END_OF_FILE_INFO eof;
	LARGE_INTEGER li;
	DWORD e;

	if (size > (uint64_t)INT64_MAX)
		return sv_error_set(SV_EINVAL, "size too large for '%s'",
				    f->path);
	eof.EndOfFile.QuadPart = (LONGLONG)size;
	if (SetFileInformationByHandle(f->h, FileEndOfFileInfo, &eof,
				       sizeof(eof)))
		return 0;
	e = GetLastError();
	if (e != ERROR_INVALID_PARAMETER && e != ERROR_NOT_SUPPORTED &&
	    e != ERROR_INVALID_FUNCTION && e != ERROR_CALL_NOT_IMPLEMENTED)
		return fs_fail(e, "cannot set the size of", f->path);
	/* Older redirectors lack the information class; the file pointer is
	 * free to move because reads and writes carry their own offsets. */
	li.QuadPart = (LONGLONG)size;
	if (!SetFilePointerEx(f->h, li, NULL, FILE_BEGIN) ||
	    !SetEndOfFile(f->h))
		return fs_fail_last("cannot set the size of", f->path);
	return 0;
}

int sv_file_set_sparse(sv_file *f)
{
	DWORD ret = 0, e;

	if (DeviceIoControl(f->h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &ret,
			    NULL))
		return 0;
	e = GetLastError();
	/* FAT and exFAT have no sparse files: the data is then stored in full,
	 * which is correct, only larger. */
	if (e == ERROR_INVALID_FUNCTION || e == ERROR_NOT_SUPPORTED)
		return 0;
	return fs_fail(e, "cannot make sparse", f->path);
}

int sv_file_close(sv_file *f)
{
	int rc = 0;

	if (f == NULL)
		return 0;
	if (f->h != INVALID_HANDLE_VALUE && f->h != NULL && !CloseHandle(f->h))
		rc = fs_fail_last("cannot close", f->path);
	free(f->path);
	free(f);
	return rc;
}

/* ---- whole files ---- */

/* 16 random hex digits for a temp name; RtlGenRandom (advapi32's
 * SystemFunction036) with the clock as a fallback, CREATE_NEW making any
 * collision an error rather than a shared file. */
static void fs_random_hex(char *dst, size_t size)
{
	uint8_t r[8];
	LARGE_INTEGER qpc;
	uint64_t v;

	if (!RtlGenRandom(r, sizeof(r))) {
		QueryPerformanceCounter(&qpc);
		v = (uint64_t)qpc.QuadPart ^ ((uint64_t)GetCurrentProcessId()
					      << 40) ^ GetTickCount64();
		memcpy(r, &v, sizeof(r));
	}
	if (size >= 2 * sizeof(r) + 1)
		sv_hex_encode(dst, r, sizeof(r));
	else if (size > 0)
		dst[0] = '\0';
}

/* Writes data to a new temp file beside path and flushes it; *tmp_out is
 * its wide path (caller deletes and frees). */
static int fs_write_temp(wchar_t **tmp_out, const char *path,
			 const void *data, size_t len)
{
	char hex[17];
	char *tmp = NULL;
	sv_file f = {INVALID_HANDLE_VALUE, 0, NULL};
	int rc = 0;

	*tmp_out = NULL;
	fs_random_hex(hex, sizeof(hex));
	if ((tmp = sv_aprintf("%s.tmp-%s", path, hex)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	f.path = tmp;
	if ((rc = fs_wpath(tmp_out, tmp)) != 0)
		goto done;
	f.h = CreateFileW(*tmp_out, GENERIC_WRITE, 0, NULL, CREATE_NEW,
			  FILE_ATTRIBUTE_NORMAL, NULL);
	if (f.h == INVALID_HANDLE_VALUE) {
		rc = fs_fail_last("cannot create", tmp);
		free(*tmp_out);
		*tmp_out = NULL;
		goto done;
	}
	if ((rc = sv_file_pwrite(&f, data, len, 0)) != 0)
		goto done;
	rc = sv_file_sync(&f);
done:
	if (f.h != INVALID_HANDLE_VALUE && !CloseHandle(f.h) && rc == 0)
		rc = fs_fail_last("cannot close", tmp);
	free(tmp);
	return rc;
}

static int fs_write_and_move(const char *path, const void *data, size_t len,
			     DWORD move_flags)
{
	wchar_t *wtmp = NULL, *wpath = NULL;
	DWORD e;
	int rc;

	if ((rc = fs_wpath(&wpath, path)) != 0)
		goto done;
	if ((rc = fs_write_temp(&wtmp, path, data, len)) != 0)
		goto done;
	if (!MoveFileExW(wtmp, wpath, move_flags)) {
		e = GetLastError();
		if (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS)
			rc = sv_error_set(SV_EEXISTS, "'%s' already exists",
					  path);
		else
			rc = fs_fail(e, "cannot replace", path);
	}
done:
	if (rc != 0 && wtmp != NULL)
		DeleteFileW(wtmp);
	free(wtmp);
	free(wpath);
	return rc;
}

/* private_mode: see sv_file_open() on SV_O_PRIVATE. */
int sv_fs_write_atomic(const char *path, const void *data, size_t len,
		       int private_mode)
{
	return fs_write_and_move(path, data, len,
				 MOVEFILE_REPLACE_EXISTING |
				 MOVEFILE_WRITE_THROUGH);
}

int sv_fs_create_atomic(const char *path, const void *data, size_t len)
{
	return fs_write_and_move(path, data, len, MOVEFILE_WRITE_THROUGH);
}

int sv_fs_read_all(char **out, size_t *len, const char *path, size_t max)
{
	sv_file *f = NULL;
	uint64_t size;
	char *buf = NULL;
	size_t have = 0, got;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = sv_file_open(&f, path, SV_O_READ)) != 0 ||
	    (rc = sv_file_size(f, &size)) != 0)
		goto done;
	if (size > (uint64_t)max || size >= (uint64_t)SIZE_MAX) {
		rc = sv_error_set(SV_ENOMEM, "'%s' is larger than %llu bytes",
				  path, (unsigned long long)max);
		goto done;
	}
	if ((buf = sv_malloc((size_t)size + 1)) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	/* A file that shrinks meanwhile gives what is there; one that grows
	 * gives the size seen at the start. */
	while (have < (size_t)size) {
		if ((rc = sv_file_read(f, buf + have, (size_t)size - have,
				       &got)) != 0)
			goto done;
		if (got == 0)
			break;
		have += got;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	buf = NULL;
done:
	free(buf);
	sv_file_close(f);
	return rc;
}

/* ---- directories ---- */

static int fs_is_dir_w(const wchar_t *w)
{
	DWORD a = GetFileAttributesW(w);

	return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

/* Length of the part of a \\?\ path that cannot be created: "\\?\C:\",
 * "\\?\UNC\server\share\", "\\?\Volume{...}\". */
static size_t fs_root_len(const wchar_t *w)
{
	size_t i = 4, skip = 1;

	if (wcsncmp(w, L"\\\\?\\UNC\\", 8) == 0) {
		i = 8;
		skip = 2;
	} else if (wcsncmp(w, L"\\\\?\\", 4) != 0 &&
		   wcsncmp(w, L"\\\\.\\", 4) != 0) {
		return 0;
	}
	for (; w[i] != L'\0'; i++) {
		if (w[i] == L'\\' && --skip == 0)
			return i + 1;
	}
	return i;
}

/* CreateDirectoryW on the first len units of w; an existing directory is
 * fine, and so is an access-denied answer for one (as C:\Users may give). */
static int fs_mkdir_one(wchar_t *w, size_t len, const char *path)
{
	wchar_t saved = w[len];
	DWORD e;
	int rc = 0;

	w[len] = L'\0';
	if (!CreateDirectoryW(w, NULL)) {
		e = GetLastError();
		if (!fs_is_dir_w(w))
			rc = e == ERROR_ALREADY_EXISTS
				     ? sv_error_set(SV_EEXISTS,
						    "'%s': a parent is not a "
						    "directory", path)
				     : fs_fail(e, "cannot create directory",
					       path);
	}
	w[len] = saved;
	return rc;
}

/* private_mode: the default ACL, as for SV_O_PRIVATE in sv_file_open(). */
int sv_fs_mkdir_p(const char *path, int private_mode)
{
	wchar_t *w = NULL;
	size_t len, i;
	int rc;

	if ((rc = fs_wpath(&w, path)) != 0)
		goto done;
	len = wcslen(w);
	while (len > fs_root_len(w) && w[len - 1] == L'\\')
		w[--len] = L'\0';
	if (fs_is_dir_w(w))
		goto done;
	for (i = fs_root_len(w); i <= len; i++) {
		if (i == len || (w[i] == L'\\' && i > 0 && w[i - 1] != L'\\')) {
			if ((rc = fs_mkdir_one(w, i, path)) != 0)
				goto done;
		}
	}
done:
	free(w);
	return rc;
}

int sv_fs_stat(const char *path, int *is_dir, uint64_t *size)
{
	WIN32_FILE_ATTRIBUTE_DATA fa;
	wchar_t *w = NULL;
	int rc;

	if (is_dir != NULL)
		*is_dir = 0;
	if (size != NULL)
		*size = 0;
	if ((rc = fs_wpath(&w, path)) != 0)
		goto done;
	if (!GetFileAttributesExW(w, GetFileExInfoStandard, &fa)) {
		rc = fs_fail_last("cannot stat", path);
		goto done;
	}
	if (is_dir != NULL)
		*is_dir = (fa.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
	if (size != NULL)
		*size = ((uint64_t)fa.nFileSizeHigh << 32) | fa.nFileSizeLow;
done:
	free(w);
	return rc;
}

/* Removes a file or an empty directory (a directory link itself, never its
 * target); clears the read-only attribute that would block DeleteFileW, as
 * unlink() ignores file modes. */
static int fs_remove_w(const wchar_t *w, const char *path)
{
	DWORD a = GetFileAttributesW(w);

	if (a == INVALID_FILE_ATTRIBUTES)
		return fs_fail_last("cannot remove", path);
	if (a & FILE_ATTRIBUTE_DIRECTORY) {
		if (!RemoveDirectoryW(w))
			return fs_fail_last("cannot remove directory", path);
		return 0;
	}
	if (DeleteFileW(w))
		return 0;
	if (GetLastError() == ERROR_ACCESS_DENIED &&
	    (a & FILE_ATTRIBUTE_READONLY) &&
	    SetFileAttributesW(w, a & ~(DWORD)FILE_ATTRIBUTE_READONLY) &&
	    DeleteFileW(w))
		return 0;
	return fs_fail_last("cannot remove", path);
}

int sv_fs_remove(const char *path)
{
	wchar_t *w = NULL;
	int rc;

	if ((rc = fs_wpath(&w, path)) == 0)
		rc = fs_remove_w(w, path);
	free(w);
	return rc;
}

static int fs_dot_name(const wchar_t *n)
{
	return n[0] == L'.' && (n[1] == L'\0' || (n[1] == L'.' && n[2] == L'\0'));
}

static int fs_remove_tree_w(const wchar_t *w, const char *path);

/* Removes the entries of directory w (not w itself). */
static int fs_remove_children(const wchar_t *w, const char *path)
{
	WIN32_FIND_DATAW fd;
	HANDLE fh = INVALID_HANDLE_VALUE;
	wchar_t *pattern = NULL, *child = NULL;
	int rc;

	if ((rc = fs_wjoin(&pattern, w, L"*")) != 0)
		goto done;
	fh = FindFirstFileExW(pattern, FindExInfoBasic, &fd,
			      FindExSearchNameMatch, NULL, 0);
	if (fh == INVALID_HANDLE_VALUE) {
		if (GetLastError() != ERROR_FILE_NOT_FOUND)
			rc = fs_fail_last("cannot list", path);
		goto done;
	}
	do {
		if (fs_dot_name(fd.cFileName))
			continue;
		if ((rc = fs_wjoin(&child, w, fd.cFileName)) != 0 ||
		    (rc = fs_remove_tree_w(child, path)) != 0)
			goto done;
		free(child);
		child = NULL;
	} while (FindNextFileW(fh, &fd));
	if (GetLastError() != ERROR_NO_MORE_FILES)
		rc = fs_fail_last("cannot list", path);
done:
	if (fh != INVALID_HANDLE_VALUE)
		FindClose(fh);
	free(child);
	free(pattern);
	return rc;
}

/* path names the top of the tree in messages. Links are removed, never
 * followed. */
static int fs_remove_tree_w(const wchar_t *w, const char *path)
{
	DWORD a = GetFileAttributesW(w);
	DWORD e;
	int rc;

	if (a == INVALID_FILE_ATTRIBUTES) {
		e = GetLastError();
		if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
			return 0;
		return fs_fail(e, "cannot remove", path);
	}
	if ((a & FILE_ATTRIBUTE_DIRECTORY) &&
	    !(a & FILE_ATTRIBUTE_REPARSE_POINT)) {
		if ((rc = fs_remove_children(w, path)) != 0)
			return rc;
	}
	return fs_remove_w(w, path);
}

int sv_fs_remove_tree(const char *path)
{
	wchar_t *w = NULL;
	int rc;

	if ((rc = fs_wpath(&w, path)) == 0)
		rc = fs_remove_tree_w(w, path);
	free(w);
	return rc;
}

int sv_fs_rename(const char *from, const char *to)
{
	wchar_t *wfrom = NULL, *wto = NULL;
	int rc;

	if ((rc = fs_wpath(&wfrom, from)) != 0 ||
	    (rc = fs_wpath(&wto, to)) != 0)
		goto done;
	if (!MoveFileExW(wfrom, wto, MOVEFILE_REPLACE_EXISTING))
		rc = sv_error_set_os(fs_code(GetLastError()),
				     "cannot rename '%s' to '%s'", from, to);
done:
	free(wfrom);
	free(wto);
	return rc;
}

/*
 * Nothing to do on Windows: there is no fsync for a directory there. NTFS
 * and ReFS journal the metadata of a create or rename, and the renames of
 * sv_fs_write_atomic() use MOVEFILE_WRITE_THROUGH, which returns only once
 * the rename is on disk.
 */
int sv_fs_sync_dir(const char *dir)
{
	return 0;
}

/* Calls cb for one find result. */
static int fs_list_entry(const WIN32_FIND_DATAW *fd, const char *path,
			 sv_dir_cb cb, void *ud)
{
	sv_dirent e;
	char *name = NULL;
	int rc;

	if ((rc = fs_utf8(&name, fd->cFileName)) != 0) {
		sv_error_prefix("listing '%s'", path);
		return rc;
	}
	e.name = name;
	e.is_dir = (fd->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
	e.is_link = (fd->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0;
	e.size = ((uint64_t)fd->nFileSizeHigh << 32) | fd->nFileSizeLow;
	rc = cb(ud, &e);
	free(name);
	return rc;
}

int sv_fs_list_dir(const char *path, sv_dir_cb cb, void *ud)
{
	WIN32_FIND_DATAW fd;
	HANDLE fh = INVALID_HANDLE_VALUE;
	wchar_t *w = NULL, *pattern = NULL;
	DWORD a;
	int rc;

	if ((rc = fs_wpath(&w, path)) != 0 ||
	    (rc = fs_wjoin(&pattern, w, L"*")) != 0)
		goto done;
	a = GetFileAttributesW(w);
	if (a == INVALID_FILE_ATTRIBUTES) {
		rc = fs_fail_last("cannot list", path);
		goto done;
	}
	if (!(a & FILE_ATTRIBUTE_DIRECTORY)) {
		rc = sv_error_set(SV_EINVAL, "'%s' is not a directory", path);
		goto done;
	}
	fh = FindFirstFileExW(pattern, FindExInfoBasic, &fd,
			      FindExSearchNameMatch, NULL,
			      FIND_FIRST_EX_LARGE_FETCH);
	if (fh == INVALID_HANDLE_VALUE) {
		if (GetLastError() != ERROR_FILE_NOT_FOUND)
			rc = fs_fail_last("cannot list", path);
		goto done;
	}
	do {
		if (!fs_dot_name(fd.cFileName) &&
		    (rc = fs_list_entry(&fd, path, cb, ud)) != 0)
			goto done;
	} while (FindNextFileW(fh, &fd));
	if (GetLastError() != ERROR_NO_MORE_FILES)
		rc = fs_fail_last("cannot list", path);
done:
	if (fh != INVALID_HANDLE_VALUE)
		FindClose(fh);
	free(pattern);
	free(w);
	return rc;
}

static unsigned fs_attr_flags(DWORD a)
{
	static const struct {
		DWORD win;
		unsigned sv;
	} map[] = {
		{FILE_ATTRIBUTE_DIRECTORY, SV_ATTR_DIRECTORY},
		{FILE_ATTRIBUTE_READONLY, SV_ATTR_READONLY},
		{FILE_ATTRIBUTE_COMPRESSED, SV_ATTR_COMPRESSED},
		{FILE_ATTRIBUTE_ENCRYPTED, SV_ATTR_ENCRYPTED},
		{FILE_ATTRIBUTE_SPARSE_FILE, SV_ATTR_SPARSE},
		{FILE_ATTRIBUTE_REPARSE_POINT, SV_ATTR_REPARSE},
		{FILE_ATTRIBUTE_OFFLINE, SV_ATTR_OFFLINE},
	};
	unsigned out = 0;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (a & map[i].win)
			out |= map[i].sv;
	return out;
}

int sv_fs_attributes(const char *path, unsigned *attrs)
{
	wchar_t *w = NULL;
	DWORD a;
	int rc;

	*attrs = 0;
	if ((rc = fs_wpath(&w, path)) != 0)
		goto done;
	a = GetFileAttributesW(w);   /* the link itself, not its target */
	if (a == INVALID_FILE_ATTRIBUTES) {
		rc = fs_fail_last("cannot read the attributes of", path);
		goto done;
	}
	*attrs = fs_attr_flags(a);
done:
	free(w);
	return rc;
}

char *sv_fs_temp_dir(void)
{
	wchar_t w[MAX_PATH + 2];
	char *out = NULL;
	DWORD n = GetTempPathW(MAX_PATH + 2, w);

	if (n == 0 || n > MAX_PATH + 1) {
		sv_error_set_os(SV_ERROR, "cannot find the temp directory");
		return NULL;
	}
	/* "C:\Temp\" -> "C:\Temp", but "C:\" stays a root. */
	if (n > 3 && w[n - 1] == L'\\')
		w[n - 1] = L'\0';
	if (fs_utf8(&out, w) != 0)
		return NULL;
	return out;
}
