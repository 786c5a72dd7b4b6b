// SPDX-License-Identifier: Apache-2.0
// What the benchmark tools share: number parsing for their options, secret files, percentiles,
// wording.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
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

/// `v` as a whole number in [lo, hi], stored in `out`; false (and `out` untouched) otherwise.
template <class T>
bool parse_count(std::string_view v, T& out, std::uint64_t lo, std::uint64_t hi)
{
    const auto n = parse_number<std::uint64_t>(v);
    if (!n || *n < lo || *n > hi)
        return false;
    out = static_cast<T>(*n);
    return true;
}

/// `v` as seconds in (0, most], stored in `out`; false otherwise.
inline bool parse_seconds(std::string_view v, double& out, double most)
{
    const auto d = parse_number<double>(v);
    if (!d || !std::isfinite(*d) || *d <= 0 || *d > most)
        return false;
    out = *d;
    return true;
}

/// What walk_options() found: a request for the usage text, or a bad command line.
struct Walked {
    bool help = false;
    std::optional<UsageError> error;
};

/// The command-line loop the tools share: -h/--help, --json (sets `json`), and `--name value`
/// pairs, each given to `on(name, value)`, which answers true (taken), false (a bad value) or
/// nullopt (no such option).
template <class On>
Walked walk_options(int argc, char** argv, bool& json, On&& on)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help")
            return {true, std::nullopt};
        if (a == "--json") {
            json = true;
            continue;
        }
        if (i + 1 >= argc)
            return {false, UsageError{"unknown option or missing value: " + std::string(a)}};
        const std::string_view v = argv[++i];
        const std::optional<bool> taken = on(a, v);
        if (!taken)
            return {false, UsageError{"unknown option " + std::string(a)}};
        if (!*taken)
            return {false, UsageError{"bad value for " + std::string(a) + ": '" + std::string(v) +
                                      "'"}};
    }
    return {};
}

/// What a tool's main() does with parse_args()'s answer unless it is the options: print the usage
/// (exit status 0) or the error (2). nullopt: go on with the options.
template <class Options>
std::optional<int> usage_exit(const std::variant<Options, UsageError, std::monostate>& parsed,
                              std::string_view tool, std::string_view usage)
{
    if (std::holds_alternative<std::monostate>(parsed)) {
        std::fwrite(usage.data(), 1, usage.size(), stdout);
        return 0;
    }
    if (const auto* u = std::get_if<UsageError>(&parsed)) {
        std::fprintf(stderr, "%.*s: %s (see --help)\n", static_cast<int>(tool.size()), tool.data(),
                     u->message.c_str());
        return 2;
    }
    return std::nullopt;
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
