// SPDX-License-Identifier: Apache-2.0
// A security key at this machine, through libfido2: the first FIDO2 device on USB, or a key
// behind a Unix socket (ctap_socket.hpp). What can go wrong with one is a Problem, each with a
// stable name (the helper reports it, the daemon audits it) and a sentence for the person.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <fido.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"

namespace latchkey::hostkey {

/// Why a security key gave no answer. Stable names (problem_name); add at the end.
enum class Problem : std::uint16_t {
    no_device = 1,      ///< nothing plugged in, or not at the path given
    timeout = 2,        ///< nobody touched it in time
    removed = 3,        ///< it went away in the middle
    pin_required = 4,   ///< it has a PIN and the ceremony needs it
    pin_invalid = 5,    ///< a wrong PIN (one retry fewer)
    pin_blocked = 6,    ///< too many wrong PINs: it must be reset
    no_credentials = 7, ///< none of the credentials asked for is on it
    not_supported = 8,  ///< it cannot do what was asked (user verification, ES256)
    failed = 9,         ///< anything else libfido2 reports
};

std::string_view problem_name(Problem p) noexcept;
/// A sentence for the person at the terminal; it names no internals.
std::string_view problem_message(Problem p) noexcept;
/// The Problem of a problem_name(); nullopt-like Problem::failed for an unknown name.
Problem problem_named(std::string_view name) noexcept;

const std::error_category& hostkey_category() noexcept;
std::error_code make_error_code(Problem p) noexcept;
/// The problem of an error from this library; Problem::failed for any other error.
Problem problem_of(const core::Error& e) noexcept;
/// The Problem of a libfido2 result code (FIDO_ERR_*), as an error with `doing` in its message.
core::Unexpected fido_failure(int rc, std::string_view doing);

/// An open security key.
class Device {
public:
    /// "usb" (or empty): the first FIDO2 key libfido2 finds on USB; "unix:PATH": the key
    /// listening at PATH. Problem::no_device when there is none.
    static core::Result<Device> open(std::string_view where);

    [[nodiscard]] fido_dev_t* get() const { return dev_.get(); }

    [[nodiscard]] bool has_pin() const { return fido_dev_has_pin(dev_.get()); }

    [[nodiscard]] bool has_builtin_uv() const { return fido_dev_has_uv(dev_.get()); }

private:
    struct Close {
        void operator()(fido_dev_t* d) const noexcept
        {
            fido_dev_close(d);
            fido_dev_free(&d);
        }
    };

    explicit Device(fido_dev_t* d)
        : dev_(d)
    {
    }

    std::unique_ptr<fido_dev_t, Close> dev_;
};

} // namespace latchkey::hostkey

template <>
struct std::is_error_code_enum<latchkey::hostkey::Problem> : std::true_type {
};
