# ctest doc_examples_present (tests/doc_examples/CMakeLists.txt): fails listing what the configure
# step found wrong with the doc examples (PROBLEMS): a required example without its marker, a
# ```cpp block without a marker, a malformed marker.
if(PROBLEMS)
  message(FATAL_ERROR "doc examples: ${PROBLEMS}")
endif()
message(STATUS "every required doc example is present and every C++ block in the docs is tested")
