// SPDX-License-Identifier: Apache-2.0
// The daemon's log, for every library it links: stderr with sd-daemon "<N>" priority prefixes when the journal reads it.
#pragma once

#include <cstdint>
#include <string_view>

namespace latchkey::core {

enum class LogLevel : std::uint8_t { debug, info, notice, warning, error };

/// "debug" … "error", as the config's [log] level spells them.
std::string_view to_string(LogLevel l) noexcept;

} // namespace latchkey::core

namespace latchkey::core::log {

void set_level(LogLevel level) noexcept;

/// Writes one line. Callers pass text that holds no secret (use proto::to_log_string).
void write(LogLevel level, std::string_view message) noexcept;

inline void debug(std::string_view m) noexcept { write(LogLevel::debug, m); }

inline void info(std::string_view m) noexcept { write(LogLevel::info, m); }

inline void notice(std::string_view m) noexcept { write(LogLevel::notice, m); }

inline void warning(std::string_view m) noexcept { write(LogLevel::warning, m); }

inline void error(std::string_view m) noexcept { write(LogLevel::error, m); }

} // namespace latchkey::core::log
