# The web console's end-to-end tests: tests/e2e/console.spec.mjs drives Debian's chromium
# (headless) with playwright-core against a real `loyalty serve` on 127.0.0.1, and saves
# screenshots of the main pages into the build folder. Included by the top-level CMakeLists.txt.
# Needs node, tests/node_modules (scripts/node-deps) and the chromium package (scripts/deps).

set(LOYALTY_NODE_MODULES "${PROJECT_SOURCE_DIR}/tests/node_modules"
    CACHE PATH "node_modules folder holding json-logic-js and playwright-core for the tests")
find_program(LOYALTY_NODE_EXECUTABLE NAMES node nodejs DOC "Node.js for the differential and browser tests")
set(LOYALTY_CHROMIUM "/usr/bin/chromium" CACHE FILEPATH "Chromium for the console's browser tests")

add_test(NAME console_e2e
         COMMAND ${LOYALTY_NODE_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/console.spec.mjs)
set_tests_properties(console_e2e PROPERTIES
  ENVIRONMENT "LOYALTY_BINARY=$<TARGET_FILE:loyalty>;LOYALTY_SCREENSHOTS=${PROJECT_BINARY_DIR}/e2e-screenshots;LOYALTY_NODE_MODULES=${LOYALTY_NODE_MODULES};NODE_PATH=${LOYALTY_NODE_MODULES};LOYALTY_CHROMIUM=${LOYALTY_CHROMIUM};PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1"
  # Each browser wait is bounded at 10 s and each test at 90 s; the whole run takes about a minute.
  TIMEOUT 600
  # A browser and a server: give them room when ctest runs tests in parallel.
  PROCESSORS 2
  LABELS "e2e")
