# Compiler warnings and instrumentation shared by every target.
set(SV_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef -Wvla -Wno-unused-parameter)
if(SV_WERROR)
  list(APPEND SV_WARNINGS -Werror)
endif()
add_compile_options(${SV_WARNINGS})

if(WIN32)
  # Windows 10 / Server 2016 APIs, wide-char entry points only.
  add_compile_definitions(_WIN32_WINNT=0x0A00 WINVER=0x0A00 UNICODE _UNICODE
    __USE_MINGW_ANSI_STDIO=1)
else()
  add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE _FILE_OFFSET_BITS=64)
endif()

if(SV_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
