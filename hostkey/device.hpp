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
#include "proto/security_key.hpp"

namespace latchkey::hostkey {

/// Why a security key gave no answer: the protocol's list (proto/security_key.hpp), so that
/// the daemon that explains a problem and the helper that meets it name it alike.
using Problem = proto::KeyProblem;
using proto::problem_message;
using proto::problem_name;
using proto::problem_named;

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
