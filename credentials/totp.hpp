// SPDX-License-Identifier: Apache-2.0
// TOTP (RFC 6238, HMAC-SHA1) through liboath: secrets, otpauth URIs, code checks with replay
// protection, and the RFC 4648 base32 those URIs need.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/secret.hpp"

namespace latchkey::credentials {

struct TotpParams {
    unsigned digits = 6;           ///< 6, 7 or 8: what liboath and authenticator apps support
    std::chrono::seconds step{30}; ///< time-step size, counted from the Unix epoch
    unsigned window = 1;           ///< steps accepted either side of now, for clock drift
};

/// A fresh 160-bit key (RFC 4226 §4 recommends 160 bits) from getrandom(2).
core::Secret generate_totp_secret();

/// RFC 4648 base32, upper-case, without '=' padding.
std::string base32_encode(std::string_view bytes);

/// Accepts upper or lower case, with or without trailing '=' padding. nullopt on any other
/// character, on '=' before the end, or on a length no encoder produces (1, 3 or 6 mod 8).
std::optional<std::string> base32_decode(std::string_view text);

/// The Key Uri Format authenticator apps scan:
/// otpauth://totp/<issuer>:<label>?secret=<BASE32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
/// `issuer` and `label` are percent-encoded (RFC 3986 unreserved characters kept as they are).
/// The result contains the secret: show it to the enrolling user, never log it.
std::string otpauth_uri(std::string_view issuer,
                        std::string_view label,
                        const core::Secret& secret,
                        const TotpParams& params);

/// Checks `code` against the steps within ±params.window of `now`. Returns the time step
/// (unix seconds / step) the code belongs to, or nullopt when it matches none, when it is not
/// exactly params.digits ASCII digits, when the params are unusable or `now` is before 1970, or
/// when the matched step is <= `last_used_step` (a replay: the caller stores the returned step
/// and passes it back next time).
std::optional<std::int64_t> verify_totp(const core::Secret& secret,
                                        std::string_view code,
                                        core::TimePoint now,
                                        const TotpParams& params,
                                        std::optional<std::int64_t> last_used_step);

/// The code for the step containing `at`, for tests and enrolment checks. Empty when the params
/// are unusable, `at` is before 1970 or liboath fails.
std::string totp_code(const core::Secret& secret, core::TimePoint at, const TotpParams& params);

} // namespace latchkey::credentials
