// SPDX-License-Identifier: Apache-2.0
// What the benchmark tools share: number parsing for their options, secret files, percentiles,
// wording.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::bench {

/// A bad command line: the message, then the usage text.
struct UsageError {
    std::string message;
};

/// The whole of `s` as a number, or nullopt.
template <class T>
std::optional<T> parse_number(std::string_view s)
{
    T v{};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

/// The first line of a file (without its line ending) as a secret; an error for a file that
/// cannot be read or whose first line is empty.
inline core::Result<core::Secret> read_secret_line(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return core::fail(core::Errc::io_failed, "cannot read " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const core::WipeOnExit wipe_text(text.data(), text.size());
    std::string_view line(text);
    line = line.substr(0, line.find('\n'));
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (line.empty())
        return core::fail(core::Errc::invalid_argument, path + " holds nothing on its first line");
    return core::Secret(line);
}

/// Nearest-rank percentile of sorted samples; 0 without samples.
inline double percentile(const std::vector<double>& sorted, double pct)
{
    if (sorted.empty())
        return 0;
    const auto rank =
        static_cast<std::size_t>(std::ceil(pct / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

/// "1 logon", "3 logons".
inline std::string plural(std::uint64_t n, std::string_view one, std::string_view many)
{
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

} // namespace latchkey::bench
