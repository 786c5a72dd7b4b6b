// SPDX-License-Identifier: Apache-2.0
// KeyRing: the provider's signing keys — made, sealed, rotated, published.
//
//   sign(alg) ──► the current key of that alg (made on first use, or when it is older than
//                 the rotation period) ──► JWS
//   rotate()  ──► every current key retires now; a new one signs from now on
//   jwks()    ──► every key whose tokens may still be valid: current keys, and retired keys
//                 until the longest token lifetime has passed since they retired
//
// Private keys are kept in the store sealed with the SecretBox (context "oidc-key:<kid>") and
// in memory as OpenSSL keys; they are never logged or exported.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "directory/audit.hpp"
#include "credentials/secret_box.hpp"
#include "directory/store.hpp"
#include "oidc/jose.hpp"

namespace latchkey::oidc {

class KeyRing {
public:
    /// `max_token_lifetime`: how long a retired key stays published.
    KeyRing(directory::Store& store,
            const credentials::SecretBox& box,
            directory::Audit& audit,
            const core::Clock& clock,
            std::chrono::hours rotation_period,
            std::chrono::seconds max_token_lifetime);

    /// Reads the stored keys. Errors: storage, or a key that cannot be unsealed (wrong key file).
    core::Status load();

    /// A compact JWS of `payload` by the current key of `alg`.
    core::Result<std::string> sign(JwsAlg alg, const boost::json::object& payload,
                                   std::string_view typ = "JWT");

    /// Verifies a token signed by one of the published keys; returns its payload.
    core::Result<boost::json::object> verify(std::string_view compact);

    /// Retires every current key now (`latchkeyctl oidc rotate-keys`); returns the new kids.
    core::Result<std::vector<std::string>> rotate(const std::string& actor);

    /// The JWK Set document.
    boost::json::object jwks();

private:
    struct Entry {
        directory::OidcKeyRecord record;
        std::shared_ptr<const SigningKey> key; ///< shared with signatures in progress
    };

    core::Result<Entry*> current(JwsAlg alg);   ///< mutex_ held
    core::Result<Entry*> make_key(JwsAlg alg);  ///< mutex_ held
    void forget_unpublished();                  ///< mutex_ held

    directory::Store& store_;
    const credentials::SecretBox& box_;
    directory::Audit& audit_;
    const core::Clock& clock_;
    std::chrono::hours rotation_period_;
    std::chrono::seconds max_token_lifetime_;
    std::mutex mutex_;
    std::vector<Entry> keys_; ///< newest first
};

} // namespace latchkey::oidc
