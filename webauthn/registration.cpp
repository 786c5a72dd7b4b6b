// SPDX-License-Identifier: Apache-2.0
// Registration ceremony verification.
#include "webauthn/registration.hpp"

#include <algorithm>

#include "webauthn/checks.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

core::Result<RegisteredCredential> verify_registration(const PendingCeremony& pending,
                                                       const RegistrationResponse& response,
                                                       const TrustPolicy& policy,
                                                       core::TimePoint now)
{
    LATCHKEY_TRY_STATUS(check_pending(pending, PendingCeremony::Kind::registration, now));
    LATCHKEY_TRY(client_data, check_client_data(pending, response.client_data_json));
    (void)client_data;
    LATCHKEY_TRY(object, parse_attestation_object(response.attestation_object));
    const auto& data = object.auth_data;
    if (!data.credential)
        return core::fail(core::Error{Reason::attested_data_missing,
                                      "authenticatorData has no attested credential"});
    LATCHKEY_TRY(rp_id, check_authenticator_data(pending, data));
    const auto& cred = *data.credential;
    if (std::find(pending.algorithms.begin(), pending.algorithms.end(), cred.public_key.alg) ==
        pending.algorithms.end())
        return core::fail(core::Error{Reason::unsupported_algorithm,
                                      "the credential's algorithm was not offered"});
    LATCHKEY_TRY(statement,
                 verify_statement(object, rp_id, response.client_data_json,
                                  pending.user_verification == UserVerification::required, policy,
                                  now));

    RegisteredCredential out;
    out.id = cred.id;
    out.public_key = cred.public_key.encoded;
    out.alg = cred.public_key.alg;
    out.sign_count = data.sign_count;
    out.aaguid = cred.aaguid;
    out.user_handle = pending.user_handle;
    out.user_verified = data.user_verified();
    out.backup_eligible = data.backup_eligible();
    out.backed_up = data.backed_up();
    out.transports = response.transports;
    out.fmt = object.fmt;
    out.attestation = statement.type;
    out.attestation_trusted = statement.trusted;
    return out;
}

} // namespace latchkey::webauthn
