// SPDX-License-Identifier: Apache-2.0
// Parses the module arguments of a PAM stack line.
#include "pam_module/options.hpp"

#include <syslog.h>

#include <charconv>
#include <cstddef>
#include <cstdint>

#include "pam_module/handle.hpp"

namespace latchkey::pam {

namespace {

bool parse_flag(std::string_view arg, Options& o)
{
    if (arg == "use_first_pass")
        o.use_first_pass = true;
    else if (arg == "try_first_pass")
        o.try_first_pass = true;
    else if (arg == "ignore_unknown_user")
        o.ignore_unknown_user = true;
    else if (arg == "single_prompt")
        o.single_prompt = true;
    else if (arg == "debug")
        o.debug = true;
    else
        return false;
    return true;
}

std::string parse_socket(std::string_view value, Options& o)
{
    // sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
    if (value.empty() || value.front() != '/' || value.size() >= 108)
        return "socket path '" + std::string(value) + "' is not an absolute path of at most " +
               "107 bytes, using " + o.socket_path;
    o.socket_path = value;
    return {};
}

std::string parse_timeout(std::string_view value, Options& o)
{
    std::uint32_t seconds = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, seconds);
    if (ec != std::errc{} || ptr != end || seconds < 1 || seconds > max_timeout.count())
        return "timeout '" + std::string(value) + "' is not a number of seconds from 1 to " +
               std::to_string(max_timeout.count()) + ", using " +
               std::to_string(o.timeout.count());
    o.timeout = std::chrono::seconds(seconds);
    return {};
}

std::string parse_helper(std::string_view value, Options& o)
{
    if (value.empty() || value.front() != '/' || value.size() > 4096)
        return "fido_helper '" + std::string(value) + "' is not an absolute path, using " +
               o.fido_helper;
    o.fido_helper = value;
    return {};
}

std::string parse_security_key(std::string_view value, Options& o)
{
    const bool socket = value.starts_with("unix:/") && value.size() < 5 + 108;
    if (value != "usb" && value != "off" && !socket)
        return "security_key '" + std::string(value) +
               "' is neither usb, off nor unix:/absolute/socket, using " + o.security_key;
    o.security_key = value;
    return {};
}

} // namespace

ParsedOptions parse_options(std::span<const char* const> args)
{
    ParsedOptions parsed;
    Options& o = parsed.options;
    for (const char* raw : args) {
        if (raw == nullptr)
            continue;
        const std::string_view arg(raw);
        if (parse_flag(arg, o))
            continue;
        const auto eq = arg.find('=');
        const auto key = arg.substr(0, eq);
        const auto value = eq == std::string_view::npos ? std::string_view{} : arg.substr(eq + 1);
        std::string warning;
        if (eq != std::string_view::npos && key == "socket")
            warning = parse_socket(value, o);
        else if (eq != std::string_view::npos && key == "timeout")
            warning = parse_timeout(value, o);
        else if (eq != std::string_view::npos && key == "fido_helper")
            warning = parse_helper(value, o);
        else if (eq != std::string_view::npos && key == "security_key")
            warning = parse_security_key(value, o);
        else
            warning = "unknown option '" + std::string(arg) + "', ignoring";
        if (!warning.empty())
            parsed.warnings.push_back(std::move(warning));
    }
    // use_first_pass is the stricter of the two: never prompt for the password.
    if (o.use_first_pass)
        o.try_first_pass = false;
    return parsed;
}

Options parse_options(Host& host, int argc, const char** argv)
{
    const std::size_t count = argc > 0 && argv != nullptr ? static_cast<std::size_t>(argc) : 0;
    auto parsed = parse_options(std::span<const char* const>(argv, count));
    for (const auto& w : parsed.warnings)
        host.log(LOG_WARNING, w);
    return std::move(parsed.options);
}

} // namespace latchkey::pam
