// SPDX-License-Identifier: Apache-2.0
// The attestation statement formats of §8, one verifier each, and what they share. Internal to
// webauthn/: callers use verify_statement() (attestation.hpp).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/attestation.hpp"
#include "webauthn/cose_key.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

/// What every format's verification gets: the parsed object (a registration's, with attested
/// credential data) and the ceremony around it.
struct Statement {
    const AttestationObject& object;
    std::string_view rp_id;
    std::string_view client_data_json;
    bool require_uv;
    core::TimePoint now;

    [[nodiscard]] const AttestedCredential& credential() const
    {
        return *object.auth_data.credential;
    }

    [[nodiscard]] const cbor_item_t* member(std::string_view name) const;

    /// authenticatorData || SHA-256(clientDataJSON): what packed, tpm and android-key sign.
    [[nodiscard]] std::string to_be_signed() const;

    /// The statement's "alg" as a known algorithm. Errors: Reason::attestation_invalid,
    /// Reason::unsupported_algorithm.
    [[nodiscard]] core::Result<CoseAlgorithm> alg() const;

    /// The statement's non-empty "sig". Errors: Reason::attestation_invalid.
    [[nodiscard]] core::Result<std::string_view> sig() const;

    /// The statement has exactly these members (and no others).
    [[nodiscard]] bool has_only(std::initializer_list<std::string_view> names) const;
};

core::Result<VerifiedStatement> verify_none(const Statement& s);
core::Result<VerifiedStatement> verify_packed(const Statement& s);
core::Result<VerifiedStatement> verify_fido_u2f(const Statement& s);
core::Result<VerifiedStatement> verify_tpm(const Statement& s);
core::Result<VerifiedStatement> verify_android_key(const Statement& s);
core::Result<VerifiedStatement> verify_apple(const Statement& s);

/// Whether `key` (an X.509 subject public key) is the credential public key.
bool same_public_key(EVP_PKEY* key, const CoseKey& credential);

} // namespace latchkey::webauthn
