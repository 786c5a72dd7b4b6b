// SPDX-License-Identifier: Apache-2.0
// Authentication ceremony verification.
#include "webauthn/authentication.hpp"

#include <algorithm>

#include "core/secret.hpp"
#include "webauthn/authenticator_data.hpp"
#include "webauthn/checks.hpp"
#include "webauthn/fido.hpp"
#include "webauthn/openssl.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

core::Status check_credential(const PendingCeremony& pending,
                              const AuthenticationResponse& response,
                              const StoredCredential& credential)
{
    // §7.2 step 5: an allow list, when given, names the credential used.
    if (!pending.allowed_credentials.empty() &&
        std::find(pending.allowed_credentials.begin(), pending.allowed_credentials.end(),
                  response.id) == pending.allowed_credentials.end())
        return refuse(Reason::credential_not_allowed, "the credential was not offered");
    if (response.id != credential.id)
        return refuse(Reason::credential_not_allowed, "the response names another credential");
    // §7.2 step 6: the credential belongs to the user. A known user (pending.user_handle) must
    // own it; without one, the authenticator must name its user.
    if (!pending.user_handle.empty() &&
        !core::constant_time_equal(pending.user_handle, credential.user_handle))
        return refuse(Reason::user_handle_mismatch, "the credential is not this user's");
    if (pending.user_handle.empty() && !response.user_handle)
        return refuse(Reason::user_handle_mismatch, "a discoverable sign-in needs a user handle");
    if (response.user_handle &&
        !core::constant_time_equal(*response.user_handle, credential.user_handle))
        return refuse(Reason::user_handle_mismatch, "the user handle is not the credential's");
    return {};
}

core::Status check_signature(const CoseKey& key,
                             std::string_view rp_id,
                             const AuthenticationResponse& response,
                             const AuthenticatorData& data,
                             bool require_uv)
{
    if (fido_supports(key.alg))
        return fido_verify_assertion(key, rp_id, response.client_data_json,
                                     response.authenticator_data, response.signature,
                                     data.extensions, require_uv);
    LATCHKEY_TRY(pkey, to_evp_pkey(key));
    if (!verify_signature(pkey.get(), scheme_of(key.alg),
                          response.authenticator_data + sha256(response.client_data_json),
                          response.signature))
        return refuse(Reason::bad_signature, "the assertion signature does not verify");
    return {};
}

} // namespace

core::Result<VerifiedAssertion> verify_authentication(const PendingCeremony& pending,
                                                      const AuthenticationResponse& response,
                                                      const StoredCredential& credential,
                                                      core::TimePoint now)
{
    LATCHKEY_TRY_STATUS(check_pending(pending, PendingCeremony::Kind::authentication, now));
    LATCHKEY_TRY_STATUS(check_credential(pending, response, credential));
    // The stored key passed the full check at registration; its verifier checks it again.
    LATCHKEY_TRY(key, parse_cose_key(credential.public_key, KeyCheck::shape));
    LATCHKEY_TRY(client_data, check_client_data(pending, response.client_data_json));
    (void)client_data;
    LATCHKEY_TRY(data, parse_authenticator_data(response.authenticator_data));
    if (data.credential)
        return refuse(Reason::attested_data_unexpected, "an assertion carries a credential");
    LATCHKEY_TRY(rp_id, check_authenticator_data(pending, data));
    if (credential.backup_eligible && *credential.backup_eligible != data.backup_eligible())
        return refuse(Reason::backup_state_invalid,
                      "the credential's backup eligibility changed since registration");
    LATCHKEY_TRY_STATUS(check_signature(key, rp_id, response, data,
                                        pending.user_verification == UserVerification::required));
    // §7.2 step 22: only after the signature, so a forged response cannot provoke the alarm.
    if ((data.sign_count != 0 || credential.sign_count != 0) &&
        data.sign_count <= credential.sign_count)
        return refuse(Reason::counter_regression,
                      "the signature counter did not increase: the credential may be cloned");

    VerifiedAssertion out;
    out.credential_id = credential.id;
    out.sign_count = data.sign_count;
    out.user_verified = data.user_verified();
    out.backup_eligible = data.backup_eligible();
    out.backed_up = data.backed_up();
    out.extensions = data.extensions;
    return out;
}

} // namespace latchkey::webauthn
