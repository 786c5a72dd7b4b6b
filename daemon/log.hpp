// SPDX-License-Identifier: Apache-2.0
// The daemon's log: stderr with sd-daemon "<N>" priority prefixes when the journal reads it.
#pragma once

#include <string_view>

#include "daemon/config.hpp"

namespace latchkey::daemon::log {

void set_level(LogLevel level) noexcept;

/// Writes one line. Callers pass text that holds no secret (use proto::to_log_string).
void write(LogLevel level, std::string_view message) noexcept;

inline void debug(std::string_view m) noexcept { write(LogLevel::debug, m); }

inline void info(std::string_view m) noexcept { write(LogLevel::info, m); }

inline void notice(std::string_view m) noexcept { write(LogLevel::notice, m); }

inline void warning(std::string_view m) noexcept { write(LogLevel::warning, m); }

inline void error(std::string_view m) noexcept { write(LogLevel::error, m); }

} // namespace latchkey::daemon::log
