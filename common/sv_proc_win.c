/*
 * sv_proc_win.c - the process runner on Windows.
 *
 * The child starts suspended, is put in a job object that kills every
 * process in it when the job handle closes, and is then resumed: whatever it
 * starts stays in the job, so one TerminateJobObject() ends the whole tree.
 * stdin is NUL; stdout and stderr are two anonymous pipes, each read by a
 * thread that splits lines and queues them. The calling thread waits on the
 * process, drains the queue into on_line, and polls for cancel and timeout,
 * so on_line and the other callbacks always run on the caller's thread.
 */
#include <windows.h>
#include <process.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "sv_proc.h"
#include "sv_buf.h"
#include "sv_path.h"
#include "sv_time.h"

#ifndef ERROR_ELEVATION_REQUIRED   /* missing from older mingw-w64 headers */
#define ERROR_ELEVATION_REQUIRED 740L
#endif

#define PROC_POLL_MS 100
#define PROC_READ_CHUNK 4096
#define PROC_PIPE_SIZE 65536
/* Bytes of output queued before the reader threads wait for the caller. */
#define PROC_QUEUE_MAX ((size_t)4 << 20)
/* How long after the end the readers get to reach end of file before their
 * blocked reads are cancelled. */
#define PROC_DRAIN_MS 5000
/* CreateProcessW's limit, terminating NUL included. */
#define PROC_CMDLINE_MAX 32767

/*
 * Handles made inheritable for one CreateProcessW must not leak into a child
 * that another thread starts at the same moment. The handle list attribute
 * keeps them out of children of this file; the lock keeps them out of
 * children started elsewhere in the process with plain inheritance.
 */
static SRWLOCK proc_spawn_lock = SRWLOCK_INIT;

typedef struct proc_line {
	struct proc_line *next;
	int stream;
	size_t len;
	char text[];
} proc_line;

typedef struct proc_queue {
	SRWLOCK lock;
	CONDITION_VARIABLE room;   /* readers wait here while the queue is full */
	HANDLE ready;              /* auto-reset: lines queued or a reader ended */
	proc_line *head, *tail;
	size_t bytes;
	int readers;               /* reader threads still running */
} proc_queue;

typedef struct proc_reader {
	proc_queue *q;
	HANDLE pipe;               /* read end */
	HANDLE thread;
	int stream;
	size_t len;
	char buf[SV_PROC_MAX_LINE + 1];   /* one byte more: see reader_feed */
} proc_reader;

typedef struct proc_run {
	const sv_proc_opts *opts;
	sv_proc_result *res;
	proc_queue q;
	proc_reader out, err;
	HANDLE out_w, err_w, nul;  /* the child's ends */
	HANDLE job, process;
	wchar_t *cmdline, *env, *cwd;
	uint64_t start;
	int stop;                  /* 0, SV_ETIMEOUT or SV_ECANCELLED */
	int line_cancel;           /* on_line asked to stop */
	int killed;
} proc_run;

/* ---- text ---- */

