# Makes OUT/v1 .. OUT/v<VERSIONS>/image.vhdx of SIZE with mkimage.py, once:
# small system-state-shaped images for tests that run many times over them.
if(EXISTS ${OUT}/v${VERSIONS}/image.vhdx)
  return()
endif()
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${PYTHON} ${MKIMAGE} --size ${SIZE} --versions ${VERSIONS}
  --seed ${SEED} ${OUT}/raw RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mkimage.py failed: ${rc}")
endif()
foreach(v RANGE 1 ${VERSIONS})
  file(MAKE_DIRECTORY ${OUT}/v${v})
  file(RENAME ${OUT}/raw/image-v${v}.vhdx ${OUT}/v${v}/image.vhdx)
endforeach()
file(REMOVE_RECURSE ${OUT}/raw)
