#pragma once
// The `loyalty` command line: one binary, one subcommand per job.

#include <iosfwd>
#include <string>
#include <vector>

namespace loyalty::cli {

// Runs the command line and returns the process exit status. Output goes to `out` and `err`
// so that tests can run commands in process.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace loyalty::cli
