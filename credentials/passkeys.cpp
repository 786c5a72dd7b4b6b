// SPDX-License-Identifier: Apache-2.0
// Listing, registering, renaming and removing passkeys, with the audit line each change leaves.
#include "credentials/passkeys.hpp"

#include <algorithm>
#include <array>

#include "core/random.hpp"
#include "webauthn/attestation.hpp"
#include "webauthn/authenticator_data.hpp"
#include "webauthn/cose_key.hpp"
#include "webauthn/reason.hpp"
#include "webauthn/registration.hpp"
#include "webauthn/response.hpp"

namespace latchkey::credentials {

namespace {

std::string logon_name_of(const directory::ResolvedUser& who)
{
    return who.user.name + "@" + who.account.default_domain;
}

/// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0U) == 0xC0U) {
            n = 1;
            cp = c & 0x1FU;
        } else if ((c & 0xF0U) == 0xE0U) {
            n = 2;
            cp = c & 0x0FU;
        } else if ((c & 0xF8U) == 0xF0U) {
            n = 3;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (i + n >= s.size())
            return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0U) != 0x80U)
                return false;
            cp = (cp << 6U) | (cc & 0x3FU);
        }
        static constexpr std::array<std::uint32_t, 4> least{0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/// The audit's word for why a ceremony failed: the library's reason, or the error's code.
std::string refusal_name(const core::Error& e)
{
    if (e.code.category() == webauthn::webauthn_category())
        return std::string(webauthn::reason_name(webauthn::reason_of(e)));
    if (e.code.category() == core::latchkey_category())
        return std::string(core::errc_name(static_cast<core::Errc>(e.code.value())));
    return "internal";
}

/// A name for a passkey the user did not name: what kind of key it is.
std::string default_name(const webauthn::RegisteredCredential& c)
{
    if (c.backup_eligible)
        return "Passkey";
    const auto& t = c.transports;
    if (std::find(t.begin(), t.end(), "internal") != t.end())
        return "This device";
    return "Security key";
}

} // namespace

Passkeys::Passkeys(directory::Store& store,
                   directory::Directory& directory,
                   directory::Audit& audit)
    : store_(store)
    , directory_(directory)
    , audit_(audit)
{
}

proto::PasskeyInfo Passkeys::info(const directory::PasskeyRecord& p, const std::string& logon_name)
{
    proto::PasskeyInfo i;
    i.id = p.id;
    i.user = logon_name;
    i.name = p.name;
    i.algorithm = std::string(webauthn::algorithm_name(p.algorithm));
    webauthn::Aaguid aaguid{};
    for (std::size_t k = 0; k < aaguid.size() && k < p.aaguid.size(); ++k)
        aaguid[k] = static_cast<std::uint8_t>(p.aaguid[k]);
    i.aaguid = webauthn::aaguid_string(aaguid);
    i.transports = p.transports;
    i.synced = p.backup_eligible;
    i.backed_up = p.backed_up;
    i.created_at = core::to_unix(p.created_at);
    if (p.last_used_at)
        i.last_used_at = core::to_unix(*p.last_used_at);
    i.relying_party = std::string(directory::to_string(p.relying_party));
    return i;
}

core::Result<std::vector<proto::PasskeyInfo>> Passkeys::list(const proto::UserRef& ref)
{
    LATCHKEY_TRY(who, directory_.resolve(ref));
    LATCHKEY_TRY(stored, store_.passkeys(who.user.id));
    std::vector<proto::PasskeyInfo> out;
    out.reserve(stored.size());
    for (const auto& p : stored)
        out.push_back(info(p, logon_name_of(who)));
    return out;
}

core::Status
Passkeys::remove(const proto::UserRef& ref, const std::string& id, const directory::Actor& actor)
{
    LATCHKEY_TRY(who, directory_.resolve(ref));
    LATCHKEY_TRY(stored, store_.passkeys(who.user.id));
    std::string name;
    for (const auto& p : stored)
        if (p.id == id)
            name = p.name;
    LATCHKEY_TRY_STATUS(store_.remove_passkey(who.user.id, id));
    audit_.record(
        directory::Severity::notice, "passkey.remove",
        {{"user", logon_name_of(who)}, {"passkey", id}, {"name", name}, {"actor", actor.name}});
    return {};
}

std::optional<std::string> Passkeys::clean_name(std::string_view name)
{
    while (!name.empty() && (name.front() == ' ' || name.front() == '\t'))
        name.remove_prefix(1);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
        name.remove_suffix(1);
    if (name.empty() || name.size() > max_passkey_name || !valid_utf8(name))
        return std::nullopt;
    for (const char ch : name)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F)
            return std::nullopt;
    return std::string(name);
}

