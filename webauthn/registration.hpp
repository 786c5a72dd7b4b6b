// SPDX-License-Identifier: Apache-2.0
// Registration (WebAuthn §7.1): a RegistrationResponse checked against its pending ceremony.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/attestation.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/response.hpp"

namespace latchkey::webauthn {

/// What the caller stores for a new credential.
struct RegisteredCredential {
    std::string id;         // raw credential id (from authenticatorData)
    std::string public_key; // COSE_Key bytes
    CoseAlgorithm alg = CoseAlgorithm::es256;
    std::uint32_t sign_count = 0;
    Aaguid aaguid{};
    std::string user_handle;
    bool user_verified = false;
    bool backup_eligible = false; // a synced passkey rather than a device-bound key
    bool backed_up = false;
    std::vector<std::string> transports;
    std::string fmt;
    AttestationType attestation = AttestationType::none;
    bool attestation_trusted = false;
};

/// Every step of §7.1, in order: the ceremony is current; clientDataJSON's type, challenge,
/// origin and frame; the attestation object; rpIdHash, UP, UV; the key's algorithm was offered;
/// the statement verifies and the policy accepts it. The caller then checks that the credential
/// id is not registered yet (§7.1 step 26) and forgets the pending ceremony either way.
core::Result<RegisteredCredential> verify_registration(const PendingCeremony& pending,
                                                       const RegistrationResponse& response,
                                                       const TrustPolicy& policy,
                                                       core::TimePoint now);

} // namespace latchkey::webauthn
