# shellcheck shell=bash
#
# scripts/lib/win-deps.sh - third-party libraries for the Windows x86_64 build.
#
# Sourced by scripts/windows.sh (not meant to be run on its own). It expects
# the caller to provide sv_msg, sv_warn and sv_die, and to run under
# `set -euo pipefail`.
#
# What it does:
#   * resolves which Debian source package version of each library to build:
#     the version of the Linux -dev package installed on this machine when the
#     archive still carries it, otherwise another Debian revision of the same
#     upstream version, otherwise the newest one of the same upstream series
#     (e.g. OpenSSL 3.0.x), with a warning;
#   * fetches the upstream (orig) tarballs through a private apt configuration
#     (own sources.list with deb-src entries, own lists and cache), leaving the
#     machine's /etc/apt untouched; Debian patches are not applied;
#   * cross-compiles static libraries with mingw-w64 into a prefix cached
#     outside the clone:
#       ${XDG_CACHE_HOME:-$HOME/.cache}/sysvault/win64-<hash>
#     where <hash> covers the resolved versions, the content of this file
#     (which alone decides how the libraries are built; windows.sh can change
#     without a rebuild) and the compiler/CRT versions. A stamp file written last
#     marks a complete prefix; a complete prefix is reused as is.
#
# Public entry point: sv_deps_ensure  (sets SV_WIN_PREFIX)

SV_TRIPLET=x86_64-w64-mingw32
# The win32 thread-model compiler variant is used on purpose (see the comment
# in cmake/mingw-w64.cmake): it needs no winpthread DLL for TLS or libgcc.
SV_CC="${SV_TRIPLET}-gcc-win32"
SV_DEPS_FORMAT=1

SV_CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/sysvault"
SV_APT_DIR="$SV_CACHE_ROOT/apt"
SV_SRC_CACHE="$SV_CACHE_ROOT/sources"

# Debian source packages, in build order.
SV_DEPS=(openssl curl sqlite3 pcre2 libzstd jansson cmocka)

# Linux -dev packages whose installed version pins the source version.
declare -A SV_DEP_DEVPKGS=(
    [openssl]="libssl-dev"
    [curl]="libcurl4-openssl-dev libcurl4-gnutls-dev libcurl4-nss-dev"
    [sqlite3]="libsqlite3-dev"
    [pcre2]="libpcre2-dev"
    [libzstd]="libzstd-dev"
    [jansson]="libjansson-dev"
    [cmocka]="libcmocka-dev"
)

# pkg-config modules each build must leave in <prefix>/lib/pkgconfig.
declare -A SV_DEP_PCS=(
    [openssl]="libcrypto libssl openssl"
    [curl]="libcurl"
    [sqlite3]="sqlite3"
    [pcre2]="libpcre2-8"
    [libzstd]="libzstd"
    [jansson]="jansson"
    [cmocka]="cmocka"
)

declare -A SV_DEP_WANT=()    # version of the installed -dev package (or empty)
declare -A SV_DEP_FROM=()    # which -dev package gave it
declare -A SV_DEP_VER=()     # resolved source version to build
declare -A SV_DEP_NOTE=()    # why a different version was chosen

SV_JOBS="${SYSVAULT_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# --------------------------------------------------------------------------
# Private apt configuration
# --------------------------------------------------------------------------

sv_apt_opts() {
    SV_APT_OPTS=(
        -o "Dir::Etc::SourceList=$SV_APT_DIR/sources.list"
        -o "Dir::Etc::SourceParts=$SV_APT_DIR/sources.list.d"
        -o "Dir::State::Lists=$SV_APT_DIR/lists"
        -o "Dir::Cache=$SV_APT_DIR/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Get::List-Cleanup=true"
        -o "Debug::NoLocking=true"
        -o "Acquire::Languages=none"
    )
    # Downloads land in our own cache directory, which the unprivileged
    # _apt sandbox user cannot write to; everything fetched is checked
    # against the signed index anyway.
    if [[ $EUID -eq 0 ]]; then
        SV_APT_OPTS+=(-o "APT::Sandbox::User=root")
    fi
}

