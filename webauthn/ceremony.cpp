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

namespace {

json::array bytes_list(const std::vector<std::string>& v, bool encode)
{
    json::array a;
    for (const auto& e : v)
        a.emplace_back(encode ? core::base64_encode(e, true, false) : e);
    return a;
}

core::Error malformed(std::string_view what)
{
    return {core::Errc::protocol_malformed,
            "a saved passkey ceremony's " + std::string(what) + " is not valid"};
}

core::Result<std::string> text_of(const json::object& o, std::string_view key, bool bytes)
{
    const auto* v = o.if_contains(key);
    const auto* s = v != nullptr ? v->if_string() : nullptr;
    if (s == nullptr)
        return core::fail(malformed(key));
    if (!bytes)
        return std::string(s->data(), s->size());
    auto raw = core::base64_decode(std::string_view(s->data(), s->size()));
    if (!raw)
        return core::fail(malformed(key));
    return std::move(*raw);
}

core::Result<std::vector<std::string>>
list_of(const json::object& o, std::string_view key, bool bytes)
{
    const auto* v = o.if_contains(key);
    const auto* a = v != nullptr ? v->if_array() : nullptr;
    if (a == nullptr)
        return core::fail(malformed(key));
    std::vector<std::string> out;
    for (const auto& e : *a) {
        const auto* s = e.if_string();
        if (s == nullptr)
            return core::fail(malformed(key));
        if (!bytes) {
            out.emplace_back(s->data(), s->size());
            continue;
        }
        auto raw = core::base64_decode(std::string_view(s->data(), s->size()));
        if (!raw)
            return core::fail(malformed(key));
        out.push_back(std::move(*raw));
    }
    return out;
}

} // namespace

json::object to_json(const PendingCeremony& p)
{
    json::object o;
    o["kind"] = p.kind == PendingCeremony::Kind::registration ? "registration" : "authentication";
    o["challenge"] = core::base64_encode(p.challenge, true, false);
    o["rp_ids"] = bytes_list(p.rp_ids, false);
    o["origins"] = bytes_list(p.origins, false);
    o["allow_cross_origin"] = p.allow_cross_origin;
    o["top_origins"] = bytes_list(p.top_origins, false);
    o["user_verification"] = to_string(p.user_verification);
    o["require_user_presence"] = p.require_user_presence;
    o["expires_at"] = core::to_unix(p.expires_at);
    o["user_handle"] = core::base64_encode(p.user_handle, true, false);
    o["allowed_credentials"] = bytes_list(p.allowed_credentials, true);
    json::array algorithms;
    for (const auto a : p.algorithms)
        algorithms.emplace_back(static_cast<std::int64_t>(a));
    o["algorithms"] = std::move(algorithms);
    return o;
}

core::Result<PendingCeremony> pending_from_json(const json::value& v)
{
    const auto* o = v.if_object();
    if (o == nullptr)
        return core::fail(malformed("form"));
    PendingCeremony p;
    LATCHKEY_TRY(kind, text_of(*o, "kind", false));
    if (kind != "registration" && kind != "authentication")
        return core::fail(malformed("kind"));
    p.kind = kind == "registration" ? PendingCeremony::Kind::registration
                                    : PendingCeremony::Kind::authentication;
    LATCHKEY_TRY(challenge, text_of(*o, "challenge", true));
    p.challenge = std::move(challenge);
    LATCHKEY_TRY(rp_ids, list_of(*o, "rp_ids", false));
    p.rp_ids = std::move(rp_ids);
    LATCHKEY_TRY(origins, list_of(*o, "origins", false));
    p.origins = std::move(origins);
    LATCHKEY_TRY(top_origins, list_of(*o, "top_origins", false));
    p.top_origins = std::move(top_origins);
    LATCHKEY_TRY(uv, text_of(*o, "user_verification", false));
    bool known_uv = false;
    for (const auto u :
         {UserVerification::required, UserVerification::preferred, UserVerification::discouraged})
        if (to_string(u) == uv) {
            p.user_verification = u;
            known_uv = true;
        }
    if (!known_uv)
        return core::fail(malformed("user_verification"));
    const auto flag = [&](std::string_view key, bool& out) {
        const auto* b = o->if_contains(key);
        if (b == nullptr || !b->is_bool())
            return false;
        out = b->get_bool();
        return true;
    };
    if (!flag("allow_cross_origin", p.allow_cross_origin))
        return core::fail(malformed("allow_cross_origin"));
    if (!flag("require_user_presence", p.require_user_presence))
        return core::fail(malformed("require_user_presence"));
    const auto* expires = o->if_contains("expires_at");
    if (expires == nullptr || !expires->is_int64())
        return core::fail(malformed("expires_at"));
    p.expires_at = core::from_unix(expires->get_int64());
    LATCHKEY_TRY(handle, text_of(*o, "user_handle", true));
    p.user_handle = std::move(handle);
    LATCHKEY_TRY(allowed, list_of(*o, "allowed_credentials", true));
    p.allowed_credentials = std::move(allowed);
    const auto* algorithms = o->if_contains("algorithms");
    if (algorithms == nullptr || !algorithms->is_array())
        return core::fail(malformed("algorithms"));
    for (const auto& a : algorithms->get_array()) {
        if (!a.is_int64())
            return core::fail(malformed("algorithms"));
        p.algorithms.push_back(static_cast<CoseAlgorithm>(a.get_int64()));
    }
    return p;
}

} // namespace latchkey::webauthn
