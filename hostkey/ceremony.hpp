// SPDX-License-Identifier: Apache-2.0
// What a host asks of a security key: an assertion for a sign-in, a new credential for an
// enrolment. The relying party's checks are not here: the daemon makes the challenge and
// verifies what comes back with webauthn/, as it does for a browser's answer.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/secret.hpp"
#include "hostkey/device.hpp"

namespace latchkey::hostkey {

struct AssertionRequest {
    std::string rp_id;
    std::string client_data_hash;   ///< SHA-256 of the clientDataJSON
    std::vector<std::string> allow; ///< credential ids; empty: a discoverable credential
    /// Ask the key to verify its user: with `pin` when it has a PIN, else its own verifier.
    bool user_verification = false;
    const core::Secret* pin = nullptr;
};

struct Assertion {
    std::string credential_id;
    std::string authenticator_data; ///< raw bytes
    std::string signature;
    std::string user_handle; ///< empty unless the credential is discoverable
};

/// One assertion (the first, for a discoverable request). Problem::pin_required before the key
/// is touched when verification is asked of a key with a PIN and no PIN is given;
/// Problem::not_supported when the key can verify no user.
core::Result<Assertion> get_assertion(const Device& key, const AssertionRequest& request);

struct CredentialRequest {
    std::string rp_id;
    std::string rp_name;
    std::string user_id; ///< the user handle
    std::string user_name;
    std::string display_name;
    std::string client_data_hash;
    std::vector<std::string> exclude; ///< the user's credentials already registered
    bool resident = false;
    bool user_verification = false;
    const core::Secret* pin = nullptr;
};

struct MadeCredential {
    std::string credential_id;
    std::string attestation_object; ///< CBOR {fmt, attStmt, authData}, as a browser sends it
};

/// A new credential, with the same PIN rules as get_assertion().
core::Result<MadeCredential> make_credential(const Device& key, const CredentialRequest& request);

} // namespace latchkey::hostkey
