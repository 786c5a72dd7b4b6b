// SPDX-License-Identifier: Apache-2.0
// Clock: time is a parameter. Only main() picks the real clock; tests pick one they control.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace latchkey::core {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

/// Whole seconds since the Unix epoch: how times are stored and sent.
std::int64_t to_unix(TimePoint t) noexcept;
TimePoint from_unix(std::int64_t s) noexcept;

/// "2026-11-23T11:50:59Z".
std::string to_iso8601(TimePoint t);

class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] TimePoint now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that only moves when told to.
class ManualClock final : public Clock {
public:
    explicit ManualClock(TimePoint start = from_unix(1'700'000'000))
        : now_(to_unix(start))
    {
    }

    [[nodiscard]] TimePoint now() const override { return from_unix(now_.load()); }

    void set(TimePoint t) noexcept { now_.store(to_unix(t)); }

    void advance(Seconds d) noexcept { now_.fetch_add(d.count()); }

private:
    std::atomic<std::int64_t> now_;
};

/// Test-only clock for whole processes: the time is the Unix seconds written in a file, read
/// on every call, so an integration test can move a running daemon's clock. Falls back to the
/// system clock while the file is missing or unreadable.
class FileClock final : public Clock {
public:
    explicit FileClock(std::string path)
        : path_(std::move(path))
    {
    }

    [[nodiscard]] TimePoint now() const override;

private:
    std::string path_;
};

} // namespace latchkey::core
