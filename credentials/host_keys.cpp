// SPDX-License-Identifier: Apache-2.0
// The ceremonies of security keys at the hosts.
#include "credentials/host_keys.hpp"

#include <algorithm>

#include "core/random.hpp"

namespace latchkey::credentials {

namespace {

std::string b64url(std::string_view raw)
{
    return core::base64_encode(raw, true, false);
}

webauthn::UserVerification verification(bool wanted)
{
    return wanted ? webauthn::UserVerification::required : webauthn::UserVerification::discouraged;
}

/// The ceremony for the module from the library's pending one.
proto::SecurityKeyCeremony ceremony_of(const webauthn::PendingCeremony& pending,
                                       const webauthn::RelyingParty& party,
                                       const HostKeySettings& settings,
                                       bool user_verification)
{
    proto::SecurityKeyCeremony c;
    c.kind = pending.kind == webauthn::PendingCeremony::Kind::registration ? "create" : "get";
    c.rp_id = party.id;
    c.origin = party.origins.front();
    c.challenge = b64url(pending.challenge);
    c.user_verification = user_verification;
    c.timeout_s = static_cast<std::uint32_t>(
        std::clamp<std::chrono::seconds::rep>(settings.touch_timeout.count(), 1, 300));
    return c;
}

} // namespace

webauthn::RelyingParty host_relying_party(const HostKeySettings& settings, std::string_view domain)
{
    webauthn::RelyingParty rp;
    rp.id = settings.rp_id.empty() ? "pam:" + std::string(domain) : settings.rp_id;
    rp.name = settings.rp_name;
    const std::string_view rest = std::string_view(rp.id).substr(rp.id.starts_with("pam:") ? 4 : 0);
    rp.origins = {"pam://" + std::string(rest)};
    return rp;
}

HostCeremony host_assertion(const webauthn::RelyingParty& party,
                            const HostKeySettings& settings,
                            const std::vector<directory::PasskeyRecord>& keys,
                            const std::string& user_handle,
                            bool user_verification,
                            core::TimePoint now)
{
    webauthn::AuthenticationRequest r;
    r.user_handle = user_handle;
    for (const auto& k : keys)
        r.allow.push_back({k.credential_id, k.transports});
    r.user_verification = verification(user_verification);
    r.timeout = settings.answer_time;
    HostCeremony out;
    out.pending = webauthn::begin_authentication(party, r, now).pending;
    out.ceremony = ceremony_of(out.pending, party, settings, user_verification);
    for (const auto& k : keys)
        out.ceremony.allow.push_back(b64url(k.credential_id));
    return out;
}

HostCeremony host_registration(const webauthn::RelyingParty& party,
                               const HostKeySettings& settings,
                               const std::string& user_name,
                               const std::string& display_name,
                               const std::string& user_handle,
                               const std::vector<directory::PasskeyRecord>& existing,
                               bool user_verification,
                               core::TimePoint now)
{
    webauthn::RegistrationRequest r;
    r.user_name = user_name;
    r.user_display_name = display_name.empty() ? user_name : display_name;
    r.user_handle = user_handle;
    for (const auto& k : existing)
        r.exclude.push_back({k.credential_id, k.transports});
    r.user_verification = verification(user_verification);
    r.resident_key = webauthn::ResidentKey::discouraged;
    r.timeout = settings.answer_time;
    HostCeremony out;
    out.pending = webauthn::begin_registration(party, r, now).pending;
    out.ceremony = ceremony_of(out.pending, party, settings, user_verification);
    out.ceremony.rp_name = party.name;
    out.ceremony.user_handle = b64url(out.pending.user_handle);
    out.ceremony.user_name = r.user_name;
    out.ceremony.display_name = r.user_display_name;
    for (const auto& k : existing)
        out.ceremony.allow.push_back(b64url(k.credential_id));
    return out;
}

std::vector<directory::PasskeyRecord> keys_for(std::vector<directory::PasskeyRecord> all,
                                               directory::PasskeyParty party)
{
    std::erase_if(all,
                  [party](const directory::PasskeyRecord& p) { return p.relying_party != party; });
    return all;
}

} // namespace latchkey::credentials
