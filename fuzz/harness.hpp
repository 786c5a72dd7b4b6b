// SPDX-License-Identifier: Apache-2.0
// What the ceremony fuzzers share: inputs are a few header lines (RP id, time, stored key)
// followed by the browser's JSON, and the pending ceremony is made to expect what the
// response's own clientDataJSON says, so that mutations reach attestation and signature code
// instead of stopping at the challenge check.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "webauthn/ceremony.hpp"
#include "webauthn/client_data.hpp"

namespace latchkey::webauthn::fuzz {

/// Takes the text up to the first newline off the front of `in`.
inline std::optional<std::string_view> take_line(std::string_view& in)
{
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos)
        return std::nullopt;
    const auto line = in.substr(0, nl);
    in.remove_prefix(nl + 1);
    return line;
}

inline core::TimePoint time_of(std::string_view line)
{
    std::int64_t seconds = 1'735'689'600; // 2025-01-01
    std::from_chars(line.data(), line.data() + line.size(), seconds);
    // Certificates are dated 1950-2049 (RFC 5280 UTCTime) or a little beyond.
    return core::from_unix(std::clamp<std::int64_t>(seconds, 0, 4'102'444'800));
}

/// A pending ceremony that expects this client data's challenge and origin at this RP id.
inline PendingCeremony pending_for(PendingCeremony::Kind kind,
                                   std::string_view client_data_json,
                                   std::string_view rp_id,
                                   core::TimePoint now)
{
    PendingCeremony p;
    p.kind = kind;
    p.challenge = "unparseable client data";
    if (auto c = parse_client_data(client_data_json)) {
        p.challenge = c->challenge;
        p.origins = {c->origin};
    }
    p.rp_ids = {std::string(rp_id)};
    p.expires_at = now + std::chrono::minutes(5);
    p.algorithms = {CoseAlgorithm::es256, CoseAlgorithm::eddsa, CoseAlgorithm::rs256,
                    CoseAlgorithm::es384, CoseAlgorithm::es512, CoseAlgorithm::ps256,
                    CoseAlgorithm::rs1};
    return p;
}

} // namespace latchkey::webauthn::fuzz