static int proc_cont_byte(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* Where to cut n bytes of s into a piece of at most max bytes without
 * splitting a UTF-8 sequence (bytes that are not UTF-8 are cut at max). */
static size_t proc_cut(const char *s, size_t n, size_t max)
{
	size_t cut = max;
	int k;

	if (n <= max)
		return n;
	for (k = 0; k < 3 && cut > 0 && proc_cont_byte(s[cut]); k++)
		cut--;
	if (cut == 0 || proc_cont_byte(s[cut]))
		return max;
	return cut;
}

/* Text in the OEM code page (what console programs such as wbadmin write
 * to a pipe) as new UTF-8; NULL when it cannot be converted. */
static char *proc_oem_to_utf8(const char *s, size_t n, size_t *out_len)
{
	wchar_t *w = NULL;
	char *u = NULL;
	int wn, un;

	wn = MultiByteToWideChar(GetOEMCP(), 0, s, (int)n, NULL, 0);
	if (wn <= 0 || (w = malloc((size_t)wn * sizeof(wchar_t))) == NULL)
		goto done;
	MultiByteToWideChar(GetOEMCP(), 0, s, (int)n, w, wn);
	un = WideCharToMultiByte(CP_UTF8, 0, w, wn, NULL, 0, NULL, NULL);
	if (un <= 0 || (u = malloc((size_t)un)) == NULL)
		goto done;
	WideCharToMultiByte(CP_UTF8, 0, w, wn, u, un, NULL, NULL);
	*out_len = (size_t)un;
done:
	free(w);
	return u;
}

/* ---- the queue (reader threads push, the caller drains) ---- */

static void proc_queue_push(proc_queue *q, int stream, const char *s,
			    size_t n)
{
	proc_line *l = malloc(sizeof(*l) + n + 1);

	if (l == NULL)
		return;   /* out of memory: the line is lost, the child goes on */
	l->next = NULL;
	l->stream = stream;
	l->len = n;
	memcpy(l->text, s, n);
	l->text[n] = '\0';
	AcquireSRWLockExclusive(&q->lock);
	while (q->bytes > PROC_QUEUE_MAX)
		SleepConditionVariableSRW(&q->room, &q->lock, INFINITE, 0);
	if (q->tail != NULL)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	q->bytes += sizeof(*l) + n;
	ReleaseSRWLockExclusive(&q->lock);
	SetEvent(q->ready);
}

/* Queues one line (or piece of one) as UTF-8: valid UTF-8 as it is, other
 * bytes converted from the OEM code page, in pieces of at most
 * SV_PROC_MAX_LINE bytes. */
static void proc_emit(proc_reader *r, const char *s, size_t n)
{
	char *conv = NULL;
	size_t len = n, cut;

	if (!sv_utf8_valid(s, n) && (conv = proc_oem_to_utf8(s, n, &len)))
		s = conv;
	else
		len = n;
	do {
		cut = proc_cut(s, len, SV_PROC_MAX_LINE);
		proc_queue_push(r->q, r->stream, s, cut);
		s += cut;
		len -= cut;
	} while (len > 0);
	free(conv);
}

/* The buffer holds SV_PROC_MAX_LINE + 1 bytes without a newline: sends a
 * piece and keeps the rest. At least one byte stays, so a '\r' is still
 * there to strip if '\n' comes next. */
static void proc_reader_piece(proc_reader *r)
{
	size_t cut = proc_cut(r->buf, r->len, SV_PROC_MAX_LINE);

	proc_emit(r, r->buf, cut);
	memmove(r->buf, r->buf + cut, r->len - cut);
	r->len -= cut;
}

/* A complete line without its end: "\n", "\r\n", or the "\r\r\n" that a
 * program writing "\r\n" to a text-mode stream produces. */
static void proc_reader_line(proc_reader *r)
{
	size_t n = r->len;

	while (n > 0 && r->buf[n - 1] == '\r')
		n--;
	proc_emit(r, r->buf, n);
	r->len = 0;
}

static void proc_reader_feed(proc_reader *r, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			proc_reader_line(r);
			continue;
		}
		r->buf[r->len++] = p[i];
		if (r->len == sizeof(r->buf))
			proc_reader_piece(r);
	}
}

static unsigned __stdcall proc_reader_main(void *arg)
{
	proc_reader *r = arg;
	char chunk[PROC_READ_CHUNK];
	DWORD got;

	/* Ends at end of file (ERROR_BROKEN_PIPE once every writer, the
	 * child's whole tree, has closed its end) or when cancelled. */
	while (ReadFile(r->pipe, chunk, sizeof(chunk), &got, NULL))
		proc_reader_feed(r, chunk, got);
	if (r->len > 0)
		proc_reader_line(r);
	AcquireSRWLockExclusive(&r->q->lock);
	r->q->readers--;
	ReleaseSRWLockExclusive(&r->q->lock);
	SetEvent(r->q->ready);
	return 0;
}

/* Delivers every queued line to on_line on the caller's thread. */
static void proc_drain(proc_run *run)
{
	const sv_proc_opts *o = run->opts;
	proc_line *l, *next;

	AcquireSRWLockExclusive(&run->q.lock);
	l = run->q.head;
	run->q.head = run->q.tail = NULL;
	run->q.bytes = 0;
	ReleaseSRWLockExclusive(&run->q.lock);
	WakeAllConditionVariable(&run->q.room);
	for (; l != NULL; l = next) {
		next = l->next;
		if (o->on_line != NULL &&
		    o->on_line(o->ud, l->stream, l->text, l->len) != 0)
			run->line_cancel = 1;
		free(l);
	}
}