core::Result<webauthn::Options> Passkeys::begin_registration(const directory::ResolvedUser& who,
                                                             const PasskeySettings& settings,
                                                             core::TimePoint now)
{
    LATCHKEY_TRY(stored, store_.passkeys(who.user.id));
    if (stored.size() >= settings.max_passkeys_per_user)
        return core::fail(core::Errc::policy_violation,
                          "you have " + std::to_string(stored.size()) +
                              " passkeys, the most allowed: remove one first");
    LATCHKEY_TRY(handle, store_.user_handle(who.user.id, core::random_string(
                                                             webauthn::user_handle_size)));
    webauthn::RegistrationRequest r;
    r.user_name = logon_name_of(who);
    r.user_display_name = who.user.display_name.empty() ? r.user_name : who.user.display_name;
    r.user_handle = std::move(handle);
    for (const auto& p : stored)
        r.exclude.push_back({p.credential_id, p.transports});
    r.user_verification = settings.user_verification;
    r.timeout = settings.timeout;
    return webauthn::begin_registration(settings.rp, r, now);
}

core::Result<proto::PasskeyInfo>
Passkeys::finish_registration(const directory::ResolvedUser& who,
                              const webauthn::PendingCeremony& pending,
                              std::string_view response_json,
                              std::string_view name,
                              const PasskeySettings& settings,
                              core::TimePoint now,
                              directory::PasskeyParty party)
{
    const std::string logon_name = logon_name_of(who);
    const auto deny = [&](const core::Error& e) {
        audit_.record(directory::Severity::warning, "passkey.register.deny",
                      {{"user", logon_name}, {"reason", refusal_name(e)}});
        return core::fail(e);
    };
    std::optional<std::string> given;
    if (!name.empty()) {
        given = clean_name(name);
        if (!given)
            return core::fail(core::Errc::invalid_argument,
                              "a passkey name is 1 to " + std::to_string(max_passkey_name) +
                                  " characters, without control characters");
    }
    if (pending.kind != webauthn::PendingCeremony::Kind::registration)
        return deny(core::Error(core::Errc::invalid_argument, "not a registration"));
    auto response = webauthn::parse_registration_response(response_json);
    if (!response)
        return deny(response.error());
    auto verified = webauthn::verify_registration(pending, *response, webauthn::TrustPolicy{}, now);
    if (!verified)
        return deny(verified.error());
    directory::PasskeyRecord p;
    p.id = core::uuid_v4();
    p.user_id = who.user.id;
    p.relying_party = party;
    p.credential_id = verified->id;
    p.public_key = verified->public_key;
    p.algorithm = static_cast<std::int32_t>(verified->alg);
    p.sign_count = verified->sign_count;
    p.aaguid.assign(verified->aaguid.begin(), verified->aaguid.end());
    p.transports = response->transports;
    p.backup_eligible = verified->backup_eligible;
    p.backed_up = verified->backed_up;
    p.user_verified = verified->user_verified;
    p.attestation = verified->fmt;
    p.name = given ? *given : default_name(*verified);
    p.created_at = now;
    if (auto st = store_.add_passkey(p, settings.max_passkeys_per_user); !st) {
        if (st.error().is(core::Errc::already_exists))
            return deny(core::Error(core::Errc::already_exists,
                                    "this passkey is registered already"));
        return deny(st.error());
    }
    audit_.record(directory::Severity::notice, "passkey.register",
                  {{"user", logon_name},
                   {"passkey", p.id},
                   {"name", p.name},
                   {"relying_party", std::string(directory::to_string(party))},
                   {"synced", p.backup_eligible ? "true" : "false"},
                   {"user_verified", p.user_verified ? "true" : "false"},
                   {"attestation", p.attestation}});
    return info(p, logon_name);
}

core::Status
Passkeys::rename(const directory::ResolvedUser& who, const std::string& id, std::string_view name)
{
    const auto clean = clean_name(name);
    if (!clean)
        return core::fail(core::Errc::invalid_argument,
                          "a passkey name is 1 to " + std::to_string(max_passkey_name) +
                              " characters, without control characters");
    LATCHKEY_TRY_STATUS(store_.rename_passkey(who.user.id, id, *clean));
    audit_.record(directory::Severity::info, "passkey.rename",
                  {{"user", logon_name_of(who)}, {"passkey", id}, {"name", *clean}});
    return {};
}

core::Status Passkeys::remove_own(const directory::ResolvedUser& who, const std::string& id)
{
    LATCHKEY_TRY(stored, store_.passkeys(who.user.id));
    const auto it = std::find_if(stored.begin(), stored.end(),
                                 [&](const directory::PasskeyRecord& p) { return p.id == id; });
    if (it == stored.end())
        return core::fail(core::Errc::not_found, "you have no such passkey");
    if (stored.size() == 1 && who.user.password_hash.empty())
        return core::fail(core::Errc::failed_precondition,
                          "this passkey is your only way to sign in: you have no password. "
                          "Add another passkey first, or ask an administrator to set a password");
    LATCHKEY_TRY_STATUS(store_.remove_passkey(who.user.id, id));
    audit_.record(directory::Severity::notice, "passkey.remove",
                  {{"user", logon_name_of(who)},
                   {"passkey", id},
                   {"name", it->name},
                   {"actor", logon_name_of(who)}});
    return {};
}

} // namespace latchkey::credentials
