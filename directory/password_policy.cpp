// SPDX-License-Identifier: Apache-2.0
// Password policy checks and password generation.
#include "directory/password_policy.hpp"

#include <string>

#include "core/random.hpp"
#include "directory/network.hpp"

namespace latchkey::directory {

namespace {

using core::Errc;

core::Unexpected violation(std::string message)
{
    return core::fail(Errc::policy_violation, std::move(message));
}

} // namespace

core::Status check_composition(const PasswordPolicy& policy, const core::Secret& password)
{
    bool lower = false;
    bool upper = false;
    bool digit = false;
    bool symbol = false;
    std::size_t chars = 0;
    for (const char ch : password.view()) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c & 0xc0) != 0x80)
            ++chars; // count UTF-8 code points, not bytes
        if (c < 0x20 || c == 0x7f)
            return violation("the password must not contain control characters");
        if (c >= 'a' && c <= 'z')
            lower = true;
        else if (c >= 'A' && c <= 'Z')
            upper = true;
        else if (c >= '0' && c <= '9')
            digit = true;
        else
            symbol = true;
    }
    if (chars < policy.min_length)
        return violation("the password must be at least " + std::to_string(policy.min_length) +
                         " characters long");
    if (chars > max_password_length)
        return violation("the password must be at most " + std::to_string(max_password_length) +
                         " characters long");
    if (policy.require_lowercase && !lower)
        return violation("the password must contain a lowercase letter");
    if (policy.require_uppercase && !upper)
        return violation("the password must contain an uppercase letter");
    if (policy.require_digit && !digit)
        return violation("the password must contain a digit");
    if (policy.require_symbol && !symbol)
        return violation("the password must contain a symbol such as ! # % or -");
    return {};
}

std::optional<core::TimePoint> password_expires_at(const PasswordPolicy& policy,
                                                   core::TimePoint set_at)
{
    if (policy.max_age_days == 0)
        return std::nullopt;
    return set_at + std::chrono::hours(24) * policy.max_age_days;
}

bool password_expired(const PasswordPolicy& policy, std::optional<core::TimePoint> set_at,
                      core::TimePoint now)
{
    if (!set_at)
        return false;
    const auto expires = password_expires_at(policy, *set_at);
    return expires && now >= *expires;
}

core::Secret generate_password(const PasswordPolicy& policy)
{
    // No look-alikes (0/O, 1/l/I) so a password read out over the phone survives.
    static constexpr std::string_view lower = "abcdefghijkmnopqrstuvwxyz";
    static constexpr std::string_view upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    static constexpr std::string_view digits = "23456789";
    static constexpr std::string_view symbols = "!#%+-=?@^_";
    const std::string all = std::string(lower) + std::string(upper) + std::string(digits) +
                            std::string(symbols);
    const std::size_t length = std::max<std::size_t>(20, policy.min_length);
    const auto pick = [](std::string_view set) {
        return set[core::random_below(static_cast<std::uint32_t>(set.size()))];
    };
    std::string pw;
    pw.reserve(length);
    // One of each class first, then the rest from everything, then shuffle (Fisher-Yates).
    pw.push_back(pick(lower));
    pw.push_back(pick(upper));
    pw.push_back(pick(digits));
    pw.push_back(pick(symbols));
    while (pw.size() < length)
        pw.push_back(pick(all));
    for (std::size_t i = pw.size() - 1; i > 0; --i)
        std::swap(pw[i], pw[core::random_below(static_cast<std::uint32_t>(i + 1))]);
    core::Secret out(pw);
    core::wipe(pw.data(), pw.size());
    return out;
}

core::Status validate(const PasswordPolicy& p)
{
    if (p.min_length < 8 || p.min_length > 32)
        return core::fail(Errc::invalid_argument, "min_length must be between 8 and 32");
    if (p.history > max_history)
        return core::fail(Errc::invalid_argument, "history must be between 0 and 24");
    if (p.max_age_days > 1095)
        return core::fail(Errc::invalid_argument,
                          "max_age_days must be between 0 (never) and 1095");
    if (p.max_failed_per_hour > 32)
        return core::fail(Errc::invalid_argument,
                          "max_failed_per_hour must be between 0 (no lockout) and 32");
    return {};
}

core::Status validate(const SecuritySettings& s)
{
    if (s.session_duration_s < 900 || s.session_duration_s > 24 * 3600)
        return core::fail(Errc::invalid_argument,
                          "session_duration_s must be between 900 (15 minutes) and 86400 (24 hours)");
    if (s.allowed_networks.size() > 64)
        return core::fail(Errc::invalid_argument, "at most 64 allowed_networks");
    for (const auto& n : s.allowed_networks)
        if (!parse_cidr(n))
            return core::fail(Errc::invalid_argument,
                              "allowed_networks: '" + n + "' is not a CIDR such as 10.0.0.0/8");
    return {};
}

} // namespace latchkey::directory
