// SPDX-License-Identifier: Apache-2.0
// Line-atomic logging to stderr.
#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
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

RepeatLimiter& repeats()
{
    static RepeatLimiter limiter;
    return limiter;
}

} // namespace

RepeatLimiter::RepeatLimiter(RepeatLimits limits)
    : limits_(limits)
{
}

bool RepeatLimiter::admit(std::string_view kind,
                          std::chrono::steady_clock::time_point now,
                          std::uint64_t& suppressed)
{
    const std::lock_guard lock(mutex_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) {
        if (kinds_.size() >= limits_.max_kinds) {
            // Forget the kinds whose window has passed; if none has, the map is full of live
            // floods and one more kind is dropped rather than let the map grow.
            std::erase_if(kinds_, [&](const auto& kv) {
                return kv.second.start + limits_.interval <= now && kv.second.dropped == 0;
            });
            if (kinds_.size() >= limits_.max_kinds)
                return false;
        }
        it = kinds_.emplace(std::string(kind), Window{now, 0, 0}).first;
    }
    Window& w = it->second;
    if (w.start + limits_.interval <= now) {
        w.start = now;
        w.written = 0;
    }
    if (w.written >= limits_.burst) {
        ++w.dropped;
        return false;
    }
    ++w.written;
    suppressed = w.dropped;
    w.dropped = 0;
    return true;
}

std::string escape(std::string_view message)
{
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(message.size());
    for (const char c : message) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f) {
            out += "\\x";
            out += hex[b >> 4];
            out += hex[b & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

namespace {

void write_line(LogLevel level, std::string_view message, std::string_view tail)
{
    std::string line;
    if (to_journal()) {
        line = "<" + std::to_string(syslog_priority(level)) + ">";
    } else {
        line = "latchkeyd[" + std::to_string(::getpid()) + "]: ";
        line += to_string(level);
        line += ": ";
    }
    // One line per record, and no raw control byte from a peer in the journal.
    line += escape(message);
    line += tail;
    line.push_back('\n');
    // A single write(2) keeps lines from different threads whole.
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
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
    write_line(level, message, {});
} catch (...) {
}

void write_limited(LogLevel level, std::string_view kind, std::string_view message) noexcept
try {
    if (level < current.load())
        return;
    std::uint64_t suppressed = 0;
    if (!repeats().admit(kind, std::chrono::steady_clock::now(), suppressed))
        return;
    write_line(level, message,
               suppressed == 0 ? std::string()
                               : " (" + std::to_string(suppressed) +
                                     " more like this suppressed)");
} catch (...) {
}

} // namespace latchkey::core::log
