# Makes OUT/v1/image.vhdx and OUT/v2/image.vhdx with mkimage.py, once.
if(EXISTS ${OUT}/v2/image.vhdx)
  return()
endif()
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${PYTHON} ${MKIMAGE} --size 192M --versions 2 --seed 7 ${OUT}/raw
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mkimage.py failed: ${rc}")
endif()
file(MAKE_DIRECTORY ${OUT}/v1 ${OUT}/v2)
file(RENAME ${OUT}/raw/image-v1.vhdx ${OUT}/v1/image.vhdx)
file(RENAME ${OUT}/raw/image-v2.vhdx ${OUT}/v2/image.vhdx)
file(REMOVE_RECURSE ${OUT}/raw)
