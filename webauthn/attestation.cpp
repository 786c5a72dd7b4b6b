// SPDX-License-Identifier: Apache-2.0
// Attestation: the format's verifier (formats.hpp), then the relying party's trust policy.
#include "webauthn/attestation.hpp"

#include <algorithm>

#include "webauthn/cbor.hpp"
#include "webauthn/certificates.hpp"
#include "webauthn/formats.hpp"
#include "webauthn/reason.hpp"

namespace latchkey::webauthn {

namespace {

core::Status apply_policy(const AttestationObject& object,
                          VerifiedStatement& statement,
                          const TrustPolicy& policy,
                          core::TimePoint now)
{
    if (!statement.chain.empty()) {
        const auto anchors = policy.anchors.find(object.fmt);
        if (anchors != policy.anchors.end()) {
            Chain chain;
            for (const auto& der : statement.chain) {
                LATCHKEY_TRY(cert, parse_certificate(der));
                chain.certs.push_back(std::move(cert));
            }
            statement.trusted = chain_ends_at(chain, anchors->second, now);
        }
    }
    if (!policy.require_trusted)
        return {};
    if (!statement.trusted)
        return refuse(Reason::attestation_untrusted,
                      "the authenticator's attestation does not chain to a trusted root");
    const auto& aaguid = object.auth_data.credential->aaguid;
    if (!policy.aaguids.empty() &&
        std::find(policy.aaguids.begin(), policy.aaguids.end(), aaguid) == policy.aaguids.end())
        return refuse(Reason::attestation_untrusted, "the authenticator model is not allowed");
    return {};
}

using Verifier = core::Result<VerifiedStatement> (*)(const Statement&);

Verifier verifier_of(std::string_view fmt)
{
    if (fmt == "none")
        return verify_none;
    if (fmt == "packed")
        return verify_packed;
    if (fmt == "fido-u2f")
        return verify_fido_u2f;
    if (fmt == "tpm")
        return verify_tpm;
    if (fmt == "android-key")
        return verify_android_key;
    if (fmt == "apple")
        return verify_apple;
    return nullptr;
}

} // namespace

const cbor_item_t* Statement::member(std::string_view name) const
{
    return map_find(object.statement.get(), name);
}

std::string Statement::to_be_signed() const
{
    return object.auth_data.raw + sha256(client_data_json);
}

core::Result<CoseAlgorithm> Statement::alg() const
{
    const auto id = as_int(member("alg"));
    if (!id)
        return refuse(Reason::attestation_invalid, "the statement has no alg");
    const auto a = to_algorithm(*id);
    if (!a)
        return refuse(Reason::unsupported_algorithm, "the statement's alg is not supported");
    return *a;
}

core::Result<std::string_view> Statement::sig() const
{
    const auto s = as_bytes(member("sig"));
    if (!s || s->empty())
        return refuse(Reason::attestation_invalid, "the statement has no sig");
    return *s;
}

bool Statement::has_only(std::initializer_list<std::string_view> names) const
{
    if (cbor_map_size(object.statement.get()) != names.size())
        return false;
    return std::all_of(names.begin(), names.end(),
                       [&](std::string_view n) { return member(n) != nullptr; });
}

bool same_public_key(EVP_PKEY* key, const CoseKey& credential)
{
    auto pkey = to_evp_pkey(credential);
    return key != nullptr && pkey && EVP_PKEY_eq(key, pkey->get()) == 1;
}

std::string_view to_string(AttestationType t) noexcept
{
    switch (t) {
    case AttestationType::none: return "none";
    case AttestationType::self: return "self";
    case AttestationType::basic: return "basic";
    case AttestationType::attca: return "attca";
    case AttestationType::anonca: return "anonca";
    }
    return "none";
}

core::Result<VerifiedStatement> verify_statement(const AttestationObject& object,
                                                 std::string_view rp_id,
                                                 std::string_view client_data_json,
                                                 bool require_uv,
                                                 const TrustPolicy& policy,
                                                 core::TimePoint now)
{
    if (!object.auth_data.credential)
        return refuse(Reason::attested_data_missing, "authenticatorData has no credential");
    const Verifier verify = verifier_of(object.fmt);
    if (verify == nullptr)
        return refuse(Reason::unsupported_format, "attestation format is not supported");
    const OpensslErrorScope errors;
    LATCHKEY_TRY(statement, verify(Statement{object, rp_id, client_data_json, require_uv, now}));
    LATCHKEY_TRY_STATUS(apply_policy(object, statement, policy, now));
    return statement;
}

} // namespace latchkey::webauthn
