# ctest entry test_names_are_ctest_safe: every Catch test name must be usable as one ctest name.
# catch_discover_tests keeps names in a CMake list: a ';' in a name splits it, and an unmatched
# '[' makes CMake ignore the separators up to the next ']'. Either way following test cases merge
# into one entry that runs nothing ("No tests ran") and passes. Both are refused here.
# Usage: cmake -DEXE=<gs_tests> -P check_test_names.cmake
cmake_policy(SET CMP0007 NEW)
# (Catch's exit status here is the number of tests listed, so the output is what gets checked.)
execute_process(COMMAND ${EXE} --list-test-names-only OUTPUT_VARIABLE names)
if(NOT names MATCHES "[a-z]")
  message(FATAL_ERROR "${EXE} --list-test-names-only listed no tests")
endif()
# protect the characters CMake's list handling treats specially before splitting into lines
string(REPLACE ";" "<SC>" names "${names}")
string(REPLACE "[" "<LB>" names "${names}")
string(REPLACE "]" "<RB>" names "${names}")
string(REPLACE "\n" ";" lines "${names}")
set(bad "")
foreach(line IN LISTS lines)
  string(REGEX MATCHALL "<LB>" opens "${line}")
  string(REGEX MATCHALL "<RB>" closes "${line}")
  list(LENGTH opens n_open)
  list(LENGTH closes n_close)
  if(line MATCHES "<SC>" OR NOT n_open EQUAL n_close)
    string(APPEND bad "\n  ${line}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "test names with ';' (<SC>) or unmatched brackets (<LB> <RB>); ctest would merge "
                      "and skip test cases:${bad}")
endif()
list(LENGTH lines n)
message(STATUS "${n} test names checked")
