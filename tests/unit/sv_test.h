/*
 * sv_test.h - what every cmocka test file includes.
 */
#ifndef SV_TEST_H
#define SV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Asserts rc == 0, printing the sv_error message when it is not. */
#define sv_assert_ok(expr) do { \
	int sv_rc_ = (expr); \
	if (sv_rc_ != 0) \
		print_error("%s: %d: %s\n", #expr, sv_rc_, sv_error_msg()); \
	assert_int_equal(sv_rc_, 0); \
} while (0)

/* A fresh empty directory for one test, under the temp directory; caller
 * removes it with sv_fs_remove_tree() and frees the string. */
char *sv_test_tmpdir(const char *tag);

/* The path of a program built into the test bin directory ($SV_TEST_BIN_DIR,
 * set by ctest), with ".exe" on Windows. Caller frees. */
char *sv_test_bin(const char *name);

#endif
