// SPDX-License-Identifier: Apache-2.0
// Names of the directory's enumerations, as they appear in audit output and on the command line.
#include "directory/model.hpp"

#include <time.h>

#include <cstdio>

namespace latchkey::directory {

std::string_view to_string(SessionKind k) noexcept
{
    return k == SessionKind::web ? "web" : "pam";
}

std::string_view to_string(PendingKind k) noexcept
{
    switch (k) {
    case PendingKind::sign_in: return "sign_in";
    case PendingKind::app_enrolment: return "app_enrolment";
    case PendingKind::passkey_registration: return "passkey_registration";
    }
    return "sign_in";
}

std::string_view to_string(PasskeyParty p) noexcept
{
    return p == PasskeyParty::host ? "host" : "web";
}

std::optional<PasskeyParty> passkey_party_named(std::string_view name) noexcept
{
    for (const PasskeyParty p : {PasskeyParty::web, PasskeyParty::host})
        if (to_string(p) == name)
            return p;
    return std::nullopt;
}

std::string_view to_string(Severity s) noexcept
{
    switch (s) {
    case Severity::info: return "info";
    case Severity::notice: return "notice";
    case Severity::warning: return "warning";
    case Severity::alert: return "alert";
    }
    return "unknown";
}

std::optional<Severity> severity_from_string(std::string_view s) noexcept
{
    for (const Severity v : {Severity::info, Severity::notice, Severity::warning, Severity::alert})
        if (to_string(v) == s)
            return v;
    return std::nullopt;
}

std::string_view to_string(Role r) noexcept
{
    return r == Role::directory_admin ? "directory-admin" : "account-admin";
}

std::optional<Role> role_from_string(std::string_view s) noexcept
{
    for (const Role v : {Role::directory_admin, Role::account_admin})
        if (to_string(v) == s)
            return v;
    return std::nullopt;
}

std::string_view to_string(CodePurpose p) noexcept
{
    return p == CodePurpose::root_recovery ? "root_recovery" : "phone_bind";
}

std::string utc_day(core::TimePoint t)
{
    const std::time_t secs = core::to_unix(t);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

} // namespace latchkey::directory
