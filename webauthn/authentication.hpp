// SPDX-License-Identifier: Apache-2.0
// Authentication (WebAuthn §7.2): an AuthenticationResponse checked against its pending
// ceremony and the stored credential it names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/ceremony.hpp"
#include "webauthn/response.hpp"

namespace latchkey::webauthn {

/// What the caller stored at registration (RegisteredCredential) and has updated since.
struct StoredCredential {
    std::string id;
    std::string public_key; // COSE_Key bytes
    std::uint32_t sign_count = 0;
    std::string user_handle;
    std::optional<bool> backup_eligible; // as registered; BE never changes for a credential
};

struct VerifiedAssertion {
    std::string credential_id;
    std::uint32_t sign_count = 0; // store it: the next assertion must count beyond it
    bool user_verified = false;
    bool backup_eligible = false;
    bool backed_up = false;
    std::string extensions; // authenticator extension outputs (CBOR map), if any
};

/// Every step of §7.2: the credential is allowed and the user's; clientDataJSON; rpIdHash,
/// UP, UV, BE; the signature over authenticatorData || SHA-256(clientDataJSON); and the
/// signature counter, whose regression (a possible clone) has its own reason,
/// Reason::counter_regression, so the caller can audit it. Counters of zero are accepted.
core::Result<VerifiedAssertion> verify_authentication(const PendingCeremony& pending,
                                                      const AuthenticationResponse& response,
                                                      const StoredCredential& credential,
                                                      core::TimePoint now);

} // namespace latchkey::webauthn
