# cmake/mingw-w64.cmake - cross toolchain for Windows x86_64 with mingw-w64
# (Debian's gcc-mingw-w64-x86-64).
#
#   cmake -S . -B build-win -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake \
#         -DSV_WIN_PREFIX=<prefix from scripts/windows.sh --deps-only>
#
# SV_WIN_PREFIX is the static dependency prefix built by scripts/windows.sh
# (include/, lib/*.a, lib/pkgconfig/*.pc); it may also come from the
# environment variable of the same name.
#
# Compiler variant / thread model:
#   Debian ships two variants of the compiler, x86_64-w64-mingw32-gcc-win32
#   and x86_64-w64-mingw32-gcc-posix; the unsuffixed name is an alternative
#   pointing at one of them. The -win32 variant is used explicitly here (and
#   by the dependency build) so the result does not depend on that
#   alternative:
#     * its libgcc (TLS emulation for _Thread_local, unwinding) talks to the
#       Win32 API directly, so a plain C program needs no winpthread at all;
#       the -posix variant routes those through winpthreads and imports
#       libwinpthread-1.dll unless everything is linked statically;
#     * code that does include <pthread.h> still links, and with -static
#       (below) libwinpthread.a is linked in statically, so no DLL either;
#     * the -posix variant is only needed for C++11 std::thread/std::mutex,
#       which this C project does not use.
#   Static runtime: -static -static-libgcc make the executables import only
#   Windows system DLLs (KERNEL32, msvcrt, ws2_32, ...); no libgcc_s or
#   libwinpthread DLL has to be shipped.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 10.0)
set(CMAKE_SYSTEM_PROCESSOR AMD64)

set(SV_MINGW_TRIPLET x86_64-w64-mingw32)
set(SV_MINGW_SYSROOT /usr/${SV_MINGW_TRIPLET})

find_program(SV_MINGW_CC
    NAMES ${SV_MINGW_TRIPLET}-gcc-win32 ${SV_MINGW_TRIPLET}-gcc
    NO_CMAKE_FIND_ROOT_PATH)
find_program(SV_MINGW_CXX
    NAMES ${SV_MINGW_TRIPLET}-g++-win32 ${SV_MINGW_TRIPLET}-g++
    NO_CMAKE_FIND_ROOT_PATH)
find_program(SV_MINGW_WINDRES
    NAMES ${SV_MINGW_TRIPLET}-windres
    NO_CMAKE_FIND_ROOT_PATH)
if(NOT SV_MINGW_CC)
    message(FATAL_ERROR "${SV_MINGW_TRIPLET}-gcc-win32 not found: install gcc-mingw-w64-x86-64")
endif()
set(CMAKE_C_COMPILER "${SV_MINGW_CC}")
if(SV_MINGW_CXX)
    set(CMAKE_CXX_COMPILER "${SV_MINGW_CXX}")
else()
    # Only needed if a C++ language is enabled (g++-mingw-w64-x86-64-win32).
    set(CMAKE_CXX_COMPILER ${SV_MINGW_TRIPLET}-g++-win32)
endif()
if(SV_MINGW_WINDRES)
    set(CMAKE_RC_COMPILER "${SV_MINGW_WINDRES}")
endif()

# Dependency prefix: from -DSV_WIN_PREFIX, else from the environment.
if(NOT SV_WIN_PREFIX AND DEFINED ENV{SV_WIN_PREFIX})
    set(SV_WIN_PREFIX "$ENV{SV_WIN_PREFIX}")
endif()
if(NOT SV_WIN_PREFIX)
    message(FATAL_ERROR
        "SV_WIN_PREFIX is not set: pass -DSV_WIN_PREFIX=<dir> "
        "(scripts/windows.sh --deps-only prints it)")
endif()
set(SV_WIN_PREFIX "${SV_WIN_PREFIX}" CACHE PATH "Static Windows dependency prefix")
# try_compile() projects re-read this file: hand the prefix down to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SV_WIN_PREFIX)

# Search the dependency prefix and the mingw-w64 sysroot for target files,
# the host for programs.
set(CMAKE_FIND_ROOT_PATH "${SV_WIN_PREFIX}" "${SV_MINGW_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: the host binary, reading only the prefix's .pc files.
find_program(SV_HOST_PKG_CONFIG NAMES pkg-config pkgconf NO_CMAKE_FIND_ROOT_PATH)
if(SV_HOST_PKG_CONFIG)
    set(PKG_CONFIG_EXECUTABLE "${SV_HOST_PKG_CONFIG}" CACHE FILEPATH "pkg-config executable")
endif()
set(ENV{PKG_CONFIG_LIBDIR} "${SV_WIN_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Every dependency in the prefix is a static archive: link with the
# pkg-config --static flags (<PREFIX>_STATIC_CFLAGS / _STATIC_LDFLAGS).
set(SV_STATIC_DEPS ON CACHE BOOL "Link third-party libraries statically (pkg-config --static)")

# Windows 10 / Windows Server 2016 API level, Unicode Win32 API.
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DUNICODE -D_UNICODE")
set(CMAKE_CXX_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DUNICODE -D_UNICODE")
set(CMAKE_RC_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DUNICODE -D_UNICODE")

# Static C runtime pieces: no libgcc_s_seh-1.dll / libwinpthread-1.dll.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -static-libgcc")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -static-libgcc")

# Run target executables (ctest, add_custom_command on built tools) through
# Wine. The caller provides WINEPREFIX/WINEDEBUG (scripts/windows.sh does).
find_program(SV_WINE NAMES wine wine64 NO_CMAKE_FIND_ROOT_PATH)
if(SV_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR "${SV_WINE}")
endif()