static int proc_readers_left(proc_run *run)
{
	int n;

	AcquireSRWLockExclusive(&run->q.lock);
	n = run->q.readers;
	ReleaseSRWLockExclusive(&run->q.lock);
	return n;
}

/* Drains until both readers have ended. A reader still blocked after
 * PROC_DRAIN_MS (a pipe end kept open outside the job) has its read
 * cancelled, again at every poll in case it was between two reads. */
static void proc_join_readers(proc_run *run)
{
	uint64_t limit = sv_time_mono_ms() + PROC_DRAIN_MS;
	proc_reader *rs[2] = {&run->out, &run->err};
	int i;

	while (proc_readers_left(run) > 0) {
		WaitForSingleObject(run->q.ready, PROC_POLL_MS);
		proc_drain(run);
		if (sv_time_mono_ms() < limit)
			continue;
		for (i = 0; i < 2; i++)
			if (rs[i]->thread != NULL)
				CancelSynchronousIo(rs[i]->thread);
	}
	for (i = 0; i < 2; i++) {
		if (rs[i]->thread != NULL) {
			WaitForSingleObject(rs[i]->thread, INFINITE);
			CloseHandle(rs[i]->thread);
			rs[i]->thread = NULL;
		}
	}
	proc_drain(run);
}

/* ---- the command line and environment ---- */

/* UTF-8 to a new NUL-terminated UTF-16 string; what names it in errors. */
static int proc_wide(wchar_t **out, const char *s, const char *what)
{
	size_t n = strlen(s);
	int wn;

	*out = NULL;
	if (n >= INT_MAX / 2 || !sv_utf8_valid(s, n))
		return sv_error_set(SV_EINVAL, "%s is not valid UTF-8", what);
	wn = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n + 1,
				 NULL, 0);
	if (wn <= 0)
		return sv_error_set(SV_EINVAL, "%s is not valid UTF-8", what);
	if ((*out = sv_calloc((size_t)wn, sizeof(wchar_t))) == NULL)
		return SV_ENOMEM;
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, (int)n + 1, *out,
			    wn);
	return 0;
}

static int proc_add_repeat(sv_buf *b, char c, size_t n)
{
	int rc = 0;

	while (rc == 0 && n-- > 0)
		rc = sv_buf_addc(b, c);
	return rc;
}

/* Appends one argument quoted so that CommandLineToArgvW and the C
 * runtimes give it back unchanged: backslashes are literal except before a
 * quote, where they are doubled and the quote escaped. */
static int proc_quote_arg(sv_buf *b, const char *a)
{
	size_t bs = 0;
	int rc;

	if (a[0] != '\0' && strpbrk(a, " \t\n\v\"") == NULL)
		return sv_buf_adds(b, a);
	rc = sv_buf_addc(b, '"');
	for (; rc == 0 && *a != '\0'; a++) {
		if (*a == '\\') {
			bs++;
			continue;
		}
		if (*a == '"')
			rc = proc_add_repeat(b, '\\', 2 * bs + 1);
		else
			rc = proc_add_repeat(b, '\\', bs);
		if (rc == 0)
			rc = sv_buf_addc(b, *a);
		bs = 0;
	}
	if (rc == 0)
		rc = proc_add_repeat(b, '\\', 2 * bs);
	if (rc == 0)
		rc = sv_buf_addc(b, '"');
	return rc;
}

/* The program name is parsed by CreateProcessW and the C runtime without
 * escapes: quoted when needed, and it cannot contain a quote. */
static int proc_quote_program(sv_buf *b, const char *p)
{
	if (strchr(p, '"') != NULL)
		return sv_error_set(SV_EINVAL,
				    "program name '%s' contains a quote", p);
	if (p[0] != '\0' && strpbrk(p, " \t") == NULL)
		return sv_buf_adds(b, p);
	if (sv_buf_addc(b, '"') != 0 || sv_buf_adds(b, p) != 0 ||
	    sv_buf_addc(b, '"') != 0)
		return SV_ENOMEM;
	return 0;
}

