// SPDX-License-Identifier: Apache-2.0
// The daemon's log, for every library it links: stderr with sd-daemon "<N>" priority prefixes when the journal reads it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace latchkey::core {

enum class LogLevel : std::uint8_t { debug, info, notice, warning, error };

/// "debug" … "error", as the config's [log] level spells them.
std::string_view to_string(LogLevel l) noexcept;

} // namespace latchkey::core

namespace latchkey::core::log {

/// Lines of one kind allowed per interval: what a peer can make the daemon log (a refused
/// connection, a stalled request) must not flood the journal.
struct RepeatLimits {
    std::uint32_t burst = 10;
    std::chrono::seconds interval{10};
    std::size_t max_kinds = 1024;
};

/// Decides which lines of each kind are written; time is a parameter (tests set it).
class RepeatLimiter {
public:
    explicit RepeatLimiter(RepeatLimits limits = {});

    /// Whether a line of `kind` is written at `now`. When it is, `suppressed` is how many of
    /// that kind were dropped since the last one written, for the line to say so.
    bool admit(std::string_view kind,
               std::chrono::steady_clock::time_point now,
               std::uint64_t& suppressed);

private:
    struct Window {
        std::chrono::steady_clock::time_point start;
        std::uint32_t written = 0;
        std::uint64_t dropped = 0;
    };

    std::mutex mutex_;
    RepeatLimits limits_;
    std::map<std::string, Window, std::less<>> kinds_;
};

/// The message as it goes into a line: control bytes (a NUL, an escape, a newline that would
/// forge another record) become \xNN. Everything else is left as it is.
std::string escape(std::string_view message);

void set_level(LogLevel level) noexcept;

/// Writes one line. Callers pass text that holds no secret (use proto::to_log_string).
void write(LogLevel level, std::string_view message) noexcept;

/// Writes one line unless lines of `kind` exceed the repeat limits; the first line written after
/// some were dropped ends with "(N more like this suppressed)".
void write_limited(LogLevel level, std::string_view kind, std::string_view message) noexcept;

inline void debug(std::string_view m) noexcept { write(LogLevel::debug, m); }

inline void info(std::string_view m) noexcept { write(LogLevel::info, m); }

inline void notice(std::string_view m) noexcept { write(LogLevel::notice, m); }

inline void warning(std::string_view m) noexcept { write(LogLevel::warning, m); }

inline void error(std::string_view m) noexcept { write(LogLevel::error, m); }

} // namespace latchkey::core::log
