// SPDX-License-Identifier: Apache-2.0
// Error codes shared by every part of latchkey; their values go on the wire and into logs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace latchkey::core {

/// Stable failure codes. Never renumber: clients compare them across versions.
enum class Errc : std::uint16_t {
    protocol_malformed = 100,
    protocol_too_large = 101,
    protocol_version = 102,
    protocol_unknown_message = 103,
    protocol_truncated = 104,
    daemon_unreachable = 200,
    daemon_timeout = 201,
    daemon_untrusted = 202,
    daemon_busy = 203,
    store_failed = 300,
    store_schema = 301,
    store_conflict = 302,    ///< a serialization failure: the transaction may be run again
    store_unavailable = 303, ///< the database server cannot be reached
    crypto_failed = 400,
    device_failed = 500,
    invalid_argument = 600,
    permission_denied = 601,
    not_found = 602,
    already_exists = 603,
    policy_violation = 604,
    failed_precondition = 605,
    config_invalid = 700,
    io_failed = 800,
    internal = 900,
};

const std::error_category& latchkey_category() noexcept;

std::error_code make_error_code(Errc e) noexcept;

/// The stable snake_case name of a code ("policy_violation"), used in JSON output and logs.
std::string_view errc_name(Errc e) noexcept;

/// A failure: a code for programs and a message for people. The message never holds a secret.
struct Error {
    std::error_code code;
    std::string message;

    Error() = default;

    Error(Errc e, std::string msg)
        : code(make_error_code(e))
        , message(std::move(msg))
    {
    }

    Error(std::error_code ec, std::string msg)
        : code(ec)
        , message(std::move(msg))
    {
    }

    [[nodiscard]] bool is(Errc e) const noexcept { return code == make_error_code(e); }

    /// A failure of the directory's storage (store_*): its message may name the database, its
    /// server or its tables, for the log rather than the person at a prompt.
    [[nodiscard]] bool is_store() const noexcept
    {
        return code.category() == latchkey_category() && code.value() >= 300 && code.value() < 400;
    }
};

} // namespace latchkey::core

template <>
struct std::is_error_code_enum<latchkey::core::Errc> : std::true_type {};
