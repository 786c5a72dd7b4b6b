// SPDX-License-Identifier: Apache-2.0
// Name validation.
#include "directory/names.hpp"

#include <algorithm>

namespace latchkey::directory {

namespace {

using core::Errc;

bool is_label(std::string_view s)
{
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-')
        return false;
    for (const char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    return true;
}

std::string shown(std::string_view s)
{
    // Echo at most a short, printable prefix of bad input back to the user.
    std::string out;
    for (const char c : s.substr(0, 64))
        out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
    return out;
}

} // namespace

core::Status check_account_name(std::string_view name)
{
    if (!is_label(name))
        return core::fail(Errc::invalid_argument,
                          "account name '" + shown(name) +
                              "' is not valid: use 1-63 lower-case letters, digits and '-', "
                              "not starting or ending with '-'");
    return {};
}

core::Status check_domain(std::string_view domain)
{
    const auto bad = [&] {
        return core::fail(Errc::invalid_argument,
                          "domain '" + shown(domain) +
                              "' is not valid: use lower-case DNS labels separated by dots, "
                              "such as example.internal");
    };
    if (domain.size() > 253 || domain.find('.') == std::string_view::npos)
        return bad();
    std::size_t start = 0;
    for (;;) {
        const auto dot = domain.find('.', start);
        if (!is_label(domain.substr(start, dot - start)))
            return bad();
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return {};
}

core::Status check_user_name(std::string_view name)
{
    bool ok = !name.empty() && name.size() <= 32 &&
              ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
    for (const char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-');
    if (!ok)
        return core::fail(Errc::invalid_argument,
                          "user name '" + shown(name) +
                              "' is not valid: use 1-32 lower-case letters, digits, '.', '_' "
                              "and '-', starting with a letter or '_'");
    if (name == "root")
        return core::fail(Errc::invalid_argument,
                          "'root' is reserved for the root user of an account");
    return {};
}

core::Status check_display_name(std::string_view name)
{
    if (name.empty() || name.size() > 128)
        return core::fail(Errc::invalid_argument, "display name must be 1-128 characters");
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return core::fail(Errc::invalid_argument,
                              "display name must not contain control characters");
    return {};
}

core::Status check_email(std::string_view email)
{
    const auto at = email.rfind('@');
    const bool shaped = email.size() <= 254 && at != std::string_view::npos && at > 0 &&
                        at + 1 < email.size() && email.find('.', at) != std::string_view::npos &&
                        email.back() != '.';
    const bool clean = std::all_of(email.begin(), email.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u != 0x7f && c != '<' && c != '>' && c != '"' && c != ',';
    });
    if (!shaped || !clean)
        return core::fail(Errc::invalid_argument,
                          "'" + std::string(email.substr(0, 64)) +
                              "' is not an email address (name@example.com)");
    return {};
}

core::Status check_unix_path(std::string_view path, std::string_view what)
{
    const auto bad = [&](std::string_view why) {
        return core::fail(Errc::invalid_argument,
                          std::string(what) + " '" + shown(path) + "' is not valid: " +
                              std::string(why));
    };
    if (path.empty() || path.front() != '/')
        return bad("give an absolute path");
    if (path == "/")
        return bad("not the root directory");
    if (path.size() > 255)
        return bad("at most 255 bytes");
    for (const char c : path) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == ':')
            return bad("no ':' and no control characters");
    }
    for (std::size_t at = 1; at <= path.size();) {
        const auto end = std::min(path.find('/', at), path.size());
        const auto part = path.substr(at, end - at);
        if (part.empty() || part == "." || part == "..")
            return bad("no empty, '.' or '..' parts");
        at = end + 1;
    }
    return {};
}

std::string home_of(std::string_view pattern, std::string_view user_name)
{
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'u') {
            out += user_name;
            ++i;
        } else {
            out.push_back(pattern[i]);
        }
    }
    return out;
}

core::Status check_home_pattern(std::string_view pattern)
{
    const std::string sample = home_of(pattern, "alice");
    if (pattern.find("%u") == std::string_view::npos || sample.find('%') != std::string::npos)
        return core::fail(Errc::invalid_argument,
                          "the home directory pattern '" + shown(pattern) +
                              "' must hold %u (the user's name) and no other '%': \"/home/%u\"");
    return check_unix_path(sample, "the home directory pattern");
}

} // namespace latchkey::directory