sv_apt() { apt-get "${SV_APT_OPTS[@]}" "$@"; }
sv_apt_cache() { apt-cache "${SV_APT_OPTS[@]}" "$@"; }

# Write a sources.list with deb-src entries mirroring the machine's Debian
# entries for <codename>, <codename>-updates and <codename>-security.
sv_apt_write_sources() {
    local codename="" keyring="" line target uri release comp
    if [[ -r /etc/os-release ]]; then
        codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    fi
    codename="${codename:-bookworm}"
    if [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
        keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    fi

    local -A comps=()
    local -a order=()
    # shellcheck disable=SC2016 # apt's own $(FIELD) syntax, not a substitution
    local fmt='$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)'
    while read -r target uri release comp; do
        [[ $target == deb ]] || continue
        case "$release" in
            "$codename" | "$codename-updates" | "$codename-security") ;;
            *) continue ;;
        esac
        line="$uri $release"
        if [[ -z ${comps[$line]+x} ]]; then
            order+=("$line")
            comps[$line]="$comp"
        elif [[ " ${comps[$line]} " != *" $comp "* ]]; then
            comps[$line]+=" $comp"
        fi
    done < <(apt-get indextargets --format "$fmt" 2>/dev/null | sort -u)

    mkdir -p "$SV_APT_DIR/sources.list.d" "$SV_APT_DIR/lists/partial" \
             "$SV_APT_DIR/cache/archives/partial"
    {
        echo "# generated by scripts/windows.sh - source packages only"
        if [[ ${#order[@]} -gt 0 ]]; then
            for line in "${order[@]}"; do
                echo "deb-src ${keyring}${line% *} ${line##* } ${comps[$line]}"
            done
        else
            echo "deb-src ${keyring}http://deb.debian.org/debian $codename main"
            echo "deb-src ${keyring}http://deb.debian.org/debian $codename-updates main"
            echo "deb-src ${keyring}http://deb.debian.org/debian-security $codename-security main"
        fi
    } > "$SV_APT_DIR/sources.list.new"
    if ! cmp -s "$SV_APT_DIR/sources.list.new" "$SV_APT_DIR/sources.list" 2>/dev/null; then
        mv -f "$SV_APT_DIR/sources.list.new" "$SV_APT_DIR/sources.list"
        rm -f "$SV_APT_DIR/lists/.updated"
    else
        rm -f "$SV_APT_DIR/sources.list.new"
    fi
}

SV_APT_UPDATED=0

sv_apt_update() {
    local log="$SV_APT_DIR/update.log"
    [[ $SV_APT_UPDATED == 1 ]] && return 0
    if ! sv_apt update >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        sv_die "apt-get update (private deb-src configuration) failed; see $log"
    fi
    touch "$SV_APT_DIR/lists/.updated"
    SV_APT_UPDATED=1
}

# --------------------------------------------------------------------------
# Version resolution
# --------------------------------------------------------------------------

sv_upstream_version() {    # strip epoch and Debian revision
    local v="${1#*:}"
    [[ $v == *-* ]] && v="${v%-*}"
    echo "$v"
}

sv_upstream_series() {     # 3.0.19 -> 3.0
    sv_upstream_version "$1" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/'
}

sv_version_max() {         # newest of the arguments (dpkg ordering)
    local best="" v
    for v in "$@"; do
        if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then
            best="$v"
        fi
    done
    echo "$best"
}

sv_available_versions() {  # source versions the private lists carry
    sv_apt_cache showsrc --only-source "$1" 2>/dev/null |
        awk -v p="$1" '/^Package: /{pkg=$2} /^Version: /{if (pkg==p) print $2}' |
        sort -u
}

sv_installed_wants() {
    local src pkg st ver
    for src in "${SV_DEPS[@]}"; do
        SV_DEP_WANT[$src]=""
        SV_DEP_FROM[$src]=""
        for pkg in ${SV_DEP_DEVPKGS[$src]}; do
            st="$(dpkg-query -W -f '${db:Status-Abbrev}|${source:Version}' "$pkg" 2>/dev/null || true)"
            if [[ $st == ii* ]]; then
                ver="${st#*|}"
                SV_DEP_WANT[$src]="$ver"
                SV_DEP_FROM[$src]="$pkg"
                break
            fi
        done
    done
}

# Fill SV_DEP_VER from the private lists; returns 1 if something is missing.
sv_resolve_versions() {
    local src want up series v best
    local -a avail same
    for src in "${SV_DEPS[@]}"; do
        mapfile -t avail < <(sv_available_versions "$src")
        SV_DEP_VER[$src]=""
        SV_DEP_NOTE[$src]=""
        [[ ${#avail[@]} -gt 0 ]] || return 1
        want="${SV_DEP_WANT[$src]}"
        if [[ -z $want ]]; then
            SV_DEP_VER[$src]="$(sv_version_max "${avail[@]}")"
            SV_DEP_NOTE[$src]="no Linux -dev package installed; newest source"
            continue
        fi
        for v in "${avail[@]}"; do
            if [[ $v == "$want" ]]; then SV_DEP_VER[$src]="$v"; fi
        done
        [[ -n ${SV_DEP_VER[$src]} ]] && continue
        up="$(sv_upstream_version "$want")"
        same=()
        for v in "${avail[@]}"; do
            [[ $(sv_upstream_version "$v") == "$up" ]] && same+=("$v")
        done
        if [[ ${#same[@]} -gt 0 ]]; then
            SV_DEP_VER[$src]="$(sv_version_max "${same[@]}")"
            SV_DEP_NOTE[$src]="${SV_DEP_FROM[$src]} $want not in the archive; same upstream"
            continue
        fi
        series="$(sv_upstream_series "$want")"
        same=()
        for v in "${avail[@]}"; do
            [[ $(sv_upstream_series "$v") == "$series" ]] && same+=("$v")
        done
        if [[ ${#same[@]} -gt 0 ]]; then
            SV_DEP_VER[$src]="$(sv_version_max "${same[@]}")"
            SV_DEP_NOTE[$src]="${SV_DEP_FROM[$src]} $want not in the archive; newest of the $series series"
            continue
        fi
        sv_die "$src: no source version matching ${SV_DEP_FROM[$src]} $want (series $series) in the archive (have: ${avail[*]})"
    done
    return 0
}

# --------------------------------------------------------------------------
# Cache key
# --------------------------------------------------------------------------

sv_hash_inputs() {
    local src p
    echo "sysvault-win64-deps format $SV_DEPS_FORMAT"
    for src in "${SV_DEPS[@]}"; do
        echo "source $src ${SV_DEP_VER[$src]}"
    done
    echo "script lib/win-deps.sh $(sha256sum < "$SV_SCRIPT_DIR/lib/win-deps.sh" | cut -c1-64)"
    echo "compiler $("$SV_CC" --version | head -n 1)"
    echo "compiler-target $("$SV_CC" -dumpmachine)"
    for p in gcc-mingw-w64-x86-64-win32 mingw-w64-x86-64-dev binutils-mingw-w64-x86-64; do
        echo "package $p $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo none)"
    done
}

sv_compute_prefix() {
    SV_HASH_TEXT="$(sv_hash_inputs)"
    SV_DEPS_HASH="$(printf '%s\n' "$SV_HASH_TEXT" | sha256sum | cut -c1-12)"
    SV_WIN_PREFIX="$SV_CACHE_ROOT/win64-$SV_DEPS_HASH"
    SV_STAMP="$SV_WIN_PREFIX/share/sysvault-deps/complete"
}

# --------------------------------------------------------------------------
# Fetching upstream sources
# --------------------------------------------------------------------------

# sv_fetch_orig SRC VERSION -> prints the path of the verified orig tarball.
# Only the upstream tarball is fetched (no .dsc/Debian diff is needed since
# the Debian patches are not applied).
sv_fetch_orig() {
    local src="$1" ver="$2" up uri file _size hash found=""
    up="$(sv_upstream_version "$ver")"
    mkdir -p "$SV_SRC_CACHE"
    while read -r uri file _size hash; do
        uri="${uri#\'}"
        uri="${uri%\'}"
        [[ $file =~ ^${src}_${up//+/\\+}\.orig\.tar\.[a-z0-9]+$ ]] || continue
        found="$SV_SRC_CACHE/$file"
        local want_sha="${hash#SHA256:}"
        if [[ -f $found ]] && [[ $(sha256sum < "$found" | cut -c1-64) == "$want_sha" ]]; then
            break
        fi
        rm -f "$found.part"
        if ! /usr/lib/apt/apt-helper "${SV_APT_OPTS[@]}" download-file \
                "$uri" "$found.part" "$hash" >"$SV_SRC_CACHE/$file.log" 2>&1; then
            cat "$SV_SRC_CACHE/$file.log" >&2
            sv_die "$src: download of $uri failed"
        fi
        [[ $(sha256sum < "$found.part" | cut -c1-64) == "$want_sha" ]] ||
            sv_die "$src: checksum mismatch for $file"
        mv -f "$found.part" "$found"
        rm -f "$SV_SRC_CACHE/$file.log"
        break
    done < <(sv_apt source --print-uris --only-source "$src=$ver" 2>/dev/null | grep "^'" || true)
    [[ -n $found ]] || sv_die "$src: apt-get source lists no upstream tarball for $ver"
    echo "$found"
}

sv_extract() {   # sv_extract TARBALL DIR
    rm -rf "$2"
    mkdir -p "$2"
    tar -xf "$1" -C "$2" --strip-components=1
}

# --------------------------------------------------------------------------
# Per-library builds. Each runs in a subshell with stdout/stderr sent to the
# library's log. $1 = source dir, $2 = prefix.
# --------------------------------------------------------------------------

sv_autotools_common() {
    # Variables handed to configure scripts.
    SV_AC_VARS=(
        "CC=$SV_CC"
        "AR=${SV_TRIPLET}-ar"
        "RANLIB=${SV_TRIPLET}-ranlib"
        "STRIP=${SV_TRIPLET}-strip"
        "NM=${SV_TRIPLET}-nm"
        "RC=${SV_TRIPLET}-windres"
        "WINDRES=${SV_TRIPLET}-windres"
        "CFLAGS=-O2"
    )
}

sv_cross_env() {
    # Never let a build see the host's .pc files.
    export PKG_CONFIG_LIBDIR="$1/lib/pkgconfig"
    export PKG_CONFIG_PATH=""
    unset PKG_CONFIG_SYSROOT_DIR CC CXX CPP AR RANLIB CFLAGS CPPFLAGS CXXFLAGS LDFLAGS LIBS
}

sv_build_openssl() {
    local s="$1" p="$2"
    sv_cross_env "$p"
    cd "$s"
    # 3.0 has no no-apps/no-docs switches: only the libraries are built
    # (build_libs) and only development files installed (install_dev).
    # no-module puts the legacy provider inside libcrypto, so nothing is
    # ever loaded from a DLL at run time.
    perl ./Configure mingw64 \
        --cross-compile-prefix="${SV_TRIPLET}-" \
        CC="${SV_CC#"${SV_TRIPLET}"-}" \
        --prefix="$p" --libdir=lib --openssldir="$p/ssl" \
        no-shared no-module no-tests \
        CFLAGS="-O2 -Wall"
    make -j"$SV_JOBS" build_libs
    make install_dev
}

sv_build_curl() {
    local s="$1" p="$2" b
    sv_cross_env "$p"
    sv_autotools_common
    b="$s/_build"
    mkdir -p "$b"
    cd "$b"
    ../configure --host="$SV_TRIPLET" --build="$(gcc -dumpmachine)" \
        --prefix="$p" --disable-shared --enable-static \
        --with-schannel --enable-sspi --disable-pthreads --enable-threaded-resolver \
        --without-openssl --without-gnutls --without-mbedtls --without-wolfssl \
        --without-bearssl --without-rustls --without-hyper \
        --without-zlib --without-brotli --without-zstd \
        --without-libssh2 --without-libssh --without-wolfssh \
        --without-nghttp2 --without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3 \
        --without-libidn2 --without-winidn --without-libpsl --without-libgsasl \
        --without-librtmp --disable-ldap --disable-ldaps \
        --without-ca-bundle --without-ca-path \
        --disable-manual --disable-dependency-tracking \
        "${SV_AC_VARS[@]}"
    make -j"$SV_JOBS" -C lib
    make -C lib install
    make -C include install
    make install-pkgconfigDATA
    grep -q -- '-DCURL_STATICLIB' "$p/lib/pkgconfig/libcurl.pc" ||
        { echo "libcurl.pc lacks -DCURL_STATICLIB"; return 1; }
    grep -q -- '-lws2_32' "$p/lib/pkgconfig/libcurl.pc" ||
        { echo "libcurl.pc lacks the Windows system libraries"; return 1; }
}

sv_build_sqlite3() {
    local s="$1" p="$2" ver
    sv_cross_env "$p"
    # The Debian orig tarball is the full source tree: generate the
    # amalgamation with host tools (needs tclsh and a host C compiler),
    # then cross-compile that single file.
    mkdir -p "$s/_host"
    (
        cd "$s/_host"
        env CC=gcc CFLAGS=-O2 ../configure --disable-tcl --disable-readline \
            --disable-shared --disable-dependency-tracking
        make sqlite3.c sqlite3.h
    )
    ver="$(cat "$s/VERSION")"
    mkdir -p "$s/_win"
    cd "$s/_win"
    "$SV_CC" -O2 -DSQLITE_THREADSAFE=1 -I"$s/_host" -c "$s/_host/sqlite3.c" -o sqlite3.o
    rm -f libsqlite3.a
    "${SV_TRIPLET}-ar" rcs libsqlite3.a sqlite3.o
    install -d "$p/include" "$p/lib/pkgconfig"
    install -m 644 "$s/_host/sqlite3.h" "$s/src/sqlite3ext.h" "$p/include/"
    install -m 644 libsqlite3.a "$p/lib/"
    cat > "$p/lib/pkgconfig/sqlite3.pc" <<EOF
prefix=$p
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: SQLite
Description: SQL database engine
Version: $ver
Libs: -L\${libdir} -lsqlite3
Libs.private:
Cflags: -I\${includedir}
EOF
}

sv_build_pcre2() {
    local s="$1" p="$2" b
    sv_cross_env "$p"
    sv_autotools_common
    b="$s/_build"
    mkdir -p "$b"
    cd "$b"
    ../configure --host="$SV_TRIPLET" --build="$(gcc -dumpmachine)" \
        --prefix="$p" --disable-shared --enable-static \
        --enable-pcre2-8 --disable-pcre2-16 --disable-pcre2-32 --enable-jit \
        --disable-pcre2grep-libz --disable-pcre2grep-libbz2 \
        --disable-pcre2test-libreadline --disable-pcre2test-libedit \
        --disable-dependency-tracking \
        "${SV_AC_VARS[@]}"
    make -j"$SV_JOBS" libpcre2-8.la libpcre2-posix.la
    make install-libLTLIBRARIES install-includeHEADERS install-nodist_includeHEADERS \
        install-pkgconfigDATA
    grep -q -- '-DPCRE2_STATIC' "$p/lib/pkgconfig/libpcre2-8.pc" ||
        { echo "libpcre2-8.pc lacks -DPCRE2_STATIC"; return 1; }
}

sv_build_libzstd() {
    local s="$1" p="$2"
    sv_cross_env "$p"
    cd "$s/lib"
    # Multi-threaded static library; on Windows zstd uses native Win32
    # threads, so nothing links against winpthread (hence the empty
    # LDFLAGS_DYNLIB, which would otherwise put -pthread in libzstd.pc).
    local -a mk=(
        "CC=$SV_CC" "AR=${SV_TRIPLET}-ar" "RANLIB=${SV_TRIPLET}-ranlib"
        "CFLAGS=-O2" "TARGET_SYSTEM=Windows_NT" "LDFLAGS_DYNLIB="
        "PREFIX=$p" "LIBDIR=$p/lib" "INCLUDEDIR=$p/include"
    )
    make -j"$SV_JOBS" libzstd.a-mt "${mk[@]}"
    make install-static install-includes install-pc "${mk[@]}"
}

sv_write_cmake_toolchain() {   # minimal toolchain for building the deps
    cat > "$1" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER $SV_CC)
set(CMAKE_RC_COMPILER ${SV_TRIPLET}-windres)
set(CMAKE_FIND_ROOT_PATH "$2" /usr/${SV_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
}

sv_cmake_dep() {   # sv_cmake_dep SRC BUILD PREFIX [cmake args...]
    local s="$1" b="$2" p="$3"
    shift 3
    sv_write_cmake_toolchain "$b.toolchain.cmake" "$p"
    cmake -S "$s" -B "$b" -G Ninja \
        -DCMAKE_TOOLCHAIN_FILE="$b.toolchain.cmake" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
        -DCMAKE_INSTALL_PREFIX="$p" \
        "$@"
}

sv_build_jansson() {
    local s="$1" p="$2"
    sv_cross_env "$p"
    sv_cmake_dep "$s" "$s/_build" "$p" \
        -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_BUILD_DOCS=OFF \
        -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_INSTALL=ON \
        -DJANSSON_INSTALL_CMAKE_DIR:STRING=lib/cmake/jansson
    cmake --build "$s/_build" -j "$SV_JOBS"
    cmake --install "$s/_build"
}

sv_build_cmocka() {
    local s="$1" p="$2" ver
    sv_cross_env "$p"
    # cmocka 1.1.x always builds a DLL as well; only the static archive
    # (cmocka-static) is built and it is installed as libcmocka.a with a
    # cmocka.pc written for static linking.
    sv_cmake_dep "$s" "$s/_build" "$p" \
        -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF \
        -DPICKY_DEVELOPER=OFF
    cmake --build "$s/_build" -j "$SV_JOBS" --target cmocka-static
    ver="$(sed -n 's/^project(cmocka VERSION \([0-9.]*\).*/\1/p' "$s/CMakeLists.txt")"
    install -d "$p/include" "$p/lib/pkgconfig"
    install -m 644 "$s/include/cmocka.h" "$s/include/cmocka_pbc.h" "$p/include/"
    install -m 644 "$(find "$s/_build" -name 'libcmocka-static.a' | head -n 1)" "$p/lib/libcmocka.a"
    cat > "$p/lib/pkgconfig/cmocka.pc" <<EOF
prefix=$p
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: cmocka
Description: The cmocka unit testing library
Version: ${ver:-1.1}
Libs: -L\${libdir} -lcmocka
Cflags: -I\${includedir}
EOF
}

# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

# The .pc file exists and every -I/-L it yields is a directory in the prefix.
sv_check_pc() {
    local pc="$1" flag dir
    [[ -f $SV_WIN_PREFIX/lib/pkgconfig/$pc.pc ]] || { echo "missing $pc.pc after install"; return 1; }
    for flag in $(PKG_CONFIG_LIBDIR="$SV_WIN_PREFIX/lib/pkgconfig" PKG_CONFIG_PATH="" \
                  pkg-config --static --cflags --libs "$pc"); do
        case "$flag" in
            -I* | -L*) dir="${flag:2}" ;;
            *) continue ;;
        esac
        if [[ $dir != "$SV_WIN_PREFIX"/* || ! -d $dir ]]; then
            echo "$pc.pc: $flag is not a directory inside $SV_WIN_PREFIX"
            return 1
        fi
    done
}

sv_deps_build_all() {
    local work="$SV_CACHE_ROOT/work-$SV_DEPS_HASH" src ver orig t0 rc pc
    local logs="$work/logs"
    rm -rf "$work" "$SV_WIN_PREFIX"
    mkdir -p "$logs" "$SV_WIN_PREFIX/include" "$SV_WIN_PREFIX/lib/pkgconfig" \
             "$SV_WIN_PREFIX/share/sysvault-deps"
    sv_msg "building Windows dependencies into $SV_WIN_PREFIX"
    sv_msg "  (work dir $work, $SV_JOBS jobs)"
    for src in "${SV_DEPS[@]}"; do
        ver="${SV_DEP_VER[$src]}"
        t0=$SECONDS
        orig="$(sv_fetch_orig "$src" "$ver")" || exit 1
        sv_extract "$orig" "$work/$src"
        # errexit must be live inside the subshell: run it outside any
        # `||`/`if` context and collect the status by hand.
        set +e
        (
            set -euo pipefail
            cd "$work/$src"
            set -x
            "sv_build_$src" "$work/$src" "$SV_WIN_PREFIX"
        ) >"$logs/$src.log" 2>&1 </dev/null
        rc=$?
        set -e
        if [[ $rc -eq 0 ]]; then
            for pc in ${SV_DEP_PCS[$src]}; do
                sv_check_pc "$pc" >>"$logs/$src.log" 2>&1 || rc=1
            done
        fi
        if [[ $rc -ne 0 ]]; then
            printf '  %-8s %-24s FAILED after %ds (log: %s)\n' \
                "$src" "$ver" $((SECONDS - t0)) "$logs/$src.log" >&2
            echo "----- last lines of $logs/$src.log -----" >&2
            tail -n 40 "$logs/$src.log" >&2
            echo "-----" >&2
            sv_die "building the Windows dependencies failed (work dir kept: $work)"
        fi
        printf '  %-8s %-24s ok (%ds)\n' "$src" "$ver" $((SECONDS - t0)) >&2
        printf '%s %s %s sha256:%s\n' "$src" "$ver" "$(basename "$orig")" \
            "$(sha256sum < "$orig" | cut -c1-64)" >>"$SV_WIN_PREFIX/share/sysvault-deps/sources.txt"
    done

    # Keep the logs next to the result; drop the build trees.
    rm -rf "$SV_WIN_PREFIX/share/sysvault-deps/logs"
    mv "$logs" "$SV_WIN_PREFIX/share/sysvault-deps/logs"
    rm -rf "$work"
    # Import libraries or DLLs must not sneak in: the prefix is static only.
    find "$SV_WIN_PREFIX" \( -name '*.dll' -o -name '*.dll.a' -o -name '*.la' \) -delete
    find "$SV_WIN_PREFIX" -mindepth 1 -type d -empty -delete
    printf '%s\n' "$SV_HASH_TEXT" >"$SV_WIN_PREFIX/share/sysvault-deps/hash-inputs.txt"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$SV_STAMP"
}

sv_deps_print_resolution() {
    local src
    for src in "${SV_DEPS[@]}"; do
        if [[ -n ${SV_DEP_NOTE[$src]} ]]; then
            sv_warn "$src: using ${SV_DEP_VER[$src]} (${SV_DEP_NOTE[$src]})"
        fi
    done
}

# sv_deps_ensure [refresh]  ->  SV_WIN_PREFIX, SV_DEPS_HASH
sv_deps_ensure() {
    local refresh="${1:-0}"
    command -v "$SV_CC" >/dev/null || sv_die "$SV_CC not found (gcc-mingw-w64-x86-64-win32)"
    sv_apt_opts
    mkdir -p "$SV_CACHE_ROOT"
    sv_apt_write_sources
    sv_installed_wants

    # Resolve against the cached private lists when they exist, so that a
    # complete prefix is found without touching the network.
    if [[ $refresh == 1 || ! -f $SV_APT_DIR/lists/.updated ]]; then
        sv_apt_update
    fi
    if ! sv_resolve_versions; then
        SV_APT_UPDATED=0
        sv_apt_update
        sv_resolve_versions || sv_die "source packages not found in the private deb-src lists ($SV_APT_DIR/sources.list)"
    fi
    sv_compute_prefix
    if [[ -f $SV_STAMP ]]; then
        sv_deps_print_resolution
        sv_msg "Windows dependencies: cached prefix $SV_WIN_PREFIX"
        return 0
    fi

    # Cold build: refresh the lists first (unless done in this run) so the
    # newest matching revision (e.g. a security update) is used, then take a
    # lock for this prefix.
    if [[ $SV_APT_UPDATED != 1 ]]; then
        sv_apt_update
        sv_resolve_versions || sv_die "source packages vanished from the deb-src lists"
        sv_compute_prefix
    fi
    sv_deps_print_resolution
    exec 9>"$SV_WIN_PREFIX.lock"
    if ! flock -n 9; then
        sv_msg "waiting for another build of $SV_WIN_PREFIX"
        flock 9
    fi
    if [[ -f $SV_STAMP ]]; then
        sv_msg "Windows dependencies: cached prefix $SV_WIN_PREFIX"
    else
        sv_deps_build_all
    fi
    exec 9>&-
}
