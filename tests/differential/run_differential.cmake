# Runs the differential test: json-logic-js evaluates the corpus (run_reference.js), then our
# comparer evaluates it again and reports every disagreement. Invoked by ctest with
#   -DNODE=... -DNODE_MODULES=... -DRUNNER=... -DCORPUS=... -DOUTPUT=... -DCOMPARER=...
# Missing Node or a missing json-logic-js is a failure, not a skip: the comparison is the point.

if(NOT NODE OR NODE MATCHES "NOTFOUND$" OR NOT EXISTS "${NODE}")
  message(FATAL_ERROR "jsonlogic_differential: Node.js was not found (LOYALTY_NODE_EXECUTABLE="
                      "'${NODE}'); install node, or set LOYALTY_NODE_EXECUTABLE")
endif()
if(NOT EXISTS "${NODE_MODULES}/json-logic-js/logic.js")
  message(FATAL_ERROR "jsonlogic_differential: json-logic-js is not installed in "
                      "${NODE_MODULES} (LOYALTY_NODE_MODULES); run `npm ci` in tests/ "
                      "(scripts/test does this)")
endif()

execute_process(COMMAND "${NODE}" "${RUNNER}" "${CORPUS}" "${OUTPUT}" "${NODE_MODULES}"
                RESULT_VARIABLE node_result)
if(NOT node_result EQUAL 0)
  message(FATAL_ERROR "jsonlogic_differential: the reference runner failed (${node_result})")
endif()

execute_process(COMMAND "${COMPARER}" "${CORPUS}" "${OUTPUT}" RESULT_VARIABLE compare_result)
if(NOT compare_result EQUAL 0)
  message(FATAL_ERROR "jsonlogic_differential: our results differ from json-logic-js")
endif()
