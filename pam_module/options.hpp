// SPDX-License-Identifier: Apache-2.0
// The module's arguments from the PAM stack line ("socket=... timeout=5 use_first_pass").
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace latchkey::pam {

class Host;

inline constexpr std::string_view default_socket_path = "/run/latchkey/pam.sock";
inline constexpr std::chrono::seconds default_timeout{10};
inline constexpr std::chrono::seconds max_timeout{300};
#ifndef LATCHKEY_FIDO_HELPER
#error "LATCHKEY_FIDO_HELPER comes from meson: where latchkey-fido is installed"
#endif
inline constexpr std::string_view default_fido_helper = LATCHKEY_FIDO_HELPER;

struct Options {
    std::string socket_path{default_socket_path};
    /// How long latchkeyd may take to answer; restarted whenever the person has answered.
    std::chrono::seconds timeout = default_timeout;
    bool use_first_pass = false;  ///< answer `password` from PAM_AUTHTOK, never prompt for it
    bool try_first_pass = false;  ///< answer `password` from PAM_AUTHTOK if set, else prompt
    bool ignore_unknown_user = false; ///< PAM_IGNORE for users latchkey does not know
    bool single_prompt = false;   ///< one hidden prompt takes password and code together
    bool debug = false;           ///< log each step at LOG_DEBUG (never an answer)
    /// latchkey-fido, which runs security key ceremonies (proto/key_helper.hpp).
    std::string fido_helper{default_fido_helper};
    /// Where the key is: "usb" (the first FIDO2 key plugged in), "unix:PATH" (a key behind a
    /// socket: a software authenticator, or the tests' one), or "off" (never ask for one).
    std::string security_key{"usb"};
};

struct ParsedOptions {
    Options options;
    /// One line per argument that was not understood; the argument is then ignored.
    std::vector<std::string> warnings;
};

/// Parses the module arguments. Never fails: an unknown option or a bad value is reported in
/// `warnings` and ignored, because a typo in a PAM file must not lock everybody out.
ParsedOptions parse_options(std::span<const char* const> args);

/// parse_options() on pam_sm_*'s (argc, argv), logging each warning at LOG_WARNING.
Options parse_options(Host& host, int argc, const char** argv);

} // namespace latchkey::pam
