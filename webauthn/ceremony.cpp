// SPDX-License-Identifier: Apache-2.0
// Ceremony options as JSON (the form of WebAuthn L3's parse*OptionsFromJSON) and their pending
// state.
#include "webauthn/ceremony.hpp"

#include <boost/json.hpp>

#include "core/random.hpp"

namespace latchkey::webauthn {

namespace json = boost::json;

namespace {

std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    core::random_bytes(out.data(), out.size());
    return out;
}

std::string b64url(std::string_view bytes)
{
    return core::base64_encode(bytes, true, false);
}

json::array descriptors(const std::vector<CredentialDescriptor>& list)
{
    json::array out;
    for (const auto& d : list) {
        json::object o{{"type", "public-key"}, {"id", b64url(d.id)}};
        if (!d.transports.empty()) {
            json::array t;
            for (const auto& s : d.transports)
                t.emplace_back(s);
            o["transports"] = std::move(t);
        }
        out.emplace_back(std::move(o));
    }
    return out;
}

std::int64_t milliseconds(std::chrono::seconds s)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

PendingCeremony pending_for(const RelyingParty& rp,
                            PendingCeremony::Kind kind,
                            UserVerification uv,
                            std::chrono::seconds timeout,
                            core::TimePoint now)
{
    PendingCeremony p;
    p.kind = kind;
    p.challenge = random_bytes(challenge_size);
    p.rp_ids = {rp.id};
    p.origins = rp.origins;
    p.allow_cross_origin = rp.allow_cross_origin;
    p.top_origins = rp.top_origins;
    p.user_verification = uv;
    p.expires_at = now + timeout;
    return p;
}

} // namespace

std::string_view to_string(UserVerification v) noexcept
{
    switch (v) {
    case UserVerification::required: return "required";
    case UserVerification::preferred: return "preferred";
    case UserVerification::discouraged: return "discouraged";
    }
    return "preferred";
}

std::string_view to_string(ResidentKey v) noexcept
{
    switch (v) {
    case ResidentKey::required: return "required";
    case ResidentKey::preferred: return "preferred";
    case ResidentKey::discouraged: return "discouraged";
    }
    return "preferred";
}

std::string_view to_string(Conveyance v) noexcept
{
    switch (v) {
    case Conveyance::none: return "none";
    case Conveyance::indirect: return "indirect";
    case Conveyance::direct: return "direct";
    case Conveyance::enterprise: return "enterprise";
    }
    return "none";
}

Options
begin_registration(const RelyingParty& rp, const RegistrationRequest& request, core::TimePoint now)
{
    Options out;
    out.pending = pending_for(rp, PendingCeremony::Kind::registration, request.user_verification,
                              request.timeout, now);
    out.pending.user_handle =
        request.user_handle.empty() ? random_bytes(user_handle_size) : request.user_handle;
    out.pending.algorithms = request.algorithms;

    json::array params;
    for (const auto alg : request.algorithms)
        params.emplace_back(json::object{{"type", "public-key"}, {"alg", static_cast<int>(alg)}});
    const std::string& display =
        request.user_display_name.empty() ? request.user_name : request.user_display_name;
    json::object options{
        {"rp", {{"id", rp.id}, {"name", rp.name}}},
        {"user",
         {{"id", b64url(out.pending.user_handle)},
          {"name", request.user_name},
          {"displayName", display}}},
        {"challenge", b64url(out.pending.challenge)},
        {"pubKeyCredParams", std::move(params)},
        {"timeout", milliseconds(request.timeout)},
        {"excludeCredentials", descriptors(request.exclude)},
        {"authenticatorSelection",
         {{"residentKey", to_string(request.resident_key)},
          {"requireResidentKey", request.resident_key == ResidentKey::required},
          {"userVerification", to_string(request.user_verification)}}},
        {"attestation", to_string(request.attestation)},
    };
    out.json = json::serialize(options);
    return out;
}

Options begin_authentication(const RelyingParty& rp,
                             const AuthenticationRequest& request,
                             core::TimePoint now)
{
    Options out;
    out.pending = pending_for(rp, PendingCeremony::Kind::authentication, request.user_verification,
                              request.timeout, now);
    out.pending.user_handle = request.user_handle;
    for (const auto& d : request.allow)
        out.pending.allowed_credentials.push_back(d.id);

    json::object options{
        {"challenge", b64url(out.pending.challenge)},
        {"rpId", rp.id},
        {"timeout", milliseconds(request.timeout)},
        {"allowCredentials", descriptors(request.allow)},
        {"userVerification", to_string(request.user_verification)},
    };
    out.json = json::serialize(options);
    return out;
}

} // namespace latchkey::webauthn
