// SPDX-License-Identifier: Apache-2.0
// run_process: runs a program (no shell) with some bytes on stdin, bounded in time, and reports
// how it ended. The notifier's command sink runs on it.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace latchkey::notify {

struct ProcessOutcome {
    bool timed_out = false; ///< killed (with its process group) when the time ran out
    int exit_status = -1;   ///< when it exited; -1 otherwise
    int signal = 0;         ///< when a signal ended it (not ours)
    std::string output;     ///< the start of stdout and stderr together (max_kept_output)
    std::size_t output_size = 0; ///< everything it wrote, kept or not

    static constexpr std::size_t max_kept_output = 4096;

    [[nodiscard]] bool succeeded() const noexcept { return !timed_out && exit_status == 0; }
};

/// Runs `argv` (argv[0] is the program's path: no shell, no PATH search) with the environment
/// of this process, signals unblocked, in a process group of its own. `input` is written to
/// its stdin, which is then closed; stdout and stderr go to one pipe that is read and mostly
/// discarded. Waits until the program exits or `timeout` has passed; then it kills the whole
/// process group (SIGKILL) and reaps it. Blocks the calling thread; uses no signal handler.
/// Errors: invalid_argument for an empty argv; io_failed when the program cannot be started
/// (the message names argv[0] and the reason).
core::Result<ProcessOutcome> run_process(const std::vector<std::string>& argv,
                                         std::string_view input,
                                         std::chrono::milliseconds timeout);

} // namespace latchkey::notify
