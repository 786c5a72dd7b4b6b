// SPDX-License-Identifier: Apache-2.0
// libfido2 as the signature verifier for what it covers: fido_cred_verify, fido_cred_verify_self
// and fido_assert_verify, fed with bytes this library has already parsed and checked.
#pragma once

#include <string_view>

#include <fido.h>

#include "core/c_handle.hpp"
#include "core/result.hpp"
#include "webauthn/attestation_object.hpp"
#include "webauthn/cose_key.hpp"

namespace latchkey::webauthn {

using FidoCred = std::unique_ptr<fido_cred_t, core::CFreeRef<fido_cred_t, fido_cred_free>>;
using FidoAssert = std::unique_ptr<fido_assert_t, core::CFreeRef<fido_assert_t, fido_assert_free>>;

/// Whether libfido2 verifies signatures by credential keys of this algorithm.
bool fido_supports(CoseAlgorithm alg) noexcept;

/// Whether libfido2 verifies this attestation statement: format packed, fido-u2f or tpm, a
/// credential key it supports, and a statement alg it supports for that format.
bool fido_supports(const AttestationObject& object) noexcept;

/// fido_cred_verify (x5c present) or fido_cred_verify_self (no x5c). The caller has checked
/// rpIdHash and flags; this repeats them, mirrors the extensions authData reports, and checks
/// the attestation signature. Errors: Reason::bad_signature, Reason::attestation_invalid.
core::Status fido_verify_attestation(const AttestationObject& object,
                                     std::string_view rp_id,
                                     std::string_view client_data_json,
                                     bool require_uv);

/// fido_assert_verify with user presence required (and verification if asked). Errors:
/// Reason::bad_signature, Reason::unsupported_algorithm, Reason::malformed_cose_key.
core::Status fido_verify_assertion(const CoseKey& key,
                                   std::string_view rp_id,
                                   std::string_view client_data_json,
                                   std::string_view authenticator_data,
                                   std::string_view signature,
                                   std::string_view extensions,
                                   bool require_uv);

} // namespace latchkey::webauthn