static int proc_cmdline(wchar_t **out, const char *const *argv)
{
	sv_buf b;
	size_t i;
	int rc;

	*out = NULL;
	sv_buf_init(&b, (size_t)PROC_CMDLINE_MAX * 4);
	rc = proc_quote_program(&b, argv[0]);
	for (i = 1; rc == 0 && argv[i] != NULL; i++) {
		if ((rc = sv_buf_addc(&b, ' ')) == 0)
			rc = proc_quote_arg(&b, argv[i]);
	}
	if (rc == SV_ENOMEM)
		rc = sv_error_set(SV_EINVAL, "the command line of '%s' is too "
				  "long", argv[0]);
	if (rc == 0)
		rc = proc_wide(out, b.ptr, "the command line");
	if (rc == 0 && wcslen(*out) >= PROC_CMDLINE_MAX) {
		free(*out);
		*out = NULL;
		rc = sv_error_set(SV_EINVAL, "the command line of '%s' is too "
				  "long", argv[0]);
	}
	sv_buf_release(&b);
	return rc;
}

/* Length of the name of an environment entry; entries such as "=C:=C:\x"
 * have a name that starts with '='. */
static size_t proc_env_name_len(const wchar_t *e)
{
	const wchar_t *eq = wcschr(e + (e[0] == L'=' ? 1 : 0), L'=');

	return eq != NULL ? (size_t)(eq - e) : wcslen(e);
}

static int proc_env_same_name(const wchar_t *a, const wchar_t *b)
{
	size_t an = proc_env_name_len(a), bn = proc_env_name_len(b);

	/* Windows environment names are case-insensitive. */
	return an == bn && an < INT_MAX &&
	       CompareStringOrdinal(a, (int)an, b, (int)bn, TRUE) == CSTR_EQUAL;
}

/* 1 when entry e is replaced by one of set[from..]. */
static int proc_env_replaced(const wchar_t *e, wchar_t *const *set,
			     size_t from)
{
	size_t i;

	for (i = from; set[i] != NULL; i++)
		if (proc_env_same_name(e, set[i]))
			return 1;
	return 0;
}

static int proc_env_add(sv_buf *b, const wchar_t *e)
{
	return sv_buf_add(b, e, (wcslen(e) + 1) * sizeof(wchar_t));
}

/* The inherited environment with the set entries replaced or added. */
static int proc_env_merge(sv_buf *b, wchar_t *const *set)
{
	wchar_t *cur = GetEnvironmentStringsW();
	const wchar_t *e;
	size_t i;
	int rc = 0;

	for (e = cur; rc == 0 && e != NULL && *e != L'\0';
	     e += wcslen(e) + 1) {
		if (!proc_env_replaced(e, set, 0))
			rc = proc_env_add(b, e);
	}
	for (i = 0; rc == 0 && set[i] != NULL; i++) {
		if (!proc_env_replaced(set[i], set, i + 1))
			rc = proc_env_add(b, set[i]);
	}
	if (rc == 0)
		rc = sv_buf_add(b, L"", sizeof(wchar_t));
	if (cur != NULL)
		FreeEnvironmentStringsW(cur);
	return rc;
}

/* A UTF-16 environment block, or NULL (inherit) when nothing is set. */
static int proc_env_block(wchar_t **out, const char *const *env_set)
{
	wchar_t **set = NULL;
	size_t n = 0, i;
	sv_buf b;
	int rc = 0;

	*out = NULL;
	sv_buf_init(&b, SV_BUF_DEFAULT_MAX);
	while (env_set != NULL && env_set[n] != NULL)
		n++;
	if (n == 0)
		goto done;
	if ((set = sv_calloc(n + 1, sizeof(*set))) == NULL) {
		rc = SV_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (strchr(env_set[i] + 1, '=') == NULL || env_set[i][0] == '=') {
			rc = sv_error_set(SV_EINVAL, "environment entry '%s' "
					  "is not NAME=value", env_set[i]);
			goto done;
		}
		if ((rc = proc_wide(&set[i], env_set[i], "an environment "
				    "entry")) != 0)
			goto done;
	}
	if ((rc = proc_env_merge(&b, set)) == 0)
		*out = (wchar_t *)(void *)sv_buf_take(&b);
	if (rc == 0 && *out == NULL)
		rc = SV_ENOMEM;
done:
	for (i = 0; set != NULL && i < n; i++)
		free(set[i]);
	free(set);
	sv_buf_release(&b);
	return rc;
}

/* ---- handles ---- */

static int proc_pipe(HANDLE *rd, HANDLE *wr, const char *prog)
{
	if (!CreatePipe(rd, wr, NULL, PROC_PIPE_SIZE)) {
		*rd = *wr = NULL;
		return sv_error_set_os(SV_ERROR, "cannot create a pipe for '%s'",
				       prog);
	}
	return 0;
}

