/*
 * sv_test_child.c - a child process for the process-runner tests, the same on
 * every platform:
 *   sv_test_child print <n> <text>     n lines "<text> <i>" on stdout
 *   sv_test_child stderr <text>        one line on stderr
 *   sv_test_child exit <code>          exits with code
 *   sv_test_child sleep <ms>           sleeps, then prints "woke"
 *   sv_test_child spawn-sleep <ms>     starts a sleeping grandchild, sleeps
 *   sv_test_child echo-args <args...>  prints each argument on its own line
 *   sv_test_child env <NAME>           prints the variable's value
 *   sv_test_child crlf                 prints "a\r\nb\r\n" without a final EOL "c"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
static void sleep_ms(long ms) { Sleep((DWORD)ms); }
#else
#include <time.h>
#include <unistd.h>
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}
#endif

static long num(const char *s)
{
	return strtol(s, NULL, 10);
}

static void spawn_sleeper(const char *self, const char *ms)
{
#ifdef _WIN32
	char cmd[1024];
	STARTUPINFOA si;
	PROCESS_INFORMATION pi;

	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	snprintf(cmd, sizeof(cmd), "\"%s\" sleep %s", self, ms);
	if (CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
		printf("grandchild %lu\n", (unsigned long)pi.dwProcessId);
		CloseHandle(pi.hThread);
		CloseHandle(pi.hProcess);
	}
#else
	pid_t pid = fork();

	if (pid == 0) {
		execl(self, self, "sleep", ms, (char *)NULL);
		_exit(127);
	}
	printf("grandchild %ld\n", (long)pid);
#endif
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 64;
	if (!strcmp(argv[1], "print") && argc == 4) {
		for (i = 0; i < num(argv[2]); i++)
			printf("%s %d\n", argv[3], i);
	} else if (!strcmp(argv[1], "stderr") && argc == 3) {
		fprintf(stderr, "%s\n", argv[2]);
	} else if (!strcmp(argv[1], "exit") && argc == 3) {
		return (int)num(argv[2]);
	} else if (!strcmp(argv[1], "sleep") && argc == 3) {
		sleep_ms(num(argv[2]));
		printf("woke\n");
	} else if (!strcmp(argv[1], "spawn-sleep") && argc == 3) {
		spawn_sleeper(argv[0], argv[2]);
		sleep_ms(num(argv[2]));
	} else if (!strcmp(argv[1], "echo-args")) {
		for (i = 2; i < argc; i++)
			printf("%s\n", argv[i]);
	} else if (!strcmp(argv[1], "env") && argc == 3) {
		const char *v = getenv(argv[2]);
		printf("%s\n", v ? v : "(unset)");
	} else if (!strcmp(argv[1], "crlf")) {
		fputs("a\r\nb\r\nc", stdout);
	} else {
		return 64;
	}
	return 0;
}
