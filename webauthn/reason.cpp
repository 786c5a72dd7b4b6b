// SPDX-License-Identifier: Apache-2.0
// The webauthn error category: stable reason names and the messages shown to people.
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

class Category final : public std::error_category {
public:
    const char* name() const noexcept override { return "webauthn"; }

    std::string message(int ev) const override
    {
        return std::string(reason_name(static_cast<Reason>(ev)));
    }
};

} // namespace

std::string_view reason_name(Reason r) noexcept
{
    switch (r) {
    case Reason::malformed_json: return "malformed_json";
    case Reason::malformed_cbor: return "malformed_cbor";
    case Reason::malformed_client_data: return "malformed_client_data";
    case Reason::malformed_authenticator_data: return "malformed_authenticator_data";
    case Reason::malformed_attestation: return "malformed_attestation";
    case Reason::malformed_cose_key: return "malformed_cose_key";
    case Reason::malformed_response: return "malformed_response";
    case Reason::too_large: return "too_large";
    case Reason::wrong_type: return "wrong_type";
    case Reason::challenge_mismatch: return "challenge_mismatch";
    case Reason::origin_not_allowed: return "origin_not_allowed";
    case Reason::cross_origin_not_allowed: return "cross_origin_not_allowed";
    case Reason::top_origin_not_allowed: return "top_origin_not_allowed";
    case Reason::token_binding_unsupported: return "token_binding_unsupported";
    case Reason::rp_id_mismatch: return "rp_id_mismatch";
    case Reason::user_not_present: return "user_not_present";
    case Reason::user_not_verified: return "user_not_verified";
    case Reason::backup_state_invalid: return "backup_state_invalid";
    case Reason::attested_data_missing: return "attested_data_missing";
    case Reason::attested_data_unexpected: return "attested_data_unexpected";
    case Reason::counter_regression: return "counter_regression";
    case Reason::unsupported_algorithm: return "unsupported_algorithm";
    case Reason::algorithm_mismatch: return "algorithm_mismatch";
    case Reason::bad_signature: return "bad_signature";
    case Reason::credential_not_allowed: return "credential_not_allowed";
    case Reason::user_handle_mismatch: return "user_handle_mismatch";
    case Reason::credential_id_too_long: return "credential_id_too_long";
    case Reason::unsupported_format: return "unsupported_format";
    case Reason::attestation_invalid: return "attestation_invalid";
    case Reason::attestation_untrusted: return "attestation_untrusted";
    case Reason::aaguid_mismatch: return "aaguid_mismatch";
    case Reason::certificate_invalid: return "certificate_invalid";
    case Reason::ceremony_expired: return "ceremony_expired";
    case Reason::internal: return "internal";
    }
    return "unknown";
}

std::string_view reason_message(Reason r) noexcept
{
    switch (r) {
    case Reason::challenge_mismatch:
    case Reason::ceremony_expired:
        return "This sign-in request has expired or was already used. Please try again.";
    case Reason::origin_not_allowed:
    case Reason::cross_origin_not_allowed:
    case Reason::top_origin_not_allowed:
    case Reason::rp_id_mismatch: return "This passkey request did not come from this site.";
    case Reason::user_not_present: return "The security key was not touched. Please try again.";
    case Reason::user_not_verified:
        return "Your passkey must verify you (PIN, fingerprint or face). Please try again.";
    case Reason::counter_regression:
        return "This passkey may have been copied. It was refused; contact your administrator.";
    case Reason::unsupported_algorithm:
    case Reason::unsupported_format: return "This authenticator is not supported here.";
    case Reason::attestation_untrusted:
    case Reason::aaguid_mismatch:
    case Reason::certificate_invalid:
    case Reason::attestation_invalid: return "This authenticator is not allowed here.";
    case Reason::credential_not_allowed:
    case Reason::user_handle_mismatch: return "This passkey is not registered for this account.";
    case Reason::bad_signature: return "The passkey's answer could not be verified.";
    default: return "The passkey response was not valid. Please try again.";
    }
}

const std::error_category& webauthn_category() noexcept
{
    static const Category category;
    return category;
}

std::error_code make_error_code(Reason r) noexcept
{
    return {static_cast<int>(r), webauthn_category()};
}

Reason reason_of(const core::Error& e) noexcept
{
    if (e.code.category() != webauthn_category())
        return Reason::internal;
    return static_cast<Reason>(e.code.value());
}

core::Unexpected refuse(Reason r, std::string detail)
{
    return core::fail(core::Error{r, std::move(detail)});
}

} // namespace latchkey::webauthn
