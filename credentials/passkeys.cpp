// SPDX-License-Identifier: Apache-2.0
// Listing and removing passkeys, with the audit line each removal leaves.
#include "credentials/passkeys.hpp"

#include <array>

#include "webauthn/authenticator_data.hpp"
#include "webauthn/cose_key.hpp"

namespace latchkey::credentials {

namespace {

std::string logon_name_of(const directory::ResolvedUser& who)
{
    return who.user.name + "@" + who.account.default_domain;
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

} // namespace latchkey::credentials