static int proc_job(HANDLE *job, const char *prog)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;

	*job = CreateJobObjectW(NULL, NULL);
	if (*job == NULL)
		return sv_error_set_os(SV_ERROR, "cannot create a job object "
				       "for '%s'", prog);
	memset(&li, 0, sizeof(li));
	li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (!SetInformationJobObject(*job, JobObjectExtendedLimitInformation,
				     &li, sizeof(li)))
		return sv_error_set_os(SV_ERROR, "cannot set up the job object "
				       "for '%s'", prog);
	return 0;
}

static int proc_nul(HANDLE *h, const char *prog)
{
	*h = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
			 NULL, OPEN_EXISTING, 0, NULL);
	if (*h == INVALID_HANDLE_VALUE) {
		*h = NULL;
		return sv_error_set_os(SV_ERROR, "cannot open NUL for '%s'",
				       prog);
	}
	return 0;
}

/* Everything the child needs before it can be created. */
static int proc_prepare(proc_run *run)
{
	const sv_proc_opts *o = run->opts;
	const char *prog = o->argv[0];
	int rc;

	if ((rc = proc_cmdline(&run->cmdline, o->argv)) != 0 ||
	    (rc = proc_env_block(&run->env, o->env_set)) != 0)
		return rc;
	if (o->cwd != NULL &&
	    (rc = proc_wide(&run->cwd, o->cwd, "the working directory")) != 0)
		return rc;
	if (run->cwd != NULL) {
		for (wchar_t *p = run->cwd; *p != L'\0'; p++)
			if (*p == L'/')
				*p = L'\\';
	}
	if ((rc = proc_pipe(&run->out.pipe, &run->out_w, prog)) != 0 ||
	    (rc = proc_pipe(&run->err.pipe, &run->err_w, prog)) != 0 ||
	    (rc = proc_nul(&run->nul, prog)) != 0 ||
	    (rc = proc_job(&run->job, prog)) != 0)
		return rc;
	run->q.ready = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (run->q.ready == NULL)
		return sv_error_set_os(SV_ERROR, "cannot create an event");
	return 0;
}

/* ---- starting ---- */

static int proc_create_error(DWORD e, const proc_run *run)
{
	const char *prog = run->opts->argv[0];

	SetLastError(e);
	switch (e) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
		return sv_error_set_os(SV_ENOTFOUND, "program '%s' was not "
				       "found", prog);
	case ERROR_DIRECTORY:
		return sv_error_set_os(SV_ENOTFOUND, "cannot start '%s' in "
				       "'%s'", prog, run->opts->cwd);
	case ERROR_ACCESS_DENIED:
	case ERROR_BAD_EXE_FORMAT:
	case ERROR_EXE_MACHINE_TYPE_MISMATCH:
	case ERROR_ELEVATION_REQUIRED:
		return sv_error_set_os(SV_EACCESS, "cannot run '%s'", prog);
	default:
		return sv_error_set_os(SV_ERROR, "cannot start '%s'", prog);
	}
}

/* A list naming the three handles the child may inherit; NULL when the
 * system cannot make one (inheritance is then limited by the lock only). */
static LPPROC_THREAD_ATTRIBUTE_LIST proc_attr_list(HANDLE *handles)
{
	LPPROC_THREAD_ATTRIBUTE_LIST list = NULL;
	SIZE_T size = 0;

	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	if (size == 0 || (list = malloc(size)) == NULL)
		return NULL;
	if (!InitializeProcThreadAttributeList(list, 1, 0, &size)) {
		free(list);
		return NULL;
	}
	if (!UpdateProcThreadAttribute(list, 0,
				       PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
				       handles, 3 * sizeof(HANDLE), NULL,
				       NULL)) {
		DeleteProcThreadAttributeList(list);
		free(list);
		return NULL;
	}
	return list;
}

static void proc_close(HANDLE *h)
{
	if (*h != NULL && *h != INVALID_HANDLE_VALUE)
		CloseHandle(*h);
	*h = NULL;
}

/* CreateProcessW, suspended; closes the parent's copies of the child's
 * ends whatever happens. */
