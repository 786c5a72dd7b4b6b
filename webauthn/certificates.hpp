// SPDX-License-Identifier: Apache-2.0
// Attestation certificates (x5c): the chain as sent, the checks every format shares, and
// validation to a trust anchor at a time the caller gives.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cbor.h>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "webauthn/authenticator_data.hpp"
#include "webauthn/openssl.hpp"

namespace latchkey::webauthn {

inline constexpr std::size_t max_chain_length = 5;

struct Chain {
    std::vector<std::string> der; // as sent, leaf first
    std::vector<X509Ptr> certs;

    [[nodiscard]] X509* leaf() const { return certs.front().get(); }
};

/// The x5c array of a statement: 1 to 5 DER certificates. Errors: Reason::attestation_invalid,
/// Reason::certificate_invalid.
core::Result<Chain> chain_of(const cbor_item_t* x5c);

/// Every certificate of the chain is valid at `now`. Errors: Reason::certificate_invalid.
core::Status check_validity(const Chain& chain, core::TimePoint now);

/// If `cert` carries id-fido-gen-ce-aaguid, it is not critical and names `aaguid`.
/// Errors: Reason::attestation_invalid, Reason::aaguid_mismatch.
core::Status check_aaguid_extension(X509* cert, const Aaguid& aaguid);

/// The certificate is not a CA (basic constraints).
bool is_ca(X509* cert);

/// The DER inside the extension with this dotted OID, if the certificate has it.
std::optional<std::string_view> extension_der(X509* cert, const char* oid);

/// Whether the chain ends at one of `anchors` (DER) at `now`; an anchor may be an
/// intermediate CA rather than a root.
bool chain_ends_at(const Chain& chain,
                   const std::vector<std::string>& anchors,
                   core::TimePoint now);

} // namespace latchkey::webauthn
