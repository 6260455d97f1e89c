# One CMake library per folder, and the folder's tests beside it.
#
# ctcollect_library(NAME
#   [SOURCES file.cc ...]     # none: a header-only (INTERFACE) library
#   [DEPS target ...]         # what the folder uses; the only way to see
#                             # another folder's headers
#   [TESTS file_test.cc ...]  # one unit-test binary, NAME_test, label unit
#   [TEST_DEPS target ...])   # what the tests use beyond the library
#
# Includes are written from the repository root ("collector/flows/x.h"), but
# the root itself is on no include path: each library publishes an include
# tree of its own (build/include/NAME/<folder> -> the source folder), so a
# folder sees only the headers of the libraries it links, and a dependency
# that is not declared does not compile.
function(ctcollect_headers target visibility)
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set(root ${PROJECT_BINARY_DIR}/include/${target})
  get_filename_component(parent ${root}/${folder} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${root}/${folder})
    file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${folder} SYMBOLIC)
  endif()
  target_include_directories(${target} ${visibility} ${root})
endfunction()

function(ctcollect_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;TESTS;TEST_DEPS" ${ARGN})
  if(A_SOURCES)
    add_library(${name} STATIC ${A_SOURCES})
    set(vis PUBLIC)
  else()
    add_library(${name} INTERFACE)
    set(vis INTERFACE)
  endif()
  ctcollect_headers(${name} ${vis})
  target_link_libraries(${name} ${vis} ${A_DEPS})
  if(CTCOLLECT_BUILD_TESTS AND A_TESTS)
    add_executable(${name}_test ${A_TESTS})
    target_link_libraries(${name}_test PRIVATE ${name} ${A_TEST_DEPS}
      GTest::gtest GTest::gtest_main)
    target_compile_definitions(${name}_test PRIVATE
      CTCOLLECT_TESTDATA="${PROJECT_SOURCE_DIR}/tests/testdata"
      CTCOLLECT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    gtest_discover_tests(${name}_test PROPERTIES LABELS unit)
  endif()
endfunction()