static int proc_create(proc_run *run, PROCESS_INFORMATION *pi)
{
	HANDLE handles[3] = {run->nul, run->out_w, run->err_w};
	DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW |
		      CREATE_UNICODE_ENVIRONMENT;
	STARTUPINFOEXW si;
	BOOL ok;
	DWORD e = 0;
	int i;

	memset(&si, 0, sizeof(si));
	si.StartupInfo.cb = sizeof(si.StartupInfo);
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = run->nul;
	si.StartupInfo.hStdOutput = run->out_w;
	si.StartupInfo.hStdError = run->err_w;
	AcquireSRWLockExclusive(&proc_spawn_lock);
	for (i = 0; i < 3; i++)
		SetHandleInformation(handles[i], HANDLE_FLAG_INHERIT,
				     HANDLE_FLAG_INHERIT);
	si.lpAttributeList = proc_attr_list(handles);
	if (si.lpAttributeList != NULL) {
		si.StartupInfo.cb = sizeof(si);
		flags |= EXTENDED_STARTUPINFO_PRESENT;
	}
	/* ERROR_INTERNAL_ERROR is transient (seen under load in Wine's
	 * server): try again briefly before calling it a failure. */
	for (int attempt = 0; attempt < 5; attempt++) {
		ok = CreateProcessW(NULL, run->cmdline, NULL, NULL, TRUE, flags,
				    run->env, run->cwd, &si.StartupInfo, pi);
		if (ok)
			break;
		e = GetLastError();
		if (e != ERROR_INTERNAL_ERROR)
			break;
		Sleep(50u << attempt);
	}
	proc_close(&run->nul);
	proc_close(&run->out_w);
	proc_close(&run->err_w);
	ReleaseSRWLockExclusive(&proc_spawn_lock);
	if (si.lpAttributeList != NULL) {
		DeleteProcThreadAttributeList(si.lpAttributeList);
		free(si.lpAttributeList);
	}
	return ok ? 0 : proc_create_error(e, run);
}

static int proc_start_reader(proc_run *run, proc_reader *r, int stream)
{
	uintptr_t h;

	r->q = &run->q;
	r->stream = stream;
	AcquireSRWLockExclusive(&run->q.lock);
	run->q.readers++;
	ReleaseSRWLockExclusive(&run->q.lock);
	h = _beginthreadex(NULL, 0, proc_reader_main, r, 0, NULL);
	if (h == 0) {
		AcquireSRWLockExclusive(&run->q.lock);
		run->q.readers--;
		ReleaseSRWLockExclusive(&run->q.lock);
		return sv_error_set_errno(SV_ERROR, "cannot start a thread to "
					  "read '%s'", run->opts->argv[0]);
	}
	r->thread = (HANDLE)h;
	return 0;
}

/* Creates the child in the job, starts the readers, lets it run. */
static int proc_spawn(proc_run *run)
{
	PROCESS_INFORMATION pi;
	const char *prog = run->opts->argv[0];
	int rc;

	if ((rc = proc_create(run, &pi)) != 0)
		return rc;
	run->process = pi.hProcess;
	if (!AssignProcessToJobObject(run->job, pi.hProcess)) {
		rc = sv_error_set_os(SV_ERROR, "cannot put '%s' in a job object",
				     prog);
		TerminateProcess(pi.hProcess, 1);
		goto done;
	}
	if ((rc = proc_start_reader(run, &run->out, SV_PROC_STDOUT)) != 0 ||
	    (rc = proc_start_reader(run, &run->err, SV_PROC_STDERR)) != 0) {
		TerminateJobObject(run->job, 1);
		goto done;
	}
	if (ResumeThread(pi.hThread) == (DWORD)-1) {
		rc = sv_error_set_os(SV_ERROR, "cannot resume '%s'", prog);
		TerminateJobObject(run->job, 1);
	}
done:
	CloseHandle(pi.hThread);
	return rc;
}

/* ---- waiting ---- */

/* 0, or why the child must stop now. */
static int proc_stop_reason(proc_run *run, uint64_t now, uint64_t *last_poll)
{
	const sv_proc_opts *o = run->opts;

	if (run->line_cancel)
		return SV_ECANCELLED;
	if (o->should_stop != NULL && now - *last_poll >= PROC_POLL_MS) {
		*last_poll = now;
		if (o->should_stop(o->ud))
			return SV_ECANCELLED;
	}
	if (o->timeout_ms != 0 && now - run->start >= o->timeout_ms)
		return SV_ETIMEOUT;
	return 0;
}

