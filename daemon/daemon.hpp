// SPDX-License-Identifier: Apache-2.0
// latchkeyd as a whole: wires config, storage, the directory and the sockets, and runs.
#pragma once

#include <string>

namespace latchkey::daemon {

/// Runs until SIGTERM/SIGINT; SIGHUP reloads the config. Returns the process exit status.
int run(const std::string& config_path);

} // namespace latchkey::daemon
