/*
 * sim_os_posix.c - the simulator's few platform needs on POSIX: output is
 * UTF-8 as it is, a missing command is the shell's 127, a crash is
 * SIGSEGV (without a core file).
 */
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sim.h"

void sim_os_init(void)
{
}

int sim_os_encode(sv_buf *out, const char *text, size_t n)
{
	return sv_buf_add(out, text, n);
}

unsigned long sim_os_pid(void)
{
	return (unsigned long)getpid();
}

int sim_os_not_found_code(void)
{
	return 127;
}

void sim_os_crash(void)
{
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	_exit(128 + SIGSEGV);
}
