/*
 * install_posix.c - there is no Windows installer here: a distribution's
 * package owns PATH and the state directory.
 */
#include "install.h"
#include "sv_error.h"

static int none(const char *what)
{
	return sv_error_set(SV_ENOTSUPPORTED, "%s is done by the Windows installer only; "
			    "install sysvault with the system's package manager here", what);
}

int sv_install_path_add(const char *dir)
{
	(void)dir;
	return none("adding to the machine PATH");
}

int sv_install_path_remove(const char *dir)
{
	(void)dir;
	return none("removing from the machine PATH");
}

int sv_install_secure_dir(const char *dir)
{
	(void)dir;
	return none("securing the state directory");
}

int sv_install_exe_dir(char **out)
{
	*out = NULL;
	return none("finding the installed executable");
}
