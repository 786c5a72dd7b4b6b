// SPDX-License-Identifier: Apache-2.0
// Attestation statements (WebAuthn §8) and the trust policy that decides which to accept.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/attestation_object.hpp"

namespace latchkey::webauthn {

/// §6.5.3 attestation types.
enum class AttestationType : std::uint8_t { none, self, basic, attca, anonca };

std::string_view to_string(AttestationType t) noexcept;

/// Which attestations a relying party accepts. The default accepts any (passkeys from phones
/// and password managers carry none). With `require_trusted`, only a statement whose x5c chain
/// ends at one of the anchors given for its format, at the caller's time, and (if the list is
/// not empty) whose AAGUID is listed.
struct TrustPolicy {
    bool require_trusted = false;
    std::vector<Aaguid> aaguids;
    std::map<std::string, std::vector<std::string>, std::less<>> anchors; // fmt -> DER roots
};

struct VerifiedStatement {
    AttestationType type = AttestationType::none;
    std::vector<std::string> chain; // x5c as sent (DER), leaf first
    bool trusted = false;           // the chain ends at an anchor of the policy
};

/// Verifies the statement of `object` (a registration's, with attested credential data) for
/// `client_data_json`, then applies `policy` at `now`. Errors: Reason::unsupported_format,
/// Reason::attestation_invalid, Reason::bad_signature, Reason::aaguid_mismatch,
/// Reason::certificate_invalid, Reason::attestation_untrusted, Reason::algorithm_mismatch.
core::Result<VerifiedStatement> verify_statement(const AttestationObject& object,
                                                 std::string_view rp_id,
                                                 std::string_view client_data_json,
                                                 bool require_uv,
                                                 const TrustPolicy& policy,
                                                 core::TimePoint now);

} // namespace latchkey::webauthn
