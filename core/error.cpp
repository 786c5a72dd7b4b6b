// SPDX-License-Identifier: Apache-2.0
// The latchkey error category.
#include "core/error.hpp"

namespace latchkey::core {

namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "latchkey"; }

    std::string message(int ev) const override
    {
        return std::string(errc_name(static_cast<Errc>(ev)));
    }
};

} // namespace

std::string_view errc_name(Errc e) noexcept
{
    switch (e) {
    case Errc::protocol_malformed: return "protocol_malformed";
    case Errc::protocol_too_large: return "protocol_too_large";
    case Errc::protocol_version: return "protocol_version";
    case Errc::protocol_unknown_message: return "protocol_unknown_message";
    case Errc::protocol_truncated: return "protocol_truncated";
    case Errc::daemon_unreachable: return "daemon_unreachable";
    case Errc::daemon_timeout: return "daemon_timeout";
    case Errc::daemon_untrusted: return "daemon_untrusted";
    case Errc::daemon_busy: return "daemon_busy";
    case Errc::store_failed: return "store_failed";
    case Errc::store_schema: return "store_schema";
    case Errc::store_conflict: return "store_conflict";
    case Errc::store_unavailable: return "store_unavailable";
    case Errc::crypto_failed: return "crypto_failed";
    case Errc::device_failed: return "device_failed";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::permission_denied: return "permission_denied";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::policy_violation: return "policy_violation";
    case Errc::failed_precondition: return "failed_precondition";
    case Errc::config_invalid: return "config_invalid";
    case Errc::io_failed: return "io_failed";
    case Errc::internal: return "internal";
    }
    return "unknown";
}

const std::error_category& latchkey_category() noexcept
{
    static const Category category;
    return category;
}

std::error_code make_error_code(Errc e) noexcept
{
    return {static_cast<int>(e), latchkey_category()};
}

} // namespace latchkey::core
