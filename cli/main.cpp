// SPDX-License-Identifier: Apache-2.0
// latchkeyctl: parse the command line, run the command, report; exit 0, 1 (failed) or 2 (usage).
#include <chrono>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace {

int report(const std::string& message)
{
    std::cerr << "latchkeyctl: " << message << '\n';
    return 1;
}

} // namespace

int main(int argc, char** argv)
try {
    namespace cli = latchkey::cli;
    const std::vector<std::string> args(argv + 1, argv + argc);
    const cli::ParseResult parsed = cli::parse_args(args);
    if (const auto* usage = std::get_if<cli::UsageError>(&parsed)) {
        std::cerr << "latchkeyctl: " << usage->message << '\n' << cli::usage_hint(*usage) << '\n';
        return 2;
    }
    // The only reading of the clock: relative times on the command line count back from here.
    const auto status = cli::run(std::get<cli::Invocation>(parsed), std::cout,
                                 std::chrono::system_clock::now());
    if (!std::cout.flush())
        return report("cannot write to standard output");
    if (!status)
        return report(status.error().message);
    return 0;
} catch (const std::bad_alloc&) {
    return report("out of memory");
} catch (const std::exception& e) {
    return report(e.what());
} catch (...) {
    return report("unexpected error");
}
