// SPDX-License-Identifier: Apache-2.0
// A security key ceremony at this machine, and the messages between pam_latchkey.so and the
// helper it starts to run it (latchkey-fido, which links libfido2 so the module need not).
// The daemon makes the ceremony (SecurityKeyCeremony: its challenge, its relying party);
// the helper talks to the key and answers with what a browser would send (SecurityKeyResult);
// the daemon verifies that with webauthn/, as it does a browser's answer.
//
// Between the module and the helper, over a socketpair, the same frames as the daemon's
// sockets (proto/wire.hpp):
//
//   module                          helper
//   key.start {ceremony, device} ─►
//                                ◄─ key.need_pin {retries}     (only when the key has a PIN
//   key.pin {pin}                ─►                              and the ceremony wants UV)
//                                ◄─ key.touch                   (it is waiting for a touch)
//                                ◄─ key.done {result}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <boost/describe.hpp>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace latchkey::proto {

struct SecurityKeyCeremony {
    std::string kind = "get";       ///< "get": a sign-in; "create": an enrolment
    std::string rp_id;              ///< the host's relying party ("pam:example.internal")
    std::string origin;             ///< what clientDataJSON names ("pam://example.internal")
    std::string challenge;          ///< base64url, made by the daemon
    std::vector<std::string> allow; ///< base64url ids: get, the user's keys; create, excluded
    bool user_verification = false; ///< the PIN, or the key's own verifier
    std::uint32_t timeout_s = 30;
    // create only:
    std::string rp_name;
    std::string user_handle; ///< base64url
    std::string user_name;
    std::string display_name;
};
BOOST_DESCRIBE_STRUCT(SecurityKeyCeremony,
                      (),
                      (kind,
                       rp_id,
                       origin,
                       challenge,
                       allow,
                       user_verification,
                       timeout_s,
                       rp_name,
                       user_handle,
                       user_name,
                       display_name))

/// Why a security key gave no answer: what the helper reports and the daemon explains to the
/// person. Stable names (problem_name); add at the end.
enum class KeyProblem : std::uint16_t {
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

std::string_view problem_name(KeyProblem p) noexcept;
/// A sentence for the person at the terminal; it names no internals.
std::string_view problem_message(KeyProblem p) noexcept;
/// The KeyProblem of a problem_name(); KeyProblem::failed for an unknown name.
KeyProblem problem_named(std::string_view name) noexcept;

/// Errors of a KeyProblem (category "security_key"; its message is the problem's name).
const std::error_category& key_problem_category() noexcept;
std::error_code make_error_code(KeyProblem p) noexcept;

/// What came of a ceremony: a response, or the problem (problem_name) that stopped it.
struct SecurityKeyResult {
    /// AuthenticationResponseJSON ("get") or RegistrationResponseJSON ("create"), as
    /// PublicKeyCredential.toJSON() writes them.
    std::string response;
    std::string problem; ///< empty on success
};
BOOST_DESCRIBE_STRUCT(SecurityKeyResult, (), (response, problem))

struct KeyStart {
    static constexpr std::string_view type = "key.start";
    SecurityKeyCeremony ceremony;
    std::string device; ///< "usb", or "unix:PATH"
};
BOOST_DESCRIBE_STRUCT(KeyStart, (), (ceremony, device))

struct KeyPin {
    static constexpr std::string_view type = "key.pin";
    core::Secret pin; ///< empty: the person gave none (the helper answers pin_required)
};
BOOST_DESCRIBE_STRUCT(KeyPin, (), (pin))

struct KeyNeedPin {
    static constexpr std::string_view type = "key.need_pin";
    std::int32_t retries = -1; ///< PIN tries left, when the key says
};
BOOST_DESCRIBE_STRUCT(KeyNeedPin, (), (retries))

struct KeyTouch {
    static constexpr std::string_view type = "key.touch";
};
BOOST_DESCRIBE_STRUCT(KeyTouch, (), ())

struct KeyDone {
    static constexpr std::string_view type = "key.done";
    SecurityKeyResult result;
};
BOOST_DESCRIBE_STRUCT(KeyDone, (), (result))

using ToKeyHelper = std::variant<KeyStart, KeyPin>;
using FromKeyHelper = std::variant<KeyNeedPin, KeyTouch, KeyDone>;

/// The most either side sends in one frame: a registration response is the largest, and
/// far below this.
inline constexpr std::size_t max_key_message = 64 * 1024;

std::string encode(const ToKeyHelper& m);
std::string encode(const FromKeyHelper& m);
core::Result<ToKeyHelper> decode_to_key_helper(std::string_view text);
core::Result<FromKeyHelper> decode_from_key_helper(std::string_view text);

} // namespace latchkey::proto

template <>
struct std::is_error_code_enum<latchkey::proto::KeyProblem> : std::true_type {
};
