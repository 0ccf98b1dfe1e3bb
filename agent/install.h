/*
 * install.h - what the Windows installer (packaging/windows/sysvault.wxs)
 * cannot do with the tables wixl writes, done by sysvault.exe itself from
 * the installer's custom actions: the machine PATH entry and the state
 * directory's ACL. install_win.c does it; install_posix.c answers
 * SV_ENOTSUPPORTED (a package manager owns PATH and /var/lib there).
 */
#ifndef SV_INSTALL_H
#define SV_INSTALL_H

/*
 * Appends dir to the machine PATH (HKLM\SYSTEM\CurrentControlSet\Control\
 * Session Manager\Environment, REG_EXPAND_SZ kept) unless an entry equal
 * to it (case-insensitive, trailing backslash ignored) is there, then
 * tells running programs that the environment changed.
 */
int sv_install_path_add(const char *dir);

/* Removes every entry equal to dir from the machine PATH; absent is ok. */
int sv_install_path_remove(const char *dir);

/*
 * Creates dir if needed and gives it a protected DACL: full control for
 * SYSTEM and Administrators only, inherited by everything below it.
 */
int sv_install_secure_dir(const char *dir);

/* The directory holding the running sysvault executable (UTF-8, no
 * trailing separator). Caller frees *out. */
int sv_install_exe_dir(char **out);

#endif
