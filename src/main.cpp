// Wires the command line to the process; everything else lives in loyalty_core.
#include "loyalty/cli/app.hpp"
#include "loyalty/ledger/sqlite_process.hpp"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    loyalty::ledger::set_sqlite_process_settings();
    std::vector<std::string> args(argv + 1, argv + argc);
    return loyalty::cli::run(args, std::cout, std::cerr);
}
