# The differential test of the logic module against json-logic-js (included by the top-level
# CMakeLists.txt when present).

set(LOYALTY_NODE_MODULES "${PROJECT_SOURCE_DIR}/tests/node_modules"
    CACHE PATH "node_modules folder holding json-logic-js for the differential test")
find_program(LOYALTY_NODE_EXECUTABLE NAMES node nodejs DOC "Node.js for the differential test")

add_executable(jsonlogic_differential ${CMAKE_CURRENT_LIST_DIR}/jsonlogic_differential.cpp)
target_link_libraries(jsonlogic_differential PRIVATE loyalty_core loyalty_warnings)

add_test(NAME jsonlogic_differential
         COMMAND ${CMAKE_COMMAND}
                 "-DNODE=${LOYALTY_NODE_EXECUTABLE}"
                 "-DNODE_MODULES=${LOYALTY_NODE_MODULES}"
                 "-DRUNNER=${CMAKE_CURRENT_LIST_DIR}/run_reference.js"
                 "-DCORPUS=${CMAKE_CURRENT_LIST_DIR}/jsonlogic_corpus.json"
                 "-DOUTPUT=${CMAKE_CURRENT_BINARY_DIR}/jsonlogic_reference.json"
                 "-DCOMPARER=$<TARGET_FILE:jsonlogic_differential>"
                 -P ${CMAKE_CURRENT_LIST_DIR}/run_differential.cmake)
