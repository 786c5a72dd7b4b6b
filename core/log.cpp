// SPDX-License-Identifier: Apache-2.0
// Line-atomic logging to stderr.
#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace latchkey::core {

std::string_view to_string(LogLevel l) noexcept
{
    switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::notice: return "notice";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
    }
    return "info";
}

} // namespace latchkey::core

namespace latchkey::core::log {

namespace {

std::atomic<LogLevel> current{LogLevel::info};

int syslog_priority(LogLevel l) noexcept
{
    switch (l) {
    case LogLevel::debug: return 7;
    case LogLevel::info: return 6;
    case LogLevel::notice: return 5;
    case LogLevel::warning: return 4;
    case LogLevel::error: return 3;
    }
    return 6;
}

bool to_journal() noexcept
{
    static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
    return journal;
}

} // namespace

void set_level(LogLevel level) noexcept
{
    current.store(level);
}

void write(LogLevel level, std::string_view message) noexcept
try {
    if (level < current.load())
        return;
    std::string line;
    if (to_journal()) {
        line = "<" + std::to_string(syslog_priority(level)) + ">";
    } else {
        line = "latchkeyd[" + std::to_string(::getpid()) + "]: ";
        line += to_string(level);
        line += ": ";
    }
    // One line per record: a newline inside the message cannot forge another record.
    for (const char c : message)
        line.push_back(c == '\n' || c == '\r' ? ' ' : c);
    line.push_back('\n');
    // A single write(2) keeps lines from different threads whole.
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
} catch (...) {
}

} // namespace latchkey::core::log