/* Kills the tree and waits for the child's handle. */
static void proc_kill(proc_run *run)
{
	TerminateJobObject(run->job, 1);
	run->killed = 1;
	WaitForSingleObject(run->process, PROC_DRAIN_MS);
}

/* Runs until the child exits or is killed, delivering output meanwhile. */
static int proc_wait(proc_run *run)
{
	const sv_proc_opts *o = run->opts;
	HANDLE hs[2] = {run->process, run->q.ready};
	uint64_t now, kill_at = 0, last_poll = run->start;
	DWORD w;

	for (;;) {
		w = WaitForMultipleObjects(2, hs, FALSE, PROC_POLL_MS);
		proc_drain(run);
		if (w == WAIT_OBJECT_0)
			return 0;
		if (w == WAIT_FAILED) {
			sv_error_set_os(SV_ERROR, "cannot wait for '%s'",
					o->argv[0]);
			proc_kill(run);
			return SV_ERROR;
		}
		now = sv_time_mono_ms();
		if (run->stop == 0 &&
		    (run->stop = proc_stop_reason(run, now, &last_poll)) != 0) {
			if (o->hard_kill) {
				proc_kill(run);
				return 0;
			}
			if (o->on_stop != NULL)
				o->on_stop(o->ud);
			kill_at = sv_time_mono_ms() + o->grace_ms;
		}
		if (run->stop != 0 && sv_time_mono_ms() >= kill_at) {
			proc_kill(run);
			return 0;
		}
	}
}

/* Fills in the result; the error for a child that was stopped. */
static int proc_result(proc_run *run)
{
	const sv_proc_opts *o = run->opts;
	sv_proc_result *res = run->res;
	DWORD code;

	if (!run->killed && GetExitCodeProcess(run->process, &code)) {
		res->exited = 1;
		res->exit_code = (int)code;
	}
	if (run->stop == SV_ETIMEOUT) {
		res->timed_out = 1;
		return sv_error_set(SV_ETIMEOUT, "'%s' did not finish within "
				    "%lu ms and was stopped", o->argv[0],
				    (unsigned long)o->timeout_ms);
	}
	if (run->stop == SV_ECANCELLED) {
		res->cancelled = 1;
		return sv_error_set(SV_ECANCELLED, "'%s' was cancelled",
				    o->argv[0]);
	}
	return 0;
}

static void proc_free(proc_run *run)
{
	proc_close(&run->out.pipe);
	proc_close(&run->err.pipe);
	proc_close(&run->out_w);
	proc_close(&run->err_w);
	proc_close(&run->nul);
	proc_close(&run->process);
	proc_close(&run->job);   /* kills whatever is left in the job */
	proc_close(&run->q.ready);
	free(run->cmdline);
	free(run->env);
	free(run->cwd);
	free(run);
}

int sv_proc_run(sv_proc_result *res, const sv_proc_opts *opts)
{
	proc_run *run = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (opts == NULL || opts->argv == NULL || opts->argv[0] == NULL)
		return sv_error_set(SV_EINVAL, "no program to run");
	if ((run = sv_calloc(1, sizeof(*run))) == NULL)
		return SV_ENOMEM;
	run->opts = opts;
	run->res = res;
	run->start = sv_time_mono_ms();
	InitializeSRWLock(&run->q.lock);
	InitializeConditionVariable(&run->q.room);
	if ((rc = proc_prepare(run)) != 0 || (rc = proc_spawn(run)) != 0)
		goto done;
	rc = proc_wait(run);
	if (rc == 0)
		rc = proc_result(run);
done:
	/* Whatever the child left running (a grandchild holding the pipes)
	 * goes now, so that the readers reach end of file. */
	if (run->job != NULL)
		TerminateJobObject(run->job, 1);
	proc_join_readers(run);
	res->elapsed_ms = sv_time_mono_ms() - run->start;
	proc_free(run);
	return rc;
}

int sv_proc_alive(int64_t pid)
{
	HANDLE h;
	int alive;

	if (pid <= 0 || pid > (int64_t)MAXDWORD)
		return 0;
	h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
	if (!h)
		/* Access denied means it exists; anything else, that it does not. */
		return GetLastError() == ERROR_ACCESS_DENIED;
	alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
	CloseHandle(h);
	return alive;
}

int64_t sv_proc_self(void)
{
	return (int64_t)GetCurrentProcessId();
}
