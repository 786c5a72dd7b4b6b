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

/// What came of a ceremony: a response, or the problem (hostkey::problem_name) that stopped it.
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
