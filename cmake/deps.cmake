# Third-party libraries, found with pkg-config. Each becomes an INTERFACE
# target sv::<name>. With SV_STATIC_DEPS (the Windows build) the static flags
# are used so that sysvault.exe carries everything it needs.
find_package(PkgConfig REQUIRED)

function(sv_dep target module)
  pkg_check_modules(SVDEP_${target} REQUIRED ${module})
  add_library(sv_dep_${target} INTERFACE)
  if(SV_STATIC_DEPS)
    target_include_directories(sv_dep_${target} SYSTEM INTERFACE ${SVDEP_${target}_STATIC_INCLUDE_DIRS})
    target_compile_options(sv_dep_${target} INTERFACE ${SVDEP_${target}_STATIC_CFLAGS_OTHER})
    target_link_libraries(sv_dep_${target} INTERFACE ${SVDEP_${target}_STATIC_LDFLAGS})
  else()
    target_include_directories(sv_dep_${target} SYSTEM INTERFACE ${SVDEP_${target}_INCLUDE_DIRS})
    target_compile_options(sv_dep_${target} INTERFACE ${SVDEP_${target}_CFLAGS_OTHER})
    target_link_libraries(sv_dep_${target} INTERFACE ${SVDEP_${target}_LINK_LIBRARIES})
  endif()
  add_library(sv::${target} ALIAS sv_dep_${target})
  set(SV_DEP_VERSION_${target} ${SVDEP_${target}_VERSION} PARENT_SCOPE)
endfunction()

sv_dep(crypto libcrypto>=3.0)
sv_dep(curl libcurl)
sv_dep(sqlite sqlite3)
sv_dep(pcre2 libpcre2-8)
sv_dep(zstd libzstd)
sv_dep(jansson jansson)
if(SV_BUILD_TESTS)
  sv_dep(cmocka cmocka)
endif()

find_package(Threads REQUIRED)
